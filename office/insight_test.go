package office

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"reflect"
	"testing"
	"time"

	"infobus/schema"
	infosync "infobus/sync"
)

// The insight fixture: visits around October 2026, whose last Sunday
// (the 25th) turns the clocks back from 03:00 to 02:00, with hand-counted
// figures. W1 and W3 lie in other stadsdelen than W2 (Scheveningen).
const (
	fxW1 = "WK051805" // Archipelbuurt, Centrum
	fxW2 = "WK051807" // Scheveningen, Scheveningen
	fxW3 = "WK051804" // Benoordenhout, Haagse Hout
)

type fxFollowUp struct {
	dept, due  string
	closeAfter time.Duration // 0: stays open
	status     string
}

type fxVisit struct {
	name, at, wijk, stop, sector string
	topics                       []string
	rating                       int // 0: none
	panel, deleted               bool
	followUps                    []fxFollowUp
}

var insightFixture = []fxVisit{
	{name: "S2", at: "2026-09-10T12:00:00+02:00", wijk: fxW3, stop: "Hobbemaplein", sector: "horeca", topics: []string{"veiligheid"}, rating: 7, panel: true},
	{name: "S1", at: "2026-09-30T23:30:00+02:00", wijk: fxW1, stop: "Haagse Markt", sector: "detailhandel", topics: []string{"vergunningen"}, rating: 4,
		followUps: []fxFollowUp{{dept: "vergunningen", due: "2026-10-07", closeAfter: 10 * time.Hour, status: schema.StatusDone}}},
	// Midnight itself belongs to the day it starts.
	{name: "A", at: "2026-10-01T00:00:00+02:00", wijk: fxW1, stop: "Haagse Markt", sector: "detailhandel", topics: []string{"vergunningen", "subsidies"}, rating: 8, panel: true,
		followUps: []fxFollowUp{{dept: "vergunningen", due: "2026-10-08", closeAfter: 26 * time.Hour, status: schema.StatusDone}, {dept: "belastingen", due: "2026-10-05"}}},
	// In UTC still September; in Amsterdam 1 October, 00.30.
	{name: "B", at: "2026-09-30T22:30:00Z", wijk: fxW1, stop: "Haagse Markt", sector: "horeca", topics: []string{"vergunningen"}, rating: 6},
	// The second 02.30 of the night the clocks go back.
	{name: "C", at: "2026-10-25T02:30:00+01:00", wijk: fxW2, stop: "Spuiplein", sector: "horeca", topics: []string{"veiligheid"}, rating: 10,
		followUps: []fxFollowUp{{dept: "vergunningen", due: "2026-11-20", closeAfter: 100 * time.Hour, status: schema.StatusCancelled}}},
	{name: "G", at: "2026-10-25T23:30:00+01:00", wijk: fxW3, stop: "Spuiplein", sector: "horeca", topics: []string{"veiligheid"}},
	{name: "H", at: "2026-10-26T00:00:00+01:00", wijk: fxW3, stop: "Spuiplein", sector: "horeca", topics: []string{"veiligheid"}},
	{name: "D", at: "2026-10-31T23:59:59+01:00", wijk: fxW2, stop: "Spuiplein", sector: "detailhandel", topics: []string{"subsidies"},
		followUps: []fxFollowUp{{dept: "vergunningen", due: "2026-10-31"}}},
	{name: "E", at: "2026-10-10T10:00:00+02:00", wijk: fxW1, stop: "Haagse Markt", sector: "horeca", topics: []string{"vergunningen"}, rating: 1, deleted: true},
	{name: "N1", at: "2026-11-01T00:00:00+01:00", wijk: fxW1, stop: "Haagse Markt", sector: "horeca", topics: []string{"vergunningen"}, rating: 2},
}

// fxStore is a store with the fixture pushed and its follow-ups closed at
// their visit's time plus closeAfter, by the office's clock.
type fxStore struct {
	*Store
	clock  *clock
	bus    infosync.Enrollment
	ids    map[string]string // fixture name → visit id
	seq    int64
	visits map[string]schema.Visit
}

func fxVisitOf(tb testing.TB, id string, f fxVisit) schema.Visit {
	tb.Helper()
	v := schema.Visit{ID: id, Rev: 1, VisitedAt: f.at, Stop: f.stop, Sector: f.sector, Wijk: f.wijk, Topics: f.topics,
		Business: schema.Business{Name: "Zaak " + f.name, KvK: "27312345"}, Deleted: f.deleted}
	if f.rating > 0 {
		r := f.rating
		v.Rating = &r
	}
	if f.panel {
		v.PanelOptIn = true
		v.Consent = schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: f.at}
		v.Contact = &schema.Contact{Name: "Noor " + f.name, Phone: "0612345678"}
	}
	for _, fu := range f.followUps {
		v.FollowUps = append(v.FollowUps, schema.FollowUp{ID: newID(tb), Kind: schema.KindInformation, Description: "Informatie sturen",
			Department: fu.dept, DueDate: fu.due})
	}
	return v
}

func (s *fxStore) push(tb testing.TB, vs ...schema.Visit) {
	tb.Helper()
	var recs []json.RawMessage
	for _, v := range vs {
		v.Normalize()
		b, err := json.Marshal(v.CrewOwned())
		if err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, b)
		s.visits[v.ID] = v
	}
	s.seq++
	resp := mustPush(tb, s.Store, s.bus, s.seq, recs...)
	if len(resp.SetAside) > 0 {
		tb.Fatalf("fixture visits set aside: %+v", resp.SetAside)
	}
}

func newFixtureStore(tb testing.TB) *fxStore {
	tb.Helper()
	clk := &clock{t: time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)}
	st, err := OpenStore(context.Background(), tb.TempDir(), slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	s := &fxStore{Store: st, clock: clk, bus: mustAddBus(tb, st, "Bus A"), ids: map[string]string{}, visits: map[string]schema.Visit{}}
	var vs []schema.Visit
	for _, f := range insightFixture {
		id := newID(tb)
		s.ids[f.name] = id
		vs = append(vs, fxVisitOf(tb, id, f))
	}
	s.push(tb, vs...)
	for i, f := range insightFixture {
		at, _ := time.Parse(time.RFC3339, f.at)
		for j, fu := range f.followUps {
			if fu.closeAfter == 0 {
				continue
			}
			clk.mu.Lock()
			clk.t = at.Add(fu.closeAfter)
			clk.mu.Unlock()
			if _, err := st.SetFollowUpStatus(context.Background(), vs[i].FollowUps[j].ID, fu.status, "klaar"); err != nil {
				tb.Fatal(err)
			}
		}
	}
	clk.mu.Lock()
	clk.t = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	clk.mu.Unlock()
	return s
}

func mustDate(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation(time.DateOnly, s, zone)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mustInsight(tb testing.TB, s *Store, p Period, a Area) *Insight {
	tb.Helper()
	in, err := s.Insight(context.Background(), p, a, s.now(), 10)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

func wantInt(tb testing.TB, what string, got, want int) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s: got %d, want %d", what, got, want)
	}
}

func TestPeriods(t *testing.T) {
	for _, tc := range []struct {
		name, kind, at       string
		from, to, pFrom, pTo string
		hours                float64 // the period's length: DST shows here
	}{
		{"month with the clocks going back", PeriodMonth, "2026-10-25", "2026-10-01", "2026-10-31", "2026-09-01", "2026-09-30", 31*24 + 1},
		{"month with the clocks going forward", PeriodMonth, "2026-03-31", "2026-03-01", "2026-03-31", "2026-02-01", "2026-02-28", 31*24 - 1},
		{"week ending on the DST night", PeriodWeek, "2026-10-25", "2026-10-19", "2026-10-25", "2026-10-12", "2026-10-18", 7*24 + 1},
		{"week across the new year", PeriodWeek, "2027-01-01", "2026-12-28", "2027-01-03", "2026-12-21", "2026-12-27", 7 * 24},
		{"quarter", PeriodQuarter, "2026-11-30", "2026-10-01", "2026-12-31", "2026-07-01", "2026-09-30", 92*24 + 1},
		{"first quarter", PeriodQuarter, "2026-02-10", "2026-01-01", "2026-03-31", "2025-10-01", "2025-12-31", 90*24 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PeriodAt(tc.kind, mustDate(t, tc.at))
			prev := p.Prev()
			got := []string{p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), prev.From.Format(time.DateOnly), prev.To.Format(time.DateOnly)}
			want := []string{tc.from, tc.to, tc.pFrom, tc.pTo}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("got %v, want %v", got, want)
					break
				}
			}
			if h := p.End().Sub(p.Start()).Hours(); h != tc.hours {
				t.Errorf("length: got %v hours, want %v", h, tc.hours)
			}
			if p.Start().In(zone).Hour() != 0 || p.End().In(zone).Hour() != 0 {
				t.Errorf("bounds %v – %v are not local midnights", p.Start(), p.End())
			}
		})
	}
	custom := Period{Kind: PeriodCustom, From: mustDate(t, "2026-09-30"), To: mustDate(t, "2026-10-01")}
	if prev := custom.Prev(); prev.From.Format(time.DateOnly) != "2026-09-28" || prev.To.Format(time.DateOnly) != "2026-09-29" {
		t.Errorf("custom prev: got %v – %v, want 2026-09-28 – 2026-09-29", prev.From, prev.To)
	}
}

func TestInsightFigures(t *testing.T) {
	s := newFixtureStore(t)
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	in := mustInsight(t, s.Store, october, Area{})

	wantInt(t, "october visits", in.Cur.All.N, 6)
	wantInt(t, "september visits", in.Old.All.N, 2)
	wantInt(t, "october visits with a follow-up", in.Cur.All.FU, 3)
	wantInt(t, "W1 in october", in.Cur.Wijk[fxW1].N, 2)
	wantInt(t, "W2 in october", in.Cur.Wijk[fxW2].N, 2)
	wantInt(t, "W3 in october", in.Cur.Wijk[fxW3].N, 2)
	wantInt(t, "W3 in september", in.Old.Wijk[fxW3].N, 1)
	wantInt(t, "stop Haagse Markt", in.Cur.Stop["Haagse Markt"], 2)
	wantInt(t, "stop Spuiplein", in.Cur.Stop["Spuiplein"], 4)
	wantInt(t, "sector detailhandel", in.Cur.Sector["detailhandel"], 2)
	wantInt(t, "sector horeca", in.Cur.Sector["horeca"], 4)
	wantInt(t, "topic vergunningen", in.Cur.Topic["vergunningen"].N, 2)
	wantInt(t, "topic vergunningen with follow-up", in.Cur.Topic["vergunningen"].FU, 1)
	wantInt(t, "topic subsidies with follow-up", in.Cur.Topic["subsidies"].FU, 2)
	wantInt(t, "topic veiligheid", in.Cur.Topic["veiligheid"].N, 3)
	wantInt(t, "topic veiligheid with follow-up", in.Cur.Topic["veiligheid"].FU, 1)
	// 1 October 2026 is a Thursday; A at 00.00 and B at 00.30.
	wantInt(t, "Thursday 0h", in.Cur.WdHour[4*24+0], 2)
	wantInt(t, "Sunday 2h (after the clocks went back)", in.Cur.WdHour[0*24+2], 1)
	wantInt(t, "Sunday 23h", in.Cur.WdHour[0*24+23], 1)
	wantInt(t, "Monday 0h", in.Cur.WdHour[1*24+0], 1)
	wantInt(t, "Saturday 23h", in.Cur.WdHour[6*24+23], 1)
	wantInt(t, "panel in october", in.Cur.All.P, 1)
	wantInt(t, "panel W3 in september", in.Old.Wijk[fxW3].P, 1)

	// The mark: 8, 6 and 10 in October; 7 and 4 in September.
	wantInt(t, "october marks", in.Cur.Marks.Count(), 3)
	if m := in.Cur.Marks.Mean(); m != 8 {
		t.Errorf("october mean: got %v, want 8", m)
	}
	if m := in.Old.Marks.Mean(); m != 5.5 {
		t.Errorf("september mean: got %v, want 5.5", m)
	}
	if m := in.Cur.WijkMarks[fxW1].Mean(); m != 7 {
		t.Errorf("W1 mean: got %v, want 7", m)
	}
	wantInt(t, "marks of 10", in.Cur.Marks[10], 1)
	wantInt(t, "marks of 1 (deleted visit)", in.Cur.Marks[1], 0)

	// Follow-ups: opened F1, F2 (A), F3 (C), F4 (D); closed F5 (10 h),
	// F1 (26 h), F3 (100 h); open at 1 November F2 and F4, both overdue.
	fu := in.FU.Total
	wantInt(t, "opened", fu.Opened, 4)
	wantInt(t, "closed", fu.Closed, 3)
	wantInt(t, "open at the end", fu.Open, 2)
	wantInt(t, "overdue at the end", fu.Overdue, 2)
	wantInt(t, "median hours", fu.Hours.Percentile(50), 26)
	wantInt(t, "p90 hours", fu.Hours.Percentile(90), 100)
	wantInt(t, "vergunningen opened", in.FU.Dept["vergunningen"].Opened, 3)
	wantInt(t, "vergunningen closed", in.FU.Dept["vergunningen"].Closed, 3)
	wantInt(t, "vergunningen open", in.FU.Dept["vergunningen"].Open, 1)
	wantInt(t, "belastingen overdue", in.FU.Dept["belastingen"].Overdue, 1)
	old := in.OldFU.Total
	wantInt(t, "september opened", old.Opened, 1)
	wantInt(t, "september closed", old.Closed, 0)
	wantInt(t, "open at 1 October (F5, closed at 09.30 that day)", old.Open, 1)
	wantInt(t, "overdue at 1 October", old.Overdue, 0)
	wantInt(t, "september median (none closed)", old.Hours.Percentile(50), -1)

	var notVisited int
	for _, w := range in.NotVisited {
		if w.Code == fxW1 || w.Code == fxW2 || w.Code == fxW3 {
			t.Errorf("%s counted as not visited", w.Code)
		}
		notVisited++
	}
	wantInt(t, "wijken not visited", notVisited, len(schema.Ref.Wijken)-3)

	// The trend: twelve months up to October.
	if len(in.Trend) != 12 || in.Trend[11].Month != "2026-10" || in.Trend[0].Month != "2025-11" {
		t.Fatalf("trend months: got %d ending %+v", len(in.Trend), in.Trend[len(in.Trend)-1])
	}
	wantInt(t, "trend october visits", in.Trend[11].Visits, 6)
	wantInt(t, "trend september marks", in.Trend[10].Marks.Count(), 2)

	t.Run("stadsdeel", func(t *testing.T) {
		in := mustInsight(t, s.Store, october, Area{Stadsdeel: "Scheveningen"})
		wantInt(t, "visits", in.Cur.All.N, 2)
		wantInt(t, "opened", in.FU.Total.Opened, 2)
		wantInt(t, "closed", in.FU.Total.Closed, 1)
		wantInt(t, "median", in.FU.Total.Hours.Percentile(50), 100)
		if len(in.NotVisited) != 8 { // Scheveningen has nine wijken, W2 visited
			t.Errorf("not visited: got %d wijken, want 8", len(in.NotVisited))
		}
	})
	t.Run("week ending on the DST night, from the visits", func(t *testing.T) {
		in := mustInsight(t, s.Store, PeriodAt(PeriodWeek, mustDate(t, "2026-10-25")), Area{})
		wantInt(t, "visits (C and G; H is Monday)", in.Cur.All.N, 2)
		wantInt(t, "previous week", in.Old.All.N, 0)
		wantInt(t, "marks", in.Cur.Marks.Count(), 1)
		wantInt(t, "Sunday 2h", in.Cur.WdHour[2], 1)
	})
	t.Run("custom period over a month's edge", func(t *testing.T) {
		p := Period{Kind: PeriodCustom, From: mustDate(t, "2026-09-30"), To: mustDate(t, "2026-10-01")}
		in := mustInsight(t, s.Store, p, Area{})
		wantInt(t, "visits (S1, A, B)", in.Cur.All.N, 3)
		wantInt(t, "opened", in.FU.Total.Opened, 3)
		wantInt(t, "closed (F5 at 09.30 on 1 October)", in.FU.Total.Closed, 1)
	})
	t.Run("custom period of whole and part months equals the sum", func(t *testing.T) {
		p := Period{Kind: PeriodCustom, From: mustDate(t, "2026-09-15"), To: mustDate(t, "2026-11-01")}
		in := mustInsight(t, s.Store, p, Area{})
		wantInt(t, "visits (S1, October's 6, N1)", in.Cur.All.N, 8)
		wantInt(t, "marks", in.Cur.Marks.Count(), 5)
		wantInt(t, "previous 48 days (S2)", in.Old.All.N, 1)
	})
	t.Run("quarter", func(t *testing.T) {
		in := mustInsight(t, s.Store, PeriodAt(PeriodQuarter, mustDate(t, "2026-11-01")), Area{})
		wantInt(t, "Q4", in.Cur.All.N, 7)
		wantInt(t, "Q3", in.Old.All.N, 2)
	})
}

// TestInsightExactAfterSync changes, moves and deletes visits with new
// revs and checks the monthly counts follow in the same push.
func TestInsightExactAfterSync(t *testing.T) {
	s := newFixtureStore(t)
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	ctx := context.Background()
	countMonths := func() *VisitCounts {
		vc, err := s.VisitCounts(ctx, Area{}, october.Start(), october.End())
		if err != nil {
			t.Fatal(err)
		}
		return vc
	}
	// B: a new rating and another wijk; D: deleted; A: moved to November.
	b := s.visits[s.ids["B"]]
	b.Rev, b.Wijk = 2, fxW2
	r := 9
	b.Rating = &r
	d := s.visits[s.ids["D"]]
	d.Rev, d.Deleted = 2, true
	a := s.visits[s.ids["A"]]
	a.Rev, a.VisitedAt = 2, "2026-11-02T10:00:00+01:00"
	s.push(t, b, d, a)
	vc := countMonths()
	wantInt(t, "october visits", vc.All.N, 4) // B, C, G, H
	wantInt(t, "W1", vc.Wijk[fxW1].N, 0)      // A left, B moved
	wantInt(t, "W2", vc.Wijk[fxW2].N, 2)      // B and C
	wantInt(t, "marks", vc.Marks.Count(), 2)  // 9 and 10
	wantInt(t, "panel (A left)", vc.All.P, 0) // A took its opt-in along
	wantInt(t, "subsidies", vc.Topic["subsidies"].N, 0)
	if m := vc.Marks.Mean(); m != 9.5 {
		t.Errorf("mean: got %v, want 9.5", m)
	}
	// The raw path agrees with the monthly counts.
	raw := newVisitCounts()
	if err := s.countRaw(ctx, raw, "", october.Start(), october.End(), 1); err != nil {
		t.Fatal(err)
	}
	if raw.All != vc.All || raw.Marks != vc.Marks || raw.WdHour != vc.WdHour {
		t.Errorf("raw %+v %v, months %+v %v", raw.All, raw.Marks, vc.All, vc.Marks)
	}
	fc, err := s.FollowUpCounts(ctx, Area{}, october.Start(), october.End(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	wantInt(t, "follow-ups opened (F3 only: A moved, D deleted)", fc.Total.Opened, 1)
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Durations
		p    float64
		want int
	}{
		{"empty", Durations{}, 50, -1},
		{"one", Durations{5: 1}, 90, 5},
		{"even count takes the lower middle", Durations{1: 1, 2: 1, 3: 1, 4: 1}, 50, 2},
		{"p90 of ten", Durations{1: 9, 50: 1}, 90, 1},
		{"p90 of eleven", Durations{1: 9, 50: 2}, 90, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Percentile(tc.p); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestInsightBackfill empties the insight columns as a database from
// before migration 0007 has them and checks that opening fills them and
// the counts come back.
func TestInsightBackfill(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := OpenStore(ctx, dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fxStore{Store: st, bus: mustAddBus(t, st, "Bus A"), ids: map[string]string{}, visits: map[string]schema.Visit{}}
	var vs []schema.Visit
	for _, f := range insightFixture {
		vs = append(vs, fxVisitOf(t, newID(t), f))
	}
	fx.push(t, vs...)
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	before, err := st.VisitCounts(ctx, Area{}, october.Start(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE visits SET visited_unix = 0, month = '', wdhour = 0, stop = '', sector = '', topics = '[]', rating = NULL, panel = 0, fu_n = 0`,
		`UPDATE followups SET opened_unix = 0, wijk = ''`,
		`DELETE FROM insight_months`,
		`DELETE FROM settings WHERE key = 'insight_filled'`,
	} {
		if _, err := st.db.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	emptied, _ := st.VisitCounts(ctx, Area{}, october.Start(), october.End())
	wantInt(t, "visits after emptying", emptied.All.N, 0)
	st.Close()
	st, err = OpenStore(ctx, dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	after, err := st.VisitCounts(ctx, Area{}, october.Start(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	if after.All != before.All || after.Marks != before.Marks || after.WdHour != before.WdHour || len(after.Topic) != len(before.Topic) {
		t.Errorf("after the backfill: got %+v %v, want %+v %v", after.All, after.Marks, before.All, before.Marks)
	}
	fc, err := st.FollowUpCounts(ctx, Area{}, october.Start(), october.End(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	wantInt(t, "follow-ups opened after the backfill", fc.Total.Opened, 4)
}

// addFeedback writes feedback rows as the entrepreneur's page does, with
// the table as that page's migration makes it when this database does
// not have it yet.
func addFeedback(tb testing.TB, s *fxStore, rows ...[5]string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.db.Write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS feedback (
    code TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, bus_id TEXT NOT NULL REFERENCES buses (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10), comment TEXT NOT NULL DEFAULT '',
    contact_preference TEXT NOT NULL, created_at TEXT NOT NULL, first_at TEXT NOT NULL,
    revisions INTEGER NOT NULL DEFAULT 0, pull_seq INTEGER NOT NULL, UNIQUE (bus_id, pull_seq)) STRICT`); err != nil {
		tb.Fatal(err)
	}
	for i, r := range rows { // code, visit fixture name ("" for none), rating, first_at, comment
		if r[1] != "" {
			if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO codes (code, bus_id, followup_id, visit_id, bound_at) VALUES (?, ?, ?, ?, ?)`,
				r[0], s.bus.BusID, newID(tb), s.ids[r[1]], r[3]); err != nil {
				tb.Fatal(err)
			}
		}
		if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO feedback (code, id, bus_id, rating, comment, contact_preference, created_at, first_at, pull_seq)
VALUES (?, ?, ?, ?, ?, 'none', ?, ?, ?)`, r[0], newID(tb), s.bus.BusID, r[2], r[4], r[3], r[3], 1000+i); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestInsightFeedback(t *testing.T) {
	s := newFixtureStore(t)
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	if in := mustInsight(t, s.Store, october, Area{}); !in.FeedbackOK || len(in.Feedback) != 0 {
		t.Fatalf("before any feedback: got ok %v, %d wijken with feedback", in.FeedbackOK, len(in.Feedback))
	}
	addFeedback(t, s,
		[5]string{"K1", "A", "9", "2026-10-05T10:00:00.5Z", "Heel goed geholpen, bel me op 06-12345678 of mail noor@example.nl"},
		// 00.00.00.25 on 1 October in Amsterdam; its visit not yet in.
		[5]string{"K2", "", "3", "2026-09-30T22:00:00.25Z", ""},
		// 23.59.59.9 on 30 September in Amsterdam.
		[5]string{"K3", "C", "5", "2026-09-30T21:59:59.9Z", "Prima"},
	)
	in := mustInsight(t, s.Store, october, Area{})
	if !in.FeedbackOK {
		t.Fatal("feedback not seen")
	}
	all, old := in.AllMarks(false), in.AllMarks(true)
	wantInt(t, "october marks (crew 8, 6, 10; feedback 9, 3)", all.Count(), 5)
	if m := all.Mean(); math.Abs(m-7.2) > 1e-9 {
		t.Errorf("october mean: got %v, want 7.2", m)
	}
	wantInt(t, "september marks (crew 4, 7; feedback 5)", old.Count(), 3)
	wantInt(t, "W1 feedback", in.Feedback[fxW1].Count(), 1)
	wantInt(t, "feedback without its visit", in.Feedback[""].Count(), 1)
	want := "Heel goed geholpen, bel me op […] of mail […]"
	if len(in.Comments) != 1 || in.Comments[0] != want {
		t.Errorf("comments: got %q, want [%q]", in.Comments, want)
	}
	sch := mustInsight(t, s.Store, october, Area{Stadsdeel: "Scheveningen"})
	wantInt(t, "Scheveningen october marks (crew 10)", sch.AllMarks(false).Count(), 1)
	wantInt(t, "Scheveningen september marks (feedback 5)", sch.AllMarks(true).Count(), 1)
}

// TestInsightSameBatch sends a visit's first and second rev in one push,
// and a visit in a batch a record of which is refused after it wrote:
// each counted once, as it ends up.
func TestInsightSameBatch(t *testing.T) {
	s := newFixtureStore(t)
	ctx := context.Background()
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	f := insightFixture[2] // A
	f.name = "A2"
	v1 := fxVisitOf(t, newID(t), f)
	v2 := v1
	v2.Rev, v2.Wijk, v2.FollowUps = 2, fxW2, nil
	r := 1
	v2.Rating = &r
	s.push(t, v1, v2)
	vc, err := s.VisitCounts(ctx, Area{}, october.Start(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	wantInt(t, "october visits", vc.All.N, 7)
	wantInt(t, "W2 (A2's second rev)", vc.Wijk[fxW2].N, 3)
	wantInt(t, "W1 (not A2's first rev)", vc.Wijk[fxW1].N, 2)
	wantInt(t, "marks of 1", vc.Marks[1], 1)
	wantInt(t, "marks of 8 (A only)", vc.Marks[8], 1)
	raw := newVisitCounts()
	if err := s.countRaw(ctx, raw, "", october.Start(), october.End(), 1); err != nil {
		t.Fatal(err)
	}
	if raw.All != vc.All || raw.Marks != vc.Marks || raw.WdHour != vc.WdHour {
		t.Errorf("raw %+v %v, months %+v %v", raw.All, raw.Marks, vc.All, vc.Marks)
	}
}

// TestMostOfAMonth: a period that covers most of a month is counted as
// the month less the rest of it, and gives what counting its visits one
// by one gives, with nothing left at zero where every visit fell in the
// rest (October's first day holds the only visits at the Haagse Markt).
func TestMostOfAMonth(t *testing.T) {
	ctx := context.Background()
	s := newFixtureStore(t)
	at := func(v string) time.Time {
		t.Helper()
		tm, err := time.ParseInLocation("2006-01-02 15:04", v, zone)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name       string
		area       Area
		start, end string
	}{
		{"October less its first day", Area{}, "2026-10-02 00:00", "2026-11-01 00:00"},
		{"October less a morning and an evening", Area{}, "2026-10-01 12:00", "2026-10-31 12:00"},
		{"end of September and most of October", Area{}, "2026-09-28 00:00", "2026-10-30 00:00"},
		{"one wijk, October less its first day", Area{Wijk: fxW3}, "2026-10-02 00:00", "2026-11-01 00:00"},
		{"a short stretch over two months", Area{}, "2026-09-25 00:00", "2026-10-05 00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.VisitCounts(ctx, tc.area, at(tc.start), at(tc.end))
			if err != nil {
				t.Fatal(err)
			}
			want := newVisitCounts()
			if err := s.countRaw(ctx, want, tc.area.wijkFilter(), at(tc.start), at(tc.end), 1); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("counted by months and the rest:\n%+v\nvisit by visit:\n%+v", got, want)
			}
		})
	}
	vc, err := s.VisitCounts(ctx, Area{}, at("2026-10-02 00:00"), at("2026-11-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vc.Stop["Haagse Markt"]; ok || vc.All.N != 4 {
		t.Errorf("October less its first day: %d visits, stops %v; want 4 visits (C, G, H, D) and no Haagse Markt", vc.All.N, vc.Stop)
	}
}
