package office

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// newFixtureWeb is the insight fixture behind the office's pages.
func newFixtureWeb(tb testing.TB) (*testWeb, *fxStore) {
	tb.Helper()
	w := newTestWeb(tb)
	fx := newFixtureStore(tb)
	w.store = fx.Store
	w.clock = fx.clock
	cfg := Config{Version: "test"}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	w.server = NewServer(cfg, fx.Store, w.server.log)
	return w, fx
}

var (
	svgRE    = regexp.MustCompile(`(?s)<svg .*?</svg>`)
	figureRE = regexp.MustCompile(`(?s)<figure class="fig" id="fig-([a-z]+)">(.*?)</figure>`)
)

// checkFigures holds every chart to valid XML with an accessible name,
// and every figure to a table beside its chart.
func checkFigures(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, svg := range svgRE.FindAllString(body, -1) {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chart is not valid XML: %v\n%.300s", err, svg)
			}
		}
		if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, "<title id=") {
			t.Errorf("chart without role and title: %.200s", svg)
		}
		if strings.Contains(svg, "style=") || strings.Contains(svg, "href") {
			t.Errorf("chart with a style attribute or a link: %.200s", svg)
		}
	}
	figs := map[string]string{}
	for _, m := range figureRE.FindAllStringSubmatch(body, -1) {
		figs[m[1]] = m[2]
	}
	for _, id := range want {
		f, ok := figs[id]
		switch {
		case !ok:
			t.Errorf("no figure %s", id)
		case !strings.Contains(f, "<svg "):
			t.Errorf("figure %s has no chart", id)
		case !strings.Contains(f, "<table") || !strings.Contains(f, "<caption>"):
			t.Errorf("figure %s has no table with a caption", id)
		}
	}
}

func TestInsightPage(t *testing.T) {
	w, _ := newFixtureWeb(t)
	w.addStaff("bob@example.org", RoleStaff, goodPassword)
	a := w.agent()
	wantLocation(t, "anonymous", a.get("/insight"), "/login?next=%2Finsight")
	a.login("bob@example.org", goodPassword, "/insight")

	r := a.get("/insight?period=month&at=2026-10-10")
	wantStatus(t, "insight", r, http.StatusOK)
	checkFigures(t, r.body, "map", "stadsdelen", "stops", "weekdays", "hours", "topics", "sectors", "departments", "marks", "wijkmarks", "trend", "panelchart")
	for _, s := range []string{"1 oktober 2026 – 31 oktober 2026", "Archipelbuurt (05)", "<td>26 uur</td>", "<td>100 uur</td>", "8,0 (n = 3)", "Oostduinen (Scheveningen)"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("insight page lacks %q", s)
		}
	}
	if strings.Contains(r.body, "/export/panel.csv") {
		t.Error("staff see the admin-only panel export")
	}
	r = a.get("/insight?period=week&at=2026-10-25&area=sd:Scheveningen&lang=en")
	wantStatus(t, "insight in English", r, http.StatusOK)
	if !strings.Contains(r.body, "19 October 2026 – 25 October 2026") {
		t.Errorf("week page lacks its period")
	}

	for _, tc := range []struct{ name, query, field string }{
		{"bad period", "period=year", "period"},
		{"bad date", "at=30-11-2026", "at"},
		{"custom without dates", "period=custom", "from"},
		{"custom backwards", "period=custom&from=2026-10-02&to=2026-10-01", "to"},
		{"custom too long", "period=custom&from=2000-01-01&to=2026-10-01", "to"},
		{"unknown wijk", "area=wk:WK999999", "area"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.get("/insight?" + tc.query + "&lang=nl")
			wantStatus(t, tc.query, r, http.StatusBadRequest)
			if !strings.Contains(r.body, `id="`+tc.field+`-error"`) || !strings.Contains(r.body, `role="alert"`) {
				t.Errorf("%s: the refusal does not name field %s:\n%s", tc.query, tc.field, r.body)
			}
		})
	}
}

func TestCSVQuotingAndFormulas(t *testing.T) {
	cells := []string{"a;b", "a,b", `zei "ja"`, "twee\nregels", "=SUM(A1)", "+31 6", "-2", "@cmd", "\tTab", "gewoon", ""}
	want := []string{"a;b", "a,b", `zei "ja"`, "twee\nregels", "'=SUM(A1)", "'+31 6", "'-2", "'@cmd", "'\tTab", "gewoon", ""}
	for _, semicolon := range []bool{false, true} {
		var b bytes.Buffer
		out := newCSVOut(&b, semicolon)
		if err := out.write(cells...); err != nil {
			t.Fatal(err)
		}
		out.w.Flush()
		raw := b.Bytes()
		if !bytes.HasPrefix(raw, []byte("\xEF\xBB\xBF")) {
			t.Fatalf("no BOM: %q", raw[:8])
		}
		cr := csv.NewReader(bytes.NewReader(raw[3:]))
		if semicolon {
			cr.Comma = ';'
		}
		got, err := cr.Read()
		if err != nil {
			t.Fatalf("semicolon %v: %v\n%q", semicolon, err, raw)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("semicolon %v: got %q, want %q", semicolon, got, want)
		}
	}
}

func readCSV(t *testing.T, r answer, comma rune) [][]string {
	t.Helper()
	wantStatus(t, "export", r, http.StatusOK)
	if !strings.HasPrefix(r.body, csvBOM) {
		t.Fatalf("export without BOM: %.20q", r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, csvBOM)))
	cr.Comma = comma
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestExports(t *testing.T) {
	w, fx := newFixtureWeb(t)
	w.addStaff("bob@example.org", RoleStaff, goodPassword)
	w.addStaff("ada@example.org", RoleAdmin, goodPassword)
	staff, admin := w.agent(), w.agent()
	staff.login("bob@example.org", goodPassword, "/")
	admin.login("ada@example.org", goodPassword, "/")

	// A name that is a formula, and a stop with ; and quotes, pushed as a
	// new rev of B.
	b := fx.visits[fx.ids["B"]]
	b.Rev, b.Business.Name, b.Stop = 2, "=HYPERLINK(\"http://x\")", `Plein "West"; hoek`
	fx.push(t, b)

	rows := readCSV(t, staff.get("/export/visits.csv?period=month&at=2026-10-10"), ',')
	if len(rows) != 1+6 {
		t.Fatalf("visits export: got %d rows, want header and 6", len(rows))
	}
	head := strings.Join(rows[0], ",")
	if strings.Contains(head, "contact") {
		t.Errorf("staff export holds contact columns: %s", head)
	}
	var found bool
	for _, row := range rows[1:] {
		if row[0] == fx.ids["B"] {
			found = true
			if row[12] != `'=HYPERLINK("http://x")` || row[6] != `Plein "West"; hoek` {
				t.Errorf("B: got business %q and stop %q", row[12], row[6])
			}
			if row[2] != "2026-10-01 00:30" {
				t.Errorf("B's local time: got %q", row[2])
			}
		}
	}
	if !found {
		t.Error("B not in the export")
	}
	rows = readCSV(t, staff.get("/export/visits.csv?period=month&at=2026-10-10&area=sd:Scheveningen&sep=semicolon"), ';')
	if len(rows) != 1+2 {
		t.Errorf("Scheveningen export: got %d rows, want 3", len(rows))
	}
	rows = readCSV(t, staff.get("/export/followups.csv?period=month&at=2026-10-10"), ',')
	if len(rows) != 1+4 {
		t.Errorf("follow-ups export: got %d rows, want 5", len(rows))
	}

	// Contact details: admins only, and audited.
	wantStatus(t, "staff asks for contacts", staff.get("/export/visits.csv?period=month&at=2026-10-10&contact=1"), http.StatusForbidden)
	wantStatus(t, "staff asks for the panel", staff.get("/export/panel.csv?period=month&at=2026-10-10"), http.StatusForbidden)
	rows = readCSV(t, admin.get("/export/panel.csv?period=month&at=2026-10-10"), ',')
	if len(rows) != 2 || rows[1][5] != "Noor A" {
		t.Errorf("panel export: got %q", rows)
	}
	rows = readCSV(t, admin.get("/export/visits.csv?period=month&at=2026-10-10&contact=1"), ',')
	if !strings.Contains(strings.Join(rows[0], ","), "contact_phone") {
		t.Errorf("admin export lacks contact columns: %q", rows[0])
	}
	log, err := w.store.AuditLog(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		if e.Actor == "ada@example.org" && strings.HasPrefix(e.Action, "export_") {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, ",") != ActionExportContact+","+ActionExportPanel {
		t.Errorf("audit: got %v, want the contact and the panel export", actions)
	}

	r := staff.get("/export/visits.csv?period=custom&from=2026-10-01&to=x")
	wantStatus(t, "bad filter", r, http.StatusBadRequest)
	if !strings.Contains(r.body, "to: Vul een datum in") || !strings.Contains(r.body, "to: Enter a date") {
		t.Errorf("bad filter answer: %q", r.body)
	}
}

func TestReportPages(t *testing.T) {
	w, _ := newFixtureWeb(t)
	w.addStaff("bob@example.org", RoleStaff, goodPassword)
	a := w.agent()
	a.login("bob@example.org", goodPassword, "/reports")
	r := a.get("/reports")
	wantStatus(t, "reports", r, http.StatusOK)
	if !strings.Contains(r.body, `value="2026-10"`) {
		t.Errorf("reports page does not offer last month")
	}
	r = a.post("/reports", map[string][]string{"month": {"oktober"}})
	wantStatus(t, "bad month", r, http.StatusBadRequest)
	if !strings.Contains(r.body, `id="month-error"`) {
		t.Errorf("bad month not named")
	}
	r = a.post("/reports", map[string][]string{"month": {"2026-10"}})
	wantLocation(t, "make report", r, "/reports/2026-10")
	r = a.get("/reports/2026-10")
	wantStatus(t, "report", r, http.StatusOK)
	checkFigures(t, r.body, "map", "stadsdelen", "topics", "departments", "marks", "wijkmarks", "trend")
	for _, s := range []string{"Programma-update Informatiebus: oktober 2026", "september 2026", "Wat ondernemers zeiden"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if strings.Contains(r.body, "Noor A") || strings.Contains(r.body, "0612345678") {
		t.Error("the report shows personal data")
	}
	wantStatus(t, "unknown month", a.get("/reports/2026-09"), http.StatusNotFound)
	wantStatus(t, "not a month", a.get("/reports/x"), http.StatusNotFound)
	r = a.get("/reports")
	if !strings.Contains(r.body, `href="/reports/2026-10"`) {
		t.Error("the kept report is not listed")
	}
}

func TestInsightMonthlyJob(t *testing.T) {
	w, fx := newFixtureWeb(t)
	ctx := context.Background()
	job, err := w.server.NewReportJob(DefaultReportSchedule)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 9, 20, 12, 0, 0, 0, zone)
	var runs []string
	var at []time.Time
	// Two and a half months in steps of 7 minutes, as a ticker would.
	for now := start; now.Before(time.Date(2026, 12, 5, 0, 0, 0, 0, zone)); now = now.Add(7 * time.Minute) {
		made, err := job.Tick(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range made {
			runs = append(runs, m)
			at = append(at, now)
		}
	}
	if strings.Join(runs, ",") != "2026-09,2026-10,2026-11" {
		t.Fatalf("runs: got %v, want September, October and November once each", runs)
	}
	for i, t0 := range at {
		l := t0.In(zone)
		if l.Day() != 1 || l.Hour() != 6 || l.Minute() >= 7 {
			t.Errorf("run %d at %v, want the 1st just after 06.00", i, l)
		}
	}
	first, err := fx.FindReport(ctx, "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	// Made again on demand: the same report.
	again, err := w.server.MakeReport(ctx, "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	if again.HTML != first.HTML {
		t.Error("the October report differs when made twice")
	}
	// A restart picks up where it stopped: nothing to do in the same month.
	job2, _ := w.server.NewReportJob(DefaultReportSchedule)
	if made, err := job2.Tick(ctx, time.Date(2026, 12, 20, 0, 0, 0, 0, zone)); err != nil || len(made) != 0 {
		t.Errorf("after a restart: made %v, %v; want nothing", made, err)
	}
}

func TestReportQuotesFeedback(t *testing.T) {
	w, fx := newFixtureWeb(t)
	addFeedback(t, fx, [5]string{"K1", "A", "9", "2026-10-05T10:00:00Z", "Fijn dat jullie langskwamen! Mail: noor@example.nl"})
	body, err := w.server.reportBody(context.Background(), "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "<li>Fijn dat jullie langskwamen! Mail: […]</li>") || strings.Contains(body, "noor@example.nl") {
		t.Errorf("report quotes:\n%s", body[strings.Index(body, `id="said"`):])
	}
	if !strings.Contains(body, "8,2 (n = 4)") { // 8, 6, 10 and 9: 8.25, shown to the even 8,2
		t.Error("the report's mark leaves out the feedback")
	}
}
