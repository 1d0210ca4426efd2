-- The insight page's feedback marks and comments read a short range of one
-- index, where they filtered unixepoch(first_at) over every feedback and
-- joined codes and visits for each to find its wijk.
--
-- first_unix: when the first version was given, as the figures compare it
-- (the same expression as before, so the same feedback falls in a period;
-- 0 for a time SQLite cannot read, which no period holds). A plain
-- column: SQLite reads a generated one from the row even when the index
-- holds it.
ALTER TABLE feedback ADD COLUMN first_unix INTEGER NOT NULL DEFAULT 0;

-- wijk: that of the visit the feedback's code belongs to, '' while that
-- visit has not reached the office or when it is deleted (deleted = 1).
-- Copied, so kept by the triggers below on each of its sources: the
-- feedback, the code's binding, and the visit's wijk and deleted.
ALTER TABLE feedback ADD COLUMN wijk TEXT NOT NULL DEFAULT '';

-- The codes of a visit, for a visit that moves wijk or is deleted. Codes
-- are bound only for follow-ups with a card, so a push pays little.
CREATE INDEX codes_visit ON codes (visit_id);

UPDATE feedback SET first_unix = coalesce(unixepoch(first_at), 0), wijk = coalesce((
    SELECT v.wijk FROM codes AS c JOIN visits AS v ON v.id = c.visit_id
    WHERE c.code = feedback.code AND v.deleted = 0), '');

-- By moment, then wijk and mark: a period's marks are a range of this
-- index alone, its comments a walk of it newest first.
CREATE INDEX feedback_first ON feedback (first_unix, wijk, rating);

-- A new feedback: its moment, and, when its visit arrived before it, the
-- wijk. (Given before, nothing is bound yet: the code's binding sets it.)
-- A revision keeps first_at; should anything change it, first_unix
-- follows.
CREATE TRIGGER feedback_figures_insert AFTER INSERT ON feedback
BEGIN
    UPDATE feedback SET first_unix = coalesce(unixepoch(NEW.first_at), 0), wijk = coalesce((
        SELECT v.wijk FROM codes AS c JOIN visits AS v ON v.id = c.visit_id
        WHERE c.code = NEW.code AND v.deleted = 0), '')
    WHERE code = NEW.code;
END;

CREATE TRIGGER feedback_first_update AFTER UPDATE OF first_at ON feedback
BEGIN
    UPDATE feedback SET first_unix = coalesce(unixepoch(NEW.first_at), 0) WHERE code = NEW.code;
END;

-- A code is bound when its visit arrives, after the visit is written in
-- the same transaction (office/syncstore.go: putVisit, then bindCodes).
-- A code already bound only touches bound_at, which fires nothing here.
CREATE TRIGGER codes_wijk_insert AFTER INSERT ON codes
BEGIN
    UPDATE feedback SET wijk = coalesce((SELECT wijk FROM visits WHERE id = NEW.visit_id AND deleted = 0), '')
    WHERE code = NEW.code;
END;

-- Nothing changes or deletes a binding today; if something ever does,
-- the copy follows.
CREATE TRIGGER codes_wijk_update AFTER UPDATE OF code, visit_id ON codes
BEGIN
    UPDATE feedback SET wijk = '' WHERE code = OLD.code;
    UPDATE feedback SET wijk = coalesce((SELECT wijk FROM visits WHERE id = NEW.visit_id AND deleted = 0), '')
    WHERE code = NEW.code;
END;
CREATE TRIGGER codes_wijk_delete AFTER DELETE ON codes
BEGIN
    UPDATE feedback SET wijk = '' WHERE code = OLD.code;
END;

-- A new revision that moves the visit to another wijk, deletes it or
-- brings it back. Only when one of the two changes: other revisions pay
-- for the WHEN alone.
CREATE TRIGGER visits_wijk_feedback AFTER UPDATE OF wijk, deleted ON visits
WHEN OLD.wijk IS NOT NEW.wijk OR OLD.deleted IS NOT NEW.deleted
BEGIN
    UPDATE feedback SET wijk = iif(NEW.deleted = 0, NEW.wijk, '')
    WHERE code IN (SELECT code FROM codes WHERE visit_id = NEW.id);
END;

-- The office never deletes a visit row (a deletion is deleted = 1), but
-- if one goes its feedback loses the wijk, as the join did. A visit is
-- never inserted after its codes (they are bound after it), so an insert
-- needs no trigger and the push pays nothing for new visits.
CREATE TRIGGER visits_delete_feedback AFTER DELETE ON visits
BEGIN
    UPDATE feedback SET wijk = '' WHERE code IN (SELECT code FROM codes WHERE visit_id = OLD.id);
END;

-- The city's follow-up figures. insight_fu holds each month per wijk,
-- department and hour to close: at a million visits about 12,000 rows a
-- month, which a year's page read and grouped twice (the year and the
-- year before). For the whole city the page now reads per month and
-- department the follow-ups opened (days -1) and closed by whole days to
-- close (insight_fu_city, about 500 rows a month), and then, by whole
-- hours, only the days in which a median or 90th percentile falls
-- (insight_fu_hours, by hours first for that lookup). Both are sums of
-- insight_fu, kept by triggers on it, so they follow it in the same
-- transaction whatever changes a follow-up.
CREATE TABLE insight_fu_city (
    month TEXT    NOT NULL,
    dept  TEXT    NOT NULL,
    what  TEXT    NOT NULL,
    days  INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (month, dept, what, days)
) STRICT, WITHOUT ROWID;
CREATE TABLE insight_fu_hours (
    hours INTEGER NOT NULL,
    dept  TEXT    NOT NULL,
    month TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (hours, dept, month)
) STRICT, WITHOUT ROWID;

INSERT INTO insight_fu_city (month, dept, what, days, n)
SELECT month, dept, what, iif(what = 'o', -1, hours / 24), sum(n) FROM insight_fu GROUP BY 1, 2, 3, 4;
INSERT INTO insight_fu_hours (hours, dept, month, n)
SELECT hours, dept, month, sum(n) FROM insight_fu WHERE what = 'c' GROUP BY 1, 2, 3;

CREATE TRIGGER insight_fu_city_insert AFTER INSERT ON insight_fu
BEGIN
    INSERT INTO insight_fu_city (month, dept, what, days, n)
    VALUES (NEW.month, NEW.dept, NEW.what, iif(NEW.what = 'o', -1, NEW.hours / 24), NEW.n)
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO insight_fu_hours (hours, dept, month, n)
    SELECT NEW.hours, NEW.dept, NEW.month, NEW.n WHERE NEW.what = 'c'
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- The followups triggers' upserts change only n: one row's difference.
-- The wijk does not matter to the city's rows.
CREATE TRIGGER insight_fu_city_update AFTER UPDATE ON insight_fu
WHEN NEW.month = OLD.month AND NEW.dept = OLD.dept AND NEW.what = OLD.what AND NEW.hours = OLD.hours
BEGIN
    INSERT INTO insight_fu_city (month, dept, what, days, n)
    VALUES (NEW.month, NEW.dept, NEW.what, iif(NEW.what = 'o', -1, NEW.hours / 24), NEW.n - OLD.n)
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO insight_fu_hours (hours, dept, month, n)
    SELECT NEW.hours, NEW.dept, NEW.month, NEW.n - OLD.n WHERE NEW.what = 'c'
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- Anything else that changes or removes a row of insight_fu: the old
-- row out, the new one in.
CREATE TRIGGER insight_fu_city_rekey AFTER UPDATE ON insight_fu
WHEN NOT (NEW.month = OLD.month AND NEW.dept = OLD.dept AND NEW.what = OLD.what AND NEW.hours = OLD.hours)
BEGIN
    INSERT INTO insight_fu_city (month, dept, what, days, n)
    VALUES (OLD.month, OLD.dept, OLD.what, iif(OLD.what = 'o', -1, OLD.hours / 24), -OLD.n)
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO insight_fu_hours (hours, dept, month, n)
    SELECT OLD.hours, OLD.dept, OLD.month, -OLD.n WHERE OLD.what = 'c'
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO insight_fu_city (month, dept, what, days, n)
    VALUES (NEW.month, NEW.dept, NEW.what, iif(NEW.what = 'o', -1, NEW.hours / 24), NEW.n)
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO insight_fu_hours (hours, dept, month, n)
    SELECT NEW.hours, NEW.dept, NEW.month, NEW.n WHERE NEW.what = 'c'
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER insight_fu_city_delete AFTER DELETE ON insight_fu
BEGIN
    INSERT INTO insight_fu_city (month, dept, what, days, n)
    VALUES (OLD.month, OLD.dept, OLD.what, iif(OLD.what = 'o', -1, OLD.hours / 24), -OLD.n)
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO insight_fu_hours (hours, dept, month, n)
    SELECT OLD.hours, OLD.dept, OLD.month, -OLD.n WHERE OLD.what = 'c'
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
