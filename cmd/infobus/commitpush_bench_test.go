package main

import (
	"context"
	"testing"
	"time"

	"infobus/office"
)

// BenchmarkCommitPush is the office's side of a sync on its own: sample
// visits (three in ten with a follow-up) stored in 1000-record batches as
// the receiver commits them, without HTTP or gzip, so that a change to
// the push transaction shows apart from the machine's noise in
// TestSyncBacklogMeasure.
//
//	go test ./cmd/infobus -run '^$' -bench CommitPush -benchtime 100000x -count 3
func BenchmarkCommitPush(b *testing.B) {
	ctx := context.Background()
	store, err := office.OpenStore(ctx, b.TempDir(), nil, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	g := newOfficeGenerator(b, store, 1)
	b.ResetTimer()
	g.visits(ctx, b.N, b.N*3/10)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "visits/s")
}
