package office

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserInsightAccessibility runs axe-core on the insight page (a
// month, a week of one stadsdeel, a refused filter), the reports list and
// a report, in both languages, over the insight fixture.
func TestBrowserInsightAccessibility(t *testing.T) {
	path := chromium(t)
	axe := axeScript(t)
	fx := newFixtureStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Addr: ln.Addr().String(), Version: "test"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, fx.Store, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	base := "http://" + ln.Addr().String()
	ctx := context.Background()
	if _, err := srv.MakeReport(ctx, "2026-10"); err != nil {
		t.Fatal(err)
	}
	_, token, err := fx.AddStaff(ctx, ActorCLI, "ada@example.org", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.SetPassword(ctx, token, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}

	tctx := startBrowser(t, path, 1280, 900, 120*time.Second)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browserStep(t, tctx, 20*time.Second, what, actions...)
	}
	checkAxe := func(what string) {
		t.Helper()
		reportAxe(t, tctx, axe, what)
	}
	run("log in", chromedp.Navigate(base+"/login?next=%2Finsight"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.org"), chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("fig-map")))
	for _, lang := range []string{"nl", "en"} {
		for _, page := range []struct{ path, ready string }{
			{"/insight?period=month&at=2026-10-10", "#fig-map"},
			{"/insight?period=week&at=2026-10-25&area=sd%3AScheveningen", "#fig-map"},
			{"/insight?period=custom&from=2026-10-02&to=2026-10-01", "[role=alert]"},
			{"/reports", "#month"},
			{"/reports/2026-10", "#fig-trend"},
		} {
			run("open "+page.path, chromedp.Navigate(base+page.path+sep(page.path)+"lang="+lang), chromedp.WaitVisible(chromedp.CSS(page.ready)))
			checkAxe(page.path + " in " + lang)
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}
