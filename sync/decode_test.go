package sync

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func gz(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func pushJSON(n int, record string) []byte {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = record
	}
	return []byte(fmt.Sprintf(`{"bus_id":"b1","through_seq":%d,"records":[%s]}`, n, strings.Join(recs, ",")))
}

func TestDecodePush(t *testing.T) {
	good := pushJSON(2, `{"id":"x","rev":1}`)
	// A gzip bomb: a few KiB on the wire, far past the bound inflated.
	bomb := gz(t, append([]byte(`{"bus_id":"b1","through_seq":1,"records":["`), bytes.Repeat([]byte("a"), 64<<20)...))
	tests := []struct {
		name     string
		body     []byte
		encoding string
		records  int
		want     error // nil, ErrTooLarge or *MalformedError (any)
	}{
		{name: "gzip", body: gz(t, good), encoding: "gzip", records: 2},
		{name: "plain", body: good, records: 2},
		{name: "empty batch", body: []byte(`{"bus_id":"b1","through_seq":0,"records":[]}`), records: 0},
		{name: "bad records are still a batch", body: pushJSON(3, `"not a visit"`), records: 3},
		{name: "most records", body: gz(t, pushJSON(MaxPushRecords, `{}`)), encoding: "gzip", records: MaxPushRecords},
		{name: "one record too many", body: gz(t, pushJSON(MaxPushRecords+1, `{}`)), encoding: "gzip", want: ErrTooLarge},
		{name: "gzip bomb", body: bomb, encoding: "gzip", want: ErrTooLarge},
		{name: "too large on the wire", body: make([]byte, MaxPushCompressed+1), encoding: "gzip", want: ErrTooLarge},
		{name: "not gzip", body: good, encoding: "gzip", want: &MalformedError{}},
		{name: "truncated gzip", body: gz(t, good)[:20], encoding: "gzip", want: &MalformedError{}},
		{name: "unknown encoding", body: good, encoding: "br", want: &MalformedError{}},
		{name: "empty", body: nil, want: &MalformedError{}},
		{name: "not JSON", body: []byte("hello"), want: &MalformedError{}},
		{name: "two objects", body: append(append([]byte{}, good...), good...), want: &MalformedError{}},
		{name: "unknown field", body: []byte(`{"bus_id":"b1","through_seq":1,"records":[],"bsn":"1"}`), want: &MalformedError{}},
		{name: "no bus id", body: []byte(`{"through_seq":1,"records":[]}`), want: &MalformedError{}},
		{name: "no records", body: []byte(`{"bus_id":"b1","through_seq":1}`), want: &MalformedError{}},
		{name: "negative seq", body: []byte(`{"bus_id":"b1","through_seq":-1,"records":[]}`), want: &MalformedError{}},
		{name: "wrong type", body: []byte(`{"bus_id":"b1","through_seq":"1","records":[]}`), want: &MalformedError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodePush(tt.body, tt.encoding)
			var me *MalformedError
			switch want := tt.want.(type) {
			case nil:
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if len(req.Records) != tt.records {
					t.Errorf("got %d records, want %d", len(req.Records), tt.records)
				}
			case *MalformedError:
				if !errors.As(err, &me) {
					t.Errorf("got %v, want a malformed request", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("got %v, want %v", err, want)
				}
			}
			if err != nil {
				if status, body, ok := ErrorResponse(err); !ok || status < 400 || body.Message == "" {
					t.Errorf("ErrorResponse(%v) = %d %+v %v, want a 4xx with a message", err, status, body, ok)
				}
			}
		})
	}
}

func TestEncodePushRoundTrip(t *testing.T) {
	req := &PushRequest{BusID: `bus "1"`, ThroughSeq: 42, Records: []json.RawMessage{
		json.RawMessage(`{"id":"a","notes":"één\n\"twee\""}`), json.RawMessage(`{"id":"b"}`)}}
	var buf bytes.Buffer
	if err := EncodePush(&buf, req, DefaultGzipLevel); err != nil {
		t.Fatal(err)
	}
	got, err := DecodePush(buf.Bytes(), "gzip")
	if err != nil {
		t.Fatal(err)
	}
	if got.BusID != req.BusID || got.ThroughSeq != req.ThroughSeq || len(got.Records) != 2 {
		t.Fatalf("got %+v, want %+v", got, req)
	}
	for i := range req.Records {
		if !bytes.Equal(got.Records[i], req.Records[i]) {
			t.Errorf("record %d: got %s, want %s", i, got.Records[i], req.Records[i])
		}
	}
}

// FuzzDecodePush feeds the push decoder arbitrary bodies, plain and as
// gzip: it must never panic, never return more than the bounds allow, and
// every refusal must map to a 4xx.
func FuzzDecodePush(f *testing.F) {
	f.Add([]byte(`{"bus_id":"b1","through_seq":3,"records":[{"id":"x","rev":1}]}`), false)
	f.Add([]byte(`{"bus_id":"b1","through_seq":0,"records":[]}`), true)
	f.Add([]byte(`{"bus_id":"b1","through_seq":1,"records":[null,1,"s",[]]}`), true)
	f.Add([]byte(`{"bus_id":"","records":null}`), false)
	f.Add([]byte(`{"bus_id":"b1","through_seq":1e30,"records":[]}`), false)
	f.Add([]byte(`[`), true)
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00}, false)
	for _, body := range trickyPushBodies {
		f.Add([]byte(body), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, compress bool) {
		plain := body
		enc := ""
		if compress {
			body, enc = gz(t, body), "gzip"
		}
		req, err := DecodePush(body, enc)
		if err == nil {
			// The hand-written walk must read what encoding/json reads.
			want, werr := decodeWithEncodingJSON(plain)
			if werr != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", plain, werr)
			}
			if !samePush(req, want) {
				t.Fatalf("read %q as %+v, encoding/json as %+v", plain, req, want)
			}
		}
		if err != nil {
			if req != nil {
				t.Fatalf("got a request and an error %v", err)
			}
			if status, _, ok := ErrorResponse(err); !ok || status < 400 || status >= 500 {
				t.Fatalf("error %v maps to %d %v, want a 4xx", err, status, ok)
			}
			return
		}
		if len(req.Records) > MaxPushRecords || req.BusID == "" || req.ThroughSeq < 0 {
			t.Fatalf("accepted %+v", req)
		}
		for i, r := range req.Records {
			if !json.Valid(r) {
				t.Fatalf("record %d is not JSON: %q", i, r)
			}
			// Every record must survive the per-record check without panic.
			CheckRecord(i, r, req.BusID)
		}
	})
}

// trickyPushBodies are valid pushes whose structure a careless walk would
// misread: brackets, quotes and escapes inside strings, odd spacing, nested
// values, keys in another order, repeated keys.
var trickyPushBodies = []string{
	` { "records" : [ ] , "bus_id" : "b" } `,
	"{\"bus_id\":\"b\",\"records\":[{\"n\":\"]}\\\"[{,\"},\n\t{\"a\":[1,{\"b\":[]}],\"c\":\"\\\\\"},null,3,true,\"x\"]}",
	`{"bus_id":"b\u0031","through_seq":7,"records":[[],{}],"through_seq":8}`,
	`{"records":[{"k":"}"}],"bus_id":"b","records":[{"k":"{"}]}`,
	`{"bus_id":"b","through_seq":0,"records":[-1.5e3,"\\",{"x":"\"]"}]}`,
}

func TestDecodePushReadsWhatEncodingJSONReads(t *testing.T) {
	for _, body := range trickyPushBodies {
		got, err := DecodePush([]byte(body), "")
		if err != nil {
			t.Errorf("%s: got %v, want it read", body, err)
			continue
		}
		want, err := decodeWithEncodingJSON([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if !samePush(got, want) {
			t.Errorf("%s: got %+v, want %+v", body, got, want)
		}
	}
	for _, body := range []string{
		`{"bus_id":"b","records":[1,2,]}`,
		`{"bus_id":"b","records":[1 2]}`,
		`{"bus_id":"b","records":"[]"}`,
		`{"bus_id":"b","records":[],"extra":1}`,
		`{"bus_id":"b","records":[]} {}`,
		`{"bus_id":1,"records":[]}`,
		`[{"bus_id":"b","records":[]}]`,
	} {
		if _, err := DecodePush([]byte(body), ""); err == nil {
			t.Errorf("%s: got it read, want it refused", body)
		}
	}
}

// decodeWithEncodingJSON reads a push the slow, sure way.
func decodeWithEncodingJSON(plain []byte) (*PushRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	var req PushRequest
	if err := dec.Decode(&req); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one value")
	}
	return &req, nil
}

func samePush(a, b *PushRequest) bool {
	if a.BusID != b.BusID || a.ThroughSeq != b.ThroughSeq || len(a.Records) != len(b.Records) || (a.Records == nil) != (b.Records == nil) {
		return false
	}
	for i := range a.Records {
		if !bytes.Equal(a.Records[i], b.Records[i]) {
			return false
		}
	}
	return true
}

func TestParseEnrollment(t *testing.T) {
	e := Enrollment{OfficeURL: "https://office.example.nl", BusID: "0190f5a0-0000-7000-8000-000000000001",
		BusToken: strings.Repeat("t", 43), CodeKey: bytes.Repeat([]byte{7}, CodeKeySize)}
	s := e.String()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"as printed", s, true},
		{"wrapped by a mail client", s[:30] + "\n  " + s[30:] + " ", true},
		{"not one", "hello", false},
		{"cut short", s[:len(s)-10], false},
		{"damaged", s[:len(enrollPrefix)] + "!!!" + s[len(enrollPrefix)+3:], false},
	}
	for _, u := range []struct {
		url string
		ok  bool
	}{
		{"http://office.example.nl", false},
		{"http://192.168.1.10:8090", false},
		{"http://127.0.0.1:8090", true},
		{"http://[::1]:8090", true},
		{"http://localhost:8090", true},
		{"https://192.168.1.10:8090", true},
	} {
		plain := e
		plain.OfficeURL = u.url
		tests = append(tests, struct {
			name, in string
			ok       bool
		}{"office " + u.url, plain.String(), u.ok})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnrollment(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("got error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (!strings.HasPrefix(tt.name, "office ") && got.OfficeURL != e.OfficeURL || got.BusID != e.BusID || got.BusToken != e.BusToken || !bytes.Equal(got.CodeKey, e.CodeKey)) {
				t.Errorf("got %+v, want %+v", got, e)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	for i := 1; i <= 8; i++ {
		d := b.Failure()
		ideal := min(time.Second<<(i-1), 10*time.Second)
		if d < ideal/2 || d > min(ideal*3/2, b.Max) {
			t.Errorf("failure %d: got wait %s, want between %s and %s", i, d, ideal/2, min(ideal*3/2, b.Max))
		}
	}
	b.Reset()
	if d := b.Failure(); d > 1500*time.Millisecond {
		t.Errorf("after reset: got wait %s, want at most 1.5s", d)
	}
}
