package bus

import (
	"context"
	"encoding/json"
	"testing"

	"infobus/schema"
	infosync "infobus/sync"
)

func feedbackChange(code schema.Code, seq int64, rating int, comment string) infosync.FeedbackChange {
	return infosync.FeedbackChange{Seq: seq, Feedback: schema.Feedback{ID: "019ac0de-7c2a-7b3e-9f10-1a2b3c4d5e6f", Code: string(code),
		Rating: rating, Comment: comment, ContactPreference: schema.PreferPhone, CreatedAt: "2026-11-27T09:00:00Z"}}
}

// TestPulledFeedback: feedback waits on the bus for the visit that binds
// its code, a newer version replaces it, an older page never does, and a
// bad one is skipped; the visit's seq moves when its feedback changes.
func TestPulledFeedback(t *testing.T) {
	ctx := context.Background()
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	codes, err := store.ReserveCodes(ctx, CardsDevice, 2)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(next int64, fb ...infosync.FeedbackChange) int {
		t.Helper()
		n, err := store.ApplyPull(ctx, &infosync.PullResponse{Feedback: fb, Next: next})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Given on a card before the crew saved the visit.
	if n := apply(3, feedbackChange(codes[0], 3, 6, "Eerste indruk.")); n != 1 {
		t.Fatalf("first pull: %d new, want 1", n)
	}
	raw := newVisit(t, 1)
	raw["followups"].([]map[string]any)[0]["code"] = string(codes[0])
	v, err := schema.DecodeVisit(mustMarshal(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	v.Normalize()
	if _, _, err := store.PutVisit(ctx, v); err != nil {
		t.Fatal(err)
	}
	view := func() *VisitView {
		t.Helper()
		got, err := store.FindVisitByID(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := view()
	want := schema.FollowUpFeedback{Rating: 6, Comment: "Eerste indruk.", ContactPreference: schema.PreferPhone, CreatedAt: "2026-11-27T09:00:00Z"}
	if fb := first.FollowUps[0].Feedback; fb == nil || *fb != want {
		t.Fatalf("feedback with the follow-up: %+v, want %+v", fb, want)
	}
	// A revision moves the visit for tablets that poll; a stale page, a bad
	// record and an unknown code's feedback do not.
	bad := feedbackChange(codes[1], 9, 11, "")
	if n := apply(9, feedbackChange(codes[0], 5, 9, "Toch goed geholpen."), feedbackChange(codes[0], 4, 2, "Ouder."), bad); n != 1 {
		t.Fatalf("second pull: %d new, want 1", n)
	}
	second := view()
	if fb := second.FollowUps[0].Feedback; fb == nil || fb.Rating != 9 || fb.Comment != "Toch goed geholpen." || second.Seq <= first.Seq {
		t.Fatalf("after the revision: %+v at seq %d (was %d)", fb, second.Seq, first.Seq)
	}
	if n := apply(9, feedbackChange(codes[0], 5, 9, "Toch goed geholpen.")); n != 0 || view().Seq != second.Seq {
		t.Errorf("the same page again: %d new, want 0 and the seq kept", n)
	}
	if c, _ := store.PullCursor(ctx); c != 9 {
		t.Errorf("pull cursor %d, want 9", c)
	}
	// The crew API shows it in the agreed shape, and takes its own answer back.
	b, err := json.Marshal(second)
	if err != nil {
		t.Fatal(err)
	}
	var shape struct {
		FollowUps []struct {
			Feedback map[string]any `json:"feedback"`
		} `json:"followups"`
	}
	if err := json.Unmarshal(b, &shape); err != nil || len(shape.FollowUps[0].Feedback) != 4 {
		t.Fatalf("view JSON %s", b)
	}
	if _, err := schema.DecodeVisit(b, "seq", "state", "set_aside"); err != nil {
		t.Errorf("the view does not decode as a visit: %v", err)
	}
}
