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
       (SELECT count(*) FROM set_aside a WHERE a.bus_id = b.id),
       b.software, b.last_sync_at, b.revoked_at
FROM buses b ORDER BY b.name`
	// queryFleet is queryBuses without counting visits, which reads a
	// bus's whole index: pushed_total says as much for the fleet page.
	queryFleet = `
SELECT b.id, b.name, b.enrolled_at, b.last_push_at, b.acked_seq, b.pushed_total, 0,
       (SELECT count(*) FROM set_aside a WHERE a.bus_id = b.id),
       b.software, b.last_sync_at, b.revoked_at
FROM buses b ORDER BY b.name`
	queryBusSynced = `UPDATE buses SET last_sync_at = ?2 WHERE token_hash = ?1`
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
	// Software is the version the bus said it runs at its last sync.
	Software   string `json:"software"`
	LastSyncAt string `json:"last_sync_at"`
	RevokedAt  string `json:"revoked_at,omitempty"`
}

// AddBus enrolls a new bus called name from the command line; see
// EnrollBus.
func (s *Store) AddBus(ctx context.Context, name, officeURL string) (infosync.Enrollment, error) {
	return s.EnrollBus(ctx, ActorCLI, name, officeURL)
}

// EnrollBus enrolls a new bus called name on behalf of actor (audited) and
// returns what the bus needs to sync with the office at officeURL. The
// token is shown only here: the office keeps its hash. It returns a
// *schema.ValidationError for a bad name and ErrConflict when the name is
// taken.
func (s *Store) EnrollBus(ctx context.Context, actor, name, officeURL string) (infosync.Enrollment, error) {
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
		if _, err := tx.ExecContext(ctx, queryBusInsert, e.BusID, name, schema.HashToken(e.BusToken), key, schema.Timestamp(s.now()), e.CodePrefix); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionBusEnrolled, e.BusID, name)
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
func (s *Store) Buses(ctx context.Context) ([]Bus, error) { return s.buses(ctx, queryBuses) }

// Fleet lists the enrolled buses by name as Buses does, without counting
// their visits (Visits is 0): what the pages need, at any size.
func (s *Store) Fleet(ctx context.Context) ([]Bus, error) { return s.buses(ctx, queryFleet) }

func (s *Store) buses(ctx context.Context, query string) ([]Bus, error) {
	rows, err := s.db.Read.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Bus
	for rows.Next() {
		var b Bus
		if err := rows.Scan(&b.ID, &b.Name, &b.EnrolledAt, &b.LastPushAt, &b.AckedSeq, &b.PushedTotal, &b.Visits, &b.SetAside,
			&b.Software, &b.LastSyncAt, &b.RevokedAt); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// newBusToken is a bus's secret: 256 bits, so a plain hash stores it.
func newBusToken() (string, error) {
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(token), nil
}

// NoteSync records that the bus holding token completed a sync. The
// software it runs is noted with every sync request (NoteBus). An unknown
// token changes nothing.
func (s *Store) NoteSync(ctx context.Context, token string) error {
	_, err := s.db.Write.ExecContext(ctx, queryBusSynced, schema.HashToken(token), schema.Timestamp(s.now()))
	return err
}

// cleanSoftware makes the version a bus sends fit for the fleet page and
// a metrics label: at most 64 bytes, no control characters.
func cleanSoftware(software string) string {
	if len(software) > 64 {
		software = software[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, software)
}
