package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/robfig/cron/v3"

	infosync "infobus/sync"
)

// Defaults for SyncConfig.
const (
	DefaultSyncSchedule  = "@every 1m"
	DefaultSyncTimeout   = infosync.DefaultTimeout
	DefaultBackoffBase   = 30 * time.Second
	DefaultBackoffMax    = 30 * time.Minute
	DefaultProbeInterval = 10 * time.Second
)

// SyncConfig holds the settings of the bus's sync to the office.
type SyncConfig struct {
	Schedule      string        // robfig/cron spec, e.g. "@every 1m" or "*/5 * * * *"
	Timeout       time.Duration // per request
	BackoffBase   time.Duration // first wait after a failure
	BackoffMax    time.Duration // longest wait after failures
	ProbeInterval time.Duration // how often to look for the office while it is unreachable
	BatchSize     int           // records per push; the protocol's maximum when 0
	Build         string        // the binary's version, sent to the office
}

// Validate fills defaults and checks the schedule.
func (c *SyncConfig) Validate() error {
	if c.Schedule == "" {
		c.Schedule = DefaultSyncSchedule
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultSyncTimeout
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		return fmt.Errorf("--sync-schedule %q: %v (try @every 1m or */5 * * * *)", c.Schedule, err)
	}
	if c.BackoffMax < c.BackoffBase {
		return fmt.Errorf("sync backoff: the longest wait %s is shorter than the first %s", c.BackoffMax, c.BackoffBase)
	}
	return nil
}

// NewSyncClient returns a sync client that works on store's outbox.
func NewSyncClient(store *Store, cfg SyncConfig, log *slog.Logger) *infosync.Client {
	return &infosync.Client{Outbox: store, HTTP: infosync.NewHTTPClient(cfg.Timeout), Log: log, BatchSize: cfg.BatchSize,
		Seen: infosync.BusSeen{Epoch: store.Epoch(), Build: cfg.Build}}
}

// Syncer runs sync to the office on a cron schedule, on demand, and when
// the office answers again after being out of reach. Runs in one process
// never overlap; a run in another process (`infobus sync`) may, which the
// protocol and the store's never-backwards cursor make harmless.
type Syncer struct {
	client *infosync.Client
	cfg    SyncConfig
	log    *slog.Logger
	cron   *cron.Cron

	run sync.Mutex // held for a whole run

	mu      sync.Mutex // guards the fields below
	backoff infosync.Backoff
	nextTry time.Time
	offline bool // the last run failed to reach the office

	cancel context.CancelFunc
	done   chan struct{}

	// runs and failures count sync runs, for the metrics.
	runs, failures atomic.Int64
	// AfterSuccess, when set, runs after every sync that finished: the
	// bus then forgets what the office now holds.
	AfterSuccess func()
}

// NewSyncer prepares a syncer for store. cfg must have passed Validate.
func NewSyncer(store *Store, cfg SyncConfig, log *slog.Logger) *Syncer {
	return &Syncer{
		client:  NewSyncClient(store, cfg, log),
		cfg:     cfg,
		log:     log,
		backoff: infosync.Backoff{Base: cfg.BackoffBase, Max: cfg.BackoffMax},
	}
}

// Start runs the schedule and the connectivity probe until Stop.
func (y *Syncer) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	y.cancel, y.done = cancel, make(chan struct{})
	cl := cronLogger{y.log}
	y.cron = cron.New(cron.WithLogger(cl), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	if _, err := y.cron.AddFunc(y.cfg.Schedule, func() { y.scheduled(ctx) }); err != nil {
		cancel()
		return err
	}
	y.cron.Start()
	go y.probe(ctx)
	return nil
}

// Stop ends the schedule and waits for a run in progress, which the
// cancelled context cuts short.
func (y *Syncer) Stop() {
	if y.cancel == nil {
		return
	}
	y.cancel()
	<-y.cron.Stop().Done()
	<-y.done
}

// SyncNow runs one sync at once, whatever the backoff says, after any run
// in progress.
func (y *Syncer) SyncNow(ctx context.Context) (infosync.Report, error) {
	return y.sync(ctx)
}

func (y *Syncer) scheduled(ctx context.Context) {
	y.mu.Lock()
	wait := time.Until(y.nextTry)
	y.mu.Unlock()
	if wait > 0 {
		y.log.Debug("sync waits after failures", "for", wait.Round(time.Second))
		return
	}
	y.sync(ctx)
}

// probe looks for the office every ProbeInterval while it is out of reach,
// and syncs as soon as it answers, rather than at the end of a backoff.
func (y *Syncer) probe(ctx context.Context) {
	defer close(y.done)
	t := time.NewTicker(y.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		y.mu.Lock()
		offline := y.offline
		y.mu.Unlock()
		if !offline {
			continue
		}
		if err := y.client.Probe(ctx); err != nil {
			continue
		}
		y.log.Info("office reachable again, syncing")
		y.sync(ctx)
	}
}

func (y *Syncer) sync(ctx context.Context) (infosync.Report, error) {
	y.run.Lock()
	defer y.run.Unlock()
	start := time.Now()
	rep, err := y.client.Sync(ctx, nil)
	y.runs.Add(1)
	if err != nil && !errors.Is(err, infosync.ErrNotEnrolled) {
		y.failures.Add(1)
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	switch {
	case err == nil:
		y.backoff.Reset()
		y.nextTry, y.offline = time.Time{}, false
		if y.AfterSuccess != nil {
			y.AfterSuccess()
		}
		if rep.Pushed > 0 || rep.Pulled > 0 {
			y.log.Info("sync done", "pushed", rep.Pushed, "set_aside", rep.SetAside, "pulled", rep.Pulled, "bytes", rep.Bytes, "duration", time.Since(start))
		}
	case errors.Is(err, infosync.ErrNotEnrolled):
		y.log.Debug("sync skipped: bus not enrolled")
	default:
		wait := y.backoff.Failure()
		y.nextTry = time.Now().Add(wait)
		y.offline = infosync.Offline(err)
		y.log.Warn("sync failed", "err", err, "pushed", rep.Pushed, "failures", y.backoff.Failures(), "next_try_in", wait.Round(time.Second), "offline", y.offline)
	}
	return rep, err
}

// cronLogger lets robfig/cron log through slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// SetSyncer lets POST /api/sync run the bus's syncer.
func (s *Server) SetSyncer(y *Syncer) { s.syncer = y }

// errNoSyncer: a server wired without a syncer (tests, tools) cannot sync.
var errNoSyncer = errors.New("sync is not running on this bus")

// SyncError is a sync the crew asked for that did not finish: the office
// could not be reached or refused. The visits stay on the bus.
type SyncError struct{ Err error }

func (e *SyncError) Error() string { return "sync with the office failed: " + e.Err.Error() }
func (e *SyncError) Unwrap() error { return e.Err }

// syncNowAnswer is the answer to POST /api/sync: what the run moved and
// where sync stands after it.
type syncNowAnswer struct {
	OK     bool            `json:"ok"`
	Report infosync.Report `json:"report"`
	Status SyncStatus      `json:"status"`
}

// handleSyncNow runs one sync. It answers 200 when it finished, and
// through the error handler 409 for a bus without an office and 502 when
// the office could not be reached or refused.
func (s *Server) handleSyncNow(c *fiber.Ctx) error {
	if s.syncer == nil {
		return errNoSyncer
	}
	rep, err := s.syncer.SyncNow(c.UserContext())
	if errors.Is(err, infosync.ErrNotEnrolled) {
		return err
	}
	if err != nil {
		return &SyncError{Err: err}
	}
	st, err := s.store.SyncStatus(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(syncNowAnswer{OK: true, Report: rep, Status: st})
}

// SyncStatus is where sync to the office stands, as the crew see it.
type SyncStatus struct {
	Enrolled    bool   `json:"enrolled"`     // the bus knows an office to sync with
	Pending     int64  `json:"pending"`      // visits the office has not acknowledged
	LastAttempt string `json:"last_attempt"` // RFC 3339, or empty
	LastSuccess string `json:"last_success"` // RFC 3339, or empty
	LastError   string `json:"last_error"`   // of the last attempt, empty after a success
	Online      bool   `json:"online"`       // the office answered the last attempt
	PushedTotal int64  `json:"pushed_total"` // visits the office has acknowledged, ever
	SetAside    int64  `json:"set_aside"`    // visits whose current rev the office refused
	// Devices says, on GET /api/sync/status, when each paired tablet last
	// delivered a visit, so that a tablet that stopped sending is noticed.
	Devices []DeviceDelivery `json:"devices,omitempty"`
}

func (s *Server) handleSyncStatus(c *fiber.Ctx) error {
	st, err := s.store.SyncStatus(c.UserContext())
	if err != nil {
		return err
	}
	if st.Devices, err = s.store.DeviceDeliveries(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(st)
}
