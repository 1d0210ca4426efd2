package office

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"infobus/schema"
)

// browserRun is a Chromium tab for a test: steps with a timeout each, the
// page's location, and axe-core's WCAG 2.1 A/AA rules on the page.
type browserRun struct {
	t   *testing.T
	ctx context.Context
	axe string
}

func newBrowserRun(t *testing.T, timeout time.Duration) *browserRun {
	path := chromium(t)
	axe := axeScript(t)
	return &browserRun{t: t, ctx: startBrowser(t, path, 1280, 900, timeout), axe: axe} // a desk at the office
}

func (b *browserRun) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	browserStep(b.t, b.ctx, 20*time.Second, what, actions...)
}

func (b *browserRun) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func (b *browserRun) location() string { return b.eval(`location.pathname + location.search`) }
func (b *browserRun) text() string     { return b.eval(`document.querySelector('main').innerText`) }

func (b *browserRun) checkAxe(what string) {
	b.t.Helper()
	reportAxe(b.t, b.ctx, b.axe, what)
}

// TestBrowserWorkspace works the queue in Chromium as staff do — log in,
// filter, assign, start, a refused finish, finish with a note, gone from
// the open list — and runs axe-core on every workspace page in both
// languages, with errors and one-time content showing.
func TestBrowserWorkspace(t *testing.T) {
	b := newBrowserRun(t, 4*time.Minute)
	base, store := serveOffice(t)
	ctx := context.Background()
	for _, st := range []struct{ email, role string }{{"ada@example.org", RoleAdmin}, {"bob@example.org", RoleStaff}} {
		_, link, err := store.AddStaff(ctx, ActorCLI, st.email, st.role)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.SetPassword(ctx, link, goodPassword, goodPassword); err != nil {
			t.Fatal(err)
		}
	}
	e := mustAddBus(t, store, "Bus Centrum")
	callback := schema.FollowUp{ID: newID(t), Kind: schema.KindCallback, Description: "Terugbellen over de vergunning",
		Department: "vergunningen", DueDate: "2026-01-05"}
	visit := pushVisit(t, store, e, 1, "Kapsalon Noor", callback)
	pushVisit(t, store, e, 2, "Toko Sahin", schema.FollowUp{ID: newID(t), Kind: schema.KindEmail, Description: "Informatie mailen"})
	pushVisit(t, store, e, 3, "Bakkerij De Molen", schema.FollowUp{ID: newID(t), Kind: schema.KindInformation, Description: "Folder sturen"})
	var bad map[string]any
	json.Unmarshal(visitRecord(t, newID(t), 1, "kapot"), &bad)
	bad["business"].(map[string]any)["kvk"] = "123"
	raw, _ := json.Marshal(bad)
	if resp := mustPush(t, store, e, 4, raw); len(resp.SetAside) != 1 {
		t.Fatalf("the bad record was not set aside: %+v", resp)
	}

	b.run("open the office", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("email")))
	b.run("log in", chromedp.SendKeys(chromedp.ID("email"), "ada@example.org"), chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
	if got := b.location(); got != "/" {
		t.Fatalf("after logging in: at %q, want the queue", got)
	}
	if txt := b.text(); !strings.Contains(txt, "Kapsalon Noor") || !strings.Contains(txt, "Toko Sahin") || !strings.Contains(txt, "Te laat") {
		t.Fatalf("the queue lacks its follow-ups or the overdue mark:\n%s", txt)
	}
	b.checkAxe("the queue")

	b.run("filter by kind", chromedp.SetValue(chromedp.ID("kind"), schema.KindCallback),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`a.reset`)))
	if txt := b.text(); !strings.Contains(txt, "Kapsalon Noor") || strings.Contains(txt, "Toko Sahin") {
		t.Fatalf("filtered queue: got\n%s\nwant only the callback", txt)
	}
	b.checkAxe("the filtered queue")

	b.run("open the follow-up", chromedp.Click(chromedp.CSS(`table.queue a[href^="/followups/"]`)), chromedp.WaitVisible(chromedp.ID("assignee")))
	b.checkAxe("the follow-up page")
	b.run("assign to bob", chromedp.SetValue(chromedp.ID("assignee"), itoa(mustStaff(t, store, "bob@example.org").ID)),
		chromedp.Click(chromedp.CSS(`form[action$="/assign"] button`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if txt := b.text(); !strings.Contains(txt, "bob@example.org") {
		t.Fatalf("after assigning: got\n%s\nwant bob named", txt)
	}
	b.run("start", chromedp.Click(chromedp.CSS(`form[action$="/status"] button`)), chromedp.WaitVisible(chromedp.CSS(`input[value=done]`)))
	b.run("finish without a note", chromedp.Click(chromedp.CSS(`input[value=done]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/status"] button`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	if txt := b.text(); !strings.Contains(txt, tr("nl", "move.note")) {
		t.Fatalf("the refusal does not say why:\n%s", txt)
	}
	b.checkAxe("the follow-up page with a refused move")
	b.run("finish with a note", chromedp.Click(chromedp.CSS(`input[value=done]`)), chromedp.SendKeys(chromedp.ID("note"), "Gebeld: de vergunning is aangevraagd."),
		chromedp.Click(chromedp.CSS(`form[action$="/status"] button`)), chromedp.WaitVisible(chromedp.CSS(`.notice[role=status]`)))
	if txt := b.text(); !strings.Contains(txt, "Afgerond") || !strings.Contains(txt, "Gebeld: de vergunning is aangevraagd.") {
		t.Fatalf("after finishing: got\n%s", txt)
	}
	b.checkAxe("a finished follow-up with its timeline")
	b.run("back to the queue", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
	if txt := b.text(); strings.Contains(txt, "Kapsalon Noor") {
		t.Fatalf("the done follow-up is still in the open list:\n%s", txt)
	}

	for _, lang := range []string{"nl", "en"} {
		for _, page := range []struct{ path, wait string }{
			{"/", "table.queue"},
			{"/?kind=nonsense", "[role=alert]"},
			{"/?status=done", "table.queue"},
			{"/?mine=1", "main"},
			{"/followups/" + callback.ID, "ol.events"},
			{"/visits", "table.list"},
			{"/visits?q=kapsalon&from=2026-01-01", "table.list"},
			{"/visits?from=gisteren", "[role=alert]"},
			{"/visits/" + visit, "form[action$=contact]"},
			{"/set-aside", "section.setaside"},
			{"/fleet", "table.list"},
			{"/audit", "table.list"},
			{"/audit?action=followup_moved", "table.list"},
		} {
			sep := "?"
			if strings.Contains(page.path, "?") {
				sep = "&"
			}
			b.run("open "+page.path, chromedp.Navigate(base+page.path+sep+"lang="+lang), chromedp.WaitVisible(chromedp.CSS(page.wait)))
			b.checkAxe(page.path + " in " + lang)
		}
		b.run("show the contact details", chromedp.Navigate(base+"/visits/"+visit),
			chromedp.Click(chromedp.CSS(`form[action$=contact] button`)), chromedp.WaitVisible(chromedp.CSS(`[aria-labelledby=contact-title]`)))
		if txt := b.text(); !strings.Contains(txt, "0612345678") {
			t.Fatalf("contact details not shown:\n%s", txt)
		}
		b.checkAxe("the visit page with contact details in " + lang)
		b.run("open the set aside record", chromedp.Navigate(base+"/set-aside"), chromedp.Click(chromedp.CSS(`details summary`)), chromedp.WaitVisible(chromedp.CSS(`pre.body`)))
		b.checkAxe("the set-aside page, opened, in " + lang)
		b.run("enroll a bus", chromedp.Navigate(base+"/fleet"), chromedp.SendKeys(chromedp.ID("name"), "Bus "+lang),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.link-box img`)))
		b.checkAxe("the fleet page with an enrollment in " + lang)
		b.run("enroll a bus twice", chromedp.SendKeys(chromedp.ID("name"), "Bus "+lang),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		b.checkAxe("the fleet page with an error in " + lang)
	}
}

func mustStaff(tb testing.TB, s *Store, email string) Staff {
	tb.Helper()
	st, err := s.StaffByEmail(context.Background(), email)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
