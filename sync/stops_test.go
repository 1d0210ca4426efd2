package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"infobus/schema"
)

// TestPushExtrasRoundTrip: stops and quick contacts travel beside the
// records and come back as sent; a push without them is byte for byte
// what it was before they existed.
func TestPushExtrasRoundTrip(t *testing.T) {
	req := &PushRequest{BusID: "bus-1", ThroughSeq: 7, Records: []json.RawMessage{},
		Stops:         []json.RawMessage{json.RawMessage(`{"id":"a"}`)},
		QuickContacts: []json.RawMessage{json.RawMessage(`{"id":"b"}`), json.RawMessage(`{"id":"c"}`)}}
	var buf bytes.Buffer
	if err := EncodePush(&buf, req, 6); err != nil {
		t.Fatal(err)
	}
	got, err := DecodePush(buf.Bytes(), "gzip")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Stops) != 1 || string(got.Stops[0]) != `{"id":"a"}` || len(got.QuickContacts) != 2 || got.ThroughSeq != 7 {
		t.Errorf("got %+v", got)
	}
	plain, err := decodePushJSON([]byte(`{"bus_id":"bus-1","through_seq":1,"records":[],"stops":5}`))
	var me *MalformedError
	if !errors.As(err, &me) || plain != nil {
		t.Errorf("stops that are no list: got %v, want a malformed push", err)
	}
	buf.Reset()
	if err := EncodePush(&buf, &PushRequest{BusID: "bus-1", Records: []json.RawMessage{}}, 6); err != nil {
		t.Fatal(err)
	}
	old, _ := DecodePush(buf.Bytes(), "gzip")
	if old.Stops != nil || old.QuickContacts != nil {
		t.Errorf("a push without extras decodes with %+v", old)
	}
}

// visitsOnly is an office store that knows nothing of stops.
type visitsOnly struct{ ReceiverStore }

func (visitsOnly) BusByToken(context.Context, string) (string, error) { return "bus-1", nil }

// TestExtrasRefusedByAnOldOffice: an office without ExtrasStore refuses a
// push with extras as a bad request, which the client takes as "keep them".
func TestExtrasRefusedByAnOldOffice(t *testing.T) {
	r := &Receiver{Store: visitsOnly{}}
	q := schema.QuickContact{ID: schema.NewUUIDv7(time.Now()), Wijk: "WK051828", Kind: schema.QuickFlyer, At: "2026-11-30T10:00:00+01:00"}
	b, _ := json.Marshal(q)
	var buf bytes.Buffer
	if err := EncodePush(&buf, &PushRequest{BusID: "bus-1", Records: []json.RawMessage{}, QuickContacts: []json.RawMessage{b}}, 6); err != nil {
		t.Fatal(err)
	}
	_, err := r.Push(context.Background(), PushInput{Authorization: "Bearer x", Version: "1", ContentEncoding: "gzip", Body: buf.Bytes()})
	var me *MalformedError
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want a malformed push", err)
	}
	if status, _, _ := ErrorResponse(err); status != 400 {
		t.Errorf("status %d, want 400", status)
	}
}
