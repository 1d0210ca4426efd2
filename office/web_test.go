package office

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func init() { passwordCost = bcrypt.MinCost }

// clock is an office clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testWeb is an office served through app.Test, with a clock of its own.
type testWeb struct {
	tb     testing.TB
	store  *Store
	server *Server
	clock  *clock
	log    *strings.Builder
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newTestWeb(tb testing.TB, configure ...func(*Config)) *testWeb {
	tb.Helper()
	clk := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	logs := &strings.Builder{}
	log := slog.New(slog.NewTextHandler(&lockedWriter{b: logs}, nil))
	store, err := OpenStore(context.Background(), tb.TempDir(), log, clk.now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	cfg := Config{Version: "test"}
	for _, f := range configure {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return &testWeb{tb: tb, store: store, server: NewServer(cfg, store, log), clock: clk, log: logs}
}

// addStaff makes an account with a password, as add-staff and the
// set-password page do.
func (w *testWeb) addStaff(email, role, pw string) Staff {
	w.tb.Helper()
	ctx := context.Background()
	_, token, err := w.store.AddStaff(ctx, ActorCLI, email, role)
	if err != nil {
		w.tb.Fatal(err)
	}
	st, err := w.store.SetPassword(ctx, token, pw, pw)
	if err != nil {
		w.tb.Fatal(err)
	}
	return st
}

// agent is one browser: it keeps cookies and the last page's form token.
type agent struct {
	w       *testWeb
	cookies map[string]string
	form    string
}

func (w *testWeb) agent() *agent { return &agent{w: w, cookies: map[string]string{}} }

type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) location() string { return a.header.Get("Location") }

var formTokenRE = regexp.MustCompile(`name="_form" value="([^"]+)"`)

// do sends a request through app.Test, keeps the cookies it sets, and
// remembers the form token of the page it gets.
func (a *agent) do(method, target string, form url.Values, headers ...string) answer {
	a.w.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for k, v := range a.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := a.w.server.App().Test(req, -1)
	if err != nil {
		a.w.tb.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.w.tb.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(a.cookies, c.Name)
		} else {
			a.cookies[c.Name] = c.Value
		}
	}
	if m := formTokenRE.FindStringSubmatch(string(b)); m != nil {
		a.form = m[1]
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (a *agent) get(target string) answer { a.w.tb.Helper(); return a.do(http.MethodGet, target, nil) }

// post sends a form with the token of the last page seen.
func (a *agent) post(target string, form url.Values) answer {
	a.w.tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(FormTokenField, a.form)
	return a.do(http.MethodPost, target, form)
}

// login logs in through the login form and fails the test unless it works.
func (a *agent) login(email, pw, next string) answer {
	a.w.tb.Helper()
	a.get("/login")
	r := a.post("/login", url.Values{"email": {email}, "password": {pw}, "next": {next}})
	if r.status != http.StatusSeeOther {
		a.w.tb.Fatalf("log in %s: got %d, want 303\n%s", email, r.status, r.body)
	}
	return r
}

func wantStatus(tb testing.TB, what string, r answer, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("%s: got %d, want %d\n%s", what, r.status, want, r.body)
	}
}

func wantLocation(tb testing.TB, what string, r answer, want string) {
	tb.Helper()
	if r.status != http.StatusSeeOther || r.location() != want {
		tb.Fatalf("%s: got %d to %q, want 303 to %q", what, r.status, r.location(), want)
	}
}

const goodPassword = "een lange zin als wachtwoord"

func TestAnonymousGoesToLogin(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	for _, tc := range []struct{ name, path, want string }{
		{"home", "/", "/login?next=%2F"},
		{"staff page", "/staff", "/login?next=%2Fstaff"},
		{"with a query", "/staff?done=disabled", "/login?next=%2Fstaff%3Fdone%3Ddisabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLocation(t, "GET "+tc.path, a.get(tc.path), tc.want)
		})
	}
	r := a.get("/login?next=%2Fstaff")
	wantStatus(t, "login page", r, http.StatusOK)
	for _, s := range []string{`<html lang="nl">`, `name="next" value="/staff"`, `for="email"`, `for="password"`, `autocomplete="current-password"`} {
		if !strings.Contains(r.body, s) {
			t.Errorf("login page lacks %s", s)
		}
	}
}

func TestLoginAndBack(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("Ada@Example.org", RoleAdmin, goodPassword)
	a := w.agent()
	r := a.login("ada@example.org", goodPassword, "/staff")
	if r.location() != "/staff" {
		t.Fatalf("after login: got to %q, want /staff", r.location())
	}
	if a.cookies[cookieSession] == "" {
		t.Fatal("no session cookie after login")
	}
	r = a.get("/")
	wantStatus(t, "home", r, http.StatusOK)
	if !strings.Contains(r.body, "ada@example.org") || !strings.Contains(r.body, `href="/staff"`) {
		t.Errorf("home shows neither the person nor the staff page:\n%s", r.body)
	}
	// The login page of a logged-in person goes where they wanted.
	wantLocation(t, "login while logged in", a.get("/login?next=/staff"), "/staff")
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b := w.agent()
		r := b.login("ada@example.org", goodPassword, next)
		if r.location() != "/" {
			t.Errorf("next %q: sent to %q, want /", next, r.location())
		}
	}
	r = a.post("/logout", nil)
	wantLocation(t, "logout", r, "/login?out=1")
	wantLocation(t, "home after logout", a.get("/"), "/login?next=%2F")
}

func TestSessionCookie(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleStaff, goodPassword)
	a := w.agent()
	a.get("/login")
	r := a.post("/login", url.Values{"email": {"ada@example.org"}, "password": {goodPassword}})
	var sc string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, cookieSession+"=") {
			sc = c
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(strings.ToLower(sc), "secure") {
		t.Errorf("session cookie over plain HTTP is Secure: %q", sc)
	}
}

func TestFormToken(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	creds := func() url.Values {
		return url.Values{"email": {"ada@example.org"}, "password": {goodPassword}}
	}
	for _, tc := range []struct {
		name    string
		token   string // "" none, "page" the page's, else this value
		headers []string
	}{
		{name: "no token"},
		{name: "wrong token", token: strings.Repeat("A", 43)},
		{name: "from another site", token: "page", headers: []string{"Sec-Fetch-Site", "cross-site"}},
		{name: "another origin", token: "page", headers: []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := w.agent()
			a.get("/login")
			f := creds()
			switch tc.token {
			case "page":
				f.Set(FormTokenField, a.form)
			case "":
			default:
				f.Set(FormTokenField, tc.token)
			}
			r := a.do(http.MethodPost, "/login", f, tc.headers...)
			wantStatus(t, "login", r, http.StatusForbidden)
			if !strings.Contains(r.body, "Het formulier is niet verstuurd") {
				t.Errorf("403 page does not say why:\n%s", r.body)
			}
			if a.cookies[cookieSession] != "" {
				t.Error("a session was made anyway")
			}
		})
	}
	// A browser under Referrer-Policy no-referrer sends "Origin: null" with
	// its own forms: the token decides.
	b := w.agent()
	b.get("/login")
	f := creds()
	f.Set(FormTokenField, b.form)
	wantLocation(t, "login with Origin: null", b.do(http.MethodPost, "/login", f, "Origin", "null", "Sec-Fetch-Site", "same-origin"), "/")
	// A page without a form (the favicon's 404) leaves the form cookie be.
	c := w.agent()
	c.get("/login")
	before := c.cookies[cookieForm]
	if r := c.get("/favicon.ico"); r.header.Get("Set-Cookie") != "" || before == "" {
		t.Errorf("404 page set a cookie (%q), or the login page none (%q)", r.header.Get("Set-Cookie"), before)
	}

	// A logged-in person's forms carry the session's token, not another.
	a := w.agent()
	a.login("ada@example.org", goodPassword, "/")
	r := a.do(http.MethodPost, "/staff", url.Values{"email": {"bob@example.org"}, "role": {"staff"}, FormTokenField: {"x"}})
	wantStatus(t, "add staff with a wrong token", r, http.StatusForbidden)
	if _, err := w.store.StaffByEmail(context.Background(), "bob@example.org"); err == nil {
		t.Error("bob was added without a form token")
	}
	a.get("/staff")
	r = a.post("/staff", url.Values{"email": {"bob@example.org"}, "role": {"staff"}})
	wantStatus(t, "add staff with the page's token", r, http.StatusCreated)
}

func TestLoginEmptyFields(t *testing.T) {
	w := newTestWeb(t)
	a := w.agent()
	a.get("/login")
	r := a.post("/login", url.Values{"email": {" "}})
	wantStatus(t, "empty login", r, http.StatusUnprocessableEntity)
	for _, want := range []string{"Vul je e-mailadres in.", "Vul je wachtwoord in.", `aria-describedby="email-error"`, `href="#password"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("empty login: page lacks %s", want)
		}
	}
	if entries, _ := w.store.AuditLog(context.Background(), 10); len(entries) != 0 {
		t.Errorf("an empty form reached the audit log: %+v", entries)
	}
}

func TestLockout(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleStaff, goodPassword)
	a := w.agent()
	a.get("/login")
	try := func(pw string) answer {
		return a.post("/login", url.Values{"email": {"ada@example.org"}, "password": {pw}})
	}
	for i := 1; i < LockAfter; i++ {
		r := try("wrong password " + string(rune('a'+i)))
		wantStatus(t, "wrong password", r, http.StatusUnauthorized)
		if !strings.Contains(r.body, "klopt niet") || !strings.Contains(r.body, `role="alert"`) {
			t.Fatalf("wrong password %d: no announced error:\n%s", i, r.body)
		}
		w.clock.add(time.Minute)
	}
	r := try("the last wrong one")
	wantStatus(t, "wrong password that locks", r, http.StatusTooManyRequests)
	// Locked at 9.04 UTC for 15 minutes: 10.19 in The Hague.
	if !strings.Contains(r.body, "Probeer het om 10.19 uur opnieuw.") {
		t.Fatalf("lock-out does not say when to try again:\n%s", r.body)
	}
	w.clock.add(10 * time.Minute)
	r = try(goodPassword)
	wantStatus(t, "right password while locked", r, http.StatusTooManyRequests)
	w.clock.add(5 * time.Minute)
	r = try(goodPassword)
	wantLocation(t, "right password after the lock", r, "/")
	// The wrong passwords before the lock do not count again.
	b := w.agent()
	b.get("/login")
	r = b.post("/login", url.Values{"email": {"ada@example.org"}, "password": {"wrong again"}})
	wantStatus(t, "one wrong password after the lock", r, http.StatusUnauthorized)
}

func TestLockoutWindow(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleStaff, goodPassword)
	ctx := context.Background()
	// Wrong passwords spread wider than the window never lock.
	for i := 0; i < 3*LockAfter; i++ {
		if _, err := w.store.CheckLogin(ctx, "ada@example.org", "wrong"); err != ErrBadLogin {
			t.Fatalf("attempt %d: got %v, want ErrBadLogin", i, err)
		}
		w.clock.add(LockWindow/(LockAfter-1) + time.Second)
	}
}

func TestSessionExpiry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []time.Duration // requests at these gaps, all within the session
		last  time.Duration   // the gap after which it has expired
	}{
		{name: "idle", last: DefaultSessionIdle},
		{name: "absolute", steps: repeat(20*time.Minute, int(DefaultSessionAbsolute/(20*time.Minute))-1), last: 20 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWeb(t)
			w.addStaff("ada@example.org", RoleAdmin, goodPassword)
			a := w.agent()
			a.login("ada@example.org", goodPassword, "/")
			for _, d := range tc.steps {
				w.clock.add(d)
				wantStatus(t, "staff page in time", a.get("/staff"), http.StatusOK)
			}
			w.clock.add(tc.last)
			r := a.get("/staff?done=disabled")
			wantLocation(t, "staff page after expiry", r, "/login?expired=1&next=%2Fstaff%3Fdone%3Ddisabled")
			r = a.get(r.location())
			if !strings.Contains(r.body, "Log opnieuw in") {
				t.Errorf("login page does not say the session ended:\n%s", r.body)
			}
			r = a.post("/login", url.Values{"email": {"ada@example.org"}, "password": {goodPassword}, "next": {"/staff?done=disabled"}})
			wantLocation(t, "login after expiry", r, "/staff?done=disabled")
			wantStatus(t, "back on the page", a.get(r.location()), http.StatusOK)
		})
	}
}

// TestSessionExpiryOnPost: a form sent after the session ended leads to
// the login page, not to a refusal of its form token.
func TestSessionExpiryOnPost(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	a := w.agent()
	a.login("ada@example.org", goodPassword, "/")
	a.get("/staff")
	w.clock.add(DefaultSessionIdle)
	r := a.post("/staff", url.Values{"email": {"bob@example.org"}, "role": {"staff"}})
	wantLocation(t, "form after expiry", r, "/login?expired=1&next=%2F")
	if _, err := w.store.StaffByEmail(context.Background(), "bob@example.org"); err == nil {
		t.Error("the form was carried out after the session ended")
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestDisabledAccount(t *testing.T) {
	w := newTestWeb(t)
	admin := w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	bob := w.addStaff("bob@example.org", RoleStaff, goodPassword)
	ab, bb := w.agent(), w.agent()
	ab.login(admin.Email, goodPassword, "/")
	bb.login(bob.Email, goodPassword, "/")
	ab.get("/staff")
	wantLocation(t, "disable bob", ab.post("/staff/"+itoa(bob.ID)+"/disable", nil), "/staff?done=disabled")
	wantLocation(t, "bob's session after disable", bb.get("/"), "/login?next=%2F")
	bb.get("/login")
	r := bb.post("/login", url.Values{"email": {bob.Email}, "password": {goodPassword}})
	wantStatus(t, "bob logs in", r, http.StatusForbidden)
	if !strings.Contains(r.body, "uitgezet") {
		t.Errorf("refusal does not say the account is disabled:\n%s", r.body)
	}
	// An admin cannot disable themselves.
	ab.get("/staff")
	wantStatus(t, "disable self", ab.post("/staff/"+itoa(admin.ID)+"/disable", nil), http.StatusConflict)
}

func TestRoles(t *testing.T) {
	w := newTestWeb(t)
	admin := w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	w.addStaff("bob@example.org", RoleStaff, goodPassword)
	a := w.agent()
	a.login("bob@example.org", goodPassword, "/")
	r := a.get("/")
	if strings.Contains(r.body, `href="/staff"`) {
		t.Error("staff see a link to the admin's staff page")
	}
	for _, tc := range []struct{ name, method, path string }{
		{"staff page", http.MethodGet, "/staff"},
		{"add", http.MethodPost, "/staff"},
		{"disable", http.MethodPost, "/staff/" + itoa(admin.ID) + "/disable"},
		{"reset", http.MethodPost, "/staff/" + itoa(admin.ID) + "/reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r answer
			if tc.method == http.MethodGet {
				r = a.get(tc.path)
			} else {
				r = a.post(tc.path, url.Values{"email": {"eve@example.org"}, "role": {"admin"}})
			}
			wantStatus(t, tc.path, r, http.StatusForbidden)
			if !strings.Contains(r.body, "Alleen een beheerder") {
				t.Errorf("403 page does not say why:\n%s", r.body)
			}
		})
	}
	if st, _ := w.store.StaffByID(context.Background(), admin.ID); st.Disabled || !st.HasPassword {
		t.Error("staff changed an admin's account")
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// TestAudit: every audited action leaves exactly one entry.
func TestAudit(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	count := func() map[string]int {
		entries, err := w.store.AuditLog(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, e := range entries {
			m[e.Action]++
		}
		return m
	}
	admin := w.addStaff("ada@example.org", RoleAdmin, goodPassword) // staff_added, password_set by cli
	a := w.agent()
	step := func(action string, fn func()) {
		t.Helper()
		before := count()
		fn()
		after := count()
		for k, n := range after {
			want := before[k]
			if k == action {
				want++
			}
			if n != want {
				t.Errorf("%s: %d %s entries, want %d", action, n, k, want)
			}
		}
		if after[action] != before[action]+1 {
			t.Errorf("%s: no entry", action)
		}
	}
	step(ActionLogin, func() { a.login(admin.Email, goodPassword, "/") })
	var bobID int64
	step(ActionStaffAdded, func() {
		a.get("/staff")
		wantStatus(t, "add bob", a.post("/staff", url.Values{"email": {"bob@example.org"}, "role": {"staff"}}), http.StatusCreated)
		bob, _ := w.store.StaffByEmail(ctx, "bob@example.org")
		bobID = bob.ID
	})
	step(ActionStaffReset, func() {
		a.get("/staff")
		wantStatus(t, "reset bob", a.post("/staff/"+itoa(bobID)+"/reset", nil), http.StatusOK)
	})
	step(ActionStaffDisabled, func() {
		a.get("/staff")
		a.post("/staff/"+itoa(bobID)+"/disable", nil)
	})
	step(ActionLoginFailed, func() {
		b := w.agent()
		b.get("/login")
		b.post("/login", url.Values{"email": {admin.Email}, "password": {"wrong"}})
	})
	step(ActionLogout, func() {
		a.get("/")
		a.post("/logout", nil)
	})
	// The lock-out comes with the failed login that causes it.
	for i := 0; i < LockAfter-2; i++ {
		w.store.CheckLogin(ctx, admin.Email, "wrong")
	}
	before := count()
	w.store.CheckLogin(ctx, admin.Email, "wrong")
	after := count()
	if after[ActionLockout] != before[ActionLockout]+1 || after[ActionLoginFailed] != before[ActionLoginFailed]+1 {
		t.Errorf("locking wrong password: lockout %d→%d, failed %d→%d; want one more of each",
			before[ActionLockout], after[ActionLockout], before[ActionLoginFailed], after[ActionLoginFailed])
	}
	entries, _ := w.store.AuditLog(ctx, 1)
	if e := entries[0]; e.Action != ActionLockout || e.Subject != admin.Email || e.At == "" {
		t.Errorf("last entry: got %+v, want a lock-out of %s", e, admin.Email)
	}
	// Append-only.
	if _, err := w.store.db.Write.Exec(`UPDATE audit_log SET actor = 'x'`); err == nil {
		t.Error("the audit log took an update")
	}
	if _, err := w.store.db.Write.Exec(`DELETE FROM audit_log`); err == nil {
		t.Error("the audit log took a delete")
	}
}
