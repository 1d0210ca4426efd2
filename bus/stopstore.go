package bus

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"infobus/schema"
	infosync "infobus/sync"
)

// The bus's day in its store: the office's plan and the crew's stops, the
// quick-contact tally, and the office's history of the plan's wijken.

const settingPlanHash = "plan_hash"

const (
	queryStopsDropSent = `DELETE FROM stops WHERE sent = 1`
	queryStopPlanned   = `
INSERT INTO stops (id, date, start_time, end_time, place, wijk, planned, created_at, sent)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)
ON CONFLICT (id) DO UPDATE SET date = excluded.date, start_time = excluded.start_time, end_time = excluded.end_time,
    place = excluded.place, wijk = excluded.wijk, planned = excluded.planned, sent = 1, refused = ''`
	queryStopCrew = `
INSERT INTO stops (id, date, start_time, end_time, place, wijk, planned, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)
ON CONFLICT (id) DO NOTHING`
	queryStopsList = `
SELECT id, date, start_time, end_time, place, wijk, planned, created_at, sent FROM stops
WHERE date >= ? ORDER BY date, start_time, place`
	queryHistoryDrop   = `DELETE FROM history`
	queryHistoryInsert = `
INSERT INTO history (visit_id, wijk, kvk, postcode, name_key, visited_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (visit_id) DO NOTHING`
	queryHistoryFind = `
SELECT body FROM history
WHERE (?1 != '' AND kvk = ?1) OR (?2 != '' AND ?3 != '' AND postcode = ?3 AND name_key = ?2) OR (?4 != '' AND wijk = ?4)
ORDER BY visited_at DESC LIMIT ?5`
	queryQuickPut = `
INSERT INTO quick_contacts (id, device_id, stop_id, wijk, kind, at, body, received_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (id) DO NOTHING`
	queryQuickCountsOf = `
SELECT kind, count(*) FROM quick_contacts WHERE (?1 = '' OR stop_id = ?1) AND unixepoch(at) >= ?2 AND unixepoch(at) < ?3 GROUP BY kind`
	queryStopsUnsent = `
SELECT id, date, start_time, end_time, place, wijk, created_at FROM stops WHERE sent = 0 ORDER BY created_at, id LIMIT ?`
	queryQuickUnsent  = `SELECT id, body FROM quick_contacts WHERE sent = 0 ORDER BY received_at, id LIMIT ?`
	queryStopSent     = `UPDATE stops SET sent = 1, refused = ?2 WHERE id = ?1`
	queryQuickSent    = `UPDATE quick_contacts SET sent = 1, refused = ?2 WHERE id = ?1`
	queryQuickBacklog = `SELECT (SELECT count(*) FROM quick_contacts WHERE sent = 0), (SELECT count(*) FROM stops WHERE sent = 0)`
)

// Limits on the history a tablet asks for.
const maxHistoryAnswer = 200

// StopView is a stop as the crew API shows it.
type StopView struct {
	schema.Stop
	// AtOffice says the office has this stop: its plan, or a crew stop
	// it acknowledged.
	AtOffice bool `json:"at_office"`
}

// PlanHash returns the hash of the plan the bus holds, "" before the
// first.
func (s *Store) PlanHash(ctx context.Context) (string, error) {
	h, err := s.Setting(ctx, settingPlanHash)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return h, err
}

// applyPlan replaces the office's stops and the history with a pulled
// plan, in the pull's transaction. The crew's stops the office does not
// have yet stay.
func applyPlan(ctx context.Context, tx *sql.Tx, p *infosync.Plan) error {
	if _, err := tx.ExecContext(ctx, queryStopsDropSent); err != nil {
		return err
	}
	for _, st := range p.Stops {
		st.Normalize()
		if st.Validate() != nil {
			continue // an office that sends a bad stop must not stop the pull
		}
		if _, err := tx.ExecContext(ctx, queryStopPlanned, st.ID, st.Date, st.Start, st.End, st.Place, st.Wijk, st.Planned, st.CreatedAt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, queryHistoryDrop); err != nil {
		return err
	}
	for _, h := range p.History {
		body, err := json.Marshal(h)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryHistoryInsert, h.VisitID, h.Wijk, h.KvK, schema.NormalizePostcode(h.Postcode), nameKey(h.Name), h.VisitedAt, string(body)); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingPlanHash, p.Hash)
	return err
}

func nameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// Stops lists the stops from a date on (YYYY-MM-DD, Dutch local).
func (s *Store) Stops(ctx context.Context, from string) ([]StopView, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryStopsList, from)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []StopView{}
	for rows.Next() {
		var v StopView
		if err := rows.Scan(&v.ID, &v.Date, &v.Start, &v.End, &v.Place, &v.Wijk, &v.Planned, &v.CreatedAt, &v.AtOffice); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PutCrewStop keeps a stop the crew added on the spot, once by id, until
// the office has it. It reports whether it was new.
func (s *Store) PutCrewStop(ctx context.Context, st schema.Stop) (bool, error) {
	var created bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		created, err = schema.ExecChanged(ctx, tx, queryStopCrew, st.ID, st.Date, st.Start, st.End, st.Place, st.Wijk, st.CreatedAt)
		return err
	})
	return created, err
}

// PutQuickContact keeps a quick contact, once by id, until the office has
// it. It reports whether it was new.
func (s *Store) PutQuickContact(ctx context.Context, q schema.QuickContact) (bool, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return false, err
	}
	now := schema.Timestamp(s.now())
	var created bool
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		created, err = schema.ExecChanged(ctx, tx, queryQuickPut, q.ID, q.DeviceID, q.StopID, q.Wijk, q.Kind, q.At, string(body), now)
		return err
	})
	return created, err
}

// QuickCounts counts the quick contacts of a stop (every stop when "") on
// a day (YYYY-MM-DD) in Dutch time, by kind. The moment counts, not the
// date a tablet's clock wrote: a tablet in another zone writes another one.
func (s *Store) QuickCounts(ctx context.Context, stopID, day string) (map[string]int, error) {
	start, err := time.ParseInLocation(time.DateOnly, day, schema.Zone)
	if err != nil {
		return nil, fmt.Errorf("quick counts: day %q: %w", day, err)
	}
	rows, err := s.db.Read.QueryContext(ctx, queryQuickCountsOf, stopID, start.Unix(), start.AddDate(0, 0, 1).Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			kind string
			n    int
		)
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, err
		}
		out[kind] = n
	}
	return out, rows.Err()
}

// HistoryQuery finds earlier visits in the office's history: by KvK, by
// name and postcode, or every one in a wijk.
type HistoryQuery struct {
	KvK, Name, Postcode, Wijk string
}

// History returns the matching visits, newest first.
func (s *Store) History(ctx context.Context, q HistoryQuery) ([]schema.HistoryVisit, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryHistoryFind, q.KvK, nameKey(q.Name), schema.NormalizePostcode(q.Postcode), q.Wijk, maxHistoryAnswer)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []schema.HistoryVisit{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var h schema.HistoryVisit
		if err := json.Unmarshal(body, &h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// PendingExtras returns up to limit crew stops and up to limit quick
// contacts the office does not have yet.
func (s *Store) PendingExtras(ctx context.Context, limit int) (stops, contacts []infosync.OutExtra, err error) {
	rows, err := s.db.Read.QueryContext(ctx, queryStopsUnsent, limit)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var st schema.Stop
		if err := rows.Scan(&st.ID, &st.Date, &st.Start, &st.End, &st.Place, &st.Wijk, &st.CreatedAt); err != nil {
			rows.Close()
			return nil, nil, err
		}
		body, err := json.Marshal(st)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		stops = append(stops, infosync.OutExtra{ID: st.ID, Body: body})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = s.db.Read.QueryContext(ctx, queryQuickUnsent, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			q    infosync.OutExtra
			body []byte
		)
		if err := rows.Scan(&q.ID, &body); err != nil {
			return nil, nil, err
		}
		q.Body = body
		contacts = append(contacts, q)
	}
	return stops, contacts, rows.Err()
}

// AcknowledgeExtras marks what a push carried as at the office, with the
// office's reason for any it refused: those are not sent again.
func (s *Store) AcknowledgeExtras(ctx context.Context, stops, contacts []infosync.OutExtra, ack *infosync.ExtrasAck) error {
	refused := map[string]string{}
	for _, r := range ack.Refused {
		refused[r.Kind+"/"+r.ID] = r.MessageNL
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, st := range stops {
			if _, err := tx.ExecContext(ctx, queryStopSent, st.ID, refused["stop/"+st.ID]); err != nil {
				return err
			}
		}
		for _, q := range contacts {
			if _, err := tx.ExecContext(ctx, queryQuickSent, q.ID, refused["quick_contact/"+q.ID]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ExtrasBacklog returns how many quick contacts and crew stops wait for
// the office.
func (s *Store) ExtrasBacklog(ctx context.Context) (contacts, stops int64, err error) {
	err = s.db.Read.QueryRowContext(ctx, queryQuickBacklog).Scan(&contacts, &stops)
	return contacts, stops, err
}

// today is the date in Dutch local time.
func today(now time.Time) string { return now.In(schema.Zone).Format(time.DateOnly) }
