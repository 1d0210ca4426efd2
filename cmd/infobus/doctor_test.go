package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/schema"
)

// doctorDir makes a healthy bus data dir: enrolled with a running office,
// synced, backed up, private, with the constrained CA a bus makes.
func doctorDir(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	b := openBusStore(t, dir, nil)
	enrollBus(t, o.Store, b, "Bus Dokter", o.URL)
	writeVisits(t, b, newCrew(3), 200)
	syncUntilDone(t, b)
	b.Close()
	_, err := bus.OpenTLS(bus.TLSOptions{Dir: filepath.Join(dir, "tls"), Listen: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443},
		Names: func() (bus.CertNames, error) {
			return bus.CertNames{DNS: []string{"bus-dokter"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Create(ctx, dir, filepath.Join(t.TempDir(), "b.tar"), "test"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runDoctorOn(t *testing.T, dir string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"doctor", "--data", dir}, &out, &errOut)
	return out.String(), err
}

// doctorCase plants one problem in a copy of a healthy data dir; doctor
// must name it on a line of level (FAIL or WARN) for check, saying say,
// with what to do under it (containing do, when set).
type doctorCase struct {
	name         string
	plant        func(t *testing.T, dir string)
	level, check string
	say, do      string
}

func (tc doctorCase) run(t *testing.T, healthy string) {
	t.Run(tc.name, func(t *testing.T) {
		d := copyDir(t, healthy)
		tc.plant(t, d)
		out, err := runDoctorOn(t, d)
		switch {
		case tc.level == "FAIL" && !errors.Is(err, errDoctorFound):
			t.Errorf("got exit %v, want %v", err, errDoctorFound)
		case tc.level == "WARN" && err != nil:
			t.Errorf("got exit %v for a warning, want 0", err)
		}
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, tc.level) || !strings.Contains(l, tc.check) {
				continue
			}
			if !strings.Contains(l, tc.say) {
				t.Errorf("the %s line says %q, want %q", tc.check, l, tc.say)
			}
			if i+1 >= len(lines) || !strings.Contains(lines[i+1], "→") || !strings.Contains(lines[i+1], tc.do) {
				t.Errorf("doctor says what is wrong with %s but not what to do (want %q):\n%s", tc.check, tc.do, out)
			}
			return
		}
		t.Errorf("got no %s line for %s:\n%s", tc.level, tc.check, out)
	})
}

// TestDoctor plants one problem at a time in a healthy bus data dir and
// checks that doctor finds it, names it and says what to do, exiting
// non-zero for a problem and 0 for a warning; on the healthy dir it says
// all is well and exits 0.
func TestDoctor(t *testing.T) {
	dir := doctorDir(t)
	out, err := runDoctorOn(t, dir)
	if err != nil || !strings.Contains(out, "All is well") || !strings.Contains(out, "can vouch only for") {
		t.Fatalf("healthy dir: got %v\n%s", err, out)
	}
	busDB := func(d string) string { return filepath.Join(d, backup.BusFile) }
	for _, tc := range []doctorCase{
		{name: "bad permissions", plant: func(t *testing.T, dir string) {
			os.Chmod(dir, 0o755)
			os.Chmod(busDB(dir), 0o644)
		}, level: "FAIL", check: "permissions", say: "other users can read", do: "chmod 700"},
		{name: "schema newer than the binary", plant: func(t *testing.T, dir string) {
			execDB(t, busDB(dir), fmt.Sprintf("PRAGMA user_version = %d", schema.LatestVersion(schema.BusDatabase)+1))
		}, level: "FAIL", check: "schema", say: "newer than this binary knows", do: "newer infobus binary"},
		{name: "corrupt page", plant: func(t *testing.T, dir string) {
			corruptPage(t, busDB(dir))
		}, level: "FAIL", check: "integrity", say: "damaged", do: "infobus restore"},
		{name: "disk too full", plant: func(t *testing.T, dir string) {
			// A sparse file as large as the free space: a backup would need
			// twice that. SQLite reads only the pages its header counts.
			free, err := backup.FreeBytes(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(busDB(dir), int64(free)); err != nil {
				t.Skipf("cannot make a sparse file of %d bytes here: %v", free, err)
			}
		}, level: "FAIL", check: "disk", say: "too little", do: "free space"},
		{name: "expired certificate", plant: func(t *testing.T, dir string) {
			writeCA(t, filepath.Join(dir, "tls"), time.Now().Add(-48*time.Hour), true)
		}, level: "FAIL", check: "certificates", say: "expired", do: "/setup"},
		{name: "CA without name constraints", plant: func(t *testing.T, dir string) {
			writeCA(t, filepath.Join(dir, "tls"), time.Now().Add(3*365*24*time.Hour), false)
		}, level: "FAIL", check: "ca limits", say: "no critical name constraints", do: "infobus bus renew-ca --data"},
		{name: "not enrolled", plant: func(t *testing.T, dir string) {
			execDB(t, busDB(dir), "UPDATE sync_state SET office_url = '', bus_id = '', bus_token = ''")
		}, level: "WARN", check: "enrollment", say: "not enrolled", do: "infobus bus enroll"},
		{name: "office unreachable", plant: func(t *testing.T, dir string) {
			execDB(t, busDB(dir), "UPDATE sync_state SET office_url = ?", "http://"+freeAddr(t))
		}, level: "WARN", check: "office", say: "does not answer", do: "check the office server"},
		{name: "no sync for ten days", plant: func(t *testing.T, dir string) {
			execDB(t, busDB(dir), "UPDATE sync_state SET last_success = ?", schema.Timestamp(time.Now().Add(-10*24*time.Hour)))
		}, level: "FAIL", check: "last sync", say: "ago", do: "infobus sync --data"},
		{name: "records set aside", plant: func(t *testing.T, dir string) {
			execDB(t, busDB(dir), `INSERT INTO set_aside (visit_id, rev, reason, message, at)
SELECT id, rev, 'validation', 'refused', '2026-11-30T09:00:00Z' FROM visits LIMIT 2`)
		}, level: "WARN", check: "set aside", say: "2 visits were refused", do: "apart gezet"},
		{name: "erasures not applied again after a restore", plant: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, backup.ReplayFile), nil, 0o600)
		}, level: "WARN", check: "erasures", say: "not applied again", do: "start the server"},
		{name: "old backup", plant: func(t *testing.T, dir string) {
			old, _ := json.Marshal(backup.Stamp{At: time.Now().Add(-5 * 24 * time.Hour).UTC().Format(time.RFC3339Nano), File: "/backups/old.tar.gz"})
			os.WriteFile(filepath.Join(dir, backup.StampFile), old, 0o600)
		}, level: "FAIL", check: "backup", say: "ago", do: "infobus backup --data"},
		{name: "never backed up", plant: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, backup.StampFile))
		}, level: "WARN", check: "backup", say: "no backup", do: "--backup-schedule"},
	} {
		tc.run(t, dir)
	}
}

// TestDoctorOffice: on a healthy office data dir doctor says all is well;
// records set aside and an office without buses are named.
func TestDoctorOffice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	o := startOffice(t, dir)
	b := openBusStore(t, t.TempDir(), nil)
	enrollBus(t, o.Store, b, "Bus Kantoor", o.URL)
	writeVisits(t, b, newCrew(4), 20)
	syncUntilDone(t, b)
	o.Close()
	if _, err := backup.Create(ctx, dir, filepath.Join(t.TempDir(), "o.tar"), "test"); err != nil {
		t.Fatal(err)
	}
	out, err := runDoctorOn(t, dir)
	if err != nil || !strings.Contains(out, "All is well") {
		t.Fatalf("healthy office dir: got %v\n%s", err, out)
	}
	officeDB := func(d string) string { return filepath.Join(d, backup.OfficeFile) }
	for _, tc := range []doctorCase{
		{name: "records set aside", plant: func(t *testing.T, d string) {
			execDB(t, officeDB(d), `INSERT INTO set_aside (bus_id, visit_id, rev, reason, message, body, received_at)
SELECT id, 'v-1', 1, 'validation', 'refused', '{}', '2026-11-30T09:00:00Z' FROM buses`)
		}, level: "WARN", check: "set aside", say: "1 records from buses were refused", do: "list-buses"},
		{name: "no bus enrolled", plant: func(t *testing.T, d string) {
			execDB(t, officeDB(d), "PRAGMA foreign_keys = OFF; DELETE FROM buses")
		}, level: "WARN", check: "buses", say: "no bus is enrolled", do: "add-bus"},
		{name: "corrupt page", plant: func(t *testing.T, d string) {
			corruptPage(t, officeDB(d))
		}, level: "FAIL", check: "integrity", say: "damaged", do: "infobus restore"},
	} {
		tc.run(t, dir)
	}
}

// execDB changes a database file the way a fault or an old binary would.
func execDB(t *testing.T, file, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open(schema.DriverName, "file:"+file+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a data dir's files and its tls/ into a new private dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	os.Chmod(dst, 0o700)
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			if rel != "." && rel != "tls" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeCA writes a CA certificate valid until notAfter, with the name
// constraints a bus's CA carries or, as older binaries made it, without.
func writeCA(t *testing.T, dir string, notAfter time.Time, constrained bool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "old infobus CA"},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	if constrained {
		tmpl.PermittedDNSDomainsCritical, tmpl.PermittedDNSDomains = true, []string{"infobus.local"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// corruptPage overwrites a page in the middle of a database file, where
// the visits' b-tree lives.
func corruptPage(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(b) < 8*page {
		t.Fatalf("database of %d bytes is too small to corrupt a middle page", len(b))
	}
	at := (len(b) / page / 2) * page
	for i := at; i < at+page; i++ {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
