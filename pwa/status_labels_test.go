package pwa

import (
	"os"
	"strings"
	"testing"

	"infobus/schema"
)

// TestStatusLabels: every follow-up status the office may send has a label
// in the app, in both languages, so a pulled status never shows as a key.
func TestStatusLabels(t *testing.T) {
	b, err := os.ReadFile("app/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range schema.FollowUpStatuses {
		key := "'fstatus." + st + "': ['"
		i := strings.Index(string(b), key)
		if i < 0 {
			t.Errorf("app/i18n.js has no label for status %q", st)
			continue
		}
		line, _, _ := strings.Cut(string(b[i:]), "\n")
		if strings.Count(line, "'") < 6 {
			t.Errorf("the label of %q lacks a language: %s", st, line)
		}
	}
}
