package office

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"infobus/schema"
)

// Charts drawn on the server as inline SVG: no script, no request to any
// other server, and only presentation attributes (fill, stroke), which
// the CSP's style-src 'self' allows where a style attribute is refused.
// Every chart has a <title> for its accessible name, and its page puts the
// same figures in a table beside it, which is what a screen reader reads.

// Chart colours: this period, the period before (both at least 4.5:1 on
// white, so bars stay apart in print in grey scale too), and the map's
// scale from no visits to most.
const (
	colourCur  = "#1260a1"
	colourPrev = "#767676"
	colourAxis = "#595959"
	colourText = "#2e2e2e"
)

var mapScale = []string{"#ffffff", "#c7e6d0", "#8fcca0", "#3f9a5b", "#1e6c35"}

// Series is one row of values of a chart, NaN where there is none.
type Series struct {
	Name   string
	Colour string
	Values []float64
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func svgOpen(b *strings.Builder, id, title string, w, h int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="%s-t" viewBox="0 0 %d %d" width="%d" height="%d" font-family="system-ui, sans-serif" font-size="13">`, id, w, h, w, h)
	fmt.Fprintf(b, `<title id="%s-t">%s</title>`, id, esc(title))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`, w, h)
}

func legend(b *strings.Builder, series []Series, x, y int) {
	for _, s := range series {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" fill="%s">%s</text>`,
			x, y, s.Colour, x+16, y+11, colourText, esc(s.Name))
		x += 24 + 8*len([]rune(s.Name))
	}
}

func maxOf(series []Series) float64 {
	m := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && v > m {
				m = v
			}
		}
	}
	return m
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.Replace(fmt.Sprintf("%.1f", v), ".", ",", 1)
}

// BarChart draws horizontal bars, one group per label, one bar per series.
func BarChart(id, title string, labels []string, series []Series) template.HTML {
	const labelW, barW, barH, gap, top = 190, 330, 11, 8, 28
	rowH := barH*len(series) + gap
	w, h := labelW+barW+60, top+rowH*len(labels)+4
	var b strings.Builder
	svgOpen(&b, id, title, w, h)
	legend(&b, series, labelW, 4)
	max := maxOf(series)
	for i, l := range labels {
		y := top + i*rowH
		name := []rune(l)
		if len(name) > 26 {
			name = append(name[:25], '…')
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, labelW-6, y+barH*len(series)/2+4, colourText, esc(string(name)))
		for j, s := range series {
			v := 0.0
			if i < len(s.Values) && !math.IsNaN(s.Values[i]) {
				v = s.Values[i]
			}
			bw := 0.0
			if max > 0 {
				bw = v / max * barW
			}
			by := y + j*barH
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelW, by, bw, barH-1, s.Colour)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="%s">%s</text>`, float64(labelW)+bw+4, by+barH-2, colourText, num(v))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, labelW, top-2, labelW, h-4, colourAxis)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// ColumnChart draws vertical bars over a few labels (the marks 1–10, the
// weekdays, the hours), one bar per series.
func ColumnChart(id, title string, labels []string, series []Series) template.HTML {
	const left, plotH, top = 36, 160, 28
	colW := 14*len(series) + 8
	if colW < 24 {
		colW = 24
	}
	w, h := left+colW*len(labels)+10, top+plotH+24
	var b strings.Builder
	svgOpen(&b, id, title, w, h)
	legend(&b, series, left, 4)
	max := maxOf(series)
	base := top + plotH
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, base, w-6, base, colourAxis)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="10" fill="%s">%s</text>`, left-4, top+8, colourText, num(max))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="10" fill="%s">0</text>`, left-4, base, colourText)
	barW := (colW - 8) / len(series)
	for i, l := range labels {
		x := left + i*colW + 4
		for j, s := range series {
			v := 0.0
			if i < len(s.Values) && !math.IsNaN(s.Values[i]) {
				v = s.Values[i]
			}
			bh := 0.0
			if max > 0 {
				bh = v / max * plotH
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"/>`, x+j*barW, float64(base)-bh, barW-1, bh, s.Colour)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="%s">%s</text>`, x+(colW-8)/2, base+15, colourText, esc(l))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// LineChart draws series over labels as lines with dots; NaN leaves a gap.
// lo and hi fix the value axis (both 0: from 0 to the highest value).
func LineChart(id, title string, labels []string, series []Series, lo, hi float64) template.HTML {
	const left, plotW, plotH, top = 44, 520, 170, 28
	w, h := left+plotW+16, top+plotH+26
	if hi <= lo {
		lo, hi = 0, maxOf(series)
		if hi == 0 {
			hi = 1
		}
	}
	var b strings.Builder
	svgOpen(&b, id, title, w, h)
	legend(&b, series, left, 4)
	base := top + plotH
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, base, left+plotW, base, colourAxis)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, top, left, base, colourAxis)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="10" fill="%s">%s</text>`, left-4, top+8, colourText, num(hi))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="10" fill="%s">%s</text>`, left-4, base, colourText, num(lo))
	step := float64(plotW)
	if len(labels) > 1 {
		step = float64(plotW) / float64(len(labels)-1)
	}
	xOf := func(i int) float64 { return float64(left) + float64(i)*step }
	yOf := func(v float64) float64 { return float64(base) - (v-lo)/(hi-lo)*plotH }
	for i, l := range labels {
		if len(labels) > 12 && i%2 == 1 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="10" fill="%s">%s</text>`, xOf(i), base+15, colourText, esc(l))
	}
	for _, s := range series {
		var path strings.Builder
		pen := "M"
		for i, v := range s.Values {
			if math.IsNaN(v) {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, xOf(i), yOf(v))
			pen = "L"
		}
		if path.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), s.Colour)
		}
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, xOf(i), yOf(v), s.Colour)
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// mapClass is the colour class of n visits on a scale up to max: 0 for
// none, then four equal steps.
func mapClass(n, max int) int {
	if n <= 0 || max <= 0 {
		return 0
	}
	c := int(math.Ceil(float64(n) / float64(max) * 4))
	return min(max4(c), 4)
}

func max4(c int) int {
	if c < 1 {
		return 1
	}
	return c
}

// mapBounds are the upper visit counts of the map's classes 1–4.
func mapBounds(max int) [5]int {
	var out [5]int
	for c := 1; c <= 4; c++ {
		out[c] = int(math.Floor(float64(max) * float64(c) / 4))
	}
	return out
}

// TileMap draws the wijken as tiles, one row per stadsdeel, each tile
// coloured by its visits and marked with its wijk number; classLabels
// name the legend's classes (none, then four ranges).
func TileMap(id, title string, visits map[string]int, only map[string]bool, classLabels []string) template.HTML {
	const labelW, tile, gap, top = 170, 52, 6, 34
	byDeel := map[string][]schema.Wijk{}
	for _, w := range schema.Ref.Wijken {
		byDeel[w.Stadsdeel] = append(byDeel[w.Stadsdeel], w)
	}
	delen := schema.Ref.Stadsdelen()
	most := 0
	for _, w := range schema.Ref.Wijken {
		most = max(most, visits[w.Code])
	}
	cols := 0
	for _, d := range delen {
		cols = max(cols, len(byDeel[d]))
	}
	w, h := labelW+cols*(tile+gap)+4, top+len(delen)*(tile+gap)+4
	var b strings.Builder
	svgOpen(&b, id, title, w, h)
	x := 0
	for c, l := range classLabels {
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="14" height="14" fill="%s" stroke="%s"/><text x="%d" y="18" fill="%s">%s</text>`,
			x, mapScale[c], colourAxis, x+18, colourText, esc(l))
		x += 30 + 7*len([]rune(l))
	}
	for r, d := range delen {
		y := top + r*(tile+gap)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, labelW-8, y+tile/2+5, colourText, esc(d))
		for i, wk := range byDeel[d] {
			x := labelW + i*(tile+gap)
			n := visits[wk.Code]
			class := mapClass(n, most)
			fill, ink, stroke := mapScale[class], colourText, colourAxis
			if class >= 3 {
				ink = "#ffffff"
			}
			if only != nil && !only[wk.Code] {
				fill, ink, stroke = "#f0efed", "#595959", "#c8c6c2"
			}
			fmt.Fprintf(&b, `<g><title>%s: %d</title><rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s" stroke="%s"/>`,
				esc(wk.Name), n, x, y, tile, tile, fill, stroke)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="%s">%s</text>`, x+tile/2, y+18, ink, esc(wk.Code[len(wk.Code)-2:]))
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-weight="700" fill="%s">%d</text></g>`, x+tile/2, y+38, ink, n)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
