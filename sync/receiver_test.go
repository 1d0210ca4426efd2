package sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCheckRecord(t *testing.T) {
	const id = "0190f5a0-1234-7abc-8def-0123456789ab"
	valid := `{"id":"` + id + `","rev":2,"visited_at":"2026-11-26T14:05:00+01:00","business":{"name":"Kapsalon Noor","kvk":"27312345","address":{"street":"","number":"","postcode":"","city":""}},"wijk":"WK051828","topics":["vergunningen"],"consent":{"given":false},"followups":[]}`
	tests := []struct {
		name   string
		raw    string
		reason string // "" when the record is taken
		field  string
	}{
		{"as a bus sends it", valid, "", ""},
		{"typed loosely, taken normalized", strings.Replace(valid, `"WK051828"`, `" wk051828 "`, 1), "", ""},
		{"fails validation", strings.Replace(valid, `"27312345"`, `"123"`, 1), ReasonValidation, "business.kvk"},
		{"unknown field", strings.Replace(valid, `"rev":2`, `"rev":2,"bsn":"123456782"`, 1), ReasonMalformed, ""},
		{"unknown field and invalid", strings.Replace(valid, `"rev":2`, `"rev":0,"bsn":"123456782"`, 1), ReasonMalformed, ""},
		{"wrong type", strings.Replace(valid, `"rev":2`, `"rev":"2"`, 1), ReasonMalformed, ""},
		{"not an object", `"hello"`, ReasonMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := CheckRecord(3, json.RawMessage(tt.raw), "bus-1")
			if tt.reason == "" {
				if in.Refused != nil {
					t.Fatalf("got set aside %+v, want taken", in.Refused)
				}
				if in.Visit.BusID != "bus-1" || in.Visit.Wijk != "WK051828" {
					t.Errorf("got bus %q wijk %q, want the token's bus and the normalized wijk", in.Visit.BusID, in.Visit.Wijk)
				}
				if strings.Contains(string(in.Body), "bus-1") {
					t.Errorf("got body %s, want only crew-owned fields", in.Body)
				}
				return
			}
			if in.Refused == nil || in.Refused.Reason != tt.reason || in.Refused.Index != 3 {
				t.Fatalf("got %+v, want set aside at index 3 for %s", in.Refused, tt.reason)
			}
			if tt.field != "" {
				if _, ok := in.Refused.Fields[tt.field]; !ok {
					t.Errorf("got fields %v, want %s", in.Refused.Fields, tt.field)
				}
			}
			if tt.raw != `"hello"` && in.Refused.ID != id {
				t.Errorf("got id %q, want %s salvaged", in.Refused.ID, id)
			}
		})
	}
}

func TestOffline(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused connection", &url.Error{Op: "Post", URL: "http://office", Err: errors.New("connection refused")}, true},
		{"answer cut short", fmt.Errorf("read answer: %w", io.ErrUnexpectedEOF), true},
		{"proxy cannot reach the office", &RefusedError{Status: http.StatusBadGateway}, true},
		{"office busy", &RefusedError{Status: http.StatusServiceUnavailable}, true},
		{"wrong token", &RefusedError{Status: http.StatusUnauthorized}, false},
		{"office error", &RefusedError{Status: http.StatusInternalServerError}, false},
		{"other version", &VersionError{Got: "2"}, false},
		{"not enrolled", ErrNotEnrolled, false},
		{"local database", errors.New("record acknowledgement: disk full"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Offline(tt.err); got != tt.want {
				t.Errorf("Offline(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
