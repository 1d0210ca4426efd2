package office

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	infosync "infobus/sync"
)

// officeRoute is one route of the office as a client calls it. who says
// which identity it is for: "" anyone, "bus", "staff", "admin" or
// "metrics" (loopback or the metrics token only).
type officeRoute struct {
	method, path string
	who          string
}

// officeRoutes lists every route of the office; TestOfficeRoutesListed
// keeps it complete.
func officeRoutes() []officeRoute {
	return []officeRoute{
		{"GET", "/healthz", ""},
		{"GET", "/metrics", "metrics"},
		{"POST", infosync.PushPath, "bus"},
		{"GET", infosync.PullPath, "bus"},
		{"GET", "/static/office.css", ""},
		{"GET", "/login", ""},
		{"POST", "/login", ""},
		{"POST", "/logout", "staff"},
		{"GET", "/account/set-password", ""},
		{"POST", "/account/set-password", ""},
		{"GET", "/", "staff"},
		{"GET", "/f/HQ7K-2M4X-9P", ""},
		{"POST", "/f/HQ7K-2M4X-9P/feedback", ""},
		{"GET", "/plan", "staff"},
		{"POST", "/plan", "staff"},
		{"POST", "/plan/3/cancel", "staff"},
		{"GET", "/bus", ""},
		{"GET", "/bus.ics", ""},
		{"GET", "/staff", "admin"},
		{"POST", "/staff", "admin"},
		{"POST", "/staff/3/disable", "admin"},
		{"POST", "/staff/3/reset", "admin"},
		{"GET", "/insight", "staff"},
		{"GET", "/reports", "staff"},
		{"POST", "/reports", "staff"},
		{"GET", "/reports/2026-10", "staff"},
		{"GET", "/export/visits.csv", "staff"},
		{"GET", "/export/followups.csv", "staff"},
		{"GET", "/export/panel.csv", "admin"},
		{"GET", "/followups/3", "staff"},
		{"POST", "/followups/3/status", "staff"},
		{"POST", "/followups/3/assign", "staff"},
		{"GET", "/visits", "staff"},
		{"GET", "/visits/3", "staff"},
		{"POST", "/visits/3/contact", "staff"},
		{"GET", "/set-aside", "staff"},
		{"GET", "/fleet", "admin"},
		{"POST", "/fleet", "admin"},
		{"POST", "/fleet/3/reissue", "admin"},
		{"POST", "/fleet/3/revoke", "admin"},
		{"GET", "/audit", "admin"},
		// Issue 15: the loop back to the entrepreneur, routing, texts, e-mail.
		{"POST", "/f/HQ7K-2M4X-9P/answer", ""},
		{"POST", "/f/HQ7K-2M4X-9P/satisfaction", ""},
		{"POST", "/followups/3/question", "staff"},
		{"POST", "/followups/3/route", "staff"},
		{"GET", "/reasons", "admin"},
		{"POST", "/reasons", "admin"},
		{"POST", "/reasons/3", "admin"},
		{"GET", "/rules", "admin"},
		{"POST", "/rules", "admin"},
		{"POST", "/rules/3/delete", "admin"},
		{"GET", "/texts", "admin"},
		{"POST", "/texts", "admin"},
		{"POST", "/texts/3/delete", "admin"},
		{"GET", "/mail", "admin"},
	}
}

func TestOfficeRoutesListed(t *testing.T) {
	w := newTestWeb(t)
	listed := map[string]bool{}
	for _, r := range officeRoutes() {
		listed[r.method+" "+r.path] = true
	}
	for _, r := range w.server.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		p := strings.NewReplacer("/:name", "/office.css", "/:id/", "/3/", "/:id", "/3", "/:code", "/HQ7K-2M4X-9P", "/:month", "/2026-10").Replace(r.Path)
		if !listed[r.Method+" "+p] {
			t.Errorf("route %s %s is not in officeRoutes: add it, so that the limit, header and authorization tests cover it", r.Method, r.Path)
		}
	}
}

func TestOfficeEveryRouteRateLimited(t *testing.T) {
	const max = 3
	for _, r := range officeRoutes() {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			w := newTestWeb(t, func(c *Config) { c.Limits = RateLimits{Requests: max, Sync: 100} })
			a := w.agent()
			for i := range max {
				if got := a.do(r.method, r.path, url.Values{}); got.status == http.StatusTooManyRequests {
					t.Fatalf("request %d of %d refused already", i+1, max)
				}
			}
			got := a.do(r.method, r.path, url.Values{})
			if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") == "" {
				t.Fatalf("past the limit: got %d (Retry-After %q), want 429 with Retry-After", got.status, got.header.Get("Retry-After"))
			}
			if got.header.Get("X-Content-Type-Options") != "nosniff" || got.header.Get("Content-Security-Policy") == "" {
				t.Errorf("429 without the security headers: %v", got.header)
			}
		})
	}
}

func TestOfficeSyncRateLimit(t *testing.T) {
	w := newTestWeb(t, func(c *Config) { c.Limits = RateLimits{Sync: 2} })
	e := mustAddBus(t, w.store, "bus")
	a := w.agent()
	codes := map[int]int{}
	for range 5 {
		codes[a.do("GET", infosync.PullPath, nil, "Authorization", "Bearer "+e.BusToken, infosync.VersionHeader, "1").status]++
	}
	if codes[200] != 2 || codes[429] != 3 {
		t.Fatalf("five pulls: %v, want 2 answered and 3 refused", codes)
	}
}

// serveWeb serves a test office on a real loopback listener.
func serveWeb(tb testing.TB, w *testWeb) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go w.server.Serve(ln)
	tb.Cleanup(func() { w.server.Shutdown(context.Background()) })
	return ln.Addr().String()
}

// rawRequest sends a request's head and the first sent bytes of a body
// announced as announced bytes, then reads the answer. An answer before
// the rest of the body came shows the office did not wait for it.
func rawRequest(tb testing.TB, addr, head string, announced, sent int) *http.Response {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	// Only a guard against hanging the suite; no timing is asserted.
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n", head, announced)
	conn.Write(make([]byte, sent))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("no answer before the body was sent: %v", err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp
}

func TestTokenCheckedBeforeBodyRead(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	addr := serveWeb(t, w)
	push := "POST " + infosync.PushPath + " HTTP/1.1\r\nHost: office\r\n" + infosync.VersionHeader + ": 1\r\nContent-Encoding: gzip\r\n"
	for _, tc := range []struct {
		name   string
		head   string
		status int
	}{
		{"no token", push, http.StatusUnauthorized},
		{"wrong token", push + "Authorization: Bearer not-a-token\r\n", http.StatusUnauthorized},
		{"no version", "POST " + infosync.PushPath + " HTTP/1.1\r\nHost: office\r\nAuthorization: Bearer " + e.BusToken + "\r\n", http.StatusUpgradeRequired},
		{"a large form to a page", "POST /login HTTP/1.1\r\nHost: office\r\nContent-Type: application/x-www-form-urlencoded\r\n", http.StatusRequestEntityTooLarge},
		{"a bus token but over the push limit", push + "Authorization: Bearer " + e.BusToken + "\r\n", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			announced := 4 << 20
			if tc.status == http.StatusRequestEntityTooLarge && strings.Contains(tc.head, e.BusToken) {
				announced = infosync.MaxPushCompressed + 1
			}
			// 16 KiB of 4 MiB: the office answers without the rest.
			resp := rawRequest(t, addr, tc.head, announced, 16<<10)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	// A bus with its token sends its whole push, which lands.
	body := mustJSONBody(t, e)
	req, _ := http.NewRequest("POST", "http://"+addr+infosync.PushPath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.BusToken)
	req.Header.Set(infosync.VersionHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a large authenticated push: got %d %s", resp.StatusCode, got)
	}
}

// mustJSONBody is a plain JSON push of many visits: larger than what the
// office reads before it knows who sends it.
func mustJSONBody(tb testing.TB, e infosync.Enrollment) []byte {
	tb.Helper()
	var recs []json.RawMessage
	for range 200 {
		recs = append(recs, visitRecord(tb, newID(tb), 1, strings.Repeat("lang verhaal ", 40)))
	}
	var b bytes.Buffer
	b.WriteString(`{"bus_id":"` + e.BusID + `","through_seq":200,"records":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString("]}")
	if b.Len() <= unauthenticatedBody {
		tb.Fatalf("body of %d bytes is not larger than the unauthenticated limit", b.Len())
	}
	return b.Bytes()
}

func TestTrustedProxyOnlyWhenConfigured(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want429 bool // the second request, from "another" forwarded address, counts with the first
	}{
		{"no proxy configured: X-Forwarded-For is ignored", nil, true},
		{"loopback proxy configured: each forwarded address counts alone", []string{"127.0.0.1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWeb(t, func(c *Config) { c.Limits = RateLimits{Requests: 1}; c.TrustedProxies = tc.trusted })
			addr := serveWeb(t, w)
			status := func(xff string) int {
				req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
				req.Header.Set("X-Forwarded-For", xff)
				req.Header.Set("X-Forwarded-Proto", "https")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if tc.trusted == nil && resp.Header.Get("Strict-Transport-Security") != "" {
					t.Error("HSTS on plain HTTP because a client said X-Forwarded-Proto: https")
				}
				return resp.StatusCode
			}
			status("203.0.113.1")
			if got := status("203.0.113.2") == http.StatusTooManyRequests; got != tc.want429 {
				t.Errorf("second request refused: %v, want %v", got, tc.want429)
			}
		})
	}
	if err := (&Config{TrustedProxies: []string{"proxy.example"}}).Validate(); err == nil {
		t.Error("a host name as trusted proxy was accepted")
	}
}

func TestOfficeFullDisk507(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	ctx := context.Background()
	var pages int
	if err := w.store.db.Write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// SQLite's page limit gives the SQLITE_FULL of a full disk.
	if _, err := w.store.db.Write.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	a := w.agent()
	var got answer
	for range 50 {
		body := mustJSONBody(t, e)
		req := httptestRequest("POST", infosync.PushPath, body, "Authorization", "Bearer "+e.BusToken, infosync.VersionHeader, "1")
		resp, err := w.server.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		got = answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
		if got.status != http.StatusOK {
			break
		}
	}
	var eb infosync.ErrorBody
	json.Unmarshal([]byte(got.body), &eb)
	if got.status != http.StatusInsufficientStorage || eb.Error != "disk_full" || eb.MessageNL == "" || strings.Contains(got.body, "database or disk is full") {
		t.Fatalf("push on a full disk: %d %s, want 507 disk_full in both languages without the driver's text", got.status, got.body)
	}
	if h := a.get("/healthz"); h.status != http.StatusInsufficientStorage || !strings.Contains(h.body, "disk_full") {
		t.Fatalf("/healthz on a full disk: %d %s", h.status, h.body)
	}
}

func httptestRequest(method, target string, body []byte, headers ...string) *http.Request {
	req, _ := http.NewRequest(method, "http://office"+target, bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(tb testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "office"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "office.crt"), filepath.Join(dir, "office.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestOfficeServesHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	w := newTestWeb(t, func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	tc, err := w.server.cfg.ServerTLS()
	if err != nil || tc == nil {
		t.Fatalf("ServerTLS: %v %v", tc, err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	go w.server.Serve(ln)
	t.Cleanup(func() { w.server.Shutdown(context.Background()) })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("over HTTPS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	for _, bad := range []Config{
		{TLSCert: certFile},
		{TLSCert: certFile, TLSKey: keyFile, PublicURL: "http://office.example"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
	if _, err := (&Config{TLSCert: keyFile, TLSKey: certFile}).ServerTLS(); err == nil {
		t.Error("swapped certificate and key accepted")
	}
}

func TestAuthorizationMatrixOffice(t *testing.T) {
	w := newTestWeb(t, func(c *Config) { c.Limits = RateLimits{Requests: 1 << 20, Sync: 1 << 20} })
	ctx := context.Background()
	bus := mustAddBus(t, w.store, "bus")
	revokedBus := mustAddBus(t, w.store, "revoked bus")
	if _, err := w.store.RevokeBus(ctx, revokedBus.BusID, ActorCLI); err != nil {
		t.Fatal(err)
	}
	w.addStaff("staff@example.org", "staff", goodPassword)
	w.addStaff("admin@example.org", "admin", goodPassword)
	w.addStaff("other@example.org", "staff", goodPassword)

	type identity struct {
		name    string
		agent   func() *agent
		headers []string
		is      string // "", "bus", "staff", "admin"
	}
	// One login per account: logging in is rate limited. The logout
	// route runs last, so that it ends sessions nobody needs any more.
	loggedIn := func(email string) func() *agent {
		a := w.agent()
		a.login(email, goodPassword, "/")
		return func() *agent { return a }
	}
	identities := []identity{
		{"anonymous", w.agent, nil, ""},
		{"device", w.agent, []string{"Authorization", "Bearer a-tablet-device-token-means-nothing-here"}, ""},
		{"revoked device", w.agent, []string{"Authorization", "Bearer a-revoked-device-token-means-nothing"}, ""},
		{"staff", loggedIn("staff@example.org"), nil, "staff"},
		{"admin", loggedIn("admin@example.org"), nil, "admin"},
		{"bus token", w.agent, []string{"Authorization", "Bearer " + bus.BusToken, infosync.VersionHeader, "1"}, "bus"},
		{"revoked bus token", w.agent, []string{"Authorization", "Bearer " + revokedBus.BusToken, infosync.VersionHeader, "1"}, ""},
	}
	allowed := func(route, who string) bool {
		switch route {
		case "":
			return true
		case "bus":
			return who == "bus"
		case "staff":
			return who == "staff" || who == "admin"
		case "metrics":
			// Only loopback or --metrics-token; app.Test is neither.
			return false
		}
		return who == "admin"
	}
	routes := officeRoutes()
	slices.SortStableFunc(routes, func(x, y officeRoute) int {
		return cmp.Compare(strings.Count(x.path, "/logout"), strings.Count(y.path, "/logout"))
	})
	for _, r := range routes {
		for _, id := range identities {
			t.Run(r.method+" "+r.path+" as "+id.name, func(t *testing.T) {
				a := id.agent()
				if r.path == "/logout" && (id.is == "staff" || id.is == "admin") {
					// A session of its own: the routes before may have
					// ended the shared one (a login form sent while
					// logged in starts over).
					a = w.agent()
					a.login(id.name+"@example.org", goodPassword, "/")
				}
				var form url.Values
				if r.method == "POST" && r.who != "bus" {
					// A form token, as a browser has one from the page before.
					if id.is == "staff" || id.is == "admin" {
						a.get("/")
					} else {
						a.get("/login")
					}
					form = url.Values{FormTokenField: {a.form}}
				}
				got := a.do(r.method, r.path, form, id.headers...)
				ok := allowed(r.who, id.is)
				refused := got.status == http.StatusUnauthorized || got.status == http.StatusForbidden ||
					got.status == http.StatusUpgradeRequired ||
					(got.status == http.StatusSeeOther && strings.HasPrefix(got.location(), "/login?next="))
				if ok && refused {
					t.Errorf("allowed identity refused: %d %s", got.status, got.location())
				}
				if !ok && !refused {
					t.Errorf("got %d %s, want a refusal (401, 403, or the login page)", got.status, got.location())
				}
			})
		}
	}
}
