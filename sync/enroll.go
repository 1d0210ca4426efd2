package sync

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"infobus/schema"
)

// enrollPrefix starts every enrollment string, so that a person pasting
// the wrong thing gets a clear message, and a later format can be told apart.
const enrollPrefix = "infobus-enroll-v1."

// CodeKeySize is the length of a bus's follow-up code key in bytes.
const CodeKeySize = 32

// Enrollment is what a bus needs to sync with an office: where it is, who
// the bus is, the secret that proves it, and the key the bus and the office
// share to make and check follow-up codes.
type Enrollment struct {
	OfficeURL string `json:"office_url"`
	BusID     string `json:"bus_id"`
	BusToken  string `json:"bus_token"`
	CodeKey   []byte `json:"code_key"` // base64 in JSON
	// CodePrefix starts every follow-up code this bus issues; the office
	// assigns it, unique among its buses. Strings made before codes
	// existed lack it: such a bus syncs but cannot issue codes.
	CodePrefix string `json:"code_prefix,omitempty"`
}

// String encodes e as one line a person can copy: a prefix and
// base64url JSON, without padding.
func (e Enrollment) String() string {
	b, _ := json.Marshal(e)
	return enrollPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseEnrollment reads a string made by Enrollment.String, forgiving the
// white space a copy from a terminal or an e-mail adds.
func ParseEnrollment(s string) (Enrollment, error) {
	s = strings.Join(strings.Fields(s), "")
	rest, ok := strings.CutPrefix(s, enrollPrefix)
	if !ok {
		return Enrollment{}, fmt.Errorf("not an enrollment string: it should start with %q (made by `infobus office add-bus`)", enrollPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		return Enrollment{}, fmt.Errorf("enrollment string is damaged (copy it again): %v", err)
	}
	var e Enrollment
	if err := json.Unmarshal(b, &e); err != nil {
		return Enrollment{}, fmt.Errorf("enrollment string is damaged (copy it again): %v", err)
	}
	return e, e.Validate()
}

// ErrPlainHTTP is wrapped by Validate's error for an office URL with plain
// http that is not this machine, so that the office's pages can explain
// the rule instead of failing.
var ErrPlainHTTP = errors.New("plain http office URL")

// Validate checks that every part of an enrollment is there and usable.
func (e Enrollment) Validate() error {
	u, err := url.Parse(e.OfficeURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("enrollment: office URL %q is not an http or https URL", e.OfficeURL)
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		return fmt.Errorf("enrollment: office URL %q is plain http: the bus token and personal data would cross the network unencrypted; use https (plain http only on this machine, 127.0.0.1 or localhost): %w", e.OfficeURL, ErrPlainHTTP)
	case e.BusID == "":
		return fmt.Errorf("enrollment: bus id is missing")
	case len(e.BusToken) < 32:
		return fmt.Errorf("enrollment: bus token is missing or too short")
	case len(e.CodeKey) != CodeKeySize:
		return fmt.Errorf("enrollment: code key must be %d bytes, got %d", CodeKeySize, len(e.CodeKey))
	case e.CodePrefix != "" && !schema.ValidCodePrefix(e.CodePrefix):
		return fmt.Errorf("enrollment: code prefix %q is not %d symbols of %s", e.CodePrefix, schema.CodePrefixLength, schema.CodeAlphabet)
	}
	return nil
}

// loopbackHost reports whether host names this machine: the only place
// where plain HTTP to the office is allowed (the demo, tests).
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
