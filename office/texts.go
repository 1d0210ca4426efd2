package office

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// Standard texts: what a status move says to the entrepreneur, written
// once by admins per status and department in Dutch (B1) and English. The
// move form offers the ones that fit; the text staff send (edited or not)
// keeps its placeholders, which are filled where it is read: the e-mail
// names the business, the public page says "your business", since that
// page shows no names.

const (
	queryTexts      = `SELECT id, status, department, nl, en FROM standard_texts ORDER BY status, department, id`
	queryTextInsert = `INSERT INTO standard_texts (status, department, nl, en) VALUES (?, ?, ?, ?)`
	queryTextDelete = `DELETE FROM standard_texts WHERE id = ?`
	ActionTextSaved = "text_saved"
)

// StandardText is a text for a status move; Department "" fits every
// department.
type StandardText struct {
	ID                 int64
	Status, Department string
	NL, EN             string
}

// In is the text in lang.
func (t StandardText) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.NL
}

// Texts lists the standard texts.
func (s *Store) Texts(ctx context.Context) ([]StandardText, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryTexts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StandardText
	for rows.Next() {
		var t StandardText
		if err := rows.Scan(&t.ID, &t.Status, &t.Department, &t.NL, &t.EN); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// AddText adds a standard text on behalf of actor; a *FieldError names the
// first bad field.
func (s *Store) AddText(ctx context.Context, actor string, t StandardText) (int64, error) {
	t.NL, t.EN = cleanText(t.NL), cleanText(t.EN)
	switch {
	case !slices.Contains(schema.FollowUpStatuses, t.Status):
		return 0, &FieldError{Field: "status", Key: "text.error.status"}
	case t.Department != "" && !slices.Contains(termCodes(schema.Ref.Departments), t.Department):
		return 0, &FieldError{Field: "department", Key: "rule.error.department"}
	}
	for _, f := range []struct{ name, v string }{{"nl", t.NL}, {"en", t.EN}} {
		if key := textProblem(f.v, true); key != "" {
			return 0, &FieldError{Field: f.name, Key: key}
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, queryTextInsert, t.Status, t.Department, t.NL, t.EN)
		if err != nil {
			return err
		}
		if t.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionTextSaved, fmt.Sprint(t.ID), t.Status)
	})
	return t.ID, err
}

// DeleteText removes a standard text; messages sent with it stay.
func (s *Store) DeleteText(ctx context.Context, actor string, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err := schema.ExecChanged(ctx, tx, queryTextDelete, id)
		if err != nil {
			return err
		}
		if !changed {
			return ErrNotFound
		}
		return audit(ctx, tx, s.now(), actor, ActionTextSaved, fmt.Sprint(id), "deleted")
	})
}

// fillText fills a text's placeholders in lang; business "" (the public
// page) reads as "your business".
func fillText(lang, text, business, due, department string) string {
	if business == "" {
		business = tr(lang, "text.yourbusiness")
	}
	date := due
	if d := (&Page{Lang: lang}).DateOnly(due); d != "" {
		date = d
	}
	dept := departmentName(lang, department)
	return strings.NewReplacer("{bedrijf}", business, "{business}", business, "{datum}", date, "{date}", date,
		"{afdeling}", dept, "{department}", dept).Replace(text)
}

// textsFor returns the texts that fit a move to one of statuses for a
// follow-up of department.
func textsFor(all []StandardText, statuses []string, department string) []StandardText {
	var out []StandardText
	for _, t := range all {
		if slices.Contains(statuses, t.Status) && (t.Department == "" || t.Department == department) {
			out = append(out, t)
		}
	}
	return out
}

type textsData struct {
	Texts    []StandardText
	Statuses []Option
	Depts    []Option
}

func (s *Server) handleTexts(c *fiber.Ctx) error {
	return s.renderTexts(c, fiber.StatusOK, nil)
}

func (s *Server) renderTexts(c *fiber.Ctx, status int, fe *FieldError) error {
	ts, err := s.store.Texts(c.UserContext())
	if err != nil {
		return err
	}
	p := s.newPage(c)
	if fe != nil {
		for _, k := range []string{"status", "department", "nl", "en"} {
			p.Values[k] = copyForm(c, k)
		}
		p.Errors[fe.Field] = p.T(fe.Key)
	}
	d := &textsData{Texts: ts, Depts: termOptions(p, schema.Ref.Departments, p.Values["department"])}
	for _, st := range schema.FollowUpStatuses {
		d.Statuses = append(d.Statuses, Option{Value: st, Label: p.T("status." + st), Selected: p.Values["status"] == st})
	}
	p.Data = d
	switch c.Query("done") {
	case "saved":
		p.Notice = "texts.saved"
	case "deleted":
		p.Notice = "texts.deleted"
	}
	return s.render(c, status, "texts", p)
}

func (s *Server) handleTextAdd(c *fiber.Ctx) error {
	_, err := s.store.AddText(c.UserContext(), session(c).Staff.Email, StandardText{
		Status: copyForm(c, "status"), Department: copyForm(c, "department"), NL: copyForm(c, "nl"), EN: copyForm(c, "en")})
	if fe, ok := err.(*FieldError); ok {
		return s.renderTexts(c, fiber.StatusBadRequest, fe)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/texts?done=saved", fiber.StatusSeeOther)
}

func (s *Server) handleTextDelete(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	if err := s.store.DeleteText(c.UserContext(), session(c).Staff.Email, id); err != nil {
		return err
	}
	return c.Redirect("/texts?done=deleted", fiber.StatusSeeOther)
}
