package bus

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	infosync "infobus/sync"
)

// A visit with a list far over its bound, or thousands of bad fields, gets
// an answer of a few kilobytes, not one error per entry.
func TestVisitPutRefusalIsBounded(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", newClock().Now))
	token := b.pair()
	big := func(n int, item string) []byte {
		return []byte(strings.TrimSuffix(strings.Repeat(item+",", n), ","))
	}
	tests := []struct {
		name      string
		edit      func(visit map[string]any) []byte
		wantField string
		wantMore  bool
	}{
		{"40,000 empty follow-ups", func(v map[string]any) []byte {
			v["followups"] = "FOLLOWUPS"
			s := string(mustMarshal(t, v))
			return []byte(strings.Replace(s, `"FOLLOWUPS"`, "["+string(big(40000, "{}"))+"]", 1))
		}, "followups", false},
		{"40,000 follow-ups of the wrong kind", func(v map[string]any) []byte {
			v["followups"] = "FOLLOWUPS"
			s := string(mustMarshal(t, v))
			return []byte(strings.Replace(s, `"FOLLOWUPS"`, "["+string(big(40000, "1"))+"]", 1))
		}, "followups", false},
		{"10,000 unknown fields", func(v map[string]any) []byte {
			var sb strings.Builder
			for i := range 10000 {
				fmt.Fprintf(&sb, `"x%d":0,`, i)
			}
			s := string(mustMarshal(t, v))
			return []byte("{" + sb.String() + s[1:])
		}, "", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVisit(t, 20+i)
			body := tt.edit(v)
			if len(body) > DefaultBodyLimit {
				t.Fatalf("test body is %d bytes, over the body limit", len(body))
			}
			status, resp := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, body)
			if status != http.StatusBadRequest {
				t.Fatalf("got %d %.300s, want 400", status, resp)
			}
			if len(resp) >= 64<<10 {
				t.Errorf("got an answer of %d bytes, want under 64 KiB", len(resp))
			}
			e := decodeError(t, resp)
			if e.Error != "validation" {
				t.Errorf("got error %q, want validation", e.Error)
			}
			if tt.wantField != "" {
				if len(e.Fields) != 1 || e.Fields[tt.wantField] == "" || e.FieldsNL[tt.wantField] == "" {
					t.Errorf("got fields %v, want only %s, in both languages", e.Fields, tt.wantField)
				}
			}
			if tt.wantMore {
				if len(e.Fields) != 50 || e.FieldsOmitted != 10000-50 {
					t.Errorf("got %d fields and %d omitted, want 50 and %d", len(e.Fields), e.FieldsOmitted, 10000-50)
				}
				more := fmt.Sprint(10000 - 50)
				if !strings.Contains(e.Message, "and "+more+" more") || !strings.Contains(e.MessageNL, "en nog "+more+" meer") {
					t.Errorf("got messages %q / %q, want both to say how many more", e.Message, e.MessageNL)
				}
			}
			if n := countVisits(t, b.store); n != 0 {
				t.Errorf("got %d visits stored, want none", n)
			}
		})
	}
}

// The office's reason for setting a visit aside reaches the tablet in
// Dutch as well as English.
func TestSetAsideKeepsBothLanguages(t *testing.T) {
	ctx := context.Background()
	b := mustStartBus(t, mustOpenStore(t, "", newClock().Now))
	token := b.pair()
	v := newVisit(t, 40)
	path := "/api/visits/" + v["id"].(string)
	if status, body := b.do(http.MethodPut, path, token, v); status != http.StatusCreated {
		t.Fatalf("put: got %d %s", status, body)
	}
	sent, err := b.store.Pending(ctx, 0, 1<<62, 10, 1<<20)
	if err != nil || len(sent) != 1 {
		t.Fatalf("pending: got %d records, %v", len(sent), err)
	}
	resp := &infosync.PushResponse{AckedSeq: sent[0].CrewSeq, SetAside: []infosync.SetAside{{
		Index: 0, ID: sent[0].ID, Rev: sent[0].Rev, Reason: infosync.ReasonValidation,
		Message: "some fields are not right: wijk", MessageNL: "niet alle velden zijn goed ingevuld: wijk"}}}
	if err := b.store.Acknowledge(ctx, sent, resp); err != nil {
		t.Fatal(err)
	}
	status, body := b.do(http.MethodGet, path, token, nil)
	if status != http.StatusOK {
		t.Fatalf("get: got %d %s", status, body)
	}
	view := decodeView(t, body)
	if view.SetAside == nil || view.SetAside.MessageNL != resp.SetAside[0].MessageNL || view.SetAside.Message != resp.SetAside[0].Message {
		t.Errorf("got set aside %+v, want the office's reason in both languages", view.SetAside)
	}
}
