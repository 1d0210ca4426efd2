package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
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
}
