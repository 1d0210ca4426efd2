-- Timestamps the office writes (schema.Timestamp: the server's clock, UTC)
-- had their trailing fractional zeros trimmed (RFC 3339 "nano"), so they
-- did not sort as text within a second: "12:00:05Z" came after
-- "12:00:05.5Z". From now on they have nine fractional digits, always;
-- this rewrites the stored ones that SQL orders as text (set-aside
-- records, feedback) to the same width, exactly: only zeros are added.
-- A value of any other shape (a device's time with an offset, an empty
-- one) is left alone.
--
-- The audit log is not rewritten: it is append-only by trigger, ordered
-- by id, and only compared with whole-second bounds by >= and <, which
-- both widths get right.

UPDATE set_aside SET received_at = substr(received_at, 1, 19) || '.' || substr(rtrim(substr(received_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(received_at) < 30 AND substr(received_at, -1) = 'Z'
  AND substr(received_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(received_at) = 20 OR (substr(received_at, 20, 1) = '.' AND length(received_at) > 21 AND rtrim(substr(received_at, 21), 'Z') NOT GLOB '*[^0-9]*'));

UPDATE feedback SET created_at = substr(created_at, 1, 19) || '.' || substr(rtrim(substr(created_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(created_at) < 30 AND substr(created_at, -1) = 'Z'
  AND substr(created_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(created_at) = 20 OR (substr(created_at, 20, 1) = '.' AND length(created_at) > 21 AND rtrim(substr(created_at, 21), 'Z') NOT GLOB '*[^0-9]*'));

UPDATE feedback SET first_at = substr(first_at, 1, 19) || '.' || substr(rtrim(substr(first_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(first_at) < 30 AND substr(first_at, -1) = 'Z'
  AND substr(first_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(first_at) = 20 OR (substr(first_at, 20, 1) = '.' AND length(first_at) > 21 AND rtrim(substr(first_at, 21), 'Z') NOT GLOB '*[^0-9]*'));
