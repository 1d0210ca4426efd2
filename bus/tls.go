package bus

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// ServesTLS reports whether the server speaks HTTPS: always off loopback,
// because tablets need a secure context; on loopback (development, the demo)
// only when a certificate is provided.
func (c *Config) ServesTLS() bool {
	return c.TLSCert != "" || !isLoopbackAddr(c.Addr)
}

// validateTLS checks the TLS settings; Validate calls it.
func (c *Config) validateTLS() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.PublicURL != "" && c.ServesTLS() && !strings.HasPrefix(strings.ToLower(c.PublicURL), "https://") {
		return fmt.Errorf("--public-url %q: must be an https URL, because the bus serves HTTPS on %s", c.PublicURL, c.Addr)
	}
	return nil
}

// isLoopbackAddr reports whether a host:port listens on loopback only. An
// empty host listens everywhere, so it is not loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CertNames are the DNS names and IP addresses a server certificate covers.
type CertNames struct {
	DNS []string
	IPs []net.IP
}

// add appends host as a DNS name or an address.
func (n *CertNames) add(host string) {
	if ip := net.ParseIP(host); ip != nil {
		n.IPs = append(n.IPs, ip)
	} else if host != "" {
		n.DNS = append(n.DNS, host)
	}
}

// normalized returns the names lowercased, deduplicated and sorted, with
// IPv4 addresses in their 4-byte form, so that two sets compare by value.
func (n CertNames) normalized() CertNames {
	var out CertNames
	for _, d := range n.DNS {
		out.DNS = append(out.DNS, strings.ToLower(strings.TrimSuffix(d, ".")))
	}
	slices.Sort(out.DNS)
	out.DNS = slices.Compact(out.DNS)
	for _, ip := range n.IPs {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		out.IPs = append(out.IPs, ip)
	}
	slices.SortFunc(out.IPs, func(a, b net.IP) int { return bytes.Compare(a, b) })
	out.IPs = slices.CompactFunc(out.IPs, func(a, b net.IP) bool { return a.Equal(b) })
	return out
}

func (n CertNames) equal(o CertNames) bool {
	a, b := n.normalized(), o.normalized()
	return slices.Equal(a.DNS, b.DNS) && slices.EqualFunc(a.IPs, b.IPs, func(x, y net.IP) bool { return x.Equal(y) })
}

// MachineNames returns this machine's hostname (with ".local" added to a
// bare one, the name mDNS answers to) and its LAN addresses: the unicast
// addresses of interfaces that are up and have a link, in the order the
// system lists them. Loopback and IPv6 link-local addresses are left out: a
// tablet cannot use the one, and a browser cannot put the other in a URL.
func MachineNames() (CertNames, error) {
	var n CertNames
	if h, err := os.Hostname(); err == nil {
		n.DNS = hostnameNames(h)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return n, fmt.Errorf("list network interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagRunning == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue // an interface that vanished while we looked
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && isLANAddress(ipn.IP) {
				n.IPs = append(n.IPs, ipn.IP)
			}
		}
	}
	return n, nil
}

func isLANAddress(ip net.IP) bool {
	switch {
	case ip.IsLoopback(), ip.IsUnspecified(), ip.IsMulticast():
		return false
	case ip.To4() == nil && ip.IsLinkLocalUnicast():
		return false
	}
	return ip.IsGlobalUnicast() || ip.IsLinkLocalUnicast()
}

// hostnameNames turns a hostname into the DNS names a certificate can carry;
// a name that is not a valid DNS name (Windows allows underscores) gives none.
func hostnameNames(h string) []string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if !validDNSName(h) {
		return nil
	}
	if !strings.Contains(h, ".") {
		return []string{h, h + ".local"}
	}
	return []string{h}
}

func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

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
	if err != nil {
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

// Check renews the server certificate if a check is due and it is near
// expiry or no longer covers this machine's names. A failed renewal is
// logged and tried again later; the old certificate stays in use meanwhile.
func (t *TLS) Check() {
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Before(t.nextCheck) {
		return
	}
	if err := t.renew(now); err != nil {
		t.opts.Log.Error("server certificate not renewed", "err", err, "retry_in", retryAfter)
		t.nextCheck = now.Add(retryAfter)
		return
	}
	t.nextCheck = now.Add(checkEvery)
}

func (t *TLS) renew(now time.Time) error {
	machine, err := t.opts.Names()
	if err != nil {
		return err
	}
	want := t.wantNames(machine)
	reason := t.renewalReason(t.cert.Load(), want, now)
	if reason == "" {
		return nil
	}
	cert, err := t.issue(want, now)
	if err != nil {
		return err
	}
	t.cert.Store(cert)
	t.opts.Log.Info("renewed server certificate", "reason", reason, "expires", cert.Leaf.NotAfter.Format(time.DateOnly),
		"dns", cert.Leaf.DNSNames, "ips", cert.Leaf.IPAddresses)
	return nil
}

// wantNames is what the server certificate must cover: LocalName, the
// machine's names, a specific listen IP and the public URL's host.
func (t *TLS) wantNames(machine CertNames) CertNames {
	want := CertNames{DNS: []string{LocalName}}
	want.DNS = append(want.DNS, machine.DNS...)
	want.IPs = append(want.IPs, machine.IPs...)
	if ip := t.listenIP(); ip != nil {
		want.IPs = append(want.IPs, ip)
	}
	if u, err := url.Parse(t.publicURL); err == nil {
		want.add(u.Hostname())
	}
	return want.normalized()
}

// renewalReason says why cert must be replaced, or "" if it can stay.
func (t *TLS) renewalReason(cert *tls.Certificate, want CertNames, now time.Time) string {
	if cert == nil || cert.Leaf == nil {
		return "no server certificate yet"
	}
	leaf := cert.Leaf
	switch {
	case leaf.CheckSignatureFrom(t.ca) != nil:
		return "not issued by this CA"
	case now.Before(leaf.NotBefore):
		return "not valid yet; the clock went back"
	case now.Add(renewBefore).After(leaf.NotAfter):
		return "expires " + leaf.NotAfter.Format(time.DateOnly)
	case leaf.NotAfter.Sub(leaf.NotBefore) > ServerCertLifetime:
		return "lives longer than tablets accept"
	case !want.equal(CertNames{DNS: leaf.DNSNames, IPs: leaf.IPAddresses}):
		return "names or addresses changed"
	}
	return ""
}

func (t *TLS) listenIP() net.IP {
	ip := t.opts.Listen.(*net.TCPAddr).IP
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return ip
}

func (t *TLS) listenPort() int { return t.opts.Listen.(*net.TCPAddr).Port }

// httpsURL makes the public URL for host on the listen port.
func (t *TLS) httpsURL(host string) string {
	port := t.listenPort()
	if port == 443 {
		if strings.Contains(host, ":") {
			return "https://[" + host + "]"
		}
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// choosePublicURL settles the URL tablets use; see PublicURL. The URL is the
// origin the tablets' queued records belong to, so a derived one prefers the
// previous start's over whatever address DHCP handed out today.
func (t *TLS) choosePublicURL(machine CertNames) error {
	if t.opts.PublicURL != "" {
		t.publicURL = t.opts.PublicURL
		return nil
	}
	t.derived = true
	if ip := t.listenIP(); ip != nil {
		t.publicURL = t.httpsURL(ip.String())
		return nil
	}
	if u := t.usableRecordedURL(); u != "" {
		t.publicURL = u
		host := urlHost(u)
		if ip := net.ParseIP(host); ip != nil && !slices.ContainsFunc(machine.IPs, ip.Equal) {
			t.opts.Log.Warn("this machine no longer has the address tablets use; they cannot reach the bus until it has again "+
				"(reserve it in the router's DHCP), or start with --public-url to move them to another origin",
				"public_url", u, "addresses", machine.IPs)
		}
		return nil
	}
	ip := preferredAddress(machine.IPs)
	if ip == nil {
		return errors.New("no LAN address to make the public URL from: connect the laptop to the van's network, or give --public-url")
	}
	t.publicURL = t.httpsURL(ip.String())
	return nil
}

// usableRecordedURL is the recorded URL if it still fits: HTTPS on the port
// the server listens on.
func (t *TLS) usableRecordedURL() string {
	u, err := url.Parse(t.opts.RecordedURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	if port != strconv.Itoa(t.listenPort()) {
		return ""
	}
	return strings.TrimSuffix(t.opts.RecordedURL, "/")
}

func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// preferredAddress picks the address for a derived URL: the first private
// IPv4 (a van's router hands out those), then the first IPv4, then the first
// address at all, in the order the system lists them.
func preferredAddress(ips []net.IP) net.IP {
	for _, ip := range ips {
		if ip.To4() != nil && ip.IsPrivate() {
			return ip
		}
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip
		}
	}
	if len(ips) > 0 {
		return ips[0]
	}
	return nil
}

// openProvided loads the provided certificate and key, once.
func (t *TLS) openProvided() error {
	certPEM, err := os.ReadFile(t.opts.CertFile)
	if err != nil {
		return fmt.Errorf("--tls-cert: cannot read the certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(t.opts.KeyFile)
	if err != nil {
		return fmt.Errorf("--tls-key: cannot read the key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("--tls-cert %s and --tls-key %s are not a certificate and its key: %w", t.opts.CertFile, t.opts.KeyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("--tls-cert %s: %w", t.opts.CertFile, err)
		}
	}
	now := t.opts.Now()
	if now.After(cert.Leaf.NotAfter) {
		return fmt.Errorf("--tls-cert %s expired on %s; ask for a new one", t.opts.CertFile, cert.Leaf.NotAfter.Format(time.DateOnly))
	}
	if now.Add(renewBefore).After(cert.Leaf.NotAfter) {
		t.opts.Log.Warn("the provided certificate expires soon; replace it and restart the bus",
			"file", t.opts.CertFile, "expires", cert.Leaf.NotAfter.Format(time.DateOnly))
	}
	t.cert.Store(&cert)
	t.derived = t.opts.PublicURL == ""
	switch {
	case !t.derived:
		t.publicURL = t.opts.PublicURL
	case firstPlainDNSName(cert.Leaf) != "":
		t.publicURL = t.httpsURL(firstPlainDNSName(cert.Leaf))
	default:
		machine, err := t.opts.Names()
		if err != nil {
			return err
		}
		if err := t.choosePublicURL(machine); err != nil {
			return err
		}
	}
	if err := cert.Leaf.VerifyHostname(urlHost(t.publicURL)); err != nil {
		t.opts.Log.Warn("the provided certificate does not cover the public URL; tablets will refuse it",
			"public_url", t.publicURL, "err", err)
	}
	return nil
}

// firstPlainDNSName is the certificate's first DNS name that is not a
// wildcard, which a URL can use as it is.
func firstPlainDNSName(c *x509.Certificate) string {
	for _, d := range c.DNSNames {
		if !strings.Contains(d, "*") {
			return d
		}
	}
	return ""
}

// loadOrCreateCA loads the CA from the dir, or makes one when there is none.
// The CA is what every tablet trusts, so an existing but damaged CA is an
// error, never a reason to make a new one silently.
func (t *TLS) loadOrCreateCA(machine CertNames, now time.Time) error {
	certPath := filepath.Join(t.opts.Dir, caCertFile)
	keyPath := filepath.Join(t.opts.Dir, caKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		// The certificate is written last, so a key without it is from a first
		// start that stopped halfway; no tablet can have installed that CA.
		return t.createCA(machine, now)
	}
	if err != nil {
		return fmt.Errorf("local CA %s: %w", certPath, err)
	}
	startOver := fmt.Sprintf("; restore it from a backup, or move %s away to make a new CA, which every tablet must then install again", t.opts.Dir)
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return fmt.Errorf("local CA key %s: %w%s", keyPath, err, startOver)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("local CA %s and %s: %w%s", certPath, keyPath, err, startOver)
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || !ca.IsCA {
		return fmt.Errorf("local CA %s is not a CA certificate%s", certPath, startOver)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("local CA key %s cannot sign%s", keyPath, startOver)
	}
	if info, err := os.Stat(keyPath); err == nil && info.Mode().Perm()&0o077 != 0 {
		t.opts.Log.Warn("the local CA key is readable by others; it should be 0600", "file", keyPath, "mode", info.Mode().Perm())
	}
	if now.AddDate(1, 0, 0).After(ca.NotAfter) {
		t.opts.Log.Warn("the local CA expires within a year; plan to make a new one and install it on every tablet",
			"expires", ca.NotAfter.Format(time.DateOnly))
	}
	t.ca, t.caKey = ca, signer
	return nil
}

func (t *TLS) createCA(machine CertNames, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	// A name that tells this laptop's CA from another's in a tablet's list.
	name := "Infobus CA"
	for _, d := range machine.DNS {
		if !strings.HasSuffix(d, ".local") {
			name += " " + d
			break
		}
	}
	name += " " + now.Format(time.DateOnly)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Infobus"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs server certificates, never other CAs
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(t.opts.Dir, caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(t.opts.Dir, caCertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	t.ca, t.caKey = ca, key
	t.opts.Log.Info("made a new local CA; install it on each tablet through /setup", "name", name, "sha256", Fingerprint(der))
	return nil
}

// loadServerCert reads the stored server certificate; (nil, nil) when there
// is none yet.
func (t *TLS) loadServerCert() (*tls.Certificate, error) {
	data, err := os.ReadFile(filepath.Join(t.opts.Dir, serverCertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &cert, nil
}

// issue makes a server certificate for names under the CA and stores it.
func (t *TLS) issue(names CertNames, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-backdate)
	notAfter := notBefore.Add(ServerCertLifetime)
	if notAfter.After(t.ca.NotAfter) {
		notAfter = t.ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: LocalName, Organization: []string{"Infobus"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, // iOS requires it
		BasicConstraintsValid: true,
		DNSNames:              names.DNS,
		IPAddresses:           names.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, t.ca, &key.PublicKey, t.caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var file bytes.Buffer
	pem.Encode(&file, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&file, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeFileAtomic(filepath.Join(t.opts.Dir, serverCertFile), file.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, and the new one survives a power cut once this
// returns.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Syncing the directory makes the rename itself durable. Windows cannot
	// sync a directory and does not need to, so a failure here is no error.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// RecordedPublicURL returns the public URL the previous start recorded, or ""
// if none was.
func (s *Store) RecordedPublicURL(ctx context.Context) (string, error) {
	u, err := s.Setting(ctx, settingPublicURL)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return u, err
}
