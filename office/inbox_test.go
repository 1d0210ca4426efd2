package office

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"infobus/internal/web"
	"infobus/schema"
	infosync "infobus/sync"
)

// openInboxStore opens a store whose background folder is stopped, so
// that nothing applies the inbox unless the test or a reader does.
func openInboxStore(tb testing.TB, dir string) *Store {
	tb.Helper()
	s, err := OpenStore(context.Background(), dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		tb.Fatal(err)
	}
	s.fold.close()
	tb.Cleanup(func() { s.Close() })
	return s
}

func inboxDepth(tb testing.TB, s *Store) int {
	tb.Helper()
	var n int
	if err := s.db.Read.QueryRow(`SELECT count(*) FROM push_inbox`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestPushDecidesAgainstTheInbox: a push refuses and takes exactly what it
// would if every earlier push had already been applied, also within one
// batch, and applying later stores the same visits, follow-ups and codes.
func TestPushDecidesAgainstTheInbox(t *testing.T) {
	type outcome struct {
		Landed int
		Reason []string // per set-aside record, "index:reason:field"
	}
	run := func(applyEach bool) ([]outcome, map[string]int64, map[string]string, map[string]string) {
		ctx := context.Background()
		s := openInboxStore(t, t.TempDir())
		a, b := mustAddBus(t, s, "bus A"), mustAddBus(t, s, "bus B")
		// Fixed ids, so that both runs send the same records.
		id := func(n int) string { return fmt.Sprintf("01938a6e-0000-7000-8000-%012d", n) }
		v1, v2, v3, v4, v5, v6, v7, v8, v9 := id(1), id(2), id(3), id(4), id(5), id(6), id(7), id(8), id(9)
		f1, f4, f6, f8, f9 := id(11), id(14), id(16), id(18), id(19)
		c1, c2 := string(mustCode(t, a, 1)), string(mustCode(t, a, 2))
		steps := []struct {
			bus  infosync.Enrollment
			recs []json.RawMessage
		}{
			{a, []json.RawMessage{notedRecord(t, v1, 1, "eerste", map[string]string{f1: c1}), notedRecord(t, v2, 1, "tweede", nil)}},
			{b, []json.RawMessage{notedRecord(t, v1, 1, "van bus B", nil)}},                                                                               // another bus's visit
			{a, []json.RawMessage{notedRecord(t, v1, 1, "andere inhoud", map[string]string{f1: c1})}},                                                     // same rev, other content
			{a, []json.RawMessage{notedRecord(t, v3, 1, "", map[string]string{f1: ""})}},                                                                  // another visit's follow-up
			{a, []json.RawMessage{notedRecord(t, v4, 1, "", map[string]string{f4: c1})}},                                                                  // a code bound to another follow-up
			{a, []json.RawMessage{notedRecord(t, v1, 1, "eerste", map[string]string{f1: c1}), notedRecord(t, v1, 2, "nieuw", map[string]string{f1: c1})}}, // a replay, then a newer rev
			{a, []json.RawMessage{ // two revs of one visit, and a claim on a follow-up id, in one batch
				notedRecord(t, v5, 1, "vijf", map[string]string{f6: ""}), notedRecord(t, v5, 2, "vijf bis", map[string]string{f6: ""}),
				notedRecord(t, v6, 1, "zes", map[string]string{f6: ""}),
				notedRecord(t, v7, 1, "zeven", nil), notedRecord(t, v7, 1, "zeven, anders", nil),
				notedRecord(t, v8, 1, "acht", map[string]string{f8: c2}), notedRecord(t, v9, 1, "negen", map[string]string{f9: c2})}},
			{a, []json.RawMessage{notedRecord(t, v1, 1, "eerste", map[string]string{f1: c1})}}, // an older rev: taken, changes nothing
		}
		var got []outcome
		through := map[string]int64{}
		for _, st := range steps {
			through[st.bus.BusID] += int64(len(st.recs))
			resp := mustPush(t, s, st.bus, through[st.bus.BusID], st.recs...)
			o := outcome{Landed: resp.Landed}
			for _, sa := range resp.SetAside {
				for field := range sa.Fields {
					o.Reason = append(o.Reason, fmt.Sprintf("%d:%s:%s", sa.Index, sa.Reason, field))
				}
			}
			got = append(got, o)
			if applyEach {
				if err := s.ApplyInbox(ctx); err != nil {
					t.Fatal(err)
				}
			} else if n := inboxDepth(t, s); len(got) == 1 && n != 2 {
				t.Fatalf("%d records wait after the first push, want its 2", n)
			}
		}
		revs, err := s.VisitRevs(ctx, a.BusID) // applies what waits
		if err != nil {
			t.Fatal(err)
		}
		if n := inboxDepth(t, s); n != 0 {
			t.Fatalf("%d records still wait after a read", n)
		}
		pairs := func(query string) map[string]string {
			out := map[string]string{}
			err := eachRow(ctx, s.db.Read, query, nil, func(rows *sql.Rows) error {
				var k, v string
				err := rows.Scan(&k, &v)
				out[k] = v
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		owners := pairs(`SELECT id, visit_id FROM followups`)
		// The bound follow-ups: each store gave the bus another code prefix.
		codes := pairs(`SELECT followup_id, count(*) FROM codes GROUP BY 1`)
		return got, revs, owners, codes
	}
	queued, queuedRevs, queuedOwners, queuedCodes := run(false)
	applied, appliedRevs, appliedOwners, appliedCodes := run(true)

	want := []outcome{
		{Landed: 2},
		{Reason: []string{"0:foreign_id:id"}},
		{Reason: []string{"0:conflict:rev"}},
		{Reason: []string{"0:foreign_id:followups[0].id"}},
		{Reason: []string{"0:code_taken:followups[0].code"}},
		{Landed: 2},
		{Landed: 4, Reason: []string{"2:foreign_id:followups[0].id", "4:conflict:rev", "6:code_taken:followups[0].code"}},
		{Landed: 1},
	}
	if !reflect.DeepEqual(queued, want) {
		t.Errorf("pushes decided against the inbox:\n got %+v\nwant %+v", queued, want)
	}
	if !reflect.DeepEqual(applied, want) {
		t.Errorf("pushes decided against applied records:\n got %+v\nwant %+v", applied, want)
	}
	wantRevs := map[string]int64{"01938a6e-0000-7000-8000-000000000001": 2, "01938a6e-0000-7000-8000-000000000002": 1, "01938a6e-0000-7000-8000-000000000005": 2,
		"01938a6e-0000-7000-8000-000000000007": 1, "01938a6e-0000-7000-8000-000000000008": 1}
	if !reflect.DeepEqual(queuedRevs, wantRevs) || !reflect.DeepEqual(appliedRevs, wantRevs) {
		t.Errorf("stored revs: queued %v, applied %v; want %v", queuedRevs, appliedRevs, wantRevs)
	}
	if !reflect.DeepEqual(queuedOwners, appliedOwners) || len(queuedOwners) != 3 {
		t.Errorf("follow-ups: queued %v, applied %v; want the same three", queuedOwners, appliedOwners)
	}
	if !reflect.DeepEqual(queuedCodes, appliedCodes) || len(queuedCodes) != 2 {
		t.Errorf("codes: queued %v, applied %v; want the same two", queuedCodes, appliedCodes)
	}
}

// TestInboxOutlivesTheOffice: what a push queued is in the database when
// the office stops before applying it, and the next start applies it.
func TestInboxOutlivesTheOffice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInboxStore(t, dir)
	e := mustAddBus(t, s, "bus 1")
	id := newID(t)
	mustPush(t, s, e, 1, visitRecord(t, id, 1, "vlak voor het afsluiten"))
	if n := inboxDepth(t, s); n != 1 {
		t.Fatalf("%d records wait, want the pushed one", n)
	}
	s.Close()

	s = openInboxStore(t, dir)
	if n := inboxDepth(t, s); n != 0 {
		t.Errorf("%d records still wait after the start", n)
	}
	var rev int64
	if err := s.db.Read.QueryRowContext(ctx, `SELECT rev FROM visits WHERE id = ?`, id).Scan(&rev); err != nil || rev != 1 {
		t.Errorf("the visit after the start: rev %d, %v; want rev 1", rev, err)
	}
}

// TestForgetReachesTheInbox: erasing a person also erases a visit about
// them that a bus pushed a moment before, and its next push lands without
// the contact details.
func TestForgetReachesTheInbox(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	id := newID(t)
	mustPush(t, s, e, 1, privateVisit(t, id, newID(t), ""))
	if n := inboxDepth(t, s); n != 1 {
		t.Fatalf("%d records wait, want the pushed one", n)
	}
	rep, err := s.ForgetPerson(ctx, Person{Email: "noor.bakker@example.nl"}, false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Erased != 1 || len(rep.Visits) != 1 || rep.Visits[0] != id {
		t.Fatalf("forget: %+v, want the queued visit erased", rep)
	}
	v, err := s.FindVisitByID(ctx, id)
	if err != nil || v.Contact != nil {
		t.Fatalf("the visit after forget: %+v, %v; want it without contact details", v, err)
	}
}

// TestKeepContactFromTheInbox: a bus that removed its copy of the contact
// details sends the next rev without them; the office keeps the details
// of the rev still waiting in its inbox.
func TestKeepContactFromTheInbox(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	id, fu := newID(t), newID(t)
	mustPush(t, s, e, 1, privateVisit(t, id, fu, ""))

	var v schema.Visit
	if err := json.Unmarshal(privateVisit(t, id, fu, ""), &v); err != nil {
		t.Fatal(err)
	}
	v.Rev, v.Contact = 2, nil
	rec, err := json.Marshal(v.CrewOwned())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&infosync.Receiver{Store: s}).Push(ctx, pushInput(t, e, &infosync.PushRequest{
		BusID: e.BusID, ThroughSeq: 2, Records: []json.RawMessage{rec}, KeepContact: []string{id}}))
	if err != nil || resp.Landed != 1 {
		t.Fatalf("push without contact details: %+v, %v", resp, err)
	}
	got, err := s.FindVisitByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rev != 2 || got.Contact == nil || got.Contact.Email != "noor.bakker@example.nl" {
		t.Errorf("stored: rev %d, contact %+v; want rev 2 with the details of rev 1", got.Rev, got.Contact)
	}
}

// wantSetAsideWhenApplied checks that applying stored fine and set aside
// kept, for reason, and nothing else.
func wantSetAsideWhenApplied(t *testing.T, s *Store, e infosync.Enrollment, kept, reason, fine string) {
	t.Helper()
	ctx := context.Background()
	revs, err := s.VisitRevs(ctx, e.BusID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := revs[kept]; ok || revs[fine] != 1 || len(revs) != 1 {
		t.Errorf("stored %v, want only the fine visit %s", revs, fine)
	}
	aside, err := s.SetAsideFor(ctx, e.BusID)
	if err != nil {
		t.Fatal(err)
	}
	if len(aside) != 1 || aside[0].VisitID != kept || aside[0].Reason != reason {
		t.Errorf("set aside: %+v, want %s for %s", aside, kept, reason)
	}
}

// TestApplyKeepsWhatItCannotTake: should applying meet a record it cannot
// store after all (here a code bound behind the push's back), the record
// is set aside for review, never lost, and the rest is applied.
func TestApplyKeepsWhatItCannotTake(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	blocked, fine := newID(t), newID(t)
	code := string(mustCode(t, e, 7))
	mustPush(t, s, e, 2, codedRecord(t, blocked, 1, map[string]string{newID(t): code}), visitRecord(t, fine, 1, "gewoon"))
	if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO codes (code, bus_id, followup_id, visit_id, bound_at) VALUES (?, ?, 'elders', 'elders', 'nu')`,
		code, e.BusID); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyInbox(ctx); err != nil {
		t.Fatal(err)
	}
	wantSetAsideWhenApplied(t, s, e, blocked, infosync.ReasonCodeTaken, fine)
	if n := inboxDepth(t, s); n != 0 {
		t.Errorf("%d records still wait", n)
	}
}

// TestPlanHistoryHoldsTheInbox: a bus's plan carries the history of its
// stops' wijken, with a visit another bus pushed a moment before.
func TestPlanHistoryHoldsTheInbox(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	planned, other := mustAddBus(t, s, "bus 1"), mustAddBus(t, s, "bus 2")
	today := time.Now().In(schema.Zone).Format(time.DateOnly)
	if _, err := s.AddStop(ctx, "planner@example.nl", schema.Stop{BusID: planned.BusID, Date: today, Start: "09:00", End: "12:00",
		Place: "Markt Leyweg", Wijk: "WK051828"}); err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	mustPush(t, s, other, 1, visitRecord(t, id, 1, "net binnen"))
	plan, err := s.PlanFor(ctx, planned.BusID)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.History) != 1 || plan.History[0].VisitID != id {
		t.Errorf("history: %+v, want the visit bus 2 just pushed", plan.History)
	}
}

// TestInboxMetric: /metrics says how many pushed records wait to be
// applied, without applying them.
func TestInboxMetric(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	srv := NewServer(Config{Addr: DefaultAddr, MetricsToken: "meettoken"}, s, slog.New(slog.DiscardHandler))
	waiting := func() string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, web.MetricsPath, nil)
		req.Header.Set("Authorization", "Bearer meettoken")
		resp, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(body), "\n") {
			if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], "infobus_office_inbox_records") {
				return f[1]
			}
		}
		t.Fatalf("no inbox gauge in %d %s", resp.StatusCode, body)
		return ""
	}
	mustPush(t, s, e, 2, visitRecord(t, newID(t), 1, "een"), visitRecord(t, newID(t), 1, "twee"))
	if got := waiting(); got != "2" {
		t.Errorf("after a push of two: %s records wait, want 2", got)
	}
	if err := s.ApplyInbox(ctx); err != nil {
		t.Fatal(err)
	}
	if got := waiting(); got != "0" {
		t.Errorf("after applying: %s records wait, want 0", got)
	}
}

// TestApplySetsAsideAnUnreadableRecord: a queued record that cannot be
// read again (a damaged file) is set aside for review; the records after
// it are applied, and what it claimed is free again.
func TestApplySetsAsideAnUnreadableRecord(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	damaged, fine, fu := newID(t), newID(t), newID(t)
	mustPush(t, s, e, 2, visitRecord(t, damaged, 1, "", fu), visitRecord(t, fine, 1, "gewoon"))
	if _, err := s.db.Write.ExecContext(ctx, `UPDATE push_inbox SET body = '{"id": "kapot' WHERE visit_id = ?`, damaged); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyInbox(ctx); err != nil {
		t.Fatalf("apply: %v, want the damaged record set aside", err)
	}
	wantSetAsideWhenApplied(t, s, e, damaged, infosync.ReasonMalformed, fine)
	// Its follow-up id is nobody's now: another visit may carry it.
	if resp := mustPush(t, s, e, 3, visitRecord(t, newID(t), 1, "", fu)); resp.Landed != 1 {
		t.Errorf("a push with the damaged record's follow-up id: %+v, want it taken", resp)
	}
}

// TestReadsOutliveAFailingApply: when applying fails (here a table a
// trigger needs is gone), reads show what was applied rather than fail,
// what waits stays in the inbox, and a write fails rather than act on a
// part of what the buses were told the office has.
func TestReadsOutliveAFailingApply(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	applied, waiting, fu := newID(t), newID(t), newID(t)
	mustPush(t, s, e, 1, visitRecord(t, applied, 1, "eerder", fu))
	if err := s.ApplyInbox(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Write.ExecContext(ctx, `DROP TABLE insight_fu_city`); err != nil {
		t.Fatal(err)
	}
	mustPush(t, s, e, 2, visitRecord(t, waiting, 1, "net binnen", newID(t)))
	if err := s.ApplyInbox(ctx); err == nil {
		t.Fatal("applying without insight_fu_city succeeded; the test needs it to fail")
	}
	if v, err := s.FindVisitByID(ctx, applied); err != nil || v.ID != applied {
		t.Errorf("reading an applied visit while applying fails: %v, %v", v, err)
	}
	if _, err := s.FindVisitByID(ctx, waiting); !errors.Is(err, ErrNotFound) {
		t.Errorf("reading the waiting visit: %v, want not found until it is applied", err)
	}
	// A write that itself needs nothing of what is gone.
	stop := schema.Stop{BusID: e.BusID, Date: time.Now().In(schema.Zone).Format(time.DateOnly), Start: "09:00", End: "12:00",
		Place: "Markt Leyweg", Wijk: "WK051828"}
	if _, err := s.AddStop(ctx, "planner@example.nl", stop); err == nil {
		t.Error("a stop was planned while the inbox could not be applied")
	}
	if n := inboxDepth(t, s); n != 1 {
		t.Errorf("%d records wait, want the one that could not be applied", n)
	}
}

// TestApplyTakesTurns: an apply takes what was queued when it began, so
// that a page does not chase a bus still sending; and the background's
// apply gives way to a push between two of its transactions.
func TestApplyTakesTurns(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	batch := func(n int) []json.RawMessage {
		recs := make([]json.RawMessage, n)
		for i := range recs {
			recs[i] = visitRecord(t, newID(t), 1, "")
		}
		return recs
	}
	stored := func() int {
		t.Helper()
		var n int
		if err := s.db.Read.QueryRow(`SELECT count(*) FROM visits`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	mustPush(t, s, e, 1000, batch(1000)...)
	mustPush(t, s, e, 1500, batch(500)...)

	// The background's turn ends after one transaction when a push came.
	done, err := s.applyYielding(ctx, func() bool { return true })
	if err != nil || done {
		t.Fatalf("a yielding apply: done %v, %v; want it to stop after one transaction", done, err)
	}
	if n, w := stored(), inboxDepth(t, s); n != inboxBatch || w != 1500-inboxBatch {
		t.Errorf("after one turn: %d stored, %d waiting; want %d and %d", n, w, inboxBatch, 1500-inboxBatch)
	}
	// A reader's apply: a push during it waits for the next one.
	mustPush(t, s, e, 2500, batch(1000)...)
	pushed, fu := false, newID(t)
	_, err = s.applyYielding(ctx, func() bool {
		if !pushed {
			pushed = true
			mustPush(t, s, e, 2501, visitRecord(t, newID(t), 1, "tussendoor", fu))
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, w := stored(), inboxDepth(t, s); n != 2500 || w != 1 {
		t.Errorf("after a reader's apply: %d stored, %d waiting; want 2500 and the one pushed during it", n, w)
	}
	// What waits still claims its follow-up id.
	if resp := mustPush(t, s, e, 2502, visitRecord(t, newID(t), 1, "", fu)); len(resp.SetAside) != 1 {
		t.Errorf("another visit with the waiting one's follow-up id: %+v, want it refused", resp)
	}
	if err := s.ApplyInbox(ctx); err != nil {
		t.Fatal(err)
	}
	if n, w := stored(), inboxDepth(t, s); n != 2501 || w != 0 {
		t.Errorf("after the next apply: %d stored, %d waiting; want all 2501", n, w)
	}
}

// TestReaderWaitsForARunningApply: a reader that comes while the
// background applies waits for that apply, rather than read what it has
// not reached yet.
func TestReaderWaitsForARunningApply(t *testing.T) {
	ctx := context.Background()
	s := openInboxStore(t, t.TempDir())
	e := mustAddBus(t, s, "bus 1")
	recs := make([]json.RawMessage, inboxBatch+1)
	last := newID(t)
	for i := range recs {
		id := newID(t)
		if i == len(recs)-1 {
			id = last
		}
		recs[i] = visitRecord(t, id, 1, "")
	}
	mustPush(t, s, e, int64(inboxBatch), recs[:inboxBatch]...)
	mustPush(t, s, e, int64(inboxBatch+1), recs[inboxBatch:]...)
	read := make(chan error, 1)
	_, err := s.applyYielding(ctx, func() bool {
		// Between the apply's two transactions: the last visit is not in yet.
		go func() {
			_, err := s.FindVisitByID(ctx, last)
			read <- err
		}()
		time.Sleep(100 * time.Millisecond)
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Errorf("a read during the apply: %v, want the visit the apply was about to store", err)
	}
}
