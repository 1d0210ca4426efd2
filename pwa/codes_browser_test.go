package pwa_test

// Browser tests of follow-up codes on the tablet: the pool and its QR shown
// offline, a card's code typed with its check, the QR again from the
// visit's detail, and the entrepreneur's feedback with the visit.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"infobus/bus"
	"infobus/schema"
	infosync "infobus/sync"
)

// appModule imports one of the app's modules as the page has it.
func appModule(name string) string {
	return `import('/v/' + new URL(document.querySelector('script[type=module]').src).pathname.split('/')[2] + '/` + name + `')`
}

// enrolledBus is a bus enrolled with a real office, so that it can issue
// follow-up codes (they are signed with the office's key for the bus).
func enrolledBus(t *testing.T) (*testBus, *testOffice) {
	t.Helper()
	o := startOffice(t)
	b := startBus(t)
	b.enroll(o.addBus("Infobus 1"))
	return b, o
}

// shownQR takes a picture of the image element id as the page shows it and
// reads it with a real QR decoder.
func (p *tab) shownQR(id string) string {
	p.tb.Helper()
	// Loaded, decoded and painted: a picture taken before the first paint
	// of a fresh image can catch it half drawn.
	p.waitFor("the QR image #"+id+" to load", fmt.Sprintf(`(async () => {
		const i = document.getElementById(%q);
		if (!i || i.hidden || !i.complete || !i.naturalWidth) return false;
		await i.decode();
		await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
		return true;
	})()`, id))
	p.do("scroll to #"+id, chromedp.ScrollIntoView(chromedp.ID(id)))
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	// At four device pixels a CSS pixel: the small QR on a visit's detail
	// has under three CSS pixels a module, too few to read reliably.
	shot, err := chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.ID(id), 4))
	if err != nil {
		p.tb.Fatalf("picture of #%s: %v", id, err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		p.tb.Fatalf("picture of #%s: %v", id, err)
	}
	return decodeQR(p.tb, img)
}

func decodeQR(tb testing.TB, img image.Image) string {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		tb.Fatalf("decode the QR on the screen: %v", err)
	}
	return res.GetText()
}

// poolSize is what the tablet keeps (codes.js POOL_SIZE).
const poolSize = 10

func (p *tab) poolFree() string {
	return appModule("codes.js") + `.then(m => m.free())`
}

// addFollowUp adds a follow-up of kind information to the open form.
func (p *tab) addFollowUp(n int, description string) {
	p.tb.Helper()
	p.click("followup-add")
	p.choose(fmt.Sprintf("followups-%d-kind", n), schema.KindInformation)
	p.typeInto(fmt.Sprintf("followups-%d-description", n), description)
}

// savedVisit reads a visit as the tablet stored it.
func savedVisit(p *tab, id string) schema.Visit {
	p.tb.Helper()
	raw := eval[string](p, appDB+fmt.Sprintf(`.then(db => db.getVisit(%q)).then(r => JSON.stringify(r.visit))`, id))
	var v schema.Visit
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		p.tb.Fatal(err)
	}
	return v
}

// TestBrowserCodesOffline: with the bus out of reach and no network at all,
// a visit with a follow-up saved on the tablet takes a code from the pool
// and shows its QR full screen, the code in groups beneath it; the QR reads
// as the code's page at the office. The visit's detail shows it again. Back
// in reach, the bus binds the code to the follow-up and the pool fills up.
func TestBrowserCodesOffline(t *testing.T) {
	b, o := enrolledBus(t)
	p := newTab(t, b)
	p.pair()
	p.waitFor("a full pool", fmt.Sprintf(`%s.then(n => n === %d)`, p.poolFree(), poolSize))
	p.reload()
	p.waitFor("the service worker to control the page", `navigator.serviceWorker.controller !== null`)

	b.stop()
	p.setOffline(true)
	p.reload()
	p.screen("list")

	p.click("new-visit")
	p.fill(visit{name: "Lijstenmakerij Zonder Wifi", wijk: "WK051828", topics: []string{"subsidies"}})
	p.addFollowUp(0, "Stuurt informatie over de subsidie voor verduurzaming.")
	p.click("save")
	p.screen("qr")
	id := eval[string](p, `location.hash.slice('#/qr/'.length)`)
	v := savedVisit(p, id)
	if len(v.FollowUps) != 1 || v.FollowUps[0].Code == "" {
		t.Fatalf("saved follow-ups %+v, want one with a code from the pool", v.FollowUps)
	}
	code, err := schema.ParseCode(v.FollowUps[0].Code)
	if err != nil {
		t.Fatalf("the pool's code %q: %v", v.FollowUps[0].Code, err)
	}
	want := bus.QRTarget(o.url, code)
	if got := p.shownQR("qr-image-0"); got != want {
		t.Errorf("the QR on the screen reads %q, want %q", got, want)
	}
	if got := eval[string](p, `document.getElementById('qr-code-0').textContent`); got != code.Grouped() {
		t.Errorf("the code beneath the QR: %q, want %q", got, code.Grouped())
	}
	if got := eval[string](p, `document.getElementById('qr-line').textContent`); !strings.Contains(got, "Scan deze code") {
		t.Errorf("the line for the entrepreneur: %q", got)
	}
	if got := eval[int](p, p.poolFree()); got != poolSize-1 {
		t.Errorf("pool after one code: %d free, want %d", got, poolSize-1)
	}

	// Back to the list, and the QR again from the visit's detail.
	p.click("qr-back")
	p.screen("list")
	p.waitFor("the visit waiting", rowState(id)+` === 'tablet'`)
	p.clickRow(id)
	p.screen("form")
	p.waitFor("the code on the detail", fmt.Sprintf(`document.querySelector('#followups-0 .fu-qr-code').textContent === %q`, code.Grouped()))
	if got := p.shownQR("followups-0-qr"); got != want {
		t.Errorf("the QR on the detail reads %q, want %q", got, want)
	}
	p.click("followups-0-qr-show")
	p.screen("qr")
	if got := p.shownQR("qr-image-0"); got != want {
		t.Errorf("the QR shown again reads %q, want %q", got, want)
	}
	p.click("qr-back")
	p.screen("list")

	// In reach again: the visit reaches the bus, which binds the code to
	// its follow-up, and the pool fills up.
	b.restart()
	p.setOffline(false)
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	p.waitFor("a full pool again", fmt.Sprintf(`%s.then(n => n === %d)`, p.poolFree(), poolSize))
	token := b.deviceToken()
	other := map[string]any{
		"id": uuid.Must(uuid.NewV7()).String(), "rev": 1, "visited_at": "2026-11-26T14:05:00+01:00",
		"business": map[string]any{"name": "Een ander"}, "wijk": "WK051828", "topics": []string{"subsidies"},
		"consent":    map[string]any{"given": false},
		"followups":  []map[string]any{{"id": uuid.Must(uuid.NewV7()).String(), "kind": "information", "description": "x", "code": string(code)}},
		"created_at": "2026-11-26T14:05:00+01:00", "updated_at": "2026-11-26T14:05:00+01:00",
	}
	if status, body := b.do(http.MethodPut, "/api/visits/"+other["id"].(string), token, other); status != http.StatusConflict || !strings.Contains(string(body), "code_taken") {
		t.Errorf("the pool's code on another follow-up: got %d %s, want 409 code_taken (bound to the tablet's visit)", status, body)
	}
}

// TestBrowserCardCode: the crew type the code of a printed card. One wrong
// character and the form says so at once, in plain Dutch, and saves
// nothing; the right code saves, the bus binds it, no pool code is used,
// and the detail shows the card's QR.
func TestBrowserCardCode(t *testing.T) {
	b, o := enrolledBus(t)
	codes, err := b.store.IssueCards(context.Background(), io.Discard, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	card := codes[0]
	p := newTab(t, b)
	p.pair()
	p.waitFor("a full pool", fmt.Sprintf(`%s.then(n => n === %d)`, p.poolFree(), poolSize))

	p.click("new-visit")
	p.fill(visit{name: "Drukkerij Op Papier", wijk: "WK051807", topics: []string{"vergunningen"}})
	p.addFollowUp(0, "Belt over de vergunning voor het uithangbord.")
	// The camera button only where the browser reads QR codes (not on an iPad).
	if !eval[bool](p, `document.getElementById('followups-0-code-scan').hidden === !('BarcodeDetector' in window)`) {
		t.Error("the scan button shows where BarcodeDetector is missing, or hides where it exists")
	}

	// One symbol changed, typed the way a person copies a card: in lower
	// case with the dashes.
	typo := []byte(string(card))
	typo[6] = schema.CodeAlphabet[(strings.IndexByte(schema.CodeAlphabet, typo[6])+7)%32]
	p.typeInto("followups-0-code", strings.ToLower(schema.Code(typo).Grouped()))
	checkMsg := `document.getElementById('followups-0-code-check').textContent`
	p.waitFor("the check's message", checkMsg+` === 'Deze code klopt niet. Vergelijk elk teken met de kaart.'`)
	if got := eval[string](p, `document.getElementById('followups-0-code').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("aria-invalid on the mistyped code: %q, want true", got)
	}
	if !eval[bool](p, `document.getElementById('followups-0-code').getAttribute('aria-describedby').split(' ').includes('followups-0-code-check')`) {
		t.Error("the code field is not described by the check's message")
	}
	p.click("save")
	p.waitFor("the error summary", `document.querySelectorAll('#form-errors li').length === 1`)
	if got := eval[string](p, `document.getElementById('form-errors').textContent`); !strings.Contains(got, "Deze code klopt niet.") {
		t.Errorf("error summary %q, want the check's message", got)
	}
	if got := eval[int](p, appDB+`.then(db => db.allVisits()).then(a => a.length)`); got != 0 {
		t.Fatalf("%d visits saved with a mistyped code, want none", got)
	}

	// A half-typed code is no error yet.
	p.typeInto("followups-0-code", string(card[:7]))
	p.waitFor("no message while typing", checkMsg+` === ''`)
	p.typeInto("followups-0-code", strings.ToLower(card.Grouped()))
	p.waitFor("the code accepted", checkMsg+` === 'De code klopt.'`)
	p.click("save")
	p.screen("list")
	id := eval[string](p, `document.querySelector('[data-visit-id]').dataset.visitId`)
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	views := b.visits()
	if len(views) != 1 || len(views[0].FollowUps) != 1 || views[0].FollowUps[0].Code != string(card) {
		t.Fatalf("bus holds %+v, want one visit whose follow-up has code %s", views, card)
	}
	if got := eval[int](p, p.poolFree()); got != poolSize {
		t.Errorf("pool: %d free, want %d (the card's code was used)", got, poolSize)
	}
	// The detail shows the card's QR, drawn by the bus: the tablet has no
	// image of a code it did not take from its pool.
	p.clickRow(id)
	p.screen("form")
	if got, want := p.shownQR("followups-0-qr"), bus.QRTarget(o.url, card); got != want {
		t.Errorf("the card's QR on the detail reads %q, want %q", got, want)
	}
	if got := p.value("followups-0-code"); got != card.Grouped() {
		t.Errorf("the saved code shows as %q, want %q", got, card.Grouped())
	}
	// Bound: the same card on another follow-up is refused.
	other := map[string]any{
		"id": uuid.Must(uuid.NewV7()).String(), "rev": 1, "visited_at": "2026-11-26T14:05:00+01:00",
		"business": map[string]any{"name": "Een ander"}, "wijk": "WK051828", "topics": []string{"subsidies"},
		"consent":    map[string]any{"given": false},
		"followups":  []map[string]any{{"id": uuid.Must(uuid.NewV7()).String(), "kind": "information", "description": "x", "code": string(card)}},
		"created_at": "2026-11-26T14:05:00+01:00", "updated_at": "2026-11-26T14:05:00+01:00",
	}
	if status, body := b.do(http.MethodPut, "/api/visits/"+other["id"].(string), b.deviceToken(), other); status != http.StatusConflict || !strings.Contains(string(body), "code_taken") {
		t.Errorf("the card's code on another follow-up: got %d %s, want 409 code_taken", status, body)
	}
}

// giveFeedback stores an entrepreneur's feedback on code in the bus, as a
// sync's pull does, and returns at once: the tablet sees it at its next
// read of the bus.
func giveFeedback(t *testing.T, b *testBus, code string, rating int, comment, pref string) {
	t.Helper()
	seq, err := b.store.PullCursor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.store.ApplyPull(context.Background(), &infosync.PullResponse{Feedback: []infosync.FeedbackChange{{
		Feedback: schema.Feedback{ID: uuid.Must(uuid.NewV7()).String(), Code: code, Rating: rating, Comment: comment,
			ContactPreference: pref, CreatedAt: "2026-11-27T09:30:00+01:00"},
		Seq: seq + 1,
	}}, Next: seq + 1})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserFeedback: the entrepreneur's rating and comment, pulled by
// the bus, come to the tablet with the visit's view; the list marks the
// visit and its detail shows them beside the follow-up, in Dutch and,
// switched, in English.
func TestBrowserFeedback(t *testing.T) {
	b, _ := enrolledBus(t)
	cards, err := b.store.IssueCards(context.Background(), io.Discard, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	card := string(cards[0])
	p := newTab(t, b)
	p.pair()
	p.click("new-visit")
	p.fill(visit{name: "Kaaswinkel De Reactie", wijk: "WK051807", topics: []string{"vergunningen"}})
	p.addFollowUp(0, "Zoekt uit of een terras mag.")
	p.typeInto("followups-0-code", card)
	p.click("save")
	p.screen("list")
	id := eval[string](p, `document.querySelector('[data-visit-id]').dataset.visitId`)
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	if n := eval[int](p, `document.querySelectorAll('.visit-feedback').length`); n != 0 {
		t.Fatalf("%d feedback marks before any feedback", n)
	}
	giveFeedback(t, b, card, 4, "Ik wacht nog op een antwoord.\nGraag snel.", schema.PreferPhone)
	p.click("sync-now")
	p.waitFor("the feedback mark in the list", fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-feedback')?.textContent === 'Reactie: 4'`, id))

	p.clickRow(id)
	p.screen("form")
	p.waitFor("the feedback on the detail", `!document.querySelector('#followups-0 .fu-feedback').hidden`)
	got := eval[[]string](p, `['title', 'comment', 'meta'].map(k => document.querySelector('#followups-0 .fu-feedback-' + k).textContent)`)
	if got[0] != "Reactie van de ondernemer: cijfer 4 van 10" || got[1] != "Ik wacht nog op een antwoord.\nGraag snel." || !strings.HasPrefix(got[2], "Wil gebeld worden · 27 nov") {
		t.Errorf("feedback shown as %q", got)
	}
	p.click("lang-switch")
	p.waitFor("English", `document.documentElement.lang === 'en'`)
	if got := eval[string](p, `document.querySelector('#followups-0 .fu-feedback-title').textContent`); got != "Feedback from the entrepreneur: 4 out of 10" {
		t.Errorf("feedback title in English: %q", got)
	}
}

// TestBrowserFeedbackRoundTrip: the QR a tablet shows offline, opened on
// the entrepreneur's phone, takes their feedback at the office; after the
// next sync the tablet shows it with the visit.
func TestBrowserFeedbackRoundTrip(t *testing.T) {
	b, _ := enrolledBus(t)
	p := newTab(t, b)
	p.pair()
	p.waitFor("a full pool", fmt.Sprintf(`%s.then(n => n === %d)`, p.poolFree(), poolSize))
	p.setOffline(true)
	p.click("new-visit")
	p.fill(visit{name: "Bakkerij Terugkoppeling", wijk: "WK051828", topics: []string{"subsidies"}})
	p.addFollowUp(0, "Zoekt uit welke subsidie past.")
	p.click("save")
	p.screen("qr")
	id := eval[string](p, `location.hash.slice('#/qr/'.length)`)
	target := p.shownQR("qr-image-0")
	p.click("qr-back")
	p.screen("list")

	// The entrepreneur's phone: the office page the QR names.
	phone := newTab(t, b)
	phone.do("open the QR's page", chromedp.Navigate(target))
	phone.waitFor("the feedback form", `document.querySelector('input[name=rating][value="8"]') !== null`)
	phone.do("give feedback", chromedp.Click(chromedp.CSS(`input[name=rating][value="8"]`)))
	phone.do("comment", chromedp.SendKeys(chromedp.ID("comment"), "Fijn gesprek, snel geholpen."))
	phone.do("send", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	phone.waitFor("feedback taken", `document.body.textContent.includes('8')`)

	// Back in reach: the visit goes to the bus and the office; the
	// feedback comes back.
	p.setOffline(false)
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	p.click("sync-now")
	p.waitFor("the visit at the office", rowState(id)+` === 'office'`)
	p.click("sync-now")
	p.waitFor("the feedback in the list", fmt.Sprintf(`document.querySelector('[data-visit-id=%q] .visit-feedback')?.textContent === 'Reactie: 8'`, id))
	p.clickRow(id)
	p.screen("form")
	p.waitFor("the comment on the detail", `document.querySelector('#followups-0 .fu-feedback-comment').textContent === 'Fijn gesprek, snel geholpen.'`)
}

// TestBrowserCodesAccessibility runs axe-core (WCAG 2.1 A and AA) on the
// screens of follow-up codes: the form with a mistyped card code, the list
// with feedback, a visit's detail with its code, QR and feedback, the QR
// screen in both languages, and settings with the cards.
func TestBrowserCodesAccessibility(t *testing.T) {
	axe := axeSource(t)
	b, _ := enrolledBus(t)
	cards, err := b.store.IssueCards(context.Background(), io.Discard, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	card := cards[0]
	giveFeedback(t, b, string(card), 7, "Duidelijk verhaal.", schema.PreferNone) // kept until the card's code is used
	p := newTab(t, b)
	p.pair()
	p.waitFor("a full pool", fmt.Sprintf(`%s.then(n => n === %d)`, p.poolFree(), poolSize))
	p.checkAxe("settings with the cards", axe)

	p.click("nav-list")
	p.screen("list")
	p.click("new-visit")
	p.fill(visit{name: "Bloemist Toegankelijk", wijk: "WK051807", topics: []string{"vergunningen"}})
	p.addFollowUp(0, "Stuurt de regels voor uitstallingen.")
	p.typeInto("followups-0-code", string(card[:12])+"Z")
	p.waitFor("the check's message", `document.getElementById('followups-0-code-check').dataset.kind === 'error'`)
	p.checkAxe("the form with a mistyped card code", axe)
	p.typeInto("followups-0-code", card.Grouped())
	p.click("save")
	p.screen("list")
	id := eval[string](p, `document.querySelector('[data-visit-id]').dataset.visitId`)
	p.waitFor("the feedback mark", fmt.Sprintf(`!!document.querySelector('[data-visit-id=%q] .visit-feedback')`, id))
	p.checkAxe("the list with feedback", axe)
	p.clickRow(id)
	p.screen("form")
	p.waitFor("code and feedback on the detail", `!document.querySelector('#followups-0 .fu-feedback').hidden && document.getElementById('followups-0-qr').complete`)
	p.checkAxe("a visit's detail with its code, QR and feedback", axe)

	p.click("cancel")
	p.screen("list")
	p.click("new-visit")
	p.fill(visit{name: "Fietsenwinkel Scanbaar", wijk: "WK051828", topics: []string{"subsidies"}})
	p.addFollowUp(0, "Belt terug over de subsidie.")
	p.addFollowUp(1, "Stuurt het formulier.")
	p.click("save")
	p.screen("qr")
	p.waitFor("both QR images", `[0, 1].every(i => document.getElementById('qr-image-' + i)?.complete)`)
	p.checkAxe("the QR screen", axe)
	p.click("lang-switch")
	p.waitFor("English", `document.documentElement.lang === 'en'`)
	p.checkAxe("the QR screen in English", axe)
}

// TestBrowserCardsSheet: the settings screen opens a sheet of new cards
// from the bus in a tab of its own, styled for print (its inline style is
// allowed there, as it would not be in a Blob URL of the app).
func TestBrowserCardsSheet(t *testing.T) {
	b, _ := enrolledBus(t)
	p := newTab(t, b)
	p.pair()
	p.waitFor("a full pool", fmt.Sprintf(`%s.then(n => n === %d)`, p.poolFree(), poolSize))
	p.click("nav-settings")
	p.screen("settings")
	p.waitFor("the pool's state", fmt.Sprintf(`document.getElementById('settings-codes').textContent === '%d'`, poolSize))
	p.choose("cards-count", "16")
	p.click("cards-print")
	p.waitFor("the sheet opened", `document.getElementById('cards-message').textContent === 'Het vel met kaarten is geopend in een nieuw tabblad.'`)

	var sheet target.ID
	deadline := time.Now().Add(waitTimeout)
	for sheet == "" {
		infos, err := chromedp.Targets(p.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "page" && strings.HasPrefix(info.URL, b.url+"/cards/") {
				sheet = info.TargetID
			}
		}
		if sheet == "" && time.Now().After(deadline) {
			t.Fatalf("no tab with the sheet after %v", waitTimeout)
		}
		time.Sleep(25 * time.Millisecond) // between polls of the browser's tabs
	}
	sctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(sheet))
	defer cancel()
	s := &tab{tb: t, ctx: sctx, bus: b}
	s.waitFor("16 cards on two pages, laid out for A4", `document.querySelectorAll('.card').length === 16 &&
		document.querySelectorAll('.page').length === 2 && getComputedStyle(document.querySelector('.page')).display === 'grid'`)
}

// TestBrowserCodesPoolEmpty: a bus without an office issues no codes, so
// the pool stays empty; a visit with a follow-up still saves, back on the
// list, and the crew are told that the follow-up has no code and what to
// do.
func TestBrowserCodesPoolEmpty(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	p.click("new-visit")
	p.fill(visit{name: "Schoenmaker Zonder Code", wijk: "WK051828", topics: []string{"parkeren"}})
	p.addFollowUp(0, "Belt over de parkeervergunning.")
	p.click("save")
	p.screen("list")
	p.waitFor("the message", `document.getElementById('toast').textContent.startsWith('1 vervolgafspraak heeft geen code: de tablet heeft geen codes meer.')`)
	id := eval[string](p, `document.querySelector('[data-visit-id]').dataset.visitId`)
	p.waitFor("the visit on the bus", rowState(id)+` === 'bus'`)
	if v := b.visits(); len(v) != 1 || len(v[0].FollowUps) != 1 || v[0].FollowUps[0].Code != "" {
		t.Errorf("bus holds %+v, want one visit with one follow-up without a code", v)
	}
	p.click("nav-settings")
	p.screen("settings")
	p.waitFor("the pool's state", `document.getElementById('settings-codes').textContent !== '–'`)
	if got := eval[string](p, `document.getElementById('settings-codes').textContent`); !strings.HasPrefix(got, "0 – ") || !strings.Contains(got, "kantoor") {
		t.Errorf("settings say %q about the pool, want 0 and the bus's reason", got)
	}
}

// TestBrowserCardScan: where the browser reads QR codes (BarcodeDetector,
// Chrome on Android), the follow-up offers the camera; what it reads, the
// card's URL, becomes the code in its groups, checked. Chromium on Linux
// has no BarcodeDetector and the test browser no camera, so both are
// stand-ins put into the page before the app starts: what is tested is the
// app's part, from the button to the checked code.
func TestBrowserCardScan(t *testing.T) {
	b, o := enrolledBus(t)
	cards, err := b.store.IssueCards(context.Background(), io.Discard, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	card := cards[0]
	p := newTab(t, b)
	stand := fmt.Sprintf(`
		window.BarcodeDetector = class { constructor() {} async detect() { return [{ rawValue: %q }]; } };
		navigator.mediaDevices.getUserMedia = async () => {
			const c = document.createElement('canvas');
			c.width = c.height = 16;
			c.getContext('2d').fillRect(0, 0, 16, 16);
			return c.captureStream(5);
		};`, bus.QRTarget(o.url, card))
	p.do("stand-ins for the camera", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stand})
		return err
	}))
	p.pair()
	p.click("new-visit")
	p.fill(visit{name: "Slijterij Met Camera", wijk: "WK051807", topics: []string{"vergunningen"}})
	p.addFollowUp(0, "Stuurt de regels.")
	p.waitFor("the camera button", `!document.getElementById('followups-0-code-scan').hidden`)
	p.click("followups-0-code-scan")
	p.waitFor("the code read from the card", fmt.Sprintf(`document.getElementById('followups-0-code').value === %q && !document.getElementById('scan-dialog').open`, card.Grouped()))
	p.waitFor("the code checked", `document.getElementById('followups-0-code-check').textContent === 'De code klopt.'`)
	p.click("save")
	p.screen("list")
	id := eval[string](p, `document.querySelector('[data-visit-id]').dataset.visitId`)
	if got := savedVisit(p, id).FollowUps[0].Code; got != string(card) {
		t.Errorf("saved code %q, want %q", got, card)
	}
}
