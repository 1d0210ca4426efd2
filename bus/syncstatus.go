package bus

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// SyncStatus is where sync to the office stands, as the crew see it.
type SyncStatus struct {
	Enrolled    bool   `json:"enrolled"`     // the bus knows an office to sync with
	Pending     int64  `json:"pending"`      // visits the office has not acknowledged
	LastAttempt string `json:"last_attempt"` // RFC 3339, or empty
	LastSuccess string `json:"last_success"` // RFC 3339, or empty
	LastError   string `json:"last_error"`   // of the last attempt, empty after a success
	Online      bool   `json:"online"`       // the office answered the last attempt
	PushedTotal int64  `json:"pushed_total"` // visits the office has acknowledged, ever
	SetAside    int64  `json:"set_aside"`    // visits whose current rev the office refused
}

const querySyncStatus = `
SELECT office_url != '', last_attempt, last_success, last_error, pushed_total,
       (SELECT count(*) FROM visits WHERE crew_seq > sync_state.acked_seq),
       (SELECT count(*) FROM set_aside a JOIN visits v ON v.id = a.visit_id AND v.rev = a.rev)
FROM sync_state WHERE id = 1`

// SyncStatus reads where sync stands.
func (s *Store) SyncStatus(ctx context.Context) (SyncStatus, error) {
	var st SyncStatus
	err := s.db.Read.QueryRowContext(ctx, querySyncStatus).Scan(
		&st.Enrolled, &st.LastAttempt, &st.LastSuccess, &st.LastError, &st.PushedTotal, &st.Pending, &st.SetAside)
	st.Online = st.LastAttempt != "" && st.LastAttempt == st.LastSuccess
	return st, err
}

func (s *Server) handleSyncStatus(c *fiber.Ctx) error {
	st, err := s.store.SyncStatus(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(st)
}
