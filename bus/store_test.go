package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"infobus/schema"
	infosync "infobus/sync"
)

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	store := mustOpenStore(t, dir, nil)
	b := mustStartBus(t, store)
	token := b.pair()
	sent := map[string]map[string]any{}
	for i := range 20 {
		v := newVisit(t, i)
		if i%4 == 0 {
			v["rev"] = 1
			b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v)
			v["rev"], v["notes"] = 2, fmt.Sprintf("Tweede versie %d", i)
		}
		if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v); status/100 != 2 {
			t.Fatalf("put: got %d %s", status, body)
		}
		sent[v["id"].(string)] = v
	}
	b.stop()
	if err := store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	store = mustOpenStore(t, dir, nil)
	defer store.Close()
	b = mustStartBus(t, store)
	// The token must survive the restart too: a tablet does not re-pair.
	for id, v := range sent {
		status, body := b.do(http.MethodGet, "/api/visits/"+id, token, nil)
		if status != http.StatusOK {
			t.Fatalf("get %s after restart: got %d %s", id, status, body)
		}
		got := decodeView(t, body)
		if got.Business.Name != v["business"].(map[string]any)["name"] || got.Notes != v["notes"] || got.Rev != int64(v["rev"].(int)) {
			t.Errorf("%s: got %q %q rev %d, want %q %q rev %v", id, got.Business.Name, got.Notes, got.Rev,
				v["business"].(map[string]any)["name"], v["notes"], v["rev"])
		}
		if len(got.FollowUps) != 1 || got.Contact == nil || got.Rating == nil || *got.Rating != 7 {
			t.Errorf("%s: follow-ups, contact or rating lost: %+v", id, got.Visit)
		}
	}
	if n := countVisits(t, store); n != len(sent) {
		t.Errorf("got %d rows, want %d", n, len(sent))
	}
	if err := store.IntegrityCheck(context.Background()); err != nil {
		t.Error(err)
	}
}

// 32 tablets saving at once must all be answered and all be stored: group
// commit may not lose a write or turn contention into "database is locked".
func TestConcurrentClients(t *testing.T) {
	const clients, perClient = 32, 100
	store := mustOpenStore(t, "", nil)
	b := mustStartBus(t, store)
	token := b.pair()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				v := newVisit(t, c*perClient+i)
				status, body, err := request(b.url, http.MethodPut, "/api/visits/"+v["id"].(string), token, v)
				if err != nil || status != http.StatusCreated {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("client %d visit %d: %d %s %v", c, i, status, body, err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d failed, first: %s", len(failed), failed[0])
	}
	if n := countVisits(t, store); n != clients*perClient {
		t.Fatalf("got %d rows, want %d", n, clients*perClient)
	}
	var distinctSeq int
	if err := store.db.Read.QueryRow(`SELECT count(DISTINCT seq) FROM visits`).Scan(&distinctSeq); err != nil {
		t.Fatal(err)
	}
	if distinctSeq != clients*perClient {
		t.Errorf("got %d distinct seq values, want one per visit", distinctSeq)
	}
}

// One write that fails inside a group commit must not take its neighbours
// down with it.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%8 == 0 {
				errs[i] = store.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
					if err := schema.PutSetting(ctx, tx, fmt.Sprint("bad", i), "half"); err != nil {
						return err
					}
					return errors.New("refused after writing")
				})
				return
			}
			errs[i] = store.PutSetting(ctx, fmt.Sprint("good", i), "kept")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%8 == 0) != (err != nil) {
			t.Errorf("write %d: got err %v", i, err)
		}
	}
	rows, err := store.db.Read.Query(`SELECT key FROM settings WHERE key != 'epoch'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var good int
	for rows.Next() {
		var k string
		rows.Scan(&k)
		if strings.HasPrefix(k, "bad") {
			t.Errorf("found %s: a failed write left half its changes", k)
		}
		good++
	}
	if want := 64 - 8; good != want {
		t.Errorf("got %d settings, want %d", good, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	store := mustOpenStore(t, dir, nil)
	if _, err := store.db.Write.Exec(fmt.Sprintf("PRAGMA user_version = %d", schema.LatestVersion(schema.BusDatabase)+1)); err != nil {
		t.Fatal(err)
	}
	store.Close()
	_, err := OpenStore(context.Background(), dir, testLogger(t), nil)
	if !errors.Is(err, schema.ErrSchemaTooNew) {
		t.Fatalf("got %v, want ErrSchemaTooNew", err)
	}
}

// Reading a long list must not run into SQLite's cap on bound variables
// (32766): the follow-up status and set-aside lookups pass ids as one list.
func TestFindVisitsLongList(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	const n = 33000
	tx, err := store.db.Write.Begin()
	if err != nil {
		t.Fatal(err)
	}
	insert, err := tx.Prepare(`INSERT INTO visits (id, rev, seq, crew_seq, created_seq, crew_hash, body, wijk, search, device_id, received_at)
VALUES (?1, 1, ?2, ?2, ?2, x'00', ?3, 'WK051801', '', 'd', '2026-11-26T14:00:00Z')`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("019ac0de-0000-7000-8000-%012d", i)
		body := fmt.Sprintf(`{"id":%q,"rev":1,"followups":[{"id":"019ac0de-0000-7000-9000-%012d","kind":"visit"}]}`, id, i)
		if _, err := insert.Exec(id, i, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	views, _, err := store.FindVisits(context.Background(), VisitFilter{Limit: n})
	if err != nil {
		t.Fatalf("got %v, want %d visits", err, n)
	}
	if len(views) != n {
		t.Fatalf("got %d visits, want %d", len(views), n)
	}
}

// A store opened without a logger must still log, into nothing, rather
// than panic the first time it has something to say: here a pulled status
// the bus skips with a warning.
func TestOpenStoreWithoutLogger(t *testing.T) {
	ctx := context.Background()
	store, err := OpenStore(ctx, t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	resp := &infosync.PullResponse{Next: 7, Statuses: []infosync.StatusChange{{
		FollowUpID: "f1", VisitID: "v1",
		FollowUpStatus: schema.FollowUpStatus{Status: "no such status", StatusRev: 1},
	}}}
	changed, err := store.ApplyPull(ctx, resp)
	if err != nil {
		t.Fatalf("apply pull: got err %v, want nil", err)
	}
	if changed != 0 {
		t.Errorf("changed: got %d, want 0", changed)
	}
	cursor, err := store.PullCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cursor != 7 {
		t.Errorf("pull cursor: got %d, want 7", cursor)
	}
}
