package office

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/smtp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/robfig/cron/v3"

	"infobus/schema"
)

// The monthly programme update: the month's figures beside the month
// before, open and overdue follow-ups per department, and what
// entrepreneurs said. A job makes it after each month ends and keeps it in
// reports; staff make any month on demand. With SMTP configured the job
// mails it.

// Defaults for the report job.
const (
	DefaultReportSchedule = "0 6 1 * *" // 06:00 on the 1st, office time
	settingReportJobLast  = "report_job_last"
	// reportComments bounds the quotes in a report.
	reportComments = 10
)

const (
	queryReportPut  = `INSERT INTO reports (month, made_at, html) VALUES (?1, ?2, ?3) ON CONFLICT (month) DO UPDATE SET made_at = excluded.made_at, html = excluded.html`
	queryReportGet  = `SELECT month, made_at, html, sent_at FROM reports WHERE month = ?`
	queryReportList = `SELECT month, made_at, sent_at FROM reports ORDER BY month DESC`
	queryReportSent = `UPDATE reports SET sent_at = ?2 WHERE month = ?1`
)

// Report is a kept monthly update.
type Report struct {
	Month  string // YYYY-MM
	MadeAt string
	HTML   string // the report's body (the figures), without the page around it
	SentAt string
}

// Made is when the report was made.
func (r Report) Made() time.Time { t, _ := time.Parse(time.RFC3339Nano, r.MadeAt); return t }

// Sent is when the report was mailed; zero if it was not.
func (r Report) Sent() time.Time { t, _ := time.Parse(time.RFC3339Nano, r.SentAt); return t }

// PutReport keeps the report of a month, replacing one made before.
func (s *Store) PutReport(ctx context.Context, month, html string) error {
	_, err := s.db.Write.ExecContext(ctx, queryReportPut, month, schema.Timestamp(s.now()), html)
	return err
}

// FindReport returns the kept report of month, or ErrNotFound.
func (s *Store) FindReport(ctx context.Context, month string) (*Report, error) {
	var r Report
	err := s.db.Read.QueryRowContext(ctx, queryReportGet, month).Scan(&r.Month, &r.MadeAt, &r.HTML, &r.SentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &r, err
}

// Reports lists the kept reports, newest month first, without their HTML.
func (s *Store) Reports(ctx context.Context) ([]Report, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryReportList)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		if err := rows.Scan(&r.Month, &r.MadeAt, &r.SentAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) markReportSent(ctx context.Context, month string) error {
	_, err := s.db.Write.ExecContext(ctx, queryReportSent, month, schema.Timestamp(s.now()))
	return err
}

// parseMonth reads YYYY-MM as the local month's period.
func parseMonth(s string) (Period, bool) {
	t, err := time.ParseInLocation("2006-01", s, zone)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		return Period{}, false
	}
	return PeriodAt(PeriodMonth, t), true
}

type reportData struct {
	Month, MonthLabel, PrevLabel string
	Sections                     []Section
	Comments                     []string
	FeedbackOK                   bool
}

// reportBody renders the figures of month in Dutch: the part that is
// kept and mailed. The same data gives the same bytes.
func (s *Server) reportBody(ctx context.Context, month string) (string, error) {
	p, ok := parseMonth(month)
	if !ok {
		return "", fmt.Errorf("report month %q: want YYYY-MM", month)
	}
	in, err := s.store.Insight(ctx, p, Area{}, s.store.now(), reportComments)
	if err != nil {
		return "", err
	}
	v := viewer{lang: DefaultLang}
	d := reportData{Month: month, MonthLabel: v.monthLabel(p.From), PrevLabel: v.monthLabel(in.Prev.From),
		Comments: in.Comments, FeedbackOK: in.FeedbackOK}
	for _, sec := range v.sections(in) {
		// The update keeps to what the programme reports on; stops and
		// hours are for planning the bus, on the insight page.
		if sec.ID == "reach" {
			var figs []Figure
			for _, f := range sec.Figures {
				if f.ID == "map" || f.ID == "stadsdelen" {
					figs = append(figs, f)
				}
			}
			sec.Figures = figs
		}
		d.Sections = append(d.Sections, sec)
	}
	var b bytes.Buffer
	pg := &Page{Lang: DefaultLang, Data: d}
	if err := pages["report"].ExecuteTemplate(&b, "report-body", pg); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (v viewer) monthLabel(t time.Time) string {
	return v.t("month."+strings.ToLower(t.Month().String())) + " " + fmt.Sprint(t.Year())
}

// MakeReport makes and keeps the report of month (YYYY-MM).
func (s *Server) MakeReport(ctx context.Context, month string) (*Report, error) {
	body, err := s.reportBody(ctx, month)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutReport(ctx, month, body); err != nil {
		return nil, err
	}
	return s.store.FindReport(ctx, month)
}

// ReportJob makes the report of the month just ended at each time of its
// cron schedule, on a clock the caller passes, so that tests drive it by
// hand. The last run is kept in settings: a restart neither repeats a run
// nor, if the office was down at the time, skips one.
type ReportJob struct {
	server *Server
	sched  cron.Schedule
}

// NewReportJob parses the schedule (five cron fields, office time).
func (s *Server) NewReportJob(spec string) (*ReportJob, error) {
	sched, err := cron.ParseStandard("CRON_TZ=Europe/Amsterdam " + spec)
	if err != nil {
		return nil, fmt.Errorf("--report-schedule %q: %w", spec, err)
	}
	return &ReportJob{server: s, sched: sched}, nil
}

// Tick runs every run due by now and returns the months it made.
func (j *ReportJob) Tick(ctx context.Context, now time.Time) ([]string, error) {
	st := j.server.store
	lastS, err := st.Setting(ctx, settingReportJobLast)
	var last time.Time
	switch {
	case errors.Is(err, ErrNotFound):
		// A new office starts counting now: no report for months it
		// never saw.
		last = now
		if err := st.PutSetting(ctx, settingReportJobLast, schema.Timestamp(last)); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if last, err = time.Parse(time.RFC3339Nano, lastS); err != nil {
			return nil, err
		}
	}
	var made []string
	for next := j.sched.Next(last); !next.After(now); next = j.sched.Next(last) {
		month := day(next).AddDate(0, 0, -1).Format("2006-01")
		r, err := j.server.MakeReport(ctx, month)
		if err != nil {
			return made, err
		}
		if err := j.server.sendReport(ctx, r); err != nil {
			j.server.log.Error("report not sent", "month", month, "err", err)
		}
		last = next
		if err := st.PutSetting(ctx, settingReportJobLast, schema.Timestamp(last)); err != nil {
			return made, err
		}
		j.server.log.Info("monthly report made", "month", month)
		made = append(made, month)
	}
	return made, nil
}

// Run ticks every minute until ctx ends.
func (j *ReportJob) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if _, err := j.Tick(ctx, j.server.store.now()); err != nil && ctx.Err() == nil {
			j.server.log.Error("report job", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendReport mails r to the configured recipients; without SMTP it does
// nothing.
func (s *Server) sendReport(ctx context.Context, r *Report) error {
	cfg := s.cfg
	if cfg.SMTPAddr == "" {
		return nil
	}
	to := splitList(cfg.ReportTo)
	var auth smtp.Auth
	if cfg.SMTPUser != "" {
		host := cfg.SMTPAddr
		if i := strings.LastIndex(host, ":"); i >= 0 {
			host = host[:i]
		}
		auth = smtp.PlainAuth("", cfg.SMTPUser, cfg.SMTPPassword, host)
	}
	p, _ := parseMonth(r.Month)
	subject := "Programma-update Informatiebus " + viewer{lang: DefaultLang}.monthLabel(p.From)
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		cfg.SMTPFrom, strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", subject), s.store.now().Format(time.RFC1123Z))
	msg.WriteString("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	doc := "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>" + template.HTMLEscapeString(subject) +
		"</title></head><body>" + r.HTML + "</body></html>"
	enc := base64.StdEncoding.EncodeToString([]byte(doc))
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n")
	if err := smtp.SendMail(cfg.SMTPAddr, auth, cfg.SMTPFrom, to, msg.Bytes()); err != nil {
		return err
	}
	return s.store.markReportSent(ctx, r.Month)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type reportsData struct {
	Reports []Report
	Month   string
}

func (s *Server) handleReports(c *fiber.Ctx) error {
	p := s.newPage(c)
	rs, err := s.store.Reports(c.UserContext())
	if err != nil {
		return err
	}
	last := day(s.store.now()).AddDate(0, -1, 0).Format("2006-01")
	p.Data = &reportsData{Reports: rs, Month: last}
	p.Values["month"] = last
	return s.render(c, fiber.StatusOK, "reports", p)
}

func (s *Server) handleReportMake(c *fiber.Ctx) error {
	month := copyForm(c, "month")
	if _, ok := parseMonth(month); !ok {
		p := s.newPage(c)
		rs, err := s.store.Reports(c.UserContext())
		if err != nil {
			return err
		}
		p.Data = &reportsData{Reports: rs}
		p.Values["month"] = month
		p.Errors["month"] = p.T("reports.badmonth")
		return s.render(c, fiber.StatusBadRequest, "reports", p)
	}
	if _, err := s.MakeReport(c.UserContext(), month); err != nil {
		return err
	}
	return c.Redirect("/reports/"+month, fiber.StatusSeeOther)
}

type reportPage struct {
	Report *Report
	Body   template.HTML
}

func (s *Server) handleReport(c *fiber.Ctx) error {
	month := c.Params("month")
	if _, ok := parseMonth(month); !ok {
		return fiber.ErrNotFound
	}
	r, err := s.store.FindReport(c.UserContext(), month)
	if err != nil {
		return err
	}
	p := s.newPage(c)
	// The kept body is the office's own rendering, escaped when it was made.
	p.Data = &reportPage{Report: r, Body: template.HTML(r.HTML)}
	return s.render(c, fiber.StatusOK, "report", p)
}
