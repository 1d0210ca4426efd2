package bus

import (
	"context"
	"database/sql"
	"errors"

	"infobus/schema"
	infosync "infobus/sync"
)

const (
	// The office's pull seq orders versions: a page pulled late (an
	// `infobus sync` beside the scheduler) never undoes a newer one.
	queryFeedbackPut = `
INSERT INTO feedback (code, id, rating, comment, contact_preference, created_at, office_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (code) DO UPDATE SET
    id = excluded.id, rating = excluded.rating, comment = excluded.comment,
    contact_preference = excluded.contact_preference, created_at = excluded.created_at, office_seq = excluded.office_seq
WHERE excluded.office_seq > feedback.office_seq`
	queryVisitOfCode   = `SELECT visit_id FROM codes WHERE code = ? AND visit_id IS NOT NULL`
	queryFeedbackCodes = `
SELECT code, rating, comment, contact_preference, created_at FROM feedback
WHERE code IN (SELECT value FROM json_each(?))`
)

// applyFeedback stores one pulled feedback and reports whether it was new
// to the bus. The visit whose follow-up carries the code takes a new seq,
// so that tablets polling ?since= see the feedback arrive.
func (s *Store) applyFeedback(ctx context.Context, tx *sql.Tx, c infosync.FeedbackChange) (bool, error) {
	c.Code = schema.NormalizeCode(c.Code)
	if err := c.Feedback.Validate(); err != nil {
		s.log.Warn("sync pulled invalid feedback", "code", c.Code, "err", err)
		return false, nil
	}
	changed, err := schema.ExecChanged(ctx, tx, queryFeedbackPut, c.Code, c.ID, c.Rating, c.Comment, c.ContactPreference, c.CreatedAt, c.Seq)
	if err != nil || !changed {
		return false, err
	}
	if c.Comment == "" {
		// The office may have erased the comment (infobus office forget):
		// the keep-personal job, which runs after every successful sync,
		// checkpoints so that the old comment's bytes leave the WAL too.
		s.checkpointDue.Store(true)
	}
	var visitID string
	err = tx.QueryRowContext(ctx, queryVisitOfCode, c.Code).Scan(&visitID)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // a code on a card not yet given out: kept for when it is
	}
	if err != nil {
		return false, err
	}
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, queryVisitSeqSet, visitID, seq)
	return true, err
}

// addFeedback puts each follow-up's feedback, found by its code, on the
// views.
func addFeedback(ctx context.Context, tx *sql.Tx, views []VisitView) error {
	var codes []string
	for _, v := range views {
		for _, f := range v.FollowUps {
			if f.Code != "" {
				codes = append(codes, f.Code)
			}
		}
	}
	if len(codes) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, queryFeedbackCodes, jsonList(codes))
	if err != nil {
		return err
	}
	defer rows.Close()
	found := map[string]*schema.FollowUpFeedback{}
	for rows.Next() {
		var (
			code string
			fb   schema.FollowUpFeedback
		)
		if err := rows.Scan(&code, &fb.Rating, &fb.Comment, &fb.ContactPreference, &fb.CreatedAt); err != nil {
			return err
		}
		found[code] = &fb
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range views {
		for j := range views[i].FollowUps {
			f := &views[i].FollowUps[j]
			if fb, ok := found[f.Code]; ok && f.Code != "" {
				f.Feedback = fb
			}
		}
	}
	return nil
}
