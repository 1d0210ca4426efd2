package pwa_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"infobus/bus"
	"infobus/internal/backup"
)

// TestBrowserBusRestore: the tablet delivers visit A, the bus is backed
// up, the tablet delivers visit B, the bus is restored from the backup.
// The app sees the bus's new epoch and sends B again (outbox.js,
// checkEpoch); the bus ends with both, and A is not sent twice as new.
func TestBrowserBusRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := bus.OpenStore(ctx, dir, quietLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &testBus{tb: t, store: store, addr: ln.Addr().String()}
	b.url = "http://" + b.addr
	b.serve(ln)
	t.Cleanup(func() { b.stop(); b.store.Close() })

	p := newTab(t, b)
	p.pair()
	a := p.logVisit(visit{name: "Bakkerij Voor", street: "Leyweg", number: "1", postcode: "2545 CH", city: "Den Haag",
		wijk: "WK051840", sector: "detailhandel", topics: []string{"vergunningen"}})
	p.waitFor("visit A on the bus", rowState(a)+` === 'bus'`)
	out := filepath.Join(t.TempDir(), "bus.tar")
	if _, err := backup.Create(ctx, dir, out, "test"); err != nil {
		t.Fatal(err)
	}
	bb := p.logVisit(visit{name: "Bakkerij Na", street: "Leyweg", number: "2", postcode: "2545 CH", city: "Den Haag",
		wijk: "WK051840", sector: "detailhandel", topics: []string{"subsidies"}})
	p.waitFor("visit B on the bus", rowState(bb)+` === 'bus'`)

	// The app is closed while the laptop is restored: no request of its
	// keeps the bus's shutdown waiting.
	p.do("close the app", chromedp.Navigate("about:blank"))
	b.stop()
	b.store.Close()
	if _, err := backup.Restore(ctx, out, dir); err != nil {
		t.Fatal(err)
	}
	if b.store, err = bus.OpenStore(ctx, dir, quietLogger(t), nil); err != nil {
		t.Fatal(err)
	}
	b.restart()
	if _, err := b.store.FindVisitByID(ctx, bb); err == nil {
		t.Fatal("the restored bus already holds visit B; the test restores nothing")
	}
	opened := time.Now()
	p.open("/")
	// The app checks the epoch of the answers it had before it started
	// sending, and of every answer after; it should not need a poll (30 s)
	// for it. The deadline is for a slow machine, not a timing claim.
	deadline := time.Now().Add(75 * time.Second)
	for {
		if _, err := b.store.FindVisitByID(ctx, bb); err == nil {
			t.Logf("visit B was back on the bus %.1f s after the app opened", time.Since(opened).Seconds())
			break
		}
		if time.Now().After(deadline) {
			p.dump()
			t.Fatal("the tablet did not send visit B again to the restored bus")
		}
		time.Sleep(100 * time.Millisecond)
	}
	ids := map[string]bool{}
	for _, v := range b.visits() {
		ids[v.ID] = true
	}
	if !ids[a] || !ids[bb] || len(ids) != 2 {
		t.Errorf("got visits %v on the restored bus, want A %s and B %s", ids, a, bb)
	}
}
