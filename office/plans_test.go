package office

import (
	"context"
	"strings"
	"testing"
)

// TestQueryPlans keeps the workspace's queries on their indexes: every
// variant of the queue and the visit search walks an index in the page's
// order, never the whole table and never a sort of everything that
// matched. The office never runs ANALYZE, so the plans on this empty
// database are the plans at a million visits.
func TestQueryPlans(t *testing.T) {
	s := mustOpenStore(t)
	explain := func(t *testing.T, q string, args []any) string {
		t.Helper()
		rows, err := s.db.Read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		return strings.Join(plan, "\n")
	}
	check := func(t *testing.T, plan string, want string) {
		t.Helper()
		if strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("sorts every match:\n%s", plan)
		}
		for _, line := range strings.Split(plan, "\n") {
			if (strings.HasPrefix(line, "SCAN v") || strings.HasPrefix(line, "SCAN f")) && !strings.Contains(line, "USING") {
				t.Errorf("reads the whole table: %s\n%s", line, plan)
			}
		}
		if !strings.Contains(plan, want) {
			t.Errorf("got plan\n%s\nwant it to use %s", plan, want)
		}
	}
	for _, tc := range []struct {
		name string
		f    QueueFilter
		want string
	}{
		{"home", QueueFilter{}, "followups_due"},
		{"later page", QueueFilter{After: "2026-12-01|x"}, "followups_due"},
		{"by age", QueueFilter{Sort: SortAge, After: "2026-01-01|x"}, "followups_age"},
		{"filters", QueueFilter{Status: "open", Kind: "callback", Department: "x", Wijk: "WK051801", BusID: "b", Overdue: true, Today: "2026-11-30"}, "followups_due"},
		{"done", QueueFilter{Status: "done"}, "followups_due"},
		{"mine", QueueFilter{Assignee: 1}, "followups_assignee"},
		{"mine by age", QueueFilter{Assignee: 1, Sort: SortAge}, "followups_"},
	} {
		t.Run("queue "+tc.name, func(t *testing.T) {
			tc.f.Limit = 50
			q, args := queueQuery(tc.f)
			check(t, explain(t, q, args), tc.want)
		})
	}
	for _, tc := range []struct {
		name string
		f    VisitFilter
		rare string
		want string
	}{
		{"newest", VisitFilter{}, "", "visits_when"},
		{"later page", VisitFilter{After: "1767225600|17"}, "", "visits_when"},
		{"name", VisitFilter{Q: "bakk"}, "", "visits_name"},
		{"kvk", VisitFilter{Q: "27312345"}, "", "visits_kvk"},
		{"postcode", VisitFilter{Q: "2562 g"}, "", "visits_postcode"},
		// One wijk in page order: a page is a few thousand visits away.
		{"filters", VisitFilter{Wijk: "WK051801", Sector: "horeca", Topic: "vergunningen", BusID: "b"}, "", "visits_when"},
		{"stadsdeel and dates", VisitFilter{Stadsdeel: "Centrum", From: "2026-01-01", To: "2026-02-01"}, "", "visits_when"},
		{"common word", VisitFilter{Text: "terras"}, "", "visits_when"},
		// A rare word: its visits from the word index, then sorted (at
		// most rareWord of them).
		{"rare word", VisitFilter{Text: "terras"}, "terras", "visit_words"},
		{"rare word and name", VisitFilter{Text: "terras", Q: "bakk"}, "terras", "visit_words"},
	} {
		t.Run("visits "+tc.name, func(t *testing.T) {
			tc.f.Limit = 50
			q, args, ok := visitQuery(tc.f, tc.f.Text != "", tc.rare)
			if !ok {
				t.Fatal("no query")
			}
			plan := explain(t, q, args)
			if tc.rare == "" {
				check(t, plan, tc.want)
				return
			}
			// The sort is allowed here, but the visits must be looked up
			// by rowid, one for each of the word's entries.
			if !strings.Contains(plan, "SEARCH v USING INTEGER PRIMARY KEY") || !strings.Contains(plan, tc.want) {
				t.Errorf("got plan\n%s\nwant the word's visits from %s, looked up by rowid", plan, tc.want)
			}
		})
	}
}
