package office

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"infobus/schema"
)

// listen serves the test office on a real loopback listener.
func (w *testWeb) listen() string {
	w.tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.server.Serve(ln) }()
	w.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.server.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// wire is a client of a real listener that keeps cookies by hand and
// never follows redirects, so that each answer is seen as sent.
type wire struct {
	tb      testing.TB
	base    string
	cookies map[string]string
	bearer  string
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (c *wire) do(method, path string, form url.Values) answer {
	c.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// formToken reads the form token of a page.
func (c *wire) formToken(path string) string {
	c.tb.Helper()
	m := formTokenRE.FindStringSubmatch(c.do(http.MethodGet, path, nil).body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (c *wire) login(email string) {
	c.tb.Helper()
	token := c.formToken("/login")
	r := c.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {goodPassword}, FormTokenField: {token}})
	if r.status != http.StatusSeeOther || strings.HasPrefix(r.location(), "/login") {
		c.tb.Fatalf("log in %s: got %d to %q", email, r.status, r.location())
	}
}

// TestAuthorizationMatrix sends every office page route as every kind of
// caller over a real listener and checks that only the allowed pass.
func TestAuthorizationMatrix(t *testing.T) {
	type route struct {
		method, path string
		form         url.Values
		admin        bool // admins only; else all staff
	}
	routes := func(fu, visit, bus, colleague string) []route {
		return []route{
			{"GET", "/", nil, false},
			{"GET", "/?status=open&sort=age", nil, false},
			{"GET", "/followups/" + fu, nil, false},
			{"GET", "/visits", nil, false},
			{"GET", "/visits?q=bakk", nil, false},
			{"GET", "/visits/" + visit, nil, false},
			{"GET", "/set-aside", nil, false},
			{"GET", "/fleet", nil, true},
			{"GET", "/audit", nil, true},
			{"GET", "/staff", nil, true},
			{"POST", "/followups/" + fu + "/assign", url.Values{}, false},
			{"POST", "/followups/" + fu + "/status", url.Values{"status": {"in_progress"}}, false},
			{"POST", "/visits/" + visit + "/contact", url.Values{}, false},
			{"POST", "/fleet", url.Values{"name": {"Bus Nieuw"}}, true},
			{"POST", "/fleet/" + bus + "/reissue", url.Values{}, true},
			{"POST", "/fleet/" + bus + "/revoke", url.Values{}, true},
			{"POST", "/staff", url.Values{"email": {"nieuw@denhaag.nl"}, "role": {"staff"}}, true},
			{"POST", "/staff/" + colleague + "/reset", url.Values{}, true},
			{"POST", "/staff/" + colleague + "/disable", url.Values{}, true},
			{"POST", "/logout", url.Values{}, false}, // last: it ends the session
		}
	}
	callers := []string{"anonymous", "staff", "admin", "bus token", "disabled account", "expired session"}
	for _, caller := range callers {
		t.Run(caller, func(t *testing.T) {
			w := newTestWeb(t)
			w.addStaff("admin@denhaag.nl", RoleAdmin, goodPassword)
			w.addStaff("staff@denhaag.nl", RoleStaff, goodPassword)
			colleague := w.addStaff("collega@denhaag.nl", RoleStaff, goodPassword)
			f := followUp(t, schema.KindCallback, "2026-12-01")
			visit, bus := w.seedVisit("Bakkerij De Molen", f)
			c := &wire{tb: t, base: w.listen(), cookies: map[string]string{}}
			var token string
			switch caller {
			case "anonymous":
				// The public form token passes the form check, so that the
				// role check itself is what refuses.
				token = c.formToken("/login")
			case "staff", "disabled account":
				c.login("staff@denhaag.nl")
				token = c.formToken("/")
			case "admin":
				c.login("admin@denhaag.nl")
				token = c.formToken("/")
			case "bus token":
				c.bearer = bus.BusToken
			}
			switch caller {
			case "disabled account":
				st, err := w.store.StaffByEmail(context.Background(), "staff@denhaag.nl")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.store.DisableStaff(context.Background(), "admin@denhaag.nl", st.ID); err != nil {
					t.Fatal(err)
				}
			}
			// kept is the session cookie a refused caller keeps sending.
			kept := c.cookies[cookieSession]
			loggedIn := caller == "staff" || caller == "admin"
			all := routes(f.ID, visit, bus.BusID, itoa(colleague.ID))
			if loggedIn {
				// A form without its token is refused, whoever sends it.
				for _, rt := range all {
					if rt.method != "POST" {
						continue
					}
					if r := c.do("POST", rt.path, rt.form); r.status != http.StatusForbidden {
						t.Errorf("POST %s without a form token: got %d, want 403", rt.path, r.status)
					}
					form := url.Values{FormTokenField: {"wrong" + token}}
					for k, v := range rt.form {
						form[k] = v
					}
					if r := c.do("POST", rt.path, form); r.status != http.StatusForbidden {
						t.Errorf("POST %s with a wrong form token: got %d, want 403", rt.path, r.status)
					}
				}
			}
			for _, rt := range all {
				switch caller {
				case "expired session":
					// A session of its own for every route, each past
					// its idle limit when the request arrives.
					c.cookies = map[string]string{}
					c.login("staff@denhaag.nl")
					token = c.formToken("/")
					w.clock.add(DefaultSessionIdle + time.Minute)
				case "disabled account":
					c.cookies[cookieSession] = kept
				}
				var form url.Values
				if rt.form != nil {
					form = url.Values{FormTokenField: {token}}
					for k, v := range rt.form {
						form[k] = v
					}
				}
				r := c.do(rt.method, rt.path, form)
				loc := r.location()
				passed := r.status == http.StatusOK || r.status == http.StatusCreated ||
					(r.status == http.StatusSeeOther && !strings.HasPrefix(loc, "/login")) ||
					(rt.path == "/logout" && loc == "/login?out=1")
				want := caller == "admin" || (caller == "staff" && !rt.admin)
				if passed != want {
					t.Errorf("%s %s as %s: got %d (to %q), want pass=%v", rt.method, rt.path, caller, r.status, loc, want)
					continue
				}
				if want {
					continue
				}
				// A refusal is the login page for strangers (and says so
				// after a session ended), a 403 page for staff on admin
				// pages.
				switch {
				case caller == "staff":
					if r.status != http.StatusForbidden {
						t.Errorf("%s %s as staff: got %d, want 403", rt.method, rt.path, r.status)
					}
				case rt.method == "GET" && (r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?")):
					t.Errorf("%s %s as %s: got %d to %q, want the login page", rt.method, rt.path, caller, r.status, loc)
				case caller == "expired session" && rt.method == "GET" && !strings.Contains(loc, "expired=1"):
					t.Errorf("%s %s after the session expired: got %q, want the login page to say so", rt.method, rt.path, loc)
				case rt.method == "POST" && r.status != http.StatusForbidden && !(r.status == http.StatusSeeOther && strings.HasPrefix(loc, "/login?")):
					t.Errorf("%s %s as %s: got %d to %q, want 403 or the login page", rt.method, rt.path, caller, r.status, loc)
				}
			}
		})
	}
}
