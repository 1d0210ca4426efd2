package bus

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

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
	if !Constrained(ca) {
		t.opts.Log.Warn("the local CA has no name constraints: whoever copies its key can impersonate any website to every tablet that installed it. "+
			"Run `infobus bus renew-ca` to replace it with one that can only vouch for the bus, then install the new CA on every tablet through /setup",
			"file", certPath)
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
	constrain(tmpl, t.caDomains(machine))
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

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// privateRanges are the addresses a constrained CA may vouch for: loopback,
// the private ranges (RFC 1918, RFC 4193) and link-local, where a bus's LAN
// lives. A public address never is.
var privateRanges = func() []*net.IPNet {
	var out []*net.IPNet
	for _, c := range []string{
		"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
		"::1/128", "fc00::/7", "fe80::/10",
	} {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}()

// caDomains are the DNS names a new CA may vouch for: LocalName (and names
// under it), localhost, the laptop's names, and the configured public URL's
// host when it is a name.
func (t *TLS) caDomains(machine CertNames) []string {
	out := []string{LocalName, "localhost"}
	out = append(out, machine.DNS...)
	if u, err := url.Parse(t.opts.PublicURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		out = append(out, strings.ToLower(u.Hostname()))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// constrain limits a CA template to domains and the private ranges, with
// the name constraints marked critical: a verifier that does not
// understand them must refuse the CA rather than ignore them.
func constrain(tmpl *x509.Certificate, domains []string) {
	tmpl.PermittedDNSDomainsCritical = true
	tmpl.PermittedDNSDomains = domains
	tmpl.PermittedIPRanges = privateRanges
}

// Constrained reports whether a CA carries critical name constraints that
// name at least one permitted domain or range.
func Constrained(ca *x509.Certificate) bool {
	return ca.PermittedDNSDomainsCritical && (len(ca.PermittedDNSDomains) > 0 || len(ca.PermittedIPRanges) > 0)
}

// permits reports whether ca may vouch for a DNS name (or an IP address,
// given as text). A CA without constraints permits everything.
func permits(ca *x509.Certificate, name string) bool {
	if ca == nil || !Constrained(ca) {
		return true
	}
	if ip := net.ParseIP(name); ip != nil {
		for _, n := range ca.PermittedIPRanges {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, d := range ca.PermittedDNSDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// RenewCA retires the local CA in dir: the old certificate and key move
// aside (ca-replaced-DATE.crt/.key) and the server certificate goes, so
// that the next start of the bus makes a new, constrained CA and issues
// under it. Every tablet must then install the new CA through /setup. It
// returns the names of the kept files.
func RenewCA(dir string, now time.Time) ([]string, error) {
	stamp := now.UTC().Format("20060102-150405")
	var kept []string
	for _, f := range []struct{ from, to string }{
		{caKeyFile, "ca-replaced-" + stamp + ".key"},
		{caCertFile, "ca-replaced-" + stamp + ".crt"},
	} {
		to := filepath.Join(dir, f.to)
		err := os.Rename(filepath.Join(dir, f.from), to)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return kept, fmt.Errorf("renew CA: %w", err)
		}
		kept = append(kept, to)
	}
	if err := os.Remove(filepath.Join(dir, serverCertFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return kept, fmt.Errorf("renew CA: %w", err)
	}
	return kept, nil
}
