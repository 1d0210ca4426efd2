package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"infobus/schema"
)

// TestWorkspaceMeasure times the staff pages on a large office database:
//
//	task gen:office OUT=DIR   # 1,000,000 visits, 300,000 follow-ups
//	INFOBUS_BENCH_OFFICE=DIR go test ./office -run TestWorkspaceMeasure -v -count 1 -timeout 60m
//
// The first run migrates the database and gives the follow-ups the
// office's work (seedWork), which takes minutes. Each page is asked for
// INFOBUS_BENCH_N times (default 40) through the whole server, and the
// log shows p50, p95 and the maximum of the server's time. Timings are
// reported, not checked: the target (p95 ≤ 100 ms) is in the README.
func TestWorkspaceMeasure(t *testing.T) {
	dir := os.Getenv("INFOBUS_BENCH_OFFICE")
	if dir == "" {
		t.Skip("a measurement: set INFOBUS_BENCH_OFFICE=DIR to a generated office database (task gen:office)")
	}
	n := 40
	if v := os.Getenv("INFOBUS_BENCH_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	ctx := context.Background()
	start := time.Now()
	store, err := OpenStore(ctx, dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t.Logf("opened (and migrated if needed) in %s", time.Since(start).Round(time.Millisecond))
	if err := seedWork(ctx, store); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Version: "measure"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, store, slog.New(slog.DiscardHandler))
	me, err := store.StaffByEmail(ctx, "bench1@denhaag.nl")
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := store.CreateSession(ctx, me)
	if err != nil {
		t.Fatal(err)
	}

	// Ids and values to ask for, from the data itself.
	var visitID, followUpID, wijk, name, kvk, postcode, busID string
	row := store.db.Read.QueryRowContext(ctx, `
SELECT v.id, f.id, v.wijk, v.name, v.kvk, v.postcode, v.bus_id FROM followups f JOIN visits v ON v.id = f.visit_id
WHERE v.kvk != '' AND v.postcode != '' ORDER BY f.rowid LIMIT 1 OFFSET 150000`)
	if err := row.Scan(&visitID, &followUpID, &wijk, &name, &kvk, &postcode, &busID); err != nil {
		t.Fatal(err)
	}
	var counts struct{ visits, followUps, active, mine int }
	store.db.Read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM followups),
(SELECT count(*) FROM followups WHERE active = 1), (SELECT count(*) FROM followups WHERE assignee = ?)`, me.ID).
		Scan(&counts.visits, &counts.followUps, &counts.active, &counts.mine)
	t.Logf("%d visits, %d follow-ups, %d open or in progress, %d assigned to the measuring account",
		counts.visits, counts.followUps, counts.active, counts.mine)

	first := func(prefix string) string {
		if len([]rune(prefix)) > 5 {
			return string([]rune(prefix)[:5])
		}
		return prefix
	}
	pages := []struct{ name, path string }{
		{"queue, no filters", "/"},
		{"queue, second page", ""}, // filled in below from the first page's link
		{"queue, wijk and kind", "/?wijk=" + wijk + "&kind=information"},
		{"queue, department, overdue, by age", "/?department=vergunningen&overdue=1&sort=age"},
		{"queue, assigned to me", "/?mine=1"},
		{"queue, bus and status done", "/?bus=" + busID + "&status=done"},
		{"visit search, name start", "/visits?q=" + url.QueryEscape(first(name))},
		{"visit search, KvK", "/visits?q=" + kvk},
		{"visit search, postcode", "/visits?q=" + postcode[:4]},
		{"visit search, wijk and date range", "/visits?wijk=" + wijk + "&from=2025-06-01&to=2025-12-31"},
		{"visit search, stadsdeel and topic", "/visits?stadsdeel=Centrum&topic=vergunningen"},
		{"visit search, text (common)", "/visits?text=vergunning"},
		{"visit search, text (in no visit)", "/visits?text=zzzyyyxxx"},
		{"visit page", "/visits/" + visitID},
		{"follow-up page", "/followups/" + followUpID},
	}
	get := func(path string) (time.Duration, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: cookieSession, Value: cookie})
		t0 := time.Now()
		resp, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: got %d\n%s", path, resp.StatusCode, b)
		}
		return d, string(b)
	}
	_, home := get("/")
	if m := nextLinkRE.FindStringSubmatch(home); m != nil {
		pages[1].path = html.UnescapeString(m[1])
	}
	for _, pg := range pages {
		if pg.path == "" {
			t.Logf("%-44s no second page", pg.name)
			continue
		}
		get(pg.path) // warm the page cache once
		var times []time.Duration
		for range n {
			d, _ := get(pg.path)
			times = append(times, d)
		}
		slices.Sort(times)
		p := func(q float64) time.Duration {
			return times[int(q*float64(len(times)-1))].Round(100 * time.Microsecond)
		}
		t.Logf("%-44s p50 %8s  p95 %8s  max %8s", pg.name, p(0.5), p(0.95), times[len(times)-1].Round(100*time.Microsecond))
	}
}

var nextLinkRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// seedWork gives a generated database the office's work once: twenty
// colleagues, and follow-ups spread over the statuses (40 % done, 10 %
// cancelled, 20 % in progress, the rest open) with assignments and the
// events that go with them, written directly: through MoveFollowUp it
// would take a transaction each.
func seedWork(ctx context.Context, s *Store) error {
	if _, err := s.Setting(ctx, "bench_work"); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	now := schema.Timestamp(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i := 1; i <= 20; i++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff (email, role, password_hash, created_at) VALUES (?, 'staff', x'00', ?)`,
				fmt.Sprintf("bench%d@denhaag.nl", i), now); err != nil {
				return err
			}
		}
		steps := []string{
			`UPDATE followups SET
    status = CASE WHEN rowid % 10 < 4 THEN 'done' WHEN rowid % 10 = 4 THEN 'cancelled' WHEN rowid % 10 < 7 THEN 'in_progress' ELSE 'open' END,
    resolution = CASE WHEN rowid % 10 < 5 THEN 'Afgehandeld: de ondernemer is gebeld.' ELSE '' END,
    status_rev = CASE WHEN rowid % 10 < 5 THEN 2 WHEN rowid % 10 < 7 THEN 1 ELSE 0 END,
    status_at = CASE WHEN rowid % 10 < 7 THEN ?1 ELSE '' END,
    assignee = CASE WHEN rowid % 10 < 7 OR rowid % 50 = 7 THEN (SELECT s.id FROM staff s WHERE s.email = 'bench' || (followups.rowid % 20 + 1) || '@denhaag.nl') END`,
			`INSERT INTO followup_events (followup_id, at, actor, to_status, from_status, note)
SELECT id, ?1, 'bench1@denhaag.nl', 'in_progress', 'open', '' FROM followups WHERE status != 'open'`,
			`INSERT INTO followup_events (followup_id, at, actor, to_status, from_status, note)
SELECT id, ?1, 'bench1@denhaag.nl', status, 'in_progress', resolution FROM followups WHERE status IN ('done', 'cancelled')`,
		}
		for _, q := range steps {
			if _, err := tx.ExecContext(ctx, q, now); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('bench_work', ?)`, now)
		return err
	})
}
