package office

// Measurements of the entrepreneur's page (README, Performance): bytes on
// the wire for a first view, and server time on a database of the size
// the programme expects.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/valyala/fasthttp"

	"infobus/schema"
)

// firstViewBudget is one round trip of a fresh TCP connection: ten
// segments of 1,460 bytes, rounded down to 14 KiB.
const firstViewBudget = 14 << 10

// countingConn counts the bytes that cross a connection each way.
type countingConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// chromeHeaders are the request headers Chromium sends for a navigation
// and for a stylesheet, so that the server answers as it would a browser.
var chromeHeaders = map[string]string{
	"User-Agent":      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Accept-Encoding": "gzip, deflate, br, zstd",
	"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8",
}

var subresourceRE = regexp.MustCompile(`<(?:link|script|img|iframe|source)\b[^>]*?\b(?:href|src)="([^"]*)"`)

// TestFollowUpPageFirstView fetches the page on a new connection as a
// browser does (the page, then what it links), counts every byte the
// server sends (headers, compressed bodies), and holds it to one round
// trip of a fresh TCP connection. Every resource the page loads must come
// from the office itself: nothing from another server blocks rendering.
func TestFollowUpPageFirstView(t *testing.T) {
	base, store := serveOffice(t)
	ctx := context.Background()
	e := mustAddBus(t, store, "bus")
	known, processing := mustCode(t, e, 21), mustCode(t, e, 22)
	fu := newID(t)
	mustPush(t, store, e, 1, codedRecord(t, newID(t), 1, map[string]string{fu: string(known)}))
	if _, err := store.SetFollowUpStatus(ctx, fu, schema.StatusDone, "We hebben u de informatie over de vergunning gemaild, met de formulieren erbij."); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.PutFeedback(ctx, known, e.BusID, FeedbackInput{Rating: 7, Comment: strings.Repeat("Een opmerking van een ondernemer. ", 20), ContactPreference: schema.PreferEmail}); err != nil {
		t.Fatal(err)
	}
	// The states of the loop back (loop.go): a question answered at length
	// (the page still shows both, larger than while it waits); a done follow-up the entrepreneur asked to reopen, with
	// the satisfaction form and every standard reason.
	waiting, reopen := mustCode(t, e, 23), mustCode(t, e, 24)
	fuWaiting, fuReopen := newID(t), newID(t)
	mustPush(t, store, e, 2, codedRecord(t, newID(t), 1, map[string]string{fuWaiting: string(waiting), fuReopen: string(reopen)}))
	if err := store.AskQuestion(ctx, "sam@denhaag.nl", fuWaiting, strings.Repeat("Op welk adres komt het terras, en hoe groot wordt het? ", 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AnswerQuestion(ctx, fuWaiting, strings.Repeat("Het terras komt voor de deur. ", 60)); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
		if _, err := store.MoveFollowUp(ctx, "sam@denhaag.nl", fuReopen, st, "We hebben u de informatie over de vergunning gemaild."); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.PutSatisfaction(ctx, fuReopen, Satisfaction{ReasonID: 3, Comment: strings.Repeat("Ik heb nog steeds geen vergunning. ", 50)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"question answered", "/f/" + string(waiting)},
		{"question answered, in English", "/f/" + string(waiting) + "?lang=en"},
		{"reopen requested, satisfaction form", "/f/" + string(reopen)},
		{"reopen requested, in English", "/f/" + string(reopen) + "?lang=en"},
		{"unknown code", "/f/HALLO"},
		{"processing", "/f/" + string(processing)},
		{"known, done, with feedback", "/f/" + string(known)},
		{"known, in English", "/f/" + string(known) + "?lang=en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var read, written atomic.Int64
			dials := 0
			tr := &http.Transport{
				DisableCompression: true, // the bytes as sent; the header below asks for what Chromium asks
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials++
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return countingConn{Conn: c, read: &read, written: &written}, nil
				},
			}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			get := func(u string) (*http.Response, []byte) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				for k, v := range chromeHeaders {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp, b
			}
			resp, body := get(base + tc.path)
			if enc := resp.Header.Get("Content-Encoding"); enc == "" {
				t.Errorf("the page came uncompressed")
			}
			html := decompress(t, resp.Header.Get("Content-Encoding"), body)
			pageBytes := read.Load()
			var subs []string
			for _, m := range subresourceRE.FindAllStringSubmatch(html, -1) {
				u := m[1]
				switch {
				case strings.HasPrefix(u, "data:"):
					continue
				case !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//"):
					t.Errorf("the page loads %q from elsewhere", u)
					continue
				}
				subs = append(subs, u)
			}
			if len(subs) != 1 || !strings.HasPrefix(subs[0], "/static/") {
				t.Errorf("subresources %v, want the stylesheet alone", subs)
			}
			for _, u := range subs {
				if r, _ := get(base + u); r.StatusCode != http.StatusOK {
					t.Errorf("%s: %d", u, r.StatusCode)
				}
			}
			total := read.Load()
			t.Logf("%s: %d B received in all (page %d B with headers, %s, HTML %d B uncompressed; stylesheet %d B with headers), %d B sent, %d connection",
				tc.name, total, pageBytes, resp.Header.Get("Content-Encoding"), len(html), total-pageBytes, written.Load(), dials)
			if dials != 1 {
				t.Errorf("%d connections, want 1", dials)
			}
			if total > firstViewBudget {
				t.Errorf("first view %d B, over the budget of %d B", total, firstViewBudget)
			}
		})
	}
}

// TestFollowUpPageServerTimeMeasure times GET /f/{code} inside the
// server (every middleware, the queries, the template, compression) on a
// generated office database:
//
//	task gen:office OUT=/tmp/infobus-office-1m
//	INFOBUS_BENCH_OFFICE=/tmp/infobus-office-1m go test ./office -run TestFollowUpPageServerTimeMeasure -v -count 1
//
// It measures and reports; it asserts nothing about time.
func TestFollowUpPageServerTimeMeasure(t *testing.T) {
	dir := os.Getenv("INFOBUS_BENCH_OFFICE")
	if dir == "" {
		t.Skip("a measurement: set INFOBUS_BENCH_OFFICE=DIR to an office database made by task gen:office")
	}
	ctx := context.Background()
	store, err := OpenStore(ctx, dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var visits, followUps, feedbacks int
	if err := store.db.Read.QueryRow(`SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM followups), (SELECT count(*) FROM feedback)`).Scan(&visits, &followUps, &feedbacks); err != nil {
		t.Fatal(err)
	}
	t.Logf("database: %d visits, %d follow-ups, %d feedbacks", visits, followUps, feedbacks)
	codesOf := func(query string) []string {
		rows, err := store.db.Read.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	// Random rows, spread over the whole database rather than its end.
	sample := func(table, where string, n int) []string {
		var max int64
		store.db.Read.QueryRow(`SELECT max(rowid) FROM ` + table).Scan(&max)
		var out []string
		for try := int64(0); len(out) < n && try < int64(20*n); try++ {
			out = append(out, codesOf(fmt.Sprintf(`SELECT code FROM %s WHERE rowid >= %d AND %s LIMIT 1`, table, 1+try*7919%max, where))...)
		}
		if len(out) == 0 {
			t.Fatalf("no %s rows where %s", table, where)
		}
		return out
	}
	states := map[string][]string{
		"known":                     sample("codes", "1", 400),
		"known, with feedback":      sample("feedback", "code IN (SELECT code FROM codes)", 400),
		"processing, with feedback": sample("feedback", "code NOT IN (SELECT code FROM codes)", 200),
		"unknown (MAC fails)":       {},
	}
	for _, c := range states["known"][:200] {
		b := []byte(c)
		b[9] = map[bool]byte{true: '0', false: '1'}[b[9] != '0']
		states["unknown (MAC fails)"] = append(states["unknown (MAC fails)"], string(b))
	}
	cfg := Config{Version: "measure"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := NewServer(cfg, store, slog.New(slog.DiscardHandler)).App().Handler()
	n := 0
	serve := func(code, lang string) time.Duration {
		var req fasthttp.Request
		req.SetRequestURI("/f/" + code + "?lang=" + lang)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
		var fctx fasthttp.RequestCtx
		n++
		// Each request from its own address: the page's rate limit is per address.
		fctx.Init(&req, &net.TCPAddr{IP: net.IPv4(10, byte(n>>16), byte(n>>8), byte(n)), Port: 40000}, nil)
		start := time.Now()
		h(&fctx)
		d := time.Since(start)
		if s := fctx.Response.StatusCode(); s != http.StatusOK && s != http.StatusNotFound {
			t.Fatalf("/f/%s: %d", code, s)
		}
		return d
	}
	for _, c := range states["known"][:100] { // warm the caches as a running office has them
		serve(c, "nl")
	}
	// The first round reads each code's rows from disk (the database is
	// larger than the cache); the next two find them cached, as a page
	// opened again does.
	var all, allCold []time.Duration
	for _, name := range []string{"known", "known, with feedback", "processing, with feedback", "unknown (MAC fails)"} {
		var cold, warm []time.Duration
		for round := range 3 {
			for i, c := range states[name] {
				d := serve(c, []string{"nl", "en"}[(i+round)%2])
				if round == 0 {
					cold = append(cold, d)
				} else {
					warm = append(warm, d)
				}
			}
		}
		all, allCold = append(all, warm...), append(allCold, cold...)
		t.Logf("%-26s first view %s; again %s", name, percentiles(cold), percentiles(warm))
	}
	t.Logf("%-26s first view %s; again %s", "all", percentiles(allCold), percentiles(all))
	t.Logf("load average: %s", loadAverage())
}

func percentiles(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))].Round(time.Microsecond) }
	return fmt.Sprintf("n=%d p50=%v p95=%v p99=%v max=%v", len(s), at(.5), at(.95), at(.99), s[len(s)-1].Round(time.Microsecond))
}

func loadAverage() string {
	f, err := os.Open("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(line)
}

// decompress reads a body in the encoding the server chose.
func decompress(tb testing.TB, encoding string, b []byte) string {
	tb.Helper()
	var r io.Reader
	switch encoding {
	case "":
		return string(b)
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			tb.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "deflate":
		r = flate.NewReader(bytes.NewReader(b))
	default:
		tb.Fatalf("unexpected encoding %q", encoding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}
