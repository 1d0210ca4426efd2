package bus

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"time"

	"infobus/internal/backup"
	"infobus/schema"
)

// erasureLog gathers the contact-detail removals of one write for the data
// dir's erasure log (backup.ErasureLogFile). A nil *erasureLog notes
// nothing: a replay must not log what it applies again.
type erasureLog struct {
	dir string
	at  time.Time
	es  []backup.Erasure
}

func (s *Store) newErasureLog() *erasureLog {
	return &erasureLog{dir: filepath.Dir(s.db.Path), at: s.now()}
}

func (l *erasureLog) add(id, why string, rev int64) {
	if l == nil {
		return
	}
	l.es = append(l.es, backup.Erasure{At: schema.Timestamp(l.at), VisitID: id, Reason: why, Rev: rev})
}

// write appends what the write removed to the log, inside the write and
// before its commit: a commit that then fails leaves a line that a replay
// applies to a visit that still holds its details, which the hourly job
// would have removed anyway.
func (l *erasureLog) write() error {
	if l == nil {
		return nil
	}
	return backup.AppendErasures(l.dir, l.es)
}

const queryVisitRevOf = `SELECT rev FROM visits WHERE id = ?`

// ErasuresReplayed is how many visits opening a database just restored
// from a backup lost their contact details again.
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
		s.log.Info("contact details removed after the backup removed again", "visits", n)
	}
	return nil
}

// ReplayErasures removes again the contact details the data dir's erasure
// log says the bus removed: those the office erased, always (the office
// keeps them out for good), and those the bus removed a week after the
// office acknowledged them, when the visit is at that rev or an older
// one. A newer rev holds details the crew typed in after the removal,
// which the bus never removed. Each change takes a new seq, so that
// tablets drop their copy of the details too. It returns how many visits
// it changed; a second run changes nothing.
func (s *Store) ReplayErasures(ctx context.Context) (int, error) {
	es, err := backup.ErasuresSince(filepath.Dir(s.db.Path), time.Time{})
	if err != nil || len(es) == 0 {
		return 0, err
	}
	n := 0
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		for _, e := range es {
			switch e.Reason {
			case contactErased:
			case contactForgotten:
				var rev int64
				err := tx.QueryRowContext(ctx, queryVisitRevOf, e.VisitID).Scan(&rev)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
				if rev > e.Rev {
					continue
				}
			default:
				continue // a line from a newer binary: not understood, not applied
			}
			changed, err := removeContact(ctx, tx, e.VisitID, e.Reason, nil)
			if err != nil {
				return err
			}
			n += changed
		}
		return nil
	})
	return n, err
}
