-- Privacy at the office: erased contact details stay erased, and bus
-- tokens can be revoked.

-- Visits whose contact details the office erased, on request (infobus
-- office forget) or after the retention period. A later push of the same
-- visit, however old its copy, lands without them. pull_seq is the bus's
-- pull counter at the erasure: the bus pulls it and erases its copy too.
CREATE TABLE erased_visits (
    visit_id  TEXT PRIMARY KEY,
    bus_id    TEXT NOT NULL REFERENCES buses (id),
    reason    TEXT NOT NULL CHECK (reason IN ('request', 'retention')),
    erased_at TEXT NOT NULL,
    pull_seq  INTEGER NOT NULL
) STRICT;
CREATE INDEX erased_visits_pull ON erased_visits (bus_id, pull_seq);

-- revoked_at: when the bus's token was revoked (infobus office revoke-bus,
-- or the fleet page); empty while it works. Re-issuing gives a new token
-- and clears it.
ALTER TABLE buses ADD COLUMN revoked_at TEXT NOT NULL DEFAULT '';
