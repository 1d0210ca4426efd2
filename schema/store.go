package schema

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Store helpers that the bus and the office share. They take the pool or
// transaction they work on, so each store keeps its own way of writing
// (the bus's group commit, the office's plain transactions).

// ErrNotFound means the row asked for is not there. The bus and the
// office answer it as 404; their ErrNotFound is this one.
var ErrNotFound = errors.New("not found")

// OpenDir opens (see Open) the database file name inside dir, making dir,
// readable by its owner only, when it is missing. The database file is
// made, or set, readable by its owner only whatever dir's mode is; SQLite
// gives its WAL and shared-memory files the database file's mode.
func OpenDir(ctx context.Context, dir, name string, db Database, opts ...Option) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	file := filepath.Join(dir, name)
	for _, f := range []string{file, file + "-wal", file + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	f.Close()
	return Open(ctx, file, db, opts...)
}

// Execer is what PutSetting needs: a *sql.DB or a *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Querier is what the lookups need: a *sql.DB or a *sql.Tx.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const (
	querySettingGet = `SELECT value FROM settings WHERE key = ?`
	querySettingPut = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

// Setting returns the stored value of key from the settings table both
// databases have, or ErrNotFound when it is not set.
func Setting(ctx context.Context, db Querier, key string) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, querySettingGet, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

// PutSetting stores value under key, replacing what was there.
func PutSetting(ctx context.Context, db Execer, key, value string) error {
	_, err := db.ExecContext(ctx, querySettingPut, key, value)
	return err
}

// InSavepoint runs fn inside a savepoint of tx, so that its failure, or a
// panic, undoes only its own changes and leaves the rest of tx to commit.
// A panic in fn comes back as an error: one bad write must not take down
// the writer that serves everyone else.
func InSavepoint(ctx context.Context, tx *sql.Tx, fn func() error) (err error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO op"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
		if _, relErr := tx.ExecContext(ctx, "RELEASE op"); relErr != nil && err == nil {
			err = relErr
		}
	}()
	return fn()
}

// TimestampLayout is RFC 3339 in UTC with all nine fractional digits,
// zeros included: every value has the same width, so text order is time
// order. (time.RFC3339Nano trims trailing zeros, and "…:05Z" sorts after
// "…:05.5Z".)
const TimestampLayout = "2006-01-02T15:04:05.000000000Z"

// Timestamp is how both databases store a moment of a server's clock, and
// how such moments go on the wire. SQL may order and compare these as
// text; a bound compared with them must be a Timestamp too. Times a
// device reported (visited_at, created_at) keep their own offset and
// width and do not sort as text.
func Timestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// HashToken is what a database keeps of a bearer token. The tokens are 256
// random bits, so one plain SHA-256 is enough: there is nothing to guess.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IDByToken runs query, which selects one id by token_hash, for the hash
// of token. It returns ErrNotFound when no row has it.
func IDByToken(ctx context.Context, db Querier, query, token string) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, query, HashToken(token)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}

// ScanFollowUpStatus reads rows of (followup id, status, resolution,
// status_rev, status_at) into a map by follow-up id, and closes rows.
func ScanFollowUpStatus(rows *sql.Rows) (map[string]FollowUpStatus, error) {
	defer rows.Close()
	out := map[string]FollowUpStatus{}
	for rows.Next() {
		var (
			id string
			st FollowUpStatus
		)
		if err := rows.Scan(&id, &st.Status, &st.Resolution, &st.StatusRev, &st.StatusAt); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}

// ExecChanged runs a statement and reports whether it changed a row: how
// an upsert whose WHERE can turn it into a no-op tells the two apart
// without a second query.
func ExecChanged(ctx context.Context, db Execer, query string, args ...any) (bool, error) {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
