package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/office"
	"infobus/schema"
)

// backupFlags adds the nightly backup's flags to a server's flag set.
func backupFlags(fs *flag.FlagSet, cfg *backup.Config) {
	fs.StringVar(&cfg.Schedule, "backup-schedule", backup.DefaultSchedule, "when to back up the data dir: a cron spec, or off")
	fs.StringVar(&cfg.Dir, "backup-dir", "", "folder for the nightly backups (default: DATA/backups; better another disk)")
	fs.IntVar(&cfg.Keep, "backup-keep", backup.DefaultKeep, "how many nightly backups to keep")
}

// serverGuard is what a server holds beside its store: the data dir's
// lock, which keeps `infobus restore` away while it runs, and the nightly
// backup.
type serverGuard struct {
	unlock  func()
	nightly *backup.Nightly
}

// guardDataDir checks and locks dataDir and validates cfg; the nightly
// backup starts later, with startNightly, once the store is open.
func guardDataDir(dataDir string, cfg *backup.Config) (*serverGuard, error) {
	if err := checkDataDir(dataDir); err != nil {
		return nil, err
	}
	if err := cfg.Validate(dataDir); err != nil {
		return nil, &usageError{err.Error()}
	}
	unlock, err := backup.LockDir(dataDir)
	if errors.Is(err, backup.ErrInUse) {
		return nil, usagef("data dir %s: another server runs on it", dataDir)
	}
	if err != nil {
		return nil, usagef("data dir %s: %v", dataDir, err)
	}
	return &serverGuard{unlock: unlock}, nil
}

func (g *serverGuard) startNightly(dataDir string, cfg backup.Config, build string, log *slog.Logger) error {
	n, err := backup.StartNightly(cfg, dataDir, build, log)
	g.nightly = n
	return err
}

// release stops the nightly backup and unlocks the data dir; a second
// call does nothing.
func (g *serverGuard) release() {
	if g == nil || g.unlock == nil {
		return
	}
	g.nightly.Stop()
	g.unlock()
	g.nightly, g.unlock = nil, nil
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	dataDir := fs.String("data", "", "the data dir of a bus or an office (required)")
	out := fs.String("out", "", "the backup file to write: a tar, gzip when it ends in .gz (default: infobus-KIND-TIME.tar.gz here)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" {
		return usagef("backup: --data is required: the data dir of the bus or office to back up")
	}
	kind, err := backup.Kind(*dataDir)
	if err != nil {
		return usagef("backup: %v", err)
	}
	if *out == "" {
		*out = fmt.Sprintf("infobus-%s-%s.tar.gz", kind, time.Now().UTC().Format("20060102T150405Z"))
	}
	res, err := backup.Create(ctx, *dataDir, *out, version)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(res.File)
	fmt.Fprintf(stdout, "Backed up the %s in %s to %s: %s (database %s, schema version %d) in %.1fs.\n",
		kind, *dataDir, abs, byteSize(res.Bytes), byteSize(res.Manifest.DBBytes), res.Manifest.SchemaVersion, res.Duration.Seconds())
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	dataDir := fs.String("data", "", "the data dir to restore into (required); its server must be stopped")
	file, err := parseFlagsWithArg(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *dataDir == "" {
		return usagef("restore: --data is required: the data dir to put the backup in")
	}
	res, err := backup.Restore(ctx, file, *dataDir)
	if errors.Is(err, backup.ErrInUse) {
		return usagef("restore: %s: %v", *dataDir, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored the %s backup of %s (made %s, schema version %d) into %s.\n",
		res.Manifest.Kind, res.Manifest.Source, res.Manifest.CreatedAt, res.Manifest.SchemaVersion, *dataDir)
	if res.Replaced != "" {
		fmt.Fprintf(stdout, "The files it replaced are in %s; remove them once the server runs well.\n", res.Replaced)
	}
	// Opening the store applies the erasure log again before any server
	// serves the copy; a server started first would do the same.
	erased, err := replayErasures(ctx, res.Manifest.Kind, *dataDir, stderr)
	if err != nil {
		return fmt.Errorf("restored, but %w; start the server to try again", err)
	}
	fmt.Fprintf(stdout, "Contact details erased after the backup, erased again: %d visits.\n", erased)
	fmt.Fprintf(stdout, "The database has a new epoch (%s): ", res.NewEpoch)
	if res.Manifest.Kind == "bus" {
		fmt.Fprintln(stdout, "tablets send again the visits the bus lost, and the bus pushes everything to the office once.")
	} else {
		fmt.Fprintln(stdout, "each bus sends again what the office lost at its next sync.")
	}
	return nil
}

// replayErasures opens the restored store, which applies the data dir's
// erasure log again, and says how many visits it changed.
func replayErasures(ctx context.Context, kind schema.Database, dataDir string, stderr io.Writer) (int, error) {
	log := newLogger(stderr, slog.LevelWarn)
	if kind == schema.BusDatabase {
		s, err := bus.OpenStore(ctx, dataDir, log, nil)
		if err != nil {
			return 0, err
		}
		defer s.Close()
		return s.ErasuresReplayed(), nil
	}
	s, err := office.OpenStore(ctx, dataDir, log, nil)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return s.ErasuresReplayed(), nil
}
