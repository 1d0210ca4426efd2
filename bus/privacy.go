package bus

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"infobus/schema"
)

// DefaultKeepPersonal is how long the bus keeps a visit's contact details
// after the office acknowledged it: a week in which the crew can still
// call back from the van.
const DefaultKeepPersonal = 168 * time.Hour

// Why the bus no longer holds a visit's contact details (visits.contact_gone).
const (
	// contactForgotten: removed after the office had them. The office keeps
	// its copy; a crew edit without them is not an erasure there.
	contactForgotten = "forgotten"
	// contactErased: the office erased them (infobus office forget, or its
	// retention period) and asked the bus to do the same.
	contactErased = "erased"
)

const (
	// Visits whose current rev the office acknowledged before cutoff and
	// that still hold contact details.
	queryForgettable = `
SELECT id FROM visits
WHERE contact_gone = '' AND acked_at != '' AND acked_at <= ?1
  AND json_extract(body, '$.contact') IS NOT NULL`
	queryVisitBodyForErase = `SELECT body, contact_gone FROM visits WHERE id = ?`
	queryContactGone       = `UPDATE visits SET body = ?2, search = ?3, contact_gone = ?4, seq = ?5 WHERE id = ?1`
)

// keepsContactGone says whether a crew write of v leaves the visit's
// contact_gone as it is: v holds no contact details while consent is still
// given, so the crew did not erase them, the bus just no longer has them.
// New details typed in, or consent withdrawn, start over.
func keepsContactGone(v *schema.Visit) bool {
	return v.Contact == nil && v.Consent.Given
}

// validateVisit validates a visit a tablet sent. A visit whose contact
// details the bus forgot keeps its callback and e-mail follow-ups without
// them: the office holds the details, and the crew's edit keeps them there.
func (s *Server) validateVisit(ctx context.Context, v *schema.Visit) error {
	err := v.Validate()
	if err == nil || !keepsContactGone(v) {
		return err
	}
	gone, lookupErr := s.store.contactGone(ctx, v.ID)
	if lookupErr != nil || gone != contactForgotten {
		return err
	}
	return v.ValidateContactElsewhere()
}

const queryContactGoneOf = `SELECT contact_gone FROM visits WHERE id = ?`

// validateKept validates, inside the write, a visit whose contact details
// the bus kept (PutVisitKeepingContact): if the bus forgot them, the
// office holds them, and callback follow-ups stay valid without.
func validateKept(ctx context.Context, tx *sql.Tx, v *schema.Visit) error {
	err := v.Validate()
	if err == nil || !keepsContactGone(v) {
		return err
	}
	var gone string
	if qerr := tx.QueryRowContext(ctx, queryContactGoneOf, v.ID).Scan(&gone); qerr != nil || gone != contactForgotten {
		return err
	}
	return v.ValidateContactElsewhere()
}

// contactGone says why the bus no longer holds visit id's contact details:
// "", contactForgotten or contactErased; "" for a visit it does not hold.
func (s *Store) contactGone(ctx context.Context, id string) (string, error) {
	var gone string
	err := s.db.Read.QueryRowContext(ctx, queryContactGoneOf, id).Scan(&gone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return gone, err
}

// ForgetContacts removes the contact details of every visit whose current
// rev the office acknowledged at least keep ago: from the stored record
// and the search text. What the crew need for a revisit stays. Each such
// visit takes a new seq, so that tablets see the change and drop their
// copy too. Then it checkpoints the WAL: with secure_delete on, the bytes
// are then gone from the database's files. It returns how many visits it
// changed; a second run changes nothing.
func (s *Store) ForgetContacts(ctx context.Context, keep time.Duration) (int, error) {
	// acked_at is compared as text: schema.Timestamp keeps every digit.
	cutoff := schema.Timestamp(s.now().Add(-keep))
	n := 0
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, queryForgettable, cutoff)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		log := s.newErasureLog()
		for _, id := range ids {
			changed, err := removeContact(ctx, tx, id, contactForgotten, log)
			if err != nil {
				return err
			}
			n += changed
		}
		return log.write()
	})
	if err != nil {
		return 0, err
	}
	// The checkpoint holds the writer while readers finish: only when
	// there is something to wipe from the WAL, now or left from a run
	// whose checkpoint readers kept from finishing.
	if n == 0 && !s.checkpointDue.Load() {
		return 0, nil
	}
	if err := s.db.Checkpoint(ctx); err != nil {
		s.checkpointDue.Store(true)
		return n, err
	}
	s.checkpointDue.Store(false)
	return n, nil
}

// removeContact takes the contact details out of visit id inside tx and
// records why. It returns 1 when it changed the visit, 0 when the bus does
// not hold it or already holds no details (an erasure still marks it, so
// that a later push cannot ask the office to keep them).
//
// A change is also noted in the data dir's erasure log (e), so that a
// restore from an older backup removes the details again
// (ReplayErasures); a replay passes a nil e.
func removeContact(ctx context.Context, tx *sql.Tx, id, why string, e *erasureLog) (int, error) {
	var (
		body []byte
		gone string
	)
	err := tx.QueryRowContext(ctx, queryVisitBodyForErase, id).Scan(&body, &gone)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v schema.Visit
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("visit %s: %w", id, err)
	}
	if v.Contact == nil && (gone == why || gone == contactErased) {
		return 0, nil
	}
	v.Contact = nil
	crew := v.CrewOwned()
	out, err := json.Marshal(&crew)
	if err != nil {
		return 0, err
	}
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, queryContactGone, id, string(out), searchText(&v), why, seq); err != nil {
		return 0, err
	}
	e.add(id, why, v.Rev)
	return 1, nil
}

// Forgetter runs ForgetContacts every hour and after every successful
// sync (Syncer.AfterSuccess), and logs what it removed.
type Forgetter struct {
	store *Store
	keep  time.Duration
	log   *slog.Logger
	cron  *cron.Cron
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// NewForgetter prepares the job; keep is the grace period after the
// office's acknowledgement (0 forgets at the first run after it).
func NewForgetter(store *Store, keep time.Duration, log *slog.Logger) *Forgetter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Forgetter{store: store, keep: keep, log: log, kick: make(chan struct{}, 1)}
}

// Start runs the hourly schedule and the runs after syncs until Stop.
func (f *Forgetter) Start() error {
	cl := cronLogger{f.log}
	f.cron = cron.New(cron.WithLogger(cl), cron.WithChain(cron.Recover(cl)))
	if _, err := f.cron.AddFunc("@hourly", f.Kick); err != nil {
		return err
	}
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go f.loop()
	f.cron.Start()
	f.Kick() // what became due while the bus was off
	return nil
}

// Stop ends the job and waits for a run in progress. A second Stop does
// nothing.
func (f *Forgetter) Stop() {
	if f.cron == nil {
		return
	}
	<-f.cron.Stop().Done()
	close(f.stop)
	<-f.done
	f.cron = nil
}

// Kick asks for a run soon; runs never overlap, and kicks during a run
// fold into one more run after it.
func (f *Forgetter) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *Forgetter) loop() {
	defer close(f.done)
	for {
		select {
		case <-f.stop:
			return
		case <-f.kick:
			f.Run(context.Background())
		}
	}
}

// Run forgets what is due now and logs the count.
func (f *Forgetter) Run(ctx context.Context) (int, error) {
	n, err := f.store.ForgetContacts(ctx, f.keep)
	switch {
	case err != nil:
		f.log.Error("forgetting contact details failed", "removed", n, "err", err)
	case n > 0:
		f.log.Info("contact details removed from the bus", "visits", n, "after", f.keep)
	default:
		f.log.Debug("no contact details due for removal")
	}
	return n, err
}
