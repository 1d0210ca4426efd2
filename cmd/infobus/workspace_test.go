package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
)

var officeFormToken = regexp.MustCompile(`name="_form" value="([^"]+)"`)

// officeBrowser is a staff member's browser on the office's pages: it
// keeps cookies and the last page's form token, and follows no redirects.
type officeBrowser struct {
	tb     testing.TB
	base   string
	client *http.Client
	form   string
}

func newOfficeBrowser(tb testing.TB, base string) *officeBrowser {
	jar, _ := cookiejar.New(nil)
	return &officeBrowser{tb: tb, base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *officeBrowser) do(method, path string, form url.Values) (int, string, string) {
	b.tb.Helper()
	var body io.Reader
	if form != nil {
		form.Set(office.FormTokenField, b.form)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if m := officeFormToken.FindSubmatch(out); m != nil {
		b.form = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(out)
}

// TestWorkspaceMoveReachesTheBus works a follow-up through the office's
// pages and sees each move reach the crew API after the next sync, with
// the bus's software version on the fleet page.
func TestWorkspaceMoveReachesTheBus(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	m := startBusMain(t, t.TempDir())
	enrollBus(t, o.Store, m.Store, "Bus Centrum", o.URL)
	token := pairTablet(t, m)
	v := sampleVisit(rand.New(rand.NewPCG(4, 4)), time.Now())
	v.FollowUps = []schema.FollowUp{{ID: newV7(), Kind: schema.KindInformation, Description: "Informatie sturen over terrassen"}}
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, token, v); status != http.StatusCreated {
		t.Fatalf("PUT: got %d %s", status, body)
	}
	syncNowOverHTTP(t, m, token)

	_, link, err := o.Store.AddStaff(ctx, office.ActorCLI, "admin@denhaag.nl", office.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "een lange zin als wachtwoord"
	if _, err := o.Store.SetPassword(ctx, link, pw, pw); err != nil {
		t.Fatal(err)
	}
	b := newOfficeBrowser(t, o.URL)
	b.do("GET", "/login", nil)
	if status, loc, _ := b.do("POST", "/login", url.Values{"email": {"admin@denhaag.nl"}, "password": {pw}, "next": {"/"}}); status != http.StatusSeeOther || loc != "/" {
		t.Fatalf("log in: got %d to %q", status, loc)
	}
	if _, _, page := b.do("GET", "/", nil); !strings.Contains(page, "/followups/"+v.FollowUps[0].ID) {
		t.Fatalf("the queue lacks the follow-up")
	}
	fu := "/followups/" + v.FollowUps[0].ID
	for _, step := range []struct{ status, note string }{
		{schema.StatusInProgress, ""},
		{schema.StatusDone, "Gebeld: de vergunning is aangevraagd."},
	} {
		b.do("GET", fu, nil)
		if status, loc, body := b.do("POST", fu+"/status", url.Values{"status": {step.status}, "note": {step.note}}); status != http.StatusSeeOther {
			t.Fatalf("move to %s: got %d to %q\n%s", step.status, status, loc, body)
		}
		if r := syncNowOverHTTP(t, m, token); r.Report.Pulled != 1 {
			t.Errorf("sync after the move to %s: got %+v, want 1 pulled", step.status, r.Report)
		}
		got := getVisitView(t, m, token, v.ID).FollowUps[0]
		if got.Status != step.status || got.Resolution != step.note {
			t.Errorf("crew API after the move: got %q %q, want %q %q", got.Status, got.Resolution, step.status, step.note)
		}
	}
	if got := getVisitView(t, m, token, v.ID).State; got != bus.StateHandled {
		t.Errorf("got state %s, want %s", got, bus.StateHandled)
	}
	events, err := o.Store.WorkEvents(ctx, v.FollowUps[0].ID)
	if err != nil || len(events) != 2 || events[1].Status != schema.StatusDone {
		t.Errorf("got events %+v (%v), want two moves ending in done", events, err)
	}
	_, _, fleet := b.do("GET", "/fleet", nil)
	if !strings.Contains(fleet, "<td>test</td>") {
		t.Errorf("the fleet page lacks the bus's software version")
	}
}
