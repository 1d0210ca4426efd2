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

	"infobus/schema"
	infosync "infobus/sync"
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
		en, nl := ve.Summary()
		return fiber.StatusBadRequest, apiError{
			Error: "validation", Message: en, MessageNL: nl,
			Fields: ve.English(), FieldsNL: ve.Dutch(), FieldsOmitted: ve.Omitted,
		}
	case errors.As(err, &de):
		return fiber.StatusBadRequest, apiError{Error: "bad_request", Message: de.EN, MessageNL: de.NL}
	case errors.As(err, &re) && errors.Is(re.Err, ErrConflict):
		return fiber.StatusConflict, apiError{
			Error: "conflict", CurrentRev: re.CurrentRev,
			Message:   fmt.Sprintf("the bus already has revision %d of this visit with other content; save it again as a new revision", re.CurrentRev),
			MessageNL: fmt.Sprintf("de bus heeft versie %d van dit bezoek al met andere inhoud; sla het opnieuw op als nieuwe versie", re.CurrentRev),
		}
	case errors.As(err, &re):
		return fiber.StatusConflict, apiError{
			Error: "stale", CurrentRev: re.CurrentRev,
			Message:   fmt.Sprintf("the bus has a newer revision (%d) of this visit", re.CurrentRev),
			MessageNL: fmt.Sprintf("de bus heeft een nieuwere versie (%d) van dit bezoek", re.CurrentRev),
		}
	case errors.As(err, &br):
		return fiber.StatusBadRequest, apiError{Error: "bad_request", Message: br.en, MessageNL: br.nl}
	case errors.Is(err, ErrNotFound):
		return fiber.StatusNotFound, apiError{Error: "not_found", Message: "no such record", MessageNL: "dit record bestaat niet"}
	case errors.Is(err, ErrUnauthorized):
		return fiber.StatusUnauthorized, apiError{Error: "unauthorized",
			Message:   "this device is not paired with the bus; pair it again",
			MessageNL: "dit apparaat is niet gekoppeld aan de bus; koppel het opnieuw"}
	case errors.Is(err, ErrPairingCodeUsed):
		return fiber.StatusUnauthorized, apiError{Error: "pairing_code_used",
			Message:   "this pairing code has already been used; make a new one with `infobus bus pair`",
			MessageNL: "deze koppelcode is al gebruikt; maak een nieuwe met `infobus bus pair`"}
	case errors.Is(err, ErrPairingCodeExpired):
		return fiber.StatusUnauthorized, apiError{Error: "pairing_code_expired",
			Message:   "this pairing code has expired (codes work for 10 minutes); make a new one",
			MessageNL: "deze koppelcode is verlopen (codes werken 10 minuten); maak een nieuwe"}
	case errors.Is(err, ErrPairingCodeUnknown):
		return fiber.StatusUnauthorized, apiError{Error: "pairing_code_unknown",
			Message:   "the bus does not know this pairing code; check it or make a new one",
			MessageNL: "de bus kent deze koppelcode niet; controleer hem of maak een nieuwe"}
	case errors.Is(err, infosync.ErrNotEnrolled):
		return fiber.StatusConflict, apiError{Error: "not_enrolled",
			Message:   "this bus is not connected to an office yet; enroll it with `infobus bus enroll`",
			MessageNL: "deze bus is nog niet met een kantoor verbonden; koppel hem met `infobus bus enroll`"}
	case errors.Is(err, errNoSyncer):
		return fiber.StatusServiceUnavailable, apiError{Error: "sync_not_running",
			Message: "sync is not running on this bus", MessageNL: "synchronisatie draait niet op deze bus"}
	case errors.As(err, new(*SyncError)):
		return fiber.StatusBadGateway, apiError{Error: "sync_failed",
			Message:   "the office could not be reached or refused the sync; the bus keeps the visits and tries again (" + err.Error() + ")",
			MessageNL: "het kantoor was niet bereikbaar of weigerde; de bus bewaart de bezoeken en probeert het opnieuw"}
	case errors.Is(err, ErrClosed):
		return fiber.StatusServiceUnavailable, apiError{Error: "unavailable",
			Message: "the bus is shutting down; try again in a moment", MessageNL: "de bus wordt afgesloten; probeer het zo opnieuw"}
	case errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge:
		return fe.Code, apiError{Error: "too_large",
			Message:   fmt.Sprintf("the request body is larger than %d KiB", s.cfg.BodyLimit>>10),
			MessageNL: fmt.Sprintf("het verzoek is groter dan %d KiB", s.cfg.BodyLimit>>10)}
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
	}
	return apiError{Error: strings.ToLower(strings.ReplaceAll(fe.Message, " ", "_")), Message: fe.Message, MessageNL: fe.Message}
}
