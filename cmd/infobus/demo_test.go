package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"infobus/bus"
)

// lockedWriter collects what the demo prints while the test reads it.
type lockedWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// TestDemoShowsTheDay runs `infobus demo` and pairs a tablet by the link it
// prints: the tablet's list has the sample visits, one of them handled at
// the office, all without contact details (other tablets made them).
func TestDemoShowsTheDay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	busAddr, officeAddr := freeAddr(t), freeAddr(t)
	out := &lockedWriter{}
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, []string{"--bus-addr", busAddr, "--office-addr", officeAddr, "--data", t.TempDir()}, out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	link := regexp.MustCompile(`#pair=([0-9A-Z-]+)`)
	var code string
	for deadline := time.Now().Add(30 * time.Second); code == ""; time.Sleep(20 * time.Millisecond) {
		if m := link.FindStringSubmatch(out.String()); m != nil {
			code = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the demo printed no pairing link:\n%s", out.String())
		}
	}
	base := "http://" + busAddr
	status, body := crewDo(t, base, http.MethodPost, "/api/pair", "", map[string]string{"pairing_code": code})
	var d bus.Device
	if status != http.StatusCreated || json.Unmarshal(body, &d) != nil {
		t.Fatalf("pair with the demo's code: got %d %s", status, body)
	}
	var list struct{ Visits []bus.VisitView }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, body := crewDo(t, base, http.MethodGet, "/api/visits?since=0", d.Token, nil)
		if status != http.StatusOK || json.Unmarshal(body, &list) != nil {
			t.Fatalf("list: got %d %s", status, body)
		}
		handled := 0
		for _, v := range list.Visits {
			if v.State == bus.StateHandled {
				handled++
			}
		}
		if len(list.Visits) == demoVisits && handled == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo tablet lists %d visits, %d handled; want %d, one handled", len(list.Visits), handled, demoVisits)
		}
	}
	for _, v := range list.Visits {
		if v.Contact != nil {
			t.Errorf("visit %s comes with contact details to the demo tablet, want them withheld", v.ID)
		}
	}
	// The demo plan reached the bus with the syncs above.
	status, body = crewDo(t, base, http.MethodGet, "/api/stops", d.Token, nil)
	if status != http.StatusOK || !strings.Contains(string(body), "Grote Markt") {
		t.Errorf("the demo bus's stops: %d %s, want today's at Grote Markt", status, body)
	}
}

var demoLogin = regexp.MustCompile(`Office, staff pages: +(\S+)/\n +log in as (\S+) with the password (\S+)`)

// TestDemoStaffLogin runs the demo and logs in with what it prints: the
// office's root is the follow-up queue. A second start prints a new
// password that works as well.
func TestDemoStaffLogin(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		out := &lockedWriter{}
		done := make(chan error, 1)
		go func() {
			done <- runDemo(ctx, []string{"--bus-addr", "127.0.0.1:0", "--office-addr", "127.0.0.1:0", "--data", dir}, out, io.Discard)
		}()
		var m []string
		for deadline := time.Now().Add(60 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			m = demoLogin.FindStringSubmatch(out.String())
		}
		if m == nil {
			cancel()
			t.Fatalf("run %d: the demo printed no staff login:\n%s", run, out.String())
		}
		b := newOfficeBrowser(t, m[1])
		b.do("GET", "/login", nil)
		status, loc, _ := b.do("POST", "/login", url.Values{"email": {m[2]}, "password": {m[3]}, "next": {"/"}})
		if status != 303 || loc != "/" {
			t.Errorf("run %d: log in with the printed password: got %d to %q", run, status, loc)
		}
		if status, _, page := b.do("GET", "/", nil); status != 200 || !strings.Contains(page, "<h1>Vervolgafspraken</h1>") {
			t.Errorf("run %d: the office's root: got %d, want the follow-up queue", run, status)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run %d: demo: %v", run, err)
		}
	}
}
