package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"infobus/office"
	"infobus/schema"
)

// TestGenerateOfficeInsight adds to an office database that
// TestGenerateOfficeDB made what the insight figures need besides visits:
// nine in ten follow-ups closed (done, or cancelled one time in ten)
// between an hour and six weeks after their visit, never after now.
//
//	INFOBUS_GEN_OFFICE=DIR go test ./cmd/infobus -run TestGenerateOfficeInsight -v
//
// (the second step of task gen:office). It writes through the office's
// own columns and triggers, as the follow-up pages do, in one statement.
func TestGenerateOfficeInsight(t *testing.T) {
	dir := os.Getenv("INFOBUS_GEN_OFFICE")
	if dir == "" {
		t.Skip("a generator, not a test: set INFOBUS_GEN_OFFICE=DIR holding an office.db from TestGenerateOfficeDB")
	}
	db, err := sql.Open(schema.DriverName, "file:"+filepath.Join(dir, office.DatabaseFile)+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	res, err := db.Exec(`
UPDATE followups SET
    status = CASE WHEN abs(random()) % 10 = 0 THEN 'cancelled' ELSE 'done' END,
    resolution = 'afgerond',
    status_rev = status_rev + 1,
    status_at = strftime('%Y-%m-%dT%H:%M:%SZ', min(?1, opened_unix + 3600 + abs(random()) % (42 * 86400)), 'unixepoch')
WHERE status = 'open' AND abs(random()) % 10 != 0 AND opened_unix < ?1`, time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.RowsAffected()
	t.Logf("%d follow-ups closed in %s", n, time.Since(start).Round(time.Second))
}

// TestInsightMeasure times the insight page for a year and a month, the
// monthly report and a CSV export of all visits on a generated office
// database, over a real loopback listener:
//
//	INFOBUS_MEASURE_OFFICE=DIR go test ./cmd/infobus -run TestInsightMeasure -v -count 1
//
// (INFOBUS_MEASURE_ONLY=export: the export alone). It works on a
// copy-free open of DIR/office.db and only reads (the report is kept,
// which writes one row).
func TestInsightMeasure(t *testing.T) {
	dir := os.Getenv("INFOBUS_MEASURE_OFFICE")
	if dir == "" {
		t.Skip("a measurement: set INFOBUS_MEASURE_OFFICE=DIR holding a generated office.db (task gen:office)")
	}
	ctx := context.Background()
	store, err := office.OpenStore(ctx, dir, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	email := fmt.Sprintf("measure%d@example.org", time.Now().UnixNano())
	_, token, err := store.AddStaff(ctx, office.ActorCLI, email, office.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "een lange zin als wachtwoord"
	if _, err := store.SetPassword(ctx, token, pw, pw); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := office.Config{Addr: ln.Addr().String(), Version: "measure"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := office.NewServer(cfg, store, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	base := "http://" + ln.Addr().String()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	get := func(path string) (int, []byte, time.Duration) {
		t.Helper()
		start := time.Now()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b, time.Since(start)
	}
	_, page, _ := get("/login")
	m := regexp.MustCompile(`name="_form" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no form token on the login page")
	}
	resp, err := client.PostForm(base+"/login", url.Values{"_form": {string(m[1])}, "email": {email}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Join(strings.Fields(string(b))[:3], " ")
	}
	now := time.Now()
	yearFrom := now.AddDate(-1, 0, 1).Format(time.DateOnly)
	lastMonth := now.AddDate(0, -1, 0).Format("2006-01")
	runs := envInt("INFOBUS_MEASURE_RUNS", 20)
	if os.Getenv("INFOBUS_MEASURE_ONLY") == "export" {
		runs = 0 // the export alone
	}
	// The machine is shared and loaded: beside the wall-clock times, the
	// CPU time this process (server and client) spent, which the load
	// does not stretch as much.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, tc := range []struct{ name, path string }{
		{"insight, a year (custom, last 365 days)", "/insight?period=custom&from=" + yearFrom + "&to=" + now.Format(time.DateOnly)},
		{"insight, a month", "/insight?period=month&at=" + lastMonth + "-15"},
		{"insight, a week of one stadsdeel", "/insight?period=week&area=sd%3ACentrum"},
	} {
		if runs == 0 {
			break
		}
		var ds []time.Duration
		c0 := cpu()
		for range runs {
			status, _, d := get(tc.path)
			if status != http.StatusOK {
				t.Fatalf("%s: status %d", tc.name, status)
			}
			ds = append(ds, d)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		p95 := ds[(len(ds)*95+99)/100-1]
		t.Logf("%s: p50 %v, p95 %v, max %v over %d runs; CPU %v a request (load %s)", tc.name, ds[len(ds)/2].Round(time.Millisecond),
			p95.Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond), runs, ((cpu() - c0) / time.Duration(runs)).Round(time.Millisecond), load())
	}
	for range min(runs, 3) {
		c0 := cpu()
		start := time.Now()
		if _, err := srv.MakeReport(ctx, lastMonth); err != nil {
			t.Fatal(err)
		}
		t.Logf("monthly report %s: %v, CPU %v (load %s)", lastMonth, time.Since(start).Round(time.Millisecond), (cpu() - c0).Round(time.Millisecond), load())
	}

	// The export of every visit, streamed over the listener; the heap is
	// sampled while it runs.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	c0 := cpu()
	start := time.Now()
	r, err := client.Get(base + "/export/visits.csv?period=custom&from=" + now.AddDate(-5, 0, 1).Format(time.DateOnly) + "&to=" + now.Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rows++
	}
	r.Body.Close()
	el := time.Since(start)
	close(stop)
	rows-- // the header
	growth := float64(int64(peak.Load())-int64(before.HeapAlloc)) / (1 << 20)
	c := cpu() - c0
	t.Logf("CSV export of %d visits: %v, %.0f rows/s; CPU %v, %.0f rows per CPU second; heap growth %.1f MiB (load %s)", rows, el.Round(time.Millisecond),
		float64(rows)/el.Seconds(), c.Round(time.Millisecond), float64(rows)/c.Seconds(), growth, load())
}
