-- The staff workspace: the follow-up queue, visit search, the fleet.
-- Only what the pages filter or sort by is copied out of the visit's body,
-- and every index here costs each push, so there are as few as the pages'
-- 100 ms budget at a million visits allows.

-- Copies of the visit for search, which the push fills (the UPDATE, for
-- visits that arrived before). name is NOCASE so that a prefix search
-- (name >= 'bak' AND name < 'bak\uffff') runs on its index whatever the
-- case. Sector and topics filter by the body: a page reads a few hundred
-- visits in the index's order to find fifty, which costs less than
-- copying them into every push.
ALTER TABLE visits ADD COLUMN name TEXT NOT NULL DEFAULT '' COLLATE NOCASE;
ALTER TABLE visits ADD COLUMN kvk TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN postcode TEXT NOT NULL DEFAULT '';
UPDATE visits SET
    name = coalesce(json_extract(body, '$.business.name'), ''),
    kvk = coalesce(json_extract(body, '$.business.kvk'), ''),
    postcode = coalesce(json_extract(body, '$.business.address.postcode'), '');
-- Newest first is every list's order; visits arrive roughly in that order,
-- so this index grows at its end. Every index holds the rowid, which the
-- search breaks ties by, so none needs the (long) id as well.
CREATE INDEX visits_visited ON visits (visited_at);
CREATE INDEX visits_name ON visits (name) WHERE name != '';
CREATE INDEX visits_kvk ON visits (kvk) WHERE kvk != '';
CREATE INDEX visits_postcode ON visits (postcode) WHERE postcode != '';

-- The queue. wijk (added by 0007_insight) and opened_at (the visit's time,
-- for sorting by age) are copied from the visit when the push writes the
-- follow-up. assignee is a
-- staff id, set by the office only. active and due_sort are computed, not
-- stored: the queue shows open and in-progress work, soonest due first and
-- work without a due date last.
ALTER TABLE followups ADD COLUMN opened_at TEXT NOT NULL DEFAULT '';
ALTER TABLE followups ADD COLUMN assignee INTEGER REFERENCES staff (id);
ALTER TABLE followups ADD COLUMN active INTEGER AS (status IN ('open', 'in_progress')) VIRTUAL;
ALTER TABLE followups ADD COLUMN due_sort TEXT AS (iif(due_date = '', '9999-12-31', due_date)) VIRTUAL;
UPDATE followups SET wijk = v.wijk, opened_at = v.visited_at FROM visits v WHERE v.id = followups.visit_id;
-- The filter columns ride along after the order, so that a filter that
-- matches few follow-ups is checked in the index, not row by row.
CREATE INDEX followups_due ON followups (active, due_sort, id, status, kind, department, wijk, bus_id);
CREATE INDEX followups_age ON followups (active, opened_at, id, status, kind, department, wijk, bus_id);
CREATE INDEX followups_assignee ON followups (assignee, active, due_sort, id) WHERE assignee IS NOT NULL;

-- What happened to a follow-up at the office, oldest first: status moves
-- (from_status → to_status) and assignments (to_status empty, assignee
-- set). The entrepreneur's page reads it too, without actor.
CREATE TABLE followup_events (
    id          INTEGER PRIMARY KEY,
    followup_id TEXT NOT NULL REFERENCES followups (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,           -- staff email
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    assignee    TEXT NOT NULL DEFAULT '', -- staff email given the work, for an assignment
    note        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX followup_events_followup ON followup_events (followup_id, id);

-- The fleet page: the software a bus last said it runs, when it last
-- synced (a pull ends every sync). revoked_at comes with 0006_privacy.
ALTER TABLE buses ADD COLUMN software TEXT NOT NULL DEFAULT '';
ALTER TABLE buses ADD COLUMN last_sync_at TEXT NOT NULL DEFAULT '';

-- The audit page filters by actor and action, newest first.
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
