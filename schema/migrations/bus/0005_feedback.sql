-- Entrepreneurs' feedback as pulled from the office, one row per follow-up
-- code (the code joins it to the follow-up that carries it). office_seq is
-- the office's pull counter at this version: an older answer never
-- replaces a newer one.
CREATE TABLE feedback (
    code               TEXT PRIMARY KEY, -- canonical form, schema.Code
    id                 TEXT NOT NULL,
    rating             INTEGER NOT NULL,
    comment            TEXT NOT NULL DEFAULT '',
    contact_preference TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    office_seq         INTEGER NOT NULL
) STRICT;
