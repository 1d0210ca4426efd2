package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"infobus/schema"
)

// The bus's day travels beside the visits, compatibly within v1:
//
//   - A pull's last page carries the Plan: the bus's stops from yesterday
//     on and the history of the wijken on them. The bus says which plan it
//     holds (?plan=HASH); an unchanged plan is left out.
//   - A push may carry the crew's unplanned stops and quick contacts as
//     their own lists. They are idempotent by id, so a resend after a lost
//     answer lands nothing twice. The bus sends them in a push of its own,
//     with no visits, after the visits' batches, so that the visits' cursor
//     and batch sizes are as before.
//
// An office that knows nothing of these implements neither PlanStore nor
// ExtrasStore; its buses get no plan and keep their extras.

// Plan is what the office tells one bus about its days.
type Plan struct {
	Hash    string                `json:"hash"`
	Stops   []schema.Stop         `json:"stops"`
	History []schema.HistoryVisit `json:"history"`
}

// ExtrasAck answers a push's stops and quick contacts: how many were new
// at the office, and the ones it refused, which the bus must not resend.
type ExtrasAck struct {
	Stops         int            `json:"stops"`
	QuickContacts int            `json:"quick_contacts"`
	Refused       []ExtraRefusal `json:"refused,omitempty"`
}

// ExtraRefusal is a stop or quick contact the office would not take.
type ExtraRefusal struct {
	Kind      string                    `json:"kind"` // "stop" or "quick_contact"
	ID        string                    `json:"id"`
	Message   string                    `json:"message"`
	MessageNL string                    `json:"message_nl"`
	Fields    map[string]schema.Problem `json:"fields,omitempty"`
}

// PlanStore is what the receiver needs to send a bus its plan.
type PlanStore interface {
	// PlanFor returns busID's plan.
	PlanFor(ctx context.Context, busID string) (*Plan, error)
}

// ExtrasStore is what the receiver needs to take a push's extras.
type ExtrasStore interface {
	// CommitExtras stores checked stops and quick contacts from busID,
	// each once by id, and returns how many of each were new.
	CommitExtras(ctx context.Context, busID string, stops []schema.Stop, contacts []schema.QuickContact) (newStops, newContacts int, err error)
}

// plan returns the bus's plan, or nil when the office keeps none or the
// bus holds it already.
func (r *Receiver) plan(ctx context.Context, busID, held string) (*Plan, error) {
	ps, ok := r.Store.(PlanStore)
	if !ok {
		return nil, nil
	}
	p, err := ps.PlanFor(ctx, busID)
	if err != nil || p.Hash == held {
		return nil, err
	}
	return p, nil
}

// takesExtras refuses a push with stops or quick contacts when the office
// keeps none.
func (r *Receiver) takesExtras(req *PushRequest) error {
	if len(req.Stops) == 0 && len(req.QuickContacts) == 0 {
		return nil
	}
	if _, ok := r.Store.(ExtrasStore); !ok {
		return malformed("this office takes no stops or quick contacts", "dit kantoor neemt geen standplaatsen of snelle contacten aan")
	}
	return nil
}

// commitExtras checks and stores a push's stops and quick contacts. A bad
// one is refused alone, like a bad visit.
func (r *Receiver) commitExtras(ctx context.Context, busID string, req *PushRequest) (*ExtrasAck, error) {
	if len(req.Stops) == 0 && len(req.QuickContacts) == 0 {
		return nil, nil
	}
	es := r.Store.(ExtrasStore) // takesExtras checked
	ack := &ExtrasAck{}
	var stops []schema.Stop
	for _, raw := range req.Stops {
		var st schema.Stop
		if err := decodeExtra(raw, &st); err != nil {
			ack.Refused = append(ack.Refused, refusal("stop", raw, err))
			continue
		}
		st.Normalize()
		// A bus adds only unplanned stops; planning is the office's.
		st.Planned, st.BusID = false, busID
		if err := st.Validate(); err != nil {
			ack.Refused = append(ack.Refused, refusal("stop", raw, err))
			continue
		}
		stops = append(stops, st)
	}
	var contacts []schema.QuickContact
	for _, raw := range req.QuickContacts {
		var q schema.QuickContact
		if err := decodeExtra(raw, &q); err != nil {
			ack.Refused = append(ack.Refused, refusal("quick_contact", raw, err))
			continue
		}
		if err := q.Validate(); err != nil {
			ack.Refused = append(ack.Refused, refusal("quick_contact", raw, err))
			continue
		}
		contacts = append(contacts, q)
	}
	var err error
	ack.Stops, ack.QuickContacts, err = es.CommitExtras(ctx, busID, stops, contacts)
	if err != nil {
		return nil, err
	}
	return ack, nil
}

// decodeExtra reads raw into v, refusing fields v lacks: a quick contact
// with a name in it is not a quick contact.
func decodeExtra(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &schema.DecodeError{EN: err.Error(), NL: "dit is geen geldig record: " + err.Error()}
	}
	return nil
}

func refusal(kind string, raw json.RawMessage, err error) ExtraRefusal {
	var ref struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &ref)
	out := ExtraRefusal{Kind: kind, ID: ref.ID}
	var (
		ve *schema.ValidationError
		de *schema.DecodeError
	)
	switch {
	case errors.As(err, &ve):
		out.Message, out.MessageNL = ve.Summary()
		out.Fields = ve.Fields
	case errors.As(err, &de):
		out.Message, out.MessageNL = de.EN, de.NL
	default:
		out.Message, out.MessageNL = err.Error(), fmt.Sprint("het kantoor kon dit niet lezen: ", err)
	}
	return out
}

// ExtrasOutbox is what the client needs from a bus that keeps stops and
// quick contacts to send.
type ExtrasOutbox interface {
	// PendingExtras returns up to limit unsent unplanned stops and up to
	// limit unsent quick contacts.
	PendingExtras(ctx context.Context, limit int) (stops, contacts []OutExtra, err error)
	// AcknowledgeExtras marks what the office took (or refused) as sent.
	AcknowledgeExtras(ctx context.Context, stops, contacts []OutExtra, ack *ExtrasAck) error
}

// PlanHolder is a bus that keeps the office's plan: it says which one it
// holds, and its ApplyPull stores a pulled PullResponse.Plan.
type PlanHolder interface {
	PlanHash(ctx context.Context) (string, error)
}

// OutExtra is one stop or quick contact waiting to be pushed.
type OutExtra struct {
	ID   string
	Body json.RawMessage
}

// pushExtras sends the crew's stops and quick contacts in pushes of their
// own until none wait. An office too old to take them refuses with 400;
// that is logged and the sync goes on: they wait on the bus.
func (c *Client) pushExtras(ctx context.Context, enr Enrollment) error {
	eo, ok := c.Outbox.(ExtrasOutbox)
	if !ok {
		return nil
	}
	for range maxPullPages {
		stops, contacts, err := eo.PendingExtras(ctx, MaxPushRecords/2)
		if err != nil || len(stops)+len(contacts) == 0 {
			return err
		}
		_, acked, _, err := c.Outbox.Backlog(ctx)
		if err != nil {
			return err
		}
		req := &PushRequest{BusID: enr.BusID, ThroughSeq: acked, Records: []json.RawMessage{}}
		for _, s := range stops {
			req.Stops = append(req.Stops, s.Body)
		}
		for _, q := range contacts {
			req.QuickContacts = append(req.QuickContacts, q.Body)
		}
		var buf bytes.Buffer
		if err := EncodePush(&buf, req, DefaultGzipLevel); err != nil {
			return err
		}
		var resp PushResponse
		err = c.do(ctx, enr, http.MethodPost, PushPath, buf.Bytes(), &resp)
		var re *RefusedError
		if errors.As(err, &re) && re.Status == http.StatusBadRequest {
			if c.Log != nil {
				c.Log.Warn("sync: the office refused stops and quick contacts; they wait on the bus", "err", err)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if resp.Extras == nil {
			return fmt.Errorf("office answered a push of stops and quick contacts without saying what it took")
		}
		if err := eo.AcknowledgeExtras(ctx, stops, contacts, resp.Extras); err != nil {
			return fmt.Errorf("record acknowledgement of stops and quick contacts: %w", err)
		}
		if c.Log != nil {
			c.Log.Debug("sync pushed extras", "stops", len(stops), "quick_contacts", len(contacts), "refused", len(resp.Extras.Refused))
		}
	}
	return nil
}

// planQuery is the pull's ?plan= for the plan the bus holds.
func (c *Client) planQuery(ctx context.Context) (string, error) {
	ph, ok := c.Outbox.(PlanHolder)
	if !ok {
		return "", nil
	}
	h, err := ph.PlanHash(ctx)
	if err != nil {
		return "", err
	}
	return "&plan=" + url.QueryEscape(h), nil
}
