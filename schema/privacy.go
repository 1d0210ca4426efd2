package schema

import "errors"

// ContainsBSN reports whether s holds a run of exactly nine digits that
// passes the eleven-test of citizen service numbers (BSN): 9×d1 + 8×d2 +
// … + 2×d8 − d9 is a multiple of 11. A BSN must never be recorded; a
// phone number (ten digits) or a KvK number (eight) is not such a run.
// The tablet's checker (pwa/app/validate.js) does the same.
func ContainsBSN(s string) bool {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 9 && elevenTest(s[i-9:i]) {
			return true
		}
		run = 0
	}
	return false
}

func elevenTest(d string) bool {
	sum := 0
	for i := 0; i < 8; i++ {
		sum += (9 - i) * int(d[i]-'0')
	}
	sum -= int(d[8] - '0')
	return sum%11 == 0
}

// ValidateContactElsewhere validates v as Validate does, for a visit whose
// contact details are held elsewhere: the bus removed its copy once the
// office had it. A callback or e-mail follow-up without the details is
// then no fault of the record.
func (v *Visit) ValidateContactElsewhere() error {
	err := v.Validate()
	var ve *ValidationError
	if v.Contact != nil || !errors.As(err, &ve) {
		return err
	}
	for f, p := range ve.Fields {
		if p == ruleCallback || p == ruleMailback {
			delete(ve.Fields, f)
		}
	}
	if len(ve.Fields) == 0 {
		return nil
	}
	return ve
}
