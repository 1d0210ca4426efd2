package schema

import (
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
)

//go:embed reference/*.csv
var referenceFiles embed.FS

// Wijk is one of The Hague's neighbourhoods as CBS counts them.
type Wijk struct {
	Code      string `json:"code"`      // CBS wijkcode, WK0518xx
	Name      string `json:"name"`      // as people say it
	Stadsdeel string `json:"stadsdeel"` // the district it belongs to
}

// Term is an entry of a fixed list (topic, department, sector, language)
// with its Dutch and English label.
type Term struct {
	Code string `json:"code"`
	NL   string `json:"nl"`
	EN   string `json:"en"`
}

// Reference holds the fixed lists records are validated against. It is
// read once from the embedded CSV files; callers must not modify it.
type Reference struct {
	Wijken      []Wijk `json:"wijken"`
	Topics      []Term `json:"topics"`
	Departments []Term `json:"departments"`
	Sectors     []Term `json:"sectors"`
	Languages   []Term `json:"languages"`
	// Rules travel with the lists so that the tablet checks a visit by the
	// same catalogue as the bus, offline too.
	Rules *Rules `json:"rules"`
	// Codes let the tablet check a follow-up code as it is typed.
	Codes *CodeRules `json:"codes"`

	wijk       map[string]Wijk
	topic      map[string]bool
	department map[string]bool
	sector     map[string]bool
	language   map[string]bool
}

// Ref is the reference data compiled into this binary. Loading it cannot
// fail at run time: a broken embedded file fails every test.
var Ref = mustLoadReference()

// Wijk returns the wijk with the given CBS code.
func (r *Reference) Wijk(code string) (Wijk, bool) {
	w, ok := r.wijk[code]
	return w, ok
}

// Stadsdelen returns the district names in alphabetical order.
func (r *Reference) Stadsdelen() []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range r.Wijken {
		if !seen[w.Stadsdeel] {
			seen[w.Stadsdeel] = true
			out = append(out, w.Stadsdeel)
		}
	}
	sort.Strings(out)
	return out
}

func mustLoadReference() *Reference {
	r, err := loadReference()
	if err != nil {
		panic(err)
	}
	return r
}

func loadReference() (*Reference, error) {
	r := &Reference{Rules: Catalogue(), Codes: codeRules(), wijk: map[string]Wijk{}}
	rows, err := readCSV("reference/wijken.csv", 4)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		w := Wijk{Code: row[0], Name: row[2], Stadsdeel: row[3]}
		r.Wijken = append(r.Wijken, w)
		r.wijk[w.Code] = w
	}
	for _, l := range []struct {
		file  string
		terms *[]Term
		set   *map[string]bool
	}{
		{"reference/topics.csv", &r.Topics, &r.topic},
		{"reference/departments.csv", &r.Departments, &r.department},
		{"reference/sectors.csv", &r.Sectors, &r.sector},
		{"reference/languages.csv", &r.Languages, &r.language},
	} {
		rows, err := readCSV(l.file, 3)
		if err != nil {
			return nil, err
		}
		*l.set = map[string]bool{}
		for _, row := range rows {
			*l.terms = append(*l.terms, Term{Code: row[0], NL: row[1], EN: row[2]})
			(*l.set)[row[0]] = true
		}
	}
	return r, nil
}

// readCSV returns the rows of an embedded CSV file without its header.
func readCSV(name string, columns int) ([][]string, error) {
	f, err := referenceFiles.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = columns
	if _, err := cr.Read(); err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	var rows [][]string
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rows = append(rows, row)
	}
}
