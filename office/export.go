package office

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Every column but language and the contact details is copied out of
	// the body at push time. Language comes as the 40 bytes of the body
	// from its key on (languageOf), found by instr: the body's keys are
	// the strict decoder's, none nested is "language", and a quote in a
	// string is escaped, so the first match is the key. On the
	// 1,000,000-visit office this added a third of what json_extract
	// (which parses the whole body) adds to reading a row, and as much
	// CPU as moving the body into Go and finding it there, with a quarter
	// of the garbage collections. A body of another shape (white space
	// around the colon) is read whole for its row. The contact details,
	// for admins, are read from the whole body in Go (bodyFields).
	//
	// The short text columns come packed in one value, each one's length
	// in bytes first (unpack), since the driver makes two allocations per
	// text value: at a million rows, eight columns of the sixteen
	// allocations a row were a fifth of the export's CPU.
	queryExportVisits = `
SELECT octet_length(id) || ',' || octet_length(bus_id) || ',' || octet_length(wijk) || ',' || octet_length(stop) || ','
        || octet_length(sector) || ',' || octet_length(topics) || ',' || octet_length(name) || ':'
        || id || bus_id || wijk || stop || sector || topics || name || kvk,
    visited_unix, rating, panel, fu_n, %s
FROM visits WHERE deleted = 0 AND %s >= ?1 AND visited_unix < ?2 %s ORDER BY %s`
	queryExportLanguage  = `CAST(substr(CAST(body AS BLOB), instr(CAST(body AS BLOB), CAST('"language":' AS BLOB)), 40) AS TEXT)`
	queryExportBody      = `SELECT body FROM visits WHERE id = ?`
	queryExportFollowUps = `
SELECT id, visit_id, wijk, department, kind, due_date, status, opened_unix, closed_unix FROM followups
WHERE gone = 0 AND opened_unix >= ?1 AND opened_unix < ?2 %s ORDER BY opened_unix, id`
	queryExportPanel = `
SELECT visited_unix, wijk, name, kvk, body
FROM visits WHERE deleted = 0 AND panel = 1 AND visited_unix >= ?1 AND visited_unix < ?2 %s ORDER BY visited_unix, id`
)

// csvBOM starts every export.
const csvBOM = "\uFEFF"

// needsDefusing reports whether a spreadsheet would run a cell as a
// formula: one that starts with = + - @, a tab or a carriage return.
// Such a cell gets a leading apostrophe, which spreadsheets show as text
// (OWASP's advice).
func needsDefusing[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// defuse is needsDefusing's fix as a string.
func defuse(s string) string {
	if needsDefusing(s) {
		return "'" + s
	}
	return s
}

// csvOut writes defused cells straight into a large buffer, quoting
// byte for byte as encoding/csv's Writer with UseCRLF does (the tests
// hold the two side by side), without a slice of cells or a string per
// row: at a million rows encoding/csv's per-row work was a tenth of the
// export's CPU. w flushes into the writer under it as it fills, so no
// more than a buffer is held.
type csvOut struct {
	w     *bufio.Writer
	comma byte
	first bool   // the next cell starts a row
	num   []byte // scratch for numbers, times and joined topics
}

// csvBuffer is the size of an export's buffer: large enough that the
// stream under it sees few, large writes.
const csvBuffer = 64 << 10

func newCSVOut(w io.Writer, semicolon bool) *csvOut {
	o := &csvOut{w: bufio.NewWriterSize(w, csvBuffer), comma: ',', first: true, num: make([]byte, 0, 64)}
	if semicolon {
		o.comma = ';'
	}
	o.w.WriteString(csvBOM)
	return o
}

// write writes a whole row.
func (o *csvOut) write(cells ...string) error {
	for _, c := range cells {
		o.cell(c)
	}
	return o.end()
}

// end finishes a row with CRLF, what Excel writes and expects.
func (o *csvOut) end() error {
	o.first = true
	_, err := o.w.WriteString("\r\n")
	return err
}

// cell writes one defused cell, quoted when encoding/csv would quote it:
// when it holds the separator, a quote, CR or LF, when it starts with a
// space, or when it is \. (PostgreSQL's end-of-data marker).
func (o *csvOut) cell(s string) {
	if !o.first {
		o.w.WriteByte(o.comma)
	}
	o.first = false
	defused := needsDefusing(s)
	if plain(s, o.comma) {
		if defused {
			o.w.WriteByte('\'')
		}
		o.w.WriteString(s)
		return
	}
	o.w.WriteByte('"')
	if defused {
		o.w.WriteByte('\'')
	}
	// As encoding/csv with UseCRLF: quotes doubled, LF written as CRLF,
	// a CR dropped (a reader takes CRLF inside quotes for LF).
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			o.w.WriteString(s[start : i+1])
			o.w.WriteByte('"')
			start = i + 1
		case '\r':
			o.w.WriteString(s[start:i])
			start = i + 1
		case '\n':
			o.w.WriteString(s[start:i])
			o.w.WriteString("\r\n")
			start = i + 1
		}
	}
	o.w.WriteString(s[start:])
	o.w.WriteByte('"')
}

// cellBytes writes a cell from the scratch buffer: as it stands when it
// needs neither quotes nor defusing, which is always so for the numbers
// and times the exports write.
func (o *csvOut) cellBytes(b []byte) {
	if !plain(b, o.comma) || needsDefusing(b) {
		o.cell(string(b))
		return
	}
	if !o.first {
		o.w.WriteByte(o.comma)
	}
	o.first = false
	o.w.Write(b)
}

// plain reports whether encoding/csv writes s without quotes. A defused
// cell starts with an apostrophe, so its first character is not checked
// for a space.
func plain[T string | []byte](s T, comma byte) bool {
	if len(s) == 0 {
		return true
	}
	if !needsDefusing(s) {
		if len(s) == 2 && s[0] == '\\' && s[1] == '.' {
			return false
		}
		if c := s[0]; c < utf8.RuneSelf {
			if c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' {
				return false
			}
		} else {
			var b [utf8.UTFMax]byte
			n := copy(b[:], s[:min(len(s), utf8.UTFMax)])
			if r, _ := utf8.DecodeRune(b[:n]); unicode.IsSpace(r) {
				return false
			}
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == comma || c == '"' || c == '\r' || c == '\n' {
			return false
		}
	}
	return true
}

// cellInt writes a number.
func (o *csvOut) cellInt(n int64) {
	o.num = strconv.AppendInt(o.num[:0], n, 10)
	o.cellBytes(o.num)
}

// cellTime writes unix seconds as local time, "2026-11-30 14:05", the
// way Excel reads a date and time, without a string per row.
func (o *csvOut) cellTime(unix int64) {
	o.num = appendLocalMinute(o.num[:0], unix)
	o.cellBytes(o.num)
}

// appendLocalMinute appends unix seconds as "2006-01-02 15:04" in
// Europe/Amsterdam.
func appendLocalMinute(b []byte, unix int64) []byte {
	t := time.Unix(unix, 0).In(zone)
	y, m, d := t.Date()
	hh, mm, _ := t.Clock()
	if y < 0 || y > 9999 { // not a time a visit has; time.Format's way
		return t.AppendFormat(b, "2006-01-02 15:04")
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+d/10), byte('0'+d%10), ' ',
		byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10))
	return b
}

// cellTopics writes the topics column (a JSON array of codes, which the
// push writes without escapes or spaces) as the codes with a space
// between.
func (o *csvOut) cellTopics(topics string) {
	if len(topics) < 2 || strings.IndexByte(topics, '\\') >= 0 || strings.IndexByte(topics, ' ') >= 0 {
		o.cell(strings.Join(jsonStrings(topics), " ")) // the careful way
		return
	}
	o.num = o.num[:0]
	for _, c := range []byte(topics[1 : len(topics)-1]) {
		switch c {
		case '"':
		case ',':
			o.num = append(o.num, ' ')
		default:
			o.num = append(o.num, c)
		}
	}
	o.cellBytes(o.num)
}

// flush writes out what the buffer holds.
func (o *csvOut) flush() error { return o.w.Flush() }

// ExportVisits writes the visits of [start, end) in area as CSV, with the
// contact columns when contact is set.
func (s *Store) ExportVisits(ctx context.Context, w io.Writer, area Area, start, end time.Time, contact, semicolon bool) (int, error) {
	s.settle(ctx)
	// A short period is read through visits_when, in time order. A long
	// one, up to every visit, is read in the table's own order (the order
	// the office received them), which streams three times faster than
	// a lookup per row through the index.
	when, order := "visited_unix", "visited_unix, id"
	if end.Sub(start) > 62*24*time.Hour {
		when, order = "+visited_unix", "rowid"
	}
	bodyCol := queryExportLanguage
	if contact {
		bodyCol = "body"
	}
	// One connection for the rows and a body read whole: a second one
	// from the pool, taken while the rows hold theirs, could wait for
	// ever with as many exports running as the pool has connections.
	conn, err := s.db.Read.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(queryExportVisits, bodyCol, when, area.wijkFilter(), order), start.Unix(), end.Unix())
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
		packed, body        string
		col                 [8]string
		unix                int64
		rating              sql.NullInt64
		panel, fuN          int
		n                   int
		top, biz, addr, who [3]string
		street              []byte
	)
	dest := []any{&packed, &unix, &rating, &panel, &fuN, &body}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		if !unpack(packed, col[:]) {
			return n, fmt.Errorf("export: unreadable packed columns %.80q", packed)
		}
		id, bus, wijk, stop, sector, topics, name, kvk := col[0], col[1], col[2], col[3], col[4], col[5], col[6], col[7]
		wn, deel := wijk, ""
		if wk, ok := schema.Ref.Wijk(wijk); ok {
			wn, deel = wk.Name, wk.Stadsdeel
		}
		out.cell(id)
		out.cell(bus)
		out.cellTime(unix)
		out.cell(wijk)
		out.cell(wn)
		out.cell(deel)
		out.cell(stop)
		out.cell(sector)
		out.cellTopics(topics)
		if rating.Valid {
			out.cellInt(rating.Int64)
		} else {
			out.cell("")
		}
		out.cell(yesNo(panel))
		out.cellInt(int64(fuN))
		out.cell(name)
		out.cell(kvk)
		if !contact {
			lang, ok := languageOf(body)
			if !ok {
				var whole string
				if err := conn.QueryRowContext(ctx, queryExportBody, id).Scan(&whole); err != nil {
					return n, err
				}
				bodyFields(whole, visitKeys[:1], top[:1])
				lang = jsonText(top[0])
			}
			out.cell(lang)
		} else {
			bodyFields(body, visitKeys, top[:])
			out.cell(jsonText(top[0]))
			bodyFields(top[1], contactKeys, who[:])
			for _, v := range who {
				out.cell(jsonText(v))
			}
			// The address as SQLite's street || ' ' || number gave it:
			// empty when either is missing.
			bodyFields(top[2], businessKeys, biz[:1])
			bodyFields(biz[0], addressKeys, addr[:])
			street = street[:0]
			if addr[0] != "" && addr[1] != "" && addr[0] != "null" && addr[1] != "null" {
				street = append(append(append(street, jsonText(addr[0])...), ' '), jsonText(addr[1])...)
			}
			out.cellBytes(street)
			out.cell(jsonText(addr[2]))
			bodyFields(body, noteKeys, biz[1:2])
			out.cell(jsonText(biz[1]))
		}
		if err := out.end(); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, out.flush()
}

// unpack splits "36,36,...:abcd..." into cols: the lengths in bytes of
// all columns but the last, the last one's length followed by a colon,
// then the values one after the other.
func unpack(s string, cols []string) bool {
	var lens [16]int
	last := len(cols) - 1
	i := 0
	for c := range last {
		n, start := 0, i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 9; i++ {
			n = n*10 + int(s[i]-'0')
		}
		sep := byte(',')
		if c == last-1 {
			sep = ':'
		}
		if i == start || i >= len(s) || s[i] != sep {
			return false
		}
		lens[c] = n
		i++
	}
	for c := range last {
		if lens[c] > len(s)-i {
			return false
		}
		cols[c], i = s[i:i+lens[c]], i+lens[c]
	}
	cols[last] = s[i:]
	return true
}

// languageOf reads the language from the start of `"language": "nl", …`;
// ok is false for anything else, and for a value longer than the piece.
func languageOf(piece string) (lang string, ok bool) {
	const key = `"language":`
	if !strings.HasPrefix(piece, key) || len(piece) <= len(key) || piece[len(key)] != '"' {
		return "", false
	}
	v := piece[len(key):]
	for j := 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return jsonText(v[:j+1]), true
		}
	}
	return "", false
}

// The keys the exports read from a visit's body.
var (
	visitKeys    = []string{"language", "contact", "business"}
	noteKeys     = []string{"notes"}
	contactKeys  = []string{"name", "phone", "email"}
	businessKeys = []string{"address"}
	addressKeys  = []string{"street", "number", "postcode"}
)

// bodyFields finds the values of keys in the JSON object obj, one level
// deep, and puts each raw value (a string with its quotes, an object, a
// number) in vals; a key not there gets "". It skips strings with
// IndexByte and stops when every key is found, so a visit's language
// costs a fraction of a json_extract, which parses the whole body. obj
// is a body the push decoder accepted, or a value bodyFields found in
// one; anything else gives "" where it cannot be read.
func bodyFields(obj string, keys, vals []string) {
	clear(vals)
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	left := len(keys)
	i++
	for left > 0 {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return
		}
		kEnd := stringEnd(obj, i)
		key := obj[i+1 : max(i+1, kEnd-1)]
		i = skipSpace(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		if i >= len(obj) {
			return
		}
		vEnd := valueEnd(obj, i)
		for k, want := range keys {
			if key == want && vals[k] == "" {
				vals[k] = obj[i:vEnd]
				left--
			}
		}
		i = skipSpace(obj, vEnd)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at i.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return len(s)
		}
		j += k
		// An escaped quote has an odd number of backslashes before it.
		bs := 0
		for b := j - 1; b > i && s[b] == '\\'; b-- {
			bs++
		}
		if bs%2 == 0 {
			return j + 1
		}
		j++
	}
	return len(s)
}

// valueEnd returns the index just past the value that starts at i.
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				j = stringEnd(s, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	}
	j := i // a number, true, false or null
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
		j++
	}
	return j
}

// jsonText is a raw JSON value as json_extract gives it as text: a
// string unquoted, null and a missing value empty, anything else as it
// stands.
func jsonText(raw string) string {
	switch {
	case raw == "" || raw == "null":
		return ""
	case raw[0] != '"':
		return raw
	case strings.IndexByte(raw, '\\') < 0:
		return raw[1 : len(raw)-1]
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return ""
	}
	return s
}

// ExportFollowUps writes the follow-ups opened in [start, end) in area.
func (s *Store) ExportFollowUps(ctx context.Context, w io.Writer, area Area, start, end time.Time, semicolon bool) (int, error) {
	s.settle(ctx)
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryExportFollowUps, area.wijkFilter()), start.Unix(), end.Unix())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	out := newCSVOut(w, semicolon)
	if err := out.write("id", "visit", "wijk", "wijk_name", "department", "kind", "due_date", "status", "opened", "closed", "hours_to_close"); err != nil {
		return 0, err
	}
	var (
		id, visit, wijk, dept, kind, due, status string
		opened                                   int64
		closed                                   sql.NullInt64
		n                                        int
	)
	for rows.Next() {
		if err := rows.Scan(&id, &visit, &wijk, &dept, &kind, &due, &status, &opened, &closed); err != nil {
			return n, err
		}
		wn := wijk
		if wk, ok := schema.Ref.Wijk(wijk); ok {
			wn = wk.Name
		}
		for _, c := range [...]string{id, visit, wijk, wn, dept, kind, due, status} {
			out.cell(c)
		}
		out.cellTime(opened)
		if closed.Valid {
			out.cellTime(closed.Int64)
			out.cellInt(max(0, closed.Int64-opened) / 3600)
		} else {
			out.cell("")
			out.cell("")
		}
		if err := out.end(); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, out.flush()
}

// ExportPanel writes the panel opt-ins of [start, end) in area, with the
// contact details the panel needs to invite them.
func (s *Store) ExportPanel(ctx context.Context, w io.Writer, area Area, start, end time.Time, semicolon bool) (int, error) {
	s.settle(ctx)
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryExportPanel, area.wijkFilter()), start.Unix(), end.Unix())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	out := newCSVOut(w, semicolon)
	if err := out.write("visited_at", "wijk", "wijk_name", "business", "kvk", "contact_name", "contact_phone", "contact_email"); err != nil {
		return 0, err
	}
	var (
		wijk, name, kvk, body string
		unix                  int64
		top, who              [3]string
		n                     int
	)
	for rows.Next() {
		if err := rows.Scan(&unix, &wijk, &name, &kvk, &body); err != nil {
			return n, err
		}
		wn := wijk
		if wk, ok := schema.Ref.Wijk(wijk); ok {
			wn = wk.Name
		}
		out.cellTime(unix)
		out.cell(wijk)
		out.cell(wn)
		out.cell(name)
		out.cell(kvk)
		bodyFields(body, visitKeys, top[:])
		bodyFields(top[1], contactKeys, who[:])
		for _, v := range who {
			out.cell(jsonText(v))
		}
		if err := out.end(); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, out.flush()
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
