package office

import (
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"infobus/schema"
)

type visitsData struct {
	Visits                                     []VisitItem
	Wijken, Stadsdelen, Topics, Sectors, Buses []Option
	Next, First                                string
	Searched                                   bool
}

var visitParams = []string{"q", "text", "wijk", "stadsdeel", "topic", "sector", "bus", "from", "to"}

func (s *Server) handleVisits(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := s.newPage(c)
	f := VisitFilter{Q: c.Query("q"), Text: c.Query("text"), Wijk: c.Query("wijk"), Stadsdeel: c.Query("stadsdeel"),
		Topic: c.Query("topic"), Sector: c.Query("sector"), BusID: c.Query("bus"), From: c.Query("from"), To: c.Query("to"),
		After: c.Query("after")}
	for _, k := range visitParams {
		p.Values[k] = c.Query(k)
	}
	buses, knownBus, err := s.busOptions(ctx, p, f.BusID)
	if err != nil {
		return err
	}
	check := func(name, v string, ok bool) {
		if v != "" && !ok {
			p.Errors[name] = p.T("filter.bad", "field", p.T("visits."+name))
		}
	}
	_, wijkOK := schema.Ref.Wijk(f.Wijk)
	check("wijk", f.Wijk, wijkOK)
	check("stadsdeel", f.Stadsdeel, slices.Contains(schema.Ref.Stadsdelen(), f.Stadsdeel))
	check("topic", f.Topic, slices.Contains(termCodes(schema.Ref.Topics), f.Topic))
	check("sector", f.Sector, slices.Contains(termCodes(schema.Ref.Sectors), f.Sector))
	check("bus", f.BusID, knownBus[f.BusID])
	for _, d := range []string{"from", "to"} {
		if v := c.Query(d); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				p.Errors[d] = p.T("filter.baddate", "field", p.T("visits."+d))
			}
		}
	}
	if len(f.Q) > 100 || len(f.Text) > 100 {
		p.Errors["q"] = p.T("visits.toolong")
	}
	d := &visitsData{Buses: buses, Wijken: wijkOptions(p, f.Wijk),
		Topics: termOptions(p, schema.Ref.Topics, f.Topic), Sectors: termOptions(p, schema.Ref.Sectors, f.Sector)}
	d.Stadsdelen = []Option{{Value: "", Label: p.T("filter.any"), Selected: f.Stadsdeel == ""}}
	for _, sd := range schema.Ref.Stadsdelen() {
		d.Stadsdelen = append(d.Stadsdelen, Option{Value: sd, Label: sd, Selected: sd == f.Stadsdeel})
	}
	p.Data = d
	if len(p.Errors) > 0 {
		return s.render(c, fiber.StatusBadRequest, "visits", p)
	}
	page, err := s.store.SearchVisits(ctx, f)
	if err != nil {
		return err
	}
	d.Visits = page.Visits
	q := url.Values{}
	for _, k := range visitParams {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
			d.Searched = true
		}
	}
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", page.Next)
		d.Next = "/visits?" + nq.Encode()
	}
	if f.After != "" {
		d.First = "/visits?" + q.Encode()
	}
	return s.render(c, fiber.StatusOK, "visits", p)
}

type visitData struct {
	R        *VisitRecord
	Today    string
	Contact  *schema.Contact
	Shown    bool // the contact details were asked for
	Feedback []FeedbackView
}

func (s *Server) visitPage(c *fiber.Ctx, id string) (*Page, *visitData, error) {
	r, err := s.store.FindVisitRecord(c.UserContext(), id)
	if err != nil {
		return nil, nil, err
	}
	d := &visitData{R: r, Today: s.today()}
	for _, f := range r.Visit.FollowUps {
		fb, err := s.store.feedbackFor(c.UserContext(), f.ID)
		if err != nil {
			return nil, nil, err
		}
		d.Feedback = append(d.Feedback, fb...)
	}
	p := s.newPage(c)
	p.Data = d
	return p, d, nil
}

func (s *Server) handleVisit(c *fiber.Ctx) error {
	p, _, err := s.visitPage(c, c.Params("id"))
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "visit", p)
}

// handleVisitContact shows a visit's contact details, only on a deliberate
// post and never without an entry in the audit log.
func (s *Server) handleVisitContact(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	contact, err := s.store.ViewContact(c.UserContext(), session(c).Staff.Email, id)
	if err != nil {
		return err
	}
	p, d, err := s.visitPage(c, id)
	if err != nil {
		return err
	}
	d.Contact, d.Shown = contact, true
	return s.render(c, fiber.StatusOK, "visit", p)
}
