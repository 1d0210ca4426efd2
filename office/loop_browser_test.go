package office

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"infobus/schema"
)

// TestBrowserLoopPages runs axe-core on the staff pages of this issue in
// both languages: the rules, reasons, texts and e-mail pages (with a
// refused form showing its error), and a follow-up's page with the
// question, route and message forms, a question on its timeline and the
// entrepreneur's satisfaction beside it.
func TestBrowserLoopPages(t *testing.T) {
	b := newBrowserRun(t, 4*time.Minute)
	base, store := serveOffice(t)
	ctx := context.Background()
	_, link, err := store.AddStaff(ctx, ActorCLI, "ada@example.org", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetPassword(ctx, link, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddRule(ctx, "ada@example.org", Rule{Position: 10, Topic: "subsidies", Department: "economie"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddText(ctx, "ada@example.org", StandardText{Status: schema.StatusInProgress, NL: "We werken eraan, {bedrijf}.", EN: "We are on it, {business}."}); err != nil {
		t.Fatal(err)
	}
	e := mustAddBus(t, store, "Bus Centrum")
	asked := schema.FollowUp{ID: newID(t), Kind: schema.KindInformation, Description: "Folder sturen", Department: "vergunningen"}
	closed := schema.FollowUp{ID: newID(t), Kind: schema.KindInformation, Description: "Folder sturen", Department: "vergunningen"}
	pushVisit(t, store, e, 1, "Kapsalon Noor", asked)
	pushVisit(t, store, e, 2, "Toko Sahin", closed)
	if err := store.AskQuestion(ctx, "ada@example.org", asked.ID, "Op welk adres is het terras?"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
		if _, err := store.MoveFollowUp(ctx, "ada@example.org", closed.ID, st, "Folder gestuurd."); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.PutSatisfaction(ctx, closed.ID, Satisfaction{ReasonID: 3}); err != nil {
		t.Fatal(err)
	}

	b.run("open the office", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("email")))
	b.run("log in", chromedp.SendKeys(chromedp.ID("email"), "ada@example.org"), chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
	for _, lang := range []string{"nl", "en"} {
		for _, page := range []struct{ path, wait, want string }{
			{"/rules", "table.list", ""},
			{"/reasons", "form", ""},
			{"/texts", "table.list", ""},
			{"/mail", "main", ""},
			{"/?unrouted=1", "main", ""},
			{"/?status=waiting", "table.queue", "Kapsalon Noor"},
			{"/?status=reopen_requested", "table.queue", "Toko Sahin"},
			{"/followups/" + asked.ID, "ol.events", "Op welk adres is het terras?"},
			{"/followups/" + closed.ID + "?text=1", "form[action$=route]", tr(lang, "satview.title")},
		} {
			sep := "?"
			if strings.Contains(page.path, "?") {
				sep = "&"
			}
			b.run("open "+page.path, chromedp.Navigate(base+page.path+sep+"lang="+lang), chromedp.WaitVisible(chromedp.CSS(page.wait)))
			if txt := b.text(); !strings.Contains(txt, page.want) {
				t.Errorf("%s in %s lacks %q", page.path, lang, page.want)
			}
			b.checkAxe(page.path + " in " + lang)
		}
		b.run("add a rule without a department", chromedp.Navigate(base+"/rules?lang="+lang), chromedp.WaitVisible(chromedp.ID("position")),
			chromedp.SendKeys(chromedp.ID("position"), "tien"),
			chromedp.Click(chromedp.CSS(`form[action="/rules"] button`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		b.checkAxe("a refused rule in " + lang)
		b.run("add a text without words", chromedp.Navigate(base+"/texts?lang="+lang), chromedp.WaitVisible(chromedp.ID("nl")),
			chromedp.Click(chromedp.CSS(`form[action="/texts"] button`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		b.checkAxe("a refused text in " + lang)
	}
}
