-- Figures and the word index are folded in after a push commits, not in
-- its transaction (office/insightfold.go): the push writes the visits and
-- a folder counts what is new. The pages fold what is left before they
-- read, so every figure stays exact.

-- upto: the highest visits rowid folded. A visit above it is not counted
-- and has no words yet; one at or below it is, unless its rowid waits in
-- fold_redo: it changed after it was folded, its old counts and words are
-- out already, and the folder counts it again as it now stands. A push
-- inserts new visits above upto, so it pays nothing here; updates and
-- deletes of folded visits pay in the triggers below.
CREATE TABLE fold_marks (
    what TEXT PRIMARY KEY,
    upto INTEGER NOT NULL
) STRICT;
CREATE TABLE fold_redo (vid INTEGER PRIMARY KEY) STRICT;

-- The word index of the text search: every word of a visit's business
-- name and notes (schema.SearchWords: lower case, accents folded), for
-- visits that are not deleted. By word for the search's prefix ranges;
-- by visit so that a changed or erased visit loses its words at once.
CREATE TABLE visit_words (
    word TEXT    NOT NULL,
    vid  INTEGER NOT NULL,
    PRIMARY KEY (word, vid)
) STRICT, WITHOUT ROWID;
CREATE INDEX visit_words_vid ON visit_words (vid);

-- Counted from scratch by the folder when the office opens: the counts
-- of 0007 were made in the push, these from the same columns. Each
-- visit is counted in its wijk and in wijk '*', the whole city, so that
-- the city's figures read a few hundred rows a month instead of one per
-- wijk, stop, hour and topic.
DELETE FROM insight_months;
INSERT INTO fold_marks (what, upto) VALUES ('visits', 0);

DROP TRIGGER visits_insight_delete;

-- A folded visit that changes or goes: its counts and words out now, in
-- the same transaction; the folder counts it again if it is still there.
CREATE TRIGGER visits_fold_update AFTER UPDATE OF body, wijk, deleted, month, stop, sector, topics, wdhour, rating, panel, fu_n, name ON visits
WHEN OLD.rowid <= (SELECT upto FROM fold_marks WHERE what = 'visits')
    AND NOT EXISTS (SELECT 1 FROM fold_redo WHERE vid = OLD.rowid)
BEGIN
    INSERT INTO insight_months (month, wijk, dim, key, n, fu, p)
    SELECT OLD.month, w, d, k, -1, -(OLD.fu_n > 0), CASE WHEN d = 'all' THEN -OLD.panel ELSE 0 END
    FROM (SELECT 'all' AS d, '' AS k
          UNION ALL SELECT 'stop', OLD.stop
          UNION ALL SELECT 'wdhour', CAST(OLD.wdhour AS TEXT)
          UNION ALL SELECT 'sector', OLD.sector
          UNION ALL SELECT 'topic', value FROM json_each(OLD.topics)
          UNION ALL SELECT 'rating', CAST(OLD.rating AS TEXT) WHERE OLD.rating IS NOT NULL)
    CROSS JOIN (SELECT OLD.wijk AS w UNION ALL SELECT '*')
    WHERE OLD.deleted = 0 AND OLD.month != ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n, fu = fu + excluded.fu, p = p + excluded.p;
    DELETE FROM visit_words WHERE vid = OLD.rowid;
    INSERT INTO fold_redo (vid) VALUES (OLD.rowid);
END;

-- SQLite gives a new row the highest rowid plus one, so after the highest
-- visits were erased a new one would land at or below upto, uncounted:
-- the mark comes down to the highest visit left. (A trigger on insert
-- would do it too, at a cost to every pushed visit.)
CREATE TRIGGER visits_fold_delete AFTER DELETE ON visits
BEGIN
    INSERT INTO insight_months (month, wijk, dim, key, n, fu, p)
    SELECT OLD.month, w, d, k, -1, -(OLD.fu_n > 0), CASE WHEN d = 'all' THEN -OLD.panel ELSE 0 END
    FROM (SELECT 'all' AS d, '' AS k
          UNION ALL SELECT 'stop', OLD.stop
          UNION ALL SELECT 'wdhour', CAST(OLD.wdhour AS TEXT)
          UNION ALL SELECT 'sector', OLD.sector
          UNION ALL SELECT 'topic', value FROM json_each(OLD.topics)
          UNION ALL SELECT 'rating', CAST(OLD.rating AS TEXT) WHERE OLD.rating IS NOT NULL)
    CROSS JOIN (SELECT OLD.wijk AS w UNION ALL SELECT '*')
    WHERE OLD.deleted = 0 AND OLD.month != ''
        AND OLD.rowid <= (SELECT upto FROM fold_marks WHERE what = 'visits')
        AND NOT EXISTS (SELECT 1 FROM fold_redo WHERE vid = OLD.rowid)
    ON CONFLICT DO UPDATE SET n = n + excluded.n, fu = fu + excluded.fu, p = p + excluded.p;
    DELETE FROM visit_words WHERE vid = OLD.rowid;
    UPDATE fold_marks SET upto = min(upto, coalesce((SELECT max(rowid) FROM visits), 0)) WHERE what = 'visits';
END;



-- The visit search's newest-first order reads visits_when (0007), which
-- holds the same order as visits_visited: one index less for every push.
DROP INDEX visits_visited;

-- Follow-up figures per local month (Europe/Amsterdam), kept by triggers
-- in the transaction that changes a follow-up: what 'o' counts those
-- opened in the month (hours -1), 'c' those closed in it by whole hours
-- from opening to closing, which the median and 90th percentile need.
-- A period's whole months read these; its edges count the follow-ups.
CREATE TABLE insight_fu (
    month TEXT    NOT NULL,
    wijk  TEXT    NOT NULL,
    dept  TEXT    NOT NULL,
    what  TEXT    NOT NULL,
    hours INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (month, wijk, dept, what, hours)
) STRICT, WITHOUT ROWID;

-- The local month of a unix time. Amsterdam is UTC+2 from the last Sunday
-- of March to the last Sunday of October, UTC+1 otherwise; no month
-- starts on those days, so the offset is that of the month being entered.
-- (A view cannot take a parameter: the expression is repeated below.)
--   strftime('%Y-%m', u + CASE WHEN CAST(strftime('%m', u + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10
--       THEN 7200 ELSE 3600 END, 'unixepoch')

INSERT INTO insight_fu (month, wijk, dept, what, hours, n)
SELECT strftime('%Y-%m', opened_unix + CASE WHEN CAST(strftime('%m', opened_unix + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10 THEN 7200 ELSE 3600 END, 'unixepoch'),
    wijk, department, 'o', -1, count(*)
FROM followups WHERE gone = 0 GROUP BY 1, 2, 3;
INSERT INTO insight_fu (month, wijk, dept, what, hours, n)
SELECT strftime('%Y-%m', closed_unix + CASE WHEN CAST(strftime('%m', closed_unix + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10 THEN 7200 ELSE 3600 END, 'unixepoch'),
    wijk, department, 'c', max(0, closed_unix - opened_unix) / 3600, count(*)
FROM followups WHERE gone = 0 AND closed_unix IS NOT NULL GROUP BY 1, 2, 3, 5;

CREATE TRIGGER followups_fu_insert AFTER INSERT ON followups WHEN NEW.gone = 0
BEGIN
    INSERT INTO insight_fu (month, wijk, dept, what, hours, n)
    SELECT strftime('%Y-%m', u + CASE WHEN CAST(strftime('%m', u + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10 THEN 7200 ELSE 3600 END, 'unixepoch'),
        NEW.wijk, NEW.department, w, h, 1
    FROM (SELECT NEW.opened_unix AS u, 'o' AS w, -1 AS h
          UNION ALL SELECT NEW.closed_unix, 'c', max(0, NEW.closed_unix - NEW.opened_unix) / 3600 WHERE NEW.closed_unix IS NOT NULL)
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER followups_fu_update AFTER UPDATE OF opened_unix, wijk, department, gone, closed_unix ON followups
BEGIN
    INSERT INTO insight_fu (month, wijk, dept, what, hours, n)
    SELECT strftime('%Y-%m', u + CASE WHEN CAST(strftime('%m', u + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10 THEN 7200 ELSE 3600 END, 'unixepoch'),
        wk, dp, w, h, sign
    FROM (SELECT OLD.opened_unix AS u, OLD.wijk AS wk, OLD.department AS dp, 'o' AS w, -1 AS h, -1 AS sign WHERE OLD.gone = 0
          UNION ALL SELECT OLD.closed_unix, OLD.wijk, OLD.department, 'c', max(0, OLD.closed_unix - OLD.opened_unix) / 3600, -1
              WHERE OLD.gone = 0 AND OLD.closed_unix IS NOT NULL
          UNION ALL SELECT NEW.opened_unix, NEW.wijk, NEW.department, 'o', -1, 1 WHERE NEW.gone = 0
          UNION ALL SELECT NEW.closed_unix, NEW.wijk, NEW.department, 'c', max(0, NEW.closed_unix - NEW.opened_unix) / 3600, 1
              WHERE NEW.gone = 0 AND NEW.closed_unix IS NOT NULL)
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER followups_fu_delete AFTER DELETE ON followups WHEN OLD.gone = 0
BEGIN
    INSERT INTO insight_fu (month, wijk, dept, what, hours, n)
    SELECT strftime('%Y-%m', u + CASE WHEN CAST(strftime('%m', u + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10 THEN 7200 ELSE 3600 END, 'unixepoch'),
        OLD.wijk, OLD.department, w, h, -1
    FROM (SELECT OLD.opened_unix AS u, 'o' AS w, -1 AS h
          UNION ALL SELECT OLD.closed_unix, 'c', max(0, OLD.closed_unix - OLD.opened_unix) / 3600 WHERE OLD.closed_unix IS NOT NULL)
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
