package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/office"
	"infobus/schema"
)

func officeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := office.OpenStore(context.Background(), dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBus(context.Background(), "Bus Test", "http://127.0.0.1:8090"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return dir
}

// TestRotateKeepsNewest: the nightly backup keeps the newest Keep files of
// its own and never touches others in the folder.
func TestRotateKeepsNewest(t *testing.T) {
	dir := officeDir(t)
	cfg := backup.Config{Dir: t.TempDir(), Keep: 2}
	if err := cfg.Validate(dir); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(cfg.Dir, "notes.txt")
	os.WriteFile(other, []byte("mine"), 0o600)
	var made []string
	for range 4 {
		res, err := backup.Rotate(context.Background(), cfg, dir, "test")
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, filepath.Base(res.File))
	}
	entries, _ := os.ReadDir(cfg.Dir)
	var got []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			got = append(got, e.Name())
		}
	}
	want := []string{made[2], made[3], "notes.txt"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
	st, ok, err := backup.LastBackup(dir)
	if err != nil || !ok || filepath.Base(st.File) != made[3] {
		t.Errorf("last backup: got %+v %v %v, want %s", st, ok, err, made[3])
	}
}

// TestRestoreRefuses: restore checks a copy before it touches the data
// dir: a damaged file, a newer schema, the wrong kind.
func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	src := officeDir(t)
	good := filepath.Join(t.TempDir(), "office.tar")
	if _, err := backup.Create(ctx, src, good, "test"); err != nil {
		t.Fatal(err)
	}
	notTar := filepath.Join(t.TempDir(), "junk.tar")
	os.WriteFile(notTar, []byte("not a backup at all"), 0o600)

	busDir := t.TempDir()
	os.WriteFile(filepath.Join(busDir, backup.BusFile), nil, 0o600)

	for _, tc := range []struct {
		name, file, dir, want string
	}{
		{"not a backup", notTar, t.TempDir(), "not"},
		{"wrong kind of data dir", good, busDir, "office backup, but"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := backup.Restore(ctx, tc.file, tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	// A newer schema than this binary knows is refused by Check.
	db := filepath.Join(t.TempDir(), "x.db")
	newer, err := schema.Open(ctx, db, schema.OfficeDatabase)
	if err != nil {
		t.Fatal(err)
	}
	newer.Write.Exec("PRAGMA user_version = 999")
	newer.Close()
	if err := backup.Check(ctx, db, schema.OfficeDatabase); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: got %v", err)
	}
}

// TestBusBackupCarriesTLS: a bus's backup holds tls/ (the CA the tablets
// trust), and a restore puts it back, private, with a new epoch.
func TestBusBackupCarriesTLS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := bus.OpenStore(ctx, dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	epoch := s.Epoch()
	s.Close()
	os.MkdirAll(filepath.Join(dir, "tls"), 0o700)
	files := map[string]string{"ca.crt": "the CA", "ca.key": "its key", "server.pem": "cert and key"}
	for name, body := range files {
		os.WriteFile(filepath.Join(dir, "tls", name), []byte(body), 0o600)
	}
	file := filepath.Join(t.TempDir(), "bus.tar.gz")
	if _, err := backup.Create(ctx, dir, file, "test"); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	res, err := backup.Restore(ctx, file, target)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(target, "tls", name)
		got, err := os.ReadFile(p)
		if err != nil || string(got) != body {
			t.Errorf("tls/%s: got %q %v, want %q", name, got, err, body)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("tls/%s restored as %v, want private", name, fi.Mode().Perm())
		}
	}
	if res.Manifest.Epoch != epoch || res.NewEpoch == epoch {
		t.Errorf("epochs: backup %q of %q, restored as %q; want the old one in the manifest and a new one in place", res.Manifest.Epoch, epoch, res.NewEpoch)
	}
	r, err := bus.OpenStore(ctx, target, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Epoch() != res.NewEpoch {
		t.Errorf("restored store's epoch %q, want %q", r.Epoch(), res.NewEpoch)
	}
}
