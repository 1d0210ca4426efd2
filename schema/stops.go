package schema

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // stops are planned in Dutch local time on any server
)

// Stop is a place and time the bus stands: planned by the office, or added
// on the spot by the crew (Planned false). Date and times are Dutch local
// time, as people plan and read them; the schedule turns them into instants
// with Zone, which knows the summer-time change.
type Stop struct {
	ID        string `json:"id"`     // UUIDv7, made where the stop is born
	BusID     string `json:"bus_id"` // set by the office, never by a bus
	Date      string `json:"date"`   // 2026-12-31
	Start     string `json:"start"`  // 09:30
	End       string `json:"end"`    // 16:00
	Place     string `json:"place"`  // "Markt Leyweg"
	Wijk      string `json:"wijk"`
	Planned   bool   `json:"planned"`
	CreatedAt string `json:"created_at"`
}

// Zone is The Hague's local time, in which stops are planned.
var Zone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic("schema: " + err.Error()) // time/tzdata is compiled in
	}
	return loc
}()

// MaxPlace bounds a stop's place name.
const MaxPlace = 120

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Rules for stops, in both languages.
var (
	ruleClock  = Problem{EN: "must be a time like 09:30", NL: "moet een tijd zijn zoals 09:30"}
	ruleEndsAt = Problem{EN: "must be later than the start", NL: "moet later zijn dan de begintijd"}
	ruleKindQC = Problem{EN: "must be one of flyer, no_time, not_interested, come_back", NL: "moet een van folder, geen tijd, geen interesse, later terugkomen zijn"}
)

// Normalize trims the person-typed fields.
func (s *Stop) Normalize() {
	s.Place = strings.Join(strings.Fields(s.Place), " ")
	s.Wijk = strings.ToUpper(strings.TrimSpace(s.Wijk))
	s.Start, s.End = strings.TrimSpace(s.Start), strings.TrimSpace(s.End)
	s.Date = strings.TrimSpace(s.Date)
}

// Validate checks a stop and returns a *ValidationError naming every bad
// field.
func (s *Stop) Validate() error {
	var c checker
	if !ValidUUIDv7(s.ID) {
		c.add("id", ruleUUIDv7)
	}
	if s.Date == "" {
		c.add("date", ruleRequired)
	} else if !ValidDate(s.Date) {
		c.add("date", ruleDate)
	}
	for _, f := range []struct{ name, v string }{{"start", s.Start}, {"end", s.End}} {
		if f.v == "" {
			c.add(f.name, ruleRequired)
		} else if !clockPattern.MatchString(f.v) {
			c.add(f.name, ruleClock)
		}
	}
	if clockPattern.MatchString(s.Start) && clockPattern.MatchString(s.End) && s.End <= s.Start {
		c.add("end", ruleEndsAt)
	}
	if s.Place == "" {
		c.add("place", ruleRequired)
	}
	c.text("place", s.Place, MaxPlace)
	if _, ok := Ref.Wijk(s.Wijk); !ok {
		c.add("wijk", ruleWijk)
	}
	c.optionalTime("created_at", s.CreatedAt)
	return c.err()
}

// Interval is the stop's start and end as instants. It is only meaningful
// for a valid stop.
func (s *Stop) Interval() (start, end time.Time) {
	start, _ = time.ParseInLocation("2006-01-02 15:04", s.Date+" "+s.Start, Zone)
	end, _ = time.ParseInLocation("2006-01-02 15:04", s.Date+" "+s.End, Zone)
	return start, end
}

// Kinds of quick contact: a contact that is not a conversation.
const (
	QuickFlyer         = "flyer"
	QuickNoTime        = "no_time"
	QuickNotInterested = "not_interested"
	QuickComeBack      = "come_back"
)

// QuickKinds lists the kinds in the order the tablet shows them.
var QuickKinds = []string{QuickFlyer, QuickNoTime, QuickNotInterested, QuickComeBack}

// QuickContact is one tap on the tablet's tally: a contact at a stop that
// was not a conversation. It holds no personal data by design: no name, no
// business, no free text.
type QuickContact struct {
	ID       string `json:"id"` // UUIDv7, made on the tablet
	DeviceID string `json:"device_id"`
	StopID   string `json:"stop_id,omitempty"` // the planned or unplanned stop, if one was chosen
	Stop     string `json:"stop"`              // the stop's place, as the visit's stop field
	Wijk     string `json:"wijk"`
	Kind     string `json:"kind"`
	At       string `json:"at"` // RFC 3339, the tablet's clock
}

// Validate checks a quick contact.
func (q *QuickContact) Validate() error {
	var c checker
	if !ValidUUIDv7(q.ID) {
		c.add("id", ruleUUIDv7)
	}
	if q.StopID != "" && !ValidUUIDv7(q.StopID) {
		c.add("stop_id", ruleUUIDv7)
	}
	c.text("device_id", q.DeviceID, MaxName)
	c.text("stop", q.Stop, MaxPlace)
	if _, ok := Ref.Wijk(q.Wijk); !ok {
		c.add("wijk", ruleWijk)
	}
	switch q.Kind {
	case QuickFlyer, QuickNoTime, QuickNotInterested, QuickComeBack:
	default:
		c.add("kind", ruleKindQC)
	}
	c.requiredTime("at", q.At)
	return c.err()
}

// HistoryVisit is what the office tells every bus about an earlier visit in
// a wijk on its plan: enough to say "you were here in May about a permit,
// and that is done", and nothing about a person. It carries no contact
// details, no notes, no follow-up descriptions or resolutions (free text
// may name people), no street or house number.
type HistoryVisit struct {
	VisitID   string            `json:"visit_id"`
	BusID     string            `json:"bus_id"`
	VisitedAt string            `json:"visited_at"`
	Wijk      string            `json:"wijk"`
	Name      string            `json:"name"`     // the business's name
	KvK       string            `json:"kvk"`      // may be empty
	Postcode  string            `json:"postcode"` // 1234AB, may be empty
	Topics    []string          `json:"topics"`
	FollowUps []HistoryFollowUp `json:"followups"`
}

// HistoryFollowUp is a follow-up as the history shows it: its kind, the
// department, and where the office stands.
type HistoryFollowUp struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Department string `json:"department"`
	Status     string `json:"status"`
	StatusAt   string `json:"status_at"`
}

// NewUUIDv7 makes a UUIDv7 for a record born at t: 48 bits of Unix
// milliseconds, then random bits (RFC 9562).
func NewUUIDv7(t time.Time) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on a supported system
	}
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
