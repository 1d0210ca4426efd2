package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"infobus/internal/backup"
	infosync "infobus/sync"
)

// TestBackupMeasure measures a backup of a large office database (task
// gen:office makes one of 1,000,000 visits) while its office runs: how long
// it takes, its size, and what it costs a bus syncing at the same time.
// It measures and reports; it asserts only correctness.
//
//	INFOBUS_BACKUP_BENCH=/tmp/infobus-office-1m go test ./cmd/infobus -run TestBackupMeasure -v -timeout 60m
//
// (task bench:backup). The office database gains the benchmark's visits.
// INFOBUS_BACKUP_BENCH_VISITS (default 30000) sets the bus's backlog,
// INFOBUS_BACKUP_BENCH_ROUNDS (default 1) how often sync runs alone and
// beside a backup, in turns; INFOBUS_BACKUP_BENCH_IDLE=0 skips the idle
// backups.
func TestBackupMeasure(t *testing.T) {
	dir := os.Getenv("INFOBUS_BACKUP_BENCH")
	if dir == "" {
		t.Skip("a measurement, not a test: set INFOBUS_BACKUP_BENCH=DIR (an office data dir, see task gen:office)")
	}
	visits := envInt("INFOBUS_BACKUP_BENCH_VISITS", 30_000)
	bin := binary
	logLoad := func(when string) {
		b, _ := os.ReadFile("/proc/loadavg")
		t.Logf("load average %s: %s", when, strings.Join(strings.Fields(string(b))[:3], " "))
	}
	logLoad("at start")

	p := &officeProc{bin: bin, addr: freeAddr(t), dir: dir}
	p.start(t)
	t.Cleanup(func() { p.signal(syscall.SIGTERM) })

	// Every sync gets its own bus with its own visits: visits another bus
	// sent already would be set aside, which is not the path to measure.
	seed := uint64(time.Now().UnixNano())
	enrolledCopy := func() string {
		seed++
		d := t.TempDir()
		b := openBusStore(t, d, nil)
		c := newCrew(seed)
		c.newOnly = true
		writeVisits(t, b, c, visits)
		b.Close()
		out, err := exec.Command(bin, "office", "add-bus", "backup bench "+strconv.FormatUint(seed, 36), "--data", dir, "--url", "http://"+p.addr).Output()
		if err != nil {
			t.Fatalf("add-bus: %v", err)
		}
		if out, err := exec.Command(bin, "bus", "enroll", strings.TrimSpace(string(out)), "--data", d).CombinedOutput(); err != nil {
			t.Fatalf("bus enroll: %v %s", err, out)
		}
		return d
	}
	type syncResult struct {
		infosync.Report
		Seconds float64 `json:"seconds"`
		Error   string  `json:"error"`
	}
	runSync := func(d string) syncResult {
		out, err := exec.Command(bin, "sync", "--data", d, "--json").Output()
		var r syncResult
		if jerr := json.Unmarshal(out, &r); jerr != nil || r.Error != "" || r.Pending != 0 || r.SetAside != 0 {
			t.Fatalf("sync: %v %v %s", err, jerr, out)
		}
		return r
	}
	out := t.TempDir()
	runBackup := func(name string) (time.Duration, int64) {
		file := filepath.Join(out, name)
		start := time.Now()
		var stdout bytes.Buffer
		cmd := exec.Command(bin, "backup", "--data", dir, "--out", file)
		cmd.Stdout, cmd.Stderr = &stdout, &stdout
		if err := cmd.Run(); err != nil {
			t.Fatalf("backup: %v %s", err, stdout.Bytes())
		}
		took := time.Since(start)
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		// CPU beside wall clock: on a shared machine the wall clock is
		// mostly other people's work.
		t.Logf("%s (CPU %.1f s user, %.1f s system)", strings.TrimSpace(stdout.String()),
			cmd.ProcessState.UserTime().Seconds(), cmd.ProcessState.SystemTime().Seconds())
		return took, fi.Size()
	}
	db, _ := os.Stat(filepath.Join(dir, backup.OfficeFile))
	t.Logf("office database: %.1f MiB", float64(db.Size())/(1<<20))

	// 1. A backup while the office is idle, plain tar and gzip.
	if os.Getenv("INFOBUS_BACKUP_BENCH_IDLE") != "0" {
		logLoad("before the idle backups")
		took, size := runBackup("idle.tar")
		t.Logf("IDLE BACKUP (tar): %.1f s, %.1f MiB", took.Seconds(), float64(size)/(1<<20))
		took, size = runBackup("idle.tar.gz")
		t.Logf("IDLE BACKUP (tar.gz): %.1f s, %.1f MiB", took.Seconds(), float64(size)/(1<<20))
	}

	// 2. Sync alone, then the same backlog with a backup running beside
	// it, in turns (INFOBUS_BACKUP_BENCH_ROUNDS, default 1).
	for round := range envInt("INFOBUS_BACKUP_BENCH_ROUNDS", 1) {
		logLoad("before sync alone")
		alone := runSync(enrolledCopy())
		t.Logf("round %d SYNC ALONE: %d visits in %.2f s = %.0f visits/s", round+1, alone.Pushed, alone.Seconds, float64(alone.Pushed)/alone.Seconds)
		d := enrolledCopy()
		logLoad("before sync with a backup")
		done := make(chan struct{})
		var bTook time.Duration
		var bSize int64
		go func() {
			defer close(done)
			bTook, bSize = runBackup("during.tar")
		}()
		time.Sleep(500 * time.Millisecond) // the backup's read transaction has begun
		during := runSync(d)
		<-done
		t.Logf("round %d SYNC DURING BACKUP: %d visits in %.2f s = %.0f visits/s (%.0f%% of alone); the backup took %.1f s, %.1f MiB",
			round+1, during.Pushed, during.Seconds, float64(during.Pushed)/during.Seconds,
			100*(float64(during.Pushed)/during.Seconds)/(float64(alone.Pushed)/alone.Seconds), bTook.Seconds(), float64(bSize)/(1<<20))
		if bTook.Seconds() < during.Seconds {
			t.Logf("note: the backup ended before the sync did; the overlap was %.1f s", bTook.Seconds())
		}
		os.Remove(filepath.Join(out, "during.tar.keep"))
		if err := os.Rename(filepath.Join(out, "during.tar"), filepath.Join(out, "during.tar.keep")); err != nil {
			t.Fatal(err)
		}
	}
	logLoad("at the end")

	// The copy made under load checks out.
	start := time.Now()
	target := t.TempDir()
	if _, err := backup.Restore(context.Background(), filepath.Join(out, "during.tar.keep"), target); err != nil {
		t.Fatal(err)
	}
	t.Logf("restore of the copy made under load (unpack, integrity_check, new epoch): %.1f s", time.Since(start).Seconds())
}
