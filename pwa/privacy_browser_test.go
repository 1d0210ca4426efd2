package pwa_test

// The tablet's side of privacy and failing well: a full disk on the bus
// said in the crew's words while the visit waits on the tablet; contact
// details dropped from IndexedDB once the bus forgot them; a tablet named
// at pairing.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"infobus/bus"
)

// fillDisk caps the bus's database at its size and writes visits of a
// tablet of the test's own until the bus answers 507: big ones, then the
// smallest, so that no page has room left for any visit.
func (b *testBus) fillDisk() {
	b.tb.Helper()
	token := b.deviceToken()
	if err := b.store.LimitSize(context.Background(), true); err != nil {
		b.tb.Fatal(err)
	}
	for _, notes := range []string{strings.Repeat("Vol. ", 700), ""} {
		full := false
		for range 500 {
			v := apiVisit(uuid.Must(uuid.NewV7()).String(), "Vuller")
			v["notes"] = notes
			status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v)
			if status == http.StatusInsufficientStorage {
				full = true
				break
			}
			if status != http.StatusCreated {
				b.tb.Fatalf("filling the disk: got %d %s", status, body)
			}
		}
		if !full {
			b.tb.Fatal("the bus never answered 507")
		}
	}
}

// TestBrowserDiskFull: the bus's disk is full. The app says so, in the
// bus's Dutch words, from the bus's health answer; the crew save a visit,
// the bus refuses it with the same words, and the app keeps it in its
// outbox. Once the
// disk has room the visit goes by itself and the message goes.
func TestBrowserDiskFull(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	b.fillDisk()
	const want = "De schijf van de bus is vol: er is niets opgeslagen op de bus. Het bezoek blijft op de tablet. Meld het aan de coördinator."
	// The app looks for the bus every 10 s: its /healthz says it first.
	p.waitFor("the bus's message before any visit", fmt.Sprintf(`document.getElementById('bus-problem').textContent === %q`, want))

	p.click("new-visit")
	p.fill(visit{name: "Schoenmakerij De Hak", wijk: "WK051828", topics: []string{"parkeren"}})
	// Longer than any visit that still fitted.
	eval[bool](p, `(() => {
		const n = document.getElementById('notes');
		n.value = 'Wil een vergunning voor het terras. '.repeat(40);
		n.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`)
	p.click("save")
	p.screen("list")
	id := eval[string](p, `[...document.querySelectorAll('[data-visit-id]')].find(r => r.textContent.includes('Schoenmakerij De Hak'))?.dataset.visitId || ''`)
	if id == "" {
		t.Fatal("the saved visit is not in the list")
	}
	p.waitFor("the bus's message on screen", fmt.Sprintf(`document.getElementById('bus-problem').textContent === %q`, want))
	if !eval[bool](p, `(() => { const e = document.getElementById('bus-problem'); return e.getBoundingClientRect().height > 0 && e.getAttribute('role') === 'alert'; })()`) {
		t.Error("the message is not visible, or not announced")
	}
	p.waitFor("the visit waiting on the tablet", rowState(id)+` === 'tablet'`)
	if queued := eval[bool](p, appDB+fmt.Sprintf(`.then(db => db.outbox()).then(q => q.some(e => e.id === %q))`, id)); !queued {
		t.Fatal("the visit is not in the outbox")
	}
	if v, err := b.store.FindVisitByID(context.Background(), id); err == nil {
		t.Fatalf("the bus stored the visit on a full disk: %+v", v)
	}
	if got := eval[string](p, `document.getElementById('status-tablet').textContent`); got != "1" {
		t.Errorf("status bar counts %s on the tablet, want 1", got)
	}

	// Room again: the outbox's next try sends it, with no tap.
	if err := b.store.LimitSize(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	p.waitFor("the message gone", `document.getElementById('bus-problem').textContent === ''`)
	v, err := b.store.FindVisitByID(context.Background(), id)
	if err != nil || v.Business.Name != "Schoenmakerij De Hak" {
		t.Fatalf("the bus after room returned: %+v %v", v, err)
	}
	if n := eval[int](p, appDB+`.then(db => db.outbox()).then(q => q.length)`); n != 0 {
		t.Errorf("%d left in the outbox, want 0", n)
	}
}

// idbDump is everything the app's IndexedDB databases hold, as JSON: what
// a finder of the tablet could read.
const idbDump = `(async () => {
	const out = {};
	for (const {name} of await indexedDB.databases()) {
		const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
		for (const store of db.objectStoreNames) {
			const t = db.transaction(store, 'readonly').objectStore(store);
			const [keys, values] = await Promise.all([t.getAllKeys(), t.getAll()].map(r => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); })));
			out[name + '/' + store] = keys.map((k, i) => [k, values[i]]);
		}
		db.close();
	}
	return JSON.stringify(out);
})()`

// TestBrowserForgetsContactDetails: a visit with contact details goes from
// the tablet to the bus and on to the office; the bus's keep-personal job
// removes the details; at its next sync the tablet drops them from
// IndexedDB too, while the business, wijk, topics and follow-up stay.
func TestBrowserForgetsContactDetails(t *testing.T) {
	b, _ := enrolledBus(t)
	p := newTab(t, b)
	p.pair()
	const email, phone = "kees.contact@example.nl", "0612983476"

	p.click("new-visit")
	p.fill(visit{name: "Fietsenmaker Kees", wijk: "WK051828", topics: []string{"parkeren", "subsidies"}})
	p.click("consent-given")
	p.typeInto("contact-name", "Kees Verbeek")
	p.typeInto("contact-phone", phone)
	p.typeInto("contact-email", email)
	p.addFollowUp(0, "Folder over subsidies sturen")
	p.click("save")
	p.waitFor("the list", `document.body.dataset.screen !== 'form'`)
	p.click("nav-list")
	p.screen("list")
	id := eval[string](p, `[...document.querySelectorAll('[data-visit-id]')].find(r => r.textContent.includes('Fietsenmaker Kees'))?.dataset.visitId || ''`)
	if id == "" {
		t.Fatal("the saved visit is not in the list")
	}
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	if dump := eval[string](p, idbDump); !strings.Contains(dump, email) || !strings.Contains(dump, phone) {
		t.Fatalf("IndexedDB lacks the contact details before: the check below cannot fail\n%s", dump)
	}

	p.click("sync-now")
	p.waitFor("the visit at the office", rowState(id)+` === 'office'`)
	n, err := bus.NewForgetter(b.store, bus.ForgetAtOnce, quietLogger(t)).Run(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("the keep-personal job: removed %d, %v; want 1", n, err)
	}

	p.click("sync-now")
	p.waitFor("the details gone from the tablet", appDB+fmt.Sprintf(`.then(db => db.getVisit(%q)).then(r => !r.visit.contact)`, id))
	dump := eval[string](p, idbDump)
	for _, s := range []string{email, phone, "Kees Verbeek"} {
		if strings.Contains(dump, s) {
			t.Errorf("IndexedDB still holds %q", s)
		}
	}
	v := savedVisit(p, id)
	if v.Business.Name != "Fietsenmaker Kees" || v.Wijk != "WK051828" || len(v.Topics) != 2 ||
		len(v.FollowUps) != 1 || v.FollowUps[0].Description != "Folder over subsidies sturen" || v.FollowUps[0].Code == "" || !v.Consent.Given {
		t.Errorf("what the crew need for a revisit: %+v", v)
	}
	// Opened, the visit says the details are elsewhere and saves without
	// asking for them again.
	p.clickRow(id)
	p.screen("form")
	if got := p.value("business-name"); got != "Fietsenmaker Kees" {
		t.Errorf("form shows %q", got)
	}
}

// TestBrowserPairingName: the crew name the tablet as they pair it; the
// bus lists it by that name (`infobus bus devices` prints Store.Devices),
// and the settings show it. A tablet paired from the QR without a name
// gets the bus's "Tablet N".
func TestBrowserPairingName(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.open("/")
	p.screen("pair")
	p.typeInto("pair-code", b.pairingCode())
	p.typeInto("pair-name", "Tablet van Fatima")
	p.click("pair-submit")
	p.screen("settings")
	p.waitFor("the name in the settings", `document.getElementById('settings-device-name').textContent === 'Tablet van Fatima'`)

	q := newTab(t, b)
	q.open("/#pair=" + b.pairingCode())
	q.screen("settings")
	q.waitFor("the bus's name in the settings", `document.getElementById('settings-device-name').textContent === 'Tablet 2'`)

	devices, err := b.store.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range devices {
		names = append(names, d.Name)
	}
	if strings.Join(names, ", ") != "Tablet van Fatima, Tablet 2" {
		t.Errorf("the bus lists %q, want Tablet van Fatima, Tablet 2", names)
	}

	// Paired again after an unpair, the tablet offers the name it had.
	if _, err := b.store.UnpairDevice(context.Background(), "Tablet van Fatima"); err != nil {
		t.Fatal(err)
	}
	p.click("sync-now") // its next request meets the unpair
	p.screen("pair")
	if got := p.value("pair-name"); got != "Tablet van Fatima" {
		t.Errorf("pairing again offers the name %q, want the one it had", got)
	}
}
