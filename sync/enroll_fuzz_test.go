package sync

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseEnrollment feeds ParseEnrollment what a person may paste. It
// never panics; what it accepts is valid, survives String unchanged, and
// never has a plain http office off this machine.
func FuzzParseEnrollment(f *testing.F) {
	good := Enrollment{OfficeURL: "https://office.example.nl", BusID: "0190f5a0-0000-7000-8000-000000000001",
		BusToken: strings.Repeat("t", 43), CodeKey: bytes.Repeat([]byte{7}, CodeKeySize)}
	f.Add(good.String())
	local := good
	local.OfficeURL = "http://127.0.0.1:8090"
	f.Add(local.String())
	f.Add(enrollPrefix)
	f.Add(enrollPrefix + "e30")
	f.Add(enrollPrefix + "eyJvZmZpY2VfdXJsIjoiaHR0cDovL2V2aWwuZXhhbXBsZSJ9")
	f.Add("hello")
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEnrollment(s)
		if err != nil {
			return
		}
		if verr := e.Validate(); verr != nil {
			t.Fatalf("accepted an invalid enrollment: %v", verr)
		}
		if strings.HasPrefix(strings.ToLower(e.OfficeURL), "http:") && !strings.Contains(e.OfficeURL, "127.") &&
			!strings.Contains(e.OfficeURL, "[::1]") && !strings.Contains(strings.ToLower(e.OfficeURL), "localhost") {
			t.Fatalf("accepted plain http to %q", e.OfficeURL)
		}
		again, err := ParseEnrollment(e.String())
		if err != nil || again.OfficeURL != e.OfficeURL || again.BusID != e.BusID || again.BusToken != e.BusToken || !bytes.Equal(again.CodeKey, e.CodeKey) {
			t.Fatalf("round trip: %+v %v, want %+v", again, err, e)
		}
	})
}
