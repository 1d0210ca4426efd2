package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"infobus/schema"
)

// Two moments in the same second must sort as text in time order, and
// every Timestamp has the same width and reads back as the same instant.
func TestTimestampSortsAsText(t *testing.T) {
	base := time.Date(2026, 11, 30, 12, 0, 5, 0, time.FixedZone("CET", 3600))
	var got []string
	for _, d := range []time.Duration{0, time.Nanosecond, 10 * time.Millisecond, 500 * time.Millisecond, 999999999, time.Second} {
		got = append(got, schema.Timestamp(base.Add(d)))
	}
	if !slices.IsSorted(got) {
		t.Errorf("timestamps in time order do not sort as text: %q", got)
	}
	for i, s := range got {
		if len(s) != len(schema.TimestampLayout) {
			t.Errorf("%q: width %d, want %d", s, len(s), len(schema.TimestampLayout))
		}
		back, err := time.Parse(time.RFC3339, s)
		if err != nil || !back.Equal(base.Add([]time.Duration{0, time.Nanosecond, 10 * time.Millisecond, 500 * time.Millisecond, 999999999, time.Second}[i])) {
			t.Errorf("%q reads back as %v, %v", s, back, err)
		}
	}
	if got[0] != "2026-11-30T11:00:05.000000000Z" {
		t.Errorf("got %q", got[0])
	}
}

// The timestamp migrations rewrite values of the old width exactly and
// leave every other shape alone. They are run a second time here, on
// rows put in after Open, as the rows of an older database would be.
func TestTimestampMigrations(t *testing.T) {
	ctx := context.Background()
	cases := []struct{ old, want string }{
		{"2026-11-30T12:00:05Z", "2026-11-30T12:00:05.000000000Z"},
		{"2026-11-30T12:00:05.5Z", "2026-11-30T12:00:05.500000000Z"},
		{"2026-11-30T12:00:05.000001Z", "2026-11-30T12:00:05.000001000Z"},
		{"2026-11-30T12:00:05.123456789Z", "2026-11-30T12:00:05.123456789Z"},
		{"2026-11-30T12:00:04.9Z", "2026-11-30T12:00:04.900000000Z"},
		{"2026-11-30T13:00:05+01:00", "2026-11-30T13:00:05+01:00"}, // a device's time
		{"2026-11-30T12:00:05.Z", "2026-11-30T12:00:05.Z"},
		{"2026-11-30T12:00:05.5aZ", "2026-11-30T12:00:05.5aZ"},
		{"", ""},
	}
	for _, tc := range []struct {
		db                 schema.Database
		dir, setup, insert string
		table, key, column string
	}{
		{schema.BusDatabase, "bus", "", `INSERT INTO devices (id, token_hash, paired_at) VALUES (?1, randomblob(32), ?2)`, "devices", "id", "paired_at"},
		{schema.OfficeDatabase, "office", `INSERT INTO buses (id, name, token_hash, code_key, enrolled_at, code_prefix) VALUES ('b', 'b', x'00', x'00', '', 'AA')`,
			`INSERT INTO set_aside (bus_id, visit_id, rev, reason, message, fields, body, received_at) VALUES ('b', ?1, 1, 'x', 'x', '{}', '{}', ?2)`,
			"set_aside", "visit_id", "received_at"},
	} {
		files, _ := filepath.Glob(filepath.Join("migrations", tc.dir, "*_timestamps.sql"))
		if len(files) != 1 {
			t.Fatalf("%s: timestamp migrations %q", tc.dir, files)
		}
		migration, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		db, err := schema.Open(ctx, filepath.Join(t.TempDir(), tc.dir+".db"), tc.db)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if tc.setup != "" {
			if _, err := db.Write.ExecContext(ctx, tc.setup); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range cases {
			if _, err := db.Write.ExecContext(ctx, tc.insert, string(rune('a'+i)), c.old); err != nil {
				t.Fatalf("%s: %v", tc.dir, err)
			}
		}
		if _, err := db.Write.ExecContext(ctx, string(migration)); err != nil {
			t.Fatalf("%s: %v", files[0], err)
		}
		for i, c := range cases {
			var got string
			q := "SELECT " + tc.column + " FROM " + tc.table + " WHERE " + tc.key + " = ?"
			if err := db.Read.QueryRowContext(ctx, q, string(rune('a'+i))).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s: %q became %q, want %q", tc.table, c.old, got, c.want)
			}
		}
	}
}
