package bus

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"infobus/schema"
)

// PairingCodeTTL is how long a pairing code works: long enough to walk to
// the tablet, short enough that a photo of the laptop screen is soon useless.
const PairingCodeTTL = 10 * time.Minute

// Pairing refusals, each with its own message for the crew.
var (
	ErrPairingCodeUnknown = errors.New("unknown pairing code")
	ErrPairingCodeUsed    = errors.New("pairing code already used")
	ErrPairingCodeExpired = errors.New("pairing code expired")
	ErrUnauthorized       = errors.New("no valid device token")
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read
// aloud or typed from a screen is hard to get wrong.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// PairingCode is a code made by NewPairingCode, shown once.
type PairingCode struct {
	Code      string    // XXXX-XXXX
	ExpiresAt time.Time // after this the bus refuses it
}

const (
	queryPairingInsert  = `INSERT INTO pairing_codes (code_hash, created_at, expires_at) VALUES (?, ?, ?)`
	queryPairingLookup  = `SELECT expires_at, used_at IS NOT NULL FROM pairing_codes WHERE code_hash = ?`
	queryPairingUse     = `UPDATE pairing_codes SET used_at = ?, device_id = ? WHERE code_hash = ? AND used_at IS NULL`
	queryDeviceInsert   = `INSERT INTO devices (id, token_hash, paired_at, name) VALUES (?, ?, ?, ?)`
	queryDeviceCount    = `SELECT count(*) FROM devices`
	queryPairingCleanup = `DELETE FROM pairing_codes WHERE expires_at < ? AND used_at IS NULL`
)

// NewPairingCode makes a one-time pairing code valid for PairingCodeTTL.
// Only its hash is stored.
func (s *Store) NewPairingCode(ctx context.Context) (PairingCode, error) {
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return PairingCode{}, err
	}
	code := make([]byte, 8)
	for i, b := range raw {
		code[i] = crockford[b%32] // 256 is a multiple of 32: no bias
	}
	now := s.now()
	pc := PairingCode{Code: string(code[:4]) + "-" + string(code[4:]), ExpiresAt: now.Add(PairingCodeTTL).Truncate(time.Second)}
	hash := sha256.Sum256(code)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Old unused codes are worthless; drop them while we are here.
		if _, err := tx.ExecContext(ctx, queryPairingCleanup, now.Add(-24*time.Hour).Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, queryPairingInsert, hash[:], schema.Timestamp(now), pc.ExpiresAt.Unix())
		return err
	})
	return pc, err
}

// normalizePairingCode accepts what people type: any case, with or without
// the dash or spaces, and the letters Crockford reads as digits.
func normalizePairingCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ':
			return -1
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, s)
}

// Device is a paired tablet.
type Device struct {
	ID    string `json:"device_id"`
	Token string `json:"device_token"` // shown once, at pairing
	// Name is what the crew called the tablet, or the bus's "Tablet N".
	Name string `json:"device_name"`
}

// Pair turns a pairing code into a device with a fresh token. It returns
// ErrPairingCodeUnknown, ErrPairingCodeUsed or ErrPairingCodeExpired.
func (s *Store) Pair(ctx context.Context, code string) (Device, error) {
	return s.PairAs(ctx, code, "")
}

// PairAs is Pair for a tablet that gives itself a name, which `infobus bus
// devices` shows. Without one the bus names it "Tablet N", N one more than
// the tablets ever paired, so that the coordinator can tell tablets apart
// and unpair one by its name.
func (s *Store) PairAs(ctx context.Context, code, name string) (Device, error) {
	hash := sha256.Sum256([]byte(normalizePairingCode(code)))
	tokenBytes := make([]byte, 32) // 256 bits
	if _, err := rand.Read(tokenBytes); err != nil {
		return Device{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Device{}, err
	}
	d := Device{ID: id.String(), Token: base64.RawURLEncoding.EncodeToString(tokenBytes), Name: name}
	now := s.now()
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var (
			expiresAt int64
			used      bool
		)
		err := tx.QueryRowContext(ctx, queryPairingLookup, hash[:]).Scan(&expiresAt, &used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrPairingCodeUnknown
		case err != nil:
			return err
		case used:
			return ErrPairingCodeUsed
		case now.Unix() >= expiresAt:
			return ErrPairingCodeExpired
		}
		if d.Name == "" {
			var n int
			if err := tx.QueryRowContext(ctx, queryDeviceCount).Scan(&n); err != nil {
				return err
			}
			d.Name = fmt.Sprintf("Tablet %d", n+1)
		}
		if _, err := tx.ExecContext(ctx, queryDeviceInsert, d.ID, schema.HashToken(d.Token), schema.Timestamp(now), d.Name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, queryPairingUse, schema.Timestamp(now), d.ID, hash[:])
		return err
	})
	if err != nil {
		return Device{}, err
	}
	return d, nil
}

type pairRequest struct {
	PairingCode string `json:"pairing_code"`
	// DeviceName is optional: what the crew call this tablet.
	DeviceName string `json:"device_name,omitempty"`
}

func (s *Server) handlePair(c *fiber.Ctx) error {
	var req pairRequest
	if err := decodeJSON(c.Body(), &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.PairingCode) == "" {
		return fieldError("pairing_code", "is required", "is verplicht")
	}
	name := strings.TrimSpace(req.DeviceName)
	if len([]rune(name)) > MaxDeviceName || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fieldError("device_name", fmt.Sprintf("must be at most %d characters, without control characters", MaxDeviceName),
			fmt.Sprintf("mag hoogstens %d tekens lang zijn, zonder stuurtekens", MaxDeviceName))
	}
	d, err := s.store.PairAs(c.UserContext(), req.PairingCode, name)
	if err != nil {
		return err
	}
	s.log.Info("device paired", "device", d.ID, "name", d.Name)
	return c.Status(fiber.StatusCreated).JSON(d)
}

// requireDevice lets a request through only with a paired device's token
// and puts the device id in c.Locals("device").
func (s *Server) requireDevice(c *fiber.Ctx) error {
	auth := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return ErrUnauthorized
	}
	id, err := s.devices.lookup(c.UserContext(), token)
	if err != nil {
		return err
	}
	c.Locals(localDevice, id)
	return c.Next()
}
