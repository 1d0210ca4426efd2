package office

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is an SMTP server in the test process that keeps what it gets.
type mailbox struct {
	mu   sync.Mutex
	msgs []received
}

type received struct {
	from string
	to   []string
	data []byte
}

type mailSession struct {
	box *mailbox
	cur received
}

func (s *mailSession) Reset()        { s.cur = received{} }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, s.cur)
	s.box.mu.Unlock()
	return nil
}

func serveSMTP(tb testing.TB) (string, *mailbox) {
	tb.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: box}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), box
}

func TestReportJobSendsMail(t *testing.T) {
	addr, box := serveSMTP(t)
	w, fx := newFixtureWeb(t)
	cfg := Config{Version: "test", SMTPAddr: addr, SMTPFrom: "infobus@denhaag.example", ReportTo: "programma@denhaag.example, wethouder@denhaag.example"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, fx.Store, w.server.log)
	job, err := srv.NewReportJob(DefaultReportSchedule)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := job.Tick(ctx, time.Date(2026, 10, 20, 0, 0, 0, 0, zone)); err != nil {
		t.Fatal(err)
	}
	if len(box.msgs) != 0 {
		t.Fatal("mail sent before the 1st")
	}
	made, err := job.Tick(ctx, time.Date(2026, 11, 1, 6, 0, 0, 0, zone))
	if err != nil || len(made) != 1 || made[0] != "2026-10" {
		t.Fatalf("made %v, %v; want October", made, err)
	}
	if len(box.msgs) != 1 {
		t.Fatalf("got %d mails, want 1", len(box.msgs))
	}
	m := box.msgs[0]
	if m.from != "infobus@denhaag.example" || strings.Join(m.to, ",") != "programma@denhaag.example,wethouder@denhaag.example" {
		t.Errorf("envelope: from %q to %v", m.from, m.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Programma-update Informatiebus oktober 2026" {
		t.Errorf("subject: got %q, %v", subject, err)
	}
	body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := fx.FindReport(ctx, "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), kept.HTML) || !strings.Contains(string(body), "<svg ") {
		t.Error("the mail does not hold the kept report")
	}
	if kept.SentAt == "" {
		t.Error("the report is not marked as sent")
	}
	for _, line := range strings.Split(string(m.data), "\n") {
		if len(line) > 998 {
			t.Fatalf("a mail line of %d bytes", len(line))
		}
	}
}

func TestReportConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"no mail", Config{}, true},
		{"mail", Config{SMTPAddr: "127.0.0.1:25", SMTPFrom: "a@b.example", ReportTo: "c@d.example"}, true},
		{"no recipients", Config{SMTPAddr: "127.0.0.1:25", SMTPFrom: "a@b.example"}, false},
		{"recipients without a server", Config{ReportTo: "c@d.example"}, false},
		{"bad schedule", Config{ReportSchedule: "every day"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("got %v, want ok %v", err, tc.ok)
			}
		})
	}
}
