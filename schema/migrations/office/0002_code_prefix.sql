-- Follow-up codes. Every bus gets a prefix that starts each code it
-- issues, so that the office knows from a code alone whose key checks it.
-- Buses enrolled before codes existed get one here, in enrolment order;
-- new buses get a free one at add-bus. The UNIQUE index, not the code that
-- picks one, is what keeps two buses from sharing a prefix.
ALTER TABLE buses ADD COLUMN code_prefix TEXT NOT NULL DEFAULT '';
UPDATE buses SET code_prefix =
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', (r.n / 32) % 32 + 1, 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', r.n % 32 + 1, 1)
FROM (SELECT id, row_number() OVER (ORDER BY enrolled_at, id) - 1 AS n FROM buses) AS r
WHERE buses.id = r.id;
CREATE UNIQUE INDEX buses_code_prefix ON buses (code_prefix);

-- Which follow-up each code belongs to. A code is bound to one follow-up,
-- ever: the primary key refuses a second, and nothing deletes a row (not
-- even when its visit goes), so a code can never be handed out twice.
-- followups.code is the crew's current choice; this table is the promise.
CREATE TABLE codes (
    code        TEXT PRIMARY KEY, -- canonical form, schema.Code
    bus_id      TEXT NOT NULL REFERENCES buses (id),
    followup_id TEXT NOT NULL,
    visit_id    TEXT NOT NULL,
    bound_at    TEXT NOT NULL     -- the office's clock
) STRICT;
CREATE INDEX codes_followup ON codes (followup_id);
