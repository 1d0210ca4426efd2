package office

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"infobus/internal/sqlite"
	"infobus/schema"
	infosync "infobus/sync"
)

// codedRecord is a visit whose follow-ups carry the given codes.
func codedRecord(tb testing.TB, id string, rev int64, followUps map[string]string) json.RawMessage {
	tb.Helper()
	return notedRecord(tb, id, rev, "", followUps)
}

// notedRecord is codedRecord with notes, which make two records of one
// rev differ.
func notedRecord(tb testing.TB, id string, rev int64, notes string, followUps map[string]string) json.RawMessage {
	tb.Helper()
	v := schema.Visit{ID: id, Rev: rev, VisitedAt: "2026-11-26T14:05:00+01:00",
		Business: schema.Business{Name: "Kapsalon Noor", KvK: "27312345"},
		Wijk:     "WK051828", Topics: []string{"vergunningen"}, Notes: notes}
	for fid, code := range followUps {
		v.FollowUps = append(v.FollowUps, schema.FollowUp{ID: fid, Kind: schema.KindInformation, Description: "Informatie sturen", Code: code})
	}
	v.Normalize()
	b, err := json.Marshal(v.CrewOwned())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustCode(tb testing.TB, e infosync.Enrollment, random uint32) schema.Code {
	tb.Helper()
	c, err := schema.NewCode(e.CodePrefix, e.CodeKey, random)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestAddBusGivesCodePrefixes(t *testing.T) {
	s := mustOpenStore(t)
	seen := map[string]bool{}
	for i := range 40 {
		e := mustAddBus(t, s, fmt.Sprintf("bus %d", i))
		if !schema.ValidCodePrefix(e.CodePrefix) || seen[e.CodePrefix] {
			t.Fatalf("bus %d: prefix %q is invalid or taken", i, e.CodePrefix)
		}
		seen[e.CodePrefix] = true
		back, err := infosync.ParseEnrollment(e.String())
		if err != nil || back.CodePrefix != e.CodePrefix {
			t.Fatalf("enrollment string lost the prefix: %+v, %v", back, err)
		}
	}
	// The index, not the picking code, is what keeps prefixes apart.
	_, err := s.db.Write.Exec(`UPDATE buses SET code_prefix = (SELECT code_prefix FROM buses WHERE name = 'bus 0') WHERE name = 'bus 1'`)
	if !sqlite.IsUnique(err) {
		t.Fatalf("two buses could share a prefix: %v", err)
	}
}

// TestCodePrefixMigration: buses enrolled before codes get distinct
// prefixes when the office opens its database with this binary.
func TestCodePrefixMigration(t *testing.T) {
	dir := t.TempDir()
	initSQL, err := os.ReadFile(filepath.Join("..", "schema", "migrations", "office", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(schema.DriverName, filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(initSQL)); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := db.Exec(`INSERT INTO buses (id, name, token_hash, code_key, enrolled_at) VALUES (?, ?, ?, ?, ?)`,
			newID(t), fmt.Sprintf("bus %d", i), []byte{byte(i)}, make([]byte, 32), "2026-11-01T10:00:00Z"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenStore(context.Background(), dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.Read.Query(`SELECT code_prefix FROM buses`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		if !schema.ValidCodePrefix(p) || seen[p] {
			t.Fatalf("migrated prefix %q is invalid or repeated", p)
		}
		seen[p] = true
	}
	if len(seen) != 40 {
		t.Fatalf("got %d prefixes, want 40", len(seen))
	}
	// A bus added after the migration gets a free one too.
	if e := mustAddBus(t, s, "nieuw"); seen[e.CodePrefix] {
		t.Fatalf("new bus got a migrated bus's prefix %s", e.CodePrefix)
	}
}

// TestPushBindsCodeOnce: through the sync receiver, a code lands with its
// follow-up; another follow-up carrying it, or a code the bus did not make,
// is set aside while the rest of the batch lands.
func TestPushBindsCodeOnce(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	other := mustAddBus(t, s, "bus 2")
	c1, c2, c3 := mustCode(t, e, 1), mustCode(t, e, 2), mustCode(t, e, 3)
	first, fu := newID(t), newID(t)

	resp := mustPush(t, s, e, 1, codedRecord(t, first, 1, map[string]string{fu: c1.Grouped()}))
	if resp.Landed != 1 {
		t.Fatalf("got %+v, want the visit landed", resp)
	}
	info, err := s.LookupCode(ctx, string(c1))
	if err != nil || info.FollowUpID != fu || info.VisitID != first || info.BusID != e.BusID {
		t.Fatalf("LookupCode: got %+v, %v; want bound to %s", info, err, fu)
	}
	// A new rev, and a replay, keep the binding.
	mustPush(t, s, e, 2, codedRecord(t, first, 2, map[string]string{fu: string(c1)}))
	if resp := mustPush(t, s, e, 2, codedRecord(t, first, 2, map[string]string{fu: string(c1)})); resp.Landed != 1 || len(resp.SetAside) != 0 {
		t.Fatalf("replay: got %+v", resp)
	}

	tests := []struct {
		name      string
		followUps []string // codes, one follow-up each
		field     string
	}{
		{"bound to another follow-up", []string{string(c1)}, "followups[0].code"},
		{"another bus's code", []string{string(mustCode(t, other, 1))}, "followups[0].code"},
		{"MAC fails", []string{string(mustCode(t, infosync.Enrollment{CodePrefix: e.CodePrefix, CodeKey: other.CodeKey}, 7))}, "followups[0].code"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad, good := newID(t), newID(t)
			fus := map[string]string{}
			for _, c := range tt.followUps {
				fus[newID(t)] = c
			}
			resp := mustPush(t, s, e, int64(10+i),
				codedRecord(t, good, 1, nil), codedRecord(t, bad, 1, fus))
			if resp.Landed != 1 || len(resp.SetAside) != 1 {
				t.Fatalf("got %+v, want one landed and one set aside", resp)
			}
			sa := resp.SetAside[0]
			if sa.Index != 1 || sa.Reason != infosync.ReasonCodeTaken || sa.Fields[tt.field].NL == "" {
				t.Fatalf("set aside %+v, want index 1, code_taken, naming %s in Dutch", sa, tt.field)
			}
			if _, err := s.FindVisitByID(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Fatalf("refused visit stored: %v", err)
			}
			if _, err := s.FindVisitByID(ctx, good); err != nil {
				t.Fatalf("the good record did not land: %v", err)
			}
		})
	}

	// A visit whose first code is free and second taken: set aside whole,
	// and the free code stays free.
	late := newID(t)
	fA, fB := "019ac0de-0000-7000-8000-00000000000a", "019ac0de-0000-7000-8000-00000000000b"
	resp = mustPush(t, s, e, 20, codedRecord(t, late, 1, map[string]string{fA: string(c2), fB: string(c1)}))
	if resp.Landed != 0 || len(resp.SetAside) != 1 || resp.SetAside[0].Reason != infosync.ReasonCodeTaken {
		t.Fatalf("got %+v, want the visit set aside for its code", resp)
	}
	if info, err := s.LookupCode(ctx, string(c2)); err != nil || info.FollowUpID != "" {
		t.Fatalf("code of a refused visit: got %+v, %v; want valid and unbound", info, err)
	}
	quarantined, err := s.SetAsideFor(ctx, e.BusID)
	if err != nil || len(quarantined) != 4 {
		t.Fatalf("quarantine holds %d records (%v), want 4", len(quarantined), err)
	}
	// And it binds later to whoever carries it first.
	mustPush(t, s, e, 21, codedRecord(t, newID(t), 1, map[string]string{newID(t): string(c2), newID(t): string(c3)}))
	if info, _ := s.LookupCode(ctx, string(c2)); info.FollowUpID == "" {
		t.Fatal("a free code did not bind")
	}
}

func TestLookupCode(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	e := mustAddBus(t, s, "bus 1")
	valid := mustCode(t, e, 42)
	var wrongKey, noBus schema.Code
	wrongKey = mustCode(t, infosync.Enrollment{CodePrefix: e.CodePrefix, CodeKey: make([]byte, 32)}, 42)
	for n := range 1024 {
		if p := schema.CodePrefix(n); p != e.CodePrefix {
			noBus = mustCode(t, infosync.Enrollment{CodePrefix: p, CodeKey: e.CodeKey}, 42)
			break
		}
	}
	info, err := s.LookupCode(ctx, valid.Grouped())
	if err != nil || info.Code != valid || info.BusID != e.BusID || info.FollowUpID != "" {
		t.Fatalf("valid, not yet synced: got %+v, %v", info, err)
	}
	for name, c := range map[string]schema.Code{"wrong key": wrongKey, "no such bus": noBus} {
		if _, err := s.LookupCode(ctx, string(c)); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
	var ce *schema.CodeError
	if _, err := s.LookupCode(ctx, "ABCD"); !errors.As(err, &ce) {
		t.Errorf("a short code: got %v, want a *schema.CodeError", err)
	}
}
