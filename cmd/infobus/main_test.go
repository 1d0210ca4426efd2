package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// binary is the infobus command built once for the tests that run it as a
// subprocess, the way people and crashes meet it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "infobus-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "infobus")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build infobus:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running infobus subprocess.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	exited chan struct{} // closed when the process has exited
	err    error         // how it exited, once exited is closed
}

var listeningURL = regexp.MustCompile(`msg="bus listening" url=(\S+)`)

// startBus runs `infobus bus` on a free loopback port with dataDir and
// returns once it listens.
func startBus(t testing.TB, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"bus", "--addr", "127.0.0.1:0", "--data", dataDir}, extra...)
	cmd := exec.Command(binary, args...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.exited)
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.WriteString(line + "\n")
			if m := listeningURL.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("bus exited before listening: %s", p.stderr)
		}
		p.url = u
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("bus did not start: %s", p.stderr)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// pairDevice runs `infobus bus pair --json` and trades the code for a token.
func pairDevice(t testing.TB, p *proc, dataDir string) string {
	t.Helper()
	out, err := exec.Command(binary, "bus", "pair", "--json", "--data", dataDir).Output()
	if err != nil {
		t.Fatalf("bus pair: %v", err)
	}
	var pc struct {
		URL         string `json:"url"`
		PairingCode string `json:"pairing_code"`
		ExpiresAt   string `json:"expires_at"`
	}
	if err := json.Unmarshal(out, &pc); err != nil {
		t.Fatalf("bus pair --json printed %s: %v", out, err)
	}
	if want := p.url + "/#pair=" + pc.PairingCode; pc.URL != want {
		t.Errorf("pairing URL: got %q, want %q", pc.URL, want)
	}
	status, body := call(t, p.url, http.MethodPost, "/api/pair", "", fmt.Sprintf(`{"pairing_code":%q}`, pc.PairingCode))
	if status != http.StatusCreated {
		t.Fatalf("pair: got %d %s", status, body)
	}
	var d struct {
		Token string `json:"device_token"`
	}
	json.Unmarshal(body, &d)
	return d.Token
}

var client = &http.Client{Timeout: 10 * time.Second}

func call(t testing.TB, base, method, path, token, body string) (int, []byte) {
	t.Helper()
	status, out, err := tryCall(context.Background(), base, method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, out
}

func tryCall(ctx context.Context, base, method, path, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// visitJSON is a valid visit at the given rev.
func visitJSON(id string, rev int, note string) string {
	return fmt.Sprintf(`{"id":%q,"rev":%d,"visited_at":"2026-11-26T14:05:00+01:00",
"business":{"name":"Kapsalon Noor","kvk":"27312345","address":{"street":"Weimarstraat","number":"12","postcode":"2562 GS","city":"Den Haag"}},
"wijk":"WK051828","sector":"persoonlijke_dienstverlening","topics":["vergunningen"],"notes":%q,"language":"nl",
"consent":{"given":false},"followups":[]}`, id, rev, note)
}

func newID(t testing.TB) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func TestCommandLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		wantErr  string
	}{
		{"version", []string{"version"}, nil, 0, ""},
		{"no command", nil, nil, 2, "no command given"},
		{"unknown command", []string{"bsu"}, nil, 2, `unknown command "bsu"`},
		{"unknown flag", []string{"bus", "--adr", "x"}, nil, 2, "flag provided but not defined: -adr"},
		{"bad address", []string{"bus", "--addr", "no-port"}, nil, 2, `--addr "no-port": must be host:port`},
		{"bad address from the environment", []string{"bus"}, []string{"INFOBUS_ADDR=no-port"}, 2, `--addr "no-port"`},
		{"data dir is a file", []string{"bus", "--data", file}, nil, 2, "data dir " + file + " is not usable"},
		{"bad public URL", []string{"bus", "--public-url", "ftp://x"}, nil, 2, "must be an http or https URL"},
		{"bad log level", []string{"bus", "--log-level", "loud"}, nil, 2, "invalid value"},
		{"stray argument", []string{"bus", "pair", "extra"}, nil, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = append(os.Environ(), tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("got exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("got stderr %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

func TestPairPrintsQRAndLink(t *testing.T) {
	dir := t.TempDir()
	p := startBus(t, dir)
	out, err := exec.Command(binary, "bus", "pair", "--data", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	// go-qrcode draws with half blocks; a QR is at least 21 modules high.
	if lines := strings.Count(string(out), "█"); lines < 20 {
		t.Errorf("got %d block characters, want a QR code drawn in the terminal:\n%s", lines, out)
	}
	if !strings.Contains(string(out), p.url+"/#pair=") {
		t.Errorf("got %s, want the pairing link on %s", out, p.url)
	}
}

// A SIGTERM lets requests in flight finish and closes the database cleanly.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	p := startBus(t, dir)
	token := pairDevice(t, p, dir)
	answered := make(chan int, 100000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id := uuid.Must(uuid.NewV7()).String()
				status, _, err := tryCall(ctx, p.url, http.MethodPut, "/api/visits/"+id, token, visitJSON(id, 1, "graceful"))
				if err != nil {
					return // refused once the listener closed: fine, nothing was promised
				}
				answered <- status
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("got exit %v, want 0 after SIGINT; stderr: %s", p.err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("bus did not stop after SIGINT")
	}
	cancel()
	wg.Wait()
	close(answered)
	n := 0
	for status := range answered {
		n++
		if status != http.StatusCreated {
			t.Errorf("a request in flight got %d, want it answered normally", status)
		}
	}
	if n == 0 {
		t.Fatal("no request was answered before the shutdown; the test proved nothing")
	}
	if _, err := os.Stat(filepath.Join(dir, "bus.db-wal")); !os.IsNotExist(err) {
		t.Errorf("got a WAL file after shutdown (%v), want the database closed and checkpointed", err)
	}
}
