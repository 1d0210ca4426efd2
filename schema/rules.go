package schema

import (
	"strconv"
	"strings"
)

// The rule catalogue: every pattern, bound, list and message the visit rules
// use, in one place. Validate reads it here; the bus serves it to the tablet
// inside the reference lists (Reference.Rules), whose checker interprets it
// instead of keeping copies that drift.

// RulesFormat is the shape of the catalogue as served. Bump it when a field
// changes meaning, so that a tablet holding an older copy fetches a new one
// rather than misreading it.
const RulesFormat = 1

// ConsentTextVersion names the consent text below; visits record it with the
// consent. Change it with every change of the text.
const ConsentTextVersion = "2026-01"

// ConsentText is what the entrepreneur agrees to, as the tablet shows it.
var ConsentText = Problem{
	EN: "The entrepreneur consents to keeping contact details to follow up this conversation.",
	NL: "De ondernemer geeft toestemming om contactgegevens te bewaren voor de opvolging van dit gesprek.",
}

// The range of a rating, both ends included.
const (
	MinRating = 1
	MaxRating = 10
)

// Patterns, written in the part of the syntax that Go's regexp and
// JavaScript's RegExp read alike.
const (
	PatternUUIDv7   = `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`
	PatternKvK      = `^[0-9]{8}$`
	PatternPostcode = `^[1-9][0-9]{3}[A-Z]{2}$`
	PatternPhone    = `^(0[1-9][0-9]{8}|\+31[1-9][0-9]{8})$`
	PatternCode     = `^[0-9A-Z]+(-[0-9A-Z]+)*$`
)

// PostcodeExcluded are the letter pairs PostNL never gives out.
var PostcodeExcluded = []string{"SA", "SD", "SS"}

// messages words every rule in both languages. {n} stands for a number the
// rule carries (a length, a count).
var messages = map[string]Problem{
	"required":      {"is required", "is verplicht"},
	"uuidv7":        {"must be a UUIDv7 in lowercase hex", "moet een UUIDv7 zijn (kleine letters)"},
	"rev":           {"must be 1 or more", "moet 1 of hoger zijn"},
	"time":          {"must be a date and time in RFC 3339 with offset, like 2026-11-26T14:05:00+01:00", "moet een datum en tijd zijn in RFC 3339 met tijdzone, zoals 2026-11-26T14:05:00+01:00"},
	"date":          {"must be a date like 2026-12-31", "moet een datum zijn zoals 2026-12-31"},
	"kvk":           {"must be 8 digits", "moet uit 8 cijfers bestaan"},
	"postcode":      {"must be a Dutch postcode like 2511 AB", "moet een Nederlandse postcode zijn, zoals 2511 AB"},
	"phone":         {"must be a Dutch phone number: 10 digits starting with 0, or +31 and 9 digits", "moet een Nederlands telefoonnummer zijn: 10 cijfers beginnend met 0, of +31 en 9 cijfers"},
	"email":         {"must be an e-mail address like name@example.nl", "moet een e-mailadres zijn, zoals naam@voorbeeld.nl"},
	"wijk":          {"must be a CBS wijk code of The Hague (WK051801–WK051844)", "moet een CBS-wijkcode van Den Haag zijn (WK051801–WK051844)"},
	"topic":         {"must be a known topic", "moet een bekend onderwerp zijn"},
	"topic_twice":   {"is listed twice", "staat er twee keer in"},
	"topics_needed": {"needs at least one topic", "kies minstens één onderwerp"},
	"sector":        {"must be a known sector", "moet een bekende sector zijn"},
	"language":      {"must be a known language", "moet een bekende taal zijn"},
	"department":    {"must be a known department", "moet een bekende afdeling zijn"},
	"kind":          {"must be one of callback, email, visit, referral, information", "moet een van terugbellen, e-mail, bezoek, doorverwijzing, informatie zijn"},
	"rating":        {"must be a whole number from 1 to 10", "moet een heel getal van 1 tot en met 10 zijn"},
	"no_consent":    {"may only be filled in when the entrepreneur gave consent", "mag alleen worden ingevuld als de ondernemer toestemming gaf"},
	"panel_consent": {"needs the entrepreneur's consent", "kan alleen met toestemming van de ondernemer"},
	"callback":      {"a callback needs a phone number in the contact details", "voor terugbellen is een telefoonnummer bij de contactgegevens nodig"},
	"mailback":      {"an e-mail follow-up needs an e-mail address in the contact details", "voor een e-mail is een e-mailadres bij de contactgegevens nodig"},
	"id_twice":      {"is used by another follow-up", "wordt al door een andere vervolgactie gebruikt"},
	"code":          {"must be a follow-up code of letters and digits", "moet een vervolgcode van letters en cijfers zijn"},
	"status":        {"must be one of open, in_progress, done, cancelled", "moet open, in behandeling, afgehandeld of geannuleerd zijn"},
	"preference":    {"must be phone, email or none", "moet telefoon, e-mail of geen zijn"},
	"control":       {"must not contain control characters", "mag geen stuurtekens bevatten"},
	"bsn":           {"holds what looks like a citizen service number (BSN); a BSN must never be recorded", "bevat iets dat lijkt op een burgerservicenummer (BSN); een BSN mag nooit worden vastgelegd"},
	"max_len":       {"must be at most {n} characters", "mag hoogstens {n} tekens lang zijn"},
	"too_many":      {"may hold at most {n} entries", "mag hoogstens {n} items bevatten"},
}

// message returns the wording of a rule. An unknown key is a programming
// error that fails at start, in every test.
func message(key string) Problem {
	p, ok := messages[key]
	if !ok {
		panic("schema: no message " + key)
	}
	return p
}

// messageN returns the wording of a rule that carries a number.
func messageN(key string, n int) Problem {
	p := message(key)
	s := strconv.Itoa(n)
	return Problem{EN: strings.ReplaceAll(p.EN, "{n}", s), NL: strings.ReplaceAll(p.NL, "{n}", s)}
}

// Rules is the catalogue as the tablet receives it.
type Rules struct {
	Format           int                `json:"format"`
	Patterns         map[string]string  `json:"patterns"`
	PostcodeExcluded []string           `json:"postcode_excluded"`
	Max              map[string]int     `json:"max"`
	Rating           [2]int             `json:"rating"` // lowest and highest
	Kinds            []string           `json:"kinds"`
	Messages         map[string]Problem `json:"messages"`
	Consent          RulesConsent       `json:"consent"`
}

// RulesConsent is the consent text with its version.
type RulesConsent struct {
	Version string `json:"version"`
	Problem        // the text, in both languages
}

// Catalogue returns the rules for serving. Callers must not modify it.
func Catalogue() *Rules { return catalogue }

var catalogue = &Rules{
	Format: RulesFormat,
	Patterns: map[string]string{
		"uuidv7":   PatternUUIDv7,
		"kvk":      PatternKvK,
		"postcode": PatternPostcode,
		"phone":    PatternPhone,
		"code":     PatternCode,
	},
	PostcodeExcluded: PostcodeExcluded,
	Max: map[string]int{
		"notes":        MaxNotes,
		"comment":      MaxComment,
		"description":  MaxDescription,
		"name":         MaxName,
		"short":        MaxShort,
		"email":        MaxEmail,
		"followups":    MaxFollowUps,
		"text_version": MaxTextVersion,
		"house_number": MaxHouseNumber,
		"resolution":   MaxResolution,
		"code":         MaxFollowUpCode,
	},
	Rating:   [2]int{MinRating, MaxRating},
	Kinds:    FollowUpKinds,
	Messages: messages,
	Consent:  RulesConsent{Version: ConsentTextVersion, Problem: ConsentText},
}
