-- Figures and the word index are folded in after a push commits, not in
-- its transaction (office/insightfold.go): the push writes the visits and
-- a folder counts what is new. The pages fold what is left before they
-- read, so every figure stays exact.

-- upto: the highest visits rowid folded. A visit above it is not counted
-- and has no words yet; one at or below it is, unless its rowid waits in
-- fold_redo: it changed after it was folded, its old counts and words are
-- out already, and the folder counts it again as it now stands. A push
-- inserts new visits above upto (rowids only grow), so it pays nothing
-- here; updates and deletes of folded visits pay in the triggers below.
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
-- of 0007 were made in the push, these from the same columns.
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
    SELECT OLD.month, OLD.wijk, d, k, -1, -(OLD.fu_n > 0), CASE WHEN d = 'all' THEN -OLD.panel ELSE 0 END
    FROM (SELECT 'all' AS d, '' AS k
          UNION ALL SELECT 'stop', OLD.stop
          UNION ALL SELECT 'wdhour', CAST(OLD.wdhour AS TEXT)
          UNION ALL SELECT 'sector', OLD.sector
          UNION ALL SELECT 'topic', value FROM json_each(OLD.topics)
          UNION ALL SELECT 'rating', CAST(OLD.rating AS TEXT) WHERE OLD.rating IS NOT NULL)
    WHERE OLD.deleted = 0 AND OLD.month != ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n, fu = fu + excluded.fu, p = p + excluded.p;
    DELETE FROM visit_words WHERE vid = OLD.rowid;
    INSERT INTO fold_redo (vid) VALUES (OLD.rowid);
END;

CREATE TRIGGER visits_fold_delete AFTER DELETE ON visits
WHEN OLD.rowid <= (SELECT upto FROM fold_marks WHERE what = 'visits')
    AND NOT EXISTS (SELECT 1 FROM fold_redo WHERE vid = OLD.rowid)
BEGIN
    INSERT INTO insight_months (month, wijk, dim, key, n, fu, p)
    SELECT OLD.month, OLD.wijk, d, k, -1, -(OLD.fu_n > 0), CASE WHEN d = 'all' THEN -OLD.panel ELSE 0 END
    FROM (SELECT 'all' AS d, '' AS k
          UNION ALL SELECT 'stop', OLD.stop
          UNION ALL SELECT 'wdhour', CAST(OLD.wdhour AS TEXT)
          UNION ALL SELECT 'sector', OLD.sector
          UNION ALL SELECT 'topic', value FROM json_each(OLD.topics)
          UNION ALL SELECT 'rating', CAST(OLD.rating AS TEXT) WHERE OLD.rating IS NOT NULL)
    WHERE OLD.deleted = 0 AND OLD.month != ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n, fu = fu + excluded.fu, p = p + excluded.p;
    DELETE FROM visit_words WHERE vid = OLD.rowid;
END;

-- SQLite gives a new row the highest rowid plus one, so after the highest
-- visits were erased a new one can land at or below upto: it waits to be
-- counted like a changed one.
CREATE TRIGGER visits_fold_insert AFTER INSERT ON visits
WHEN NEW.rowid <= (SELECT upto FROM fold_marks WHERE what = 'visits')
BEGIN
    INSERT OR IGNORE INTO fold_redo (vid) VALUES (NEW.rowid);
END;

-- The visit search's newest-first order reads visits_when (0007), which
-- holds the same order as visits_visited: one index less for every push.
DROP INDEX visits_visited;
