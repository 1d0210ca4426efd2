package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
	"infobus/schema/schematest"
	infosync "infobus/sync"
)

// fileBytes returns a database's files as a thief would copy them.
func fileBytes(tb testing.TB, file string) []byte {
	tb.Helper()
	var all []byte
	for _, f := range []string{file, file + "-wal", file + "-shm", file + "-journal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// personVisit is a valid visit with contact details no other test uses.
func personVisit(email, phone string) schema.Visit {
	v := schematest.ValidVisit()
	v.ID = uuid.Must(uuid.NewV7()).String()
	for i := range v.FollowUps {
		v.FollowUps[i].ID = uuid.Must(uuid.NewV7()).String()
	}
	v.Contact = &schema.Contact{Name: "Geheime Ondernemer", Phone: phone, Email: email}
	v.Normalize()
	return v
}

func TestForgetReachesTheBusAndStays(t *testing.T) {
	ctx := context.Background()
	officeDir, busDir := t.TempDir(), t.TempDir()
	om := startOffice(t, officeDir)
	b := openBusStore(t, busDir, nil)
	e := enrollBus(t, om.Store, b, "bus-forget", om.URL)

	const email, phone = "vergeet.mij@example.nl", "0687650000"
	v := personVisit(email, phone)
	other := personVisit("blijf.hier@example.nl", "0611110000")
	for _, x := range []*schema.Visit{&v, &other} {
		if _, _, err := b.PutVisit(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	syncUntilDone(t, b)

	// A dry run changes nothing.
	rep, err := om.Store.ForgetPerson(ctx, office.Person{Email: "  Vergeet.Mij@Example.nl "}, true, office.ActorCLI)
	if err != nil || len(rep.Visits) != 1 || rep.Erased != 0 {
		t.Fatalf("dry run: %+v %v, want one visit found and none erased", rep, err)
	}
	got, err := om.Store.FindVisitByID(ctx, v.ID)
	if err != nil || got.Contact == nil {
		t.Fatalf("after the dry run the office lost the details: %+v %v", got, err)
	}
	export, err := om.Store.ExportPerson(ctx, office.Person{Phone: "06 8765 0000"}, office.ActorCLI)
	if err != nil || len(export.Visits) != 1 || export.Visits[0].Contact == nil || export.Visits[0].Contact.Email != email {
		t.Fatalf("export: %+v %v, want the one visit with its contact details", export, err)
	}

	rep, err = om.Store.ForgetPerson(ctx, office.Person{Email: email}, false, office.ActorCLI)
	if err != nil || len(rep.Visits) != 1 || rep.Erased != 1 {
		t.Fatalf("forget: %+v %v, want one visit erased", rep, err)
	}
	if rep, err := om.Store.ForgetPerson(ctx, office.Person{Email: email}, false, office.ActorCLI); err != nil || rep.Erased != 0 {
		t.Fatalf("forget again: %+v %v, want nothing more erased", rep, err)
	}
	got, err = om.Store.FindVisitByID(ctx, v.ID)
	if err != nil || got.Contact != nil || got.Business.Name != v.Business.Name || len(got.Topics) == 0 {
		t.Fatalf("at the office after forget: %+v %v, want no contact, the rest kept", got, err)
	}

	// Both the export and the erasure are in the audit log, without the
	// address they were about.
	entries, err := om.Store.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range entries {
		seen[a.Action] = true
		if strings.Contains(a.Subject+a.Detail, email) || strings.Contains(a.Subject+a.Detail, phone) {
			t.Errorf("audit entry %+v holds the person's details", a)
		}
	}
	if !seen[office.ActionForget] || !seen[office.ActionExport] {
		t.Errorf("audit actions %v, want %s and %s", seen, office.ActionForget, office.ActionExport)
	}

	// The next sync erases the bus's copy.
	syncUntilDone(t, b)
	view, err := b.FindVisitByID(ctx, v.ID)
	if err != nil || view.Contact != nil || !view.ContactRemoved {
		t.Fatalf("on the bus after sync: %+v %v, want the details erased", view, err)
	}
	if kept, _ := b.FindVisitByID(ctx, other.ID); kept.Contact == nil {
		t.Fatal("the other entrepreneur's details were erased too")
	}

	// A bus that had not pulled yet pushes a newer rev with the old
	// details: they do not come back. Nor does a replay of the old rev.
	older := v
	older.Rev = v.Rev + 1
	older.Notes = "Later bewerkt, met de oude gegevens."
	pushDirect(t, om.URL, e, &older)
	pushDirect(t, om.URL, e, &v)
	got, err = om.Store.FindVisitByID(ctx, v.ID)
	if err != nil || got.Contact != nil || got.Rev != older.Rev {
		t.Fatalf("after a push of an older copy: %+v %v, want rev %d without contact", got, err, older.Rev)
	}

	// The raw files of both ends hold none of the erased bytes once
	// compacted (forget does this on the command line).
	if err := om.Store.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	raw := fileBytes(t, filepath.Join(officeDir, office.DatabaseFile))
	for _, s := range []string{email, phone} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("office files still hold %q", s)
		}
	}
	if !bytes.Contains(raw, []byte("blijf.hier@example.nl")) {
		t.Error("office files lack the kept address: the check above cannot fail")
	}
	busRaw := fileBytes(t, filepath.Join(busDir, bus.DatabaseFile))
	if bytes.Contains(busRaw, []byte(email)) {
		t.Error("bus files still hold the erased address")
	}
}

// pushDirect pushes one visit as the bus would, bypassing the bus store.
func pushDirect(tb testing.TB, officeURL string, e infosync.Enrollment, v *schema.Visit) {
	tb.Helper()
	crew := v.CrewOwned()
	body := mustJSON(tb, &crew)
	var buf bytes.Buffer
	if err := infosync.EncodePush(&buf, &infosync.PushRequest{BusID: e.BusID, ThroughSeq: 1 << 40, Records: []json.RawMessage{body}}, 1); err != nil {
		tb.Fatal(err)
	}
	status, resp := postPush(tb, officeURL, e.BusToken, buf.Bytes())
	if status != 200 {
		tb.Fatalf("push: got %d %s", status, resp)
	}
}

func TestForgottenOnTheBusKeptAtTheOffice(t *testing.T) {
	ctx := context.Background()
	om := startOffice(t, t.TempDir())
	clk := &fakeClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	b := openBusStore(t, t.TempDir(), clk.Now)
	enrollBus(t, om.Store, b, "bus-keep", om.URL)
	v := personVisit("bewaar.op.kantoor@example.nl", "0687651111")
	if _, _, err := b.PutVisit(ctx, &v); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	clk.Advance(bus.DefaultKeepPersonal + time.Minute)
	if n, err := b.ForgetContacts(ctx, bus.DefaultKeepPersonal); err != nil || n != 1 {
		t.Fatalf("forget on the bus: %d %v", n, err)
	}
	// The crew edit the visit afterwards, without the details they no
	// longer have; the callback follow-up stays.
	edit := v
	edit.Contact = nil
	edit.Rev++
	edit.Notes = "Tweede bezoek."
	if err := edit.ValidateContactElsewhere(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.PutVisit(ctx, &edit); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	got, err := om.Store.FindVisitByID(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rev != edit.Rev || got.Notes != edit.Notes || got.Contact == nil || got.Contact.Email != v.Contact.Email {
		t.Fatalf("at the office: rev %d notes %q contact %+v; want the edit with the office's contact details kept", got.Rev, got.Notes, got.Contact)
	}
}

func TestRetentionErasesAfterFollowUpsClosed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	o, err := office.OpenStore(ctx, dir, syncLogger(), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	om := startOfficeOn(t, o)
	b := openBusStore(t, t.TempDir(), nil)
	enrollBus(t, o, b, "bus-retention", om)
	closed := personVisit("afgehandeld@example.nl", "0687652222")
	open := personVisit("nog.open@example.nl", "0687653333")
	for _, x := range []*schema.Visit{&closed, &open} {
		if _, _, err := b.PutVisit(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	syncUntilDone(t, b)
	if _, err := o.SetFollowUpStatus(ctx, closed.FollowUps[0].ID, schema.StatusDone, "Gebeld."); err != nil {
		t.Fatal(err)
	}
	clk.Advance(office.DefaultRetention - time.Hour)
	if n, err := o.ApplyRetention(ctx, office.DefaultRetention); err != nil || n != 0 {
		t.Fatalf("before the period: erased %d (%v), want 0", n, err)
	}
	clk.Advance(2 * time.Hour)
	if n, err := o.ApplyRetention(ctx, office.DefaultRetention); err != nil || n != 1 {
		t.Fatalf("after the period: erased %d (%v), want 1", n, err)
	}
	if n, err := o.ApplyRetention(ctx, office.DefaultRetention); err != nil || n != 0 {
		t.Fatalf("second run: erased %d (%v), want 0", n, err)
	}
	got, _ := o.FindVisitByID(ctx, closed.ID)
	if got.Contact != nil || got.Rating == nil || got.Wijk != closed.Wijk {
		t.Fatalf("closed visit after retention: %+v, want no contact, rating and wijk kept", got)
	}
	if still, _ := o.FindVisitByID(ctx, open.ID); still.Contact == nil {
		t.Fatal("a visit with an open follow-up lost its contact details")
	}
	if err := o.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	raw := fileBytes(t, filepath.Join(dir, office.DatabaseFile))
	if bytes.Contains(raw, []byte("afgehandeld@example.nl")) {
		t.Error("office files still hold the erased address")
	}
	if !bytes.Contains(raw, []byte("nog.open@example.nl")) {
		t.Error("office files lack the kept address: the check above cannot fail")
	}
}

func TestRevokedBusIsRefusedAndReissuedWorks(t *testing.T) {
	ctx := context.Background()
	om := startOffice(t, t.TempDir())
	b := openBusStore(t, t.TempDir(), nil)
	old := enrollBus(t, om.Store, b, "bus-revoke", om.URL)
	v := personVisit("revoke@example.nl", "0687654444")
	if _, _, err := b.PutVisit(ctx, &v); err != nil {
		t.Fatal(err)
	}
	if _, err := om.Store.RevokeBus(ctx, "bus-revoke", office.ActorCLI); err != nil {
		t.Fatal(err)
	}
	_, err := syncClient(b, 5*time.Second, 0).Sync(ctx, nil)
	var refused *infosync.RefusedError
	if !errors.As(err, &refused) || refused.Status != 401 {
		t.Fatalf("sync with a revoked token: %v, want a 401 refusal", err)
	}
	e, err := om.Store.ReissueBus(ctx, old.BusID, om.URL, office.ActorCLI)
	if err != nil || e.BusID != old.BusID || e.BusToken == old.BusToken || !bytes.Equal(e.CodeKey, old.CodeKey) {
		t.Fatalf("reissue: %+v %v, want the same bus id and code key with a new token", e, err)
	}
	if status, _ := postPush(t, om.URL, old.BusToken, []byte(`{}`)); status != 401 {
		t.Fatalf("old token after reissue: got %d, want 401", status)
	}
	if err := b.Enroll(ctx, e, false); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	if _, err := om.Store.FindVisitByID(ctx, v.ID); err != nil {
		t.Fatalf("after re-enrolling with the new token: %v", err)
	}
	entries, _ := om.Store.AuditLog(ctx, 100)
	seen := map[string]bool{}
	for _, a := range entries {
		seen[a.Action+" "+a.Subject] = true
	}
	if !seen[office.ActionBusRevoked+" "+old.BusID] || !seen[office.ActionBusReissued+" "+old.BusID] {
		t.Errorf("audit log %v, want the revocation and the re-issue", seen)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// postPush sends a plain JSON push body with a token and returns the answer.
func postPush(tb testing.TB, officeURL, token string, body []byte) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, officeURL+infosync.PushPath, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(infosync.VersionHeader, "1")
	req.Header.Set("Content-Encoding", "gzip")
	if len(body) > 0 && body[0] == '{' {
		req.Header.Del("Content-Encoding")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// startOfficeOn serves an office store opened by the test (with its own
// clock) on a free loopback port and returns its URL.
func startOfficeOn(tb testing.TB, o *office.Store) string {
	tb.Helper()
	cfg := office.Config{Addr: "127.0.0.1:0", DataDir: "unused", Version: "test"}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	srv := office.NewServer(cfg, o, syncLogger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func TestPrivacyCommands(t *testing.T) {
	ctx := context.Background()
	busDir, officeDir := t.TempDir(), t.TempDir()
	b, err := bus.OpenStore(ctx, busDir, syncLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := b.NewPairingCode(ctx)
	d, err := b.Pair(ctx, pc.Code)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	o, err := office.OpenStore(ctx, officeDir, syncLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.AddBus(ctx, "bus-cli", "https://office.example.nl"); err != nil {
		t.Fatal(err)
	}
	o.Close()

	cmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, args, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	for _, tc := range []struct {
		args []string
		want string
		fail bool
	}{
		{[]string{"bus", "devices", "--data", busDir}, d.ID, false},
		{[]string{"bus", "devices", "--data", busDir}, "Tablet 1", false},
		{[]string{"bus", "unpair", d.ID[:13], "--data", busDir}, "unpaired", false},
		{[]string{"bus", "devices", "--data", busDir}, "unpaired 2", false},
		{[]string{"bus", "unpair", "no-such-tablet", "--data", busDir}, "", true},
		{[]string{"office", "forget", "--email", "niemand@example.nl", "--dry-run", "--data", officeDir}, "Found 0 visit(s)", false},
		{[]string{"office", "forget", "--phone", "06 1234 5678", "--dry-run", "--data", officeDir}, ", 0 feedback comment(s)", false},
		{[]string{"office", "export-person", "--email", "niemand@example.nl", "--data", officeDir}, `"feedback": []`, false},
		{[]string{"office", "forget", "--data", officeDir}, "", true},
		{[]string{"office", "export-person", "--kvk", "2731 2345", "--data", officeDir}, `"kvk": "27312345"`, false},
		{[]string{"office", "revoke-bus", "bus-cli", "--data", officeDir}, "revoked", false},
		{[]string{"office", "reissue-bus", "bus-cli", "--data", officeDir, "--url", "https://office.example.nl"}, "infobus-enroll-v1.", false},
		{[]string{"office", "revoke-bus", "nobody", "--data", officeDir}, "", true},
		{[]string{"bus", "renew-ca", "--data", busDir}, "no local CA yet", false},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := cmd(tc.args...)
			if (err != nil) != tc.fail {
				t.Fatalf("error %v, want failure %v\n%s", err, tc.fail, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestForgetErasesFeedbackComments: an entrepreneur's feedback comment may
// hold their e-mail address or phone number, typed any which way. forget
// finds the feedback given on their follow-ups' codes and any comment that
// mentions them, empties those comments at the office and, through the
// next pull, on the bus, and keeps the ratings; export-person lists them
// first. Afterwards neither database's files hold the erased bytes, while
// another entrepreneur's comment is still there.
func TestForgetErasesFeedbackComments(t *testing.T) {
	ctx := context.Background()
	officeDir, busDir := t.TempDir(), t.TempDir()
	om := startOffice(t, officeDir)
	b := openBusStore(t, busDir, nil)
	enrollBus(t, om.Store, b, "bus-feedback", om.URL)

	const email, phone = "ria.feedback@example.nl", "0687651234"
	codes, err := b.ReserveCodes(ctx, bus.CardsDevice, 4)
	if err != nil {
		t.Fatal(err)
	}
	v := personVisit(email, phone)
	v.FollowUps[0].Code = string(codes[0])
	other := personVisit("blijf.hier@example.nl", "0611112222")
	other.FollowUps[0].Code = string(codes[1])
	for _, x := range []*schema.Visit{&v, &other} {
		if _, _, err := b.PutVisit(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	syncUntilDone(t, b)

	// On her own follow-up's page she leaves her number in another form;
	// on a card she got later (a code not bound to any visit yet) her
	// address, in capitals.
	const ownComment = "Bel me gerust terug op +31 6 8765 1234, liefst 's ochtends."
	const cardComment = "Mail mij op RIA.FEEDBACK@example.nl over de vergunning."
	const keptComment = "Fijn gesprek, bel Jan op 06 1111 2222 of mail blijf.hier@example.nl."
	// Someone the bus never visited, on a card, with only a number.
	const lonePhone, loneComment = "0655443322", "Graag contact: 06 55 44 33 22. Groet, Piet."
	for code, in := range map[schema.Code]office.FeedbackInput{
		codes[0]: {Rating: 7, Comment: ownComment, ContactPreference: schema.PreferPhone},
		codes[2]: {Rating: 9, Comment: cardComment, ContactPreference: schema.PreferEmail},
		codes[1]: {Rating: 6, Comment: keptComment, ContactPreference: schema.PreferNone},
		codes[3]: {Rating: 5, Comment: loneComment, ContactPreference: schema.PreferPhone},
	} {
		info, err := om.Store.LookupCode(ctx, string(code))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := om.Store.PutFeedback(ctx, code, info.BusID, in); err != nil {
			t.Fatal(err)
		}
	}
	syncUntilDone(t, b)
	if view, err := b.FindVisitByID(ctx, v.ID); err != nil || view.FollowUps[0].Feedback == nil || view.FollowUps[0].Feedback.Comment != ownComment {
		t.Fatalf("the bus lacks the comment before forget: %+v %v", view, err)
	}

	for _, sel := range []office.Person{{Email: email}, {Phone: "06-87651234"}} {
		export, err := om.Store.ExportPerson(ctx, sel, office.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		var comments []string
		for _, f := range export.Feedback {
			comments = append(comments, f.Comment)
		}
		// By phone the card's comment (an address only) is not found: it
		// names her by the other detail.
		want := []string{ownComment, cardComment}
		if sel.Phone != "" {
			want = want[:1]
		}
		slices.Sort(want)
		slices.Sort(comments)
		if !slices.Equal(comments, want) {
			t.Errorf("export by %+v: feedback comments %q, want %q", sel, comments, want)
		}
	}

	rep, err := om.Store.ForgetPerson(ctx, office.Person{Email: email}, true, office.ActorCLI)
	if err != nil || rep.Feedback != 2 {
		t.Fatalf("dry run: %+v %v, want 2 feedback comments found", rep, err)
	}
	if fb, _ := om.Store.FeedbackByCode(ctx, codes[2]); fb == nil || fb.Comment != cardComment {
		t.Fatalf("the dry run erased a comment: %+v", fb)
	}
	rep, err = om.Store.ForgetPerson(ctx, office.Person{Email: email}, false, office.ActorCLI)
	if err != nil || rep.Erased != 1 || rep.Feedback != 2 {
		t.Fatalf("forget: %+v %v, want 1 visit and 2 feedback comments erased", rep, err)
	}
	for code, rating := range map[schema.Code]int{codes[0]: 7, codes[2]: 9} {
		fb, err := om.Store.FeedbackByCode(ctx, code)
		if err != nil || fb.Comment != "" || fb.Rating != rating {
			t.Errorf("feedback %s after forget: %+v %v, want no comment and rating %d", code, fb, err, rating)
		}
	}
	if fb, _ := om.Store.FeedbackByCode(ctx, codes[1]); fb == nil || fb.Comment != keptComment {
		t.Errorf("another entrepreneur's comment: %+v, want it kept", fb)
	}
	if rep, err := om.Store.ForgetPerson(ctx, office.Person{Email: email}, false, office.ActorCLI); err != nil || rep.Feedback != 0 || rep.Erased != 0 {
		t.Errorf("forget again: %+v %v, want nothing more", rep, err)
	}

	// The bus pulls the emptied comments with the erasure.
	syncUntilDone(t, b)
	view, err := b.FindVisitByID(ctx, v.ID)
	if err != nil || view.FollowUps[0].Feedback == nil || view.FollowUps[0].Feedback.Comment != "" || view.FollowUps[0].Feedback.Rating != 7 {
		t.Fatalf("on the bus after sync: %+v %v, want the rating without the comment", view.FollowUps[0].Feedback, err)
	}

	// A comment is all the office holds about Piet: no visit is erased,
	// and the bus still wipes the comment from its files, at the run of
	// its keep-personal job that follows every successful sync.
	rep, err = om.Store.ForgetPerson(ctx, office.Person{Phone: lonePhone}, false, office.ActorCLI)
	if err != nil || len(rep.Visits) != 0 || rep.Feedback != 1 {
		t.Fatalf("forget by a number only a comment holds: %+v %v, want one comment", rep, err)
	}
	syncUntilDone(t, b)
	if _, err := bus.NewForgetter(b, bus.DefaultKeepPersonal, syncLogger()).Run(ctx); err != nil {
		t.Fatal(err)
	}

	if err := om.Store.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	officeRaw := fileBytes(t, filepath.Join(officeDir, office.DatabaseFile))
	busRaw := fileBytes(t, filepath.Join(busDir, bus.DatabaseFile))
	for _, s := range []string{"+31 6 8765 1234", "RIA.FEEDBACK@example.nl", email, phone, loneComment} {
		if bytes.Contains(officeRaw, []byte(s)) {
			t.Errorf("office files still hold %q", s)
		}
		if bytes.Contains(busRaw, []byte(s)) {
			t.Errorf("bus files still hold %q", s)
		}
	}
	if !bytes.Contains(officeRaw, []byte(keptComment)) || !bytes.Contains(busRaw, []byte(keptComment)) {
		t.Error("the files lack the kept comment: the checks above cannot fail")
	}
}
