package office

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"infobus/schema"
)

// foldedState is what the derived tables hold (rows that count), and
// what a fold from scratch of the visits as they stand would make.
func foldedState(t *testing.T, s *Store) (held, want map[string]Tally, heldWords, wantWords []string) {
	t.Helper()
	ctx := context.Background()
	held, want = map[string]Tally{}, map[string]Tally{}
	rows, err := s.db.Write.QueryContext(ctx, `SELECT month, wijk, dim, key, n, fu, p FROM insight_months WHERE n != 0 OR fu != 0 OR p != 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k countKey
		var tl Tally
		if err := rows.Scan(&k.month, &k.wijk, &k.dim, &k.key, &tl.N, &tl.FU, &tl.P); err != nil {
			t.Fatal(err)
		}
		held[fmt.Sprint(k)] = tl
	}
	rows.Close()
	d := &insightDelta{delta: map[countKey]*Tally{}}
	rows, err = s.db.Write.QueryContext(ctx, `
SELECT rowid, month, wijk, stop, sector, topics, wdhour, rating, panel, fu_n > 0, name, coalesce(json_extract(body, '$.notes'), '')
FROM visits WHERE deleted = 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			vid         int64
			c           counted
			name, notes string
		)
		if err := rows.Scan(&vid, &c.month, &c.wijk, &c.stop, &c.sector, &c.topics, &c.wdhour, &c.rating, &c.panel, &c.fu, &name, &notes); err != nil {
			t.Fatal(err)
		}
		if c.month != "" {
			d.add(&c, 1)
		}
		for _, w := range indexWords(name + " " + notes) {
			wantWords = append(wantWords, fmt.Sprint(w, "/", vid))
		}
	}
	rows.Close()
	for k, tl := range d.delta {
		if *tl != (Tally{}) {
			want[fmt.Sprint(k)] = *tl
		}
	}
	rows, err = s.db.Write.QueryContext(ctx, `SELECT word, vid FROM visit_words`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			w   string
			vid int64
		)
		if err := rows.Scan(&w, &vid); err != nil {
			t.Fatal(err)
		}
		heldWords = append(heldWords, fmt.Sprint(w, "/", vid))
	}
	rows.Close()
	sort.Strings(heldWords)
	sort.Strings(wantWords)
	return held, want, heldWords, wantWords
}

func wantFolded(t *testing.T, s *Store, when string) {
	t.Helper()
	if err := s.Fold(context.Background()); err != nil {
		t.Fatal(err)
	}
	held, want, heldWords, wantWords := foldedState(t, s)
	if !reflect.DeepEqual(held, want) {
		t.Errorf("%s: insight_months\n%v\nwant (counted from the visits)\n%v", when, held, want)
	}
	if !reflect.DeepEqual(heldWords, wantWords) {
		t.Errorf("%s: visit_words\n%v\nwant\n%v", when, heldWords, wantWords)
	}
	heldFU, wantFU := followUpMonths(t, s)
	if !reflect.DeepEqual(heldFU, wantFU) {
		t.Errorf("%s: insight_fu\n%v\nwant (counted from the follow-ups in Go's Amsterdam zone)\n%v", when, heldFU, wantFU)
	}
	wantCityFU(t, s, when)
}

// wantCityFU checks the city's follow-up tables (migration 0013) against
// the sums of insight_fu, rows that count only.
func wantCityFU(t *testing.T, s *Store, when string) {
	t.Helper()
	for _, q := range []struct{ what, held, want string }{
		{"insight_fu_city",
			`SELECT month, dept, what, days, n FROM insight_fu_city WHERE n != 0`,
			`SELECT month, dept, what, iif(what = 'o', -1, hours / 24), sum(n) FROM insight_fu GROUP BY 1, 2, 3, 4 HAVING sum(n) != 0`},
		{"insight_fu_hours",
			`SELECT hours, dept, month, n FROM insight_fu_hours WHERE n != 0`,
			`SELECT hours, dept, month, sum(n) FROM insight_fu WHERE what = 'c' GROUP BY 1, 2, 3 HAVING sum(n) != 0`},
	} {
		var diff int
		if err := s.db.Write.QueryRow(`SELECT (SELECT count(*) FROM (SELECT * FROM (` + q.held + `) EXCEPT SELECT * FROM (` + q.want + `)))
    + (SELECT count(*) FROM (SELECT * FROM (` + q.want + `) EXCEPT SELECT * FROM (` + q.held + `)))`).Scan(&diff); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.db.Write.QueryRow(`SELECT count(*) FROM (` + q.held + `)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if diff != 0 {
			t.Errorf("%s: %s differs from the sums of insight_fu in %d rows (of %d)", when, q.what, diff, n)
		}
	}
}

// followUpMonths is what insight_fu holds (rows that count) and what the
// follow-ups give when counted with Go's zone database.
func followUpMonths(t *testing.T, s *Store) (held, want map[string]int) {
	t.Helper()
	held, want = map[string]int{}, map[string]int{}
	rows, err := s.db.Write.Query(`SELECT month, wijk, dept, what, hours, n FROM insight_fu WHERE n != 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			month, wijk, dept, what string
			hours, n                int
		)
		if err := rows.Scan(&month, &wijk, &dept, &what, &hours, &n); err != nil {
			t.Fatal(err)
		}
		held[fmt.Sprint(month, wijk, dept, what, hours)] = n
	}
	rows.Close()
	rows, err = s.db.Write.Query(`SELECT opened_unix, closed_unix, wijk, department FROM followups WHERE gone = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	month := func(u int64) string { return time.Unix(u, 0).In(zone).Format("2006-01") }
	for rows.Next() {
		var (
			opened     int64
			closed     sql.NullInt64
			wijk, dept string
		)
		if err := rows.Scan(&opened, &closed, &wijk, &dept); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprint(month(opened), wijk, dept, "o", -1)]++
		if closed.Valid {
			want[fmt.Sprint(month(closed.Int64), wijk, dept, "c", max(0, closed.Int64-opened)/3600)]++
		}
	}
	return held, want
}

// TestLocalMonthInSQL checks the triggers' Amsterdam month against Go's
// zone database around every month start and both clock changes of
// several years.
func TestLocalMonthInSQL(t *testing.T) {
	s := newFixtureStore(t)
	for y := 2024; y <= 2030; y++ {
		for m := time.January; m <= time.December; m++ {
			start := time.Date(y, m, 1, 0, 0, 0, 0, zone)
			for _, d := range []time.Duration{-time.Second, 0, time.Second, -90 * time.Minute, 90 * time.Minute, 25 * 24 * time.Hour, 30*24*time.Hour + 5*time.Hour} {
				u := start.Add(d).Unix()
				var got string
				if err := s.db.Read.QueryRow(`SELECT strftime('%Y-%m', ?1 + CASE WHEN CAST(strftime('%m', ?1 + 7200, 'unixepoch') AS INTEGER) BETWEEN 4 AND 10 THEN 7200 ELSE 3600 END, 'unixepoch')`, u).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if want := time.Unix(u, 0).In(zone).Format("2006-01"); got != want {
					t.Errorf("%s: SQL month %s, want %s", time.Unix(u, 0).In(zone), got, want)
				}
			}
		}
	}
}

// TestFoldExact changes visits that were folded, and others that were not
// yet, in every way the office changes them — a new rev, a move to another
// month and wijk, a deletion by the crew, a status change, an erasure of
// the notes and of the whole visit, a new visit on an erased one's rowid —
// and checks after each that the derived tables equal a count from
// scratch, and that erased words are gone before any fold.
func TestFoldExact(t *testing.T) {
	s := newFixtureStore(t)
	ctx := context.Background()
	wantFolded(t, s.Store, "after the fixture")

	// Folded visits change in a push: the triggers take them out.
	b := s.visits[s.ids["B"]]
	b.Rev, b.Wijk, b.Notes = 2, fxW2, "Vraagt naar een terrasvergunning."
	r := 9
	b.Rating = &r
	d := s.visits[s.ids["D"]]
	d.Rev, d.Deleted = 2, true
	a := s.visits[s.ids["A"]]
	a.Rev, a.VisitedAt = 2, "2026-11-02T10:00:00+01:00"
	s.push(t, b, d, a)
	wantFolded(t, s.Store, "after a sync that changed folded visits")

	october := PeriodAt(PeriodMonth, mustDate(t, "2026-10-10"))
	vc, err := s.VisitCounts(ctx, Area{}, october.Start(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	wantInt(t, "october visits right after the sync", vc.All.N, 4) // B, C, G, H

	// The same visit twice before a fold: taken out once.
	b.Rev, b.Wijk = 3, fxW3
	s.push(t, b)
	b.Rev, b.Wijk = 4, fxW1
	s.push(t, b)
	wantFolded(t, s.Store, "after two changes of one visit")

	// A status change closes a follow-up: counted from the follow-ups.
	h := s.visits[s.ids["C"]]
	fcBefore, err := s.FollowUpCounts(ctx, Area{}, october.Start(), october.End(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetFollowUpStatus(ctx, h.FollowUps[0].ID, schema.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	wantFolded(t, s.Store, "after a status change")
	fcAfter, err := s.FollowUpCounts(ctx, Area{}, october.Start(), october.End(), october.End())
	if err != nil {
		t.Fatal(err)
	}
	wantInt(t, "closed in october after reopening C's", fcAfter.Total.Closed, fcBefore.Total.Closed-1)
	wantInt(t, "open in october after reopening C's", fcAfter.Total.Open, fcBefore.Total.Open+1)

	// An erasure of the notes: the words leave in the same statement.
	var vid int64
	if err := s.db.Write.QueryRow(`SELECT rowid FROM visits WHERE id = ?`, b.ID).Scan(&vid); err != nil {
		t.Fatal(err)
	}
	page, err := s.SearchVisits(ctx, VisitFilter{Text: "terras"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Visits) != 1 || page.Visits[0].ID != b.ID {
		t.Errorf("search for terras: %+v, want B", page.Visits)
	}
	if _, err := s.db.Write.Exec(`UPDATE visits SET body = json_set(body, '$.notes', '') WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.db.Write.QueryRow(`SELECT count(*) FROM visit_words WHERE vid = ? AND word LIKE 'terras%'`, vid).Scan(&left); err != nil {
		t.Fatal(err)
	}
	wantInt(t, "erased words left before a fold", left, 0)
	page, err = s.SearchVisits(ctx, VisitFilter{Text: "terras"})
	if err != nil {
		t.Fatal(err)
	}
	wantInt(t, "visits found for an erased word", len(page.Visits), 0)
	wantFolded(t, s.Store, "after the notes were erased")

	// The visit with the highest rowid erased, then a new one: SQLite
	// gives it the same rowid, at or below the mark.
	var (
		maxID  string
		maxVid int64
	)
	if err := s.db.Write.QueryRow(`SELECT id, rowid FROM visits ORDER BY rowid DESC LIMIT 1`).Scan(&maxID, &maxVid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Write.Exec(`DELETE FROM visits WHERE id = ?`, maxID); err != nil {
		t.Fatal(err)
	}
	wantFolded(t, s.Store, "after a visit was erased")
	n := fxVisitOf(t, newID(t), insightFixture[len(insightFixture)-1])
	n.Notes = "Wil een zonnescherm boven het terras."
	s.push(t, n)
	if err := s.ApplyInbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	var newVid int64
	if err := s.db.Write.QueryRow(`SELECT rowid FROM visits WHERE id = ?`, n.ID).Scan(&newVid); err != nil {
		t.Fatal(err)
	}
	var mark int64
	if err := s.db.Write.QueryRow(`SELECT upto FROM fold_marks WHERE what = 'visits'`).Scan(&mark); err != nil {
		t.Fatal(err)
	}
	if newVid != maxVid || mark >= newVid {
		t.Errorf("the new visit got rowid %d (the erased one had %d), the mark is %d: want the same rowid above the mark", newVid, maxVid, mark)
	}
	wantFolded(t, s.Store, "after a new visit on an erased rowid")
	page, err = s.SearchVisits(ctx, VisitFilter{Text: "zonnesch"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Visits) != 1 || page.Visits[0].ID != n.ID {
		t.Errorf("search for zonnesch: %+v, want the new visit", page.Visits)
	}
}

// TestVisitTextSearchAll finds a word in the oldest of many visits, both
// as a rare word (from the word index) and with a word many visits share
// (walking the visits), and pages through all of the common word's.
func TestVisitTextSearchAll(t *testing.T) {
	s := newFixtureStore(t)
	ctx := context.Background()
	var vs []schema.Visit
	for i := range 120 {
		f := insightFixture[0]
		f.name = fmt.Sprint("T", i)
		v := fxVisitOf(t, newID(t), f)
		v.VisitedAt = fmt.Sprintf("2026-08-%02dT10:%02d:00+02:00", 1+i/10, i%60)
		v.Notes = "Vraag over de Afvalstoffenheffing."
		if i == 0 {
			v.Notes += " Zoekt een café-eigenaar."
		}
		vs = append(vs, v)
	}
	s.push(t, vs...)
	for _, tc := range []struct {
		text string
		want int
	}{
		{"CAFE eigen", 1},            // accents and case folded, both words prefixes
		{"afvalstof", 120},           // every one of them
		{"afvalstof cafe", 1},        // the rare word checked against the common one
		{"zaak t11", 11},             // the name: T11 and T110–T119
		{"nergens", 0},               // in no visit
		{"afvalstoffenheffingen", 0}, // longer than any word
	} {
		for _, rare := range []bool{true, false} {
			got, after := 0, ""
			for range 10 {
				f := VisitFilter{Text: tc.text, After: after}
				limit := 0 // every word walks
				if rare {
					limit = 1 << 30
				}
				page, err := s.searchVisits(ctx, f, limit)
				if err != nil {
					t.Fatal(err)
				}
				got += len(page.Visits)
				if after = page.Next; after == "" {
					break
				}
			}
			wantInt(t, fmt.Sprintf("%q (word index first: %v)", tc.text, rare), got, tc.want)
		}
	}
}
