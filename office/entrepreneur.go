package office

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// The entrepreneur's page, GET /f/{code}, which the QR code on the card
// opens, and its feedback form. It is public: it shows what the office
// does with the follow-up and never any personal data (no contact
// details, notes, crew or business names, not even the follow-up's
// description, which the crew write freely).

// Rate limits per client address. A person reads the page a few times and
// sends the form once or twice; a guesser of codes meets the MAC first.
const (
	followUpPageRateMax    = 120
	followUpPageRateWindow = time.Minute
	feedbackRateMax        = 10
	feedbackRateWindow     = 10 * time.Minute
)

// States of the follow-up page.
const (
	codeUnknown    = "unknown"    // not a code of any bus: 404, nothing stored
	codeProcessing = "processing" // a bus's code whose visit has not reached the office
	codeKnown      = "known"      // the follow-up is at the office
)

const (
	queryFollowUpOfCode = `
SELECT f.id, f.kind, f.department, f.due_date, f.status, f.resolution
FROM codes c JOIN followups f ON f.id = c.followup_id WHERE c.code = ?`
	queryFollowUpEvents = `
SELECT c.bound_at, f.status, f.status_rev, f.status_at
FROM followups f LEFT JOIN codes c ON c.followup_id = f.id WHERE f.id = ?`
)

// FollowUpEvent is a step in a follow-up's timeline: Status is
// EventReceived or a schema status, At an RFC 3339 time.
type FollowUpEvent struct {
	Status string
	At     string
	// Message is what the office said with the step (texts.go), with
	// its placeholders.
	Message string
}

// EventReceived: the visit carrying the follow-up reached the office.
const EventReceived = "received"

// FollowUpEvents returns the steps of a follow-up so far, oldest first:
// its arrival at the office and every status move staff made since
// (WorkEvents, without who made them or assignments). A status set
// without a move (SetFollowUpStatus) shows as its current one.
func (s *Store) FollowUpEvents(ctx context.Context, followUpID string) ([]FollowUpEvent, error) {
	s.settle(ctx)
	var (
		bound     sql.NullString
		status    string
		statusRev int64
		statusAt  string
	)
	err := s.db.Read.QueryRowContext(ctx, queryFollowUpEvents, followUpID).Scan(&bound, &status, &statusRev, &statusAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var out []FollowUpEvent
	if bound.Valid {
		out = append(out, FollowUpEvent{Status: EventReceived, At: bound.String})
	}
	work, err := s.WorkEvents(ctx, followUpID)
	if err != nil {
		return nil, err
	}
	moves := 0
	for _, e := range work {
		if e.IsMove() {
			out = append(out, FollowUpEvent{Status: e.Status, At: e.At, Message: e.Message})
			moves++
		}
	}
	if moves == 0 && statusRev > 0 {
		out = append(out, FollowUpEvent{Status: status, At: statusAt})
	}
	return out, nil
}

// PublicFollowUp is what the follow-up page may show of a follow-up.
type PublicFollowUp struct {
	ID, Kind, Department, DueDate, Status, Resolution string
	Events                                            []FollowUpEvent
}

// PublicFollowUpOfCode returns the follow-up code is bound to, or
// ErrNotFound while its visit has not reached the office.
func (s *Store) PublicFollowUpOfCode(ctx context.Context, code schema.Code) (*PublicFollowUp, error) {
	s.settle(ctx)
	var f PublicFollowUp
	err := s.db.Read.QueryRowContext(ctx, queryFollowUpOfCode, string(code)).Scan(&f.ID, &f.Kind, &f.Department, &f.DueDate, &f.Status, &f.Resolution)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if f.Events, err = s.FollowUpEvents(ctx, f.ID); err != nil {
		return nil, err
	}
	return &f, nil
}

// followUpData is the follow-up page's Data.
type followUpData struct {
	State    string
	Code     schema.Code
	FollowUp *PublicFollowUp
	Feedback *schema.Feedback
	Ratings  []string
	Prefs    []string
	// Question is the office's question, shown while the follow-up is
	// unfinished (loop.go).
	Question *Question
	// AskSatisfaction: the follow-up is done, so the page asks whether the
	// entrepreneur is satisfied, with Reasons to choose from.
	AskSatisfaction bool
	Satisfaction    *Satisfaction
	Reasons         []Reason
}

// Grouped is the code as the card prints it.
func (d *followUpData) Grouped() string { return d.Code.Grouped() }

// Action is where the form posts.
func (d *followUpData) Action() string { return "/f/" + url.PathEscape(string(d.Code)) + "/feedback" }

var (
	feedbackRatings = func() (out []string) {
		for r := schema.MinRating; r <= schema.MaxRating; r++ {
			out = append(out, strconv.Itoa(r))
		}
		return out
	}()
	feedbackPrefs = []string{schema.PreferPhone, schema.PreferEmail, schema.PreferNone}
)

// departmentName is a department's name in lang, from the reference list.
func departmentName(lang, code string) string {
	for _, d := range schema.Ref.Departments {
		if d.Code == code {
			if lang == "nl" {
				return d.NL
			}
			return d.EN
		}
	}
	return ""
}

// FillText fills a message's placeholders for the public page, which
// names no business.
func (p *Page) FillText(text, due, department string) string {
	return fillText(p.Lang, text, "", due, department)
}

// DepartmentName is the follow-up's department in the page's language.
func (p *Page) DepartmentName(code string) string { return departmentName(p.Lang, code) }

// DateOnly shows a "2006-01-02" date like Date; "" for anything else.
func (p *Page) DateOnly(s string) string {
	t, err := time.ParseInLocation(time.DateOnly, s, zone)
	if err != nil {
		return ""
	}
	return p.Date(t)
}

// At shows an RFC 3339 time as a date and time in the page's language.
func (p *Page) At(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ""
	}
	return p.T("fmt.datetime", "date", p.Date(t), "time", p.Time(t))
}

// followUpPage reads the code in the request and fills a page for it. A
// spelling that is no code, or a code of no bus, comes back as the
// unknown state, with nothing stored.
func (s *Server) followUpPage(c *fiber.Ctx) (*Page, *followUpData, *CodeInfo, error) {
	ctx := c.UserContext()
	p := s.newPage(c)
	typed, err := url.PathUnescape(c.Params("code"))
	if err != nil {
		typed = ""
	}
	d := &followUpData{State: codeUnknown, Ratings: feedbackRatings, Prefs: feedbackPrefs}
	p.Data = d
	info, err := s.store.LookupCode(ctx, typed)
	var ce *schema.CodeError
	switch {
	case errors.As(err, &ce), errors.Is(err, ErrNotFound):
		return p, d, nil, nil
	case err != nil:
		return nil, nil, nil, err
	}
	d.Code = info.Code
	p.relink(c, "/f/"+url.PathEscape(string(info.Code)))
	d.State = codeProcessing
	if info.FollowUpID != "" {
		fu, err := s.store.PublicFollowUpOfCode(ctx, info.Code)
		switch {
		case err == nil:
			d.State, d.FollowUp = codeKnown, fu
		case !errors.Is(err, ErrNotFound):
			return nil, nil, nil, err
		}
	}
	fb, err := s.store.FeedbackByCode(ctx, info.Code)
	switch {
	case err == nil:
		d.Feedback = fb
		p.Values["rating"], p.Values["comment"], p.Values["contact_preference"] = strconv.Itoa(fb.Rating), fb.Comment, fb.ContactPreference
	case !errors.Is(err, ErrNotFound):
		return nil, nil, nil, err
	}
	if d.FollowUp != nil {
		if err := s.loadLoop(c, p, d); err != nil {
			return nil, nil, nil, err
		}
	}
	return p, d, info, nil
}

func (s *Server) handleFollowUpPage(c *fiber.Ctx) error {
	p, d, _, err := s.followUpPage(c)
	if err != nil {
		return err
	}
	if d.State == codeUnknown {
		return s.render(c, fiber.StatusNotFound, "followup", p)
	}
	switch c.Query("saved") {
	case "new":
		p.Notice = "feedback.saved"
	case "revised":
		p.Notice = "feedback.revised"
	case "answer":
		p.Notice = "loop.saved.answer"
	case "answer-revised":
		p.Notice = "loop.saved.answer-revised"
	case "satisfaction":
		p.Notice = "loop.saved.satisfaction"
	case "satisfaction-revised":
		p.Notice = "loop.saved.satisfaction-revised"
	}
	return s.render(c, fiber.StatusOK, "followup", p)
}

func (s *Server) handleFeedback(c *fiber.Ctx) error {
	p, d, info, err := s.followUpPage(c)
	if err != nil {
		return err
	}
	if d.State == codeUnknown {
		return s.render(c, fiber.StatusNotFound, "followup", p)
	}
	in, problems := decodeFeedbackForm(func(name string) string { return c.FormValue(name) })
	if len(problems) > 0 {
		p.Values["rating"], p.Values["comment"], p.Values["contact_preference"] = copyForm(c, "rating"), copyForm(c, "comment"), copyForm(c, "contact_preference")
		for field, pr := range problems {
			p.Errors[field] = p.T(pr.key, pr.args...)
		}
		return s.render(c, fiber.StatusBadRequest, "followup", p)
	}
	_, existed, err := s.store.PutFeedback(c.UserContext(), info.Code, info.BusID, in)
	if err != nil {
		return err
	}
	saved := "new"
	if existed {
		saved = "revised"
	}
	// Post, then redirect: a reload shows the page, not the form again.
	return c.Redirect("/f/"+url.PathEscape(string(info.Code))+"?saved="+saved, fiber.StatusSeeOther)
}

// formProblem is a refused form field: a catalogue key and its arguments.
type formProblem struct {
	key  string
	args []any
}

// decodeFeedbackForm reads the feedback form's fields through get (a form
// value by name) and returns what to store, or for each bad field why.
// Its rules are schema.Feedback's, said for a person filling in the form.
func decodeFeedbackForm(get func(string) string) (FeedbackInput, map[string]formProblem) {
	problems := map[string]formProblem{}
	var in FeedbackInput
	rating, err := strconv.Atoi(strings.TrimSpace(get("rating")))
	if err != nil || rating < schema.MinRating || rating > schema.MaxRating {
		problems["rating"] = formProblem{key: "feedback.error.rating"}
	}
	in.Rating = rating
	// Browsers send line breaks as CRLF; one character each, as typed.
	in.Comment = strings.TrimSpace(strings.ReplaceAll(get("comment"), "\r\n", "\n"))
	switch n := utf8.RuneCountInString(in.Comment); {
	case !utf8.ValidString(in.Comment) || strings.ContainsFunc(in.Comment, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f
	}):
		problems["comment"] = formProblem{key: "feedback.error.comment.chars"}
	case n > schema.MaxComment:
		problems["comment"] = formProblem{key: "feedback.error.comment.long", args: []any{"n", n}}
	}
	in.ContactPreference = strings.TrimSpace(get("contact_preference"))
	switch in.ContactPreference {
	case schema.PreferPhone, schema.PreferEmail, schema.PreferNone:
	default:
		problems["contact_preference"] = formProblem{key: "feedback.error.preference"}
	}
	return in, problems
}
