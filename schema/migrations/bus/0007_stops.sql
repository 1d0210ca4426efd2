-- The bus's day: its stops (the office's plan, and stops the crew added on
-- the spot), the crew's quick contacts, and the office's history of the
-- wijken on the plan.

-- A stop. sent is 1 for what the office has: its plan, and crew stops it
-- acknowledged; a pulled plan replaces every sent stop. refused holds the
-- office's reason when it would not take a crew stop.
CREATE TABLE stops (
    id         TEXT PRIMARY KEY,
    date       TEXT NOT NULL, -- Dutch local time, as planned
    start_time TEXT NOT NULL,
    end_time   TEXT NOT NULL,
    place      TEXT NOT NULL,
    wijk       TEXT NOT NULL,
    planned    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    sent       INTEGER NOT NULL DEFAULT 0,
    refused    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX stops_date ON stops (date, start_time);

-- A quick contact: one tap on a tablet's tally, no personal data. body is
-- its wire JSON as pushed; sent moves to 1 when the office answered.
CREATE TABLE quick_contacts (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    stop_id     TEXT NOT NULL DEFAULT '',
    wijk        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    sent        INTEGER NOT NULL DEFAULT 0,
    refused     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX quick_contacts_unsent ON quick_contacts (sent) WHERE sent = 0;

-- The office's summary of earlier visits in the plan's wijken, from every
-- bus: business, date, topics, follow-up status. Never contact details or
-- notes. Replaced whole by each new plan.
CREATE TABLE history (
    visit_id   TEXT PRIMARY KEY,
    wijk       TEXT NOT NULL,
    kvk        TEXT NOT NULL,
    postcode   TEXT NOT NULL,
    name_key   TEXT NOT NULL, -- the name lower-cased, for finding it
    visited_at TEXT NOT NULL,
    body       TEXT NOT NULL  -- schema.HistoryVisit as JSON
) STRICT;
CREATE INDEX history_kvk ON history (kvk) WHERE kvk != '';
CREATE INDEX history_wijk ON history (wijk);
