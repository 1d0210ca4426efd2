package schema

import (
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Length bounds, in characters.
const (
	MaxNotes        = 4000
	MaxComment      = 2000
	MaxDescription  = 1000
	MaxName         = 200
	MaxShort        = 100
	MaxEmail        = 254
	MaxFollowUps    = 10
	MaxTextVersion  = 50
	MaxHouseNumber  = 20
	MaxResolution   = 2000
	MaxFollowUpCode = 32
)

// Problem is one broken rule, worded for people in both languages.
type Problem struct {
	EN string `json:"en"`
	NL string `json:"nl"`
}

// MaxReportedFields bounds the fields one ValidationError names: a record
// with a hundred thousand bad entries must not make an answer of megabytes.
const MaxReportedFields = 50

// ValidationError lists the bad fields of a record, keyed by their path in
// the wire JSON ("business.kvk", "followups[0].kind"): every one, up to
// MaxReportedFields, and how many more there were.
type ValidationError struct {
	Fields  map[string]Problem
	Omitted int // bad fields beyond MaxReportedFields, not named
}

// Summary is one sentence per language naming the bad fields.
func (e *ValidationError) Summary() (en, nl string) {
	names := strings.Join(slices.Sorted(maps.Keys(e.Fields)), ", ")
	en, nl = "some fields are not right: "+names, "niet alle velden zijn goed ingevuld: "+names
	if e.Omitted > 0 {
		en += fmt.Sprintf(" and %d more", e.Omitted)
		nl += fmt.Sprintf(" en nog %d meer", e.Omitted)
	}
	return en, nl
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + e.Fields[k].EN
	}
	if e.Omitted > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", e.Omitted))
	}
	return "invalid record: " + strings.Join(parts, "; ")
}

// English returns the field messages in English, the API's default.
func (e *ValidationError) English() map[string]string {
	out := make(map[string]string, len(e.Fields))
	for k, p := range e.Fields {
		out[k] = p.EN
	}
	return out
}

// Dutch returns the field messages in Dutch, for the crew's and the office's pages.
func (e *ValidationError) Dutch() map[string]string {
	out := make(map[string]string, len(e.Fields))
	for k, p := range e.Fields {
		out[k] = p.NL
	}
	return out
}

// checker gathers problems so that a record reports all of them at once,
// up to MaxReportedFields fields.
type checker struct {
	fields  map[string]Problem
	omitted int
}

func (c *checker) add(field string, p Problem) {
	if c.fields == nil {
		c.fields = map[string]Problem{}
	}
	if _, ok := c.fields[field]; ok { // the first rule broken is the clearest
		return
	}
	if len(c.fields) >= MaxReportedFields {
		c.omitted++
		return
	}
	c.fields[field] = p
}

func (c *checker) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: c.fields, Omitted: c.omitted}
}

// Rules, worded in the catalogue (rules.go).
var (
	ruleRequired     = message("required")
	ruleUUIDv7       = message("uuidv7")
	ruleRev          = message("rev")
	ruleTime         = message("time")
	ruleDate         = message("date")
	ruleKvK          = message("kvk")
	rulePostcode     = message("postcode")
	rulePhone        = message("phone")
	ruleEmail        = message("email")
	ruleWijk         = message("wijk")
	ruleTopic        = message("topic")
	ruleTopicTwice   = message("topic_twice")
	ruleTopicsNeeded = message("topics_needed")
	ruleSector       = message("sector")
	ruleLanguage     = message("language")
	ruleDepartment   = message("department")
	ruleKind         = message("kind")
	ruleRating       = message("rating")
	ruleNoConsent    = message("no_consent")
	rulePanelConsent = message("panel_consent")
	ruleCallback     = message("callback")
	ruleMailback     = message("mailback")
	ruleIDTwice      = message("id_twice")
	ruleCode         = message("code")
	ruleStatus       = message("status")
	rulePreference   = message("preference")
	ruleControl      = message("control")
	ruleBSN          = message("bsn")
)

func ruleMaxLen(n int) Problem {
	return messageN("max_len", n)
}

func ruleTooMany(n int) Problem {
	return messageN("too_many", n)
}

var (
	uuidv7Pattern   = regexp.MustCompile(PatternUUIDv7)
	kvkPattern      = regexp.MustCompile(PatternKvK)
	postcodePattern = regexp.MustCompile(PatternPostcode)
	phonePattern    = regexp.MustCompile(PatternPhone)
	codePattern     = regexp.MustCompile(PatternCode)
)

// ValidUUIDv7 reports whether s is a UUIDv7 in canonical lowercase form, the
// only form ids take on the wire.
func ValidUUIDv7(s string) bool { return uuidv7Pattern.MatchString(s) }

// NormalizePostcode returns a postcode in stored form (1234AB): spaces
// removed, letters upper case. It does not validate.
func NormalizePostcode(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// FormatPostcode returns a stored postcode as people write it: 1234 AB.
func FormatPostcode(s string) string {
	if len(s) == 6 {
		return s[:4] + " " + s[4:]
	}
	return s
}

// ValidPostcode reports whether a normalized postcode can exist: first digit
// 1–9, two letters, never SA, SD or SS.
func ValidPostcode(s string) bool {
	if !postcodePattern.MatchString(s) {
		return false
	}
	return !slices.Contains(PostcodeExcluded, s[4:])
}

// NormalizePhone removes the separators people type (spaces, dashes, dots,
// brackets) and writes an international 0031 prefix as +31.
func NormalizePhone(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\u00a0':
			return -1
		}
		return r
	}, s)
	if strings.HasPrefix(s, "0031") {
		s = "+31" + s[4:]
	}
	return s
}

// ValidPhone reports whether a normalized phone number is a Dutch one.
func ValidPhone(s string) bool { return phonePattern.MatchString(s) }

// ValidEmail is a sanity check, not RFC 5322: one address, no display name,
// a dot in the domain.
func ValidEmail(s string) bool {
	if len(s) > MaxEmail {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && at <= 64 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// ValidTime reports whether s is an RFC 3339 timestamp with offset.
func ValidTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// ValidDate reports whether s is a calendar date, YYYY-MM-DD.
func ValidDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Normalize trims every text field and brings identifiers into their stored
// form, so that the same visit typed twice compares equal. Call it before
// Validate.
func (v *Visit) Normalize() {
	for _, p := range []*string{
		&v.ID, &v.BusID, &v.DeviceID, &v.Crew, &v.Stop, &v.VisitedAt, &v.Wijk, &v.Sector,
		&v.Language, &v.CreatedAt, &v.UpdatedAt,
		&v.Business.Name, &v.Business.Address.Street, &v.Business.Address.Number, &v.Business.Address.City,
		&v.Consent.TextVersion, &v.Consent.At,
	} {
		*p = strings.TrimSpace(*p)
	}
	v.ID = strings.ToLower(v.ID)
	// Notes keep their inner layout; only surrounding blank space goes.
	v.Notes = strings.TrimSpace(v.Notes)
	v.Business.KvK = strings.Map(dropSpace, v.Business.KvK)
	v.Business.Address.Postcode = NormalizePostcode(v.Business.Address.Postcode)
	v.Wijk = strings.ToUpper(v.Wijk)
	for i := range v.Topics {
		v.Topics[i] = strings.TrimSpace(v.Topics[i])
	}
	if v.Contact != nil {
		v.Contact.Name = strings.TrimSpace(v.Contact.Name)
		v.Contact.Phone = NormalizePhone(v.Contact.Phone)
		v.Contact.Email = strings.TrimSpace(v.Contact.Email)
		if v.Contact.IsZero() {
			v.Contact = nil
		}
	}
	for i := range v.FollowUps {
		f := &v.FollowUps[i]
		f.ID = strings.ToLower(strings.TrimSpace(f.ID))
		f.Kind = strings.TrimSpace(f.Kind)
		f.Description = strings.TrimSpace(f.Description)
		f.Department = strings.TrimSpace(f.Department)
		f.DueDate = strings.TrimSpace(f.DueDate)
		f.Code = NormalizeCode(f.Code)
	}
	if v.Topics == nil {
		v.Topics = []string{}
	}
	if v.FollowUps == nil {
		v.FollowUps = []FollowUp{}
	}
}

func dropSpace(r rune) rune {
	if r == ' ' || r == '.' || r == '\u00a0' {
		return -1
	}
	return r
}

// Validate checks every crew-owned field of a normalized visit and returns a
// *ValidationError listing all bad fields, or nil.
func (v *Visit) Validate() error {
	var c checker
	if !ValidUUIDv7(v.ID) {
		c.add("id", ruleUUIDv7)
	}
	if v.Rev < 1 {
		c.add("rev", ruleRev)
	}
	c.requiredTime("visited_at", v.VisitedAt)
	c.optionalTime("created_at", v.CreatedAt)
	c.optionalTime("updated_at", v.UpdatedAt)
	c.identifier("device_id", v.DeviceID, MaxShort)
	c.text("crew", v.Crew, MaxShort)
	c.text("stop", v.Stop, MaxName)

	if v.Business.Name == "" {
		c.add("business.name", ruleRequired)
	}
	c.text("business.name", v.Business.Name, MaxName)
	if v.Business.KvK != "" && !kvkPattern.MatchString(v.Business.KvK) {
		c.add("business.kvk", ruleKvK)
	}
	a := v.Business.Address
	c.text("business.address.street", a.Street, MaxName)
	c.text("business.address.number", a.Number, MaxHouseNumber)
	c.text("business.address.city", a.City, MaxShort)
	if a.Postcode != "" && !ValidPostcode(a.Postcode) {
		c.add("business.address.postcode", rulePostcode)
	}

	if v.Wijk == "" {
		c.add("wijk", ruleRequired)
	} else if _, ok := Ref.Wijk(v.Wijk); !ok {
		c.add("wijk", ruleWijk)
	}
	if v.Sector != "" && !Ref.sector[v.Sector] {
		c.add("sector", ruleSector)
	}
	if v.Language != "" && !Ref.language[v.Language] {
		c.add("language", ruleLanguage)
	}
	// A list over its bound is one error, not one per entry.
	topics := v.Topics
	if len(topics) == 0 {
		c.add("topics", ruleTopicsNeeded)
	} else if len(topics) > len(Ref.Topics) {
		c.add("topics", ruleTooMany(len(Ref.Topics)))
		topics = nil
	}
	for i, t := range topics {
		field := fmt.Sprintf("topics[%d]", i)
		if !Ref.topic[t] {
			c.add(field, ruleTopic)
		} else if slices.Index(v.Topics, t) < i {
			c.add(field, ruleTopicTwice)
		}
	}
	c.multiline("notes", v.Notes, MaxNotes)

	if v.Consent.Given {
		if v.Consent.TextVersion == "" {
			c.add("consent.text_version", ruleRequired)
		}
		c.requiredTime("consent.at", v.Consent.At)
	} else {
		c.optionalTime("consent.at", v.Consent.At)
	}
	c.identifier("consent.text_version", v.Consent.TextVersion, MaxTextVersion)
	if v.Contact != nil {
		ct := v.Contact
		if !v.Consent.Given {
			for field, value := range map[string]string{"contact.name": ct.Name, "contact.phone": ct.Phone, "contact.email": ct.Email} {
				if value != "" {
					c.add(field, ruleNoConsent)
				}
			}
		}
		c.text("contact.name", ct.Name, MaxName)
		if ct.Phone != "" && !ValidPhone(ct.Phone) {
			c.add("contact.phone", rulePhone)
		}
		if ct.Email != "" && !ValidEmail(ct.Email) {
			c.add("contact.email", ruleEmail)
		}
	}
	if v.PanelOptIn && !v.Consent.Given {
		c.add("panel_opt_in", rulePanelConsent)
	}
	if v.Rating != nil && (*v.Rating < MinRating || *v.Rating > MaxRating) {
		c.add("rating", ruleRating)
	}

	followUps := v.FollowUps
	if len(followUps) > MaxFollowUps {
		c.add("followups", ruleTooMany(MaxFollowUps))
		followUps = nil
	}
	for i, f := range followUps {
		p := fmt.Sprintf("followups[%d].", i)
		if !ValidUUIDv7(f.ID) {
			c.add(p+"id", ruleUUIDv7)
		} else if slices.IndexFunc(v.FollowUps, func(o FollowUp) bool { return o.ID == f.ID }) < i {
			c.add(p+"id", ruleIDTwice)
		}
		switch f.Kind {
		case "":
			c.add(p+"kind", ruleRequired)
		case KindCallback:
			if v.Contact == nil || v.Contact.Phone == "" {
				c.add(p+"kind", ruleCallback)
			}
		case KindEmail:
			if v.Contact == nil || v.Contact.Email == "" {
				c.add(p+"kind", ruleMailback)
			}
		case KindVisit, KindReferral, KindInformation:
		default:
			c.add(p+"kind", ruleKind)
		}
		if f.Description == "" {
			c.add(p+"description", ruleRequired)
		}
		c.multiline(p+"description", f.Description, MaxDescription)
		if f.Department != "" && !Ref.department[f.Department] {
			c.add(p+"department", ruleDepartment)
		}
		if f.DueDate != "" && !ValidDate(f.DueDate) {
			c.add(p+"due_date", ruleDate)
		}
		if f.Code != "" && (len(f.Code) > MaxFollowUpCode || !codePattern.MatchString(f.Code)) {
			c.add(p+"code", ruleCode)
		}
	}
	return c.err()
}

// Validate checks the office-owned part of a follow-up.
func (s *FollowUpStatus) Validate() error {
	var c checker
	if !slices.Contains(FollowUpStatuses, s.Status) {
		c.add("status", ruleStatus)
	}
	c.multiline("resolution", s.Resolution, MaxResolution)
	if s.StatusRev < 1 {
		c.add("status_rev", ruleRev)
	}
	c.requiredTime("status_at", s.StatusAt)
	return c.err()
}

// Validate checks an entrepreneur's feedback.
func (f *Feedback) Validate() error {
	var c checker
	if !ValidUUIDv7(f.ID) {
		c.add("id", ruleUUIDv7)
	}
	if f.Code == "" {
		c.add("code", ruleRequired)
	} else if len(f.Code) > MaxFollowUpCode || !codePattern.MatchString(f.Code) {
		c.add("code", ruleCode)
	}
	if f.Rating < MinRating || f.Rating > MaxRating {
		c.add("rating", ruleRating)
	}
	c.multiline("comment", f.Comment, MaxComment)
	switch f.ContactPreference {
	case PreferPhone, PreferEmail, PreferNone:
	default:
		c.add("contact_preference", rulePreference)
	}
	c.requiredTime("created_at", f.CreatedAt)
	return c.err()
}

func (c *checker) requiredTime(field, s string) {
	if s == "" {
		c.add(field, ruleRequired)
	} else if !ValidTime(s) {
		c.add(field, ruleTime)
	}
}

func (c *checker) optionalTime(field, s string) {
	if s != "" && !ValidTime(s) {
		c.add(field, ruleTime)
	}
}

// identifier checks a single-line field that software makes, not people
// (a device id, a text version): bounded, no control characters. A run of
// nine digits in a random id is no citizen service number.
func (c *checker) identifier(field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		c.add(field, ruleMaxLen(max))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		c.add(field, ruleControl)
	}
}

// text checks a single-line field people type: as identifier, and never a
// citizen service number.
func (c *checker) text(field, s string, max int) {
	c.identifier(field, s, max)
	if ContainsBSN(s) {
		c.add(field, ruleBSN)
	}
}

// multiline checks a free-text field, where line breaks and tabs belong.
func (c *checker) multiline(field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		c.add(field, ruleMaxLen(max))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }) {
		c.add(field, ruleControl)
	}
	if ContainsBSN(s) {
		c.add(field, ruleBSN)
	}
}
