-- Handled the same way every time: a question back to the entrepreneur
-- and their satisfaction after closing (issue 15).
--
-- Two statuses join the four of the contract: 'waiting' (staff asked the
-- entrepreneur a question) and 'reopen_requested' (the entrepreneur is not
-- satisfied with a done follow-up). Both are unfinished work, so the
-- queue's "active" now means "not done and not cancelled". A generated
-- column cannot be changed in place: its indexes go, it goes, and both
-- come back with the new expression.
DROP INDEX followups_due;
DROP INDEX followups_age;
DROP INDEX followups_assignee;
ALTER TABLE followups DROP COLUMN active;
ALTER TABLE followups ADD COLUMN active INTEGER AS (status NOT IN ('done', 'cancelled')) VIRTUAL;
CREATE INDEX followups_due ON followups (active, due_sort, id, status, kind, department, wijk, bus_id);
CREATE INDEX followups_age ON followups (active, opened_at, id, status, kind, department, wijk, bus_id);
CREATE INDEX followups_assignee ON followups (assignee, active, due_sort, id) WHERE assignee IS NOT NULL;
-- The two new statuses are rare: their queue filters walk an index of
-- their own instead of every unfinished follow-up. A push writes status
-- 'open', which these partial indexes do not hold, so they cost the push
-- nothing. One each: SQLite uses a partial index only when the query names
-- its condition as written.
CREATE INDEX followups_waiting ON followups (due_sort, id) WHERE status = 'waiting';
CREATE INDEX followups_reopen ON followups (due_sort, id) WHERE status = 'reopen_requested';

-- What kind of event a row of the timeline is: '' a staff member's status
-- move or assignment (as before), 'question' staff asked the entrepreneur
-- something, 'answer' the entrepreneur answered (a move back the first
-- time, a revision after), 'satisfaction' the entrepreneur said whether
-- they are satisfied (a move to reopen_requested when they ask for it).
ALTER TABLE followup_events ADD COLUMN kind TEXT NOT NULL DEFAULT '';

-- The question back: one row per question, the latest is the one the
-- page shows. back_to is the status the follow-up returns to when the
-- first answer comes; a later answer revises the same row.
CREATE TABLE followup_questions (
    id          INTEGER PRIMARY KEY,
    followup_id TEXT NOT NULL REFERENCES followups (id) ON DELETE CASCADE,
    question    TEXT NOT NULL,
    asked_by    TEXT NOT NULL,           -- staff email
    asked_at    TEXT NOT NULL,
    back_to     TEXT NOT NULL,
    answer      TEXT NOT NULL DEFAULT '',
    answered_at TEXT NOT NULL DEFAULT '',
    revisions   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX followup_questions_followup ON followup_questions (followup_id, id);

-- The standard reasons an entrepreneur picks from, for each answer
-- (satisfied 1 or 0). reopens marks a "no" reason that asks staff to look
-- again. A reason in use is retired, never deleted, so that old answers
-- keep their words.
CREATE TABLE satisfaction_reasons (
    id        INTEGER PRIMARY KEY,
    satisfied INTEGER NOT NULL CHECK (satisfied IN (0, 1)),
    reopens   INTEGER NOT NULL DEFAULT 0 CHECK (reopens IN (0, 1)),
    nl        TEXT NOT NULL,
    en        TEXT NOT NULL,
    retired   INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1))
) STRICT;
INSERT INTO satisfaction_reasons (satisfied, reopens, nl, en) VALUES
    (1, 0, 'Het ging snel', 'It was quick'),
    (1, 0, 'Mijn vraag is goed beantwoord', 'My question was answered well'),
    (0, 1, 'Mijn vraag is nog niet opgelost', 'My question has not been solved yet'),
    (0, 0, 'Het duurde te lang', 'It took too long'),
    (0, 0, 'Ik begreep het antwoord niet', 'I did not understand the answer');

-- The entrepreneur's answer after closing: one per follow-up, which a
-- second post revises.
CREATE TABLE satisfaction (
    followup_id TEXT PRIMARY KEY REFERENCES followups (id) ON DELETE CASCADE,
    satisfied   INTEGER NOT NULL CHECK (satisfied IN (0, 1)),
    reason_id   INTEGER REFERENCES satisfaction_reasons (id),
    comment     TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL,
    revisions   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Routing rules: a new follow-up goes to the department (and, if given,
-- the person) of the first rule that matches it, by position; an empty
-- condition matches anything. The push computes the route in the
-- follow-up's own upsert, so routing costs no extra statement there.
CREATE TABLE routing_rules (
    id         INTEGER PRIMARY KEY,
    position   INTEGER NOT NULL,         -- lower first
    topic      TEXT NOT NULL DEFAULT '', -- a topic code the visit has
    kind       TEXT NOT NULL DEFAULT '', -- the follow-up's kind
    wijk       TEXT NOT NULL DEFAULT '', -- CBS code
    stadsdeel  TEXT NOT NULL DEFAULT '', -- as in the reference list
    department TEXT NOT NULL,
    person     INTEGER REFERENCES staff (id)
) STRICT;
CREATE INDEX routing_rules_position ON routing_rules (position, id);

-- route_rule is the rule that routed the follow-up (NULL: none did);
-- route_by is the staff member who routed it by hand, whose route later
-- pushes keep ('' for a route by rule, or none).
ALTER TABLE followups ADD COLUMN route_rule INTEGER;
ALTER TABLE followups ADD COLUMN route_by TEXT NOT NULL DEFAULT '';

-- The timeline says when a rule routed a follow-up, on arrival or when a
-- new revision (another kind or topic) changes which rule matches, and
-- gives the rule's person the work if nobody has it. The WHEN keeps these
-- off the push's path for follow-ups that no rule routes.
CREATE TRIGGER followups_routed_insert AFTER INSERT ON followups WHEN new.route_rule IS NOT NULL
BEGIN
    INSERT INTO followup_events (followup_id, at, actor, note, kind)
    VALUES (new.id, (SELECT received_at FROM visits WHERE id = new.visit_id), 'automatisch', new.department, 'route');
    UPDATE followups SET assignee = (SELECT person FROM routing_rules WHERE id = new.route_rule)
    WHERE id = new.id AND assignee IS NULL;
END;
CREATE TRIGGER followups_routed_update AFTER UPDATE OF route_rule ON followups
WHEN new.route_rule IS NOT old.route_rule AND new.route_by = ''
BEGIN
    INSERT INTO followup_events (followup_id, at, actor, note, kind)
    VALUES (new.id, (SELECT received_at FROM visits WHERE id = new.visit_id), 'automatisch', iif(new.route_rule IS NULL, '', new.department), 'route');
    UPDATE followups SET assignee = (SELECT person FROM routing_rules WHERE id = new.route_rule)
    WHERE id = new.id AND assignee IS NULL AND new.route_rule IS NOT NULL;
END;

-- Keeping the entrepreneur informed. message is what a status move says
-- to the entrepreneur (a standard text as staff edited it): their page
-- shows it with the step, and the e-mail carries it.
ALTER TABLE followup_events ADD COLUMN message TEXT NOT NULL DEFAULT '';

-- Standard texts admins write once, per status and department ('' for
-- every department), in Dutch and English. Placeholders: {bedrijf}
-- {business}, {datum} {date}, {afdeling} {department}.
CREATE TABLE standard_texts (
    id         INTEGER PRIMARY KEY,
    status     TEXT NOT NULL,
    department TEXT NOT NULL DEFAULT '',
    nl         TEXT NOT NULL,
    en         TEXT NOT NULL
) STRICT;

-- E-mails to entrepreneurs, queued in the transaction of the status move
-- and sent by a worker (mail.go), so that sending never holds the move up.
-- to_addr is emptied once the e-mail is sent: the address stays only in
-- the visit, where erasure finds it.
CREATE TABLE mail_queue (
    id          INTEGER PRIMARY KEY,
    followup_id TEXT NOT NULL REFERENCES followups (id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL,
    to_addr     TEXT NOT NULL,
    lang        TEXT NOT NULL,           -- nl or en: the visit's language, Dutch for any other
    created_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,           -- not before this time
    sent_at     TEXT NOT NULL DEFAULT '',
    last_error  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX mail_queue_due ON mail_queue (next_at) WHERE sent_at = '';
