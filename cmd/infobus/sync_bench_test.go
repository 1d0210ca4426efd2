package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"infobus/office"
	"infobus/schema"
	infosync "infobus/sync"
)

// TestSyncBacklogMeasure measures what a large backlog costs: a bus and an
// office as separate processes, over loopback, through a proxy that loses
// one acknowledgement, and through one throttled to a weak 4G link. It
// measures and reports; it asserts only correctness, never timings.
//
//	INFOBUS_SYNC_BENCH=1 go test -run TestSyncBacklogMeasure -v -timeout 30m ./cmd/infobus/
//
// INFOBUS_SYNC_BENCH_VISITS (default 100000) and INFOBUS_SYNC_BENCH_SLOW
// (default 10000, the backlog sent at 1 Mbit/s) change the sizes.
func TestSyncBacklogMeasure(t *testing.T) {
	if os.Getenv("INFOBUS_SYNC_BENCH") == "" {
		t.Skip("a measurement, not a test: set INFOBUS_SYNC_BENCH=1 to run it")
	}
	visits := envInt("INFOBUS_SYNC_BENCH_VISITS", 100_000)
	slow := envInt("INFOBUS_SYNC_BENCH_SLOW", 10_000)
	bin := binary

	// One backlog, made once and copied for each run.
	start := time.Now()
	backlog := t.TempDir()
	func() {
		b := openBusStore(t, backlog, nil)
		c := newCrew(100)
		c.newOnly = true
		writeVisits(t, b, c, visits)
		b.Close()
	}()
	t.Logf("made a backlog of %d visits in %s", visits, time.Since(start).Round(time.Millisecond))
	smallBacklog := t.TempDir()
	func() {
		b := openBusStore(t, smallBacklog, nil)
		c := newCrew(101)
		c.newOnly = true
		writeVisits(t, b, c, slow)
		b.Close()
	}()

	// startOffice runs a fresh office process for one scenario.
	startOffice := func() *officeProc {
		p := &officeProc{bin: bin, addr: freeAddr(t), dir: t.TempDir()}
		p.start(t)
		t.Cleanup(func() { p.cmd.Process.Kill() })
		return p
	}
	// officeRSS stops an office and returns its peak RSS in MiB.
	officeRSS := func(p *officeProc) float64 {
		peak := peakRSS(p.cmd.Process.Pid)
		p.signal(syscall.SIGTERM)
		return peak
	}
	// enrolledCopy copies a backlog into a new bus enrolled with the office
	// p, reached at officeURL.
	n := 0
	enrolledCopy := func(p *officeProc, from, officeURL string) string {
		n++
		dir := t.TempDir()
		if out, err := exec.Command("cp", "-a", from+"/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		out, err := exec.Command(bin, "office", "add-bus", "bench "+strconv.Itoa(n), "--data", p.dir, "--url", officeURL).Output()
		if err != nil {
			t.Fatalf("add-bus: %v", err)
		}
		if out, err := exec.Command(bin, "bus", "enroll", strings.TrimSpace(string(out)), "--data", dir).CombinedOutput(); err != nil {
			t.Fatalf("bus enroll: %v %s", err, out)
		}
		return dir
	}
	type result struct {
		infosync.Report
		Seconds float64 `json:"seconds"`
		Error   string  `json:"error"`
		CPU     float64 `json:"-"` // user + system seconds of the sync process
	}
	// runSync runs `infobus sync` and returns its report and peak RSS in
	// MiB, read from /proc while it runs: a child's rusage counts the
	// test process's memory it was forked from.
	runSync := func(dir string) (result, float64) {
		cmd := exec.Command(bin, "sync", "--data", dir, "--json")
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var peak float64
		var err error
	watch:
		for {
			if rss := peakRSS(cmd.Process.Pid); rss > 0 {
				peak = rss
			}
			select {
			case err = <-done:
				break watch
			case <-time.After(20 * time.Millisecond):
			}
		}
		var r result
		if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
			t.Fatalf("sync: %v %v %s", err, jerr, stdout.Bytes())
		}
		r.CPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		return r, peak
	}
	// 1. Loopback.
	p := startOffice()
	dir := enrolledCopy(p, backlog, "http://"+p.addr)
	r, busRSS := runSync(dir)
	if r.Error != "" || r.Pending != 0 || r.Pushed != visits {
		t.Fatalf("loopback sync: %+v", r)
	}
	// Where the time goes: the office's CPU when the bus is done, and
	// once more when it has applied its inbox (office/inbox.go) in the
	// background: until then a page waits for what is left.
	officeCPU := cpuSeconds(p.cmd.Process.Pid)
	done := time.Now()
	applied := waitInboxEmpty(t, p.dir)
	t.Logf("LOOPBACK: %d visits in %.2f s = %.0f visits/s; %.1f bytes/visit on the wire (gzip, %d batches, %.1f MiB); CPU bus %.1f s, office %.1f s when the bus was done; the office applied its inbox %.1f s later, at %.1f s of CPU; peak RSS bus %.0f MiB, office %.0f MiB",
		r.Pushed, r.Seconds, float64(r.Pushed)/r.Seconds, float64(r.Bytes)/float64(r.Pushed), r.Batches, float64(r.Bytes)/(1<<20),
		r.CPU, officeCPU, applied.Sub(done).Seconds(), cpuSeconds(p.cmd.Process.Pid), busRSS, officeRSS(p))

	// 2. One lost acknowledgement: the office commits batch 50 (the middle
	// one of a smaller backlog), the answer never arrives; the next run
	// resends.
	p = startOffice()
	proxy := newFaultProxy(t, "http://"+p.addr, 5)
	var pushes, records atomic.Int64
	proxy.onPush = func(body []byte) {
		req, err := infosync.DecodePush(body, "gzip")
		if err == nil {
			pushes.Add(1)
			records.Add(int64(len(req.Records)))
		}
	}
	dir = enrolledCopy(p, backlog, proxy.URL)
	for range max(1, min(50, visits/infosync.MaxPushRecords/2)) - 1 {
		proxy.queue(passThrough)
	}
	proxy.queue(dropAfterCommit)
	first, _ := runSync(dir)
	second, _ := runSync(dir)
	if first.Error == "" || second.Error != "" || second.Pending != 0 {
		t.Fatalf("lost ack: first %+v, second %+v", first, second)
	}
	t.Logf("LOST ACK: first run stopped after %d acknowledged visits (%s); second run pushed %d; office received %d records in %d pushes for %d visits: %d resent",
		first.Pushed, first.Error, second.Pushed, records.Load(), pushes.Load(), visits, records.Load()-int64(visits))

	// 3. A weak 4G link: 1 Mbit/s towards the office.
	officeRSS(p)
	p = startOffice()
	slowProxy := newFaultProxy(t, "http://"+p.addr, 6)
	slowProxy.bytesPerSecond = 1_000_000 / 8
	dir = enrolledCopy(p, smallBacklog, slowProxy.URL)
	r, _ = runSync(dir)
	if r.Error != "" || r.Pending != 0 {
		t.Fatalf("slow sync: %+v", r)
	}
	perVisit := r.Seconds / float64(r.Pushed)
	t.Logf("1 MBIT/S: %d visits in %.1f s = %.0f visits/s, %.1f bytes/visit; %d visits would take about %.0f s",
		r.Pushed, r.Seconds, float64(r.Pushed)/r.Seconds, float64(r.Bytes)/float64(r.Pushed), visits, perVisit*float64(visits))
	officeRSS(p)
}

// waitInboxEmpty returns when the office in dir holds no pushed record
// waiting to be applied, reading its database beside it.
func waitInboxEmpty(t *testing.T, dir string) time.Time {
	t.Helper()
	db, err := sql.Open(schema.DriverName, "file:"+filepath.Join(dir, office.DatabaseFile)+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var waiting int
		if err := db.QueryRow(`SELECT count(*) FROM push_inbox`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pushed records still wait after 10 minutes", waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// peakRSS reads a process's peak resident set (VmHWM) in MiB, or 0.
// cpuSeconds is the user and system time a running process has used so
// far (its children's not counted), from /proc/PID/stat in clock ticks of
// 1/100 s, the value Linux gives user space on every architecture.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are plain.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
