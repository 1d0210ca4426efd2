-- A push in two steps. A bus with a backlog waits for every one of its
-- pushes, and writing a visit and its follow-ups into their indexed tables
-- costs several times what deciding about them does. So a push decides
-- what it refuses, by key lookups against the stored records and what
-- waits here, stores what it takes as received, and answers; the office
-- applies the inbox to visits, follow-ups and codes once pushes pause, and
-- before anything reads them (inbox.go).

-- seq is the order of arrival, the order records are applied in. body and
-- crew_hash are the record as it will be stored: contact details already
-- settled by the office's privacy rules. received_at is the push's time.
CREATE TABLE push_inbox (
    seq         INTEGER PRIMARY KEY,
    bus_id      TEXT    NOT NULL,
    visit_id    TEXT    NOT NULL,
    rev         INTEGER NOT NULL,
    crew_hash   BLOB    NOT NULL,
    body        TEXT    NOT NULL,
    received_at TEXT    NOT NULL
) STRICT;
CREATE INDEX push_inbox_visit ON push_inbox (visit_id, rev);

-- The follow-up ids and codes that records in the inbox claim, so that a
-- later push is refused as it would be once they are applied.
CREATE TABLE inbox_followups (
    id       TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE inbox_codes (
    code        TEXT PRIMARY KEY,
    followup_id TEXT NOT NULL,
    bus_id      TEXT NOT NULL
) STRICT, WITHOUT ROWID;
