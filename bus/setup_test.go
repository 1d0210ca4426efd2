package bus

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// setupServer makes a bus server on a fresh store with tls (nil: plain HTTP).
func setupServer(tb testing.TB, cfg Config, tl *TLS) *Server {
	tb.Helper()
	cfg.DataDir = filepath.Join(tb.TempDir(), "bus")
	cfg.TLS = tl
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	store := mustOpenStore(tb, cfg.DataDir, nil)
	tb.Cleanup(func() { store.Close() })
	return NewServer(cfg, store, testLogger(tb))
}

func TestSetupPage(t *testing.T) {
	f := newTLSFixture(t)
	local := mustOpenTLS(t, f.options())
	certPEM, keyPEM := outsideCert(t, "bus7.wijkbus.example", tlsStart.AddDate(0, 6, 0))
	provOpts := newTLSFixture(t).options()
	dir := t.TempDir()
	provOpts.CertFile = writeTestFile(t, dir, "bus.crt", certPEM)
	provOpts.KeyFile = writeTestFile(t, dir, "bus.key", keyPEM)
	provided := mustOpenTLS(t, provOpts)

	tests := []struct {
		name    string
		cfg     Config
		tls     *TLS
		want    []string
		notWant []string
		caCode  int
	}{
		{
			name: "local CA",
			cfg:  Config{Addr: ":8443", PublicURL: local.PublicURL()},
			tls:  local,
			want: []string{
				`<html lang="nl">`, `lang="en"`, "Tablet instellen", "Setting up a tablet",
				local.CAFingerprint(), local.CAName(), `href="/setup/ca.crt"`,
				"Certificaatvertrouwensinstellingen", "Certificate Trust Settings", "CA-certificaat",
				`src="data:image/png;base64,`, "https://192.168.8.20:8443/setup",
				"Op een iPad: altijd via het beginscherm", "On an iPad: always from the Home Screen",
			},
			caCode: http.StatusOK,
		},
		{
			name:    "provided certificate",
			cfg:     Config{Addr: ":8443", PublicURL: provided.PublicURL(), TLSCert: "c", TLSKey: "k"},
			tls:     provided,
			want:    []string{"hoeft geen certificaat te installeren", "do not need to install a certificate", "https://bus7.wijkbus.example:8443/setup", "Op een iPad: altijd via het beginscherm", "On an iPad: always from the Home Screen"},
			notWant: []string{`href="/setup/ca.crt"`, "Certificaatvertrouwensinstellingen"},
			caCode:  http.StatusNotFound,
		},
		{
			name:    "plain HTTP on loopback",
			cfg:     Config{Addr: "127.0.0.1:8080"},
			want:    []string{"niets te installeren", "nothing to install", "http://example.com/setup"},
			notWant: []string{`href="/setup/ca.crt"`},
			caCode:  http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := setupServer(t, tt.cfg, tt.tls)

			resp, err := s.App().Test(httptest.NewRequest(http.MethodGet, "/setup", nil))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /setup: got %d, want 200: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type: got %q, want text/html", got)
			}
			if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") {
				t.Errorf("Content-Security-Policy: got %q, want default-src 'none'", got)
			}
			for _, w := range tt.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if bytes.Contains(body, []byte(w)) {
					t.Errorf("page has %q, want it left out", w)
				}
			}

			resp, err = s.App().Test(httptest.NewRequest(http.MethodGet, "/setup/ca.crt", nil))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.caCode {
				t.Fatalf("GET /setup/ca.crt: got %d, want %d", resp.StatusCode, tt.caCode)
			}
			if tt.caCode == http.StatusOK {
				der, _ := io.ReadAll(resp.Body)
				if got := resp.Header.Get("Content-Type"); got != "application/x-x509-ca-cert" {
					t.Errorf("Content-Type: got %q, want application/x-x509-ca-cert", got)
				}
				if !bytes.Equal(der, tt.tls.CACert()) {
					t.Error("ca.crt is not the CA's certificate")
				}
			}
		})
	}
}

// TestHTTPS serves the bus on a real listener with its TLS config and talks
// to it as a tablet that trusts only the bus's CA.
func TestHTTPS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newTLSFixture(t)
	opts := f.options()
	opts.Listen = ln.Addr()
	opts.Now = nil // a real handshake checks validity against the real clock
	tl := mustOpenTLS(t, opts)
	s := setupServer(t, Config{Addr: ln.Addr().String(), PublicURL: tl.PublicURL()}, tl)

	served := make(chan error, 1)
	go func() { served <- s.Serve(tls.NewListener(ln, tl.Config())) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
	})

	roots := x509.NewCertPool()
	ca, err := x509.ParseCertificate(tl.CACert())
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(ca)
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
	}
	t.Cleanup(client.CloseIdleConnections)
	base := "https://" + ln.Addr().String()

	tests := []struct {
		path     string
		wantType string
		wantBody []byte
	}{
		{"/healthz", "application/json", []byte(`"status":"ok"`)},
		{"/setup", "text/html", []byte(tl.CAFingerprint())},
		{"/setup/ca.crt", "application/x-x509-ca-cert", tl.CACert()},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(base + tt.path)
			if err != nil {
				t.Fatalf("GET %s: %v", tt.path, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: got %d, want 200: %s", tt.path, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type: got %q, want %s", got, tt.wantType)
			}
			if !bytes.Contains(body, tt.wantBody) {
				t.Errorf("body lacks %.60q", tt.wantBody)
			}
			if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
				t.Errorf("connection state %+v, want TLS 1.2 or later", resp.TLS)
			}
		})
	}

	t.Run("untrusting client refused", func(t *testing.T) {
		plain := &http.Client{Timeout: 10 * time.Second}
		if resp, err := plain.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			t.Fatal("a client without the bus's CA connected, want a certificate error")
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 handshake succeeded, want it refused")
		}
	})
}
