package office

import (
	"context"
	"database/sql"
	"time"

	"infobus/schema"
)

// Actions written to the audit log. A later page adds its own here, so the
// list stays the one place that names them.
const (
	ActionLogin         = "login"
	ActionLogout        = "logout"
	ActionLoginFailed   = "login_failed"
	ActionLockout       = "lockout"
	ActionPasswordSet   = "password_set"
	ActionStaffAdded    = "staff_added"
	ActionStaffDisabled = "staff_disabled"
	ActionStaffReset    = "staff_reset"
	ActionForget        = "person_forgotten" // subject: the selector's kind and a hash, never its value
	ActionExport        = "person_exported"
	ActionRetention     = "retention_erased"
	ActionBusRevoked    = "bus_revoked"
	ActionBusReissued   = "bus_reissued"
)

// ActorCLI is the actor of changes made on the office's command line.
const ActorCLI = "cli"

const (
	queryAuditInsert = `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`
	queryAuditRecent = `SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?`
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID      int64
	At      string
	Actor   string // a staff email, ActorCLI, or "" when nobody is known
	Action  string // one of the Action constants
	Subject string // what or whom it was done to: an email, a visit id
	Detail  string
}

// audit appends one entry to the audit log inside tx, so that the entry
// and the change it records commit together or not at all.
func audit(ctx context.Context, tx *sql.Tx, at time.Time, actor, action, subject, detail string) error {
	_, err := tx.ExecContext(ctx, queryAuditInsert, schema.Timestamp(at), actor, action, subject, detail)
	return err
}

// auditNow writes an entry on its own, for events that change nothing else
// (a failed login), and returns result unless the write failed.
func (s *Store) auditNow(ctx context.Context, actor, action, subject, detail string, result error) error {
	if _, err := s.db.Write.ExecContext(ctx, queryAuditInsert, schema.Timestamp(s.now()), actor, action, subject, detail); err != nil {
		return err
	}
	return result
}

// AuditLog returns the newest limit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryAuditRecent, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
