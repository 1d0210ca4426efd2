package office

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// Actions lists every audit action, for the audit page's filter.
var Actions = []string{ActionLogin, ActionLogout, ActionLoginFailed, ActionLockout, ActionPasswordSet,
	ActionStaffAdded, ActionStaffDisabled, ActionStaffReset, ActionFollowUpMoved, ActionFollowUpAssigned, ActionQuestionAsked, ActionReasonSaved, ActionRuleSaved, ActionRuleDeleted, ActionRouted, ActionTextSaved,
	ActionContactViewed, ActionBusEnrolled, ActionBusReissued, ActionBusRevoked, ActionForget, ActionExport, ActionRetention}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Actor, Action string
	From, To      string // YYYY-MM-DD in the office's zone, both included
	Before        int64  // entries with a lower id; 0 from the newest
	Limit         int
}

// MaxAuditPage bounds a page of the audit log.
const MaxAuditPage = 100

// FindAudit returns a page of the audit log and whether more follow.
func (s *Store) FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, bool, error) {
	if f.Limit <= 0 || f.Limit > MaxAuditPage {
		f.Limit = MaxAuditPage
	}
	where := []string{"1"}
	var args []any
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if t, err := time.ParseInLocation(time.DateOnly, f.From, zone); err == nil {
		where = append(where, "at >= ?")
		args = append(args, schema.Timestamp(t))
	}
	if t, err := time.ParseInLocation(time.DateOnly, f.To, zone); err == nil {
		where = append(where, "at < ?")
		args = append(args, schema.Timestamp(t.AddDate(0, 0, 1)))
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := fmt.Sprintf(`SELECT id, at, actor, action, subject, detail FROM audit_log WHERE %s ORDER BY id DESC LIMIT ?`, strings.Join(where, " AND "))
	rows, err := s.db.Read.QueryContext(ctx, q, append(args, f.Limit+1)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, false, err
		}
		out = append(out, e)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, rows.Err()
}

type auditData struct {
	Entries     []AuditEntry
	Actions     []Option
	Next, First string
}

func (s *Server) handleAudit(c *fiber.Ctx) error {
	p := s.newPage(c)
	f := AuditFilter{Actor: NormalizeEmail(c.Query("actor")), Action: c.Query("action"), From: c.Query("from"), To: c.Query("to")}
	if b := c.Query("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			p.Errors["before"] = p.T("filter.bad", "field", "before")
		}
		f.Before = n
	}
	for _, k := range []string{"actor", "action", "from", "to"} {
		p.Values[k] = c.Query(k)
	}
	if f.Action != "" && !slices.Contains(Actions, f.Action) {
		p.Errors["action"] = p.T("filter.bad", "field", p.T("audit.action"))
	}
	for _, d := range []string{"from", "to"} {
		if v := c.Query(d); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				p.Errors[d] = p.T("filter.baddate", "field", p.T("visits."+d))
			}
		}
	}
	d := &auditData{Actions: []Option{{Value: "", Label: p.T("filter.any"), Selected: f.Action == ""}}}
	for _, a := range Actions {
		d.Actions = append(d.Actions, Option{Value: a, Label: p.T("action." + a), Selected: a == f.Action})
	}
	p.Data = d
	if len(p.Errors) > 0 {
		return s.render(c, fiber.StatusBadRequest, "audit", p)
	}
	entries, more, err := s.store.FindAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	d.Entries = entries
	q := url.Values{}
	for _, k := range []string{"actor", "action", "from", "to"} {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	if more {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d.Next = "/audit?" + nq.Encode()
	}
	if f.Before > 0 {
		d.First = "/audit?" + q.Encode()
	}
	return s.render(c, fiber.StatusOK, "audit", p)
}
