package office

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"infobus/schema"
	infosync "infobus/sync"
)

// seedVisit pushes one visit with follow-ups and contact details from a
// new bus "Bus Test" (made once per store), and returns its id.
func (w *testWeb) seedVisit(name string, followUps ...schema.FollowUp) (string, infosync.Enrollment) {
	w.tb.Helper()
	ctx := context.Background()
	buses, err := w.store.Buses(ctx)
	if err != nil {
		w.tb.Fatal(err)
	}
	var e infosync.Enrollment
	if len(buses) == 0 {
		e = mustAddBus(w.tb, w.store, "Bus Test")
		w.seedBus = e
	} else {
		e = w.seedBus
	}
	w.pushed++
	return pushVisit(w.tb, w.store, e, w.pushed, name, followUps...), e
}

// pushVisit pushes one valid visit with contact details and follow-ups
// from bus e at seq and returns its id.
func pushVisit(tb testing.TB, s *Store, e infosync.Enrollment, seq int64, name string, followUps ...schema.FollowUp) string {
	tb.Helper()
	id := newID(tb)
	v := schema.Visit{ID: id, Rev: 1, VisitedAt: "2026-11-20T14:05:00+01:00",
		Business: schema.Business{Name: name, KvK: "27312345", Address: schema.Address{Street: "Weimarstraat", Number: "12", Postcode: "2562GX", City: "Den Haag"}},
		Wijk:     "WK051828", Sector: "horeca", Topics: []string{"vergunningen"}, Notes: "Wil een terras aanvragen.",
		Consent: schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: "2026-11-20T14:04:00+01:00"},
		Contact: &schema.Contact{Name: "Noor Aydın", Phone: "0612345678", Email: "noor@example.nl"}}
	v.FollowUps = followUps
	v.Normalize()
	b, err := json.Marshal(v.CrewOwned())
	if err != nil {
		tb.Fatal(err)
	}
	resp := mustPush(tb, s, e, seq, b)
	if len(resp.SetAside) > 0 {
		tb.Fatalf("seed visit set aside: %+v", resp.SetAside)
	}
	return id
}

func followUp(tb testing.TB, kind, due string) schema.FollowUp {
	return schema.FollowUp{ID: newID(tb), Kind: kind, Description: "Terugbellen over de vergunning", Department: "vergunningen", DueDate: due}
}

// auditCount counts audit entries with action and subject.
func (w *testWeb) auditCount(action, subject string) int {
	w.tb.Helper()
	entries, _, err := w.store.FindAudit(context.Background(), AuditFilter{Action: action, Limit: MaxAuditPage})
	if err != nil {
		w.tb.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Subject == subject {
			n++
		}
	}
	return n
}

func TestStatusMoves(t *testing.T) {
	all := schema.FollowUpStatuses
	// What staff may do on a follow-up's page. waiting is reached only by
	// asking a question, reopen_requested only by the entrepreneur.
	allowed := map[[2]string]bool{
		{"open", "in_progress"}: true, {"in_progress", "done"}: true, {"in_progress", "cancelled"}: true,
		{"waiting", "in_progress"}: true, {"waiting", "cancelled"}: true,
		{"reopen_requested", "in_progress"}: true, {"reopen_requested", "done"}: true, {"reopen_requested", "cancelled"}: true,
	}
	needsNote := func(from, to string) bool {
		return to == "done" || to == "cancelled"
	}
	w := newTestWeb(t)
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	ctx := context.Background()
	// path brings a fresh follow-up to status from.
	path := map[string][]string{
		"open": nil, "in_progress": {"in_progress"}, "done": {"in_progress", "done"}, "cancelled": {"in_progress", "cancelled"},
		"waiting": {"in_progress", "?"}, "reopen_requested": {"in_progress", "done", "!"},
	}
	for _, from := range all {
		for _, to := range all {
			for _, note := range []string{"", "Gebeld en uitgelegd."} {
				name := from + "→" + to
				if note != "" {
					name += " with a note"
				}
				t.Run(name, func(t *testing.T) {
					f := followUp(t, schema.KindCallback, "2026-12-01")
					w.seedVisit("Bakkerij De Molen", f)
					for _, st := range path[from] {
						var err error
						switch st {
						case "?":
							err = w.store.AskQuestion(ctx, "sam@denhaag.nl", f.ID, "Op welk adres is het terras?")
						case "!":
							_, err = w.store.PutSatisfaction(ctx, f.ID, Satisfaction{Comment: "Het terras mag nog steeds niet."})
						default:
							_, err = w.store.MoveFollowUp(ctx, "sam@denhaag.nl", f.ID, st, "klaar")
						}
						if err != nil {
							t.Fatalf("set up %s: %v", from, err)
						}
					}
					if got := w.followUpStatus(f.ID); got != from {
						t.Fatalf("set up: got status %q, want %q", got, from)
					}
					before, _ := w.store.WorkEvents(ctx, f.ID)
					audits := w.auditCount(ActionFollowUpMoved, f.ID)
					st, err := w.store.MoveFollowUp(ctx, "sam@denhaag.nl", f.ID, to, note)
					want := allowed[[2]string{from, to}] && (note != "" || !needsNote(from, to))
					after, _ := w.store.WorkEvents(ctx, f.ID)
					if !want {
						var me *MoveError
						if !errors.As(err, &me) {
							t.Fatalf("got %v, want a *MoveError", err)
						}
						if me.EN == "" || me.NL == "" || tr("nl", me.Key) == me.Key || tr("en", me.Key) == me.Key {
							t.Errorf("refusal %q lacks a reason in both languages", me.Key)
						}
						if len(after) != len(before) || w.auditCount(ActionFollowUpMoved, f.ID) != audits {
							t.Errorf("a refused move left an event or audit entry")
						}
						return
					}
					if err != nil {
						t.Fatalf("got %v, want the move allowed", err)
					}
					if st.Status != to {
						t.Errorf("got status %q, want %q", st.Status, to)
					}
					if len(after) != len(before)+1 {
						t.Fatalf("got %d events, want %d", len(after), len(before)+1)
					}
					e := after[len(after)-1]
					if e.From != from || e.Status != to || e.Actor != "sam@denhaag.nl" || e.Note != note || e.At == "" {
						t.Errorf("got event %+v, want %s→%s by sam with the note", e, from, to)
					}
					if got := w.auditCount(ActionFollowUpMoved, f.ID); got != audits+1 {
						t.Errorf("got %d audit entries more, want exactly 1", got-audits)
					}
				})
			}
		}
	}
}

// followUpStatus reads a follow-up's status as the office holds it.
func (w *testWeb) followUpStatus(id string) string {
	w.tb.Helper()
	f, err := w.store.FindFollowUp(context.Background(), id)
	if err != nil {
		w.tb.Fatal(err)
	}
	return f.Status
}

func TestQueueWorkflowPages(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	other := w.addStaff("lotte@denhaag.nl", RoleStaff, goodPassword)
	late := followUp(t, schema.KindCallback, "2026-11-25") // the test clock says 30 November
	later := followUp(t, schema.KindEmail, "2027-01-10")
	w.seedVisit("Kapsalon Noor", late)
	w.seedVisit("Toko Sahin", later)
	a := w.agent()
	a.login("sam@denhaag.nl", goodPassword, "/")
	r := a.get("/")
	wantStatus(t, "queue", r, http.StatusOK)
	for _, s := range []string{"Kapsalon Noor", "Toko Sahin", "Te laat", "Terugbellen", "Vergunningen"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("queue lacks %q", s)
		}
	}
	if strings.Index(r.body, "Kapsalon Noor") > strings.Index(r.body, "Toko Sahin") {
		t.Errorf("queue: the overdue follow-up should come first")
	}
	r = a.get("/?overdue=1")
	if !strings.Contains(r.body, "Kapsalon Noor") || strings.Contains(r.body, "Toko Sahin") {
		t.Errorf("overdue filter: got the wrong follow-ups")
	}
	r = a.get("/?kind=nonsense")
	wantStatus(t, "a kind that does not exist", r, http.StatusBadRequest)
	if !strings.Contains(r.body, "bestaat niet") {
		t.Errorf("a bad filter should say so")
	}
	wantStatus(t, "an English bad filter", a.get("/?kind=nonsense&lang=en"), http.StatusBadRequest)
	a.get("/?lang=nl")

	// Claim from the queue, then assign to a colleague on the page.
	a.get("/")
	r = a.post("/followups/"+late.ID+"/assign", url.Values{"back": {"/?done=assigned"}})
	wantLocation(t, "claim", r, "/?done=assigned")
	if got := w.auditCount(ActionFollowUpAssigned, late.ID); got != 1 {
		t.Errorf("claim: got %d audit entries, want 1", got)
	}
	r = a.get("/?mine=1")
	if !strings.Contains(r.body, "Kapsalon Noor") || strings.Contains(r.body, "Toko Sahin") {
		t.Errorf("mine: got the wrong follow-ups")
	}
	a.get("/followups/" + late.ID)
	r = a.post("/followups/"+late.ID+"/assign", url.Values{"assignee": {itoa(other.ID)}})
	wantLocation(t, "assign", r, "/followups/"+late.ID+"?done=assigned")
	if got := w.auditCount(ActionFollowUpAssigned, late.ID); got != 2 {
		t.Errorf("assign: got %d audit entries, want 2", got)
	}
	r = a.get("/followups/" + late.ID)
	if !strings.Contains(r.body, "gaf de vervolgafspraak aan lotte@denhaag.nl") {
		t.Errorf("the timeline lacks the assignment:\n%s", r.body)
	}
	r = a.post("/followups/"+late.ID+"/assign", url.Values{"assignee": {"999"}})
	wantStatus(t, "assign to nobody", r, http.StatusUnprocessableEntity)

	// A refused move says why, in the person's language.
	r = a.post("/followups/"+late.ID+"/status", url.Values{"status": {"done"}, "note": {"klaar"}})
	wantStatus(t, "open → done", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, tr("nl", "move.skip")) {
		t.Errorf("refusal lacks its reason")
	}
	a.get("/followups/" + late.ID + "?lang=en")
	r = a.post("/followups/"+late.ID+"/status", url.Values{"status": {"done"}, "note": {"done"}})
	if !strings.Contains(r.body, tr("en", "move.skip")) {
		t.Errorf("English refusal lacks its reason")
	}
	a.get("/followups/" + late.ID + "?lang=nl")
	wantLocation(t, "start", a.post("/followups/"+late.ID+"/status", url.Values{"status": {"in_progress"}}), "/followups/"+late.ID+"?done=moved")
	a.get("/followups/" + late.ID)
	r = a.post("/followups/"+late.ID+"/status", url.Values{"status": {"done"}, "note": {"  "}})
	wantStatus(t, "done without a note", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, tr("nl", "move.note")) {
		t.Errorf("refusal lacks the note reason")
	}
	wantLocation(t, "done", a.post("/followups/"+late.ID+"/status", url.Values{"status": {"done"}, "note": {"Gebeld: vergunning aangevraagd."}}), "/followups/"+late.ID+"?done=moved")
	r = a.get("/followups/" + late.ID)
	for _, s := range []string{"Gebeld: vergunning aangevraagd.", "Afgerond", tr("nl", "followup.finished")} {
		if !strings.Contains(r.body, s) {
			t.Errorf("follow-up page lacks %q", s)
		}
	}
	r = a.get("/")
	if strings.Contains(r.body, "Kapsalon Noor") {
		t.Errorf("a done follow-up is still in the open queue")
	}
	if r = a.get("/?status=done"); !strings.Contains(r.body, "Kapsalon Noor") {
		t.Errorf("the done filter lacks the done follow-up")
	}
	wantStatus(t, "unknown follow-up", a.get("/followups/nope"), http.StatusNotFound)
}

var enrollRE = regexp.MustCompile(`<code>(infobus-enroll-v1\.[^<]+)</code>`)

func TestVisitPagesAndContact(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	id, _ := w.seedVisit("Bakkerij De Molen", followUp(t, schema.KindCallback, ""))
	w.seedVisit("Toko Sahin")
	a := w.agent()
	a.login("sam@denhaag.nl", goodPassword, "/")
	for _, tc := range []struct {
		name, query string
		want, not   []string
	}{
		{"everything", "", []string{"Bakkerij De Molen", "Toko Sahin"}, nil},
		{"name start", "q=bakk", []string{"Bakkerij De Molen"}, []string{"Toko Sahin"}},
		{"kvk", "q=27312345", []string{"Bakkerij De Molen", "Toko Sahin"}, nil},
		{"postcode with space", "q=2562+gx", []string{"Bakkerij De Molen"}, nil},
		{"postcode elsewhere", "q=1011", nil, []string{"Bakkerij De Molen"}},
		{"text", "text=terras", []string{"Bakkerij De Molen"}, nil},
		{"text absent", "text=fietsen", nil, []string{"Bakkerij De Molen"}},
		{"stadsdeel", "stadsdeel=" + url.QueryEscape(mustWijk(t, "WK051828").Stadsdeel), []string{"Toko Sahin"}, nil},
		{"topic", "topic=vergunningen", []string{"Toko Sahin"}, nil},
		{"sector other", "sector=detailhandel", nil, []string{"Toko Sahin"}},
		{"date range", "from=2026-11-20&to=2026-11-20", []string{"Toko Sahin"}, nil},
		{"date before", "to=2026-11-19", nil, []string{"Toko Sahin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.get("/visits?" + tc.query)
			wantStatus(t, tc.query, r, http.StatusOK)
			for _, s := range tc.want {
				if !strings.Contains(r.body, s) {
					t.Errorf("lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(r.body, s) {
					t.Errorf("has %q", s)
				}
			}
		})
	}
	wantStatus(t, "bad date", a.get("/visits?from=30-11-2026"), http.StatusBadRequest)
	wantStatus(t, "bad wijk", a.get("/visits?wijk=WK9"), http.StatusBadRequest)

	r := a.get("/visits/" + id)
	wantStatus(t, "visit page", r, http.StatusOK)
	if strings.Contains(r.body, "0612345678") || strings.Contains(r.body, "noor@example.nl") {
		t.Fatal("contact details shown before the click")
	}
	if w.auditCount(ActionContactViewed, id) != 0 {
		t.Fatal("the page wrote a contact view before the click")
	}
	r = a.post("/visits/"+id+"/contact", nil)
	wantStatus(t, "contact", r, http.StatusOK)
	for _, s := range []string{"0612345678", "noor@example.nl", "Noor Aydın"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("contact view lacks %q", s)
		}
	}
	if got := w.auditCount(ActionContactViewed, id); got != 1 {
		t.Errorf("got %d contact_viewed entries, want 1", got)
	}
	wantStatus(t, "contact of nothing", a.post("/visits/nope/contact", nil), http.StatusNotFound)
}

func mustWijk(tb testing.TB, code string) schema.Wijk {
	w, ok := schema.Ref.Wijk(code)
	if !ok {
		tb.Fatalf("no wijk %s", code)
	}
	return w
}

func TestFleetPage(t *testing.T) {
	w := newTestWeb(t, func(c *Config) { c.PublicURL = "https://office.example" })
	w.addStaff("admin@denhaag.nl", RoleAdmin, goodPassword)
	a := w.agent()
	a.login("admin@denhaag.nl", goodPassword, "/fleet")
	a.get("/fleet")
	r := a.post("/fleet", url.Values{"name": {"Bus Centrum"}})
	if r.status != http.StatusCreated {
		t.Log(w.log.String())
	}
	wantStatus(t, "enroll", r, http.StatusCreated)
	m := enrollRE.FindStringSubmatch(r.body)
	if m == nil || !strings.Contains(r.body, `src="data:image/png;base64,`) {
		t.Fatalf("enroll page lacks the string or its QR:\n%s", r.body)
	}
	e, err := infosync.ParseEnrollment(m[1])
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.store.BusByToken(ctx, e.BusToken); err != nil {
		t.Fatalf("the new bus's token: %v", err)
	}
	if got := w.auditCount(ActionBusEnrolled, e.BusID); got != 1 {
		t.Errorf("got %d bus_enrolled entries, want 1", got)
	}
	wantStatus(t, "same name", a.post("/fleet", url.Values{"name": {"Bus Centrum"}}), http.StatusUnprocessableEntity)
	wantStatus(t, "no name", a.post("/fleet", url.Values{"name": {" "}}), http.StatusUnprocessableEntity)
	if strings.Contains(a.get("/fleet").body, e.BusToken) {
		t.Error("the token shows again")
	}

	r = a.post("/fleet/"+e.BusID+"/reissue", nil)
	wantStatus(t, "reissue", r, http.StatusOK)
	m = enrollRE.FindStringSubmatch(r.body)
	e2, err := infosync.ParseEnrollment(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if e2.BusID != e.BusID || e2.CodePrefix != e.CodePrefix || string(e2.CodeKey) != string(e.CodeKey) || e2.BusToken == e.BusToken {
		t.Errorf("reissue: got %+v, want the same bus with a new token", e2)
	}
	if _, err := w.store.BusByToken(ctx, e.BusToken); !errors.Is(err, infosync.ErrUnauthorized) {
		t.Errorf("old token after reissue: got %v, want refused", err)
	}
	if _, err := w.store.BusByToken(ctx, e2.BusToken); err != nil {
		t.Errorf("new token: %v", err)
	}
	a.get("/fleet")
	wantLocation(t, "revoke", a.post("/fleet/"+e.BusID+"/revoke", nil), "/fleet?done=revoked")
	if _, err := w.store.BusByToken(ctx, e2.BusToken); !errors.Is(err, infosync.ErrUnauthorized) {
		t.Errorf("token after revoke: got %v, want refused", err)
	}
	if !strings.Contains(a.get("/fleet").body, "Geblokkeerd") {
		t.Error("fleet page does not show the bus blocked")
	}
	for _, action := range []string{ActionBusReissued, ActionBusRevoked} {
		if got := w.auditCount(action, e.BusID); got != 1 {
			t.Errorf("got %d %s entries, want 1", got, action)
		}
	}
	wantStatus(t, "revoke nothing", a.post("/fleet/nope/revoke", nil), http.StatusNotFound)
}

// TestFeedbackBesideFollowUp shows the entrepreneur's rating and comment
// on the follow-up's page and its visit's. The feedback table is the
// entrepreneur's page's; this makes it as that migration does when the
// database does not have it yet.
func TestFeedbackBesideFollowUp(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	ctx := context.Background()
	e := mustAddBus(t, w.store, "Bus Test")
	w.seedBus = e
	code, err := schema.RandomCode(e.CodePrefix, e.CodeKey)
	if err != nil {
		t.Fatal(err)
	}
	f := followUp(t, schema.KindEmail, "")
	f.Code = code.String()
	visit, _ := w.seedVisit("Toko Sahin", f)
	for _, q := range []string{`CREATE TABLE IF NOT EXISTS feedback (
    code TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, bus_id TEXT NOT NULL REFERENCES buses (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10), comment TEXT NOT NULL DEFAULT '',
    contact_preference TEXT NOT NULL CHECK (contact_preference IN ('phone', 'email', 'none')),
    created_at TEXT NOT NULL, first_at TEXT NOT NULL, revisions INTEGER NOT NULL DEFAULT 0,
    pull_seq INTEGER NOT NULL, UNIQUE (bus_id, pull_seq)) STRICT`,
	} {
		if _, err := w.store.db.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	a := w.agent()
	a.login("sam@denhaag.nl", goodPassword, "/")
	if r := a.get("/followups/" + f.ID); strings.Contains(r.body, "fbview") {
		t.Fatal("feedback shown before any was given")
	}
	if _, err := w.store.db.Write.ExecContext(ctx, `INSERT INTO feedback (code, id, bus_id, rating, comment, contact_preference, created_at, first_at, pull_seq)
VALUES (?, ?, ?, 8, 'Snel geholpen, dank u.', 'none', '2026-11-29T10:00:00Z', '2026-11-29T10:00:00Z', 999)`, code.String(), newID(t), e.BusID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/followups/" + f.ID, "/visits/" + visit} {
		r := a.get(path)
		if !strings.Contains(r.body, "Cijfer: 8 van 10") || !strings.Contains(r.body, "Snel geholpen, dank u.") {
			t.Errorf("%s lacks the rating and comment", path)
		}
	}
}

func TestAuditPage(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("admin@denhaag.nl", RoleAdmin, goodPassword)
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	visit, _ := w.seedVisit("Toko Sahin")
	s := w.agent()
	s.login("sam@denhaag.nl", goodPassword, "/")
	s.get("/visits/" + visit)
	s.post("/visits/"+visit+"/contact", nil)
	a := w.agent()
	a.login("admin@denhaag.nl", goodPassword, "/audit")
	for _, tc := range []struct {
		name, query string
		want, not   []string
	}{
		{"all", "", []string{"Contactgegevens bekeken", "Ingelogd", visit}, nil},
		{"by action", "action=contact_viewed", []string{"Contactgegevens bekeken", visit}, []string{"Ingelogd"}},
		{"by actor", "actor=ADMIN@denhaag.nl", []string{"Ingelogd"}, []string{"Contactgegevens bekeken"}},
		{"by date", "from=2026-11-30&to=2026-11-30", []string{"Contactgegevens bekeken"}, nil},
		{"another day", "from=2026-12-01", nil, []string{"Contactgegevens bekeken", "Ingelogd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.get("/audit?" + tc.query)
			wantStatus(t, tc.query, r, http.StatusOK)
			// The rows, not the filter's options.
			_, rows, _ := strings.Cut(r.body, "<tbody>")
			rows, _, _ = strings.Cut(rows, "</tbody>")
			r.body = rows
			for _, s := range tc.want {
				if !strings.Contains(r.body, s) {
					t.Errorf("lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(r.body, s) {
					t.Errorf("has %q", s)
				}
			}
		})
	}
	wantStatus(t, "unknown action", a.get("/audit?action=drop_table"), http.StatusBadRequest)
	wantStatus(t, "bad date", a.get("/audit?from=morgen"), http.StatusBadRequest)
	// Append-only: the database refuses to change or remove an entry.
	for _, q := range []string{`UPDATE audit_log SET actor = 'x'`, `DELETE FROM audit_log`} {
		if _, err := w.store.db.Write.ExecContext(context.Background(), q); err == nil {
			t.Errorf("%s: got no error, want the audit log to refuse", q)
		}
	}
}

// TestEntrepreneurSeesMoves: a move staff make shows on the entrepreneur's
// page of the follow-up's code, each step once, without who made it.
func TestEntrepreneurSeesMoves(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	e := mustAddBus(t, w.store, "Bus Test")
	w.seedBus = e
	code, err := schema.RandomCode(e.CodePrefix, e.CodeKey)
	if err != nil {
		t.Fatal(err)
	}
	f := followUp(t, schema.KindEmail, "")
	f.Code = code.String()
	w.seedVisit("Toko Sahin", f)
	for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
		if _, err := w.store.MoveFollowUp(ctx, "sam@denhaag.nl", f.ID, st, "Informatie gemaild."); err != nil {
			t.Fatal(err)
		}
	}
	events, err := w.store.FollowUpEvents(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Status)
	}
	if want := []string{EventReceived, schema.StatusInProgress, schema.StatusDone}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got steps %v, want %v", got, want)
	}
	r := w.agent().get("/f/" + code.String())
	wantStatus(t, "the entrepreneur's page", r, http.StatusOK)
	for _, key := range []string{"fu.event.in_progress", "fu.event.done"} {
		if !strings.Contains(r.body, tr("nl", key)) {
			t.Errorf("the entrepreneur's page lacks %q", tr("nl", key))
		}
	}
	if strings.Contains(r.body, "sam@denhaag.nl") {
		t.Error("the entrepreneur's page names the staff member")
	}
}
