package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"infobus/schema"
)

// maxArchiveFile bounds one file read from a backup, against a damaged or
// hostile archive filling the disk.
const maxArchiveFile = 64 << 30

// RestoreResult says what a restore did.
type RestoreResult struct {
	Manifest Manifest
	NewEpoch string
	// Replaced is where the files the restore replaced were moved, "" when
	// the data dir held none.
	Replaced string
}

// Restore checks the backup file and puts it in place as dataDir's
// database, giving it a new epoch so that tablets and the office notice.
// The dir must not be in use (see LockDir); the files it held are moved
// aside, not deleted.
func Restore(ctx context.Context, file, dataDir string) (RestoreResult, error) {
	var res RestoreResult
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return res, err
	}
	unlock, err := LockDir(dataDir)
	if err != nil {
		return res, err
	}
	defer unlock()
	// Unpacked inside the data dir, so that putting it in place is a rename.
	stage, err := os.MkdirTemp(dataDir, ".restore-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(stage)
	m, err := unpack(file, stage)
	if err != nil {
		return res, fmt.Errorf("read %s: %w", file, err)
	}
	db := filepath.Join(stage, DBFile(m.Kind))
	if err := Check(ctx, db, m.Kind); err != nil {
		return res, fmt.Errorf("%s: %w", file, err)
	}
	if other, err := Kind(dataDir); err == nil && other != m.Kind {
		return res, fmt.Errorf("%s is a %s backup, but %s is a %s data dir", file, m.Kind, dataDir, other)
	}
	res.Manifest, res.NewEpoch = m, newEpoch()
	if err := setEpoch(ctx, db, res.NewEpoch); err != nil {
		return res, err
	}
	// Before the copy is in place: the erasures made since the backup are
	// applied again (by the store, when it opens) however the restore ends.
	if err := markReplay(dataDir); err != nil {
		return res, err
	}
	if res.Replaced, err = moveAside(dataDir, m.Kind); err != nil {
		return res, err
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return res, err
	}
	for _, e := range entries {
		if e.Name() == ManifestFile || (e.Name() == ErasureLogFile && exists(filepath.Join(dataDir, ErasureLogFile))) {
			continue
		}
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(dataDir, e.Name())); err != nil {
			return res, err
		}
	}
	syncDir(dataDir)
	return res, nil
}

// Check opens a database file and refuses it unless SQLite's
// integrity_check passes and its schema is one this binary knows.
func Check(ctx context.Context, file string, kind schema.Database) error {
	db, err := openFile(file, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("not a database this binary can read: %w", err)
	}
	if latest := schema.LatestVersion(kind); version > latest {
		return fmt.Errorf("%w: the copy is at version %d, this binary knows %d; restore with the newer binary", schema.ErrSchemaTooNew, version, latest)
	}
	if version == 0 {
		return errors.New("the copy holds no Infobus schema")
	}
	problems, err := IntegrityCheck(ctx, db)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("the copy fails SQLite's integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its complaints.
func IntegrityCheck(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	return problems, nil
}

func newEpoch() string { return schema.NewEpoch() }

// setEpoch gives a restored database its new epoch.
func setEpoch(ctx context.Context, file, epoch string) error {
	db, err := openFile(file, false)
	if err != nil {
		return err
	}
	defer db.Close()
	return schema.PutSetting(ctx, db, schema.SettingEpoch, epoch)
}

// moveAside moves the database and tls/ the data dir holds into a
// replaced-TIME folder inside it, and returns that folder ("" if there was
// nothing to move).
func moveAside(dataDir string, kind schema.Database) (string, error) {
	db := DBFile(kind)
	// The erasure log stays: it lives outside the database so that it
	// outlasts a restore (see ErasureLogFile).
	names := []string{db, db + "-wal", db + "-shm", tlsDir}
	aside := filepath.Join(dataDir, "replaced-"+time.Now().UTC().Format("20060102T150405Z"))
	moved := false
	for _, n := range names {
		src := filepath.Join(dataDir, n)
		if !exists(src) {
			continue
		}
		if !moved {
			if err := os.MkdirAll(aside, 0o700); err != nil {
				return "", err
			}
			moved = true
		}
		if err := os.Rename(src, filepath.Join(aside, n)); err != nil {
			return "", err
		}
	}
	if !moved {
		return "", nil
	}
	return aside, nil
}

// unpack reads a backup into dir and returns its manifest. It takes only
// the files a backup holds, by plain names: nothing lands outside dir.
func unpack(file, dir string) (Manifest, error) {
	var m Manifest
	f, err := os.Open(file)
	if err != nil {
		return m, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return m, err
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	seen := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, fmt.Errorf("not a complete Infobus backup: %w", err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || !allowedName(name) {
			return m, fmt.Errorf("unexpected entry %q: not an Infobus backup", h.Name)
		}
		if name == ManifestFile {
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return m, err
			}
			if err := json.Unmarshal(b, &m); err != nil {
				return m, fmt.Errorf("manifest: %w", err)
			}
			seen = true
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return m, err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(h.Mode).Perm()&0o700)
		if err != nil {
			return m, err
		}
		_, err = io.Copy(out, io.LimitReader(tr, maxArchiveFile))
		if err == nil {
			err = out.Sync()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return m, err
		}
	}
	if !seen {
		return m, errors.New("no " + ManifestFile + ": not an Infobus backup")
	}
	if m.Kind != schema.BusDatabase && m.Kind != schema.OfficeDatabase {
		return m, fmt.Errorf("manifest names kind %q, not bus or office", m.Kind)
	}
	if !exists(filepath.Join(dir, DBFile(m.Kind))) {
		return m, fmt.Errorf("the backup lacks %s", DBFile(m.Kind))
	}
	return m, nil
}

func allowedName(name string) bool {
	switch name {
	case ManifestFile, BusFile, OfficeFile, ErasureLogFile:
		return true
	}
	dir, base := path.Split(name)
	return dir == tlsDir+"/" && base != "" && !strings.HasPrefix(base, ".")
}

// OpenReadOnly opens a database file for reading only, outside a store:
// for tools that look and never write (doctor).
func OpenReadOnly(file string) (*sql.DB, error) { return openFile(file, true) }
