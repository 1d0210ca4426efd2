package bus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"infobus/schema"
	"infobus/schema/schematest"
)

// FuzzVisitBody feeds the crew API's PUT body through what the handler
// does before the store: the strict decoder, normalizing and both
// validations. Nothing may panic; a refusal is a *schema.ValidationError
// or a *schema.DecodeError, never another error; and a visit that passes
// survives its own wire form unchanged.
func FuzzVisitBody(f *testing.F) {
	good := schematest.ValidVisit()
	for _, v := range []schema.Visit{good} {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte(`{"id":"0190c2a4-0000-7000-8000-000000000001","rev":1,"seq":3,"state":"bus","contact_removed":true}`))
	f.Add([]byte(`{"business":{"name":"x","kvk":"1"},"notes":"BSN 111222333"}`))
	f.Add([]byte(`{"followups":[{"id":"a"},{"id":"a"}],"topics":["x","x"]}`))
	f.Add([]byte(`{"contact":{"email":"a@b.nl"},"consent":{"given":false}}`))
	f.Add([]byte(`{"rating":1e400}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := schema.DecodeVisit(body, "seq", "state", "set_aside", "contact_removed")
		if err != nil {
			var ve *schema.ValidationError
			var de *schema.DecodeError
			if !errors.As(err, &ve) && !errors.As(err, &de) {
				t.Fatalf("decode refused with %T %v", err, err)
			}
			return
		}
		v.Normalize()
		err = v.Validate()
		if elsewhere := v.ValidateContactElsewhere(); err == nil && elsewhere != nil {
			t.Fatalf("valid, but not valid with the contact details elsewhere: %v", elsewhere)
		}
		if err != nil {
			var ve *schema.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("validation refused with %T %v", err, err)
			}
			return
		}
		if schema.ContainsBSN(v.Notes) {
			t.Fatalf("valid visit with a BSN in its notes: %q", v.Notes)
		}
		crew := v.CrewOwned()
		wire, err := json.Marshal(&crew)
		if err != nil {
			t.Fatal(err)
		}
		again, err := schema.DecodeVisit(wire)
		if err != nil {
			t.Fatalf("its own wire form %s is refused: %v", wire, err)
		}
		again.Normalize()
		if err := again.Validate(); err != nil {
			t.Fatalf("its own wire form %s is invalid: %v", wire, err)
		}
	})
}

// FuzzPairBody feeds POST /api/pair's body through its decoder and the
// code's normalization: a refusal is a bad request or a field error, and a
// normalized code holds only what a typed code can.
func FuzzPairBody(f *testing.F) {
	f.Add([]byte(`{"pairing_code":"ABCD-EFGH"}`))
	f.Add([]byte(`{"pairing_code":"abcd efgh","device_name":"Tablet 1"}`))
	f.Add([]byte(`{"pairing_code":"O0IL-1"}`))
	f.Add([]byte(`{"pairing_code":1}`))
	f.Add([]byte(`{"pairing_code":"x","bsn":"111222333"}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req pairRequest
		err := decodeJSON(body, &req)
		if err != nil {
			var ve *schema.ValidationError
			var br *badRequest
			if !errors.As(err, &ve) && !errors.As(err, &br) {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		code := normalizePairingCode(req.PairingCode)
		if strings.ContainsAny(code, "- OIL") {
			t.Fatalf("normalized %q to %q, which still holds what normalizing removes", req.PairingCode, code)
		}
		if utf8.ValidString(req.PairingCode) && strings.ToUpper(code) != code {
			t.Fatalf("normalized %q to %q, not upper case", req.PairingCode, code)
		}
	})
}
