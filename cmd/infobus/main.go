// Command infobus runs the information bus: the van's server (bus), the
// central office's server (office), and the tools around them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
)

// version and commit are set at build time with -ldflags "-X
// main.version=… -X main.commit=…" (task release).
var (
	version = "dev"
	commit  = "unknown"
)

// usageError is a mistake in how the command was called: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

const usage = `infobus — the information bus's servers and tools

Usage:
  infobus demo [--bus-addr A] [--office-addr A] [--data DIR]   everything on loopback, for a first look
  infobus bus [--addr A] [--data DIR] [--public-url URL]       the van's server; HTTPS off loopback
              [--tls-cert FILE --tls-key FILE]                 (own CA, see /setup; or a provided certificate)
              [--sync-schedule SPEC]                           when to sync with the office (default @every 1m)
              [--keep-personal DURATION]                       contact details stay this long after the office has them (default 168h)
  infobus bus pair [--data DIR] [--url URL] [--json]           a one-time code to pair a tablet
  infobus bus enroll STRING [--data DIR] [--force]             connect the bus to an office
  infobus bus cards --count N --out FILE [--data DIR]          an A4 sheet of cards with new codes, to print
              [--contact TEXT]                                 the contact line on each card
  infobus bus devices [--data DIR] [--json]                    the paired tablets: paired at, last seen
  infobus bus unpair DEVICE [--data DIR]                       cut a lost tablet off at once
  infobus bus renew-ca [--data DIR]                            replace a CA without name constraints (tablets install it again)
  infobus sync [--data DIR] [--json]                           sync a bus with its office now
  infobus office [--addr A] [--data DIR] [--public-url URL]    the central office's server
              [--tls-cert FILE --tls-key FILE]                 serve HTTPS (or run behind a proxy: --trusted-proxy ADDR)
              [--retention DURATION]                           contact details go this long after the last follow-up closed (default 4320h)
  infobus office add-bus NAME [--data DIR] [--url URL]         enroll a bus; prints its enrollment string
  infobus office list-buses [--data DIR] [--json]              the enrolled buses
  infobus office revoke-bus NAME|ID [--data DIR]               the bus's token stops working
  infobus office reissue-bus NAME|ID [--data DIR] [--url URL]  a new token (and enrollment string) for the bus
  infobus office forget --email X|--phone X|--kvk X [--dry-run]  erase one entrepreneur's contact details
  infobus office export-person --email X|--phone X|--kvk X     everything held about one entrepreneur, as JSON
  infobus office add-staff EMAIL --role staff|admin [--data DIR]  add an office account; prints a one-time link
  infobus backup --data DIR [--out FILE]                      a consistent copy of a bus's or office's data, while it runs
  infobus restore FILE --data DIR                             check a backup and put it in place (server stopped)
  infobus doctor [--data DIR] [--json]                        check a data dir and say what to do
  infobus version                                             print the version and commit

Every flag can also be set in the environment: --data is INFOBUS_DATA,
--public-url is INFOBUS_PUBLIC_URL, and so on.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startCPUProfile(os.Getenv("INFOBUS_CPUPROFILE"))
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "infobus:", err)
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	os.Exit(1)
}

// startCPUProfile writes a Go CPU profile to PREFIX.PID until the command
// ends, for finding where a server's time goes while a benchmark drives it
// from outside (INFOBUS_CPUPROFILE=/tmp/cpu task bench:sync). Without a
// prefix it does nothing.
func startCPUProfile(prefix string) (stop func()) {
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "infobus: no CPU profile:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "bus":
		if len(args) > 1 && args[1] == "pair" {
			return runPair(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "enroll" {
			return runEnroll(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "devices" {
			return runDevices(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "unpair" {
			return runUnpair(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "renew-ca" {
			return runRenewCA(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "cards" {
			return runCards(ctx, args[2:], stdout, stderr)
		}
		return runBus(ctx, args[1:], stderr)
	case "office":
		return runOffice(ctx, args[1:], stdout, stderr)
	case "sync":
		return runSync(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], stdout, stderr)
	case "doctor":
		return runDoctor(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "infobus %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", args[0])
}

// newFlagSet makes a flag set that reports errors instead of exiting, so
// that main decides the exit code.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, then takes every flag not given on the command
// line from the environment: --sync-schedule from INFOBUS_SYNC_SCHEDULE.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "INFOBUS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if setErr := f.Value.Set(v); setErr != nil {
				err = usagef("%s=%q: %v", env, v, setErr)
			}
		}
	})
	return err
}

// logLevel is a flag value for slog levels.
type logLevel struct{ slog.Level }

func (l *logLevel) Set(s string) error { return l.UnmarshalText([]byte(s)) }

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// runningServer is a server Main: BusMain or OfficeMain.
type runningServer interface {
	Run(ctx context.Context) error
	Done() <-chan error
	Close() error
}

// runUntilStopped starts m, waits for a signal (ctx) or for the server to
// stop on its own, then closes it cleanly.
func runUntilStopped(ctx context.Context, m runningServer, log *slog.Logger) error {
	if err := m.Run(ctx); err != nil {
		return err
	}
	var served error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case served = <-m.Done():
	}
	return errors.Join(served, m.Close())
}
