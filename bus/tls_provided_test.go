package bus

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// outsideCert makes a certificate and key as the municipality would provide
// them, under a CA of its own, returned as PEM.
func outsideCert(tb testing.TB, dns string, notAfter time.Time) (certPEM, keyPEM []byte) {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gemeente test CA"},
		NotBefore: tlsStart.Add(-time.Hour), NotAfter: tlsStart.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dns},
		NotBefore: tlsStart.Add(-time.Hour), NotAfter: notAfter,
		DNSNames: []string{"*.wijkbus.example", dns}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func writeTestFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestOpenTLSProvidedCertificate(t *testing.T) {
	f := newTLSFixture(t)
	dir := t.TempDir()
	certPEM, keyPEM := outsideCert(t, "bus7.wijkbus.example", tlsStart.AddDate(0, 6, 0))
	opts := f.options()
	opts.CertFile = writeTestFile(t, dir, "bus.crt", certPEM)
	opts.KeyFile = writeTestFile(t, dir, "bus.key", keyPEM)

	tl := mustOpenTLS(t, opts)
	if !tl.Provided() || tl.CACert() != nil || tl.CAFingerprint() != "" {
		t.Errorf("Provided %v, CA %d bytes, fingerprint %q: want provided, no CA", tl.Provided(), len(tl.CACert()), tl.CAFingerprint())
	}
	block, _ := pem.Decode(certPEM)
	if got := handshakeCert(t, tl); !bytes.Equal(got.Certificate[0], block.Bytes) {
		t.Error("handshake served another certificate, want the provided one")
	}
	if got, want := tl.PublicURL(), "https://bus7.wijkbus.example:8443"; got != want {
		t.Errorf("public URL: got %s, want %s", got, want)
	}
	if _, err := os.Stat(f.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tls dir: got %v, want no local CA made at all", err)
	}
}

func TestOpenTLSRefusesBadProvidedCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := outsideCert(t, "bus7.wijkbus.example", tlsStart.AddDate(0, 6, 0))
	_, otherKey := outsideCert(t, "bus8.wijkbus.example", tlsStart.AddDate(0, 6, 0))
	expiredCert, expiredKey := outsideCert(t, "bus7.wijkbus.example", tlsStart.Add(-24*time.Hour))
	cert := writeTestFile(t, dir, "bus.crt", certPEM)
	key := writeTestFile(t, dir, "bus.key", keyPEM)
	tests := []struct {
		name       string
		cert, key  string
		wantSubstr string
	}{
		{"mismatched key", cert, writeTestFile(t, dir, "other.key", otherKey), "are not a certificate and its key"},
		{"key in place of the certificate", key, key, "are not a certificate and its key"},
		{"missing certificate", filepath.Join(dir, "nope.crt"), key, "--tls-cert: cannot read"},
		{"missing key", cert, filepath.Join(dir, "nope.key"), "--tls-key: cannot read"},
		{"expired", writeTestFile(t, dir, "old.crt", expiredCert), writeTestFile(t, dir, "old.key", expiredKey), "expired"},
		{"certificate without key", cert, "", "both or neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := newTLSFixture(t).options()
			opts.CertFile, opts.KeyFile = tt.cert, tt.key
			_, err := OpenTLS(opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantSubstr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantSubstr)
			}
		})
	}
}
