// Package bus is the van's server: the crew API the tablets talk to, device
// pairing, and the local store that keeps every record until the office has
// acknowledged it.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"infobus/internal/web"
	"infobus/pwa"
)

// Defaults for Config.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultDataDir   = "infobus-data/bus"
	DefaultBodyLimit = 128 << 10 // the largest valid visit is about 64 KiB
	// connBodyLimit is where the connection itself gives up on a body.
	// fasthttp answers a body past its limit and closes the connection
	// while the client is still sending, which a browser reports as a
	// network error, not a 413, and a tablet would retry for ever. So the
	// connection reads well past BodyLimit and the handler refuses cleanly.
	connBodyLimit = 4 << 20
)

// Setting keys the server keeps in its database.
const settingPublicURL = "public_url"

// Config holds the bus server's settings.
type Config struct {
	Addr      string // listen address
	DataDir   string // holds bus.db
	PublicURL string // the URL tablets reach the bus on; derived from Addr when empty
	BodyLimit int    // bytes
	Version   string // shown on /healthz
	// MetricsToken, when set, is the bearer token /metrics asks for;
	// without it /metrics answers loopback only.
	MetricsToken string
	// CardContact is the contact line on printed cards; empty means
	// DefaultCardContact.
	CardContact string
	// TLSCert and TLSKey are a certificate chain and key (PEM files) to serve
	// instead of the local CA's; both or neither.
	TLSCert, TLSKey string
	// TLS is the HTTPS material once the caller has opened it (OpenTLS); /setup
	// shows its CA. Nil while the server speaks plain HTTP.
	TLS *TLS
	// KeepPersonal is how long contact details stay on the bus after the
	// office acknowledged a visit; 0 means DefaultKeepPersonal, and
	// ForgetAtOnce removes them at the first run after the acknowledgement.
	KeepPersonal time.Duration
	// Limits are the rate limits per client address; zero fields take
	// the defaults.
	Limits RateLimits
}

// ForgetAtOnce is the KeepPersonal of `--keep-personal 0s`.
const ForgetAtOnce = time.Nanosecond

// Validate fills defaults and checks settings that depend on each other.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	c.Limits.defaults()
	if c.KeepPersonal == 0 {
		c.KeepPersonal = DefaultKeepPersonal
	}
	if c.KeepPersonal < 0 {
		return fmt.Errorf("--keep-personal %s: must be 0s or more", c.KeepPersonal)
	}
	if err := web.CheckAddr(c.Addr, DefaultAddr); err != nil {
		return err
	}
	if err := web.CheckPublicURL(c.PublicURL); err != nil {
		return err
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if c.BodyLimit < 1<<10 {
		return fmt.Errorf("body limit %d: must be at least 1024 bytes", c.BodyLimit)
	}
	return nil
}

// ServesTLS reports whether the server speaks HTTPS: always off loopback,
// because tablets need a secure context; on loopback (development, the demo)
// only when a certificate is provided.
func (c *Config) ServesTLS() bool {
	return c.TLSCert != "" || !isLoopbackAddr(c.Addr)
}

// validateTLS checks the TLS settings; Validate calls it.
func (c *Config) validateTLS() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.PublicURL != "" && c.ServesTLS() && !strings.HasPrefix(strings.ToLower(c.PublicURL), "https://") {
		return fmt.Errorf("--public-url %q: must be an https URL, because the bus serves HTTPS on %s", c.PublicURL, c.Addr)
	}
	return nil
}

// isLoopbackAddr reports whether a host:port listens on loopback only. An
// empty host listens everywhere, so it is not loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is the bus's HTTP server.
type Server struct {
	cfg     Config
	store   *Store
	log     *slog.Logger
	app     *fiber.App
	devices deviceCache
	syncer  *Syncer // nil until SetSyncer
	metrics *web.Metrics
	met     busMetrics
	// appFiles is the tablet app, ready to serve.
	appFiles map[string]*appFile

	// qrImages keeps drawn QR codes: a tablet fetching its pool or a sheet
	// of cards asks for the same images again.
	qrImages qrCache
	// cardLinks are the one-time links to sheets of cards (cardlinks.go).
	cardLinks cardLinks
}

// theApp loads the embedded tablet app once per process.
var theApp = sync.OnceValues(func() (map[string]*appFile, error) {
	return loadApp(pwa.FS, pwa.Version())
})

// NewServer wires the crew API onto store. cfg must have passed Validate.
func NewServer(cfg Config, store *Store, log *slog.Logger) *Server {
	files, err := theApp()
	if err != nil {
		// The app is compiled in; a test of this package catches a broken one.
		panic("bus: embedded app: " + err.Error())
	}
	s := &Server{cfg: cfg, store: store, log: log, appFiles: files}
	s.devices.store = store
	s.metrics = s.newMetrics()
	s.app = fiber.New(fiber.Config{
		AppName:               "infobus bus",
		DisableStartupMessage: true,
		BodyLimit:             max(cfg.BodyLimit, connBodyLimit),
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		ErrorHandler:          s.handleError,
	})
	s.routes()
	return s
}

// App returns the Fiber app, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(ln)
}

// Shutdown stops taking connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}

// PublicURL is the URL the server tells tablets to use: the configured one,
// or one made from the address it listens on.
func PublicURL(cfg Config, ln net.Addr) string {
	return web.PublicURL(cfg.PublicURL, ln)
}

// RecordPublicURL stores the URL the server is reached on, so that
// `infobus bus pair` can print links that work while the server runs.
func (s *Server) RecordPublicURL(ctx context.Context, u string) error {
	return s.store.PutSetting(ctx, settingPublicURL, u)
}

const localDevice = "device"

func (s *Server) routes() {
	s.app.Use(s.metrics.Observe, web.LogRequests(s.log, s.handleError))
	s.app.Use(recover.New())
	s.app.Use(securityHeaders)
	// The laptop itself (the demo, the operator's tools) is not limited:
	// whoever is on it holds the database anyway.
	s.app.Use(web.RateLimit(s.cfg.Limits.Requests, s.cfg.Limits.Window, web.FromLoopback))

	s.app.Get("/healthz", web.Health(s.cfg.Version, s.store.DiskFull, msgDiskFullEN, msgDiskFullNL))
	s.app.Get(web.MetricsPath, s.metrics.Handler())

	api := s.app.Group("/api", s.limitBody, s.stampEpoch)
	api.Get("/reference", s.handleReference)
	api.Post("/pair", web.RateLimit(s.cfg.Limits.Pair, s.cfg.Limits.Window, web.FromLoopback), s.handlePair)
	api.Put("/visits/:id", s.requireDevice, s.countWritten, s.handleVisitPut)
	api.Get("/visits/:id", s.requireDevice, s.handleVisitGet)
	api.Get("/visits", s.requireDevice, s.handleVisitList)
	api.Get("/sync/status", s.requireDevice, s.handleSyncStatus)
	api.Post("/sync", s.requireDevice, s.handleSyncNow)
	api.Get("/codes", s.requireDevice, s.handleCodes)
	api.Get("/cards", s.requireDevice, s.handleCards)
	api.Post("/cards/link", s.requireDevice, s.handleCardLink)
	s.stopRoutes(api)

	s.app.Get("/qr/:file", s.handleQR)
	s.app.Get("/cards/:ticket", s.handleCardSheet)

	s.app.Route("/setup", s.setupRoutes)
	s.app.Get("/*", s.handleApp)

	s.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

// limitBody refuses a request body over the configured limit, after the
// connection has read it, so the client gets its 413.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if len(c.Body()) > s.cfg.BodyLimit {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// securityHeaders are on every answer of the bus, refusals included: no
// content sniffing, no framing, no referrer to elsewhere, and HSTS once the
// tablet reached the bus over HTTPS (the bus never serves a LAN address
// over plain HTTP).
func securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

func setSecurityHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	if c.Context().IsTLS() {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
}
