package office

// Privacy at the office: contact details erased after the retention period
// and on request (infobus office forget), and kept erased against later
// pushes. Who a request is about, and the export for an access request,
// are in person.go.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"infobus/schema"
	infosync "infobus/sync"
)

// DefaultRetention is how long the office keeps a visit's contact details
// after its last follow-up closed.
const DefaultRetention = 180 * 24 * time.Hour

// Why erased_visits holds a visit.
const (
	erasedOnRequest    = "request"
	erasedForRetention = "retention"
)

const (
	querySetAsideBody   = `UPDATE set_aside SET body = ?2 WHERE rowid = ?1`
	querySetAsideDelete = `DELETE FROM set_aside WHERE rowid = ?1`
	queryVisitBodyOf    = `SELECT bus_id, body FROM visits WHERE id = ?`
	queryVisitBodySet   = `UPDATE visits SET body = ?2 WHERE id = ?1`
	queryErasedOf       = `SELECT 1 FROM erased_visits WHERE visit_id = ?`
	queryErasedInsert   = `INSERT INTO erased_visits (visit_id, bus_id, reason, erased_at, pull_seq) VALUES (?1, ?2, ?3, ?4, ?5)`
	queryErasures       = `
SELECT visit_id, pull_seq FROM erased_visits WHERE bus_id = ?1 AND pull_seq > ?2 ORDER BY pull_seq LIMIT ?3`
	// The comment goes, the rating stays for insight. The bus's next pull
	// counter makes the bus pull the feedback again and drop its copy of
	// the comment too.
	queryFeedbackEraseComment = `UPDATE feedback SET comment = '', pull_seq = ?2 WHERE code = ?1`
	// Visits with contact details whose follow-ups are all closed, the last
	// before the cutoff; a visit without follow-ups counts from when the
	// office last received it.
	queryRetentionDue = `
SELECT v.id FROM visits v
WHERE json_extract(v.body, '$.contact') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.visit_id = v.id AND f.status NOT IN ('done', 'cancelled'))
  AND coalesce((SELECT max(julianday(f.status_at)) FROM followups f WHERE f.visit_id = v.id), julianday(v.received_at)) <= julianday(?1)`
)

// The newest contact details the office holds of a visit: those of a rev
// waiting in the inbox (inbox.go) before those of the stored one.
const queryStoredContact = `
SELECT contact FROM (
    SELECT json_extract(body, '$.contact') AS contact, rev FROM push_inbox WHERE visit_id = ?1 AND bus_id = ?2
    UNION ALL SELECT json_extract(body, '$.contact'), rev FROM visits WHERE id = ?1 AND bus_id = ?2)
ORDER BY rev DESC LIMIT 1`

// settleContact applies the office's privacy rules to a pushed visit before
// it is stored: the contact details of a visit the office erased never
// come back, however old the copy; a visit the bus sent without them
// because it removed its copy (KeepContact) keeps the office's. Either way
// the record's body and hash are made again from the visit.
func settleContact(ctx context.Context, tx *txStmts, rec *infosync.Incoming) error {
	return settleContactKnown(ctx, tx, rec, nil)
}

// settleContactKnown is settleContact with the erased visits among a
// batch read beforehand; nil asks the database.
func settleContactKnown(ctx context.Context, tx *txStmts, rec *infosync.Incoming, erased map[string]bool) error {
	v := rec.Visit
	switch {
	case v.Contact != nil:
		if erased == nil {
			var one int
			err := tx.QueryRowContext(ctx, queryErasedOf, v.ID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
		} else if !erased[v.ID] {
			return nil
		}
		v.Contact = nil
	case rec.KeepContact:
		var stored sql.NullString
		err := tx.QueryRowContext(ctx, queryStoredContact, v.ID, v.BusID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) || !stored.Valid {
			return nil
		}
		if err != nil {
			return err
		}
		var c schema.Contact
		if err := json.Unmarshal([]byte(stored.String), &c); err != nil {
			return fmt.Errorf("visit %s: stored contact: %w", v.ID, err)
		}
		v.Contact = &c
	default:
		return nil
	}
	crew := v.CrewOwned()
	body, err := json.Marshal(&crew)
	if err != nil {
		return err
	}
	rec.Body, rec.Hash = body, sha256.Sum256(body)
	return nil
}

// ForgetReport says what ForgetPerson found and erased.
type ForgetReport struct {
	Visits   []string `json:"visits"`    // ids of the visits about the person
	Erased   int      `json:"erased"`    // visits whose contact details were erased now
	SetAside int      `json:"set_aside"` // set-aside records cleaned
	Feedback int      `json:"feedback"`  // feedback comments erased
	Answers  int      `json:"answers"`   // answers to staff questions and satisfaction comments erased
	Mails    int      `json:"mails"`     // e-mails to the person not yet sent, dropped
	DryRun   bool     `json:"dry_run"`
}

// ForgetPerson erases the contact details of every visit about p, in the
// visits and in set-aside records, and the comments of feedback about p
// (given on their follow-ups' codes, or mentioning their e-mail address or
// phone number), and queues each erasure for its bus, which erases its
// copy at its next pull. Later pushes of those visits land without contact
// details. With dryRun it only reports. The audit log records who did it,
// with a hash of the selector, not its value. Returns a
// *schema.ValidationError for a bad selector.
func (s *Store) ForgetPerson(ctx context.Context, p Person, dryRun bool, actor string) (ForgetReport, error) {
	rep := ForgetReport{DryRun: dryRun, Visits: []string{}}
	if err := p.Normalize(); err != nil {
		return rep, err
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ids, buses, err := personVisits(ctx, tx, p)
		if err != nil {
			return err
		}
		if ids != nil {
			rep.Visits = ids
		}
		feedback, err := personFeedback(ctx, tx, p, ids)
		if err != nil {
			return err
		}
		for _, f := range feedback {
			if f.Comment != "" {
				rep.Feedback++
			}
		}
		if rep.SetAside, err = cleanSetAside(ctx, tx, p, dryRun); err != nil {
			return err
		}
		if rep.Answers, rep.Mails, err = eraseLoop(ctx, tx, p, ids, dryRun); err != nil {
			return err
		}
		if dryRun {
			return nil
		}
		for _, id := range ids {
			changed, err := eraseVisit(ctx, tx, id, erasedOnRequest, now)
			if err != nil {
				return err
			}
			if changed {
				rep.Erased++
			}
		}
		if err := eraseComments(ctx, tx, feedback); err != nil {
			return err
		}
		if err := s.logErasures(ids, buses, feedback, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, ActionForget, p.kind(),
			fmt.Sprintf("visits=%d erased=%d set_aside=%d feedback=%d answers=%d mails=%d ids=%s", len(ids), rep.Erased, rep.SetAside, rep.Feedback, rep.Answers, rep.Mails, strings.Join(ids, ",")))
	})
	return rep, err
}

// eraseComments empties the comment of each feedback that has one, and
// gives it its bus's next pull counter so that the bus erases its copy.
func eraseComments(ctx context.Context, tx *sql.Tx, feedback []ExportFeedback) error {
	for _, f := range feedback {
		if f.Comment == "" {
			continue
		}
		var pullSeq int64
		if err := tx.QueryRowContext(ctx, queryBusNextPullSeq, f.BusID).Scan(&pullSeq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryFeedbackEraseComment, f.Code, pullSeq); err != nil {
			return err
		}
	}
	return nil
}

// cleanSetAside takes p's contact details out of set-aside bodies: a
// readable visit loses its contact, an unreadable body that mentions p is
// dropped whole. It returns how many records it changed (or would).
func cleanSetAside(ctx context.Context, tx *sql.Tx, p Person, dryRun bool) (int, error) {
	rows, err := tx.QueryContext(ctx, querySetAsideAll)
	if err != nil {
		return 0, err
	}
	var changes []setAsideChange
	for rows.Next() {
		var (
			rowid           int64
			bus, id, reason string
			rev             int64
			body            []byte
		)
		if err := rows.Scan(&rowid, &bus, &id, &rev, &reason, &body); err != nil {
			rows.Close()
			return 0, err
		}
		var v schema.Visit
		if json.Unmarshal(body, &v) == nil {
			v.Normalize()
			if p.matches(&v) && v.Contact != nil {
				c, changed, err := withoutContact(rowid, body)
				if err != nil {
					rows.Close()
					return 0, err
				}
				if changed {
					changes = append(changes, c)
				}
			}
			continue
		}
		if p.matchesRaw(body) {
			changes = append(changes, setAsideChange{rowid: rowid})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if dryRun {
		return len(changes), nil
	}
	return len(changes), applySetAside(ctx, tx, changes)
}

// setAsideChange is one set-aside record losing contact details: its new
// body, or nil to delete it whole.
type setAsideChange struct {
	rowid int64
	body  []byte
}

// withoutContact is the change that takes the contact details out of a
// set-aside body, and whether there were any to take. A body that is no
// JSON object goes whole: nothing in it can be told apart.
func withoutContact(rowid int64, body []byte) (setAsideChange, bool, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return setAsideChange{rowid: rowid}, true, nil
	}
	if c, ok := m["contact"]; !ok || string(c) == "null" {
		return setAsideChange{}, false, nil
	}
	delete(m, "contact")
	out, err := json.Marshal(m)
	return setAsideChange{rowid: rowid, body: out}, err == nil, err
}

// applySetAside writes changes inside tx.
func applySetAside(ctx context.Context, tx *sql.Tx, changes []setAsideChange) error {
	for _, c := range changes {
		var err error
		if c.body == nil {
			_, err = tx.ExecContext(ctx, querySetAsideDelete, c.rowid)
		} else {
			_, err = tx.ExecContext(ctx, querySetAsideBody, c.rowid, string(c.body))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// eraseVisit removes visit id's contact details inside tx and, the first
// time, queues the erasure for its bus. It reports whether the body
// changed. The crew hash stays: a replay of a rev the office had is still
// recognised as one, and changes nothing.
func eraseVisit(ctx context.Context, tx *sql.Tx, id, reason string, now time.Time) (bool, error) {
	var (
		bus  string
		body []byte
	)
	if err := tx.QueryRowContext(ctx, queryVisitBodyOf, id).Scan(&bus, &body); err != nil {
		return false, err
	}
	var v schema.Visit
	if err := json.Unmarshal(body, &v); err != nil {
		return false, fmt.Errorf("visit %s: %w", id, err)
	}
	changed := v.Contact != nil
	if changed {
		v.Contact = nil
		out, err := json.Marshal(&v)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, queryVisitBodySet, id, string(out)); err != nil {
			return false, err
		}
	}
	var one int
	err := tx.QueryRowContext(ctx, queryErasedOf, id).Scan(&one)
	if err == nil {
		return changed, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var pullSeq int64
	if err := tx.QueryRowContext(ctx, queryBusNextPullSeq, bus).Scan(&pullSeq); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, queryErasedInsert, id, bus, reason, schema.Timestamp(now), pullSeq)
	return changed, err
}

// RetentionJob runs ApplyRetention every hour, and once at start, until
// the returned stop is called; stop waits for a run in progress.
func (s *Store) RetentionJob(after time.Duration) (stop func(), err error) {
	run := func() {
		n, err := s.ApplyRetention(context.Background(), after)
		switch {
		case err != nil:
			s.log.Error("retention failed", "err", err)
		case n > 0:
			s.log.Info("contact details erased after the retention period", "visits", n, "after", after)
			// secure_delete zeroed the old cells; the checkpoint takes the
			// old pages out of the WAL. No VACUUM: it would lock a large
			// office for minutes every hour.
			if err := s.db.Checkpoint(context.Background()); err != nil {
				s.log.Warn("checkpoint after retention", "err", err)
			}
		}
	}
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	if _, err := c.AddFunc("@hourly", run); err != nil {
		return nil, err
	}
	c.Start()
	go run()
	return func() { <-c.Stop().Done() }, nil
}

// ApplyRetention erases the contact details of visits whose follow-ups
// all closed at least after ago (or, without follow-ups, that the office
// last received that long ago); ratings, topics and wijk stay. It returns
// how many visits it erased; a second run erases nothing.
func (s *Store) ApplyRetention(ctx context.Context, after time.Duration) (int, error) {
	now := s.now()
	cutoff := now.Add(-after).UTC().Format("2006-01-02T15:04:05.000000000Z")
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, queryRetentionDue, cutoff)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			changed, err := eraseVisit(ctx, tx, id, erasedForRetention, now)
			if err != nil {
				return err
			}
			if changed {
				n++
			}
		}
		if n == 0 {
			return nil
		}
		return audit(ctx, tx, now, ActorCLI, ActionRetention, "", fmt.Sprintf("visits=%d after=%s", n, after))
	})
	return n, err
}

// Compact checkpoints the WAL, rebuilds the database file without free
// pages (VACUUM) and checkpoints again, so that erased bytes are in
// neither file. It locks the database while it runs.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.db.Checkpoint(ctx); err != nil {
		return err
	}
	if _, err := s.db.Write.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return s.db.Checkpoint(ctx)
}

// Erasures returns up to limit erasures queued for busID after its pull
// counter since, oldest first.
func (s *Store) Erasures(ctx context.Context, busID string, since int64, limit int) ([]infosync.Erasure, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryErasures, busID, since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []infosync.Erasure
	for rows.Next() {
		var e infosync.Erasure
		if err := rows.Scan(&e.VisitID, &e.Seq); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
