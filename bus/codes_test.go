package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"infobus/schema"
	infosync "infobus/sync"
)

const testOfficeURL = "https://kantoor.example.nl"

// mustEnroll enrolls store with an office as bus prefix 7Z and returns the
// enrollment.
func mustEnroll(tb testing.TB, store *Store) infosync.Enrollment {
	tb.Helper()
	e := infosync.Enrollment{OfficeURL: testOfficeURL, BusID: "0190f5a0-0000-7000-8000-000000000001",
		BusToken: strings.Repeat("t", 43), CodeKey: bytes.Repeat([]byte{7}, infosync.CodeKeySize), CodePrefix: "7Z"}
	if err := store.Enroll(context.Background(), e, false); err != nil {
		tb.Fatal(err)
	}
	return e
}

type codesAnswer struct {
	Codes []codeView `json:"codes"`
}

func (b *testBus) reserve(token string, n int) []codeView {
	b.tb.Helper()
	status, body := b.do(http.MethodGet, "/api/codes?n="+strconv.Itoa(n), token, nil)
	if status != http.StatusOK {
		b.tb.Fatalf("GET /api/codes: got %d %s, want 200", status, body)
	}
	var a codesAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		b.tb.Fatal(err)
	}
	if len(a.Codes) != n {
		b.tb.Fatalf("got %d codes, want %d", len(a.Codes), n)
	}
	return a.Codes
}

func TestCodesNeedEnrollment(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	b := mustStartBus(t, store)
	token := b.pair()
	for _, path := range []string{"/api/codes?n=3", "/api/cards?n=1"} {
		status, body := b.do(http.MethodGet, path, token, nil)
		e := decodeError(t, body)
		if status != http.StatusConflict || e.Error != "not_enrolled" || e.MessageNL == "" || e.Message == "" {
			t.Errorf("GET %s: got %d %s, want 409 not_enrolled in both languages", path, status, body)
		}
	}
	// An enrollment from before codes existed has no prefix: still no codes.
	e := mustEnroll(t, store)
	e.CodePrefix = ""
	if err := store.Enroll(context.Background(), e, false); err != nil {
		t.Fatal(err)
	}
	status, body := b.do(http.MethodGet, "/api/codes?n=3", token, nil)
	if status != http.StatusConflict || decodeError(t, body).Error != "not_enrolled" {
		t.Errorf("without a prefix: got %d %s, want 409 not_enrolled", status, body)
	}
	if status, _ := b.do(http.MethodGet, "/api/codes?n=3", "", nil); status != http.StatusUnauthorized {
		t.Errorf("without a token: got %d, want 401", status)
	}
}

func TestCodesCount(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	token := b.pair()
	tests := []struct {
		name, path, field string
		status, n         int
	}{
		{"default", "/api/codes", "", 200, DefaultCodesPerRequest},
		{"one", "/api/codes?n=1", "", 200, 1},
		{"most", "/api/codes?n=50", "", 200, 50},
		{"zero", "/api/codes?n=0", "n", 400, 0},
		{"too many", "/api/codes?n=51", "n", 400, 0},
		{"negative", "/api/codes?n=-3", "n", 400, 0},
		{"not a number", "/api/codes?n=veel", "n", 400, 0},
		{"cards too many", "/api/cards?n=401", "n", 400, 0},
		{"cards zero", "/api/cards?n=0", "n", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := b.do(http.MethodGet, tt.path, token, nil)
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, body, tt.status)
			}
			if tt.field != "" {
				e := decodeError(t, body)
				if e.Fields[tt.field] == "" || e.FieldsNL[tt.field] == "" {
					t.Fatalf("got %s, want the field %q named in both languages", body, tt.field)
				}
				return
			}
			var a codesAnswer
			if err := json.Unmarshal(body, &a); err != nil || len(a.Codes) != tt.n {
				t.Fatalf("got %s, want %d codes", body, tt.n)
			}
		})
	}
}

// TestCodesTwoDevices: tablets reserving at the same time never get the
// same code, every code is the bus's, and each is recorded for its device.
func TestCodesTwoDevices(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	e := mustEnroll(t, store)
	b := mustStartBus(t, store)
	tokens := []string{b.pair(), b.pair()}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for d, token := range tokens {
		for range 8 {
			wg.Go(func() {
				codes := b.reserve(token, 50)
				mu.Lock()
				defer mu.Unlock()
				for _, c := range codes {
					if prev, ok := seen[c.Code]; ok {
						t.Errorf("code %s given to device %d and again to device %d", c.Code, prev, d)
					}
					seen[c.Code] = d
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != 2*8*50 {
		t.Fatalf("got %d distinct codes, want %d", len(seen), 2*8*50)
	}
	// Each code is recorded for the device that asked for it.
	deviceOf := map[int]string{}
	for code, d := range seen {
		c, err := schema.ParseCode(code)
		if err != nil || c.Prefix() != e.CodePrefix || !c.Verify(e.CodeKey) {
			t.Fatalf("code %s: parse %v, prefix %s; want the bus's own", code, err, c.Prefix())
		}
		var device string
		if err := store.db.Read.QueryRow(`SELECT device_id FROM codes WHERE code = ?`, code).Scan(&device); err != nil {
			t.Fatal(err)
		}
		if prev, ok := deviceOf[d]; ok && prev != device {
			t.Fatalf("tablet %d's codes are recorded for %s and %s", d, prev, device)
		}
		deviceOf[d] = device
	}
	if len(deviceOf) != 2 || deviceOf[0] == deviceOf[1] {
		t.Fatalf("codes recorded for devices %v, want one per tablet", deviceOf)
	}
}

func visitWithCodes(tb testing.TB, n int, codes ...string) map[string]any {
	v := newVisit(tb, n)
	fu := v["followups"].([]map[string]any)[0]
	var fus []map[string]any
	for i, c := range codes {
		f := map[string]any{}
		for k, val := range fu {
			f[k] = val
		}
		f["id"] = newVisit(tb, 0)["id"] // a fresh UUIDv7
		f["code"] = c
		if i == 0 {
			f["id"] = fu["id"]
		}
		fus = append(fus, f)
	}
	v["followups"] = fus
	return v
}

// TestCodeBoundOnce: a code goes with one follow-up, ever. Another
// follow-up carrying it, or a code this bus never issued, is refused with
// nothing written.
func TestCodeBoundOnce(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	token := b.pair()
	codes := b.reserve(token, 4)
	otherKey := bytes.Repeat([]byte{8}, infosync.CodeKeySize)
	foreign, _ := schema.NewCode("7Z", otherKey, 12345)
	unissued, _ := schema.NewCode("7Z", bytes.Repeat([]byte{7}, infosync.CodeKeySize), 12345)

	// Typed the way a person might: lower case, grouped.
	a := visitWithCodes(t, 1, strings.ToLower(codes[0].Grouped))
	if status, body := b.do(http.MethodPut, "/api/visits/"+a["id"].(string), token, a); status != http.StatusCreated {
		t.Fatalf("first visit: got %d %s", status, body)
	}
	view, err := store.FindVisitByID(context.Background(), a["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if got := view.FollowUps[0].Code; got != codes[0].Code {
		t.Fatalf("stored code %q, want canonical %q", got, codes[0].Code)
	}
	// The same follow-up keeps its code across revisions.
	a["rev"] = 2
	a["notes"] = "Tweede versie."
	if status, body := b.do(http.MethodPut, "/api/visits/"+a["id"].(string), token, a); status != http.StatusOK {
		t.Fatalf("second rev: got %d %s", status, body)
	}

	tests := []struct {
		name   string
		codes  []string
		status int
		error  string
		field  string
		issued bool
	}{
		{"bound to another follow-up", []string{codes[0].Code}, 409, "code_taken", "followups[0].code", true},
		{"second follow-up taken", []string{codes[1].Code, codes[0].Grouped}, 409, "code_taken", "followups[1].code", true},
		{"another bus's key", []string{string(foreign)}, 409, "code_taken", "followups[0].code", false},
		{"well made, never issued", []string{string(unissued)}, 409, "code_taken", "followups[0].code", false},
		{"typo", []string{typo(codes[2].Code)}, 400, "validation", "followups[0].code", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := visitWithCodes(t, 10+i, tt.codes...)
			status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v)
			e := decodeError(t, body)
			if status != tt.status || e.Error != tt.error || e.FieldsNL[tt.field] == "" || e.MessageNL == "" {
				t.Fatalf("got %d %s, want %d %s naming %s in Dutch", status, body, tt.status, tt.error, tt.field)
			}
			if _, err := store.FindVisitByID(context.Background(), v["id"].(string)); err != ErrNotFound {
				t.Fatalf("refused visit was stored: %v", err)
			}
		})
	}
	// Nothing half-written: the refused visit's first code (codes[1]) is
	// still free for another follow-up.
	c := visitWithCodes(t, 30, codes[1].Code)
	if status, body := b.do(http.MethodPut, "/api/visits/"+c["id"].(string), token, c); status != http.StatusCreated {
		t.Fatalf("a code from a refused visit stays free: got %d %s", status, body)
	}
	// The binding outlives the visit: deleting it does not free the code.
	a["rev"], a["deleted"] = 3, true
	if status, body := b.do(http.MethodPut, "/api/visits/"+a["id"].(string), token, a); status != http.StatusOK {
		t.Fatalf("delete: got %d %s", status, body)
	}
	d := visitWithCodes(t, 31, codes[0].Code)
	if status, body := b.do(http.MethodPut, "/api/visits/"+d["id"].(string), token, d); status != http.StatusConflict {
		t.Fatalf("code of a deleted visit: got %d %s, want 409", status, body)
	}
}

// typo changes the check symbol of a code to another one.
func typo(code string) string {
	i := strings.IndexByte(schema.CodeAlphabet, code[12])
	return code[:12] + string(schema.CodeAlphabet[(i+1)%32])
}
