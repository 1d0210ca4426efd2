-- Timestamps the bus writes (schema.Timestamp: the server's clock, UTC)
-- had their trailing fractional zeros trimmed (RFC 3339 "nano"), so they
-- did not sort as text within a second: "12:00:05Z" came after
-- "12:00:05.5Z". From now on they have nine fractional digits, always;
-- this rewrites the stored ones that SQL orders or compares as text
-- (devices' last visit, the unsent stops and quick contacts, the device
-- list) to the same width, exactly: only zeros are added. A value of any other shape
-- (a device's time with an offset, an empty one) is left alone.

UPDATE visits SET received_at = substr(received_at, 1, 19) || '.' || substr(rtrim(substr(received_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(received_at) < 30 AND substr(received_at, -1) = 'Z'
  AND substr(received_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(received_at) = 20 OR (substr(received_at, 20, 1) = '.' AND length(received_at) > 21 AND rtrim(substr(received_at, 21), 'Z') NOT GLOB '*[^0-9]*'));

UPDATE quick_contacts SET received_at = substr(received_at, 1, 19) || '.' || substr(rtrim(substr(received_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(received_at) < 30 AND substr(received_at, -1) = 'Z'
  AND substr(received_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(received_at) = 20 OR (substr(received_at, 20, 1) = '.' AND length(received_at) > 21 AND rtrim(substr(received_at, 21), 'Z') NOT GLOB '*[^0-9]*'));

UPDATE stops SET created_at = substr(created_at, 1, 19) || '.' || substr(rtrim(substr(created_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(created_at) < 30 AND substr(created_at, -1) = 'Z'
  AND substr(created_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(created_at) = 20 OR (substr(created_at, 20, 1) = '.' AND length(created_at) > 21 AND rtrim(substr(created_at, 21), 'Z') NOT GLOB '*[^0-9]*'));

UPDATE devices SET paired_at = substr(paired_at, 1, 19) || '.' || substr(rtrim(substr(paired_at, 21), 'Z') || '000000000', 1, 9) || 'Z'
WHERE length(paired_at) < 30 AND substr(paired_at, -1) = 'Z'
  AND substr(paired_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
  AND (length(paired_at) = 20 OR (substr(paired_at, 20, 1) = '.' AND length(paired_at) > 21 AND rtrim(substr(paired_at, 21), 'Z') NOT GLOB '*[^0-9]*'));
