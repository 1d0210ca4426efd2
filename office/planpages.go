package office

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// The plan page: staff plan the bus's stops, and see the stops the crew
// added on the spot.

type planData struct {
	Stops  []PlannedStop
	Buses  []Bus
	Wijken []schema.Wijk
	// Quick is the last week's quick contacts, the crew's tally.
	Quick      QuickCounts
	QuickKinds []string
}

func (s *Server) planPage(c *fiber.Ctx) (*Page, error) {
	ctx := c.UserContext()
	now := s.store.now().In(schema.Zone)
	stops, err := s.store.Stops(ctx, StopFilter{From: now.Format(time.DateOnly)})
	if err != nil {
		return nil, err
	}
	buses, err := s.store.Buses(ctx)
	if err != nil {
		return nil, err
	}
	quick, err := s.store.QuickContactCounts(ctx, now.AddDate(0, 0, -7), now.Add(time.Minute), "")
	if err != nil {
		return nil, err
	}
	p := s.newPage(c)
	p.Data = &planData{Stops: stops, Buses: buses, Wijken: schema.Ref.Wijken, Quick: quick, QuickKinds: schema.QuickKinds}
	return p, nil
}

func (s *Server) handlePlanPage(c *fiber.Ctx) error {
	p, err := s.planPage(c)
	if err != nil {
		return err
	}
	switch c.Query("done") {
	case "added":
		p.Notice = "plan.added"
	case "cancelled":
		p.Notice = "plan.cancelled"
	}
	if len(p.Data.(*planData).Buses) == 1 {
		p.Values["bus_id"] = p.Data.(*planData).Buses[0].ID
	}
	return s.render(c, fiber.StatusOK, "plan", p)
}

func (s *Server) handlePlanAdd(c *fiber.Ctx) error {
	st := schema.Stop{BusID: copyForm(c, "bus_id"), Date: copyForm(c, "date"), Start: copyForm(c, "start"),
		End: copyForm(c, "end"), Place: copyForm(c, "place"), Wijk: copyForm(c, "wijk")}
	_, err := s.store.AddStop(c.UserContext(), session(c).Staff.Email, st)
	var ve *schema.ValidationError
	if err == nil {
		return c.Redirect("/plan?done=added#stops", fiber.StatusSeeOther)
	}
	if !errors.As(err, &ve) {
		return err
	}
	p, perr := s.planPage(c)
	if perr != nil {
		return perr
	}
	for k, v := range map[string]string{"bus_id": st.BusID, "date": st.Date, "start": st.Start, "end": st.End, "place": st.Place, "wijk": st.Wijk} {
		p.Values[k] = v
	}
	for field, problem := range ve.Fields {
		label, typed := planLabels[field]
		if !typed {
			continue // id and created_at are made here
		}
		msg := problem.NL
		if p.Lang != DefaultLang {
			msg = problem.EN
		}
		p.Errors[field] = p.T(label) + " " + msg
	}
	return s.render(c, fiber.StatusBadRequest, "plan", p)
}

func (s *Server) handlePlanCancel(c *fiber.Ctx) error {
	id := c.Params("id")
	if !schema.ValidUUIDv7(id) {
		return ErrNotFound
	}
	if err := s.store.CancelStop(c.UserContext(), session(c).Staff.Email, id); err != nil {
		return err
	}
	return c.Redirect("/plan?done=cancelled#stops", fiber.StatusSeeOther)
}

// planLabels names the plan form's fields in the catalogue.
var planLabels = map[string]string{
	"bus_id": "plan.field.bus_id", "date": "plan.field.date", "start": "plan.field.start",
	"end": "plan.field.end", "place": "plan.field.place", "wijk": "plan.field.wijk",
}
