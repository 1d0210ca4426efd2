package bus

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPairing(t *testing.T) {
	clk := newClock()
	store := mustOpenStore(t, "", clk.Now)
	b := mustStartBus(t, store)
	ctx := context.Background()
	pair := func(code string) (int, apiError) {
		t.Helper()
		status, body := b.do(http.MethodPost, "/api/pair", "", map[string]string{"pairing_code": code})
		if status == http.StatusCreated {
			return status, apiError{}
		}
		return status, decodeError(t, body)
	}

	t.Run("a code works once, typed loosely", func(t *testing.T) {
		pc, err := store.NewPairingCode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pc.Code) != 9 || pc.Code[4] != '-' {
			t.Fatalf("got code %q, want XXXX-XXXX", pc.Code)
		}
		if got, want := pc.ExpiresAt, clk.Now().Add(PairingCodeTTL); !got.Equal(want) {
			t.Errorf("got expiry %v, want %v", got, want)
		}
		typed := strings.ToLower(strings.ReplaceAll(pc.Code, "-", " "))
		if status, e := pair(typed); status != http.StatusCreated {
			t.Fatalf("first use: got %d %+v, want 201", status, e)
		}
		status, e := pair(pc.Code)
		if status != http.StatusUnauthorized || e.Error != "pairing_code_used" {
			t.Fatalf("second use: got %d %+v, want 401 pairing_code_used", status, e)
		}
	})
	t.Run("an expired code is refused and says so", func(t *testing.T) {
		pc, err := store.NewPairingCode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(PairingCodeTTL + time.Second)
		status, e := pair(pc.Code)
		if status != http.StatusUnauthorized || e.Error != "pairing_code_expired" {
			t.Fatalf("got %d %+v, want 401 pairing_code_expired", status, e)
		}
		if !strings.Contains(e.MessageNL, "verlopen") {
			t.Errorf("got Dutch message %q, want it to say the code expired", e.MessageNL)
		}
	})
	t.Run("an unknown code is refused", func(t *testing.T) {
		status, e := pair("ZZZZ-ZZZZ")
		if status != http.StatusUnauthorized || e.Error != "pairing_code_unknown" {
			t.Fatalf("got %d %+v, want 401 pairing_code_unknown", status, e)
		}
	})
	t.Run("a missing code is a bad request", func(t *testing.T) {
		status, body := b.do(http.MethodPost, "/api/pair", "", map[string]string{})
		if status != http.StatusBadRequest || decodeError(t, body).Fields["pairing_code"] == "" {
			t.Fatalf("got %d %s, want 400 naming pairing_code", status, body)
		}
	})
	t.Run("tokens: none, malformed, wrong and right", func(t *testing.T) {
		token := b.pair()
		if len(token) < 43 { // 32 bytes in unpadded base64
			t.Errorf("got a %d-character token, want at least 256 bits", len(token))
		}
		for _, tt := range []struct {
			name, header string
			want         int
		}{
			{"none", "", http.StatusUnauthorized},
			{"not bearer", "Basic " + token, http.StatusUnauthorized},
			{"empty bearer", "Bearer ", http.StatusUnauthorized},
			{"wrong", "Bearer " + token[:len(token)-2] + "xx", http.StatusUnauthorized},
			{"right", "Bearer " + token, http.StatusOK},
		} {
			req, _ := http.NewRequest(http.MethodGet, b.url+"/api/visits", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s: got %d, want %d", tt.name, resp.StatusCode, tt.want)
			}
		}
	})
	t.Run("the database keeps only hashes", func(t *testing.T) {
		pc, err := store.NewPairingCode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		token := b.pair()
		var found int
		for _, q := range []string{`SELECT count(*) FROM devices WHERE token_hash = ? OR id = ?`, `SELECT count(*) FROM pairing_codes WHERE code_hash = ? OR code_hash = ?`} {
			var n int
			if err := store.db.Read.QueryRow(q, token, pc.Code).Scan(&n); err != nil {
				t.Fatal(err)
			}
			found += n
		}
		if found != 0 {
			t.Errorf("found the token or code in clear %d times, want 0", found)
		}
	})
}
