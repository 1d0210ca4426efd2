package web

import (
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"infobus/internal/backup"
)

// DataDirCollectors report what both servers' data dirs share: the
// database's size on disk and the age of the last backup (+Inf before the
// first, so that an alert on age fires).
func DataDirCollectors(dataDir, dbFile string) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "infobus_database_bytes",
			Help: "Size of the database on disk, write-ahead log included.",
		}, func() float64 {
			var n int64
			for _, f := range []string{dbFile, dbFile + "-wal"} {
				if fi, err := os.Stat(filepath.Join(dataDir, f)); err == nil {
					n += fi.Size()
				}
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "infobus_backup_age_seconds",
			Help: "Seconds since the last backup of the data dir began; +Inf when none was made.",
		}, func() float64 {
			st, ok, err := backup.LastBackup(dataDir)
			if err != nil || !ok {
				return math.Inf(1)
			}
			t, err := time.Parse(time.RFC3339Nano, st.At)
			if err != nil {
				return math.Inf(1)
			}
			return time.Since(t).Seconds()
		}),
	}
}

// Timestamp is a time as Prometheus gauges carry it: Unix seconds, 0 for
// never.
func Timestamp(rfc3339 string) float64 {
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
