package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
	infosync "infobus/sync"
)

// TestCodesEndToEnd follows a code from the office's enrollment string to
// a tablet's pool, onto a follow-up, and back to the office, which knows
// whose it is. A second follow-up with the same code that gets past the
// bus (its body changed behind its back) is set aside by the office.
func TestCodesEndToEnd(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	busDir := t.TempDir()
	m := startBusMain(t, busDir)
	e, err := o.Store.AddBus(ctx, "bus", o.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Through the string a person copies, as `infobus bus enroll` reads it.
	parsed, err := infosync.ParseEnrollment(e.String())
	if err != nil || parsed.CodePrefix == "" {
		t.Fatalf("enrollment string: %+v, %v; want a code prefix", parsed, err)
	}
	if err := m.Store.Enroll(ctx, parsed, false); err != nil {
		t.Fatal(err)
	}
	token := pairTablet(t, m)

	status, body := crewDo(t, m.URL, http.MethodGet, "/api/codes?n=2", token, nil)
	var pool struct {
		Codes []struct{ Code, URL string } `json:"codes"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &pool) != nil || len(pool.Codes) != 2 {
		t.Fatalf("GET /api/codes: got %d %s", status, body)
	}
	code := pool.Codes[0].Code
	if want := o.URL + "/f/" + code; pool.Codes[0].URL != want {
		t.Errorf("QR target %q, want %q", pool.Codes[0].URL, want)
	}
	// The office knows the code before any visit carries it.
	if info, err := o.Store.LookupCode(ctx, code); err != nil || info.FollowUpID != "" {
		t.Fatalf("office before sync: %+v, %v", info, err)
	}

	rng := rand.New(rand.NewPCG(8, 8))
	v := sampleVisit(rng, time.Now())
	v.FollowUps = []schema.FollowUp{{ID: newV7(), Kind: schema.KindInformation, Description: "Informatie sturen", Code: code}}
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+v.ID, token, v); status != http.StatusCreated {
		t.Fatalf("PUT: got %d %s", status, body)
	}
	other := sampleVisit(rng, time.Now())
	other.FollowUps = []schema.FollowUp{{ID: newV7(), Kind: schema.KindInformation, Description: "Terugbellen"}}
	if status, body := crewDo(t, m.URL, http.MethodPut, "/api/visits/"+other.ID, token, other); status != http.StatusCreated {
		t.Fatalf("PUT: got %d %s", status, body)
	}
	// The bus refuses the code for another follow-up itself.
	other.Rev, other.FollowUps[0].Code = 2, code
	status, body = crewDo(t, m.URL, http.MethodPut, "/api/visits/"+other.ID, token, other)
	if status != http.StatusConflict || !strings.Contains(string(body), `"code_taken"`) {
		t.Fatalf("PUT with a taken code: got %d %s, want 409 code_taken", status, body)
	}
	// An older binary, or a restored backup, let it through.
	tamperBody(t, busDir, other.ID, func(v *schema.Visit) { v.FollowUps[0].Code = code })

	r := syncNowOverHTTP(t, m, token)
	if r.Report.Pushed != 2 || r.Report.SetAside != 1 {
		t.Fatalf("sync: got %+v, want 2 pushed and 1 set aside", r.Report)
	}
	info, err := o.Store.LookupCode(ctx, code)
	if err != nil || info.FollowUpID != v.FollowUps[0].ID || info.VisitID != v.ID {
		t.Fatalf("office after sync: %+v, %v; want bound to %s", info, err, v.FollowUps[0].ID)
	}
	aside := getVisitView(t, m, token, other.ID)
	if aside.State != bus.StateSetAside || aside.SetAside.Reason != infosync.ReasonCodeTaken || aside.SetAside.Fields["followups[0].code"].NL == "" {
		t.Fatalf("got state %s, set aside %+v; want code_taken for followups[0].code", aside.State, aside.SetAside)
	}
	if _, err := o.Store.FindVisitByID(ctx, other.ID); !errors.Is(err, office.ErrNotFound) {
		t.Fatalf("the office stored the refused visit: %v", err)
	}
}

func TestCardsCommand(t *testing.T) {
	ctx := context.Background()
	o := startOffice(t, t.TempDir())
	busDir := t.TempDir()
	out := filepath.Join(t.TempDir(), "kaarten.html")
	var stdout, stderr bytes.Buffer
	args := []string{"bus", "cards", "--count", "9", "--out", out, "--data", busDir, "--contact", "Ondernemersloket, 14 070"}
	err := run(ctx, args, &stdout, &stderr)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(ue.msg, "enroll") {
		t.Fatalf("cards before enrollment: got %v, want a usage error pointing at enroll", err)
	}
	b := openBusStore(t, busDir, nil)
	enrollBus(t, o.Store, b, "bus", o.URL)
	b.Close()
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("bus cards: %v (%s)", err, stderr.String())
	}
	sheet, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(sheet), `<section class="card"`); n != 9 {
		t.Errorf("%d cards, want 9", n)
	}
	if !strings.Contains(string(sheet), "Ondernemersloket, 14 070") || !strings.Contains(stdout.String(), "9 cards on 2 pages") {
		t.Errorf("sheet lacks the contact line, or the report is off: %s", stdout.String())
	}
	for _, bad := range [][]string{
		{"bus", "cards", "--count", "0", "--out", out, "--data", busDir},
		{"bus", "cards", "--count", "401", "--out", out, "--data", busDir},
		{"bus", "cards", "--count", "3", "--data", busDir},
	} {
		if err := run(ctx, bad, &stdout, &stderr); !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a usage error", bad, err)
		}
	}
}
