package office

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// Two records set aside within one second are listed in the order they
// came: with RFC 3339 "nano" (trailing zeros trimmed) the one at .5 s
// sorted before the one at the whole second.
func TestSetAsideOrderWithinASecond(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 30, 12, 0, 5, 0, time.UTC)}
	s, err := OpenStore(ctx, t.TempDir(), slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := mustAddBus(t, s, "bus 1")
	// The later one has the smaller id, so that the tie-break by id
	// cannot hide a wrong order.
	first, second := "019ad000-0000-7000-8000-00000000000b", "019ad000-0000-7000-8000-00000000000a"
	bad := func(id string) json.RawMessage {
		var v map[string]any
		json.Unmarshal(visitRecord(t, id, 1, "x"), &v)
		v["wijk"] = "WK999999"
		b, _ := json.Marshal(v)
		return b
	}
	mustPush(t, s, e, 1, bad(first))
	clk.add(500 * time.Millisecond)
	mustPush(t, s, e, 2, bad(second))

	recs, err := s.SetAsideFor(ctx, e.BusID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.VisitID)
	}
	if len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("oldest first: got %q, want %q then %q", got, first, second)
	}
	items, _, err := s.SetAsideAll(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, it := range items {
		got = append(got, it.VisitID+" "+it.ReceivedAt)
	}
	if len(items) != 2 || items[0].VisitID != second || items[1].VisitID != first {
		t.Errorf("newest first: got %q", got)
	}
}

// The audit page's day bounds are Timestamps too: an entry at the very
// start of a day (local midnight) is on that day, not the one before.
func TestAuditDayBounds(t *testing.T) {
	ctx := context.Background()
	midnight := time.Date(2026, 11, 30, 0, 0, 0, 0, zone)
	clk := &clock{t: midnight}
	s, err := OpenStore(ctx, t.TempDir(), slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Audit(ctx, "ada@example.org", ActionExportPanel, "panel", "at midnight"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     int
	}{{"2026-11-30", "2026-11-30", 1}, {"2026-11-29", "2026-11-29", 0}, {"2026-11-30", "", 1}, {"", "2026-11-29", 0}} {
		got, _, err := s.FindAudit(ctx, AuditFilter{Actor: "ada@example.org", From: tc.from, To: tc.to})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Errorf("from %q to %q: got %d entries, want %d", tc.from, tc.to, len(got), tc.want)
		}
	}
}
