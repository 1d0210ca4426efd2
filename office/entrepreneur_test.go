package office

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"infobus/schema"
	infosync "infobus/sync"
)

// pushOverHTTP sends visits to the office the way a bus does, through the
// real app.
func (w *testWeb) pushOverHTTP(e infosync.Enrollment, through int64, recs ...json.RawMessage) *infosync.PushResponse {
	w.tb.Helper()
	var body bytes.Buffer
	if err := infosync.EncodePush(&body, &infosync.PushRequest{BusID: e.BusID, ThroughSeq: through, Records: recs}, 6); err != nil {
		w.tb.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, infosync.PushPath, &body)
	req.Header.Set("Authorization", "Bearer "+e.BusToken)
	req.Header.Set(infosync.VersionHeader, "1")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := w.server.App().Test(req, -1)
	if err != nil {
		w.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out infosync.PushResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || len(out.SetAside) > 0 {
		w.tb.Fatalf("push: got %d %s", resp.StatusCode, b)
	}
	return &out
}

// privateVisit is a visit full of personal data, carrying code on its one
// follow-up.
func privateVisit(tb testing.TB, id, followUpID string, code schema.Code) json.RawMessage {
	tb.Helper()
	v := schema.Visit{ID: id, Rev: 1, VisitedAt: "2026-11-26T14:05:00+01:00", Crew: "Sanne Crewlid", Stop: "Haagse Markt",
		Business: schema.Business{Name: "Kapsalon Noor", KvK: "27312345",
			Address: schema.Address{Street: "Weimarstraat", Number: "12", Postcode: "2562AB", City: "Den Haag"}},
		Wijk: "WK051828", Topics: []string{"vergunningen"}, Notes: "Wil een terras aanvragen voor de zomer.",
		Consent: schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: "2026-11-26T14:05:00+01:00"},
		Contact: &schema.Contact{Name: "Noor Bakker", Phone: "0612345678", Email: "noor.bakker@example.nl"},
		FollowUps: []schema.FollowUp{{ID: followUpID, Kind: schema.KindCallback, Description: "Noor terugbellen over het terras",
			Department: "vergunningen", DueDate: "2026-12-15", Code: string(code)}}}
	v.Normalize()
	if err := v.Validate(); err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(v.CrewOwned())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// personal is what privateVisit holds that no public page may show.
var personal = []string{"Sanne", "Crewlid", "Kapsalon", "Noor", "Bakker", "0612345678", "06 12345678", "noor.bakker", "example.nl",
	"terras", "Weimarstraat", "2562", "27312345", "Haagse Markt"}

func (w *testWeb) feedbackCount() int {
	w.tb.Helper()
	var n int
	if err := w.store.db.Read.QueryRow(`SELECT count(*) FROM feedback`).Scan(&n); err != nil {
		w.tb.Fatal(err)
	}
	return n
}

func feedbackForm(rating, comment, pref string) url.Values {
	return url.Values{"rating": {rating}, "comment": {comment}, "contact_preference": {pref}}
}

func TestFollowUpPageUnknownCodes(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	good := mustCode(t, e, 42)
	other := mustAddBus(t, w.store, "other")
	foreign, err := schema.NewCode(e.CodePrefix, other.CodeKey, 42) // this bus's prefix, another key
	if err != nil {
		t.Fatal(err)
	}
	unknownPrefix := "ZZ"
	if e.CodePrefix == unknownPrefix || other.CodePrefix == unknownPrefix {
		unknownPrefix = "ZY"
	}
	noBus, err := schema.NewCode(unknownPrefix, e.CodeKey, 42)
	if err != nil {
		t.Fatal(err)
	}
	typo := []byte(string(good))
	typo[5] = map[bool]byte{true: 'A', false: 'B'}[typo[5] != 'A']
	a := w.agent()
	a.get("/f/" + string(good)) // a real page's form token, so that only the code is wrong
	for _, tc := range []struct{ name, code string }{
		{"not a code", "hallo"},
		{"a typo the check catches", string(typo)},
		{"a MAC that fails", string(foreign)},
		{"a prefix of no bus", string(noBus)},
		{"a forbidden symbol", "UUUU-UUUU-UUUU-U"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.get("/f/" + url.PathEscape(tc.code))
			wantStatus(t, "GET", r, http.StatusNotFound)
			if !strings.Contains(r.body, "We kennen deze code niet") || strings.Contains(r.body, "<form") {
				t.Errorf("GET: not the friendly 404 page:\n%s", r.body)
			}
			r = a.post("/f/"+url.PathEscape(tc.code)+"/feedback", feedbackForm("8", "Goed", "none"))
			wantStatus(t, "POST", r, http.StatusNotFound)
		})
	}
	if n := w.feedbackCount(); n != 0 {
		t.Fatalf("%d feedbacks stored for unknown codes, want 0", n)
	}
	if en := a.get("/f/hallo?lang=en"); en.status != http.StatusNotFound || !strings.Contains(en.body, "We do not know this code") {
		t.Errorf("English 404: got %d\n%s", en.status, en.body)
	}
}

func TestFollowUpPageLifecycle(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	e := mustAddBus(t, w.store, "bus")
	code := mustCode(t, e, 7)
	a := w.agent()

	// The entrepreneur scans the card before the bus has synced.
	r := a.get("/f/" + strings.ToLower(code.Grouped())) // typed from the card, in lower case
	wantStatus(t, "processing page", r, http.StatusOK)
	if !strings.Contains(r.body, "We verwerken uw gesprek") || !strings.Contains(r.body, code.Grouped()) || !strings.Contains(r.body, `name="rating"`) {
		t.Fatalf("processing page lacks its text, code or form:\n%s", r.body)
	}
	r = a.post("/f/"+string(code)+"/feedback", feedbackForm("8", "Fijn gesprek.", "email"))
	wantLocation(t, "feedback", r, "/f/"+string(code)+"?saved=new")
	r = a.get(r.location())
	if !strings.Contains(r.body, "We hebben uw cijfer ontvangen") || !strings.Contains(r.body, "U gaf ons een 8") {
		t.Fatalf("after feedback: no confirmation:\n%s", r.body)
	}
	fb, err := w.store.FeedbackByCode(ctx, code)
	if err != nil || fb.Rating != 8 || fb.Comment != "Fijn gesprek." || fb.ContactPreference != schema.PreferEmail {
		t.Fatalf("stored feedback: %+v, %v", fb, err)
	}

	// The visit arrives: the feedback is joined to its follow-up.
	visitID, followUpID := newID(t), newID(t)
	if _, err := w.store.FeedbackOfFollowUp(ctx, followUpID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("feedback of a follow-up not yet at the office: %v, want ErrNotFound", err)
	}
	w.pushOverHTTP(e, 1, privateVisit(t, visitID, followUpID, code))
	joined, err := w.store.FeedbackOfFollowUp(ctx, followUpID)
	if err != nil || joined.ID != fb.ID {
		t.Fatalf("feedback after the push: %+v, %v; want %s", joined, err, fb.ID)
	}
	r = a.get("/f/" + string(code))
	wantStatus(t, "known page", r, http.StatusOK)
	for _, want := range []string{"Wat we voor u doen", "We bellen u terug.", "Vergunningen", "15 december 2026", "Uw gesprek is bij ons aangekomen.", "30 november 2026 om 10.00 uur"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("known page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "Afgerond") {
		t.Errorf("known page says done before it is")
	}

	// The office works it: the timeline and the resolution follow.
	w.clock.add(26 * 3600e9)
	if _, err := w.store.SetFollowUpStatus(ctx, followUpID, schema.StatusDone, "De vergunning is aangevraagd."); err != nil {
		t.Fatal(err)
	}
	r = a.get("/f/" + string(code))
	for _, want := range []string{"Afgerond.", "1 december 2026 om 12.00 uur", "Wat we gedaan hebben", "De vergunning is aangevraagd."} {
		if !strings.Contains(r.body, want) {
			t.Errorf("done page lacks %q", want)
		}
	}
	r = a.get("/f/" + string(code) + "?lang=en")
	for _, want := range []string{`lang="en"`, "What we do for you", "We will call you back.", "Permits", "15 December 2026", "Done.", "What we did"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
	if !strings.Contains(r.body, `href="/f/`+string(code)+`?lang=nl"`) {
		t.Errorf("English page has no switch back to Dutch")
	}
}

func TestFollowUpPageShowsNoPersonalData(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	e := mustAddBus(t, w.store, "bus")
	code, unsynced := mustCode(t, e, 1), mustCode(t, e, 2)
	followUpID := newID(t)
	w.pushOverHTTP(e, 1, privateVisit(t, newID(t), followUpID, code))
	if _, err := w.store.SetFollowUpStatus(ctx, followUpID, schema.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	a := w.agent()
	var bodies []string
	for _, lang := range []string{"nl", "en"} {
		for _, target := range []string{"/f/" + string(code), "/f/" + string(unsynced), "/f/hallo"} {
			bodies = append(bodies, a.get(target+"?lang="+lang).body)
		}
		bodies = append(bodies, a.post("/f/"+string(code)+"/feedback", feedbackForm("", "", "fax")).body)
		bodies = append(bodies, a.post("/f/"+string(code)+"/feedback", feedbackForm("9", "", "phone")).body)
		bodies = append(bodies, a.get("/f/"+string(code)+"?saved=revised").body)
	}
	for i, b := range bodies {
		for _, p := range personal {
			if strings.Contains(b, p) {
				t.Errorf("answer %d shows %q", i, p)
			}
		}
	}
}

func TestFeedbackNeedsFormToken(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	code := mustCode(t, e, 3)
	target := "/f/" + string(code) + "/feedback"
	a := w.agent()
	a.get("/f/" + string(code))
	// No token at all.
	wantStatus(t, "no token", a.do(http.MethodPost, target, feedbackForm("8", "", "none")), http.StatusForbidden)
	// Another token than the cookie's: what a forged form carries.
	forged := feedbackForm("8", "", "none")
	forged.Set(FormTokenField, strings.Repeat("A", 43))
	wantStatus(t, "wrong token", a.do(http.MethodPost, target, forged), http.StatusForbidden)
	// The right token from another site.
	cross := feedbackForm("8", "", "none")
	cross.Set(FormTokenField, a.form)
	wantStatus(t, "cross-site", a.do(http.MethodPost, target, cross, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	// A fresh browser's cookie with no page seen.
	wantStatus(t, "no cookie", w.agent().post(target, feedbackForm("8", "", "none")), http.StatusForbidden)
	if n := w.feedbackCount(); n != 0 {
		t.Fatalf("%d feedbacks stored without a form token, want 0", n)
	}
	r := a.post(target, feedbackForm("8", "", "none"))
	wantStatus(t, "with the token", r, http.StatusSeeOther)
}

func TestFeedbackRateLimit(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	code := mustCode(t, e, 4)
	a := w.agent()
	a.get("/f/" + string(code))
	for i := range feedbackRateMax {
		r := a.post("/f/"+string(code)+"/feedback", feedbackForm(strconv.Itoa(1+i%10), "", "none"))
		wantStatus(t, "post "+strconv.Itoa(i+1), r, http.StatusSeeOther)
	}
	r := a.post("/f/"+string(code)+"/feedback", feedbackForm("9", "", "none"))
	wantStatus(t, "one post too many", r, http.StatusTooManyRequests)
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra <= 0 {
		t.Errorf("Retry-After %q, want seconds", r.header.Get("Retry-After"))
	}
	if !strings.Contains(r.body, "Even wachten") || strings.Contains(r.body, `href="/"`) {
		t.Errorf("429 page: not the readable public page:\n%s", r.body)
	}
}

func TestFeedbackRevisedNotMultiplied(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	e := mustAddBus(t, w.store, "bus")
	code := mustCode(t, e, 5)
	a := w.agent()
	a.get("/f/" + string(code))
	wantLocation(t, "first", a.post("/f/"+string(code)+"/feedback", feedbackForm("4", "Nog niks gehoord.", "phone")), "/f/"+string(code)+"?saved=new")
	first, err := w.store.FeedbackByCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	changes, _ := w.store.FeedbackChanges(ctx, e.BusID, 0, 10)
	seq := changes[0].Seq
	w.clock.add(3600e9)
	wantLocation(t, "revised", a.post("/f/"+string(code)+"/feedback", feedbackForm("9", "Toch gebeld, prima.", "none")), "/f/"+string(code)+"?saved=revised")
	// The same again changes nothing.
	wantLocation(t, "again", a.post("/f/"+string(code)+"/feedback", feedbackForm("9", "Toch gebeld, prima.", "none")), "/f/"+string(code)+"?saved=revised")
	if n := w.feedbackCount(); n != 1 {
		t.Fatalf("%d feedbacks for one code, want 1", n)
	}
	now, err := w.store.FeedbackByCode(ctx, code)
	if err != nil || now.ID != first.ID || now.Rating != 9 || now.Comment != "Toch gebeld, prima." || now.ContactPreference != schema.PreferNone || now.CreatedAt == first.CreatedAt {
		t.Fatalf("after revising: %+v, %v; first %+v", now, err, first)
	}
	changes, _ = w.store.FeedbackChanges(ctx, e.BusID, 0, 10)
	if len(changes) != 1 || changes[0].Seq != seq+1 || changes[0].Rating != 9 {
		t.Fatalf("pullable changes %+v, want the revision alone at seq %d", changes, seq+1)
	}
	r := a.get("/f/" + string(code))
	if !strings.Contains(r.body, "Toch gebeld, prima.</textarea>") || !strings.Contains(r.body, `value="9" checked`) {
		t.Errorf("the page does not offer the feedback to revise:\n%s", r.body)
	}
}

func TestFeedbackFormErrors(t *testing.T) {
	w := newTestWeb(t)
	e := mustAddBus(t, w.store, "bus")
	code := mustCode(t, e, 6)
	a := w.agent()
	for _, tc := range []struct {
		name, lang, field, want string
		form                    url.Values
	}{
		{"no rating", "nl", "rating", "Kies een cijfer van 1 tot en met 10.", feedbackForm("", "", "none")},
		{"rating 11", "en", "rating", "Choose a mark from 1 to 10.", feedbackForm("11", "", "none")},
		{"rating 0", "nl", "rating", "Kies een cijfer", feedbackForm("0", "", "none")},
		{"too long", "nl", "comment", "u typte er 2001", feedbackForm("7", strings.Repeat("é", 2001), "none")},
		{"too long", "en", "comment", "you typed 2001", feedbackForm("7", strings.Repeat("x", 2001), "none")},
		{"control character", "nl", "comment", "tekens die we niet kunnen lezen", feedbackForm("7", "a\x00b", "none")},
		{"fax", "en", "contact_preference", "Choose whether we call you", feedbackForm("7", "", "fax")},
	} {
		t.Run(tc.name+" "+tc.lang, func(t *testing.T) {
			a.get("/f/" + string(code) + "?lang=" + tc.lang)
			r := a.post("/f/"+string(code)+"/feedback", tc.form)
			wantStatus(t, "post", r, http.StatusBadRequest)
			beside := `id="` + tc.field + `-error">`
			i := strings.Index(r.body, beside)
			if i < 0 || !strings.Contains(r.body[i:i+300], tc.want) || !strings.Contains(r.body, `role="alert"`) {
				t.Errorf("no %q beside %s:\n%s", tc.want, tc.field, r.body)
			}
			if !strings.Contains(r.body, `href="/f/`+string(code)+`?lang=`) {
				t.Errorf("the language switch does not lead to the page")
			}
		})
	}
	// 2,000 characters exactly, with line breaks as browsers send them.
	long := strings.Repeat("ab\r\n", 500) + "ab"
	wantStatus(t, "2,000 characters", a.post("/f/"+string(code)+"/feedback", feedbackForm("7", long, "none")), http.StatusSeeOther)
	if n := w.feedbackCount(); n != 1 {
		t.Fatalf("%d feedbacks, want 1", n)
	}
}

func TestPullCarriesFeedbackInOrder(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	e := mustAddBus(t, s, "bus")
	visitID, fu := newID(t), newID(t)
	code, early := mustCode(t, e, 8), mustCode(t, e, 9)
	mustPush(t, s, e, 1, codedRecord(t, visitID, 1, map[string]string{fu: string(code)}))
	if _, err := s.SetFollowUpStatus(ctx, fu, schema.StatusInProgress, ""); err != nil { // seq 1
		t.Fatal(err)
	}
	if _, _, err := s.PutFeedback(ctx, code, e.BusID, FeedbackInput{Rating: 6, ContactPreference: schema.PreferNone}); err != nil { // 2
		t.Fatal(err)
	}
	if _, _, err := s.PutFeedback(ctx, early, e.BusID, FeedbackInput{Rating: 3, Comment: "Nog niks.", ContactPreference: schema.PreferPhone}); err != nil { // 3
		t.Fatal(err)
	}
	if _, err := s.SetFollowUpStatus(ctx, fu, schema.StatusDone, "Klaar."); err != nil { // 4
		t.Fatal(err)
	}
	if _, _, err := s.PutFeedback(ctx, code, e.BusID, FeedbackInput{Rating: 9, ContactPreference: schema.PreferNone}); err != nil { // 5
		t.Fatal(err)
	}
	r := &infosync.Receiver{Store: s}
	pull := func(since int64) *infosync.PullResponse {
		t.Helper()
		resp, err := r.Pull(ctx, infosync.PullInput{Authorization: "Bearer " + e.BusToken, Version: "1", Since: strconv.FormatInt(since, 10)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := pull(0)
	if len(resp.Statuses) != 1 || resp.Statuses[0].Seq != 4 || len(resp.Feedback) != 2 || resp.Next != 5 || resp.More {
		t.Fatalf("pull from 0: %+v", resp)
	}
	if f := resp.Feedback[0]; f.Code != string(early) || f.Seq != 3 || f.Rating != 3 || f.Comment != "Nog niks." || f.ContactPreference != schema.PreferPhone || f.Validate() != nil {
		t.Errorf("first feedback %+v", f)
	}
	if f := resp.Feedback[1]; f.Code != string(code) || f.Seq != 5 || f.Rating != 9 {
		t.Errorf("second feedback %+v", f)
	}
	if again := pull(resp.Next); len(again.Statuses)+len(again.Feedback) != 0 || again.Next != 5 {
		t.Errorf("pull from %d: %+v, want nothing", resp.Next, again)
	}
	if mid := pull(3); len(mid.Statuses) != 1 || len(mid.Feedback) != 1 || mid.Next != 5 {
		t.Errorf("pull from 3: %+v", mid)
	}
}

func FuzzFeedbackForm(f *testing.F) {
	for _, seed := range []string{
		"rating=8&comment=Fijn&contact_preference=none",
		"rating=10&contact_preference=phone",
		"rating=1&comment=&contact_preference=email",
		"rating=+7+&comment=a%0D%0Ab&contact_preference=none",
		"rating=0&contact_preference=none",
		"rating=11&contact_preference=fax",
		"rating=8.5&comment=%00&contact_preference=",
		"rating=-1&rating=5",
		"comment=" + strings.Repeat("x", 2001),
		"rating=%FF&comment=%FF%FE",
		"rating=9999999999999999999999&contact_preference=email",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		q, _ := url.ParseQuery(body)
		in, problems := decodeFeedbackForm(q.Get)
		for field, p := range problems {
			if tr(DefaultLang, p.key) == p.key || tr("en", p.key) == p.key {
				t.Fatalf("%s: message %q not in the catalogue", field, p.key)
			}
		}
		if len(problems) > 0 {
			return
		}
		// What the form takes, the record takes.
		fb := schema.Feedback{ID: "019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f", Code: "HQ7K2M4X", Rating: in.Rating, Comment: in.Comment,
			ContactPreference: in.ContactPreference, CreatedAt: "2026-11-30T09:00:00Z"}
		if err := fb.Validate(); err != nil {
			t.Fatalf("form %q taken, record refused: %v", body, err)
		}
	})
}
