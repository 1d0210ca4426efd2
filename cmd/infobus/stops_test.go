package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
	infosync "infobus/sync"
)

// TestBusDayThroughSync runs the bus's day through a real office and two
// real buses: the plan reaches its bus, the crew's stop and quick contacts
// reach the office once, and one bus's visit shows in the other's history
// without a person's details.
func TestBusDayThroughSync(t *testing.T) {
	ctx := context.Background()
	m := startOffice(t, t.TempDir())
	a := openBusStore(t, t.TempDir(), nil)
	b := openBusStore(t, t.TempDir(), nil)
	ea := enrollBus(t, m.Store, a, "bus-a", m.URL)
	eb := enrollBus(t, m.Store, b, "bus-b", m.URL)
	today := time.Now().In(schema.Zone).Format(time.DateOnly)

	// A plan made at the office reaches the bus in the next sync.
	planned, err := m.Store.AddStop(ctx, "planner@example.nl", schema.Stop{BusID: ea.BusID, Date: today, Start: "09:30", End: "16:00", Place: "Markt Leyweg", Wijk: "WK051828"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Store.AddStop(ctx, "planner@example.nl", schema.Stop{BusID: eb.BusID, Date: today, Start: "10:00", End: "15:00", Place: "Fahrenheitstraat", Wijk: "WK051828"}); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, a)
	stops, err := a.Stops(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(stops) != 1 || stops[0].ID != planned.ID || stops[0].Place != "Markt Leyweg" || !stops[0].Planned {
		t.Fatalf("bus A holds stops %+v, want only its planned stop at Markt Leyweg", stops)
	}

	// An unplanned stop and quick contacts, made while offline, arrive
	// once, even when sent again.
	crewStop := schema.Stop{ID: schema.NewUUIDv7(time.Now()), Date: today, Start: "16:30", End: "17:30", Place: "Hoek Kempstraat", Wijk: "WK051828", CreatedAt: schema.Timestamp(time.Now())}
	if _, err := a.PutCrewStop(ctx, crewStop); err != nil {
		t.Fatal(err)
	}
	var contacts []schema.QuickContact
	for _, kind := range []string{schema.QuickFlyer, schema.QuickFlyer, schema.QuickNoTime} {
		q := schema.QuickContact{ID: schema.NewUUIDv7(time.Now()), DeviceID: "tablet-1", StopID: crewStop.ID, Stop: crewStop.Place, Wijk: "WK051828", Kind: kind, At: time.Now().Format(time.RFC3339)}
		contacts = append(contacts, q)
		if _, err := a.PutQuickContact(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if created, err := a.PutQuickContact(ctx, contacts[0]); err != nil || created {
		t.Fatalf("a tablet's resend: created %v, %v; want it kept once", created, err)
	}
	syncUntilDone(t, a)
	syncUntilDone(t, a)
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	counts, err := m.Store.QuickContactCounts(ctx, from, to, "WK051828")
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != 3 || counts.ByKind[schema.QuickFlyer] != 2 || counts.ByKind[schema.QuickNoTime] != 1 {
		t.Errorf("office counts %+v, want 3: 2 flyers and 1 no time", counts)
	}
	// A lost answer means the bus sends the same again: nothing lands twice.
	if n, m, err := a.ExtrasBacklog(ctx); err != nil || n+m != 0 {
		t.Errorf("bus still has %d quick contacts and %d stops to send (%v)", n, m, err)
	}
	resendExtras(t, m.URL, ea, crewStop, contacts)
	if again, _ := m.Store.QuickContactCounts(ctx, from, to, ""); again.Total != 3 {
		t.Errorf("after a resend the office counts %d quick contacts, want 3", again.Total)
	}
	officeStops, err := m.Store.Stops(ctx, office.StopFilter{From: today, BusID: ea.BusID})
	if err != nil {
		t.Fatal(err)
	}
	foundCrew := false
	for _, s := range officeStops {
		foundCrew = foundCrew || (s.ID == crewStop.ID && !s.Planned && s.Place == "Hoek Kempstraat")
	}
	if !foundCrew || len(officeStops) != 2 {
		t.Errorf("office holds %+v for bus A, want the planned stop and the crew's unplanned one", officeStops)
	}

	// History: a business bus A visited shows on bus B's tablet.
	v := sampleVisit(rand.New(rand.NewPCG(14, 14)), time.Now())
	v.Wijk = "WK051828"
	v.Business.Name, v.Business.KvK, v.Business.Address.Postcode = "Bakkerij De Korrel", "27300014", "2541AB"
	v.Notes = "Vertrouwelijke notitie over de eigenaar"
	v.Consent = schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: v.VisitedAt}
	v.Contact = &schema.Contact{Name: "Fatma Yilmaz", Phone: "0612345678", Email: "fatma@example.nl"}
	v.FollowUps = []schema.FollowUp{{ID: schema.NewUUIDv7(time.Now()), Kind: schema.KindCallback, Description: "Bel Fatma over de vergunning", Department: schema.Ref.Departments[0].Code}}
	v.Normalize()
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.PutVisit(ctx, &v); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, a)
	if _, err := m.Store.SetFollowUpStatus(ctx, v.FollowUps[0].ID, schema.StatusDone, "Vergunning verleend"); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	for _, q := range []bus.HistoryQuery{{KvK: "27300014"}, {Name: "bakkerij  de korrel", Postcode: "2541 ab"}, {Wijk: "WK051828"}} {
		found, err := b.History(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].VisitID != v.ID || found[0].BusID != ea.BusID || len(found[0].FollowUps) != 1 || found[0].FollowUps[0].Status != schema.StatusDone {
			t.Errorf("bus B's history for %+v: got %+v, want bus A's visit with its follow-up done", q, found)
		}
	}

	// The summary as it travels: no contact details, no notes, no free text.
	body := rawPull(t, m.URL, eb)
	if !strings.Contains(body, "Bakkerij De Korrel") {
		t.Fatalf("the pull holds no history: %s", body)
	}
	for _, secret := range []string{"Fatma", "0612345678", "fatma@example.nl", "Vertrouwelijke", "Bel Fatma", "Vergunning verleend", v.Business.Address.Street} {
		if strings.Contains(body, secret) {
			t.Errorf("the office's summary holds %q", secret)
		}
	}
}

// resendExtras pushes a crew stop and quick contacts again, as a bus whose
// answer was lost does.
func resendExtras(t *testing.T, officeURL string, e infosync.Enrollment, st schema.Stop, qs []schema.QuickContact) {
	t.Helper()
	req := &infosync.PushRequest{BusID: e.BusID, Records: nil}
	req.Stops = append(req.Stops, mustJSON(t, st))
	for _, q := range qs {
		req.QuickContacts = append(req.QuickContacts, mustJSON(t, q))
	}
	var buf strings.Builder
	if err := infosync.EncodePush(&buf, req, 6); err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodPost, officeURL+infosync.PushPath, strings.NewReader(buf.String()))
	r.Header.Set("Authorization", "Bearer "+e.BusToken)
	r.Header.Set(infosync.VersionHeader, "1")
	r.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"extras":{"stops":0,"quick_contacts":0`) {
		t.Errorf("resend: %d %s, want 200 with nothing new", resp.StatusCode, b)
	}
}

func rawPull(t *testing.T, officeURL string, e infosync.Enrollment) string {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, officeURL+infosync.PullPath+"?since=0", nil)
	r.Header.Set("Authorization", "Bearer "+e.BusToken)
	r.Header.Set(infosync.VersionHeader, "1")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
