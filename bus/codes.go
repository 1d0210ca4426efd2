package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// Limits for issuing codes.
const (
	DefaultCodesPerRequest = 10
	MaxCodesPerRequest     = 50
	// CardsDevice stands for the device in the codes table when codes go
	// on printed cards rather than into a tablet's pool.
	CardsDevice = "cards"
)

// ErrNoCodePrefix: the bus was enrolled before follow-up codes existed, so
// it has no prefix to make them with. Enrolling it again fixes that.
var ErrNoCodePrefix = errors.New("this bus's enrollment has no follow-up code prefix; enroll it again")

// CodeTakenError refuses a follow-up code: the bus did not issue it, or it
// is bound to another follow-up already. Field is its place in the visit.
type CodeTakenError struct {
	Field  string
	Code   string
	Issued bool // the bus issued it: it is bound elsewhere
}

func (e *CodeTakenError) Error() string {
	if e.Issued {
		return fmt.Sprintf("%s: code %s belongs to another follow-up", e.Field, e.Code)
	}
	return fmt.Sprintf("%s: code %s was not issued by this bus", e.Field, e.Code)
}

func (e *CodeTakenError) problem() schema.Problem {
	if e.Issued {
		return schema.Problem{
			EN: "This code already belongs to another follow-up. Use a new card or code.",
			NL: "Deze code hoort al bij een andere vervolgafspraak. Gebruik een nieuwe kaart of code."}
	}
	return schema.Problem{
		EN: "This bus did not issue this code. Check the code on the card.",
		NL: "Deze bus heeft deze code niet uitgegeven. Controleer de code op de kaart."}
}

const (
	queryCodeInsert = `INSERT INTO codes (code, device_id, reserved_at) VALUES (?, ?, ?) ON CONFLICT (code) DO NOTHING`
	// A code binds to a follow-up once; binding it again to the same one is
	// a no-op that still matches a row, binding it to another matches none.
	queryCodeBind = `
UPDATE codes SET followup_id = ?2, visit_id = ?3, bound_at = coalesce(bound_at, ?4)
WHERE code = ?1 AND (followup_id IS NULL OR (followup_id = ?2 AND visit_id = ?3))`
	queryCodeExists = `SELECT 1 FROM codes WHERE code = ?`
)

// codeSigner is what issuing needs from the enrollment.
type codeSigner struct {
	prefix    string
	key       []byte
	officeURL string
}

// codeSigner returns the enrollment's prefix and key: infosync.ErrNotEnrolled
// without an office, ErrNoCodePrefix for an enrollment made before codes.
func (s *Store) codeSigner(ctx context.Context) (codeSigner, error) {
	e, err := s.Enrollment(ctx)
	if err != nil {
		return codeSigner{}, err
	}
	if e.CodePrefix == "" {
		return codeSigner{}, ErrNoCodePrefix
	}
	return codeSigner{prefix: e.CodePrefix, key: e.CodeKey, officeURL: e.OfficeURL}, nil
}

// ReserveCodes issues n new follow-up codes and reserves them for device
// (a device id, or CardsDevice). Codes are unique within the bus by the
// table's primary key: a clash draws again. It returns
// infosync.ErrNotEnrolled or ErrNoCodePrefix when the bus cannot sign codes.
func (s *Store) ReserveCodes(ctx context.Context, device string, n int) ([]schema.Code, error) {
	signer, err := s.codeSigner(ctx)
	if err != nil {
		return nil, err
	}
	now := schema.Timestamp(s.now())
	var codes []schema.Code
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		codes = codes[:0]
		for range n {
			c, err := reserveCode(ctx, tx, signer, device, now)
			if err != nil {
				return err
			}
			codes = append(codes, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func reserveCode(ctx context.Context, tx *sql.Tx, signer codeSigner, device, now string) (schema.Code, error) {
	// With 2³⁰ random parts a clash is rare until a bus has issued
	// millions; a few draws more cost nothing.
	for range 16 {
		c, err := schema.RandomCode(signer.prefix, signer.key)
		if err != nil {
			return "", err
		}
		added, err := schema.ExecChanged(ctx, tx, queryCodeInsert, string(c), device, now)
		if err != nil {
			return "", err
		}
		if added {
			return c, nil
		}
	}
	return "", errors.New("no free follow-up code after 16 draws")
}

// bindCodes binds each follow-up's code to it, inside the transaction that
// stores the visit, so that a refused code leaves nothing written. It
// returns a *schema.ValidationError for a code that does not parse and a
// *CodeTakenError for one this bus did not issue or bound elsewhere.
func bindCodes(ctx context.Context, tx *sql.Tx, v *schema.Visit, now string) error {
	for i, f := range v.FollowUps {
		if f.Code == "" {
			continue
		}
		field := fmt.Sprintf("followups[%d].code", i)
		code, err := schema.ParseCode(f.Code)
		var ce *schema.CodeError
		if errors.As(err, &ce) {
			return &schema.ValidationError{Fields: map[string]schema.Problem{field: ce.Problem}}
		}
		bound, err := schema.ExecChanged(ctx, tx, queryCodeBind, string(code), f.ID, v.ID, now)
		if err != nil {
			return err
		}
		if bound {
			continue
		}
		var one int
		err = tx.QueryRowContext(ctx, queryCodeExists, string(code)).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return &CodeTakenError{Field: field, Code: string(code), Issued: err == nil}
	}
	return nil
}

// codeView is one reserved code as the tablet keeps it in its pool.
type codeView struct {
	Code    string `json:"code"`
	Grouped string `json:"grouped"`
	URL     string `json:"url"` // what the QR encodes: the entrepreneur's page
	QRPNG   string `json:"qr_png"`
	QRSVG   string `json:"qr_svg"`
}

// handleCodes reserves codes for the calling device's offline pool.
func (s *Server) handleCodes(c *fiber.Ctx) error {
	n, err := countParam(c, "n", DefaultCodesPerRequest, MaxCodesPerRequest)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	signer, err := s.store.codeSigner(ctx)
	if err != nil {
		return err
	}
	codes, err := s.store.ReserveCodes(ctx, c.Locals(localDevice).(string), n)
	if err != nil {
		return err
	}
	out := make([]codeView, len(codes))
	for i, code := range codes {
		out[i] = codeView{Code: string(code), Grouped: code.Grouped(), URL: QRTarget(signer.officeURL, code),
			QRPNG: "/qr/" + string(code) + ".png", QRSVG: "/qr/" + string(code) + ".svg"}
	}
	return c.JSON(fiber.Map{"codes": out})
}

// countParam reads a whole-number query parameter from 1 to max.
func countParam(c *fiber.Ctx, name string, def, max int) (int, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, fieldError(name, fmt.Sprintf("must be a whole number from 1 to %d", max),
			fmt.Sprintf("moet een heel getal van 1 tot en met %d zijn", max))
	}
	return n, nil
}

// codeErrorResponse maps the errors of this file; errorResponse calls it.
func codeErrorResponse(err error) (int, apiError, bool) {
	var ct *CodeTakenError
	switch {
	case errors.As(err, &ct):
		p := ct.problem()
		return fiber.StatusConflict, apiError{Error: "code_taken", Message: p.EN, MessageNL: p.NL,
			Fields: map[string]string{ct.Field: p.EN}, FieldsNL: map[string]string{ct.Field: p.NL}}, true
	case errors.Is(err, ErrNoCodePrefix):
		return fiber.StatusConflict, apiError{Error: "not_enrolled",
			Message:   "This bus cannot make follow-up codes yet. Ask the office for a new enrollment and enroll the bus again.",
			MessageNL: "Deze bus kan nog geen codes maken. Vraag het kantoor om een nieuwe koppeling en koppel de bus opnieuw."}, true
	}
	return 0, apiError{}, false
}
