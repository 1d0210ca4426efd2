package office

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"infobus/schema"
	infosync "infobus/sync"
)

func mustOpenStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := OpenStore(context.Background(), tb.TempDir(), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func mustAddBus(tb testing.TB, s *Store, name string) infosync.Enrollment {
	tb.Helper()
	e, err := s.AddBus(context.Background(), name, "http://127.0.0.1:8090")
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func newID(tb testing.TB) string {
	tb.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		tb.Fatal(err)
	}
	return id.String()
}

// visitRecord is a valid visit's crew JSON, as a bus pushes it.
func visitRecord(tb testing.TB, id string, rev int64, note string, followUps ...string) json.RawMessage {
	tb.Helper()
	v := schema.Visit{ID: id, Rev: rev, VisitedAt: "2026-11-26T14:05:00+01:00",
		Business: schema.Business{Name: "Kapsalon Noor", KvK: "27312345"},
		Wijk:     "WK051828", Topics: []string{"vergunningen"}, Notes: note}
	for _, f := range followUps {
		v.FollowUps = append(v.FollowUps, schema.FollowUp{ID: f, Kind: schema.KindInformation, Description: "Informatie sturen"})
	}
	v.Normalize()
	b, err := json.Marshal(v.CrewOwned())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// push sends records to a receiver over the store, as the office's handler does.
func push(tb testing.TB, s *Store, e infosync.Enrollment, through int64, recs ...json.RawMessage) (*infosync.PushResponse, error) {
	tb.Helper()
	r := &infosync.Receiver{Store: s}
	return r.Push(context.Background(), pushInput(tb, e, &infosync.PushRequest{BusID: e.BusID, ThroughSeq: through, Records: recs}))
}

// pushInput is req as the office's handler hands it to the receiver.
func pushInput(tb testing.TB, e infosync.Enrollment, req *infosync.PushRequest) infosync.PushInput {
	tb.Helper()
	var body bytes.Buffer
	if err := infosync.EncodePush(&body, req, 6); err != nil {
		tb.Fatal(err)
	}
	return infosync.PushInput{Authorization: "Bearer " + e.BusToken, Version: "1", ContentEncoding: "gzip", Body: body.Bytes()}
}

func mustPush(tb testing.TB, s *Store, e infosync.Enrollment, through int64, recs ...json.RawMessage) *infosync.PushResponse {
	tb.Helper()
	resp, err := push(tb, s, e, through, recs...)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.AckedSeq != through {
		tb.Fatalf("got acked_seq %d, want %d", resp.AckedSeq, through)
	}
	return resp
}

func TestPushIsIdempotentByIDAndRev(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	a, b := newID(t), newID(t)

	batch := []json.RawMessage{visitRecord(t, a, 1, "eerste"), visitRecord(t, b, 1, "tweede")}
	mustPush(t, s, e, 2, batch...)
	first, _ := s.FindVisitByID(ctx, a)
	// The same batch again, as after a lost acknowledgement: nothing changes.
	resp := mustPush(t, s, e, 2, batch...)
	if len(resp.SetAside) != 0 || resp.Landed != 2 {
		t.Fatalf("replay: got %+v, want both landed, none set aside", resp)
	}
	again, _ := s.FindVisitByID(ctx, a)
	if again.ReceivedAt != first.ReceivedAt {
		t.Errorf("replay rewrote the visit: received_at %s, want %s", again.ReceivedAt, first.ReceivedAt)
	}

	mustPush(t, s, e, 3, visitRecord(t, a, 3, "derde versie"))
	mustPush(t, s, e, 4, visitRecord(t, a, 2, "tweede versie, te laat"))
	revs, err := s.VisitRevs(ctx, e.BusID)
	if err != nil {
		t.Fatal(err)
	}
	if revs[a] != 3 || revs[b] != 1 || len(revs) != 2 {
		t.Errorf("got revs %v, want %s at 3 and %s at 1", revs, a, b)
	}
	got, _ := s.FindVisitByID(ctx, a)
	if got.Notes != "derde versie" || got.BusID != e.BusID {
		t.Errorf("got notes %q from bus %s, want the third version from %s", got.Notes, got.BusID, e.BusID)
	}
}

func TestPushSetsAsideWhatItCannotTake(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	other := mustAddBus(t, s, "bus 2")
	taken, conflicting, fu := newID(t), newID(t), newID(t)
	mustPush(t, s, other, 1, visitRecord(t, taken, 1, "van bus 2", fu))
	mustPush(t, s, e, 1, visitRecord(t, conflicting, 1, "origineel"))

	invalid := json.RawMessage(`{"id":"` + newID(t) + `","rev":1,"visited_at":"gisteren","business":{"name":"X","kvk":"123"},"wijk":"WK051828","topics":["vergunningen"]}`)
	good := newID(t)
	tests := []struct {
		name   string
		record json.RawMessage
		reason string
		field  string
	}{
		{"fails validation", invalid, infosync.ReasonValidation, "business.kvk"},
		{"same rev, other content", visitRecord(t, conflicting, 1, "anders"), infosync.ReasonConflict, "rev"},
		{"another bus's visit", visitRecord(t, taken, 2, "overgenomen"), infosync.ReasonForeignID, "id"},
		{"another visit's follow-up", visitRecord(t, newID(t), 1, "", fu), infosync.ReasonForeignID, "followups[0].id"},
		{"not a visit", json.RawMessage(`[1,2]`), infosync.ReasonMalformed, ""},
		{"unknown field", json.RawMessage(`{"id":"x","rev":1,"bsn":"123456782"}`), infosync.ReasonMalformed, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			through := int64(10 + i)
			resp := mustPush(t, s, e, through, visitRecord(t, good, int64(i+1), "goed"), tt.record)
			if resp.Landed != 1 || len(resp.SetAside) != 1 {
				t.Fatalf("got %+v, want the good record landed and the other set aside", resp)
			}
			sa := resp.SetAside[0]
			if sa.Index != 1 || sa.Reason != tt.reason {
				t.Errorf("got set aside %+v, want index 1 for %s", sa, tt.reason)
			}
			if _, ok := sa.Fields[tt.field]; tt.field != "" && !ok {
				t.Errorf("got fields %v, want %s among them", sa.Fields, tt.field)
			}
		})
	}
	// The other bus's visit is untouched, the good one at its last rev,
	// and the office kept what it refused.
	if v, _ := s.FindVisitByID(ctx, taken); v.BusID != other.BusID || v.Rev != 1 {
		t.Errorf("got %s at rev %d, want bus 2's visit unchanged", v.BusID, v.Rev)
	}
	if revs, _ := s.VisitRevs(ctx, e.BusID); revs[good] != int64(len(tests)) {
		t.Errorf("got rev %d for the good visit, want %d", revs[good], len(tests))
	}
	quarantined, err := s.SetAsideFor(ctx, e.BusID)
	if err != nil {
		t.Fatal(err)
	}
	if len(quarantined) != len(tests) {
		t.Errorf("got %d quarantined records, want %d", len(quarantined), len(tests))
	}
}

func TestPushRefusals(t *testing.T) {
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	srv := NewServer(Config{Addr: DefaultAddr}, s, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	base := "http://" + ln.Addr().String()

	gzipBody := func(n int) []byte {
		recs := make([]json.RawMessage, n)
		for i := range recs {
			recs[i] = visitRecord(t, newID(t), 1, "")
		}
		var b bytes.Buffer
		infosync.EncodePush(&b, &infosync.PushRequest{BusID: e.BusID, ThroughSeq: int64(n), Records: recs}, 6)
		return b.Bytes()
	}
	good := gzipBody(1)
	tests := []struct {
		name    string
		token   string
		version string
		body    []byte
		status  int
		code    string
	}{
		{"good", e.BusToken, "1", good, 200, ""},
		{"no token", "", "1", good, 401, "unauthorized"},
		{"wrong token", "not-the-token", "1", good, 401, "unauthorized"},
		{"newer bus", e.BusToken, "2", good, 426, "sync_version"},
		{"no version", e.BusToken, "", good, 426, "sync_version"},
		{"too many records", e.BusToken, "1", gzipBody(infosync.MaxPushRecords + 1), 413, "too_large"},
		{"not gzip", e.BusToken, "1", []byte(`{"bus_id":`), 400, "bad_request"},
		{"good after all that", e.BusToken, "1", gzipBody(2), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+infosync.PushPath, bytes.NewReader(tt.body))
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.version != "" {
				req.Header.Set(infosync.VersionHeader, tt.version)
			}
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if got := resp.Header.Get(infosync.VersionHeader); got != strconv.Itoa(infosync.Version) {
				t.Errorf("got version header %q, want %d", got, infosync.Version)
			}
			var eb infosync.ErrorBody
			json.Unmarshal(body, &eb)
			if eb.Error != tt.code || (tt.code != "" && eb.Message == "") {
				t.Errorf("got error %+v, want code %q with a message", eb, tt.code)
			}
		})
	}
	// A body over the limit on the wire is refused from its Content-Length,
	// before it is read; a client still writing it may see the connection
	// close instead of the answer, so this one announces and waits.
	t.Run("too large on the wire", func(t *testing.T) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: office\r\nAuthorization: Bearer %s\r\n%s: 1\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n",
			infosync.PushPath, e.BusToken, infosync.VersionHeader, infosync.MaxPushCompressed+10)
		// The start of the body: the office reads a little before it
		// looks at a request (guard.go), never the rest.
		conn.Write(make([]byte, 16<<10))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var eb infosync.ErrorBody
		json.Unmarshal(body, &eb)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || eb.Error != "too_large" {
			t.Errorf("got %d %s, want 413 too_large", resp.StatusCode, body)
		}
	})
	revs, _ := s.VisitRevs(context.Background(), e.BusID)
	if len(revs) != 3 {
		t.Errorf("got %d visits at the office, want the 3 of the good pushes", len(revs))
	}
}

func TestFollowUpStatusIsPulledInOrder(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	other := mustAddBus(t, s, "bus 2")
	f1, f2, f3 := newID(t), newID(t), newID(t)
	mustPush(t, s, e, 1, visitRecord(t, newID(t), 1, "", f1, f2))
	mustPush(t, s, other, 1, visitRecord(t, newID(t), 1, "", f3))

	if _, err := s.SetFollowUpStatus(ctx, f1, schema.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	s.SetFollowUpStatus(ctx, f3, schema.StatusDone, "elders")
	s.SetFollowUpStatus(ctx, f2, schema.StatusCancelled, "niet meer nodig")
	st, err := s.SetFollowUpStatus(ctx, f1, schema.StatusDone, "teruggebeld")
	if err != nil {
		t.Fatal(err)
	}
	if st.StatusRev != 2 {
		t.Errorf("got status_rev %d, want 2", st.StatusRev)
	}
	if _, err := s.SetFollowUpStatus(ctx, newID(t), schema.StatusDone, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown follow-up: got %v, want ErrNotFound", err)
	}
	var ve *schema.ValidationError
	if _, err := s.SetFollowUpStatus(ctx, f1, "finished", ""); !errors.As(err, &ve) {
		t.Errorf("bad status: got %v, want a validation error", err)
	}

	r := &infosync.Receiver{Store: s}
	resp, err := r.Pull(ctx, infosync.PullInput{Authorization: "Bearer " + e.BusToken, Version: "1", Since: "0"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range resp.Statuses {
		got = append(got, fmt.Sprintf("%s=%s/%d", c.FollowUpID[len(c.FollowUpID)-4:], c.Status, c.StatusRev))
	}
	want := []string{f2[len(f2)-4:] + "=cancelled/1", f1[len(f1)-4:] + "=done/2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v (latest status only, this bus only, in change order)", got, want)
	}
	again, _ := r.Pull(ctx, infosync.PullInput{Authorization: "Bearer " + e.BusToken, Version: "1", Since: strconv.FormatInt(resp.Next, 10)})
	if len(again.Statuses) != 0 || again.Next != resp.Next {
		t.Errorf("pull from next: got %+v, want nothing new at %d", again, resp.Next)
	}
}

func TestAddBus(t *testing.T) {
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "Bus Centrum")
	if _, err := s.AddBus(context.Background(), "Bus Centrum", "https://x"); !errors.Is(err, ErrConflict) {
		t.Errorf("same name: got %v, want ErrConflict", err)
	}
	id, err := s.BusByToken(context.Background(), e.BusToken)
	if err != nil || id != e.BusID {
		t.Errorf("got %q %v, want %s", id, err, e.BusID)
	}
	if _, err := s.BusByToken(context.Background(), e.BusToken+"x"); !errors.Is(err, infosync.ErrUnauthorized) {
		t.Errorf("wrong token: got %v, want ErrUnauthorized", err)
	}
	key, _ := s.CodeKey(context.Background(), e.BusID)
	if !bytes.Equal(key, e.CodeKey) {
		t.Errorf("got code key %x, want %x", key, e.CodeKey)
	}
}
