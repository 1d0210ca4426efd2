package schema_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	_ "infobus/internal/sqlite"
	"infobus/schema"
)

// A pragma given to Open rides in the DSN, so the writer has it from its
// first statement and nothing is left to fail after Open returned.
func TestOpenWriteCache(t *testing.T) {
	ctx := context.Background()
	db, err := schema.Open(ctx, filepath.Join(t.TempDir(), "office.db"), schema.OfficeDatabase, schema.WriteCacheKiB(1234))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got int
	if err := db.Write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != -1234 {
		t.Errorf("writer cache_size: got %d, want -1234", got)
	}
}

func TestSetting(t *testing.T) {
	ctx := context.Background()
	db, err := schema.Open(ctx, filepath.Join(t.TempDir(), "bus.db"), schema.BusDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := schema.Setting(ctx, db.Read, "k"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("unset: got %q, %v; want ErrNotFound", v, err)
	}
	for _, want := range []string{"one", "two"} {
		if err := schema.PutSetting(ctx, db.Write, "k", want); err != nil {
			t.Fatal(err)
		}
		v, err := schema.Setting(ctx, db.Read, "k")
		if err != nil || v != want {
			t.Errorf("got %q, %v; want %q", v, err, want)
		}
	}
}
