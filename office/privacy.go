package office

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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

// Person selects one entrepreneur by one of their details. Exactly one
// field is set; Normalize reads them the way the visit rules store them.
type Person struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	KvK   string `json:"kvk,omitempty"`
}

// Normalize puts the selector in the form stored visits hold, and returns
// a *schema.ValidationError unless exactly one usable field is set.
func (p *Person) Normalize() error {
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	if p.Phone = strings.TrimSpace(p.Phone); p.Phone != "" {
		p.Phone = schema.NormalizePhone(p.Phone)
	}
	p.KvK = strings.Join(strings.Fields(p.KvK), "")
	set := 0
	for _, f := range []string{p.Email, p.Phone, p.KvK} {
		if f != "" {
			set++
		}
	}
	if set != 1 {
		return &schema.ValidationError{Fields: map[string]schema.Problem{"person": {
			EN: "give exactly one of --email, --phone or --kvk",
			NL: "geef precies één van --email, --phone of --kvk"}}}
	}
	return nil
}

// kind names the selector for the audit log, with a short hash of the
// value instead of the value: the log must not keep what was erased.
func (p Person) kind() string {
	k, v := "email", p.Email
	switch {
	case p.Phone != "":
		k, v = "phone", p.Phone
	case p.KvK != "":
		k, v = "kvk", p.KvK
	}
	h := sha256.Sum256([]byte(v))
	return k + " sha256:" + hex.EncodeToString(h[:6])
}

// matches says whether a visit's crew JSON is about p.
func (p Person) matches(v *schema.Visit) bool {
	switch {
	case p.KvK != "":
		return v.Business.KvK == p.KvK
	case v.Contact == nil:
		return false
	case p.Email != "":
		return strings.EqualFold(v.Contact.Email, p.Email)
	default:
		return schema.NormalizePhone(v.Contact.Phone) == p.Phone
	}
}

// matchesRaw is matches for a body that is not a readable visit: any
// mention of the value counts.
func (p Person) matchesRaw(body []byte) bool {
	for _, v := range []string{p.Email, p.Phone, p.KvK} {
		if v != "" && bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(v))) {
			return true
		}
	}
	return false
}

const (
	queryPersonVisits = `
SELECT id, bus_id, body FROM visits
WHERE (?1 != '' AND lower(json_extract(body, '$.contact.email')) = ?1)
   OR (?2 != '' AND json_extract(body, '$.contact.phone') = ?2)
   OR (?3 != '' AND json_extract(body, '$.business.kvk') = ?3)`
	querySetAsideAll    = `SELECT rowid, bus_id, visit_id, rev, reason, body FROM set_aside`
	querySetAsideBody   = `UPDATE set_aside SET body = ?2 WHERE rowid = ?1`
	querySetAsideDelete = `DELETE FROM set_aside WHERE rowid = ?1`
	queryVisitBodyOf    = `SELECT bus_id, body FROM visits WHERE id = ?`
	queryVisitBodySet   = `UPDATE visits SET body = ?2 WHERE id = ?1`
	queryErasedOf       = `SELECT 1 FROM erased_visits WHERE visit_id = ?`
	queryErasedInsert   = `INSERT INTO erased_visits (visit_id, bus_id, reason, erased_at, pull_seq) VALUES (?1, ?2, ?3, ?4, ?5)`
	queryErasures       = `
SELECT visit_id, pull_seq FROM erased_visits WHERE bus_id = ?1 AND pull_seq > ?2 ORDER BY pull_seq LIMIT ?3`
	// Visits with contact details whose follow-ups are all closed, the last
	// before the cutoff; a visit without follow-ups counts from when the
	// office last received it.
	queryRetentionDue = `
SELECT v.id FROM visits v
WHERE json_extract(v.body, '$.contact') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.visit_id = v.id AND f.status NOT IN ('done', 'cancelled'))
  AND coalesce((SELECT max(julianday(f.status_at)) FROM followups f WHERE f.visit_id = v.id), julianday(v.received_at)) <= julianday(?1)`
)

const queryStoredContact = `SELECT json_extract(body, '$.contact') FROM visits WHERE id = ? AND bus_id = ?`

// settleContact applies the office's privacy rules to a pushed visit before
// it is stored: the contact details of a visit the office erased never
// come back, however old the copy; a visit the bus sent without them
// because it removed its copy (KeepContact) keeps the office's. Either way
// the record's body and hash are made again from the visit.
func settleContact(ctx context.Context, tx *sql.Tx, rec *infosync.Incoming) error {
	v := rec.Visit
	switch {
	case v.Contact != nil:
		var one int
		err := tx.QueryRowContext(ctx, queryErasedOf, v.ID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
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
	DryRun   bool     `json:"dry_run"`
}

// ForgetPerson erases the contact details of every visit about p, in the
// visits and in set-aside records, and queues the erasure for each visit's
// bus, which erases its copy at its next pull. Later pushes of those
// visits land without contact details. With dryRun it only reports. The
// audit log records who did it, with a hash of the selector, not its
// value. Returns a *schema.ValidationError for a bad selector.
func (s *Store) ForgetPerson(ctx context.Context, p Person, dryRun bool, actor string) (ForgetReport, error) {
	rep := ForgetReport{DryRun: dryRun, Visits: []string{}}
	if err := p.Normalize(); err != nil {
		return rep, err
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, queryPersonVisits, p.Email, p.Phone, p.KvK)
		if err != nil {
			return err
		}
		var ids, buses []string
		for rows.Next() {
			var id, bus string
			var body []byte
			if err := rows.Scan(&id, &bus, &body); err != nil {
				rows.Close()
				return err
			}
			ids, buses = append(ids, id), append(buses, bus)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rep.Visits = ids
		for _, id := range ids {
			if dryRun {
				continue
			}
			changed, err := eraseVisit(ctx, tx, id, erasedOnRequest, now)
			if err != nil {
				return err
			}
			if changed {
				rep.Erased++
			}
		}
		n, err := cleanSetAside(ctx, tx, p, dryRun)
		if err != nil {
			return err
		}
		rep.SetAside = n
		if dryRun {
			return nil
		}
		if err := s.logErasures(ids, buses, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, ActionForget, p.kind(),
			fmt.Sprintf("visits=%d erased=%d set_aside=%d ids=%s", len(ids), rep.Erased, n, strings.Join(ids, ",")))
	})
	return rep, err
}

// cleanSetAside takes p's contact details out of set-aside bodies: a
// readable visit loses its contact, an unreadable body that mentions p is
// dropped whole. It returns how many records it changed (or would).
func cleanSetAside(ctx context.Context, tx *sql.Tx, p Person, dryRun bool) (int, error) {
	rows, err := tx.QueryContext(ctx, querySetAsideAll)
	if err != nil {
		return 0, err
	}
	type change struct {
		rowid int64
		body  []byte // nil: delete
	}
	var changes []change
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
				var m map[string]json.RawMessage
				if json.Unmarshal(body, &m) != nil {
					changes = append(changes, change{rowid: rowid})
					continue
				}
				delete(m, "contact")
				out, err := json.Marshal(m)
				if err != nil {
					rows.Close()
					return 0, err
				}
				changes = append(changes, change{rowid: rowid, body: out})
			}
			continue
		}
		if p.matchesRaw(body) {
			changes = append(changes, change{rowid: rowid})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if dryRun {
		return len(changes), nil
	}
	for _, c := range changes {
		var err error
		if c.body == nil {
			_, err = tx.ExecContext(ctx, querySetAsideDelete, c.rowid)
		} else {
			_, err = tx.ExecContext(ctx, querySetAsideBody, c.rowid, string(c.body))
		}
		if err != nil {
			return 0, err
		}
	}
	return len(changes), nil
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

// PersonExport is everything the office holds about one entrepreneur, for
// an access request.
type PersonExport struct {
	Person     Person           `json:"person"`
	ExportedAt string           `json:"exported_at"`
	Visits     []schema.Visit   `json:"visits"`
	SetAside   []ExportSetAside `json:"set_aside"`
}

// ExportSetAside is a set-aside record in an export.
type ExportSetAside struct {
	BusID   string          `json:"bus_id"`
	VisitID string          `json:"visit_id"`
	Rev     int64           `json:"rev"`
	Reason  string          `json:"reason"`
	Body    json.RawMessage `json:"body"`
}

// ExportPerson gathers every visit and set-aside record about p, with the
// office's follow-up status, and records the export in the audit log.
// Returns a *schema.ValidationError for a bad selector.
func (s *Store) ExportPerson(ctx context.Context, p Person, actor string) (*PersonExport, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	now := s.now()
	out := &PersonExport{Person: p, ExportedAt: schema.Timestamp(now), Visits: []schema.Visit{}, SetAside: []ExportSetAside{}}
	rows, err := s.db.Read.QueryContext(ctx, queryPersonVisits, p.Email, p.Phone, p.KvK)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id, bus string
		var body []byte
		if err := rows.Scan(&id, &bus, &body); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		v, err := s.FindVisitByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Visits = append(out.Visits, *v)
	}
	sa, err := s.db.Read.QueryContext(ctx, querySetAsideAll)
	if err != nil {
		return nil, err
	}
	for sa.Next() {
		var (
			rowid int64
			r     ExportSetAside
			body  []byte
		)
		if err := sa.Scan(&rowid, &r.BusID, &r.VisitID, &r.Rev, &r.Reason, &body); err != nil {
			sa.Close()
			return nil, err
		}
		var v schema.Visit
		if json.Unmarshal(body, &v) == nil {
			v.Normalize()
			if !p.matches(&v) {
				continue
			}
		} else if !p.matchesRaw(body) {
			continue
		}
		if json.Valid(body) {
			r.Body = body
		} else {
			r.Body, _ = json.Marshal(string(body))
		}
		out.SetAside = append(out.SetAside, r)
	}
	sa.Close()
	if err := sa.Err(); err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		return audit(ctx, tx, now, actor, ActionExport, p.kind(), fmt.Sprintf("visits=%d set_aside=%d", len(out.Visits), len(out.SetAside)))
	})
	return out, err
}

const (
	queryBusFind     = `SELECT id, name FROM buses WHERE id = ?1 OR name = ?1`
	queryBusRevoke   = `UPDATE buses SET token_hash = ?2, revoked_at = ?3 WHERE id = ?1`
	queryBusReissue  = `UPDATE buses SET token_hash = ?2, revoked_at = '' WHERE id = ?1`
	queryBusCodeKeyF = `SELECT code_key, code_prefix FROM buses WHERE id = ?`
)

// findBus resolves a bus by id or name inside tx, or returns ErrNotFound.
func findBus(ctx context.Context, tx *sql.Tx, nameOrID string) (id, name string, err error) {
	err = tx.QueryRowContext(ctx, queryBusFind, strings.TrimSpace(nameOrID)).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return id, name, err
}

// RevokeBus cuts a bus off: its token stops working at its next request
// (the office keeps no cache of tokens). What it pushed stays. It returns
// the bus's id, or ErrNotFound.
func (s *Store) RevokeBus(ctx context.Context, nameOrID, actor string) (string, error) {
	var id string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var name string
		var err error
		if id, name, err = findBus(ctx, tx, nameOrID); err != nil {
			return err
		}
		// A random hash matches no token: the row keeps its UNIQUE column
		// filled without any token that opens it.
		dead, err := randomToken()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryBusRevoke, id, schema.HashToken("revoked:"+dead), schema.Timestamp(s.now())); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionBusRevoked, id, name)
	})
	return id, err
}

// ReissueBus gives a bus a new token, revoking the old one, and returns a
// new enrollment string with the same bus id and code key: `infobus bus
// enroll` with it keeps the bus's cursors. It returns ErrNotFound for an
// unknown bus.
func (s *Store) ReissueBus(ctx context.Context, nameOrID, officeURL, actor string) (infosync.Enrollment, error) {
	var e infosync.Enrollment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, name, err := findBus(ctx, tx, nameOrID)
		if err != nil {
			return err
		}
		token, err := randomToken()
		if err != nil {
			return err
		}
		e = infosync.Enrollment{OfficeURL: officeURL, BusID: id, BusToken: token}
		// The prefix too: without it the reinstalled bus could not issue codes.
		if err := tx.QueryRowContext(ctx, queryBusCodeKeyF, id).Scan(&e.CodeKey, &e.CodePrefix); err != nil {
			return err
		}
		if err := e.Validate(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryBusReissue, id, schema.HashToken(token)); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionBusReissued, id, name)
	})
	return e, err
}
