package office

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"infobus/schema"
)

// Session defaults for Config.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
)

// ErrSessionExpired: the session existed but ran past its idle or absolute
// limit. The login page says so, which "not logged in" would not.
var ErrSessionExpired = errors.New("session expired")

// Session is a logged-in person.
type Session struct {
	Staff     Staff
	FormToken string // the CSRF token of every form this session posts
	hash      []byte
}

const (
	querySessionInsert = `INSERT INTO sessions (token_hash, staff_id, form_token, created_at, seen_at) VALUES (?, ?, ?, ?, ?)`
	querySessionFind   = `
SELECT s.form_token, s.created_at, s.seen_at,
       st.id, st.email, st.role, st.password_hash IS NOT NULL, st.disabled, st.created_at, st.locked_until
FROM sessions s JOIN staff st ON st.id = s.staff_id WHERE s.token_hash = ?`
	querySessionTouch  = `UPDATE sessions SET seen_at = ? WHERE token_hash = ?`
	querySessionDelete = `DELETE FROM sessions WHERE token_hash = ?`
	querySessionsPrune = `DELETE FROM sessions WHERE seen_at <= ? OR created_at <= ?`
)

// touchEvery limits the writes idle expiry costs: a session's last-seen
// time moves at most once a minute, which idle limits of minutes allow.
const touchEvery = time.Minute

// CreateSession logs st in and returns the cookie's token. The login is
// audited in the same transaction.
func (s *Store) CreateSession(ctx context.Context, st Staff) (string, error) {
	token := newToken()
	hash := schema.HashToken(token)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, querySessionInsert, hash, st.ID, newToken(), now.UnixMilli(), now.UnixMilli()); err != nil {
			return err
		}
		return audit(ctx, tx, now, st.Email, ActionLogin, st.Email, "")
	})
	return token, err
}

// FindSession returns the session of a cookie's token. It returns
// ErrNotFound for an unknown token or a disabled account, and
// ErrSessionExpired (removing the session) once it was idle longer than
// idle or is older than absolute.
func (s *Store) FindSession(ctx context.Context, token string, idle, absolute time.Duration) (Session, error) {
	hash := schema.HashToken(token)
	var (
		se            = Session{hash: hash}
		created, seen int64
		locked        int64
	)
	st := &se.Staff
	err := s.db.Read.QueryRowContext(ctx, querySessionFind, hash).Scan(&se.FormToken, &created, &seen,
		&st.ID, &st.Email, &st.Role, &st.HasPassword, &st.Disabled, &st.CreatedAt, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, err
	}
	if st.Disabled {
		return Session{}, ErrNotFound
	}
	now := s.now()
	if now.Sub(time.UnixMilli(seen)) >= idle || now.Sub(time.UnixMilli(created)) >= absolute {
		if _, err := s.db.Write.ExecContext(ctx, querySessionDelete, hash); err != nil {
			return Session{}, err
		}
		return Session{}, ErrSessionExpired
	}
	if now.Sub(time.UnixMilli(seen)) >= touchEvery {
		if _, err := s.db.Write.ExecContext(ctx, querySessionTouch, now.UnixMilli(), hash); err != nil {
			return Session{}, err
		}
	}
	return se, nil
}

// EndSession logs a session out, audited.
func (s *Store) EndSession(ctx context.Context, se Session) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, querySessionDelete, se.hash); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), se.Staff.Email, ActionLogout, se.Staff.Email, "")
	})
}

// PruneSessions removes sessions past either limit; FindSession refuses
// them anyway, this only keeps the table small.
func (s *Store) PruneSessions(ctx context.Context, idle, absolute time.Duration) error {
	now := s.now()
	_, err := s.db.Write.ExecContext(ctx, querySessionsPrune, now.Add(-idle).UnixMilli(), now.Add(-absolute).UnixMilli())
	return err
}
