package bus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"infobus/schema"
)

// Where a record is, as the crew see it.
const (
	StateBus     = "bus"     // on the bus, not yet acknowledged by the office
	StateOffice  = "office"  // the office has it
	StateHandled = "handled" // the office has it and closed every follow-up
)

// VisitView is a visit as the bus shows it to the crew: the record, with
// each follow-up's status as last pulled from the office, plus where it is.
type VisitView struct {
	schema.Visit
	Seq   int64  `json:"seq"`
	State string `json:"state"`
	// SetAside says why the office refused this rev, when it did.
	SetAside *SetAsideInfo `json:"set_aside,omitempty"`
	// ContactWithheld marks a visit whose contact details the bus did not
	// send (withholdContact). Sent back on a PUT, it asks the bus to keep
	// the details it holds: an absent contact is then never read as "erase".
	ContactWithheld bool `json:"contact_withheld,omitempty"`
	// ContactRemoved: the bus no longer holds this visit's contact details
	// (the office has them, or erased them). A tablet drops its copy too.
	ContactRemoved bool `json:"contact_removed,omitempty"`
}

// RevError says why a PUT was refused for its rev, and which rev the bus has.
type RevError struct {
	Err        error // ErrConflict or ErrStale
	CurrentRev int64
	// Differs lists the wire paths whose content differs from the bus's
	// copy, for a conflict: what the crew should look at.
	Differs []string
}

func (e *RevError) Error() string {
	return fmt.Sprintf("%v: the bus has rev %d", e.Err, e.CurrentRev)
}

func (e *RevError) Unwrap() error { return e.Err }

// PutResult says what PutVisit did.
type PutResult int

// Outcomes of PutVisit.
const (
	Created PutResult = iota
	Updated
	Replayed // same id, rev and content as stored: nothing written
)

const (
	// The upsert lets the UNIQUE primary key decide between insert and
	// update; the WHERE makes an equal or older rev a no-op that returns no
	// row, which PutVisit then classifies.
	queryVisitUpsert = `
INSERT INTO visits (id, rev, seq, crew_seq, created_seq, crew_hash, body, wijk, search, device_id, received_at, deleted)
VALUES (?1, ?2, ?3, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (id) DO UPDATE SET
    rev = excluded.rev, seq = excluded.seq, crew_seq = excluded.crew_seq,
    crew_hash = excluded.crew_hash, body = excluded.body, wijk = excluded.wijk,
    search = excluded.search, device_id = excluded.device_id,
    received_at = excluded.received_at, deleted = excluded.deleted, acked_at = '',
    contact_gone = CASE WHEN ?11 THEN visits.contact_gone ELSE '' END
WHERE excluded.rev > visits.rev
RETURNING created_seq`
	queryCounter         = `SELECT seq FROM changes WHERE id = 1`
	queryCounterSet      = `UPDATE changes SET seq = ?1 WHERE id = 1`
	queryVisitRevAndHash = `SELECT rev, crew_hash FROM visits WHERE id = ?`
	queryVisitBody       = `SELECT body FROM visits WHERE id = ?`
	queryVisitDevice     = `SELECT device_id FROM visits WHERE id = ?`
	queryVisitByID       = `SELECT body, seq, crew_seq, received_at, contact_gone != '' FROM visits WHERE id = ?`
	queryVisits          = `
SELECT body, seq, crew_seq, received_at, contact_gone != '' FROM visits
WHERE seq > ?1 AND (?2 = '' OR wijk = ?2) AND (?3 = '' OR search LIKE ?3 ESCAPE '\')
  AND (?5 OR deleted = 0)
ORDER BY CASE WHEN ?5 THEN seq ELSE -seq END LIMIT ?4`
	queryAckedSeq        = `SELECT acked_seq FROM sync_state WHERE id = 1`
	queryFollowUpsStatus = `SELECT followup_id, status, resolution, status_rev, status_at FROM followup_status WHERE visit_id IN (SELECT value FROM json_each(?))`
)

// PutVisit stores a visit the crew sent, creating or updating it by (id,
// rev), and returns what it did and the visit's new seq. v must be
// normalized and valid; PutVisit sets its ReceivedAt when it writes. An identical replay of the stored
// rev is answered as Replayed; the same rev with other content is a
// *RevError wrapping ErrConflict, an older rev one wrapping ErrStale.
func (s *Store) PutVisit(ctx context.Context, v *schema.Visit) (PutResult, int64, error) {
	return s.putVisit(ctx, v, false)
}

// PutVisitKeepingContact stores a visit sent without its contact details
// because the bus withheld them (VisitView.ContactWithheld): the details
// the bus holds stay as they are, as long as consent is still given. v
// must be normalized; it is validated here, with the kept details, inside
// the write, so that nothing can change them between the read and the
// write. Errors as PutVisit's, plus a *schema.ValidationError.
func (s *Store) PutVisitKeepingContact(ctx context.Context, v *schema.Visit) (PutResult, int64, error) {
	return s.putVisit(ctx, v, true)
}

func (s *Store) putVisit(ctx context.Context, v *schema.Visit, keepContact bool) (PutResult, int64, error) {
	var (
		body []byte
		hash [sha256.Size]byte
	)
	encode := func() error {
		crew := v.CrewOwned()
		var err error
		if body, err = json.Marshal(&crew); err != nil {
			return err
		}
		hash = sha256.Sum256(body)
		return nil
	}
	if !keepContact {
		if err := encode(); err != nil {
			return 0, 0, err
		}
	}
	receivedAt := schema.Timestamp(s.now())
	var (
		result PutResult
		seq    int64
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if keepContact {
			if err := keptContact(ctx, tx, v); err != nil {
				return err
			}
			if err := validateKept(ctx, tx, v); err != nil {
				return err
			}
			if err := encode(); err != nil {
				return err
			}
		} else {
			// An edit keeps the device that recorded the visit, whichever
			// tablet sends it.
			var recorder string
			switch err := tx.QueryRowContext(ctx, queryVisitDevice, v.ID).Scan(&recorder); {
			case err == nil && recorder != v.DeviceID:
				v.DeviceID = recorder
				if err := encode(); err != nil {
					return err
				}
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, queryCounter).Scan(&seq); err != nil {
			return err
		}
		seq++
		var createdSeq int64
		err := tx.QueryRowContext(ctx, queryVisitUpsert,
			v.ID, v.Rev, seq, hash[:], string(body), v.Wijk, searchText(v), v.DeviceID, receivedAt, v.Deleted,
			keepsContactGone(v)).Scan(&createdSeq)
		switch {
		case err == nil:
			result = Updated
			if createdSeq == seq {
				result = Created
			}
			if err := bindCodes(ctx, tx, v, receivedAt); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, queryCounterSet, seq)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var (
			storedRev  int64
			storedHash []byte
		)
		if err := tx.QueryRowContext(ctx, queryVisitRevAndHash, v.ID).Scan(&storedRev, &storedHash); err != nil {
			return err
		}
		switch {
		case storedRev == v.Rev && bytes.Equal(storedHash, hash[:]):
			result, seq = Replayed, 0
			return nil
		case storedRev == v.Rev:
			var stored []byte
			if err := tx.QueryRowContext(ctx, queryVisitBody, v.ID).Scan(&stored); err != nil {
				return err
			}
			return &RevError{Err: ErrConflict, CurrentRev: storedRev, Differs: differingPaths(stored, body)}
		default:
			return &RevError{Err: ErrStale, CurrentRev: storedRev}
		}
	})
	if err != nil {
		return 0, 0, err
	}
	if result != Replayed {
		v.ReceivedAt = receivedAt
	}
	return result, seq, nil
}

// keptContact gives v the contact details the bus holds for it, or none
// when the bus holds none or consent is no longer given (withdrawn consent
// erases them, as unticking it on the form does). It also keeps the device
// that made the visit: a tablet the details were withheld from must not
// make the visit its own and so read them next time.
func keptContact(ctx context.Context, tx *sql.Tx, v *schema.Visit) error {
	v.Contact = nil
	var body []byte
	err := tx.QueryRowContext(ctx, queryVisitBody, v.ID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var stored struct {
		DeviceID string          `json:"device_id"`
		Contact  *schema.Contact `json:"contact"`
	}
	if err := json.Unmarshal(body, &stored); err != nil {
		return fmt.Errorf("visit %s: %w", v.ID, err)
	}
	v.DeviceID = stored.DeviceID
	if v.Consent.Given {
		v.Contact = stored.Contact
	}
	return nil
}

// differingPaths lists the wire paths at which two crew bodies differ:
// each top-level field, and the fields of business, its address, consent
// and contact one by one, so that the form can mark the field itself.
func differingPaths(a, b []byte) []string {
	var x, y map[string]json.RawMessage
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return nil
	}
	var out []string
	var walk func(prefix string, x, y map[string]json.RawMessage)
	walk = func(prefix string, x, y map[string]json.RawMessage) {
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if bytes.Equal(x[k], y[k]) {
				continue
			}
			path := prefix + k
			var xs, ys map[string]json.RawMessage
			nested := path == "business" || path == "business.address" || path == "consent" || path == "contact"
			if nested && json.Unmarshal(x[k], &xs) == nil && json.Unmarshal(y[k], &ys) == nil && xs != nil && ys != nil {
				walk(path+".", xs, ys)
				continue
			}
			out = append(out, path)
		}
	}
	walk("", x, y)
	return out
}

// searchText is what ?q= matches against: lower case, so that the query
// needs no collation that SQLite lacks for non-ASCII letters.
func searchText(v *schema.Visit) string {
	a := v.Business.Address
	parts := []string{v.Business.Name, v.Business.KvK, a.Street, a.Number, a.Postcode, schema.FormatPostcode(a.Postcode), a.City, v.Stop, v.Crew, v.Notes}
	if v.Contact != nil {
		parts = append(parts, v.Contact.Name)
	}
	return strings.ToLower(strings.Join(parts, "\x1f"))
}

// FindVisitByID returns a visit with its follow-ups' status, or ErrNotFound.
func (s *Store) FindVisitByID(ctx context.Context, id string) (*VisitView, error) {
	views, err := s.scanVisits(ctx, queryVisitByID, id)
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, ErrNotFound
	}
	return &views[0], nil
}

// VisitFilter selects visits for the crew's list.
type VisitFilter struct {
	// Changes asks for every change after Since, deleted visits included,
	// oldest change first, so that a tablet can page through them by seq.
	// Without it the list is the current visits, newest change first.
	Changes bool
	Since   int64
	Wijk    string // CBS wijk code, or "" for all
	Query   string // free text in name, KvK, address, stop, crew, notes
	Limit   int
}

// FindVisits returns the visits that match f and whether more matched than
// f.Limit.
func (s *Store) FindVisits(ctx context.Context, f VisitFilter) ([]VisitView, bool, error) {
	like := ""
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		like = "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	}
	views, err := s.scanVisits(ctx, queryVisits, f.Since, f.Wijk, like, f.Limit+1, f.Changes)
	if err != nil {
		return nil, false, err
	}
	if len(views) > f.Limit {
		return views[:f.Limit], true, nil
	}
	return views, false, nil
}

// LatestSeq returns the change counter: every change a tablet can see has a
// seq at most this.
func (s *Store) LatestSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.Read.QueryRowContext(ctx, queryCounter).Scan(&seq)
	return seq, err
}

// scanVisits runs a visit query in one read transaction, so that the
// visits, their follow-ups' status and the sync cursor agree.
func (s *Store) scanVisits(ctx context.Context, query string, args ...any) ([]VisitView, error) {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var acked int64
	if err := tx.QueryRowContext(ctx, queryAckedSeq).Scan(&acked); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		views   []VisitView
		crewSeq []int64
	)
	for rows.Next() {
		var (
			view VisitView
			body []byte
			cs   int64
		)
		if err := rows.Scan(&body, &view.Seq, &cs, &view.ReceivedAt, &view.ContactRemoved); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(body, &view.Visit); err != nil {
			return nil, fmt.Errorf("visit at seq %d: %w", view.Seq, err)
		}
		views = append(views, view)
		crewSeq = append(crewSeq, cs)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := addFollowUpStatus(ctx, tx, views); err != nil {
		return nil, err
	}
	if err := addFeedback(ctx, tx, views); err != nil {
		return nil, err
	}
	for i := range views {
		views[i].State = visitState(&views[i].Visit, crewSeq[i] <= acked)
	}
	if err := addSetAside(ctx, tx, views); err != nil {
		return nil, err
	}
	return views, nil
}

func addFollowUpStatus(ctx context.Context, tx *sql.Tx, views []VisitView) error {
	var ids []string
	for _, v := range views {
		if len(v.FollowUps) > 0 {
			ids = append(ids, v.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, queryFollowUpsStatus, jsonList(ids))
	if err != nil {
		return err
	}
	status, err := schema.ScanFollowUpStatus(rows)
	if err != nil {
		return err
	}
	for i := range views {
		for j := range views[i].FollowUps {
			f := &views[i].FollowUps[j]
			f.FollowUpStatus = status[f.ID]
		}
	}
	return nil
}

// jsonList passes a list of ids as one parameter, for json_each: an IN list
// of placeholders would hit SQLite's limit on bound variables for a long
// list.
func jsonList(ids []string) string {
	b, _ := json.Marshal(ids) // strings always marshal
	return string(b)
}

// visitState tells the crew where a visit is. A visit is handled once the
// office has it and has closed every follow-up it asked for.
func visitState(v *schema.Visit, atOffice bool) string {
	if !atOffice {
		return StateBus
	}
	if len(v.FollowUps) == 0 {
		return StateOffice
	}
	for _, f := range v.FollowUps {
		if f.Status != schema.StatusDone && f.Status != schema.StatusCancelled {
			return StateOffice
		}
	}
	return StateHandled
}
