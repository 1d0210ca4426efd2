package office

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"infobus/schema"
)

// routedVisit is a visit in the Centrum with topics and one follow-up of
// kind, at rev.
func routedVisit(tb testing.TB, id string, rev int64, topics []string, f schema.FollowUp) json.RawMessage {
	tb.Helper()
	v := schema.Visit{ID: id, Rev: rev, VisitedAt: "2026-11-20T14:05:00+01:00",
		Business: schema.Business{Name: "Toko Sahin"}, Wijk: "WK051828", Topics: topics,
		FollowUps: []schema.FollowUp{f}}
	v.Normalize()
	b, err := json.Marshal(v.CrewOwned())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// route reads a follow-up's department and who routed it.
func (w *testWeb) route(id string) (department string, rule *int64, by string) {
	w.tb.Helper()
	var r *int64
	if err := w.store.ApplyInbox(context.Background()); err != nil {
		w.tb.Fatal(err)
	}
	if err := w.store.db.Read.QueryRow(`SELECT department, route_rule, route_by FROM followups WHERE id = ?`, id).Scan(&department, &r, &by); err != nil {
		w.tb.Fatal(err)
	}
	return department, r, by
}

func TestRoutingOnSync(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	admin := w.addStaff("ada@denhaag.nl", RoleAdmin, goodPassword)
	a := w.agent()
	a.login("ada@denhaag.nl", goodPassword, "/rules")
	a.get("/rules")
	// Bad input names the field, in both languages.
	for _, lang := range []string{"nl", "en"} {
		r := a.post("/rules?lang="+lang, url.Values{"department": {"nergens"}})
		wantStatus(t, "unknown department", r, http.StatusBadRequest)
		if !strings.Contains(r.body, tr(lang, "rule.error.department")) || !strings.Contains(r.body, `href="#department"`) {
			t.Errorf("%s: the refusal does not name the field", lang)
		}
	}
	r := a.post("/rules", url.Values{"topic": {"subsidies"}, "department": {"economie"}, "person": {itoa(admin.ID)}, "position": {"10"}})
	wantLocation(t, "rule by topic", r, "/rules?done=saved")
	r = a.post("/rules", url.Values{"kind": {"visit"}, "stadsdeel": {"Centrum"}, "department": {"handhaving"}, "position": {"20"}})
	wantLocation(t, "rule by kind and stadsdeel", r, "/rules?done=saved")
	rules, err := w.store.Rules(ctx)
	if err != nil || len(rules) != 2 {
		t.Fatalf("rules: %+v, %v", rules, err)
	}

	e := mustAddBus(t, w.store, "Bus Test")
	byTopic := schema.FollowUp{ID: newID(t), Kind: schema.KindReferral, Department: "vergunningen", Description: "Doorsturen"}
	byKind := schema.FollowUp{ID: newID(t), Kind: schema.KindVisit, Department: "vergunningen", Description: "Langsgaan"}
	none := schema.FollowUp{ID: newID(t), Kind: schema.KindInformation, Department: "vergunningen", Description: "Informatie"}
	v1, v2, v3 := newID(t), newID(t), newID(t)
	w.pushOverHTTP(e, 3,
		routedVisit(t, v1, 1, []string{"subsidies"}, byTopic),
		routedVisit(t, v2, 1, []string{"vergunningen"}, byKind),
		routedVisit(t, v3, 1, []string{"vergunningen"}, none))
	for _, tc := range []struct {
		name, id, want string
		rule           *int64
	}{
		{"by topic", byTopic.ID, "economie", &rules[0].ID},
		{"by kind and stadsdeel", byKind.ID, "handhaving", &rules[1].ID},
		{"no rule", none.ID, "vergunningen", nil},
	} {
		dept, rule, by := w.route(tc.id)
		if dept != tc.want || (rule == nil) != (tc.rule == nil) || (rule != nil && *rule != *tc.rule) || by != "" {
			t.Errorf("%s: got %s, rule %v, by %q; want %s, rule %v", tc.name, dept, rule, by, tc.want, tc.rule)
		}
	}
	if f, _ := w.store.FindFollowUp(ctx, byTopic.ID); f.Assignee != "ada@denhaag.nl" {
		t.Errorf("the rule's person did not get the work: %q", f.Assignee)
	}
	events, _ := w.store.WorkEvents(ctx, byTopic.ID)
	if len(events) != 1 || events[0].Kind != EventRoute || events[0].Actor != "automatisch" || events[0].Note != "economie" {
		t.Errorf("timeline: got %+v, want one automatic route to economie", events)
	}

	// The unrouted filter finds the one no rule routed.
	if !queueHas(t, a, "/?unrouted=1", "Toko Sahin") {
		t.Fatalf("the unrouted filter is empty")
	}
	items, _, err := w.store.Queue(ctx, QueueFilter{Unrouted: true})
	if err != nil || len(items) != 1 || items[0].ID != none.ID {
		t.Errorf("unrouted: got %+v, %v; want only %s", items, err, none.ID)
	}

	// A new revision with another topic reroutes, on the timeline once;
	// an identical replay changes nothing.
	w.pushOverHTTP(e, 4, routedVisit(t, v1, 2, []string{"parkeren"}, byTopic))
	w.pushOverHTTP(e, 4, routedVisit(t, v1, 2, []string{"parkeren"}, byTopic))
	if dept, rule, _ := w.route(byTopic.ID); dept != "vergunningen" || rule != nil {
		t.Errorf("after the topic changed: got %s, rule %v; want the crew's vergunningen, no rule", dept, rule)
	}
	w.pushOverHTTP(e, 5, routedVisit(t, v3, 2, []string{"subsidies"}, none))
	if dept, rule, _ := w.route(none.ID); dept != "economie" || rule == nil {
		t.Errorf("after the topic changed: got %s, rule %v; want economie by rule", dept, rule)
	}
	events, _ = w.store.WorkEvents(ctx, byTopic.ID)
	if len(events) != 2 || events[1].Kind != EventRoute || events[1].Note != "" {
		t.Errorf("timeline after rerouting: got %+v, want a second route event that no rule fits", events)
	}

	// By hand: the timeline names who, and a later push keeps the route.
	a.get("/followups/" + byKind.ID)
	r = a.post("/followups/"+byKind.ID+"/route", url.Values{"route_department": {"parkeren"}})
	wantLocation(t, "route by hand", r, "/followups/"+byKind.ID+"?done=routed")
	byKind.Kind = schema.KindReferral
	w.pushOverHTTP(e, 6, routedVisit(t, v2, 2, []string{"vergunningen"}, byKind))
	if dept, _, by := w.route(byKind.ID); dept != "parkeren" || by != "ada@denhaag.nl" {
		t.Errorf("after a push: got %s by %q, want parkeren by ada", dept, by)
	}
	r = a.get("/followups/" + byKind.ID + "?lang=nl")
	if !strings.Contains(r.body, "ada@denhaag.nl:\n"+tr("nl", "event.kind.route", "department", "Parkeren")) {
		t.Errorf("the timeline does not say who routed it:\n%s", r.body)
	}
	if w.auditCount(ActionRouted, byKind.ID) != 1 {
		t.Errorf("want one audit entry for the route by hand")
	}
}
