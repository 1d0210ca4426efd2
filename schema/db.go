package schema

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// Database names a set of migrations: "bus" or "office".
type Database string

// The two databases Infobus keeps.
const (
	BusDatabase    Database = "bus"
	OfficeDatabase Database = "office"
)

// DriverName is the database/sql driver Open uses. The binary registers it
// by importing infobus/sqlite; schema itself stays free of the driver.
const DriverName = "sqlite3"

// ErrSchemaTooNew means the database was written by a newer Infobus; opening
// it with this binary could lose data, so Open refuses.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// DB is a SQLite database opened the way Infobus needs it: one writer
// connection, because SQLite allows one writer at a time and a queue in Go
// is cheaper than lock contention in SQLite, and a pool of readers, which
// WAL lets run beside the writer.
type DB struct {
	Write *sql.DB
	Read  *sql.DB
	Path  string
}

// Option changes how Open sets up the connections.
type Option func(*options)

type options struct {
	writeCacheKiB int
	secureDelete  bool
}

// SecureDelete makes the writer overwrite deleted content with zeros, so
// that personal data a store removes is gone from the file, not just
// unlinked from the b-tree. It costs a little more I/O per delete.
func SecureDelete() Option {
	return func(o *options) { o.secureDelete = true }
}

// WriteCacheKiB sets the page cache of the writer connection, in KiB,
// instead of SQLite's default of 2 MiB: the office's writer upserts into
// indexes larger than that.
func WriteCacheKiB(kib int) Option {
	return func(o *options) { o.writeCacheKiB = kib }
}

// Open opens (creating if needed) the SQLite file at path, applies the
// pending migrations of db in one transaction, and returns the two pools.
// It returns ErrSchemaTooNew for a database from a newer binary.
func Open(ctx context.Context, file string, db Database, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// Pragmas ride in the DSN so that every new connection gets them; busy
	// timeout first, so that even the others wait rather than fail.
	base := "file:" + (&url.URL{Path: file}).EscapedPath()
	common := "_busy_timeout=5000&_foreign_keys=on&_stmt_cache_size=32"
	writer := base + "?" + common + "&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	if o.writeCacheKiB > 0 {
		// A negative cache_size counts KiB rather than pages.
		writer += "&_cache_size=-" + strconv.Itoa(o.writeCacheKiB)
	}
	if o.secureDelete {
		writer += "&_secure_delete=on"
	}
	w, err := sql.Open(DriverName, writer)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := Migrate(ctx, w, db); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open(DriverName, base+"?"+common+"&_query_only=on")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{Write: w, Read: r, Path: file}, nil
}

// Close closes both pools. The last connection to close checkpoints the WAL.
func (d *DB) Close() error {
	return errors.Join(d.Read.Close(), d.Write.Close())
}

// Checkpoint copies the WAL into the database file and truncates the WAL
// to nothing, so that no older copy of a page stays in it. It returns an
// error when readers kept part of the WAL in use: the next call finishes.
func (d *DB) Checkpoint(ctx context.Context) error {
	var busy, logFrames, done int
	if err := d.Write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return errors.New("checkpoint: readers kept the WAL in use; it will be truncated at the next run")
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations(db Database) ([]migration, error) {
	dir := path.Join("migrations", string(db))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", db, err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations for %s: %s should be number %d", db, m.name, i+1)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this binary writes for db.
func LatestVersion(db Database) int {
	m, _ := migrations(db)
	return len(m)
}

// Migrate applies every migration of db newer than the database's
// user_version, all in one transaction: a database is either fully at the
// new version or untouched. It returns ErrSchemaTooNew when the database is
// ahead of this binary.
func Migrate(ctx context.Context, conn *sql.DB, db Database) error {
	all, err := migrations(db)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(all) {
		return fmt.Errorf("%w: database is at version %d, this binary knows %d", ErrSchemaTooNew, current, len(all))
	}
	if current == len(all) {
		return nil
	}
	for _, m := range all[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s/%s: %w", db, m.name, err)
		}
	}
	// PRAGMA takes no parameters; the value is an int we made.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(all))); err != nil {
		return err
	}
	return tx.Commit()
}
