package office

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/internal/sqlite"
	"infobus/internal/web"
	infosync "infobus/sync"
)

// The office faces the internet. What guards its doors: rate limits per
// client address, a body read only once the request may send one, and
// refusals that say nothing of the office's insides.

// Default rate limits per client address and window. A bus catching up
// on a long backlog pushes a batch of up to 1,000 visits per request, so
// the push limit is far above a bus's need and only stops a flood.
const (
	DefaultLimitWindow   = time.Minute
	DefaultLimitRequests = 6000
	DefaultLimitSync     = 1200
)

// unauthenticatedBody is how much of a body the office reads before it
// knows who sends it: the largest form (MaxFormBody). A push larger than
// this waits, unread, until its bus token checks out.
const unauthenticatedBody = MaxFormBody

// RateLimits are requests allowed per Window from one client address.
type RateLimits struct {
	Window   time.Duration
	Requests int // on every route
	Sync     int // on the sync routes, besides Requests
}

func (l *RateLimits) defaults() {
	if l.Window == 0 {
		l.Window = DefaultLimitWindow
	}
	if l.Requests == 0 {
		l.Requests = DefaultLimitRequests
	}
	if l.Sync == 0 {
		l.Sync = DefaultLimitSync
	}
}

// fiberConfig is what the guards need from Fiber: request bodies streamed
// past unauthenticatedBody, so that nothing larger is read before
// boundBody lets it, and X-Forwarded-* believed only from the configured
// proxies (none by default; Fiber would otherwise believe anyone's).
func (c *Config) fiberConfig(fc *fiber.Config) {
	fc.StreamRequestBody = true
	fc.BodyLimit = unauthenticatedBody
	fc.EnableTrustedProxyCheck = true
	fc.TrustedProxies = c.TrustedProxies
	if len(c.TrustedProxies) > 0 {
		fc.ProxyHeader = fiber.HeaderXForwardedFor
	}
}

// boundBody reads a body that may be larger than unauthenticatedBody
// (announced so, or chunked: Fiber left it streaming): on the push route
// only once the bus token checks out, and at most
// infosync.MaxPushCompressed; elsewhere at most unauthenticatedBody. A
// refused request's connection is closed, so that its unread rest is
// never taken for a next request.
func (s *Server) boundBody(c *fiber.Ctx) error {
	req := c.Request()
	n := req.Header.ContentLength() // -1: chunked; -2: none
	if n == -2 || (n >= 0 && n <= unauthenticatedBody) {
		return c.Next() // read whole already, and small
	}
	limit := unauthenticatedBody
	if c.Path() == infosync.PushPath && c.Method() == fiber.MethodPost {
		if err := s.authenticateBus(c); err != nil {
			c.Context().SetConnectionClose()
			return err
		}
		limit = infosync.MaxPushCompressed
	}
	if n > limit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	var buf bytes.Buffer
	if stream := req.BodyStream(); stream != nil {
		if _, err := buf.ReadFrom(io.LimitReader(stream, int64(limit)+1)); err != nil {
			c.Context().SetConnectionClose()
			return fmt.Errorf("read body: %w", err)
		}
	} else {
		buf.Write(req.Body())
	}
	if buf.Len() > limit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	req.SetBodyRaw(buf.Bytes())
	return c.Next()
}

// authenticateBus checks a push's protocol version and bus token from its
// headers alone.
func (s *Server) authenticateBus(c *fiber.Ctx) error {
	if err := infosync.CheckVersion(c.Get(infosync.VersionHeader)); err != nil {
		return err
	}
	token, err := infosync.BearerToken(c.Get(fiber.HeaderAuthorization))
	if err != nil {
		return err
	}
	_, err = s.store.BusByToken(c.UserContext(), token)
	return err
}

// Disk-full messages: the bus keeps its visits and tries again.
const (
	msgDiskFullEN = "the office's disk is full: nothing was stored; the bus keeps its visits and tries again later"
	msgDiskFullNL = "de schijf van het kantoor is vol: er is niets opgeslagen; de bus bewaart de bezoeken en probeert het later opnieuw"
)

// guardError answers the guards' own refusals; ok is false for other
// errors.
func (s *Server) guardError(c *fiber.Ctx, err error) (bool, error) {
	var fe *fiber.Error
	switch {
	case sqlite.IsFull(err):
		s.log.Error("disk full", "method", c.Method(), "path", c.Path(), "err", err)
		return true, c.Status(fiber.StatusInsufficientStorage).JSON(infosync.ErrorBody{Error: "disk_full", Message: msgDiskFullEN, MessageNL: msgDiskFullNL})
	case errors.As(err, &fe) && fe.Code == fiber.StatusTooManyRequests:
		return true, c.Status(fe.Code).JSON(infosync.ErrorBody{Error: "too_many_requests",
			Message:   "too many requests from this address; wait a moment and try again",
			MessageNL: "te veel verzoeken van dit adres; wacht even en probeer het opnieuw"})
	}
	return false, nil
}

// rateLimit is the general limit on every route.
func (s *Server) rateLimit() fiber.Handler {
	return web.RateLimit(s.cfg.Limits.Requests, s.cfg.Limits.Window, nil)
}

// syncLimit is the limit on the sync routes.
func (s *Server) syncLimit() fiber.Handler {
	return web.RateLimit(s.cfg.Limits.Sync, s.cfg.Limits.Window, nil)
}

// ServerTLS returns the TLS configuration for --tls-cert and --tls-key, or
// nil when the office serves plain HTTP (on loopback, or behind a proxy
// that speaks HTTPS for it).
func (c *Config) ServerTLS() (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s and --tls-key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// validateGuards checks the settings of this file.
func (c *Config) validateGuards() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("--trusted-proxy %q: must be an IP address or a range like 10.0.0.0/8", p)
			}
		}
	}
	if c.TLSCert != "" && c.PublicURL != "" && !strings.HasPrefix(strings.ToLower(c.PublicURL), "https://") {
		return fmt.Errorf("--public-url %q: must be an https URL, because the office serves HTTPS", c.PublicURL)
	}
	c.Limits.defaults()
	return nil
}
