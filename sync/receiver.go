package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	gosync "sync"

	"infobus/schema"
)

// ReceiverStore is what the receiver needs from the office's database.
type ReceiverStore interface {
	// BusByToken returns the id of the bus a token belongs to, or
	// ErrUnauthorized.
	BusByToken(ctx context.Context, token string) (string, error)
	// CommitPush stores a checked batch in one transaction: every record
	// without Refused is upserted by (id, rev), every refused one is
	// quarantined, and the bus's acked cursor moves to batch.ThroughSeq.
	// A record the database refuses (a conflicting rev, an id another bus
	// or visit owns) gets Refused set and is quarantined too.
	CommitPush(ctx context.Context, busID string, batch *Batch) error
	// StatusChanges returns up to limit office-owned changes for busID's
	// visits with a pull seq above since, oldest first.
	StatusChanges(ctx context.Context, busID string, since int64, limit int) ([]StatusChange, error)
	// Erasures returns up to limit contact-detail erasures for busID's
	// visits with a pull seq above since, oldest first.
	Erasures(ctx context.Context, busID string, since int64, limit int) ([]Erasure, error)
	// FeedbackChanges returns up to limit feedbacks on busID's codes with a
	// pull seq above since, oldest first.
	FeedbackChanges(ctx context.Context, busID string, since int64, limit int) ([]FeedbackChange, error)
	// NoteBus records the epoch and build a bus sent and returns how far
	// the office holds its pushes and the office's epoch. A bus epoch other
	// than the one recorded resets the held cursor to 0 (see restore.go).
	NoteBus(ctx context.Context, busID string, seen BusSeen) (held int64, officeEpoch string, err error)
}

// Batch is a push after the receiver has read and checked each record.
type Batch struct {
	ThroughSeq int64
	AfterSeq   *int64 // see AfterSeqHeader; nil when not sent
	Records    []Incoming
}

// Incoming is one record of a push. Visit is normalized and valid, with
// BusID set from the token, unless Refused says why not; Body is its
// crew-owned JSON and Hash that JSON's sha256, for telling an identical
// replay from a conflict.
type Incoming struct {
	Index   int
	Raw     json.RawMessage
	Visit   *schema.Visit
	Body    []byte
	Hash    [32]byte
	Refused *SetAside
	// KeepContact: the bus sent the visit without contact details because
	// it removed its copy (PushRequest.KeepContact); the office keeps its.
	KeepContact bool
}

// Receiver is the office end of the protocol. The office's HTTP handlers
// hand it what they read from the request and answer with what it returns;
// its errors map to statuses through ErrorResponse.
type Receiver struct {
	Store ReceiverStore
}

// CheckVersion returns a *VersionError unless h names this protocol version.
func CheckVersion(h string) error {
	if strings.TrimSpace(h) != strconv.Itoa(Version) {
		return &VersionError{Got: h}
	}
	return nil
}

// BearerToken takes the token out of an Authorization header, or returns
// ErrUnauthorized.
func BearerToken(auth string) (string, error) {
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return "", ErrUnauthorized
	}
	return strings.TrimSpace(token), nil
}

// authenticate checks a request's protocol version and bus token, in that
// order, and returns the bus it comes from: a *VersionError or
// ErrUnauthorized otherwise.
func (r *Receiver) authenticate(ctx context.Context, version, authorization string) (string, error) {
	if err := CheckVersion(version); err != nil {
		return "", err
	}
	token, err := BearerToken(authorization)
	if err != nil {
		return "", err
	}
	return r.Store.BusByToken(ctx, token)
}

// PushInput is what the receiver reads from a push request.
type PushInput struct {
	Authorization   string
	Version         string
	Seen            BusSeen
	AfterSeq        string // the AfterSeqHeader as sent
	ContentEncoding string
	Body            []byte
}

// Push authenticates, decodes and checks a batch, commits it, and returns
// the answer for the bus. It returns a *VersionError, ErrUnauthorized, a
// *TooLargeError or a *MalformedError when it refuses the whole request;
// a bad record is never a reason for that, it is set aside.
func (r *Receiver) Push(ctx context.Context, in PushInput) (*PushResponse, error) {
	// Authenticate before decompressing: a stranger gets no work done.
	busID, err := r.authenticate(ctx, in.Version, in.Authorization)
	if err != nil {
		return nil, err
	}
	req, err := DecodePush(in.Body, in.ContentEncoding)
	if err != nil {
		return nil, err
	}
	if req.BusID != busID {
		return nil, malformed(fmt.Sprintf("bus_id %q is not the bus this token belongs to", req.BusID), "bus_id hoort niet bij de sleutel van deze bus")
	}
	if err := r.takesExtras(req); err != nil {
		return nil, err // before anything is written: nothing half-done
	}
	var keep map[string]bool
	if len(req.KeepContact) > 0 {
		keep = make(map[string]bool, len(req.KeepContact))
		for _, id := range req.KeepContact {
			keep[strings.ToLower(id)] = true
		}
	}
	batch := &Batch{ThroughSeq: req.ThroughSeq}
	if in.AfterSeq != "" {
		after, err := strconv.ParseInt(in.AfterSeq, 10, 64)
		if err != nil || after < 0 || after > req.ThroughSeq {
			return nil, malformed("header "+AfterSeqHeader+" must be a whole number from 0 to through_seq",
				"kop "+AfterSeqHeader+" moet een heel getal van 0 tot through_seq zijn")
		}
		batch.AfterSeq = &after
	}
	// Before the commit: a restored bus's first push must not be counted
	// in the numbering of its lost database.
	if _, _, err := r.Store.NoteBus(ctx, busID, in.Seen); err != nil {
		return nil, err
	}
	batch.Records = checkRecords(req.Records, busID, keep)
	if err := r.Store.CommitPush(ctx, busID, batch); err != nil {
		return nil, err
	}
	resp := &PushResponse{AckedSeq: req.ThroughSeq, SetAside: []SetAside{}}
	if resp.Extras, err = r.commitExtras(ctx, busID, req); err != nil {
		return nil, err
	}
	for _, rec := range batch.Records {
		if rec.Refused != nil {
			resp.SetAside = append(resp.SetAside, *rec.Refused)
		} else {
			resp.Landed++
		}
	}
	return resp, nil
}

// checkRecords checks a batch's records on every core: decoding and
// validating a thousand visits takes longer than storing them.
func checkRecords(raws []json.RawMessage, busID string, keep map[string]bool) []Incoming {
	out := make([]Incoming, len(raws))
	workers := min(runtime.GOMAXPROCS(0), 8, max(len(raws)/64, 1))
	var wg gosync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raws); i += workers {
				out[i] = checkRecord(i, raws[i], busID, keep)
			}
		})
	}
	wg.Wait()
	return out
}

// CheckRecord reads one pushed record the way the bus's crew API reads a
// visit: strictly, by schema.DecodeVisit, then normalized and validated by
// schema. It never fails; a record it cannot take comes back with Refused
// set. encoding/json reads a good record faster than the strict walk, so
// the walk runs only when a record might hold a field a Visit lacks or a
// value of the wrong kind, and its verdict is the one that counts.
func CheckRecord(index int, raw json.RawMessage, busID string) Incoming {
	return checkRecord(index, raw, busID, nil)
}

// checkRecord is CheckRecord for a batch whose keep set names the visits
// sent without contact details the office keeps: their callback and
// e-mail follow-ups are checked against the office's copy later.
func checkRecord(index int, raw json.RawMessage, busID string, keep map[string]bool) Incoming {
	in := Incoming{Index: index, Raw: raw}
	var v schema.Visit
	if err := json.Unmarshal(raw, &v); err != nil {
		if in.Refused = strictCheck(index, raw); in.Refused == nil {
			in.Refused = unreadable(index, raw)
		}
		return in
	}
	v.Normalize()
	validate := v.Validate
	if keep[v.ID] && v.Contact == nil && v.Consent.Given {
		in.KeepContact = true
		validate = v.ValidateContactElsewhere
	}
	if err := validate(); err != nil {
		if refused := strictCheck(index, raw); refused != nil {
			in.Refused = refused
			return in
		}
		var ve *schema.ValidationError
		errors.As(err, &ve)
		_, nl := ve.Summary()
		in.Refused = &SetAside{Index: index, ID: v.ID, Rev: v.Rev, Reason: ReasonValidation,
			Message: err.Error(), MessageNL: "het kantoor nam dit bezoek niet aan; " + nl,
			Fields: ve.Fields, FieldsOmitted: ve.Omitted}
		return in
	}
	v.BusID = busID
	v.ReceivedAt = ""
	crew := v.CrewOwned()
	body, err := json.Marshal(&crew)
	if err != nil {
		in.Refused = &SetAside{Index: index, ID: v.ID, Rev: v.Rev, Reason: ReasonMalformed, Message: err.Error(),
			MessageNL: "het kantoor kon dit bezoek niet opslaan"}
		return in
	}
	// A bus sends what this marshalling makes, so the two are equal and
	// the record cannot hold a field a Visit lacks. Anything else is read
	// again, strictly, to name such a field: there is no place for one.
	if !bytes.Equal(body, raw) {
		if refused := strictCheck(index, raw); refused != nil {
			in.Refused = refused
			return in
		}
	}
	in.Visit, in.Body, in.Hash = &v, body, sha256.Sum256(body)
	return in
}

// strictCheck reads raw with schema's strict decoder and returns why it
// is not a visit record, or nil.
func strictCheck(index int, raw json.RawMessage) *SetAside {
	_, err := schema.DecodeVisit(raw)
	if err == nil {
		return nil
	}
	sa := unreadable(index, raw)
	var (
		ve *schema.ValidationError
		de *schema.DecodeError
	)
	switch {
	case errors.As(err, &ve):
		en, nl := ve.Summary()
		sa.Message = "the office could not read this record: " + en
		sa.MessageNL = "het kantoor kon dit bezoek niet lezen; " + nl
		sa.Fields, sa.FieldsOmitted = ve.Fields, ve.Omitted
	case errors.As(err, &de):
		sa.Message = "the office could not read this record: " + de.EN
		sa.MessageNL = "het kantoor kon dit bezoek niet lezen: " + de.NL
	}
	return sa
}

// unreadable sets aside a record that is not a visit, with its id and
// rev if they can be read, so that the bus and the office staff can tell
// which record it was.
func unreadable(index int, raw json.RawMessage) *SetAside {
	var ref struct {
		ID  string `json:"id"`
		Rev int64  `json:"rev"`
	}
	_ = json.Unmarshal(raw, &ref)
	sa := &SetAside{Index: index, ID: ref.ID, Rev: ref.Rev, Reason: ReasonMalformed,
		Message:   "the office could not read this record",
		MessageNL: "het kantoor kon dit bezoek niet lezen"}
	return sa
}

// PullInput is what the receiver reads from a pull request.
type PullInput struct {
	Authorization string
	Version       string
	Seen          BusSeen
	Since         string // the query parameter as sent
	PlanHash      string // the plan's hash the bus holds (?plan=), "" when none
}

// Pull returns the office-owned changes for the asking bus after since. It
// returns a *VersionError, ErrUnauthorized or a *MalformedError.
func (r *Receiver) Pull(ctx context.Context, in PullInput) (*PullResponse, error) {
	busID, err := r.authenticate(ctx, in.Version, in.Authorization)
	if err != nil {
		return nil, err
	}
	var since int64
	if in.Since != "" {
		since, err = strconv.ParseInt(in.Since, 10, 64)
		if err != nil || since < 0 {
			return nil, malformed("since must be a whole number, 0 or more", "since moet een heel getal zijn, 0 of hoger")
		}
	}
	held, epoch, err := r.Store.NoteBus(ctx, busID, in.Seen)
	if err != nil {
		return nil, err
	}
	changes, err := r.Store.StatusChanges(ctx, busID, since, MaxPullPage+1)
	if err != nil {
		return nil, err
	}
	feedback, err := r.Store.FeedbackChanges(ctx, busID, since, MaxPullPage+1)
	if err != nil {
		return nil, err
	}
	erasures, err := r.Store.Erasures(ctx, busID, since, MaxPullPage+1)
	if err != nil {
		return nil, err
	}
	resp := pullPage(since, changes, feedback, erasures)
	resp.HeldSeq, resp.Epoch = held, epoch
	if !resp.More {
		if resp.Plan, err = r.plan(ctx, busID, in.PlanHash); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// pullPage takes the first MaxPullPage changes of the three lists by seq:
// all count on the bus's one pull counter, and the cursor may only pass a
// seq whose change the page carries.
func pullPage(since int64, changes []StatusChange, feedback []FeedbackChange, erasures []Erasure) *PullResponse {
	resp := &PullResponse{Statuses: []StatusChange{}, Feedback: []FeedbackChange{}, Next: since}
	i, j, k := 0, 0, 0
	const none = int64(1<<63 - 1)
	at := func(n int, seq func(int) int64, l int) int64 {
		if n < l {
			return seq(n)
		}
		return none
	}
	for n := 0; n < MaxPullPage; n++ {
		si := at(i, func(x int) int64 { return changes[x].Seq }, len(changes))
		sj := at(j, func(x int) int64 { return feedback[x].Seq }, len(feedback))
		sk := at(k, func(x int) int64 { return erasures[x].Seq }, len(erasures))
		switch {
		case si == none && sj == none && sk == none:
			n = MaxPullPage
		case si <= sj && si <= sk:
			resp.Statuses = append(resp.Statuses, changes[i])
			resp.Next = si
			i++
		case sj <= sk:
			resp.Feedback = append(resp.Feedback, feedback[j])
			resp.Next = sj
			j++
		default:
			resp.Erasures = append(resp.Erasures, erasures[k])
			resp.Next = sk
			k++
		}
	}
	resp.More = i < len(changes) || j < len(feedback) || k < len(erasures)
	return resp
}
