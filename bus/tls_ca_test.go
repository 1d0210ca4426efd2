package bus

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// signWithCA makes a leaf for dns and ips signed by the bus's CA key, as
// a thief holding the laptop could.
func signWithCA(tb testing.TB, tl *TLS, dns []string, ips []net.IP) *x509.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: bigOne(), Subject: pkix.Name{CommonName: "x"},
		NotBefore: tlsStart.Add(-time.Hour), NotAfter: tlsStart.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: dns, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tl.ca, &key.PublicKey, tl.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return leaf
}

func bigOne() *big.Int { return big.NewInt(1) }

func verifyErr(ca, leaf *x509.Certificate, host string) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: tlsStart,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestCAVouchesOnlyForTheBus(t *testing.T) {
	f := newTLSFixture(t)
	tl := mustOpenTLS(t, f.options())
	ca := caCertificate(t, tl)
	if !Constrained(ca) || !ca.PermittedDNSDomainsCritical {
		t.Fatalf("CA constraints: critical %v domains %v ranges %v", ca.PermittedDNSDomainsCritical, ca.PermittedDNSDomains, ca.PermittedIPRanges)
	}
	// The bus's own certificate verifies for each of its names.
	verifyFor(t, ca, handshakeCert(t, tl).Leaf, f.now, LocalName, "bus-laptop", "bus-laptop.local", "192.168.8.20", "fd00::20")

	for _, tc := range []struct {
		name string
		dns  []string
		ips  []net.IP
		host string
		ok   bool
	}{
		{"public name", []string{"www.example.com"}, nil, "www.example.com", false},
		{"bank", []string{"mijn.ing.nl"}, nil, "mijn.ing.nl", false},
		{"public name beside a bus name", []string{LocalName, "login.microsoftonline.com"}, nil, LocalName, false},
		{"public address", nil, []net.IP{net.ParseIP("8.8.8.8")}, "8.8.8.8", false},
		{"public IPv6", nil, []net.IP{net.ParseIP("2001:4860:4860::8888")}, "2001:4860:4860::8888", false},
		{"name under infobus.local", []string{"tablet.infobus.local"}, nil, "tablet.infobus.local", true},
		{"LAN address", nil, []net.IP{net.ParseIP("10.1.2.3")}, "10.1.2.3", true},
		{"link-local", nil, []net.IP{net.ParseIP("169.254.10.1")}, "169.254.10.1", true},
		{"laptop name", []string{"bus-laptop"}, nil, "bus-laptop", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := signWithCA(t, tl, tc.dns, tc.ips)
			err := verifyErr(ca, leaf, tc.host)
			if tc.ok && err != nil {
				t.Errorf("got %v, want it to verify", err)
			}
			if !tc.ok && err == nil {
				t.Error("Go's verifier accepted it, want a refusal")
			}
		})
	}
}

func TestUnconstrainedCAIsReportedAndRenewedOnCommand(t *testing.T) {
	f := newTLSFixture(t)
	// An old CA, as earlier versions made it: no constraints.
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: bigOne(), Subject: pkix.Name{CommonName: "Infobus CA old"},
		NotBefore: tlsStart.Add(-time.Hour), NotAfter: tlsStart.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(f.dir, caCertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(f.dir, caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	var log bytes.Buffer
	opts := f.options()
	opts.Log = slog.New(slog.NewTextHandler(&log, nil))
	tl := mustOpenTLS(t, opts)
	if Constrained(caCertificate(t, tl)) {
		t.Fatal("the old CA was replaced at start; only renew-ca may do that")
	}
	if !strings.Contains(log.String(), "no name constraints") || !strings.Contains(log.String(), "renew-ca") {
		t.Fatalf("start log does not report the unconstrained CA:\n%s", log.String())
	}
	if _, err := RenewCA(f.dir, f.now); err != nil {
		t.Fatal(err)
	}
	renewed := mustOpenTLS(t, opts)
	ca := caCertificate(t, renewed)
	if !Constrained(ca) {
		t.Fatal("renew-ca made an unconstrained CA")
	}
	verifyFor(t, ca, handshakeCert(t, renewed).Leaf, f.now, LocalName)
	old, _ := filepath.Glob(filepath.Join(f.dir, "ca-replaced-*"))
	if len(old) != 2 {
		t.Errorf("kept old files %v, want the old certificate and key", old)
	}
}
