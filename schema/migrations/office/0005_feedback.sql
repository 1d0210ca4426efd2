-- Entrepreneurs' feedback, given on the follow-up page their code opens.
-- One row per code, ever: the primary key keeps a second post a revision
-- of the first, never a second feedback. A code is checked (its bus, its
-- MAC) before a row is written, but its visit may not have reached the
-- office yet: the row waits, and codes joins it to the follow-up when the
-- visit arrives. created_at is when this version was given; first_at when
-- the first was. pull_seq is the bus's pull counter at the last change,
-- so that the bus pulls every version once, in order with the status.
CREATE TABLE feedback (
    code               TEXT PRIMARY KEY, -- canonical form, schema.Code
    id                 TEXT NOT NULL UNIQUE, -- UUIDv7, made at the first post
    bus_id             TEXT NOT NULL REFERENCES buses (id),
    rating             INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
    comment            TEXT NOT NULL DEFAULT '',
    contact_preference TEXT NOT NULL CHECK (contact_preference IN ('phone', 'email', 'none')),
    created_at         TEXT NOT NULL, -- the office's clock
    first_at           TEXT NOT NULL,
    revisions          INTEGER NOT NULL DEFAULT 0,
    pull_seq           INTEGER NOT NULL,
    UNIQUE (bus_id, pull_seq)
) STRICT;
