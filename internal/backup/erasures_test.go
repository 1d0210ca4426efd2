package backup_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"infobus/internal/backup"
)

// TestErasureLog: a restore reads back the erasures made from its
// backup's time on, and a last line cut short by a crash does not hide
// the ones before it.
func TestErasureLog(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 30, 3, 30, 0, 0, time.UTC)
	var es []backup.Erasure
	for i := range 3 {
		es = append(es, backup.Erasure{At: t0.Add(time.Duration(i) * time.Hour).Format(time.RFC3339Nano), VisitID: string(rune('a' + i)), BusID: "bus"})
	}
	if err := backup.AppendErasures(dir, es[:2]); err != nil {
		t.Fatal(err)
	}
	if err := backup.AppendErasures(dir, es[2:]); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, backup.ErasureLogFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"at":"2026-11-30T09:0`)
	f.Close()
	got, err := backup.ErasuresSince(dir, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].VisitID != "b" || got[1].VisitID != "c" {
		t.Errorf("got %+v, want the erasures of b and c", got)
	}
	if fi, _ := os.Stat(filepath.Join(dir, backup.ErasureLogFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", fi.Mode().Perm())
	}
}
