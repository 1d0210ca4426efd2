package office

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// FuzzLoginNext feeds the login form's return address (and the pages'
// ?next=) to safeNext: whatever comes in, what goes out is a path on this
// site, never another site, a scheme or a protocol-relative address.
func FuzzLoginNext(f *testing.F) {
	for _, s := range []string{"/", "/staff?done=1", "//evil.example", "/\\evil.example", "https://evil.example",
		"/%2F%2Fevil", "javascript:alert(1)", "/a\nb", "", "staff", "/\x00", "/.//evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q leaves this site", next, got)
		}
	})
}

// FuzzPersonSelector feeds forget's and export-person's selectors to
// Normalize: exactly one field set afterwards, or a validation error.
// plainNumber is a phone number as people write one: digits and
// separators, a + only in front.
var plainNumber = regexp.MustCompile(`^\s*\+?[0-9 .()\-]*$`)

func FuzzPersonSelector(f *testing.F) {
	f.Add("Info@Example.nl", "", "")
	f.Add("", "06 1234 5678", "")
	f.Add("", "", "2731 2345")
	f.Add("a", "b", "")
	f.Add(" ", "\t", "\n")
	f.Add("", "+31 (0)6 12345678", "")
	f.Add("", "0031 6 1234 5678", "")
	f.Fuzz(func(t *testing.T, email, phone, kvk string) {
		p := Person{Email: email, Phone: phone, KvK: kvk}
		if err := p.Normalize(); err != nil {
			return
		}
		set := 0
		for _, v := range []string{p.Email, p.Phone, p.KvK} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("normalized %+v has %d fields set, want 1", p, set)
		}
		if strings.Contains(p.kind(), "@") {
			t.Fatalf("audit subject %q holds the address", p.kind())
		}
		// A number written as the selector was, in a comment, is found
		// there (forget erases such comments).
		if p.Phone != "" && plainNumber.MatchString(phone) && nationalDigits(p.Phone) != "" && !p.mentions("Bel mij op "+phone+", graag.") {
			t.Fatalf("a comment with %q does not mention %+v", phone, p)
		}
		if p.Email != "" && !p.mentions("Mail "+strings.ToUpper(email)+" aub") && strings.ToLower(strings.ToUpper(email)) == strings.ToLower(email) {
			t.Fatalf("a comment with %q does not mention %+v", email, p)
		}
	})
}
