// Package web holds what the bus's and the office's HTTP servers share, so
// that the two answer and log alike: request logging and the checks of the
// settings both take.
package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// LogRequests returns middleware that logs each request at a level
// matching its outcome; successful ones only at debug, so that a busy
// server does not spend its time logging. An error from further down goes
// through handleError first, so that the status logged is the one sent.
func LogRequests(log *slog.Logger, handleError fiber.ErrorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := handleError(c, err); herr != nil {
				return herr
			}
		}
		status := c.Response().StatusCode()
		level := slog.LevelDebug
		if status >= 400 {
			level = slog.LevelInfo
		}
		ctx := c.UserContext()
		if log.Enabled(ctx, level) {
			log.Log(ctx, level, "request", "method", c.Method(), "path", c.Path(), "status", status, "duration", time.Since(start))
		}
		return nil
	}
}

// CheckAddr checks a --addr setting; example is a good one to show.
func CheckAddr(addr, example string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("--addr %q: must be host:port, like %s", addr, example)
	}
	return nil
}

// CheckPublicURL checks a --public-url setting; empty means derived and
// passes.
func CheckPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url %q: must be an http or https URL", raw)
	}
	return nil
}

// PublicURL is the URL a server gives its clients: the configured one, or
// a plain-HTTP one made from the address it listens on.
func PublicURL(configured string, ln net.Addr) string {
	if configured != "" {
		return configured
	}
	return "http://" + ln.String()
}

// RateLimit allows max requests per window from one client address (as
// c.IP() reports it: behind a proxy only when the server trusts it) and
// refuses more with fiber.ErrTooManyRequests, after Fiber's limiter has
// set Retry-After. Each call keeps its own counts. Requests for which
// skip (when not nil) returns true are not counted.
func RateLimit(max int, window time.Duration, skip func(*fiber.Ctx) bool) fiber.Handler {
	return limiter.New(limiter.Config{
		Next:         skip,
		Max:          max,
		Expiration:   window,
		KeyGenerator: func(c *fiber.Ctx) string { return c.IP() },
		LimitReached: func(c *fiber.Ctx) error { return fiber.ErrTooManyRequests },
	})
}

// FromLoopback reports whether a request comes from the machine itself.
func FromLoopback(c *fiber.Ctx) bool {
	ip := net.ParseIP(c.IP())
	return ip != nil && ip.IsLoopback()
}

// Health answers /healthz: 200 {"status":"ok"} while the server can
// write, and 507 {"status":"disk_full"} with the server's message while
// its last write failed for a full disk (full reports that).
func Health(version string, full func() bool, msgEN, msgNL string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if full() {
			return c.Status(fiber.StatusInsufficientStorage).JSON(fiber.Map{"status": "disk_full", "version": version,
				"message": msgEN, "message_nl": msgNL})
		}
		return c.JSON(fiber.Map{"status": "ok", "version": version})
	}
}
