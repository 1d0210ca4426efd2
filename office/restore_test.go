package office

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	infosync "infobus/sync"
)

// TestHeldCursor: the office moves how far it holds a bus's pushes only
// over a batch that starts where it holds, forgets it when the bus's
// database has a new epoch, and says so on every pull.
func TestHeldCursor(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus held")
	r := &infosync.Receiver{Store: s}
	pushAfter := func(after, through int64, epoch string) error {
		var body bytes.Buffer
		rec := visitRecord(t, newID(t), 1, "held")
		if err := infosync.EncodePush(&body, &infosync.PushRequest{BusID: e.BusID, ThroughSeq: through, Records: []json.RawMessage{rec}}, 6); err != nil {
			t.Fatal(err)
		}
		in := infosync.PushInput{Authorization: "Bearer " + e.BusToken, Version: "1", ContentEncoding: "gzip", Body: body.Bytes(),
			Seen: infosync.BusSeen{Epoch: epoch, Build: "v1.2.3"}}
		if after >= 0 {
			in.AfterSeq = strconv.FormatInt(after, 10)
		}
		_, err := r.Push(ctx, in)
		return err
	}
	held := func(epoch string) int64 {
		t.Helper()
		resp, err := r.Pull(ctx, infosync.PullInput{Authorization: "Bearer " + e.BusToken, Version: "1", Seen: infosync.BusSeen{Epoch: epoch}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Epoch != s.Epoch() || resp.Epoch == "" {
			t.Errorf("pull: got office epoch %q, want %q", resp.Epoch, s.Epoch())
		}
		return resp.HeldSeq
	}
	for _, step := range []struct {
		name          string
		after, thru   int64
		epoch         string
		want          int64
		wantMalformed bool
	}{
		{"first batch", 0, 10, "aaa", 10, false},
		{"the next one", 10, 20, "aaa", 20, false},
		{"a resend of an older batch", 0, 10, "aaa", 20, false},
		{"a batch after a gap", 30, 40, "aaa", 20, false},
		{"a bus that sends no cursor", -1, 25, "aaa", 25, false},
		{"the bus restored: new epoch, its cursor means nothing here", 5, 8, "bbb", 0, false},
		{"from the start under the new epoch", 0, 8, "bbb", 8, false},
		{"a cursor past through_seq", 9, 8, "bbb", 8, true},
	} {
		err := pushAfter(step.after, step.thru, step.epoch)
		var me *infosync.MalformedError
		if step.wantMalformed != errors.As(err, &me) || (!step.wantMalformed && err != nil) {
			t.Fatalf("%s: got %v", step.name, err)
		}
		if got := held(step.epoch); got != step.want {
			t.Errorf("%s: got held_seq %d, want %d", step.name, got, step.want)
		}
	}
	if builds, _ := s.BusBuilds(ctx); builds[e.BusID] != "v1.2.3" {
		t.Errorf("got build %q recorded, want v1.2.3", builds[e.BusID])
	}
}
