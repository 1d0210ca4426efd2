package bus

import (
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	infosync "infobus/sync"
)

// TestCrewMessagesArePlain checks every refusal a tablet can show: both
// languages, whole sentences, and nothing a crew member cannot act on (no
// commands, no code quotes, no "(en)" plurals).
func TestCrewMessagesArePlain(t *testing.T) {
	cfg := Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := NewServer(cfg, nil, testLogger(t))
	for _, err := range []error{
		ErrNotFound, ErrUnauthorized, ErrPairingCodeUsed, ErrPairingCodeExpired, ErrPairingCodeUnknown,
		infosync.ErrNotEnrolled, errNoSyncer, &SyncError{Err: ErrClosed}, ErrClosed,
		&RevError{Err: ErrConflict, CurrentRev: 1, Differs: []string{"notes"}}, &RevError{Err: ErrStale, CurrentRev: 2},
		fiber.ErrRequestEntityTooLarge,
	} {
		status, body := s.errorResponse(nil, err)
		if status == fiber.StatusInternalServerError {
			t.Errorf("%v: got 500, want a refusal", err)
			continue
		}
		texts := []string{body.Message, body.MessageNL}
		for _, m := range []map[string]string{body.Fields, body.FieldsNL} {
			for _, f := range m {
				texts = append(texts, f)
			}
		}
		for _, text := range texts {
			if text == "" || strings.ContainsAny(text, "`") || strings.Contains(text, "infobus ") || strings.Contains(text, "(en)") || strings.Contains(text, "(s)") {
				t.Errorf("%v: %q is empty or holds a command, a code quote or an (en) plural", err, text)
			}
			if first := []rune(text)[0]; strings.ToUpper(string(first)) != string(first) || !strings.HasSuffix(text, ".") {
				t.Errorf("%v: %q is not a whole sentence (a capital first, a full stop last)", err, text)
			}
		}
	}
}
