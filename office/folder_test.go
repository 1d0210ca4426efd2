package office

import (
	"testing"
	"time"
)

// TestFolderFoldsOnItsOwn: once pushes pause, the background folder
// applies the inbox and brings the figures and the word index up to date
// without a page asking, so that the next page has nothing left to do.
func TestFolderFoldsOnItsOwn(t *testing.T) {
	s := newFixtureStore(t)
	v := fxVisitOf(t, newID(t), insightFixture[0])
	s.push(t, v)
	deadline := time.Now().Add(foldMaxDelay + 10*time.Second)
	for {
		// Read as the folder leaves it: no reader here applies anything.
		var vid, mark, waiting int64
		err := s.db.Write.QueryRow(`SELECT coalesce((SELECT rowid FROM visits WHERE id = ?), 0),
    (SELECT upto FROM fold_marks WHERE what = 'visits'), (SELECT count(*) FROM push_inbox)`, v.ID).Scan(&vid, &mark, &waiting)
		if err != nil {
			t.Fatal(err)
		}
		if vid > 0 && mark >= vid && waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records wait in the inbox, the pushed visit is at rowid %d (0: not applied), the fold mark at %d: the folder did not apply and fold it", waiting, vid, mark)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
