package bus

import "context"

// DeviceDelivery is one paired tablet, its name, and the last time the bus
// stored a visit it made (RFC 3339 by the bus's clock, empty before its
// first). An edit one tablet makes of another's visit counts for the
// visit's maker: the bus keeps who made a visit, not who sent each rev.
type DeviceDelivery struct {
	DeviceID      string `json:"device_id"`
	Name          string `json:"name"`
	PairedAt      string `json:"paired_at"`
	LastDelivered string `json:"last_delivered"`
}

// An unpaired tablet sends nothing any more: listed beside the others it
// would look like one that stopped sending, which is what the list is for.
const queryDeviceDeliveries = `
SELECT d.id, d.name, d.paired_at, coalesce(max(v.received_at), '')
FROM devices d LEFT JOIN visits v ON v.device_id = d.id
WHERE d.revoked_at = ''
GROUP BY d.id ORDER BY d.paired_at, d.id`

// DeviceDeliveries lists every tablet still paired with its last delivery;
// unpaired (revoked) tablets are left out.
func (s *Store) DeviceDeliveries(ctx context.Context) ([]DeviceDelivery, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryDeviceDeliveries)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeviceDelivery{}
	for rows.Next() {
		var d DeviceDelivery
		if err := rows.Scan(&d.DeviceID, &d.Name, &d.PairedAt, &d.LastDelivered); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
