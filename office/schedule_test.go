package office

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"infobus/schema"
)

// mustPlan plans a stop for a new bus and returns it.
func mustPlan(tb testing.TB, w *testWeb, busID, date, start, end, place, wijk string) schema.Stop {
	tb.Helper()
	st, err := w.store.AddStop(context.Background(), "planner@example.nl", schema.Stop{BusID: busID, Date: date, Start: start, End: end, Place: place, Wijk: wijk})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func TestPlanPage(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus-noord")
	w.addStaff("planner@example.nl", RoleStaff, goodPassword)
	a := w.agent()
	wantLocation(t, "anonymous", a.get("/plan"), "/login?next=%2Fplan")
	a.login("planner@example.nl", goodPassword, "/plan")
	page := a.get("/plan")
	wantStatus(t, "plan page", page, http.StatusOK)
	if !strings.Contains(page.body, `<option value="`+e.BusID+`" selected>bus-noord</option>`) {
		t.Errorf("the only bus is not chosen already:\n%s", page.body)
	}

	t.Run("bad input names every field", func(t *testing.T) {
		r := a.post("/plan", url.Values{"bus_id": {"nope"}, "date": {"30-11-2026"}, "start": {"16:00"}, "end": {"9.30"}, "place": {""}, "wijk": {"WK9999"}})
		wantStatus(t, "bad stop", r, http.StatusBadRequest)
		for _, want := range []string{"Bus moet een bus zijn", "Datum moet een datum zijn", "Eindtijd moet een tijd zijn", "Plek is verplicht", "Wijk moet een CBS-wijkcode", `href="#place"`, `value="16:00"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("refusal lacks %q", want)
			}
		}
		if stops, _ := w.store.Stops(context.Background(), StopFilter{}); len(stops) != 0 {
			t.Errorf("a refused stop was stored: %+v", stops)
		}
	})
	t.Run("quick contacts counted", func(t *testing.T) {
		at := w.clock.now().Add(-time.Hour).Format(time.RFC3339)
		var qs []schema.QuickContact
		for _, kind := range []string{schema.QuickFlyer, schema.QuickFlyer, schema.QuickComeBack} {
			qs = append(qs, schema.QuickContact{ID: schema.NewUUIDv7(w.clock.now()), Wijk: "WK051828", Kind: kind, At: at})
		}
		if _, _, err := w.store.CommitExtras(context.Background(), e.BusID, nil, qs); err != nil {
			t.Fatal(err)
		}
		r := a.get("/plan")
		for _, want := range []string{"telde de bus 3 korte contacten", "Folder gegeven: 2", "Later terugkomen: 1", "Geen interesse: 0"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the plan page lacks %q", want)
			}
		}
	})
	t.Run("add and cancel", func(t *testing.T) {
		wantLocation(t, "add", a.post("/plan", url.Values{"bus_id": {e.BusID}, "date": {"2026-12-02"}, "start": {"09:30"}, "end": {"16:00"}, "place": {" Markt  Leyweg "}, "wijk": {"WK051828"}}), "/plan?done=added#stops")
		r := a.get("/plan?done=added")
		if !strings.Contains(r.body, "Markt Leyweg") || !strings.Contains(r.body, "De standplaats staat in de planning.") {
			t.Fatalf("the plan does not show the new stop:\n%s", r.body)
		}
		stops, err := w.store.Stops(context.Background(), StopFilter{})
		if err != nil || len(stops) != 1 {
			t.Fatalf("stops %+v, %v; want one", stops, err)
		}
		wantLocation(t, "cancel", a.post("/plan/"+stops[0].ID+"/cancel", nil), "/plan?done=cancelled#stops")
		if stops, _ := w.store.Stops(context.Background(), StopFilter{}); len(stops) != 0 {
			t.Errorf("a cancelled stop is still listed: %+v", stops)
		}
		wantStatus(t, "cancel again", a.post("/plan/"+stops[0].ID+"/cancel", nil), http.StatusNotFound)
	})
}

func TestPublicSchedulePage(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus-noord")
	mustPlan(t, w, e.BusID, "2026-12-02", "09:30", "16:00", "Markt Leyweg", "WK051828")
	mustPlan(t, w, e.BusID, "2026-12-03", "10:00", "15:00", "Fahrenheitplein", "WK051806")
	mustPlan(t, w, e.BusID, "2026-11-29", "10:00", "15:00", "Gisteren & eerder", "WK051806") // over
	a := w.agent()                                                                           // nobody logged in

	r := a.get("/bus")
	wantStatus(t, "schedule", r, http.StatusOK)
	for _, want := range []string{"Waar staat de Informatiebus?", "Markt Leyweg", "Fahrenheitplein", "woensdag 2 december 2026, 09.30–16.00 uur", `datetime="2026-12-02T09:30"`, `href="/bus.ics"`, `href="/bus.ics?wijk=WK051828"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the schedule lacks %q", want)
		}
	}
	if strings.Contains(r.body, "Gisteren") || strings.Contains(r.body, "<script") {
		t.Errorf("the schedule shows a past stop or a script:\n%s", r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "private, max-age=300" {
		t.Errorf("an anonymous schedule is cached as %q, want private, max-age=300", cc)
	}
	w.addStaff("planner@example.nl", RoleStaff, goodPassword)
	staff := w.agent()
	staff.login("planner@example.nl", goodPassword, "/")
	if cc := staff.get("/bus").header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("a colleague's schedule, with their name in the menu, is cached as %q", cc)
	}
	one := a.get("/bus?wijk=wk051828")
	if !strings.Contains(one.body, "Markt Leyweg") || strings.Contains(one.body, "Fahrenheitplein") {
		t.Errorf("one wijk's schedule shows other wijken:\n%s", one.body)
	}
	en := a.get("/bus?lang=en")
	if !strings.Contains(en.body, "Where is the Information bus?") || !strings.Contains(en.body, "Wednesday 2 December 2026, 09:30–16:00") {
		t.Errorf("the English schedule:\n%s", en.body)
	}
	bad := w.agent().get("/bus?wijk=WK9999")
	wantStatus(t, "unknown wijk", bad, http.StatusBadRequest)
	if !strings.Contains(bad.body, "Deze wijk kennen we niet") {
		t.Errorf("an unknown wijk is not explained:\n%s", bad.body)
	}
	badICS := w.agent().get("/bus.ics?wijk=nope")
	if badICS.status != http.StatusBadRequest || !strings.Contains(badICS.body, "wijk: must be a CBS wijk code") {
		t.Errorf("bad wijk in the feed: %d %s", badICS.status, badICS.body)
	}
}

// TestScheduleICS parses the feed back with go-ical and checks each stop's
// instants on both sides of the change to summer time.
func TestScheduleICS(t *testing.T) {
	w := newTestWeb(t)
	w.clock.add(110 * 24 * time.Hour) // 20 March 2027
	e := mustAddBus(t, w.store, "bus-noord")
	before := mustPlan(t, w, e.BusID, "2027-03-27", "09:30", "16:00", "Markt Leyweg, bij de kiosk; ingang \\ noord", "WK051828")
	after := mustPlan(t, w, e.BusID, "2027-03-29", "09:30", "16:00", "Fahrenheitplein", "WK051806")

	for _, tc := range []struct {
		name, target string
		want         map[string][2]time.Time
	}{
		{"all wijken", "/bus.ics", map[string][2]time.Time{
			before.ID: {time.Date(2027, 3, 27, 8, 30, 0, 0, time.UTC), time.Date(2027, 3, 27, 15, 0, 0, 0, time.UTC)}, // CET, +01:00
			after.ID:  {time.Date(2027, 3, 29, 7, 30, 0, 0, time.UTC), time.Date(2027, 3, 29, 14, 0, 0, 0, time.UTC)}, // CEST, +02:00
		}},
		{"one wijk", "/bus.ics?wijk=WK051806", map[string][2]time.Time{
			after.ID: {time.Date(2027, 3, 29, 7, 30, 0, 0, time.UTC), time.Date(2027, 3, 29, 14, 0, 0, 0, time.UTC)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.agent().get(tc.target)
			wantStatus(t, tc.target, r, http.StatusOK)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
				t.Errorf("content type %q", ct)
			}
			for i, line := range strings.Split(strings.TrimSuffix(r.body, "\r\n"), "\r\n") {
				if len(line) > 75 || strings.Contains(line, "\n") {
					t.Errorf("line %d is %d octets or holds a bare LF: %q", i, len(line), line)
				}
			}
			cal, err := ical.NewDecoder(strings.NewReader(r.body)).Decode()
			if err != nil {
				t.Fatal(err)
			}
			var enc strings.Builder
			if err := ical.NewEncoder(&enc).Encode(cal); err != nil {
				t.Errorf("go-ical finds the calendar incomplete: %v", err)
			}
			events := cal.Events()
			if len(events) != len(tc.want) {
				t.Fatalf("got %d events, want %d", len(events), len(tc.want))
			}
			for _, ev := range events {
				uid, _ := ev.Props.Text(ical.PropUID)
				want, ok := tc.want[strings.TrimSuffix(uid, "@infobus")]
				if !ok {
					t.Fatalf("unexpected event %q", uid)
				}
				start, err := ev.DateTimeStart(nil)
				if err != nil {
					t.Fatal(err)
				}
				end, _ := ev.DateTimeEnd(nil)
				if !start.Equal(want[0]) || !end.Equal(want[1]) {
					t.Errorf("%s: got %s–%s, want %s–%s", uid, start.UTC(), end.UTC(), want[0], want[1])
				}
				if loc, _ := ev.Props.Text(ical.PropLocation); uid == before.ID+"@infobus" && loc != "Markt Leyweg, bij de kiosk; ingang \\ noord, Centrum, Den Haag" {
					t.Errorf("location read back as %q", loc)
				}
			}
			// The VTIMEZONE's own rules put the changes where the tz
			// database does, so a calendar without tzdata agrees too.
			var tz *ical.Component
			for _, c := range cal.Children {
				if c.Name == ical.CompTimezone {
					tz = c
				}
			}
			if tz == nil {
				t.Fatal("no VTIMEZONE")
			}
			for _, ch := range tz.Children {
				set, err := ch.RecurrenceSet(time.UTC)
				if err != nil || set == nil {
					t.Fatalf("%s: %v", ch.Name, err)
				}
				want := map[string]time.Time{ical.CompTimezoneDaylight: time.Date(2027, 3, 28, 2, 0, 0, 0, time.UTC), ical.CompTimezoneStandard: time.Date(2026, 10, 25, 3, 0, 0, 0, time.UTC)}[ch.Name]
				if got := set.After(want.Add(-time.Hour), true); !got.Equal(want) {
					t.Errorf("%s changes at %s, want %s (local wall time)", ch.Name, got, want)
				}
			}
		})
	}
}

// TestFollowUpPageLinksSchedule: the entrepreneur's page says where the
// bus comes next.
func TestFollowUpPageLinksSchedule(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	code := mustCode(t, e, 7)
	for _, lang := range []string{"nl", "en"} {
		r := w.agent().get("/f/" + string(code) + "?lang=" + lang)
		wantStatus(t, "follow-up page", r, http.StatusOK)
		if !strings.Contains(r.body, `<a href="/bus">`+tr(lang, "bus.link")+`</a>`) {
			t.Errorf("the %s follow-up page does not link the schedule", lang)
		}
	}
}

// TestInsightCountsQuickContacts: the insight page shows the crew's quick
// contacts as their own reach figure, for the city and for one wijk.
func TestInsightCountsQuickContacts(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	var qs []schema.QuickContact
	for i, wijk := range []string{"WK051828", "WK051828", "WK051806"} {
		qs = append(qs, schema.QuickContact{ID: schema.NewUUIDv7(w.clock.now().Add(time.Duration(i) * time.Millisecond)), Wijk: wijk, Kind: schema.QuickFlyer, At: "2026-10-12T11:00:00+02:00"})
	}
	if _, _, err := w.store.CommitExtras(context.Background(), e.BusID, nil, qs); err != nil {
		t.Fatal(err)
	}
	w.addStaff("bob@example.org", RoleStaff, goodPassword)
	a := w.agent()
	a.login("bob@example.org", goodPassword, "/insight")
	for _, tc := range []struct{ query, want string }{
		{"period=month&at=2026-10-10", "Korte contacten zonder gesprek</th><td>3</td>"},
		{"period=month&at=2026-10-10&area=wk:WK051806", "Korte contacten zonder gesprek</th><td>1</td>"},
		{"period=month&at=2026-11-10", "Korte contacten zonder gesprek</th><td>0</td><td>3</td>"},
	} {
		r := a.get("/insight?" + tc.query)
		wantStatus(t, tc.query, r, http.StatusOK)
		if !strings.Contains(strings.ReplaceAll(r.body, "\n", ""), tc.want) {
			i := strings.Index(r.body, "Korte contacten")
			t.Errorf("%s: want %q, got %.200s", tc.query, tc.want, r.body[max(i, 0):])
		}
	}
}
