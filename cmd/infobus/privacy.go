package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
)

// busFlagSet is the flag set of a bus admin verb, with the --data every
// one of them takes; officeFlagSet (office.go) is the office's.
func busFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := newFlagSet(name, stderr)
	return fs, fs.String("data", bus.DefaultDataDir, "the bus's data directory")
}

// openBusDataDir opens the bus database of an admin verb, as openOfficeStore
// does the office's.
func openBusDataDir(ctx context.Context, dataDir string, stderr io.Writer) (*bus.Store, error) {
	return openDataDir(dataDir, func() (*bus.Store, error) {
		return bus.OpenStore(ctx, dataDir, newLogger(stderr, slog.LevelWarn), nil)
	})
}

// personFlags adds the selectors of forget and export-person.
func personFlags(fs *flag.FlagSet, p *office.Person) {
	fs.StringVar(&p.Email, "email", "", "the entrepreneur's e-mail address")
	fs.StringVar(&p.Phone, "phone", "", "the entrepreneur's phone number")
	fs.StringVar(&p.KvK, "kvk", "", "the business's KvK number")
}

// personError turns a bad selector into a usage error.
func personError(err error) error {
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		return usagef("%s", ve.Fields["person"].EN)
	}
	return err
}

func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office forget", stderr)
	dryRun := fs.Bool("dry-run", false, "only say what would be erased")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var p office.Person
	personFlags(fs, &p)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openOfficeStore(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := store.ForgetPerson(ctx, p, *dryRun, office.ActorCLI)
	if err != nil {
		return personError(err)
	}
	if !*dryRun {
		// The erased bytes must be gone from the files, not only unlinked.
		if err := store.Compact(ctx); err != nil {
			return fmt.Errorf("erased, but the database files were not compacted (run forget again): %w", err)
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	verb, n := "Erased", rep.Erased
	if *dryRun {
		verb, n = "Would erase", len(rep.Visits)
	}
	fmt.Fprintf(stdout, "Found %d visit(s) about this person. %s contact details of %d visit(s) and %d set-aside record(s), %d feedback comment(s), %d answer(s) and satisfaction comment(s), and %d e-mail(s) not yet sent.\n",
		len(rep.Visits), verb, n, rep.SetAside, rep.Feedback, rep.Answers, rep.Mails)
	for _, id := range rep.Visits {
		fmt.Fprintln(stdout, "  visit", id)
	}
	if !*dryRun && len(rep.Visits) > 0 {
		fmt.Fprintln(stdout, "Each bus erases its copy at its next sync; later pushes of these visits land without contact details.")
	}
	return nil
}

func runExportPerson(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office export-person", stderr)
	var p office.Person
	personFlags(fs, &p)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openOfficeStore(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	out, err := store.ExportPerson(ctx, p, office.ActorCLI)
	if err != nil {
		return personError(err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func runRevokeBus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office revoke-bus", stderr)
	bus, err := parseFlagsWithArg(fs, args, "NAME or ID")
	if err != nil {
		return err
	}
	store, err := openOfficeStore(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	id, err := store.RevokeBus(ctx, bus, office.ActorCLI)
	if errors.Is(err, office.ErrNotFound) {
		return usagef("no bus called %q (see `infobus office list-buses`)", bus)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Bus %s revoked: its token no longer works. `infobus office reissue-bus %s` gives it a new one.\n", id, id)
	return nil
}

func runReissueBus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office reissue-bus", stderr)
	base := fs.String("url", "", "URL the bus reaches the office on (default: the one the running office recorded)")
	bus, err := parseFlagsWithArg(fs, args, "NAME or ID")
	if err != nil {
		return err
	}
	store, err := openOfficeStore(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	if *base == "" {
		if *base, err = settingOr(ctx, store, office.SettingPublicURL, "http://"+office.DefaultAddr); err != nil {
			return err
		}
	}
	e, err := store.ReissueBus(ctx, bus, strings.TrimSuffix(*base, "/"), office.ActorCLI)
	if errors.Is(err, office.ErrNotFound) {
		return usagef("no bus called %q (see `infobus office list-buses`)", bus)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Bus %s has a new token; the old one no longer works. On the bus laptop, run:\n\n  infobus bus enroll <the line below>\n\n", e.BusID)
	fmt.Fprintln(stdout, e.String())
	return nil
}

func runDevices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := busFlagSet("bus devices", stderr)
	asJSON := fs.Bool("json", false, "print the list as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openBusDataDir(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	devices, err := store.Devices(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(devices)
	}
	if len(devices) == 0 {
		fmt.Fprintln(stdout, "No tablets paired yet; pair one with `infobus bus pair`.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tNAME\tPAIRED AT\tLAST SEEN\tLAST VISIT STORED\tSTATE")
	for _, d := range devices {
		seen, delivered, state := d.LastSeen, d.LastDelivered, "paired"
		if seen == "" {
			seen = "never"
		}
		if delivered == "" {
			delivered = "never"
		}
		if d.RevokedAt != "" {
			state = "unpaired " + d.RevokedAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.PairedAt, seen, delivered, state)
	}
	return tw.Flush()
}

func runUnpair(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := busFlagSet("bus unpair", stderr)
	which, err := parseFlagsWithArg(fs, args, "DEVICE (id, start of id, or name)")
	if err != nil {
		return err
	}
	store, err := openBusDataDir(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	id, err := store.UnpairDevice(ctx, which)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return usagef("no tablet %q (see `infobus bus devices`)", which)
	case errors.Is(err, bus.ErrConflict):
		return usagef("%q matches more than one tablet; give more of the id", which)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "Tablet %s unpaired: its next request is refused, and the app asks to pair again. Visits it has not sent stay on the tablet.\n", id)
	return nil
}

func runRenewCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := busFlagSet("bus renew-ca", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	kept, err := bus.RenewCA(filepath.Join(*dataDir, "tls"), time.Now())
	if err != nil {
		return err
	}
	if len(kept) == 0 {
		fmt.Fprintln(stdout, "There was no local CA yet; the bus makes a constrained one at its next start.")
		return nil
	}
	fmt.Fprintf(stdout, "The old CA is retired (kept as %s). Restart the bus: it makes a new CA that can only vouch for the bus.\n"+
		"Then install the new CA on every tablet through /setup, and remove the old one there.\n", strings.Join(kept, ", "))
	return nil
}
