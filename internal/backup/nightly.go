package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults for Schedule.
const (
	DefaultSchedule = "30 3 * * *" // 03:30 every night
	DefaultKeep     = 7
	// Off as a schedule turns the nightly backup off.
	Off = "off"
)

// Config holds a server's nightly backup settings.
type Config struct {
	Schedule string // robfig/cron spec, or Off
	Dir      string // where backups go; DATA/backups when empty
	Keep     int    // how many to keep
}

// Validate fills defaults and checks the schedule.
func (c *Config) Validate(dataDir string) error {
	if c.Schedule == "" {
		c.Schedule = DefaultSchedule
	}
	if c.Dir == "" {
		c.Dir = filepath.Join(dataDir, "backups")
	}
	if c.Keep == 0 {
		c.Keep = DefaultKeep
	}
	if c.Keep < 1 {
		return fmt.Errorf("--backup-keep %d: keep at least 1", c.Keep)
	}
	if c.Schedule == Off {
		return nil
	}
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		return fmt.Errorf("--backup-schedule %q: %v (try \"30 3 * * *\" for 03:30 every night, or off)", c.Schedule, err)
	}
	return nil
}

// Nightly runs backups of a data dir on a schedule and keeps the newest
// Keep of them.
type Nightly struct {
	cron *cron.Cron
}

// StartNightly starts the schedule; nil when cfg turns it off. cfg must
// have passed Validate.
func StartNightly(cfg Config, dataDir, build string, log *slog.Logger) (*Nightly, error) {
	if cfg.Schedule == Off {
		return nil, nil
	}
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	_, err := c.AddFunc(cfg.Schedule, func() {
		res, err := Rotate(context.Background(), cfg, dataDir, build)
		if err != nil {
			log.Error("nightly backup failed", "dir", cfg.Dir, "err", err)
			return
		}
		log.Info("nightly backup written", "file", res.File, "bytes", res.Bytes, "duration", res.Duration)
	})
	if err != nil {
		return nil, err
	}
	c.Start()
	return &Nightly{cron: c}, nil
}

// Stop ends the schedule and waits for a backup under way.
func (n *Nightly) Stop() {
	if n != nil {
		<-n.cron.Stop().Done()
	}
}

const namePrefix = "infobus-"

// Rotate writes one backup into cfg.Dir and removes the oldest beyond
// cfg.Keep. Only files this function names are ever removed.
func Rotate(ctx context.Context, cfg Config, dataDir, build string) (Result, error) {
	kind, err := Kind(dataDir)
	if err != nil {
		return Result{}, err
	}
	name := fmt.Sprintf("%s%s-%s.tar.gz", namePrefix, kind, time.Now().UTC().Format("20060102T150405.000Z"))
	res, err := Create(ctx, dataDir, filepath.Join(cfg.Dir, name), build)
	if err != nil {
		return res, err
	}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return res, err
	}
	var ours []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), namePrefix+string(kind)+"-") && strings.HasSuffix(e.Name(), ".tar.gz") {
			ours = append(ours, e.Name())
		}
	}
	sort.Strings(ours) // the time in the name sorts
	for len(ours) > cfg.Keep {
		if err := os.Remove(filepath.Join(cfg.Dir, ours[0])); err != nil {
			return res, err
		}
		ours = ours[1:]
	}
	return res, nil
}
