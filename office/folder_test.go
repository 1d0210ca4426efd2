package office

import (
	"testing"
	"time"
)

// TestFolderFoldsOnItsOwn: once pushes pause, the background folder brings
// the figures and the word index up to date without a page asking, so
// that the next page has nothing left to fold.
func TestFolderFoldsOnItsOwn(t *testing.T) {
	s := newFixtureStore(t)
	v := fxVisitOf(t, newID(t), insightFixture[0])
	s.push(t, v)
	var vid int64
	if err := s.db.Write.QueryRow(`SELECT rowid FROM visits WHERE id = ?`, v.ID).Scan(&vid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(foldMaxDelay + 10*time.Second)
	for {
		var mark int64
		if err := s.db.Write.QueryRow(`SELECT upto FROM fold_marks WHERE what = 'visits'`).Scan(&mark); err != nil {
			t.Fatal(err)
		}
		if mark >= vid {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fold mark is at %d, the pushed visit at rowid %d: the folder did not fold it", mark, vid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
