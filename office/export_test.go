package office

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"infobus/schema"
	"infobus/schema/schematest"
)

// The export writes CSV by hand; these cells must come out byte for byte
// as encoding/csv's Writer (UseCRLF) writes their defused form, with
// either separator.
func TestCSVOutWritesAsEncodingCSV(t *testing.T) {
	rows := [][]string{
		{"a;b", "a,b", `zei "ja"`, "twee\nregels", "cr\rin", "crlf\r\nin", "=SUM(A1)", "+31 6", "-2", "@cmd", "\tTab", "\rCR", "gewoon", ""},
		{" spatie voor", "\u00a0nbsp voor", "\u2003em voor", `\.`, `\.x`, "'al", "é", "\"", "\n", ";", ",", "-", "="},
		{""}, {"", ""}, {"\"=\""},
	}
	// And a few thousand cells of the characters that matter.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", ",", ";", "\"", "\r", "\n", "\t", "=", "+", "-", "@", "'", `\`, ".", "é", "\u00a0", "\u2028"}
	for range 500 {
		var row []string
		for range 1 + rng.IntN(6) {
			var b strings.Builder
			for range rng.IntN(6) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			row = append(row, b.String())
		}
		rows = append(rows, row)
	}
	for _, semicolon := range []bool{false, true} {
		var want, got bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.UseCRLF = true
		if semicolon {
			cw.Comma = ';'
		}
		want.WriteString(csvBOM)
		out := newCSVOut(&got, semicolon)
		for _, row := range rows {
			defused := make([]string, len(row))
			for i, c := range row {
				defused[i] = defuse(c)
			}
			if err := cw.Write(defused); err != nil {
				t.Fatal(err)
			}
			if err := out.write(row...); err != nil {
				t.Fatal(err)
			}
		}
		cw.Flush()
		if err := out.flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			w, g := strings.Split(want.String(), "\r\n"), strings.Split(got.String(), "\r\n")
			for i := range min(len(w), len(g)) {
				if w[i] != g[i] {
					t.Fatalf("semicolon %v: line %d: got %q, want %q", semicolon, i, g[i], w[i])
				}
			}
			t.Fatalf("semicolon %v: got %d lines, want %d", semicolon, len(g), len(w))
		}
	}
}

// Numbers and times go through the scratch buffer; one that needs
// defusing or quotes is still written right.
func TestCSVOutCellBytes(t *testing.T) {
	var b bytes.Buffer
	out := newCSVOut(&b, true)
	out.cellInt(-5)
	out.cellInt(42)
	out.cellBytes([]byte("a;b"))
	out.cellTime(0)
	out.end()
	out.flush()
	if got, want := strings.TrimPrefix(b.String(), csvBOM), "'-5;42;\"a;b\";1970-01-01 01:00\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAppendLocalMinute(t *testing.T) {
	// Every 7 minutes and 13 seconds through two years, both DST changes
	// of each, and the edges of a minute.
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for u := start; u < start+2*366*86400; u += 7*60 + 13 {
		for _, d := range []int64{0, 59, 60} {
			want := time.Unix(u+d, 0).In(zone).Format("2006-01-02 15:04")
			if got := string(appendLocalMinute(nil, u+d)); got != want {
				t.Fatalf("%d: got %q, want %q", u+d, got, want)
			}
		}
	}
}

// bodyFields reads keys one level deep, whatever the order, the white
// space and the escapes, and never takes a key's text inside a string for
// a key.
func TestBodyFields(t *testing.T) {
	v := schematest.ValidVisit()
	v.Notes = `zei "language":"xx", en \ "contact": {"name":"nep"}`
	v.Language = "tr"
	v.Contact.Name = "Ayşe \"Yıldız\" <&>"
	compact, _ := json.Marshal(v)
	indented, _ := json.MarshalIndent(v, "", "  ")
	bodies := []string{string(compact), string(indented),
		`{ "contact" : { "email" : "a@b.nl" , "name":"N\u00e9", "phone":null } , "language" : "en\\" }`,
		`{"notes":"language","language":"nl"}`,
		`{"language":"",`, // cut short: what was found stands
		`[]`, ``,
	}
	for _, body := range bodies {
		var m map[string]any
		json.Unmarshal([]byte(body), &m)
		var top, who [3]string
		bodyFields(body, visitKeys, top[:])
		bodyFields(top[1], contactKeys, who[:])
		str := func(x any) string {
			s, _ := x.(string)
			return s
		}
		wantLang := str(m["language"])
		contact, _ := m["contact"].(map[string]any)
		if got := jsonText(top[0]); got != wantLang {
			t.Errorf("%.40q: language %q, want %q", body, got, wantLang)
		}
		for i, k := range contactKeys {
			if got, want := jsonText(who[i]), str(contact[k]); got != want {
				t.Errorf("%.40q: contact %s %q, want %q", body, k, got, want)
			}
		}
	}
}

// The export reads copied columns and the body in Go where it read
// json_extract before: on pushed visits with escapes, quotes, new lines
// and no contact at all, every cell equals what SQLite's json_extract
// gives, defused.
func TestExportMatchesJSONExtract(t *testing.T) {
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	var recs []json.RawMessage
	for i, f := range []func(v *schema.Visit){
		func(v *schema.Visit) {},
		func(v *schema.Visit) {
			v.Contact, v.Consent, v.Language, v.FollowUps[0].Kind = nil, schema.Consent{}, "", schema.KindInformation
		},
		func(v *schema.Visit) {
			v.Business.Name, v.Notes = `=HYPERLINK("x") <b>&`, "regel 1\r\nregel 2; \"quote\""
			v.Contact.Name, v.Contact.Email = "Ayşe \"Yıldız\"", "a+b@example.nl"
			v.Business.Address.Street, v.Business.Address.Number = "Laan van Meerdervoort", "1-3"
		},
		func(v *schema.Visit) { v.Business.Address.Number, v.Rating, v.Topics = "", nil, []string{"overig"} },
	} {
		v := schematest.ValidVisit()
		v.ID = newID(t)
		v.FollowUps[0].ID = newID(t)
		v.VisitedAt = time.Date(2026, 3, 29, 0, 30+i*40, 0, 0, time.UTC).Format(time.RFC3339)
		f(&v)
		v.Normalize()
		b, err := json.Marshal(v.CrewOwned())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	if resp := mustPush(t, s, e, 1, recs...); len(resp.SetAside) > 0 {
		t.Fatalf("set aside: %+v", resp.SetAside)
	}

	ctx := context.Background()
	if err := s.ApplyInbox(ctx); err != nil {
		t.Fatal(err)
	}
	// A body with white space around its colons, as a bus might send it,
	// which the export's quick look for the language does not read.
	var id string
	if err := s.db.Read.QueryRowContext(ctx, `SELECT id FROM visits ORDER BY visited_unix LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Write.ExecContext(ctx, `UPDATE visits SET body = json_pretty(body) WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, zone), time.Date(2026, 4, 1, 0, 0, 0, 0, zone)
	for _, contact := range []bool{false, true} {
		var b bytes.Buffer
		n, err := s.ExportVisits(ctx, &b, Area{}, from, to, contact, false)
		if err != nil || n != len(recs) {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), csvBOM)))
		got, err := cr.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantRows := jsonExtractRows(t, s)
		if len(got) != 1+len(wantRows) {
			t.Fatalf("export has %d rows, the table %d", len(got)-1, len(wantRows))
		}
		for i, want := range wantRows {
			if !contact {
				want = want[:15]
			}
			if len(got[i+1]) != len(want) {
				t.Fatalf("row %d: %d cells, want %d", i+1, len(got[i+1]), len(want))
			}
			for j := range want {
				if j == 4 || j == 5 || j == 8 { // wijk name, stadsdeel and topics are not in the body
					continue
				}
				// encoding/csv reads a CR LF inside quotes as LF.
				if w := strings.ReplaceAll(want[j], "\r\n", "\n"); got[i+1][j] != w {
					t.Errorf("contact %v, row %d, %s: got %q, want %q", contact, i+1, got[0][j], got[i+1][j], w)
				}
			}
		}
	}
}

// jsonExtractRows is the export as the office made it before, with
// json_extract on the body, defused.
func jsonExtractRows(t *testing.T, s *Store) [][]string {
	const old = `
SELECT id, bus_id, visited_at, wijk, stop, sector, rating, panel, fu_n,
    json_extract(body, '$.business.name'), json_extract(body, '$.business.kvk'), json_extract(body, '$.language'),
    json_extract(body, '$.contact.name'), json_extract(body, '$.contact.phone'), json_extract(body, '$.contact.email'),
    json_extract(body, '$.business.address.street') || ' ' || json_extract(body, '$.business.address.number'),
    json_extract(body, '$.business.address.postcode'), json_extract(body, '$.notes')
FROM visits WHERE deleted = 0 ORDER BY visited_unix, id`
	rows, err := s.db.Read.QueryContext(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var c [18]any
		ptrs := make([]any, len(c))
		for j := range c {
			ptrs[j] = &c[j]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cell := func(j int) string {
			switch x := c[j].(type) {
			case nil:
				return ""
			case []byte:
				return defuse(string(x))
			case string:
				return defuse(x)
			default:
				return defuse(fmt.Sprint(x))
			}
		}
		at, _ := time.Parse(time.RFC3339, cell(2))
		panel := map[string]string{"0": "no", "1": "yes"}[cell(7)]
		out = append(out, []string{cell(0), cell(1), at.In(zone).Format("2006-01-02 15:04"), cell(3), "", "", cell(4), cell(5), "", cell(6), panel, cell(8),
			cell(9), cell(10), cell(11), cell(12), cell(13), cell(14), cell(15), cell(16), cell(17)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLanguageOf(t *testing.T) {
	for _, tc := range []struct {
		piece, want string
		ok          bool
	}{
		{`"language":"nl","consent":{"given":true,"tex`, "nl", true},
		{`"language":"","consent"`, "", true},
		{`"language":"\u0074r","c`, "tr", true},
		{`"language":"a\"b","c`, `a"b`, true},
		{`"language" : "nl",`, "", false},
		{`"language":null,`, "", false},
		{`"language":"a very long value that does not end in th`, "", false},
		{`{"id":"0190","bus_id":"","device_id":"x","crew":"`, "", false},
		{``, "", false},
	} {
		got, ok := languageOf(tc.piece)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: got %q %v, want %q %v", tc.piece, got, ok, tc.want, tc.ok)
		}
	}
}

// benchStore is an office with n pushed visits spread over 2026, made
// once per benchmark.
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	s := mustOpenStore(b)
	e := mustAddBus(b, s, "bus 1")
	start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	var recs []json.RawMessage
	seq := int64(0)
	for i := range n {
		v := schematest.ValidVisit()
		v.ID = newID(b)
		v.FollowUps[0].ID = newID(b)
		v.VisitedAt = start.Add(time.Duration(i) * 17 * time.Minute).Format(time.RFC3339)
		v.Normalize()
		raw, err := json.Marshal(v.CrewOwned())
		if err != nil {
			b.Fatal(err)
		}
		if recs = append(recs, raw); len(recs) == 500 || i == n-1 {
			seq++
			mustPush(b, s, e, seq, recs...)
			recs = recs[:0]
		}
	}
	return s
}

// BenchmarkExportVisits is the export of every visit of a year without
// the HTTP server: rows/s and allocations a row, on a fresh store in a
// temporary directory. The 1,000,000-visit figure over HTTP is
// TestInsightMeasure's (cmd/infobus).
//
//	go test ./office -run - -bench ExportVisits -benchmem
func BenchmarkExportVisits(b *testing.B) {
	const n = 5000
	s := benchStore(b, n)
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, zone), time.Date(2027, 1, 1, 0, 0, 0, 0, zone)
	for _, contact := range []bool{false, true} {
		b.Run(fmt.Sprintf("contact=%v", contact), func(b *testing.B) {
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				got, err := s.ExportVisits(context.Background(), io.Discard, Area{}, from, to, contact, false)
				if err != nil || got != n {
					b.Fatalf("%d rows, %v", got, err)
				}
				rows += got
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
				s.ExportVisits(context.Background(), io.Discard, Area{}, from, to, contact, false)
			}))/n, "allocs/row")
		})
	}
}

// BenchmarkCSVOut is the writer alone: one visit's row of cells.
func BenchmarkCSVOut(b *testing.B) {
	row := []string{"019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f", "019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e70", "2026-11-26 14:05", "WK051832",
		"Bohemen en Meer en Bos", "Segbroek", "Paul Krugerlaan", "detailhandel", "vergunningen parkeren", "6", "no", "1",
		"Bakkerij De Korenschoof", "27312345", "nl"}
	out := newCSVOut(io.Discard, false)
	b.ReportAllocs()
	for b.Loop() {
		out.write(row...)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestCellTopics(t *testing.T) {
	for _, topics := range []string{`[]`, `["a"]`, `["vergunningen","parkeren"]`, `[ "a" , "b" ]`, `["a\"b","c"]`, ``} {
		var b bytes.Buffer
		out := newCSVOut(&b, false)
		out.cellTopics(topics)
		out.cell("x") // a line of one empty cell is an empty line, which a reader skips
		out.end()
		out.flush()
		want := strings.Join(jsonStrings(topics), " ")
		if got, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), csvBOM))).Read(); len(got) != 2 || got[0] != want {
			t.Errorf("%s: got %q, want %q", topics, got, want)
		}
	}
}

func TestUnpack(t *testing.T) {
	cols := make([]string, 3)
	if !unpack("2,0:éa,b", cols) || cols[0] != "é" || cols[1] != "" || cols[2] != "a,b" {
		t.Errorf("got %q", cols)
	}
	for _, bad := range []string{"", "2,0", "2,0,", "9,0:abc", "2:0:é", "x,0:", "2,0;é"} {
		if unpack(bad, cols) {
			t.Errorf("%q unpacked to %q", bad, cols)
		}
	}
}
