package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infobus/schema"
	infosync "infobus/sync"
)

// personal is what the bus must forget: the contact details of newVisit,
// made unique so that nothing else in the files can match.
const (
	personalEmail = "vergeet-mij.4711@example.nl"
	personalPhone = "0687654321"
	personalName  = "Wilhelmina Vergeetmenietje"
)

func personalVisit(tb testing.TB, n int) map[string]any {
	v := newVisit(tb, n)
	v["contact"] = map[string]any{"name": personalName, "phone": personalPhone, "email": personalEmail}
	return v
}

// rawFiles returns the bytes of every file of the bus database: the
// database, its WAL and shared memory, as a thief would copy them.
func rawFiles(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	var all []byte
	for _, f := range []string{name, name + "-wal", name + "-shm", name + "-journal"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// ackAll acknowledges everything pending as the office would.
func ackAll(tb testing.TB, s *Store) {
	tb.Helper()
	ctx := context.Background()
	_, _, upto, err := s.Backlog(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	recs, err := s.Pending(ctx, 0, upto, 1000, 4<<20)
	if err != nil {
		tb.Fatal(err)
	}
	if len(recs) == 0 {
		return
	}
	if err := s.Acknowledge(ctx, recs, &infosync.PushResponse{AckedSeq: recs[len(recs)-1].CrewSeq}); err != nil {
		tb.Fatal(err)
	}
}

func TestForgetContactsAfterGracePeriod(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	store := mustOpenStore(t, dir, clk.Now)
	defer store.Close()
	b := mustStartBus(t, store)
	token := b.pair()
	ctx := context.Background()

	visit := personalVisit(t, 1)
	if status, body := b.do(http.MethodPut, "/api/visits/"+visit["id"].(string), token, visit); status != http.StatusCreated {
		t.Fatalf("put: got %d %s", status, body)
	}
	unsent := personalVisit(t, 2) // never acknowledged: must stay
	unsent["contact"] = map[string]any{"name": "Blijft", "phone": "0611112222", "email": "blijft@example.nl"}
	if status, body := b.do(http.MethodPut, "/api/visits/"+unsent["id"].(string), token, unsent); status != http.StatusCreated {
		t.Fatalf("put: got %d %s", status, body)
	}
	// Only the first is acknowledged by the office.
	recs, err := store.Pending(ctx, 0, 1<<40, 1, 4<<20)
	if err != nil || len(recs) != 1 {
		t.Fatalf("pending: %v %v", recs, err)
	}
	if err := store.Acknowledge(ctx, recs, &infosync.PushResponse{AckedSeq: recs[0].CrewSeq}); err != nil {
		t.Fatal(err)
	}

	keep := 168 * time.Hour
	clk.Advance(keep - time.Minute)
	if n, err := store.ForgetContacts(ctx, keep); err != nil || n != 0 {
		t.Fatalf("within the grace period: removed %d (%v), want 0", n, err)
	}
	before, err := store.FindVisitByID(ctx, visit["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	n, err := store.ForgetContacts(ctx, keep)
	if err != nil || n != 1 {
		t.Fatalf("after the grace period: removed %d (%v), want 1", n, err)
	}
	if n, err := store.ForgetContacts(ctx, keep); err != nil || n != 0 {
		t.Fatalf("second run: removed %d (%v), want 0", n, err)
	}

	got, err := store.FindVisitByID(ctx, visit["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if got.Contact != nil || !got.ContactRemoved {
		t.Errorf("contact %+v removed %v, want none and marked removed", got.Contact, got.ContactRemoved)
	}
	if got.Seq <= before.Seq {
		t.Errorf("seq %d, want above %d so that tablets see the removal", got.Seq, before.Seq)
	}
	// What the crew need for a revisit stays.
	if got.Business.Name != before.Business.Name || got.Wijk != before.Wijk || len(got.Topics) != 2 ||
		len(got.FollowUps) != 1 || got.Rev != before.Rev || !got.Consent.Given {
		t.Errorf("after forgetting: %+v, want business, wijk, topics, follow-ups and rev kept", got.Visit)
	}
	if list, _, err := store.FindVisits(ctx, VisitFilter{Query: "vergeetmenietje", Limit: 10}); err != nil || len(list) != 0 {
		t.Errorf("search by the forgotten name found %d visits (%v), want 0", len(list), err)
	}
	other, err := store.FindVisitByID(ctx, unsent["id"].(string))
	if err != nil || other.Contact == nil {
		t.Fatalf("the unacknowledged visit lost its contact details: %+v %v", other, err)
	}

	raw := rawFiles(t, dir, DatabaseFile)
	for _, s := range []string{personalEmail, personalPhone, personalName} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the raw database files still hold %q", s)
		}
	}
	if !bytes.Contains(raw, []byte("blijft@example.nl")) {
		t.Error("the raw files lack the unacknowledged visit's address: the check above cannot fail")
	}

	// A tablet's edit without the details (it dropped them too) is pushed
	// with keep_contact, so that the office keeps its copy; the callback
	// follow-up stays valid without the phone number.
	visit["rev"] = 2
	visit["notes"] = "Tweede gesprek."
	delete(visit, "contact")
	if status, body := b.do(http.MethodPut, "/api/visits/"+visit["id"].(string), token, visit); status != http.StatusOK {
		t.Fatalf("edit after forgetting: got %d %s, want 200", status, body)
	}
	_, acked, upto, err := store.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.Pending(ctx, acked, upto, 10, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	var keepFlag bool
	for _, r := range pending {
		if r.ID == visit["id"] {
			keepFlag = r.KeepContact
			if strings.Contains(string(r.Body), `"contact"`) {
				t.Errorf("pushed body %s holds contact details", r.Body)
			}
		}
	}
	if !keepFlag {
		t.Error("the edited visit is not pushed with keep_contact")
	}
	// New details typed in are a crew edit like any other.
	visit["rev"] = 3
	visit["contact"] = map[string]any{"name": "Nieuw", "phone": "0611111111", "email": ""}
	if status, body := b.do(http.MethodPut, "/api/visits/"+visit["id"].(string), token, visit); status != http.StatusOK {
		t.Fatalf("edit with new details: got %d %s, want 200", status, body)
	}
	pending, err = store.Pending(ctx, acked, upto+10, 10, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pending {
		if r.ID == visit["id"] && r.KeepContact {
			t.Error("a visit with new contact details is still pushed with keep_contact")
		}
	}
}

func TestErasurePulledFromOffice(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	store := mustOpenStore(t, dir, clk.Now)
	defer store.Close()
	b := mustStartBus(t, store)
	token := b.pair()
	ctx := context.Background()
	visit := personalVisit(t, 3)
	if status, body := b.do(http.MethodPut, "/api/visits/"+visit["id"].(string), token, visit); status != http.StatusCreated {
		t.Fatalf("put: got %d %s", status, body)
	}
	resp := &infosync.PullResponse{Erasures: []infosync.Erasure{{VisitID: visit["id"].(string), Seq: 1}, {VisitID: "0190c2a4-0000-7000-8000-000000000000", Seq: 2}}, Next: 2}
	n, err := store.ApplyPull(ctx, resp)
	if err != nil || n != 1 {
		t.Fatalf("apply erasure: %d changes (%v), want 1", n, err)
	}
	if n, err := store.ApplyPull(ctx, resp); err != nil || n != 0 {
		t.Fatalf("apply again: %d changes (%v), want 0", n, err)
	}
	got, err := store.FindVisitByID(ctx, visit["id"].(string))
	if err != nil || got.Contact != nil || !got.ContactRemoved {
		t.Fatalf("after erasure: %+v %v", got, err)
	}
	// A push of it again (after a restore) says the absence is no edit: the
	// office, which erased them, has nothing to keep, and a callback stays
	// valid without them.
	recs, err := store.Pending(ctx, 0, 1<<40, 10, 4<<20)
	if err != nil || len(recs) != 1 || !recs[0].KeepContact {
		t.Fatalf("pending after erasure: %+v %v", recs, err)
	}
	if err := store.db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	raw := rawFiles(t, dir, DatabaseFile)
	if bytes.Contains(raw, []byte(personalEmail)) {
		t.Error("the raw database files still hold the erased address")
	}
}

func TestForgetterRunsAfterSync(t *testing.T) {
	clk := newClock()
	store := mustOpenStore(t, "", clk.Now)
	defer store.Close()
	ctx := context.Background()
	v := personalVisit(t, 4)
	if _, _, err := store.PutVisit(ctx, mustVisit(t, v)); err != nil {
		t.Fatal(err)
	}
	ackAll(t, store)
	f := NewForgetter(store, ForgetAtOnce, testLogger(t))
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	clk.Advance(time.Second)
	f.Kick() // as Syncer.AfterSuccess does
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := store.FindVisitByID(ctx, v["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if got.Contact == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the forgetter did not remove the contact details after a kick")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustVisit(tb testing.TB, m map[string]any) *schema.Visit {
	tb.Helper()
	var v schema.Visit
	if err := json.Unmarshal(mustMarshal(tb, m), &v); err != nil {
		tb.Fatal(err)
	}
	v.Normalize()
	if err := v.Validate(); err != nil {
		tb.Fatal(err)
	}
	return &v
}
