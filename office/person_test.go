package office

import "testing"

// TestPersonMentions: the comment check finds a phone number however it is
// written, and only the person's.
func TestPersonMentions(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Person
		text string
		want bool
	}{
		{"trunk and dashes", Person{Phone: "0612345678"}, "bel 06-1234 5678 aub", true},
		{"country code", Person{Phone: "0612345678"}, "tel. +31 (0)6 12345678", true},
		{"0031", Person{Phone: "+31612345678"}, "0031612345678", true},
		{"another number", Person{Phone: "0612345678"}, "bel 06-1234 5679", false},
		{"numbers apart", Person{Phone: "0612345678"}, "06, 12345678", false},
		{"e-mail any case", Person{Email: "a.b@example.nl"}, "Mail A.B@Example.NL", true},
		{"e-mail not there", Person{Email: "a.b@example.nl"}, "mail ab@example.nl", false},
		{"kvk", Person{KvK: "27312345"}, "KvK 2731 2345", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Normalize(); err != nil {
				t.Fatal(err)
			}
			if got := tc.p.mentions(tc.text); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
