package office

import (
	"context"
	"testing"

	"infobus/schema"
)

// TestForgetReachesTheLoop: what an entrepreneur typed in the loop back
// (an answer to a question, a satisfaction comment) is emptied by forget,
// and an e-mail still waiting for them is dropped.
func TestForgetReachesTheLoop(t *testing.T) {
	ctx := context.Background()
	w := newTestWeb(t)
	w.addStaff("sam@denhaag.nl", RoleStaff, goodPassword)
	hers := w.loopFollowUp("Bakkerij De Molen")
	other := w.loopFollowUp("Kapsalon Knip")
	const answer = "Het terras komt aan de Weimarstraat 12, bel 06 1234 5678."
	const keptAnswer = "Aan de voorkant, bij de ingang."
	for f, a := range map[string]string{hers.ID: answer, other.ID: keptAnswer} {
		if err := w.store.AskQuestion(ctx, "sam@denhaag.nl", f, "Aan welke kant komt het terras?"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.AnswerQuestion(ctx, f, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
		if _, err := w.store.MoveFollowUp(ctx, "sam@denhaag.nl", hers.ID, st, "Vergunning aangevraagd."); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.store.PutSatisfaction(ctx, hers.ID, Satisfaction{Satisfied: true, Comment: "Dank, Noor (noor@example.nl)"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.db.Write.ExecContext(ctx, `INSERT INTO mail_queue (followup_id, event_id, to_addr, lang, created_at, next_at)
		VALUES (?, 0, 'noor@example.nl', 'nl', '2026-11-30T10:00:00.000000000Z', '2026-11-30T10:00:00.000000000Z')`, hers.ID); err != nil {
		t.Fatal(err)
	}

	export, err := w.store.ExportPerson(ctx, Person{Phone: "06 1234 5678"}, ActorCLI)
	if err != nil || len(export.Loop) != 3 {
		t.Fatalf("export-person: loop %+v %v, want both answers and her comment", export, err)
	}
	// The seed gives both visits her contact details: forget by her
	// number finds both answers, her comment and the queued e-mail.
	rep, err := w.store.ForgetPerson(ctx, Person{Phone: "06 1234 5678"}, true, ActorCLI)
	if err != nil || rep.Answers != 3 || rep.Mails != 1 {
		t.Fatalf("dry run: %+v %v, want two answers, one comment and one e-mail found", rep, err)
	}
	if rep, err = w.store.ForgetPerson(ctx, Person{Phone: "06 1234 5678"}, false, ActorCLI); err != nil {
		t.Fatal(err)
	}
	var answers, comments, mails int
	row := w.store.db.Write.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM followup_questions WHERE answer != ''),
		(SELECT count(*) FROM satisfaction WHERE comment != ''),
		(SELECT count(*) FROM mail_queue)`)
	if err := row.Scan(&answers, &comments, &mails); err != nil {
		t.Fatal(err)
	}
	if answers != 0 || comments != 0 || mails != 0 {
		t.Errorf("after forget: %d answers, %d satisfaction comments, %d e-mails left, want none (report %+v)", answers, comments, mails, rep)
	}
}
