package office

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/google/uuid"

	"infobus/internal/sqlite"
	"infobus/schema"
	infosync "infobus/sync"
)

// MaxBusName bounds a bus's name, in characters.
const MaxBusName = 100

const (
	queryBusInsert  = `INSERT INTO buses (id, name, token_hash, code_key, enrolled_at, code_prefix) VALUES (?, ?, ?, ?, ?, ?)`
	queryBusByToken = `SELECT id FROM buses WHERE token_hash = ?`
	queryBusCodeKey = `SELECT code_key FROM buses WHERE id = ?`
	queryBuses      = `
SELECT b.id, b.name, b.enrolled_at, b.last_push_at, b.acked_seq, b.pushed_total,
       (SELECT count(*) FROM visits v WHERE v.bus_id = b.id),
       (SELECT count(*) FROM set_aside a WHERE a.bus_id = b.id)
FROM buses b ORDER BY b.name`
)

// Bus is an enrolled bus as the office lists it.
type Bus struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	EnrolledAt  string `json:"enrolled_at"`
	LastPushAt  string `json:"last_push_at"`
	AckedSeq    int64  `json:"acked_seq"`
	PushedTotal int64  `json:"pushed_total"`
	Visits      int64  `json:"visits"`
	SetAside    int64  `json:"set_aside"`
}

// AddBus enrolls a new bus called name and returns what the bus needs to
// sync with the office at officeURL. The token is shown only here: the
// office keeps its hash. It returns a *schema.ValidationError for a bad
// name and ErrConflict when the name is taken.
func (s *Store) AddBus(ctx context.Context, name, officeURL string) (infosync.Enrollment, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > MaxBusName || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return infosync.Enrollment{}, &schema.ValidationError{Fields: map[string]schema.Problem{"name": {
			EN: "must be 1 to 100 characters without control characters",
			NL: "moet 1 tot 100 tekens lang zijn, zonder stuurtekens"}}}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return infosync.Enrollment{}, err
	}
	token, err := randomToken()
	if err != nil {
		return infosync.Enrollment{}, err
	}
	key := make([]byte, infosync.CodeKeySize)
	if _, err := rand.Read(key); err != nil {
		return infosync.Enrollment{}, err
	}
	e := infosync.Enrollment{OfficeURL: officeURL, BusID: id.String(), BusToken: token, CodeKey: key}
	if err := e.Validate(); err != nil {
		return infosync.Enrollment{}, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// The transaction holds SQLite's write lock, so the free prefix
		// stays free until the insert; the UNIQUE index guards it anyway.
		if e.CodePrefix, err = freeCodePrefix(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, queryBusInsert, e.BusID, name, schema.HashToken(e.BusToken), key, schema.Timestamp(s.now()), e.CodePrefix)
		return err
	})
	if sqlite.IsUnique(err) {
		return infosync.Enrollment{}, ErrConflict
	}
	if err != nil {
		return infosync.Enrollment{}, err
	}
	return e, nil
}

// randomToken makes a bus token: 256 random bits, so a plain hash is
// enough to store it.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// BusByToken returns the id of the bus a token belongs to, or
// infosync.ErrUnauthorized.
func (s *Store) BusByToken(ctx context.Context, token string) (string, error) {
	id, err := schema.IDByToken(ctx, s.db.Read, queryBusByToken, token)
	if errors.Is(err, schema.ErrNotFound) {
		return "", infosync.ErrUnauthorized
	}
	return id, err
}

// CodeKey returns the follow-up code key of a bus, or ErrNotFound.
func (s *Store) CodeKey(ctx context.Context, busID string) ([]byte, error) {
	var key []byte
	err := s.db.Read.QueryRowContext(ctx, queryBusCodeKey, busID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return key, err
}

// Buses lists the enrolled buses by name.
func (s *Store) Buses(ctx context.Context) ([]Bus, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryBuses)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Bus
	for rows.Next() {
		var b Bus
		if err := rows.Scan(&b.ID, &b.Name, &b.EnrolledAt, &b.LastPushAt, &b.AckedSeq, &b.PushedTotal, &b.Visits, &b.SetAside); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
