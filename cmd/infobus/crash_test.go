package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "infobus/internal/sqlite"
)

// A bus killed at any moment keeps every visit it answered with a 2xx, and
// its database stays sound. This is what a laptop whose battery dies mid-shift
// must promise the crew.
func TestCrashKeepsAcknowledgedVisits(t *testing.T) {
	rounds := envInt("INFOBUS_SOAK_KILLS", 20) // task soak raises it
	dir := t.TempDir()
	acked := map[string]int{} // visit id → highest rev the bus confirmed
	var mu sync.Mutex
	var token string
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	total := 0

	for round := range rounds {
		p := startBus(t, dir)
		if token == "" {
			token = pairDevice(t, p, dir)
		}
		checkAcknowledged(t, dir, acked, round)

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					id, rev := newID(t), 1
					// Every third write is a new rev of a visit the bus already has.
					if n%3 == 2 {
						mu.Lock()
						for known, r := range acked {
							id, rev = known, r+1
							break
						}
						mu.Unlock()
					}
					status, _, err := tryCall(ctx, p.url, http.MethodPut, "/api/visits/"+id, token, visitJSON(id, rev, fmt.Sprintf("ronde %d schrijver %d", round, w)))
					if err != nil {
						return // the bus is gone; what was not answered was not promised
					}
					if status == http.StatusCreated || status == http.StatusOK {
						mu.Lock()
						if rev > acked[id] {
							acked[id] = rev
						}
						total++
						mu.Unlock()
					} else if status != http.StatusConflict { // two writers may race for the same rev
						t.Errorf("PUT got %d", status)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		cancel()
		wg.Wait()
	}
	startBus(t, dir) // recovery happens on open
	checkAcknowledged(t, dir, acked, rounds)
	if total < rounds*10 {
		t.Fatalf("only %d writes were acknowledged over %d rounds; the kills came too early to prove anything", total, rounds)
	}
	t.Logf("%d acknowledged writes, %d visits, %d kills", total, len(acked), rounds)
}

// checkAcknowledged reads the database behind the bus's back and compares it
// with what the bus confirmed.
func checkAcknowledged(t *testing.T, dir string, acked map[string]int, round int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "bus.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("round %d: integrity check: %q %v", round, check, err)
	}
	rows, err := db.Query("SELECT id, rev FROM visits")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var rev int
		if err := rows.Scan(&id, &rev); err != nil {
			t.Fatal(err)
		}
		stored[id] = rev
	}
	lost := 0
	for id, rev := range acked {
		if stored[id] < rev {
			lost++
			if lost <= 5 {
				t.Errorf("round %d: visit %s was acknowledged at rev %d, the database has rev %d", round, id, rev, stored[id])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("round %d: %d acknowledged writes lost", round, lost)
	}
}
