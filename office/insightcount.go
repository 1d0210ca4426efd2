package office

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"infobus/schema"
)

// The write side of the figures: the facts a push copies out of each
// visit, the monthly counts the folder (insightfold.go) changes after the
// push, and the one-time fill of visits stored before migration 0007. The
// read side is insightstore.go.

// facts are the columns a visit's figures are counted by, derived once at
// push time in the office's zone.
type facts struct {
	unix   int64
	month  string
	wdhour int
	topics string
	rating any
}

// counted is what insight_months holds of one visit.
type counted struct {
	month, wijk, stop, sector, topics string
	wdhour                            int
	rating                            sql.NullInt64
	panel, fu                         bool
}

// cityWide is the wijk of insight_months' rows for the whole city.
const cityWide = "*"

// countKey is a row of insight_months.
type countKey struct{ month, wijk, dim, key string }

// insightDelta is what a fold changes in insight_months, summed per row
// and written once per row at the end (insightfold.go).
type insightDelta struct {
	delta map[countKey]*Tally
}

const queryInsightAdd = `
INSERT INTO insight_months (month, wijk, dim, key, n, fu, p)
SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6
FROM json_each(?1) AS r WHERE true
ON CONFLICT DO UPDATE SET n = n + excluded.n, fu = fu + excluded.fu, p = p + excluded.p`

func (d *insightDelta) add(c *counted, sign int) {
	fu := 0
	if c.fu {
		fu = sign
	}
	one := func(dim, key string, p int) {
		// The visit's wijk, and the whole city (migration 0011).
		for _, w := range [2]string{c.wijk, cityWide} {
			k := countKey{c.month, w, dim, key}
			t := d.delta[k]
			if t == nil {
				t = &Tally{}
				d.delta[k] = t
			}
			t.N += sign
			t.FU += fu
			t.P += p
		}
	}
	p := 0
	if c.panel {
		p = sign
	}
	one("all", "", p)
	one("stop", c.stop, 0)
	one("wdhour", strconv.Itoa(c.wdhour), 0)
	one("sector", c.sector, 0)
	for _, t := range jsonStrings(c.topics) {
		one("topic", t, 0)
	}
	if c.rating.Valid {
		one("rating", strconv.FormatInt(c.rating.Int64, 10), 0)
	}
}

// flush writes the batch's changes to insight_months in one statement:
// a batch of sample visits spread over every wijk changes thousands of
// rows, and one statement over a JSON array costs half of a statement per
// row through the driver. Sorted, the rows go into the tree in order.
func (d *insightDelta) flush(ctx context.Context, tx *sql.Tx) error {
	keys := make([]countKey, 0, len(d.delta))
	for k, t := range d.delta {
		if *t != (Tally{}) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.month != b.month {
			return a.month < b.month
		}
		if a.wijk != b.wijk {
			return a.wijk < b.wijk
		}
		if a.dim != b.dim {
			return a.dim < b.dim
		}
		return a.key < b.key
	})
	rows := make([][7]any, len(keys))
	for i, k := range keys {
		t := d.delta[k]
		rows[i] = [7]any{k.month, k.wijk, k.dim, k.key, t.N, t.FU, t.P}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, queryInsightAdd, string(b))
	return err
}

func factsOf(v *schema.Visit) facts {
	var fx facts
	if t, err := time.Parse(time.RFC3339, v.VisitedAt); err == nil {
		lt := t.In(zone)
		fx.unix = t.Unix()
		fx.month = lt.Format("2006-01")
		fx.wdhour = int(lt.Weekday())*24 + lt.Hour()
	}
	b, _ := json.Marshal(v.Topics)
	if v.Topics == nil {
		b = []byte("[]")
	}
	fx.topics = string(b)
	if v.Rating != nil {
		fx.rating = *v.Rating
	}
	return fx
}

// settingInsightFilled says the insight columns of visits from before
// migration 0007 are filled.
const settingInsightFilled = "insight_filled"

const (
	queryBackfillVisits = `SELECT id, body FROM visits WHERE month = '' AND visited_unix = 0 LIMIT 1000`
	queryBackfillVisit  = `
UPDATE visits SET visited_unix = ?2, month = ?3, wdhour = ?4, stop = ?5, sector = ?6, topics = ?7, rating = ?8, panel = ?9, fu_n = ?10
WHERE id = ?1`
	queryBackfillFollowUps = `
UPDATE followups SET opened_unix = v.visited_unix, wijk = v.wijk, gone = v.deleted,
    closed_unix = CASE WHEN followups.status IN ('done', 'cancelled') AND followups.status_at != '' THEN unixepoch(followups.status_at) END
FROM visits AS v WHERE v.id = followups.visit_id AND followups.opened_unix = 0`
)

// backfillInsight fills the insight columns of visits stored before
// migration 0007, a thousand per transaction, and counts them. A visit
// whose time cannot be read keeps an empty month and is left out of the
// figures, as at push.
func (s *Store) backfillInsight(ctx context.Context) error {
	// Once done it stays done (a push fills the columns itself), so a
	// setting spares every later start a scan of all visits.
	if _, err := s.Setting(ctx, settingInsightFilled); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	for {
		rows, err := s.db.Write.QueryContext(ctx, queryBackfillVisits)
		if err != nil {
			return err
		}
		type row struct{ id, body string }
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.body); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		left := 0
		// Only the columns: the folder counts these visits after the
		// fill (migration 0011 set it to count every visit).
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			for _, r := range batch {
				var v schema.Visit
				if err := json.Unmarshal([]byte(r.body), &v); err != nil {
					return fmt.Errorf("visit %s: %w", r.id, err)
				}
				fx := factsOf(&v)
				if fx.unix == 0 {
					fx.unix = -1 // not again
					left++
				}
				if _, err := tx.ExecContext(ctx, queryBackfillVisit, r.id, fx.unix, fx.month, fx.wdhour, v.Stop, v.Sector,
					fx.topics, fx.rating, v.PanelOptIn, len(v.FollowUps)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if left == len(batch) {
			break
		}
	}
	if _, err := s.db.Write.ExecContext(ctx, queryBackfillFollowUps); err != nil {
		return err
	}
	return s.PutSetting(ctx, settingInsightFilled, "1")
}
