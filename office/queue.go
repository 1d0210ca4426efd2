package office

import (
	"context"
	"fmt"
	"strings"

	"infobus/schema"
)

// QueueFilter selects and orders the follow-up queue. The zero value is
// the home page: open and in-progress work, soonest due first.
type QueueFilter struct {
	// Status is one status, or "" for all unfinished work together (open,
	// in progress, waiting for the entrepreneur, reopen requested).
	Status     string
	Kind       string
	Department string
	Wijk       string
	BusID      string
	// Overdue keeps follow-ups whose due date is before Today.
	Overdue bool
	// Unrouted keeps follow-ups that no routing rule routed and nobody
	// routed by hand (routing.go).
	Unrouted bool
	// Assignee keeps one colleague's follow-ups (staff id); 0 is anyone's.
	Assignee int64
	// Sort is "due" (soonest due first, none last) or "age" (oldest
	// visit first).
	Sort string
	// After is the cursor of the last row of the previous page.
	After string
	Limit int
	// Today is the office's date, YYYY-MM-DD, for Overdue.
	Today string
}

// Queue sorts.
const (
	SortDue = "due"
	SortAge = "age"
)

// MaxQueuePage bounds a page of the queue.
const MaxQueuePage = 100

// QueueItem is a follow-up as the queue lists it.
type QueueItem struct {
	ID, VisitID, BusID, BusName string
	Kind, Department, Wijk      string
	DueDate                     string // YYYY-MM-DD or ""
	OpenedAt                    string // the visit's time
	Status                      string
	Assignee                    string // email, "" when nobody has it
	Business                    string
	// Cursor continues the queue after this row.
	Cursor string
}

// Overdue reports whether the follow-up is unfinished past its due date.
func (q QueueItem) Overdue(today string) bool {
	return q.DueDate != "" && q.DueDate < today && !schema.StatusFinished(q.Status)
}

// The queue's one query, put together from the filter. Every variant walks
// an index in the page's order (followups_due, followups_age, or
// followups_assignee) and stops after one page, so a page costs about the
// same at 300,000 follow-ups as at 300; filters that match few rows walk
// further, which the measure test covers.
const queryQueueSelect = `
SELECT f.id, f.visit_id, f.bus_id, b.name, f.kind, f.department, f.wijk, f.due_date, f.opened_at, f.status,
       coalesce(st.email, ''), v.name, %s
FROM followups f INDEXED BY %s
JOIN visits v ON v.id = f.visit_id
JOIN buses b ON b.id = f.bus_id
LEFT JOIN staff st ON st.id = f.assignee
WHERE %s
ORDER BY %s
LIMIT ?`

// Queue returns one page of the queue and whether more follow.
func (s *Store) Queue(ctx context.Context, f QueueFilter) ([]QueueItem, bool, error) {
	s.settle(ctx)
	if f.Limit <= 0 || f.Limit > MaxQueuePage {
		f.Limit = MaxQueuePage
	}
	q, args := queueQuery(f)
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []QueueItem
	for rows.Next() {
		var (
			it      QueueItem
			sortVal string
		)
		if err := rows.Scan(&it.ID, &it.VisitID, &it.BusID, &it.BusName, &it.Kind, &it.Department, &it.Wijk,
			&it.DueDate, &it.OpenedAt, &it.Status, &it.Assignee, &it.Business, &sortVal); err != nil {
			return nil, false, err
		}
		it.Cursor = sortVal + "|" + it.ID
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// queueQuery is the queue's SQL for f, and its arguments.
func queueQuery(f QueueFilter) (string, []any) {
	key := "f.due_sort"
	if f.Sort == SortAge {
		key = "f.opened_at"
	}
	index := "followups_due"
	switch {
	case f.Assignee != 0:
		index = "followups_assignee"
		if f.Sort == SortAge {
			index = "" // few rows: any plan is fast
		}
	case f.Status == schema.StatusWaiting:
		// Rare statuses: their own partial index, which SQLite uses only
		// when the query names the status itself, not as a parameter.
		index = "followups_waiting"
	case f.Status == schema.StatusReopenRequested:
		index = "followups_reopen"
	case f.Sort == SortAge:
		index = "followups_age"
	}
	var (
		where []string
		args  []any
	)
	if f.Assignee != 0 {
		where = append(where, "f.assignee = ?")
		args = append(args, f.Assignee)
	}
	switch f.Status {
	case "":
		where = append(where, "f.active = 1")
	case schema.StatusDone, schema.StatusCancelled:
		where = append(where, "f.active = 0", "f.status = ?")
		args = append(args, f.Status)
	case schema.StatusWaiting, schema.StatusReopenRequested:
		where = append(where, "f.status = '"+f.Status+"'")
	default:
		where = append(where, "f.active = 1", "f.status = ?")
		args = append(args, f.Status)
	}
	for _, c := range []struct{ col, val string }{
		{"f.kind", f.Kind}, {"f.department", f.Department}, {"f.wijk", f.Wijk}, {"f.bus_id", f.BusID},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.Overdue {
		// due_sort puts "no due date" last, as 9999-12-31.
		where = append(where, "f.due_sort < ?")
		args = append(args, f.Today)
	}
	if f.Unrouted {
		where = append(where, "f.route_rule IS NULL AND f.route_by = ''")
	}
	if sortKey, id, ok := strings.Cut(f.After, "|"); ok {
		where = append(where, "("+key+", f.id) > (?, ?)")
		args = append(args, sortKey, id)
	}
	where = append(where, "v.deleted = 0")
	q := queryQueueSelect
	if index == "" {
		q = strings.Replace(q, " INDEXED BY %s", "%s", 1)
	}
	q = fmt.Sprintf(q, key, index, strings.Join(where, " AND "), key+", f.id")
	return q, append(args, f.Limit+1)
}
