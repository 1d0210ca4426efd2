// Package sync is the protocol between a bus and the office: the wire types
// both ends share, the office's receiver logic, and the bus's client that
// pushes visits and pulls follow-up status back.
//
// It imports schema and the standard library only. The office wires the
// receiver into its HTTP server; the bus runs the client on a schedule.
// Files that also need the standard library's sync import this package as
// infosync.
package sync

import (
	"encoding/json"

	"infobus/schema"
)

// Version is the sync protocol version this binary speaks. Both ends refuse
// a request or answer of another version rather than guess at its meaning.
const Version = 1

// VersionHeader carries Version on every request and answer.
const VersionHeader = "Infobus-Sync-Version"

// Headers a bus sends on every sync request (see restore.go): its build,
// which the office records per bus, and its database's epoch.
const (
	BuildHeader = "Infobus-Version"
	EpochHeader = "Infobus-Epoch"
	// AfterSeqHeader on a push is the bus's cursor the batch follows. The
	// office moves its held cursor (PullResponse.HeldSeq) only over a
	// batch that starts where it holds, so a gap a restore left shows. A
	// header rather than a field, so that an office without it still
	// reads the body; without it the held cursor just moves to
	// through_seq.
	AfterSeqHeader = "Infobus-After-Seq"
)

// Routes of the office's receiver.
const (
	PushPath    = "/sync/v1/push"
	PullPath    = "/sync/v1/pull"
	HealthzPath = "/healthz"
)

// Bounds on one push. A bus sends at most MaxPushRecords records and
// MaxPushBytes of JSON before compression; the office refuses more with 413.
// MaxPushCompressed bounds the gzip body on the wire: gzip never grows JSON
// by more than a few bytes per 32 KiB block, so this is MaxPushBytes plus
// a margin.
const (
	MaxPushRecords    = 1000
	MaxPushBytes      = 4 << 20
	MaxPushCompressed = MaxPushBytes + 64<<10
	// MaxPullPage bounds one pull answer.
	MaxPullPage = 1000
)

// PushRequest is the body of POST /sync/v1/push. Records are the visits'
// crew-owned wire JSON, sent as the bus stored them; ThroughSeq is the
// bus's crew_seq of the last record, which the office echoes as AckedSeq
// once the batch is committed.
type PushRequest struct {
	BusID      string            `json:"bus_id"`
	ThroughSeq int64             `json:"through_seq"`
	Records    []json.RawMessage `json:"records"`
	// KeepContact lists visits of this batch sent without contact details
	// because the bus removed its copy once the office had it, or because
	// the office erased them: their absence is not an edit, and the office
	// keeps what it holds (nothing, for an erased visit). Optional; sent
	// only when not empty.
	KeepContact []string `json:"keep_contact,omitempty"`
	// Stops and QuickContacts are the crew's unplanned stops and tally
	// (stops.go), sent apart from the visits' cursor; a bus sends them only
	// when it has some.
	Stops         []json.RawMessage `json:"stops,omitempty"`
	QuickContacts []json.RawMessage `json:"quick_contacts,omitempty"`
}

// PushResponse answers a committed push. Every record of the batch either
// landed (or was already there) or is listed in SetAside; either way the
// bus moves its cursor to AckedSeq.
type PushResponse struct {
	AckedSeq int64      `json:"acked_seq"`
	Landed   int        `json:"landed"`
	SetAside []SetAside `json:"set_aside"`
	// Extras answers the push's stops and quick contacts, when it had any.
	Extras *ExtrasAck `json:"extras,omitempty"`
}

// Reasons a record is set aside.
const (
	ReasonValidation = "validation" // fails schema validation at the office
	ReasonConflict   = "conflict"   // same id and rev as the office's copy, other content
	ReasonForeignID  = "foreign_id" // the id is another bus's visit, or a follow-up id another visit's
	ReasonMalformed  = "malformed"  // not a visit record at all
	ReasonCodeTaken  = "code_taken" // a follow-up code is bound to another follow-up, or not this bus's
)

// SetAside is a record the office refused. Index is its place in the batch,
// so that the bus can match it even when its id could not be read. The
// reason is said in English and Dutch, for the bus's log and the tablet;
// Fields names at most schema.MaxReportedFields fields, FieldsOmitted how
// many more were bad.
type SetAside struct {
	Index         int                       `json:"index"`
	ID            string                    `json:"id"`
	Rev           int64                     `json:"rev"`
	Reason        string                    `json:"reason"`
	Message       string                    `json:"message"`
	MessageNL     string                    `json:"message_nl"`
	Fields        map[string]schema.Problem `json:"fields,omitempty"`
	FieldsOmitted int                       `json:"fields_omitted,omitempty"`
}

// StatusChange is the office-owned status of one follow-up, as pulled.
type StatusChange struct {
	FollowUpID string `json:"followup_id"`
	VisitID    string `json:"visit_id"`
	schema.FollowUpStatus
	Seq int64 `json:"seq"` // the bus's pull counter at this change
}

// FeedbackChange is an entrepreneur's feedback on one of the bus's codes,
// whole, as pulled each time it is given or revised. The code joins it to
// the follow-up: the bus knows which follow-up carries each code it
// issued, also before the office does.
type FeedbackChange struct {
	schema.Feedback
	Seq int64 `json:"seq"` // the bus's pull counter at this change
}

// PullResponse is the answer to GET /sync/v1/pull?since=N: the office-owned
// changes for the asking bus's visits after N, oldest first, and the
// cursor to ask from next. Statuses and Feedback share the bus's one
// counter, so Next is the highest seq in either. More says another page
// is waiting.
type PullResponse struct {
	Statuses []StatusChange   `json:"statuses"`
	Feedback []FeedbackChange `json:"feedback"`
	// Erasures are visits whose contact details the office erased (on
	// request or after the retention period): the bus erases its copy
	// too. Optional within v1: an older office sends none.
	Erasures []Erasure `json:"erasures,omitempty"`
	Next     int64     `json:"next"`
	More     bool      `json:"more"`
	// Plan is the bus's stops and the history of their wijken (stops.go),
	// on the last page only, and only when it differs from the plan the
	// bus said it holds.
	Plan *Plan `json:"plan,omitempty"`
	// HeldSeq is how far the office really holds this bus's records: every
	// push through it is committed in the office's database as it is now.
	// Below the bus's cursor (the office was restored from a backup), the
	// bus rewinds and pushes again. See restore.go.
	HeldSeq int64 `json:"held_seq"`
	// Epoch names the office's database; a restore gives it a new one, and
	// the bus then pulls the office's changes from the start.
	Epoch string `json:"epoch,omitempty"`
}

// Erasure asks the bus to erase the contact details of one visit.
type Erasure struct {
	VisitID string `json:"visit_id"`
	Seq     int64  `json:"seq"` // the bus's pull counter at this change
}

// ErrorBody is the JSON of every refusal, from either end, the shape the
// bus's crew API answers in too: a machine code, a sentence in English and
// one in Dutch, and for a bad record its fields, at most
// schema.MaxReportedFields of them and the count of the rest.
type ErrorBody struct {
	Error         string            `json:"error"`
	Message       string            `json:"message"`
	MessageNL     string            `json:"message_nl"`
	Fields        map[string]string `json:"fields,omitempty"`
	FieldsNL      map[string]string `json:"fields_nl,omitempty"`
	FieldsOmitted int               `json:"fields_omitted,omitempty"`
}

// ValidationBody is the refusal of a record that broke schema's rules.
func ValidationBody(ve *schema.ValidationError) ErrorBody {
	en, nl := ve.Summary()
	return ErrorBody{Error: "validation", Message: en, MessageNL: nl,
		Fields: ve.English(), FieldsNL: ve.Dutch(), FieldsOmitted: ve.Omitted}
}
