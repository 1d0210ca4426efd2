package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infobus/internal/backup"
)

// doctorDir makes a healthy bus data dir: enrolled with a running office,
// synced, backed up, private.
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

// TestDoctor plants one problem at a time in a healthy bus data dir and
// checks that doctor finds it, names it and exits non-zero; on the healthy
// dir it says all is well and exits 0.
func TestDoctor(t *testing.T) {
	dir := doctorDir(t)
	out, err := runDoctorOn(t, dir)
	if err != nil || !strings.Contains(out, "All is well") {
		t.Fatalf("healthy dir: got %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, dir string)
		check string // the line that must say FAIL
		say   string
	}{
		{"bad permissions", func(t *testing.T, dir string) {
			os.Chmod(dir, 0o755)
			os.Chmod(filepath.Join(dir, backup.BusFile), 0o644)
		}, "permissions", "other users can read"},
		{"expired certificate", func(t *testing.T, dir string) {
			writeCA(t, filepath.Join(dir, "tls"), time.Now().Add(-48*time.Hour))
		}, "certificates", "expired"},
		{"corrupt page", func(t *testing.T, dir string) {
			corruptPage(t, filepath.Join(dir, backup.BusFile))
		}, "integrity", "damaged"},
		{"old backup", func(t *testing.T, dir string) {
			old, _ := json.Marshal(backup.Stamp{At: time.Now().Add(-5 * 24 * time.Hour).UTC().Format(time.RFC3339Nano), File: "/backups/old.tar.gz"})
			os.WriteFile(filepath.Join(dir, backup.StampFile), old, 0o600)
		}, "backup", "ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t, dir)
			tc.plant(t, d)
			out, err := runDoctorOn(t, d)
			if !errors.Is(err, errDoctorFound) {
				t.Errorf("got exit %v, want %v", err, errDoctorFound)
			}
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "FAIL") && strings.Contains(l, tc.check) {
					line = l
				}
			}
			if !strings.Contains(line, tc.say) {
				t.Errorf("got no FAIL line for %s saying %q:\n%s", tc.check, tc.say, out)
			}
			if !strings.Contains(out, "→") {
				t.Errorf("doctor says what is wrong but not what to do:\n%s", out)
			}
		})
	}
}

// copyDir copies a data dir's files (not its subdirs) into a new private dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	os.Chmod(dst, 0o700)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// writeCA writes a CA certificate that expired at notAfter.
func writeCA(t *testing.T, dir string, notAfter time.Time) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "old infobus CA"},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
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
