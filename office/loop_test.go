package office

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"infobus/schema"
)

// loopFollowUp seeds a follow-up with a real code and returns it.
func (w *testWeb) loopFollowUp(name string) schema.FollowUp {
	w.tb.Helper()
	if w.seedBus.BusID == "" {
		w.seedBus = mustAddBus(w.tb, w.store, "Bus Test")
	}
	code, err := schema.RandomCode(w.seedBus.CodePrefix, w.seedBus.CodeKey)
	if err != nil {
		w.tb.Fatal(err)
	}
	f := followUp(w.tb, schema.KindCallback, "2026-12-15")
	f.Code = code.String()
	w.seedVisit(name, f)
	return f
}

// queueHas reports whether the queue page at target lists business.
func queueHas(tb testing.TB, a *agent, target, business string) bool {
	tb.Helper()
	r := a.get(target)
	wantStatus(tb, target, r, http.StatusOK)
	return strings.Contains(r.body, business)
}

// pulledStatus is the last status the bus pulls for a follow-up.
func (w *testWeb) pulledStatus(id string) string {
	w.tb.Helper()
	changes, err := w.store.StatusChanges(context.Background(), w.seedBus.BusID, 0, 1000)
	if err != nil {
		w.tb.Fatal(err)
	}
	got := ""
	for _, c := range changes {
		if c.FollowUpID == id {
			got = c.Status
		}
	}
	return got
}

func TestQuestionBack(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	f := w.loopFollowUp("Toko Sahin")
	staff := w.agent()
	staff.login("sam@denhaag.nl", goodPassword, "/")
	staff.get("/followups/" + f.ID)
	r := staff.post("/followups/"+f.ID+"/status", url.Values{"status": {"in_progress"}})
	wantStatus(t, "start", r, http.StatusSeeOther)

	// An empty question is refused, naming the field, and changes nothing.
	r = staff.post("/followups/"+f.ID+"/question", url.Values{"question": {"  "}})
	wantStatus(t, "empty question", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, tr("nl", "question.error.empty")) || !strings.Contains(r.body, `id="question-error"`) {
		t.Errorf("empty question: the page does not say why beside the field")
	}
	if got := w.followUpStatus(f.ID); got != schema.StatusInProgress {
		t.Fatalf("after a refused question: got %q, want in_progress", got)
	}

	r = staff.post("/followups/"+f.ID+"/question", url.Values{"question": {"Op welk adres is het terras?"}})
	wantLocation(t, "question", r, "/followups/"+f.ID+"?done=asked")
	if got := w.followUpStatus(f.ID); got != schema.StatusWaiting {
		t.Fatalf("after the question: got %q, want waiting", got)
	}
	if got := w.pulledStatus(f.ID); got != schema.StatusWaiting {
		t.Errorf("the bus pulls %q, want waiting", got)
	}
	if w.auditCount(ActionQuestionAsked, f.ID) != 1 {
		t.Errorf("want one audit entry for the question")
	}
	if !queueHas(t, staff, "/?status=waiting", "Toko Sahin") || !queueHas(t, staff, "/", "Toko Sahin") {
		t.Errorf("a waiting follow-up is not in the queue or its filter")
	}
	// A question while one waits is refused.
	r = staff.post("/followups/"+f.ID+"/question", url.Values{"question": {"Nog een vraag?"}})
	wantStatus(t, "second question while waiting", r, http.StatusUnprocessableEntity)

	// The entrepreneur reads it and answers without logging in.
	ent := w.agent()
	page := "/f/" + f.Code
	for _, lang := range []string{"nl", "en"} {
		r = ent.get(page + "?lang=" + lang)
		for _, want := range []string{tr(lang, "question.title"), "Op welk adres is het terras?", `name="answer"`, tr(lang, "fu.event.waiting")} {
			if !strings.Contains(r.body, want) {
				t.Errorf("%s page lacks %q", lang, want)
			}
		}
		if strings.Contains(r.body, "sam@denhaag.nl") {
			t.Errorf("the page names the staff member")
		}
	}
	r = ent.post(page+"/answer", url.Values{"answer": {""}})
	wantStatus(t, "empty answer", r, http.StatusBadRequest)
	if !strings.Contains(r.body, tr("en", "text.error.required")) || !strings.Contains(r.body, `href="#answer"`) {
		t.Errorf("empty answer: the page does not name the field")
	}
	r = ent.post(page+"/answer", url.Values{"answer": {"Het terras is aan de Weimarstraat 12."}})
	wantLocation(t, "answer", r, page+"?saved=answer#question")
	if got := w.followUpStatus(f.ID); got != schema.StatusInProgress {
		t.Fatalf("after the answer: got %q, want back to in_progress", got)
	}
	r = ent.post(page+"/answer", url.Values{"answer": {"Het terras is aan de Weimarstraat 14."}})
	wantLocation(t, "second answer", r, page+"?saved=answer-revised#question")
	q, err := w.store.LatestQuestion(ctx, f.ID)
	if err != nil || q.Answer != "Het terras is aan de Weimarstraat 14." {
		t.Fatalf("stored answer: %+v, %v", q, err)
	}
	var questions int
	if err := w.store.db.Read.QueryRow(`SELECT count(*) FROM followup_questions WHERE followup_id = ?`, f.ID).Scan(&questions); err != nil || questions != 1 {
		t.Fatalf("got %d questions, want 1 (%v)", questions, err)
	}
	events, _ := w.store.WorkEvents(ctx, f.ID)
	var answers, moves int
	for _, e := range events {
		if e.Kind == EventAnswer {
			answers++
			if e.Actor != ActorEntrepreneur {
				t.Errorf("answer event by %q", e.Actor)
			}
		}
		if e.IsMove() {
			moves++
		}
	}
	if answers != 2 || moves != 3 {
		t.Errorf("got %d answer events and %d moves, want 2 (answer, revision) and 3 (start, question, answer)", answers, moves)
	}
	r = staff.get("/followups/" + f.ID)
	for _, want := range []string{"Op welk adres is het terras?", "Weimarstraat 12", "Weimarstraat 14", tr("nl", "event.kind.answer")} {
		if !strings.Contains(r.body, want) {
			t.Errorf("staff timeline lacks %q", want)
		}
	}
	if !queueHas(t, staff, "/?status=in_progress", "Toko Sahin") {
		t.Errorf("the answered follow-up is not back in the queue")
	}
}

func TestSatisfactionPaths(t *testing.T) {
	for _, tc := range []struct {
		name      string
		form      url.Values
		want      string
		inFilter  string // a queue filter that must list it
		outFilter string // one that must not
	}{
		{"satisfied", url.Values{"satisfied": {"yes"}, "reason": {"1"}}, schema.StatusDone, "/?status=done", "/?status=reopen_requested"},
		{"unsatisfied with a reopening reason", url.Values{"satisfied": {"no"}, "reason": {"3"}}, schema.StatusReopenRequested, "/?status=reopen_requested", "/?status=done"},
		{"unsatisfied with a comment", url.Values{"satisfied": {"no"}, "sat_comment": {"Niemand belde terug."}}, schema.StatusReopenRequested, "/", "/?status=done"},
		{"unsatisfied without", url.Values{"satisfied": {"no"}, "reason": {"4"}}, schema.StatusDone, "/?status=done", "/?status=reopen_requested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWeb(t)
			ctx := context.Background()
			w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
			f := w.loopFollowUp("Bakkerij De Molen")
			page := "/f/" + f.Code
			ent := w.agent()
			r := ent.get(page)
			if strings.Contains(r.body, `name="satisfied"`) {
				t.Errorf("the page asks for satisfaction before the follow-up is done")
			}
			r = ent.post(page+"/satisfaction", tc.form)
			wantStatus(t, "before done", r, http.StatusConflict)
			for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
				if _, err := w.store.MoveFollowUp(ctx, "sam@denhaag.nl", f.ID, st, "Vergunning aangevraagd."); err != nil {
					t.Fatal(err)
				}
			}
			r = ent.get(page + "?lang=en")
			if !strings.Contains(r.body, tr("en", "satisfaction.question")) || !strings.Contains(r.body, "It was quick") {
				t.Fatalf("the done page does not ask for satisfaction in English")
			}
			r = ent.post(page+"/satisfaction", tc.form)
			wantLocation(t, "satisfaction", r, page+"?saved=satisfaction#satisfaction")
			if got := w.followUpStatus(f.ID); got != tc.want {
				t.Fatalf("got status %q, want %q", got, tc.want)
			}
			if got := w.pulledStatus(f.ID); got != tc.want {
				t.Errorf("the bus pulls %q, want %q", got, tc.want)
			}
			staff := w.agent()
			staff.login("sam@denhaag.nl", goodPassword, "/")
			staff.get("/followups/" + f.ID)
			if !queueHas(t, staff, tc.inFilter, "Bakkerij De Molen") {
				t.Errorf("queue %s lacks it", tc.inFilter)
			}
			if queueHas(t, staff, tc.outFilter, "Bakkerij De Molen") {
				t.Errorf("queue %s lists it", tc.outFilter)
			}
			// A second answer revises the first, never adds one.
			r = ent.post(page+"/satisfaction", tc.form)
			wantStatus(t, "the same answer again", r, http.StatusSeeOther)
			var n int
			if err := w.store.db.Read.QueryRow(`SELECT count(*) FROM satisfaction`).Scan(&n); err != nil || n != 1 {
				t.Errorf("got %d answers, want 1", n)
			}
			figs, err := w.store.Satisfaction(ctx)
			if err != nil || figs.Answers != 1 || (figs.Satisfied == 1) != (tc.form.Get("satisfied") == "yes") {
				t.Errorf("figures %+v, %v", figs, err)
			}
			// The insight page shows the answer beside the mark.
			want := tr("nl", "insight.satisfaction.figures", "pct", figs.Percent(), "n", 1, "yes", figs.Satisfied)
			if r := staff.get("/insight?period=month"); !strings.Contains(r.body, want) {
				i := strings.Index(r.body, `id="satisfaction"`)
				t.Errorf("the insight page lacks %q: %d %s", want, r.status, r.body[max(i, 0):min(len(r.body), max(i, 0)+600)])
			}
			if tc.want != schema.StatusReopenRequested {
				return
			}
			// Staff reopen it, or close it again with a note: both are moves.
			r = staff.get("/followups/" + f.ID)
			for _, want := range []string{tr("nl", "satview.title"), tr("nl", "status.reopen_requested"), `value="in_progress"`, `value="done"`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("staff page lacks %q", want)
				}
			}
			r = staff.post("/followups/"+f.ID+"/status", url.Values{"status": {"done"}})
			wantStatus(t, "close again without a note", r, http.StatusUnprocessableEntity)
			r = staff.post("/followups/"+f.ID+"/status", url.Values{"status": {"done"}, "note": {"Nogmaals uitgelegd."}})
			wantStatus(t, "close again", r, http.StatusSeeOther)
			if got := w.followUpStatus(f.ID); got != schema.StatusDone {
				t.Errorf("closed again: got %q", got)
			}
		})
	}
}

func TestSatisfactionRefusals(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	f := w.loopFollowUp("Bakkerij De Molen")
	for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
		if _, err := w.store.MoveFollowUp(ctx, "sam@denhaag.nl", f.ID, st, "Klaar."); err != nil {
			t.Fatal(err)
		}
	}
	page := "/f/" + f.Code
	ent := w.agent()
	ent.get(page)
	for i, tc := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no answer", url.Values{}, "satisfied"},
		{"a nonsense answer", url.Values{"satisfied": {"misschien"}}, "satisfied"},
		{"a yes reason with no", url.Values{"satisfied": {"no"}, "reason": {"1"}}, "reason"},
		{"an unknown reason", url.Values{"satisfied": {"no"}, "reason": {"999"}}, "reason"},
		{"a reason that is no number", url.Values{"satisfied": {"no"}, "reason": {"x"}}, "reason"},
		{"a long comment", url.Values{"satisfied": {"no"}, "sat_comment": {strings.Repeat("a", MaxQuestion+1)}}, "sat_comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Both languages, one per case: the posts stay under the rate
			// limit.
			lang := []string{"nl", "en"}[i%2]
			r := ent.post(page+"/satisfaction?lang="+lang, tc.form)
			wantStatus(t, tc.name, r, http.StatusBadRequest)
			if !strings.Contains(r.body, `href="#`+tc.field+`"`) || !strings.Contains(r.body, `id="`+tc.field+`-error"`) {
				t.Errorf("%s: the %s page does not name the field %s", tc.name, lang, tc.field)
			}
			if !strings.Contains(r.body, `lang="`+lang+`"`) {
				t.Errorf("%s: the page is not in %s", tc.name, lang)
			}
		})
	}
	if _, err := w.store.SatisfactionOf(ctx, f.ID); err == nil {
		t.Errorf("a refused answer was stored")
	}
	if got := w.followUpStatus(f.ID); got != schema.StatusDone {
		t.Errorf("got %q after refusals, want done", got)
	}
}

func TestReasonsPage(t *testing.T) {
	w := newTestWeb(t)
	w.addStaff("ada@denhaag.nl", RoleAdmin, goodPassword)
	a := w.agent()
	a.login("ada@denhaag.nl", goodPassword, "/reasons")
	r := a.get("/reasons")
	wantStatus(t, "reasons", r, http.StatusOK)
	r = a.post("/reasons", url.Values{"satisfied": {"no"}, "nl": {""}, "en": {"Nobody called"}})
	wantStatus(t, "empty Dutch text", r, http.StatusBadRequest)
	if !strings.Contains(r.body, `href="#nl"`) {
		t.Errorf("the refusal does not name the field")
	}
	r = a.post("/reasons", url.Values{"nl": {"Niemand belde"}, "en": {"Nobody called"}})
	wantStatus(t, "no answer", r, http.StatusBadRequest)
	r = a.post("/reasons", url.Values{"satisfied": {"no"}, "reopens": {"1"}, "nl": {"Niemand belde"}, "en": {"Nobody called"}})
	wantLocation(t, "add", r, "/reasons?done=saved")
	rs, err := w.store.Reasons(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	last := rs[len(rs)-1]
	if last.NL != "Niemand belde" || last.Satisfied || !last.Reopens {
		t.Fatalf("got %+v", last)
	}
	r = a.post("/reasons/"+last.FormID(), url.Values{"nl": {"Niemand belde"}, "en": {"Nobody called"}, "retired": {"1"}})
	wantLocation(t, "retire", r, "/reasons?done=saved")
	rs, _ = w.store.Reasons(context.Background(), false)
	for _, r := range rs {
		if r.ID == last.ID {
			t.Errorf("a retired reason is still offered")
		}
	}
	if n := w.auditCount(ActionReasonSaved, last.FormID()); n != 2 {
		t.Errorf("got %d audit entries, want 2", n)
	}
}

// TestLoopRoutesAuthorization holds the routes of this issue to the roles
// the authorization matrix holds the others to: staff work follow-ups,
// admins keep rules and reasons, strangers and buses get nothing.
func TestLoopRoutesAuthorization(t *testing.T) {
	for _, caller := range []string{"anonymous", "staff", "admin", "bus token"} {
		t.Run(caller, func(t *testing.T) {
			w := newTestWeb(t)
			w.addStaff("admin@denhaag.nl", RoleAdmin, goodPassword)
			w.addStaff("staff@denhaag.nl", RoleStaff, goodPassword)
			f := followUp(t, schema.KindCallback, "2026-12-01")
			_, bus := w.seedVisit("Bakkerij De Molen", f)
			c := &wire{tb: t, base: w.listen(), cookies: map[string]string{}}
			var token string
			switch caller {
			case "anonymous":
				token = c.formToken("/login")
			case "staff":
				c.login("staff@denhaag.nl")
				token = c.formToken("/")
			case "admin":
				c.login("admin@denhaag.nl")
				token = c.formToken("/")
			case "bus token":
				c.bearer = bus.BusToken
			}
			for _, rt := range []struct {
				method, path string
				form         url.Values
				admin        bool
			}{
				{"GET", "/reasons", nil, true},
				{"GET", "/rules", nil, true},
				{"GET", "/texts", nil, true},
				{"GET", "/mail", nil, true},
				{"GET", "/?unrouted=1&status=waiting", nil, false},
				{"POST", "/texts", url.Values{"status": {"done"}, "nl": {"Klaar."}, "en": {"Done."}}, true},
				{"POST", "/texts/1/delete", url.Values{}, true},
				{"POST", "/followups/" + f.ID + "/route", url.Values{"route_department": {"vergunningen"}}, false},
				{"POST", "/reasons", url.Values{"satisfied": {"no"}, "nl": {"Te laat"}, "en": {"Too late"}}, true},
				{"POST", "/reasons/1", url.Values{"nl": {"Het ging snel"}, "en": {"It was quick"}}, true},
				{"POST", "/rules", url.Values{"department": {"vergunningen"}}, true},
				{"POST", "/rules/1/delete", url.Values{}, true},
				{"POST", "/followups/" + f.ID + "/question", url.Values{"question": {"Welk adres?"}}, false},
			} {
				var form url.Values
				if rt.form != nil {
					form = url.Values{FormTokenField: {token}}
					for k, v := range rt.form {
						form[k] = v
					}
				}
				r := c.do(rt.method, rt.path, form)
				passed := r.status == http.StatusOK || (r.status == http.StatusSeeOther && !strings.HasPrefix(r.location(), "/login"))
				want := caller == "admin" || (caller == "staff" && !rt.admin)
				if passed != want {
					t.Errorf("%s %s as %s: got %d (to %q), want pass=%v", rt.method, rt.path, caller, r.status, r.location(), want)
				}
				if caller == "staff" && rt.admin && r.status != http.StatusForbidden {
					t.Errorf("%s %s as staff: got %d, want 403", rt.method, rt.path, r.status)
				}
			}
		})
	}
}
