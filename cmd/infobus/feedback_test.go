package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"infobus/schema"
)

var formTokenRE = regexp.MustCompile(`name="_form" value="([^"]+)"`)

// giveFeedback fills in the entrepreneur's page at pageURL as a browser
// without JavaScript does: GET the page, POST its form with its token.
func giveFeedback(tb testing.TB, pageURL string, form url.Values) string {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := client.Get(pageURL)
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formTokenRE.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		tb.Fatalf("GET %s: got %d without a form\n%s", pageURL, resp.StatusCode, page)
	}
	form.Set("_form", string(m[1]))
	resp, err = client.PostForm(pageURL+"/feedback", form)
	if err != nil {
		tb.Fatal(err)
	}
	after, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(after), "Bedankt!") {
		tb.Fatalf("POST feedback: got %d\n%s", resp.StatusCode, after)
	}
	return string(after)
}

// TestFeedbackEndToEnd: an entrepreneur scans the QR of a visit the bus has
// not synced yet and gives feedback on the office's page; the next sync
// brings it to the bus, and the crew API shows it with the follow-up, in
// the agreed shape. A revision follows the same way, moving the visit's
// seq for tablets that poll.
func TestFeedbackEndToEnd(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	m := startBusMain(t, t.TempDir())
	enrollBus(t, o.Store, m.Store, "bus", o.URL)
	token := pairTablet(t, m)

	status, body := crewDo(t, m.URL, http.MethodGet, "/api/codes?n=1", token, nil)
	var pool struct {
		Codes []struct{ Code, URL string } `json:"codes"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &pool) != nil || len(pool.Codes) != 1 {
		t.Fatalf("GET /api/codes: got %d %s", status, body)
	}
	code, pageURL := pool.Codes[0].Code, pool.Codes[0].URL
	v := sampleVisit(rand.New(rand.NewPCG(3, 3)), time.Now())
	v.FollowUps = []schema.FollowUp{{ID: newV7(), Kind: schema.KindCallback, Description: "Terugbellen", Department: "vergunningen", Code: code},
		{ID: newV7(), Kind: schema.KindInformation, Description: "Folder sturen"}}
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, token, v); status != http.StatusCreated {
		t.Fatalf("PUT: got %d %s", status, body)
	}

	// In front of the van, before any sync.
	page := giveFeedback(t, pageURL, url.Values{"rating": {"8"}, "comment": {"Fijn dat jullie langskwamen."}, "contact_preference": {"email"}})
	if !strings.Contains(page, "We verwerken uw gesprek") {
		t.Fatalf("the page before the sync is not the processing page:\n%s", page)
	}
	r := syncNowOverHTTP(t, m, token)
	if r.Report.Pushed != 1 || r.Report.Pulled != 1 {
		t.Fatalf("sync: %+v, want 1 pushed and the feedback pulled", r.Report)
	}
	status, body = crewDo(t, m.URL, http.MethodGet, "/api/visits/"+v.ID, token, nil)
	var raw struct {
		Seq       int64 `json:"seq"`
		FollowUps []map[string]json.RawMessage
	}
	if status != http.StatusOK || json.Unmarshal(body, &raw) != nil || len(raw.FollowUps) != 2 {
		t.Fatalf("GET visit: %d %s", status, body)
	}
	var fb map[string]any
	if err := json.Unmarshal(raw.FollowUps[0]["feedback"], &fb); err != nil {
		t.Fatalf("follow-up with the code has no feedback object: %s", body)
	}
	if len(fb) != 4 || fb["rating"] != 8.0 || fb["comment"] != "Fijn dat jullie langskwamen." || fb["contact_preference"] != "email" || !schema.ValidTime(fb["created_at"].(string)) {
		t.Fatalf("feedback shape: %v, want exactly rating, comment, contact_preference, created_at", fb)
	}
	if _, ok := raw.FollowUps[1]["feedback"]; ok {
		t.Errorf("a follow-up without a code shows feedback: %s", body)
	}
	// The visit's own answer can go back to the bus as a PUT: the crew's
	// fields decide, the feedback is read-only.
	view := getVisitView(t, m, token, v.ID)
	view.Rev++
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, token, view); status != http.StatusOK {
		t.Fatalf("PUT of the visit as read: got %d %s", status, body)
	}

	// The entrepreneur changes their mind after the call.
	syncNowOverHTTP(t, m, token)
	before := getVisitView(t, m, token, v.ID).Seq
	page = giveFeedback(t, pageURL, url.Values{"rating": {"10"}, "comment": {""}, "contact_preference": {"none"}})
	if !strings.Contains(page, "Wat we voor u doen") || !strings.Contains(page, "aangepast") {
		t.Fatalf("the page after the sync is not the known page with the revision:\n%s", page)
	}
	if r := syncNowOverHTTP(t, m, token); r.Report.Pulled != 1 {
		t.Fatalf("sync after the revision: %+v, want 1 pulled", r.Report)
	}
	status, body = crewDo(t, m.URL, http.MethodGet, "/api/visits?since="+strconv.FormatInt(before, 10)+"&limit=10", token, nil)
	var list struct {
		Visits []struct {
			ID        string            `json:"id"`
			FollowUps []schema.FollowUp `json:"followups"`
		} `json:"visits"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Visits) != 1 || list.Visits[0].ID != v.ID {
		t.Fatalf("GET ?since=%d: %d %s; want the visit, moved by the revision", before, status, body)
	}
	got := list.Visits[0].FollowUps[0].Feedback
	if got == nil || got.Rating != 10 || got.Comment != "" || got.ContactPreference != schema.PreferNone {
		t.Fatalf("revised feedback on the bus: %+v", got)
	}
	if fb, err := o.Store.FeedbackOfFollowUp(ctx, v.FollowUps[0].ID); err != nil || fb.Rating != 10 {
		t.Fatalf("office: feedback of the follow-up %+v, %v", fb, err)
	}
}
