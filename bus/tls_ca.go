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
	"os"
	"path/filepath"
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

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}
