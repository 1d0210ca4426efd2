package office

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

// The entrepreneur's own words in the loop back to them (answers to a
// staff question, satisfaction comments) are free text like a feedback
// comment, and an e-mail still waiting in the queue carries their
// address: forget reaches them too.
const (
	queryLoopTexts = `
SELECT 'answer', q.followup_id, q.id, q.answer, f.visit_id
FROM followup_questions q JOIN followups f ON f.id = q.followup_id WHERE q.answer != ''
UNION ALL
SELECT 'satisfaction', s.followup_id, 0, s.comment, f.visit_id
FROM satisfaction s JOIN followups f ON f.id = s.followup_id WHERE s.comment != ''`
	queryAnswerErase       = `UPDATE followup_questions SET answer = '' WHERE id = ?`
	querySatisfactionErase = `UPDATE satisfaction SET comment = '' WHERE followup_id = ?`
	queryMailsUnsent       = `
SELECT m.id, m.to_addr, f.visit_id FROM mail_queue m JOIN followups f ON f.id = m.followup_id
WHERE m.sent_at = ''`
	queryMailDrop = `DELETE FROM mail_queue WHERE id = ?`
)

// ExportLoopText is something the person wrote in the loop back: an
// answer to a staff question or a satisfaction comment.
type ExportLoopText struct {
	FollowUpID string `json:"followup_id"`
	Kind       string `json:"kind"` // answer or satisfaction
	Text       string `json:"text"`
	questionID int64
}

// loopTexts finds the answers and satisfaction comments given on the
// follow-ups of visits, or mentioning p.
func loopTexts(ctx context.Context, q querier, p Person, visits []string) ([]ExportLoopText, error) {
	rows, err := q.QueryContext(ctx, queryLoopTexts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := []ExportLoopText{}
	for rows.Next() {
		var t ExportLoopText
		var visit string
		if err := rows.Scan(&t.Kind, &t.FollowUpID, &t.questionID, &t.Text, &visit); err != nil {
			return nil, err
		}
		if slices.Contains(visits, visit) || p.mentions(t.Text) {
			found = append(found, t)
		}
	}
	return found, rows.Err()
}

// eraseLoop empties the answers and satisfaction comments given on the
// follow-ups of visits, or mentioning p, and drops the e-mails not yet
// sent to p or about those visits. With dryRun it only counts. It returns
// how many texts and e-mails it changed (or would).
func eraseLoop(ctx context.Context, tx *sql.Tx, p Person, visits []string, dryRun bool) (texts, mails int, err error) {
	found, err := loopTexts(ctx, tx, p, visits)
	if err != nil {
		return 0, 0, err
	}
	var drop []int64
	rows, err := tx.QueryContext(ctx, queryMailsUnsent)
	if err != nil {
		return 0, 0, err
	}
	for rows.Next() {
		var id int64
		var to, visit string
		if err := rows.Scan(&id, &to, &visit); err != nil {
			rows.Close()
			return 0, 0, err
		}
		if slices.Contains(visits, visit) || (p.Email != "" && strings.EqualFold(to, p.Email)) {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if dryRun {
		return len(found), len(drop), nil
	}
	for _, t := range found {
		if t.Kind == "answer" {
			_, err = tx.ExecContext(ctx, queryAnswerErase, t.questionID)
		} else {
			_, err = tx.ExecContext(ctx, querySatisfactionErase, t.FollowUpID)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	for _, id := range drop {
		if _, err := tx.ExecContext(ctx, queryMailDrop, id); err != nil {
			return 0, 0, err
		}
	}
	return len(found), len(drop), nil
}
