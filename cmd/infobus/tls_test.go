package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"infobus/bus"
)

// runTLSBus runs a BusMain in this process and stops it at cleanup.
func runTLSBus(t *testing.T, cfg bus.Config) *BusMain {
	t.Helper()
	m := &BusMain{Config: cfg, Log: slog.New(slog.DiscardHandler)}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// httpsGet fetches path from the bus at addr, trusting only roots and
// naming the server serverName, as a tablet that installed the CA would.
func httpsGet(t *testing.T, addr net.Addr, serverName string, roots *x509.CertPool, path string) (int, []byte) {
	t.Helper()
	port := addr.(*net.TCPAddr).Port
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(port) + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestBusServesHTTPSOffLoopback runs the bus on every interface, as in the
// van, twice on one data dir: the CA and the certificate must survive the
// restart, because tablets trust that CA and their data belongs to the URL.
func TestBusServesHTTPSOffLoopback(t *testing.T) {
	dataDir := t.TempDir()
	cfg := bus.Config{Addr: "0.0.0.0:0", DataDir: dataDir, PublicURL: "https://infobus.local"}
	var firstCA, firstCert []byte
	for run := 1; run <= 2; run++ {
		m := runTLSBus(t, cfg)
		if m.URL != "https://infobus.local" {
			t.Errorf("run %d: URL %s, want https://infobus.local", run, m.URL)
		}
		caPEM, err := os.ReadFile(filepath.Join(dataDir, "tls", "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(caPEM)
		if code, body := httpsGet(t, m.ln.Addr(), "infobus.local", roots, "/healthz"); code != http.StatusOK {
			t.Fatalf("run %d: /healthz got %d, want 200: %s", run, code, body)
		}
		serverPEM, err := os.ReadFile(filepath.Join(dataDir, "tls", "server.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if run == 1 {
			firstCA, firstCert = caPEM, serverPEM
		} else {
			if !bytes.Equal(caPEM, firstCA) {
				t.Error("restart made a new CA, want the same one")
			}
			if !bytes.Equal(serverPEM, firstCert) {
				t.Error("restart issued a new server certificate, want the same one")
			}
		}
		recorded, err := m.Store.RecordedPublicURL(context.Background())
		if err != nil || recorded != "https://infobus.local" {
			t.Errorf("run %d: recorded public URL %q (%v), want https://infobus.local for pairing links", run, recorded, err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// providedPair writes a certificate for name, under a CA of its own, and its
// key; it returns the files and the CA.
func providedPair(t *testing.T, dir, name string) (certFile, keyFile string, ca *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA " + name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(47 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, ca
}

func TestBusServesProvidedCertificate(t *testing.T) {
	certFile, keyFile, ca := providedPair(t, t.TempDir(), "bus7.wijkbus.example")
	dataDir := t.TempDir()
	m := runTLSBus(t, bus.Config{Addr: "127.0.0.1:0", DataDir: dataDir, TLSCert: certFile, TLSKey: keyFile})
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	code, body := httpsGet(t, m.ln.Addr(), "bus7.wijkbus.example", roots, "/setup")
	if code != http.StatusOK || !strings.Contains(string(body), "geen certificaat te installeren") {
		t.Fatalf("/setup: got %d, want 200 saying no CA install is needed: %.200s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "tls")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tls dir: got %v, want no local CA beside a provided certificate", err)
	}
}

func TestBusRefusesBadCertificateFlags(t *testing.T) {
	dir := t.TempDir()
	certFile, _, _ := providedPair(t, dir, "a.example")
	_, otherKey, _ := providedPair(t, dir, "b.example")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"mismatched pair", []string{"--tls-cert", certFile, "--tls-key", otherKey}, "are not a certificate and its key"},
		{"unreadable certificate", []string{"--tls-cert", filepath.Join(dir, "nope.crt"), "--tls-key", otherKey}, "cannot read"},
		{"certificate alone", []string{"--tls-cert", certFile}, "both or neither"},
		{"plain public URL off loopback", []string{"--addr", "0.0.0.0:0", "--public-url", "http://192.168.8.20:8443"}, "must be an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bus", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, tt.args...)
			err := run(context.Background(), args, io.Discard, io.Discard)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a usage error (exit code 2) containing %q", err, tt.want)
			}
		})
	}
}
