package office

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Login rate: per client address, on top of the per-account lock-out, so
// that guessing across many accounts is slow as well.
const (
	loginRateMax    = 20
	loginRateWindow = time.Minute
)

// handleSession finds the person's session from its cookie. An expired
// one is remembered so that the login page can say why it appears.
func (s *Server) handleSession(c *fiber.Ctx) error {
	token := c.Cookies(cookieSession)
	if token == "" {
		return c.Next()
	}
	se, err := s.store.FindSession(c.UserContext(), token, s.cfg.SessionIdle, s.cfg.SessionAbsolute)
	switch {
	case err == nil:
		c.Locals(localSession, &se)
	case errors.Is(err, ErrSessionExpired):
		c.Locals(localExpired, true)
		s.clearCookie(c, cookieSession)
	case errors.Is(err, ErrNotFound):
		s.clearCookie(c, cookieSession)
	default:
		return err
	}
	return c.Next()
}

// session returns the logged-in person's session, or nil.
func session(c *fiber.Ctx) *Session {
	se, _ := c.Locals(localSession).(*Session)
	return se
}

// requireStaff lets logged-in staff (and admins) through; anyone else goes
// to the login page, which sends them back here afterwards.
func (s *Server) requireStaff(c *fiber.Ctx) error {
	if session(c) != nil {
		return c.Next()
	}
	next := c.OriginalURL()
	if c.Method() != fiber.MethodGet {
		next = "/" // a form post is not repeated after logging in
	}
	q := url.Values{"next": {safeNext(next)}}
	if expired, _ := c.Locals(localExpired).(bool); expired {
		q.Set("expired", "1")
	}
	return c.Redirect("/login?"+q.Encode(), fiber.StatusSeeOther)
}

// requireAdmin is requireStaff for admins only; staff get a 403 page.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	se := session(c)
	if se == nil {
		return s.requireStaff(c)
	}
	if !se.Staff.IsAdmin() {
		return errForbidden
	}
	return c.Next()
}

func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.https(c)})
}

type loginData struct {
	Next string
}

func (s *Server) handleLoginPage(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if session(c) != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	p := s.newPage(c)
	p.Data = loginData{Next: next}
	switch {
	case c.Query("expired") != "":
		p.Notice = "login.expired"
	case c.Query("out") != "":
		p.Notice = "login.loggedout"
	case c.Query("set") != "":
		p.Notice = "login.passwordset"
	}
	return s.render(c, fiber.StatusOK, "login", p)
}

func (s *Server) handleLogin(c *fiber.Ctx) error {
	email, next, pw := copyForm(c, "email"), safeNext(c.FormValue("next")), c.FormValue("password")
	if strings.TrimSpace(email) == "" || pw == "" {
		p := s.newPage(c)
		p.Data = loginData{Next: next}
		p.Values["email"] = email
		if strings.TrimSpace(email) == "" {
			p.Errors["email"] = p.T("login.noemail")
		}
		if pw == "" {
			p.Errors["password"] = p.T("login.nopassword")
		}
		return s.render(c, fiber.StatusUnprocessableEntity, "login", p)
	}
	st, err := s.store.CheckLogin(c.UserContext(), email, pw)
	var locked *LockedError
	if err != nil {
		p := s.newPage(c)
		p.Data = loginData{Next: next}
		p.Values["email"] = email
		status := fiber.StatusUnauthorized
		switch {
		case errors.Is(err, ErrBadLogin):
			p.Errors["password"] = p.T("login.bad")
		case errors.Is(err, ErrDisabled):
			p.Errors["email"] = p.T("login.disabled")
			status = fiber.StatusForbidden
		case errors.As(err, &locked):
			p.Errors["password"] = p.T("login.locked", "time", p.Time(locked.Until))
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(time.Until(locked.Until).Seconds())+1))
			status = fiber.StatusTooManyRequests
		default:
			return err
		}
		return s.render(c, status, "login", p)
	}
	token, err := s.store.CreateSession(c.UserContext(), st)
	if err != nil {
		return err
	}
	if err := s.store.PruneSessions(c.UserContext(), s.cfg.SessionIdle, s.cfg.SessionAbsolute); err != nil {
		s.log.Warn("prune sessions", "err", err)
	}
	c.Cookie(&fiber.Cookie{Name: cookieSession, Value: token, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.https(c)})
	// The anonymous form token has done its job; the session has its own.
	s.clearCookie(c, cookieForm)
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) handleLogout(c *fiber.Ctx) error {
	if err := s.store.EndSession(c.UserContext(), *session(c)); err != nil {
		return err
	}
	s.clearCookie(c, cookieSession)
	return c.Redirect("/login?out=1", fiber.StatusSeeOther)
}

type setPasswordData struct {
	Token string
	Email string
}

func (s *Server) handleSetPasswordPage(c *fiber.Ctx) error {
	token := c.Query("token")
	st, err := s.store.LinkStaff(c.UserContext(), token)
	if errors.Is(err, ErrLinkInvalid) {
		return s.renderMessage(c, fiber.StatusNotFound, "setpw.invalid.title", "setpw.invalid.text")
	}
	if err != nil {
		return err
	}
	p := s.newPage(c)
	p.Data = setPasswordData{Token: token, Email: st.Email}
	return s.render(c, fiber.StatusOK, "set_password", p)
}

func (s *Server) handleSetPassword(c *fiber.Ctx) error {
	token := copyForm(c, "token")
	pw, repeat := c.FormValue("password"), c.FormValue("repeat")
	st, err := s.store.LinkStaff(c.UserContext(), token)
	if errors.Is(err, ErrLinkInvalid) {
		return s.renderMessage(c, fiber.StatusNotFound, "setpw.invalid.title", "setpw.invalid.text")
	}
	if err != nil {
		return err
	}
	if key := passwordProblem(pw, repeat); key != "" {
		p := s.newPage(c)
		p.Data = setPasswordData{Token: token, Email: st.Email}
		p.Errors["password"] = p.T(key, "n", MinPasswordRunes, "max", MaxPasswordBytes)
		return s.render(c, fiber.StatusUnprocessableEntity, "set_password", p)
	}
	_, err = s.store.SetPassword(c.UserContext(), token, pw, repeat)
	if errors.Is(err, ErrLinkInvalid) { // used or expired in between
		return s.renderMessage(c, fiber.StatusNotFound, "setpw.invalid.title", "setpw.invalid.text")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/login?set=1", fiber.StatusSeeOther)
}

func (s *Server) handleHome(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "home", s.newPage(c))
}
