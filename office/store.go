package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3" // registers schema.DriverName

	"infobus/schema"
)

// DatabaseFile is the name of the office database inside its data dir.
const DatabaseFile = "office.db"

// Domain errors. The Fiber error handler maps them, together with the sync
// protocol's, to status codes.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique name or id is taken.
	ErrConflict = errors.New("already exists")
)

// Store is the office's SQLite database.
type Store struct {
	db  *schema.DB
	log *slog.Logger
	now func() time.Time
}

// OpenStore opens the office database in dataDir, creating the dir and the
// database if needed. now is the office's clock; nil means time.Now.
func OpenStore(ctx context.Context, dataDir string, log *slog.Logger, now func() time.Time) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := schema.Open(ctx, filepath.Join(dataDir, DatabaseFile), schema.OfficeDatabase)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := db.Write.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
		return nil, err
	}
	return &Store{db: db, log: log, now: now}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// inTx runs fn in one write transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// inSavepoint runs fn so that its failure undoes only its own changes.
func inSavepoint(ctx context.Context, tx *sql.Tx, fn func() error) (err error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT rec"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO rec"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
		if _, relErr := tx.ExecContext(ctx, "RELEASE rec"); relErr != nil && err == nil {
			err = relErr
		}
	}()
	return fn()
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

const (
	querySettingGet = `SELECT value FROM settings WHERE key = ?`
	querySettingPut = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

// Setting returns a stored setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.Read.QueryRowContext(ctx, querySettingGet, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

// PutSetting stores a setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.db.Write.ExecContext(ctx, querySettingPut, key, value)
	return err
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
