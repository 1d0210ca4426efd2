package office

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"infobus/schema"
)

// The programme's figures. Whole months come from insight_months, which
// the folder (insightfold.go) brings up to date before they are read;
// days outside whole months (a week, a custom period's edges) are counted
// from the visits themselves through visits_when. Follow-ups are counted
// from their own copied columns. So every figure is exact after every
// sync.

const (
	// %[1]s: the months as inline constants, which SQLite seeks one by one
	// with the wijken, where a range of months would read every row of
	// them; %[2]s the wijken, or the whole city's rows.
	queryInsightMonths = `
SELECT wijk, dim, key, sum(n), sum(fu), sum(p) FROM insight_months
WHERE month IN (%[1]s) AND wijk IN (%[2]s) %[3]s GROUP BY wijk, dim, key`
	queryInsightRaw = `
SELECT wijk, wdhour, stop, sector, topics, rating, panel, fu_n FROM visits INDEXED BY visits_when
WHERE visited_unix >= ?1 AND visited_unix < ?2 AND deleted = 0 %s`
	queryInsightTrend = `
SELECT month, dim, key, sum(n) FROM insight_months
WHERE month IN (%[1]s) AND wijk IN (%[2]s) AND dim IN ('all', 'rating') GROUP BY month, dim, key`
	// Whole months of follow-up figures (insight_fu, kept by triggers).
	queryFollowUpMonths = `
SELECT dept, what, hours, sum(n) FROM insight_fu
WHERE month BETWEEN ?1 AND ?2 %s GROUP BY dept, what, hours`
	// The city's whole months (migration 0013): opened (days -1) and
	// closed by whole days, then by whole hours only in the days where a
	// percentile falls.
	queryFollowUpCityMonths = `
SELECT dept, what, days, sum(n) FROM insight_fu_city
WHERE month BETWEEN ?1 AND ?2 GROUP BY dept, what, days`
	queryFollowUpCityHours = `
SELECT dept, hours, sum(n) FROM insight_fu_hours
WHERE hours BETWEEN ?1 AND ?2 AND month BETWEEN ?3 AND ?4 GROUP BY dept, hours`
	queryFollowUpsOpened = `
SELECT department, count(*) FROM followups
WHERE opened_unix >= ?1 AND opened_unix < ?2 AND gone = 0 %s GROUP BY department`
	queryFollowUpsClosed = `
SELECT department, max(0, closed_unix - opened_unix) / 3600, count(*) FROM followups
WHERE closed_unix >= ?1 AND closed_unix < ?2 AND gone = 0 %s GROUP BY 1, 2`
	// Open at a moment: opened before it and not closed by then: those
	// open now (a small index of their own) and those closed since.
	// Overdue: besides, its due date lies before that moment's day.
	queryFollowUpsOpenAt = `
SELECT department, count(*), count(*) FILTER (WHERE due_date != '' AND due_date < ?2) FROM (
    SELECT department, due_date FROM followups INDEXED BY followups_open
    WHERE closed_unix IS NULL AND gone = 0 AND opened_unix < ?1 %[1]s
    UNION ALL
    SELECT department, due_date FROM followups INDEXED BY followups_closed
    WHERE closed_unix >= ?1 AND gone = 0 AND closed_unix IS NOT NULL AND opened_unix < ?1 %[1]s)
GROUP BY department`
)

// Area narrows the figures to one stadsdeel or one wijk; the zero Area is
// the whole city.
type Area struct {
	Stadsdeel string
	Wijk      string // a CBS code
}

// Wijken are the CBS codes of the area's wijken, nil for the whole city.
func (a Area) Wijken() []string {
	switch {
	case a.Wijk != "":
		return []string{a.Wijk}
	case a.Stadsdeel != "":
		var out []string
		for _, w := range schema.Ref.Wijken {
			if w.Stadsdeel == a.Stadsdeel {
				out = append(out, w.Code)
			}
		}
		return out
	}
	return nil
}

// wijkFilter is an "AND wijk IN (...)" clause for the area, with the
// codes quoted inline: they come from the reference list, never from the
// request, and inline constants keep one statement shape per area.
func (a Area) wijkFilter() string {
	ws := a.Wijken()
	if ws == nil {
		return ""
	}
	q := make([]string, len(ws))
	for i, w := range ws {
		if _, ok := schema.Ref.Wijk(w); !ok {
			panic("wijkFilter: not a reference wijk: " + w)
		}
		q[i] = "'" + w + "'"
	}
	return "AND wijk IN (" + strings.Join(q, ", ") + ")"
}

// wijkList is the area's wijken, or every reference wijk, quoted inline
// for an IN list (codes from the reference list, never from a request).
func (a Area) wijkList() string {
	ws := a.Wijken()
	if ws == nil {
		for _, w := range schema.Ref.Wijken {
			ws = append(ws, w.Code)
		}
	}
	for _, w := range ws {
		if _, ok := schema.Ref.Wijk(w); !ok {
			panic("wijkList: not a reference wijk: " + w)
		}
	}
	return "'" + strings.Join(ws, "', '") + "'"
}

// monthList is the months first..last (YYYY-MM) quoted inline for an IN
// list; they are made here, never taken from a request.
func monthList(first, last string) string {
	m, err := time.ParseInLocation("2006-01", first, zone)
	if err != nil {
		return "''"
	}
	var out []string
	for k := first; k <= last && len(out) < 12*100; m = m.AddDate(0, 1, 0) {
		k = m.Format("2006-01")
		if k > last {
			break
		}
		out = append(out, "'"+k+"'")
	}
	if len(out) == 0 {
		return "''"
	}
	return strings.Join(out, ", ")
}

// Tally counts visits (N), those with a follow-up (FU) and panel opt-ins (P).
type Tally struct{ N, FU, P int }

// Marks is a distribution of marks 1–10; index 0 is unused.
type Marks [11]int

// Count is how many marks there are.
func (m Marks) Count() int {
	n := 0
	for _, c := range m[1:] {
		n += c
	}
	return n
}

// Mean is the average mark, NaN without any.
func (m Marks) Mean() float64 {
	n, sum := 0, 0
	for i, c := range m {
		n += c
		sum += i * c
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(sum) / float64(n)
}

func (m *Marks) add(o *Marks) {
	for i := range m {
		m[i] += o[i]
	}
}

// VisitCounts are the visit figures of one period and area.
type VisitCounts struct {
	All    Tally
	Wijk   map[string]Tally
	Stop   map[string]int
	WdHour [7 * 24]int // weekday (0 = Sunday) * 24 + hour, local
	Sector map[string]int
	Topic  map[string]Tally // N visits with the topic, FU of them with a follow-up
	Marks  Marks            // asked by the crew
	// WijkMarks are the crew's marks per wijk.
	WijkMarks map[string]*Marks
}

func newVisitCounts() *VisitCounts {
	return &VisitCounts{Wijk: map[string]Tally{}, Stop: map[string]int{}, Sector: map[string]int{},
		Topic: map[string]Tally{}, WijkMarks: map[string]*Marks{}}
}

// What a row of counts adds to: the city's figures, those per wijk, or
// both.
const (
	levelCity = 1 << iota
	levelWijk
	levelBoth = levelCity | levelWijk
)

func (vc *VisitCounts) add(wijk, dim, key string, t Tally) { vc.addAt(levelBoth, wijk, dim, key, t) }

func (t Tally) times(sign int) Tally { return Tally{N: sign * t.N, FU: sign * t.FU, P: sign * t.P} }

// dropEmpty removes what counts nothing: a month's counts less the rest
// of the month leave zeros where every visit fell in the rest.
func (vc *VisitCounts) dropEmpty() {
	for k, t := range vc.Wijk {
		if t == (Tally{}) {
			delete(vc.Wijk, k)
		}
	}
	for _, m := range []map[string]int{vc.Stop, vc.Sector} {
		for k, n := range m {
			if n == 0 {
				delete(m, k)
			}
		}
	}
	for k, t := range vc.Topic {
		if t == (Tally{}) {
			delete(vc.Topic, k)
		}
	}
	for k, m := range vc.WijkMarks {
		if *m == (Marks{}) {
			delete(vc.WijkMarks, k)
		}
	}
}

func (vc *VisitCounts) addAt(level int, wijk, dim, key string, t Tally) {
	city, perWijk := level&levelCity != 0, level&levelWijk != 0
	if !city && dim != "all" && dim != "rating" {
		return
	}
	switch dim {
	case "all":
		if city {
			vc.All.N += t.N
			vc.All.FU += t.FU
			vc.All.P += t.P
		}
		if !perWijk {
			return
		}
		w := vc.Wijk[wijk]
		w.N += t.N
		w.FU += t.FU
		w.P += t.P
		vc.Wijk[wijk] = w
	case "stop":
		vc.Stop[key] += t.N
	case "wdhour":
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(vc.WdHour) {
			vc.WdHour[i] += t.N
		}
	case "sector":
		vc.Sector[key] += t.N
	case "topic":
		tt := vc.Topic[key]
		tt.N += t.N
		tt.FU += t.FU
		vc.Topic[key] = tt
	case "rating":
		if i, err := strconv.Atoi(key); err == nil && i >= 1 && i <= 10 {
			if city {
				vc.Marks[i] += t.N
			}
			if !perWijk {
				return
			}
			m := vc.WijkMarks[wijk]
			if m == nil {
				m = &Marks{}
				vc.WijkMarks[wijk] = m
			}
			m[i] += t.N
		}
	}
}

// span is a stretch of time [Start, End) cut into whole local months,
// counted from insight_months, and the rest, counted from the visits.
type span struct {
	firstMonth, lastMonth string         // "" when no whole month lies inside
	raw                   [][2]time.Time // each within one month
}

func splitSpan(start, end time.Time) span {
	var sp span
	start, end = start.In(zone), end.In(zone)
	for m := monthStart(start); m.Before(end); m = m.AddDate(0, 1, 0) {
		next := m.AddDate(0, 1, 0)
		if !m.Before(start) && !next.After(end) {
			if sp.firstMonth == "" {
				sp.firstMonth = m.Format("2006-01")
			}
			sp.lastMonth = m.Format("2006-01")
		} else {
			sp.raw = append(sp.raw, [2]time.Time{maxTime(m, start), minTime(next, end)})
		}
	}
	return sp
}

// monthStart is the start of t's local month.
func monthStart(t time.Time) time.Time {
	t = t.In(zone)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, zone)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// VisitCounts counts the visits in [start, end) in area.
func (s *Store) VisitCounts(ctx context.Context, area Area, start, end time.Time) (*VisitCounts, error) {
	if err := s.Fold(ctx); err != nil {
		return nil, err
	}
	vc := newVisitCounts()
	sp := splitSpan(start, end)
	filter := area.wijkFilter()
	if sp.firstMonth != "" {
		if err := s.countMonths(ctx, vc, area, monthList(sp.firstMonth, sp.lastMonth), 1); err != nil {
			return nil, err
		}
	}
	for _, r := range sp.raw {
		// Most of a month, a period of the last 365 days among them, is
		// its month's counts less the visits of the rest of it: a day or
		// two rather than thirty days of visits read one by one.
		if month, rest, ok := mostOfMonth(r[0], r[1]); ok {
			if err := s.countMonths(ctx, vc, area, "'"+month+"'", 1); err != nil {
				return nil, err
			}
			for _, q := range rest {
				if err := s.countRaw(ctx, vc, filter, q[0], q[1], -1); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := s.countRaw(ctx, vc, filter, r[0], r[1], 1); err != nil {
			return nil, err
		}
	}
	vc.dropEmpty()
	return vc, nil
}

// countMonths adds sign times the counts of the whole months (a quoted
// list) in area to vc.
func (s *Store) countMonths(ctx context.Context, vc *VisitCounts, area Area, months string, sign int) error {
	// The whole city: its own rows, and the wijken's only for the figures
	// per wijk. An area: its wijken's rows for everything.
	type part struct {
		wijken, dims string
		level        int
	}
	parts := []part{{area.wijkList(), "", levelBoth}}
	if area.Wijken() == nil {
		parts = []part{{"'" + cityWide + "'", "", levelCity}, {area.wijkList(), "AND dim IN ('all', 'rating')", levelWijk}}
	}
	for _, pt := range parts {
		err := eachRow(ctx, s.db.Read, fmt.Sprintf(queryInsightMonths, months, pt.wijken, pt.dims), nil, func(rows *sql.Rows) error {
			var (
				wijk, dim, key string
				t              Tally
			)
			if err := rows.Scan(&wijk, &dim, &key, &t.N, &t.FU, &t.P); err != nil {
				return err
			}
			vc.addAt(pt.level, wijk, dim, key, t.times(sign))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// mostOfMonth says whether [from, to), within one local month, is more
// than half of it, and returns that month and the stretches of it that
// [from, to) leaves out.
func mostOfMonth(from, to time.Time) (month string, rest [][2]time.Time, ok bool) {
	first := monthStart(from)
	next := first.AddDate(0, 1, 0)
	if 2*to.Sub(from) <= next.Sub(first) {
		return "", nil, false
	}
	if from.After(first) {
		rest = append(rest, [2]time.Time{first, from})
	}
	if to.Before(next) {
		rest = append(rest, [2]time.Time{to, next})
	}
	return first.Format("2006-01"), rest, true
}

// countRaw adds sign times the visits of [from, to) to vc, read one by
// one.
func (s *Store) countRaw(ctx context.Context, vc *VisitCounts, filter string, from, to time.Time, sign int) error {
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryInsightRaw, filter), from.Unix(), to.Unix())
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		wijk, stop, sector, topics string
		wdhour, panel, fuN         int
		rating                     sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&wijk, &wdhour, &stop, &sector, &topics, &rating, &panel, &fuN); err != nil {
			return err
		}
		t := Tally{N: sign}
		if fuN > 0 {
			t.FU = sign
		}
		vc.add(wijk, "all", "", Tally{N: sign, FU: t.FU, P: sign * panel})
		vc.add(wijk, "stop", stop, t)
		vc.add(wijk, "wdhour", strconv.Itoa(wdhour), t)
		vc.add(wijk, "sector", sector, t)
		for _, topic := range jsonStrings(topics) {
			vc.add(wijk, "topic", topic, t)
		}
		if rating.Valid {
			vc.add(wijk, "rating", strconv.FormatInt(rating.Int64, 10), t)
		}
	}
	return rows.Err()
}

// jsonStrings reads a JSON array of plain codes as the push stored it
// (json.Marshal of []string), without a full decoder per visit.
func jsonStrings(s string) []string {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s == "[]" {
		return nil
	}
	if strings.ContainsRune(s, '\\') {
		var out []string
		json.Unmarshal([]byte(s), &out)
		return out
	}
	parts := strings.Split(s[1:len(s)-1], ",")
	for i, p := range parts {
		parts[i] = strings.Trim(p, `"`)
	}
	return parts
}

// TrendPoint is one month of the trend: visits and the crew's marks.
type TrendPoint struct {
	Month  string // YYYY-MM
	Visits int
	Marks  Marks
}

// Trend returns the months first..last (YYYY-MM) in order, each with its
// visits and marks in area; months without visits are there with zeros.
func (s *Store) Trend(ctx context.Context, area Area, first, last string) ([]TrendPoint, error) {
	if err := s.Fold(ctx); err != nil {
		return nil, err
	}
	var out []TrendPoint
	idx := map[string]int{}
	m, err := time.ParseInLocation("2006-01", first, zone)
	if err != nil {
		return nil, err
	}
	for k := m.Format("2006-01"); k <= last; m = m.AddDate(0, 1, 0) {
		k = m.Format("2006-01")
		if k > last {
			break
		}
		idx[k] = len(out)
		out = append(out, TrendPoint{Month: k})
	}
	wijken := area.wijkList()
	if area.Wijken() == nil {
		wijken = "'" + cityWide + "'"
	}
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryInsightTrend, monthList(first, last), wijken))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			month, dim, key string
			n               int
		)
		if err := rows.Scan(&month, &dim, &key, &n); err != nil {
			return nil, err
		}
		i, ok := idx[month]
		if !ok {
			continue
		}
		if dim == "all" {
			out[i].Visits += n
		} else if r, err := strconv.Atoi(key); err == nil && r >= 1 && r <= 10 {
			out[i].Marks[r] += n
		}
	}
	return out, rows.Err()
}

// Durations is a distribution of times to close in whole hours: hours →
// how many follow-ups. The city's whole months (cityFollowUpMonths) give
// it by whole hours only in the days where the median and the 90th
// percentile fall, and elsewhere a day's follow-ups at its first hour:
// Count, Percentile(50) and Percentile(90) are exact, other percentiles
// to the day.
type Durations map[int]int

// Count is how many follow-ups the distribution holds.
func (d Durations) Count() int {
	n := 0
	for _, c := range d {
		n += c
	}
	return n
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100): the
// smallest duration that at least p% of the follow-ups took no longer
// than; -1 when there are none. The median is Percentile(50).
func (d Durations) Percentile(p float64) int {
	n := d.Count()
	if n == 0 {
		return -1
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	if rank < 1 {
		rank = 1
	}
	keys := make([]int, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	seen := 0
	for _, k := range keys {
		seen += d[k]
		if seen >= rank {
			return k
		}
	}
	return keys[len(keys)-1]
}

func (d Durations) add(o Durations) {
	for k, c := range o {
		d[k] += c
	}
}

// DeptFollowUps are the follow-up figures of one department.
type DeptFollowUps struct {
	Opened, Closed, Open, Overdue int
	Hours                         Durations // time to close of those closed
}

// FollowUpCounts are the follow-up figures of a period: opened and closed
// in it, and open and overdue at its end (or now, for a period not over).
type FollowUpCounts struct {
	Total DeptFollowUps
	Dept  map[string]*DeptFollowUps
	AsOf  time.Time
}

func (f *FollowUpCounts) dept(code string) *DeptFollowUps {
	d := f.Dept[code]
	if d == nil {
		d = &DeptFollowUps{Hours: Durations{}}
		f.Dept[code] = d
	}
	return d
}

// FollowUpCounts counts the follow-ups of [start, end) in area, open and
// overdue as of asOf.
func (s *Store) FollowUpCounts(ctx context.Context, area Area, start, end, asOf time.Time) (*FollowUpCounts, error) {
	s.settle(ctx)
	fc := &FollowUpCounts{Total: DeptFollowUps{Hours: Durations{}}, Dept: map[string]*DeptFollowUps{}, AsOf: asOf}
	filter := area.wijkFilter()
	closed := func(dept string, hours, n int) {
		d := fc.dept(dept)
		d.Closed += n
		d.Hours[hours] += n
		fc.Total.Closed += n
		fc.Total.Hours[hours] += n
	}
	opened := func(dept string, n int) {
		fc.dept(dept).Opened += n
		fc.Total.Opened += n
	}
	sp := splitSpan(start, end)
	for _, r := range sp.raw {
		span := []any{r[0].Unix(), r[1].Unix()}
		err := eachRow(ctx, s.db.Read, fmt.Sprintf(queryFollowUpsOpened, filter), span, func(rows *sql.Rows) error {
			var (
				dept string
				n    int
			)
			if err := rows.Scan(&dept, &n); err != nil {
				return err
			}
			opened(dept, n)
			return nil
		})
		if err == nil {
			err = eachRow(ctx, s.db.Read, fmt.Sprintf(queryFollowUpsClosed, filter), span, scanDeptHours(closed))
		}
		if err != nil {
			return nil, err
		}
	}
	// The whole months after the edges: the city's months find the days
	// where the percentiles fall with the edges' times counted in.
	switch {
	case sp.firstMonth != "" && area.Wijken() == nil:
		if err := s.cityFollowUpMonths(ctx, fc, sp.firstMonth, sp.lastMonth); err != nil {
			return nil, err
		}
	case sp.firstMonth != "":
		err := eachRow(ctx, s.db.Read, fmt.Sprintf(queryFollowUpMonths, filter), []any{sp.firstMonth, sp.lastMonth}, func(rows *sql.Rows) error {
			var (
				dept, what string
				hours, n   int
			)
			if err := rows.Scan(&dept, &what, &hours, &n); err != nil {
				return err
			}
			switch {
			case n == 0:
			case what == "o":
				opened(dept, n)
			default:
				closed(dept, hours, n)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	day := asOf.In(zone).Format(time.DateOnly)
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryFollowUpsOpenAt, filter), asOf.Unix(), day)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			dept          string
			open, overdue int
		)
		if err := rows.Scan(&dept, &open, &overdue); err != nil {
			return nil, err
		}
		d := fc.dept(dept)
		d.Open += open
		d.Overdue += overdue
		fc.Total.Open += open
		fc.Total.Overdue += overdue
	}
	return fc, rows.Err()
}

// cityFollowUpMonths adds the follow-ups opened and closed in the whole
// months first..last in the whole city to fc, which holds the period's
// edges already. The months' times to close are read by whole days, and
// by whole hours in the days where a median or 90th percentile falls, of
// a department or of all, edges and months together; so the percentiles
// are those of every follow-up by the hour, reading a few thousand rows
// for a year instead of a hundred thousand. One read transaction, so
// that the days and their hours are of the same moment.
func (s *Store) cityFollowUpMonths(ctx context.Context, fc *FollowUpCounts, first, last string) error {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, queryFollowUpCityMonths, first, last)
	if err != nil {
		return err
	}
	days := map[string]Durations{} // department → whole days to close → how many
	all := Durations{}
	for rows.Next() {
		var (
			dept, what string
			d, n       int
		)
		if err := rows.Scan(&dept, &what, &d, &n); err != nil {
			rows.Close()
			return err
		}
		if n == 0 {
			continue
		}
		dp := fc.dept(dept)
		if what == "o" {
			dp.Opened += n
			fc.Total.Opened += n
			continue
		}
		dp.Closed += n
		fc.Total.Closed += n
		if days[dept] == nil {
			days[dept] = Durations{}
		}
		days[dept][d] += n
		all[d] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// The days where the percentiles fall, counted with the edges.
	refine := map[int]bool{}
	rank := func(edges, months Durations) {
		byDay := Durations{}
		for h, n := range edges {
			byDay[h/24] += n
		}
		byDay.add(months)
		for _, p := range []float64{50, 90} {
			if d := byDay.Percentile(p); d >= 0 {
				refine[d] = true
			}
		}
	}
	for dept, ds := range days {
		rank(fc.Dept[dept].Hours, ds)
	}
	rank(fc.Total.Hours, all)
	addHours := func(dept string, hours, n int) {
		fc.dept(dept).Hours[hours] += n
		fc.Total.Hours[hours] += n
	}
	for d := range refine {
		if err := eachRow(ctx, tx, queryFollowUpCityHours, []any{d * 24, d*24 + 23, first, last}, scanDeptHours(addHours)); err != nil {
			return err
		}
	}
	for dept, ds := range days {
		for d, n := range ds {
			if !refine[d] {
				fc.Dept[dept].Hours[d*24] += n
				fc.Total.Hours[d*24] += n
			}
		}
	}
	return nil
}

// eachRow runs query and calls scan for every row, closing the rows
// before it returns: the queries per period and per day here run in loops,
// where a deferred Close would wait for the function's end.
func eachRow(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanDeptHours reads a row of department, whole hours to close and how
// many, and hands it to add.
func scanDeptHours(add func(dept string, hours, n int)) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var (
			dept     string
			hours, n int
		)
		if err := rows.Scan(&dept, &hours, &n); err != nil {
			return err
		}
		add(dept, hours, n)
		return nil
	}
}

// FeedbackMarks are the marks entrepreneurs gave on the feedback page in
// [start, end) (by when they first gave it; a later revision keeps its
// place), per wijk of the visit their code belongs to ("" while that
// visit has not reached the office: counted for the whole city only),
// and up to limit of their comments, newest first, with e-mail addresses
// and phone numbers taken out.
func (s *Store) FeedbackMarks(ctx context.Context, area Area, start, end time.Time, limit int) (marks map[string]*Marks, comments []string, ok bool, err error) {
	s.settle(ctx)
	filter := area.wijkFilter()
	rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryFeedbackMarks, filter), start.Unix(), end.Unix())
	if err != nil {
		return nil, nil, true, err
	}
	defer rows.Close()
	marks = map[string]*Marks{}
	for rows.Next() {
		var (
			wijk      string
			rating, c int
		)
		if err := rows.Scan(&wijk, &rating, &c); err != nil {
			return nil, nil, true, err
		}
		if rating < 1 || rating > 10 {
			continue
		}
		m := marks[wijk]
		if m == nil {
			m = &Marks{}
			marks[wijk] = m
		}
		m[rating] += c
	}
	if err := rows.Err(); err != nil {
		return nil, nil, true, err
	}
	if limit <= 0 {
		return marks, nil, true, nil
	}
	crows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(queryFeedbackComments, filter), start.Unix(), end.Unix(), limit)
	if err != nil {
		return nil, nil, true, err
	}
	defer crows.Close()
	for crows.Next() {
		var c string
		if err := crows.Scan(&c); err != nil {
			return nil, nil, true, err
		}
		comments = append(comments, scrubComment(c))
	}
	return marks, comments, true, crows.Err()
}

const (
	// One range of feedback_first (migration 0013): first_unix is
	// unixepoch(first_at), which compares moments where the stored
	// strings would compare text; wijk is copied from the code's visit
	// by triggers, so no join is needed.
	queryFeedbackMarks = `
SELECT wijk, rating, count(*) FROM feedback INDEXED BY feedback_first
WHERE first_unix >= ?1 AND first_unix < ?2 %s
GROUP BY 1, 2`
	// Newest first by a walk of the same index; within one second by the
	// moment to the nanosecond, then the code, which SQLite sorts a
	// second's few at a time and stops at the limit.
	queryFeedbackComments = `
SELECT comment FROM feedback INDEXED BY feedback_first
WHERE first_unix >= ?1 AND first_unix < ?2 AND trim(comment) != '' %s
ORDER BY first_unix DESC, first_at DESC, code LIMIT ?3`
)

var (
	emailRE = regexp.MustCompile(`[^\s@]+@[^\s@]+\.[^\s@]+`)
	phoneRE = regexp.MustCompile(`(\+31|0031|0)[\s.-]?\d([\s.-]?\d){7,9}`)
)

// scrubComment takes e-mail addresses and phone numbers out of a comment
// before it goes into a report, and shortens a long one.
func scrubComment(c string) string {
	c = strings.Join(strings.Fields(c), " ")
	c = emailRE.ReplaceAllString(c, "[…]")
	c = phoneRE.ReplaceAllString(c, "[…]")
	if r := []rune(c); len(r) > 300 {
		c = string(r[:299]) + "…"
	}
	return c
}
