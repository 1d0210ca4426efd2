package office

// The person: the selector `infobus office forget` and `export-person`
// find one entrepreneur by, and the export for an access request. The
// erasure itself is in privacy.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"infobus/schema"
)

const (
	queryPersonVisits = `
SELECT id, bus_id FROM visits
WHERE (?1 != '' AND lower(json_extract(body, '$.contact.email')) = ?1)
   OR (?2 != '' AND json_extract(body, '$.contact.phone') = ?2)
   OR (?3 != '' AND json_extract(body, '$.business.kvk') = ?3)`
	querySetAsideAll = `SELECT rowid, bus_id, visit_id, rev, reason, body FROM set_aside`
	// Feedback given on the codes of a visit's follow-ups; through the
	// follow-ups, whose visit_id is indexed, to the codes bound to them.
	queryFeedbackOfVisit = `
SELECT f.code, f.bus_id, f.rating, f.comment, f.contact_preference, f.created_at
FROM followups fu JOIN codes c ON c.followup_id = fu.id JOIN feedback f ON f.code = c.code
WHERE fu.visit_id = ?`
	// Every comment, for the ones that mention the person: free text can
	// hold an address or number typed in any form.
	queryFeedbackWithComment = `
SELECT code, bus_id, rating, comment, contact_preference, created_at FROM feedback WHERE comment != ''`
)

// Person selects one entrepreneur by one of their details. Exactly one
// field is set; Normalize reads them the way the visit rules store them.
type Person struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	KvK   string `json:"kvk,omitempty"`
}

// Normalize puts the selector in the form stored visits hold, and returns
// a *schema.ValidationError unless exactly one usable field is set.
func (p *Person) Normalize() error {
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	if p.Phone = strings.TrimSpace(p.Phone); p.Phone != "" {
		p.Phone = schema.NormalizePhone(p.Phone)
	}
	p.KvK = strings.Join(strings.Fields(p.KvK), "")
	set := 0
	for _, f := range []string{p.Email, p.Phone, p.KvK} {
		if f != "" {
			set++
		}
	}
	if set != 1 {
		return &schema.ValidationError{Fields: map[string]schema.Problem{"person": {
			EN: "give exactly one of --email, --phone or --kvk",
			NL: "geef precies één van --email, --phone of --kvk"}}}
	}
	return nil
}

// kind names the selector for the audit log, with a short hash of the
// value instead of the value: the log must not keep what was erased.
func (p Person) kind() string {
	k, v := "email", p.Email
	switch {
	case p.Phone != "":
		k, v = "phone", p.Phone
	case p.KvK != "":
		k, v = "kvk", p.KvK
	}
	h := sha256.Sum256([]byte(v))
	return k + " sha256:" + hex.EncodeToString(h[:6])
}

// matches says whether a visit's crew JSON is about p.
func (p Person) matches(v *schema.Visit) bool {
	switch {
	case p.KvK != "":
		return v.Business.KvK == p.KvK
	case v.Contact == nil:
		return false
	case p.Email != "":
		return strings.EqualFold(v.Contact.Email, p.Email)
	default:
		return schema.NormalizePhone(v.Contact.Phone) == p.Phone
	}
}

// matchesRaw is matches for a body that is not a readable visit: any
// mention of the value counts.
func (p Person) matchesRaw(body []byte) bool {
	for _, v := range []string{p.Email, p.Phone, p.KvK} {
		if v != "" && bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(v))) {
			return true
		}
	}
	return false
}

// mentions says whether free text holds p's e-mail address (any case), or
// p's phone number or KvK number however it is written: spaces, dashes,
// dots or brackets between the digits, +31 or 0031 for the leading 0.
func (p Person) mentions(text string) bool {
	if p.Email != "" {
		return strings.Contains(strings.ToLower(text), p.Email)
	}
	want := p.KvK
	if p.Phone != "" {
		want = nationalDigits(p.Phone)
	}
	if want == "" {
		return false
	}
	for _, run := range digitRuns(text) {
		if strings.Contains(run, want) || strings.Contains(nationalDigits(run), want) {
			return true
		}
	}
	return false
}

// digitRuns returns the digits of each stretch of text made of digits and
// the characters people put between them in a number.
func digitRuns(text string) []string {
	var (
		runs []string
		cur  strings.Builder
	)
	flush := func() {
		if cur.Len() > 0 {
			runs = append(runs, cur.String())
			cur.Reset()
		}
	}
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			cur.WriteRune(r)
		case r == '+' && cur.Len() == 0:
			cur.WriteRune(r)
		case strings.ContainsRune(" -.()/\u00a0", r):
		default:
			flush()
		}
	}
	flush()
	return runs
}

// nationalDigits is a phone number's digits after the trunk 0 or the
// country code 31: 06-1234 5678, +31 6 12345678 and 0031612345678 all
// give 612345678.
func nationalDigits(s string) string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, s)
	for _, prefix := range []string{"+31", "0031", "+", "0"} {
		if rest, ok := strings.CutPrefix(d, prefix); ok {
			return rest
		}
	}
	return d
}

// personVisits returns the ids of the visits about p, and each one's bus.
func personVisits(ctx context.Context, q querier, p Person) (ids, buses []string, err error) {
	rows, err := q.QueryContext(ctx, queryPersonVisits, p.Email, p.Phone, p.KvK)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, bus string
		if err := rows.Scan(&id, &bus); err != nil {
			return nil, nil, err
		}
		ids, buses = append(ids, id), append(buses, bus)
	}
	return ids, buses, rows.Err()
}

// querier is what reads take: the reader pool, or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ExportFeedback is a feedback in an export: given on the code of one of
// the person's follow-ups, or with a comment that mentions them.
type ExportFeedback struct {
	Code              string `json:"code"`
	BusID             string `json:"bus_id"`
	Rating            int    `json:"rating"`
	Comment           string `json:"comment"`
	ContactPreference string `json:"contact_preference"`
	CreatedAt         string `json:"created_at"`
}

// personFeedback returns the feedback about p: given on a code of one of
// visits (p's), or whose comment mentions p. Each once, ordered by code.
func personFeedback(ctx context.Context, q querier, p Person, visits []string) ([]ExportFeedback, error) {
	seen := map[string]bool{}
	var out []ExportFeedback
	scan := func(rows *sql.Rows, keep func(ExportFeedback) bool) error {
		defer rows.Close()
		for rows.Next() {
			var f ExportFeedback
			if err := rows.Scan(&f.Code, &f.BusID, &f.Rating, &f.Comment, &f.ContactPreference, &f.CreatedAt); err != nil {
				return err
			}
			if !seen[f.Code] && keep(f) {
				seen[f.Code] = true
				out = append(out, f)
			}
		}
		return rows.Err()
	}
	all := func(ExportFeedback) bool { return true }
	for _, id := range visits {
		rows, err := q.QueryContext(ctx, queryFeedbackOfVisit, id)
		if err != nil {
			return nil, err
		}
		if err := scan(rows, all); err != nil {
			return nil, err
		}
	}
	rows, err := q.QueryContext(ctx, queryFeedbackWithComment)
	if err != nil {
		return nil, err
	}
	if err := scan(rows, func(f ExportFeedback) bool { return p.mentions(f.Comment) }); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ExportFeedback) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// PersonExport is everything the office holds about one entrepreneur, for
// an access request.
type PersonExport struct {
	Person     Person           `json:"person"`
	ExportedAt string           `json:"exported_at"`
	Visits     []schema.Visit   `json:"visits"`
	SetAside   []ExportSetAside `json:"set_aside"`
	Feedback   []ExportFeedback `json:"feedback"`
	Loop       []ExportLoopText `json:"loop"` // answers to staff questions, satisfaction comments
}

// ExportSetAside is a set-aside record in an export.
type ExportSetAside struct {
	BusID   string          `json:"bus_id"`
	VisitID string          `json:"visit_id"`
	Rev     int64           `json:"rev"`
	Reason  string          `json:"reason"`
	Body    json.RawMessage `json:"body"`
}

// ExportPerson gathers every visit, set-aside record, feedback and answer
// or satisfaction comment about p,
// with the office's follow-up status, and records the export in the audit log.
// Returns a *schema.ValidationError for a bad selector.
func (s *Store) ExportPerson(ctx context.Context, p Person, actor string) (*PersonExport, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	if err := s.ApplyInbox(ctx); err != nil {
		return nil, err
	}
	now := s.now()
	out := &PersonExport{Person: p, ExportedAt: schema.Timestamp(now), Visits: []schema.Visit{}, SetAside: []ExportSetAside{}}
	ids, _, err := personVisits(ctx, s.db.Read, p)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		v, err := s.FindVisitByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Visits = append(out.Visits, *v)
	}
	if out.Loop, err = loopTexts(ctx, s.db.Read, p, ids); err != nil {
		return nil, err
	}
	sa, err := s.db.Read.QueryContext(ctx, querySetAsideAll)
	if err != nil {
		return nil, err
	}
	for sa.Next() {
		var (
			rowid int64
			r     ExportSetAside
			body  []byte
		)
		if err := sa.Scan(&rowid, &r.BusID, &r.VisitID, &r.Rev, &r.Reason, &body); err != nil {
			sa.Close()
			return nil, err
		}
		var v schema.Visit
		if json.Unmarshal(body, &v) == nil {
			v.Normalize()
			if !p.matches(&v) {
				continue
			}
		} else if !p.matchesRaw(body) {
			continue
		}
		if json.Valid(body) {
			r.Body = body
		} else {
			r.Body, _ = json.Marshal(string(body))
		}
		out.SetAside = append(out.SetAside, r)
	}
	sa.Close()
	if err := sa.Err(); err != nil {
		return nil, err
	}
	if out.Feedback, err = personFeedback(ctx, s.db.Read, p, ids); err != nil {
		return nil, err
	}
	if out.Feedback == nil {
		out.Feedback = []ExportFeedback{}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		return audit(ctx, tx, now, actor, ActionExport, p.kind(),
			fmt.Sprintf("visits=%d set_aside=%d feedback=%d", len(out.Visits), len(out.SetAside), len(out.Feedback)))
	})
	return out, err
}
