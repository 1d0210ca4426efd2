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
	// Text is words in the crew's notes or the business name: each must
	// start a word there (schema.SearchWords), over all visits.
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

// MaxVisitPage bounds a page of the visit search.
const MaxVisitPage = 50

// rareWord is how many visits a text search's word may have for the
// search to start from the word index: it reads them all and sorts them.
// A word more visits have is found soon enough by walking the visits in
// page order and checking their text.
const rareWord = 10000

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
		// visited_unix, not visited_at: the text holds the tablet's
		// offset, so only the number sorts as time (and visits_when is the
		// one index on it).
		return searchMode{key: "v.visited_unix", desc: true}
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

const (
	queryVisitSearch = `
SELECT v.id, b.name, v.name, v.kvk, v.postcode, v.wijk, v.sector, v.visited_at, %s, v.rowid, %s
FROM %s JOIN buses b ON b.id = v.bus_id
WHERE %s
ORDER BY %s`
	// CROSS JOIN keeps SQLite from walking all visits to look each up in
	// the word's few.
	fromWord   = `(SELECT DISTINCT vid FROM visit_words WHERE word >= ? AND word < ?) w CROSS JOIN visits v ON v.rowid = w.vid`
	queryWordN = `SELECT count(*) FROM (SELECT 1 FROM visit_words WHERE word >= ?1 AND word < ?2 LIMIT ?3)`
)

// SearchVisits returns one page of visits matching f.
func (s *Store) SearchVisits(ctx context.Context, f VisitFilter) (VisitPage, error) {
	return s.searchVisits(ctx, f, rareWord)
}

// searchVisits starts a text search from the word index when its longest
// word has at most rare visits.
func (s *Store) searchVisits(ctx context.Context, f VisitFilter, rare int) (VisitPage, error) {
	if f.Limit <= 0 || f.Limit > MaxVisitPage {
		f.Limit = MaxVisitPage
	}
	var (
		words []string
		from  string
	)
	if strings.TrimSpace(f.Text) != "" {
		words = indexWords(f.Text)
		if len(words) == 0 {
			// Only one-letter words and stop words, which are not indexed.
			return VisitPage{}, nil
		}
		if err := s.Fold(ctx); err != nil {
			return VisitPage{}, err
		}
		// The longest word is the likeliest to be rare.
		longest := words[0]
		for _, w := range words {
			if len(w) > len(longest) {
				longest = w
			}
		}
		var n int
		if err := s.db.Read.QueryRowContext(ctx, queryWordN, longest, longest+"\uffff", rare+1).Scan(&n); err != nil {
			return VisitPage{}, err
		}
		if n == 0 {
			return VisitPage{}, nil
		}
		if n <= rare {
			from = longest
		}
	}
	q, args, ok := visitQuery(f, len(words) > 0, from)
	if !ok {
		return VisitPage{}, nil
	}
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return VisitPage{}, err
	}
	defer rows.Close()
	var page VisitPage
	for rows.Next() {
		var (
			it    VisitItem
			key   string
			rowid int64
			text  string
		)
		if err := rows.Scan(&it.ID, &it.BusName, &it.Name, &it.KvK, &it.Postcode, &it.Wijk, &it.Sector, &it.VisitedAt, &key, &rowid, &text); err != nil {
			return VisitPage{}, err
		}
		it.Cursor = key + "|" + strconv.FormatInt(rowid, 10)
		if len(words) > 0 && !matchWords(text, words) {
			continue
		}
		if len(page.Visits) == f.Limit {
			page.Next = page.Visits[f.Limit-1].Cursor
			return page, rows.Err()
		}
		page.Visits = append(page.Visits, it)
	}
	return page, rows.Err()
}

// visitQuery is the visit search's SQL for f and its arguments; ok is
// false when nothing can match (a stadsdeel without wijken). With text,
// each row carries the name and notes the words are checked against;
// with rare, the rows come from that word's entries in the word index.
func visitQuery(f VisitFilter, text bool, rare string) (q string, args []any, ok bool) {
	m := modeOf(f.Q)
	from := "visits v"
	if rare != "" {
		from = fromWord
		args = append(args, rare, rare+"\uffff")
	}
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
	// +v.wijk and +v.bus_id: their indexes would find the visits in no
	// useful order, and SQLite would sort them all, where walking the
	// page's order stops after one page. sector and topics are the copies
	// of 0007, read without parsing the body.
	for _, c := range []struct{ col, val string }{{"+v.wijk", f.Wijk}, {"v.sector", f.Sector}, {"+v.bus_id", f.BusID}} {
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
		where = append(where, "+v.wijk IN ("+strings.TrimSuffix(strings.Repeat("?,", len(codes)), ",")+")")
	}
	if f.Topic != "" {
		// topics is a JSON array of codes as json.Marshal writes them, and
		// a code holds no quote.
		where = append(where, "instr(v.topics, ?) > 0")
		args = append(args, `"`+strings.ReplaceAll(f.Topic, `"`, "")+`"`)
	}
	if f.From != "" {
		if t, err := time.ParseInLocation(time.DateOnly, f.From, zone); err == nil {
			where = append(where, "v.visited_unix >= ?")
			args = append(args, t.Unix())
		}
	}
	if f.To != "" {
		if t, err := time.ParseInLocation(time.DateOnly, f.To, zone); err == nil {
			where = append(where, "v.visited_unix < ?")
			args = append(args, t.AddDate(0, 0, 1).Unix())
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
		var k any = key
		if m.key == "v.visited_unix" {
			k, err = strconv.ParseInt(key, 10, 64)
		}
		if err == nil {
			where = append(where, "("+m.key+", v.rowid) "+cmp+" (?, ?)")
			args = append(args, k, n)
		}
	}
	hit := "''"
	if text {
		hit = "v.name || ' ' || coalesce(json_extract(v.body, '$.notes'), '')"
	}
	return fmt.Sprintf(queryVisitSearch, m.key, hit, from, strings.Join(where, " AND "), order), args, true
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
