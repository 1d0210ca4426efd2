// Package office is the central office's server: it receives the buses'
// records through the sync protocol and keeps them, with the office's own
// work on them, in its SQLite database, and serves the staff's pages
// (web.go has the page framework).
package office

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/robfig/cron/v3"

	"infobus/internal/web"
	"infobus/schema"
	infosync "infobus/sync"
)

// Defaults for Config.
const (
	DefaultAddr    = "127.0.0.1:8090"
	DefaultDataDir = "infobus-data/office"
)

// SettingPublicURL is where the office records the URL buses reach it on,
// so that `infobus office add-bus` prints enrollment strings that work.
const SettingPublicURL = "public_url"

// Config holds the office server's settings.
type Config struct {
	Addr      string // listen address
	DataDir   string // holds office.db
	PublicURL string // the URL buses and entrepreneurs reach the office on; derived from Addr when empty
	Version   string // shown on /healthz
	// MetricsToken, when set, is the bearer token /metrics asks for;
	// without it /metrics answers loopback only.
	MetricsToken string
	// Retention is how long contact details stay after a visit's last
	// follow-up closed; 0 means DefaultRetention.
	Retention time.Duration
	// TLSCert and TLSKey make the office serve HTTPS itself (guard.go).
	TLSCert, TLSKey string
	// TrustedProxies are the addresses (or ranges) of reverse proxies whose
	// X-Forwarded-* headers the office believes; none by default.
	TrustedProxies []string
	// Limits are the rate limits per client address; zero fields take the
	// defaults.
	Limits RateLimits
	// Staff sessions end after SessionIdle without a request, and
	// SessionAbsolute after logging in whatever happens.
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// ReportSchedule is when the monthly report is made (cron, office
	// time). With SMTPAddr, SMTPFrom and ReportTo (comma-separated) set,
	// it is mailed as well; SMTPUser and SMTPPassword log in if needed.
	ReportSchedule string
	SMTPAddr       string
	SMTPFrom       string
	SMTPUser       string
	SMTPPassword   string
	ReportTo       string
}

// Validate fills defaults and checks settings that depend on each other.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.Retention < 0 {
		return fmt.Errorf("--retention %s: must be more than 0", c.Retention)
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = DefaultSessionIdle
	}
	if c.SessionAbsolute <= 0 {
		c.SessionAbsolute = DefaultSessionAbsolute
	}
	if c.SessionIdle > c.SessionAbsolute {
		return fmt.Errorf("--session-idle %v: must not be longer than --session-absolute %v", c.SessionIdle, c.SessionAbsolute)
	}
	if c.ReportSchedule == "" {
		c.ReportSchedule = DefaultReportSchedule
	}
	if _, err := cron.ParseStandard(c.ReportSchedule); err != nil {
		return fmt.Errorf("--report-schedule %q: %w", c.ReportSchedule, err)
	}
	if c.SMTPAddr != "" && (c.SMTPFrom == "" || len(splitList(c.ReportTo)) == 0) {
		return fmt.Errorf("--smtp-addr %s: also set --smtp-from and --report-to, or the report has no sender or recipient", c.SMTPAddr)
	}
	if c.SMTPAddr == "" && (c.SMTPFrom != "" || c.ReportTo != "") {
		return fmt.Errorf("--smtp-from and --report-to need --smtp-addr")
	}
	if err := web.CheckAddr(c.Addr, DefaultAddr); err != nil {
		return err
	}
	if err := web.CheckPublicURL(c.PublicURL); err != nil {
		return err
	}
	return c.validateGuards()
}

// Server is the office's HTTP server.
type Server struct {
	cfg      Config
	store    *Store
	log      *slog.Logger
	app      *fiber.App
	receiver *infosync.Receiver
	metrics  *web.Metrics
	met      officeMetrics
	stopJobs context.CancelFunc
	jobsDone chan struct{}
}

// NewServer wires the office's routes onto store. cfg must have passed
// Validate.
func NewServer(cfg Config, store *Store, log *slog.Logger) *Server {
	cfg.Limits.defaults()
	s := &Server{cfg: cfg, store: store, log: log, receiver: &infosync.Receiver{Store: store}}
	store.mail.Store(cfg.SMTPAddr != "")
	s.metrics = s.newMetrics()
	fc := fiber.Config{
		AppName:               "infobus office",
		DisableStartupMessage: true,
		ReadTimeout:           2 * time.Minute, // a batch over a weak 4G link
		WriteTimeout:          time.Minute,
		IdleTimeout:           2 * time.Minute,
		ErrorHandler:          s.handleError,
	}
	cfg.fiberConfig(&fc)
	s.app = fiber.New(fc)
	s.routes()
	return s
}

// App returns the Fiber app, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops the jobs, stops taking connections and waits for
// requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.stopJobs != nil {
		s.stopJobs()
		<-s.jobsDone
	}
	return s.app.ShutdownWithContext(ctx)
}

// StartJobs starts the monthly report job and the e-mail worker;
// Shutdown stops them.
func (s *Server) StartJobs() error {
	job, err := s.NewReportJob(s.cfg.ReportSchedule)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopJobs, s.jobsDone = cancel, make(chan struct{})
	mailer := s.NewMailJob()
	done := make(chan struct{}, 2)
	go func() { job.Run(ctx); done <- struct{}{} }()
	go func() { mailer.Run(ctx); done <- struct{}{} }()
	go func() { <-done; <-done; close(s.jobsDone) }()
	return nil
}

// PublicURL is the URL the office gives buses: the configured one, or one
// made from the address it listens on.
func PublicURL(cfg Config, ln net.Addr) string {
	return web.PublicURL(cfg.PublicURL, ln)
}

func (s *Server) routes() {
	s.app.Use(s.metrics.Observe, web.LogRequests(s.log, s.handleError), stampVersion)
	s.app.Use(recover.New())
	s.app.Use(s.handleSecurityHeaders)
	s.app.Use(s.rateLimit(), s.boundBody)

	s.app.Get(infosync.HealthzPath, web.Health(s.cfg.Version, s.store.DiskFull, msgDiskFullEN, msgDiskFullNL))
	s.app.Get(web.MetricsPath, s.metrics.Handler())

	s.app.Post(infosync.PushPath, s.syncLimit(), s.handlePush)
	s.app.Get(infosync.PullPath, s.syncLimit(), s.handlePull)

	s.app.Get("/static/:name", s.handleStylesheet)

	// Everything below reads what pushes queued: it is applied first.
	s.app.Use(s.handleInbox)

	// Pages (web.go): every route below gets the person's language and
	// session, and every POST below must carry its page's form token.
	s.app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	s.app.Use(s.handlePageLocale, s.handleSession, s.handleFormCheck)

	s.app.Get("/login", s.handleLoginPage)
	s.app.Post("/login", s.limit(loginRateMax, loginRateWindow), s.handleLogin)
	s.app.Post("/logout", s.requireStaff, s.handleLogout)
	s.app.Get("/account/set-password", s.handleSetPasswordPage)
	s.app.Post("/account/set-password", s.limit(loginRateMax, loginRateWindow), s.handleSetPassword)

	s.app.Get("/", s.requireStaff, s.handleQueue)
	s.app.Get("/followups/:id", s.requireStaff, s.handleFollowUp)
	s.app.Post("/followups/:id/status", s.requireStaff, s.handleFollowUpMove)
	s.app.Post("/followups/:id/assign", s.requireStaff, s.handleFollowUpAssign)
	s.app.Get("/visits", s.requireStaff, s.handleVisits)
	s.app.Get("/visits/:id", s.requireStaff, s.handleVisit)
	s.app.Post("/visits/:id/contact", s.requireStaff, s.handleVisitContact)
	s.app.Get("/set-aside", s.requireStaff, s.handleSetAside)

	s.app.Get("/fleet", s.requireAdmin, s.handleFleet)
	s.app.Post("/fleet", s.requireAdmin, s.handleFleetEnroll)
	s.app.Post("/fleet/:id/reissue", s.requireAdmin, s.handleFleetReissue)
	s.app.Post("/fleet/:id/revoke", s.requireAdmin, s.handleFleetRevoke)
	s.app.Get("/audit", s.requireAdmin, s.handleAudit)

	s.app.Get("/f/:code", s.limit(followUpPageRateMax, followUpPageRateWindow), s.handleFollowUpPage)
	s.app.Post("/f/:code/feedback", s.limit(feedbackRateMax, feedbackRateWindow), s.handleFeedback)
	// The loop back (looppages.go): limited like feedback.
	s.app.Post("/f/:code/answer", s.limit(feedbackRateMax, feedbackRateWindow), s.handleAnswer)
	s.app.Post("/f/:code/satisfaction", s.limit(feedbackRateMax, feedbackRateWindow), s.handleSatisfaction)
	s.app.Post("/followups/:id/question", s.requireStaff, s.handleFollowUpQuestion)
	s.app.Get("/reasons", s.requireAdmin, s.handleReasons)
	s.app.Post("/reasons", s.requireAdmin, s.handleReasonSave)
	s.app.Post("/reasons/:id", s.requireAdmin, s.handleReasonSave)
	s.app.Get("/mail", s.requireAdmin, s.handleMailQueue)
	s.app.Get("/texts", s.requireAdmin, s.handleTexts)
	s.app.Post("/texts", s.requireAdmin, s.handleTextAdd)
	s.app.Post("/texts/:id/delete", s.requireAdmin, s.handleTextDelete)
	s.app.Get("/rules", s.requireAdmin, s.handleRules)
	s.app.Post("/rules", s.requireAdmin, s.handleRuleAdd)
	s.app.Post("/rules/:id/delete", s.requireAdmin, s.handleRuleDelete)
	s.app.Post("/followups/:id/route", s.requireStaff, s.handleFollowUpRoute)

	// The bus's day (planpages.go, schedule.go).
	s.app.Get("/plan", s.requireStaff, s.handlePlanPage)
	s.app.Post("/plan", s.requireStaff, s.handlePlanAdd)
	s.app.Post("/plan/:id/cancel", s.requireStaff, s.handlePlanCancel)
	s.app.Get("/bus", s.limit(scheduleRateMax, scheduleRateWindow), s.handleSchedulePage)
	s.app.Get("/bus.ics", s.limit(scheduleRateMax, scheduleRateWindow), s.handleScheduleICS)

	s.app.Get("/staff", s.requireAdmin, s.handleStaffPage)
	s.app.Post("/staff", s.requireAdmin, s.handleStaffAdd)
	s.app.Post("/staff/:id/disable", s.requireAdmin, s.handleStaffDisable)
	s.app.Post("/staff/:id/reset", s.requireAdmin, s.handleStaffReset)

	s.app.Get("/insight", s.requireStaff, s.handleInsight)
	s.app.Get("/reports", s.requireStaff, s.handleReports)
	s.app.Post("/reports", s.requireStaff, s.handleReportMake)
	s.app.Get("/reports/:month", s.requireStaff, s.handleReport)
	s.app.Get("/export/visits.csv", s.requireStaff, s.handleExportVisits)
	s.app.Get("/export/followups.csv", s.requireStaff, s.handleExportFollowUps)
	s.app.Get("/export/panel.csv", s.requireAdmin, s.handleExportPanel)

	s.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

func (s *Server) handlePush(c *fiber.Ctx) error {
	resp, err := s.receiver.Push(c.UserContext(), infosync.PushInput{
		Authorization:   c.Get(fiber.HeaderAuthorization),
		Version:         c.Get(infosync.VersionHeader),
		Seen:            busSeen(c),
		AfterSeq:        c.Get(infosync.AfterSeqHeader),
		ContentEncoding: c.Get(fiber.HeaderContentEncoding),
		// The raw body: Fiber's c.Body() would inflate gzip without a bound.
		Body: c.Request().Body(),
	})
	if err != nil {
		return err
	}
	s.met.landed.Add(float64(resp.Landed))
	s.met.setAside.Add(float64(len(resp.SetAside)))
	if len(resp.SetAside) > 0 {
		s.log.Info("sync records set aside", "set_aside", len(resp.SetAside), "landed", resp.Landed)
	}
	return c.JSON(resp)
}

func (s *Server) handlePull(c *fiber.Ctx) error {
	resp, err := s.receiver.Pull(c.UserContext(), infosync.PullInput{
		Authorization: c.Get(fiber.HeaderAuthorization),
		Version:       c.Get(infosync.VersionHeader),
		Seen:          busSeen(c),
		Since:         c.Query("since"),
		PlanHash:      c.Query("plan"),
	})
	if err != nil {
		return err
	}
	// A pull ends every sync: the fleet page's "last sync".
	if token, err := infosync.BearerToken(c.Get(fiber.HeaderAuthorization)); err == nil {
		if err := s.store.NoteSync(c.UserContext(), token); err != nil {
			return err
		}
	}
	return c.JSON(resp)
}

// handleInbox applies what pushes left in the inbox (inbox.go) before a
// page reads visits, follow-ups or codes.
func (s *Server) handleInbox(c *fiber.Ctx) error {
	s.store.settle(c.UserContext())
	return c.Next()
}

// busSeen reads what a sync request says about its bus. The values outlive
// the handler (they are stored), so they are copied.
func busSeen(c *fiber.Ctx) infosync.BusSeen {
	clip := func(v string) string { return strings.Clone(v[:min(len(v), 100)]) }
	return infosync.BusSeen{Epoch: clip(c.Get(infosync.EpochHeader)), Build: clip(c.Get(infosync.BuildHeader))}
}

// stampVersion stamps every answer with the protocol version, the error
// handler's too: it runs inside LogRequests, which answers errors after it.
func stampVersion(c *fiber.Ctx) error {
	err := c.Next()
	c.Set(infosync.VersionHeader, strconv.Itoa(infosync.Version))
	return err
}

// handleError is the one place that turns errors into status codes: the
// sync protocol's refusals through infosync.ErrorResponse, the office's own
// here, and everything else as an internal error that only the log
// explains.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	// Also reached for a body over the limit, before any middleware ran.
	c.Set(infosync.VersionHeader, strconv.Itoa(infosync.Version))
	s.setSecurityHeaders(c)
	if isPage(c) {
		return s.handlePageError(c, err)
	}
	if status, body, ok := infosync.ErrorResponse(err); ok {
		return c.Status(status).JSON(body)
	}
	if ok, err := s.guardError(c, err); ok {
		return err
	}
	var (
		ve *schema.ValidationError
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &ve):
		return c.Status(fiber.StatusBadRequest).JSON(infosync.ValidationBody(ve))
	case errors.Is(err, ErrNotFound):
		return c.Status(fiber.StatusNotFound).JSON(infosync.ErrorBody{Error: "not_found", Message: "no such record", MessageNL: "dit record bestaat niet"})
	case errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge:
		return c.Status(fe.Code).JSON(infosync.ErrorBody{Error: "too_large",
			Message:   fmt.Sprintf("the request body is larger than %d bytes; send at most %d records per batch", infosync.MaxPushCompressed, infosync.MaxPushRecords),
			MessageNL: fmt.Sprintf("het verzoek is groter dan %d bytes; stuur hoogstens %d records per keer", infosync.MaxPushCompressed, infosync.MaxPushRecords)})
	case errors.As(err, &fe) && fe.Code == fiber.StatusNotFound:
		return c.Status(fe.Code).JSON(infosync.ErrorBody{Error: "not_found", Message: "no such route", MessageNL: "dit adres bestaat niet"})
	case errors.As(err, &fe) && fe.Code == fiber.StatusMethodNotAllowed:
		return c.Status(fe.Code).JSON(infosync.ErrorBody{Error: "method_not_allowed", Message: "this route does not take that method", MessageNL: "dit adres kent deze methode niet"})
	case errors.As(err, &fe):
		return c.Status(fe.Code).JSON(infosync.ErrorBody{Error: "error", Message: fe.Message, MessageNL: "het kantoor weigerde dit verzoek (" + fe.Message + ")"})
	}
	s.log.Error("internal error", "method", c.Method(), "path", c.Path(), "err", err)
	return c.Status(fiber.StatusInternalServerError).JSON(infosync.ErrorBody{Error: "internal", Message: "internal error", MessageNL: "interne fout"})
}

// RecordPublicURL stores the URL the office is reached on.
func (s *Server) RecordPublicURL(ctx context.Context, u string) error {
	return s.store.PutSetting(ctx, SettingPublicURL, u)
}
