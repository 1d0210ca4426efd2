package office

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"infobus/schema"
	infosync "infobus/sync"
)

// The bus's day at the office: the plan staff make, the unplanned stops
// and quick contacts buses push, and the plan and history each bus pulls.

// Bounds on what one bus pulls: a plan is a few weeks of stops; the history
// is the last HistoryMonths of visits in the plan's wijken, newest first.
const (
	MaxPlanStops    = 500
	MaxHistory      = 5000
	HistoryMonths   = 18
	planDaysBack    = 1 // yesterday's stops stay, for a day that runs late
	createdByTheBus = "bus"
)

const (
	queryStopInsert = `
INSERT INTO stops (id, bus_id, date, start_time, end_time, place, wijk, planned, created_at, created_by)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`
	// A crew's stop is taken once; a resend changes nothing.
	queryStopFromBus = `
INSERT INTO stops (id, bus_id, date, start_time, end_time, place, wijk, planned, created_at, created_by)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, 'bus')
ON CONFLICT (id) DO NOTHING`
	queryStopCancel = `UPDATE stops SET cancelled = 1 WHERE id = ? AND cancelled = 0`
	queryStopsFrom  = `
SELECT s.id, s.bus_id, b.name, s.date, s.start_time, s.end_time, s.place, s.wijk, s.planned, s.created_at
FROM stops s JOIN buses b ON b.id = s.bus_id
WHERE s.cancelled = 0 AND s.date >= ?1 AND (?2 = '' OR s.bus_id = ?2) AND (?3 = '' OR s.wijk = ?3)
ORDER BY s.date, s.start_time, b.name LIMIT ?4`
	queryQuickInsert = `
INSERT INTO quick_contacts (id, bus_id, device_id, stop_id, stop, wijk, kind, at, at_unix, received_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (id) DO NOTHING`
	queryQuickCounts = `
SELECT kind, count(*) FROM quick_contacts
WHERE at_unix >= ?1 AND at_unix < ?2 AND (?3 = '' OR wijk = ?3)
GROUP BY kind`
	// The history: visits in the plan's wijken, with their follow-ups'
	// status. The body is read for the business and topics only; the
	// query hands the rest to nobody.
	queryHistory = `
SELECT v.id, v.bus_id, v.visited_at, v.wijk,
       json_extract(v.body, '$.business.name'), json_extract(v.body, '$.business.kvk'),
       json_extract(v.body, '$.business.address.postcode'), json_extract(v.body, '$.topics'),
       (SELECT json_group_array(json_object('id', f.id, 'kind', f.kind, 'department', f.department,
                                            'status', f.status, 'status_at', f.status_at))
        FROM followups f WHERE f.visit_id = v.id)
FROM visits v
WHERE v.deleted = 0 AND v.wijk IN (SELECT value FROM json_each(?1)) AND v.visited_at >= ?2
ORDER BY v.visited_at DESC, v.id LIMIT ?3`
)

// PlannedStop is a stop as the office lists it.
type PlannedStop struct {
	schema.Stop
	BusName string
}

// AddStop plans a stop for a bus. It returns a *schema.ValidationError
// naming bad fields (an unknown bus among them).
func (s *Store) AddStop(ctx context.Context, actor string, st schema.Stop) (schema.Stop, error) {
	now := s.now()
	st.ID, st.Planned, st.CreatedAt = schema.NewUUIDv7(now), true, schema.Timestamp(now)
	st.Normalize()
	err := st.Validate()
	var ve *schema.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return st, err
	}
	if st.BusID == "" || !s.busExists(ctx, st.BusID) {
		if ve == nil {
			ve = &schema.ValidationError{Fields: map[string]schema.Problem{}}
		}
		ve.Fields["bus_id"] = schema.Problem{EN: "must be an enrolled bus", NL: "moet een bus zijn die bij het kantoor bekend is"}
	}
	if ve != nil {
		return st, ve
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, queryStopInsert, st.ID, st.BusID, st.Date, st.Start, st.End, st.Place, st.Wijk, true, st.CreatedAt, actor); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "stop.add", st.ID, fmt.Sprintf("%s %s-%s %s %s", st.Date, st.Start, st.End, st.Wijk, st.BusID))
	})
	return st, err
}

func (s *Store) busExists(ctx context.Context, id string) bool {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM buses WHERE id = ?`, id).Scan(&n)
	return err == nil && n == 1
}

// CancelStop takes a stop off the plan; its bus drops it at the next sync.
// It returns ErrNotFound for a stop that is not planned.
func (s *Store) CancelStop(ctx context.Context, actor, id string) error {
	now := s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err := schema.ExecChanged(ctx, tx, queryStopCancel, id)
		if err != nil {
			return err
		}
		if !changed {
			return ErrNotFound
		}
		return audit(ctx, tx, now, actor, "stop.cancel", id, "")
	})
}

// StopFilter narrows Stops: from a date on (Dutch local, YYYY-MM-DD), of
// one bus and one wijk when set.
type StopFilter struct {
	From  string
	BusID string
	Wijk  string
	Limit int
}

// Stops lists the stops that are not cancelled, by date and time.
func (s *Store) Stops(ctx context.Context, f StopFilter) ([]PlannedStop, error) {
	if f.Limit <= 0 {
		f.Limit = MaxPlanStops
	}
	rows, err := s.db.Read.QueryContext(ctx, queryStopsFrom, f.From, f.BusID, f.Wijk, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PlannedStop
	for rows.Next() {
		var p PlannedStop
		if err := rows.Scan(&p.ID, &p.BusID, &p.BusName, &p.Date, &p.Start, &p.End, &p.Place, &p.Wijk, &p.Planned, &p.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PlanFor returns the plan busID pulls: its stops from yesterday on and
// the history of their wijken. The hash covers both, so a bus that holds
// this plan is not sent it again.
func (s *Store) PlanFor(ctx context.Context, busID string) (*infosync.Plan, error) {
	now := s.now().In(schema.Zone)
	stops, err := s.Stops(ctx, StopFilter{From: now.AddDate(0, 0, -planDaysBack).Format(time.DateOnly), BusID: busID})
	if err != nil {
		return nil, err
	}
	p := &infosync.Plan{Stops: make([]schema.Stop, len(stops)), History: []schema.HistoryVisit{}}
	wijken := []string{}
	seen := map[string]bool{}
	for i, st := range stops {
		p.Stops[i] = st.Stop
		if !seen[st.Wijk] {
			seen[st.Wijk] = true
			wijken = append(wijken, st.Wijk)
		}
	}
	if len(wijken) > 0 {
		// The history holds what any bus pushed into these wijken, a
		// moment ago too. A bus without stops (a backlog sync in the
		// benchmark among them) does not wait for this.
		s.settle(ctx)
		if p.History, err = s.history(ctx, wijken, now.AddDate(0, -HistoryMonths, 0)); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	p.Hash = hex.EncodeToString(sum[:12])
	return p, nil
}

// history summarizes the visits in wijken since a moment.
func (s *Store) history(ctx context.Context, wijken []string, since time.Time) ([]schema.HistoryVisit, error) {
	list, _ := json.Marshal(wijken)
	// visited_at is RFC 3339 with the tablet's offset; a day's margin
	// covers any offset in the string comparison.
	rows, err := s.db.Read.QueryContext(ctx, queryHistory, string(list), since.AddDate(0, 0, -1).UTC().Format(time.DateOnly), MaxHistory)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []schema.HistoryVisit{}
	for rows.Next() {
		var (
			h                 schema.HistoryVisit
			name, kvk, pc     sql.NullString
			topics, followups sql.NullString
		)
		if err := rows.Scan(&h.VisitID, &h.BusID, &h.VisitedAt, &h.Wijk, &name, &kvk, &pc, &topics, &followups); err != nil {
			return nil, err
		}
		h.Name, h.KvK, h.Postcode = name.String, kvk.String, pc.String
		h.Topics, h.FollowUps = []string{}, []schema.HistoryFollowUp{}
		if topics.Valid {
			if err := json.Unmarshal([]byte(topics.String), &h.Topics); err != nil {
				return nil, fmt.Errorf("history of visit %s: %w", h.VisitID, err)
			}
		}
		if followups.Valid {
			if err := json.Unmarshal([]byte(followups.String), &h.FollowUps); err != nil {
				return nil, fmt.Errorf("history of visit %s: %w", h.VisitID, err)
			}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// CommitExtras stores a bus's unplanned stops and quick contacts, each
// once by id, in one transaction, and returns how many of each were new.
func (s *Store) CommitExtras(ctx context.Context, busID string, stops []schema.Stop, contacts []schema.QuickContact) (newStops, newContacts int, err error) {
	now := schema.Timestamp(s.now())
	// Part of a push: stops and quick contacts do not read the inbox.
	err = s.inRawTx(ctx, func(tx *sql.Tx) error {
		newStops, newContacts = 0, 0
		for _, st := range stops {
			created := st.CreatedAt
			if created == "" {
				created = now
			}
			changed, err := schema.ExecChanged(ctx, tx, queryStopFromBus, st.ID, busID, st.Date, st.Start, st.End, st.Place, st.Wijk, created)
			if err != nil {
				return err
			}
			if changed {
				newStops++
			}
		}
		for _, q := range contacts {
			at, err := time.Parse(time.RFC3339, q.At)
			if err != nil {
				return err // Validate checked it
			}
			changed, err := schema.ExecChanged(ctx, tx, queryQuickInsert, q.ID, busID, q.DeviceID, q.StopID, q.Stop, q.Wijk, q.Kind, q.At, at.Unix(), now)
			if err != nil {
				return err
			}
			if changed {
				newContacts++
			}
		}
		return nil
	})
	return newStops, newContacts, err
}

// QuickCounts is the reach of quick contacts in a period: by kind, and in
// all.
type QuickCounts struct {
	Total  int
	ByKind map[string]int
}

// QuickContactCounts counts the quick contacts made from from up to (not
// including) to, by the tablets' clocks, in wijk or everywhere when wijk is
// "". The insight page shows them as their own reach figure, beside visits.
func (s *Store) QuickContactCounts(ctx context.Context, from, to time.Time, wijk string) (QuickCounts, error) {
	out := QuickCounts{ByKind: map[string]int{}}
	rows, err := s.db.Read.QueryContext(ctx, queryQuickCounts, from.Unix(), to.Unix(), wijk)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind string
			n    int
		)
		if err := rows.Scan(&kind, &n); err != nil {
			return out, err
		}
		out.ByKind[kind] = n
		out.Total += n
	}
	return out, rows.Err()
}

// WijkName is the stop's wijk as people say it.
func (p PlannedStop) WijkName() string {
	if w, ok := schema.Ref.Wijk(p.Wijk); ok {
		return w.Name
	}
	return p.Wijk
}

// Stadsdeel is the district of the stop's wijk.
func (p PlannedStop) Stadsdeel() string {
	w, _ := schema.Ref.Wijk(p.Wijk)
	return w.Stadsdeel
}

// quickInArea counts the quick contacts in an insight area: every wijk,
// or the area's wijken summed.
func (s *Store) quickInArea(ctx context.Context, area Area, from, to time.Time) (QuickCounts, error) {
	ws := area.Wijken()
	if ws == nil {
		return s.QuickContactCounts(ctx, from, to, "")
	}
	sum := QuickCounts{ByKind: map[string]int{}}
	for _, w := range ws {
		c, err := s.QuickContactCounts(ctx, from, to, w)
		if err != nil {
			return sum, err
		}
		sum.Total += c.Total
		for k, n := range c.ByKind {
			sum.ByKind[k] += n
		}
	}
	return sum, nil
}
