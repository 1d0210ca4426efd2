package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"infobus/bus"
	"infobus/office"
	infosync "infobus/sync"
)

// writeVisits has the crew save n visits at once, the way several tablets do.
func writeVisits(tb testing.TB, b *bus.Store, c *crew, n int) {
	tb.Helper()
	var wg sync.WaitGroup
	per := (n + 7) / 8
	for w := 0; w < n; w += per {
		wg.Go(func() {
			for range min(per, n-w) {
				c.write(tb, b)
			}
		})
	}
	wg.Wait()
}

// TestSyncSurvivesCrashes kills the bus during sync and the office during a
// batch, with SIGKILL at random moments, and restarts them: nothing may be
// lost and nothing land twice.
func TestSyncSurvivesCrashes(t *testing.T) {
	bin := binary // built once by TestMain
	t.Run("bus killed mid-sync", func(t *testing.T) { testBusKilled(t, bin) })
	t.Run("office killed mid-batch", func(t *testing.T) { testOfficeKilled(t, bin) })
}

func testBusKilled(t *testing.T, bin string) {
	o := startOffice(t, t.TempDir())
	busDir := t.TempDir()
	c := newCrew(11)
	rng := rand.New(rand.NewPCG(11, 12))
	func() {
		b := openBusStore(t, busDir, nil)
		enrollBus(t, o.Store, b, "bus", o.URL)
		b.Close()
	}()

	wantKills := envInt("INFOBUS_SOAK_KILLS", 20) // task soak raises it
	killed, finished := 0, 0
	for i := 0; killed < wantKills && i < 5*wantKills; i++ {
		// Between crashes the crew keep working.
		b := openBusStore(t, busDir, nil)
		writeVisits(t, b, c, 50+rng.IntN(150))
		b.Close()

		var stdout bytes.Buffer
		cmd := exec.Command(bin, "sync", "--data", busDir, "--batch", "25")
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("sync exited early: %v", err)
			}
			finished++
			continue
		case <-time.After(time.Duration(5+rng.IntN(120)) * time.Millisecond):
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		// Killed before it printed its summary: it was still syncing.
		if !strings.Contains(stdout.String(), "pushed") {
			killed++
		}
	}
	if killed < wantKills {
		t.Fatalf("killed %d syncs in flight, want %d (%d finished first)", killed, wantKills, finished)
	}
	out, err := exec.Command(bin, "sync", "--data", busDir).CombinedOutput()
	if err != nil {
		t.Fatalf("final sync: %v\n%s", err, out)
	}
	b := openBusStore(t, busDir, nil)
	if err := b.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, _ := b.Enrollment(context.Background())
	assertConverged(t, b, o.Store, e.BusID)
	t.Logf("%d syncs killed in flight, %d finished before the kill, %d visits; final: %s", killed, finished, len(c.order), strings.TrimSpace(string(out)))
}

// officeProc is an `infobus office` subprocess on a fixed port, so that a
// restart comes back where the bus looks for it.
type officeProc struct {
	bin, addr, dir string
	cmd            *exec.Cmd
	exited         chan error
}

func (p *officeProc) start(tb testing.TB) {
	tb.Helper()
	p.cmd = exec.Command(p.bin, "office", "--addr", p.addr, "--data", p.dir, "--log-level", "error")
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(p.cmd, p.exited)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get("http://" + p.addr + infosync.HealthzPath)
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-p.exited:
			tb.Fatalf("office exited: %v", err)
		default:
		}
	}
	tb.Fatal("office did not start")
}

func (p *officeProc) signal(sig syscall.Signal) {
	p.cmd.Process.Signal(sig)
	<-p.exited
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testOfficeKilled(t *testing.T, bin string) {
	ctx := context.Background()
	p := &officeProc{bin: bin, addr: freeAddr(t), dir: t.TempDir()}
	p.start(t)
	t.Cleanup(func() { p.cmd.Process.Kill() })

	// Enroll the way people do, with the two commands.
	out, err := exec.Command(bin, "office", "add-bus", "Bus West", "--data", p.dir).Output()
	if err != nil {
		t.Fatalf("office add-bus: %v", err)
	}
	busDir := t.TempDir()
	if out, err := exec.Command(bin, "bus", "enroll", strings.TrimSpace(string(out)), "--data", busDir).CombinedOutput(); err != nil {
		t.Fatalf("bus enroll: %v\n%s", err, out)
	}
	b := openBusStore(t, busDir, nil)
	e, err := b.Enrollment(ctx)
	if err != nil || e.OfficeURL != "http://"+p.addr {
		t.Fatalf("enrollment: got %+v %v, want the office at %s", e, err, p.addr)
	}
	c := newCrew(21)
	rng := rand.New(rand.NewPCG(21, 22))
	client := syncClient(b, 5*time.Second, 50)

	const restarts = 8
	failed := 0
	for range restarts {
		writeVisits(t, b, c, 300+rng.IntN(300))
		done := make(chan error, 1)
		go func() { _, err := client.Sync(ctx, nil); done <- err }()
		time.Sleep(time.Duration(5+rng.IntN(100)) * time.Millisecond)
		p.signal(syscall.SIGKILL)
		if err := <-done; err != nil {
			failed++
		}
		p.start(t)
	}
	syncUntilDone(t, b)
	p.signal(syscall.SIGTERM)
	o, err := office.OpenStore(ctx, p.dir, syncLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	assertConverged(t, b, o, e.BusID)
	if failed == 0 {
		t.Errorf("no sync was cut short by the %d office kills; the test proves less than it says", restarts)
	}
	t.Logf("%d office kills, %d syncs cut short, %d visits", restarts, failed, len(c.order))
}
