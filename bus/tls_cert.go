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
	"net/url"
	"os"
	"path/filepath"
	"time"
)

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
	return t.permitted(want.normalized())
}

// permitted drops the names the CA may not vouch for: a certificate that
// named one would fail every tablet's check. The bus says which, once per
// renewal.
func (t *TLS) permitted(want CertNames) CertNames {
	var out CertNames
	var dropped []string
	for _, d := range want.DNS {
		if permits(t.ca, d) {
			out.DNS = append(out.DNS, d)
		} else {
			dropped = append(dropped, d)
		}
	}
	for _, ip := range want.IPs {
		if permits(t.ca, ip.String()) {
			out.IPs = append(out.IPs, ip)
		} else {
			dropped = append(dropped, ip.String())
		}
	}
	if len(dropped) > 0 {
		t.opts.Log.Warn("names left out of the server certificate: the local CA may not vouch for them (run `infobus bus renew-ca` after a rename)",
			"names", dropped)
	}
	return out
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

// loadServerCert reads the stored server certificate. Its error wraps
// fs.ErrNotExist when there is none yet.
func (t *TLS) loadServerCert() (*tls.Certificate, error) {
	data, err := os.ReadFile(filepath.Join(t.opts.Dir, serverCertFile))
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
