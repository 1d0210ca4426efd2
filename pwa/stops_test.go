package pwa_test

// Browser tests of the bus's day: today's stop chosen from the office's
// plan, a quick contact and a visit made offline that both arrive, and the
// history of a business another bus visited.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
)

// dayFixture is an office with a plan for the bus, and history from
// another bus in the plan's wijk, pulled by the bus.
type dayFixture struct {
	o    *testOffice
	b    *testBus
	stop schema.Stop
}

func newDayFixture(t *testing.T) *dayFixture {
	t.Helper()
	ctx := context.Background()
	o := startOffice(t)
	b := startBus(t)
	e := o.addBus("Infobus Centrum")
	b.enroll(e)
	today := time.Now().In(schema.Zone).Format(time.DateOnly)
	st, err := o.store.AddStop(ctx, "planner@example.nl", schema.Stop{BusID: e.BusID, Date: today, Start: "00:00", End: "23:59", Place: "Markt Leyweg", Wijk: "WK051828"})
	if err != nil {
		t.Fatal(err)
	}
	other := o.addBus("Infobus Zuid")
	sendFromBus(t, other, map[string]any{
		"id": schema.NewUUIDv7(time.Now()), "rev": 1, "visited_at": "2026-05-12T10:00:00+02:00", "wijk": "WK051828",
		"business": map[string]any{"name": "Bakkerij De Korrel", "kvk": "27300014", "address": map[string]any{"postcode": "2541AB"}},
		"topics":   []string{"vergunningen"}, "notes": "Vertrouwelijk",
		"followups": []map[string]any{{"id": schema.NewUUIDv7(time.Now()), "kind": "information", "description": "Folder sturen", "department": "vergunningen"}},
	})
	if _, err := bus.NewSyncClient(b.store, bus.SyncConfig{Timeout: 10 * time.Second}, quietLogger(t)).Sync(ctx, nil); err != nil {
		t.Fatalf("sync the plan: %v", err)
	}
	return &dayFixture{o: o, b: b, stop: st}
}

// chooseToday opens the day screen and chooses the planned stop.
func (f *dayFixture) chooseToday(p *tab) {
	p.tb.Helper()
	p.click("nav-day")
	p.screen("day")
	p.waitFor("the planned stop", fmt.Sprintf(`!!document.getElementById('day-stop-%s')`, f.stop.ID))
	p.click("day-stop-" + f.stop.ID)
	p.waitFor("the stop chosen", appDB+fmt.Sprintf(`.then(db => db.get('settings')).then(s => s.stopId === %q && s.stopWijk === 'WK051828' && s.stop === 'Markt Leyweg')`, f.stop.ID))
}

func TestBrowserBusDay(t *testing.T) {
	f := newDayFixture(t)
	p := newTab(t, f.b)
	p.pair()
	f.chooseToday(p)
	p.waitFor("the open question in the wijk", `document.getElementById('open-followups').textContent.includes('Bakkerij De Korrel')`)
	if got := eval[string](p, `document.getElementById('open-followups').textContent`); contains([]string{got}, "Vertrouwelijk") {
		t.Errorf("the wijk view shows notes: %q", got)
	}

	// Offline: a quick contact in one tap here (two from anywhere: the
	// day in the menu, then the kind), and a visit.
	p.setOffline(true)
	p.click("quick-flyer")
	p.waitFor("the tap counted", `document.querySelector('#quick-flyer .quick-n').textContent === '(1)'`)
	p.click("day-new-visit")
	p.screen("form")
	if got := p.value("wijk"); got != "WK051828" {
		t.Errorf("the form's wijk is %q, want today's stop's WK051828", got)
	}
	p.typeInto("business-kvk", "27300014")
	p.waitFor("the earlier visit by another bus", `!document.getElementById('history-box').hidden && document.getElementById('history-list').textContent.includes('Bakkerij De Korrel')`)
	p.typeInto("business-name", "Bakkerij De Korrel")
	// The crew scroll to the chips; the sticky save bar covers them until then.
	eval[chromedp.Void](p, `document.getElementById('topic-vergunningen').scrollIntoView({block: 'center'})`)
	p.click("topic-vergunningen")
	p.click("save")
	p.screen("list")
	id := eval[string](p, `document.querySelector('[data-visit-id]').dataset.visitId`)
	p.waitFor("the visit waiting on the tablet", rowState(id)+` === 'tablet'`)
	if n := eval[int](p, appDB+`.then(db => db.get('extras')).then(x => x.length)`); n != 1 {
		t.Errorf("%d quick contacts wait on the tablet, want 1", n)
	}

	// Back in reach: both arrive on the bus, and at the office once.
	p.setOffline(false)
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	p.waitFor("the quick contact on the bus", appDB+`.then(db => db.get('extras')).then(x => x.length === 0)`)
	v, err := f.b.store.FindVisitByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Stop != "Markt Leyweg" || v.Wijk != "WK051828" {
		t.Errorf("the visit's stop %q in %q, want today's stop Markt Leyweg in WK051828", v.Stop, v.Wijk)
	}
	p.click("sync-now")
	p.waitFor("the visit at the office", rowState(id)+` === 'office'`)
	counts, err := f.o.store.QuickContactCounts(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "WK051828")
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != 1 || counts.ByKind[schema.QuickFlyer] != 1 {
		t.Errorf("the office counts %+v, want one flyer", counts)
	}
	stops, err := f.o.store.Stops(context.Background(), office.StopFilter{})
	if err != nil || len(stops) != 1 {
		t.Errorf("office stops %+v, %v; want the one planned", stops, err)
	}
}

// TestBrowserUnplannedStop adds a stop on the spot, which syncs back to
// the office and shows there as unplanned.
func TestBrowserUnplannedStop(t *testing.T) {
	f := newDayFixture(t)
	p := newTab(t, f.b)
	p.pair()
	p.click("nav-day")
	p.screen("day")
	p.click("day-add-save")
	p.waitFor("the missing place said", `document.getElementById('day-add-error').textContent !== ''`)
	p.typeInto("day-place", "Hoek Kempstraat")
	p.choose("day-wijk", "WK051828")
	p.click("day-add-save")
	p.waitFor("the new stop chosen", appDB+`.then(db => db.get('settings')).then(s => s.stop === 'Hoek Kempstraat' && s.stopWijk === 'WK051828')`)
	p.waitFor("the stop on the bus", appDB+`.then(db => db.get('extras')).then(x => x.length === 0)`)
	if _, err := bus.NewSyncClient(f.b.store, bus.SyncConfig{Timeout: 10 * time.Second}, quietLogger(t)).Sync(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	stops, err := f.o.store.Stops(context.Background(), office.StopFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range stops {
		found = found || (s.Place == "Hoek Kempstraat" && !s.Planned)
	}
	if !found {
		t.Errorf("the office holds %+v, want the unplanned stop at Hoek Kempstraat", stops)
	}
}

func TestBrowserDayAccessibility(t *testing.T) {
	axe := axeSource(t)
	f := newDayFixture(t)
	p := newTab(t, f.b)
	p.pair()
	p.click("nav-day")
	p.screen("day")
	p.checkAxe("the day screen", axe)
	p.click("day-add-save")
	p.waitFor("the error", `document.getElementById('day-add-error').textContent !== ''`)
	p.checkAxe("the day screen with an error", axe)
	f.chooseToday(p)
	p.click("quick-flyer")
	p.waitFor("the tap counted", `document.querySelector('#quick-flyer .quick-n').textContent === '(1)'`)
	p.waitFor("the open question in the wijk", `document.getElementById('open-followups').textContent.includes('Bakkerij De Korrel')`)
	p.checkAxe("the day screen with a stop, a tally and open questions", axe)
	p.click("day-new-visit")
	p.screen("form")
	p.typeInto("business-kvk", "27300014")
	p.waitFor("the history", `!document.getElementById('history-box').hidden`)
	p.checkAxe("the form with a business's history", axe)
}
