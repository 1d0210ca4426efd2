package bus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"
)

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
