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
	// Devices says when each paired tablet last delivered a visit, so that
	// a tablet that stopped sending is noticed.
	Devices []DeviceDelivery `json:"devices"`
}

// DeviceDelivery is one paired tablet and the last time the bus stored a
// visit it made (RFC 3339 by the bus's clock, empty before its first). An
// edit one tablet makes of another's visit counts for the visit's maker:
// the bus keeps who made a visit, not who sent each rev.
type DeviceDelivery struct {
	DeviceID      string `json:"device_id"`
	PairedAt      string `json:"paired_at"`
	LastDelivered string `json:"last_delivered"`
}

const querySyncStatus = `
SELECT office_url != '', last_attempt, last_success, last_error, pushed_total,
       (SELECT count(*) FROM visits WHERE crew_seq > sync_state.acked_seq),
       (SELECT count(*) FROM set_aside a JOIN visits v ON v.id = a.visit_id AND v.rev = a.rev)
FROM sync_state WHERE id = 1`

const queryDeviceDeliveries = `
SELECT d.id, d.paired_at, coalesce(max(v.received_at), '')
FROM devices d LEFT JOIN visits v ON v.device_id = d.id
GROUP BY d.id ORDER BY d.paired_at, d.id`

// SyncStatus reads where sync stands.
func (s *Store) SyncStatus(ctx context.Context) (SyncStatus, error) {
	var st SyncStatus
	err := s.db.Read.QueryRowContext(ctx, querySyncStatus).Scan(
		&st.Enrolled, &st.LastAttempt, &st.LastSuccess, &st.LastError, &st.PushedTotal, &st.Pending, &st.SetAside)
	st.Online = st.LastAttempt != "" && st.LastAttempt == st.LastSuccess
	if err != nil {
		return st, err
	}
	st.Devices, err = s.deviceDeliveries(ctx)
	return st, err
}

func (s *Store) deviceDeliveries(ctx context.Context) ([]DeviceDelivery, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryDeviceDeliveries)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeviceDelivery{}
	for rows.Next() {
		var d DeviceDelivery
		if err := rows.Scan(&d.DeviceID, &d.PairedAt, &d.LastDelivered); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Server) handleSyncStatus(c *fiber.Ctx) error {
	st, err := s.store.SyncStatus(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(st)
}
