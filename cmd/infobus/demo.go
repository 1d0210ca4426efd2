package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"infobus/bus"
)

// DefaultDemoData is where the demo keeps its databases, apart from a real
// bus's data.
const DefaultDemoData = "infobus-data/demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	busAddr := fs.String("bus-addr", bus.DefaultAddr, "address of the bus server")
	dataDir := fs.String("data", DefaultDemoData, "directory for the demo's databases")
	level := &logLevel{slog.LevelWarn}
	fs.Var(level, "log-level", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := newLogger(stderr, level.Level)
	busMain := BusMain{
		Config: bus.Config{Addr: *busAddr, DataDir: filepath.Join(*dataDir, "bus"), Version: version},
		Log:    log.With("part", "bus"),
	}
	if err := busMain.Run(ctx); err != nil {
		return err
	}
	pc, err := busMain.Store.NewPairingCode(ctx)
	if err != nil {
		return errors.Join(err, busMain.Close())
	}
	fmt.Fprintf(stdout, `Infobus demo is running (data in %s).

  Crew app, paired at once:  %s
      (the pairing code %s works once, for 10 minutes;
       a new one: go run ./cmd/infobus bus pair --data %s)
  Bus health:                %s/healthz
  Crew API:                  %s/api/visits (needs the device token the app gets)

Stop with Ctrl+C.
`, *dataDir, pairingURL(busMain.URL, pc.Code), pc.Code, busMain.Config.DataDir, busMain.URL, busMain.URL)
	var served error
	select {
	case <-ctx.Done():
	case served = <-busMain.Done():
	}
	fmt.Fprintln(stdout, "Stopping the demo.")
	return errors.Join(served, busMain.Close())
}
