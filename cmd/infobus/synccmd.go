package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"infobus/bus"
	infosync "infobus/sync"
)

// progressThreshold is the backlog from which `infobus sync` draws a
// progress bar: below it a run takes about a second.
const progressThreshold = infosync.MaxPushRecords

func runEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bus enroll", stderr)
	dataDir := fs.String("data", bus.DefaultDataDir, "the bus's data directory")
	force := fs.Bool("force", false, "enroll as another bus than before: everything is pushed again to the new office")
	s, err := parseFlagsWithArg(fs, args, "ENROLLMENT-STRING")
	if err != nil {
		return err
	}
	e, err := infosync.ParseEnrollment(s)
	if err != nil {
		return &usageError{err.Error()}
	}
	store, err := openDataDir(*dataDir, func() (*bus.Store, error) {
		return bus.OpenStore(ctx, *dataDir, newLogger(stderr, slog.LevelWarn), nil)
	})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Enroll(ctx, e, *force); err != nil {
		if errors.Is(err, bus.ErrEnrolledElsewhere) {
			return usagef("%v; add --force to enroll as the new bus and push everything to its office", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "Enrolled as bus %s with the office at %s.\n"+
		"A running `infobus bus` syncs on its schedule; `infobus sync --data %s` syncs now.\n", e.BusID, e.OfficeURL, *dataDir)
	return nil
}

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sync", stderr)
	dataDir := fs.String("data", bus.DefaultDataDir, "the bus's data directory")
	timeout := fs.Duration("timeout", bus.DefaultSyncTimeout, "time limit for each request to the office")
	batch := fs.Int("batch", 0, "records per push (default and maximum: 1000)")
	asJSON := fs.Bool("json", false, "print what moved as JSON")
	level := &logLevel{slog.LevelWarn}
	fs.Var(level, "log-level", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := newLogger(stderr, level.Level)
	// The bus server may be running on the same database: SQLite's busy
	// timeout and the store's cursor that never moves back make that safe.
	store, err := openDataDir(*dataDir, func() (*bus.Store, error) {
		return bus.OpenStore(ctx, *dataDir, log, nil)
	})
	if err != nil {
		return err
	}
	defer store.Close()
	client := bus.NewSyncClient(store, bus.SyncConfig{Timeout: *timeout, BatchSize: *batch, Build: version}, log)
	pending, _, _, err := store.Backlog(ctx)
	if err != nil {
		return err
	}
	var bar *progressBar
	if pending >= progressThreshold && isTerminal(stderr) {
		bar = &progressBar{w: stderr, start: time.Now()}
	}
	start := time.Now()
	rep, err := client.Sync(ctx, bar.update)
	bar.finish()
	if errors.Is(err, infosync.ErrNotEnrolled) {
		return usagef("%v", err)
	}
	if *asJSON {
		out := struct {
			infosync.Report
			Seconds float64 `json:"seconds"`
			Error   string  `json:"error,omitempty"`
		}{Report: rep, Seconds: time.Since(start).Seconds()}
		if err != nil {
			out.Error = err.Error()
		}
		if jerr := json.NewEncoder(stdout).Encode(out); jerr != nil {
			return jerr
		}
		return err
	}
	fmt.Fprintf(stdout, "pushed %d visits in %d batches (%s on the wire), %d set aside by the office; pulled %d follow-up changes; %d still pending; %.1fs\n",
		rep.Pushed, rep.Batches, byteSize(rep.Bytes), rep.SetAside, rep.Pulled, rep.Pending, time.Since(start).Seconds())
	return err
}

// progressBar draws one line on a terminal, redrawn in place.
type progressBar struct {
	w     io.Writer
	start time.Time
}

func (b *progressBar) update(p infosync.Progress) {
	if b == nil || p.Total == 0 {
		return
	}
	const width = 30
	done := int(p.Done * width / p.Total)
	rate := float64(p.Done) / max(time.Since(b.start).Seconds(), 0.001)
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d visits, %.0f/s ", strings.Repeat("#", done), strings.Repeat(".", width-done), p.Done, p.Total, rate)
}

func (b *progressBar) finish() {
	if b != nil {
		fmt.Fprintln(b.w)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
