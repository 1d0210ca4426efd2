package office

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"infobus/schema"
)

// The insight page and the monthly report show the same figures, built
// here into sections of plain rows so that the templates only lay out:
// a chart and, beside it, a table with the same numbers.

// Stat is one headline figure beside the period before.
type Stat struct {
	Label, Cur, Prev, Delta string
}

// Table is a figure's data as a table; the first cell of a row heads it.
type Table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// Figure is a chart with its table.
type Figure struct {
	ID, Title string
	Chart     template.HTML
	Table     Table
}

// Section is a heading with its figures.
type Section struct {
	ID, Title string
	Stats     *Table
	Figures   []Figure
	ListTitle string
	List      []string
	Note      string
}

type viewer struct{ lang string }

func (v viewer) t(key string, args ...any) string { return tr(v.lang, key, args...) }

func (v viewer) term(list []schema.Term, code string) string {
	for _, t := range list {
		if t.Code == code {
			if v.lang == "en" {
				return t.EN
			}
			return t.NL
		}
	}
	if code == "" {
		return v.t("insight.none")
	}
	return code
}

func wijkName(code string) string {
	if w, ok := schema.Ref.Wijk(code); ok {
		return w.Name
	}
	return code
}

func delta(cur, prev int) string {
	switch d := cur - prev; {
	case d > 0:
		return "+" + strconv.Itoa(d)
	case d < 0:
		return "−" + strconv.Itoa(-d)
	}
	return "0"
}

// mean shows an average mark with one decimal ("7,4" in Dutch), or a dash.
func (v viewer) mean(m Marks) string {
	x := m.Mean()
	if math.IsNaN(x) {
		return "–"
	}
	s := fmt.Sprintf("%.1f", x)
	if v.lang == "nl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// hours shows a time to close in hours, or a dash when nothing closed.
func (v viewer) hours(h int) string {
	if h < 0 {
		return "–"
	}
	return v.t("insight.hours", "n", h)
}

func (v viewer) period(p Period) string {
	from, to := p.From, p.To
	pg := &Page{Lang: v.lang}
	if from.Equal(to) {
		return pg.Date(from)
	}
	return pg.Date(from) + " – " + pg.Date(to)
}

var weekdayKeys = []string{"day.mon", "day.tue", "day.wed", "day.thu", "day.fri", "day.sat", "day.sun"}

// sections builds every figure of in.
func (v viewer) sections(in *Insight) []Section {
	cur, prev := v.t("insight.cur"), v.t("insight.prev")
	two := func(a, b []float64) []Series {
		return []Series{{Name: cur, Colour: colourCur, Values: a}, {Name: prev, Colour: colourPrev, Values: b}}
	}
	head := []string{"", cur, prev, v.t("insight.delta")}
	var out []Section

	// Headline figures.
	mk, oldMk := in.AllMarks(false), in.AllMarks(true)
	stats := []Stat{
		{v.t("insight.visits"), strconv.Itoa(in.Cur.All.N), strconv.Itoa(in.Old.All.N), delta(in.Cur.All.N, in.Old.All.N)},
		{v.t("insight.quick"), strconv.Itoa(in.Quick.Total), strconv.Itoa(in.OldQuick.Total), delta(in.Quick.Total, in.OldQuick.Total)},
		{v.t("insight.wijken"), strconv.Itoa(len(in.Cur.Wijk)), strconv.Itoa(len(in.Old.Wijk)), delta(len(in.Cur.Wijk), len(in.Old.Wijk))},
		{v.t("insight.fu.opened"), strconv.Itoa(in.FU.Total.Opened), strconv.Itoa(in.OldFU.Total.Opened), delta(in.FU.Total.Opened, in.OldFU.Total.Opened)},
		{v.t("insight.fu.closed"), strconv.Itoa(in.FU.Total.Closed), strconv.Itoa(in.OldFU.Total.Closed), delta(in.FU.Total.Closed, in.OldFU.Total.Closed)},
		{v.t("insight.fu.open"), strconv.Itoa(in.FU.Total.Open), strconv.Itoa(in.OldFU.Total.Open), delta(in.FU.Total.Open, in.OldFU.Total.Open)},
		{v.t("insight.fu.overdue"), strconv.Itoa(in.FU.Total.Overdue), strconv.Itoa(in.OldFU.Total.Overdue), delta(in.FU.Total.Overdue, in.OldFU.Total.Overdue)},
		{v.t("insight.fu.median"), v.hours(in.FU.Total.Hours.Percentile(50)), v.hours(in.OldFU.Total.Hours.Percentile(50)), ""},
		{v.t("insight.fu.p90"), v.hours(in.FU.Total.Hours.Percentile(90)), v.hours(in.OldFU.Total.Hours.Percentile(90)), ""},
		{v.t("insight.mark"), v.mean(mk) + " " + v.t("insight.n", "n", mk.Count()), v.mean(oldMk) + " " + v.t("insight.n", "n", oldMk.Count()), ""},
		{v.t("insight.panel"), strconv.Itoa(in.Cur.All.P), strconv.Itoa(in.Old.All.P), delta(in.Cur.All.P, in.Old.All.P)},
	}
	st := &Table{Caption: v.t("insight.summary"), Head: head}
	for _, s := range stats {
		st.Rows = append(st.Rows, []string{s.Label, s.Cur, s.Prev, s.Delta})
	}
	out = append(out, Section{ID: "summary", Title: v.t("insight.summary"), Stats: st})

	// Reach.
	reach := Section{ID: "reach", Title: v.t("insight.reach")}
	only := map[string]bool(nil)
	if ws := in.Area.Wijken(); ws != nil {
		only = map[string]bool{}
		for _, w := range ws {
			only[w] = true
		}
	}
	visits := map[string]int{}
	deelCur, deelOld := map[string]int{}, map[string]int{}
	var wijkRows [][]string
	for _, w := range schema.Ref.Wijken {
		if only != nil && !only[w.Code] {
			continue
		}
		c, o := in.Cur.Wijk[w.Code].N, in.Old.Wijk[w.Code].N
		visits[w.Code] = c
		deelCur[w.Stadsdeel] += c
		deelOld[w.Stadsdeel] += o
		wijkRows = append(wijkRows, []string{w.Name + " (" + w.Code[len(w.Code)-2:] + ")", w.Stadsdeel, strconv.Itoa(c), strconv.Itoa(o), delta(c, o)})
	}
	most := 0
	for _, n := range visits {
		most = max(most, n)
	}
	bounds := mapBounds(most)
	classes := []string{v.t("insight.map.none")}
	lo := 1
	for c := 1; c <= 4; c++ {
		if bounds[c] < lo {
			classes = append(classes, "–")
			continue
		}
		classes = append(classes, fmt.Sprintf("%d–%d", lo, bounds[c]))
		lo = bounds[c] + 1
	}
	reach.Figures = append(reach.Figures, Figure{ID: "map", Title: v.t("insight.map"),
		Chart: TileMap("map", v.t("insight.map"), visits, only, classes),
		Table: Table{Caption: v.t("insight.map"), Head: []string{v.t("insight.wijk"), v.t("insight.stadsdeel"), cur, prev, v.t("insight.delta")}, Rows: wijkRows}})
	var deelLabels []string
	var dc, do []float64
	var deelRows [][]string
	for _, d := range schema.Ref.Stadsdelen() {
		if _, ok := deelCur[d]; !ok {
			continue
		}
		deelLabels = append(deelLabels, d)
		dc, do = append(dc, float64(deelCur[d])), append(do, float64(deelOld[d]))
		deelRows = append(deelRows, []string{d, strconv.Itoa(deelCur[d]), strconv.Itoa(deelOld[d]), delta(deelCur[d], deelOld[d])})
	}
	reach.Figures = append(reach.Figures, Figure{ID: "stadsdelen", Title: v.t("insight.per.stadsdeel"),
		Chart: BarChart("stadsdelen", v.t("insight.per.stadsdeel"), deelLabels, two(dc, do)),
		Table: Table{Caption: v.t("insight.per.stadsdeel"), Head: head, Rows: deelRows}})
	reach.Figures = append(reach.Figures, v.countFigure("stops", v.t("insight.per.stop"), in.Cur.Stop, in.Old.Stop, func(k string) string {
		if k == "" {
			return v.t("insight.none")
		}
		return k
	}, 15, two, head))
	var wd, wdOld []float64
	var wdRows [][]string
	var wdLabels []string
	for i, key := range weekdayKeys {
		d := (i + 1) % 7 // Monday first; WdHour counts Sunday as 0
		c, o := 0, 0
		for h := range 24 {
			c += in.Cur.WdHour[d*24+h]
			o += in.Old.WdHour[d*24+h]
		}
		wdLabels = append(wdLabels, v.t(key))
		wd, wdOld = append(wd, float64(c)), append(wdOld, float64(o))
		wdRows = append(wdRows, []string{v.t(key), strconv.Itoa(c), strconv.Itoa(o), delta(c, o)})
	}
	reach.Figures = append(reach.Figures, Figure{ID: "weekdays", Title: v.t("insight.per.weekday"),
		Chart: ColumnChart("weekdays", v.t("insight.per.weekday"), wdLabels, two(wd, wdOld)),
		Table: Table{Caption: v.t("insight.per.weekday"), Head: head, Rows: wdRows}})
	var hr, hrOld []float64
	var hrRows [][]string
	var hrLabels []string
	for h := range 24 {
		c, o := 0, 0
		for d := range 7 {
			c += in.Cur.WdHour[d*24+h]
			o += in.Old.WdHour[d*24+h]
		}
		if c == 0 && o == 0 && (h < 7 || h > 21) {
			continue
		}
		hrLabels = append(hrLabels, strconv.Itoa(h))
		hr, hrOld = append(hr, float64(c)), append(hrOld, float64(o))
		hrRows = append(hrRows, []string{v.t("insight.hour", "h", h), strconv.Itoa(c), strconv.Itoa(o), delta(c, o)})
	}
	reach.Figures = append(reach.Figures, Figure{ID: "hours", Title: v.t("insight.per.hour"),
		Chart: ColumnChart("hours", v.t("insight.per.hour"), hrLabels, two(hr, hrOld)),
		Table: Table{Caption: v.t("insight.per.hour"), Head: head, Rows: hrRows}})
	reach.ListTitle = v.t("insight.notvisited")
	for _, w := range in.NotVisited {
		reach.List = append(reach.List, w.Name+" ("+w.Stadsdeel+")")
	}
	if len(reach.List) == 0 {
		reach.List = []string{v.t("insight.notvisited.none")}
	}
	out = append(out, reach)

	// Topics and sectors.
	topics := Section{ID: "topics", Title: v.t("insight.topics")}
	keys := sortedKeys(in.Cur.Topic, func(t Tally) int { return t.N })
	for k := range in.Old.Topic {
		if _, ok := in.Cur.Topic[k]; !ok {
			keys = append(keys, k)
		}
	}
	var tc, to []float64
	var tl []string
	var tRows [][]string
	for _, k := range keys {
		c, o := in.Cur.Topic[k], in.Old.Topic[k]
		tl = append(tl, v.term(schema.Ref.Topics, k))
		tc, to = append(tc, float64(c.N)), append(to, float64(o.N))
		tRows = append(tRows, []string{v.term(schema.Ref.Topics, k), strconv.Itoa(c.N), strconv.Itoa(o.N), delta(c.N, o.N), strconv.Itoa(c.FU), pct(c.FU, c.N)})
	}
	topics.Figures = append(topics.Figures, Figure{ID: "topics", Title: v.t("insight.per.topic"),
		Chart: BarChart("topics", v.t("insight.per.topic"), tl, two(tc, to)),
		Table: Table{Caption: v.t("insight.per.topic"), Head: append(append([]string{}, head...), v.t("insight.topic.fu"), v.t("insight.topic.fushare")), Rows: tRows}})
	topics.Figures = append(topics.Figures, v.countFigure("sectors", v.t("insight.per.sector"), in.Cur.Sector, in.Old.Sector,
		func(k string) string { return v.term(schema.Ref.Sectors, k) }, 0, two, head))
	out = append(out, topics)

	// Follow-ups per department.
	fu := Section{ID: "followups", Title: v.t("insight.followups"), Note: v.t("insight.fu.note", "date", (&Page{Lang: v.lang}).Date(in.FU.AsOf.Add(-1)))}
	depts := map[string]bool{}
	for k := range in.FU.Dept {
		depts[k] = true
	}
	for k := range in.OldFU.Dept {
		depts[k] = true
	}
	var dl []string
	var dMed, dMedOld []float64
	var dRows [][]string
	for _, t := range append(append([]schema.Term{}, schema.Ref.Departments...), schema.Term{Code: ""}) {
		if !depts[t.Code] {
			continue
		}
		c, o := in.FU.Dept[t.Code], in.OldFU.Dept[t.Code]
		if c == nil {
			c = &DeptFollowUps{Hours: Durations{}}
		}
		if o == nil {
			o = &DeptFollowUps{Hours: Durations{}}
		}
		name := v.term(schema.Ref.Departments, t.Code)
		dl = append(dl, name)
		dMed, dMedOld = append(dMed, nanIfNeg(c.Hours.Percentile(50))), append(dMedOld, nanIfNeg(o.Hours.Percentile(50)))
		dRows = append(dRows, []string{name,
			fmt.Sprintf("%d (%d)", c.Opened, o.Opened), fmt.Sprintf("%d (%d)", c.Closed, o.Closed),
			fmt.Sprintf("%d (%d)", c.Open, o.Open), fmt.Sprintf("%d (%d)", c.Overdue, o.Overdue),
			v.hours(c.Hours.Percentile(50)) + " (" + v.hours(o.Hours.Percentile(50)) + ")",
			v.hours(c.Hours.Percentile(90)) + " (" + v.hours(o.Hours.Percentile(90)) + ")"})
	}
	fu.Figures = append(fu.Figures, Figure{ID: "departments", Title: v.t("insight.fu.perdept"),
		Chart: BarChart("departments", v.t("insight.fu.mediandept"), dl, two(dMed, dMedOld)),
		Table: Table{Caption: v.t("insight.fu.perdept") + " " + v.t("insight.fu.prevparen"), Head: []string{v.t("insight.department"),
			v.t("insight.fu.opened"), v.t("insight.fu.closed"), v.t("insight.fu.open"), v.t("insight.fu.overdue"),
			v.t("insight.fu.median"), v.t("insight.fu.p90")}, Rows: dRows}})
	out = append(out, fu)

	// The mark.
	marks := Section{ID: "mark", Title: v.t("insight.marks")}
	if !in.FeedbackOK {
		marks.Note = v.t("insight.feedback.none")
	}
	var mc, mo []float64
	var mRows [][]string
	var ml []string
	for r := 1; r <= 10; r++ {
		ml = append(ml, strconv.Itoa(r))
		mc, mo = append(mc, float64(mk[r])), append(mo, float64(oldMk[r]))
		mRows = append(mRows, []string{strconv.Itoa(r), strconv.Itoa(mk[r]), strconv.Itoa(oldMk[r]), delta(mk[r], oldMk[r])})
	}
	mRows = append(mRows, []string{v.t("insight.mark.avg"), v.mean(mk), v.mean(oldMk), ""}, []string{v.t("insight.mark.n"), strconv.Itoa(mk.Count()), strconv.Itoa(oldMk.Count()), delta(mk.Count(), oldMk.Count())})
	marks.Figures = append(marks.Figures, Figure{ID: "marks", Title: v.t("insight.mark.dist"),
		Chart: ColumnChart("marks", v.t("insight.mark.dist"), ml, two(mc, mo)),
		Table: Table{Caption: v.t("insight.mark.dist"), Head: head, Rows: mRows}})
	var wl []string
	var wc, wo []float64
	var wRows [][]string
	for _, w := range schema.Ref.Wijken {
		c, o := v.wijkMarks(in, w.Code, false), v.wijkMarks(in, w.Code, true)
		if c.Count() == 0 && o.Count() == 0 {
			continue
		}
		wl = append(wl, w.Name)
		wc, wo = append(wc, c.Mean()), append(wo, o.Mean())
		wRows = append(wRows, []string{w.Name, v.mean(c), strconv.Itoa(c.Count()), v.mean(o), strconv.Itoa(o.Count())})
	}
	marks.Figures = append(marks.Figures, Figure{ID: "wijkmarks", Title: v.t("insight.mark.wijk"),
		Chart: BarChart("wijkmarks", v.t("insight.mark.wijk"), wl, two(wc, wo)),
		Table: Table{Caption: v.t("insight.mark.wijk"), Head: []string{v.t("insight.wijk"), cur, "n", prev, "n"}, Rows: wRows}})
	var trl []string
	var trMark, trVisits []float64
	var trRows [][]string
	for _, p := range in.Trend {
		trl = append(trl, p.Month[5:]+"/"+p.Month[2:4])
		trMark = append(trMark, p.Marks.Mean())
		trVisits = append(trVisits, float64(p.Visits))
		trRows = append(trRows, []string{p.Month, strconv.Itoa(p.Visits), v.mean(p.Marks), strconv.Itoa(p.Marks.Count())})
	}
	marks.Figures = append(marks.Figures, Figure{ID: "trend", Title: v.t("insight.trend"),
		Chart: LineChart("trend", v.t("insight.trend"), trl, []Series{{Name: v.t("insight.mark.avg"), Colour: colourCur, Values: trMark}}, 1, 10),
		Table: Table{Caption: v.t("insight.trend"), Head: []string{v.t("insight.month"), v.t("insight.visits"), v.t("insight.mark.avg"), "n"}, Rows: trRows}})
	out = append(out, marks)

	// Panel opt-ins.
	panel := Section{ID: "panel", Title: v.t("insight.panel")}
	var pl []string
	var pc, po []float64
	var pRows [][]string
	for _, w := range schema.Ref.Wijken {
		c, o := in.Cur.Wijk[w.Code].P, in.Old.Wijk[w.Code].P
		if c == 0 && o == 0 {
			continue
		}
		pl = append(pl, w.Name)
		pc, po = append(pc, float64(c)), append(po, float64(o))
		pRows = append(pRows, []string{w.Name, strconv.Itoa(c), strconv.Itoa(o), delta(c, o)})
	}
	panel.Figures = append(panel.Figures, Figure{ID: "panelchart", Title: v.t("insight.panel.wijk"),
		Chart: BarChart("panelchart", v.t("insight.panel.wijk"), pl, two(pc, po)),
		Table: Table{Caption: v.t("insight.panel.wijk"), Head: head, Rows: pRows}})
	out = append(out, panel)
	return out
}

func (v viewer) wijkMarks(in *Insight, code string, old bool) Marks {
	vc, fb := in.Cur, in.Feedback
	if old {
		vc, fb = in.Old, in.OldFeedb
	}
	var m Marks
	if x := vc.WijkMarks[code]; x != nil {
		m = *x
	}
	if x := fb[code]; x != nil {
		m.add(x)
	}
	return m
}

// countFigure is a bar chart and table of counts by key, the largest
// first, at most top rows (0: all).
func (v viewer) countFigure(id, title string, cur, old map[string]int, label func(string) string, top int,
	two func(a, b []float64) []Series, head []string) Figure {
	keys := sortedKeys(cur, func(n int) int { return n })
	for k := range old {
		if _, ok := cur[k]; !ok {
			keys = append(keys, k)
		}
	}
	if top > 0 && len(keys) > top {
		keys = keys[:top]
	}
	var l []string
	var c, o []float64
	var rows [][]string
	for _, k := range keys {
		l = append(l, label(k))
		c, o = append(c, float64(cur[k])), append(o, float64(old[k]))
		rows = append(rows, []string{label(k), strconv.Itoa(cur[k]), strconv.Itoa(old[k]), delta(cur[k], old[k])})
	}
	return Figure{ID: id, Title: title, Chart: BarChart(id, title, l, two(c, o)), Table: Table{Caption: title, Head: head, Rows: rows}}
}

func nanIfNeg(h int) float64 {
	if h < 0 {
		return math.NaN()
	}
	return float64(h)
}

func pct(part, whole int) string {
	if whole == 0 {
		return "–"
	}
	return strconv.Itoa(int(math.Round(100*float64(part)/float64(whole)))) + "%"
}
