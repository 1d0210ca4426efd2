package office

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	"infobus/schema"
	infosync "infobus/sync"
)

const (
	// One row per code: a second post revises the first in place and takes
	// the bus's next pull seq, so that the bus pulls the new version. The
	// WHERE turns a post that changes nothing into no change at all.
	queryFeedbackUpsert = `
INSERT INTO feedback (code, id, bus_id, rating, comment, contact_preference, created_at, first_at, pull_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)
ON CONFLICT (code) DO UPDATE SET
    rating = excluded.rating, comment = excluded.comment, contact_preference = excluded.contact_preference,
    created_at = excluded.created_at, pull_seq = excluded.pull_seq, revisions = feedback.revisions + 1
WHERE feedback.rating != excluded.rating OR feedback.comment != excluded.comment
   OR feedback.contact_preference != excluded.contact_preference`
	queryFeedbackByCode = `
SELECT id, code, rating, comment, contact_preference, created_at FROM feedback WHERE code = ?`
	queryFeedbackChanges = `
SELECT id, code, rating, comment, contact_preference, created_at, pull_seq FROM feedback
WHERE bus_id = ?1 AND pull_seq > ?2 ORDER BY pull_seq LIMIT ?3`
	// The join of feedback that came before its visit: codes binds the code
	// to the follow-up when the visit arrives, and nothing else is needed.
	queryFeedbackOfFollowUp = `
SELECT f.id, f.code, f.rating, f.comment, f.contact_preference, f.created_at
FROM codes c JOIN feedback f ON f.code = c.code WHERE c.followup_id = ?`
)

// FeedbackInput is what an entrepreneur fills in on the follow-up page.
type FeedbackInput struct {
	Rating            int
	Comment           string
	ContactPreference string
}

// PutFeedback stores the feedback given for code, a code LookupCode found
// for busID: the first time as a new feedback, later as a revision of the
// same one, never a second. It returns the feedback as stored and whether
// it existed before, and a *schema.ValidationError for bad input.
func (s *Store) PutFeedback(ctx context.Context, code schema.Code, busID string, in FeedbackInput) (*schema.Feedback, bool, error) {
	var (
		f       *schema.Feedback
		existed bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		f, existed, err = putFeedback(ctx, tx, code, busID, in, schema.Timestamp(s.now()))
		return err
	})
	return f, existed, err
}

// PutFeedbacks stores many feedbacks in one transaction, as PutFeedback
// does each: for imports and for generating large test databases.
func (s *Store) PutFeedbacks(ctx context.Context, busID string, codes []schema.Code, in []FeedbackInput) error {
	now := schema.Timestamp(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i, code := range codes {
			if _, _, err := putFeedback(ctx, tx, code, busID, in[i], now); err != nil {
				return err
			}
		}
		return nil
	})
}

func putFeedback(ctx context.Context, tx *sql.Tx, code schema.Code, busID string, in FeedbackInput, now string) (*schema.Feedback, bool, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, false, err
	}
	f := &schema.Feedback{ID: id.String(), Code: string(code), Rating: in.Rating, Comment: in.Comment,
		ContactPreference: in.ContactPreference, CreatedAt: now}
	if err := f.Validate(); err != nil {
		return nil, false, err
	}
	var old schema.Feedback
	err = tx.QueryRowContext(ctx, queryFeedbackByCode, string(code)).Scan(&old.ID, &old.Code, &old.Rating, &old.Comment, &old.ContactPreference, &old.CreatedAt)
	existed := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, err
	}
	if existed && old.Rating == f.Rating && old.Comment == f.Comment && old.ContactPreference == f.ContactPreference {
		return &old, true, nil // the same post again: nothing for the bus to pull
	}
	var pullSeq int64
	if err := tx.QueryRowContext(ctx, queryBusNextPullSeq, busID).Scan(&pullSeq); err != nil {
		return nil, false, err
	}
	if _, err := tx.ExecContext(ctx, queryFeedbackUpsert, f.Code, f.ID, busID, f.Rating, f.Comment, f.ContactPreference, now, pullSeq); err != nil {
		return nil, false, err
	}
	if existed {
		f.ID = old.ID
	}
	return f, existed, nil
}

// FeedbackByCode returns the feedback given for code, or ErrNotFound.
func (s *Store) FeedbackByCode(ctx context.Context, code schema.Code) (*schema.Feedback, error) {
	return scanFeedback(s.db.Read.QueryRowContext(ctx, queryFeedbackByCode, string(code)))
}

// FeedbackOfFollowUp returns the feedback given for the follow-up's code,
// also when it was given before the follow-up reached the office, or
// ErrNotFound.
func (s *Store) FeedbackOfFollowUp(ctx context.Context, followUpID string) (*schema.Feedback, error) {
	s.settle(ctx)
	return scanFeedback(s.db.Read.QueryRowContext(ctx, queryFeedbackOfFollowUp, followUpID))
}

func scanFeedback(row *sql.Row) (*schema.Feedback, error) {
	var f schema.Feedback
	err := row.Scan(&f.ID, &f.Code, &f.Rating, &f.Comment, &f.ContactPreference, &f.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// FeedbackChanges returns up to limit feedbacks on busID's codes given or
// revised after the bus's pull counter since, oldest first.
func (s *Store) FeedbackChanges(ctx context.Context, busID string, since int64, limit int) ([]infosync.FeedbackChange, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryFeedbackChanges, busID, since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []infosync.FeedbackChange
	for rows.Next() {
		var c infosync.FeedbackChange
		if err := rows.Scan(&c.ID, &c.Code, &c.Rating, &c.Comment, &c.ContactPreference, &c.CreatedAt, &c.Seq); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
