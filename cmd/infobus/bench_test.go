package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup measures `infobus bus` from exec to the first healthy
// /healthz on an existing data dir, and the resident memory of the idle
// server a second later.
//
//	go test ./cmd/infobus -run '^$' -bench Startup -benchtime 20x
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// A first start creates and migrates the database; later ones are what
	// a crew member waits for each morning.
	warm := exec.Command(binary, "bus", "--addr", addr, "--data", dir)
	if err := warm.Start(); err != nil {
		b.Fatal(err)
	}
	waitHealthy(b, "http://"+addr, time.Now())
	warm.Process.Kill()
	warm.Wait()

	var total time.Duration
	var rssKB int
	probe := &http.Client{Timeout: time.Second}
	for b.Loop() {
		cmd := exec.Command(binary, "bus", "--addr", addr, "--data", dir, "--log-level", "warn")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		total += waitHealthyWith(b, probe, "http://"+addr, start)
		b.StopTimer()
		time.Sleep(time.Second)
		rssKB = max(rssKB, vmRSS(b, cmd.Process.Pid))
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-healthy")
	b.ReportMetric(float64(rssKB)/1024, "idle-RSS-MB")
}

func waitHealthy(b *testing.B, base string, start time.Time) time.Duration {
	return waitHealthyWith(b, &http.Client{Timeout: time.Second}, base, start)
}

// waitHealthyWith polls /healthz as fast as it can and returns the time from
// start to the first 200.
func waitHealthyWith(b *testing.B, c *http.Client, base string, start time.Time) time.Duration {
	for time.Since(start) < 10*time.Second {
		resp, err := c.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	b.Fatal("bus never became healthy")
	return 0
}

func vmRSS(b *testing.B, pid int) int {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
