package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"infobus/schema"
)

// The loop back to the entrepreneur: a question staff ask and the answer
// on the entrepreneur's page, and whether the entrepreneur is satisfied
// once a follow-up is done. Both move the follow-up's status through the
// one table of moves in followups.go.

// MaxQuestion bounds a question and an answer, like a feedback comment.
const MaxQuestion = schema.MaxComment

// Audit actions of the loop.
const (
	ActionQuestionAsked = "question_asked"
	ActionReasonSaved   = "reason_saved"
)

const (
	queryQuestionInsert = `
INSERT INTO followup_questions (followup_id, question, asked_by, asked_at, back_to) VALUES (?, ?, ?, ?, ?)`
	queryQuestionLatest = `
SELECT id, question, asked_at, back_to, answer, answered_at FROM followup_questions
WHERE followup_id = ? ORDER BY id DESC LIMIT 1`
	queryQuestionAnswer = `
UPDATE followup_questions SET answer = ?, answered_at = ?, revisions = revisions + iif(answered_at = '', 0, 1) WHERE id = ?`
	queryReasons = `
SELECT id, satisfied, reopens, nl, en, retired FROM satisfaction_reasons ORDER BY satisfied DESC, id`
	queryReason = `
SELECT id, satisfied, reopens, nl, en, retired FROM satisfaction_reasons WHERE id = ?`
	queryReasonInsert = `
INSERT INTO satisfaction_reasons (satisfied, reopens, nl, en) VALUES (?, ?, ?, ?)`
	queryReasonUpdate = `
UPDATE satisfaction_reasons SET reopens = ?, nl = ?, en = ?, retired = ? WHERE id = ?`
	querySatisfaction = `
SELECT s.satisfied, coalesce(s.reason_id, 0), s.comment, s.at FROM satisfaction s WHERE s.followup_id = ?`
	querySatisfactionUpsert = `
INSERT INTO satisfaction (followup_id, satisfied, reason_id, comment, at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (followup_id) DO UPDATE SET
    satisfied = excluded.satisfied, reason_id = excluded.reason_id, comment = excluded.comment,
    at = excluded.at, revisions = satisfaction.revisions + 1`
	querySatisfactionFigures = `
SELECT count(*), coalesce(sum(satisfied), 0) FROM satisfaction WHERE at >= ? AND at < ?`
)

// Question is a question staff asked the entrepreneur about a follow-up,
// with the answer when it came.
type Question struct {
	ID         int64
	Text       string
	AskedAt    string
	BackTo     string // the status the first answer returns to
	Answer     string
	AnsweredAt string
}

// Answered reports whether the entrepreneur answered.
func (q *Question) Answered() bool { return q.AnsweredAt != "" }

// textProblem checks a question, answer or comment text the way the
// feedback comment is checked and returns its catalogue key, or "".
func textProblem(s string, required bool) string {
	switch n := utf8.RuneCountInString(s); {
	case required && n == 0:
		return "text.error.required"
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f
	}):
		return "feedback.error.comment.chars"
	case n > MaxQuestion:
		return "text.error.long"
	}
	return ""
}

// cleanText trims a text from a form; browsers send line breaks as CRLF.
func cleanText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

var (
	errQuestionEmpty = &MoveError{Key: "question.error.empty",
		EN: "write the question the entrepreneur should answer",
		NL: "schrijf de vraag die de ondernemer moet beantwoorden"}
	errQuestionLong = &MoveError{Key: "question.error.long",
		EN: fmt.Sprintf("the question is too long: at most %d characters", MaxQuestion),
		NL: fmt.Sprintf("de vraag is te lang: hoogstens %d tekens", MaxQuestion)}
)

// followUpState reads a follow-up's status and resolution in tx, or
// ErrNotFound.
func followUpState(ctx context.Context, tx *sql.Tx, id string) (status, resolution string, err error) {
	var assignee sql.NullInt64
	err = tx.QueryRowContext(ctx, queryFollowUpState, id).Scan(&status, &resolution, &assignee)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return status, resolution, err
}

// AskQuestion asks the entrepreneur question about a follow-up on behalf
// of actor: the follow-up waits for the answer on the entrepreneur's page.
// It returns ErrNotFound for an unknown follow-up and a *MoveError when
// the question is empty or too long or the follow-up cannot wait (it is
// finished, or waits already).
func (s *Store) AskQuestion(ctx context.Context, actor, followUpID, question string) error {
	question = cleanText(question)
	switch textProblem(question, true) {
	case "":
	case "text.error.long":
		return errQuestionLong
	case "text.error.required":
		return errQuestionEmpty
	default:
		return errMoveNoteControl
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		from, resolution, err := followUpState(ctx, tx, followUpID)
		if err != nil {
			return err
		}
		if _, err := s.move(ctx, tx, followUpID, actor, from, schema.StatusWaiting, resolution, question, byQuestion, EventQuestion, question); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryQuestionInsert, followUpID, question, actor, schema.Timestamp(s.now()), from); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionQuestionAsked, followUpID, from+" → "+schema.StatusWaiting)
	})
}

// LatestQuestion returns the last question asked about a follow-up, or
// ErrNotFound when none was.
func (s *Store) LatestQuestion(ctx context.Context, followUpID string) (*Question, error) {
	s.settle(ctx)
	return scanQuestion(s.db.Read.QueryRowContext(ctx, queryQuestionLatest, followUpID))
}

func scanQuestion(row *sql.Row) (*Question, error) {
	var q Question
	err := row.Scan(&q.ID, &q.Text, &q.AskedAt, &q.BackTo, &q.Answer, &q.AnsweredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// AnswerQuestion stores the entrepreneur's answer to the last question
// about a follow-up. The first answer returns a waiting follow-up to the
// status it had before the question; a later one revises the answer, never
// adds a second. Each is on the timeline. It returns whether an answer
// existed before, ErrNotFound when no question was asked, and the text's
// catalogue key as a *FieldError for a bad answer.
func (s *Store) AnswerQuestion(ctx context.Context, followUpID, answer string) (bool, error) {
	answer = cleanText(answer)
	if key := textProblem(answer, true); key != "" {
		return false, &FieldError{Field: "answer", Key: key}
	}
	var revised bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q, err := scanQuestion(tx.QueryRowContext(ctx, queryQuestionLatest, followUpID))
		if err != nil {
			return err
		}
		revised = q.Answered()
		if revised && q.Answer == answer {
			return nil // the same post again
		}
		status, resolution, err := followUpState(ctx, tx, followUpID)
		if err != nil {
			return err
		}
		now := schema.Timestamp(s.now())
		if !revised && status == schema.StatusWaiting {
			if _, err := s.move(ctx, tx, followUpID, ActorEntrepreneur, status, q.BackTo, resolution, answer, byEntrepreneur, EventAnswer, ""); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, queryEventInsert, followUpID, now, ActorEntrepreneur, "", "", "", answer, EventAnswer); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, queryQuestionAnswer, answer, now, q.ID)
		return err
	})
	return revised, err
}

// FieldError refuses one field of a public form: Key is the catalogue key
// of the reason, shown in the page's language.
type FieldError struct {
	Field, Key string
}

func (e *FieldError) Error() string { return e.Field + ": " + tr("en", e.Key) }

// Reason is a standard reason an entrepreneur gives for being satisfied
// or not.
type Reason struct {
	ID        int64
	Satisfied bool
	// Reopens: a "not satisfied" with this reason asks staff to reopen.
	Reopens bool
	NL, EN  string
	Retired bool
}

// Label is the reason in lang.
func (r Reason) Label(lang string) string {
	if lang == "nl" {
		return r.NL
	}
	return r.EN
}

// Reasons returns the standard reasons, satisfied ones first, retired ones
// too when all.
func (s *Store) Reasons(ctx context.Context, all bool) ([]Reason, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryReasons)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Reason
	for rows.Next() {
		var r Reason
		if err := rows.Scan(&r.ID, &r.Satisfied, &r.Reopens, &r.NL, &r.EN, &r.Retired); err != nil {
			return nil, err
		}
		if all || !r.Retired {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// SaveReason adds a reason (r.ID 0) or changes one on behalf of actor; an
// existing reason keeps its answer (yes or no). It returns a
// *FieldError for an empty or too long text and ErrNotFound for an
// unknown id.
func (s *Store) SaveReason(ctx context.Context, actor string, r Reason) (int64, error) {
	r.NL, r.EN = strings.TrimSpace(r.NL), strings.TrimSpace(r.EN)
	for field, v := range map[string]string{"nl": r.NL, "en": r.EN} {
		if utf8.RuneCountInString(v) > 200 {
			return 0, &FieldError{Field: field, Key: "reason.error.long"}
		}
		if key := textProblem(v, true); key != "" {
			return 0, &FieldError{Field: field, Key: key}
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if r.ID == 0 {
			res, err := tx.ExecContext(ctx, queryReasonInsert, r.Satisfied, r.Reopens && !r.Satisfied, r.NL, r.EN)
			if err != nil {
				return err
			}
			if r.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		} else {
			var old Reason
			err := tx.QueryRowContext(ctx, queryReason, r.ID).Scan(&old.ID, &old.Satisfied, &old.Reopens, &old.NL, &old.EN, &old.Retired)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, queryReasonUpdate, r.Reopens && !old.Satisfied, r.NL, r.EN, r.Retired, r.ID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, s.now(), actor, ActionReasonSaved, fmt.Sprint(r.ID), r.NL)
	})
	return r.ID, err
}

// Satisfaction is the entrepreneur's answer after a follow-up is done.
type Satisfaction struct {
	Satisfied bool
	ReasonID  int64 // 0: none chosen
	Comment   string
	At        string
}

// SatisfactionOf returns the answer given about a follow-up, or
// ErrNotFound.
func (s *Store) SatisfactionOf(ctx context.Context, followUpID string) (*Satisfaction, error) {
	s.settle(ctx)
	var a Satisfaction
	err := s.db.Read.QueryRowContext(ctx, querySatisfaction, followUpID).Scan(&a.Satisfied, &a.ReasonID, &a.Comment, &a.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// ErrNotDone refuses a satisfaction answer about a follow-up that is not
// done (or waiting to be reopened).
var ErrNotDone = errors.New("the follow-up is not done")

// PutSatisfaction stores whether the entrepreneur is satisfied with a done
// follow-up: once, revisable. "Not satisfied" with a reason that reopens,
// or with a comment, puts a done follow-up in reopen_requested, where
// staff reopen it or close it again. It returns whether an answer existed
// before, ErrNotDone when the follow-up is not done, and a *FieldError for
// a reason that does not fit the answer or a bad comment.
func (s *Store) PutSatisfaction(ctx context.Context, followUpID string, a Satisfaction) (bool, error) {
	a.Comment = cleanText(a.Comment)
	if key := textProblem(a.Comment, false); key != "" {
		return false, &FieldError{Field: "comment", Key: key}
	}
	var existed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		status, resolution, err := followUpState(ctx, tx, followUpID)
		if err != nil {
			return err
		}
		if status != schema.StatusDone && status != schema.StatusReopenRequested {
			return ErrNotDone
		}
		var r Reason
		if a.ReasonID != 0 {
			err := tx.QueryRowContext(ctx, queryReason, a.ReasonID).Scan(&r.ID, &r.Satisfied, &r.Reopens, &r.NL, &r.EN, &r.Retired)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && (r.Retired || r.Satisfied != a.Satisfied)) {
				return &FieldError{Field: "reason", Key: "satisfaction.error.reason"}
			}
			if err != nil {
				return err
			}
		}
		var old Satisfaction
		err = tx.QueryRowContext(ctx, querySatisfaction, followUpID).Scan(&old.Satisfied, &old.ReasonID, &old.Comment, &old.At)
		existed = err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if existed && old.Satisfied == a.Satisfied && old.ReasonID == a.ReasonID && old.Comment == a.Comment {
			return nil // the same post again
		}
		now := schema.Timestamp(s.now())
		var reason any
		if a.ReasonID != 0 {
			reason = a.ReasonID
		}
		if _, err := tx.ExecContext(ctx, querySatisfactionUpsert, followUpID, a.Satisfied, reason, a.Comment, now); err != nil {
			return err
		}
		// The note is for staff, who read Dutch first: the answer, the
		// reason's words and the comment as given.
		note := "Tevreden: ja"
		if !a.Satisfied {
			note = "Tevreden: nee"
		}
		if r.NL != "" {
			note += " — " + r.NL
		}
		if a.Comment != "" {
			note += "\n" + a.Comment
		}
		reopen := !a.Satisfied && (r.Reopens || a.Comment != "")
		if reopen && status == schema.StatusDone {
			_, err = s.move(ctx, tx, followUpID, ActorEntrepreneur, status, schema.StatusReopenRequested, resolution, note, byEntrepreneur, EventSatisfaction, "")
			return err
		}
		_, err = tx.ExecContext(ctx, queryEventInsert, followUpID, now, ActorEntrepreneur, "", "", "", note, EventSatisfaction)
		return err
	})
	return existed, err
}

// SatisfactionFigures counts the satisfaction answers given and how many
// said "satisfied", for the insight page beside the mark.
type SatisfactionFigures struct {
	Answers, Satisfied int
	From, To           time.Time
}

// Percent is the share of satisfied answers, rounded; 0 without answers.
func (f SatisfactionFigures) Percent() int {
	if f.Answers == 0 {
		return 0
	}
	return (f.Satisfied*100 + f.Answers/2) / f.Answers
}

// Satisfaction counts the answers given so far.
func (s *Store) Satisfaction(ctx context.Context) (SatisfactionFigures, error) {
	return s.SatisfactionIn(ctx, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
}

// SatisfactionIn counts the answers given (or last revised) from from
// until to: the insight page shows them beside the mark, for the period
// it shows and every area (an answer is about a follow-up, not a visit).
func (s *Store) SatisfactionIn(ctx context.Context, from, to time.Time) (SatisfactionFigures, error) {
	s.settle(ctx)
	var f SatisfactionFigures
	f.From, f.To = from, to
	err := s.db.Read.QueryRowContext(ctx, querySatisfactionFigures, schema.Timestamp(from), schema.Timestamp(to)).Scan(&f.Answers, &f.Satisfied)
	return f, err
}
