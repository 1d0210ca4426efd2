package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"text/tabwriter"

	"infobus/internal/backup"
	"infobus/office"
	"infobus/schema"
)

// OfficeMain runs an office server. End-to-end tests use it as the binary
// does.
type OfficeMain struct {
	Config office.Config
	Backup backup.Config // the nightly backup
	Log    *slog.Logger

	Store  *office.Store
	server *office.Server
	guard  *serverGuard
	// stopRetention ends the hourly retention job.
	stopRetention func()
	ln            net.Listener
	served        chan error
	// URL is where the server answers, known once Run has returned.
	URL string
}

// Run opens the store and starts serving; it returns once the server
// listens. Stop it with Close.
func (m *OfficeMain) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	if m.guard, err = guardDataDir(m.Config.DataDir, &m.Backup); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.guard.release()
		}
	}()
	store, err := openDataDir(m.Config.DataDir, func() (*office.Store, error) {
		return office.OpenStore(ctx, m.Config.DataDir, m.Log, nil)
	})
	if err != nil {
		return err
	}
	tlsConfig, err := m.Config.ServerTLS()
	if err != nil {
		store.Close()
		return &usageError{err.Error()}
	}
	ln, err := listen(m.Config.Addr, store)
	if err != nil {
		return err
	}
	m.URL = office.PublicURL(m.Config, ln.Addr())
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		if m.Config.PublicURL == "" {
			m.URL = "https://" + ln.Addr().String()
		}
	}
	m.Store, m.ln = store, ln
	m.server = office.NewServer(m.Config, store, m.Log)
	if err := m.server.RecordPublicURL(ctx, m.URL); err != nil {
		m.Close()
		return err
	}
	if m.stopRetention, err = store.RetentionJob(m.Config.Retention); err != nil {
		m.Close()
		return err
	}
	if err := m.server.StartJobs(); err != nil {
		m.Close()
		return err
	}
	if err := m.guard.startNightly(m.Config.DataDir, m.Backup, m.Config.Version, m.Log); err != nil {
		m.Close()
		return err
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(ln) }()
	m.Log.Info("office listening", "url", m.URL, "data", m.Config.DataDir, "version", m.Config.Version)
	return nil
}

// Done is closed when the server stops on its own; it yields the reason.
func (m *OfficeMain) Done() <-chan error { return m.served }

// Close lets requests in flight finish, then closes the database.
func (m *OfficeMain) Close() error {
	var errs []error
	if m.stopRetention != nil {
		m.stopRetention()
		m.stopRetention = nil
	}
	if m.server != nil {
		errs = append(errs, shutdownGracefully(m.server.Shutdown))
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	m.guard.release()
	return errors.Join(errs...)
}

func runOffice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "add-bus":
			return runAddBus(ctx, args[1:], stdout, stderr)
		case "list-buses":
			return runListBuses(ctx, args[1:], stdout, stderr)
		case "forget":
			return runForget(ctx, args[1:], stdout, stderr)
		case "export-person":
			return runExportPerson(ctx, args[1:], stdout, stderr)
		case "revoke-bus":
			return runRevokeBus(ctx, args[1:], stdout, stderr)
		case "reissue-bus":
			return runReissueBus(ctx, args[1:], stdout, stderr)
		case "add-staff":
			return runAddStaff(ctx, args[1:], stdout, stderr)
		}
	}
	m := OfficeMain{Config: office.Config{Version: version}}
	level := &logLevel{slog.LevelInfo}
	fs := newFlagSet("office", stderr)
	fs.StringVar(&m.Config.Addr, "addr", office.DefaultAddr, "address to listen on")
	fs.StringVar(&m.Config.DataDir, "data", office.DefaultDataDir, "directory for the office database")
	fs.StringVar(&m.Config.PublicURL, "public-url", "", "URL buses and entrepreneurs reach the office on (default: from --addr)")
	fs.StringVar(&m.Config.MetricsToken, "metrics-token", "", "bearer token /metrics asks for (default: none, and /metrics answers loopback only)")
	fs.StringVar(&m.Config.TLSCert, "tls-cert", "", "certificate chain (PEM) to serve HTTPS with; needs --tls-key")
	fs.StringVar(&m.Config.TLSKey, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.Func("trusted-proxy", "address or range of a reverse proxy whose X-Forwarded-* headers to believe (repeat or comma-separate)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				m.Config.TrustedProxies = append(m.Config.TrustedProxies, p)
			}
		}
		return nil
	})
	fs.DurationVar(&m.Config.Retention, "retention", office.DefaultRetention, "how long contact details stay after a visit's last follow-up closed")
	fs.DurationVar(&m.Config.SessionIdle, "session-idle", office.DefaultSessionIdle, "a staff session ends after this long without a request")
	fs.DurationVar(&m.Config.SessionAbsolute, "session-absolute", office.DefaultSessionAbsolute, "a staff session ends this long after logging in")
	fs.StringVar(&m.Config.ReportSchedule, "report-schedule", office.DefaultReportSchedule, "when the monthly report is made (cron, office time)")
	fs.StringVar(&m.Config.SMTPAddr, "smtp-addr", "", "SMTP server (host:port) that mails the monthly report; empty: not mailed")
	fs.StringVar(&m.Config.SMTPFrom, "smtp-from", "", "sender address of the monthly report")
	fs.StringVar(&m.Config.SMTPUser, "smtp-user", "", "SMTP login, if the server wants one")
	fs.StringVar(&m.Config.SMTPPassword, "smtp-password", "", "SMTP password (prefer INFOBUS_SMTP_PASSWORD)")
	fs.StringVar(&m.Config.ReportTo, "report-to", "", "recipients of the monthly report, comma-separated")
	fs.Var(level, "log-level", "debug, info, warn or error")
	backupFlags(fs, &m.Backup)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m.Log = newLogger(stderr, level.Level)
	return runUntilStopped(ctx, &m, m.Log)
}

func runAddBus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office add-bus", stderr)
	base := fs.String("url", "", "URL the bus reaches the office on (default: the one the running office recorded)")
	name, err := parseFlagsWithArg(fs, args, "NAME")
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
	e, err := store.AddBus(ctx, name, strings.TrimSuffix(*base, "/"))
	if errors.Is(err, office.ErrConflict) {
		return usagef("a bus called %q is already enrolled; pick another name (see `infobus office list-buses`)", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Bus %q enrolled with id %s. On the bus laptop, run:\n\n  infobus bus enroll <the line below>\n\n"+
		"The line holds the bus's secret token: pass it on as you would a password. The office keeps only its hash.\n\n", name, e.BusID)
	fmt.Fprintln(stdout, e.String())
	return nil
}

func runAddStaff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office add-staff", stderr)
	role := fs.String("role", office.RoleStaff, "staff or admin")
	email, err := parseFlagsWithArg(fs, args, "EMAIL")
	if err != nil {
		return err
	}
	store, err := openOfficeStore(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	base, err := settingOr(ctx, store, office.SettingPublicURL, "http://"+office.DefaultAddr)
	if err != nil {
		return err
	}
	st, token, err := store.AddStaff(ctx, office.ActorCLI, email, *role)
	var ve *schema.ValidationError
	switch {
	case errors.Is(err, office.ErrConflict):
		return usagef("%s already has an account; an admin can send a new link from the staff page", office.NormalizeEmail(email))
	case errors.As(err, &ve):
		return usagef("office add-staff: %s", ve.Error())
	case err != nil:
		return err
	}
	fmt.Fprintf(stderr, "Account %s (%s) added. Give this one-time link to the person; it works once, for 24 hours:\n\n", st.Email, st.Role)
	fmt.Fprintln(stdout, office.SetPasswordURL(base, token))
	return nil
}

func runListBuses(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir := officeFlagSet("office list-buses", stderr)
	asJSON := fs.Bool("json", false, "print the list as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openOfficeStore(ctx, *dataDir, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	buses, err := store.Buses(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if buses == nil {
			buses = []office.Bus{}
		}
		return json.NewEncoder(stdout).Encode(buses)
	}
	if len(buses) == 0 {
		fmt.Fprintln(stdout, "No buses enrolled yet; add one with `infobus office add-bus NAME`.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tENROLLED\tLAST PUSH\tVISITS\tSET ASIDE")
	for _, b := range buses {
		last := b.LastPushAt
		if last == "" {
			last = "never"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", b.Name, b.ID, b.EnrolledAt, last, b.Visits, b.SetAside)
	}
	return tw.Flush()
}

// officeFlagSet is the flag set of an office admin verb, with the --data
// every one of them takes.
func officeFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := newFlagSet(name, stderr)
	return fs, fs.String("data", office.DefaultDataDir, "the office's data directory")
}

func openOfficeStore(ctx context.Context, dataDir string, stderr io.Writer) (*office.Store, error) {
	return openDataDir(dataDir, func() (*office.Store, error) {
		return office.OpenStore(ctx, dataDir, newLogger(stderr, slog.LevelWarn), nil)
	})
}

// parseFlagsWithArg parses a verb that takes one argument besides flags,
// before or after them, such as `add-bus NAME --data DIR`.
func parseFlagsWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var (
		arg  string
		rest []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if arg != "" {
				return "", usagef("%s: one %s only, got %q and %q", fs.Name(), what, arg, a)
			}
			arg = a
			continue
		}
		rest = append(rest, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			i++
			rest = append(rest, args[i])
		}
	}
	if err := parseFlags(fs, rest); err != nil {
		return "", err
	}
	if arg == "" {
		return "", usagef("%s: %s is required", fs.Name(), what)
	}
	return arg, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
