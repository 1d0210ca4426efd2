-- The bus database: what the van keeps until the office has it.

-- One change counter for the whole database. Every write takes the next
-- value, so seq orders changes without trusting any clock.
CREATE TABLE changes (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
) STRICT;
INSERT INTO changes (id, seq) VALUES (1, 0);

-- A visit as the crew wrote it. body is the crew-owned wire JSON; the other
-- columns are copies for filtering. seq moves on every change a tablet
-- should see, crew_seq only when the crew's content changes (the push cursor).
CREATE TABLE visits (
    id          TEXT PRIMARY KEY,
    rev         INTEGER NOT NULL CHECK (rev >= 1),
    seq         INTEGER NOT NULL UNIQUE,
    crew_seq    INTEGER NOT NULL UNIQUE,
    created_seq INTEGER NOT NULL,
    crew_hash   BLOB NOT NULL,
    body        TEXT NOT NULL,
    wijk        TEXT NOT NULL,
    search      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX visits_wijk_seq ON visits (wijk, seq);

-- Follow-up status as last pulled from the office, which owns it.
CREATE TABLE followup_status (
    followup_id TEXT PRIMARY KEY,
    visit_id    TEXT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    resolution  TEXT NOT NULL DEFAULT '',
    status_rev  INTEGER NOT NULL,
    status_at   TEXT NOT NULL
) STRICT;
CREATE INDEX followup_status_visit ON followup_status (visit_id);

-- Paired tablets. Only a hash of the token is kept: a copied database
-- does not let anyone act as a tablet.
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    paired_at  TEXT NOT NULL
) STRICT;

-- One-time pairing codes, also hashed. expires_at is Unix seconds.
CREATE TABLE pairing_codes (
    code_hash  BLOB PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    TEXT,
    device_id  TEXT REFERENCES devices (id)
) STRICT;

-- Small facts about this bus, such as the URL tablets reach it on.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Where sync to the office stands. One row; empty until the bus is enrolled.
CREATE TABLE sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    office_url   TEXT NOT NULL DEFAULT '',
    bus_id       TEXT NOT NULL DEFAULT '',
    bus_token    TEXT NOT NULL DEFAULT '',
    code_key     BLOB,
    acked_seq    INTEGER NOT NULL DEFAULT 0,
    pull_cursor  INTEGER NOT NULL DEFAULT 0,
    last_attempt TEXT NOT NULL DEFAULT '',
    last_success TEXT NOT NULL DEFAULT '',
    last_error   TEXT NOT NULL DEFAULT '',
    pushed_total INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO sync_state (id) VALUES (1);
