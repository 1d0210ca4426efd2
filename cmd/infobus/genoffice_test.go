package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"infobus/office"
	"infobus/schema"
	infosync "infobus/sync"
)

// TestGenerateOfficeDB makes an office database the size the programme
// expects after a few years, for measuring pages where they will be used
// rather than on an empty database:
//
//	INFOBUS_GEN_OFFICE=DIR go test ./cmd/infobus -run TestGenerateOfficeDB -v -timeout 60m
//
// (task gen:office). DIR receives office.db. INFOBUS_GEN_VISITS (default
// 1,000,000), INFOBUS_GEN_FOLLOWUPS (default 300,000) and
// INFOBUS_GEN_FEEDBACK (default 100,000) set the sizes; follow-ups carry
// real codes of their bus.
// Records go through the same check and store path as a real push, from
// four buses, spread over the two years before now.
func TestGenerateOfficeDB(t *testing.T) {
	dir := os.Getenv("INFOBUS_GEN_OFFICE")
	if dir == "" {
		t.Skip("a generator, not a test: set INFOBUS_GEN_OFFICE=DIR to make an office database there")
	}
	visits := envInt("INFOBUS_GEN_VISITS", 1_000_000)
	followUps := envInt("INFOBUS_GEN_FOLLOWUPS", 300_000)
	if _, err := os.Stat(filepath.Join(dir, "office.db")); err == nil {
		t.Fatalf("%s already holds office.db; choose an empty directory", dir)
	}
	ctx := context.Background()
	store, err := office.OpenStore(ctx, dir, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g := newOfficeGenerator(t, store, 4)
	start := time.Now()
	g.visits(ctx, visits, followUps)
	t.Logf("%d visits with %d follow-ups in %s", visits, g.followUps, time.Since(start).Round(time.Second))
	start = time.Now()
	n := g.feedback(ctx, envInt("INFOBUS_GEN_FEEDBACK", 100_000))
	t.Logf("%d feedbacks in %s", n, time.Since(start).Round(time.Second))
}

// officeGenerator pushes sample visits into an office store.
type officeGenerator struct {
	tb        testing.TB
	store     *office.Store
	buses     []infosync.Enrollment
	rng       *rand.Rand
	followUps int
	codes     [][]schema.Code // per bus, the codes its follow-ups carry
	issued    map[schema.Code]bool
}

func newOfficeGenerator(tb testing.TB, store *office.Store, buses int) *officeGenerator {
	g := &officeGenerator{tb: tb, store: store, rng: rand.New(rand.NewPCG(7, 2026)), codes: make([][]schema.Code, buses), issued: map[schema.Code]bool{}}
	for i := range buses {
		e, err := store.AddBus(context.Background(), "Bus "+string(rune('A'+i)), "http://127.0.0.1:8090")
		if err != nil {
			tb.Fatal(err)
		}
		g.buses = append(g.buses, e)
	}
	return g
}

// visits pushes n visits carrying about followUps follow-ups in all, in
// batches as a bus sends them, oldest first.
func (g *officeGenerator) visits(ctx context.Context, n, followUps int) {
	const span = 2 * 365 * 24 * time.Hour
	begin := time.Now().Add(-span)
	seqs := make([]int64, len(g.buses))
	var batch []json.RawMessage
	bus := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		e := g.buses[bus]
		recs := make([]infosync.Incoming, len(batch))
		for i, raw := range batch {
			recs[i] = infosync.CheckRecord(i, raw, e.BusID)
			if recs[i].Refused != nil {
				g.tb.Fatalf("sample visit refused: %+v", recs[i].Refused)
			}
		}
		seqs[bus] += int64(len(batch))
		if err := g.store.CommitPush(ctx, e.BusID, &infosync.Batch{ThroughSeq: seqs[bus], Records: recs}); err != nil {
			g.tb.Fatal(err)
		}
		batch = batch[:0]
		bus = (bus + 1) % len(g.buses)
	}
	for i := range n {
		at := begin.Add(time.Duration(float64(span) * float64(i) / float64(n)))
		v := sampleVisit(g.rng, at)
		v.BusID = g.buses[bus].BusID
		// The sample gives a visit one follow-up on average; keeping each
		// with probability followUps/n lands near the total asked for.
		kept := v.FollowUps[:0]
		for _, f := range v.FollowUps {
			if g.rng.Float64()*float64(n) < float64(followUps) {
				kept = append(kept, f)
			}
		}
		v.FollowUps = kept
		g.followUps += len(kept)
		for j := range kept {
			c := g.code(bus)
			kept[j].Code = string(c)
			g.codes[bus] = append(g.codes[bus], c)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			g.tb.Fatal(err)
		}
		batch = append(batch, raw)
		if len(batch) == infosync.MaxPushRecords {
			flush()
		}
	}
	flush()
}

// code issues a new follow-up code of bus i, as its ReserveCodes does:
// never one issued before, which the office would refuse as taken (with
// 2³⁰ random parts, some of 75,000 draws a bus clash). It remembers the
// codes of follow-ups for feedback.
func (g *officeGenerator) code(i int) schema.Code {
	for {
		c, err := schema.RandomCode(g.buses[i].CodePrefix, g.buses[i].CodeKey)
		if err != nil {
			g.tb.Fatal(err)
		}
		if !g.issued[c] {
			g.issued[c] = true
			return c
		}
	}
}

// feedback gives about n feedbacks: nine in ten on codes whose follow-up
// the office has, the rest on codes whose visit has not arrived. It
// returns how many it stored.
func (g *officeGenerator) feedback(ctx context.Context, n int) int {
	comments := []string{"", "", "Fijn dat de bus langskwam.", "Duidelijk antwoord, dank u.", "Ik wacht nog steeds op een reactie.",
		"Graag sneller terugbellen.", "Prima geholpen."}
	prefs := []string{schema.PreferNone, schema.PreferNone, schema.PreferPhone, schema.PreferEmail}
	stored := 0
	for i, e := range g.buses {
		want := n / len(g.buses)
		seen := map[schema.Code]bool{}
		var codes []schema.Code
		for len(codes) < want*9/10 && len(codes) < len(g.codes[i]) {
			c := g.codes[i][g.rng.IntN(len(g.codes[i]))]
			if !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
		for len(codes) < want {
			codes = append(codes, g.code(i))
		}
		in := make([]office.FeedbackInput, len(codes))
		for j := range in {
			in[j] = office.FeedbackInput{Rating: 1 + g.rng.IntN(10), Comment: comments[g.rng.IntN(len(comments))],
				ContactPreference: prefs[g.rng.IntN(len(prefs))]}
		}
		for len(codes) > 0 {
			k := min(len(codes), 5000)
			if err := g.store.PutFeedbacks(ctx, e.BusID, codes[:k], in[:k]); err != nil {
				g.tb.Fatal(err)
			}
			codes, in, stored = codes[k:], in[k:], stored+k
		}
	}
	return stored
}
