package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"infobus/bus"
	"infobus/office"
	infosync "infobus/sync"
)

// Demo settings.
const (
	// DefaultDemoData is where the demo keeps its databases, apart from a
	// real bus's and office's data.
	DefaultDemoData = "infobus-data/demo"
	// demoSchedule is short so that a newcomer sees records move.
	demoSchedule = "@every 15s"
	demoBusName  = "Demobus"
	demoVisits   = 12
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	busAddr := fs.String("bus-addr", bus.DefaultAddr, "address of the bus server")
	officeAddr := fs.String("office-addr", office.DefaultAddr, "address of the office server")
	dataDir := fs.String("data", DefaultDemoData, "directory for the demo's databases")
	level := &logLevel{slog.LevelWarn}
	fs.Var(level, "log-level", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := newLogger(stderr, level.Level)
	officeMain := OfficeMain{
		Config: office.Config{Addr: *officeAddr, DataDir: filepath.Join(*dataDir, "office"), Version: version},
		Log:    log.With("part", "office"),
	}
	if err := officeMain.Run(ctx); err != nil {
		return err
	}
	busMain := BusMain{
		Config: bus.Config{Addr: *busAddr, DataDir: filepath.Join(*dataDir, "bus"), Version: version},
		Sync:   bus.SyncConfig{Schedule: demoSchedule},
		Log:    log.With("part", "bus"),
	}
	if err := busMain.Run(ctx); err != nil {
		return errors.Join(err, officeMain.Close())
	}
	stopAll := func() error { return errors.Join(busMain.Close(), officeMain.Close()) }
	if err := demoEnroll(ctx, busMain.Store, officeMain.Store, officeMain.URL); err != nil {
		return errors.Join(err, stopAll())
	}
	added, err := demoSampleVisits(ctx, busMain.Store)
	if err != nil {
		return errors.Join(err, stopAll())
	}
	codeLink, err := demoCodeLink(ctx, busMain.Store, officeMain.URL)
	if err != nil {
		return errors.Join(err, stopAll())
	}
	pc, err := busMain.Store.NewPairingCode(ctx)
	if err != nil {
		return errors.Join(err, stopAll())
	}
	fmt.Fprintf(stdout, `Infobus demo is running (data in %s).

  Crew app, paired at once:  %s
      (the pairing code %s works once, for 10 minutes;
       a new one: go run ./cmd/infobus bus pair --data %s)
  Bus health:                %s/healthz
  Crew API:                  %s/api/visits (needs the device token the app gets)
  Office health:             %s/healthz (the office's sync API; staff pages come later)
  Entrepreneur's page:       %s
      (what the QR code on a sample follow-up opens; shows the
       follow-up once the first sync has brought it to the office)

The bus is enrolled with the office and syncs every 15 seconds (%d sample
visits added this time); watch it with
  go run ./cmd/infobus office list-buses --data %s

Stop with Ctrl+C.
`, *dataDir, pairingURL(busMain.URL, pc.Code), pc.Code, busMain.Config.DataDir, busMain.URL, busMain.URL,
		officeMain.URL, codeLink, added, officeMain.Config.DataDir)
	// Sync at once, then play office staff once: close one follow-up so
	// that the next sync shows the crew a handled visit.
	go demoFirstSync(ctx, busMain.Syncer, busMain.Store, officeMain.Store, log)
	var served error
	select {
	case <-ctx.Done():
	case served = <-busMain.Done():
	case served = <-officeMain.Done():
	}
	fmt.Fprintln(stdout, "Stopping the demo.")
	return errors.Join(served, stopAll())
}

// demoEnroll enrolls the bus with the office unless the office already
// knows it; then it only makes sure the bus has the office's current URL.
func demoEnroll(ctx context.Context, b *bus.Store, o *office.Store, officeURL string) error {
	e, err := b.Enrollment(ctx)
	switch {
	case err == nil:
		if _, err := o.CodeKey(ctx, e.BusID); err == nil {
			e.OfficeURL = officeURL
			return b.Enroll(ctx, e, false)
		} else if !errors.Is(err, office.ErrNotFound) {
			return err
		}
	case !errors.Is(err, infosync.ErrNotEnrolled):
		return err
	}
	// A fresh office, or one that lost the bus: enroll under a free name.
	name := demoBusName
	for i := 2; ; i++ {
		e, err = o.AddBus(ctx, name, officeURL)
		if !errors.Is(err, office.ErrConflict) {
			break
		}
		name = fmt.Sprintf("%s %d", demoBusName, i)
	}
	if err != nil {
		return err
	}
	return b.Enroll(ctx, e, true)
}

// demoSampleVisits gives an empty bus a few visits and returns how many.
func demoSampleVisits(ctx context.Context, b *bus.Store) (int, error) {
	seq, err := b.LatestSeq(ctx)
	if err != nil || seq > 0 {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for range demoVisits {
		v := sampleVisit(rng, time.Now())
		// Real codes, as a card or a tablet's pool gives them.
		codes, err := b.ReserveCodes(ctx, bus.CardsDevice, len(v.FollowUps))
		if err != nil {
			return 0, err
		}
		for i := range v.FollowUps {
			v.FollowUps[i].Code = string(codes[i])
		}
		if _, _, err := b.PutVisit(ctx, &v); err != nil {
			return 0, err
		}
	}
	return demoVisits, nil
}

func demoFirstSync(ctx context.Context, y *bus.Syncer, b *bus.Store, o *office.Store, log *slog.Logger) {
	if _, err := y.SyncNow(ctx); err != nil {
		log.Warn("demo: first sync failed; the schedule tries again", "err", err)
		return
	}
	views, _, err := b.FindVisits(ctx, bus.VisitFilter{Limit: 100})
	if err != nil {
		return
	}
	for _, v := range views {
		if len(v.FollowUps) == 0 || v.FollowUps[0].Status != "" {
			continue
		}
		for _, f := range v.FollowUps {
			if _, err := o.SetFollowUpStatus(ctx, f.ID, "done", "We hebben de ondernemer teruggebeld en de aanvraag samen doorgenomen."); err != nil {
				log.Warn("demo: could not close a follow-up", "err", err)
				return
			}
		}
		// Pull at once, so that the tablet opened from the pairing link
		// shows the handled visit among the day's visits.
		if _, err := y.SyncNow(ctx); err != nil {
			log.Warn("demo: second sync failed; the schedule tries again", "err", err)
		}
		return
	}
}

// demoCodeLink is the entrepreneur's page of a sample follow-up's code.
func demoCodeLink(ctx context.Context, b *bus.Store, officeURL string) (string, error) {
	views, _, err := b.FindVisits(ctx, bus.VisitFilter{Limit: 100})
	if err != nil {
		return "", err
	}
	for _, v := range views {
		for _, f := range v.FollowUps {
			if f.Code != "" {
				return strings.TrimSuffix(officeURL, "/") + "/f/" + f.Code, nil
			}
		}
	}
	return "(no sample follow-up has a code)", nil
}
