package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"infobus/bus"
	"infobus/schema"
)

// TestContactWithheldFromOtherTablets follows a visit with contact details
// from the tablet that typed them to a second tablet and back, over HTTP: the
// second tablet reads it without the details and with the marker that they
// were withheld, edits it, and saves it back as it read it; the bus, and
// after a sync the office, still hold the details, with the edit.
func TestContactWithheldFromOtherTablets(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	m := startBusMain(t, t.TempDir())
	enrollBus(t, o.Store, m.Store, "bus", o.URL)
	tabletA, tabletB := pairTablet(t, m), pairTablet(t, m)

	v := sampleVisit(rand.New(rand.NewPCG(13, 13)), time.Now())
	v.DeviceID = "" // the bus fills in tablet A's device
	v.Consent = schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: v.VisitedAt}
	contact := schema.Contact{Name: "Yasmina El Amrani", Phone: "0612345678", Email: "yasmina@example.nl"}
	v.Contact = &contact
	v.FollowUps = []schema.FollowUp{{ID: newV7(), Kind: schema.KindCallback, Description: "Terugbellen over de vergunning"}}
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, tabletA, v); status != http.StatusCreated {
		t.Fatalf("tablet A PUT: got %d %s, want 201", status, body)
	}

	// Tablet A reads its own visit whole; tablet B gets it without contact,
	// by id and in the day's list, with the marker.
	if got := getVisitView(t, m, tabletA, v.ID); got.Contact == nil || *got.Contact != contact || got.ContactWithheld {
		t.Fatalf("tablet A reads contact %+v, withheld %v; want its own details, not withheld", got.Contact, got.ContactWithheld)
	}
	read := getVisitView(t, m, tabletB, v.ID)
	if read.Contact != nil || !read.ContactWithheld {
		t.Fatalf("tablet B reads contact %+v, withheld %v; want none and the marker", read.Contact, read.ContactWithheld)
	}
	status, body := crewDo(t, m.URL, http.MethodGet, "/api/visits?since=0", tabletB, nil)
	var list struct{ Visits []json.RawMessage }
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Visits) != 1 {
		t.Fatalf("tablet B lists: got %d %s, want the one visit", status, body)
	}
	var raw map[string]any
	json.Unmarshal(list.Visits[0], &raw)
	if _, has := raw["contact"]; has || raw["contact_withheld"] != true {
		t.Errorf("tablet B's list entry: contact %v, contact_withheld %v; want no contact key and the marker true", raw["contact"], raw["contact_withheld"])
	}

	// Tablet B edits the notes and saves the visit back as it read it.
	read.Rev = 2
	read.Notes = "Aangevuld door tablet B."
	status, body = crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, tabletB, read)
	if status != http.StatusOK {
		t.Fatalf("tablet B PUT rev 2: got %d %s, want 200", status, body)
	}
	var answer bus.VisitView
	json.Unmarshal(body, &answer)
	if answer.Contact != nil || !answer.ContactWithheld {
		t.Errorf("answer to tablet B: contact %+v, withheld %v; want none and the marker", answer.Contact, answer.ContactWithheld)
	}
	onBus, err := m.Store.FindVisitByID(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if onBus.Rev != 2 || onBus.Notes != read.Notes || onBus.Contact == nil || *onBus.Contact != contact {
		t.Fatalf("on the bus: rev %d, notes %q, contact %+v; want rev 2 with B's notes and A's contact details", onBus.Rev, onBus.Notes, onBus.Contact)
	}
	// The same save again is an identical replay, not a conflict.
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, tabletB, read); status != http.StatusOK {
		t.Errorf("tablet B replays rev 2: got %d %s, want 200", status, body)
	}

	syncNowOverHTTP(t, m, tabletA)
	atOffice, err := o.Store.FindVisitByID(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if atOffice.Rev != 2 || atOffice.Notes != read.Notes || atOffice.Contact == nil || *atOffice.Contact != contact {
		t.Errorf("at the office: rev %d, notes %q, contact %+v; want rev 2 with B's notes and the contact details", atOffice.Rev, atOffice.Notes, atOffice.Contact)
	}

	for _, c := range []struct {
		name   string
		change func(v *bus.VisitView)
		status int
		want   string // the contact on the bus afterwards, as %v
	}{
		{"the marker with details is refused", func(v *bus.VisitView) { v.Contact = &schema.Contact{Phone: "0600000000"} }, http.StatusBadRequest, fmt.Sprint(&contact)},
		{"claiming the visit keeps its maker", func(v *bus.VisitView) { v.DeviceID = "" }, http.StatusOK, fmt.Sprint(&contact)},
		{"withdrawn consent erases them", func(v *bus.VisitView) {
			v.Consent = schema.Consent{}
			v.FollowUps[0].Kind = schema.KindInformation
		}, http.StatusOK, "<nil>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			next := getVisitView(t, m, tabletB, v.ID)
			next.Rev++
			c.change(&next)
			if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, tabletB, next); status != c.status {
				t.Fatalf("PUT: got %d %s, want %d", status, body, c.status)
			}
			got, err := m.Store.FindVisitByID(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Contact) != c.want {
				t.Errorf("contact on the bus: got %v, want %s", got.Contact, c.want)
			}
			if again := getVisitView(t, m, tabletB, v.ID); again.Contact != nil {
				t.Errorf("tablet B reads contact %+v after its save, want none", again.Contact)
			}
		})
	}
}
