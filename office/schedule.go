package office

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// The bus's public schedule: /bus, a page anyone may read without logging
// in or running JavaScript, and /bus.ics, the same stops as an iCalendar
// feed to subscribe to, for every wijk or one (?wijk=WK0518NN). Only the
// office's planned stops are shown: a stop the crew added on the spot is
// over before anyone could read it.

// Bounds on the public schedule.
const (
	scheduleRateMax    = 120
	scheduleRateWindow = time.Minute
	scheduleDays       = 92 // a season ahead
	scheduleCache      = "public, max-age=300"
)

// publicStops are the planned stops from today on, in one wijk or all.
func (s *Server) publicStops(c *fiber.Ctx, wijk string) ([]PlannedStop, error) {
	now := s.store.now().In(schema.Zone)
	all, err := s.store.Stops(c.UserContext(), StopFilter{From: now.Format(time.DateOnly), Wijk: wijk})
	if err != nil {
		return nil, err
	}
	last := now.AddDate(0, 0, scheduleDays).Format(time.DateOnly)
	out := all[:0]
	for _, st := range all {
		if st.Planned && st.Date <= last {
			out = append(out, st)
		}
	}
	return out, nil
}

// scheduleWijk reads ?wijk=, which must be a wijk of The Hague when given.
func scheduleWijk(c *fiber.Ctx) (string, bool) {
	w := strings.ToUpper(strings.TrimSpace(c.Query("wijk")))
	if w == "" {
		return "", true
	}
	_, ok := schema.Ref.Wijk(w)
	return w, ok
}

type scheduleData struct {
	Wijk       string // the chosen wijk's code, "" for all
	WijkName   string
	BadWijk    bool
	Stadsdelen []scheduleStadsdeel
	Wijken     []schema.Wijk
	Count      int
}

type scheduleStadsdeel struct {
	Name   string
	Wijken []scheduleWijkStops
}

type scheduleWijkStops struct {
	Code, Name string
	Stops      []scheduleStop
}

type scheduleStop struct {
	Place    string
	When     string // "maandag 30 november 2026, 09.30–16.00 uur"
	Datetime string // for <time datetime>
}

func (s *Server) handleSchedulePage(c *fiber.Ctx) error {
	p := s.newPage(c)
	wijk, ok := scheduleWijk(c)
	d := &scheduleData{Wijken: schema.Ref.Wijken, BadWijk: !ok}
	p.Data = d
	status := fiber.StatusOK
	if !ok {
		status = fiber.StatusBadRequest
		p.Errors["wijk"] = p.T("bus.badwijk")
		wijk = ""
	}
	d.Wijk = wijk
	if w, ok := schema.Ref.Wijk(wijk); ok {
		d.WijkName = w.Name
	}
	stops, err := s.publicStops(c, wijk)
	if err != nil {
		return err
	}
	d.Count = len(stops)
	// Stadsdelen and wijken in the reference's order; stops by time.
	byWijk := map[string][]scheduleStop{}
	for _, st := range stops {
		start, end := st.Interval()
		byWijk[st.Wijk] = append(byWijk[st.Wijk], scheduleStop{Place: st.Place, Datetime: start.Format("2006-01-02T15:04"),
			When: p.T("bus.when", "day", p.T("day."+strings.ToLower(start.Weekday().String())), "date", p.Date(start),
				"start", start.Format(p.T("bus.clock")), "end", end.Format(p.T("bus.clock")))})
	}
	for _, sd := range schema.Ref.Stadsdelen() {
		part := scheduleStadsdeel{Name: sd}
		for _, w := range schema.Ref.Wijken {
			if w.Stadsdeel == sd && len(byWijk[w.Code]) > 0 {
				part.Wijken = append(part.Wijken, scheduleWijkStops{Code: w.Code, Name: w.Name, Stops: byWijk[w.Code]})
			}
		}
		if len(part.Wijken) > 0 {
			d.Stadsdelen = append(d.Stadsdelen, part)
		}
	}
	// The page is the same for everyone but its language (a cookie) and,
	// for a logged-in colleague, the menu with their name: browsers may
	// keep it a while, shared caches not at all.
	if p.Session == nil {
		c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	}
	return s.render(c, status, "bus", p)
}

func (s *Server) handleScheduleICS(c *fiber.Ctx) error {
	wijk, ok := scheduleWijk(c)
	if !ok {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(fiber.StatusBadRequest).SendString("wijk: moet een CBS-wijkcode van Den Haag zijn, zoals WK051828.\n" +
			"wijk: must be a CBS wijk code of The Hague, like WK051828.\n")
	}
	stops, err := s.publicStops(c, wijk)
	if err != nil {
		return err
	}
	lang := langOf(c)
	name := tr(lang, "bus.ics.name")
	if w, ok := schema.Ref.Wijk(wijk); ok {
		name = tr(lang, "bus.ics.namewijk", "wijk", w.Name)
	}
	base := strings.TrimSuffix(s.publicBase(c.UserContext(), c), "/")
	cal := newCalendar(name, s.store.now())
	for _, st := range stops {
		start, end := st.Interval()
		w, _ := schema.Ref.Wijk(st.Wijk)
		cal.event(icsEvent{
			UID:         st.ID + "@infobus",
			Start:       start,
			End:         end,
			Summary:     tr(lang, "bus.ics.summary", "place", st.Place),
			Location:    fmt.Sprintf("%s, %s, Den Haag", st.Place, w.Name),
			Description: tr(lang, "bus.ics.description"),
			URL:         base + "/bus?wijk=" + st.Wijk,
		})
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="informatiebus.ics"`)
	c.Set(fiber.HeaderCacheControl, scheduleCache)
	c.Set(fiber.HeaderVary, "Cookie") // the language
	return c.SendString(cal.String())
}
