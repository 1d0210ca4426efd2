-- Follow-up codes. The prefix comes with the enrollment; a bus enrolled
-- before codes existed has none until it is enrolled again.
ALTER TABLE sync_state ADD COLUMN code_prefix TEXT NOT NULL DEFAULT '';

-- Every code this bus issued. The primary key keeps codes unique within the
-- bus: issuing draws again when an insert clashes. A code is reserved for a
-- device's offline pool (or for printed cards, device 'cards') and bound to
-- one follow-up, ever, when a visit carrying it is saved. Rows are never
-- deleted: a code stays the bus's promise after the visit has gone.
CREATE TABLE codes (
    code        TEXT PRIMARY KEY, -- canonical form, schema.Code
    device_id   TEXT NOT NULL,    -- the device it was reserved for, or 'cards'
    reserved_at TEXT NOT NULL,    -- the bus's clock
    followup_id TEXT,             -- NULL until a visit binds it
    visit_id    TEXT,
    bound_at    TEXT
) STRICT;
CREATE INDEX codes_followup ON codes (followup_id) WHERE followup_id IS NOT NULL;
