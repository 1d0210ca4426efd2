package office

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"infobus/schema"
)

// The follow-up queue: what the office promised entrepreneurs, the moves
// of its status, and who works on it. Status changes go through setStatus,
// which queues them for the bus's next pull like SetFollowUpStatus.

// Who makes a status move: staff on the follow-up's page, or the office on
// the entrepreneur's behalf (their answer, their request to reopen) or when
// staff ask a question.
type mover int

const (
	byStaff        mover = 1 << iota // the "new status" form
	byQuestion                       // staff ask the entrepreneur a question
	byEntrepreneur                   // the entrepreneur's page
)

// moveRule is one allowed status move: who may make it (a set of movers)
// and whether it needs a note (the resolution, or why).
type moveRule struct {
	by   mover
	note bool
}

// moves is every status move the office allows; any pair not in it is
// refused, with the reason refuseMove gives. done and cancelled are final
// for staff; only the entrepreneur's "not satisfied" brings a done
// follow-up back, as reopen_requested, which staff reopen or close again.
var moves = map[[2]string]moveRule{
	{schema.StatusOpen, schema.StatusInProgress}:            {by: byStaff},
	{schema.StatusInProgress, schema.StatusDone}:            {by: byStaff, note: true},
	{schema.StatusInProgress, schema.StatusCancelled}:       {by: byStaff, note: true},
	{schema.StatusOpen, schema.StatusWaiting}:               {by: byQuestion, note: true},
	{schema.StatusInProgress, schema.StatusWaiting}:         {by: byQuestion, note: true},
	{schema.StatusWaiting, schema.StatusOpen}:               {by: byEntrepreneur, note: true},
	{schema.StatusWaiting, schema.StatusInProgress}:         {by: byEntrepreneur | byStaff},
	{schema.StatusDone, schema.StatusReopenRequested}:       {by: byEntrepreneur},
	{schema.StatusReopenRequested, schema.StatusInProgress}: {by: byStaff},
	{schema.StatusReopenRequested, schema.StatusDone}:       {by: byStaff, note: true},
	{schema.StatusWaiting, schema.StatusCancelled}:          {by: byStaff, note: true},
	{schema.StatusReopenRequested, schema.StatusCancelled}:  {by: byStaff, note: true},
}

// NextStatuses returns the statuses staff may move a follow-up in status
// to on its page, in the order the page offers them.
func NextStatuses(status string) []string {
	var out []string
	for _, to := range schema.FollowUpStatuses {
		if r, ok := moves[[2]string{status, to}]; ok && r.by&byStaff != 0 {
			out = append(out, to)
		}
	}
	return out
}

// MoveError refuses a status move; Key is the catalogue key of the reason
// (the page shows it in the person's language), EN and NL the reason in
// both.
type MoveError struct {
	Key    string
	EN, NL string
}

func (e *MoveError) Error() string { return e.EN }

var (
	errMoveFinal = &MoveError{Key: "move.final",
		EN: "this follow-up is finished (done or cancelled); a finished follow-up does not change any more",
		NL: "deze vervolgactie is klaar (afgehandeld of geannuleerd); daarna verandert er niets meer"}
	errMoveSkip = &MoveError{Key: "move.skip",
		EN: "start the work first: an open follow-up goes to in progress before it is done or cancelled",
		NL: "zet de vervolgactie eerst op 'in behandeling': pas daarna kan hij klaar of geannuleerd worden"}
	errMoveBack = &MoveError{Key: "move.back",
		EN: "a follow-up in progress does not go back to open; finish it as done or cancelled",
		NL: "een vervolgactie in behandeling gaat niet terug naar open; rond hem af of annuleer hem"}
	errMoveSame = &MoveError{Key: "move.same",
		EN: "the follow-up already has this status",
		NL: "de vervolgactie heeft deze status al"}
	errMoveUnknown = &MoveError{Key: "move.unknown",
		EN: "choose one of the statuses offered",
		NL: "kies een van de statussen die je ziet"}
	errMoveNote = &MoveError{Key: "move.note",
		EN: "write a note that says what was done, or why the follow-up is cancelled",
		NL: "schrijf in een notitie wat er gedaan is, of waarom de vervolgactie geannuleerd is"}
	errMoveNoteLong = &MoveError{Key: "move.notelong",
		EN: fmt.Sprintf("the note is too long: at most %d characters", schema.MaxResolution),
		NL: fmt.Sprintf("de notitie is te lang: hoogstens %d tekens", schema.MaxResolution)}
	errMoveNoteControl = &MoveError{Key: "move.notecontrol",
		EN: "the note holds characters that cannot be shown; type it again",
		NL: "de notitie bevat tekens die niet getoond kunnen worden; typ hem opnieuw"}
	errMoveQuestion = &MoveError{Key: "move.question",
		EN: "to wait for the entrepreneur, ask them a question with the form below",
		NL: "wilt u wachten op de ondernemer? Stel dan een vraag met het formulier hieronder"}
	errMoveReopen = &MoveError{Key: "move.reopen",
		EN: "only the entrepreneur can ask to reopen a follow-up, on their page",
		NL: "alleen de ondernemer kan vragen om een vervolgactie opnieuw te openen, op de eigen pagina"}
	errMoveWaiting = &MoveError{Key: "move.waiting",
		EN: "we are waiting for the entrepreneur's answer: take the follow-up back to in progress first, or cancel it",
		NL: "we wachten op het antwoord van de ondernemer: zet de vervolgactie eerst terug op 'in behandeling', of annuleer hem"}
	errMessage = &MoveError{Key: "move.message",
		EN: "the message to the entrepreneur is too long (at most 2,000 characters) or holds characters that cannot be shown",
		NL: "het bericht aan de ondernemer is te lang (hoogstens 2000 tekens) of bevat tekens die niet getoond kunnen worden"}
	// errAssignee refuses an assignment to someone who cannot work on it.
	errAssignee = &MoveError{Key: "assign.bad",
		EN: "choose a colleague with an active account",
		NL: "kies een collega met een actief account"}
)

// checkMove returns why the move from → to by who, with note, is
// refused, or nil.
func checkMove(from, to, note string, by mover) error {
	if !isStatus(to) {
		return errMoveUnknown
	}
	if from == to {
		return errMoveSame
	}
	rule, ok := moves[[2]string{from, to}]
	if !ok || rule.by&by == 0 {
		return refuseMove(from, to)
	}
	if rule.note && strings.TrimSpace(note) == "" {
		return errMoveNote
	}
	if utf8.RuneCountInString(note) > schema.MaxResolution {
		return errMoveNoteLong
	}
	if strings.ContainsFunc(note, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }) {
		return errMoveNoteControl
	}
	return nil
}

// refuseMove says why a pair that moves lacks (for this mover) is refused.
func refuseMove(from, to string) *MoveError {
	switch {
	case to == schema.StatusWaiting:
		return errMoveQuestion
	case to == schema.StatusReopenRequested:
		return errMoveReopen
	case schema.StatusFinished(from):
		return errMoveFinal
	case from == schema.StatusWaiting:
		return errMoveWaiting
	case to == schema.StatusOpen:
		return errMoveBack
	case from == schema.StatusOpen:
		return errMoveSkip
	}
	return errMoveUnknown
}

func isStatus(s string) bool {
	for _, x := range schema.FollowUpStatuses {
		if x == s {
			return true
		}
	}
	return false
}

const (
	queryFollowUpState  = `SELECT status, resolution, assignee FROM followups WHERE id = ?`
	queryFollowUpAssign = `UPDATE followups SET assignee = ? WHERE id = ?`
	queryEventInsert    = `
INSERT INTO followup_events (followup_id, at, actor, from_status, to_status, assignee, note, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	queryEventMoveInsert = `
INSERT INTO followup_events (followup_id, at, actor, from_status, to_status, note, kind, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	queryEvents = `
SELECT id, at, actor, from_status, to_status, assignee, note, kind, message FROM followup_events WHERE followup_id = ? ORDER BY id`
	queryFollowUpDetail = `
SELECT f.id, f.visit_id, f.bus_id, b.name, f.kind, f.department, f.wijk, f.due_date, f.opened_at, f.code,
       f.status, f.resolution, f.status_at, coalesce(f.assignee, 0), coalesce(st.email, ''), v.name, v.body
FROM followups f JOIN visits v ON v.id = f.visit_id JOIN buses b ON b.id = f.bus_id
LEFT JOIN staff st ON st.id = f.assignee
WHERE f.id = ?`
	queryActiveStaff = `SELECT id, email FROM staff WHERE disabled = 0 AND password_hash IS NOT NULL ORDER BY email`
	queryStaffActive = `SELECT email FROM staff WHERE id = ? AND disabled = 0`
)

// WorkEvent is one change to a follow-up at the office: a status move
// (From → To) or an assignment (To empty, Assignee set).
type WorkEvent struct {
	ID       int64
	At       string // schema.Timestamp, the office's clock
	Actor    string // the staff member's email
	From     string // the status before; empty for an assignment
	Status   string // the status after; empty for an assignment
	Assignee string // the email given the work, for an assignment
	Note     string
	// Kind is "" for a staff member's move or assignment, else one of the
	// Event… kinds: a question, an answer, a satisfaction, a route, an
	// e-mail sent.
	Kind string
	// Message is what the move said to the entrepreneur, with placeholders
	// (standard texts, texts.go).
	Message string
}

// Kinds of timeline events beyond staff moves and assignments.
const (
	EventQuestion     = "question"
	EventAnswer       = "answer"
	EventSatisfaction = "satisfaction"
)

// ActorEntrepreneur is the actor of what the entrepreneur did on their
// page: no name, since the page has no login.
const ActorEntrepreneur = "ondernemer"

// IsMove reports whether the event is a status move.
func (e WorkEvent) IsMove() bool { return e.Status != "" }

// WorkEvents returns what happened to a follow-up at the office, oldest
// first; none for an unknown id. FollowUpEvents gives the entrepreneur's
// page the moves of it (without who made them).
func (s *Store) WorkEvents(ctx context.Context, followUpID string) ([]WorkEvent, error) {
	s.settle(ctx)
	rows, err := s.db.Read.QueryContext(ctx, queryEvents, followUpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WorkEvent
	for rows.Next() {
		var e WorkEvent
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.From, &e.Status, &e.Assignee, &e.Note, &e.Kind, &e.Message); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// MoveFollowUp moves a follow-up to status to on behalf of actor, with
// note (the resolution for done and cancelled), records the event and an
// audit entry, and queues the change for the bus. It returns ErrNotFound
// for an unknown follow-up and a *MoveError when the move is not allowed.
func (s *Store) MoveFollowUp(ctx context.Context, actor, followUpID, to, note string) (schema.FollowUpStatus, error) {
	return s.MoveFollowUpSaying(ctx, actor, followUpID, to, note, "")
}

// MoveFollowUpSaying is MoveFollowUp with a message to the entrepreneur,
// which their page shows and an e-mail carries; a *MoveError for a message
// that is too long or unreadable.
func (s *Store) MoveFollowUpSaying(ctx context.Context, actor, followUpID, to, note, message string) (schema.FollowUpStatus, error) {
	message = cleanText(message)
	if key := textProblem(message, false); key != "" {
		return schema.FollowUpStatus{}, errMessage
	}
	note = strings.TrimSpace(note)
	var st schema.FollowUpStatus
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			from, resolution string
			assignee         sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, queryFollowUpState, followUpID).Scan(&from, &resolution, &assignee)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if st, err = s.move(ctx, tx, followUpID, actor, from, to, resolution, note, byStaff, "", message); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionFollowUpMoved, followUpID, from+" → "+to)
	})
	return st, err
}

// move makes the status move from → to in tx if checkMove allows it,
// records it as an event of kind (with note) and queues it for the bus.
// resolution is the follow-up's current one; done and cancelled replace it
// with the note, and a reopened follow-up has none.
//
// message is what the move says to the entrepreneur (their page shows it,
// and with SMTP configured a move by staff queues an e-mail with it).
func (s *Store) move(ctx context.Context, tx *sql.Tx, followUpID, actor, from, to, resolution, note string, by mover, kind, message string) (schema.FollowUpStatus, error) {
	if err := checkMove(from, to, note, by); err != nil {
		return schema.FollowUpStatus{}, err
	}
	switch {
	case schema.StatusFinished(to):
		resolution = note
	case from == schema.StatusReopenRequested:
		resolution = ""
	}
	st, err := s.setStatus(ctx, tx, followUpID, to, resolution)
	if err != nil {
		return st, err
	}
	res, err := tx.ExecContext(ctx, queryEventMoveInsert, followUpID, schema.Timestamp(s.now()), actor, from, to, note, kind, message)
	if err != nil {
		return st, err
	}
	if by == byEntrepreneur || !s.mail.Load() {
		return st, nil
	}
	eventID, err := res.LastInsertId()
	if err != nil {
		return st, err
	}
	return st, queueMail(ctx, tx, followUpID, eventID, schema.Timestamp(s.now()))
}

// AssignFollowUp gives a follow-up to the colleague with id assignee on
// behalf of actor (claiming is assigning to oneself), recorded as an event
// and in the audit log. It returns ErrNotFound for an unknown follow-up, a
// *MoveError for a colleague who cannot work on it, and nil without a
// change when the follow-up is theirs already.
func (s *Store) AssignFollowUp(ctx context.Context, actor, followUpID string, assignee int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			status, resolution string
			current            sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, queryFollowUpState, followUpID).Scan(&status, &resolution, &current)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var email string
		err = tx.QueryRowContext(ctx, queryStaffActive, assignee).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return errAssignee
		}
		if err != nil {
			return err
		}
		if current.Valid && current.Int64 == assignee {
			return nil
		}
		if _, err := tx.ExecContext(ctx, queryFollowUpAssign, assignee, followUpID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryEventInsert, followUpID, schema.Timestamp(s.now()), actor, "", "", email, "", ""); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionFollowUpAssigned, followUpID, email)
	})
}

// Colleague is someone a follow-up can be assigned to.
type Colleague struct {
	ID    int64
	Email string
}

// Colleagues lists the accounts that can log in, by email.
func (s *Store) Colleagues(ctx context.Context) ([]Colleague, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryActiveStaff)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Colleague
	for rows.Next() {
		var c Colleague
		if err := rows.Scan(&c.ID, &c.Email); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FollowUpDetail is a follow-up as its page shows it.
type FollowUpDetail struct {
	QueueItem
	Code        string
	Description string
	Resolution  string
	StatusAt    string
	AssigneeID  int64
	Events      []WorkEvent
	// Lang is the language the entrepreneur hears from the office in: the
	// visit's when it is English, else Dutch.
	Lang string
}

// FindFollowUp returns a follow-up with its visit's business and its
// events, or ErrNotFound.
func (s *Store) FindFollowUp(ctx context.Context, id string) (*FollowUpDetail, error) {
	s.settle(ctx)
	var (
		d    FollowUpDetail
		body []byte
	)
	err := s.db.Read.QueryRowContext(ctx, queryFollowUpDetail, id).Scan(&d.ID, &d.VisitID, &d.BusID, &d.BusName,
		&d.Kind, &d.Department, &d.Wijk, &d.DueDate, &d.OpenedAt, &d.Code, &d.Status, &d.Resolution, &d.StatusAt,
		&d.AssigneeID, &d.Assignee, &d.Business, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var v schema.Visit
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("visit %s: %w", d.VisitID, err)
	}
	for _, f := range v.FollowUps {
		if f.ID == id {
			d.Description = f.Description
		}
	}
	d.Lang = "nl"
	if v.Language == "en" {
		d.Lang = "en"
	}
	if d.Events, err = s.WorkEvents(ctx, id); err != nil {
		return nil, err
	}
	return &d, nil
}

// setStatus writes a follow-up's new status at the next status_rev and
// queues it for its bus's next pull. It returns ErrNotFound for an
// unknown follow-up and a *schema.ValidationError for a bad status or
// resolution.
func (s *Store) setStatus(ctx context.Context, tx *sql.Tx, followUpID, status, resolution string) (schema.FollowUpStatus, error) {
	var busID string
	var rev int64
	err := tx.QueryRowContext(ctx, queryFollowUpForStatus, followUpID).Scan(&busID, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return schema.FollowUpStatus{}, ErrNotFound
	}
	if err != nil {
		return schema.FollowUpStatus{}, err
	}
	st := schema.FollowUpStatus{Status: status, Resolution: resolution, StatusRev: rev + 1, StatusAt: schema.Timestamp(s.now())}
	if err := st.Validate(); err != nil {
		return schema.FollowUpStatus{}, err
	}
	var pullSeq int64
	if err := tx.QueryRowContext(ctx, queryBusNextPullSeq, busID).Scan(&pullSeq); err != nil {
		return schema.FollowUpStatus{}, err
	}
	_, err = tx.ExecContext(ctx, queryFollowUpSetStatus, followUpID, st.Status, st.Resolution, st.StatusRev, st.StatusAt, pullSeq)
	return st, err
}
