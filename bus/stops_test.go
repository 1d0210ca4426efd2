package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"infobus/schema"
)

// TestCardsLinkSchedule: every card says where the bus's schedule is.
func TestCardsLinkSchedule(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	e := mustEnroll(t, store)
	var buf bytes.Buffer
	if _, err := store.IssueCards(context.Background(), &buf, 2, ""); err != nil {
		t.Fatal(err)
	}
	want := ScheduleAddress(e.OfficeURL)
	if !strings.HasSuffix(want, "/bus") || strings.Contains(want, "://") {
		t.Fatalf("schedule address %q", want)
	}
	if n := strings.Count(buf.String(), want); n != 2 {
		t.Errorf("%d cards name %s, want 2", n, want)
	}
}

// TestCrewStopsAPI: the crew API takes quick contacts and stops once by
// id, refuses what is not one (a name in a quick contact among it) with
// the field named, and answers the day's stops, tally and history.
func TestCrewStopsAPI(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	b := mustStartBus(t, store)
	token := b.pair()
	now := time.Now()
	stopID := schema.NewUUIDv7(now)
	today := today(now)
	stop := map[string]any{"id": stopID, "date": today, "start": "09:00", "end": "17:00", "place": "Hoek Kempstraat", "wijk": "WK051828", "planned": true, "at_office": true}
	quickID := schema.NewUUIDv7(now)
	quick := map[string]any{"id": quickID, "stop_id": stopID, "stop": "Hoek Kempstraat", "wijk": "WK051828", "kind": "flyer", "at": now.Format(time.RFC3339)}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for a, b := range m {
			out[a] = b
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		field                     string // the field a 400 names
	}{
		{"no device", http.MethodPut, "/api/quick/" + quickID, "", quick, http.StatusUnauthorized, ""},
		{"a quick contact", http.MethodPut, "/api/quick/" + quickID, token, quick, http.StatusCreated, ""},
		{"the same again", http.MethodPut, "/api/quick/" + quickID, token, quick, http.StatusOK, ""},
		{"a name is personal data", http.MethodPut, "/api/quick/" + schema.NewUUIDv7(now), token, with(with(quick, "id", nil), "name", "Fatma"), http.StatusBadRequest, "name"},
		{"unknown kind", http.MethodPut, "/api/quick/" + schema.NewUUIDv7(now), token, with(with(quick, "id", nil), "kind", "hug"), http.StatusBadRequest, "kind"},
		{"other id in the URL", http.MethodPut, "/api/quick/" + schema.NewUUIDv7(now), token, quick, http.StatusBadRequest, "id"},
		{"no wijk", http.MethodPut, "/api/quick/" + schema.NewUUIDv7(now), token, with(with(quick, "id", nil), "wijk", ""), http.StatusBadRequest, "wijk"},
		{"a stop on the spot", http.MethodPut, "/api/stops/" + stopID, token, stop, http.StatusCreated, ""},
		{"the stop again", http.MethodPut, "/api/stops/" + stopID, token, stop, http.StatusOK, ""},
		{"ends before it starts", http.MethodPut, "/api/stops/" + schema.NewUUIDv7(now), token, with(with(stop, "id", nil), "end", "08:00"), http.StatusBadRequest, "end"},
		{"a time that is not one", http.MethodPut, "/api/stops/" + schema.NewUUIDv7(now), token, with(with(stop, "id", nil), "start", "9 uur"), http.StatusBadRequest, "start"},
		{"history needs a question", http.MethodGet, "/api/history", token, nil, http.StatusBadRequest, "kvk"},
		{"history by kvk", http.MethodGet, "/api/history?kvk=27300014", token, nil, http.StatusOK, ""},
		{"tally with a bad stop", http.MethodGet, "/api/quick?stop_id=x", token, nil, http.StatusBadRequest, "stop_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.do(tc.method, tc.path, tc.token, tc.body)
			if status != tc.status {
				t.Fatalf("got %d %s, want %d", status, body, tc.status)
			}
			if tc.field != "" {
				var e struct {
					Fields   map[string]string `json:"fields"`
					FieldsNL map[string]string `json:"fields_nl"`
				}
				json.Unmarshal(body, &e)
				if e.Fields[tc.field] == "" || e.FieldsNL[tc.field] == "" {
					t.Errorf("refusal %s does not name %q in both languages", body, tc.field)
				}
			}
		})
	}
	status, body := b.do(http.MethodGet, "/api/quick?stop_id="+stopID, token, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"flyer":1`) {
		t.Errorf("tally: %d %s, want one flyer", status, body)
	}
	status, body = b.do(http.MethodGet, "/api/stops", token, nil)
	var day struct {
		Today string     `json:"today"`
		Stops []StopView `json:"stops"`
	}
	json.Unmarshal(body, &day)
	if status != http.StatusOK || len(day.Stops) != 1 || day.Stops[0].Planned || day.Stops[0].AtOffice || day.Today != today {
		t.Errorf("stops: %d %s, want the crew's stop, unplanned and not at the office yet", status, body)
	}
	if contacts, stops, err := store.ExtrasBacklog(context.Background()); contacts != 1 || stops != 1 || err != nil {
		t.Errorf("waiting for the office: %d quick contacts and %d stops (%v), want 1 and 1", contacts, stops, err)
	}
}

// TestQuickCountsByDutchDay: the tally counts the quick contacts whose
// moment falls on the Dutch day, whatever offset a tablet's clock wrote:
// half past eleven UTC on 30 November is already 1 December in The Hague.
func TestQuickCountsByDutchDay(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	ctx := context.Background()
	for i, at := range []string{
		"2026-11-30T23:30:00Z",      // 1 December, 0:30 in The Hague
		"2026-12-01T00:10:00+01:00", // 1 December
		"2026-11-30T23:30:00+01:00", // still 30 November
		"2026-12-01T23:30:00Z",      // 2 December, 0:30
	} {
		q := schema.QuickContact{ID: schema.NewUUIDv7(time.Now()), DeviceID: "d", Stop: "Markt", Wijk: "WK051828", Kind: "flyer", At: at}
		if _, err := store.PutQuickContact(ctx, q); err != nil {
			t.Fatalf("contact %d: %v", i, err)
		}
	}
	for day, want := range map[string]int{"2026-11-30": 1, "2026-12-01": 2, "2026-12-02": 1} {
		got, err := store.QuickCounts(ctx, "", day)
		if err != nil {
			t.Fatal(err)
		}
		if got["flyer"] != want {
			t.Errorf("%s: %d flyers, want %d", day, got["flyer"], want)
		}
	}
}
