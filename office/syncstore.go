package office

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"infobus/schema"
	infosync "infobus/sync"
)

const (
	// An insert that a taken id turns into no change, then, only for
	// those, an update that an equal or older rev, or another bus's visit,
	// turns into no change, which putVisit then classifies. Not one
	// upsert: new visits, nearly all of a push, then never reach the
	// update path and the visits' update trigger (migration 0011).
	queryVisitInsert = `
INSERT INTO visits (id, bus_id, rev, crew_hash, body, wijk, visited_at, deleted, first_received_at, received_at,
    visited_unix, month, wdhour, stop, sector, topics, rating, panel, fu_n, name, kvk, postcode)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
ON CONFLICT (id) DO NOTHING`
	queryVisitUpdate = `
UPDATE visits SET rev = ?3, crew_hash = ?4, body = ?5, wijk = ?6, visited_at = ?7, deleted = ?8, received_at = ?9,
    visited_unix = ?10, month = ?11, wdhour = ?12, stop = ?13, sector = ?14, topics = ?15, rating = ?16, panel = ?17,
    fu_n = ?18, name = ?19, kvk = ?20, postcode = ?21
WHERE id = ?1 AND bus_id = ?2 AND rev < ?3`
	queryVisitStored = `SELECT bus_id, rev, crew_hash FROM visits WHERE id = ?`
	// A follow-up id belongs to one visit for good: the WHERE turns an id
	// another visit owns into no change.
	//
	// The route (routing.go) is part of the same statement: the first
	// routing rule that matches picks the department, else the crew's
	// stands; a route staff set by hand (route_by) outlives new revisions.
	queryFollowUpUpsert = `
INSERT INTO followups (id, visit_id, bus_id, kind, department, due_date, code, opened_unix, wijk, gone, opened_at, route_rule)
SELECT ?1, ?2, ?3, ?4, coalesce(r.department, ?5), ?6, ?7, ?8, ?9, ?10, ?11, r.id
FROM (SELECT 1) LEFT JOIN (` + queryRouteMatch + `) r WHERE true
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, due_date = excluded.due_date, code = excluded.code,
    department = iif(followups.route_by = '', excluded.department, followups.department),
    route_rule = iif(followups.route_by = '', excluded.route_rule, followups.route_rule),
    opened_unix = excluded.opened_unix, wijk = excluded.wijk, gone = excluded.gone, opened_at = excluded.opened_at
WHERE followups.visit_id = excluded.visit_id`
	querySetAsideInsert = `
INSERT INTO set_aside (bus_id, visit_id, rev, reason, message, fields, body, received_at, message_nl)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (bus_id, visit_id, rev) DO UPDATE SET
    reason = excluded.reason, message = excluded.message, fields = excluded.fields, message_nl = excluded.message_nl,
    body = excluded.body, received_at = excluded.received_at`
	// The held cursor moves only over a batch that starts where the office
	// holds (?5, the bus's cursor before it; NULL from a bus that does not
	// say): after a restore, a gap stays visible to the bus.
	queryBusPushed = `
UPDATE buses SET acked_seq = CASE WHEN ?5 IS NULL OR ?5 <= acked_seq THEN max(acked_seq, ?2) ELSE acked_seq END,
    last_push_at = ?3, pushed_total = pushed_total + ?4
WHERE id = ?1`
	queryStatusChanges = `
SELECT id, visit_id, status, resolution, status_rev, status_at, pull_seq FROM followups
WHERE bus_id = ?1 AND pull_seq > ?2 ORDER BY pull_seq LIMIT ?3`
	queryFollowUpForStatus = `SELECT bus_id, status_rev FROM followups WHERE id = ?`
	queryBusNextPullSeq    = `UPDATE buses SET pull_seq = pull_seq + 1 WHERE id = ? RETURNING pull_seq`
	queryFollowUpSetStatus = `
UPDATE followups SET status = ?2, resolution = ?3, status_rev = ?4, status_at = ?5, pull_seq = ?6
WHERE id = ?1`
	queryVisitRevs   = `SELECT id, rev FROM visits WHERE bus_id = ?`
	queryVisitByID   = `SELECT bus_id, body, received_at FROM visits WHERE id = ?`
	queryFollowUpsOf = `SELECT id, status, resolution, status_rev, status_at FROM followups WHERE visit_id = ?`
	querySetAsideFor = `SELECT visit_id, rev, reason, message, message_nl, fields, body FROM set_aside WHERE bus_id = ? ORDER BY received_at, visit_id, rev`
)

// errRefused carries a set-aside decision out of putVisit. late says the
// record had already written something, which must be undone.
type errRefused struct {
	sa   infosync.SetAside
	late bool
}

func (e *errRefused) Error() string { return e.sa.Message }

// errLateRefusal sends a batch from the fast path to the careful one.
var errLateRefusal = errors.New("a record was refused after it wrote")

// refuseStored decides about a visit the office already holds at
// storedRev from storedBus, for a record that changes nothing: another
// bus's id and a rev taken by other content are refused; an identical
// replay or an older rev is taken as a no-op (nil).
func refuseStored(rec *infosync.Incoming, busID, storedBus string, storedRev int64, storedHash []byte) error {
	v := rec.Visit
	switch {
	case storedBus != busID:
		return &errRefused{sa: infosync.SetAside{Index: rec.Index, ID: v.ID, Rev: v.Rev, Reason: infosync.ReasonForeignID,
			Message:   "another bus already sent a visit with this id; save the visit again as a new visit",
			MessageNL: "een andere bus stuurde al een bezoek met dit id; sla het bezoek opnieuw op als nieuw bezoek",
			Fields:    map[string]schema.Problem{"id": {EN: "is used by a visit from another bus", NL: "wordt al gebruikt door een bezoek van een andere bus"}}}}
	case storedRev == v.Rev && !bytes.Equal(storedHash, rec.Hash[:]):
		return &errRefused{sa: infosync.SetAside{Index: rec.Index, ID: v.ID, Rev: v.Rev, Reason: infosync.ReasonConflict,
			Message:   fmt.Sprintf("the office already has revision %d of this visit with other content; save it again as a new revision", storedRev),
			MessageNL: fmt.Sprintf("het kantoor heeft versie %d van dit bezoek al met andere inhoud; sla het opnieuw op als nieuwe versie", storedRev),
			Fields:    map[string]schema.Problem{"rev": {EN: "is taken by other content at the office", NL: "is op kantoor al gebruikt voor andere inhoud"}}}}
	}
	return nil
}

// refuseFollowUpID refuses a record whose i-th follow-up has an id another
// visit owns.
func refuseFollowUpID(rec *infosync.Incoming, i int, late bool) error {
	v := rec.Visit
	return &errRefused{late: late, sa: infosync.SetAside{Index: rec.Index, ID: v.ID, Rev: v.Rev, Reason: infosync.ReasonForeignID,
		Message:   "a follow-up id of this visit belongs to another visit at the office",
		MessageNL: "een vervolgactie van dit bezoek heeft een id dat op kantoor bij een ander bezoek hoort",
		Fields: map[string]schema.Problem{fmt.Sprintf("followups[%d].id", i): {
			EN: "is used by a follow-up of another visit", NL: "wordt al gebruikt door een vervolgactie van een ander bezoek"}}}}
}

// CommitPush takes a checked batch from busID in one transaction: it
// refuses what the office cannot take and keeps it in quarantine, queues
// the rest in the inbox (inbox.go), and moves the bus's cursor. It sets
// Refused on records the database turns down. What it queued reaches
// visits and follow-ups when the inbox is applied, before any page reads.
func (s *Store) CommitPush(ctx context.Context, busID string, batch *infosync.Batch) error {
	now := schema.Timestamp(s.now())
	queued := false
	err := s.inRawTx(ctx, func(tx *sql.Tx) error {
		stmts := newTxStmts(tx)
		a, err := readAdmission(ctx, stmts, batch.Records)
		if err != nil {
			return err
		}
		landed := 0
		for i := range batch.Records {
			rec := &batch.Records[i]
			if rec.Refused == nil {
				q, err := a.admit(ctx, stmts, busID, rec, now)
				var r *errRefused
				switch {
				case errors.As(err, &r):
					rec.Refused = &r.sa
				case err != nil:
					return fmt.Errorf("record %d: %w", rec.Index, err)
				}
				queued = queued || q
			}
			if rec.Refused == nil {
				landed++
				continue
			}
			if err := quarantine(ctx, tx, busID, rec, now); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, queryBusPushed, busID, batch.ThroughSeq, now, landed, batch.AfterSeq)
		return err
	})
	if err == nil && queued {
		// The inbox, then the figures and the word index, follow after
		// the commit (insightfold.go), so that the bus waits only for the
		// decision about its records.
		s.inbox.queued()
		s.fold.poke()
	}
	return err
}

// putRecords upserts checked records that busID pushed at now and returns
// the ones the database refused, by index. Almost every batch is all
// good: it runs in one savepoint. A record refused after it wrote (a
// follow-up id another visit owns) sends the batch round again with a
// savepoint per record, which costs a third more statements.
func putRecords(ctx context.Context, tx *sql.Tx, busID string, recs []infosync.Incoming, now string) (map[int]*infosync.SetAside, error) {
	var refused map[int]*infosync.SetAside
	err := schema.InSavepoint(ctx, tx, func() (err error) {
		refused, err = putAll(ctx, tx, busID, recs, now, false)
		return err
	})
	if errors.Is(err, errLateRefusal) {
		refused, err = putAll(ctx, tx, busID, recs, now, true)
	}
	return refused, err
}

// putAll upserts the good records and returns the ones the database
// refused, by index. Without perRecord it returns errLateRefusal as soon
// as a refusal needs a write undone.
func putAll(ctx context.Context, tx *sql.Tx, busID string, recs []infosync.Incoming, now string, perRecord bool) (map[int]*infosync.SetAside, error) {
	refused := map[int]*infosync.SetAside{}
	stmts := newTxStmts(tx)
	for i := range recs {
		rec := &recs[i]
		if rec.Refused != nil {
			continue
		}
		var err error
		if perRecord {
			err = schema.InSavepoint(ctx, tx, func() error { return putVisit(ctx, stmts, busID, rec, now) })
		} else {
			err = putVisit(ctx, stmts, busID, rec, now)
		}
		var r *errRefused
		switch {
		case errors.As(err, &r) && r.late && !perRecord:
			return nil, errLateRefusal
		case errors.As(err, &r):
			refused[i] = &r.sa
		case err != nil:
			return nil, fmt.Errorf("record %d: %w", rec.Index, err)
		}
	}
	return refused, nil
}

// putVisit upserts one checked visit and its follow-ups. A record the
// office cannot take comes back as *errRefused; an older rev or an
// identical replay is taken and changes nothing.
func putVisit(ctx context.Context, stmts *txStmts, busID string, rec *infosync.Incoming, now string) error {
	if err := settleContact(ctx, stmts, rec); err != nil {
		return err
	}
	v := rec.Visit
	if err := checkCodes(ctx, stmts, busID, rec); err != nil {
		return err
	}
	// Exec and RowsAffected rather than RETURNING: a thousand rows a batch,
	// and a query costs the driver twice what an exec does.
	fx := factsOf(v)
	args := []any{v.ID, busID, v.Rev, rec.Hash[:], string(rec.Body), v.Wijk, v.VisitedAt, v.Deleted, now,
		fx.unix, fx.month, fx.wdhour, v.Stop, v.Sector, fx.topics, fx.rating, v.PanelOptIn, len(v.FollowUps),
		v.Business.Name, v.Business.KvK, v.Business.Address.Postcode}
	changed, err := schema.ExecChanged(ctx, stmts, queryVisitInsert, args...)
	if err == nil && !changed {
		changed, err = schema.ExecChanged(ctx, stmts, queryVisitUpdate, args...)
	}
	if err != nil {
		return err
	}
	if !changed {
		var (
			storedBus  string
			storedRev  int64
			storedHash []byte
		)
		if err := stmts.QueryRowContext(ctx, queryVisitStored, v.ID).Scan(&storedBus, &storedRev, &storedHash); err != nil {
			return err
		}
		// An identical replay, or a rev the office already has a newer one
		// of: nothing to do, and the bus may move on.
		return refuseStored(rec, busID, storedBus, storedRev, storedHash)
	}
	for i, f := range v.FollowUps {
		changed, err := schema.ExecChanged(ctx, stmts, queryFollowUpUpsert, f.ID, v.ID, busID, f.Kind, f.Department, f.DueDate, f.Code,
			fx.unix, v.Wijk, v.Deleted, v.VisitedAt, stadsdeelOf(v.Wijk), fx.topics)
		if err != nil {
			return err
		}
		if !changed {
			return refuseFollowUpID(rec, i, true)
		}
	}
	return bindCodes(ctx, stmts, busID, rec, now)
}

// txStmts prepares each statement once per push rather than once per
// visit. The transaction closes them.
type txStmts struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newTxStmts(tx *sql.Tx) *txStmts {
	return &txStmts{tx: tx, stmts: map[string]*sql.Stmt{}}
}

func (t *txStmts) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	st := t.stmts[query]
	if st == nil {
		var err error
		if st, err = t.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		t.stmts[query] = st
	}
	return st, nil
}

func (t *txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row query; a failed prepare comes back from
// Scan, as with sql.Tx's.
func (t *txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.prepared(ctx, query)
	if err != nil {
		// A Row carries its error only from a query: make the query fail
		// the same way, unprepared.
		return t.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func quarantine(ctx context.Context, tx *sql.Tx, busID string, rec *infosync.Incoming, now string) error {
	fields, err := json.Marshal(rec.Refused.Fields)
	if err != nil {
		return err
	}
	if rec.Refused.Fields == nil {
		fields = []byte("{}")
	}
	_, err = tx.ExecContext(ctx, querySetAsideInsert, busID, rec.Refused.ID, rec.Refused.Rev,
		rec.Refused.Reason, rec.Refused.Message, string(fields), keptBody(rec.Raw), now, rec.Refused.MessageNL)
	return err
}

// MaxSetAsideBody bounds the copy of a refused record kept for review: a
// record may be megabytes of junk, and a batch may hold a thousand.
const MaxSetAsideBody = 32 << 10

// keptBody is raw as kept for review: whole when small, else its start and
// a marker that says it was cut and how long it was.
func keptBody(raw []byte) string {
	if len(raw) <= MaxSetAsideBody {
		return string(raw)
	}
	n := MaxSetAsideBody
	for n > 0 && !utf8.RuneStart(raw[n]) {
		n--
	}
	return fmt.Sprintf("%s\n[cut by the office: the first %d of %d bytes are kept]", raw[:n], n, len(raw))
}

// StatusChanges returns up to limit follow-up status changes for busID's
// visits after the bus's pull counter since, oldest first.
func (s *Store) StatusChanges(ctx context.Context, busID string, since int64, limit int) ([]infosync.StatusChange, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryStatusChanges, busID, since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []infosync.StatusChange
	for rows.Next() {
		var c infosync.StatusChange
		if err := rows.Scan(&c.FollowUpID, &c.VisitID, &c.Status, &c.Resolution, &c.StatusRev, &c.StatusAt, &c.Seq); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetFollowUpStatus records the office's work on a follow-up: a new
// status and resolution at the next status_rev, queued for its bus's next
// pull. It returns ErrNotFound for an unknown follow-up and a
// *schema.ValidationError for a bad status or resolution.
func (s *Store) SetFollowUpStatus(ctx context.Context, followUpID, status, resolution string) (schema.FollowUpStatus, error) {
	var st schema.FollowUpStatus
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		st, err = s.setStatus(ctx, tx, followUpID, status, resolution)
		return err
	})
	return st, err
}

// VisitRevs returns the rev of every visit the office holds from busID,
// by id: what a reconciliation compares with the bus.
func (s *Store) VisitRevs(ctx context.Context, busID string) (map[string]int64, error) {
	s.settle(ctx)
	rows, err := s.db.Read.QueryContext(ctx, queryVisitRevs, busID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			id  string
			rev int64
		)
		if err := rows.Scan(&id, &rev); err != nil {
			return nil, err
		}
		out[id] = rev
	}
	return out, rows.Err()
}

// FindVisitByID returns a visit as the office holds it, with the office's
// follow-up status, or ErrNotFound.
func (s *Store) FindVisitByID(ctx context.Context, id string) (*schema.Visit, error) {
	s.settle(ctx)
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var (
		v    schema.Visit
		bus  string
		body []byte
		at   string
	)
	err = tx.QueryRowContext(ctx, queryVisitByID, id).Scan(&bus, &body, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("visit %s: %w", id, err)
	}
	v.BusID, v.ReceivedAt = bus, at
	rows, err := tx.QueryContext(ctx, queryFollowUpsOf, id)
	if err != nil {
		return nil, err
	}
	status, err := schema.ScanFollowUpStatus(rows)
	if err != nil {
		return nil, err
	}
	for i := range v.FollowUps {
		v.FollowUps[i].FollowUpStatus = status[v.FollowUps[i].ID]
	}
	return &v, nil
}

// SetAsideRecord is a record the office quarantined.
type SetAsideRecord struct {
	VisitID   string
	Rev       int64
	Reason    string
	Message   string
	MessageNL string
	Fields    map[string]schema.Problem
	Body      string // as received, cut to MaxSetAsideBody
}

// SetAsideFor lists what the office quarantined from busID, oldest first.
func (s *Store) SetAsideFor(ctx context.Context, busID string) ([]SetAsideRecord, error) {
	rows, err := s.db.Read.QueryContext(ctx, querySetAsideFor, busID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SetAsideRecord
	for rows.Next() {
		var (
			r      SetAsideRecord
			fields []byte
		)
		if err := rows.Scan(&r.VisitID, &r.Rev, &r.Reason, &r.Message, &r.MessageNL, &fields, &r.Body); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(fields, &r.Fields); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
