package office

import (
	"context"
	"database/sql"
	"errors"

	"infobus/schema"
	infosync "infobus/sync"
)

// What the office knows of each bus beyond its row in buses: the epoch of
// its database and the build it last synced with, as settings keyed by
// bus id. Settings rather than columns so that no migration is needed
// while others are in flight; a later migration may move them.
func busEpochKey(busID string) string { return "bus_epoch:" + busID }
func busBuildKey(busID string) string { return "bus_build:" + busID }

const (
	queryBusHeld     = `SELECT acked_seq FROM buses WHERE id = ?`
	queryBusHeldZero = `UPDATE buses SET acked_seq = 0 WHERE id = ?`
	queryBusBuilds   = `SELECT substr(key, 11), value FROM settings WHERE key LIKE 'bus_build:%'`
)

// Epoch returns the name of this office database.
func (s *Store) Epoch() string { return s.epoch }

// NoteBus records the epoch and build a bus sent with a sync request and
// returns how far the office holds its pushes, and the office's epoch. A
// bus epoch other than the recorded one means the bus's database was
// restored or replaced: its cursor numbers other records now, so the held
// cursor starts again from 0 and the bus sends everything once.
func (s *Store) NoteBus(ctx context.Context, busID string, seen infosync.BusSeen) (int64, string, error) {
	var held int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := noteSetting(ctx, tx, busBuildKey(busID), seen.Build); err != nil {
			return err
		}
		if seen.Epoch != "" {
			old, err := schema.Setting(ctx, tx, busEpochKey(busID))
			if err != nil && !errors.Is(err, schema.ErrNotFound) {
				return err
			}
			if old != seen.Epoch {
				if err := schema.PutSetting(ctx, tx, busEpochKey(busID), seen.Epoch); err != nil {
					return err
				}
				// The first epoch the office hears keeps the cursor: that bus
				// predates epochs, or has just enrolled.
				if old != "" {
					s.log.Info("bus database has a new epoch, probably restored from a backup: it will push everything again",
						"bus", busID, "epoch", seen.Epoch)
					if _, err := tx.ExecContext(ctx, queryBusHeldZero, busID); err != nil {
						return err
					}
				}
			}
		}
		return tx.QueryRowContext(ctx, queryBusHeld, busID).Scan(&held)
	})
	return held, s.epoch, err
}

// noteSetting stores value under key unless it is empty or already there,
// so that the usual request writes nothing.
func noteSetting(ctx context.Context, tx *sql.Tx, key, value string) error {
	if value == "" {
		return nil
	}
	old, err := schema.Setting(ctx, tx, key)
	if err == nil && old == value {
		return nil
	}
	if err != nil && !errors.Is(err, schema.ErrNotFound) {
		return err
	}
	return schema.PutSetting(ctx, tx, key, value)
}

// BusBuilds returns the build each bus last synced with, by bus id.
func (s *Store) BusBuilds(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryBusBuilds)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, build string
		if err := rows.Scan(&id, &build); err != nil {
			return nil, err
		}
		out[id] = build
	}
	return out, rows.Err()
}
