package bus

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestCardLink: a device gets a one-time link to a sheet of cards; opened,
// it issues the cards with the sheet's own CSP; opened again, or after two
// minutes, it is gone and issues nothing. Without a device token, with a
// bad count, or on a bus that cannot sign codes, there is no link.
func TestCardLink(t *testing.T) {
	clock := newClock()
	store := mustOpenStore(t, "", clock.Now)
	b := mustStartBus(t, store)
	token := b.pair()

	if status, body := b.do(http.MethodPost, "/api/cards/link?n=3", token, nil); status != http.StatusConflict || !strings.Contains(string(body), "not_enrolled") {
		t.Errorf("link on a bus without an office: got %d %s, want 409 not_enrolled", status, body)
	}
	mustEnroll(t, store)
	if status, _ := b.do(http.MethodPost, "/api/cards/link?n=3", "", nil); status != http.StatusUnauthorized {
		t.Errorf("link without a token: got %d, want 401", status)
	}
	if status, body := b.do(http.MethodPost, "/api/cards/link?n=401", token, nil); status != http.StatusBadRequest || !strings.Contains(string(body), `"n"`) {
		t.Errorf("link for 401 cards: got %d %s, want 400 naming n", status, body)
	}

	link := func() string {
		t.Helper()
		status, body := b.do(http.MethodPost, "/api/cards/link?n=3", token, nil)
		if status != http.StatusCreated {
			t.Fatalf("link: got %d %s, want 201", status, body)
		}
		var a struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(body, &a); err != nil || !strings.HasPrefix(a.URL, "/cards/") {
			t.Fatalf("link answer %s: %v", body, err)
		}
		return a.URL
	}
	cards := func() int {
		var n int
		if err := store.db.Read.QueryRow(`SELECT count(*) FROM codes WHERE device_id = ?`, CardsDevice).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	u := link()
	resp, err := testClient.Get(b.url + u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") != cardsCSP || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("sheet: got %d, CSP %q, cache %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), resp.Header.Get("Cache-Control"))
	}
	if n := cards(); n != 3 {
		t.Errorf("%d codes issued for cards, want 3", n)
	}
	if status, body := b.do(http.MethodGet, u, "", nil); status != http.StatusNotFound || !strings.Contains(string(body), "al gebruikt of verlopen") {
		t.Errorf("the link again: got %d %s, want 404 with a page that says so", status, body)
	}
	u = link()
	clock.Advance(cardLinkTTL)
	if status, _ := b.do(http.MethodGet, u, "", nil); status != http.StatusNotFound {
		t.Errorf("an expired link: got %d, want 404", status)
	}
	if status, _ := b.do(http.MethodGet, "/cards/not-a-ticket", "", nil); status != http.StatusNotFound {
		t.Errorf("a made-up link: got %d, want 404", status)
	}
	if n := cards(); n != 3 {
		t.Errorf("%d codes issued for cards, want still 3", n)
	}
}
