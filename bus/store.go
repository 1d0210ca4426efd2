package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"infobus/internal/sqlite" // also registers schema.DriverName
	"infobus/schema"
)

// DatabaseFile is the name of the bus database inside its data dir.
const DatabaseFile = "bus.db"

// Domain errors. The Fiber error handler is the one place that turns them
// into status codes.
var (
	ErrNotFound = schema.ErrNotFound
	// ErrConflict: same id and rev as a stored visit, other content.
	ErrConflict = errors.New("conflicting revision")
	// ErrStale: an older rev than the one stored.
	ErrStale = errors.New("stale revision")
	// ErrClosed: the store is shutting down and takes no more writes.
	ErrClosed = errors.New("store closed")
)

// maxBatch bounds how many writes share one commit. Past a few hundred the
// commit no longer gets cheaper per row, and the first waiter waits longer.
const maxBatch = 256

// Store is the bus's SQLite database. All writes go through one goroutine
// that gathers concurrent requests into a single transaction and answers each
// only after that transaction commits: one fsync serves many requests, and a
// 2xx still means the record is on disk.
type Store struct {
	db     *schema.DB
	log    *slog.Logger
	now    func() time.Time
	epoch  string
	writes chan writeOp
	// closing guards closed: writers hold it shared while they queue, Close
	// takes it alone, so nothing is queued after the writer's final drain.
	closing sync.RWMutex
	closed  bool
	// stop asks the writer to finish what is queued and return; done closes
	// once it has.
	stop chan struct{}
	done chan struct{}
	// unpaired counts UnpairDevice calls, so that the server's token cache
	// drops what it knew at once.
	unpaired atomic.Uint64
	// full is set while writes fail because the disk is full, and cleared
	// by the next commit that succeeds; /healthz reports it.
	full atomic.Bool
	// checkpointDue: personal data was removed (contact details, or a
	// feedback comment the office erased) but no checkpoint has finished
	// since, so its old pages may still be in the WAL.
	checkpointDue atomic.Bool
	// replayed is how many visits opening a restored database cleared
	// again (ErasuresReplayed).
	replayed int
}

// DiskFull reports whether the last write failed for a full disk.
func (s *Store) DiskFull() bool { return s.full.Load() }

// LimitSize caps the database file at its present size (true), or lifts
// the cap (false): writes that need another page then fail with SQLite's
// SQLITE_FULL, exactly as on a full disk. It exists so that tests outside
// this package (the tablet app's, in a browser) can fill the disk
// honestly; the setting lives on the one writer connection and ends with
// the store.
func (s *Store) LimitSize(ctx context.Context, limit bool) error {
	pages := int64(4294967294) // SQLite's default maximum
	if limit {
		if err := s.db.Write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			return err
		}
	}
	_, err := s.db.Write.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.FormatInt(pages, 10))
	return err
}

// writeOp is one caller's part of a group commit.
type writeOp struct {
	fn     func(ctx context.Context, tx *sql.Tx) error
	result chan error
}

// OpenStore opens the bus database in dataDir, creating the dir and the
// database if needed, and starts the writer. now is the bus's clock; nil
// means time.Now. A nil log logs nothing.
func OpenStore(ctx context.Context, dataDir string, log *slog.Logger, now func() time.Time) (*Store, error) {
	db, err := schema.OpenDir(ctx, dataDir, DatabaseFile, schema.BusDatabase, schema.SecureDelete())
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
	s := &Store{
		db:     db,
		log:    log,
		now:    now,
		epoch:  epoch,
		writes: make(chan writeOp, maxBatch),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go s.writer()
	if err := s.replayPendingErasures(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close finishes the writes already queued, then closes the database.
func (s *Store) Close() error {
	s.closing.Lock()
	already := s.closed
	s.closed = true
	s.closing.Unlock()
	if already {
		return nil
	}
	close(s.stop)
	<-s.done
	return s.db.Close()
}

// write runs fn inside the next group commit and returns its error, or the
// commit's. fn must not keep tx or its results past returning; it runs in a
// savepoint, so its failure undoes only its own changes.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	op := writeOp{fn: fn, result: make(chan error, 1)}
	s.closing.RLock()
	if s.closed {
		s.closing.RUnlock()
		return ErrClosed
	}
	select {
	case s.writes <- op:
	case <-ctx.Done():
		s.closing.RUnlock()
		return ctx.Err()
	}
	s.closing.RUnlock()
	// Once queued, the write happens whatever the caller does; waiting for
	// it ignores ctx so that a caller is never told "failed" about a write
	// that then commits.
	return <-op.result
}

func (s *Store) writer() {
	defer close(s.done)
	batch := make([]writeOp, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-s.writes:
			batch = append(batch, op)
		case <-s.stop:
			// Drain what callers queued before stop, so none waits forever.
			for {
				select {
				case op := <-s.writes:
					batch = append(batch, op)
					if len(batch) == maxBatch {
						s.commit(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						s.commit(batch)
					}
					return
				}
			}
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case op := <-s.writes:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction and answers every op.
func (s *Store) commit(batch []writeOp) {
	// The batch belongs to many requests; none of their contexts may cancel
	// the others' work.
	ctx := context.Background()
	results := make([]error, len(batch))
	err := func() error {
		tx, err := s.db.Write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, op := range batch {
			results[i] = schema.InSavepoint(ctx, tx, func() error { return op.fn(ctx, tx) })
		}
		return tx.Commit()
	}()
	if err != nil {
		s.log.Error("commit failed", "ops", len(batch), "err", err)
		err = fmt.Errorf("commit: %w", err)
	}
	full := sqlite.IsFull(err)
	for _, r := range results {
		full = full || sqlite.IsFull(r)
	}
	s.full.Store(full)
	for i, op := range batch {
		if results[i] == nil {
			results[i] = err
		}
		op.result <- results[i]
	}
}

const queryNextSeq = `UPDATE changes SET seq = seq + 1 WHERE id = 1 RETURNING seq`

// nextSeq takes the next value of the change counter inside tx.
func nextSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, queryNextSeq).Scan(&seq)
	return seq, err
}

// Setting returns a stored setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	return schema.Setting(ctx, s.db.Read, key)
}

// PutSetting stores a setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return schema.PutSetting(ctx, tx, key, value)
	})
}

// RecordedPublicURL returns the public URL the previous start recorded, or ""
// if none was.
func (s *Store) RecordedPublicURL(ctx context.Context) (string, error) {
	u, err := s.Setting(ctx, settingPublicURL)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return u, err
}

// IntegrityCheck runs SQLite's own consistency check and returns its
// complaints, if any.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.Read.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check: %v", problems)
	}
	return nil
}
