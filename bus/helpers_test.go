package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"infobus/schema"
)

// clock is a settable time source for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testWriter sends log lines to the test's log, shown only on failure.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// mustOpenStore opens a store in dir (a new temp dir when empty).
func mustOpenStore(tb testing.TB, dir string, now func() time.Time) *Store {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	s, err := OpenStore(context.Background(), dir, testLogger(tb), now)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	return s
}

// testBus is a bus server on a real loopback listener.
type testBus struct {
	tb     testing.TB
	store  *Store
	server *Server
	url    string
	done   chan error
}

// mustStartBus serves a store over HTTP on a free loopback port. The caller
// stops it with stop, or the test's cleanup does.
func mustStartBus(tb testing.TB, store *Store) *testBus {
	tb.Helper()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: "unused", Version: "test"}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &testBus{tb: tb, store: store, server: NewServer(cfg, store, testLogger(tb)), url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { b.done <- b.server.Serve(ln) }()
	tb.Cleanup(b.stop)
	return b
}

func (b *testBus) stop() {
	if b.server == nil {
		return
	}
	// fasthttp waits out its read timeout on keep-alive connections a client
	// still holds; tests should not.
	testClient.CloseIdleConnections()
	if err := b.server.Shutdown(context.Background()); err != nil {
		b.tb.Errorf("shutdown: %v", err)
	}
	<-b.done
	b.server = nil
}

// pair makes a pairing code and trades it for a device token over HTTP.
func (b *testBus) pair() string {
	b.tb.Helper()
	pc, err := b.store.NewPairingCode(context.Background())
	if err != nil {
		b.tb.Fatal(err)
	}
	status, body := b.do(http.MethodPost, "/api/pair", "", map[string]string{"pairing_code": pc.Code})
	if status != http.StatusCreated {
		b.tb.Fatalf("pair: got %d %s, want 201", status, body)
	}
	var d Device
	if err := json.Unmarshal(body, &d); err != nil {
		b.tb.Fatal(err)
	}
	return d.Token
}

var testClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// do sends a request with an optional token and JSON body (a []byte or
// string is sent as is) and returns the status and body.
func (b *testBus) do(method, path, token string, body any) (int, []byte) {
	b.tb.Helper()
	status, resp, err := request(b.url, method, path, token, body)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", method, path, err)
	}
	return status, resp
}

func request(base, method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// newVisit returns a valid visit as a tablet would send it, as a map so that
// tests can break any field.
func newVisit(tb testing.TB, n int) map[string]any {
	tb.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		tb.Fatal(err)
	}
	fid, err := uuid.NewV7()
	if err != nil {
		tb.Fatal(err)
	}
	wijken := []string{"WK051828", "WK051832", "WK051807", "WK051840"}
	return map[string]any{
		"id":         id.String(),
		"crew":       "Fatima",
		"stop":       "Paul Krugerlaan",
		"visited_at": "2026-11-26T14:05:00+01:00",
		"business": map[string]any{
			"name": fmt.Sprintf("Bakkerij nummer %d", n),
			"kvk":  fmt.Sprintf("%08d", 27000000+n),
			"address": map[string]any{
				"street": "Paul Krugerlaan", "number": fmt.Sprint(n%200 + 1), "postcode": "2571 JA", "city": "Den Haag",
			},
		},
		"wijk":         wijken[n%len(wijken)],
		"sector":       "detailhandel",
		"topics":       []string{"vergunningen", "parkeren"},
		"notes":        "Wil een terrasvergunning.",
		"language":     "nl",
		"consent":      map[string]any{"given": true, "text_version": schema.ConsentTextVersion, "at": "2026-11-26T14:06:00+01:00"},
		"contact":      map[string]any{"name": "J. de Vries", "phone": "06 1234 5678", "email": "info@example.nl"},
		"panel_opt_in": false,
		"rating":       7,
		"followups": []map[string]any{{
			"id": fid.String(), "kind": "callback", "description": "Terugbellen over terrasvergunning",
			"department": "vergunningen", "due_date": "2026-12-10",
		}},
		"rev":        1,
		"created_at": "2026-11-26T14:05:00+01:00",
		"updated_at": "2026-11-26T14:07:00+01:00",
		"deleted":    false,
	}
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
