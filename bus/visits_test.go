package bus

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"infobus/schema"
)

func countVisits(tb testing.TB, s *Store) int {
	tb.Helper()
	var n int
	if err := s.db.Read.QueryRow(`SELECT count(*) FROM visits`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func decodeView(tb testing.TB, body []byte) VisitView {
	tb.Helper()
	var v VisitView
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func decodeError(tb testing.TB, body []byte) apiError {
	tb.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("decode error %s: %v", body, err)
	}
	if e.Error == "" || e.Message == "" || e.MessageNL == "" {
		tb.Errorf("error body lacks code or message in both languages: %s", body)
	}
	return e
}

func TestVisitPutStatuses(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", nil))
	token := b.pair()
	v := newVisit(t, 1)
	path := "/api/visits/" + v["id"].(string)

	status, body := b.do(http.MethodPut, path, token, v)
	if status != http.StatusCreated {
		t.Fatalf("create: got %d %s, want 201", status, body)
	}
	created := decodeView(t, body)
	if created.State != StateBus || created.Seq == 0 || created.ReceivedAt == "" {
		t.Errorf("create: got state %q seq %d received_at %q, want bus, a seq and a receive time", created.State, created.Seq, created.ReceivedAt)
	}
	if created.Business.Address.Postcode != "2571JA" || created.Contact.Phone != "0612345678" {
		t.Errorf("create: got postcode %q phone %q, want the stored forms 2571JA and 0612345678", created.Business.Address.Postcode, created.Contact.Phone)
	}
	if created.DeviceID == "" {
		t.Errorf("create: got no device_id, want the pairing device's")
	}

	t.Run("identical replay is 200 and writes nothing", func(t *testing.T) {
		status, body := b.do(http.MethodPut, path, token, v)
		if status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", status, body)
		}
		if got := decodeView(t, body); got.Seq != created.Seq {
			t.Errorf("got seq %d, want %d unchanged", got.Seq, created.Seq)
		}
		if n := countVisits(t, b.store); n != 1 {
			t.Errorf("got %d rows, want 1", n)
		}
	})

	t.Run("a replay sending back read-only fields is identical too", func(t *testing.T) {
		var echoed map[string]any
		if err := json.Unmarshal(body, &echoed); err != nil {
			t.Fatal(err)
		}
		if status, body := b.do(http.MethodPut, path, token, echoed); status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", status, body)
		}
	})

	t.Run("same rev with other content is 409 and changes nothing", func(t *testing.T) {
		other := cloneVisit(t, v)
		other["notes"] = "Iets heel anders."
		status, body := b.do(http.MethodPut, path, token, other)
		if status != http.StatusConflict {
			t.Fatalf("got %d %s, want 409", status, body)
		}
		if e := decodeError(t, body); e.Error != "conflict" || e.CurrentRev != 1 {
			t.Errorf("got %+v, want conflict at rev 1", e)
		}
		_, body = b.do(http.MethodGet, path, token, nil)
		if got := decodeView(t, body); got.Notes != "Wil een terrasvergunning." || got.Seq != created.Seq {
			t.Errorf("got notes %q seq %d, want the first content at seq %d", got.Notes, got.Seq, created.Seq)
		}
	})

	t.Run("a higher rev updates", func(t *testing.T) {
		next := cloneVisit(t, v)
		next["rev"], next["notes"] = 2, "Terras aangevraagd."
		status, body := b.do(http.MethodPut, path, token, next)
		if status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", status, body)
		}
		got := decodeView(t, body)
		if got.Rev != 2 || got.Notes != "Terras aangevraagd." || got.Seq <= created.Seq {
			t.Errorf("got rev %d notes %q seq %d, want rev 2, the new notes and a seq past %d", got.Rev, got.Notes, got.Seq, created.Seq)
		}
		if n := countVisits(t, b.store); n != 1 {
			t.Errorf("got %d rows, want 1", n)
		}
	})

	t.Run("an older rev is 409 stale", func(t *testing.T) {
		status, body := b.do(http.MethodPut, path, token, v)
		if status != http.StatusConflict {
			t.Fatalf("got %d %s, want 409", status, body)
		}
		if e := decodeError(t, body); e.Error != "stale" || e.CurrentRev != 2 {
			t.Errorf("got %+v, want stale at rev 2", e)
		}
	})

	tests := []struct {
		name       string
		path       string
		token      string
		body       any
		wantStatus int
		wantError  string
		wantFields []string
	}{
		{"every bad field at once", "", token, func() any {
			bad := newVisit(t, 2)
			bad["business"].(map[string]any)["kvk"] = "1234"
			bad["business"].(map[string]any)["address"].(map[string]any)["postcode"] = "2571 SS"
			bad["rating"] = 11
			bad["topics"] = []string{"onbekend"}
			return bad
		}(), http.StatusBadRequest, "validation", []string{"business.address.postcode", "business.kvk", "rating", "topics[0]"}},
		{"contact without consent", "", token, func() any {
			bad := newVisit(t, 3)
			bad["consent"] = map[string]any{"given": false}
			bad["followups"] = []any{}
			return bad
		}(), http.StatusBadRequest, "validation", []string{"contact.email", "contact.name", "contact.phone"}},
		{"a field that does not exist, such as a BSN", "", token, func() any {
			bad := newVisit(t, 4)
			bad["bsn"] = "123456782"
			return bad
		}(), http.StatusBadRequest, "validation", []string{"bsn"}},
		{"wrong type", "", token, func() any {
			bad := newVisit(t, 5)
			bad["rating"] = "zeven"
			return bad
		}(), http.StatusBadRequest, "validation", []string{"rating"}},
		{"id differs from the URL", "/api/visits/019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f", token, newVisit(t, 6), http.StatusBadRequest, "validation", []string{"id"}},
		{"not JSON", "", token, "{not json", http.StatusBadRequest, "bad_request", nil},
		{"empty body", "", token, "", http.StatusBadRequest, "bad_request", nil},
		{"two JSON values", "", token, `{"rev":1} {"rev":2}`, http.StatusBadRequest, "bad_request", nil},
		{"no token", "", "", newVisit(t, 7), http.StatusUnauthorized, "unauthorized", nil},
		{"wrong token", "", "bm90LWEtdG9rZW4", newVisit(t, 8), http.StatusUnauthorized, "unauthorized", nil},
		{"over the body limit", "", token, func() any {
			big := newVisit(t, 9)
			big["notes"] = strings.Repeat("a", DefaultBodyLimit)
			return big
		}(), http.StatusRequestEntityTooLarge, "too_large", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countVisits(t, b.store)
			p := tt.path
			if p == "" {
				id := "019ac0de-0000-7000-8000-000000000000"
				if m, ok := tt.body.(map[string]any); ok {
					id = m["id"].(string)
				}
				p = "/api/visits/" + id
			}
			status, body := b.do(http.MethodPut, p, tt.token, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", status, body, tt.wantStatus)
			}
			e := decodeError(t, body)
			if e.Error != tt.wantError {
				t.Errorf("got error %q, want %q", e.Error, tt.wantError)
			}
			var fields []string
			for f := range e.Fields {
				fields = append(fields, f)
				if e.FieldsNL[f] == "" {
					t.Errorf("field %s has no Dutch message", f)
				}
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tt.wantFields) {
				t.Errorf("got bad fields %v, want %v", fields, tt.wantFields)
			}
			if after := countVisits(t, b.store); after != before {
				t.Errorf("got %d rows after a refusal, want %d", after, before)
			}
		})
	}
}

func cloneVisit(tb testing.TB, v map[string]any) map[string]any {
	tb.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(j, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestVisitGetAndList(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", nil))
	token := b.pair()
	var ids []string
	for i := range 8 {
		v := newVisit(t, i) // wijken cycle through four codes
		if i == 5 {
			v["business"].(map[string]any)["name"] = "Schoenmakerij Özdemir"
		}
		if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v); status != http.StatusCreated {
			t.Fatalf("put %d: got %d %s", i, status, body)
		}
		ids = append(ids, v["id"].(string))
	}

	t.Run("get one", func(t *testing.T) {
		status, body := b.do(http.MethodGet, "/api/visits/"+ids[3], token, nil)
		if status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", status, body)
		}
		if got := decodeView(t, body); got.ID != ids[3] || got.Business.Name != "Bakkerij nummer 3" {
			t.Errorf("got %s %q, want %s", got.ID, got.Business.Name, ids[3])
		}
	})
	t.Run("get unknown is 404", func(t *testing.T) {
		status, body := b.do(http.MethodGet, "/api/visits/019ac0de-0000-7000-8000-000000000000", token, nil)
		if status != http.StatusNotFound || decodeError(t, body).Error != "not_found" {
			t.Fatalf("got %d %s, want 404 not_found", status, body)
		}
	})
	t.Run("get without token is 401", func(t *testing.T) {
		if status, body := b.do(http.MethodGet, "/api/visits/"+ids[0], "", nil); status != http.StatusUnauthorized {
			t.Fatalf("got %d %s, want 401", status, body)
		}
	})

	list := func(t *testing.T, query string) visitList {
		t.Helper()
		status, body := b.do(http.MethodGet, "/api/visits"+query, token, nil)
		if status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", status, body)
		}
		var l visitList
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	names := func(l visitList) []string {
		var out []string
		for _, v := range l.Visits {
			out = append(out, v.Business.Name)
		}
		return out
	}

	t.Run("all, newest first", func(t *testing.T) {
		l := list(t, "")
		if len(l.Visits) != 8 || l.Visits[0].ID != ids[7] || l.Visits[7].ID != ids[0] || l.More {
			t.Fatalf("got %v more=%v, want 8 visits newest first", names(l), l.More)
		}
	})
	t.Run("by wijk", func(t *testing.T) {
		l := list(t, "?wijk=wk051832")
		if got, want := names(l), []string{"Bakkerij nummer 5", "Bakkerij nummer 1"}; got[0] != "Schoenmakerij Özdemir" || got[1] != want[1] || len(got) != 2 {
			t.Fatalf("got %v, want visits 5 and 1", got)
		}
	})
	t.Run("by text, any case, non-ASCII", func(t *testing.T) {
		if got := names(list(t, "?q=%C3%96ZDEMIR")); len(got) != 1 || got[0] != "Schoenmakerij Özdemir" {
			t.Fatalf("got %v, want the Özdemir visit", got)
		}
		if got := names(list(t, "?q=nummer%204")); len(got) != 1 || got[0] != "Bakkerij nummer 4" {
			t.Fatalf("got %v, want visit 4", got)
		}
		if got := names(list(t, "?q=2571%20ja&wijk=WK051807")); len(got) != 2 {
			t.Fatalf("got %v, want visits 2 and 6 by formatted postcode within their wijk", got)
		}
		if got := names(list(t, "?q=%25")); len(got) != 0 {
			t.Fatalf("got %v for a literal %%, want nothing", got)
		}
	})
	t.Run("since and limit", func(t *testing.T) {
		all := list(t, "")
		l := list(t, "?limit=3")
		if len(l.Visits) != 3 || !l.More {
			t.Fatalf("got %d visits more=%v, want 3 and more", len(l.Visits), l.More)
		}
		since := all.Visits[2].Seq
		l = list(t, "?since="+strconv.FormatInt(since, 10))
		if got := names(l); len(got) != 2 || got[0] != "Bakkerij nummer 6" || l.Seq != all.Seq || l.More {
			t.Fatalf("got %v up to seq %d, want the 2 newest, oldest first, up to %d", got, l.Seq, all.Seq)
		}
		// Paging through changes by seq meets every visit exactly once.
		var seen []string
		cursor := int64(0)
		for range 10 {
			page := list(t, "?limit=3&since="+strconv.FormatInt(cursor, 10))
			for _, v := range page.Visits {
				seen = append(seen, v.ID)
			}
			cursor = page.Seq
			if !page.More {
				break
			}
		}
		if !slices.Equal(seen, ids) {
			t.Fatalf("paging saw %d visits %v, want all %d in order of change", len(seen), seen, len(ids))
		}
	})
	for _, bad := range []struct{ query, field string }{
		{"?since=-1", "since"}, {"?since=abc", "since"}, {"?limit=0", "limit"}, {"?limit=1001", "limit"},
		{"?wijk=WK099999", "wijk"}, {"?q=" + strings.Repeat("x", 201), "q"},
	} {
		t.Run("bad "+bad.field+" "+bad.query[:min(len(bad.query), 14)], func(t *testing.T) {
			status, body := b.do(http.MethodGet, "/api/visits"+bad.query, token, nil)
			if status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", status, body)
			}
			if e := decodeError(t, body); e.Fields[bad.field] == "" {
				t.Errorf("got %+v, want field %s named", e, bad.field)
			}
		})
	}
}

func TestRoutesAnswerJSON(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", nil))
	status, body := b.do(http.MethodGet, "/healthz", "", nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("healthz: got %d %s, want 200 ok", status, body)
	}
	status, body = b.do(http.MethodGet, "/api/no-such-thing", "", nil)
	if status != http.StatusNotFound || decodeError(t, body).Error != "not_found" {
		t.Fatalf("unknown route: got %d %s, want 404 not_found", status, body)
	}
	status, body = b.do(http.MethodGet, "/api/reference", "", nil)
	var ref struct{ Wijken, Topics []any }
	if status != http.StatusOK || json.Unmarshal(body, &ref) != nil || len(ref.Wijken) != 44 || len(ref.Topics) == 0 {
		t.Fatalf("reference: got %d with %d wijken, want 200 with 44", status, len(ref.Wijken))
	}
}

func TestSyncStatusBeforeEnrollment(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", nil))
	token := b.pair()
	for i := range 3 {
		v := newVisit(t, i)
		b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v)
	}
	status, body := b.do(http.MethodGet, "/api/sync/status", token, nil)
	var st SyncStatus
	if status != http.StatusOK || json.Unmarshal(body, &st) != nil {
		t.Fatalf("got %d %s, want 200", status, body)
	}
	if st.Pending != 3 || st.Enrolled || st.Online {
		t.Errorf("got %+v, want 3 pending, not enrolled, not online", st)
	}
}

// TestSyncStatusShowsDeliveries checks that the status names every paired
// tablet and when the bus last stored a visit it made, so that a tablet
// that stopped sending stands out.
func TestSyncStatusShowsDeliveries(t *testing.T) {
	clk := newClock()
	b := mustStartBus(t, mustOpenStore(t, "", clk.Now))
	sending, silent := b.pair(), b.pair()
	for i := range 2 {
		clk.Advance(time.Minute)
		v := newVisit(t, i)
		if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), sending, v); status != http.StatusCreated {
			t.Fatalf("PUT: got %d %s", status, body)
		}
	}
	last := schema.Timestamp(clk.Now())
	status, body := b.do(http.MethodGet, "/api/sync/status", silent, nil)
	var st SyncStatus
	if status != http.StatusOK || json.Unmarshal(body, &st) != nil {
		t.Fatalf("got %d %s, want 200", status, body)
	}
	if len(st.Devices) != 2 {
		t.Fatalf("got devices %+v, want the two paired tablets", st.Devices)
	}
	delivered := map[string]int{}
	for _, d := range st.Devices {
		if d.PairedAt == "" {
			t.Errorf("device %s: no paired_at", d.DeviceID)
		}
		if d.LastDelivered != "" {
			delivered[d.LastDelivered]++
		}
	}
	if len(delivered) != 1 || delivered[last] != 1 {
		t.Errorf("last_delivered values %v, want one tablet at %s and one never", delivered, last)
	}
}

// TestConflictSaysWhatDiffers checks that a conflict names the fields
// whose content differs from the bus's copy, so the tablet can mark them.
func TestConflictSaysWhatDiffers(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", nil))
	token := b.pair()
	v := newVisit(t, 1)
	path := "/api/visits/" + v["id"].(string)
	if status, body := b.do(http.MethodPut, path, token, v); status != http.StatusCreated {
		t.Fatalf("create: got %d %s", status, body)
	}
	v["notes"] = "Iets anders."
	v["business"].(map[string]any)["name"] = "Een andere naam"
	status, body := b.do(http.MethodPut, path, token, v)
	e := decodeError(t, body)
	if status != http.StatusConflict || e.Error != "conflict" {
		t.Fatalf("got %d %s, want 409 conflict", status, body)
	}
	got := slices.Sorted(maps.Keys(e.FieldsNL))
	if want := []string{"business.name", "notes"}; !slices.Equal(got, want) {
		t.Errorf("conflict names %v, want %v", got, want)
	}
}
