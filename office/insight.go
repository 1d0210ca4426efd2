package office

import (
	"context"
	"sort"
	"sync"
	"time"

	"infobus/schema"
)

// Period kinds.
const (
	PeriodWeek    = "week"
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
	PeriodCustom  = "custom"
)

// MaxCustomDays bounds a custom period: the programme runs four years.
const MaxCustomDays = 5 * 366

// Period is a run of whole local days, From to To inclusive, in
// Europe/Amsterdam: it starts at From's midnight and ends at the midnight
// after To, whatever the clocks did in between.
type Period struct {
	Kind     string
	From, To time.Time // local midnights
}

// Start is the period's first moment.
func (p Period) Start() time.Time { return p.From }

// End is the moment after the period: the midnight that ends To.
func (p Period) End() time.Time { return day(p.To.AddDate(0, 0, 1)) }

// Days is how many days the period has.
func (p Period) Days() int {
	n := 0
	for d := p.From; d.Before(p.End()); d = day(d.AddDate(0, 0, 1)) {
		n++
	}
	return n
}

// day is local midnight of t's date. AddDate keeps the wall clock, so a
// midnight plus a day is the next midnight across a DST change too.
func day(t time.Time) time.Time {
	t = t.In(zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
}

// PeriodAt is the period of kind around the date at: its ISO week
// (Monday to Sunday), month or quarter.
func PeriodAt(kind string, at time.Time) Period {
	at = day(at)
	switch kind {
	case PeriodWeek:
		off := (int(at.Weekday()) + 6) % 7
		from := day(at.AddDate(0, 0, -off))
		return Period{Kind: kind, From: from, To: day(from.AddDate(0, 0, 6))}
	case PeriodQuarter:
		q := (int(at.Month()) - 1) / 3
		from := time.Date(at.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, zone)
		return Period{Kind: kind, From: from, To: day(from.AddDate(0, 3, -1))}
	default:
		from := monthStart(at)
		return Period{Kind: PeriodMonth, From: from, To: day(from.AddDate(0, 1, -1))}
	}
}

// Prev is the period before p: the week, month or quarter before, or as
// many days just before a custom period.
func (p Period) Prev() Period {
	if p.Kind == PeriodCustom {
		n := p.Days()
		return Period{Kind: p.Kind, From: day(p.From.AddDate(0, 0, -n)), To: day(p.From.AddDate(0, 0, -1))}
	}
	return PeriodAt(p.Kind, p.From.AddDate(0, 0, -1))
}

// Insight is every figure of a period and area beside the period before.
type Insight struct {
	Period, Prev Period
	Area         Area
	Cur, Old     *VisitCounts
	FU, OldFU    *FollowUpCounts
	// Quick and OldQuick are the crew's quick contacts (stops.go): reach
	// without a conversation, counted beside visits.
	Quick, OldQuick QuickCounts
	// Trend is the twelve months up to the period's last month.
	Trend []TrendPoint
	// Feedback marks per wijk, when the office has feedback.
	FeedbackOK         bool
	Feedback, OldFeedb map[string]*Marks
	Comments           []string
	NotVisited         []schema.Wijk
}

// Insight gathers the figures of p in area, the queries side by side on
// the reader pool. now bounds "open at the end" for a period not over.
func (s *Store) Insight(ctx context.Context, p Period, area Area, now time.Time, comments int) (*Insight, error) {
	in := &Insight{Period: p, Prev: p.Prev(), Area: area}
	asOf := func(q Period) time.Time { return minTime(q.End(), now) }
	last := p.To.Format("2006-01")
	first := time.Date(p.To.Year(), p.To.Month()-11, 1, 0, 0, 0, 0, zone).Format("2006-01")
	jobs := []func() error{
		func() (err error) { in.Cur, err = s.VisitCounts(ctx, area, p.Start(), p.End()); return },
		func() (err error) { in.Old, err = s.VisitCounts(ctx, area, in.Prev.Start(), in.Prev.End()); return },
		func() (err error) { in.FU, err = s.FollowUpCounts(ctx, area, p.Start(), p.End(), asOf(p)); return },
		func() (err error) {
			in.OldFU, err = s.FollowUpCounts(ctx, area, in.Prev.Start(), in.Prev.End(), asOf(in.Prev))
			return
		},
		func() (err error) { in.Trend, err = s.Trend(ctx, area, first, last); return },
		func() (err error) {
			if in.Quick, err = s.quickInArea(ctx, area, p.Start(), p.End()); err == nil {
				in.OldQuick, err = s.quickInArea(ctx, area, in.Prev.Start(), in.Prev.End())
			}
			return
		},
		func() (err error) {
			in.Feedback, in.Comments, in.FeedbackOK, err = s.FeedbackMarks(ctx, area, p.Start(), p.End(), comments)
			if err == nil && in.FeedbackOK {
				in.OldFeedb, _, _, err = s.FeedbackMarks(ctx, area, in.Prev.Start(), in.Prev.End(), 0)
			}
			return
		},
	}
	// Two at a time: the office has two cores, and more SQLite readers
	// side by side only take turns at them (measured: three times
	// slower with six).
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	slots := make(chan struct{}, 2)
	for i, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			errs[i] = job()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	wijken := area.Wijken()
	if wijken == nil {
		for _, w := range schema.Ref.Wijken {
			wijken = append(wijken, w.Code)
		}
	}
	for _, code := range wijken {
		if in.Cur.Wijk[code].N == 0 {
			w, _ := schema.Ref.Wijk(code)
			in.NotVisited = append(in.NotVisited, w)
		}
	}
	return in, nil
}

// AllMarks are the marks of the period from both sources: the crew's
// question and the feedback page.
func (in *Insight) AllMarks(old bool) Marks {
	vc, fb := in.Cur, in.Feedback
	if old {
		vc, fb = in.Old, in.OldFeedb
	}
	m := vc.Marks
	for _, f := range fb {
		m.add(f)
	}
	return m
}

// sortedKeys returns m's keys by descending value, then by key.
func sortedKeys[V any](m map[string]V, val func(V) int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := val(m[keys[i]]), val(m[keys[j]])
		if a != b {
			return a > b
		}
		return keys[i] < keys[j]
	})
	return keys
}
