package bus

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Service workers only run in a secure context, and off loopback that means
// HTTPS. The bus cannot get a public certificate for a laptop in a van, so it
// makes its own certificate authority once, the crew install that CA on each
// tablet once through /setup, and the bus issues itself short-lived server
// certificates under it. A certificate the municipality provides replaces all
// of that.

// LocalName is the name every server certificate of the local CA covers, so
// that a router that hands it out in DNS (or mDNS) works without new
// certificates.
const LocalName = "infobus.local"

// ServerCertLifetime is how long a server certificate of the local CA lives.
// Apple accepts at most 825 days for certificates under a user-installed
// root and 398 for public ones; since 15 March 2026 the CA/Browser Forum caps
// public certificates at 200 days (100 from March 2027, 47 from March 2029).
// 180 days stays inside every one of those limits that applies in 2026, with
// room for the hour the start is backdated, and costs nothing: renewal is
// automatic and invisible to tablets, which trust the CA, not the
// certificate.
const ServerCertLifetime = 180 * 24 * time.Hour

const (
	// caYears is how long the local CA lives. Tablets install it once;
	// replacing it means visiting every tablet again.
	caYears = 10
	// renewBefore: a server certificate with less left than this is renewed.
	renewBefore = 30 * 24 * time.Hour
	// checkEvery is how often a running server looks at its certificate
	// again: expiry and a new network both move slowly.
	checkEvery = 24 * time.Hour
	// retryAfter is how soon a failed renewal is tried again.
	retryAfter = time.Hour
	// backdate covers tablets whose clock runs a little behind the laptop's.
	backdate = time.Hour
)

// Files inside TLSOptions.Dir. The server certificate and its key share one
// file so that a single rename replaces both: a power cut never leaves a
// certificate beside someone else's key.
const (
	caCertFile     = "ca.crt"
	caKeyFile      = "ca.key"
	serverCertFile = "server.pem"
)

// TLSOptions configure the bus's HTTPS.
type TLSOptions struct {
	// Dir holds the local CA and the server certificate; made 0700.
	Dir string
	// CertFile and KeyFile are a certificate chain and key in PEM that the
	// municipality provides; when given, they are used instead of the local
	// CA. Both or neither.
	CertFile, KeyFile string
	// Listen is the address the server listens on: its port goes into a
	// derived public URL, a specific IP into the certificate.
	Listen net.Addr
	// PublicURL is the configured URL tablets use; its host is always in the
	// certificate. Empty: derived, see TLS.PublicURL.
	PublicURL string
	// RecordedURL is the public URL the previous start used, so that a
	// derived URL, and with it the tablets' origin, survives a restart.
	RecordedURL string
	// Names returns the hostname and LAN addresses to cover; asked again on
	// every check, because the laptop moves between networks. Default
	// MachineNames.
	Names func() (CertNames, error)
	Now   func() time.Time
	Log   *slog.Logger
}

// Validate fills defaults and checks settings that depend on each other.
func (o *TLSOptions) Validate() error {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if o.CertFile == "" && o.Dir == "" {
		return errors.New("tls: no directory for the local CA")
	}
	if _, ok := o.Listen.(*net.TCPAddr); !ok {
		return fmt.Errorf("tls: listen address %v is not a TCP address", o.Listen)
	}
	if o.Names == nil {
		o.Names = MachineNames
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// TLS is the bus's HTTPS material: the local CA and the server certificate it
// renews, or a provided certificate.
type TLS struct {
	opts      TLSOptions
	publicURL string
	derived   bool
	// ca and caKey are nil with a provided certificate.
	ca    *x509.Certificate
	caKey crypto.Signer
	cert  atomic.Pointer[tls.Certificate]
	// mu serializes checks; nextCheck is when the next one is due.
	mu        sync.Mutex
	nextCheck time.Time
}

// OpenTLS loads the provided certificate, or loads the local CA from
// opts.Dir (making it on first start) and a server certificate under it,
// renewing that when it is near expiry or no longer covers this machine's
// names. Its errors name the file at fault and say what to do.
func OpenTLS(opts TLSOptions) (*TLS, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := &TLS{opts: opts}
	if opts.CertFile != "" {
		return t, t.openProvided()
	}
	now := opts.Now()
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls dir: %w", err)
	}
	machine, err := opts.Names()
	if err != nil {
		return nil, err
	}
	if err := t.loadOrCreateCA(machine, now); err != nil {
		return nil, err
	}
	if err := t.choosePublicURL(machine); err != nil {
		return nil, err
	}
	current, err := t.loadServerCert()
	// No certificate yet is the first start, not a problem: one is issued
	// below either way.
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		opts.Log.Warn("server certificate unusable, issuing a new one", "file", filepath.Join(opts.Dir, serverCertFile), "err", err)
	}
	want := t.wantNames(machine)
	if reason := t.renewalReason(current, want, now); reason != "" {
		current, err = t.issue(want, now)
		if err != nil {
			return nil, err
		}
		opts.Log.Info("issued server certificate", "reason", reason, "expires", current.Leaf.NotAfter.Format(time.DateOnly),
			"dns", current.Leaf.DNSNames, "ips", current.Leaf.IPAddresses)
	}
	t.cert.Store(current)
	t.nextCheck = now.Add(checkEvery)
	return t, nil
}

// Config returns the server's tls.Config: TLS 1.2 at least, and the
// certificate picked per handshake, so that a renewal takes effect without a
// restart.
func (t *TLS) Config() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: t.getCertificate,
		NextProtos:     []string{"http/1.1"}, // fasthttp speaks no HTTP/2
	}
}

// PublicURL is the URL tablets use: the configured one; else, with a
// provided certificate, its first DNS name; else the listen IP when it is
// specific; else the one the previous start used, so the tablets' origin
// survives restarts; else the first private IPv4 LAN address (then any
// IPv4, then IPv6). The port is the listen port.
func (t *TLS) PublicURL() string { return t.publicURL }

// PublicURLDerived reports whether PublicURL was derived rather than
// configured, so the caller can tell the operator how to pin it.
func (t *TLS) PublicURLDerived() bool { return t.derived }

// Provided reports whether the certificate was provided rather than issued by
// the local CA; tablets then need nothing installed.
func (t *TLS) Provided() bool { return t.ca == nil }

// CACert returns the local CA's certificate in DER, or nil with a provided
// certificate.
func (t *TLS) CACert() []byte {
	if t.ca == nil {
		return nil
	}
	return t.ca.Raw
}

// CAName is the local CA's common name, as tablets list it.
func (t *TLS) CAName() string {
	if t.ca == nil {
		return ""
	}
	return t.ca.Subject.CommonName
}

// CAFingerprint is the SHA-256 fingerprint of the local CA in the form
// Android and openssl print it (AB:CD:…), or "" with a provided certificate.
func (t *TLS) CAFingerprint() string {
	if t.ca == nil {
		return ""
	}
	return Fingerprint(t.ca.Raw)
}

// Fingerprint formats the SHA-256 of a DER certificate as colon-separated
// uppercase hex pairs.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(pairs, ":")
}

// Certificate returns the certificate served now.
func (t *TLS) Certificate() *tls.Certificate { return t.cert.Load() }

// getCertificate runs on every handshake. It checks the certificate when the
// daily check is due, so that even a server nobody talked to for weeks never
// hands out an expired one, and no goroutine needs stopping.
func (t *TLS) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if t.ca != nil {
		t.Check()
	}
	return t.cert.Load(), nil
}

func (t *TLS) listenIP() net.IP {
	ip := t.opts.Listen.(*net.TCPAddr).IP
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return ip
}

func (t *TLS) listenPort() int { return t.opts.Listen.(*net.TCPAddr).Port }
