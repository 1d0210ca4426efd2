// Package schema is the domain of Infobus: the records that travel from
// tablet to bus to office, their wire JSON, their validation, the reference
// lists they are checked against, and the SQL migrations of both databases.
//
// It imports the standard library only, so every other package may use it.
package schema

// Visit is one conversation between the crew and an entrepreneur. It is born
// on a tablet, which makes its id; the crew own every field except BusID,
// ReceivedAt and the follow-ups' status fields.
type Visit struct {
	ID         string     `json:"id"`
	BusID      string     `json:"bus_id"`
	DeviceID   string     `json:"device_id"`
	Crew       string     `json:"crew"`
	Stop       string     `json:"stop"`
	VisitedAt  string     `json:"visited_at"`
	Business   Business   `json:"business"`
	Wijk       string     `json:"wijk"`
	Sector     string     `json:"sector"`
	Topics     []string   `json:"topics"`
	Notes      string     `json:"notes"`
	Language   string     `json:"language"`
	Consent    Consent    `json:"consent"`
	Contact    *Contact   `json:"contact,omitempty"`
	PanelOptIn bool       `json:"panel_opt_in"`
	Rating     *int       `json:"rating,omitempty"`
	FollowUps  []FollowUp `json:"followups"`
	Rev        int64      `json:"rev"`
	CreatedAt  string     `json:"created_at"`
	UpdatedAt  string     `json:"updated_at"`
	Deleted    bool       `json:"deleted"`
	// ReceivedAt is when the bus first stored this rev, by the bus's clock.
	ReceivedAt string `json:"received_at,omitempty"`
}

// Business is the enterprise the crew talked with.
type Business struct {
	Name    string  `json:"name"`
	KvK     string  `json:"kvk"`
	Address Address `json:"address"`
}

// Address is a Dutch street address. Postcode is stored as 1234AB.
type Address struct {
	Street   string `json:"street"`
	Number   string `json:"number"`
	Postcode string `json:"postcode"`
	City     string `json:"city"`
}

// Consent records whether, when and under which text the entrepreneur agreed
// to have contact details kept.
type Consent struct {
	Given       bool   `json:"given"`
	TextVersion string `json:"text_version"`
	At          string `json:"at"`
}

// Contact holds personal data, allowed only with consent.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// IsZero reports whether no contact detail is filled in.
func (c *Contact) IsZero() bool {
	return c == nil || (c.Name == "" && c.Phone == "" && c.Email == "")
}

// Follow-up kinds.
const (
	KindCallback    = "callback"
	KindEmail       = "email"
	KindVisit       = "visit"
	KindReferral    = "referral"
	KindInformation = "information"
)

// FollowUpKinds lists the kinds in the order forms offer them.
var FollowUpKinds = []string{KindCallback, KindEmail, KindVisit, KindReferral, KindInformation}

// Follow-up states, set by the office.
const (
	StatusOpen       = "open"
	StatusInProgress = "in_progress"
	StatusDone       = "done"
	StatusCancelled  = "cancelled"
	// StatusWaiting: the office asked the entrepreneur a question and
	// waits for the answer on their page.
	StatusWaiting = "waiting"
	// StatusReopenRequested: the entrepreneur is not satisfied with a done
	// follow-up and asks the office to look again.
	StatusReopenRequested = "reopen_requested"
)

// FollowUpStatuses lists the states a follow-up moves through. The last
// two came after the first contract; a bus that does not know them skips
// such a pulled status with a warning and pulls on.
var FollowUpStatuses = []string{StatusOpen, StatusInProgress, StatusDone, StatusCancelled, StatusWaiting, StatusReopenRequested}

// StatusFinished reports whether a follow-up in status s is finished:
// done or cancelled.
func StatusFinished(s string) bool { return s == StatusDone || s == StatusCancelled }

// FollowUp is a promise the crew made during a visit. Its content is the
// crew's; its FollowUpStatus is the office's.
type FollowUp struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Department  string `json:"department"`
	DueDate     string `json:"due_date"`
	Code        string `json:"code"`
	FollowUpStatus
	// Feedback is the entrepreneur's, read back through the code: the bus
	// shows it to the crew with the follow-up. No push carries it.
	Feedback *FollowUpFeedback `json:"feedback,omitempty"`
}

// FollowUpFeedback is an entrepreneur's feedback as the crew see it with a
// follow-up. CreatedAt is when this version was given: a revision
// replaces the whole of it.
type FollowUpFeedback struct {
	Rating            int    `json:"rating"`
	Comment           string `json:"comment"`
	ContactPreference string `json:"contact_preference"`
	CreatedAt         string `json:"created_at"`
}

// FollowUpStatus is the office-owned part of a follow-up; StatusRev orders
// the office's changes.
type FollowUpStatus struct {
	Status     string `json:"status,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	StatusRev  int64  `json:"status_rev,omitempty"`
	StatusAt   string `json:"status_at,omitempty"`
}

// Contact preferences an entrepreneur can give with feedback.
const (
	PreferPhone = "phone"
	PreferEmail = "email"
	PreferNone  = "none"
)

// Feedback is what an entrepreneur tells the municipality through the
// follow-up page their QR code opens.
type Feedback struct {
	ID                string `json:"id"`
	Code              string `json:"code"`
	Rating            int    `json:"rating"`
	Comment           string `json:"comment"`
	ContactPreference string `json:"contact_preference"`
	CreatedAt         string `json:"created_at"`
}

// CrewOwned returns a copy of v holding only the fields the crew write, so
// that two submissions can be compared for an identical replay.
func (v *Visit) CrewOwned() Visit {
	c := *v
	c.BusID = ""
	c.ReceivedAt = ""
	c.FollowUps = make([]FollowUp, len(v.FollowUps))
	for i, f := range v.FollowUps {
		f.FollowUpStatus = FollowUpStatus{}
		f.Feedback = nil
		c.FollowUps[i] = f
	}
	return c
}
