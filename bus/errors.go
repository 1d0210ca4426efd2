package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"infobus/internal/sqlite"
	"infobus/schema"
	infosync "infobus/sync"
)

// What a full disk says to the crew. The record stays on the tablet.
const (
	msgDiskFullEN = "The bus's disk is full: nothing was saved on the bus. The visit stays on the tablet. Tell the coordinator."
	msgDiskFullNL = "De schijf van de bus is vol: er is niets opgeslagen op de bus. Het bezoek blijft op de tablet. Meld het aan de coördinator."
)

// apiError is the JSON body of every refusal: a machine code, a sentence in
// English and one in Dutch, and for validation the bad fields.
type apiError struct {
	Error     string            `json:"error"`
	Message   string            `json:"message"`
	MessageNL string            `json:"message_nl"`
	Fields    map[string]string `json:"fields,omitempty"`
	FieldsNL  map[string]string `json:"fields_nl,omitempty"`
	// FieldsOmitted counts bad fields beyond the schema.MaxReportedFields named.
	FieldsOmitted int   `json:"fields_omitted,omitempty"`
	CurrentRev    int64 `json:"current_rev,omitempty"`
}

// fieldError reports one bad request field the way validation reports a
// bad record field.
func fieldError(field, en, nl string) error {
	return &schema.ValidationError{Fields: map[string]schema.Problem{field: {EN: en, NL: nl}}}
}

// badRequest is a request the server could not read at all.
type badRequest struct{ en, nl string }

func (e *badRequest) Error() string { return e.en }

// decodeJSON reads exactly one JSON value into v and refuses fields v does
// not have: a typo in a field name must not silently drop data, and there is
// never a place for a field such as a citizen service number.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return &badRequest{"body must hold a single JSON object", "de inhoud moet één JSON-object zijn"}
		}
		return nil
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return &badRequest{"body is empty; send a JSON object", "de inhoud is leeg; stuur een JSON-object"}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{"body is not valid JSON: " + err.Error(), "de inhoud is geen geldige JSON"}
	case errors.As(err, &typ):
		field := wirePath(typ.Field)
		if field == "" {
			return &badRequest{"body must be a JSON object", "de inhoud moet een JSON-object zijn"}
		}
		return fieldError(field, "must be a "+jsonKind(typ.Type.Kind().String()), "heeft het verkeerde type")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldError(field, "is not a field of this record", "is geen veld van dit record")
	}
	return &badRequest{"body could not be read: " + err.Error(), "de inhoud kon niet worden gelezen"}
}

// wirePath turns the path encoding/json reports into the wire path: it
// names embedded structs by their Go type ("Visit.rating"), which no client
// knows; wire names are all snake_case, so capitalized parts are Go's.
func wirePath(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && !unicode.IsUpper(rune(p[0])) {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean (true or false)"
	case "slice", "array":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// handleError is the one place that turns errors into status codes, and the
// one place that logs internal errors, which clients see only as "internal
// error".
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	// Also reached for a body over Fiber's limit, before any middleware.
	setSecurityHeaders(c)
	status, body := s.errorResponse(c, err)
	return c.Status(status).JSON(body)
}

func (s *Server) errorResponse(c *fiber.Ctx, err error) (int, apiError) {
	if status, body, ok := codeErrorResponse(err); ok {
		return status, body
	}
	var (
		ve *schema.ValidationError
		de *schema.DecodeError
		re *RevError
		br *badRequest
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &ve):
		// Plain sentences for the crew: the fields say which; field names
		// belong in logs (Summary), not here.
		en, nl := "Some fields are not filled in correctly.", "Niet alle velden zijn goed ingevuld."
		if ve.Omitted > 0 {
			en += fmt.Sprintf(" These are %d of them, and %d more.", len(ve.Fields), ve.Omitted)
			nl += fmt.Sprintf(" Dit zijn er %d, en nog %d meer.", len(ve.Fields), ve.Omitted)
		}
		return fiber.StatusBadRequest, apiError{
			Error: "validation", Message: en, MessageNL: nl,
			Fields: ve.English(), FieldsNL: ve.Dutch(), FieldsOmitted: ve.Omitted,
		}
	case errors.As(err, &de):
		return fiber.StatusBadRequest, apiError{Error: "bad_request", Message: de.EN, MessageNL: de.NL}
	case errors.As(err, &re) && errors.Is(re.Err, ErrConflict):
		// Say what differs: the fields the bus holds otherwise, marked on
		// the tablet's form like a validation error.
		body := apiError{
			Error: "conflict", CurrentRev: re.CurrentRev,
			Message:   "The bus already has this visit with other details. Check the marked fields and save the visit again.",
			MessageNL: "Op de bus staat dit bezoek al, met andere gegevens. Kijk bij de gemarkeerde velden en sla het bezoek opnieuw op.",
		}
		if len(re.Differs) > 0 {
			body.Fields, body.FieldsNL = map[string]string{}, map[string]string{}
			for _, path := range re.Differs {
				body.Fields[path] = "The bus has something else here."
				body.FieldsNL[path] = "Op de bus staat hier iets anders."
			}
		}
		return fiber.StatusConflict, body
	case errors.As(err, &re):
		return fiber.StatusConflict, apiError{
			Error: "stale", CurrentRev: re.CurrentRev,
			Message:   "Someone else has changed this visit in the meantime. Look at the newest version and save your change again.",
			MessageNL: "Iemand anders heeft dit bezoek intussen ook aangepast. Bekijk de nieuwste versie en sla je wijziging opnieuw op.",
		}
	case errors.As(err, &br):
		return fiber.StatusBadRequest, apiError{Error: "bad_request", Message: br.en, MessageNL: br.nl}
	case errors.Is(err, ErrNotFound):
		return fiber.StatusNotFound, apiError{Error: "not_found", Message: "The bus does not have this visit.", MessageNL: "Dit bezoek staat niet op de bus."}
	case errors.Is(err, ErrDeviceRevoked):
		return fiber.StatusUnauthorized, apiError{Error: "device_unpaired",
			Message:   "This tablet was disconnected from the bus. Connect it again; the visits on the tablet are kept.",
			MessageNL: "Deze tablet is losgekoppeld van de bus. Koppel hem opnieuw; de bezoeken op de tablet blijven bewaard."}
	case errors.Is(err, ErrUnauthorized):
		return fiber.StatusUnauthorized, apiError{Error: "unauthorized",
			Message:   "This tablet is no longer connected to the bus. Connect it again.",
			MessageNL: "Deze tablet is niet meer gekoppeld aan de bus. Koppel hem opnieuw."}
	case errors.Is(err, ErrPairingCodeUsed):
		return fiber.StatusUnauthorized, apiError{Error: "pairing_code_used",
			Message:   "This pairing code has already been used. Ask the coordinator for a new one.",
			MessageNL: "Deze koppelcode is al gebruikt. Vraag de coördinator om een nieuwe."}
	case errors.Is(err, ErrPairingCodeExpired):
		return fiber.StatusUnauthorized, apiError{Error: "pairing_code_expired",
			Message:   "This pairing code has expired: a code works for 10 minutes. Ask the coordinator for a new one.",
			MessageNL: "Deze koppelcode is verlopen: een code werkt 10 minuten. Vraag de coördinator om een nieuwe."}
	case errors.Is(err, ErrPairingCodeUnknown):
		return fiber.StatusUnauthorized, apiError{Error: "pairing_code_unknown",
			Message:   "The bus does not know this pairing code. Check the code, or ask the coordinator for a new one.",
			MessageNL: "De bus kent deze koppelcode niet. Controleer de code, of vraag de coördinator om een nieuwe."}
	case errors.Is(err, infosync.ErrNotEnrolled):
		return fiber.StatusConflict, apiError{Error: "not_enrolled",
			Message:   "This bus is not connected to an office yet. Ask the coordinator to connect it.",
			MessageNL: "Deze bus is nog niet met een kantoor verbonden. Vraag de coördinator om dat te regelen."}
	case errors.Is(err, errNoSyncer):
		return fiber.StatusServiceUnavailable, apiError{Error: "sync_not_running",
			Message: "This bus does not send visits to the office now. Ask the coordinator.", MessageNL: "Deze bus verstuurt nu geen bezoeken naar kantoor. Vraag het de coördinator."}
	case errors.As(err, new(*SyncError)):
		// Why it failed (the office's address, a network error) goes to the
		// log, not to the tablet.
		s.log.Warn("sync asked for by a tablet failed", "err", err)
		return fiber.StatusBadGateway, apiError{Error: "sync_failed",
			Message:   "The bus could not send the visits to the office. The bus keeps them and tries again later.",
			MessageNL: "De bus kon de bezoeken niet naar kantoor sturen. De bus bewaart ze en probeert het later opnieuw."}
	case sqlite.IsFull(err):
		s.log.Error("disk full", "method", c.Method(), "path", c.Path(), "err", err)
		return fiber.StatusInsufficientStorage, apiError{Error: "disk_full", Message: msgDiskFullEN, MessageNL: msgDiskFullNL}
	case errors.Is(err, ErrClosed):
		return fiber.StatusServiceUnavailable, apiError{Error: "unavailable",
			Message: "The bus is shutting down. Try again in a moment.", MessageNL: "De bus gaat uit. Probeer het zo opnieuw."}
	case errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge:
		return fe.Code, apiError{Error: "too_large",
			Message:   fmt.Sprintf("This visit is too large for the bus (more than %d KiB). Make the notes shorter.", s.cfg.BodyLimit>>10),
			MessageNL: fmt.Sprintf("Dit bezoek is te groot voor de bus (meer dan %d KiB). Maak de notities korter.", s.cfg.BodyLimit>>10)}
	case errors.As(err, &fe):
		return fe.Code, fiberErrorBody(fe)
	}
	s.log.Error("internal error", "method", c.Method(), "path", c.Path(), "err", err)
	return fiber.StatusInternalServerError, apiError{Error: "internal", Message: "internal error", MessageNL: "interne fout"}
}

func fiberErrorBody(fe *fiber.Error) apiError {
	switch fe.Code {
	case fiber.StatusNotFound:
		return apiError{Error: "not_found", Message: "no such route", MessageNL: "dit adres bestaat niet"}
	case fiber.StatusMethodNotAllowed:
		return apiError{Error: "method_not_allowed", Message: "this route does not take that method", MessageNL: "dit adres kent deze methode niet"}
	case fiber.StatusTooManyRequests:
		return apiError{Error: "too_many_requests", Message: "Too many requests from this tablet. Wait a moment and try again.",
			MessageNL: "Te veel verzoeken van deze tablet. Wacht even en probeer het opnieuw."}
	}
	return apiError{Error: strings.ToLower(strings.ReplaceAll(fe.Message, " ", "_")), Message: fe.Message, MessageNL: fe.Message}
}
