-- Privacy: the bus forgets contact details once the office has them, and
-- tablets can be unpaired.

-- acked_at: when the office acknowledged the visit's current crew rev
-- (empty until it has), with all nine fractional digits so that text
-- order is time order. The grace period before the bus forgets the
-- contact details counts from here.
ALTER TABLE visits ADD COLUMN acked_at TEXT NOT NULL DEFAULT '';
-- contact_gone: why the bus no longer holds the visit's contact details.
-- 'forgotten': removed after the office had them; the office keeps its copy,
-- and a later crew edit without them does not erase it there.
-- 'erased': the office erased them on request (infobus office forget).
ALTER TABLE visits ADD COLUMN contact_gone TEXT NOT NULL DEFAULT ''
    CHECK (contact_gone IN ('', 'forgotten', 'erased'));
-- Visits the office already has count as acknowledged now: the grace
-- period starts with this version.
UPDATE visits SET acked_at = strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 'now')
WHERE crew_seq <= (SELECT acked_seq FROM sync_state WHERE id = 1);

-- name: what the crew called the tablet when pairing, if anything.
-- last_seen: the last request the tablet made (to the minute). revoked_at:
-- when `infobus bus unpair` cut it off; its token no longer works.
ALTER TABLE devices ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_seen TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN revoked_at TEXT NOT NULL DEFAULT '';
