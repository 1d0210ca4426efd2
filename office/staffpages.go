package office

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// SetPasswordURL is the one-time link add-staff and the staff page hand
// out: the office's public URL with the token.
func SetPasswordURL(base, token string) string {
	return strings.TrimSuffix(base, "/") + "/account/set-password?" + url.Values{"token": {token}}.Encode()
}

// publicBase is the URL people reach the office on: the configured one,
// the one the running office recorded, or the request's own.
func (s *Server) publicBase(ctx context.Context, c *fiber.Ctx) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	if u, err := s.store.Setting(ctx, SettingPublicURL); err == nil {
		return u
	}
	return c.BaseURL()
}

type staffData struct {
	Staff []Staff
	Me    int64
	// Link is a one-time link just made, for LinkFor.
	Link, LinkFor string
}

func (s *Server) staffPage(c *fiber.Ctx) (*Page, *staffData, error) {
	all, err := s.store.AllStaff(c.UserContext())
	if err != nil {
		return nil, nil, err
	}
	p := s.newPage(c)
	d := &staffData{Staff: all, Me: session(c).Staff.ID}
	p.Data = d
	return p, d, nil
}

func (s *Server) handleStaffPage(c *fiber.Ctx) error {
	p, _, err := s.staffPage(c)
	if err != nil {
		return err
	}
	switch c.Query("done") {
	case "disabled":
		p.Notice = "staff.disabled"
	}
	return s.render(c, fiber.StatusOK, "staff", p)
}

func (s *Server) handleStaffAdd(c *fiber.Ctx) error {
	email, role := copyForm(c, "email"), copyForm(c, "role")
	actor := session(c).Staff.Email
	st, token, err := s.store.AddStaff(c.UserContext(), actor, email, role)
	var ve *schema.ValidationError
	if err != nil && !errors.As(err, &ve) && !errors.Is(err, ErrConflict) {
		return err
	}
	p, d, perr := s.staffPage(c)
	if perr != nil {
		return perr
	}
	if err != nil {
		p.Values["email"], p.Values["role"] = email, role
		if errors.Is(err, ErrConflict) {
			p.Errors["email"] = p.T("staff.add.taken")
		}
		if ve != nil {
			if _, ok := ve.Fields["email"]; ok {
				p.Errors["email"] = p.T("staff.add.bademail")
			}
			if _, ok := ve.Fields["role"]; ok {
				p.Errors["role"] = p.T("staff.add.badrole")
			}
		}
		return s.render(c, fiber.StatusUnprocessableEntity, "staff", p)
	}
	d.Link, d.LinkFor = SetPasswordURL(s.publicBase(c.UserContext(), c), token), st.Email
	return s.render(c, fiber.StatusCreated, "staff", p)
}

func (s *Server) staffID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return 0, ErrNotFound
	}
	return id, nil
}

func (s *Server) handleStaffDisable(c *fiber.Ctx) error {
	id, err := s.staffID(c)
	if err != nil {
		return err
	}
	me := session(c).Staff
	if id == me.ID {
		// An admin who disables themselves may leave nobody to undo it.
		return s.renderMessage(c, fiber.StatusConflict, "staff.self.title", "staff.self.text")
	}
	if _, err := s.store.DisableStaff(c.UserContext(), me.Email, id); err != nil {
		return err
	}
	return c.Redirect("/staff?done=disabled", fiber.StatusSeeOther)
}

func (s *Server) handleStaffReset(c *fiber.Ctx) error {
	id, err := s.staffID(c)
	if err != nil {
		return err
	}
	st, token, err := s.store.ResetStaff(c.UserContext(), session(c).Staff.Email, id)
	if errors.Is(err, ErrDisabled) {
		return s.renderMessage(c, fiber.StatusConflict, "staff.resetdisabled.title", "staff.resetdisabled.text")
	}
	if err != nil {
		return err
	}
	p, d, err := s.staffPage(c)
	if err != nil {
		return err
	}
	d.Link, d.LinkFor = SetPasswordURL(s.publicBase(c.UserContext(), c), token), st.Email
	return s.render(c, fiber.StatusOK, "staff", p)
}
