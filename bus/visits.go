package bus

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// List limits for GET /api/visits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
	maxQueryLength   = 200
)

func (s *Server) handleVisitPut(c *fiber.Ctx) error {
	// A tablet may send back a record as it read it, read-only fields
	// included; those are accepted and ignored.
	v, err := schema.DecodeVisit(c.Body(), "seq", "state", "set_aside", "contact_withheld", "contact_removed")
	if err != nil {
		return err
	}
	withheld, err := contactWithheld(c.Body())
	if err != nil {
		return err
	}
	pathID := strings.ToLower(c.Params("id"))
	if v.ID == "" {
		v.ID = pathID
	}
	v.Normalize()
	if v.ID != pathID {
		return fieldError("id", "must match the id in the URL", "moet gelijk zijn aan het id in het adres")
	}
	// The device is always the token's: a tablet cannot write under
	// another's id. An edit keeps the device that recorded the visit
	// (PutVisit, PutVisitKeepingContact).
	v.DeviceID = c.Locals(localDevice).(string)
	// The bus speaks for itself: what a tablet puts in server-owned fields
	// does not count.
	v.BusID = ""
	var (
		result PutResult
		seq    int64
	)
	if withheld {
		// The tablet never had the details: the bus keeps its own.
		if v.Contact != nil {
			return fieldError("contact", "must be left out when contact_withheld is true: the bus keeps the contact details it has",
				"moet leeg blijven als contact_withheld true is: de bus houdt de contactgegevens die hij heeft")
		}
		result, seq, err = s.store.PutVisitKeepingContact(c.UserContext(), v)
	} else {
		if err := s.validateVisit(c.UserContext(), v); err != nil {
			return err
		}
		result, seq, err = s.store.PutVisit(c.UserContext(), v)
	}
	if err != nil {
		return err
	}
	device := c.Locals(localDevice).(string)
	if result == Created {
		// A new visit has no office status yet: the answer needs no read.
		created := VisitView{Visit: v.CrewOwned(), Seq: seq, State: StateBus}
		created.ReceivedAt = v.ReceivedAt
		withholdContact(&created, device)
		return c.Status(fiber.StatusCreated).JSON(created)
	}
	view, err := s.store.FindVisitByID(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	withholdContact(view, device)
	return c.JSON(view)
}

// contactWithheld reads the mark a tablet sends back with a visit whose
// contact details the bus withheld from it (see withholdContact). Most
// bodies lack it: those are not read twice.
func contactWithheld(body []byte) (bool, error) {
	if !bytes.Contains(body, []byte(`"contact_withheld"`)) {
		return false, nil
	}
	var mark struct {
		ContactWithheld bool `json:"contact_withheld"`
	}
	if err := json.Unmarshal(body, &mark); err != nil {
		return false, fieldError("contact_withheld", "must be true or false", "moet true of false zijn")
	}
	return mark.ContactWithheld, nil
}

// withholdContact takes the contact details out of a view for any device
// but the one that recorded the visit, and marks them withheld: every
// tablet sees the bus's whole day, but personal data stays on the tablet
// it was typed on (and on the bus). The marker tells the tablet that the
// details exist elsewhere; sent back with a PUT it keeps them on the bus
// (Store.PutVisitKeepingContact), so an absent contact never erases.
func withholdContact(view *VisitView, device string) {
	if view.Contact != nil && view.DeviceID != device {
		view.Contact = nil
		view.ContactWithheld = true
	}
}

func (s *Server) handleVisitGet(c *fiber.Ctx) error {
	view, err := s.store.FindVisitByID(c.UserContext(), strings.ToLower(c.Params("id")))
	if err != nil {
		return err
	}
	withholdContact(view, c.Locals(localDevice).(string))
	return c.JSON(view)
}

type visitList struct {
	Visits []VisitView `json:"visits"`
	// Seq is the since for the next request: everything up to it is in
	// this answer or in earlier ones.
	Seq  int64 `json:"seq"`
	More bool  `json:"more"` // more visits matched than limit
}

func (s *Server) handleVisitList(c *fiber.Ctx) error {
	f := VisitFilter{Limit: DefaultListLimit}
	var err error
	if raw := c.Query("since"); raw != "" {
		f.Changes = true
		if f.Since, err = strconv.ParseInt(raw, 10, 64); err != nil || f.Since < 0 {
			return fieldError("since", "must be a whole number, 0 or more", "moet een heel getal zijn, 0 of meer")
		}
	}
	if raw := c.Query("limit"); raw != "" {
		if f.Limit, err = strconv.Atoi(raw); err != nil || f.Limit < 1 || f.Limit > MaxListLimit {
			return fieldError("limit", "must be a whole number from 1 to 1000", "moet een heel getal van 1 tot en met 1000 zijn")
		}
	}
	if f.Wijk = strings.ToUpper(strings.TrimSpace(c.Query("wijk"))); f.Wijk != "" {
		if _, ok := schema.Ref.Wijk(f.Wijk); !ok {
			return fieldError("wijk", "must be a CBS wijk code of The Hague (WK051801–WK051844)", "moet een CBS-wijkcode van Den Haag zijn (WK051801–WK051844)")
		}
	}
	if f.Query = c.Query("q"); len([]rune(f.Query)) > maxQueryLength {
		return fieldError("q", "must be at most 200 characters", "mag hoogstens 200 tekens lang zijn")
	}
	// Read the counter first: a change that lands between the two reads is
	// then seen again next time rather than missed.
	seq, err := s.store.LatestSeq(c.UserContext())
	if err != nil {
		return err
	}
	visits, more, err := s.store.FindVisits(c.UserContext(), f)
	if err != nil {
		return err
	}
	if visits == nil {
		visits = []VisitView{}
	}
	device := c.Locals(localDevice).(string)
	for i := range visits {
		withholdContact(&visits[i], device)
	}
	if f.Changes && more {
		// Oldest first: the next page starts after the last one here.
		seq = visits[len(visits)-1].Seq
	}
	return c.JSON(visitList{Visits: visits, Seq: seq, More: more})
}

// referenceFile is the reference lists as JSON, made once: they change only
// with the binary, and every tablet fetches them at start.
var referenceFile = sync.OnceValues(func() (*appFile, error) {
	body, err := json.Marshal(schema.Ref)
	if err != nil {
		return nil, err
	}
	return newAppFile("reference.json", body), nil
})

func (s *Server) handleReference(c *fiber.Ctx) error {
	f, err := referenceFile()
	if err != nil {
		return err
	}
	return sendAppFile(c, f)
}
