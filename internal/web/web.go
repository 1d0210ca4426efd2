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
