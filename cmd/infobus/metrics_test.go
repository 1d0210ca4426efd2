package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/internal/web"
)

// scrape reads /metrics and parses it with Prometheus's own text parser.
func scrape(tb testing.TB, base, token string) map[string]*dto.MetricFamily {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+web.MetricsPath, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: got %d %s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the family's metric whose labels include
// want, or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetrics: /metrics on bus and office parses with Prometheus's text
// parser, and its counters move as requests, visits and syncs are made.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	busDir := t.TempDir()
	m := &BusMain{Config: bus.Config{Addr: "127.0.0.1:0", DataDir: busDir, Version: "test"}, Log: syncLogger(),
		Sync: bus.SyncConfig{Schedule: "@every 1h"}, Backup: backup.Config{Schedule: backup.Off}}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	enrollBus(t, o.Store, m.Store, "Bus Oost", o.URL)

	before := scrape(t, m.URL, "")
	healthz := map[string]string{"route": "/healthz", "method": "GET", "status": "200", "server": "bus"}
	if got := value(before, "infobus_backup_age_seconds", nil); got < 1e300 {
		t.Errorf("backup age before any backup: got %v, want +Inf", got)
	}
	for range 3 {
		call(t, m.URL, http.MethodGet, "/healthz", "", "")
	}
	pc, err := m.Store.NewPairingCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, body := call(t, m.URL, http.MethodPost, "/api/pair", "", fmt.Sprintf(`{"pairing_code":%q}`, pc.Code))
	var dev struct {
		Token string `json:"device_token"`
	}
	json.Unmarshal(body, &dev)
	for i := range 5 {
		if status, out := call(t, m.URL, http.MethodPut, "/api/visits/"+ids[i], dev.Token, visitJSON(ids[i], 1, "metrics")); status != http.StatusCreated {
			t.Fatalf("PUT: got %d %s", status, out)
		}
	}
	if _, err := backup.Create(ctx, busDir, t.TempDir()+"/b.tar", "test"); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, m.URL, "")
	if d := value(after, "infobus_http_requests_total", healthz) - max(value(before, "infobus_http_requests_total", healthz), 0); d != 3 {
		t.Errorf("requests to /healthz: got +%v, want +3", d)
	}
	if got := value(after, "infobus_visits_written_total", nil); got != 5 {
		t.Errorf("visits written: got %v, want 5", got)
	}
	if got := value(after, "infobus_visits_pending", nil); got != 5 {
		t.Errorf("visits pending: got %v, want 5", got)
	}
	if got := value(after, "infobus_http_requests_total", map[string]string{"route": "/api/visits/:id", "method": "PUT", "status": "201"}); got != 5 {
		t.Errorf("PUT requests counted by route pattern: got %v, want 5", got)
	}
	if got := value(after, "infobus_backup_age_seconds", nil); got < 0 || got > 60 {
		t.Errorf("backup age after a backup: got %v s", got)
	}
	if got := value(after, "infobus_database_bytes", nil); got <= 0 {
		t.Errorf("database bytes: got %v", got)
	}

	if _, err := m.Syncer.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	synced := scrape(t, m.URL, "")
	if got := value(synced, "infobus_visits_pending", nil); got != 0 {
		t.Errorf("visits pending after sync: got %v, want 0", got)
	}
	if got := value(synced, "infobus_sync_runs_total", nil); got != 1 {
		t.Errorf("sync runs: got %v, want 1", got)
	}
	if got := value(synced, "infobus_sync_last_success_timestamp_seconds", nil); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last sync success: got %v, want about now", got)
	}
	office := scrape(t, o.URL, "")
	if got := value(office, "infobus_visits_written_total", map[string]string{"server": "office"}); got != 5 {
		t.Errorf("office visits written: got %v, want 5", got)
	}
	if got := value(office, "infobus_http_requests_total", map[string]string{"route": "/sync/v1/push", "status": "200"}); got != 1 {
		t.Errorf("office pushes: got %v, want 1", got)
	}
	if got := value(office, "infobus_bus_last_push_timestamp_seconds", map[string]string{"name": "Bus Oost"}); got <= 0 {
		t.Errorf("bus last push: got %v", got)
	}
	// The version the bus sends with each sync request, from the one place
	// the fleet page reads it too (buses.software).
	if got := value(office, "infobus_bus_info", map[string]string{"name": "Bus Oost", "software": "test"}); got != 1 {
		t.Errorf("bus software: got %v for software=test, want 1", got)
	}
}

var ids = func() []string {
	out := make([]string, 5)
	for i := range out {
		out[i] = fmt.Sprintf("01938a6e-0000-7000-8000-%012d", i+1)
	}
	return out
}()

// TestMetricsGuarded: without a token /metrics answers loopback only; with
// one, only requests that carry it.
func TestMetricsGuarded(t *testing.T) {
	dir := t.TempDir()
	store := openBusStore(t, dir, nil)
	for _, tc := range []struct {
		name, token, auth string
		want              int
	}{
		{"no token, not loopback", "", "", http.StatusForbidden},
		{"token, none sent", "s3cret-token", "", http.StatusUnauthorized},
		{"token, wrong one", "s3cret-token", "Bearer nope", http.StatusUnauthorized},
		{"token, right one", "s3cret-token", "Bearer s3cret-token", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := bus.NewServer(bus.Config{DataDir: dir, MetricsToken: tc.token, BodyLimit: bus.DefaultBodyLimit}, store, syncLogger())
			// app.Test's connection comes from 0.0.0.0: not loopback.
			req := httptest.NewRequest(http.MethodGet, web.MetricsPath, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
