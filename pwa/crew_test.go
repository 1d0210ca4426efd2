package pwa_test

// Browser tests of the crew's speed and footing: taps per visit, the bus
// going out of reach and coming back, the bus's whole day on every tablet,
// and the layout in both orientations of a tablet.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"infobus/schema"
)

// taps counts what a crew member touches; typing is not counted.
type taps struct {
	p *tab
	n int
}

// tap touches the element sel finds (a CSS selector), as a finger would.
func (c *taps) tap(sel string) {
	c.p.tb.Helper()
	c.n++
	c.p.do("tap "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeKeys types into whatever has focus: the crew's on-screen keyboard.
func (c *taps) typeKeys(text string) {
	c.p.tb.Helper()
	c.p.do("type "+text, chromedp.KeyEvent(text))
}

// viewport makes the page a tablet of w×h CSS pixels.
func (p *tab) viewport(w, h int64) {
	p.tb.Helper()
	p.do("set the viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1})
		return err
	}))
}

// setStop fills in the settings a crew makes once per stop: crew, the stop
// and its wijk. The counts below start after it.
func (p *tab) setStop(wijk string) {
	p.tb.Helper()
	p.click("nav-settings")
	p.screen("settings")
	p.choose("settings-wijk", wijk)
	p.click("settings-save")
	p.waitFor("the stop's wijk saved", appDB+fmt.Sprintf(`.then(db => db.get('settings')).then(s => s.stopWijk === %q)`, wijk))
	p.click("nav-list")
	p.screen("list")
}

// TestBrowserTapCounts counts the taps of a minimal visit (a name and one
// topic) and of a complete one (name, KvK, address, a topic, notes,
// permission with phone and e-mail, a mark and a follow-up), the first at a
// stop; the counts are in the README.
func TestBrowserTapCounts(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	p.setStop("WK051840")

	minimal := &taps{p: p}
	minimal.tap("#new-visit")
	p.screen("form")
	minimal.typeKeys("Kapper Kort") // the name has focus
	minimal.tap(`label[for="topic-parkeren"]`)
	minimal.tap("#save")
	p.screen("list")

	complete := &taps{p: p}
	complete.tap("#new-visit")
	p.screen("form")
	complete.typeKeys("Bakkerij Volledig")
	complete.tap("#business-kvk")
	complete.typeKeys("27345678")
	complete.tap("#business-address-street")
	complete.typeKeys("Leyweg")
	complete.tap("#business-address-number")
	complete.typeKeys("12a")
	complete.tap("#business-address-postcode")
	complete.typeKeys("2545 CH")
	complete.tap(`label[for="topic-vergunningen"]`)
	complete.tap("#notes")
	complete.typeKeys("Wil een terras.")
	complete.tap(`label[for="consent-given"]`)
	complete.tap("#contact-phone")
	complete.typeKeys("06 12345678")
	complete.tap("#contact-email")
	complete.typeKeys("bakker@example.nl")
	complete.tap(`label[for="rating-7"]`)
	complete.tap("#followup-add-callback")
	complete.typeKeys("Terugbellen over de terrasvergunning.") // the description has focus
	complete.tap("#save")
	p.screen("list")
	p.waitFor("both visits on the bus", `document.querySelectorAll('[data-state="bus"][data-visit-id]').length === 2`)
	t.Logf("taps: minimal visit %d, complete visit %d (plus typing)", minimal.n, complete.n)

	byName := map[string]schema.Visit{}
	for _, v := range b.visits() {
		byName[v.Business.Name] = v.Visit
	}
	short, whole := byName["Kapper Kort"], byName["Bakkerij Volledig"]
	if short.Wijk != "WK051840" || strings.Join(short.Topics, ",") != "parkeren" || short.Business.Address.City != "Den Haag" || short.Language != "nl" {
		t.Errorf("minimal visit on the bus: %+v; want the stop's wijk, the topic, Den Haag and Dutch filled in", short)
	}
	c := whole.Contact
	if !whole.Consent.Given || c == nil || c.Phone != "0612345678" || c.Email != "bakker@example.nl" || whole.Rating == nil || *whole.Rating != 7 ||
		len(whole.FollowUps) != 1 || whole.FollowUps[0].Kind != schema.KindCallback || whole.Business.Address.Postcode != "2545CH" || whole.Notes != "Wil een terras." {
		t.Errorf("complete visit on the bus: %+v, contact %+v; want every part as tapped and typed", whole, c)
	}
	if minimal.n > 4 {
		t.Errorf("minimal visit took %d taps, want at most 4", minimal.n)
	}
	if complete.n > 15 {
		t.Errorf("complete visit took %d taps, want at most 15", complete.n)
	}

	// The next visit at the stop starts with its street.
	p.click("new-visit")
	p.screen("form")
	if got := p.value("business-address-street"); got != "Leyweg" {
		t.Errorf("street of the next visit at the stop: %q, want Leyweg carried over", got)
	}
}

// TestBrowserOutOfReach checks the crew see that the bus is out of reach
// (a banner when the browser goes offline, "send now" off with the
// reason), that a reload with a visit waiting asks nothing and keeps it,
// and that the visit goes once the bus answers again, without an online
// event: the tablet stays on the van's Wi-Fi. How soon each happens is
// logged (go test -v), not asserted: timings are measurements here, and
// README's Performance section reports them.
func TestBrowserOutOfReach(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	p.reload()
	p.waitFor("the service worker to control the page", `navigator.serviceWorker.controller !== null`)
	p.waitFor("the bus reachable", `document.getElementById('status-conn').dataset.reachable === 'true'`)

	start := time.Now()
	p.setOffline(true)
	p.waitFor("the offline banner", `document.getElementById('offline-banner').offsetHeight > 0 && document.getElementById('sync-now').disabled`)
	t.Logf("the banner came %v after the browser went offline", time.Since(start))
	if got := eval[string](p, `document.getElementById('offline-banner').textContent`); !strings.HasPrefix(got, "Geen verbinding met de bus.") {
		t.Errorf("banner %q, want it to say there is no connection with the bus", got)
	}
	if got := eval[string](p, `document.getElementById('sync-now-reason').textContent`); got == "" {
		t.Error("send now is off without a reason beside it")
	}

	id := p.logVisit(visit{name: "Schoenmaker Zonder Bus", wijk: "WK051828", topics: []string{"parkeren"}})
	p.waitFor("the visit waiting", rowState(id)+` === 'tablet'`)
	// The network comes back but the bus does not.
	b.stop()
	p.setOffline(false)
	p.reload()
	p.screen("list")
	if n := p.dialogCount(); n != 0 {
		t.Errorf("the reload opened %d dialogs, want none: the visit is safe in IndexedDB", n)
	}
	p.waitFor("the visit still waiting after the reload", rowState(id)+` === 'tablet' && document.getElementById('status-tablet').textContent === '1'`)
	p.waitFor("the banner after the reload", `document.getElementById('offline-banner').offsetHeight > 0`)

	b.restart()
	start = time.Now()
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	took := time.Since(start)
	t.Logf("delivered %v after the bus came back", took)
	p.waitFor("the banner gone", `document.getElementById('offline-banner').offsetHeight === 0 && !document.getElementById('sync-now').disabled`)
	if views := b.visits(); len(views) != 1 || views[0].ID != id {
		t.Errorf("bus holds %d visits, want exactly the one waiting", len(views))
	}
}

// TestBrowserWholeDay checks that a visit made on tablet A shows on tablet
// B without its contact details, that B can change it and the details stay
// on the bus, and that the office's resolution of its follow-up shows on
// both tablets.
func TestBrowserWholeDay(t *testing.T) {
	o := startOffice(t)
	b := startBus(t)
	b.enroll(o.addBus("Infobus Centrum"))
	a := newTab(t, b)
	a.pair()
	tabletB := newTab(t, b)
	tabletB.pair()

	a.click("new-visit")
	a.fill(visit{name: "Kledingzaak Samen", wijk: "WK051828", topics: []string{"vergunningen"}})
	a.click("consent-given")
	a.typeInto("contact-phone", "0612345678")
	a.click("followup-add-callback")
	a.typeInto("followups-0-description", "Terugbellen over de vergunning.")
	a.click("save")
	// The follow-up took a code from the pool: its QR first, for the
	// entrepreneur to scan.
	a.screen("qr")
	a.click("qr-back")
	a.screen("list")
	id := eval[string](a, `document.querySelector('[data-visit-id]').dataset.visitId`)
	a.waitFor("A's visit on the bus", rowState(id)+` === 'bus'`)

	tabletB.reload()
	tabletB.waitFor("A's visit on tablet B", rowState(id)+` === 'bus'`)
	stored := eval[string](tabletB, appDB+fmt.Sprintf(`.then(db => db.getVisit(%q)).then(r => JSON.stringify({c: r.visit.contact || null, w: !!r.visit.contact_withheld}))`, id))
	if stored != `{"c":null,"w":true}` {
		t.Errorf("tablet B keeps %s, want no contact details and the mark that they were withheld", stored)
	}
	tabletB.clickRow(id)
	tabletB.screen("form")
	if !eval[bool](tabletB, `!document.getElementById('contact-withheld').hidden && document.getElementById('contact-fields').hidden`) {
		t.Error("tablet B's form: want the note that the details stay elsewhere, and no contact fields")
	}
	tabletB.typeInto("notes", "Aangevuld op tablet B.")
	tabletB.click("save")
	tabletB.screen("list")
	tabletB.waitFor("B's change on the bus", rowState(id)+` === 'bus'`)
	v, err := b.store.FindVisitByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Rev != 2 || v.Notes != "Aangevuld op tablet B." || v.Contact == nil || v.Contact.Phone != "0612345678" {
		t.Fatalf("on the bus: rev %d, notes %q, contact %+v; want B's rev 2 with A's phone number kept", v.Rev, v.Notes, v.Contact)
	}

	// The office handles the follow-up; both tablets show it.
	a.click("sync-now")
	a.waitFor("the visit at the office", rowState(id)+` === 'office'`)
	if _, err := o.store.SetFollowUpStatus(context.Background(), v.FollowUps[0].ID, schema.StatusDone, "Teruggebeld; de vergunning is aangevraagd."); err != nil {
		t.Fatal(err)
	}
	a.click("sync-now")
	for _, p := range []*tab{a, tabletB} {
		if p == tabletB {
			p.reload()
		}
		p.waitFor("the visit handled", rowState(id)+` === 'handled'`)
		p.waitFor("the resolution on the row", fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-followup')?.textContent === 'Vervolgafspraak: afgerond. Teruggebeld; de vergunning is aangevraagd.'`, id))
	}
	tabletB.clickRow(id)
	tabletB.screen("form")
	if got := eval[string](tabletB, `document.querySelector('.fu-resolution').textContent`); got != "Wat het kantoor deed: Teruggebeld; de vergunning is aangevraagd." {
		t.Errorf("resolution on the form: %q", got)
	}
}

// orientations are a 10-inch tablet on its side and upright.
var orientations = []struct {
	name string
	w, h int64
}{{"landscape", 1280, 800}, {"portrait", 800, 1280}}

// TestBrowserLayout checks, in both orientations, what the crew tripped
// over: nothing wider than the screen, the status bar's labels on one line,
// Save within reach on the long form, a postcode error that reads as a
// line, the toast off the topic chips, and neutral facts in neutral colours.
func TestBrowserLayout(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	for _, o := range orientations {
		t.Run(o.name, func(t *testing.T) {
			p.tb = t
			p.viewport(o.w, o.h)
			p.click("nav-list")
			p.screen("list")
			if !eval[bool](p, `document.scrollingElement.scrollWidth <= innerWidth`) {
				t.Error("the list is wider than the screen")
			}
			if got := eval[string](p, `[...document.querySelectorAll('.status-figures dt')].filter(d => d.getClientRects().length && d.getClientRects()[0].height > parseFloat(getComputedStyle(d).lineHeight) * 1.5).map(d => d.textContent).join(', ')`); got != "" {
				t.Errorf("status labels broken over lines: %s", got)
			}
			p.click("new-visit")
			p.screen("form")
			if !eval[bool](p, `(() => { const r = document.getElementById('save').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`) {
				t.Error("Save is not on the screen at the top of the form")
			}
			p.typeInto("business-address-postcode", "2511 SS")
			p.typeInto("business-name", "Lijst Test")
			p.click("save")
			p.waitFor("the postcode error", `document.getElementById('business-address-postcode-error')`)
			if lines := eval[float64](p, `(() => { const e = document.getElementById('business-address-postcode-error'); return e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight); })()`); lines > 2.5 {
				t.Errorf("the postcode error takes %.1f lines, want at most 2", lines)
			}
			if !eval[bool](p, `document.scrollingElement.scrollWidth <= innerWidth`) {
				t.Error("the form with errors is wider than the screen")
			}
			eval[chromedp.Void](p, `document.getElementById('topic-chips').scrollIntoView({block: 'end'}); (() => { const el = document.getElementById('toast'); el.textContent = 'Opgeslagen op de tablet.'; el.dataset.show = '1'; })()`)
			if eval[bool](p, `(() => { const a = document.getElementById('toast').getBoundingClientRect(), b = document.getElementById('topic-chips').getBoundingClientRect(); return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; })()`) {
				t.Error("the toast covers the topic chips")
			}
			eval[chromedp.Void](p, `document.getElementById('toast').dataset.show = ''`)
			p.click("cancel")
			p.screen("list")
		})
	}
	p.tb = t
	// A visit's place is a fact: shown in a neutral colour, not as a warning.
	id := p.logVisit(visit{name: "Kleur Test", wijk: "WK051828", topics: []string{"parkeren"}})
	p.waitFor("on the bus", rowState(id)+` === 'bus'`)
	p.clickRow(id)
	p.screen("form")
	if bg := eval[string](p, `getComputedStyle(document.getElementById('form-notice')).backgroundColor`); bg == "rgb(255, 244, 214)" {
		t.Errorf("the form's state notice is warning yellow (%s), want a neutral colour", bg)
	}
}
