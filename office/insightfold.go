package office

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"infobus/schema"
)

// The folder keeps what is derived from the pushes up to date: first the
// visits and follow-ups themselves, applied from the inbox (inbox.go),
// then the monthly counts of insight_months and the word index of the text
// search. A push only queues its records; the folder applies and counts
// them after the commit, in the background once pushes pause and, for what
// is left, at the start of every page that reads them. Visits that change
// after they were folded lose their counts and words in the same
// transaction (triggers of migration 0011) and wait in fold_redo.

// foldBatch bounds one folding transaction, so that a push waits at most
// for one of them.
const foldBatch = 20000

// The background folder waits until pushes have paused for foldQuiet, so
// that a bus sending a backlog is not slowed by the folding (its write
// lock and its CPU, a third of the office's while pushes stream in), but
// never longer than foldMaxDelay, so that a page seldom has much left to
// fold before it reads.
const (
	foldQuiet    = time.Second
	foldMaxDelay = 10 * time.Second
)

type folder struct {
	mu      sync.Mutex // one fold at a time; a page waits for the running one
	kick    chan struct{}
	stop    chan struct{}
	stopped sync.Once
	done    sync.WaitGroup
}

func (f *folder) start(s *Store) {
	f.kick, f.stop = make(chan struct{}, 1), make(chan struct{})
	f.done.Add(1)
	go func() {
		defer f.done.Done()
		for {
			select {
			case <-f.stop:
				return
			case <-f.kick:
			}
			// Waiting also folds several pushes at once, and the counts
			// they share are written once. A page does not wait for this:
			// it applies and folds first. While a bus sends a backlog, the
			// inbox is applied one transaction per wait: the bus goes first
			// (a push arriving ends the turn), and it is applied whole once
			// the pushes pause.
			for {
				if !f.waitForPause() {
					return
				}
				done, err := s.applyYielding(context.Background(), f.pushed)
				if err != nil {
					s.log.Warn("apply after push", "err", err)
				}
				if done || err != nil {
					break
				}
			}
			if err := s.Fold(context.Background()); err != nil {
				// A page folds again before it reads, and says so.
				s.log.Warn("fold after push", "err", err)
			}
		}
	}()
}

// waitForPause returns once no push has come for foldQuiet, or
// foldMaxDelay after it was called; false when the folder is stopping.
func (f *folder) waitForPause() bool {
	quiet, deadline := time.NewTimer(foldQuiet), time.NewTimer(foldMaxDelay)
	defer quiet.Stop()
	defer deadline.Stop()
	for {
		select {
		case <-f.stop:
			return false
		case <-f.kick:
			quiet.Reset(foldQuiet)
		case <-quiet.C:
			return true
		case <-deadline.C:
			return true
		}
	}
}

// pushed says whether a push came since the folder last looked, and takes
// note of it.
func (f *folder) pushed() bool {
	select {
	case <-f.kick:
		return true
	default:
		return false
	}
}

// poke asks the background folder to run; a fold already asked for covers
// this push too.
func (f *folder) poke() {
	if f.kick == nil {
		return
	}
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *folder) close() {
	if f.stop != nil {
		f.stopped.Do(func() { close(f.stop) })
		f.done.Wait()
	}
}

const (
	queryFoldPending = `
SELECT coalesce((SELECT max(rowid) FROM visits), 0) > (SELECT upto FROM fold_marks WHERE what = 'visits')
    OR EXISTS (SELECT 1 FROM fold_redo)`
	queryFoldUpto = `SELECT upto FROM fold_marks WHERE what = 'visits'`
	queryFoldNew  = `
SELECT rowid, deleted, month, wijk, stop, sector, topics, wdhour, rating, panel, fu_n > 0, name,
    coalesce(json_extract(body, '$.notes'), '')
FROM visits WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`
	queryFoldRedo = `
SELECT r.vid, v.rowid IS NOT NULL, coalesce(v.deleted, 1), coalesce(v.month, ''), coalesce(v.wijk, ''), coalesce(v.stop, ''),
    coalesce(v.sector, ''), coalesce(v.topics, '[]'), coalesce(v.wdhour, 0), v.rating, coalesce(v.panel, 0), coalesce(v.fu_n > 0, 0),
    coalesce(v.name, ''), coalesce(json_extract(v.body, '$.notes'), '')
FROM (SELECT vid FROM fold_redo ORDER BY vid LIMIT ?1) AS r LEFT JOIN visits AS v ON v.rowid = r.vid`
	queryFoldRedoDone = `DELETE FROM fold_redo WHERE vid IN (SELECT value FROM json_each(?1))`
	queryFoldMark     = `UPDATE fold_marks SET upto = ?1 WHERE what = 'visits'`
	queryFoldWords    = `
INSERT OR IGNORE INTO visit_words (word, vid)
SELECT value ->> 0, value ->> 1 FROM json_each(?1)`
)

// Fold brings the derived tables up to date with every committed visit.
// Pages call it before they read them; it costs one small query when
// nothing waits.
func (s *Store) Fold(ctx context.Context) error {
	s.settle(ctx)
	var pending bool
	if err := s.db.Read.QueryRowContext(ctx, queryFoldPending).Scan(&pending); err != nil {
		return err
	}
	if !pending {
		return nil
	}
	s.fold.mu.Lock()
	defer s.fold.mu.Unlock()
	for {
		more := false
		err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
			more, err = foldOnce(ctx, tx)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
}

// foldRow is what the folder reads of a visit.
type foldRow struct {
	vid     int64
	present bool
	deleted bool
	c       counted
	name    string
	notes   string
}

// foldOnce folds up to foldBatch changed and foldBatch new visits and
// says whether more wait.
func foldOnce(ctx context.Context, tx *sql.Tx) (more bool, err error) {
	d := &insightDelta{delta: map[countKey]*Tally{}}
	type entry struct {
		word string
		vid  int64
	}
	var words []entry
	take := func(r *foldRow) {
		if !r.present || r.deleted {
			return
		}
		if r.c.month != "" {
			d.add(&r.c, 1)
		}
		for _, w := range indexWords(r.name + " " + r.notes) {
			words = append(words, entry{w, r.vid})
		}
	}
	scan := func(rows *sql.Rows, r *foldRow, withPresent bool) error {
		dest := []any{&r.vid}
		if withPresent {
			dest = append(dest, &r.present)
		}
		dest = append(dest, &r.deleted, &r.c.month, &r.c.wijk, &r.c.stop, &r.c.sector, &r.c.topics, &r.c.wdhour,
			&r.c.rating, &r.c.panel, &r.c.fu, &r.name, &r.notes)
		return rows.Scan(dest...)
	}

	// Changed visits first: their old counts are out already.
	rows, err := tx.QueryContext(ctx, queryFoldRedo, foldBatch)
	if err != nil {
		return false, err
	}
	var redone []int64
	for rows.Next() {
		var r foldRow
		if err := scan(rows, &r, true); err != nil {
			rows.Close()
			return false, err
		}
		redone = append(redone, r.vid)
		take(&r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}

	var upto int64
	if err := tx.QueryRowContext(ctx, queryFoldUpto).Scan(&upto); err != nil {
		return false, err
	}
	rows, err = tx.QueryContext(ctx, queryFoldNew, upto, foldBatch)
	if err != nil {
		return false, err
	}
	n := 0
	for rows.Next() {
		r := foldRow{present: true}
		if err := scan(rows, &r, false); err != nil {
			rows.Close()
			return false, err
		}
		upto = r.vid
		n++
		take(&r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}

	if err := d.flush(ctx, tx); err != nil {
		return false, err
	}
	if len(words) > 0 {
		// In the index's order, so that the tree grows page by page.
		slices.SortFunc(words, func(a, b entry) int {
			if c := strings.Compare(a.word, b.word); c != 0 {
				return c
			}
			return cmp.Compare(a.vid, b.vid)
		})
		// By hand: words are letters and digits, which JSON takes as
		// they are, and reflection would cost more than the rest.
		b := make([]byte, 0, len(words)*24)
		b = append(b, '[')
		for i, e := range words {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = append(b, e.word...)
			b = append(b, `",`...)
			b = strconv.AppendInt(b, e.vid, 10)
			b = append(b, ']')
		}
		b = append(b, ']')
		if _, err := tx.ExecContext(ctx, queryFoldWords, string(b)); err != nil {
			return false, err
		}
	}
	if len(redone) > 0 {
		b, err := json.Marshal(redone)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, queryFoldRedoDone, string(b)); err != nil {
			return false, err
		}
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, queryFoldMark, upto); err != nil {
			return false, err
		}
	}
	return n == foldBatch || len(redone) == foldBatch, nil
}

// stopWords are left out of the word index and out of a search: nearly
// every note has them, so they find nothing, and they are a third of a
// note's words.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`aan al als bij dat de den der des die dit door een en er het hij
		ik in is je kan maar met na naar niet nog of om ook op over te tot uit van voor wat
		we wel wil zal ze zich zij zijn
		and for of on or the to with`) {
		m[w] = true
	}
	return m
}()

// indexWords are the words of text the word index holds and a search
// looks for.
func indexWords(text string) []string {
	ws := schema.SearchWords(text)
	out := ws[:0]
	for _, w := range ws {
		if !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// matchWords says whether every query word starts a word of text.
func matchWords(text string, query []string) bool {
	have := indexWords(text)
	for _, q := range query {
		found := false
		for _, w := range have {
			if strings.HasPrefix(w, q) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
