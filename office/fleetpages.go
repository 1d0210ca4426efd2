package office

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	qrcode "github.com/skip2/go-qrcode"

	"infobus/schema"
	infosync "infobus/sync"
)

// The fleet (admins) and what the office set aside from it (all staff).

type fleetData struct {
	Buses []Bus
	// Enrollment is a string just made, shown once, with its QR.
	Enrollment, For string
	// Problem says why no enrollment string could be made.
	Problem string
	QR      template.URL
}

func (s *Server) fleetPage(c *fiber.Ctx) (*Page, *fleetData, error) {
	buses, err := s.store.Fleet(c.UserContext())
	if err != nil {
		return nil, nil, err
	}
	p := s.newPage(c)
	d := &fleetData{Buses: buses}
	p.Data = d
	return p, d, nil
}

func (s *Server) handleFleet(c *fiber.Ctx) error {
	p, _, err := s.fleetPage(c)
	if err != nil {
		return err
	}
	if c.Query("done") == "revoked" {
		p.Notice = "fleet.revoked"
	}
	return s.render(c, fiber.StatusOK, "fleet", p)
}

// showEnrollment renders the fleet page with an enrollment string and its
// QR: the only time the office shows the bus's token.
func (s *Server) showEnrollment(c *fiber.Ctx, status int, e infosync.Enrollment, name string) error {
	p, d, err := s.fleetPage(c)
	if err != nil {
		return err
	}
	d.Enrollment, d.For = e.String(), name
	png, err := qrcode.Encode(d.Enrollment, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	return s.render(c, status, "fleet", p)
}

func (s *Server) handleFleetEnroll(c *fiber.Ctx) error {
	ctx := c.UserContext()
	name := copyForm(c, "name")
	base := s.publicBase(ctx, c)
	e, err := s.store.EnrollBus(ctx, session(c).Staff.Email, name, base)
	if errors.Is(err, infosync.ErrPlainHTTP) {
		return s.refusePlainHTTP(c, base, name)
	}
	var ve *schema.ValidationError
	if errors.As(err, &ve) || errors.Is(err, ErrConflict) {
		p, _, perr := s.fleetPage(c)
		if perr != nil {
			return perr
		}
		p.Values["name"] = name
		p.Errors["name"] = p.T("fleet.badname")
		if errors.Is(err, ErrConflict) {
			p.Errors["name"] = p.T("fleet.taken")
		}
		return s.render(c, fiber.StatusUnprocessableEntity, "fleet", p)
	}
	if err != nil {
		return err
	}
	return s.showEnrollment(c, fiber.StatusCreated, e, name)
}

func (s *Server) handleFleetReissue(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := utils.CopyString(c.Params("id"))
	base := s.publicBase(ctx, c)
	e, err := s.store.ReissueBus(ctx, id, base, session(c).Staff.Email)
	if errors.Is(err, infosync.ErrPlainHTTP) {
		return s.refusePlainHTTP(c, base, "")
	}
	if err != nil {
		return err
	}
	name, err := s.store.busName(ctx, id)
	if err != nil {
		return err
	}
	return s.showEnrollment(c, fiber.StatusOK, e, name)
}

// refusePlainHTTP shows the fleet page with why no enrollment string was
// made: buses reach this office over plain http on the network, and a
// bus refuses that (the token and personal data would travel unencrypted).
// 409: the office's address, not the form, has to change.
func (s *Server) refusePlainHTTP(c *fiber.Ctx, base, name string) error {
	p, d, err := s.fleetPage(c)
	if err != nil {
		return err
	}
	p.Values["name"] = name
	d.Problem = p.T("fleet.plainhttp", "url", base)
	return s.render(c, fiber.StatusConflict, "fleet", p)
}

func (s *Server) handleFleetRevoke(c *fiber.Ctx) error {
	if _, err := s.store.RevokeBus(c.UserContext(), c.Params("id"), session(c).Staff.Email); err != nil {
		return err
	}
	return c.Redirect("/fleet?done=revoked", fiber.StatusSeeOther)
}

func (s *Store) busName(ctx context.Context, id string) (string, error) {
	var name string
	err := s.db.Read.QueryRowContext(ctx, `SELECT name FROM buses WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return name, err
}

// MaxSetAsideList bounds the set-aside page: the newest first.
const MaxSetAsideList = 200

// SetAsideItem is a quarantined record as the set-aside page lists it.
type SetAsideItem struct {
	SetAsideRecord
	BusName    string
	ReceivedAt string
}

const querySetAsideList = `
SELECT a.visit_id, a.rev, a.reason, a.message, a.message_nl, a.fields, a.body, a.received_at, b.name
FROM set_aside a JOIN buses b ON b.id = a.bus_id
ORDER BY a.received_at DESC, a.visit_id, a.rev LIMIT ?`

// SetAsideAll lists what the office set aside from every bus, newest
// first, at most limit, and how many there are in all.
func (s *Store) SetAsideAll(ctx context.Context, limit int) ([]SetAsideItem, int, error) {
	var total int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM set_aside`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Read.QueryContext(ctx, querySetAsideList, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []SetAsideItem
	for rows.Next() {
		var (
			it     SetAsideItem
			fields []byte
		)
		if err := rows.Scan(&it.VisitID, &it.Rev, &it.Reason, &it.Message, &it.MessageNL, &fields, &it.Body, &it.ReceivedAt, &it.BusName); err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal(fields, &it.Fields); err != nil {
			return nil, 0, err
		}
		out = append(out, it)
	}
	return out, total, rows.Err()
}

type setAsideData struct {
	Items []SetAsideItem
	Total int
}

func (s *Server) handleSetAside(c *fiber.Ctx) error {
	items, total, err := s.store.SetAsideAll(c.UserContext(), MaxSetAsideList)
	if err != nil {
		return err
	}
	p := s.newPage(c)
	p.Data = setAsideData{Items: items, Total: total}
	return s.render(c, fiber.StatusOK, "setaside", p)
}

// Msg picks the text of a message kept in both languages.
func (p *Page) Msg(en, nl string) string {
	if p.Lang == "nl" && nl != "" {
		return nl
	}
	return en
}

// Problem picks a field problem's text in the page's language.
func (p *Page) Problem(pr schema.Problem) string { return p.Msg(pr.EN, pr.NL) }

// N64 is N for a count kept as int64.
func (p *Page) N64(key string, n int64) string { return p.N(key, int(n)) }
