package pwa_test

// Browser tests: the tablet app in Debian's Chromium, driven through
// chromedp, against a real bus on a loopback listener (a secure context, so
// the service worker runs as it does on a tablet over HTTPS).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"infobus/bus"
)

// TestBrowserLogVisit pairs a tablet through the pairing link and logs a
// visit through the form; the bus then holds it with the fields as typed,
// in the form the bus keeps them.
func TestBrowserLogVisit(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()

	id := p.logVisit(visit{
		name: "Bakkerij De Korenschoof", kvk: "2734 5678",
		street: "Leyweg", number: "12a", postcode: "2545 ch", city: "Den Haag",
		wijk: "WK051840", sector: "detailhandel", topics: []string{"vergunningen", "subsidies"},
		notes: "Wil een terras.\nVragen over de vergunning.",
	})
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)

	status, body := b.do(http.MethodGet, "/api/visits/"+id, b.deviceToken(), nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/visits/%s: got %d %s, want 200", id, status, body)
	}
	var got bus.VisitView
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	device := eval[string](p, appDB+`.then(db => db.get('device')).then(d => d.device_id)`)
	for _, c := range []struct{ field, got, want string }{
		{"business.name", got.Business.Name, "Bakkerij De Korenschoof"},
		{"business.kvk", got.Business.KvK, "27345678"},
		{"business.address.street", got.Business.Address.Street, "Leyweg"},
		{"business.address.number", got.Business.Address.Number, "12a"},
		{"business.address.postcode", got.Business.Address.Postcode, "2545CH"},
		{"business.address.city", got.Business.Address.City, "Den Haag"},
		{"wijk", got.Wijk, "WK051840"},
		{"sector", got.Sector, "detailhandel"},
		{"topics", fmt.Sprint(got.Topics), "[vergunningen subsidies]"},
		{"notes", got.Notes, "Wil een terras.\nVragen over de vergunning."},
		{"crew", got.Crew, "Fatima en Bram"},
		{"stop", got.Stop, "Markt Leyweg"},
		{"device_id", got.DeviceID, device},
		{"state", got.State, bus.StateBus},
		{"rev", fmt.Sprint(got.Rev), "1"},
		{"consent.given", fmt.Sprint(got.Consent.Given), "false"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.field, c.got, c.want)
		}
	}
	if got.Contact != nil || got.Rating != nil {
		t.Errorf("contact %v, rating %v: want neither, none was typed", got.Contact, got.Rating)
	}
	if got.VisitedAt == "" || got.CreatedAt == "" || got.UpdatedAt == "" {
		t.Errorf("times: visited %q created %q updated %q, want all set by the tablet", got.VisitedAt, got.CreatedAt, got.UpdatedAt)
	}
}

// TestBrowserOffline checks the offline promise: the service worker serves
// the app with the bus out of reach, visits logged meanwhile wait on the
// tablet, and once the bus is back each arrives exactly once.
func TestBrowserOffline(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	p.reload()
	p.waitFor("the service worker to control the page", `navigator.serviceWorker.controller !== null`)

	// Out of range: the bus is gone and the tablet knows it is offline.
	b.stop()
	p.setOffline(true)
	p.reload()
	p.screen("list")
	if !eval[bool](p, `navigator.serviceWorker.controller !== null && performance.getEntriesByType('navigation')[0].workerStart > 0`) {
		t.Fatal("offline reload: the page did not come from the service worker")
	}

	names := []string{"Kapper Zonder Net", "Slagerij Om De Hoek", "Fietsenmaker Leyweg"}
	var ids []string
	for i, name := range names {
		ids = append(ids, p.logVisit(visit{name: name, wijk: "WK051828", topics: []string{"parkeren"}, postcode: fmt.Sprintf("254%d AB", i+1)}))
	}
	for _, id := range ids {
		p.waitFor("visit waiting on the tablet", rowState(id)+` === 'tablet'`)
	}
	p.waitFor("three waiting", `document.querySelectorAll('[data-state="tablet"][data-visit-id]').length === 3 && document.getElementById('status-tablet').textContent === '3'`)
	p.waitFor("the status bar to say the bus is out of reach", `document.getElementById('status-conn').dataset.reachable === 'false'`)

	// Back in range.
	b.restart()
	p.setOffline(false)
	for _, id := range ids {
		p.waitFor("visit on the bus", rowState(id)+` === 'bus'`)
	}
	p.waitFor("none waiting", `document.getElementById('status-tablet').textContent === '0'`)

	views := b.visits()
	var got []string
	for _, v := range views {
		got = append(got, v.ID)
		if v.Rev != 1 {
			t.Errorf("visit %s: rev %d, want 1", v.ID, v.Rev)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("bus holds %v, want exactly %v", got, want)
	}
	// Each visit was written once: a replay would be answered without a
	// write, but a second write would have taken another change number.
	seq, err := b.store.LatestSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if seq != int64(len(ids)) {
		t.Errorf("bus change counter %d, want %d: one write per visit", seq, len(ids))
	}
}

// TestBrowserFormErrors checks that the form refuses a bad KvK number and
// postcode beside the fields, keeps what was typed, and saves once fixed.
func TestBrowserFormErrors(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	p.click("new-visit")
	p.fill(visit{
		name: "Kaaswinkel Het Plein", kvk: "1234567", street: "Leyweg", number: "5",
		postcode: "2511 SS", city: "Den Haag", wijk: "WK051828", topics: []string{"subsidies"},
		notes: "Vraag over de markt.",
	})
	p.click("save")
	p.waitFor("inline errors", `document.getElementById('business-kvk-error') && document.getElementById('business-address-postcode-error')`)

	for _, id := range []string{"business-kvk", "business-address-postcode"} {
		got := eval[[]string](p, fmt.Sprintf(`(() => {
			const f = document.getElementById(%q), e = document.getElementById(%q + '-error');
			return [f.getAttribute('aria-invalid') || '', f.getAttribute('aria-describedby') || '', e.textContent, String(e.offsetParent !== null)];
		})()`, id, id))
		if got[0] != "true" {
			t.Errorf("#%s aria-invalid = %q, want true", id, got[0])
		}
		if !slices.Contains(strings.Fields(got[1]), id+"-error") {
			t.Errorf("#%s aria-describedby = %q, want it to name %s-error", id, got[1], id)
		}
		if got[2] == "" || got[3] != "true" {
			t.Errorf("#%s-error: text %q, shown %s; want a visible message", id, got[2], got[3])
		}
	}
	if msg := eval[string](p, `document.getElementById('business-kvk-error').textContent`); !strings.Contains(msg, "8 cijfers") {
		t.Errorf("KvK error %q, want the rule (8 cijfers) in Dutch", msg)
	}
	if n := eval[int](p, `document.querySelectorAll('#form-errors li').length`); n != 2 {
		t.Errorf("error summary lists %d problems, want 2 (KvK, postcode)", n)
	}
	if got := eval[string](p, `document.activeElement.id`); got != "form-errors" {
		t.Errorf("focus on #%s after a refused save, want #form-errors (role=alert) so it is read out", got)
	}
	// What was typed stays.
	for id, want := range map[string]string{
		"business-name": "Kaaswinkel Het Plein", "business-kvk": "1234567", "business-address-postcode": "2511 SS",
		"business-address-street": "Leyweg", "business-address-city": "Den Haag", "notes": "Vraag over de markt.", "wijk": "WK051828",
	} {
		if got := p.value(id); got != want {
			t.Errorf("#%s after the refused save: %q, want %q as typed", id, got, want)
		}
	}
	if !eval[bool](p, `document.getElementById('topic-subsidies').checked`) {
		t.Error("topic unticked by the refused save")
	}
	if n := len(b.visits()); n != 0 {
		t.Fatalf("bus holds %d visits after a refused save, want 0", n)
	}

	p.typeInto("business-kvk", "12345678")
	p.typeInto("business-address-postcode", "2511cv")
	p.click("save")
	p.screen("list")
	p.waitFor("the fixed visit on the bus", `document.querySelector('[data-visit-id]')?.dataset.state === 'bus'`)
	views := b.visits()
	if len(views) != 1 {
		t.Fatalf("bus holds %d visits, want 1", len(views))
	}
	if a := views[0].Business; a.KvK != "12345678" || a.Address.Postcode != "2511CV" || a.Name != "Kaaswinkel Het Plein" {
		t.Errorf("bus has kvk %q postcode %q name %q; want 12345678, 2511CV, Kaaswinkel Het Plein", a.KvK, a.Address.Postcode, a.Name)
	}
}

// TestBrowserSetAside checks that a visit the bus refuses is set aside with
// the bus's reason while the visits behind it, and later ones, still go
// through; and that saving it again settles it.
func TestBrowserSetAside(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	token := b.deviceToken()

	// Out of range, the crew log a visit; meanwhile the bus gets the same
	// id and rev with other content (as from a tablet restored from a
	// backup): when the tablet comes back, the bus must answer 409.
	p.setOffline(true)
	clash := p.logVisit(visit{name: "Drogisterij Klaproos", wijk: "WK051828", topics: []string{"vergunningen"}})
	if status, body := b.do(http.MethodPut, "/api/visits/"+clash, token, apiVisit(clash, "Een Ander Bedrijf")); status != http.StatusCreated {
		t.Fatalf("PUT the clashing visit: got %d %s, want 201", status, body)
	}
	behind := p.logVisit(visit{name: "Bloemenkiosk Station", wijk: "WK051828", topics: []string{"parkeren"}})
	p.waitFor("both waiting", rowState(clash)+` === 'tablet' && `+rowState(behind)+` === 'tablet'`)

	// A keyboard user is on the clash's row when the tablet comes back in
	// range: the rows change state under them, and focus stays put.
	eval[chromedp.Void](p, fmt.Sprintf(`document.querySelector('[data-visit-id=%q] a').focus()`, clash))
	p.setOffline(false)
	p.waitFor("the clash set aside", rowState(clash)+` === 'set_aside'`)
	p.waitFor("the visit behind it on the bus", rowState(behind)+` === 'bus'`)
	if got := eval[string](p, focusedRow); got != clash {
		t.Errorf("focus on row %q after the list changed, want it still on %s", got, clash)
	}
	reason := eval[string](p, fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-reason')?.textContent || ''`, clash))
	if !strings.Contains(reason, "Op de bus staat dit bezoek al, met andere gegevens.") {
		t.Errorf("set-aside reason %q, want the bus's message (Op de bus staat dit bezoek al, met andere gegevens.)", reason)
	}
	p.waitFor("the status bar to count it", `document.getElementById('status-aside').textContent === '1' && !document.getElementById('status-aside-item').hidden`)
	if v, err := b.store.FindVisitByID(context.Background(), clash); err != nil || v.Business.Name != "Een Ander Bedrijf" {
		t.Fatalf("bus's copy of the clash: %v %v, want the other content untouched", v, err)
	}

	later := p.logVisit(visit{name: "Viswinkel De Haring", wijk: "WK051807", topics: []string{"subsidies"}})
	p.waitFor("a later visit on the bus", rowState(later)+` === 'bus'`)
	for _, id := range []string{behind, later} {
		if _, err := b.store.FindVisitByID(context.Background(), id); err != nil {
			t.Errorf("visit %s not on the bus: %v", id, err)
		}
	}

	// The crew open it, see why, and save it again: a new rev the bus takes.
	p.clickRow(clash)
	p.screen("form")
	if notice := eval[string](p, `document.getElementById('form-notice').textContent`); !strings.Contains(notice, "andere gegevens") {
		t.Errorf("form notice %q, want the bus's reason", notice)
	}
	// It says what differs: the field the bus holds otherwise is marked.
	if got := eval[string](p, `document.getElementById('business-name-error')?.textContent || ''`); got != "Op de bus staat hier iets anders." {
		t.Errorf("business name error %q, want the bus's word that it differs", got)
	}
	p.click("save")
	p.screen("list")
	p.waitFor("the resaved visit on the bus", rowState(clash)+` === 'bus'`)
	v, err := b.store.FindVisitByID(context.Background(), clash)
	if err != nil {
		t.Fatal(err)
	}
	if v.Rev != 2 || v.Business.Name != "Drogisterij Klaproos" {
		t.Errorf("bus has rev %d %q, want rev 2 with the tablet's content", v.Rev, v.Business.Name)
	}
}

// TestBrowserOfficeSetAside checks that a visit the office refuses shows
// on the tablet as one the bus refused does: set aside with the office's
// reason in Dutch, counted, its problems on the form; that saving it again
// sends a new rev the office takes; and that the rest of the batch lands.
func TestBrowserOfficeSetAside(t *testing.T) {
	o := startOffice(t)
	b := startBus(t)
	enrollment := o.addBus("Infobus Noord")
	b.enroll(enrollment)
	p := newTab(t, b)
	p.pair()

	clash := p.logVisit(visit{name: "Drogisterij Klaproos", wijk: "WK051828", topics: []string{"vergunningen"}})
	taken := p.logVisit(visit{name: "Kapsalon Knip", wijk: "WK051807", topics: []string{"subsidies"}})
	fine := p.logVisit(visit{name: "Bloemenkiosk Station", wijk: "WK051828", topics: []string{"parkeren"}})
	for _, id := range []string{clash, taken, fine} {
		p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	}

	// Before this bus syncs, the office has had rev 1 of the first visit,
	// with other content, from a second laptop with this bus's enrollment
	// (a spare, or this one restored from a backup): a conflict neither
	// tablet nor bus can see. And the second visit's id came in from
	// another bus (as when a tablet moves between vans): a foreign id.
	sendFromBus(t, enrollment, apiVisit(clash, "Een Ander Bedrijf"))
	sendFromBus(t, o.addBus("Infobus Zuid"), apiVisit(taken, "Kapsalon Elders"))

	p.click("sync-now")
	p.waitFor("both refusals on the tablet", rowState(clash)+` === 'set_aside' && `+rowState(taken)+` === 'set_aside'`)
	p.waitFor("the rest of the batch at the office", rowState(fine)+` === 'office'`)
	for id, want := range map[string]string{
		clash: "Geweigerd door het kantoor: Op kantoor staat dit bezoek al, met andere gegevens.",
		taken: "Geweigerd door het kantoor: Het kantoor heeft al een bezoek met dit nummer van een andere bus",
	} {
		if got := eval[string](p, fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-reason')?.textContent || ''`, id)); !strings.HasPrefix(got, want) {
			t.Errorf("reason on row %s: got %q, want it to start %q", id, got, want)
		}
	}
	p.waitFor("the status bar to count both", `document.getElementById('status-aside').textContent === '2' && !document.getElementById('status-aside-item').hidden`)

	// Opened, it says who refused it and why, and lists the office's
	// problem as a bus's 400 would be listed.
	p.clickRow(clash)
	p.screen("form")
	if notice := eval[string](p, `document.getElementById('form-notice').textContent`); !strings.HasPrefix(notice, "Apart gezet door het kantoor: Op kantoor staat dit bezoek al") {
		t.Errorf("form notice %q, want the office's reason in Dutch", notice)
	}
	if got := eval[string](p, `document.querySelector('#form-errors li')?.textContent || ''`); got != "Versie is op kantoor al gebruikt voor andere inhoud." {
		t.Errorf("error summary %q, want the office's problem with the revision, in Dutch", got)
	}
	p.click("save")
	p.screen("list")
	p.waitFor("the new rev on the bus", rowState(clash)+` === 'bus'`)
	p.waitFor("one left set aside", `document.getElementById('status-aside').textContent === '1'`)
	if v, err := b.store.FindVisitByID(context.Background(), clash); err != nil || v.Rev != 2 || v.SetAside != nil {
		t.Fatalf("bus's copy: %+v %v; want rev 2, no longer set aside", v, err)
	}

	p.click("sync-now")
	p.waitFor("the fixed visit at the office", rowState(clash)+` === 'office'`)
	got, err := o.store.FindVisitByID(context.Background(), clash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rev != 2 || got.Business.Name != "Drogisterij Klaproos" || got.BusID != enrollment.BusID {
		t.Errorf("office has rev %d %q from bus %s; want rev 2 with the tablet's content from %s", got.Rev, got.Business.Name, got.BusID, enrollment.BusID)
	}
	// The foreign id stays set aside: saving it again cannot change whose
	// visit the office holds, and its sentence says so.
	if state := eval[string](p, rowState(taken)); state != "set_aside" {
		t.Errorf("the foreign visit shows %q, want set_aside still", state)
	}
	if reason := eval[string](p, fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-reason')?.textContent || ''`, fine)); reason != "" {
		t.Errorf("the visit the office took shows a reason: %q", reason)
	}
}

// apiVisit is a valid visit as another tablet would send it, rev 1.
func apiVisit(id, name string) map[string]any {
	return map[string]any{
		"id": id, "crew": "Iemand Anders", "stop": "Elders", "visited_at": "2026-11-26T10:00:00+01:00",
		"business": map[string]any{"name": name, "kvk": "", "address": map[string]any{"street": "", "number": "", "postcode": "", "city": ""}},
		"wijk":     "WK051807", "sector": "", "topics": []string{"parkeren"}, "notes": "", "language": "",
		"consent": map[string]any{"given": false, "text_version": "", "at": ""}, "panel_opt_in": false, "followups": []any{},
		"rev": 1, "created_at": "2026-11-26T10:00:00+01:00", "updated_at": "2026-11-26T10:00:00+01:00", "deleted": false,
	}
}

// TestBrowserPullPages checks that the tablet pages through the bus's
// changes: an edit of its visit made elsewhere, behind more changes than
// one page holds, reaches it at one "sync now"; other tablets' visits are
// copied in too; and a bus without an office says so.
func TestBrowserPullPages(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	token := b.deviceToken()
	id := p.logVisit(visit{name: "Boekhandel Voorlopig", wijk: "WK051828", topics: []string{"vergunningen"}})
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	p.waitFor("the tablet's cursor past it", appDB+`.then(db => db.get('cursor')).then(c => c >= 1)`)

	// More changes than one page of the tablet's pull (500), then an edit
	// of the tablet's visit from elsewhere.
	const others = 600
	var wg sync.WaitGroup
	ids := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range ids {
				if status, body := b.do(http.MethodPut, "/api/visits/"+id, token, apiVisit(id, "Ander Bedrijf")); status != http.StatusCreated {
					t.Errorf("PUT other visit: %d %s", status, body)
				}
			}
		})
	}
	for range others {
		ids <- uuid.Must(uuid.NewV7()).String()
	}
	close(ids)
	wg.Wait()
	status, body := b.do(http.MethodGet, "/api/visits/"+id, token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET: %d %s", status, body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	v["business"].(map[string]any)["name"] = "Boekhandel De Nieuwe Naam"
	v["rev"] = 2
	if status, body := b.do(http.MethodPut, "/api/visits/"+id, token, v); status != http.StatusOK {
		t.Fatalf("PUT the edit: %d %s, want 200", status, body)
	}

	p.click("sync-now")
	p.waitFor("the edit on the tablet", fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-name')?.textContent === 'Boekhandel De Nieuwe Naam'`, id))
	p.waitFor("the answer to sync now", `document.getElementById('sync-message').textContent !== ''`)
	if msg := eval[string](p, `document.getElementById('sync-message').textContent`); !strings.Contains(msg, "nog niet met een kantoor verbonden") {
		t.Errorf("sync message %q, want the bus's answer that it has no office yet, in Dutch", msg)
	}
	// Every visit of the bus is on the tablet; the list shows today's.
	if n := eval[int](p, `document.querySelectorAll('[data-visit-id]').length`); n != 1 {
		t.Errorf("the list shows %d visits, want only today's (the others are of 26 November)", n)
	}
	if n := eval[int](p, appDB+`.then(db => db.allVisits()).then(all => all.length)`); n != others+1 {
		t.Errorf("the tablet holds %d visits, want all %d of the bus's", n, others+1)
	}
	latest, err := b.store.LatestSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.waitFor("the cursor at the bus's last change", appDB+fmt.Sprintf(`.then(db => db.get('cursor')).then(c => c === %d)`, latest))
}

// focusedRow is the visit id of the list row that holds focus ("" for none).
const focusedRow = `document.activeElement?.closest('[data-visit-id]')?.dataset.visitId || ''`

// appDB imports the app's own IndexedDB module, as the page loaded it.
const appDB = `import('/v/' + new URL(document.querySelector('script[type=module]').src).pathname.split('/')[2] + '/db.js')`
