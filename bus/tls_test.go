package bus

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
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
			restart: true, renewed: true,
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
			name:    "hostname changed, on restart",
			change:  func(f *tlsFixture, _ *x509.Certificate) { f.names.DNS = []string{"bus-2", "bus-2.local"} },
			restart: true, renewed: true, covers: "bus-2.local",
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

func TestPublicURL(t *testing.T) {
	tests := []struct {
		name     string
		listen   net.IP
		port     int
		public   string
		recorded string
		ips      []string
		want     string
		derived  bool
		wantErr  bool
	}{
		{name: "configured", public: "https://infobus.local:8443", ips: []string{"192.168.8.20"}, want: "https://infobus.local:8443"},
		{name: "configured name goes into the certificate", public: "https://bus7.wijkbus.example:8443", ips: []string{"192.168.8.20"}, want: "https://bus7.wijkbus.example:8443"},
		{name: "specific listen IP", listen: net.ParseIP("192.168.8.21"), ips: []string{"192.168.8.20", "192.168.8.21"}, want: "https://192.168.8.21:8443", derived: true},
		{name: "first private IPv4", ips: []string{"fd00::20", "203.0.113.5", "192.168.8.20", "10.0.0.2"}, want: "https://192.168.8.20:8443", derived: true},
		{name: "public IPv4 without a private one", ips: []string{"fd00::20", "203.0.113.5"}, want: "https://203.0.113.5:8443", derived: true},
		{name: "IPv6 only", ips: []string{"fd00::20"}, want: "https://[fd00::20]:8443", derived: true},
		{name: "port 443 left out", port: 443, ips: []string{"192.168.8.20"}, want: "https://192.168.8.20", derived: true},
		{name: "recorded kept when the address moved", recorded: "https://192.168.8.20:8443", ips: []string{"192.168.9.4"}, want: "https://192.168.8.20:8443", derived: true},
		{name: "recorded on another port ignored", recorded: "https://192.168.8.20:9443", ips: []string{"192.168.9.4"}, want: "https://192.168.9.4:8443", derived: true},
		{name: "recorded plain HTTP ignored", recorded: "http://127.0.0.1:8080", ips: []string{"192.168.9.4"}, want: "https://192.168.9.4:8443", derived: true},
		{name: "no address at all", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTLSFixture(t)
			f.names.IPs = nil
			for _, s := range tt.ips {
				f.names.IPs = append(f.names.IPs, net.ParseIP(s))
			}
			opts := f.options()
			port := tt.port
			if port == 0 {
				port = 8443
			}
			listen := tt.listen
			if listen == nil {
				listen = net.IPv4zero
			}
			opts.Listen = &net.TCPAddr{IP: listen, Port: port}
			opts.PublicURL, opts.RecordedURL = tt.public, tt.recorded

			tl, err := OpenTLS(opts)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got public URL %s, want an error", tl.PublicURL())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tl.PublicURL(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if got := tl.PublicURLDerived(); got != tt.derived {
				t.Errorf("derived: got %v, want %v", got, tt.derived)
			}
			// Whatever the URL, the certificate must cover its host.
			verifyFor(t, caCertificate(t, tl), tl.Certificate().Leaf, f.now, urlHost(tl.PublicURL()))
		})
	}
}

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

func TestConfigTLS(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantTLS   bool
		wantError string
	}{
		{name: "loopback IPv4", cfg: Config{Addr: "127.0.0.1:8080"}},
		{name: "loopback IPv6", cfg: Config{Addr: "[::1]:8080"}},
		{name: "localhost", cfg: Config{Addr: "localhost:8080"}},
		{name: "every interface", cfg: Config{Addr: ":8443"}, wantTLS: true},
		{name: "unspecified IPv4", cfg: Config{Addr: "0.0.0.0:8443"}, wantTLS: true},
		{name: "LAN address", cfg: Config{Addr: "192.168.8.20:8443"}, wantTLS: true},
		{name: "loopback with a provided certificate", cfg: Config{Addr: "127.0.0.1:8443", TLSCert: "c.pem", TLSKey: "k.pem"}, wantTLS: true},
		{name: "certificate without key", cfg: Config{Addr: ":8443", TLSCert: "c.pem"}, wantTLS: true, wantError: "both or neither"},
		{name: "key without certificate", cfg: Config{Addr: ":8443", TLSKey: "k.pem"}, wantTLS: true, wantError: "both or neither"},
		{name: "plain public URL off loopback", cfg: Config{Addr: ":8443", PublicURL: "http://192.168.8.20:8443"}, wantTLS: true, wantError: "must be an https URL"},
		{name: "plain public URL on loopback", cfg: Config{Addr: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.ServesTLS(); got != tt.wantTLS {
				t.Errorf("ServesTLS: got %v, want %v", got, tt.wantTLS)
			}
			err := tt.cfg.Validate()
			switch {
			case tt.wantError == "" && err != nil:
				t.Errorf("Validate: got %v, want no error", err)
			case tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)):
				t.Errorf("Validate: got %v, want an error containing %q", err, tt.wantError)
			}
		})
	}
}

func TestHostnameNames(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"Bus-Laptop", []string{"bus-laptop", "bus-laptop.local"}},
		{"bus7.wijkbus.example.", []string{"bus7.wijkbus.example"}},
		{"DESKTOP_4F2", nil},
		{"-bad", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := hostnameNames(tt.host); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMachineNamesLeavesOutLoopback(t *testing.T) {
	names, err := MachineNames()
	if err != nil {
		t.Skipf("cannot list interfaces here: %v", err)
	}
	for _, ip := range names.IPs {
		if ip.IsLoopback() || (ip.To4() == nil && ip.IsLinkLocalUnicast()) {
			t.Errorf("got %v among the LAN addresses, want no loopback or IPv6 link-local", ip)
		}
	}
}
