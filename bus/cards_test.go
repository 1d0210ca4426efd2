package bus

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestCards: a sheet of cards, eight a page, each with its QR, its code,
// both languages and the contact line; the codes are the bus's and
// reserved for cards.
func TestCards(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	e := mustEnroll(t, store)
	var buf bytes.Buffer
	codes, err := store.IssueCards(context.Background(), &buf, 9, "")
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if len(codes) != 9 {
		t.Fatalf("got %d codes, want 9", len(codes))
	}
	if n := strings.Count(html, `<div class="page">`); n != 2 {
		t.Errorf("9 cards on %d pages, want 2", n)
	}
	if n := strings.Count(html, `<section class="card"`); n != 9 {
		t.Errorf("%d cards, want 9", n)
	}
	if n := strings.Count(html, "<svg "); n != 9 {
		t.Errorf("%d QR images, want 9", n)
	}
	for _, want := range []string{"@page { size: A4", DefaultCardContact, "Scan de code", `lang="en"`} {
		if !strings.Contains(html, want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	for _, c := range codes {
		if !strings.Contains(html, c.Grouped()) || !c.Verify(e.CodeKey) {
			t.Errorf("code %s missing from the sheet or not the bus's", c)
		}
		var device string
		if err := store.db.Read.QueryRow(`SELECT device_id FROM codes WHERE code = ?`, string(c)).Scan(&device); err != nil || device != CardsDevice {
			t.Errorf("code %s reserved for %q (%v), want %q", c, device, err, CardsDevice)
		}
	}
	// A card's QR reads as its code's page.
	svg := html[strings.Index(html, "<svg "):]
	svg = svg[:strings.Index(svg, "</svg>")+len("</svg>")]
	if got, want := decodeQR(t, rasterizeSVG(t, []byte(svg))), QRTarget(testOfficeURL, codes[0]); got != want {
		t.Errorf("card QR says %q, want %q", got, want)
	}
	// The contact line is text, escaped like any.
	buf.Reset()
	if _, err := store.IssueCards(context.Background(), &buf, 1, "Loket <b>070</b>"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Loket &lt;b&gt;070&lt;/b&gt;") {
		t.Errorf("contact line not escaped")
	}
	for _, n := range []int{0, MaxCards + 1} {
		if _, err := store.IssueCards(context.Background(), &buf, n, ""); err == nil {
			t.Errorf("%d cards: no error", n)
		}
	}
}

func TestCardsHTTP(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	token := b.pair()
	req, _ := http.NewRequest(http.MethodGet, b.url+"/api/cards?n=3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if n := strings.Count(buf.String(), `<section class="card"`); n != 3 {
		t.Errorf("%d cards, want 3", n)
	}
	if status, _ := b.do(http.MethodGet, "/api/cards?n=3", "", nil); status != http.StatusUnauthorized {
		t.Errorf("without a token: got %d, want 401", status)
	}
}
