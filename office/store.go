package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"infobus/internal/sqlite" // also registers schema.DriverName
	"infobus/schema"
)

// DatabaseFile is the name of the office database inside its data dir.
const DatabaseFile = "office.db"

// Domain errors. The Fiber error handler maps them, together with the sync
// protocol's, to status codes.
var (
	ErrNotFound = schema.ErrNotFound
	// ErrConflict: a unique name or id is taken.
	ErrConflict = errors.New("already exists")
)

// Store is the office's SQLite database.
type Store struct {
	db    *schema.DB
	log   *slog.Logger
	now   func() time.Time
	epoch string
	// full is set while writes fail because the disk is full, and cleared
	// by the next write that succeeds; /healthz reports it.
	full atomic.Bool
	// mail is set when the office can send e-mail (SMTP configured):
	// status moves then queue one for the entrepreneur (mail.go).
	mail atomic.Bool
	// replayed is how many erasures opening a restored database applied
	// again (ErasuresReplayed).
	replayed int
	inbox    inbox
	fold     folder
}

// OpenStore opens the office database in dataDir, creating the dir and the
// database if needed. now is the office's clock; nil means time.Now.
func OpenStore(ctx context.Context, dataDir string, log *slog.Logger, now func() time.Time) (*Store, error) {
	// 64 MiB of cache for the writer: a push upserts into the visits and
	// follow-ups indexes, which outgrow SQLite's default 2 MiB quickly.
	db, err := schema.OpenDir(ctx, dataDir, DatabaseFile, schema.OfficeDatabase, schema.WriteCacheKiB(64<<10), schema.SecureDelete())
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	epoch, err := schema.EnsureEpoch(ctx, db.Write)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, log: log, now: now, epoch: epoch}
	if err := s.backfillInsight(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("fill the insight columns of older visits: %w", err)
	}
	// What the last run queued and did not apply: before the erasures
	// are replayed over it, and before anything reads.
	s.inbox.queued()
	if err := s.ApplyInbox(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.replayPendingErasures(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// After a migration that empties the derived tables this counts every
	// visit once (1,210,000 visits: see README's Performance section);
	// otherwise it folds what the last run left, usually nothing.
	if err := s.Fold(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("fold the figures and words of stored visits: %w", err)
	}
	s.fold.start(s)
	return s, nil
}

// Close stops the folder and closes the database.
func (s *Store) Close() error {
	s.fold.close()
	return s.db.Close()
}

// inTx runs fn in one write transaction and commits it when fn succeeds.
// What pushes queued is applied first, in the same transaction: every
// write sees every record a bus was told the office has.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.inRawTx(ctx, func(tx *sql.Tx) error {
		if s.inbox.waiting() {
			if err := s.applyInboxAll(ctx, tx); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// inRawTx is inTx without applying the inbox: for the push that fills it
// and the apply that empties it.
func (s *Store) inRawTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	err = fn(tx)
	if err == nil {
		err = tx.Commit()
	}
	s.full.Store(sqlite.IsFull(err))
	return err
}

// DiskFull reports whether the last write failed for a full disk.
func (s *Store) DiskFull() bool { return s.full.Load() }

// Setting returns a stored setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	return schema.Setting(ctx, s.db.Read, key)
}

// PutSetting stores a setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return schema.PutSetting(ctx, s.db.Write, key, value)
}
