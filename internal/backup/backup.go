// Package backup copies a bus's or an office's data dir while its server
// runs, and puts a copy back: the database through SQLite's VACUUM INTO (a
// consistent snapshot that does not stop writers), with what else the dir
// needs to come back (the bus's tls/), in one tar file.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "infobus/internal/sqlite" // registers schema.DriverName
	"infobus/schema"
)

// Files in a data dir, and in a backup.
const (
	BusFile      = "bus.db"
	OfficeFile   = "office.db"
	ManifestFile = "MANIFEST.json"
	// StampFile in a data dir records the last backup made of it, for
	// doctor and the metrics.
	StampFile = "last-backup.json"
	tlsDir    = "tls"
)

// Manifest describes a backup.
type Manifest struct {
	Kind          schema.Database `json:"kind"` // bus or office
	SchemaVersion int             `json:"schema_version"`
	Epoch         string          `json:"epoch"`
	CreatedAt     string          `json:"created_at"`
	Build         string          `json:"build"`  // the binary that made it
	Source        string          `json:"source"` // the data dir it came from
	DBBytes       int64           `json:"db_bytes"`
}

// Stamp is what StampFile holds.
type Stamp struct {
	At    string `json:"at"`
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
}

// Kind says which database dir holds: bus or office.
func Kind(dir string) (schema.Database, error) {
	bus := exists(filepath.Join(dir, BusFile))
	office := exists(filepath.Join(dir, OfficeFile))
	switch {
	case bus && office:
		return "", fmt.Errorf("%s holds both %s and %s; give the data dir of one server", dir, BusFile, OfficeFile)
	case bus:
		return schema.BusDatabase, nil
	case office:
		return schema.OfficeDatabase, nil
	}
	return "", fmt.Errorf("%s holds neither %s nor %s: not a data dir of a bus or an office", dir, BusFile, OfficeFile)
}

// DBFile is the database file name of kind.
func DBFile(kind schema.Database) string {
	if kind == schema.BusDatabase {
		return BusFile
	}
	return OfficeFile
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Result says what a backup wrote.
type Result struct {
	Manifest Manifest
	File     string
	Bytes    int64 // of the backup file
	Duration time.Duration
}

// Create writes a backup of dataDir to out, a tar file (gzip when its name
// ends in .gz or .tgz), while the server may be running. The file appears
// complete or not at all.
func Create(ctx context.Context, dataDir, out, build string) (Result, error) {
	start := time.Now()
	kind, err := Kind(dataDir)
	if err != nil {
		return Result{}, err
	}
	outDir := filepath.Dir(out)
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return Result{}, err
	}
	// The snapshot goes beside the output: the data dir's disk may be the
	// one short of space.
	tmp, err := os.MkdirTemp(outDir, ".infobus-backup-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, DBFile(kind))
	if err := snapshot(ctx, filepath.Join(dataDir, DBFile(kind)), snap); err != nil {
		return Result{}, err
	}
	m := Manifest{Kind: kind, CreatedAt: schema.Timestamp(time.Now()), Build: build}
	if abs, err := filepath.Abs(dataDir); err == nil {
		m.Source = abs
	}
	if m.SchemaVersion, m.Epoch, err = describe(ctx, snap); err != nil {
		return Result{}, err
	}
	fi, err := os.Stat(snap)
	if err != nil {
		return Result{}, err
	}
	m.DBBytes = fi.Size()
	partial := filepath.Join(tmp, "partial")
	if err := writeArchive(partial, out, dataDir, snap, m); err != nil {
		return Result{}, err
	}
	if err := os.Rename(partial, out); err != nil {
		return Result{}, err
	}
	syncDir(outDir)
	fi, err = os.Stat(out)
	if err != nil {
		return Result{}, err
	}
	res := Result{Manifest: m, File: out, Bytes: fi.Size(), Duration: time.Since(start)}
	abs, _ := filepath.Abs(out)
	if err := writeStamp(dataDir, Stamp{At: m.CreatedAt, File: abs, Bytes: res.Bytes}); err != nil {
		return res, fmt.Errorf("backup written, but not noted in the data dir: %w", err)
	}
	return res, nil
}

// openFile opens a database file directly, outside a store: for copying
// and checking it, never for the server's writes.
func openFile(path string, readOnly bool) (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_busy_timeout=10000"
	if readOnly {
		dsn += "&mode=ro"
	}
	db, err := sql.Open(schema.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// snapshot copies the live database at src into dst with VACUUM INTO: one
// read transaction, so the copy is the database at one moment, while the
// server's writer goes on (WAL lets readers and a writer work at once).
func snapshot(ctx context.Context, src, dst string) error {
	db, err := openFile(src, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// describe reads a database file's schema version and epoch.
func describe(ctx context.Context, path string) (version int, epoch string, err error) {
	db, err := openFile(path, true)
	if err != nil {
		return 0, "", err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, "", err
	}
	epoch, err = schema.Setting(ctx, db, schema.SettingEpoch)
	if errors.Is(err, schema.ErrNotFound) {
		err = nil
	}
	return version, epoch, err
}

func writeArchive(path, name, dataDir, snap string, m Manifest) (err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tgz") {
		// Speed over size: a backup runs beside a busy server.
		zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = zw
	}
	tw := tar.NewWriter(w)
	manifest, _ := json.MarshalIndent(m, "", "  ")
	if err := addBytes(tw, ManifestFile, manifest); err != nil {
		return err
	}
	if err := addFile(tw, snap, DBFile(m.Kind)); err != nil {
		return err
	}
	if m.Kind == schema.BusDatabase {
		// The CA tablets trust: without it every tablet must be set up again.
		err := filepath.WalkDir(filepath.Join(dataDir, tlsDir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dataDir, p)
			return addFile(tw, p, filepath.ToSlash(rel))
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := addOptional(tw, dataDir, ErasureLogFile); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return f.Sync()
}

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: int64(fi.Mode().Perm()), Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

func addOptional(tw *tar.Writer, dataDir, name string) error {
	p := filepath.Join(dataDir, name)
	if !exists(p) {
		return nil
	}
	return addFile(tw, p, name)
}

// syncDir makes a rename in dir durable; where that is not possible
// (Windows) the rename is as durable as the file system makes it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func writeStamp(dataDir string, st Stamp) error {
	b, _ := json.Marshal(st)
	tmp := filepath.Join(dataDir, "."+StampFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, StampFile))
}

// LastBackup reads the data dir's note of its last backup; ok is false
// when none was made.
func LastBackup(dataDir string) (st Stamp, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, StampFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("%s: %w", StampFile, err)
	}
	return st, true, nil
}

// ErasureLogFile is where erasures are noted beside the database, outside
// it, so that a restore can apply again those made after its backup: a
// backup carries the log as it was, and a restore keeps the data dir's
// own, newer log when there is one. The stores append to it and apply it
// again after a restore (ReplayFile).
const ErasureLogFile = "erasures.log"
