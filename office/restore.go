package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"infobus/internal/backup"
	"infobus/schema"
	infosync "infobus/sync"
)

// What the office knows of each bus beyond its row in buses: the epoch of
// its database, as a setting keyed by bus id (a setting rather than a
// column so that no migration was needed). The build it runs is in
// buses.software, the one place the fleet page and /metrics read.
func busEpochKey(busID string) string { return "bus_epoch:" + busID }

const (
	queryBusHeld     = `SELECT acked_seq FROM buses WHERE id = ?`
	queryBusHeldZero = `UPDATE buses SET acked_seq = 0 WHERE id = ?`
	// Written only when it changed: the usual request writes nothing.
	queryBusSoftware = `UPDATE buses SET software = ?2 WHERE id = ?1 AND software != ?2`
	queryBusBuilds   = `SELECT id, software FROM buses WHERE software != ''`
)

// Epoch returns the name of this office database.
func (s *Store) Epoch() string { return s.epoch }

// NoteBus records the epoch and build a bus sent with a sync request (the
// build in buses.software, for the fleet page and /metrics) and
// returns how far the office holds its pushes, and the office's epoch. A
// bus epoch other than the recorded one means the bus's database was
// restored or replaced: its cursor numbers other records now, so the held
// cursor starts again from 0 and the bus sends everything once.
func (s *Store) NoteBus(ctx context.Context, busID string, seen infosync.BusSeen) (int64, string, error) {
	var held int64
	// On every sync request, the pushes of a backlog among them: raw, so
	// that it does not apply what the pushes before it queued.
	err := s.inRawTx(ctx, func(tx *sql.Tx) error {
		if build := cleanSoftware(seen.Build); build != "" {
			if _, err := tx.ExecContext(ctx, queryBusSoftware, busID, build); err != nil {
				return err
			}
		}
		if seen.Epoch != "" {
			old, err := schema.Setting(ctx, tx, busEpochKey(busID))
			if err != nil && !errors.Is(err, schema.ErrNotFound) {
				return err
			}
			if old != seen.Epoch {
				if err := schema.PutSetting(ctx, tx, busEpochKey(busID), seen.Epoch); err != nil {
					return err
				}
				// The first epoch the office hears keeps the cursor: that bus
				// predates epochs, or has just enrolled.
				if old != "" {
					s.log.Info("bus database has a new epoch, probably restored from a backup: it will push everything again",
						"bus", busID, "epoch", seen.Epoch)
					if _, err := tx.ExecContext(ctx, queryBusHeldZero, busID); err != nil {
						return err
					}
				}
			}
		}
		return tx.QueryRowContext(ctx, queryBusHeld, busID).Scan(&held)
	})
	return held, s.epoch, err
}

// BusBuilds returns the build each bus last synced with, by bus id
// (buses.software).
func (s *Store) BusBuilds(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryBusBuilds)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, build string
		if err := rows.Scan(&id, &build); err != nil {
			return nil, err
		}
		out[id] = build
	}
	return out, rows.Err()
}

const (
	queryVisitExists       = `SELECT 1 FROM visits WHERE id = ?`
	queryBusExists         = `SELECT 1 FROM buses WHERE id = ?`
	querySetAsideOfOne     = `SELECT rowid, body FROM set_aside WHERE visit_id = ?`
	queryFeedbackCommentOf = `SELECT bus_id, comment FROM feedback WHERE code = ?`
)

// logErasures notes erasures made on request in the data dir's erasure
// log (visit ids and feedback codes only), outside the database, before the transaction that makes
// them commits: a restore from a backup made before them erases again
// (replayErasures). A commit that then fails leaves a line for an erasure
// that was asked for anyway. Retention needs no log: the retention job
// finds its visits again in the restored database.
func (s *Store) logErasures(ids, buses []string, comments []ExportFeedback, at time.Time) error {
	es := make([]backup.Erasure, 0, len(ids)+len(comments))
	for i := range ids {
		es = append(es, backup.Erasure{At: schema.Timestamp(at), VisitID: ids[i], BusID: buses[i], Reason: erasedOnRequest})
	}
	for _, f := range comments {
		if f.Comment != "" {
			es = append(es, backup.Erasure{At: schema.Timestamp(at), FeedbackCode: f.Code, BusID: f.BusID, Reason: erasedOnRequest})
		}
	}
	return backup.AppendErasures(filepath.Dir(s.db.Path), es)
}

// ErasuresReplayed is how many erasures the store applied again when it
// opened a database just restored from a backup.
func (s *Store) ErasuresReplayed() int { return s.replayed }

// replayPendingErasures applies the erasure log again when the data dir
// was just restored (backup.ReplayFile), before the store serves anything.
func (s *Store) replayPendingErasures(ctx context.Context) error {
	n, err := backup.ReplayIfPending(ctx, filepath.Dir(s.db.Path), s.ReplayErasures, s.db.Checkpoint)
	if err != nil {
		return err
	}
	s.replayed = n
	if n > 0 {
		s.log.Info("erasures made after the backup applied again", "visits", n)
	}
	return nil
}

// ReplayErasures erases again every erasure the data dir's log holds. An
// office erasure is for good (erased_visits keeps contact details out of
// every later push), so the whole log applies, whatever the backup's age:
// what the copy had erased already changes nothing. Visits the database
// holds lose their contact details again, also in set-aside records, and
// their erasure is queued for their bus again; visits it lacks are marked
// erased, so that when their bus sends them again they land without. It
// returns how many visits it changed or marked.
func (s *Store) ReplayErasures(ctx context.Context) (int, error) {
	es, err := backup.ErasuresSince(filepath.Dir(s.db.Path), time.Time{})
	if err != nil || len(es) == 0 {
		return 0, err
	}
	now := s.now()
	n := 0
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, e := range es {
			if e.FeedbackCode != "" {
				erased, err := eraseCommentAgain(ctx, tx, e.FeedbackCode)
				if err != nil {
					return err
				}
				if erased {
					n++
				}
				continue
			}
			var one int
			err := tx.QueryRowContext(ctx, queryVisitExists, e.VisitID).Scan(&one)
			switch {
			case err == nil:
				changed, err := eraseVisit(ctx, tx, e.VisitID, erasedOnRequest, now)
				if err != nil {
					return err
				}
				if changed {
					n++
				}
			case errors.Is(err, sql.ErrNoRows):
				marked, err := markErased(ctx, tx, e, now)
				if err != nil {
					return err
				}
				if marked {
					n++
				}
			default:
				return err
			}
			cleaned, err := cleanSetAsideOf(ctx, tx, e.VisitID)
			if err != nil {
				return err
			}
			n += cleaned
		}
		if n == 0 {
			return nil
		}
		return audit(ctx, tx, now, "infobus restore", ActionForget, "erasure log",
			fmt.Sprintf("applied again after a restore: %d", n))
	})
	return n, err
}

// eraseCommentAgain empties the feedback comment on code when the
// restored copy still holds one, and queues the change for its bus. A
// comment given after the backup is not in the copy: nothing to do.
func eraseCommentAgain(ctx context.Context, tx *sql.Tx, code string) (bool, error) {
	var f ExportFeedback
	err := tx.QueryRowContext(ctx, queryFeedbackCommentOf, code).Scan(&f.BusID, &f.Comment)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && f.Comment == "") {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f.Code = code
	return true, eraseComments(ctx, tx, []ExportFeedback{f})
}

// markErased records a visit the database does not hold as erased, once,
// and reports whether it did. A bus the database does not know (enrolled
// after the backup) is skipped: it must enroll again, and the restored
// office never had its visits.
func markErased(ctx context.Context, tx *sql.Tx, e backup.Erasure, now time.Time) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, queryErasedOf, e.VisitID).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var pullSeq int64
	err = tx.QueryRowContext(ctx, queryBusNextPullSeq, e.BusID).Scan(&pullSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, queryErasedInsert, e.VisitID, e.BusID, erasedOnRequest, schema.Timestamp(now), pullSeq)
	return err == nil, err
}

// cleanSetAsideOf takes the contact details out of the set-aside records
// of visit id: a readable body loses its contact, an unreadable one goes
// whole (the log holds no details to look for in it).
func cleanSetAsideOf(ctx context.Context, tx *sql.Tx, id string) (int, error) {
	rows, err := tx.QueryContext(ctx, querySetAsideOfOne, id)
	if err != nil {
		return 0, err
	}
	var changes []setAsideChange
	for rows.Next() {
		var (
			rowid int64
			body  []byte
		)
		if err := rows.Scan(&rowid, &body); err != nil {
			rows.Close()
			return 0, err
		}
		c, changed, err := withoutContact(rowid, body)
		if err != nil {
			rows.Close()
			return 0, err
		}
		if changed {
			changes = append(changes, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return len(changes), applySetAside(ctx, tx, changes)
}
