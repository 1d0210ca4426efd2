package office

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"infobus/schema"
)

// feedbackJoined counts feedback marks per wijk as FeedbackMarks did before
// migration 0013: every feedback's moment from first_at, and its wijk
// through codes to the visit. The copied columns must always give the same.
func feedbackJoined(tb testing.TB, s *Store, area Area, start, end time.Time) map[string]*Marks {
	tb.Helper()
	filter := strings.Replace(area.wijkFilter(), "AND wijk", "AND v.wijk", 1)
	rows, err := s.db.Read.QueryContext(context.Background(), fmt.Sprintf(`
SELECT coalesce(v.wijk, ''), f.rating, count(*) FROM feedback AS f
LEFT JOIN codes AS c ON c.code = f.code
LEFT JOIN visits AS v ON v.id = c.visit_id AND v.deleted = 0
WHERE unixepoch(f.first_at) >= ?1 AND unixepoch(f.first_at) < ?2 %s
GROUP BY 1, 2`, filter), start.Unix(), end.Unix())
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[string]*Marks{}
	for rows.Next() {
		var (
			wijk      string
			rating, n int
		)
		if err := rows.Scan(&wijk, &rating, &n); err != nil {
			tb.Fatal(err)
		}
		if out[wijk] == nil {
			out[wijk] = &Marks{}
		}
		out[wijk][rating] += n
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// checkFeedbackMarks compares FeedbackMarks with the join for the city and
// each stadsdeel and wijk of the fixture, and returns the city's marks.
func checkFeedbackMarks(tb testing.TB, s *Store, step string, start, end time.Time) map[string]*Marks {
	tb.Helper()
	var city map[string]*Marks
	for _, area := range []Area{{}, {Stadsdeel: "Centrum"}, {Stadsdeel: "Scheveningen"}, {Stadsdeel: "Haagse Hout"}, {Wijk: fxW1}, {Wijk: fxW2}, {Wijk: fxW3}} {
		got, _, _, err := s.FeedbackMarks(context.Background(), area, start, end, 0)
		if err != nil {
			tb.Fatal(err)
		}
		want := feedbackJoined(tb, s, area, start, end)
		if !reflect.DeepEqual(got, want) {
			tb.Errorf("%s, area %+v: got %v, joined %v", step, area, marksString(got), marksString(want))
		}
		if area == (Area{}) {
			city = got
		}
	}
	return city
}

func marksString(m map[string]*Marks) string {
	var b strings.Builder
	for w, ms := range m {
		fmt.Fprintf(&b, "%q:%v ", w, *ms)
	}
	return b.String()
}

// wantWijkMarks checks how many marks each wijk has ("" for none).
func wantWijkMarks(tb testing.TB, step string, got map[string]*Marks, want map[string]int) {
	tb.Helper()
	n := map[string]int{}
	for w, m := range got {
		n[w] = m.Count()
	}
	if !reflect.DeepEqual(n, want) {
		tb.Errorf("%s: marks per wijk %v, want %v", step, n, want)
	}
}

// TestFeedbackWijkFollowsVisit walks every way the wijk of a feedback can
// change: feedback before its visit arrives and after, a revision that
// moves the visit to another wijk, one that deletes it and one that brings
// it back. After each step the copied wijk gives the same figures as the
// join through codes and visits.
func TestFeedbackWijkFollowsVisit(t *testing.T) {
	s := newFixtureStore(t)
	ctx := context.Background()
	november := PeriodAt(PeriodMonth, mustDate(t, "2026-11-15"))
	start, end := november.Start(), november.End()
	c1, c2 := mustCode(t, s.bus, 101), mustCode(t, s.bus, 202)
	coded := func(name, wijk string, code schema.Code) schema.Visit {
		v := fxVisitOf(t, newID(t), fxVisit{name: name, at: "2026-11-10T10:00:00+01:00", wijk: wijk, stop: "Spuiplein", sector: "horeca",
			topics: []string{"vergunningen"}, followUps: []fxFollowUp{{dept: "vergunningen", due: "2026-11-20"}}})
		v.FollowUps[0].Code = string(code)
		return v
	}
	give := func(code schema.Code, rating int, comment string) {
		t.Helper()
		s.clock.mu.Lock()
		s.clock.t = s.clock.t.Add(time.Minute)
		s.clock.mu.Unlock()
		if _, _, err := s.PutFeedback(ctx, code, s.bus.BusID, FeedbackInput{Rating: rating, Comment: comment, ContactPreference: "none"}); err != nil {
			t.Fatal(err)
		}
	}

	// Feedback whose visit has not reached the office: the city only.
	give(c1, 9, "Snel geholpen")
	wantWijkMarks(t, "before its visit", checkFeedbackMarks(t, s.Store, "before its visit", start, end), map[string]int{"": 1})

	// Its visit arrives: the code's binding gives it the wijk.
	v1 := coded("F1", fxW1, c1)
	s.push(t, v1)
	wantWijkMarks(t, "its visit arrived", checkFeedbackMarks(t, s.Store, "its visit arrived", start, end), map[string]int{fxW1: 1})

	// A visit that is in before its feedback.
	v2 := coded("F2", fxW2, c2)
	s.push(t, v2)
	give(c2, 4, "Niemand belde terug")
	wantWijkMarks(t, "feedback after its visit", checkFeedbackMarks(t, s.Store, "feedback after its visit", start, end), map[string]int{fxW1: 1, fxW2: 1})

	// A revision of the feedback keeps its place.
	give(c2, 5, "Toch nog gebeld")
	wantWijkMarks(t, "feedback revised", checkFeedbackMarks(t, s.Store, "feedback revised", start, end), map[string]int{fxW1: 1, fxW2: 1})

	// The crew corrects the wijk.
	v1.Rev, v1.Wijk = 2, fxW3
	s.push(t, v1)
	wantWijkMarks(t, "visit moved", checkFeedbackMarks(t, s.Store, "visit moved", start, end), map[string]int{fxW3: 1, fxW2: 1})

	// A revision that changes something else leaves it.
	r := 6
	v1.Rev, v1.Rating = 3, &r
	s.push(t, v1)
	wantWijkMarks(t, "other change", checkFeedbackMarks(t, s.Store, "other change", start, end), map[string]int{fxW3: 1, fxW2: 1})

	// Deleted: counted for the city only, as a feedback without a visit.
	v2.Rev, v2.Deleted = 2, true
	s.push(t, v2)
	m := checkFeedbackMarks(t, s.Store, "visit deleted", start, end)
	wantWijkMarks(t, "visit deleted", m, map[string]int{fxW3: 1, "": 1})
	wantInt(t, "the deleted visit's feedback, revised mark", m[""][5], 1)

	// And back, in another wijk.
	v2.Rev, v2.Deleted, v2.Wijk = 3, false, fxW1
	s.push(t, v2)
	wantWijkMarks(t, "visit back", checkFeedbackMarks(t, s.Store, "visit back", start, end), map[string]int{fxW3: 1, fxW1: 1})

	// A visit row that goes (nothing in the office deletes one; the
	// trigger is there should something ever do it).
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM visits WHERE id = ?`, v1.ID); err != nil {
		t.Fatal(err)
	}
	wantWijkMarks(t, "visit row gone", checkFeedbackMarks(t, s.Store, "visit row gone", start, end), map[string]int{"": 1, fxW1: 1})

	// The comments of an area: those whose visit lies in it, newest first.
	_, comments, _, err := s.FeedbackMarks(ctx, Area{Stadsdeel: "Centrum"}, start, end, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Toch nog gebeld"}; !reflect.DeepEqual(comments, want) {
		t.Errorf("Centrum's comments: got %q, want %q", comments, want)
	}
	_, comments, _, err = s.FeedbackMarks(ctx, Area{}, start, end, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Toch nog gebeld", "Snel geholpen"}; !reflect.DeepEqual(comments, want) {
		t.Errorf("the city's comments: got %q, want %q", comments, want)
	}
	// A month without feedback.
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-15"))
	wantWijkMarks(t, "october", checkFeedbackMarks(t, s.Store, "october", october.Start(), october.End()), map[string]int{})
}

// TestFeedbackCommentsOrder: newest first to the nanosecond within one
// second, then by code, and the limit holds.
func TestFeedbackCommentsOrder(t *testing.T) {
	s := newFixtureStore(t)
	addFeedback(t, s,
		[5]string{"K1", "A", "7", "2026-10-05T10:00:00.100000000Z", "eerste"},
		[5]string{"K2", "A", "7", "2026-10-05T10:00:00.900000000Z", "derde"},
		[5]string{"K3", "", "7", "2026-10-05T10:00:00.500000000Z", "tweede"},
		[5]string{"K0", "", "7", "2026-10-05T10:00:00.500000000Z", "tweede, code eerder"},
		[5]string{"K4", "B", "7", "2026-10-05T10:00:01.000000000Z", "vierde"},
		[5]string{"K5", "B", "7", "2026-10-05T10:00:02.000000000Z", "  "},
	)
	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	_, comments, _, err := s.FeedbackMarks(context.Background(), Area{}, october.Start(), october.End(), 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"vierde", "derde", "tweede, code eerder", "tweede"}; !reflect.DeepEqual(comments, want) {
		t.Errorf("comments: got %q, want %q", comments, want)
	}
}

// TestCityFollowUpPercentiles: the city's months read the times to close
// by whole days and refine only the days where a percentile falls; the
// figures must equal those counted from every follow-up by the hour, for
// periods of whole months, with edges, and of edges alone.
func TestCityFollowUpPercentiles(t *testing.T) {
	s := newFixtureStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(10, 13))
	depts := []string{"vergunningen", "belastingen", "economie"}
	wijken := []string{fxW1, fxW2, fxW3}
	type closing struct {
		id string
		at time.Time
	}
	var (
		vs     []schema.Visit
		closes []closing
	)
	base := time.Date(2026, 7, 1, 8, 0, 0, 0, zone)
	for i := range 300 {
		at := base.Add(time.Duration(rng.IntN(130*24)) * time.Hour)
		var fus []fxFollowUp
		for range 1 + rng.IntN(2) {
			fus = append(fus, fxFollowUp{dept: depts[rng.IntN(len(depts))], due: at.AddDate(0, 0, 14).Format(time.DateOnly)})
		}
		v := fxVisitOf(t, newID(t), fxVisit{name: fmt.Sprint("P", i), at: at.Format(time.RFC3339), wijk: wijken[rng.IntN(len(wijken))],
			stop: "Spuiplein", sector: "horeca", topics: []string{"vergunningen"}, followUps: fus})
		vs = append(vs, v)
		for _, fu := range v.FollowUps {
			if rng.IntN(10) < 8 {
				closes = append(closes, closing{fu.ID, at.Add(time.Duration(rng.IntN(40*24*60)) * time.Minute)})
			}
		}
	}
	s.push(t, vs...)
	for _, c := range closes {
		s.clock.mu.Lock()
		s.clock.t = c.at
		s.clock.mu.Unlock()
		if _, err := s.SetFollowUpStatus(ctx, c.id, schema.StatusDone, "klaar"); err != nil {
			t.Fatal(err)
		}
	}
	// Every follow-up, by the hour.
	type fu struct {
		dept           string
		opened, closed int64 // closed 0: open
	}
	var all []fu
	rows, err := s.db.Read.QueryContext(ctx, `SELECT department, opened_unix, coalesce(closed_unix, 0) FROM followups WHERE gone = 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f fu
		if err := rows.Scan(&f.dept, &f.opened, &f.closed); err != nil {
			t.Fatal(err)
		}
		all = append(all, f)
	}
	rows.Close()
	for _, p := range []Period{
		PeriodAt(PeriodMonth, mustDate(t, "2026-09-10")),
		PeriodAt(PeriodQuarter, mustDate(t, "2026-08-10")),
		{Kind: PeriodCustom, From: mustDate(t, "2026-07-20"), To: mustDate(t, "2026-11-12")},
		{Kind: PeriodCustom, From: mustDate(t, "2026-07-01"), To: mustDate(t, "2026-12-31")},
		PeriodAt(PeriodWeek, mustDate(t, "2026-10-14")),
	} {
		got, err := s.FollowUpCounts(ctx, Area{}, p.Start(), p.End(), p.End())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]*DeptFollowUps{"": {Hours: Durations{}}}
		for _, f := range all {
			for _, k := range []string{"", f.dept} {
				d := want[k]
				if d == nil {
					d = &DeptFollowUps{Hours: Durations{}}
					want[k] = d
				}
				if f.opened >= p.Start().Unix() && f.opened < p.End().Unix() {
					d.Opened++
				}
				if f.closed != 0 && f.closed >= p.Start().Unix() && f.closed < p.End().Unix() {
					d.Closed++
					d.Hours[int(max(0, f.closed-f.opened)/3600)]++
				}
			}
		}
		name := p.From.Format(time.DateOnly) + "…" + p.To.Format(time.DateOnly)
		for k, w := range want {
			g := &got.Total
			if k != "" {
				g = got.Dept[k]
				if g == nil {
					g = &DeptFollowUps{Hours: Durations{}}
				}
			}
			wantInt(t, name+" "+k+" opened", g.Opened, w.Opened)
			wantInt(t, name+" "+k+" closed", g.Closed, w.Closed)
			wantInt(t, name+" "+k+" hours counted", g.Hours.Count(), w.Hours.Count())
			wantInt(t, name+" "+k+" median", g.Hours.Percentile(50), w.Hours.Percentile(50))
			wantInt(t, name+" "+k+" 90th percentile", g.Hours.Percentile(90), w.Hours.Percentile(90))
		}
		// And the same as the sum of the wijken, which read insight_fu.
		var n int
		for _, sd := range []string{"Centrum", "Scheveningen", "Haagse Hout"} {
			a, err := s.FollowUpCounts(ctx, Area{Stadsdeel: sd}, p.Start(), p.End(), p.End())
			if err != nil {
				t.Fatal(err)
			}
			n += a.Total.Closed
		}
		wantInt(t, name+" closed, summed over the stadsdelen", n, want[""].Closed)
		if want[""].Closed < 20 && p.Kind != PeriodWeek {
			t.Errorf("%s: only %d closed; the test needs more", name, want[""].Closed)
		}
	}
}

// TestInsightQueryPlans keeps the insight's reads on the ranges they were
// made for: the office never runs ANALYZE, so the plans on an empty
// database are those at a million visits.
func TestInsightQueryPlans(t *testing.T) {
	s := newFixtureStore(t)
	centrum := Area{Stadsdeel: "Centrum"}.wijkFilter()
	for _, c := range []struct {
		query string
		args  []any
		want  string
	}{
		{fmt.Sprintf(queryFeedbackMarks, centrum), []any{1, 2}, "feedback USING COVERING INDEX feedback_first (first_unix>? AND first_unix<?)"},
		{fmt.Sprintf(queryFeedbackComments, centrum), []any{1, 2, 10}, "feedback USING INDEX feedback_first (first_unix>? AND first_unix<?)"},
		{fmt.Sprintf(queryInsightRaw, centrum), []any{1, 2}, "visits USING INDEX visits_when (visited_unix>? AND visited_unix<?)"},
		{queryFollowUpCityMonths, []any{"2026-01", "2026-12"}, "insight_fu_city USING PRIMARY KEY (month>? AND month<?)"},
		{queryFollowUpCityHours, []any{24, 47, "2026-01", "2026-12"}, "insight_fu_hours USING PRIMARY KEY (hours>? AND hours<?)"},
		{fmt.Sprintf(queryFollowUpsOpened, centrum), []any{1, 2}, "followups USING COVERING INDEX followups_opened (opened_unix>? AND opened_unix<?)"},
		{fmt.Sprintf(queryFollowUpsClosed, centrum), []any{1, 2}, "followups USING COVERING INDEX followups_closed (closed_unix>? AND closed_unix<?)"},
	} {
		rows, err := s.db.Read.Query("EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var (
				id, parent, notused int
				detail              string
			)
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), "SEARCH "+c.want) {
			t.Errorf("%s\nplan:\n%s\nwant SEARCH %s", c.query, strings.Join(plan, "\n"), c.want)
		}
	}
}

// TestFeedbackFiguresMigration: migration 0013 fills the copied columns
// and the city's follow-up tables from what an office at 0012 holds.
func TestFeedbackFiguresMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)}
	st, err := OpenStore(ctx, dir, slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	s := &fxStore{Store: st, clock: clk, bus: mustAddBus(t, st, "Bus A"), ids: map[string]string{}, visits: map[string]schema.Visit{}}
	// Back to 0012: what 0013 made goes.
	for _, q := range []string{
		`DROP TRIGGER feedback_figures_insert`, `DROP TRIGGER feedback_first_update`, `DROP TRIGGER codes_wijk_insert`,
		`DROP TRIGGER codes_wijk_update`, `DROP TRIGGER codes_wijk_delete`, `DROP TRIGGER visits_wijk_feedback`,
		`DROP TRIGGER visits_delete_feedback`, `DROP TRIGGER insight_fu_city_insert`, `DROP TRIGGER insight_fu_city_update`,
		`DROP TRIGGER insight_fu_city_rekey`, `DROP TRIGGER insight_fu_city_delete`, `DROP INDEX feedback_first`,
		`DROP INDEX codes_visit`, `DROP TABLE insight_fu_city`, `DROP TABLE insight_fu_hours`,
		`ALTER TABLE feedback DROP COLUMN first_unix`, `ALTER TABLE feedback DROP COLUMN wijk`, `PRAGMA user_version = 12`,
	} {
		if _, err := st.db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var vs []schema.Visit
	var codes []schema.Code
	for i, w := range []string{fxW1, fxW2, fxW3, fxW1} {
		c := mustCode(t, s.bus, uint32(300+i))
		codes = append(codes, c)
		v := fxVisitOf(t, newID(t), fxVisit{name: fmt.Sprint("M", i), at: fmt.Sprintf("2026-10-%02dT10:00:00+02:00", 5+i), wijk: w,
			stop: "Spuiplein", sector: "horeca", topics: []string{"vergunningen"}, followUps: []fxFollowUp{{dept: "vergunningen", due: "2026-10-20"}}})
		v.Deleted = i == 3
		v.FollowUps[0].Code = string(c)
		vs = append(vs, v)
	}
	s.push(t, vs...)
	for i, c := range append(codes, mustCode(t, s.bus, 399)) { // the last one's visit is not in
		clk.add(time.Hour)
		if _, _, err := s.PutFeedback(ctx, c, s.bus.BusID, FeedbackInput{Rating: 3 + i, ContactPreference: "none"}); err != nil {
			t.Fatal(err)
		}
		if i < len(vs) {
			if _, err := s.SetFollowUpStatus(ctx, vs[i].FollowUps[0].ID, schema.StatusDone, "klaar"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 0014 came after: the writes above applied its inbox, which goes
	// with it.
	for _, q := range []string{`DROP TABLE push_inbox`, `DROP TABLE inbox_followups`, `DROP TABLE inbox_codes`} {
		if _, err := st.db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st.Close()
	st, err = OpenStore(ctx, dir, slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	november := PeriodAt(PeriodMonth, mustDate(t, "2026-11-15"))
	wantWijkMarks(t, "migrated", checkFeedbackMarks(t, st, "migrated", november.Start(), november.End()),
		map[string]int{fxW1: 1, fxW2: 1, fxW3: 1, "": 2})
	wantCityFU(t, st, "migrated")
	var n int
	if err := st.db.Read.QueryRow(`SELECT count(*) FROM insight_fu_hours WHERE n != 0`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no closed follow-ups in insight_fu_hours after the migration")
	}
}
