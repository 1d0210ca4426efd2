package schematest

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"infobus/schema"
)

// TestVisitCases keeps the shared table honest: each case refuses exactly
// the fields it names, and together the cases use every message a visit
// can get, so a rule the table misses fails here rather than going
// unchecked on the tablet.
func TestVisitCases(t *testing.T) {
	used := map[string]bool{}
	for _, tc := range VisitCases {
		v := ValidVisit()
		tc.Change(&v)
		v.Normalize()
		err := v.Validate()
		var ve *schema.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("%s: got %v, want a *ValidationError", tc.Name, err)
		}
		var got []string
		if ve != nil {
			got = slices.Sorted(maps.Keys(ve.Fields))
			for f, p := range ve.Fields {
				key := MessageKey(p)
				if key == "" {
					t.Errorf("%s: %s: message %+v is not in the catalogue", tc.Name, f, p)
				}
				used[key] = true
			}
		}
		if want := slices.Sorted(slices.Values(tc.Want)); !slices.Equal(got, want) {
			t.Errorf("%s: bad fields: got %v, want %v", tc.Name, got, want)
		}
	}
	// Messages of the office's records, not of a visit.
	notVisit := map[string]bool{"status": true, "preference": true}
	for key := range schema.Catalogue().Messages {
		if !used[key] && !notVisit[key] {
			t.Errorf("no case gets message %q", key)
		}
	}
}

func TestCatalogue(t *testing.T) {
	c := schema.Catalogue()
	if c.Consent.Version != schema.ConsentTextVersion || c.Consent.EN == "" || c.Consent.NL == "" {
		t.Errorf("consent: got %+v, want the text in both languages with version %s", c.Consent, schema.ConsentTextVersion)
	}
	if got := schema.Ref.Rules; got != c {
		t.Errorf("reference lists carry rules %p, want the catalogue %p", got, c)
	}
	for _, tc := range []struct {
		name string
		p    schema.Problem
		want string
	}{
		{"plain", schema.Catalogue().Messages["kvk"], "kvk"},
		{"with a number", schema.Problem{EN: "must be at most 200 characters", NL: "mag hoogstens 200 tekens lang zijn"}, "max_len"},
		{"number missing", schema.Problem{EN: "must be at most  characters", NL: "mag hoogstens  tekens lang zijn"}, ""},
		{"languages of two rules", schema.Problem{EN: "must be 8 digits", NL: "is verplicht"}, ""},
	} {
		if got := MessageKey(tc.p); got != tc.want {
			t.Errorf("%s: MessageKey(%+v) = %q, want %q", tc.name, tc.p, got, tc.want)
		}
	}
}
