package bus

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"infobus/schema"
)

// ErrDeviceRevoked: the token belonged to a tablet that was unpaired
// (`infobus bus unpair`). The app says so and asks to pair again.
var ErrDeviceRevoked = errors.New("device unpaired")

// MaxDeviceName bounds the name a tablet may give itself when pairing.
const MaxDeviceName = 60

// deviceCacheTTL is how long a looked-up token is trusted without asking
// the database again. An unpair in this process takes effect at once; one
// made by `infobus bus unpair` beside the running server within this time.
const deviceCacheTTL = time.Second

// lastSeenEvery: a device's last_seen is written at most this often.
const lastSeenEvery = time.Minute

const (
	queryDeviceLookup = `SELECT id, revoked_at FROM devices WHERE token_hash = ?`
	queryDevices      = `
SELECT d.id, d.name, d.paired_at, d.last_seen, d.revoked_at,
       coalesce((SELECT max(v.received_at) FROM visits v WHERE v.device_id = d.id), '')
FROM devices d ORDER BY d.paired_at, d.id`
	queryDeviceFind   = `SELECT id FROM devices WHERE id = ?1 OR (?1 != '' AND name = ?1) OR id LIKE ?1 || '%' ESCAPE '\'`
	queryDeviceRevoke = `UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = ''`
	queryDeviceSeen   = `UPDATE devices SET last_seen = ?2 WHERE id = ?1`
)

// DeviceInfo is a paired tablet as `infobus bus devices` lists it.
type DeviceInfo struct {
	ID        string `json:"device_id"`
	Name      string `json:"name"`
	PairedAt  string `json:"paired_at"`
	LastSeen  string `json:"last_seen"`  // empty: never since pairing
	RevokedAt string `json:"revoked_at"` // empty: still paired
	// LastDelivered is when the bus last stored a visit this tablet made.
	LastDelivered string `json:"last_delivered"`
}

// Devices lists every tablet ever paired, the unpaired ones included.
func (s *Store) Devices(ctx context.Context) ([]DeviceInfo, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryDevices)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeviceInfo{}
	for rows.Next() {
		var d DeviceInfo
		if err := rows.Scan(&d.ID, &d.Name, &d.PairedAt, &d.LastSeen, &d.RevokedAt, &d.LastDelivered); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UnpairDevice revokes a tablet's token, found by its id, a unique start
// of its id, or its name. It returns the device id, ErrNotFound, or
// ErrConflict when the start of an id or the name matches several.
// Unpairing an unpaired tablet again changes nothing.
func (s *Store) UnpairDevice(ctx context.Context, which string) (string, error) {
	which = strings.TrimSpace(which)
	if which == "" || strings.ContainsAny(which, `%_\`) {
		return "", ErrNotFound
	}
	var id string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, queryDeviceFind, which)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var x string
			if err := rows.Scan(&x); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, x)
		}
		rows.Close()
		switch {
		case len(ids) == 0:
			return ErrNotFound
		case len(ids) > 1:
			return ErrConflict
		}
		id = ids[0]
		_, err = tx.ExecContext(ctx, queryDeviceRevoke, id, schema.Timestamp(s.now()))
		return err
	})
	if err == nil {
		s.unpaired.Add(1)
	}
	return id, err
}

// DeviceByToken returns the id of the device a token belongs to,
// ErrDeviceRevoked for an unpaired one, or ErrUnauthorized.
func (s *Store) DeviceByToken(ctx context.Context, token string) (string, error) {
	var id, revoked string
	err := s.db.Read.QueryRowContext(ctx, queryDeviceLookup, schema.HashToken(token)).Scan(&id, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ErrUnauthorized
	case err != nil:
		return "", err
	case revoked != "":
		return "", ErrDeviceRevoked
	}
	return id, nil
}

// touchDevice records that a device made a request.
func (s *Store) touchDevice(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, queryDeviceSeen, id, schema.Timestamp(s.now()))
		return err
	})
}

// deviceCache remembers which device a token belongs to for a moment, so
// that the hot path does not query SQLite on every request, and writes
// each device's last_seen at most once a minute.
type deviceCache struct {
	store *Store
	mu    sync.Mutex
	gen   uint64 // store.unpaired when ids was filled
	ids   map[[32]byte]cachedDevice
	seen  map[string]time.Time // device id → last_seen written
}

type cachedDevice struct {
	id string
	at time.Time
}

func (d *deviceCache) lookup(ctx context.Context, token string) (string, error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	d.mu.Lock()
	if gen := d.store.unpaired.Load(); gen != d.gen {
		// An unpair in this process: trust nothing cached before it.
		d.ids, d.gen = nil, gen
	}
	c, ok := d.ids[key]
	d.mu.Unlock()
	if ok && now.Sub(c.at) < deviceCacheTTL {
		d.touch(c.id, now)
		return c.id, nil
	}
	id, err := d.store.DeviceByToken(ctx, token)
	if err != nil {
		d.mu.Lock()
		delete(d.ids, key)
		d.mu.Unlock()
		return "", err
	}
	d.mu.Lock()
	if d.ids == nil {
		d.ids = map[[32]byte]cachedDevice{}
	}
	d.ids[key] = cachedDevice{id: id, at: now}
	d.mu.Unlock()
	d.touch(id, now)
	return id, nil
}

// touch writes last_seen in the background when the last write is older
// than lastSeenEvery: a request never waits for it.
func (d *deviceCache) touch(id string, now time.Time) {
	d.mu.Lock()
	if d.seen == nil {
		d.seen = map[string]time.Time{}
	}
	last, ok := d.seen[id]
	due := !ok || now.Sub(last) >= lastSeenEvery
	if due {
		d.seen[id] = now
	}
	d.mu.Unlock()
	if due {
		go d.store.touchDevice(context.Background(), id)
	}
}
