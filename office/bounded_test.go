package office

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	infosync "infobus/sync"
)

// A small gzip push of records with a hundred thousand bad entries, or
// megabytes of junk, gets a small answer and small set-aside rows: the
// office once answered such a push with 79 MB and stored 80 MB.
func TestPushRefusalIsBounded(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	srv := NewServer(Config{Addr: DefaultAddr}, s, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })

	// Each valid visit, with one list or field made bad.
	withFollowUps := func(items string, n int) json.RawMessage {
		rec := string(visitRecord(t, newID(t), 1, ""))
		list := "[" + strings.TrimSuffix(strings.Repeat(items+",", n), ",") + "]"
		return json.RawMessage(strings.Replace(rec, `"followups":[]`, `"followups":`+list, 1))
	}
	unknown := func(n int) json.RawMessage {
		var sb strings.Builder
		sb.WriteString("{")
		for i := range n {
			sb.WriteString(`"x` + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + `":0,`)
		}
		return json.RawMessage(sb.String() + string(visitRecord(t, newID(t), 1, ""))[1:])
	}
	recs := []json.RawMessage{
		withFollowUps(`{}`, 146000),
		withFollowUps(`7`, 146000),
		unknown(50000),
		visitRecord(t, newID(t), 1, ""),
	}
	var body bytes.Buffer
	if err := infosync.EncodePush(&body, &infosync.PushRequest{BusID: e.BusID, ThroughSeq: 4, Records: recs}, 9); err != nil {
		t.Fatal(err)
	}
	t.Logf("push of %d bytes gzip", body.Len())
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+infosync.PushPath, &body)
	req.Header.Set("Authorization", "Bearer "+e.BusToken)
	req.Header.Set(infosync.VersionHeader, "1")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %.300s, want 200", resp.StatusCode, answer)
	}
	if len(answer) >= 64<<10 {
		t.Errorf("got an answer of %d bytes, want under 64 KiB", len(answer))
	}
	var pr infosync.PushResponse
	if err := json.Unmarshal(answer, &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Landed != 1 || len(pr.SetAside) != 3 {
		t.Fatalf("got %d landed and %d set aside, want 1 and 3", pr.Landed, len(pr.SetAside))
	}
	for i, sa := range pr.SetAside {
		if sa.Message == "" || sa.MessageNL == "" {
			t.Errorf("set aside %d: got message %q / %q, want both languages", i, sa.Message, sa.MessageNL)
		}
	}
	if _, ok := pr.SetAside[0].Fields["followups"]; !ok || len(pr.SetAside[0].Fields) != 1 {
		t.Errorf("got fields %v, want one error for the follow-up list", pr.SetAside[0].Fields)
	}
	if sa := pr.SetAside[2]; len(sa.Fields) != 50 || sa.FieldsOmitted == 0 || !strings.Contains(sa.MessageNL, "en nog") {
		t.Errorf("got %d fields, %d omitted, %q, want 50, the rest counted and said", len(sa.Fields), sa.FieldsOmitted, sa.MessageNL)
	}

	rows, err := s.SetAsideFor(ctx, e.BusID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d set-aside rows, want 3", len(rows))
	}
	for _, r := range rows {
		fields, _ := json.Marshal(r.Fields)
		size := len(r.VisitID) + len(r.Reason) + len(r.Message) + len(r.MessageNL) + len(fields) + len(r.Body)
		if size >= 64<<10 {
			t.Errorf("set aside %s: got a row of %d bytes, want under 64 KiB", r.VisitID, size)
		}
		if r.MessageNL == "" {
			t.Errorf("set aside %s: no Dutch reason stored", r.VisitID)
		}
		if !strings.Contains(r.Body, "[cut by the office") {
			t.Errorf("set aside %s: got a body of %d bytes without the cut marker", r.VisitID, len(r.Body))
		}
	}
}
