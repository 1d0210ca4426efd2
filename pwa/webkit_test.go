package pwa_test

// The offline path in WebKit, standing in for an iPad's Safari: Debian's
// WebKitGTK through its WebDriver (WebKitWebDriver, W3C WebDriver over
// HTTP), its MiniBrowser under Xvfb. A small client with net/http: the
// protocol needs nothing more, and no new dependency.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webkit is one WebDriver session of MiniBrowser.
type webkit struct {
	tb      testing.TB
	base    string // http://127.0.0.1:port/session/{id}
	http    *http.Client
	cleanup []func()
}

// miniBrowser finds WebKitGTK's MiniBrowser, which Debian ships beside
// the WebKit library that webkit2gtk-driver pulls in.
func miniBrowser() string {
	for _, pattern := range []string{"/usr/lib/*/webkit2gtk-4.*/MiniBrowser", "/usr/libexec/webkit2gtk-4.*/MiniBrowser"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return ""
}

// startWebKit starts Xvfb (unless a display is given), WebKitWebDriver and
// a MiniBrowser session; all stop when the test ends.
func startWebKit(tb testing.TB) *webkit {
	tb.Helper()
	driver, err := exec.LookPath("WebKitWebDriver")
	browserBin := miniBrowser()
	if err != nil || browserBin == "" {
		missing(tb, "WebKit's WebDriver not found: install it with `sudo apt-get install webkit2gtk-driver xvfb`")
	}
	w := &webkit{tb: tb, http: &http.Client{Timeout: 60 * time.Second}}
	tb.Cleanup(func() {
		for i := len(w.cleanup) - 1; i >= 0; i-- {
			w.cleanup[i]()
		}
	})
	display := os.Getenv("INFOBUS_WEBKIT_DISPLAY")
	if display == "" {
		xvfb, err := exec.LookPath("Xvfb")
		if err != nil {
			missing(tb, "Xvfb not found: install it with `sudo apt-get install xvfb`")
		}
		display = w.startXvfb(xvfb)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port))
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start WebKitWebDriver: %v", err)
	}
	w.cleanup = append(w.cleanup, func() {
		cmd.Process.Kill()
		cmd.Wait()
		if tb.Failed() {
			tb.Logf("WebKitWebDriver said:\n%s", logs.String())
		}
	})
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := w.http.Get(root + "/status"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("WebKitWebDriver did not answer")
		}
	}
	var session struct {
		SessionID    string         `json:"sessionId"`
		Capabilities map[string]any `json:"capabilities"`
	}
	w.call(http.MethodPost, root+"/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{"binary": browserBin, "args": []string{"--automation"}},
	}}}, &session)
	w.base = root + "/session/" + session.SessionID
	w.cleanup = append(w.cleanup, func() { w.call(http.MethodDelete, w.base, nil, nil) })
	tb.Logf("WebKit %v", session.Capabilities["browserVersion"])
	return w
}

// startXvfb starts a virtual display and returns its name.
func (w *webkit) startXvfb(bin string) string {
	r, wr, err := os.Pipe()
	if err != nil {
		w.tb.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{wr}
	if err := cmd.Start(); err != nil {
		w.tb.Fatalf("start Xvfb: %v", err)
	}
	wr.Close()
	w.cleanup = append(w.cleanup, func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		w.tb.Fatalf("Xvfb gave no display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// call sends one WebDriver command and decodes its value into out.
func (w *webkit) call(method, url string, body, out any) {
	w.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		w.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	if err != nil {
		w.tb.Fatalf("WebDriver %s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		w.tb.Fatal(err)
	}
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || resp.StatusCode != http.StatusOK {
		w.tb.Fatalf("WebDriver %s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(answer.Value, out); err != nil {
			w.tb.Fatalf("WebDriver %s %s: value %s: %v", method, url, answer.Value, err)
		}
	}
}

func (w *webkit) navigate(url string) {
	w.tb.Helper()
	w.call(http.MethodPost, w.base+"/url", map[string]string{"url": url}, nil)
}

// eval runs an expression (a promise is awaited) in the page into out.
func (w *webkit) eval(expr string, out any) {
	w.tb.Helper()
	script := `const done = arguments[arguments.length - 1];
		(async () => (` + expr + `))().then(v => done({ok: true, v}), e => done({ok: false, v: String(e)}));`
	var r struct {
		OK bool            `json:"ok"`
		V  json.RawMessage `json:"v"`
	}
	w.call(http.MethodPost, w.base+"/execute/async", map[string]any{"script": script, "args": []any{}}, &r)
	if !r.OK {
		w.tb.Fatalf("evaluate %s: %s", expr, r.V)
	}
	if out != nil {
		if err := json.Unmarshal(r.V, out); err != nil {
			w.tb.Fatalf("evaluate %s: %s: %v", expr, r.V, err)
		}
	}
}

// waitFor polls an expression until it is true. An expression that throws,
// or a page between documents, counts as not yet.
func (w *webkit) waitFor(what, expr string) {
	w.tb.Helper()
	script := `const done = arguments[arguments.length - 1];
		(async () => !!(` + expr + `))().then(done, () => done(false));`
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(25 * time.Millisecond) {
		var ok bool
		req, _ := json.Marshal(map[string]any{"script": script, "args": []any{}})
		if resp, err := w.http.Post(w.base+"/execute/async", "application/json", bytes.NewReader(req)); err == nil {
			var answer struct{ Value bool }
			json.NewDecoder(resp.Body).Decode(&answer)
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusOK && answer.Value
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.tb.Fatalf("WebKit: waiting for %s (%s): not true after %v", what, expr, waitTimeout)
		}
	}
}

// TestWebKitOffline runs the offline path in WebKit: pairing, the service
// worker, a visit saved with the bus out of reach, a reload with the bus
// still away (from the worker, no "leave site?"), and delivery once the bus
// is back (its delay is logged, not asserted). WebKit has no navigator.storage, as on an iPad:
// the app says so and asks for the Home Screen.
func TestWebKitOffline(t *testing.T) {
	b := startBus(t)
	w := startWebKit(t)
	ready := `document.documentElement.dataset.ready === 'true' && document.body.dataset.screen`

	w.navigate(b.url + "/#pair=" + b.pairingCode())
	w.waitFor("pairing, then settings", ready+` === 'settings'`)
	w.eval(`(() => { document.getElementById('settings-crew').value = 'Fatima'; document.getElementById('settings-save').click(); return true; })()`, nil)
	w.waitFor("the crew saved", `document.getElementById('crew-info').textContent === 'Fatima'`)
	w.navigate(b.url + "/")
	w.waitFor("the list", ready+` === 'list'`)
	// clients.claim() does not always give WebKit's page a controller;
	// the next load of the app always has one, as on an iPad the next
	// time the crew open it.
	w.waitFor("the service worker active", `navigator.serviceWorker.ready.then((r) => !!r.active)`)
	var controlled bool
	w.eval(`navigator.serviceWorker.controller !== null`, &controlled)
	if !controlled {
		t.Log("WebKit: the service worker took control at the next load, not at clients.claim()")
		w.navigate(b.url + "/")
		w.waitFor("the list again", ready+` === 'list'`)
	}
	w.waitFor("the service worker in control", `navigator.serviceWorker.controller !== null`)
	var noStorage bool
	w.eval(`!navigator.storage`, &noStorage)
	t.Logf("WebKit: navigator.storage missing: %v", noStorage)
	if noStorage {
		w.waitFor("the Home Screen advice", `!document.getElementById('storage-notice').hidden`)
	}

	b.stop()
	w.navigate(b.url + "/#/new")
	w.waitFor("the form", ready+` === 'form'`)
	var id string
	w.eval(`(() => {
		const set = (id, v) => { const el = document.getElementById(id); el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); };
		set('business-name', 'Kruidenier Safari');
		const wijk = document.getElementById('wijk'); wijk.value = 'WK051828'; wijk.dispatchEvent(new Event('change', {bubbles: true}));
		document.getElementById('topic-parkeren').click();
		document.getElementById('save').click();
		return true;
	})()`, nil)
	w.waitFor("the visit waiting on the tablet", ready+` === 'list' && document.querySelector('[data-visit-id]')?.dataset.state === 'tablet'`)
	w.eval(`document.querySelector('[data-visit-id]').dataset.visitId`, &id)
	w.waitFor("the offline banner", `document.getElementById('offline-banner').textContent !== '' && document.getElementById('sync-now').disabled`)

	// A reload with the bus away: the worker serves the app, nothing asks
	// (a "leave site?" prompt would fail the next command), the visit waits.
	w.navigate(b.url + "/")
	w.waitFor("the app from the worker", ready+` === 'list'`)
	w.waitFor("the visit still waiting", fmt.Sprintf(`document.querySelector('[data-visit-id=%q]')?.dataset.state === 'tablet'`, id))

	b.restart()
	start := time.Now()
	w.waitFor("the visit on the bus", fmt.Sprintf(`document.querySelector('[data-visit-id=%q]')?.dataset.state === 'bus'`, id))
	took := time.Since(start)
	t.Logf("WebKit: delivered %v after the bus came back", took)
	if views := b.visits(); len(views) != 1 || views[0].ID != id || views[0].Business.Name != "Kruidenier Safari" {
		t.Errorf("bus holds %d visits, want exactly the one saved offline", len(views))
	}
}
