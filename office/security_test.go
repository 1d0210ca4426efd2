package office

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestSecurityHeaders(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	a := w.agent()
	a.login("ada@example.org", goodPassword, "/")
	anon := w.agent()
	for _, tc := range []struct {
		name string
		a    *agent
		do   func(a *agent) answer
	}{
		{"login page", anon, func(a *agent) answer { return a.get("/login") }},
		{"home redirect", anon, func(a *agent) answer { return a.get("/") }},
		{"home", a, func(a *agent) answer { return a.get("/") }},
		{"staff page", a, func(a *agent) answer { return a.get("/staff") }},
		{"not found page", anon, func(a *agent) answer { return a.get("/nope") }},
		{"refused form", anon, func(a *agent) answer { return a.do(http.MethodPost, "/login", url.Values{}) }},
		{"set-password link unknown", anon, func(a *agent) answer { return a.get("/account/set-password?token=x") }},
		{"stylesheet", anon, func(a *agent) answer { return a.get(StylesheetPath()) }},
		{"health", anon, func(a *agent) answer { return a.get("/healthz") }},
		{"sync without token", anon, func(a *agent) answer { return a.get("/sync/v1/pull") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do(tc.a)
			for h, want := range map[string]string{
				"Content-Security-Policy": ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := r.header.Get(h); got != want {
					t.Errorf("%s: got %q, want %q", h, got, want)
				}
			}
			if r.header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
			if strings.Contains(r.body, "style=") || strings.Contains(r.body, "<script") || strings.Contains(r.body, "<style") {
				t.Error("inline style or script, which the CSP refuses")
			}
		})
	}
}

// TestHTTPS: an office reached over HTTPS (here: at the proxy its public
// URL names) sends HSTS and Secure cookies.
func TestHTTPS(t *testing.T) {
	w := newTestWeb(t, func(c *Config) { c.PublicURL = "https://office.example" })
	w.addStaff("ada@example.org", RoleStaff, goodPassword)
	a := w.agent()
	if h := a.get("/login").header.Get("Strict-Transport-Security"); h != "max-age=31536000" {
		t.Errorf("HSTS: got %q", h)
	}
	r := a.login("ada@example.org", goodPassword, "/")
	found := false
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, cookieSession+"=") {
			found = true
			if !strings.Contains(c, "secure") {
				t.Errorf("session cookie over HTTPS is not Secure: %q", c)
			}
		}
	}
	if !found {
		t.Error("no session cookie")
	}
}

func TestPagesAndJSON(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	r := a.get("/nope")
	wantStatus(t, "unknown page", r, http.StatusNotFound)
	if !strings.Contains(r.body, "Deze pagina bestaat niet") || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: not the friendly 404:\n%s", r.body)
	}
	r = a.get("/sync/v1/nope")
	wantStatus(t, "unknown sync route", r, http.StatusNotFound)
	if !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Errorf("unknown sync route: got %s, want JSON", r.header.Get("Content-Type"))
	}
}

func TestLanguageSwitch(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	r := a.get("/login?next=%2Fstaff")
	if !strings.Contains(r.body, `href="/login?lang=en&amp;next=%2Fstaff"`) {
		t.Errorf("no English link keeping the query:\n%s", r.body)
	}
	r = a.get("/login?lang=en&next=%2Fstaff")
	if !strings.Contains(r.body, `<html lang="en">`) || !strings.Contains(r.body, "Log in") {
		t.Fatalf("?lang=en: not English:\n%s", r.body)
	}
	r = a.get("/login")
	if !strings.Contains(r.body, `<html lang="en">`) {
		t.Error("the choice of English was not remembered")
	}
	r = a.get("/login?lang=xx")
	if !strings.Contains(r.body, `<html lang="en">`) {
		t.Error("an unknown language changed the choice")
	}
}

func TestSetPassword(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	_, token, err := w.store.AddStaff(ctx, ActorCLI, "ada@example.org", RoleStaff)
	if err != nil {
		t.Fatal(err)
	}
	link := SetPasswordURL("http://office.example/", token)
	if !strings.HasPrefix(link, "http://office.example/account/set-password?token=") {
		t.Fatalf("link %q", link)
	}
	a := w.agent()
	page := "/account/set-password?token=" + url.QueryEscape(token)
	r := a.get(page)
	wantStatus(t, "set-password page", r, http.StatusOK)
	for _, tc := range []struct{ name, pw, repeat, want string }{
		{"too short", "kort", "kort", "minstens 12 tekens"},
		{"too long", strings.Repeat("a", 73), strings.Repeat("a", 73), "hoogstens 72 tekens"},
		{"different", goodPassword, goodPassword + "!", "niet gelijk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.post("/account/set-password", url.Values{"token": {token}, "password": {tc.pw}, "repeat": {tc.repeat}})
			wantStatus(t, "refused password", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, `aria-describedby="password-hint password-error"`) {
				t.Errorf("refusal does not say %q beside the field:\n%s", tc.want, r.body)
			}
		})
	}
	r = a.post("/account/set-password", url.Values{"token": {token}, "password": {goodPassword}, "repeat": {goodPassword}})
	wantLocation(t, "good password", r, "/login?set=1")
	wantStatus(t, "used link", a.get(page), http.StatusNotFound)
	a.login("ada@example.org", goodPassword, "/")

	// A link expires after 24 hours.
	_, token, err = w.store.AddStaff(ctx, ActorCLI, "bob@example.org", RoleStaff)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.add(LinkValidity)
	r = a.get("/account/set-password?token=" + url.QueryEscape(token))
	wantStatus(t, "expired link", r, http.StatusNotFound)
	if !strings.Contains(r.body, "ouder dan 24 uur") {
		t.Errorf("expired link page does not say why:\n%s", r.body)
	}
}

func TestRateLimit(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	a.get("/login")
	var r answer
	for i := 0; i <= loginRateMax; i++ {
		r = a.post("/login", url.Values{"email": {"nobody@example.org"}, "password": {"x"}})
	}
	wantStatus(t, "one login too many", r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Even wachten") {
		t.Errorf("429 without Retry-After (%q) or a readable page:\n%s", r.header.Get("Retry-After"), r.body)
	}
}

func TestBoundedForm(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	a.get("/login")
	r := a.post("/login", url.Values{"email": {strings.Repeat("a", MaxFormBody)}, "password": {"x"}})
	wantStatus(t, "huge form", r, http.StatusRequestEntityTooLarge)
	if !strings.Contains(r.body, "Te veel tekst") {
		t.Errorf("413 page not readable:\n%s", r.body)
	}
}

// TestInternalErrorHidden: an internal failure shows a page that says so
// and nothing of the error itself, which goes to the log.
func TestInternalErrorHidden(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	a := w.agent()
	a.login("ada@example.org", goodPassword, "/")
	w.store.Close()
	r := a.get("/staff")
	wantStatus(t, "page with the database closed", r, http.StatusInternalServerError)
	if !strings.Contains(r.body, "Er ging iets mis bij ons") || strings.Contains(r.body, "sql") || strings.Contains(r.body, "closed") {
		t.Errorf("500 page shows internals or no explanation:\n%s", r.body)
	}
	if !strings.Contains(w.log.String(), "sql: database is closed") {
		t.Errorf("the error did not reach the log:\n%s", w.log.String())
	}
}

func TestStylesheet(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	r := a.do(http.MethodGet, StylesheetPath(), nil, "Accept-Encoding", "gzip")
	wantStatus(t, "stylesheet", r, http.StatusOK)
	if r.header.Get("Content-Encoding") != "gzip" || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet headers: %v", r.header)
	}
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, officeCSS) {
		t.Fatalf("stylesheet does not unpack to office.css: %v", err)
	}
	// The entrepreneur's page must fit 14 KB with its HTML: keep CSS small.
	if n := len(r.body); n > 6<<10 {
		t.Errorf("stylesheet is %d bytes gzipped, want at most 6 KiB", n)
	}
	wantStatus(t, "an old stylesheet name", a.get("/static/office.0000000000.css"), http.StatusNotFound)
	if !strings.Contains(a.get("/login").body, `href="`+StylesheetPath()+`"`) {
		t.Error("the login page does not link the current stylesheet")
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/staff?x=1", "/staff?x=1"},
		{"", "/"},
		{"staff", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/a\nb", "/"},
		{"/%2F%2Fevil", "/%2F%2Fevil"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCatalogue: every language has exactly the Dutch keys, no text is
// empty, and every key the templates and the Go code name exists.
func TestCatalogue(t *testing.T) {
	nl := strs[DefaultLang]
	if len(strs) < 2 {
		t.Fatalf("catalogue has %d languages, want Dutch and English at least", len(strs))
	}
	for lang, m := range strs {
		for k, v := range m {
			if _, ok := nl[k]; !ok {
				t.Errorf("%s.json has %q, which nl.json lacks", lang, k)
			}
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
		}
		for k := range nl {
			if _, ok := m[k]; !ok {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
	used := map[string]string{} // key → where
	// Templates: {{.T "key"}}, {{$.T "key"}}, (.Field … "key" …), .N "key".
	tmplKey := regexp.MustCompile(`\.(?:T|N) "([a-z0-9_.]+)"|\.Field "[a-z]+" "[a-z]+" "([a-z0-9_.]+)" "([a-z0-9_.]*)"`)
	fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFiles, p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			for _, k := range m[1:] {
				if k != "" {
					used[k] = p
				}
			}
		}
		return nil
	})
	// Go: any string literal in the form of a key whose first part is a
	// catalogue section ("login.bad", "nav.home").
	sections := map[string]bool{}
	for k := range nl {
		sections[strings.SplitN(k, ".", 2)[0]] = true
	}
	goKey := regexp.MustCompile(`"([a-z]+)\.([a-z0-9_.]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			if sections[m[1]] && m[1] != "month" {
				used[m[1]+"."+m[2]] = f
			}
		}
	}
	// Keys made at run time: roles, months, counted texts.
	for _, r := range []string{RoleStaff, RoleAdmin} {
		used["role."+r] = "staff.html"
	}
	for _, m := range []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"} {
		used["month."+m] = "web.go"
	}
	var missing []string
	for k, where := range used {
		_, plain := nl[k]
		_, counted := nl[k+".one"]
		if !plain && !counted {
			missing = append(missing, k+" (used in "+where+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("catalogue lacks %s", m)
	}
	if len(used) < 40 {
		t.Errorf("found only %d keys in use: the scan is broken", len(used))
	}
}

func TestPageTimeAndDate(t *testing.T) {
	at := time.Date(2026, 11, 30, 13, 30, 0, 0, time.UTC) // 14.30 in The Hague
	for _, tc := range []struct{ lang, time, date string }{
		{"nl", "14.30 uur", "30 november 2026"},
		{"en", "14:30", "30 November 2026"},
	} {
		p := &Page{Lang: tc.lang}
		if got := p.Time(at); got != tc.time {
			t.Errorf("%s time: got %q, want %q", tc.lang, got, tc.time)
		}
		if got := p.Date(at); got != tc.date {
			t.Errorf("%s date: got %q, want %q", tc.lang, got, tc.date)
		}
	}
	p := &Page{Lang: "nl"}
	if got := p.N("staff.count", 1); got != "1 account" {
		t.Errorf("one: got %q", got)
	}
	if got := p.N("staff.count", 3); got != "3 accounts" {
		t.Errorf("three: got %q", got)
	}
}

func TestConfigSessions(t *testing.T) {
	c := Config{}
	if err := c.Validate(); err != nil || c.SessionIdle != DefaultSessionIdle || c.SessionAbsolute != DefaultSessionAbsolute {
		t.Errorf("defaults: got %v, %v, %v", c.SessionIdle, c.SessionAbsolute, err)
	}
	c = Config{SessionIdle: 2 * time.Hour, SessionAbsolute: time.Hour}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--session-idle") {
		t.Errorf("idle longer than absolute: got %v, want an error naming --session-idle", err)
	}
}
