package office

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"mime"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// Keeping the entrepreneur informed: a status move by staff queues an
// e-mail in its own transaction (queueMail), when the office has SMTP
// settings and the visit has the entrepreneur's consent and e-mail
// address; a worker (MailJob) sends what is due, retries with backoff, and
// puts each sent e-mail on the timeline. The move never waits for SMTP.
//
// An e-mail is marked sent after the SMTP server took it; a crash between
// the two would send it again, which is the one way it goes twice.

// Backoff of a failed e-mail: 30 s, doubling, at most an hour.
const (
	mailBackoffFirst = 30 * time.Second
	mailBackoffMax   = time.Hour
	mailTick         = 15 * time.Second
	mailBatch        = 20
)

// EventMail is a timeline event: the office e-mailed the entrepreneur.
const EventMail = "mail"

const (
	// Only with consent and an address: the visit's body holds both.
	queryMailQueue = `
INSERT INTO mail_queue (followup_id, event_id, to_addr, lang, created_at, next_at)
SELECT f.id, ?2, json_extract(v.body, '$.contact.email'), iif(json_extract(v.body, '$.language') = 'en', 'en', 'nl'), ?3, ?3
FROM followups f JOIN visits v ON v.id = f.visit_id
WHERE f.id = ?1 AND json_extract(v.body, '$.consent.given') = 1
  AND coalesce(json_extract(v.body, '$.contact.email'), '') != ''`
	queryMailDue = `
SELECT m.id, m.followup_id, m.to_addr, m.lang, m.attempts, e.to_status, e.message, f.code, f.due_date, f.department, v.name
FROM mail_queue m JOIN followup_events e ON e.id = m.event_id
JOIN followups f ON f.id = m.followup_id JOIN visits v ON v.id = f.visit_id
WHERE m.sent_at = '' AND m.next_at <= ? ORDER BY m.next_at, m.id LIMIT ?`
	queryMailSent   = `UPDATE mail_queue SET sent_at = ?2, to_addr = '', attempts = attempts + 1, last_error = '' WHERE id = ?1`
	queryMailFailed = `UPDATE mail_queue SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1`
	queryMailList   = `
SELECT id, followup_id, lang, created_at, attempts, next_at, sent_at, last_error FROM mail_queue
ORDER BY sent_at != '', id DESC LIMIT 200`
)

func queueMail(ctx context.Context, tx *sql.Tx, followUpID string, eventID int64, now string) error {
	_, err := tx.ExecContext(ctx, queryMailQueue, followUpID, eventID, now)
	return err
}

// mailBackoff is how long to wait after the n-th failed attempt.
func mailBackoff(n int) time.Duration {
	d := mailBackoffFirst
	for i := 1; i < n && d < mailBackoffMax; i++ {
		d *= 2
	}
	return min(d, mailBackoffMax)
}

// dueMail is an e-mail the worker may send now.
type dueMail struct {
	id                                         int64
	followUpID, to, lang                       string
	attempts                                   int
	status, message, code, due, dept, business string
}

// MailJob sends the queued e-mails.
type MailJob struct {
	server *Server
	// send delivers one message; smtp.SendMail with the office's settings.
	send func(to string, msg []byte) error
}

// NewMailJob makes the e-mail worker; without SMTP settings it sends
// nothing (and nothing is queued).
func (s *Server) NewMailJob() *MailJob {
	return &MailJob{server: s, send: s.smtpSend}
}

func (s *Server) smtpSend(to string, msg []byte) error {
	cfg := s.cfg
	var auth smtp.Auth
	if cfg.SMTPUser != "" {
		host := cfg.SMTPAddr
		if i := strings.LastIndex(host, ":"); i >= 0 {
			host = host[:i]
		}
		auth = smtp.PlainAuth("", cfg.SMTPUser, cfg.SMTPPassword, host)
	}
	return smtp.SendMail(cfg.SMTPAddr, auth, cfg.SMTPFrom, []string{to}, msg)
}

// Run sends due e-mails every mailTick until ctx ends.
func (j *MailJob) Run(ctx context.Context) {
	if j.server.cfg.SMTPAddr == "" {
		return
	}
	t := time.NewTicker(mailTick)
	defer t.Stop()
	for {
		if _, err := j.Tick(ctx); err != nil && ctx.Err() == nil {
			j.server.log.Error("mail job", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick sends the e-mails due now and returns how many went. A failure to
// send is no error: the e-mail waits for its next attempt.
func (j *MailJob) Tick(ctx context.Context) (int, error) {
	s := j.server.store
	if j.server.cfg.SMTPAddr == "" {
		return 0, nil
	}
	rows, err := s.db.Read.QueryContext(ctx, queryMailDue, schema.Timestamp(s.now()), mailBatch)
	if err != nil {
		return 0, err
	}
	var due []dueMail
	for rows.Next() {
		var m dueMail
		if err := rows.Scan(&m.id, &m.followUpID, &m.to, &m.lang, &m.attempts, &m.status, &m.message, &m.code, &m.due, &m.dept, &m.business); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, m := range due {
		sendErr := j.send(m.to, j.server.mailMessage(m))
		now := s.now()
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if sendErr != nil {
				_, err := tx.ExecContext(ctx, queryMailFailed, m.id, schema.Timestamp(now.Add(mailBackoff(m.attempts+1))), sendErr.Error())
				return err
			}
			if _, err := tx.ExecContext(ctx, queryMailSent, m.id, schema.Timestamp(now)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, queryEventInsert, m.followUpID, schema.Timestamp(now), ActorAutomatic, "", "", "", "", EventMail)
			return err
		})
		if err != nil {
			return sent, err
		}
		if sendErr != nil {
			j.server.log.Warn("mail to entrepreneur not sent; retrying later", "mail", m.id, "attempt", m.attempts+1, "err", sendErr)
			continue
		}
		sent++
	}
	return sent, nil
}

// stepKey is the catalogue key of the entrepreneur's words for a status.
func stepKey(status string) string {
	switch status {
	case schema.StatusOpen:
		return "fu.event.open"
	case schema.StatusInProgress:
		return "fu.event.in_progress"
	case schema.StatusDone:
		return "fu.event.done"
	case schema.StatusCancelled:
		return "fu.event.cancelled"
	case schema.StatusWaiting:
		return "fu.event.waiting"
	case schema.StatusReopenRequested:
		return "fu.event.reopen_requested"
	}
	return "fu.event.received"
}

// ActorAutomatic is the actor of what the office does by itself.
const ActorAutomatic = "automatisch"

// mailMessage is the e-mail for m, in its language: the step, the
// message, and the link to the entrepreneur's page.
func (s *Server) mailMessage(m dueMail) []byte {
	lang := m.lang
	link := strings.TrimRight(s.publicURL(), "/") + "/f/" + url.PathEscape(m.code) + "?lang=" + lang
	var body strings.Builder
	body.WriteString(tr(lang, "mail.hello") + "\n\n")
	body.WriteString(tr(lang, stepKey(m.status)) + "\n\n")
	if m.message != "" {
		body.WriteString(fillText(lang, m.message, m.business, m.due, m.dept) + "\n\n")
	}
	if m.code != "" {
		body.WriteString(tr(lang, "mail.link") + "\n" + link + "\n\n")
	}
	body.WriteString(tr(lang, "mail.footer") + "\n")
	subject := tr(lang, "mail.subject")
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Language: %s\r\n",
		s.cfg.SMTPFrom, m.to, mime.QEncoding.Encode("utf-8", subject), s.store.now().Format(time.RFC1123Z), lang)
	msg.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body.String()))
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n")
	return msg.Bytes()
}

// publicURL is the office's configured public URL, or the one it
// recorded (SettingPublicURL).
func (s *Server) publicURL() string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	u, err := s.store.Setting(context.Background(), SettingPublicURL)
	if err != nil {
		return ""
	}
	return u
}

// QueuedMail is an e-mail as the admins' page lists it: no address, no
// text.
type QueuedMail struct {
	ID                          int64
	FollowUpID, Lang, CreatedAt string
	Attempts                    int
	NextAt, SentAt, LastError   string
}

// Mails lists the e-mail queue, unsent first, newest first.
func (s *Store) Mails(ctx context.Context) ([]QueuedMail, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryMailList)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueuedMail
	for rows.Next() {
		var m QueuedMail
		if err := rows.Scan(&m.ID, &m.FollowUpID, &m.Lang, &m.CreatedAt, &m.Attempts, &m.NextAt, &m.SentAt, &m.LastError); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

type mailData struct {
	Enabled bool
	Mails   []QueuedMail
}

func (s *Server) handleMailQueue(c *fiber.Ctx) error {
	ms, err := s.store.Mails(c.UserContext())
	if err != nil {
		return err
	}
	p := s.newPage(c)
	p.Data = &mailData{Enabled: s.cfg.SMTPAddr != "", Mails: ms}
	return s.render(c, fiber.StatusOK, "mail", p)
}
