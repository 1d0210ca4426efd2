package office

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"infobus/schema"
	infosync "infobus/sync"
)

// A push in two steps (migration 0014). Writing a visit and its follow-ups
// into their indexed tables costs several times what deciding about them
// does, and a bus with a backlog waits for every push. So a push decides
// each refusal by key lookups against the stored records and the inbox,
// queues what it takes in the inbox as it will be stored, and answers.
// The inbox is applied to visits, follow-ups and codes in the background
// once pushes pause (insightfold.go), and before anything reads them:
// every page (Server.handleInbox), the folder, the store's readers that
// run outside a page (settle), and every write, inside its own
// transaction (inTx). Applying never refuses what the push took: nothing
// else claims a visit id, follow-up id or code; a record it cannot store
// after all, or read again, is set aside for review. Should applying
// fail, reads show what was applied and writes fail.

const (
	// What a batch's lookups need, read once per batch: the revs the
	// office holds of its visits, waiting or stored (a rev is queued only
	// when it is newer than both), the owners of its follow-up ids and
	// codes, and which of its visits the office erased.
	queryInboxRevs = `
SELECT visit_id, bus_id, rev, crew_hash FROM push_inbox WHERE visit_id IN (SELECT value FROM json_each(?1))
UNION ALL SELECT id, bus_id, rev, crew_hash FROM visits WHERE id IN (SELECT value FROM json_each(?1))`
	queryInboxFollowUpOwners = `
SELECT id, visit_id FROM inbox_followups WHERE id IN (SELECT value FROM json_each(?1))
UNION ALL SELECT id, visit_id FROM followups WHERE id IN (SELECT value FROM json_each(?1))`
	queryInboxCodeOwners = `
SELECT code, followup_id, bus_id FROM inbox_codes WHERE code IN (SELECT value FROM json_each(?1))
UNION ALL SELECT code, followup_id, bus_id FROM codes WHERE code IN (SELECT value FROM json_each(?1))`
	queryErasedAmong = `SELECT visit_id FROM erased_visits WHERE visit_id IN (SELECT value FROM json_each(?1))`
	queryInboxPut    = `
INSERT INTO push_inbox (bus_id, visit_id, rev, crew_hash, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`
	queryInboxFollowUpPut = `INSERT INTO inbox_followups (id, visit_id) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING`
	queryInboxCodePut     = `INSERT INTO inbox_codes (code, followup_id, bus_id) VALUES (?1, ?2, ?3) ON CONFLICT (code) DO NOTHING`
	queryInboxNext        = `SELECT seq, bus_id, visit_id, rev, body, crew_hash, received_at FROM push_inbox WHERE seq <= ?1 ORDER BY seq LIMIT ?2`
	queryInboxLast        = `SELECT coalesce(max(seq), 0) FROM push_inbox`
	queryInboxDone        = `DELETE FROM push_inbox WHERE seq <= ?`
	// Claims are dropped with the records that made them: the applied
	// tables answer for them now, with the same owner.
	queryInboxFollowUpsDone = `DELETE FROM inbox_followups WHERE id IN (SELECT value FROM json_each(?1))`
	queryInboxCodesDone     = `DELETE FROM inbox_codes WHERE code IN (SELECT value FROM json_each(?1))`
	// An empty inbox claims nothing, whatever its records were (one that
	// could not be read again among them).
	queryInboxClaimsClear = `
DELETE FROM inbox_followups WHERE NOT EXISTS (SELECT 1 FROM push_inbox);
DELETE FROM inbox_codes WHERE NOT EXISTS (SELECT 1 FROM push_inbox)`
)

// inboxBatch bounds one applying transaction, so that a push waits at most
// for one of them.
const inboxBatch = 1000

type inbox struct {
	mu sync.Mutex // one apply at a time; a reader waits for the running one
	// queuedN counts the pushes that queued records, and the start;
	// appliedN is where queuedN stood when the last whole apply began.
	// Records may wait while they differ, a running apply among them.
	queuedN, appliedN atomic.Int64
}

// queued notes, after its commit, a push that queued records.
func (b *inbox) queued() { b.queuedN.Add(1) }

// waiting says whether records may wait to be applied.
func (b *inbox) waiting() bool { return b.queuedN.Load() != b.appliedN.Load() }

// heldRev is the newest rev the office holds of a visit.
type heldRev struct {
	busID string
	rev   int64
	hash  []byte
}

// heldCode is the follow-up and bus a code is bound to.
type heldCode struct{ followUpID, busID string }

// admission is what deciding about a batch needs to know, read in a few
// queries rather than a few per record, and kept up to date as records
// are queued: a batch may hold two revs of a visit.
type admission struct {
	revs      map[string]heldRev
	followUps map[string]string // follow-up id → visit id
	codes     map[string]heldCode
	erased    map[string]bool
}

// readAdmission reads what the office holds of the visits, follow-up ids
// and codes of recs.
func readAdmission(ctx context.Context, stmts *txStmts, recs []infosync.Incoming) (*admission, error) {
	a := &admission{revs: map[string]heldRev{}, followUps: map[string]string{}, codes: map[string]heldCode{}, erased: map[string]bool{}}
	var visits, contacts, followUps, codes []string
	for i := range recs {
		v := recs[i].Visit
		if recs[i].Refused != nil {
			continue
		}
		visits = append(visits, v.ID)
		if v.Contact != nil {
			contacts = append(contacts, v.ID)
		}
		for _, f := range v.FollowUps {
			followUps = append(followUps, f.ID)
			if f.Code != "" {
				codes = append(codes, f.Code)
			}
		}
	}
	read := func(query string, keys []string, scan func(rows *sql.Rows) error) error {
		if len(keys) == 0 {
			return nil
		}
		list, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		return eachRow(ctx, stmts, query, []any{string(list)}, scan)
	}
	err := read(queryInboxRevs, visits, func(rows *sql.Rows) error {
		var (
			id string
			h  heldRev
		)
		if err := rows.Scan(&id, &h.busID, &h.rev, &h.hash); err != nil {
			return err
		}
		if old, ok := a.revs[id]; !ok || h.rev > old.rev {
			a.revs[id] = h
		}
		return nil
	})
	if err == nil {
		err = read(queryInboxFollowUpOwners, followUps, func(rows *sql.Rows) error {
			var id, visit string
			err := rows.Scan(&id, &visit)
			a.followUps[id] = visit
			return err
		})
	}
	if err == nil {
		err = read(queryInboxCodeOwners, codes, func(rows *sql.Rows) error {
			var code string
			var h heldCode
			err := rows.Scan(&code, &h.followUpID, &h.busID)
			a.codes[code] = h
			return err
		})
	}
	if err == nil {
		err = read(queryErasedAmong, contacts, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			a.erased[id] = true
			return err
		})
	}
	return a, err
}

// admit decides about one checked visit as applying it would, and queues
// it in the inbox when it changes anything. It returns whether it queued;
// a record the office cannot take comes back as *errRefused, and nothing
// of it is written.
func (a *admission) admit(ctx context.Context, stmts *txStmts, busID string, rec *infosync.Incoming, now string) (bool, error) {
	if err := settleContactKnown(ctx, stmts, rec, a.erased); err != nil {
		return false, err
	}
	if err := checkCodes(ctx, stmts, busID, rec); err != nil {
		return false, err
	}
	v := rec.Visit
	if held, ok := a.revs[v.ID]; ok && (held.busID != busID || v.Rev <= held.rev) {
		return false, refuseStored(rec, busID, held.busID, held.rev, held.hash)
	}
	for i, f := range v.FollowUps {
		if owner, ok := a.followUps[f.ID]; ok && owner != v.ID {
			return false, refuseFollowUpID(rec, i, false)
		}
	}
	codes := map[string]string{}
	for i, f := range v.FollowUps {
		if f.Code == "" {
			continue
		}
		held, ok := a.codes[f.Code]
		if ok && (held.followUpID != f.ID || held.busID != busID) {
			return false, refuseCodeTaken(rec, i, false)
		}
		if other, ok := codes[f.Code]; ok && other != f.ID {
			return false, refuseCodeTaken(rec, i, false)
		}
		codes[f.Code] = f.ID
	}
	if _, err := stmts.ExecContext(ctx, queryInboxPut, busID, v.ID, v.Rev, rec.Hash[:], string(rec.Body), now); err != nil {
		return false, err
	}
	a.revs[v.ID] = heldRev{busID: busID, rev: v.Rev, hash: rec.Hash[:]}
	for _, f := range v.FollowUps {
		if _, err := stmts.ExecContext(ctx, queryInboxFollowUpPut, f.ID, v.ID); err != nil {
			return false, err
		}
		a.followUps[f.ID] = v.ID
		if f.Code != "" {
			if _, err := stmts.ExecContext(ctx, queryInboxCodePut, f.Code, f.ID, busID); err != nil {
				return false, err
			}
			a.codes[f.Code] = heldCode{followUpID: f.ID, busID: busID}
		}
	}
	return true, nil
}

// ApplyInbox applies what pushes left in the inbox when it was called,
// oldest first, in transactions of inboxBatch records; what pushes queue
// meanwhile waits for the next call, so that a reader does not chase a
// bus that is still sending. It costs nothing when no push came since the
// last apply; a caller that finds another apply running waits for it.
func (s *Store) ApplyInbox(ctx context.Context) error {
	_, err := s.applyYielding(ctx, nil)
	return err
}

// applyYielding is ApplyInbox that stops between two transactions when
// yield says so, for the background: a bus sending a backlog goes first.
// It says whether it applied all it was asked to.
func (s *Store) applyYielding(ctx context.Context, yield func() bool) (done bool, err error) {
	if !s.inbox.waiting() {
		return true, nil
	}
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	// Every push counted in n committed before upto is read, so its
	// records are among those applied; one that commits later counts on.
	n := s.inbox.queuedN.Load()
	if n == s.inbox.appliedN.Load() {
		return true, nil // the apply this one waited for did it
	}
	var upto int64
	if err := s.db.Write.QueryRowContext(ctx, queryInboxLast).Scan(&upto); err != nil {
		return false, err
	}
	for {
		more := false
		err := s.inRawTx(ctx, func(tx *sql.Tx) (err error) {
			more, err = s.applyInbox(ctx, tx, upto, inboxBatch)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("apply the pushed records: %w", err)
		}
		if !more {
			s.inbox.appliedN.Store(n)
			return true, nil
		}
		if yield != nil && yield() {
			return false, nil
		}
	}
}

// settle applies the inbox before a read. A failure (a full disk) is
// logged, not returned: the reader shows what was applied rather than
// nothing, while every write fails with it, as it applies the inbox
// first in its own transaction (inTx).
func (s *Store) settle(ctx context.Context) {
	if err := s.ApplyInbox(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("apply the pushed records before a read; it reads what was applied", "err", err)
	}
}

// applyInboxAll applies the whole inbox inside tx: for a write that must
// see every record a bus was told the office has, erasures above all.
func (s *Store) applyInboxAll(ctx context.Context, tx *sql.Tx) error {
	for {
		more, err := s.applyInbox(ctx, tx, math.MaxInt64, inboxBatch)
		if err != nil {
			return fmt.Errorf("apply the pushed records: %w", err)
		}
		if !more {
			return nil
		}
	}
}

// inboxPush is the queued records of one push.
type inboxPush struct {
	busID string
	at    string
	recs  []infosync.Incoming
}

// applyInbox applies up to limit queued records up to seq upto in tx and
// says whether more of those wait.
func (s *Store) applyInbox(ctx context.Context, tx *sql.Tx, upto int64, limit int) (more bool, err error) {
	pushes, last, more, err := readInbox(ctx, tx, upto, limit)
	if err != nil || last == 0 {
		return false, err
	}
	var followUps, codes []string
	for _, p := range pushes {
		refused, err := putRecords(ctx, tx, p.busID, p.recs, p.at)
		if err != nil {
			return false, err
		}
		for i := range p.recs {
			rec := &p.recs[i]
			if sa, ok := refused[i]; ok {
				// Not expected: the push decided as this would.
				rec.Refused = sa
			}
			if rec.Refused != nil {
				// Kept for review rather than lost, or left to stop every
				// record after it.
				s.log.Warn("a pushed record was set aside when applied", "bus", p.busID, "visit", rec.Refused.ID, "rev", rec.Refused.Rev,
					"reason", rec.Refused.Reason, "why", rec.Refused.Message)
				if err := quarantine(ctx, tx, p.busID, rec, p.at); err != nil {
					return false, err
				}
			}
			if rec.Visit == nil {
				continue
			}
			for _, f := range rec.Visit.FollowUps {
				followUps = append(followUps, f.ID)
				if f.Code != "" {
					codes = append(codes, f.Code)
				}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, queryInboxDone, last); err != nil {
		return false, err
	}
	for _, drop := range []struct {
		query string
		keys  []string
	}{{queryInboxFollowUpsDone, followUps}, {queryInboxCodesDone, codes}} {
		if len(drop.keys) == 0 {
			continue
		}
		keys, err := json.Marshal(drop.keys)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, drop.query, string(keys)); err != nil {
			return false, err
		}
	}
	if !more {
		if _, err := tx.ExecContext(ctx, queryInboxClaimsClear); err != nil {
			return false, err
		}
	}
	return more, nil
}

// readInbox reads up to limit queued records up to seq upto, oldest
// first, grouped by push, and returns the seq of the last one (0: none).
func readInbox(ctx context.Context, tx *sql.Tx, upto int64, limit int) (pushes []*inboxPush, last int64, more bool, err error) {
	rows, err := tx.QueryContext(ctx, queryInboxNext, upto, limit+1)
	if err != nil {
		return nil, 0, false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n++; n > limit {
			more = true
			break
		}
		var (
			busID, visitID, body, at string
			rev                      int64
			hash                     []byte
		)
		if err := rows.Scan(&last, &busID, &visitID, &rev, &body, &hash, &at); err != nil {
			return nil, 0, false, err
		}
		rec := infosync.Incoming{Raw: json.RawMessage(body), Body: []byte(body)}
		copy(rec.Hash[:], hash)
		var v schema.Visit
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			// The office wrote it; only a damaged file reads otherwise.
			rec.Refused = &infosync.SetAside{ID: visitID, Rev: rev, Reason: infosync.ReasonMalformed,
				Message:   "the office could not read this record again after taking it: " + err.Error(),
				MessageNL: "het kantoor kon dit bezoek na ontvangst niet meer lezen; sla het opnieuw op"}
		} else {
			v.BusID = busID
			rec.Visit = &v
		}
		if len(pushes) == 0 || pushes[len(pushes)-1].busID != busID || pushes[len(pushes)-1].at != at {
			pushes = append(pushes, &inboxPush{busID: busID, at: at})
		}
		p := pushes[len(pushes)-1]
		rec.Index = len(p.recs)
		p.recs = append(p.recs, rec)
	}
	return pushes, last, more, rows.Err()
}
