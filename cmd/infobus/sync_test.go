package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
	infosync "infobus/sync"
)

// syncLogger discards: these tests make many failures on purpose.
func syncLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startOffice runs a real office server in-process on a free loopback port.
func startOffice(tb testing.TB, dataDir string) *OfficeMain {
	tb.Helper()
	m := &OfficeMain{Config: office.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Version: "test"}, Log: syncLogger()}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func openBusStore(tb testing.TB, dataDir string, now func() time.Time) *bus.Store {
	tb.Helper()
	s, err := bus.OpenStore(context.Background(), dataDir, syncLogger(), now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// enrollBus enrolls a bus with an office, reached at officeURL (a proxy in
// front of it, say).
func enrollBus(tb testing.TB, o *office.Store, b *bus.Store, name, officeURL string) infosync.Enrollment {
	tb.Helper()
	e, err := o.AddBus(context.Background(), name, officeURL)
	if err != nil {
		tb.Fatal(err)
	}
	if err := b.Enroll(context.Background(), e, false); err != nil {
		tb.Fatal(err)
	}
	return e
}

func syncClient(b *bus.Store, timeout time.Duration, batch int) *infosync.Client {
	return bus.NewSyncClient(b, bus.SyncConfig{Timeout: timeout, BatchSize: batch}, syncLogger())
}

// crew writes visits the way crews do: mostly new ones, sometimes a new rev
// of an earlier one. It remembers what it wrote.
type crew struct {
	newOnly bool // every write a new visit
	rng     *rand.Rand
	mu      sync.Mutex
	visits  map[string]schema.Visit
	order   []string
}

func newCrew(seed uint64) *crew {
	return &crew{rng: rand.New(rand.NewPCG(seed, 2)), visits: map[string]schema.Visit{}}
}

func (c *crew) write(tb testing.TB, b *bus.Store) {
	tb.Helper()
	c.mu.Lock()
	var v schema.Visit
	if len(c.order) > 0 && !c.newOnly && c.rng.IntN(3) == 0 {
		v = sampleEdit(c.rng, c.visits[c.order[c.rng.IntN(len(c.order))]])
	} else {
		v = sampleVisit(c.rng, time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC))
		c.order = append(c.order, v.ID)
	}
	c.visits[v.ID] = v
	c.mu.Unlock()
	// Two tablets editing one visit at once may reach the bus out of
	// order; the bus keeps the higher rev, as the crew's record does.
	if _, _, err := b.PutVisit(context.Background(), &v); err != nil && !errors.Is(err, bus.ErrStale) {
		tb.Errorf("put visit: %v", err)
	}
}

func allBusVisits(tb testing.TB, b *bus.Store) []bus.VisitView {
	tb.Helper()
	views, _, err := b.FindVisits(context.Background(), bus.VisitFilter{Limit: 1 << 30})
	if err != nil {
		tb.Fatal(err)
	}
	return views
}

// syncUntilDone syncs with a patient client until nothing is pending.
func syncUntilDone(tb testing.TB, b *bus.Store) {
	tb.Helper()
	c := syncClient(b, 10*time.Second, 0)
	var err error
	for range 10 {
		var rep infosync.Report
		if rep, err = c.Sync(context.Background(), nil); err == nil && rep.Pending == 0 {
			return
		}
	}
	tb.Fatalf("sync does not finish: %v", err)
}

// assertConverged checks that the office holds exactly the bus's visits at
// their latest rev, and the bus the office's follow-up status.
func assertConverged(tb testing.TB, b *bus.Store, o *office.Store, busID string) {
	tb.Helper()
	ctx := context.Background()
	views := allBusVisits(tb, b)
	revs, err := o.VisitRevs(ctx, busID)
	if err != nil {
		tb.Fatal(err)
	}
	if len(revs) != len(views) {
		tb.Errorf("got %d visits at the office, want the bus's %d", len(revs), len(views))
	}
	wrong := 0
	for _, v := range views {
		if revs[v.ID] != v.Rev {
			if wrong++; wrong <= 5 {
				tb.Errorf("visit %s: got rev %d at the office, want %d", v.ID, revs[v.ID], v.Rev)
			}
		}
		if v.State == bus.StateBus || v.State == bus.StateSetAside {
			tb.Errorf("visit %s: got state %s on the bus, want it at the office", v.ID, v.State)
		}
		got, err := o.FindVisitByID(ctx, v.ID)
		if err != nil {
			continue
		}
		if got.BusID != busID {
			tb.Errorf("visit %s: got bus %s at the office, want %s", v.ID, got.BusID, busID)
		}
		for i, f := range got.FollowUps {
			if f.StatusRev > 0 && v.FollowUps[i].FollowUpStatus != f.FollowUpStatus {
				tb.Errorf("follow-up %s: got %+v on the bus, want the office's %+v", f.ID, v.FollowUps[i].FollowUpStatus, f.FollowUpStatus)
			}
		}
	}
	if pending, _, _, _ := b.Backlog(ctx); pending != 0 {
		tb.Errorf("got %d pending on the bus, want 0", pending)
	}
	if sa, _ := o.SetAsideFor(ctx, busID); len(sa) != 0 {
		tb.Errorf("got %d records set aside at the office, want none", len(sa))
	}
}

// closeRandomFollowUp plays office staff: it finishes a follow-up the office has.
func closeRandomFollowUp(tb testing.TB, rng *rand.Rand, o *office.Store, c *crew) {
	tb.Helper()
	c.mu.Lock()
	var ids []string
	for _, id := range c.order {
		for _, f := range c.visits[id].FollowUps {
			ids = append(ids, f.ID)
		}
	}
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	status := []string{schema.StatusInProgress, schema.StatusDone, schema.StatusCancelled}[rng.IntN(3)]
	_, err := o.SetFollowUpStatus(context.Background(), ids[rng.IntN(len(ids))], status, "afgehandeld door de test")
	if err != nil && !errors.Is(err, office.ErrNotFound) { // not at the office yet
		tb.Fatal(err)
	}
}

// TestSyncThroughFaults writes visits and syncs through a proxy that drops,
// stalls, truncates and refuses requests at random, for 200 rounds: the
// office must end with exactly the bus's records at their latest rev.
func TestSyncThroughFaults(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	proxy := newFaultProxy(t, o.URL, 42)
	b := openBusStore(t, t.TempDir(), nil)
	e := enrollBus(t, o.Store, b, "bus", proxy.URL)
	// A short timeout so that stalls cost little; a slow machine only adds
	// failures, which the protocol must survive anyway.
	client := syncClient(b, 200*time.Millisecond, 4)
	c := newCrew(1)
	rng := rand.New(rand.NewPCG(7, 7))
	proxy.setRate(0.5)

	rounds := envInt("INFOBUS_SOAK_SYNC_ROUNDS", 200) // task soak raises it
	failures := 0
	for round := range rounds {
		for range 1 + rng.IntN(4) {
			c.write(t, b)
		}
		if round%10 == 0 {
			closeRandomFollowUp(t, rng, o.Store, c)
		}
		// Sometimes the crew saves while a sync runs.
		var wg sync.WaitGroup
		if rng.IntN(3) == 0 {
			wg.Go(func() { c.write(t, b) })
		}
		if _, err := client.Sync(ctx, nil); err != nil {
			failures++
		}
		wg.Wait()
	}
	proxy.setRate(0)
	syncUntilDone(t, b)
	assertConverged(t, b, o.Store, e.BusID)
	t.Logf("%d rounds, %d visits, %d failed syncs; faults: %v", rounds, len(c.order), failures, proxy.faultCounts())
	counts := proxy.faultCounts()
	for f := dropBeforeBody; f < numFaults; f++ {
		if counts[f.String()] == 0 {
			t.Errorf("fault %s never happened; the test proves less than it says", f)
		}
	}
}

// TestSyncIgnoresTheBusClock syncs the same writes with the bus's clock
// right, a day ahead, a day behind and jumping between the two: the
// office receives the same records in the same order each time.
func TestSyncIgnoresTheBusClock(t *testing.T) {
	ctx := context.Background()
	// One script of writes, replayed on every bus.
	rng := rand.New(rand.NewPCG(3, 3))
	var script []schema.Visit
	latest := map[string]schema.Visit{}
	var ids []string
	for range 60 {
		var v schema.Visit
		if len(ids) > 0 && rng.IntN(3) == 0 {
			v = sampleEdit(rng, latest[ids[rng.IntN(len(ids))]])
		} else {
			v = sampleVisit(rng, time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC))
			ids = append(ids, v.ID)
		}
		latest[v.ID] = v
		script = append(script, v)
	}
	var calls int
	var clockMu sync.Mutex
	clocks := []struct {
		name string
		now  func() time.Time
	}{
		{"right", time.Now},
		{"a day ahead", func() time.Time { return time.Now().Add(24 * time.Hour) }},
		{"a day behind", func() time.Time { return time.Now().Add(-24 * time.Hour) }},
		{"jumping", func() time.Time {
			clockMu.Lock()
			defer clockMu.Unlock()
			calls++
			return time.Now().Add(time.Duration(1-2*(calls%2)) * 24 * time.Hour)
		}},
	}
	var want []string
	for _, clock := range clocks {
		t.Run(clock.name, func(t *testing.T) {
			o := startOffice(t, t.TempDir())
			proxy := newFaultProxy(t, o.URL, 1)
			var mu sync.Mutex
			var pushed []string
			proxy.onPush = func(body []byte) {
				req, err := infosync.DecodePush(body, "gzip")
				if err != nil {
					t.Errorf("push body: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range req.Records {
					var v schema.Visit
					json.Unmarshal(r, &v)
					pushed = append(pushed, fmt.Sprintf("%s@%d", v.ID, v.Rev))
				}
			}
			b := openBusStore(t, t.TempDir(), clock.now)
			e := enrollBus(t, o.Store, b, "bus", proxy.URL)
			client := syncClient(b, 10*time.Second, 7)
			for i, v := range script {
				if _, _, err := b.PutVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
				if i%9 == 8 {
					if _, err := client.Sync(ctx, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			syncUntilDone(t, b)
			assertConverged(t, b, o.Store, e.BusID)
			mu.Lock()
			got := strings.Join(pushed, " ")
			mu.Unlock()
			if want == nil {
				want = pushed
			} else if got != strings.Join(want, " ") {
				t.Errorf("pushed in another order or set than with the right clock:\ngot  %s\nwant %s", got, strings.Join(want, " "))
			}
		})
	}
}

// TestSyncRefusals meets every refusal the office can give a whole push,
// and checks that each is clear and that a good batch still lands after it.
func TestSyncRefusals(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	b := openBusStore(t, t.TempDir(), nil)
	client := syncClient(b, 10*time.Second, 0)
	c := newCrew(5)
	c.write(t, b)

	// Not enrolled: nothing to do, and it says so.
	if _, err := client.Sync(ctx, nil); !errors.Is(err, infosync.ErrNotEnrolled) {
		t.Fatalf("unenrolled: got %v, want ErrNotEnrolled", err)
	}
	if st, _ := b.SyncStatus(ctx); st.Enrolled || st.Pending != 1 {
		t.Errorf("unenrolled: got status %+v, want not enrolled, 1 pending", st)
	}

	proxy := newFaultProxy(t, o.URL, 2)
	e := enrollBus(t, o.Store, b, "bus", proxy.URL)
	good := e

	versionProxy := &versionRewriter{target: o.URL}
	vts := startHTTP(t, versionProxy)

	tests := []struct {
		name       string
		enrollment func() infosync.Enrollment
		status     int
		code       string
		mention    string
	}{
		{"wrong token", func() infosync.Enrollment { x := good; x.BusToken = strings.Repeat("A", 43); return x }, 401, "unauthorized", "enroll"},
		{"bus unknown to this office", func() infosync.Enrollment {
			other := startOffice(t, t.TempDir())
			x, _ := other.Store.AddBus(ctx, "elders", other.URL)
			x.OfficeURL = proxy.URL
			return x
		}, 401, "unauthorized", "enroll"},
		{"newer bus", func() infosync.Enrollment { x := good; x.OfficeURL = vts; return x }, 426, "sync_version", "version 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.Enroll(ctx, tt.enrollment(), true); err != nil {
				t.Fatal(err)
			}
			c.write(t, b)
			_, err := client.Sync(ctx, nil)
			var re *infosync.RefusedError
			if !errors.As(err, &re) || re.Status != tt.status || re.ErrorBody.Error != tt.code || !strings.Contains(re.Message, tt.mention) {
				t.Fatalf("got %v, want %d %s mentioning %q", err, tt.status, tt.code, tt.mention)
			}
			if st, _ := b.SyncStatus(ctx); st.LastError == "" || st.Online {
				t.Errorf("got status %+v, want the error recorded", st)
			}
			// Back to the right enrollment: everything lands.
			if err := b.Enroll(ctx, good, true); err != nil {
				t.Fatal(err)
			}
			syncUntilDone(t, b)
			assertConverged(t, b, o.Store, good.BusID)
			if st, _ := b.SyncStatus(ctx); st.LastError != "" || !st.Online || st.Pending != 0 {
				t.Errorf("after a good sync: got status %+v, want online, no error, nothing pending", st)
			}
		})
	}
}

// versionRewriter forwards to the office as a bus of protocol version 2 would.
type versionRewriter struct{ target string }

func (v *versionRewriter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	out, _ := http.NewRequest(r.Method, v.target+r.URL.RequestURI(), bytes.NewReader(body))
	out.Header = r.Header.Clone()
	out.Header.Set(infosync.VersionHeader, "2")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func startHTTP(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := &http.Server{Handler: h}
	ln, err := netListen()
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// crewDo calls the bus's crew API as a tablet does.
func crewDo(tb testing.TB, base, method, path, token string, body any) (int, []byte) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func startBusMain(tb testing.TB, dataDir string) *BusMain {
	tb.Helper()
	m := &BusMain{Config: bus.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Version: "test"},
		Sync: bus.SyncConfig{Schedule: "@every 1h", Timeout: 10 * time.Second}, Log: syncLogger()}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func pairTablet(tb testing.TB, m *BusMain) string {
	tb.Helper()
	pc, err := m.Store.NewPairingCode(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	status, body := crewDo(tb, m.URL, http.MethodPost, "/api/pair", "", map[string]string{"pairing_code": pc.Code})
	if status != http.StatusCreated {
		tb.Fatalf("pair: got %d %s", status, body)
	}
	var d bus.Device
	json.Unmarshal(body, &d)
	return d.Token
}

type syncNowResult struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error"`
	Report infosync.Report `json:"report"`
	Status bus.SyncStatus  `json:"status"`
}

func syncNowOverHTTP(tb testing.TB, m *BusMain, token string) syncNowResult {
	tb.Helper()
	status, body := crewDo(tb, m.URL, http.MethodPost, "/api/sync", token, nil)
	var r syncNowResult
	if status != http.StatusOK || json.Unmarshal(body, &r) != nil || !r.OK {
		tb.Fatalf("POST /api/sync: got %d %s, want 200 and ok", status, body)
	}
	return r
}

func getVisitView(tb testing.TB, m *BusMain, token, id string) bus.VisitView {
	tb.Helper()
	status, body := crewDo(tb, m.URL, http.MethodGet, "/api/visits/"+id, token, nil)
	var v bus.VisitView
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil {
		tb.Fatalf("GET visit: got %d %s", status, body)
	}
	return v
}

// TestStatusRoundTrip follows one visit from tablet to office and its
// follow-up's status back, and a refused record from set aside to fixed,
// through the crew API over HTTP.
func TestStatusRoundTrip(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	busDir := t.TempDir()
	m := startBusMain(t, busDir)
	enrollBus(t, o.Store, m.Store, "bus", o.URL)
	token := pairTablet(t, m)
	rng := rand.New(rand.NewPCG(9, 9))

	v := sampleVisit(rng, time.Now())
	v.FollowUps = []schema.FollowUp{{ID: newV7(), Kind: schema.KindInformation, Description: "Informatie sturen over terrassen"}}
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, token, v); status != http.StatusCreated {
		t.Fatalf("PUT: got %d %s", status, body)
	}
	if got := getVisitView(t, m, token, v.ID).State; got != bus.StateBus {
		t.Errorf("before sync: got state %s, want %s", got, bus.StateBus)
	}
	if r := syncNowOverHTTP(t, m, token); r.Report.Pushed != 1 || r.Status.Pending != 0 {
		t.Errorf("first sync: got %+v, want 1 pushed, none pending", r)
	}
	view := getVisitView(t, m, token, v.ID)
	if view.State != bus.StateOffice {
		t.Errorf("after push: got state %s, want %s", view.State, bus.StateOffice)
	}

	// A question back: the new status reaches the crew, unfinished.
	if err := o.Store.AskQuestion(ctx, "sam@denhaag.nl", v.FollowUps[0].ID, "Op welk adres is het terras?"); err != nil {
		t.Fatal(err)
	}
	if r := syncNowOverHTTP(t, m, token); r.Report.Pulled != 1 {
		t.Errorf("sync after the question: got %+v, want 1 pulled", r.Report)
	}
	if w := getVisitView(t, m, token, v.ID); w.FollowUps[0].Status != schema.StatusWaiting || w.State == bus.StateHandled {
		t.Errorf("after the question: got state %s, status %q, want waiting and not handled", w.State, w.FollowUps[0].Status)
	}
	if _, err := o.Store.SetFollowUpStatus(ctx, v.FollowUps[0].ID, schema.StatusDone, "Informatie gemaild"); err != nil {
		t.Fatal(err)
	}
	if r := syncNowOverHTTP(t, m, token); r.Report.Pulled != 1 {
		t.Errorf("second sync: got %+v, want 1 pulled", r.Report)
	}
	handled := getVisitView(t, m, token, v.ID)
	if handled.State != bus.StateHandled || handled.FollowUps[0].Status != schema.StatusDone || handled.FollowUps[0].Resolution != "Informatie gemaild" {
		t.Errorf("after pull: got state %s, follow-up %+v, want handled and done", handled.State, handled.FollowUps[0].FollowUpStatus)
	}
	// A tablet polling since the seq it last saw sees the change.
	status, body := crewDo(t, m.URL, http.MethodGet, fmt.Sprintf("/api/visits?since=%d", view.Seq), token, nil)
	if status != http.StatusOK || !strings.Contains(string(body), v.ID) {
		t.Errorf("GET /api/visits?since=%d: got %d without the visit, want it listed", view.Seq, status)
	}

	// A record the office refuses: an older bus let a bad KvK number through.
	bad := sampleVisit(rng, time.Now())
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+bad.ID, token, bad); status != http.StatusCreated {
		t.Fatalf("PUT: got %d %s", status, body)
	}
	tamperBody(t, busDir, bad.ID, func(v *schema.Visit) { v.Business.KvK = "123" })
	r := syncNowOverHTTP(t, m, token)
	if r.Report.SetAside != 1 || r.Status.SetAside != 1 || r.Status.Pending != 0 {
		t.Errorf("sync with a bad record: got %+v, want it set aside and the queue empty", r)
	}
	aside := getVisitView(t, m, token, bad.ID)
	if aside.State != bus.StateSetAside || aside.SetAside == nil || aside.SetAside.Fields["business.kvk"].NL == "" {
		t.Fatalf("got state %s, set aside %+v, want set_aside with the office's reason for business.kvk", aside.State, aside.SetAside)
	}
	// The crew fix it: a new rev clears the set-aside and lands.
	fixed := bad
	fixed.Rev = 2
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+bad.ID, token, fixed); status != http.StatusOK {
		t.Fatalf("PUT fix: got %d %s", status, body)
	}
	if r := syncNowOverHTTP(t, m, token); r.Report.Pushed != 1 || r.Report.SetAside != 0 || r.Status.SetAside != 0 {
		t.Errorf("sync with the fix: got %+v, want it pushed and nothing set aside", r)
	}
	if got := getVisitView(t, m, token, bad.ID); got.State != bus.StateOffice || got.SetAside != nil {
		t.Errorf("after the fix: got state %s, set aside %+v, want at the office", got.State, got.SetAside)
	}
}

// tamperBody changes a stored visit behind the store's back, as a bug or
// an older binary might have written it.
func tamperBody(tb testing.TB, busDir, id string, change func(*schema.Visit)) {
	tb.Helper()
	db, err := schema.Open(context.Background(), filepath.Join(busDir, bus.DatabaseFile), schema.BusDatabase)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var body string
	if err := db.Read.QueryRow(`SELECT body FROM visits WHERE id = ?`, id).Scan(&body); err != nil {
		tb.Fatal(err)
	}
	var v schema.Visit
	json.Unmarshal([]byte(body), &v)
	change(&v)
	nb, _ := json.Marshal(v)
	if _, err := db.Write.Exec(`UPDATE visits SET body = ? WHERE id = ?`, string(nb), id); err != nil {
		tb.Fatal(err)
	}
}

// waitPending waits until the bus has nothing pending, or gives up.
func waitPending(tb testing.TB, b *bus.Store, within time.Duration) bool {
	tb.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if pending, _, _, err := b.Backlog(context.Background()); err == nil && pending == 0 {
			return true
		}
	}
	return false
}

// TestSyncerSchedulesAndProbes runs the bus's syncer as `infobus bus` does:
// when the office was out of reach, the probe notices its return and syncs
// without waiting out the backoff; and the cron schedule pushes new visits.
func TestSyncerSchedulesAndProbes(t *testing.T) {
	ctx := context.Background()
	officeAddr := freeAddr(t)
	officeDir := t.TempDir()
	// Enroll while the office is down, as after a power cut at the office.
	o, err := office.OpenStore(ctx, officeDir, syncLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := o.AddBus(ctx, "bus", "http://"+officeAddr)
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	startBusWith := func(cfg bus.SyncConfig) *BusMain {
		m := &BusMain{Config: bus.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Version: "test"}, Sync: cfg, Log: syncLogger()}
		if err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	// A schedule and a backoff far longer than the test: only the probe
	// can bring the visit across.
	m := startBusWith(bus.SyncConfig{Schedule: "@every 1h", Timeout: 2 * time.Second,
		BackoffBase: time.Hour, BackoffMax: time.Hour, ProbeInterval: 100 * time.Millisecond})
	token := pairTablet(t, m)
	crewSync := func(wantStatus int, wantCode string) {
		t.Helper()
		status, body := crewDo(t, m.URL, http.MethodPost, "/api/sync", token, nil)
		if status != wantStatus || !strings.Contains(string(body), `"error":"`+wantCode+`"`) || !strings.Contains(string(body), "message_nl") {
			t.Errorf("POST /api/sync: got %d %s, want %d %s with messages", status, body, wantStatus, wantCode)
		}
	}
	crewSync(http.StatusConflict, "not_enrolled")
	if err := m.Store.Enroll(ctx, e, false); err != nil {
		t.Fatal(err)
	}
	c := newCrew(31)
	c.write(t, m.Store)
	crewSync(http.StatusBadGateway, "sync_failed")
	if _, err := m.Syncer.SyncNow(ctx); err == nil || !infosync.Offline(err) {
		t.Fatalf("sync with the office down: got %v, want an offline error", err)
	}
	if st, _ := m.Store.SyncStatus(ctx); st.Online || st.LastError == "" || st.Pending != 1 {
		t.Errorf("got status %+v, want offline with the error and 1 pending", st)
	}
	om := &OfficeMain{Config: office.Config{Addr: officeAddr, DataDir: officeDir, Version: "test"}, Log: syncLogger()}
	if err := om.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { om.Close() })
	// The visit is acknowledged before the sync has pulled and recorded
	// its success: wait for the whole sync, not just the push.
	var st bus.SyncStatus
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err = m.Store.SyncStatus(ctx); err == nil && st.Pending == 0 && st.Online {
			break
		}
	}
	if !st.Online || st.LastError != "" || st.PushedTotal != 1 || st.Pending != 0 {
		t.Errorf("got status %+v after the office came back, want online with 1 pushed", st)
	}

	// The schedule, with the office up all along.
	scheduled := startBusWith(bus.SyncConfig{Schedule: "@every 1s", Timeout: 2 * time.Second})
	e2 := enrollBus(t, om.Store, scheduled.Store, "scheduled bus", om.URL)
	newCrew(32).write(t, scheduled.Store)
	if !waitPending(t, scheduled.Store, 30*time.Second) {
		t.Fatal("the schedule did not sync")
	}
	assertConverged(t, scheduled.Store, om.Store, e2.BusID)
}
