package office

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// insightQuery is the insight page's filter as the query string holds it;
// the exports take the same one.
type insightQuery struct {
	Period, At, From, To, Area string
}

func queryOf(c *fiber.Ctx) insightQuery {
	return insightQuery{Period: c.Query("period"), At: c.Query("at"), From: c.Query("from"), To: c.Query("to"), Area: c.Query("area")}
}

func (q insightQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"period": q.Period, "at": q.At, "from": q.From, "to": q.To, "area": q.Area} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// problem is a refused filter field in both languages.
type problem struct{ nl, en string }

// parse turns the query into a period and area, or names the fields it
// refuses. An empty query is this month, the whole city.
func (q insightQuery) parse(now time.Time) (Period, Area, map[string]problem) {
	errs := map[string]problem{}
	date := func(field, s string) time.Time {
		t, err := time.ParseInLocation(time.DateOnly, s, zone)
		if err != nil {
			errs[field] = problem{"Vul een datum in als JJJJ-MM-DD, bijvoorbeeld 2026-11-30.", "Enter a date as YYYY-MM-DD, for example 2026-11-30."}
		}
		return t
	}
	var p Period
	switch q.Period {
	case "", PeriodWeek, PeriodMonth, PeriodQuarter:
		kind := q.Period
		if kind == "" {
			kind = PeriodMonth
		}
		at := now
		if q.At != "" {
			at = date("at", q.At)
		}
		p = PeriodAt(kind, at)
	case PeriodCustom:
		from, to := date("from", q.From), date("to", q.To)
		if len(errs) == 0 {
			switch {
			case to.Before(from):
				errs["to"] = problem{"De einddatum ligt voor de begindatum.", "The end date is before the start date."}
			case to.Sub(from) > MaxCustomDays*24*time.Hour:
				errs["to"] = problem{"Kies een periode van hoogstens 5 jaar.", "Choose a period of at most 5 years."}
			}
		}
		p = Period{Kind: PeriodCustom, From: day(from), To: day(to)}
	default:
		errs["period"] = problem{"Kies week, maand, kwartaal of eigen periode.", "Choose week, month, quarter or custom."}
	}
	area, ok := parseArea(q.Area)
	if !ok {
		errs["area"] = problem{"Kies een stadsdeel of wijk uit de lijst.", "Choose a district or wijk from the list."}
	}
	return p, area, errs
}

// parseArea reads "sd:NAME" or "wk:CODE"; "" is the whole city.
func parseArea(s string) (Area, bool) {
	switch {
	case s == "":
		return Area{}, true
	case strings.HasPrefix(s, "wk:"):
		w, ok := schema.Ref.Wijk(s[3:])
		return Area{Wijk: w.Code}, ok
	case strings.HasPrefix(s, "sd:"):
		for _, d := range schema.Ref.Stadsdelen() {
			if d == s[3:] {
				return Area{Stadsdeel: d}, true
			}
		}
	}
	return Area{}, false
}

// AreaOption is an entry of the area list.
type AreaOption struct {
	Value, Label string
	Group        bool // a stadsdeel, shown above its wijken
	Selected     bool
}

type insightData struct {
	Q            insightQuery
	Areas        []AreaOption
	Title        string
	PeriodLabel  string
	PrevLabel    string
	Sections     []Section
	ExportQuery  template.URL
	Admin        bool
	HasErrors    bool
	PeriodKinds  []string
	IsCustom     bool
	FeedbackNote string
	Satisfaction SatisfactionFigures // beside the mark (loop.go)
}

func areaOptions(lang, selected string) []AreaOption {
	out := []AreaOption{{Value: "", Label: tr(lang, "insight.area.all"), Selected: selected == ""}}
	for _, d := range schema.Ref.Stadsdelen() {
		out = append(out, AreaOption{Value: "sd:" + d, Label: d, Group: true, Selected: selected == "sd:"+d})
		for _, w := range schema.Ref.Wijken {
			if w.Stadsdeel == d {
				out = append(out, AreaOption{Value: "wk:" + w.Code, Label: w.Name, Selected: selected == "wk:"+w.Code})
			}
		}
	}
	return out
}

func (s *Server) handleInsight(c *fiber.Ctx) error {
	p := s.newPage(c)
	q := queryOf(c)
	q.Area = strings.Clone(q.Area)
	d := &insightData{Q: q, Areas: areaOptions(p.Lang, q.Area), PeriodKinds: []string{PeriodWeek, PeriodMonth, PeriodQuarter, PeriodCustom},
		Admin: p.Session.Staff.Role == RoleAdmin, IsCustom: q.Period == PeriodCustom}
	p.Data = d
	for k, v := range q.values() {
		p.Values[k] = v[0]
	}
	period, area, errs := q.parse(s.store.now())
	if len(errs) > 0 {
		for k, e := range errs {
			p.Errors[k] = e.nl
			if p.Lang == "en" {
				p.Errors[k] = e.en
			}
		}
		d.HasErrors = true
		return s.render(c, fiber.StatusBadRequest, "insight", p)
	}
	in, err := s.store.Insight(c.UserContext(), period, area, s.store.now(), 0)
	if err != nil {
		return err
	}
	v := viewer{lang: p.Lang}
	d.PeriodLabel, d.PrevLabel = v.period(in.Period), v.period(in.Prev)
	d.Sections = v.sections(in)
	if d.Satisfaction, err = s.store.SatisfactionIn(c.UserContext(), in.Period.Start(), in.Period.End()); err != nil {
		return err
	}
	d.ExportQuery = template.URL(q.values().Encode())
	return s.render(c, fiber.StatusOK, "insight", p)
}
