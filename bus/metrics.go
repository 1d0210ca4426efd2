package bus

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"infobus/internal/web"
)

// busMetrics are the bus's own figures beside the shared request metrics.
type busMetrics struct {
	written prometheus.Counter
}

// newMetrics makes the bus's registry: requests, visits written, where sync
// stands (read from the store at each scrape), database size and backup age.
func (s *Server) newMetrics() *web.Metrics {
	m := web.NewMetrics("bus", s.cfg.MetricsToken)
	s.met.written = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "infobus_visits_written_total",
		Help: "Visits the crew API stored: new ones, new revisions and identical replays.",
	})
	status := func(read func(SyncStatus) float64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			st, err := s.store.SyncStatus(ctx)
			if err != nil {
				return 0
			}
			return read(st)
		}
	}
	m.Register(append([]prometheus.Collector{
		s.met.written,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "infobus_visits_pending", Help: "Visits the office has not acknowledged."},
			status(func(st SyncStatus) float64 { return float64(st.Pending) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "infobus_visits_set_aside", Help: "Visits whose current revision the office refused."},
			status(func(st SyncStatus) float64 { return float64(st.SetAside) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "infobus_sync_pushed_visits_total", Help: "Visits the office has acknowledged, ever."},
			status(func(st SyncStatus) float64 { return float64(st.PushedTotal) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "infobus_sync_last_success_timestamp_seconds", Help: "When a sync last succeeded (Unix seconds; 0: never)."},
			status(func(st SyncStatus) float64 { return web.Timestamp(st.LastSuccess) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "infobus_sync_runs_total", Help: "Sync runs this server started."},
			func() float64 { return s.syncCount(func(y *Syncer) int64 { return y.runs.Load() }) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "infobus_sync_failures_total", Help: "Sync runs of this server that failed."},
			func() float64 { return s.syncCount(func(y *Syncer) int64 { return y.failures.Load() }) }),
	}, web.DataDirCollectors(s.cfg.DataDir, DatabaseFile)...)...)
	return m
}

// syncCount reads a count of the syncer's, 0 while there is none.
func (s *Server) syncCount(read func(*Syncer) int64) float64 {
	if s.syncer == nil {
		return 0
	}
	return float64(read(s.syncer))
}

// countWritten counts a visit the crew API stored.
func (s *Server) countWritten(c *fiber.Ctx) error {
	err := c.Next()
	if st := c.Response().StatusCode(); err == nil && (st == fiber.StatusOK || st == fiber.StatusCreated) {
		s.met.written.Inc()
	}
	return err
}
