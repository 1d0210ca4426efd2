package office

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// CSV exports of the insight page's filter: UTF-8 with a byte order mark
// so that Excel reads it as such, "," or (sep=semicolon, for Dutch Excel)
// ";" between cells, every cell that a spreadsheet would take for a
// formula defused, and streamed row by row so that memory stays flat
// whatever the size. Exports with contact details are for admins and
// written to the audit log before the first row leaves.

// Audit actions of the exports.
const (
	ActionExportContact = "export_contact"
	ActionExportPanel   = "export_panel"
)

const (
	queryExportVisits = `
SELECT id, bus_id, visited_at, wijk, stop, sector, topics, rating, panel, fu_n,
    json_extract(body, '$.business.name'), json_extract(body, '$.business.kvk'), json_extract(body, '$.language') %s
FROM visits WHERE deleted = 0 AND %s >= ?1 AND visited_unix < ?2 %s ORDER BY %s`
	queryExportContact = `,
    json_extract(body, '$.contact.name'), json_extract(body, '$.contact.phone'), json_extract(body, '$.contact.email'),
    json_extract(body, '$.business.address.street') || ' ' || json_extract(body, '$.business.address.number'),
    json_extract(body, '$.business.address.postcode'), json_extract(body, '$.notes')`
	queryExportFollowUps = `
SELECT id, visit_id, wijk, department, kind, due_date, status, opened_unix, closed_unix FROM followups
WHERE gone = 0 AND opened_unix >= ?1 AND opened_unix < ?2 %s ORDER BY opened_unix, id`
	queryExportPanel = `
SELECT visited_at, wijk, json_extract(body, '$.business.name'), json_extract(body, '$.business.kvk'),
    json_extract(body, '$.contact.name'), json_extract(body, '$.contact.phone'), json_extract(body, '$.contact.email')
FROM visits WHERE deleted = 0 AND panel = 1 AND visited_unix >= ?1 AND visited_unix < ?2 %s ORDER BY visited_unix, id`
)

// csvBOM starts every export.
const csvBOM = "\uFEFF"

// defuse keeps a spreadsheet from running a cell as a formula: a cell
// that starts with = + - @, a tab or a carriage return gets a leading
// apostrophe, which spreadsheets show as text (OWASP's advice).
func defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// csvOut writes defused rows; it flushes through the bufio.Writer under it
// as that fills, so no more than a buffer is held.
type csvOut struct {
	w   *csv.Writer
	row []string
}

func newCSVOut(w io.Writer, semicolon bool) *csvOut {
	io.WriteString(w, csvBOM)
	cw := csv.NewWriter(w)
	if semicolon {
		cw.Comma = ';'
	}
	cw.UseCRLF = true // what Excel writes and expects
	return &csvOut{w: cw}
}

func (o *csvOut) write(cells ...string) error {
	o.row = o.row[:0]
	for _, c := range cells {
		o.row = append(o.row, defuse(c))
	}
	return o.w.Write(o.row)
}

// localTime shows an RFC 3339 moment as local time, "2026-11-30 14:05".
func localTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(zone).Format("2006-01-02 15:04")
}

func unixLocal(u sql.NullInt64) string {
	if !u.Valid {
		return ""
	}
	return time.Unix(u.Int64, 0).In(zone).Format("2006-01-02 15:04")
}

// ExportVisits writes the visits of [start, end) in area as CSV, with the
// contact columns when contact is set.
func (s *Store) ExportVisits(ctx context.Context, w io.Writer, area Area, start, end time.Time, contact, semicolon bool) (int, error) {
	extra := ""
	if contact {
		extra = queryExportContact
	}
	// A short period is read through visits_when, in time order. A long
	// one, up to every visit, is read in the table's own order (the order
	// the office received them), which streams three times faster than
	// a lookup per row through the index.
	when, order := "visited_unix", "visited_unix, id"
	if end.Sub(start) > 62*24*time.Hour {
		when, order = "+visited_unix", "rowid"
	}
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryExportVisits, extra, when, area.wijkFilter(), order), start.Unix(), end.Unix())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	out := newCSVOut(w, semicolon)
	head := []string{"id", "bus", "visited_at", "wijk", "wijk_name", "stadsdeel", "stop", "sector", "topics", "rating",
		"panel_opt_in", "followups", "business", "kvk", "language"}
	if contact {
		head = append(head, "contact_name", "contact_phone", "contact_email", "address", "postcode", "notes")
	}
	if err := out.write(head...); err != nil {
		return 0, err
	}
	var (
		id, bus, at, wijk, stop, sector, topics string
		rating                                  sql.NullInt64
		panel, fuN                              int
		name, kvk, lang                         sql.NullString
		c                                       [6]sql.NullString
		cells                                   = make([]string, 0, len(head))
		n                                       int
	)
	dest := []any{&id, &bus, &at, &wijk, &stop, &sector, &topics, &rating, &panel, &fuN, &name, &kvk, &lang}
	if contact {
		for i := range c {
			dest = append(dest, &c[i])
		}
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		wn, deel := wijk, ""
		if wk, ok := schema.Ref.Wijk(wijk); ok {
			wn, deel = wk.Name, wk.Stadsdeel
		}
		r := ""
		if rating.Valid {
			r = strconv.FormatInt(rating.Int64, 10)
		}
		cells = append(cells[:0], id, bus, localTime(at), wijk, wn, deel, stop, sector, strings.Join(jsonStrings(topics), " "), r,
			yesNo(panel), strconv.Itoa(fuN), name.String, kvk.String, lang.String)
		if contact {
			for i := range c {
				cells = append(cells, c[i].String)
			}
		}
		if err := out.write(cells...); err != nil {
			return n, err
		}
		n++
	}
	out.w.Flush()
	if err := out.w.Error(); err != nil {
		return n, err
	}
	return n, rows.Err()
}

// ExportFollowUps writes the follow-ups opened in [start, end) in area.
func (s *Store) ExportFollowUps(ctx context.Context, w io.Writer, area Area, start, end time.Time, semicolon bool) (int, error) {
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryExportFollowUps, area.wijkFilter()), start.Unix(), end.Unix())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	out := newCSVOut(w, semicolon)
	if err := out.write("id", "visit", "wijk", "wijk_name", "department", "kind", "due_date", "status", "opened", "closed", "hours_to_close"); err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var (
			id, visit, wijk, dept, kind, due, status string
			opened                                   int64
			closed                                   sql.NullInt64
		)
		if err := rows.Scan(&id, &visit, &wijk, &dept, &kind, &due, &status, &opened, &closed); err != nil {
			return n, err
		}
		hours := ""
		if closed.Valid {
			hours = strconv.FormatInt(max(0, closed.Int64-opened)/3600, 10)
		}
		wn := wijk
		if wk, ok := schema.Ref.Wijk(wijk); ok {
			wn = wk.Name
		}
		if err := out.write(id, visit, wijk, wn, dept, kind, due, status,
			unixLocal(sql.NullInt64{Int64: opened, Valid: true}), unixLocal(closed), hours); err != nil {
			return n, err
		}
		n++
	}
	out.w.Flush()
	if err := out.w.Error(); err != nil {
		return n, err
	}
	return n, rows.Err()
}

// ExportPanel writes the panel opt-ins of [start, end) in area, with the
// contact details the panel needs to invite them.
func (s *Store) ExportPanel(ctx context.Context, w io.Writer, area Area, start, end time.Time, semicolon bool) (int, error) {
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryExportPanel, area.wijkFilter()), start.Unix(), end.Unix())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	out := newCSVOut(w, semicolon)
	if err := out.write("visited_at", "wijk", "wijk_name", "business", "kvk", "contact_name", "contact_phone", "contact_email"); err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var (
			at, wijk                        string
			name, kvk, cname, phone, cemail sql.NullString
		)
		if err := rows.Scan(&at, &wijk, &name, &kvk, &cname, &phone, &cemail); err != nil {
			return n, err
		}
		wn := wijk
		if wk, ok := schema.Ref.Wijk(wijk); ok {
			wn = wk.Name
		}
		if err := out.write(localTime(at), wijk, wn, name.String, kvk.String, cname.String, phone.String, cemail.String); err != nil {
			return n, err
		}
		n++
	}
	out.w.Flush()
	if err := out.w.Error(); err != nil {
		return n, err
	}
	return n, rows.Err()
}

func yesNo(b int) string {
	if b != 0 {
		return "yes"
	}
	return "no"
}

// Audit records an export of personal data by actor.
func (s *Store) Audit(ctx context.Context, actor, action, subject, detail string) error {
	return s.auditNow(ctx, actor, action, subject, detail, nil)
}

// exportFilter parses the insight filter of an export request; a refused
// filter is a 400 naming the field in both languages.
func (s *Server) exportFilter(c *fiber.Ctx) (Period, Area, error) {
	q := queryOf(c)
	p, a, errs := q.parse(s.store.now())
	for field, e := range errs {
		return p, a, &badFilter{field: field, p: e}
	}
	return p, a, nil
}

// stream sends a CSV made by write, row by row. The rows are read on a
// context of their own: the handler's ends when it returns, before the
// body is written.
func (s *Server) stream(c *fiber.Ctx, name string, write func(ctx context.Context, w io.Writer) (int, error)) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	log := s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		n, err := write(ctx, w)
		w.Flush()
		if err != nil {
			log.Error("export stopped", "file", name, "rows", n, "err", err)
		}
	})
	return nil
}

// badFilter is an export's refused filter field.
type badFilter struct {
	field string
	p     problem
}

func (e *badFilter) Error() string { return e.field + ": " + e.p.en }

// refuse answers a refused export filter as plain text in both languages:
// the export is a download, not a page.
func refuse(c *fiber.Ctx, err error) error {
	if bf, ok := err.(*badFilter); ok {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(fiber.StatusBadRequest).SendString(bf.field + ": " + bf.p.nl + "\n" + bf.field + ": " + bf.p.en + "\n")
	}
	return err
}

func (s *Server) handleExportVisits(c *fiber.Ctx) error {
	p, area, err := s.exportFilter(c)
	if err != nil {
		return refuse(c, err)
	}
	semi := c.Query("sep") == "semicolon"
	contact := c.Query("contact") == "1"
	if contact {
		se := c.Locals(localSession).(*Session)
		if se.Staff.Role != RoleAdmin {
			return errForbidden
		}
		if err := s.store.Audit(c.UserContext(), se.Staff.Email, ActionExportContact, "visits", string(c.Request().URI().QueryString())); err != nil {
			return err
		}
	}
	return s.stream(c, "bezoeken-"+p.From.Format(time.DateOnly)+".csv", func(ctx context.Context, w io.Writer) (int, error) {
		return s.store.ExportVisits(ctx, w, area, p.Start(), p.End(), contact, semi)
	})
}

func (s *Server) handleExportFollowUps(c *fiber.Ctx) error {
	p, area, err := s.exportFilter(c)
	if err != nil {
		return refuse(c, err)
	}
	semi := c.Query("sep") == "semicolon"
	return s.stream(c, "vervolgacties-"+p.From.Format(time.DateOnly)+".csv", func(ctx context.Context, w io.Writer) (int, error) {
		return s.store.ExportFollowUps(ctx, w, area, p.Start(), p.End(), semi)
	})
}

func (s *Server) handleExportPanel(c *fiber.Ctx) error {
	p, area, err := s.exportFilter(c)
	if err != nil {
		return refuse(c, err)
	}
	se := c.Locals(localSession).(*Session)
	if err := s.store.Audit(c.UserContext(), se.Staff.Email, ActionExportPanel, "panel", string(c.Request().URI().QueryString())); err != nil {
		return err
	}
	semi := c.Query("sep") == "semicolon"
	return s.stream(c, "panel-"+p.From.Format(time.DateOnly)+".csv", func(ctx context.Context, w io.Writer) (int, error) {
		return s.store.ExportPanel(ctx, w, area, p.Start(), p.End(), semi)
	})
}
