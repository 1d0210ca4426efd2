package office

// A browser test: headless Chromium (chromedp) logs in through the real
// form on a real listener, and axe-core checks the login, home and staff
// pages in both languages. Locally a missing Chromium or axe-core skips
// it; under CI=true it fails, as in pwa/.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func missingTool(tb testing.TB, what string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s; CI=true needs it (.ci/run installs it)", what)
	}
	tb.Skip(what + "; skipping (under CI=true this fails)")
}

func chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("INFOBUS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missingTool(tb, "Chromium not found: install Debian's chromium package, or set INFOBUS_CHROMIUM")
	return ""
}

func axeScript(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("INFOBUS_AXE_JS")
	if path == "" {
		path = filepath.Join("..", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		missingTool(tb, fmt.Sprintf("axe-core not found (%v): set INFOBUS_AXE_JS", err))
	}
	return string(b)
}

// axeViolations runs axe-core's WCAG 2.1 A and AA rules on the tab's page
// and returns each violation as a line.
func axeViolations(ctx context.Context, axe string) ([]string, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		return nil, err
	}
	if !loaded { // the CSP keeps injected scripts out; DevTools evaluation is not bound by it
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](axe+"\n;true")); err != nil {
			return nil, err
		}
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}, resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	var vs []struct {
		ID, Help string
		Nodes    []struct {
			Target         []any
			FailureSummary string
		}
	}
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vs {
		for _, n := range v.Nodes {
			out = append(out, fmt.Sprintf("%s (%s) at %v: %s", v.ID, v.Help, n.Target, strings.ReplaceAll(n.FailureSummary, "\n", " ")))
		}
	}
	return out, nil
}

// reportAxe runs axe-core on the page as it stands and fails the test
// with every WCAG 2.1 A/AA violation it finds.
func reportAxe(t *testing.T, ctx context.Context, axe, what string) {
	t.Helper()
	vs, err := axeViolations(ctx, axe)
	if err != nil {
		t.Fatalf("axe on %s: %v", what, err)
	}
	for _, v := range vs {
		t.Errorf("axe on %s: %s", what, v)
	}
}

// startBrowser starts headless Chromium at path with a window of width ×
// height and returns the context the test's steps run in, bounded by limit.
func startBrowser(t *testing.T, path string, width, height int, limit time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(width, height))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	// Start the browser on the long-lived context: the first step's context
	// would own the tab, and the steps' timeouts must not close it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	tctx, tcancel := context.WithTimeout(bctx, limit)
	t.Cleanup(tcancel)
	return tctx
}

// browserStep runs one step of a browser test within limit, and fails the
// test with the page's address and text when it does not finish.
func browserStep(t *testing.T, ctx context.Context, limit time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, scancel := context.WithTimeout(ctx, limit)
	defer scancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("%s: %v\npage: %s", what, err, state)
	}
}

// serveOffice serves a fresh office on a loopback listener and returns its
// URL and store.
func serveOffice(tb testing.TB) (string, *Store) {
	tb.Helper()
	store, err := OpenStore(context.Background(), tb.TempDir(), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{Addr: ln.Addr().String(), Version: "test"}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	srv := NewServer(cfg, store, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ln.Close()
		<-done
	})
	return "http://" + ln.Addr().String(), store
}

func TestBrowserLoginAccessibility(t *testing.T) {
	path := chromium(t)
	axe := axeScript(t)
	base, store := serveOffice(t)
	ctx := context.Background()
	_, token, err := store.AddStaff(ctx, ActorCLI, "ada@example.org", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.AddStaff(ctx, ActorCLI, "bob@example.org", RoleStaff); err != nil {
		t.Fatal(err)
	}

	tctx := startBrowser(t, path, 390, 844, 90*time.Second) // a phone: the pages are mobile first
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browserStep(t, tctx, 15*time.Second, what, actions...)
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	checkAxe := func(what string) {
		t.Helper()
		reportAxe(t, tctx, axe, what)
	}

	// Set the password through the one-time link, as a new colleague does.
	run("open the link", chromedp.Navigate(SetPasswordURL(base, token)))
	checkAxe("the set-password page")
	run("set the password", chromedp.SendKeys(chromedp.ID("password"), goodPassword), chromedp.SendKeys(chromedp.ID("repeat"), goodPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("email")))

	// A page behind the login sends to the login and back.
	run("open the staff page", chromedp.Navigate(base+"/staff"), chromedp.WaitVisible(chromedp.ID("email")))
	if got := location(); got != "/login?next=%2Fstaff" {
		t.Fatalf("anonymous staff page: at %q, want the login page", got)
	}
	// A wrong password first: the error is announced and tied to its field.
	run("log in wrongly", chromedp.SendKeys(chromedp.ID("email"), "ada@example.org"), chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	checkAxe("the login page with an error")
	run("log in", chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`table.list`)))
	if got := location(); got != "/staff" {
		t.Fatalf("after logging in: at %q, want /staff", got)
	}

	for _, lang := range []string{"nl", "en"} {
		for _, page := range []string{"/", "/staff"} {
			run("open "+page, chromedp.Navigate(base+page+"?lang="+lang), chromedp.WaitVisible(chromedp.ID("main")))
			checkAxe(page + " in " + lang)
		}
		// Add a colleague: the page with the one-time link, then errors.
		run("add a colleague", chromedp.SendKeys(chromedp.ID("email"), lang+"@example.org"),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.link-box`)))
		checkAxe("the staff page with a new link in " + lang)
		run("add a colleague twice", chromedp.SendKeys(chromedp.ID("email"), lang+"@example.org"),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		checkAxe("the staff page with an error in " + lang)
	}
	// Log out through the header's form (with its token), then the login
	// page in English.
	// The staff page has an e-mail field too: wait for the login's password.
	run("log out", chromedp.Click(chromedp.CSS(`form.logout button`)), chromedp.WaitVisible(chromedp.ID("password")))
	if got := location(); got != "/login?out=1" {
		t.Errorf("after logging out: at %q, want /login?out=1", got)
	}
	checkAxe("the login page in en")
	run("Dutch again", chromedp.Click(chromedp.CSS(`.langs a[lang=nl]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang=nl]`)))
	checkAxe("the login page in nl")
}
