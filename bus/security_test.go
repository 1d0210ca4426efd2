package bus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// busRoute is one route of the bus as a client calls it. device: it needs
// a paired tablet's token.
type busRoute struct {
	method, path string
	device       bool
}

// busRoutes lists every route of the bus. TestRoutesListed keeps it
// complete.
func busRoutes(visitID string) []busRoute {
	return []busRoute{
		{"GET", "/healthz", false},
		{"GET", "/metrics", false},
		{"GET", "/api/reference", false},
		{"POST", "/api/pair", false},
		{"PUT", "/api/visits/" + visitID, true},
		{"GET", "/api/visits/" + visitID, true},
		{"GET", "/api/visits", true},
		{"GET", "/api/sync/status", true},
		{"POST", "/api/sync", true},
		{"GET", "/api/codes?n=1", true},
		{"GET", "/api/cards", true},
		{"POST", "/api/cards/link?n=1", true},
		{"GET", "/cards/unknown-ticket", false},
		{"GET", "/api/stops", true},
		{"PUT", "/api/stops/" + visitID, true},
		{"PUT", "/api/quick/" + visitID, true},
		{"GET", "/api/quick", true},
		{"GET", "/api/history?kvk=27300014", true},
		{"GET", "/qr/0000-0000-0000-0.png", false},
		{"GET", "/setup", false},
		{"GET", "/setup/ca.crt", false},
		{"GET", "/", false},
		{"GET", "/app.js", false},
	}
}

func TestRoutesListed(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	s := NewServer(Config{Addr: "127.0.0.1:0", DataDir: "x"}, store, testLogger(t))
	listed := map[string]bool{}
	for _, r := range busRoutes(":id") {
		p, _, _ := strings.Cut(r.path, "?")
		listed[r.method+" "+p] = true
	}
	for _, r := range s.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/" && r.Method == "USE" || strings.HasPrefix(r.Path, "/api") && r.Method == "USE" {
			continue
		}
		p := strings.Replace(r.Path, "/*", "/", 1)
		p = strings.Replace(p, "/qr/:file", "/qr/0000-0000-0000-0.png", 1)
		p = strings.Replace(p, "/cards/:ticket", "/cards/unknown-ticket", 1)
		if !listed[r.Method+" "+p] && r.Method != "USE" {
			t.Errorf("route %s %s is not in busRoutes: add it, so that the limit, header and authorization tests cover it", r.Method, r.Path)
		}
	}
}

// testServer is a bus server for app.Test with the given limits.
func testServer(tb testing.TB, limits RateLimits) (*Server, *Store) {
	tb.Helper()
	store := mustOpenStore(tb, "", nil)
	tb.Cleanup(func() { store.Close() })
	cfg := Config{Addr: "127.0.0.1:0", DataDir: "x", Limits: limits}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return NewServer(cfg, store, testLogger(tb)), store
}

func pairToken(tb testing.TB, store *Store) string {
	tb.Helper()
	pc, err := store.NewPairingCode(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	d, err := store.Pair(context.Background(), pc.Code)
	if err != nil {
		tb.Fatal(err)
	}
	return d.Token
}

func call(tb testing.TB, s *Server, method, path, token string, body []byte) *http.Response {
	tb.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.App().Test(req, -1)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func TestEveryRouteRateLimitedWithRetryAfter(t *testing.T) {
	const max = 3
	for _, r := range busRoutes("0190c2a4-0000-7000-8000-000000000001") {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			// A server per route: the limit counts every route together.
			s, store := testServer(t, RateLimits{Requests: max, Pair: 100})
			token := pairToken(t, store)
			for i := range max {
				if resp := call(t, s, r.method, r.path, token, nil); resp.StatusCode == http.StatusTooManyRequests {
					t.Fatalf("request %d of %d refused already", i+1, max)
				}
			}
			resp := call(t, s, r.method, r.path, token, nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("past the limit: got %d (Retry-After %q) %s, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			var e apiError
			if json.Unmarshal(body, &e) != nil || e.Error != "too_many_requests" || e.MessageNL == "" {
				t.Errorf("429 body %s, want too_many_requests in both languages", body)
			}
		})
	}
}

func TestPairingRateLimit(t *testing.T) {
	s, _ := testServer(t, RateLimits{Pair: 5})
	got := map[int]int{}
	for range 20 {
		resp := call(t, s, "POST", "/api/pair", "", []byte(`{"pairing_code":"AAAA-AAAA"}`))
		got[resp.StatusCode]++
	}
	if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != 15 {
		t.Fatalf("20 guesses: %v, want 5 answered (401) and 15 refused (429)", got)
	}
}

func TestEveryRouteBodyLimitAndHeaders(t *testing.T) {
	s, store := testServer(t, RateLimits{Requests: 1 << 20})
	token := pairToken(t, store)
	// Over Fiber's limit the request never reaches app.Test's handler: a
	// real listener shows what a client gets.
	b := mustStartBus(t, store)
	big := make([]byte, connBodyLimit+1)
	for _, r := range busRoutes("0190c2a4-0000-7000-8000-000000000001") {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			resp := overLimit(t, b.url, r.method, r.path, token, len(big))
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("body over the limit: got %d, want 413", resp.StatusCode)
			}
			for _, resp := range []*http.Response{resp, call(t, s, r.method, r.path, token, nil), call(t, s, r.method, r.path, "", nil)} {
				for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
					if got := resp.Header.Get(h); got != want {
						t.Errorf("status %d: %s %q, want %q", resp.StatusCode, h, got, want)
					}
				}
			}
		})
	}
	// The crew API's own limit is smaller than Fiber's.
	resp := call(t, s, "PUT", "/api/visits/0190c2a4-0000-7000-8000-000000000001", token, bytes.Repeat([]byte(" "), DefaultBodyLimit+1))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("visit over the API limit: got %d, want 413", resp.StatusCode)
	}
}

func TestAuthorizationMatrixBus(t *testing.T) {
	s, store := testServer(t, RateLimits{Requests: 1 << 20})
	ctx := context.Background()
	device := pairToken(t, store)
	revoked := pairToken(t, store)
	revokedID, _ := store.DeviceByToken(ctx, revoked)
	if _, err := store.UnpairDevice(ctx, revokedID); err != nil {
		t.Fatal(err)
	}
	// What the other identities of the matrix bring to the bus: a staff
	// session cookie and a bus token mean nothing here.
	identities := []struct {
		name   string
		token  string
		cookie string
		code   string // the 401 error code for device routes; "" means allowed
	}{
		{"anonymous", "", "", "unauthorized"},
		{"device", device, "", ""},
		{"revoked device", revoked, "", "device_unpaired"},
		{"staff", "", "infobus_session=staff-session", "unauthorized"},
		{"admin", "", "infobus_session=admin-session", "unauthorized"},
		{"bus token", "aW5mb2J1cy1idXMtdG9rZW4tdGhhdC1pcy1sb25nLWVub3VnaA", "", "unauthorized"},
		{"revoked bus token", "cmV2b2tlZC1idXMtdG9rZW4tdGhhdC1pcy1sb25nLWVub3VnaA", "", "unauthorized"},
	}
	visit := newVisit(t, 1)
	id := visit["id"].(string)
	for _, r := range busRoutes(id) {
		for _, who := range identities {
			t.Run(r.method+" "+r.path+" as "+who.name, func(t *testing.T) {
				var body []byte
				if r.method == "PUT" {
					body = mustMarshal(t, visit)
				}
				req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
				if who.token != "" {
					req.Header.Set("Authorization", "Bearer "+who.token)
				}
				if who.cookie != "" {
					req.Header.Set("Cookie", who.cookie)
				}
				resp, err := s.App().Test(req, -1)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				if !r.device {
					if resp.StatusCode == http.StatusUnauthorized {
						t.Errorf("public route refused: %d %s", resp.StatusCode, got)
					}
					return
				}
				if who.code == "" {
					if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
						t.Errorf("paired device refused: %d %s", resp.StatusCode, got)
					}
					return
				}
				var e apiError
				_ = json.Unmarshal(got, &e)
				if resp.StatusCode != http.StatusUnauthorized || e.Error != who.code {
					t.Errorf("got %d %s, want 401 %s", resp.StatusCode, got, who.code)
				}
			})
		}
	}
}

func TestFullDiskAnswers507(t *testing.T) {
	s, store := testServer(t, RateLimits{Requests: 1 << 20})
	token := pairToken(t, store)
	ctx := context.Background()
	// A full disk, honestly: SQLite refuses to grow the file past
	// max_page_count, with the same SQLITE_FULL a full disk gives. The
	// writer pool has one connection, which keeps the setting.
	var pages int
	if err := store.db.Write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := store.db.Write.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	var body []byte
	for i := range 200 {
		v := newVisit(t, i)
		v["notes"] = strings.Repeat("Vol. ", 700)
		resp = call(t, s, "PUT", "/api/visits/"+v["id"].(string), token, mustMarshal(t, v))
		body, _ = io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			break
		}
	}
	var e apiError
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusInsufficientStorage || e.Error != "disk_full" || !strings.Contains(e.MessageNL, "vol") {
		t.Fatalf("on a full disk: got %d %s, want 507 disk_full in Dutch and English", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "database or disk is full") {
		t.Errorf("the answer carries the driver's error text: %s", body)
	}
	health := call(t, s, "GET", "/healthz", "", nil)
	hb, _ := io.ReadAll(health.Body)
	if health.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(hb), "disk_full") {
		t.Fatalf("/healthz on a full disk: %d %s", health.StatusCode, hb)
	}
	// Space again: the next write succeeds and /healthz is ok.
	if _, err := store.db.Write.ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	v := newVisit(t, 999)
	if resp := call(t, s, "PUT", "/api/visits/"+v["id"].(string), token, mustMarshal(t, v)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after space returned: %d", resp.StatusCode)
	}
	if health := call(t, s, "GET", "/healthz", "", nil); health.StatusCode != http.StatusOK {
		t.Fatalf("/healthz after space returned: %d", health.StatusCode)
	}
}

// overLimit announces a body of n bytes and reads the answer without
// sending it: the server refuses by the length, and a client that kept
// writing would see the connection reset before the answer.
func overLimit(tb testing.TB, base, method, path, token string, n int) *http.Response {
	tb.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: bus\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", method, path, token, n)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp
}
