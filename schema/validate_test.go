package schema

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

// validVisit is a complete visit that passes every rule; cases change one thing.
func validVisit() Visit {
	return Visit{
		ID:        "019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f",
		DeviceID:  "tablet-1",
		Crew:      "Fatima",
		Stop:      "Paul Krugerlaan",
		VisitedAt: "2026-11-26T14:05:00+01:00",
		Business: Business{
			Name: "Bakkerij De Korenschoof",
			KvK:  "27312345",
			Address: Address{
				Street: "Paul Krugerlaan", Number: "101a", Postcode: "2571 JA", City: "Den Haag",
			},
		},
		Wijk:     "WK051832",
		Sector:   "detailhandel",
		Topics:   []string{"vergunningen", "parkeren"},
		Notes:    "Wil een terrasvergunning.\nVraagt naar laden en lossen.",
		Language: "nl",
		Consent:  Consent{Given: true, TextVersion: ConsentTextVersion, At: "2026-11-26T14:06:00+01:00"},
		Contact:  &Contact{Name: "J. de Vries", Phone: "06-12345678", Email: "info@korenschoof.nl"},
		Rating:   intp(6),
		FollowUps: []FollowUp{{
			ID: "019ac0de-7c2b-7000-8000-000000000001", Kind: KindCallback,
			Description: "Terugbellen over terrasvergunning", Department: "vergunningen", DueDate: "2026-12-10",
		}},
		Rev:       1,
		CreatedAt: "2026-11-26T14:05:00+01:00",
		UpdatedAt: "2026-11-26T14:07:00+01:00",
	}
}

func TestVisitValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(v *Visit)
		want   []string // bad fields, exactly; nil means valid
	}{
		{"complete visit", func(v *Visit) {}, nil},
		{"minimal visit", func(v *Visit) {
			*v = Visit{ID: v.ID, Rev: 1, VisitedAt: v.VisitedAt, Business: Business{Name: "Kapsalon Noor"}, Wijk: "WK051828", Topics: []string{"overig"}}
		}, nil},
		{"kvk with spaces is normalized", func(v *Visit) { v.Business.KvK = "2731 2345" }, nil},
		{"kvk with leading zero", func(v *Visit) { v.Business.KvK = "01234567" }, nil},
		{"kvk seven digits", func(v *Visit) { v.Business.KvK = "2731234" }, []string{"business.kvk"}},
		{"kvk nine digits", func(v *Visit) { v.Business.KvK = "273123456" }, []string{"business.kvk"}},
		{"kvk letters", func(v *Visit) { v.Business.KvK = "2731234A" }, []string{"business.kvk"}},
		{"postcode lower case without space", func(v *Visit) { v.Business.Address.Postcode = "2571ja" }, nil},
		{"postcode starting with 0", func(v *Visit) { v.Business.Address.Postcode = "0571 JA" }, []string{"business.address.postcode"}},
		{"postcode letters SS", func(v *Visit) { v.Business.Address.Postcode = "2571 SS" }, []string{"business.address.postcode"}},
		{"postcode letters SA", func(v *Visit) { v.Business.Address.Postcode = "2571 SA" }, []string{"business.address.postcode"}},
		{"postcode letters SD", func(v *Visit) { v.Business.Address.Postcode = "2571 SD" }, []string{"business.address.postcode"}},
		{"postcode one letter", func(v *Visit) { v.Business.Address.Postcode = "2571 J" }, []string{"business.address.postcode"}},
		{"phone +31", func(v *Visit) { v.Contact.Phone = "+31 6 1234 5678" }, nil},
		{"phone 0031", func(v *Visit) { v.Contact.Phone = "0031612345678" }, nil},
		{"phone The Hague", func(v *Visit) { v.Contact.Phone = "070 353 3000" }, nil},
		{"phone too short", func(v *Visit) { v.Contact.Phone = "0612345" }, []string{"contact.phone"}},
		{"phone foreign", func(v *Visit) { v.Contact.Phone = "+32 470 12 34 56" }, []string{"contact.phone"}},
		{"phone 00 after 0", func(v *Visit) { v.Contact.Phone = "0012345678" }, []string{"contact.phone"}},
		{"email without domain dot", func(v *Visit) { v.Contact.Email = "info@korenschoof" }, []string{"contact.email"}},
		{"email with display name", func(v *Visit) { v.Contact.Email = "Jan <jan@example.nl>" }, []string{"contact.email"}},
		{"email two at signs", func(v *Visit) { v.Contact.Email = "a@b@example.nl" }, []string{"contact.email"}},
		{"contact without consent", func(v *Visit) {
			v.Consent = Consent{}
			v.FollowUps = nil
		}, []string{"contact.name", "contact.phone", "contact.email"}},
		{"empty contact without consent", func(v *Visit) {
			v.Consent = Consent{}
			v.Contact = &Contact{Name: "  "}
			v.FollowUps = nil
		}, nil},
		{"consent needs text version and time", func(v *Visit) { v.Consent.TextVersion, v.Consent.At = "", "" }, []string{"consent.text_version", "consent.at"}},
		{"panel without consent", func(v *Visit) {
			v.Consent, v.Contact, v.FollowUps = Consent{}, nil, nil
			v.PanelOptIn = true
		}, []string{"panel_opt_in"}},
		{"rating 0", func(v *Visit) { v.Rating = intp(0) }, []string{"rating"}},
		{"rating 11", func(v *Visit) { v.Rating = intp(11) }, []string{"rating"}},
		{"rating 1 and 10", func(v *Visit) { v.Rating = intp(10) }, nil},
		{"no rating", func(v *Visit) { v.Rating = nil }, nil},
		{"unknown wijk", func(v *Visit) { v.Wijk = "WK051845" }, []string{"wijk"}},
		{"missing wijk", func(v *Visit) { v.Wijk = "" }, []string{"wijk"}},
		{"wijk lower case", func(v *Visit) { v.Wijk = "wk051801" }, nil},
		{"unknown topic", func(v *Visit) { v.Topics = []string{"vergunningen", "bsn"} }, []string{"topics[1]"}},
		{"topic twice", func(v *Visit) { v.Topics = []string{"parkeren", "parkeren"} }, []string{"topics[1]"}},
		{"no topics", func(v *Visit) { v.Topics = nil }, []string{"topics"}},
		{"unknown sector", func(v *Visit) { v.Sector = "mining" }, []string{"sector"}},
		{"unknown language", func(v *Visit) { v.Language = "xx" }, []string{"language"}},
		{"notes at the limit", func(v *Visit) { v.Notes = strings.Repeat("é", MaxNotes) }, nil},
		{"notes over the limit", func(v *Visit) { v.Notes = strings.Repeat("a", MaxNotes+1) }, []string{"notes"}},
		{"name missing", func(v *Visit) { v.Business.Name = "  " }, []string{"business.name"}},
		{"name too long", func(v *Visit) { v.Business.Name = strings.Repeat("a", MaxName+1) }, []string{"business.name"}},
		{"name with control character", func(v *Visit) { v.Business.Name = "Bakkerij\x00" }, []string{"business.name"}},
		{"id not a uuid", func(v *Visit) { v.ID = "visit-1" }, []string{"id"}},
		{"id uuid v4", func(v *Visit) { v.ID = "0b3c1f7e-2a4d-4c1b-9e7f-3a2b1c0d9e8f" }, []string{"id"}},
		{"id upper case is normalized", func(v *Visit) { v.ID = strings.ToUpper(v.ID) }, nil},
		{"rev 0", func(v *Visit) { v.Rev = 0 }, []string{"rev"}},
		{"visited_at without offset", func(v *Visit) { v.VisitedAt = "2026-11-26T14:05:00" }, []string{"visited_at"}},
		{"visited_at missing", func(v *Visit) { v.VisitedAt = "" }, []string{"visited_at"}},
		{"updated_at garbage", func(v *Visit) { v.UpdatedAt = "gisteren" }, []string{"updated_at"}},
		{"follow-up unknown kind", func(v *Visit) { v.FollowUps[0].Kind = "fax" }, []string{"followups[0].kind"}},
		{"follow-up missing description", func(v *Visit) { v.FollowUps[0].Description = "" }, []string{"followups[0].description"}},
		{"follow-up unknown department", func(v *Visit) { v.FollowUps[0].Department = "ict" }, []string{"followups[0].department"}},
		{"follow-up bad due date", func(v *Visit) { v.FollowUps[0].DueDate = "2026-02-30" }, []string{"followups[0].due_date"}},
		{"follow-up bad code", func(v *Visit) { v.FollowUps[0].Code = "AB?D" }, []string{"followups[0].code"}},
		{"follow-up code", func(v *Visit) { v.FollowUps[0].Code = "hq7k-2m4x-9p" }, nil},
		{"callback needs phone", func(v *Visit) { v.Contact.Phone = "" }, []string{"followups[0].kind"}},
		{"e-mail follow-up needs address", func(v *Visit) {
			v.FollowUps[0].Kind = KindEmail
			v.Contact.Email = ""
		}, []string{"followups[0].kind"}},
		{"referral needs no contact", func(v *Visit) {
			v.Consent, v.Contact = Consent{}, nil
			v.FollowUps[0].Kind = KindReferral
		}, nil},
		{"follow-up id twice", func(v *Visit) {
			f := v.FollowUps[0]
			f.Kind = KindVisit
			v.FollowUps = append(v.FollowUps, f)
		}, []string{"followups[1].id"}},
		{"too many follow-ups", func(v *Visit) {
			for i := 0; i < MaxFollowUps; i++ {
				f := v.FollowUps[0]
				f.ID = "019ac0de-7c2b-7000-8000-0000000001" + string(rune('a'+i/10)) + string(rune('0'+i%10))
				v.FollowUps = append(v.FollowUps, f)
			}
		}, []string{"followups"}},
		{"several bad fields at once", func(v *Visit) {
			v.Business.KvK = "123"
			v.Business.Address.Postcode = "25 AB"
			v.Contact.Email = "nope"
			v.Rating = intp(12)
			v.Wijk = "WK9999"
		}, []string{"business.kvk", "business.address.postcode", "contact.email", "rating", "wijk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validVisit()
			tt.change(&v)
			v.Normalize()
			err := v.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError for %v", err, tt.want)
			}
			got := slices.Sorted(maps.Keys(ve.Fields))
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Fatalf("bad fields: got %v, want %v", got, want)
			}
			for f, p := range ve.Fields {
				if p.EN == "" || p.NL == "" {
					t.Errorf("%s: message missing in a language: %+v", f, p)
				}
			}
		})
	}
}

func TestNormalizeStoredForms(t *testing.T) {
	v := validVisit()
	v.Business.Address.Postcode = " 2571 ja "
	v.Contact.Phone = "+31 (0)6-1234 5678"
	v.Business.KvK = "2731.2345"
	v.Normalize()
	if got, want := v.Business.Address.Postcode, "2571JA"; got != want {
		t.Errorf("postcode: got %q, want %q", got, want)
	}
	if got, want := FormatPostcode(v.Business.Address.Postcode), "2571 JA"; got != want {
		t.Errorf("formatted postcode: got %q, want %q", got, want)
	}
	if got, want := v.Business.KvK, "27312345"; got != want {
		t.Errorf("kvk: got %q, want %q", got, want)
	}
	// "+31 (0)6…" is a common way to write it, but the (0) must go; we
	// refuse rather than guess.
	if err := v.Validate(); err == nil {
		t.Errorf("got valid for phone %q, want refused", v.Contact.Phone)
	}
}

func TestFeedbackValidate(t *testing.T) {
	good := Feedback{ID: "019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f", Code: "HQ7K-2M4X", Rating: 8, ContactPreference: PreferNone, CreatedAt: "2026-11-27T09:00:00Z"}
	if err := good.Validate(); err != nil {
		t.Fatalf("got %v, want valid", err)
	}
	bad := good
	bad.Rating, bad.ContactPreference, bad.Comment = 0, "fax", strings.Repeat("x", MaxComment+1)
	var ve *ValidationError
	if err := bad.Validate(); !errors.As(err, &ve) || len(ve.Fields) != 3 {
		t.Fatalf("got %v, want rating, contact_preference and comment refused", err)
	}
}

func TestReference(t *testing.T) {
	if got, want := len(Ref.Wijken), 44; got != want {
		t.Fatalf("wijken: got %d, want %d", got, want)
	}
	for i, w := range Ref.Wijken {
		if want := "WK0518" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10)); w.Code != want {
			t.Errorf("wijk %d: got code %s, want %s", i, w.Code, want)
		}
	}
	if w, _ := Ref.Wijk("WK051807"); w.Name != "Scheveningen" || w.Stadsdeel != "Scheveningen" {
		t.Errorf("WK051807: got %+v", w)
	}
	if got := len(Ref.Stadsdelen()); got != 8 {
		t.Errorf("stadsdelen: got %d, want 8 (%v)", got, Ref.Stadsdelen())
	}
	for _, terms := range [][]Term{Ref.Topics, Ref.Departments, Ref.Sectors, Ref.Languages} {
		for _, term := range terms {
			if term.Code == "" || term.NL == "" || term.EN == "" {
				t.Errorf("incomplete term %+v", term)
			}
		}
	}
}
