package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDecodeVisitReadsWhatEncodingJSONReads(t *testing.T) {
	v := validVisit()
	v.FollowUps[0].FollowUpStatus = FollowUpStatus{Status: StatusDone, StatusRev: 2, StatusAt: "2026-11-27T10:00:00+01:00"}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeVisit(raw)
	if err != nil {
		t.Fatalf("got %v, want the visit read", err)
	}
	if !reflect.DeepEqual(*got, v) {
		t.Errorf("got %+v, want %+v", *got, v)
	}
	// null leaves a field empty, as encoding/json does.
	if _, err := DecodeVisit([]byte(`{"id":null,"contact":null,"rating":null,"topics":[null],"followups":null}`)); err != nil {
		t.Errorf("nulls: got %v, want them read", err)
	}
}

func TestDecodeVisitRefusals(t *testing.T) {
	valid, _ := json.Marshal(validVisit())
	with := func(old, new string) string {
		if !strings.Contains(string(valid), old) {
			t.Fatalf("%s is not in the sample", old)
		}
		return strings.Replace(string(valid), old, new, 1)
	}
	tests := []struct {
		name   string
		body   string
		fields []string // nil: a *DecodeError
	}{
		{"unknown top-level field", with(`"rev":1`, `"rev":1,"bsn":"123456782"`), []string{"bsn"}},
		{"unknown field in business", with(`"kvk":`, `"bsn":"1","kvk":`), []string{"business.bsn"}},
		{"unknown field in the address", with(`"city":`, `"land":"NL","city":`), []string{"business.address.land"}},
		{"unknown field in a follow-up", with(`"due_date":`, `"prio":1,"due_date":`), []string{"followups[0].prio"}},
		{"a field in other case", with(`"rev":1`, `"Rev":1`), []string{"Rev"}},
		{"an escaped unknown name", with(`"rev":1`, `"rev":1,"\u0062sn":"1"`), []string{"bsn"}},
		{"text for a number", with(`"rev":1`, `"rev":"1"`), []string{"rev"}},
		{"a fraction for a whole number", with(`"rating":6`, `"rating":6.5`), []string{"rating"}},
		{"a number for text", with(`"wijk":"WK051832"`, `"wijk":51832`), []string{"wijk"}},
		{"text for a boolean", with(`"given":true`, `"given":"ja"`), []string{"consent.given"}},
		{"text for an object", with(`"business":{`, `"business":"Bakkerij","x":{`), []string{"business", "x"}},
		{"a number in the topics", with(`"topics":["vergunningen"`, `"topics":[7`), []string{"topics[0]"}},
		{"text in the follow-ups", with(`"followups":[`, `"followups":["bel terug",`), []string{"followups[0]"}},
		{"follow-ups far over the bound", with(`"followups":[`, `"followups":[`+strings.Repeat(`{"x":1},`, 100000)), []string{"followups"}},
		{"topics over the bound", with(`"topics":[`, `"topics":[`+strings.Repeat(`1,`, 100)), []string{"topics"}},
		{"empty", " ", nil},
		{"not JSON", "{not json", nil},
		{"two objects", string(valid) + string(valid), nil},
		{"a list", "[" + string(valid) + "]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeVisit([]byte(tt.body))
			var (
				ve *ValidationError
				de *DecodeError
			)
			if tt.fields == nil {
				if !errors.As(err, &de) || de.EN == "" || de.NL == "" {
					t.Fatalf("got %v, want a *DecodeError in both languages", err)
				}
				return
			}
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			if got := slices.Sorted(maps.Keys(ve.Fields)); !slices.Equal(got, tt.fields) {
				t.Errorf("got fields %v, want %v", got, tt.fields)
			}
			for f, p := range ve.Fields {
				if p.EN == "" || p.NL == "" || strings.Contains(p.EN, "int") || strings.Contains(p.EN, "Go ") {
					t.Errorf("%s: got %+v, want a rule in both languages in the user's terms", f, p)
				}
			}
		})
	}
	t.Run("extra fields the caller accepts", func(t *testing.T) {
		body := with(`"rev":1`, `"rev":1,"seq":4,"state":"bus"`)
		if _, err := DecodeVisit([]byte(body), "seq", "state"); err != nil {
			t.Errorf("got %v, want seq and state accepted", err)
		}
	})
}

func TestValidationErrorIsBounded(t *testing.T) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, `"unknown%d":1,`, i)
	}
	_, err := DecodeVisit([]byte("{" + sb.String() + `"rev":1}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	if len(ve.Fields) != MaxReportedFields || ve.Omitted != 1000-MaxReportedFields {
		t.Errorf("got %d fields and %d omitted, want %d and %d", len(ve.Fields), ve.Omitted, MaxReportedFields, 1000-MaxReportedFields)
	}
	en, nl := ve.Summary()
	if !strings.HasSuffix(en, "and 950 more") || !strings.HasSuffix(nl, "en nog 950 meer") || !strings.HasSuffix(ve.Error(), "and 950 more") {
		t.Errorf("got %q / %q / %q, want each to say how many more", en, nl, ve.Error())
	}

	// Validation itself stops at the bound too: ten follow-ups with every
	// rule broken are more fields than are named.
	v := validVisit()
	v.FollowUps = make([]FollowUp, MaxFollowUps)
	for i := range v.FollowUps {
		v.FollowUps[i] = FollowUp{ID: "x", Kind: "x", Department: "x", DueDate: "x", Code: "!"}
	}
	err = v.Validate()
	if !errors.As(err, &ve) || len(ve.Fields) != MaxReportedFields || ve.Omitted == 0 {
		t.Errorf("got %v, want %d fields and the rest counted", err, MaxReportedFields)
	}
}
