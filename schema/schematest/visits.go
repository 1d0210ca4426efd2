// Package schematest holds visits for the tests of other packages: one that
// passes every rule of schema.Validate, and a table of changes that each
// break some rules (or, as a control, none). The tablet's checker runs the
// same table (pwa's TestRulesParity), so that every rule is shown to read the
// same on both sides.
package schematest

import (
	"strconv"
	"strings"

	"infobus/schema"
)

// VisitCase changes a valid visit; Want lists exactly the fields Validate
// then refuses, nil for none.
type VisitCase struct {
	Name   string
	Change func(v *schema.Visit)
	Want   []string
}

func intp(n int) *int { return &n }

// ValidVisit returns a complete visit that passes every rule; cases change
// one thing.
func ValidVisit() schema.Visit {
	return schema.Visit{
		ID:        "019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f",
		DeviceID:  "tablet-1",
		Crew:      "Fatima",
		Stop:      "Paul Krugerlaan",
		VisitedAt: "2026-11-26T14:05:00+01:00",
		Business: schema.Business{
			Name: "Bakkerij De Korenschoof",
			KvK:  "27312345",
			Address: schema.Address{
				Street: "Paul Krugerlaan", Number: "101a", Postcode: "2571 JA", City: "Den Haag",
			},
		},
		Wijk:     "WK051832",
		Sector:   "detailhandel",
		Topics:   []string{"vergunningen", "parkeren"},
		Notes:    "Wil een terrasvergunning.\nVraagt naar laden en lossen.",
		Language: "nl",
		Consent:  schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: "2026-11-26T14:06:00+01:00"},
		Contact:  &schema.Contact{Name: "J. de Vries", Phone: "06-12345678", Email: "info@korenschoof.nl"},
		Rating:   intp(6),
		FollowUps: []schema.FollowUp{{
			ID: "019ac0de-7c2b-7000-8000-000000000001", Kind: schema.KindCallback,
			Description: "Terugbellen over terrasvergunning", Department: "vergunningen", DueDate: "2026-12-10",
		}},
		Rev:       1,
		CreatedAt: "2026-11-26T14:05:00+01:00",
		UpdatedAt: "2026-11-26T14:07:00+01:00",
	}
}

// VisitCases covers every rule of Visit.Validate, each message at least once.
var VisitCases = []VisitCase{
	{"complete visit", func(v *schema.Visit) {}, nil},
	{"minimal visit", func(v *schema.Visit) {
		*v = schema.Visit{ID: v.ID, Rev: 1, VisitedAt: v.VisitedAt, Business: schema.Business{Name: "Kapsalon Noor"}, Wijk: "WK051828", Topics: []string{"overig"}}
	}, nil},
	{"kvk with spaces is normalized", func(v *schema.Visit) { v.Business.KvK = "2731 2345" }, nil},
	{"kvk with leading zero", func(v *schema.Visit) { v.Business.KvK = "01234567" }, nil},
	{"kvk seven digits", func(v *schema.Visit) { v.Business.KvK = "2731234" }, []string{"business.kvk"}},
	{"kvk nine digits", func(v *schema.Visit) { v.Business.KvK = "273123456" }, []string{"business.kvk"}},
	{"kvk letters", func(v *schema.Visit) { v.Business.KvK = "2731234A" }, []string{"business.kvk"}},
	{"postcode lower case without space", func(v *schema.Visit) { v.Business.Address.Postcode = "2571ja" }, nil},
	{"postcode starting with 0", func(v *schema.Visit) { v.Business.Address.Postcode = "0571 JA" }, []string{"business.address.postcode"}},
	{"postcode letters SS", func(v *schema.Visit) { v.Business.Address.Postcode = "2571 SS" }, []string{"business.address.postcode"}},
	{"postcode letters SA", func(v *schema.Visit) { v.Business.Address.Postcode = "2571 SA" }, []string{"business.address.postcode"}},
	{"postcode letters SD", func(v *schema.Visit) { v.Business.Address.Postcode = "2571 SD" }, []string{"business.address.postcode"}},
	{"postcode one letter", func(v *schema.Visit) { v.Business.Address.Postcode = "2571 J" }, []string{"business.address.postcode"}},
	{"phone +31", func(v *schema.Visit) { v.Contact.Phone = "+31 6 1234 5678" }, nil},
	{"phone 0031", func(v *schema.Visit) { v.Contact.Phone = "0031612345678" }, nil},
	{"phone The Hague", func(v *schema.Visit) { v.Contact.Phone = "070 353 3000" }, nil},
	{"phone too short", func(v *schema.Visit) { v.Contact.Phone = "0612345" }, []string{"contact.phone"}},
	{"phone foreign", func(v *schema.Visit) { v.Contact.Phone = "+32 470 12 34 56" }, []string{"contact.phone"}},
	{"phone 00 after 0", func(v *schema.Visit) { v.Contact.Phone = "0012345678" }, []string{"contact.phone"}},
	{"email without domain dot", func(v *schema.Visit) { v.Contact.Email = "info@korenschoof" }, []string{"contact.email"}},
	{"email with display name", func(v *schema.Visit) { v.Contact.Email = "Jan <jan@example.nl>" }, []string{"contact.email"}},
	{"email two at signs", func(v *schema.Visit) { v.Contact.Email = "a@b@example.nl" }, []string{"contact.email"}},
	{"contact without consent", func(v *schema.Visit) {
		v.Consent = schema.Consent{}
		v.FollowUps = nil
	}, []string{"contact.name", "contact.phone", "contact.email"}},
	{"empty contact without consent", func(v *schema.Visit) {
		v.Consent = schema.Consent{}
		v.Contact = &schema.Contact{Name: "  "}
		v.FollowUps = nil
	}, nil},
	{"consent needs text version and time", func(v *schema.Visit) { v.Consent.TextVersion, v.Consent.At = "", "" }, []string{"consent.text_version", "consent.at"}},
	{"panel without consent", func(v *schema.Visit) {
		v.Consent, v.Contact, v.FollowUps = schema.Consent{}, nil, nil
		v.PanelOptIn = true
	}, []string{"panel_opt_in"}},
	{"rating 0", func(v *schema.Visit) { v.Rating = intp(0) }, []string{"rating"}},
	{"rating 11", func(v *schema.Visit) { v.Rating = intp(11) }, []string{"rating"}},
	{"rating 1 and 10", func(v *schema.Visit) { v.Rating = intp(10) }, nil},
	{"no rating", func(v *schema.Visit) { v.Rating = nil }, nil},
	{"unknown wijk", func(v *schema.Visit) { v.Wijk = "WK051845" }, []string{"wijk"}},
	{"missing wijk", func(v *schema.Visit) { v.Wijk = "" }, []string{"wijk"}},
	{"wijk lower case", func(v *schema.Visit) { v.Wijk = "wk051801" }, nil},
	{"unknown topic", func(v *schema.Visit) { v.Topics = []string{"vergunningen", "bsn"} }, []string{"topics[1]"}},
	{"topic twice", func(v *schema.Visit) { v.Topics = []string{"parkeren", "parkeren"} }, []string{"topics[1]"}},
	{"no topics", func(v *schema.Visit) { v.Topics = nil }, []string{"topics"}},
	{"unknown sector", func(v *schema.Visit) { v.Sector = "mining" }, []string{"sector"}},
	{"unknown language", func(v *schema.Visit) { v.Language = "xx" }, []string{"language"}},
	{"notes at the limit", func(v *schema.Visit) { v.Notes = strings.Repeat("é", schema.MaxNotes) }, nil},
	{"notes over the limit", func(v *schema.Visit) { v.Notes = strings.Repeat("a", schema.MaxNotes+1) }, []string{"notes"}},
	{"BSN in notes", func(v *schema.Visit) { v.Notes = "Haar BSN is 111222333, zei ze." }, []string{"notes"}},
	{"BSN in a follow-up description", func(v *schema.Visit) { v.FollowUps[0].Description = "Bel over 123456782" }, []string{"followups[0].description"}},
	{"BSN in the contact name", func(v *schema.Visit) { v.Contact.Name = "J. de Vries 111222333" }, []string{"contact.name"}},
	{"nine digits that fail the eleven-test", func(v *schema.Visit) { v.Notes = "Factuur 123456789 en telefoon 0612345678" }, nil},
	{"ten digits holding a BSN are no BSN", func(v *schema.Visit) { v.Notes = "Nummer 1111222333" }, nil},
	{"a device id with nine digits in a row is an id, not a BSN", func(v *schema.Visit) { v.DeviceID = "0193a5b7-0c1d-7abc-8123-a111222333ff" }, nil},
	{"name missing", func(v *schema.Visit) { v.Business.Name = "  " }, []string{"business.name"}},
	{"name too long", func(v *schema.Visit) { v.Business.Name = strings.Repeat("a", schema.MaxName+1) }, []string{"business.name"}},
	{"name with control character", func(v *schema.Visit) { v.Business.Name = "Bakkerij\x00" }, []string{"business.name"}},
	{"id not a uuid", func(v *schema.Visit) { v.ID = "visit-1" }, []string{"id"}},
	{"id uuid v4", func(v *schema.Visit) { v.ID = "0b3c1f7e-2a4d-4c1b-9e7f-3a2b1c0d9e8f" }, []string{"id"}},
	{"id upper case is normalized", func(v *schema.Visit) { v.ID = strings.ToUpper(v.ID) }, nil},
	{"rev 0", func(v *schema.Visit) { v.Rev = 0 }, []string{"rev"}},
	{"visited_at without offset", func(v *schema.Visit) { v.VisitedAt = "2026-11-26T14:05:00" }, []string{"visited_at"}},
	{"visited_at missing", func(v *schema.Visit) { v.VisitedAt = "" }, []string{"visited_at"}},
	{"updated_at garbage", func(v *schema.Visit) { v.UpdatedAt = "gisteren" }, []string{"updated_at"}},
	{"follow-up unknown kind", func(v *schema.Visit) { v.FollowUps[0].Kind = "fax" }, []string{"followups[0].kind"}},
	{"follow-up missing description", func(v *schema.Visit) { v.FollowUps[0].Description = "" }, []string{"followups[0].description"}},
	{"follow-up unknown department", func(v *schema.Visit) { v.FollowUps[0].Department = "ict" }, []string{"followups[0].department"}},
	{"follow-up bad due date", func(v *schema.Visit) { v.FollowUps[0].DueDate = "2026-02-30" }, []string{"followups[0].due_date"}},
	{"follow-up bad code", func(v *schema.Visit) { v.FollowUps[0].Code = "AB?D" }, []string{"followups[0].code"}},
	{"follow-up code", func(v *schema.Visit) { v.FollowUps[0].Code = "hq7k-2m4x-9p" }, nil},
	{"callback needs phone", func(v *schema.Visit) { v.Contact.Phone = "" }, []string{"followups[0].kind"}},
	{"e-mail follow-up needs address", func(v *schema.Visit) {
		v.FollowUps[0].Kind = schema.KindEmail
		v.Contact.Email = ""
	}, []string{"followups[0].kind"}},
	{"referral needs no contact", func(v *schema.Visit) {
		v.Consent, v.Contact = schema.Consent{}, nil
		v.FollowUps[0].Kind = schema.KindReferral
	}, nil},
	{"follow-up id twice", func(v *schema.Visit) {
		f := v.FollowUps[0]
		f.Kind = schema.KindVisit
		v.FollowUps = append(v.FollowUps, f)
	}, []string{"followups[1].id"}},
	{"too many follow-ups", func(v *schema.Visit) {
		for i := 0; i < schema.MaxFollowUps; i++ {
			f := v.FollowUps[0]
			f.ID = "019ac0de-7c2b-7000-8000-0000000001" + string(rune('a'+i/10)) + string(rune('0'+i%10))
			v.FollowUps = append(v.FollowUps, f)
		}
	}, []string{"followups"}},
	{"several bad fields at once", func(v *schema.Visit) {
		v.Business.KvK = "123"
		v.Business.Address.Postcode = "25 AB"
		v.Contact.Email = "nope"
		v.Rating = intp(12)
		v.Wijk = "WK9999"
	}, []string{"business.kvk", "business.address.postcode", "contact.email", "rating", "wijk"}},

	// Beyond schema's own table: every remaining rule and bound once.
	{"rev negative", func(v *schema.Visit) { v.Rev = -3 }, []string{"rev"}},
	{"created_at garbage", func(v *schema.Visit) { v.CreatedAt = "2026-13-01T00:00:00Z" }, []string{"created_at"}},
	{"visited_at leap day", func(v *schema.Visit) { v.VisitedAt = "2028-02-29T23:59:59.5Z" }, nil},
	{"visited_at no leap day", func(v *schema.Visit) { v.VisitedAt = "2026-02-29T10:00:00Z" }, []string{"visited_at"}},
	{"consent time garbage", func(v *schema.Visit) { v.Consent.At = "nu" }, []string{"consent.at"}},
	{"consent time without consent", func(v *schema.Visit) {
		v.Consent, v.Contact, v.FollowUps = schema.Consent{At: "nu"}, nil, nil
	}, []string{"consent.at"}},
	{"text version too long", func(v *schema.Visit) { v.Consent.TextVersion = strings.Repeat("1", schema.MaxTextVersion+1) }, []string{"consent.text_version"}},
	{"device id with a tab", func(v *schema.Visit) { v.DeviceID = "tablet\t1" }, []string{"device_id"}},
	{"crew too long", func(v *schema.Visit) { v.Crew = strings.Repeat("ö", schema.MaxShort+1) }, []string{"crew"}},
	{"stop too long", func(v *schema.Visit) { v.Stop = strings.Repeat("s", schema.MaxName+1) }, []string{"stop"}},
	{"street too long", func(v *schema.Visit) { v.Business.Address.Street = strings.Repeat("s", schema.MaxName+1) }, []string{"business.address.street"}},
	{"house number too long", func(v *schema.Visit) { v.Business.Address.Number = strings.Repeat("1", schema.MaxHouseNumber+1) }, []string{"business.address.number"}},
	{"city with DEL", func(v *schema.Visit) { v.Business.Address.City = "Den\x7fHaag" }, []string{"business.address.city"}},
	{"notes with a bell", func(v *schema.Visit) { v.Notes = "Bel\x07 terug" }, []string{"notes"}},
	{"notes with tabs and line breaks", func(v *schema.Visit) { v.Notes = "a\tb\r\nc" }, nil},
	{"too many topics", func(v *schema.Visit) {
		v.Topics = nil
		for _, t := range schema.Ref.Topics {
			v.Topics = append(v.Topics, t.Code)
		}
		v.Topics = append(v.Topics, schema.Ref.Topics[0].Code)
	}, []string{"topics"}}, // over the bound: one error for the list, none per entry
	{"contact name too long", func(v *schema.Visit) { v.Contact.Name = strings.Repeat("n", schema.MaxName+1) }, []string{"contact.name"}},
	{"email too long", func(v *schema.Visit) {
		v.Contact.Email = strings.Repeat("a", 60) + "@" + strings.Repeat("b", schema.MaxEmail-60) + ".nl"
	}, []string{"contact.email"}},
	{"email local part too long", func(v *schema.Visit) { v.Contact.Email = strings.Repeat("a", 65) + "@example.nl" }, []string{"contact.email"}},
	{"email plain", func(v *schema.Visit) { v.Contact.Email = "j.de-vries+bus@gemeente.denhaag.nl" }, nil},
	{"phone letters", func(v *schema.Visit) { v.Contact.Phone = "06-ABCDEFGH" }, []string{"contact.phone"}},
	{"follow-up id not a uuid", func(v *schema.Visit) { v.FollowUps[0].ID = "fu-1" }, []string{"followups[0].id"}},
	{"follow-up kind missing", func(v *schema.Visit) { v.FollowUps[0].Kind = "" }, []string{"followups[0].kind"}},
	{"follow-up e-mail with address", func(v *schema.Visit) { v.FollowUps[0].Kind = schema.KindEmail }, nil},
	{"follow-up description too long", func(v *schema.Visit) { v.FollowUps[0].Description = strings.Repeat("d", schema.MaxDescription+1) }, []string{"followups[0].description"}},
	{"follow-up description with NUL", func(v *schema.Visit) { v.FollowUps[0].Description = "a\x00" }, []string{"followups[0].description"}},
	{"follow-up code too long", func(v *schema.Visit) { v.FollowUps[0].Code = strings.Repeat("A", schema.MaxFollowUpCode+1) }, []string{"followups[0].code"}},
	{"follow-up code with a double dash", func(v *schema.Visit) { v.FollowUps[0].Code = "AB--CD" }, []string{"followups[0].code"}},
	{"follow-up due date not a date", func(v *schema.Visit) { v.FollowUps[0].DueDate = "10-12-2026" }, []string{"followups[0].due_date"}},
	{"everything wrong at once", func(v *schema.Visit) {
		*v = schema.Visit{Topics: []string{"bsn"}, Consent: schema.Consent{Given: true},
			Contact: &schema.Contact{Phone: "1"}, Rating: intp(0), PanelOptIn: true,
			FollowUps: []schema.FollowUp{{Kind: "fax"}, {Kind: schema.KindEmail}}}
	}, []string{"id", "rev", "visited_at", "business.name", "wijk", "topics[0]", "consent.text_version", "consent.at",
		"contact.phone", "rating", "followups[0].id", "followups[0].kind", "followups[0].description",
		"followups[1].id", "followups[1].kind", "followups[1].description"}},
}

// MessageKey returns the catalogue key whose wording p is, with any {n}
// filled in, or "" when p is in no entry of the catalogue.
func MessageKey(p schema.Problem) string {
	for key, m := range schema.Catalogue().Messages {
		if matches(m.EN, p.EN) && matches(m.NL, p.NL) {
			return key
		}
	}
	return ""
}

// matches reports whether s is the template with {n} read as a number.
func matches(template, s string) bool {
	before, after, ok := strings.Cut(template, "{n}")
	if !ok {
		return template == s
	}
	if !strings.HasPrefix(s, before) || !strings.HasSuffix(s, after) || len(s) < len(before)+len(after) {
		return false
	}
	_, err := strconv.Atoi(s[len(before) : len(s)-len(after)])
	return err == nil
}
