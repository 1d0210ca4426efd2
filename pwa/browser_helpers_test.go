package pwa_test

// Helpers for the browser tests: one headless Chromium for the whole test
// binary, a fresh browser context (its own storage, caches and service
// workers) per test, and a real bus on a loopback listener per test, with a
// real office beside it where a test needs one.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
	infosync "infobus/sync"
)

// waitTimeout bounds every wait on the page. Conditions normally hold within
// a second; the bound only turns a hang into a readable failure.
const waitTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	code := m.Run()
	stopBrowser()
	reportSkips()
	os.Exit(code)
}

// skipped collects why browser tests were skipped, so that a plain
// `go test ./...`, which hides a passing package's output, can still say it.
var skipped struct {
	mu      sync.Mutex
	reasons map[string]int
}

// reportSkips writes one line per reason to the terminal. go test keeps a
// passing package's stdout and stderr to itself unless -v is given, so the
// line goes to /dev/tty: a person at a terminal sees it, and CI, which has
// no terminal, fails instead of skipping anyway.
func reportSkips() {
	skipped.mu.Lock()
	defer skipped.mu.Unlock()
	if len(skipped.reasons) == 0 {
		return
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer tty.Close()
	for reason, n := range skipped.reasons {
		tests := "tests"
		if n == 1 {
			tests = "test"
		}
		fmt.Fprintf(tty, "infobus/pwa: %d browser %s skipped: %s\n", n, tests, reason)
	}
}

// inCI reports whether the tests run under CI, where a missing browser or
// axe-core is a failure rather than a reason to skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// missing skips a test for want of a tool, or fails it under CI=true.
func missing(tb testing.TB, what string) {
	tb.Helper()
	if inCI() {
		tb.Fatalf("%s; CI=true needs it (.ci/run installs it)", what)
	}
	skipped.mu.Lock()
	if skipped.reasons == nil {
		skipped.reasons = map[string]int{}
	}
	skipped.reasons[what]++
	skipped.mu.Unlock()
	tb.Skip(what + "; skipping (under CI=true this fails)")
}

// chromiumPath finds Debian's Chromium, or the browser INFOBUS_CHROMIUM names.
func chromiumPath() string {
	if p := os.Getenv("INFOBUS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var chrome struct {
	once   sync.Once
	ctx    context.Context // the browser; tabs are its children
	cancel context.CancelFunc
	dir    string
	err    error
}

// browser returns the shared browser's context, starting Chromium the first
// time: headless, without the background connections a closed network makes
// fail noisily, with a fresh profile.
func browser(tb testing.TB) context.Context {
	tb.Helper()
	path := chromiumPath()
	if path == "" {
		missing(tb, "Chromium not found: install it with `sudo apt-get install chromium` (Debian, Ubuntu), or set INFOBUS_CHROMIUM to a browser")
	}
	if _, err := os.Stat(path); err != nil {
		missing(tb, fmt.Sprintf("Chromium not found: %v", err))
	}
	chrome.once.Do(func() {
		dir, err := os.MkdirTemp("", "infobus-chromium-")
		if err != nil {
			chrome.err = err
			return
		}
		chrome.dir = dir
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1024, 1366), // a tablet on its side
			// A tablet in the van keeps Dutch time, whatever the test
			// machine's zone: the bus and the office date the day's plan in
			// Europe/Amsterdam, and the day screen shows the stops of the
			// tablet's date (between 23:00 and 0:00 UTC the two differ).
			chromedp.Env("TZ=Europe/Amsterdam"),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		chrome.ctx = bctx
		chrome.cancel = func() { bcancel(); acancel() }
		chrome.err = chromedp.Do(bctx) // starts the browser
	})
	if chrome.err != nil {
		tb.Fatalf("start Chromium (%s): %v", path, chrome.err)
	}
	return chrome.ctx
}

func stopBrowser() {
	if chrome.cancel != nil {
		chrome.cancel()
	}
	if chrome.dir != "" {
		os.RemoveAll(chrome.dir)
	}
}

// testBus is a bus server on a real loopback listener. It can be stopped
// and started again on the same address, as when the van drives out of
// range and back: the tablet's origin, and so its data, stays the same.
type testBus struct {
	tb    testing.TB
	store *bus.Store
	addr  string
	url   string

	server *bus.Server
	ln     net.Listener
	done   chan error
}

func quietLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type logWriter struct{ tb testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// startBus opens a store in a temp dir and serves it on a free loopback port.
func startBus(tb testing.TB) *testBus {
	tb.Helper()
	store, err := bus.OpenStore(context.Background(), tb.TempDir(), quietLogger(tb), nil)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &testBus{tb: tb, store: store, addr: ln.Addr().String()}
	b.url = "http://" + b.addr
	b.serve(ln)
	tb.Cleanup(b.stop)
	return b
}

func (b *testBus) serve(ln net.Listener) {
	cfg := bus.Config{Addr: b.addr, DataDir: "unused", Version: "test"}
	if err := cfg.Validate(); err != nil {
		b.tb.Fatal(err)
	}
	b.server = bus.NewServer(cfg, b.store, quietLogger(b.tb))
	// As the binary wires it, less the schedule: "sync now" answers as a
	// bus not enrolled with an office does.
	var sc bus.SyncConfig
	if err := sc.Validate(); err != nil {
		b.tb.Fatal(err)
	}
	b.server.SetSyncer(bus.NewSyncer(b.store, sc, quietLogger(b.tb)))
	b.ln = ln
	b.done = make(chan error, 1)
	go func() { b.done <- b.server.Serve(ln) }()
}

// stop takes the bus off the network; the store stays open.
func (b *testBus) stop() {
	if b.server == nil {
		return
	}
	client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.server.Shutdown(ctx); err != nil {
		b.tb.Errorf("shutdown bus: %v", err)
	}
	// A server stopped before its goroutine began to serve would start
	// after Shutdown and never return: closing the listener ends it.
	b.ln.Close()
	<-b.done
	b.server = nil
}

// restart serves the same store on the same address again.
func (b *testBus) restart() {
	b.tb.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.tb.Fatalf("listen again on %s: %v", b.addr, err)
	}
	b.serve(ln)
}

// pairingCode makes a one-time pairing code, as `infobus bus pair` does.
func (b *testBus) pairingCode() string {
	b.tb.Helper()
	pc, err := b.store.NewPairingCode(context.Background())
	if err != nil {
		b.tb.Fatal(err)
	}
	return pc.Code
}

// deviceToken pairs a device over the API and returns its token: the
// tests' own way to read the bus as a tablet does.
func (b *testBus) deviceToken() string {
	b.tb.Helper()
	status, body := b.do(http.MethodPost, "/api/pair", "", map[string]string{"pairing_code": b.pairingCode()})
	if status != http.StatusCreated {
		b.tb.Fatalf("pair: got %d %s, want 201", status, body)
	}
	var d bus.Device
	if err := json.Unmarshal(body, &d); err != nil {
		b.tb.Fatal(err)
	}
	return d.Token
}

var client = &http.Client{Timeout: 10 * time.Second}

// do sends a JSON request and returns the status and body.
func (b *testBus) do(method, path, token string, body any) (int, []byte) {
	b.tb.Helper()
	var r io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			b.tb.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.url+path, r)
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	return resp.StatusCode, out
}

// visits lists every visit the bus holds, through the store.
func (b *testBus) visits() []bus.VisitView {
	b.tb.Helper()
	views, more, err := b.store.FindVisits(context.Background(), bus.VisitFilter{Changes: true, Limit: 1000})
	if err != nil || more {
		b.tb.Fatalf("list visits: more=%v err=%v", more, err)
	}
	return views
}

// testOffice is an office server on a real loopback listener.
type testOffice struct {
	tb    testing.TB
	store *office.Store
	url   string
}

// startOffice opens an office store in a temp dir and serves it on a free
// loopback port, as `infobus office` does.
func startOffice(tb testing.TB) *testOffice {
	tb.Helper()
	store, err := office.OpenStore(context.Background(), tb.TempDir(), quietLogger(tb), nil)
	if err != nil {
		tb.Fatalf("open office store: %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg := office.Config{Addr: ln.Addr().String(), DataDir: "unused", Version: "test"}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	server := office.NewServer(cfg, store, quietLogger(tb))
	done := make(chan error, 1)
	go func() { done <- server.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := server.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown office: %v", err)
		}
		ln.Close() // as for the bus: a server not yet serving would not stop
		<-done
	})
	return &testOffice{tb: tb, store: store, url: office.PublicURL(cfg, ln.Addr())}
}

// addBus enrolls a new bus at the office, as `infobus office add-bus` does.
func (o *testOffice) addBus(name string) infosync.Enrollment {
	o.tb.Helper()
	e, err := o.store.AddBus(context.Background(), name, o.url)
	if err != nil {
		o.tb.Fatalf("add bus %s: %v", name, err)
	}
	return e
}

// enroll connects the bus with the office, as `infobus bus enroll` does,
// so that "sync now" syncs with it.
func (b *testBus) enroll(e infosync.Enrollment) {
	b.tb.Helper()
	if err := b.store.Enroll(context.Background(), e, false); err != nil {
		b.tb.Fatalf("enroll: %v", err)
	}
}

// sendFromBus stores visits on a bus of its own (a store without a server)
// enrolled by e, and syncs it with the office: what another van, or a
// second laptop with this van's enrollment, sends the office.
func sendFromBus(tb testing.TB, e infosync.Enrollment, visits ...map[string]any) {
	tb.Helper()
	ctx := context.Background()
	store, err := bus.OpenStore(ctx, tb.TempDir(), quietLogger(tb), nil)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	defer store.Close()
	if err := store.Enroll(ctx, e, false); err != nil {
		tb.Fatalf("enroll: %v", err)
	}
	for _, raw := range visits {
		j, err := json.Marshal(raw)
		if err != nil {
			tb.Fatal(err)
		}
		var v schema.Visit
		if err := json.Unmarshal(j, &v); err != nil {
			tb.Fatal(err)
		}
		v.Normalize()
		if err := v.Validate(); err != nil {
			tb.Fatalf("visit %s: %v", v.ID, err)
		}
		if _, _, err := store.PutVisit(ctx, &v); err != nil {
			tb.Fatalf("put visit %s: %v", v.ID, err)
		}
	}
	rep, err := bus.NewSyncClient(store, bus.SyncConfig{Timeout: 10 * time.Second}, quietLogger(tb)).Sync(ctx, nil)
	if err != nil || rep.Pushed != len(visits) || rep.SetAside != 0 {
		tb.Fatalf("sync: pushed %d, set aside %d, err %v; want %d pushed, none set aside", rep.Pushed, rep.SetAside, err, len(visits))
	}
}

// tab is one page in a browser context of its own: storage, caches and
// service workers start empty and go when the test ends.
type tab struct {
	tb  testing.TB
	ctx context.Context
	bus *testBus

	mu      sync.Mutex
	logs    []string // console output and exceptions, shown when the test fails
	errors  int      // uncaught exceptions and console.error calls: each fails the test
	dialogs []string // the types of the dialogs the page opened, in order
}

// dialogCount is how many dialogs (confirm, "leave site?") the page opened.
func (p *tab) dialogCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.dialogs)
}

func newTab(tb testing.TB, b *testBus) *tab {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser(tb), chromedp.WithNewBrowserContext())
	p := &tab{tb: tb, ctx: ctx, bus: b}
	tb.Cleanup(func() {
		p.mu.Lock()
		errors := p.errors
		p.mu.Unlock()
		if errors > 0 {
			tb.Errorf("the page reported %d errors (uncaught exceptions or console.error)", errors)
		}
		if tb.Failed() {
			p.dump()
		}
		cancel()
	})
	// Reduced motion: a click aimed at a button while the page still
	// scrolls smoothly (to a focused error summary, say) would miss it.
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		return err
	}))
	if err != nil {
		tb.Fatalf("open tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.listen); err != nil {
		tb.Fatal(err)
	}
	// The app asks before unloading with unsent visits, and before leaving
	// a changed form; the tests answer yes, as a crew member would.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.dialogs = append(p.dialogs, string(ev.Type))
			p.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return p
}

func (p *tab) listen(ev any) {
	var line string
	bad := false
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		bad = e.Type == runtime.ConsoleAPICalledTypeError
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		bad = true
		line = "exception: " + d.Text
		if d.Exception != nil {
			line += " " + d.Exception.Description
		}
	default:
		return
	}
	p.mu.Lock()
	p.logs = append(p.logs, line)
	if bad {
		p.errors++
	}
	p.mu.Unlock()
}

// dump logs what the page said and where it stood, for a failed test.
func (p *tab) dump() {
	p.mu.Lock()
	for _, l := range p.logs {
		p.tb.Log("page " + l)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.href, ready: document.documentElement.dataset.ready, screen: document.body.dataset.screen,
		rows: [...document.querySelectorAll('[data-visit-id]')].map(r => r.dataset.state + ' ' + r.textContent),
		errors: document.getElementById('form-errors')?.textContent, notice: document.getElementById('form-notice')?.textContent,
		pairError: document.getElementById('pair-error')?.textContent})`))
	if err == nil {
		p.tb.Log("page state: " + state)
	}
}

// do runs actions on the page and fails the test on an error.
func (p *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.tb.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JS expression (awaiting a promise) into T.
func eval[T any](p *tab, expr string) T {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JS expression until it is true (or a promise of true).
// An expression that throws, or a page between documents, counts as not yet.
func (p *tab) waitFor(what, expr string) {
	p.tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(async () => !!(await ("+expr+")))()", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if p.ctx.Err() != nil || time.Now().After(deadline) {
			p.tb.Fatalf("waiting for %s (%s): not true after %v (last error: %v)", what, expr, waitTimeout, last)
		}
		time.Sleep(25 * time.Millisecond) // between polls of a condition, not instead of one
	}
}

// open loads a URL of the bus and waits until the app has started.
func (p *tab) open(path string) {
	p.tb.Helper()
	p.do("navigate to "+path, chromedp.Navigate(p.bus.url+path))
	p.waitReady()
}

func (p *tab) waitReady() {
	p.tb.Helper()
	p.waitFor("the app to start", `document.documentElement.dataset.ready === 'true' && document.body.dataset.screen`)
}

// reload reloads the page and waits until the app has started again.
func (p *tab) reload() {
	p.tb.Helper()
	// Drop the old document's marks so that the wait sees the new one.
	eval[chromedp.Void](p, `delete document.documentElement.dataset.ready`)
	p.do("reload", chromedp.Reload())
	p.waitReady()
}

func (p *tab) screen(name string) {
	p.tb.Helper()
	p.waitFor("screen "+name, fmt.Sprintf(`document.body.dataset.screen === %q && document.documentElement.dataset.ready === 'true'`, name))
}

func (p *tab) click(id string) {
	p.tb.Helper()
	p.do("click #"+id, chromedp.Click(chromedp.ID(id)))
}

// clickRow clicks a visit's row in the list, as a person would: the list
// updates rows in place, so the row found is the row clicked.
func (p *tab) clickRow(id string) {
	p.tb.Helper()
	p.do("click the row of "+id, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-visit-id=%q] a`, id))))
}

// typeInto types text into an empty field, key by key as a person would.
func (p *tab) typeInto(id, text string) {
	p.tb.Helper()
	// Not SetValue(""): chromedp v0.23.0 drops an empty string argument
	// (json v2's omitempty), which sets the field to "undefined".
	eval[chromedp.Void](p, fmt.Sprintf(`document.getElementById(%q).value = ''`, id))
	p.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), text))
}

// choose picks an option of a select, with the change event a person's
// choice fires.
func (p *tab) choose(id, value string) {
	p.tb.Helper()
	ok := eval[bool](p, fmt.Sprintf(`(() => {
		const s = document.getElementById(%q);
		if (![...s.options].some(o => o.value === %q)) return false;
		s.value = %q;
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, id, value, value))
	if !ok {
		p.tb.Fatalf("#%s has no option %q", id, value)
	}
}

func (p *tab) value(id string) string {
	p.tb.Helper()
	return eval[string](p, fmt.Sprintf(`document.getElementById(%q).value`, id))
}

// pair opens the pairing link `infobus bus pair` prints and fills in the
// crew and stop the app asks for next.
func (p *tab) pair() {
	p.tb.Helper()
	p.open("/#pair=" + p.bus.pairingCode())
	p.screen("settings")
	p.typeInto("settings-crew", "Fatima en Bram")
	p.typeInto("settings-stop", "Markt Leyweg")
	p.click("settings-save")
	p.waitFor("crew saved", `document.getElementById('crew-info').textContent === 'Fatima en Bram · Markt Leyweg'`)
	p.click("nav-list")
	p.screen("list")
}

// visit is what a test types into the form.
type visit struct {
	name, kvk, street, number, postcode, city string
	wijk, sector                              string
	topics                                    []string
	notes                                     string
}

// fill types a visit into the open form.
func (p *tab) fill(v visit) {
	p.tb.Helper()
	p.screen("form")
	p.typeInto("business-name", v.name)
	if v.kvk != "" {
		p.typeInto("business-kvk", v.kvk)
	}
	for id, text := range map[string]string{
		"business-address-street": v.street, "business-address-number": v.number,
		"business-address-postcode": v.postcode, "business-address-city": v.city, "notes": v.notes,
	} {
		if text != "" {
			p.typeInto(id, text)
		}
	}
	p.choose("wijk", v.wijk)
	if v.sector != "" {
		p.choose("sector", v.sector)
	}
	for _, topic := range v.topics {
		p.click("topic-" + topic)
	}
}

// logVisit logs a visit through the form and returns its id once the app
// is back on the list.
func (p *tab) logVisit(v visit) string {
	p.tb.Helper()
	p.click("new-visit")
	p.fill(v)
	before := eval[[]string](p, `[...document.querySelectorAll('[data-visit-id]')].map(r => r.dataset.visitId)`)
	p.click("save")
	p.screen("list")
	p.waitFor("the new visit in the list", fmt.Sprintf(`document.querySelectorAll('[data-visit-id]').length === %d`, len(before)+1))
	ids := eval[[]string](p, `[...document.querySelectorAll('[data-visit-id]')].map(r => r.dataset.visitId)`)
	for _, id := range ids {
		if !contains(before, id) {
			return id
		}
	}
	p.tb.Fatalf("no new row after saving %q", v.name)
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rowState is the state the list shows for a visit ("" when not listed).
func rowState(id string) string {
	return fmt.Sprintf(`document.querySelector('[data-visit-id=%q]')?.dataset.state`, id)
}

// setOffline cuts the tablet off, or connects it again: the browser says
// it is offline (navigator.onLine, the offline and online events) and
// fails every request of the page and of its service worker.
func (p *tab) setOffline(offline bool) {
	p.tb.Helper()
	conds := []*network.Conditions{}
	if offline {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	p.do("emulate network", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &offline,
			MatchedNetworkConditions:    conds,
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	}))
}
