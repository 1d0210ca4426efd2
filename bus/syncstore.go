package bus

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"infobus/schema"
	infosync "infobus/sync"
)

// StateSetAside: the office refused this rev; the crew can fix it and save
// a new rev, which is pushed again.
const StateSetAside = "set_aside"

// ErrEnrolledElsewhere: the bus is enrolled as another bus already.
var ErrEnrolledElsewhere = errors.New("this bus is already enrolled as another bus")

// SetAsideInfo says why the office refused a visit's current rev.
type SetAsideInfo struct {
	Rev       int64                     `json:"rev"`
	Reason    string                    `json:"reason"` // one of infosync's Reason constants
	Message   string                    `json:"message"`
	MessageNL string                    `json:"message_nl"`
	Fields    map[string]schema.Problem `json:"fields,omitempty"`
	At        string                    `json:"at"`
}

const (
	queryEnrollment = `SELECT office_url, bus_id, bus_token, code_key, code_prefix FROM sync_state WHERE id = 1`
	queryEnrollSame = `UPDATE sync_state SET office_url = ?1, bus_token = ?2, code_key = ?3, code_prefix = ?4 WHERE id = 1`
	queryEnrollNew  = `
UPDATE sync_state SET office_url = ?1, bus_token = ?2, code_key = ?3, bus_id = ?4, code_prefix = ?5,
    acked_seq = 0, pull_cursor = 0, pushed_total = 0, last_attempt = '', last_success = '', last_error = ''
WHERE id = 1`
	queryClearSetAside = `DELETE FROM set_aside`
	queryBacklog       = `
SELECT (SELECT count(*) FROM visits WHERE crew_seq > s.acked_seq), s.acked_seq, (SELECT seq FROM changes WHERE id = 1)
FROM sync_state s WHERE s.id = 1`
	queryPending = `
SELECT crew_seq, id, rev, body, contact_gone != '' FROM visits
WHERE crew_seq > ?1 AND crew_seq <= ?2
ORDER BY crew_seq LIMIT ?3`
	querySetAsidePut = `
INSERT INTO set_aside (visit_id, rev, reason, message, fields, at, message_nl)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM visits WHERE id = ?1)
ON CONFLICT (visit_id) DO UPDATE SET
    rev = excluded.rev, reason = excluded.reason, message = excluded.message, fields = excluded.fields, at = excluded.at,
    message_nl = excluded.message_nl
WHERE excluded.rev >= set_aside.rev`
	// A newer rev makes an older refusal moot.
	querySetAsideCleanup = `
DELETE FROM set_aside WHERE rev < (SELECT v.rev FROM visits v WHERE v.id = set_aside.visit_id)`
	// Visits the office now has changed state for the crew: they take new
	// seqs above the counter, in crew order, so tablets polling ?since=
	// see them. Fresh values above the counter never collide with the
	// UNIQUE seqs already there.
	queryBumpAcked = `
UPDATE visits SET seq = (SELECT seq FROM changes WHERE id = 1) + r.n, acked_at = ?3
FROM (SELECT id, row_number() OVER (ORDER BY crew_seq) AS n FROM visits WHERE crew_seq > ?1 AND crew_seq <= ?2) AS r
WHERE visits.id = r.id`
	queryCounterAdd   = `UPDATE changes SET seq = seq + ?1 WHERE id = 1`
	queryAckedForSync = `SELECT acked_seq FROM sync_state WHERE id = 1`
	queryAck          = `
UPDATE sync_state SET acked_seq = ?1, pushed_total = pushed_total + ?2, last_attempt = ?3, last_error = ''
WHERE id = 1`
	queryPullCursor = `SELECT pull_cursor FROM sync_state WHERE id = 1`
	queryStatusPut  = `
INSERT INTO followup_status (followup_id, visit_id, status, resolution, status_rev, status_at)
SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM visits WHERE id = ?2)
ON CONFLICT (followup_id) DO UPDATE SET
    status = excluded.status, resolution = excluded.resolution,
    status_rev = excluded.status_rev, status_at = excluded.status_at
WHERE excluded.status_rev > followup_status.status_rev AND excluded.visit_id = followup_status.visit_id
RETURNING visit_id`
	queryVisitSeqSet  = `UPDATE visits SET seq = ?2 WHERE id = ?1`
	queryPullCursorTo = `UPDATE sync_state SET pull_cursor = max(pull_cursor, ?1) WHERE id = 1`
	querySyncSuccess  = `UPDATE sync_state SET last_attempt = ?1, last_success = ?1, last_error = '' WHERE id = 1`
	querySyncFailure  = `UPDATE sync_state SET last_attempt = ?1, last_error = ?2 WHERE id = 1`
	querySetAsideOf   = `SELECT visit_id, rev, reason, message, fields, at, message_nl FROM set_aside WHERE visit_id IN (SELECT value FROM json_each(?))`
)

// Enrollment returns the office this bus syncs with, or
// infosync.ErrNotEnrolled.
func (s *Store) Enrollment(ctx context.Context) (infosync.Enrollment, error) {
	var e infosync.Enrollment
	err := s.db.Read.QueryRowContext(ctx, queryEnrollment).Scan(&e.OfficeURL, &e.BusID, &e.BusToken, &e.CodeKey, &e.CodePrefix)
	if err != nil {
		return e, err
	}
	if e.OfficeURL == "" {
		return e, infosync.ErrNotEnrolled
	}
	return e, nil
}

// Enroll stores what the bus needs to sync with an office. Enrolling again
// as the same bus (a new token, a moved office) keeps the cursors. As
// another bus it returns ErrEnrolledElsewhere unless force is set; then
// the bus starts over with the new office, pushing everything again.
func (s *Store) Enroll(ctx context.Context, e infosync.Enrollment, force bool) error {
	if err := e.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var current infosync.Enrollment
		if err := tx.QueryRowContext(ctx, queryEnrollment).Scan(&current.OfficeURL, &current.BusID, &current.BusToken, &current.CodeKey, &current.CodePrefix); err != nil {
			return err
		}
		if current.BusID == e.BusID {
			_, err := tx.ExecContext(ctx, queryEnrollSame, e.OfficeURL, e.BusToken, e.CodeKey, e.CodePrefix)
			return err
		}
		if current.BusID != "" && !force {
			return fmt.Errorf("%w (%s at %s)", ErrEnrolledElsewhere, current.BusID, current.OfficeURL)
		}
		if _, err := tx.ExecContext(ctx, queryClearSetAside); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, queryEnrollNew, e.OfficeURL, e.BusToken, e.CodeKey, e.BusID, e.CodePrefix)
		return err
	})
}

// Backlog returns how many visits the office has not acknowledged, the
// acked cursor, and the change counter now.
func (s *Store) Backlog(ctx context.Context) (pending, acked, upto int64, err error) {
	err = s.db.Read.QueryRowContext(ctx, queryBacklog).Scan(&pending, &acked, &upto)
	return pending, acked, upto, err
}

// Pending returns the visits with a crew_seq above after and at most upto,
// in crew_seq order: at most limit, and no more than about maxBytes of
// JSON (always at least one).
func (s *Store) Pending(ctx context.Context, after, upto int64, limit, maxBytes int) ([]infosync.OutRecord, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryPending, after, upto, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out  []infosync.OutRecord
		size int
	)
	for rows.Next() {
		var r infosync.OutRecord
		var body []byte
		if err := rows.Scan(&r.CrewSeq, &r.ID, &r.Rev, &body, &r.KeepContact); err != nil {
			return nil, err
		}
		if !json.Valid(body) {
			// A damaged body must not break the whole batch's JSON: sent
			// as a string, the office sets it aside and the queue moves on.
			body, _ = json.Marshal(string(body))
		}
		if len(out) > 0 && size+len(body)+1 > maxBytes {
			break
		}
		size += len(body) + 1
		r.Body = body
		out = append(out, r)
	}
	return out, rows.Err()
}

// Acknowledge records the office's answer to a push in one transaction:
// the set-aside records with the office's reasons, the acked cursor, the
// pushed total and the attempt. The cursor never moves back, so a late
// answer to an earlier push, from this process or an `infobus sync`
// beside it, changes nothing.
func (s *Store) Acknowledge(ctx context.Context, sent []infosync.OutRecord, resp *infosync.PushResponse) error {
	now := schema.Timestamp(s.now())
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var acked int64
		if err := tx.QueryRowContext(ctx, queryAckedForSync).Scan(&acked); err != nil {
			return err
		}
		for _, sa := range resp.SetAside {
			rec := sent[sa.Index]
			fields, err := json.Marshal(sa.Fields)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, querySetAsidePut, rec.ID, rec.Rev, sa.Reason, sa.Message, string(fields), now, sa.MessageNL); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, querySetAsideCleanup); err != nil {
			return err
		}
		newAcked := max(acked, resp.AckedSeq)
		if newAcked > acked {
			res, err := tx.ExecContext(ctx, queryBumpAcked, acked, newAcked, now)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, queryCounterAdd, n); err != nil {
				return err
			}
		}
		counted := 0
		for _, r := range sent {
			if r.CrewSeq > acked {
				counted++
			}
		}
		_, err := tx.ExecContext(ctx, queryAck, newAcked, counted, now)
		return err
	})
}

// PullCursor returns where the last pull stopped.
func (s *Store) PullCursor(ctx context.Context) (int64, error) {
	var c int64
	err := s.db.Read.QueryRowContext(ctx, queryPullCursor).Scan(&c)
	return c, err
}

// ApplyPull stores pulled follow-up status, entrepreneurs' feedback and
// the next pull cursor in one transaction. A change moves its visit's seq, not its crew_seq: tablets
// see it, and nothing is pushed again. It returns how many changes were
// newer than what the bus had; invalid ones and ones for visits the bus no
// longer has are skipped.
func (s *Store) ApplyPull(ctx context.Context, resp *infosync.PullResponse) (int, error) {
	changed, erased := 0, 0
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		changed = 0
		for _, c := range resp.Statuses {
			if err := c.FollowUpStatus.Validate(); err != nil {
				s.log.Warn("sync pulled an invalid follow-up status", "followup", c.FollowUpID, "err", err)
				continue
			}
			var visitID string
			err := tx.QueryRowContext(ctx, queryStatusPut, c.FollowUpID, c.VisitID, c.Status, c.Resolution, c.StatusRev, c.StatusAt).Scan(&visitID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			seq, err := nextSeq(ctx, tx)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, queryVisitSeqSet, visitID, seq); err != nil {
				return err
			}
			changed++
		}
		for _, c := range resp.Feedback {
			fresh, err := s.applyFeedback(ctx, tx, c)
			if err != nil {
				return err
			}
			if fresh {
				changed++
			}
		}
		erased = 0
		log := s.newErasureLog()
		for _, e := range resp.Erasures {
			n, err := removeContact(ctx, tx, e.VisitID, contactErased, log)
			if err != nil {
				return err
			}
			erased += n
		}
		if err := log.write(); err != nil {
			return err
		}
		if resp.Plan != nil {
			if err := applyPlan(ctx, tx, resp.Plan); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, queryPullCursorTo, resp.Next)
		return err
	})
	if err == nil && erased > 0 {
		// Erased on request: the bytes go from the files now, not at the
		// next hourly run.
		s.log.Info("contact details erased at the office's request", "visits", erased)
		if cpErr := s.db.Checkpoint(ctx); cpErr != nil {
			// The hourly job checkpoints again; the pull itself is stored.
			s.checkpointDue.Store(true)
			s.log.Warn("checkpoint after erasure", "err", cpErr)
		}
	}
	return changed + erased, err
}

// RecordResult notes how a sync ended: success when err is nil.
func (s *Store) RecordResult(ctx context.Context, syncErr error) error {
	now := schema.Timestamp(s.now())
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if syncErr == nil {
			_, err = tx.ExecContext(ctx, querySyncSuccess, now)
		} else {
			_, err = tx.ExecContext(ctx, querySyncFailure, now, syncErr.Error())
		}
		return err
	})
}

// addSetAside marks the views whose current rev the office refused.
func addSetAside(ctx context.Context, tx *sql.Tx, views []VisitView) error {
	if len(views) == 0 {
		return nil
	}
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	rows, err := tx.QueryContext(ctx, querySetAsideOf, jsonList(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	found := map[string]*SetAsideInfo{}
	for rows.Next() {
		var (
			id     string
			info   SetAsideInfo
			fields []byte
		)
		if err := rows.Scan(&id, &info.Rev, &info.Reason, &info.Message, &fields, &info.At, &info.MessageNL); err != nil {
			return err
		}
		if err := json.Unmarshal(fields, &info.Fields); err != nil {
			return fmt.Errorf("set aside %s: %w", id, err)
		}
		found[id] = &info
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range views {
		if info, ok := found[views[i].ID]; ok && info.Rev == views[i].Rev {
			views[i].SetAside = info
			views[i].State = StateSetAside
		}
	}
	return nil
}

const querySyncStatus = `
SELECT office_url != '', last_attempt, last_success, last_error, pushed_total,
       (SELECT count(*) FROM visits WHERE crew_seq > sync_state.acked_seq),
       (SELECT count(*) FROM set_aside a JOIN visits v ON v.id = a.visit_id AND v.rev = a.rev)
FROM sync_state WHERE id = 1`

// SyncStatus reads where sync stands.
func (s *Store) SyncStatus(ctx context.Context) (SyncStatus, error) {
	var st SyncStatus
	err := s.db.Read.QueryRowContext(ctx, querySyncStatus).Scan(
		&st.Enrolled, &st.LastAttempt, &st.LastSuccess, &st.LastError, &st.PushedTotal, &st.Pending, &st.SetAside)
	st.Online = st.LastAttempt != "" && st.LastAttempt == st.LastSuccess
	return st, err
}
