package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

func TestIsUnique(t *testing.T) {
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE); INSERT INTO t VALUES (1, 'a')`); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) error { _, err := db.Exec(q); return err }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"unique column", exec(`INSERT INTO t VALUES (2, 'a')`), true},
		{"primary key", exec(`INSERT INTO t VALUES (1, 'b')`), true},
		{"not null", exec(`INSERT INTO t VALUES (3, NULL)`), false},
		{"not SQLite's", errors.New("other"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUnique(tt.err); got != tt.want {
				t.Errorf("IsUnique(%v): got %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
