-- Insight for the programme: the facts of a visit the figures count,
-- copied out of the body at push time (in Go, which knows Amsterdam's
-- clock), and monthly counts kept exact in the same transaction as the
-- visits they count.

-- visited_unix: visited_at in unix seconds; month: its local month
-- (YYYY-MM, Europe/Amsterdam); wdhour: local weekday (0 = Sunday) * 24 +
-- local hour; topics: the topic codes as a JSON array; rating: the mark
-- the crew asked for, NULL when none; fu_n: how many follow-ups.
ALTER TABLE visits ADD COLUMN visited_unix INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN month        TEXT    NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN wdhour       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN stop         TEXT    NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN sector       TEXT    NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN topics       TEXT    NOT NULL DEFAULT '[]';
ALTER TABLE visits ADD COLUMN rating       INTEGER;
ALTER TABLE visits ADD COLUMN panel        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN fu_n         INTEGER NOT NULL DEFAULT 0;
-- Periods that are not whole months (a week, the edges of a custom
-- period) count visits from here.
CREATE INDEX visits_when ON visits (visited_unix);

-- Counts per local month and wijk. dim is 'all' (key ''), 'stop',
-- 'wdhour', 'sector', 'topic' or 'rating' (key '1'..'10'); n counts
-- visits, fu those of them with a follow-up, p panel opt-ins (on 'all').
-- Rows that fall to zero stay: they cost nothing and change no figure.
CREATE TABLE insight_months (
    month TEXT    NOT NULL,
    wijk  TEXT    NOT NULL,
    dim   TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    fu    INTEGER NOT NULL,
    p     INTEGER NOT NULL,
    PRIMARY KEY (month, wijk, dim, key)
) STRICT, WITHOUT ROWID;

-- A push changes insight_months in Go, once per row at the end of its
-- transaction (insightDelta in office/insightstore.go): the facts its
-- visits had go out, the ones they end with come in. Triggers on the
-- visits would do the same for a third more CPU per pushed visit, which
-- the sync cannot spare. Nothing but a push writes these columns; a visit
-- that leaves the table (an erasure) takes its counts along here.
CREATE TRIGGER visits_insight_delete AFTER DELETE ON visits
WHEN OLD.deleted = 0 AND OLD.month != ''
BEGIN
    INSERT INTO insight_months (month, wijk, dim, key, n, fu, p)
    SELECT OLD.month, OLD.wijk, d, k, -1, -(OLD.fu_n > 0), CASE WHEN d = 'all' THEN -OLD.panel ELSE 0 END
    FROM (SELECT 'all' AS d, '' AS k
          UNION ALL SELECT 'stop', OLD.stop
          UNION ALL SELECT 'wdhour', CAST(OLD.wdhour AS TEXT)
          UNION ALL SELECT 'sector', OLD.sector
          UNION ALL SELECT 'topic', value FROM json_each(OLD.topics)
          UNION ALL SELECT 'rating', CAST(OLD.rating AS TEXT) WHERE OLD.rating IS NOT NULL)
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + excluded.n, fu = fu + excluded.fu, p = p + excluded.p;
END;

-- Follow-ups: when they were opened (their visit's visited_at, unix
-- seconds), where, whether their visit is deleted, and when the office
-- closed them (done or cancelled; NULL while open). closed_unix follows
-- status_at by trigger, whoever sets the status.
ALTER TABLE followups ADD COLUMN opened_unix INTEGER NOT NULL DEFAULT 0;
ALTER TABLE followups ADD COLUMN wijk        TEXT    NOT NULL DEFAULT '';
ALTER TABLE followups ADD COLUMN gone        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE followups ADD COLUMN closed_unix INTEGER;
CREATE INDEX followups_opened ON followups (opened_unix, wijk, department, closed_unix, due_date) WHERE gone = 0;
CREATE INDEX followups_closed ON followups (closed_unix, wijk, department, opened_unix, due_date) WHERE gone = 0 AND closed_unix IS NOT NULL;
-- The follow-ups open now: a tenth of them once the office keeps up.
CREATE INDEX followups_open ON followups (opened_unix, wijk, department, due_date) WHERE gone = 0 AND closed_unix IS NULL;

CREATE TRIGGER followups_closed_at AFTER UPDATE OF status, status_at ON followups
BEGIN
    UPDATE followups SET closed_unix =
        CASE WHEN NEW.status IN ('done', 'cancelled') AND NEW.status_at != '' THEN unixepoch(NEW.status_at) END
    WHERE id = NEW.id;
END;

-- The monthly programme updates as made, kept: month is YYYY-MM, html the
-- printable page in Dutch, sent_at when it was mailed ('' if not).
CREATE TABLE reports (
    month   TEXT PRIMARY KEY,
    made_at TEXT NOT NULL,
    html    TEXT NOT NULL,
    sent_at TEXT NOT NULL DEFAULT ''
) STRICT;
