package bus

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkPutVisit measures durable PUT /api/visits/{id} over HTTP on a
// real listener: every answer comes after its visit's commit with
// synchronous=FULL. It reports visits/s and latency percentiles.
//
//	go test ./bus -run '^$' -bench PutVisit -benchtime 20000x
func BenchmarkPutVisit(b *testing.B) {
	for _, clients := range []int{4, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			store := mustOpenStore(b, "", nil)
			defer store.Close()
			bus := mustStartBus(b, store)
			token := bus.pair()
			template := newVisitBody(b)
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = uuid.Must(uuid.NewV7()).String()
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
			latencies := make([]time.Duration, b.N)
			var next atomic.Int64
			var failures atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						body := strings.Replace(template, "ID", ids[i], 1)
						req, _ := http.NewRequest(http.MethodPut, bus.url+"/api/visits/"+ids[i], strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+token)
						t0 := time.Now()
						resp, err := client.Do(req)
						if err != nil || resp.StatusCode != http.StatusCreated {
							failures.Add(1)
						}
						if resp != nil {
							// Read to the end, or the client cannot reuse the connection.
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
						latencies[i] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failures.Load(); n > 0 {
				b.Fatalf("%d of %d PUTs failed", n, b.N)
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "visits/s")
			b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// newVisitBody is a realistic visit as JSON with "ID" where its id goes.
func newVisitBody(tb testing.TB) string {
	v := newVisit(tb, 42)
	v["id"] = "ID"
	return string(mustMarshal(tb, v))
}
