package office

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"infobus/internal/web"
)

// officeMetrics are the office's own figures beside the shared request
// metrics.
type officeMetrics struct {
	landed   prometheus.Counter
	setAside prometheus.Counter
}

const (
	queryMetricsSetAside = `SELECT count(*) FROM set_aside`
	queryMetricsInbox    = `SELECT count(*) FROM push_inbox`
	queryMetricsBuses    = `SELECT id, name, last_push_at, acked_seq, software FROM buses`
)

// newMetrics makes the office's registry: requests, visits landed and set
// aside by pushes, each bus's last push, database size and backup age.
func (s *Server) newMetrics() *web.Metrics {
	m := web.NewMetrics("office", s.cfg.MetricsToken)
	s.met.landed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "infobus_visits_written_total", Help: "Visits pushes stored (new, newer revisions and identical replays).",
	})
	s.met.setAside = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "infobus_sync_set_aside_total", Help: "Pushed records the office refused and set aside.",
	})
	m.Register(append([]prometheus.Collector{
		s.met.landed, s.met.setAside,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "infobus_visits_set_aside", Help: "Records from buses kept aside."}, s.countRows(queryMetricsSetAside)),
		// A number that stays up while no push comes means applying fails
		// (the log says why); pages then fail too.
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "infobus_office_inbox_records",
			Help: "Pushed records waiting to be applied to visits and follow-ups."}, s.countRows(queryMetricsInbox)),
		busCollector{s.store},
	}, web.DataDirCollectors(s.cfg.DataDir, DatabaseFile)...)...)
	return m
}

// countRows is a gauge's reading of a count(*) query.
func (s *Server) countRows(query string) func() float64 {
	return func() float64 {
		var n int64
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.store.db.Read.QueryRowContext(ctx, query).Scan(&n)
		return float64(n)
	}
}

// busCollector reports each bus's last push, held cursor and software at
// each scrape.
type busCollector struct{ store *Store }

var (
	descLastPush = prometheus.NewDesc("infobus_bus_last_push_timestamp_seconds",
		"When the bus last pushed (Unix seconds; 0: never).", []string{"bus", "name"}, nil)
	descHeldSeq = prometheus.NewDesc("infobus_bus_held_seq",
		"How far the office holds the bus's pushes (its change counter).", []string{"bus", "name"}, nil)
	descBusInfo = prometheus.NewDesc("infobus_bus_info",
		"Always 1; software: the version the bus sent with its last sync request (\"\": none yet).", []string{"bus", "name", "software"}, nil)
)

func (b busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLastPush
	ch <- descHeldSeq
	ch <- descBusInfo
}

func (b busCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := b.store.db.Read.QueryContext(ctx, queryMetricsBuses)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, name, last, software string
			held                     int64
		)
		if rows.Scan(&id, &name, &last, &held, &software) != nil {
			return
		}
		ch <- prometheus.MustNewConstMetric(descBusInfo, prometheus.GaugeValue, 1, id, name, software)
		ch <- prometheus.MustNewConstMetric(descLastPush, prometheus.GaugeValue, web.Timestamp(last), id, name)
		ch <- prometheus.MustNewConstMetric(descHeldSeq, prometheus.GaugeValue, float64(held), id, name)
	}
}
