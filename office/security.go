package office

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// ContentSecurityPolicy allows the office's own scripts, styles and
// images, and nothing inline: an injected tag does nothing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// MaxFormBody bounds a form post. The largest form, the entrepreneur's
// feedback, holds 2,000 characters; the rest is room for encoding.
const MaxFormBody = 64 << 10

// FormTokenField is the hidden field that carries the form token.
const FormTokenField = "_form"

var (
	// errFormToken refuses a post without this site's form token, or
	// one sent by another site.
	errFormToken = errors.New("missing or wrong form token")
	// errForbidden refuses a page the person's role does not allow.
	errForbidden = errors.New("forbidden")
)

// https reports whether the person reached the office over TLS: on this
// connection, or at the proxy in front when the public URL is https.
func (s *Server) https(c *fiber.Ctx) bool {
	return c.Context().IsTLS() || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

// handleSecurityHeaders sets the headers every office answer carries,
// pages and JSON alike.
func (s *Server) handleSecurityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

func (s *Server) setSecurityHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	if s.https(c) {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
}

// formToken is the token the request's forms carry: the session's when
// someone is logged in, else a random one in a cookie (double submit) for
// the public forms and the login form.
func (s *Server) formToken(c *fiber.Ctx) string {
	if se, ok := c.Locals(localSession).(*Session); ok {
		return se.FormToken
	}
	if t := c.Cookies(cookieForm); len(t) == 43 { // 32 bytes, base64
		return t
	}
	if t, ok := c.Locals(cookieForm).(string); ok {
		return t // made earlier in this request
	}
	t := newToken()
	c.Locals(cookieForm, t)
	c.Cookie(&fiber.Cookie{Name: cookieForm, Value: t, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.https(c)})
	return t
}

// handleFormCheck guards every page request that changes something: the
// body is bounded, the browser must not say it comes from another site,
// and the form must carry the token its page was rendered with. Every POST
// route registered after it is protected without further ado.
func (s *Server) handleFormCheck(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if len(c.Request().Body()) > MaxFormBody {
		return fiber.ErrRequestEntityTooLarge
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errFormToken
	}
	// With Referrer-Policy no-referrer a browser sends "Origin: null" even
	// for its own site's forms; Sec-Fetch-Site and the token decide then.
	if o := c.Get(fiber.HeaderOrigin); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != string(c.Request().Host()) {
			return errFormToken
		}
	}
	want := ""
	if se, ok := c.Locals(localSession).(*Session); ok {
		want = se.FormToken
	} else {
		want = c.Cookies(cookieForm)
	}
	got := c.FormValue(FormTokenField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		if expired, _ := c.Locals(localExpired).(bool); expired {
			// The token was the session's, which has just ended: the
			// person needs the login page, not a refusal.
			return s.requireStaff(c)
		}
		return errFormToken
	}
	return c.Next()
}

// limit allows max requests per window from one client address on the
// routes it guards, and answers more with a 429 page and Retry-After.
func (s *Server) limit(max int, window time.Duration) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        max,
		Expiration: window,
		KeyGenerator: func(c *fiber.Ctx) string {
			return c.IP()
		},
		LimitReached: func(c *fiber.Ctx) error {
			return fiber.ErrTooManyRequests
		},
	})
}

// safeNext keeps a return address on this site: a path, never a URL to
// elsewhere, a scheme, or a protocol-relative "//host".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
