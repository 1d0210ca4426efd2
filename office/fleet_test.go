package office

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFleetPlainHTTPOffice: an office whose buses would reach it over
// plain http on the network cannot hand out enrollment strings (a bus
// refuses them); the fleet page says so and why, in the person's
// language, with a 409, and enrolls or changes nothing.
func TestFleetPlainHTTPOffice(t *testing.T) {
	w := newTestWeb(t, func(c *Config) { c.PublicURL = "http://office.example:8090" })
	w.addStaff("admin@denhaag.nl", RoleAdmin, goodPassword)
	ctx := context.Background()
	old := mustAddBus(t, w.store, "Bus Oud")
	a := w.agent()
	a.login("admin@denhaag.nl", goodPassword, "/fleet")
	a.get("/fleet")

	r := a.post("/fleet", url.Values{"name": {"Bus Centrum"}})
	wantStatus(t, "enroll over plain http", r, http.StatusConflict)
	for _, want := range []string{"http://office.example:8090", "zonder https", "127.0.0.1 of localhost", `role="alert"`, `value="Bus Centrum"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %q:\n%s", want, r.body)
		}
	}
	if buses, err := w.store.Buses(ctx); err != nil || len(buses) != 1 {
		t.Errorf("got %d buses (%v), want only the one from before", len(buses), err)
	}

	r = a.post("/fleet/"+old.BusID+"/reissue", nil)
	wantStatus(t, "new key over plain http", r, http.StatusConflict)
	if _, err := w.store.BusByToken(ctx, old.BusToken); err != nil {
		t.Errorf("the bus's token after a refused reissue: %v, want it still valid", err)
	}
	if got := w.auditCount(ActionBusReissued, old.BusID); got != 0 {
		t.Errorf("got %d bus_reissued entries for a refused reissue, want 0", got)
	}

	a.cookies[cookieLang] = "en"
	a.get("/fleet")
	r = a.post("/fleet", url.Values{"name": {"Bus Centrum"}})
	wantStatus(t, "enroll over plain http, in English", r, http.StatusConflict)
	if !strings.Contains(r.body, "without https") || !strings.Contains(r.body, "127.0.0.1 or localhost") {
		t.Errorf("the English page lacks the rule:\n%s", r.body)
	}
}
