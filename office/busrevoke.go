package office

// Revoking and re-issuing a bus's token: `infobus office revoke-bus` and
// `reissue-bus`, and the fleet page.

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"infobus/schema"
	infosync "infobus/sync"
)

const (
	queryBusFind     = `SELECT id, name FROM buses WHERE id = ?1 OR name = ?1`
	queryBusRevoke   = `UPDATE buses SET token_hash = ?2, revoked_at = ?3 WHERE id = ?1`
	queryBusReissue  = `UPDATE buses SET token_hash = ?2, revoked_at = '' WHERE id = ?1`
	queryBusCodeKeyF = `SELECT code_key, code_prefix FROM buses WHERE id = ?`
)

// findBus resolves a bus by id or name inside tx, or returns ErrNotFound.
func findBus(ctx context.Context, tx *sql.Tx, nameOrID string) (id, name string, err error) {
	err = tx.QueryRowContext(ctx, queryBusFind, strings.TrimSpace(nameOrID)).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return id, name, err
}

// RevokeBus cuts a bus off: its token stops working at its next request
// (the office keeps no cache of tokens). What it pushed stays. It returns
// the bus's id, or ErrNotFound.
func (s *Store) RevokeBus(ctx context.Context, nameOrID, actor string) (string, error) {
	var id string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var name string
		var err error
		if id, name, err = findBus(ctx, tx, nameOrID); err != nil {
			return err
		}
		// A random hash matches no token: the row keeps its UNIQUE column
		// filled without any token that opens it.
		dead, err := randomToken()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryBusRevoke, id, schema.HashToken("revoked:"+dead), schema.Timestamp(s.now())); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionBusRevoked, id, name)
	})
	return id, err
}

// ReissueBus gives a bus a new token, revoking the old one, and returns a
// new enrollment string with the same bus id and code key: `infobus bus
// enroll` with it keeps the bus's cursors. It returns ErrNotFound for an
// unknown bus.
func (s *Store) ReissueBus(ctx context.Context, nameOrID, officeURL, actor string) (infosync.Enrollment, error) {
	var e infosync.Enrollment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, name, err := findBus(ctx, tx, nameOrID)
		if err != nil {
			return err
		}
		token, err := randomToken()
		if err != nil {
			return err
		}
		e = infosync.Enrollment{OfficeURL: officeURL, BusID: id, BusToken: token}
		// The prefix too: without it the reinstalled bus could not issue codes.
		if err := tx.QueryRowContext(ctx, queryBusCodeKeyF, id).Scan(&e.CodeKey, &e.CodePrefix); err != nil {
			return err
		}
		if err := e.Validate(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryBusReissue, id, schema.HashToken(token)); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionBusReissued, id, name)
	})
	return e, err
}
