package office

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"infobus/schema"
)

// mailVisit pushes a visit in lang with one follow-up (of a kind that
// needs no contact details), with consent and email as given.
func (w *testWeb) mailVisit(name, lang string, consent bool, email string) schema.FollowUp {
	w.tb.Helper()
	if w.seedBus.BusID == "" {
		w.seedBus = mustAddBus(w.tb, w.store, "Bus Test")
	}
	code, err := schema.RandomCode(w.seedBus.CodePrefix, w.seedBus.CodeKey)
	if err != nil {
		w.tb.Fatal(err)
	}
	f := schema.FollowUp{ID: newID(w.tb), Kind: schema.KindVisit, Description: "Langsgaan", Department: "vergunningen",
		DueDate: "2026-12-15", Code: code.String()}
	v := schema.Visit{ID: newID(w.tb), Rev: 1, VisitedAt: "2026-11-20T14:05:00+01:00", Language: lang,
		Business: schema.Business{Name: name}, Wijk: "WK051828", Topics: []string{"vergunningen"},
		FollowUps: []schema.FollowUp{f}}
	if consent {
		v.Consent = schema.Consent{Given: true, TextVersion: schema.ConsentTextVersion, At: "2026-11-20T14:04:00+01:00"}
		v.Contact = &schema.Contact{Name: "Noor", Phone: "0612345678", Email: email}
	}
	v.Normalize()
	b, err := json.Marshal(v.CrewOwned())
	if err != nil {
		w.tb.Fatal(err)
	}
	w.pushed++
	if resp := mustPush(w.tb, w.store, w.seedBus, w.pushed, b); len(resp.SetAside) > 0 {
		w.tb.Fatalf("set aside: %+v", resp.SetAside)
	}
	return f
}

// smtpAt serves SMTP on addr into box until the test ends or stop.
func smtpAt(tb testing.TB, addr string, box *mailbox) (stop func()) {
	tb.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: box}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return func() { srv.Close() }
}

func (b *mailbox) all() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

// mailText decodes a message's base64 body.
func mailText(tb testing.TB, m received) string {
	tb.Helper()
	_, body, ok := strings.Cut(string(m.data), "\r\n\r\n")
	if !ok {
		tb.Fatalf("no body in %q", m.data)
	}
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\r\n", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return string(m.data[:len(m.data)-len(body)]) + string(b)
}

// freeAddr is a loopback address nobody listens on (yet).
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func mailConfig(addr string) func(*Config) {
	return func(c *Config) {
		c.SMTPAddr, c.SMTPFrom, c.ReportTo, c.PublicURL = addr, "infobus@denhaag.nl", "programma@denhaag.nl", "https://infobus.example"
	}
}

func (w *testWeb) mailRows() int {
	w.tb.Helper()
	var n int
	if err := w.store.db.Read.QueryRow(`SELECT count(*) FROM mail_queue`).Scan(&n); err != nil {
		w.tb.Fatal(err)
	}
	return n
}

func TestMailOnStatusChange(t *testing.T) {
	box := &mailbox{}
	addr := freeAddr(t)
	smtpAt(t, addr, box)
	w := newTestWeb(t, mailConfig(addr))
	ctx := context.Background()
	w.addStaff("ada@denhaag.nl", RoleAdmin, goodPassword)
	english := w.mailVisit("Toko Sahin", "en", true, "sahin@example.nl")
	dutch := w.mailVisit("Bakkerij De Molen", "nl", true, "molen@example.nl")
	noConsent := w.mailVisit("Kapsalon Noor", "nl", false, "")
	noAddress := w.mailVisit("Fietsenmaker Jansen", "nl", true, "")
	if _, err := w.store.AddText(ctx, "ada@denhaag.nl", StandardText{Status: schema.StatusInProgress,
		NL: "We werken aan de vraag van {bedrijf}. {afdeling} belt u voor {datum}.",
		EN: "We are working on the question of {business}. {department} will call you before {date}."}); err != nil {
		t.Fatal(err)
	}
	a := w.agent()
	a.login("ada@denhaag.nl", goodPassword, "/")
	// The page offers the standard text in the visit's language; choosing
	// it fills the message.
	r := a.get("/followups/" + english.ID)
	if !strings.Contains(r.body, "?text=1#message") {
		t.Fatalf("the move form does not offer the standard text")
	}
	r = a.get("/followups/" + english.ID + "?text=1")
	if !strings.Contains(r.body, "We are working on the question of {business}.") {
		t.Fatalf("choosing the text did not fill the message")
	}
	for _, f := range []schema.FollowUp{english, dutch, noConsent, noAddress} {
		msg := "We are working on the question of {business}. {department} will call you before {date}."
		if f.ID != english.ID {
			msg = "We werken aan de vraag van {bedrijf}."
		}
		r = a.post("/followups/"+f.ID+"/status", url.Values{"status": {"in_progress"}, "message": {msg}})
		wantStatus(t, "move", r, http.StatusSeeOther)
	}
	if n := w.mailRows(); n != 2 {
		t.Fatalf("got %d e-mails queued, want 2 (none without consent or address)", n)
	}
	sent, err := w.server.NewMailJob().Tick(ctx)
	if err != nil || sent != 2 {
		t.Fatalf("tick: sent %d, %v; want 2", sent, err)
	}
	msgs := box.all()
	if len(msgs) != 2 {
		t.Fatalf("got %d e-mails at the server, want 2", len(msgs))
	}
	byTo := map[string]string{}
	for _, m := range msgs {
		if len(m.to) != 1 {
			t.Fatalf("recipients %v", m.to)
		}
		byTo[m.to[0]] = mailText(t, m)
	}
	en := byTo["sahin@example.nl"]
	for _, want := range []string{"Subject: News about your question", "We are working on it.",
		"We are working on the question of Toko Sahin. Permits will call you before 15 December 2026.",
		"https://infobus.example/f/" + english.Code + "?lang=en"} {
		if !strings.Contains(en, want) {
			t.Errorf("the English e-mail lacks %q:\n%s", want, en)
		}
	}
	if nl := byTo["molen@example.nl"]; !strings.Contains(nl, "We zijn ermee bezig.") || !strings.Contains(nl, "We werken aan de vraag van Bakkerij De Molen.") {
		t.Errorf("the Dutch e-mail is not in Dutch:\n%s", nl)
	}
	// The page shows the message without the business's name.
	r = w.agent().get("/f/" + english.Code + "?lang=en")
	if !strings.Contains(r.body, "We are working on the question of your business.") || strings.Contains(r.body, "Toko Sahin") {
		t.Errorf("the entrepreneur's page does not show the message, or names the business")
	}
	events, _ := w.store.WorkEvents(ctx, english.ID)
	if e := events[len(events)-1]; e.Kind != EventMail {
		t.Errorf("the sent e-mail is not on the timeline: %+v", events)
	}
	var addrs int
	if err := w.store.db.Read.QueryRow(`SELECT count(*) FROM mail_queue WHERE to_addr != ''`).Scan(&addrs); err != nil || addrs != 0 {
		t.Errorf("%d sent e-mails keep their address", addrs)
	}
	if sent, _ := w.server.NewMailJob().Tick(ctx); sent != 0 || len(box.all()) != 2 {
		t.Errorf("a second tick sent again")
	}
	r = a.get("/mail")
	wantStatus(t, "the mail page", r, http.StatusOK)
	if strings.Contains(r.body, "sahin@example.nl") || !strings.Contains(r.body, "/followups/"+english.ID) {
		t.Errorf("the mail page shows an address or lacks the e-mail")
	}
}

func TestMailWithoutSMTPSendsNothing(t *testing.T) {
	w := newTestWeb(t)
	ctx := context.Background()
	f := w.mailVisit("Toko Sahin", "en", true, "sahin@example.nl")
	if _, err := w.store.MoveFollowUpSaying(ctx, "ada@denhaag.nl", f.ID, schema.StatusInProgress, "", "Hallo"); err != nil {
		t.Fatal(err)
	}
	if n := w.mailRows(); n != 0 {
		t.Errorf("got %d e-mails queued without SMTP settings, want 0", n)
	}
}

func TestMailOutageDelaysThenSendsOnce(t *testing.T) {
	box := &mailbox{}
	addr := freeAddr(t) // nobody listens: the SMTP server is down
	w := newTestWeb(t, mailConfig(addr))
	ctx := context.Background()
	f := w.mailVisit("Toko Sahin", "nl", true, "sahin@example.nl")
	// The move does not wait for SMTP.
	if _, err := w.store.MoveFollowUpSaying(ctx, "ada@denhaag.nl", f.ID, schema.StatusInProgress, "", "We bellen u."); err != nil {
		t.Fatal(err)
	}
	job := w.server.NewMailJob()
	if sent, err := job.Tick(ctx); err != nil || sent != 0 {
		t.Fatalf("tick during the outage: sent %d, %v", sent, err)
	}
	ms, _ := w.store.Mails(ctx)
	if len(ms) != 1 || ms[0].Attempts != 1 || ms[0].SentAt != "" || ms[0].LastError == "" {
		t.Fatalf("after a failed attempt: %+v", ms)
	}
	smtpAt(t, addr, box) // the server is back
	if sent, _ := job.Tick(ctx); sent != 0 {
		t.Fatalf("sent before the backoff ended")
	}
	w.clock.add(mailBackoffFirst + time.Second)
	if sent, err := job.Tick(ctx); err != nil || sent != 1 {
		t.Fatalf("tick after the outage: sent %d, %v; want 1", sent, err)
	}
	w.clock.add(time.Hour)
	if sent, _ := job.Tick(ctx); sent != 0 {
		t.Fatalf("sent again")
	}
	if got := box.all(); len(got) != 1 || got[0].to[0] != "sahin@example.nl" {
		t.Fatalf("got %d e-mails, want exactly 1", len(got))
	}
	if ms, _ := w.store.Mails(ctx); ms[0].Attempts != 2 || ms[0].SentAt == "" {
		t.Errorf("after sending: %+v", ms[0])
	}
}
