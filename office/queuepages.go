package office

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"infobus/schema"
)

// Option is a choice in a filter's select.
type Option struct {
	Value, Label string
	Selected     bool
}

// termOptions lists a reference list in the page's language, with "" for
// "any" first.
func termOptions(p *Page, terms []schema.Term, selected string) []Option {
	out := []Option{{Value: "", Label: p.T("filter.any"), Selected: selected == ""}}
	for _, t := range terms {
		l := t.NL
		if p.Lang == "en" {
			l = t.EN
		}
		out = append(out, Option{Value: t.Code, Label: l, Selected: t.Code == selected})
	}
	return out
}

func wijkOptions(p *Page, selected string) []Option {
	out := []Option{{Value: "", Label: p.T("filter.any"), Selected: selected == ""}}
	for _, w := range schema.Ref.Wijken {
		out = append(out, Option{Value: w.Code, Label: w.Name, Selected: w.Code == selected})
	}
	return out
}

func (s *Server) busOptions(ctx context.Context, p *Page, selected string) ([]Option, map[string]bool, error) {
	buses, err := s.store.Fleet(ctx)
	if err != nil {
		return nil, nil, err
	}
	known := map[string]bool{}
	out := []Option{{Value: "", Label: p.T("filter.any"), Selected: selected == ""}}
	for _, b := range buses {
		known[b.ID] = true
		out = append(out, Option{Value: b.ID, Label: b.Name, Selected: b.ID == selected})
	}
	return out, known, nil
}

func termCodes(terms []schema.Term) []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = t.Code
	}
	return out
}

// termLabel is a reference term's label in lang, or the code itself.
func termLabel(lang string, terms []schema.Term, code string) string {
	for _, t := range terms {
		if t.Code == code {
			if lang == "en" {
				return t.EN
			}
			return t.NL
		}
	}
	return code
}

// today is the office's date.
func (s *Server) today() string { return s.store.now().In(zone).Format(time.DateOnly) }

type queueData struct {
	Items                                          []QueueItem
	Today                                          string
	Statuses, Kinds, Departments, Wijken, BusesOpt []Option
	Overdue, Mine                                  bool
	Unrouted                                       bool
	Sort                                           string
	Next, First                                    string // links
	Filtered                                       bool
	Me                                             int64
}

// queueQuery is the queue's filters as they travel in the URL.
var queueParams = []string{"status", "kind", "department", "wijk", "bus", "overdue", "unrouted", "mine", "sort"}

func (s *Server) handleQueue(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := s.newPage(c)
	me := session(c).Staff
	f := QueueFilter{
		Status: c.Query("status"), Kind: c.Query("kind"), Department: c.Query("department"), Wijk: c.Query("wijk"),
		BusID: c.Query("bus"), Overdue: c.Query("overdue") != "", Unrouted: c.Query("unrouted") != "", Sort: c.Query("sort", SortDue),
		After: c.Query("after"), Limit: 50, Today: s.today(),
	}
	if c.Query("mine") != "" {
		f.Assignee = me.ID
	}
	buses, knownBus, err := s.busOptions(ctx, p, f.BusID)
	if err != nil {
		return err
	}
	// A filter value the lists do not hold is a mistake in the URL: say
	// which, rather than show an empty queue.
	check := func(name, v string, ok bool) {
		if v != "" && !ok {
			p.Errors[name] = p.T("filter.bad", "field", p.T("queue."+name))
			p.Values[name] = v
		}
	}
	check("status", f.Status, slices.Contains(schema.FollowUpStatuses, f.Status))
	check("kind", f.Kind, slices.Contains(schema.FollowUpKinds, f.Kind))
	check("department", f.Department, slices.Contains(termCodes(schema.Ref.Departments), f.Department))
	_, wijkOK := schema.Ref.Wijk(f.Wijk)
	check("wijk", f.Wijk, wijkOK)
	check("bus", f.BusID, knownBus[f.BusID])
	check("sort", f.Sort, f.Sort == SortDue || f.Sort == SortAge)
	d := &queueData{Today: f.Today, Overdue: f.Overdue, Unrouted: f.Unrouted, Mine: f.Assignee != 0, Sort: f.Sort, Me: me.ID}
	p.Data = d
	statuses := []Option{{Value: "", Label: p.T("queue.status.active"), Selected: f.Status == ""}}
	for _, st := range schema.FollowUpStatuses {
		statuses = append(statuses, Option{Value: st, Label: p.T("status." + st), Selected: st == f.Status})
	}
	kinds := []Option{{Value: "", Label: p.T("filter.any"), Selected: f.Kind == ""}}
	for _, k := range schema.FollowUpKinds {
		kinds = append(kinds, Option{Value: k, Label: p.T("kind." + k), Selected: k == f.Kind})
	}
	d.Statuses, d.Kinds, d.BusesOpt = statuses, kinds, buses
	d.Departments = termOptions(p, schema.Ref.Departments, f.Department)
	d.Wijken = wijkOptions(p, f.Wijk)
	if len(p.Errors) > 0 {
		return s.render(c, fiber.StatusBadRequest, "queue", p)
	}
	items, more, err := s.store.Queue(ctx, f)
	if err != nil {
		return err
	}
	d.Items = items
	q := url.Values{}
	for _, k := range queueParams {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
			d.Filtered = d.Filtered || k != "sort"
		}
	}
	if more {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", items[len(items)-1].Cursor)
		d.Next = "/?" + nq.Encode()
	}
	if f.After != "" {
		d.First = "/?" + q.Encode()
	}
	switch c.Query("done") {
	case "assigned":
		p.Notice = "followup.assigned"
	}
	return s.render(c, fiber.StatusOK, "queue", p)
}

type followUpWorkData struct {
	F          *FollowUpDetail
	Today      string
	Next       []string
	Colleagues []Colleague
	Me         int64
	Feedback   []FeedbackView
	// CanAsk: the follow-up may wait for an answer to a question.
	CanAsk bool
	// Satisfaction is the entrepreneur's answer after closing, with its
	// reason in the page's language.
	Satisfaction       *Satisfaction
	SatisfactionReason string
	// Departments to route the follow-up to by hand (routing.go).
	Departments []Option
	// Texts are the standard texts that fit the moves offered (texts.go).
	Texts []StandardText
}

// FeedbackView is an entrepreneur's rating and comment as the office shows
// them beside a follow-up.
type FeedbackView struct {
	Rating    int
	Max       int // the scale's top, schema.MaxRating
	Comment   string
	CreatedAt string
}

func (s *Server) followUpWorkPage(c *fiber.Ctx, id string) (*Page, error) {
	ctx := c.UserContext()
	f, err := s.store.FindFollowUp(ctx, id)
	if err != nil {
		return nil, err
	}
	cols, err := s.store.Colleagues(ctx)
	if err != nil {
		return nil, err
	}
	fb, err := s.store.feedbackFor(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	p := s.newPage(c)
	d := &followUpWorkData{F: f, Today: s.today(), Next: NextStatuses(f.Status), Colleagues: cols, Me: session(c).Staff.ID, Feedback: fb,
		CanAsk: checkMove(f.Status, schema.StatusWaiting, "?", byQuestion) == nil}
	p.Data = d
	d.Departments = termOptions(p, schema.Ref.Departments, f.Department)[1:]
	texts, err := s.store.Texts(ctx)
	if err != nil {
		return nil, err
	}
	d.Texts = textsFor(texts, d.Next, f.Department)
	// ?text=ID&status=S fills the message with a standard text in the
	// visit's language: choosing one works without script.
	if id, err := strconv.ParseInt(c.Query("text"), 10, 64); err == nil {
		for _, t := range d.Texts {
			if t.ID == id {
				p.Values["status"], p.Values["message"] = t.Status, t.In(f.Lang)
			}
		}
	}
	if err := s.loadSatisfactionView(c, p, d); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Server) handleFollowUp(c *fiber.Ctx) error {
	p, err := s.followUpWorkPage(c, c.Params("id"))
	if err != nil {
		return err
	}
	switch c.Query("done") {
	case "moved":
		p.Notice = "followup.moved"
	case "assigned":
		p.Notice = "followup.assigned"
	case "asked":
		p.Notice = "followup.asked"
	case "routed":
		p.Notice = "followup.routed"
	}
	return s.render(c, fiber.StatusOK, "followup_work", p)
}

// handleFollowUpMove moves a follow-up's status. A refused move shows the
// page again with the reason beside the form.
func (s *Server) handleFollowUpMove(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	to, note, message := copyForm(c, "status"), copyForm(c, "note"), copyForm(c, "message")
	_, err := s.store.MoveFollowUpSaying(c.UserContext(), session(c).Staff.Email, id, to, note, message)
	var me *MoveError
	if errors.As(err, &me) {
		p, perr := s.followUpWorkPage(c, id)
		if perr != nil {
			return perr
		}
		field := "status"
		switch me {
		case errMoveNote, errMoveNoteLong, errMoveNoteControl:
			field = "note"
		case errMessage:
			field = "message"
		}
		p.Errors[field] = p.T(me.Key)
		p.Values["status"], p.Values["note"], p.Values["message"] = to, note, message
		return s.render(c, fiber.StatusUnprocessableEntity, "followup_work", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/followups/"+url.PathEscape(id)+"?done=moved", fiber.StatusSeeOther)
}

// handleFollowUpAssign gives a follow-up to a colleague, or to the person
// asking when the form says "me" (claiming). back=queue returns to the
// queue, where the claim button is.
func (s *Server) handleFollowUpAssign(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	me := session(c).Staff
	to := me.ID
	if v := c.FormValue("assignee"); v != "" && v != "me" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			n = -1
		}
		to = n
	}
	err := s.store.AssignFollowUp(c.UserContext(), me.Email, id, to)
	var mErr *MoveError
	if errors.As(err, &mErr) {
		p, perr := s.followUpWorkPage(c, id)
		if perr != nil {
			return perr
		}
		p.Errors["assignee"] = p.T(mErr.Key)
		return s.render(c, fiber.StatusUnprocessableEntity, "followup_work", p)
	}
	if err != nil {
		return err
	}
	if back := c.FormValue("back"); back != "" {
		return c.Redirect(safeNext(back), fiber.StatusSeeOther)
	}
	return c.Redirect("/followups/"+url.PathEscape(id)+"?done=assigned", fiber.StatusSeeOther)
}

// feedbackFor returns the entrepreneur's feedback on a follow-up, through
// the code bound to it.
func (s *Store) feedbackFor(ctx context.Context, followUpID string) ([]FeedbackView, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryFeedbackOf, followUpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FeedbackView
	for rows.Next() {
		fb := FeedbackView{Max: schema.MaxRating}
		if err := rows.Scan(&fb.Rating, &fb.Comment, &fb.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, fb)
	}
	return out, rows.Err()
}

const (
	queryFeedbackOf = `
SELECT fb.rating, fb.comment, fb.created_at FROM codes c JOIN feedback fb ON fb.code = c.code
WHERE c.followup_id = ? ORDER BY fb.created_at DESC`
)

// Select is what the "select" partial needs.
type Select struct {
	Name, Label, Error string
	Options            []Option
}

// Select describes a labelled select for the "select" partial.
func (p *Page) Select(name, labelKey string, opts []Option) Select {
	return Select{Name: name, Label: p.T(labelKey), Error: p.Errors[name], Options: opts}
}

// Wijk is a wijk code's name.
func (p *Page) Wijk(code string) string { return wijkName(code) }

// Department is a department code's label in the page's language.
func (p *Page) Department(code string) string {
	return termLabel(p.Lang, schema.Ref.Departments, code)
}

// Topic is a topic code's label in the page's language.
func (p *Page) Topic(code string) string { return termLabel(p.Lang, schema.Ref.Topics, code) }

// Sector is a sector code's label in the page's language.
func (p *Page) Sector(code string) string { return termLabel(p.Lang, schema.Ref.Sectors, code) }

// When shows a stored timestamp as a local date and time; "" for none.
func (p *Page) When(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return p.Date(t) + ", " + p.Time(t)
}

// Day shows a YYYY-MM-DD date, or a timestamp's local date.
func (p *Page) Day(d string) string {
	if t, err := time.ParseInLocation(time.DateOnly, d, zone); err == nil {
		return p.Date(t)
	}
	if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
		return p.Date(t)
	}
	return d
}

// Age says how many days ago a timestamp was, by the office's calendar.
func (p *Page) Age(ts, today string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ""
	}
	now, err := time.ParseInLocation(time.DateOnly, today, zone)
	if err != nil {
		return ""
	}
	y, m, d := t.In(zone).Date()
	days := int(now.Sub(time.Date(y, m, d, 0, 0, 0, 0, zone)).Hours()+12) / 24
	return p.N("age.days", days)
}

// TimelineData is what the "timeline" partial needs.
type TimelineData struct {
	P      *Page
	Events []WorkEvent
}

// Timeline hands a follow-up's events to the "timeline" partial.
func (p *Page) Timeline(events []WorkEvent) TimelineData {
	return TimelineData{P: p, Events: events}
}
