package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"infobus/schema"
)

// VisitFilter selects visits for the search page.
type VisitFilter struct {
	// Q is a business name (its start), a KvK number or a postcode.
	Q string
	// Text is words in the crew's notes. Notes are not indexed: the search
	// reads at most MaxTextScan visits a page, newest first.
	Text      string
	Wijk      string
	Stadsdeel string
	Topic     string
	Sector    string
	BusID     string
	From, To  string // YYYY-MM-DD, both days included
	After     string // cursor of the last row of the previous page
	Limit     int
}

// MaxVisitPage bounds a page of the visit search; MaxTextScan bounds the
// visits one page of a text search reads.
const (
	MaxVisitPage = 50
	MaxTextScan  = 5000
)

// VisitItem is a visit as the search lists it.
type VisitItem struct {
	ID, BusName, Name, KvK, Postcode, Wijk, Sector, VisitedAt string
	Cursor                                                    string
}

// VisitPage is one page of a visit search.
type VisitPage struct {
	Visits []VisitItem
	// Next continues the search; "" at the end.
	Next string
	// Scanned says a text search stopped after MaxTextScan visits with
	// room left on the page: Next continues it.
	Scanned bool
}

var (
	kvkQuery      = regexp.MustCompile(`^[0-9]{8}$`)
	postcodeQuery = regexp.MustCompile(`^([1-9][0-9]{3}) ?([A-Za-z]{0,2})$`)
)

// searchMode is how Q is read: as a KvK number, a postcode or the start of
// a name, each with its own index and the order that index gives.
type searchMode struct {
	key  string // the sort column
	desc bool
	lo   string
	hi   string // "" for an exact match on lo
}

func modeOf(q string) searchMode {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return searchMode{key: "v.visited_at", desc: true}
	case kvkQuery.MatchString(q):
		return searchMode{key: "v.kvk", lo: q}
	case postcodeQuery.MatchString(q):
		m := postcodeQuery.FindStringSubmatch(q)
		p := m[1] + strings.ToUpper(m[2])
		return searchMode{key: "v.postcode", lo: p, hi: p + "\uffff"}
	}
	// name is NOCASE, so the range is too.
	return searchMode{key: "v.name", lo: q, hi: q + "\uffff"}
}

const queryVisitSearch = `
SELECT v.id, b.name, v.name, v.kvk, v.postcode, v.wijk, coalesce(json_extract(v.body, '$.sector'), ''), v.visited_at, %s, v.rowid, %s
FROM visits v JOIN buses b ON b.id = v.bus_id
WHERE %s
ORDER BY %s`

// SearchVisits returns one page of visits matching f.
func (s *Store) SearchVisits(ctx context.Context, f VisitFilter) (VisitPage, error) {
	if f.Limit <= 0 || f.Limit > MaxVisitPage {
		f.Limit = MaxVisitPage
	}
	q, args, ok := visitQuery(f)
	if !ok {
		return VisitPage{}, nil
	}
	text := strings.TrimSpace(f.Text) != ""
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return VisitPage{}, err
	}
	defer rows.Close()
	var (
		page    VisitPage
		scanned int
		last    string
	)
	for rows.Next() {
		var (
			it      VisitItem
			key     string
			rowid   int64
			matched bool
		)
		if err := rows.Scan(&it.ID, &it.BusName, &it.Name, &it.KvK, &it.Postcode, &it.Wijk, &it.Sector, &it.VisitedAt, &key, &rowid, &matched); err != nil {
			return VisitPage{}, err
		}
		it.Cursor = key + "|" + strconv.FormatInt(rowid, 10)
		scanned++
		if matched {
			if len(page.Visits) == f.Limit {
				page.Next = page.Visits[f.Limit-1].Cursor
				return page, rows.Err()
			}
			page.Visits = append(page.Visits, it)
		}
		last = it.Cursor
		if text && scanned >= MaxTextScan {
			page.Next, page.Scanned = last, true
			return page, rows.Err()
		}
	}
	return page, rows.Err()
}

// visitQuery is the visit search's SQL for f and its arguments; ok is
// false when nothing can match (a stadsdeel without wijken).
func visitQuery(f VisitFilter) (q string, args []any, ok bool) {
	m := modeOf(f.Q)
	where := []string{"v.deleted = 0"}
	// The != '' terms let SQLite use the partial indexes, which leave
	// out visits without a name, KvK or postcode.
	switch {
	case m.lo != "" && m.hi == "":
		where = append(where, m.key+" != ''", m.key+" = ?")
		args = append(args, m.lo)
	case m.lo != "":
		where = append(where, m.key+" != ''", m.key+" >= ?", m.key+" < ?")
		args = append(args, m.lo, m.hi)
	}
	// +v.bus_id: the bus's index would find its visits in no useful
	// order, and SQLite would sort them all.
	for _, c := range []struct{ col, val string }{{"v.wijk", f.Wijk}, {"json_extract(v.body, '$.sector')", f.Sector}, {"+v.bus_id", f.BusID}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.Stadsdeel != "" {
		var codes []string
		for _, w := range schema.Ref.Wijken {
			if w.Stadsdeel == f.Stadsdeel {
				codes = append(codes, w.Code)
				args = append(args, w.Code)
			}
		}
		if len(codes) == 0 {
			return "", nil, false
		}
		// The unary plus keeps visits_wijk out of it: a stadsdeel's wijken
		// read through that index would all be sorted, where walking the
		// dates newest first stops after one page.
		where = append(where, "+v.wijk IN ("+strings.TrimSuffix(strings.Repeat("?,", len(codes)), ",")+")")
	}
	if f.Topic != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(v.body, '$.topics') WHERE value = ?)")
		args = append(args, f.Topic)
	}
	if f.From != "" {
		where = append(where, "v.visited_at >= ?")
		args = append(args, f.From)
	}
	if f.To != "" {
		if t, err := time.Parse(time.DateOnly, f.To); err == nil {
			where = append(where, "v.visited_at < ?")
			args = append(args, t.AddDate(0, 0, 1).Format(time.DateOnly))
		}
	}
	// Ties break by rowid, which every index holds: the order comes
	// straight from the index, and the cursor is the key and the rowid.
	order, cmp := m.key+", v.rowid", ">"
	if m.desc {
		order, cmp = m.key+" DESC, v.rowid DESC", "<"
	}
	if key, rowid, ok := strings.Cut(f.After, "|"); ok {
		n, err := strconv.ParseInt(rowid, 10, 64)
		if err == nil {
			where = append(where, "("+m.key+", v.rowid) "+cmp+" (?, ?)")
			args = append(args, key, n)
		}
	}
	hit := "1"
	text := strings.ToLower(strings.TrimSpace(f.Text))
	if text != "" {
		hit = "instr(lower(json_extract(v.body, '$.notes')), ?) > 0"
		args = append([]any{text}, args...)
	}
	return fmt.Sprintf(queryVisitSearch, m.key, hit, strings.Join(where, " AND "), order), args, true
}

// VisitRecord is a visit as its page shows it: the record, where it came
// from and when, and its follow-ups' work at the office.
type VisitRecord struct {
	Visit           *schema.Visit
	BusName         string
	FirstReceivedAt string
	ReceivedAt      string
	Deleted         bool
	Events          map[string][]WorkEvent // by follow-up id
}

const queryVisitMeta = `
SELECT b.name, v.first_received_at, v.received_at, v.deleted FROM visits v JOIN buses b ON b.id = v.bus_id WHERE v.id = ?`

// FindVisitRecord returns a visit with what its page shows, or
// ErrNotFound.
func (s *Store) FindVisitRecord(ctx context.Context, id string) (*VisitRecord, error) {
	v, err := s.FindVisitByID(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &VisitRecord{Visit: v, Events: map[string][]WorkEvent{}}
	err = s.db.Read.QueryRowContext(ctx, queryVisitMeta, id).Scan(&r.BusName, &r.FirstReceivedAt, &r.ReceivedAt, &r.Deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, f := range v.FollowUps {
		if r.Events[f.ID], err = s.WorkEvents(ctx, f.ID); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// ViewContact returns a visit's contact details for actor and writes the
// view to the audit log in the same transaction: nobody sees them without
// a trace. It returns ErrNotFound for an unknown visit; a visit without
// contact details gives a nil contact, and is audited all the same.
func (s *Store) ViewContact(ctx context.Context, actor, visitID string) (*schema.Contact, error) {
	var c *schema.Contact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var name, phone, email sql.NullString
		err := tx.QueryRowContext(ctx, `
SELECT json_extract(body, '$.contact.name'), json_extract(body, '$.contact.phone'), json_extract(body, '$.contact.email')
FROM visits WHERE id = ?`, visitID).Scan(&name, &phone, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if name.String != "" || phone.String != "" || email.String != "" {
			c = &schema.Contact{Name: name.String, Phone: phone.String, Email: email.String}
		}
		return audit(ctx, tx, s.now(), actor, ActionContactViewed, visitID, "")
	})
	return c, err
}
