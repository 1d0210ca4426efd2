package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var demoLogin = regexp.MustCompile(`Office, staff pages: +(\S+)/\n +log in as (\S+) with the password (\S+)`)

// TestDemoStaffLogin runs the demo and logs in with what it prints: the
// office's root is the follow-up queue. A second start prints a new
// password that works as well.
func TestDemoStaffLogin(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		out := &lockedBuffer{}
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
