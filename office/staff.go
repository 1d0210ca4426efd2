package office

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"infobus/internal/sqlite"
	"infobus/schema"
)

// Roles a staff account can have. Admins can do what staff can, and
// manage accounts and buses.
const (
	RoleStaff = "staff"
	RoleAdmin = "admin"
)

// Account rules.
const (
	MinPasswordRunes = 12
	// MaxPasswordBytes is bcrypt's limit: it ignores what comes after.
	MaxPasswordBytes = 72
	MaxEmail         = 254
	// LinkValidity is how long a one-time set-password link works.
	LinkValidity = 24 * time.Hour
	// LockAfter wrong passwords within LockWindow lock an account for
	// LockFor.
	LockAfter  = 5
	LockWindow = 15 * time.Minute
	LockFor    = 15 * time.Minute
)

// Errors of the account store, mapped to pages by the handlers.
var (
	// ErrBadLogin: unknown email, no password set yet, or a wrong password.
	// One error for all three, so that a login page does not tell which
	// emails exist.
	ErrBadLogin = errors.New("wrong email or password")
	// ErrDisabled: the account was disabled by an admin.
	ErrDisabled = errors.New("account disabled")
	// ErrLinkInvalid: a set-password link that is unknown, used or expired.
	ErrLinkInvalid = errors.New("set-password link is unknown, used or expired")
)

// LockedError refuses a login while the account is locked; Until says
// when the person can try again.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "account locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Staff is an office account.
type Staff struct {
	ID          int64
	Email       string
	Role        string
	HasPassword bool
	Disabled    bool
	CreatedAt   string
	LockedUntil time.Time // zero when not locked
}

// IsAdmin reports whether the account may manage staff and buses.
func (s *Staff) IsAdmin() bool { return s.Role == RoleAdmin }

const (
	queryStaffInsert      = `INSERT INTO staff (email, role, created_at) VALUES (?, ?, ?)`
	queryStaffColumns     = `id, email, role, password_hash IS NOT NULL, disabled, created_at, locked_until`
	queryStaffByID        = `SELECT ` + queryStaffColumns + ` FROM staff WHERE id = ?`
	queryStaffByEmail     = `SELECT ` + queryStaffColumns + ` FROM staff WHERE email = ?`
	queryStaffAll         = `SELECT ` + queryStaffColumns + ` FROM staff ORDER BY email`
	queryStaffHash        = `SELECT password_hash FROM staff WHERE id = ?`
	queryStaffSetHash     = `UPDATE staff SET password_hash = ?, locked_until = 0 WHERE id = ?`
	queryStaffClearHash   = `UPDATE staff SET password_hash = NULL WHERE id = ?`
	queryStaffDisable     = `UPDATE staff SET disabled = 1 WHERE id = ?`
	queryStaffLock        = `UPDATE staff SET locked_until = ? WHERE id = ?`
	queryLinkInsert       = `INSERT INTO staff_links (token_hash, staff_id, expires_at) VALUES (?, ?, ?)`
	queryLinkFind         = `SELECT staff_id FROM staff_links WHERE token_hash = ? AND expires_at > ?`
	queryLinksDelete      = `DELETE FROM staff_links WHERE staff_id = ?`
	queryFailureInsert    = `INSERT INTO login_failures (staff_id, at) VALUES (?, ?)`
	queryFailureCount     = `SELECT count(*) FROM login_failures WHERE staff_id = ? AND at > ?`
	queryFailuresDelete   = `DELETE FROM login_failures WHERE staff_id = ?`
	queryFailuresPrune    = `DELETE FROM login_failures WHERE staff_id = ? AND at <= ?`
	querySessionsOfDelete = `DELETE FROM sessions WHERE staff_id = ?`
)

// validEmail is deliberately loose: the office's own colleagues type it,
// and the set-password link, not the syntax, proves it reaches them.
func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && domain != "" && len(e) <= MaxEmail && !strings.Contains(domain, "@") &&
		!strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }) && utf8.ValidString(e)
}

// NormalizeEmail is how emails are stored and looked up.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// AddStaff creates an account for email with role and returns it with a
// one-time link token to set its password. actor is written to the audit
// log. It returns a *schema.ValidationError for a bad email or role and
// ErrConflict when the email has an account.
func (s *Store) AddStaff(ctx context.Context, actor, email, role string) (Staff, string, error) {
	email = NormalizeEmail(email)
	problems := map[string]schema.Problem{}
	if !validEmail(email) {
		problems["email"] = schema.Problem{EN: "must be an email address, like name@denhaag.nl", NL: "Vul een e-mailadres in, zoals naam@denhaag.nl."}
	}
	if role != RoleStaff && role != RoleAdmin {
		problems["role"] = schema.Problem{EN: "must be staff or admin", NL: "Kies medewerker of beheerder."}
	}
	if len(problems) > 0 {
		return Staff{}, "", &schema.ValidationError{Fields: problems}
	}
	var (
		st    Staff
		token string
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, queryStaffInsert, email, role, schema.Timestamp(now))
		if sqlite.IsUnique(err) {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if token, err = s.newLink(ctx, tx, id); err != nil {
			return err
		}
		st = Staff{ID: id, Email: email, Role: role, CreatedAt: schema.Timestamp(now)}
		return audit(ctx, tx, now, actor, ActionStaffAdded, email, role)
	})
	return st, token, err
}

// newLink makes a one-time link token for staff id, replacing older ones.
func (s *Store) newLink(ctx context.Context, tx *sql.Tx, id int64) (string, error) {
	if _, err := tx.ExecContext(ctx, queryLinksDelete, id); err != nil {
		return "", err
	}
	token := newToken()
	hash := schema.HashToken(token)
	_, err := tx.ExecContext(ctx, queryLinkInsert, hash, id, s.now().Add(LinkValidity).UnixMilli())
	return token, err
}

// newToken returns 256 random bits, URL-safe: enough that a plain hash
// stores it safely.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on the systems we run on
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func scanStaff(row interface{ Scan(...any) error }) (Staff, error) {
	var (
		st     Staff
		locked int64
	)
	err := row.Scan(&st.ID, &st.Email, &st.Role, &st.HasPassword, &st.Disabled, &st.CreatedAt, &locked)
	if locked > 0 {
		st.LockedUntil = time.UnixMilli(locked)
	}
	return st, err
}

// StaffByID returns an account, or ErrNotFound.
func (s *Store) StaffByID(ctx context.Context, id int64) (Staff, error) {
	st, err := scanStaff(s.db.Read.QueryRowContext(ctx, queryStaffByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, ErrNotFound
	}
	return st, err
}

// StaffByEmail returns an account, or ErrNotFound.
func (s *Store) StaffByEmail(ctx context.Context, email string) (Staff, error) {
	st, err := scanStaff(s.db.Read.QueryRowContext(ctx, queryStaffByEmail, NormalizeEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, ErrNotFound
	}
	return st, err
}

// AllStaff lists every account by email.
func (s *Store) AllStaff(ctx context.Context) ([]Staff, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryStaffAll)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Staff
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// LinkStaff returns the account a set-password link token belongs to, or
// ErrLinkInvalid.
func (s *Store) LinkStaff(ctx context.Context, token string) (Staff, error) {
	hash := schema.HashToken(token)
	var id int64
	err := s.db.Read.QueryRowContext(ctx, queryLinkFind, hash, s.now().UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, ErrLinkInvalid
	}
	if err != nil {
		return Staff{}, err
	}
	st, err := s.StaffByID(ctx, id)
	if errors.Is(err, ErrNotFound) || st.Disabled {
		return Staff{}, ErrLinkInvalid
	}
	return st, err
}

// passwordProblem is the catalogue key that says why a new password is
// refused, or "".
func passwordProblem(pw, repeat string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordRunes:
		return "setpw.tooshort"
	case len(pw) > MaxPasswordBytes:
		return "setpw.toolong"
	case pw != repeat:
		return "setpw.differ"
	}
	return ""
}

// SetPassword uses a one-time link token to set the account's password.
// The link, and any other link of the account, stops working; sessions
// from before end. It returns ErrLinkInvalid and a *schema.ValidationError
// for a refused password.
func (s *Store) SetPassword(ctx context.Context, token, pw, repeat string) (Staff, error) {
	if key := passwordProblem(pw, repeat); key != "" {
		args := []any{"n", MinPasswordRunes, "max", MaxPasswordBytes}
		return Staff{}, &schema.ValidationError{Fields: map[string]schema.Problem{"password": {
			NL: tr("nl", key, args...), EN: tr("en", key, args...)}}}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), passwordCost)
	if err != nil {
		return Staff{}, err
	}
	var st Staff
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		th := schema.HashToken(token)
		now := s.now()
		var id int64
		err := tx.QueryRowContext(ctx, queryLinkFind, th, now.UnixMilli()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		if st, err = scanStaff(tx.QueryRowContext(ctx, queryStaffByID, id)); err != nil {
			return err
		}
		if st.Disabled {
			return ErrLinkInvalid
		}
		for _, q := range []string{queryLinksDelete, querySessionsOfDelete, queryFailuresDelete} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, queryStaffSetHash, hash, id); err != nil {
			return err
		}
		st.HasPassword, st.LockedUntil = true, time.Time{}
		return audit(ctx, tx, now, st.Email, ActionPasswordSet, st.Email, "")
	})
	return st, err
}

// passwordCost is bcrypt's work factor; tests lower it to run fast.
var passwordCost = bcrypt.DefaultCost

// dummyHash is compared against when no account matches, so that a login
// for an unknown email takes as long as one for a known email.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no account has this password"), passwordCost)
	return h
})

// CheckLogin checks an email and password. It returns the account, or
// ErrBadLogin, ErrDisabled or a *LockedError; each outcome writes one audit
// entry, and the wrong password that reaches LockAfter writes the lock-out
// as well.
func (s *Store) CheckLogin(ctx context.Context, email, pw string) (Staff, error) {
	email = NormalizeEmail(email)
	st, err := s.StaffByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return Staff{}, s.auditNow(ctx, "", ActionLoginFailed, clip(email, MaxEmail), "unknown email", ErrBadLogin)
	}
	if err != nil {
		return Staff{}, err
	}
	now := s.now()
	if st.LockedUntil.After(now) {
		return Staff{}, s.auditNow(ctx, "", ActionLoginFailed, email, "locked", &LockedError{Until: st.LockedUntil})
	}
	if st.Disabled {
		return Staff{}, s.auditNow(ctx, "", ActionLoginFailed, email, "disabled", ErrDisabled)
	}
	var hash []byte
	if err := s.db.Read.QueryRowContext(ctx, queryStaffHash, st.ID).Scan(&hash); err != nil {
		return Staff{}, err
	}
	if hash == nil {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return Staff{}, s.auditNow(ctx, "", ActionLoginFailed, email, "no password set", ErrBadLogin)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil {
		_, err := s.db.Write.ExecContext(ctx, queryFailuresDelete, st.ID)
		return st, err
	}
	var result error = ErrBadLogin
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		since := now.Add(-LockWindow).UnixMilli()
		for _, q := range []struct {
			sql  string
			args []any
		}{{queryFailuresPrune, []any{st.ID, since}}, {queryFailureInsert, []any{st.ID, now.UnixMilli()}}} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, now, "", ActionLoginFailed, email, "wrong password"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, queryFailureCount, st.ID, since).Scan(&n); err != nil {
			return err
		}
		if n < LockAfter {
			return nil
		}
		until := now.Add(LockFor)
		if _, err := tx.ExecContext(ctx, queryStaffLock, until.UnixMilli(), st.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryFailuresDelete, st.ID); err != nil {
			return err
		}
		result = &LockedError{Until: until}
		return audit(ctx, tx, now, "", ActionLockout, email, fmt.Sprintf("%d wrong passwords within %v", n, LockWindow))
	})
	if err != nil {
		return Staff{}, err
	}
	return Staff{}, result
}

// DisableStaff disables an account and ends its sessions. It returns
// ErrNotFound.
func (s *Store) DisableStaff(ctx context.Context, actor string, id int64) (Staff, error) {
	var st Staff
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = scanStaff(tx.QueryRowContext(ctx, queryStaffByID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, q := range []string{queryStaffDisable, querySessionsOfDelete, queryLinksDelete} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		st.Disabled = true
		return audit(ctx, tx, s.now(), actor, ActionStaffDisabled, st.Email, "")
	})
	return st, err
}

// ResetStaff clears an account's password, ends its sessions and returns a
// new one-time link token. It returns ErrNotFound, and ErrDisabled for a
// disabled account.
func (s *Store) ResetStaff(ctx context.Context, actor string, id int64) (Staff, string, error) {
	var (
		st    Staff
		token string
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = scanStaff(tx.QueryRowContext(ctx, queryStaffByID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if st.Disabled {
			return ErrDisabled
		}
		for _, q := range []string{queryStaffClearHash, querySessionsOfDelete, queryFailuresDelete} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if token, err = s.newLink(ctx, tx, id); err != nil {
			return err
		}
		st.HasPassword = false
		return audit(ctx, tx, s.now(), actor, ActionStaffReset, st.Email, "")
	})
	return st, token, err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
