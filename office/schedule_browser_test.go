package office

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"infobus/schema"
)

// TestBrowserScheduleAccessibility has axe-core check the plan page (with
// and without errors) and the public schedule, in both languages, in
// headless Chromium on a real listener.
func TestBrowserScheduleAccessibility(t *testing.T) {
	path := chromium(t)
	axe := axeScript(t)
	base, store := serveOffice(t)
	ctx := context.Background()
	_, token, err := store.AddStaff(ctx, ActorCLI, "plan@example.org", RoleStaff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetPassword(ctx, token, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}
	e, err := store.AddBus(ctx, "bus-noord", "http://127.0.0.1:8090")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(schema.Zone).AddDate(0, 0, 2).Format(time.DateOnly)
	for _, st := range []schema.Stop{
		{BusID: e.BusID, Date: day, Start: "09:30", End: "16:00", Place: "Markt Leyweg", Wijk: "WK051828"},
		{BusID: e.BusID, Date: day, Start: "10:00", End: "12:00", Place: "Fahrenheitplein", Wijk: "WK051806"},
	} {
		if _, err := store.AddStop(ctx, "cli", st); err != nil {
			t.Fatal(err)
		}
	}

	tctx := startBrowser(t, path, 390, 844, 90*time.Second)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browserStep(t, tctx, 15*time.Second, what, actions...)
	}
	checkAxe := func(what string) {
		t.Helper()
		reportAxe(t, tctx, axe, what)
	}

	for _, lang := range []string{"nl", "en"} {
		run("open the schedule", chromedp.Navigate(base+"/bus?lang="+lang), chromedp.WaitVisible(chromedp.CSS(`time`)))
		checkAxe("/bus in " + lang)
		run("choose a wijk without JavaScript", chromedp.SetValue(chromedp.ID("wijk"), "WK051806"),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitReady(chromedp.CSS(`option[value="WK051806"][selected]`)))
		checkAxe("/bus for one wijk in " + lang)
		run("an unknown wijk", chromedp.Navigate(base+"/bus?wijk=WK0"), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		checkAxe("/bus with an error in " + lang)
	}
	run("log in", chromedp.Navigate(base+"/login?next=%2Fplan&lang=nl"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "plan@example.org"), chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`table.list`)))
	for _, lang := range []string{"nl", "en"} {
		run("open the plan", chromedp.Navigate(base+"/plan?lang="+lang), chromedp.WaitVisible(chromedp.CSS(`table.list`)))
		checkAxe("/plan in " + lang)
		run("add an empty stop", chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		checkAxe("/plan with errors in " + lang)
	}
}
