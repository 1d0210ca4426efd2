package bus

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// The crew API for the bus's day: the stops (the office's plan and the
// crew's own), the quick-contact tally, and the office's history.

func (s *Server) stopRoutes(api fiber.Router) {
	api.Get("/stops", s.requireDevice, s.handleStops)
	api.Put("/stops/:id", s.requireDevice, s.handleStopPut)
	api.Put("/quick/:id", s.requireDevice, s.handleQuickPut)
	api.Get("/quick", s.requireDevice, s.handleQuickCounts)
	api.Get("/history", s.requireDevice, s.handleHistory)
}

// handleStops answers the stops from yesterday on: a tablet picks today's.
func (s *Server) handleStops(c *fiber.Ctx) error {
	now := s.store.now()
	stops, err := s.store.Stops(c.UserContext(), today(now.AddDate(0, 0, -1)))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"today": today(now), "stops": stops})
}

// handleStopPut takes a stop the crew added on the spot.
func (s *Server) handleStopPut(c *fiber.Ctx) error {
	st, err := decodeStrict[schema.Stop](c.Body(), "planned", "bus_id", "at_office")
	if err != nil {
		return err
	}
	pathID := strings.ToLower(c.Params("id"))
	if st.ID == "" {
		st.ID = pathID
	}
	if st.ID != pathID {
		return fieldError("id", "must match the id in the URL", "moet gelijk zijn aan het id in het adres")
	}
	st.Normalize()
	st.Planned, st.BusID = false, ""
	if st.CreatedAt == "" {
		st.CreatedAt = schema.Timestamp(s.store.now())
	}
	if err := st.Validate(); err != nil {
		return err
	}
	created, err := s.store.PutCrewStop(c.UserContext(), st)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(StopView{Stop: st})
}

// handleQuickPut takes one tap of the tally. A resend of the same id is
// answered 200 and counts once.
func (s *Server) handleQuickPut(c *fiber.Ctx) error {
	q, err := decodeStrict[schema.QuickContact](c.Body())
	if err != nil {
		return err
	}
	pathID := strings.ToLower(c.Params("id"))
	if q.ID == "" {
		q.ID = pathID
	}
	if q.ID != pathID {
		return fieldError("id", "must match the id in the URL", "moet gelijk zijn aan het id in het adres")
	}
	// The device is the token's, whatever the body says.
	q.DeviceID = c.Locals(localDevice).(string)
	if err := q.Validate(); err != nil {
		return err
	}
	created, err := s.store.PutQuickContact(c.UserContext(), q)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(q)
}

// handleQuickCounts answers the tally of a stop (?stop_id=) today, every
// tablet's taps together.
func (s *Server) handleQuickCounts(c *fiber.Ctx) error {
	stopID := c.Query("stop_id")
	if stopID != "" && !schema.ValidUUIDv7(stopID) {
		return fieldError("stop_id", "must be a UUIDv7 in lowercase hex", "moet een UUIDv7 zijn (kleine letters)")
	}
	counts, err := s.store.QuickCounts(c.UserContext(), stopID, today(s.store.now()))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"counts": counts})
}

// handleHistory finds earlier visits, from every bus, in the office's
// summary: ?kvk=, or ?name= with ?postcode=, or ?wijk= (the wijk view).
func (s *Server) handleHistory(c *fiber.Ctx) error {
	q := HistoryQuery{KvK: strings.TrimSpace(c.Query("kvk")), Name: c.Query("name"), Postcode: c.Query("postcode"), Wijk: strings.ToUpper(c.Query("wijk"))}
	for _, f := range []struct{ name, v string }{{"kvk", q.KvK}, {"name", q.Name}, {"postcode", q.Postcode}, {"wijk", q.Wijk}} {
		if len(f.v) > maxQueryLength {
			return fieldError(f.name, "is too long", "is te lang")
		}
	}
	if q.KvK == "" && q.Wijk == "" && (q.Name == "" || q.Postcode == "") {
		return fieldError("kvk", "give kvk, or name and postcode, or wijk", "geef kvk, of naam en postcode, of wijk")
	}
	found, err := s.store.History(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"visits": found})
}

// decodeStrict reads a JSON body into a T, refusing fields T lacks apart
// from the read-only ones a tablet may send back, which are dropped.
func decodeStrict[T any](body []byte, readOnly ...string) (T, error) {
	var v T
	if len(readOnly) > 0 {
		m := map[string]json.RawMessage{}
		if err := decodeJSON(body, &m); err != nil {
			return v, err
		}
		for _, k := range readOnly {
			delete(m, k)
		}
		body, _ = json.Marshal(m) // raw messages always marshal
	}
	return v, decodeJSON(body, &v)
}

// ScheduleAddress is the office's public schedule as a card prints it:
// without the scheme, which nobody types.
func ScheduleAddress(officeURL string) string {
	u := strings.TrimSuffix(officeURL, "/") + "/bus"
	u = strings.TrimPrefix(u, "https://")
	return strings.TrimPrefix(u, "http://")
}
