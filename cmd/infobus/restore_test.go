package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/office"
	"infobus/schema"
)

// TestBackupDuringWrites takes a backup of a bus while four writers keep
// storing visits: the restored copy passes integrity_check and holds every
// visit acknowledged before the backup began.
func TestBackupDuringWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openBusStore(t, dir, nil)
	var (
		mu    sync.Mutex
		acked = map[string]int64{}
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := sampleVisit(rng, time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC))
				if _, _, err := b.PutVisit(ctx, &v); err != nil {
					t.Errorf("put visit: %v", err)
					return
				}
				mu.Lock()
				acked[v.ID] = v.Rev
				mu.Unlock()
			}
		})
	}
	for len(snapshotOf(&mu, acked)) < 300 {
		time.Sleep(5 * time.Millisecond)
	}
	before := snapshotOf(&mu, acked)
	out := filepath.Join(t.TempDir(), "bus.tar.gz")
	res, err := backup.Create(ctx, dir, out, "test")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	after := snapshotOf(&mu, acked)
	if len(after) <= len(before) {
		t.Fatalf("got %d visits written after the backup began, want writes to go on during it", len(after)-len(before))
	}
	target := t.TempDir()
	if _, err := backup.Restore(ctx, out, target); err != nil {
		t.Fatal(err)
	}
	r := openBusStore(t, target, nil)
	if err := r.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id, rev := range before {
		v, err := r.FindVisitByID(ctx, id)
		if err != nil || v.Rev < rev {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("got %d of %d visits acknowledged before the backup missing from it", missing, len(before))
	}
	if r.Epoch() == b.Epoch() || r.Epoch() == "" {
		t.Errorf("got epoch %q after restore, want a new one (was %q)", r.Epoch(), b.Epoch())
	}
	t.Logf("%d visits acknowledged before the backup, %d in the copy's manifest time, %d in all; %d bytes", len(before), len(after), len(acked), res.Bytes)
}

func snapshotOf(mu *sync.Mutex, m map[string]int64) map[string]int64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// startOfficeAt runs an office in-process on addr, so that a restart comes
// back where its buses look for it.
func startOfficeAt(tb testing.TB, addr, dataDir string) *OfficeMain {
	tb.Helper()
	m := &OfficeMain{Config: office.Config{Addr: addr, DataDir: dataDir, Version: "test"}, Log: syncLogger(),
		Backup: backup.Config{Schedule: backup.Off}}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// TestOfficeRestoreLosesNothing: a bus delivers visits A, the office is
// backed up, the bus delivers visits B (and edits of A), the office is
// restored from the backup; the next sync leaves the office holding A and
// B exactly once at their latest rev, and follow-up status set after the
// restore reaches the bus.
func TestOfficeRestoreLosesNothing(t *testing.T) {
	ctx := context.Background()
	addr, officeDir := freeAddr(t), t.TempDir()
	o := startOfficeAt(t, addr, officeDir)
	b := openBusStore(t, t.TempDir(), nil)
	e := enrollBus(t, o.Store, b, "Bus Noord", "http://"+addr)
	c := newCrew(41)
	rng := rand.New(rand.NewPCG(41, 42))
	writeVisits(t, b, c, 120)
	syncUntilDone(t, b)
	closeRandomFollowUp(t, rng, o.Store, c)
	syncUntilDone(t, b)

	out := filepath.Join(t.TempDir(), "office.tar")
	if _, err := backup.Create(ctx, officeDir, out, "test"); err != nil {
		t.Fatal(err)
	}
	writeVisits(t, b, c, 150) // new visits and edits of earlier ones
	syncUntilDone(t, b)

	if _, err := backup.Restore(ctx, out, officeDir); !errors.Is(err, backup.ErrInUse) {
		t.Fatalf("restore beside a running office: got %v, want %v", err, backup.ErrInUse)
	}
	o.Close()
	if _, err := backup.Restore(ctx, out, officeDir); err != nil {
		t.Fatal(err)
	}
	o = startOfficeAt(t, addr, officeDir)
	revs, _ := o.Store.VisitRevs(ctx, e.BusID)
	if len(revs) >= len(c.order) {
		t.Fatalf("the restored office holds %d visits, want fewer than the bus's %d", len(revs), len(c.order))
	}
	for range 3 {
		closeRandomFollowUp(t, rng, o.Store, c)
	}
	rep, err := syncClient(b, 10*time.Second, 0).Sync(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed == 0 {
		t.Errorf("the sync after the restore pushed nothing, want the visits the office lost")
	}
	assertConverged(t, b, o.Store, e.BusID)
	if revs, _ := o.Store.VisitRevs(ctx, e.BusID); len(revs) != len(c.order) {
		t.Errorf("got %d visits at the office, want %d", len(revs), len(c.order))
	}
	for id, v := range c.visits {
		got, err := o.Store.FindVisitByID(ctx, id)
		if err != nil || got.Rev != v.Rev {
			t.Errorf("visit %s: got %v at the office, want rev %d", id, err, v.Rev)
		}
	}
	t.Logf("after the restore one sync pushed %d visits in %d batches", rep.Pushed, rep.Batches)
}

// tablet is a test client that keeps visits the way the app does
// (pwa/app/db.js, outbox.js): every visit it saved, and an outbox of those
// whose current rev the bus has not stored. Like the app, it watches the
// bus's epoch, and when it changes re-queues the visits the bus no longer
// has (outbox.js, checkEpoch).
type tablet struct {
	tb     testing.TB
	base   string
	token  string
	visits map[string]schema.Visit
	outbox map[string]bool
	epoch  string
}

func (tab *tablet) save(v schema.Visit) {
	tab.visits[v.ID] = v
	tab.outbox[v.ID] = true
}

func (tab *tablet) do(method, path, body string) (int, []byte) {
	tab.tb.Helper()
	req, err := http.NewRequest(method, tab.base+path, strings.NewReader(body))
	if err != nil {
		tab.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tab.token)
	resp, err := client.Do(req)
	if err != nil {
		tab.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tab.tb.Fatal(err)
	}
	tab.noticeEpoch(resp.Header.Get(bus.EpochHeader))
	return resp.StatusCode, data
}

// noticeEpoch is outbox.js's checkEpoch.
func (tab *tablet) noticeEpoch(epoch string) {
	if epoch == "" || epoch == tab.epoch {
		return
	}
	known := tab.epoch
	tab.epoch = epoch // set first: the GETs below carry it too
	if known == "" {
		return
	}
	for id, v := range tab.visits {
		if tab.outbox[id] {
			continue
		}
		status, body := tab.do(http.MethodGet, "/api/visits/"+id, "")
		var view struct {
			Rev int64 `json:"rev"`
		}
		json.Unmarshal(body, &view)
		if status == http.StatusNotFound || (status == http.StatusOK && view.Rev < v.Rev) {
			tab.outbox[id] = true
		}
	}
}

func (tab *tablet) flush() {
	tab.tb.Helper()
	for id := range tab.outbox {
		v := tab.visits[id]
		body, _ := json.Marshal(v.CrewOwned())
		status, out := tab.do(http.MethodPut, "/api/visits/"+id, string(body))
		if status != http.StatusOK && status != http.StatusCreated {
			tab.tb.Fatalf("PUT %s: got %d %s", id, status, out)
		}
		delete(tab.outbox, id)
	}
}

// TestBusRestoreTabletsResend: a tablet delivers visits A, the bus is
// backed up, the tablet delivers visits B and the bus passes them to the
// office, the bus is restored from the backup. The tablet sees the bus's
// new epoch and sends B again; the office ends with A and B exactly once,
// and the bus with both.
func TestBusRestoreTabletsResend(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	busDir, busAddr := t.TempDir(), freeAddr(t)
	startBusAt := func() *BusMain {
		m := &BusMain{Config: bus.Config{Addr: busAddr, DataDir: busDir, Version: "test"}, Log: syncLogger(),
			Sync: bus.SyncConfig{Schedule: "@every 1h"}, Backup: backup.Config{Schedule: backup.Off}}
		if err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	m := startBusAt()
	e := enrollBus(t, o.Store, m.Store, "Bus Zuid", o.URL)
	pc, err := m.Store.NewPairingCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, m.URL, http.MethodPost, "/api/pair", "", fmt.Sprintf(`{"pairing_code":%q}`, pc.Code))
	if status != http.StatusCreated {
		t.Fatalf("pair: got %d %s", status, body)
	}
	var dev struct {
		Token string `json:"device_token"`
	}
	json.Unmarshal(body, &dev)
	tab := &tablet{tb: t, base: m.URL, token: dev.Token, visits: map[string]schema.Visit{}, outbox: map[string]bool{}}
	rng := rand.New(rand.NewPCG(5, 6))
	at := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	for range 40 {
		tab.save(sampleVisit(rng, at))
	}
	tab.flush()
	if _, err := m.Syncer.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "bus.tar.gz")
	if _, err := backup.Create(ctx, busDir, out, "test"); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		tab.save(sampleVisit(rng, at))
	}
	for id := range tab.visits { // and edits of visits from before the backup
		if !tab.outbox[id] && rng.IntN(4) == 0 {
			tab.save(sampleEdit(rng, tab.visits[id]))
		}
	}
	tab.flush()
	if _, err := m.Syncer.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := backup.Restore(ctx, out, busDir); err != nil {
		t.Fatal(err)
	}
	m = startBusAt()
	if got := len(allBusVisits(t, m.Store)); got >= len(tab.visits) {
		t.Fatalf("the restored bus holds %d visits, want fewer than the tablet's %d", got, len(tab.visits))
	}
	tab.do(http.MethodGet, "/api/sync/status", "")
	if len(tab.outbox) == 0 {
		t.Fatal("the tablet re-queued nothing after the bus's restore")
	}
	tab.flush()
	if _, err := m.Syncer.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	views := allBusVisits(t, m.Store)
	if len(views) != len(tab.visits) {
		t.Errorf("got %d visits on the bus, want the tablet's %d", len(views), len(tab.visits))
	}
	for _, v := range views {
		if want := tab.visits[v.ID].Rev; v.Rev != want {
			t.Errorf("visit %s: got rev %d on the bus, want %d", v.ID, v.Rev, want)
		}
	}
	assertConverged(t, m.Store, o.Store, e.BusID)
	if builds, _ := o.Store.BusBuilds(ctx); builds[e.BusID] != "test" {
		t.Errorf("got build %q recorded for the bus, want %q", builds[e.BusID], "test")
	}
}

// TestBackupRestoreCommands runs the two verbs as a person would, and
// checks that mistakes are usage errors (exit code 2) that say what to do.
func TestBackupRestoreCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := startOfficeAt(t, freeAddr(t), dir)
	file := filepath.Join(t.TempDir(), "office.tar.gz")
	var out, errOut strings.Builder
	if err := run(ctx, []string{"backup", "--data", dir, "--out", file}, &out, &errOut); err != nil {
		t.Fatalf("backup: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Backed up the office") {
		t.Errorf("backup said %q", out.String())
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"backup without --data", []string{"backup"}, "--data is required"},
		{"backup of a dir that is no data dir", []string{"backup", "--data", t.TempDir()}, "neither bus.db nor office.db"},
		{"restore without a file", []string{"restore", "--data", dir}, "FILE"},
		{"restore without --data", []string{"restore", file}, "--data is required"},
		{"restore beside a running office", []string{"restore", file, "--data", dir}, "in use by a running server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := run(ctx, tc.args, &stdout, &stderr)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error saying %q", err, tc.want)
			}
		})
	}
	o.Close()
	out.Reset()
	if err := run(ctx, []string{"restore", file, "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out.String(), "Restored the office backup") || !strings.Contains(out.String(), "replaced-") {
		t.Errorf("restore said %q", out.String())
	}
}
