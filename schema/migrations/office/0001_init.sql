-- The office database: every bus's records as pushed, and the office's own
-- work on them. Later issues add staff, feedback and retention tables.

-- Enrolled buses. Only a hash of the token is kept; the code key stays in
-- the clear because the office checks follow-up code MACs with it.
-- pull_seq is this bus's change counter: every office-owned change the bus
-- should pull takes the next value. acked_seq is the highest through_seq
-- the office committed, kept for the dashboard.
CREATE TABLE buses (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    token_hash   BLOB NOT NULL UNIQUE,
    code_key     BLOB NOT NULL,
    enrolled_at  TEXT NOT NULL,
    pull_seq     INTEGER NOT NULL DEFAULT 0,
    acked_seq    INTEGER NOT NULL DEFAULT 0,
    last_push_at TEXT NOT NULL DEFAULT '',
    pushed_total INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A visit as the crew wrote it, at the highest rev the office has seen.
-- bus_id comes from the token that pushed it, never from the record.
-- body is the crew-owned wire JSON; the other columns are copies for the
-- dashboard's filters. id is the primary key, so (id, rev) is unique as
-- well; pushes upsert by it and only a higher rev replaces the row.
-- Indexes cost every push: the dashboard's come with the dashboard.
CREATE TABLE visits (
    id                TEXT PRIMARY KEY,
    bus_id            TEXT NOT NULL REFERENCES buses (id),
    rev               INTEGER NOT NULL CHECK (rev >= 1),
    crew_hash         BLOB NOT NULL,
    body              TEXT NOT NULL,
    wijk              TEXT NOT NULL,
    visited_at        TEXT NOT NULL,
    deleted           INTEGER NOT NULL DEFAULT 0,
    first_received_at TEXT NOT NULL,
    received_at       TEXT NOT NULL
) STRICT;
CREATE INDEX visits_bus ON visits (bus_id);

-- Follow-ups: the crew's content copied out of the visit for the office's
-- work lists, and the status the office owns. pull_seq is the bus's
-- counter at the last status change, NULL until the office changes one.
CREATE TABLE followups (
    id          TEXT PRIMARY KEY,
    visit_id    TEXT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    bus_id      TEXT NOT NULL REFERENCES buses (id),
    kind        TEXT NOT NULL,
    department  TEXT NOT NULL DEFAULT '',
    due_date    TEXT NOT NULL DEFAULT '',
    code        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open',
    resolution  TEXT NOT NULL DEFAULT '',
    status_rev  INTEGER NOT NULL DEFAULT 0,
    status_at   TEXT NOT NULL DEFAULT '',
    pull_seq    INTEGER,
    UNIQUE (bus_id, pull_seq)
) STRICT;
CREATE INDEX followups_visit ON followups (visit_id);
CREATE INDEX followups_code ON followups (code) WHERE code != '';

-- Records the office would not take, kept so that staff can see what a bus
-- sent and why it was refused. The bus keeps its copy and shows the crew.
CREATE TABLE set_aside (
    bus_id      TEXT NOT NULL REFERENCES buses (id),
    visit_id    TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    message     TEXT NOT NULL,
    fields      TEXT NOT NULL DEFAULT '{}',
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (bus_id, visit_id, rev)
) STRICT;

-- Small facts about this office, such as the URL buses reach it on.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
