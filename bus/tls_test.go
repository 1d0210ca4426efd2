package bus

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// tlsStart is the injected "now" of every TLS test.
var tlsStart = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// tlsFixture holds what a test changes between opens: the clock and the
// machine's names.
type tlsFixture struct {
	dir   string
	now   time.Time
	names CertNames
}

func newTLSFixture(tb testing.TB) *tlsFixture {
	tb.Helper()
	return &tlsFixture{
		dir: filepath.Join(tb.TempDir(), "tls"),
		now: tlsStart,
		names: CertNames{
			DNS: []string{"bus-laptop", "bus-laptop.local"},
			IPs: []net.IP{net.ParseIP("192.168.8.20"), net.ParseIP("fd00::20")},
		},
	}
}

func (f *tlsFixture) options() TLSOptions {
	return TLSOptions{
		Dir:    f.dir,
		Listen: &net.TCPAddr{IP: net.IPv4zero, Port: 8443},
		Names:  func() (CertNames, error) { return f.names, nil },
		Now:    func() time.Time { return f.now },
	}
}

func mustOpenTLS(tb testing.TB, opts TLSOptions) *TLS {
	tb.Helper()
	t, err := OpenTLS(opts)
	if err != nil {
		tb.Fatalf("OpenTLS: %v", err)
	}
	return t
}

// handshakeCert asks for the certificate the way a TLS handshake does.
func handshakeCert(tb testing.TB, t *TLS) *tls.Certificate {
	tb.Helper()
	c, err := t.Config().GetCertificate(&tls.ClientHelloInfo{ServerName: LocalName})
	if err != nil {
		tb.Fatalf("GetCertificate: %v", err)
	}
	return c
}

func caCertificate(tb testing.TB, t *TLS) *x509.Certificate {
	tb.Helper()
	ca, err := x509.ParseCertificate(t.CACert())
	if err != nil {
		tb.Fatalf("parse CA: %v", err)
	}
	return ca
}

// verifyFor checks that leaf chains to ca alone for each host at now.
func verifyFor(tb testing.TB, ca, leaf *x509.Certificate, now time.Time, hosts ...string) {
	tb.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, h := range hosts {
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName: h, Roots: roots, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			tb.Errorf("verify for %s: %v", h, err)
		}
	}
}

func TestOpenTLSMakesCAAndServerCertificate(t *testing.T) {
	f := newTLSFixture(t)
	tl := mustOpenTLS(t, f.options())

	ca := caCertificate(t, tl)
	if !ca.IsCA || !ca.BasicConstraintsValid {
		t.Errorf("CA: IsCA %v, BasicConstraintsValid %v, want both true", ca.IsCA, ca.BasicConstraintsValid)
	}
	if pub, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key: got %T, want ECDSA P-256", ca.PublicKey)
	}
	if got, want := ca.NotAfter.Sub(tlsStart), time.Duration(9*365*24)*time.Hour; got < want {
		t.Errorf("CA lives %v from now, want at least %v", got, want)
	}

	leaf := handshakeCert(t, tl).Leaf
	wantDNS := []string{"bus-laptop", "bus-laptop.local", LocalName}
	slices.Sort(wantDNS)
	if got := slices.Sorted(slices.Values(leaf.DNSNames)); !slices.Equal(got, wantDNS) {
		t.Errorf("DNS names: got %v, want %v", got, wantDNS)
	}
	var gotIPs []string
	for _, ip := range leaf.IPAddresses {
		gotIPs = append(gotIPs, ip.String())
	}
	slices.Sort(gotIPs)
	if want := []string{"192.168.8.20", "fd00::20"}; !slices.Equal(gotIPs, want) {
		t.Errorf("IP addresses: got %v, want %v", gotIPs, want)
	}
	verifyFor(t, ca, leaf, tlsStart, append(wantDNS, "192.168.8.20", "fd00::20")...)

	if got, limit := leaf.NotAfter.Sub(leaf.NotBefore), 397*24*time.Hour; got > limit {
		t.Errorf("server certificate lives %v, want at most %v", got, limit)
	}
	if leaf.NotAfter.Sub(leaf.NotBefore) != ServerCertLifetime {
		t.Errorf("server certificate lives %v, want %v", leaf.NotAfter.Sub(leaf.NotBefore), ServerCertLifetime)
	}
	if got, want := tl.PublicURL(), "https://192.168.8.20:8443"; got != want {
		t.Errorf("public URL: got %s, want %s", got, want)
	}
	if got := tl.CAFingerprint(); len(got) != 32*3-1 || Fingerprint(ca.Raw) != got {
		t.Errorf("fingerprint: got %q, want 32 colon-separated hex pairs of the CA", got)
	}

	if runtime.GOOS != "windows" {
		for name, want := range map[string]os.FileMode{caKeyFile: 0o600, serverCertFile: 0o600, caCertFile: 0o644} {
			info, err := os.Stat(filepath.Join(f.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("%s: got mode %v, want %v", name, got, want)
			}
		}
	}
}

func TestOpenTLSReusesCAAndCertificateOnRestart(t *testing.T) {
	f := newTLSFixture(t)
	first := mustOpenTLS(t, f.options())
	f.now = f.now.Add(40 * 24 * time.Hour) // well before renewal is due
	second := mustOpenTLS(t, f.options())

	if !bytes.Equal(first.CACert(), second.CACert()) {
		t.Error("restart made a new CA, want the same one")
	}
	if !bytes.Equal(first.Certificate().Certificate[0], second.Certificate().Certificate[0]) {
		t.Error("restart issued a new server certificate, want the same one")
	}
	if first.PublicURL() != second.PublicURL() {
		t.Errorf("public URL: got %s after restart, want %s", second.PublicURL(), first.PublicURL())
	}
}

func TestServerCertificateRenewal(t *testing.T) {
	tests := []struct {
		name    string
		change  func(f *tlsFixture, leaf *x509.Certificate)
		restart bool // open again; otherwise the running server checks on a handshake
		renewed bool
		covers  string
	}{
		{
			name:    "near expiry, on restart",
			change:  func(f *tlsFixture, leaf *x509.Certificate) { f.now = leaf.NotAfter.Add(-29 * 24 * time.Hour) },
			restart: true, renewed: true, covers: LocalName,
		},
		{
			name:    "near expiry, while running",
			change:  func(f *tlsFixture, leaf *x509.Certificate) { f.now = leaf.NotAfter.Add(-29 * 24 * time.Hour) },
			renewed: true,
		},
		{
			name:   "far from expiry, while running",
			change: func(f *tlsFixture, leaf *x509.Certificate) { f.now = leaf.NotAfter.Add(-31 * 24 * time.Hour) },
		},
		{
			name: "address added, on restart",
			change: func(f *tlsFixture, _ *x509.Certificate) {
				f.names.IPs = append(f.names.IPs, net.ParseIP("10.42.0.7"))
			},
			restart: true, renewed: true, covers: "10.42.0.7",
		},
		{
			name: "address changed, at the daily check",
			change: func(f *tlsFixture, _ *x509.Certificate) {
				f.names.IPs = []net.IP{net.ParseIP("192.168.8.20"), net.ParseIP("172.20.1.9")}
				f.now = f.now.Add(25 * time.Hour)
			},
			renewed: true, covers: "172.20.1.9",
		},
		{
			name: "address changed, check not due yet",
			change: func(f *tlsFixture, _ *x509.Certificate) {
				f.names.IPs = []net.IP{net.ParseIP("192.168.8.20"), net.ParseIP("172.20.1.9")}
				f.now = f.now.Add(time.Hour)
			},
		},
		{
			// The CA may only vouch for the names it was made with: the new
			// name is left out (renew-ca makes a CA for it), the old one goes.
			name:    "hostname changed, on restart",
			change:  func(f *tlsFixture, _ *x509.Certificate) { f.names.DNS = []string{"bus-2", "bus-2.local"} },
			restart: true, renewed: true, covers: LocalName,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTLSFixture(t)
			tl := mustOpenTLS(t, f.options())
			before := handshakeCert(t, tl)
			caBefore := tl.CACert()

			tt.change(f, before.Leaf)
			if tt.restart {
				tl = mustOpenTLS(t, f.options())
			}
			after := handshakeCert(t, tl)

			if !bytes.Equal(tl.CACert(), caBefore) {
				t.Fatal("the CA changed, want the same CA")
			}
			renewed := !bytes.Equal(before.Certificate[0], after.Certificate[0])
			if renewed != tt.renewed {
				t.Fatalf("renewed: got %v, want %v", renewed, tt.renewed)
			}
			hosts := []string{LocalName, "192.168.8.20"}
			if tt.covers != "" {
				hosts = append(hosts, tt.covers)
			}
			verifyFor(t, caCertificate(t, tl), after.Leaf, f.now, hosts...)
			if tt.renewed && !after.Leaf.NotAfter.After(before.Leaf.NotAfter) && tt.covers == "" {
				t.Errorf("renewed certificate expires %v, want later than %v", after.Leaf.NotAfter, before.Leaf.NotAfter)
			}
			// The renewed certificate is what the next start finds.
			if tt.renewed && !tt.restart {
				again := mustOpenTLS(t, f.options())
				if !bytes.Equal(again.Certificate().Certificate[0], after.Certificate[0]) {
					t.Error("restart after renewal issued yet another certificate, want the renewed one")
				}
			}
		})
	}
}

func TestOpenTLSRefusesDamagedCA(t *testing.T) {
	f := newTLSFixture(t)
	mustOpenTLS(t, f.options())
	caBefore, err := os.ReadFile(filepath.Join(f.dir, caCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.dir, caKeyFile)); err != nil {
		t.Fatal(err)
	}

	_, err = OpenTLS(f.options())
	if err == nil || !strings.Contains(err.Error(), "move") {
		t.Fatalf("got error %v, want one that says how to start over", err)
	}
	caAfter, _ := os.ReadFile(filepath.Join(f.dir, caCertFile))
	if !bytes.Equal(caBefore, caAfter) {
		t.Error("the CA certificate was replaced, want it left alone: tablets trust it")
	}
}
