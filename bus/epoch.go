package bus

import (
	"context"
	"database/sql"
	"errors"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// Epochs (see infobus/sync's restore.go): the bus database's own, which a
// restore makes anew and tablets watch, and the office's last seen, whose
// change makes the bus pull the office's changes from the start.
const (
	settingOfficeEpoch = "office_epoch"
	// EpochHeader carries the bus's epoch on every crew API answer: a
	// tablet that sees a new one sends again what the bus lost.
	EpochHeader = "Infobus-Epoch"
)

const (
	queryRewind        = `UPDATE sync_state SET acked_seq = ?1 WHERE id = 1 AND acked_seq > ?1`
	queryPullRestart   = `UPDATE sync_state SET pull_cursor = 0 WHERE id = 1`
	queryStatusRevZero = `UPDATE followup_status SET status_rev = 0`
)

// Epoch returns the name of this bus database.
func (s *Store) Epoch() string { return s.epoch }

// Reconcile follows an office that may have been restored: it moves the
// push cursor back to held when the office holds less than acknowledged,
// and when the office's epoch changed it restarts the pull from 0, letting
// the office's status replace the copies pulled from its lost database.
func (s *Store) Reconcile(ctx context.Context, held int64, officeEpoch string) (rewound, repull bool, err error) {
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rewound, repull = false, false
		res, err := tx.ExecContext(ctx, queryRewind, held)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		rewound = n > 0
		old, err := schema.Setting(ctx, tx, settingOfficeEpoch)
		if err != nil && !errors.Is(err, schema.ErrNotFound) {
			return err
		}
		if officeEpoch == "" || old == officeEpoch {
			return nil
		}
		if old != "" {
			repull = true
			if _, err := tx.ExecContext(ctx, queryPullRestart); err != nil {
				return err
			}
			// Status pulled from the lost database may carry revs the
			// restored one reaches again with other content.
			if _, err := tx.ExecContext(ctx, queryStatusRevZero); err != nil {
				return err
			}
		}
		return schema.PutSetting(ctx, tx, settingOfficeEpoch, officeEpoch)
	})
	if rewound || repull {
		s.log.Warn("the office holds less than it acknowledged, probably restored from a backup; sending again",
			"held_seq", held, "rewound", rewound, "repull", repull)
	}
	return rewound, repull, err
}

// stampEpoch sets the bus's epoch on an API answer, errors included.
func (s *Server) stampEpoch(c *fiber.Ctx) error {
	c.Set(EpochHeader, s.store.Epoch())
	return c.Next()
}
