-- Records the office set aside (it refused them: invalid there, or a
-- conflicting rev). The bus keeps the record itself in visits; this row
-- says why, for the rev the office refused. A newer rev from the tablet
-- makes the row moot and is pushed again.
CREATE TABLE set_aside (
    visit_id TEXT PRIMARY KEY REFERENCES visits (id) ON DELETE CASCADE,
    rev      INTEGER NOT NULL,
    reason   TEXT NOT NULL,
    message  TEXT NOT NULL,
    fields   TEXT NOT NULL DEFAULT '{}',
    at       TEXT NOT NULL
) STRICT;
