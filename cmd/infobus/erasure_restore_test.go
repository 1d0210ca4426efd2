package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/office"
	"infobus/schema"
)

// TestOfficeRestoreErasesAgain: an entrepreneur is forgotten after the
// office's backup; after `infobus restore` their contact details are gone
// again before the office serves, also from the files' raw bytes, a visit
// the backup lacked lands without them when its bus sends it again, and
// the bus, which had not pulled the erasure yet, erases its copy too.
func TestOfficeRestoreErasesAgain(t *testing.T) {
	ctx := context.Background()
	addr, officeDir, busDir := freeAddr(t), t.TempDir(), t.TempDir()
	o := startOfficeAt(t, addr, officeDir)
	b := openBusStore(t, busDir, nil)
	enrollBus(t, o.Store, b, "Bus Privacy", "http://"+addr)
	before := personVisit("voor.de.kopie@example.nl", "0687652222")
	after := personVisit("na.de.kopie@example.nl", "0687653333")
	kept := personVisit("blijft.staan@example.nl", "0687654444")
	for _, v := range []*schema.Visit{&before, &kept} {
		if _, _, err := b.PutVisit(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	syncUntilDone(t, b)
	file := filepath.Join(t.TempDir(), "office.tar")
	if _, err := backup.Create(ctx, officeDir, file, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.PutVisit(ctx, &after); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	for _, v := range []schema.Visit{before, after} {
		if rep, err := o.Store.ForgetPerson(ctx, office.Person{Email: v.Contact.Email}, false, office.ActorCLI); err != nil || rep.Erased != 1 {
			t.Fatalf("forget %s: %+v %v", v.Contact.Email, rep, err)
		}
	}
	o.Close()

	var out, errOut strings.Builder
	if err := run(ctx, []string{"restore", file, "--data", officeDir}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v %s", err, errOut.String())
	}
	// before: its details erased again; after: marked erased, the backup
	// lacks the visit.
	if !strings.Contains(out.String(), "erased again: 2 visits") {
		t.Errorf("restore said %q, want it to name the 2 erasures it applied again", out.String())
	}
	raw := fileBytes(t, filepath.Join(officeDir, office.DatabaseFile))
	if bytes.Contains(raw, []byte(before.Contact.Email)) || bytes.Contains(raw, []byte(before.Contact.Phone)) {
		t.Error("the restored office's files hold the erased details again")
	}
	if !bytes.Contains(raw, []byte(kept.Contact.Email)) {
		t.Error("the restored office's files lack the kept address: the check above cannot fail")
	}
	if backup.ReplayPending(officeDir) {
		t.Error("the replay is still marked pending after the restore applied it")
	}

	o = startOfficeAt(t, addr, officeDir)
	if v, err := o.Store.FindVisitByID(ctx, before.ID); err != nil || v.Contact != nil {
		t.Errorf("visit from before the backup: %v, contact %+v, want it without contact details", err, v)
	}
	syncUntilDone(t, b)
	v, err := o.Store.FindVisitByID(ctx, after.ID)
	if err != nil {
		t.Fatalf("visit the backup lacked, sent again: %v", err)
	}
	if v.Contact != nil {
		t.Errorf("visit the backup lacked came back with contact details %+v", v.Contact)
	}
	if v, _ := o.Store.FindVisitByID(ctx, kept.ID); v == nil || v.Contact == nil {
		t.Error("the kept visit lost its contact details")
	}
	// The erasures reach the bus again: it had not pulled them before.
	for _, x := range []schema.Visit{before, after} {
		view, err := b.FindVisitByID(ctx, x.ID)
		if err != nil || view.Contact != nil {
			t.Errorf("visit %s on the bus: %v, contact %+v, want it erased", x.ID, err, view)
		}
	}
	if busRaw := fileBytes(t, filepath.Join(busDir, bus.DatabaseFile)); bytes.Contains(busRaw, []byte(after.Contact.Email)) {
		t.Error("the bus's files still hold the erased address")
	}
	o.Close()
	raw = fileBytes(t, filepath.Join(officeDir, office.DatabaseFile))
	for _, x := range []schema.Visit{before, after} {
		if bytes.Contains(raw, []byte(x.Contact.Email)) {
			t.Errorf("the office's files hold %s again after the bus sent its visit", x.Contact.Email)
		}
	}
}

// TestBusRestoreRemovesAgain: after the bus's backup the office erases
// one visit's details and the bus removes another's a week after the
// office had them; after `infobus restore` both are gone again, also from
// the files' raw bytes. Details the crew typed in again after an earlier
// removal, which the backup holds, stay.
func TestBusRestoreRemovesAgain(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	busDir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	b := openBusStore(t, busDir, clk.Now)
	enrollBus(t, o.Store, b, "Bus Herstel", o.URL)
	week := bus.DefaultKeepPersonal
	put := func(v *schema.Visit) {
		t.Helper()
		if _, _, err := b.PutVisit(ctx, v); err != nil {
			t.Fatal(err)
		}
	}

	// Retyped: removed a week after the office had it, then the crew typed
	// new details in (rev 2), before the backup.
	retyped := personVisit("oud.adres@example.nl", "0687655555")
	put(&retyped)
	syncUntilDone(t, b)
	clk.Advance(week + time.Hour)
	if n, err := b.ForgetContacts(ctx, week); err != nil || n != 1 {
		t.Fatalf("remove the first details: %d %v", n, err)
	}
	erased := personVisit("wordt.gewist@example.nl", "0687656666")
	removed := personVisit("gaat.van.de.bus@example.nl", "0687657777")
	put(&erased)
	put(&removed)
	syncUntilDone(t, b)
	clk.Advance(3 * 24 * time.Hour)
	retyped.Rev++
	retyped.Contact = &schema.Contact{Name: "Nieuwe Naam", Email: "nieuw.adres@example.nl", Phone: "0687658888"}
	put(&retyped)
	syncUntilDone(t, b)

	file := filepath.Join(t.TempDir(), "bus.tar.gz")
	if _, err := backup.Create(ctx, busDir, file, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Store.ForgetPerson(ctx, office.Person{Email: erased.Contact.Email}, false, office.ActorCLI); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	clk.Advance(5 * 24 * time.Hour) // removed's week is over, retyped's rev 2 is not
	if n, err := b.ForgetContacts(ctx, week); err != nil || n != 1 {
		t.Fatalf("remove after a week: %d %v, want one visit", n, err)
	}
	for _, id := range []string{erased.ID, removed.ID} {
		if v, err := b.FindVisitByID(ctx, id); err != nil || v.Contact != nil {
			t.Fatalf("visit %s before the restore: %v %+v, want it without details", id, err, v)
		}
	}
	b.Close()

	var out, errOut strings.Builder
	if err := run(ctx, []string{"restore", file, "--data", busDir}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "erased again: 2 visits") {
		t.Errorf("restore said %q, want it to name the 2 visits it cleared again", out.String())
	}
	raw := fileBytes(t, filepath.Join(busDir, bus.DatabaseFile))
	for _, v := range []schema.Visit{erased, removed} {
		if bytes.Contains(raw, []byte(v.Contact.Email)) || bytes.Contains(raw, []byte(v.Contact.Phone)) {
			t.Errorf("the restored bus's files hold %s again", v.Contact.Email)
		}
	}
	if !bytes.Contains(raw, []byte(retyped.Contact.Email)) {
		t.Error("the restored bus's files lack the details typed in again: the check above cannot fail")
	}

	b = openBusStore(t, busDir, clk.Now)
	for _, v := range []schema.Visit{erased, removed} {
		got, err := b.FindVisitByID(ctx, v.ID)
		if err != nil || got.Contact != nil || !got.ContactRemoved {
			t.Errorf("visit %s after the restore: %v %+v, want it without details", v.ID, err, got)
		}
	}
	got, err := b.FindVisitByID(ctx, retyped.ID)
	if err != nil || got.Contact == nil || got.Contact.Email != retyped.Contact.Email {
		t.Errorf("the visit with details typed in again: %v %+v, want them kept", err, got)
	}
	if n, err := b.ReplayErasures(ctx); err != nil || n != 0 {
		t.Errorf("a second replay: %d %v, want nothing changed", n, err)
	}
}

// TestOfficeRestoreErasesCommentsAgain: a feedback comment in which the
// entrepreneur left their number is emptied by forget after the backup;
// after a restore the comment is empty again, in the files' raw bytes
// too, while the rating stays for insight and another person's comment
// stays whole.
func TestOfficeRestoreErasesCommentsAgain(t *testing.T) {
	ctx := context.Background()
	addr, officeDir, busDir := freeAddr(t), t.TempDir(), t.TempDir()
	o := startOfficeAt(t, addr, officeDir)
	b := openBusStore(t, busDir, nil)
	enrollBus(t, o.Store, b, "Bus Opmerkingen", "http://"+addr)
	codes, err := b.ReserveCodes(ctx, bus.CardsDevice, 2)
	if err != nil {
		t.Fatal(err)
	}
	const phone = "0687659999"
	const comment = "Bel me op 06 8765 9999 als de vergunning er is."
	const kept = "Prettig gesprek, dank jullie wel voor de uitleg."
	v := personVisit("anna.opmerking@example.nl", phone)
	v.FollowUps[0].Code = string(codes[0])
	if _, _, err := b.PutVisit(ctx, &v); err != nil {
		t.Fatal(err)
	}
	syncUntilDone(t, b)
	for code, text := range map[schema.Code]string{codes[0]: comment, codes[1]: kept} {
		info, err := o.Store.LookupCode(ctx, string(code))
		if err != nil {
			t.Fatal(err)
		}
		in := office.FeedbackInput{Rating: 8, Comment: text, ContactPreference: schema.PreferNone}
		if _, _, err := o.Store.PutFeedback(ctx, code, info.BusID, in); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "office.tar")
	if _, err := backup.Create(ctx, officeDir, file, "test"); err != nil {
		t.Fatal(err)
	}
	if rep, err := o.Store.ForgetPerson(ctx, office.Person{Phone: phone}, false, office.ActorCLI); err != nil || rep.Feedback != 1 {
		t.Fatalf("forget: %+v %v, want one comment erased", rep, err)
	}
	o.Close()

	var out, errOut strings.Builder
	if err := run(ctx, []string{"restore", file, "--data", officeDir}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v %s", err, errOut.String())
	}
	raw := fileBytes(t, filepath.Join(officeDir, office.DatabaseFile))
	if bytes.Contains(raw, []byte(comment)) {
		t.Error("the restored office's files hold the erased comment again")
	}
	if !bytes.Contains(raw, []byte(kept)) {
		t.Error("the restored office's files lack the other comment: the check above cannot fail")
	}
	o = startOfficeAt(t, addr, officeDir)
	for code, want := range map[schema.Code]string{codes[0]: "", codes[1]: kept} {
		f, err := o.Store.FeedbackByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if f.Comment != want || f.Rating != 8 {
			t.Errorf("feedback on %s after the restore: comment %q rating %d, want %q and 8", code, f.Comment, f.Rating, want)
		}
	}
}
