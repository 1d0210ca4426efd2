package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/schema"
	infosync "infobus/sync"
)

// shutdownGrace is how long requests in flight get to finish on shutdown.
const shutdownGrace = 10 * time.Second

// BusMain runs a bus server. End-to-end tests use it as the binary does.
type BusMain struct {
	Config bus.Config
	Sync   bus.SyncConfig
	Backup backup.Config // the nightly backup
	Log    *slog.Logger
	Now    func() time.Time // the bus's clock; nil means time.Now

	Store     *bus.Store
	Syncer    *bus.Syncer
	Forgetter *bus.Forgetter
	server    *bus.Server
	guard     *serverGuard
	ln        net.Listener
	served    chan error
	// URL is where the server answers, known once Run has returned.
	URL string
}

// Run opens the store and starts serving; it returns once the server
// listens. Stop it with Close.
func (m *BusMain) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	if err := m.Sync.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	if m.Sync.Build == "" {
		m.Sync.Build = m.Config.Version
	}
	if m.guard, err = guardDataDir(m.Config.DataDir, &m.Backup); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.guard.release()
		}
	}()
	store, err := openDataDir(m.Config.DataDir, func() (*bus.Store, error) {
		return bus.OpenStore(ctx, m.Config.DataDir, m.Log, m.Now)
	})
	if err != nil {
		return err
	}
	ln, err := listen(m.Config.Addr, store)
	if err != nil {
		return err
	}
	m.Store, m.ln = store, ln
	if m.Config.ServesTLS() {
		if err := m.startTLS(ctx); err != nil {
			ln.Close()
			store.Close()
			m.Store, m.ln = nil, nil
			return err
		}
	}
	m.server = bus.NewServer(m.Config, store, m.Log)
	m.URL = bus.PublicURL(m.Config, ln.Addr())
	if err := m.server.RecordPublicURL(ctx, m.URL); err != nil {
		m.Close()
		return err
	}
	m.Syncer = bus.NewSyncer(store, m.Sync, m.Log)
	m.server.SetSyncer(m.Syncer)
	m.Forgetter = bus.NewForgetter(store, m.Config.KeepPersonal, m.Log)
	m.Syncer.AfterSuccess = m.Forgetter.Kick
	if err := m.Forgetter.Start(); err != nil {
		m.Close()
		return err
	}
	if err := m.Syncer.Start(); err != nil {
		m.Close()
		return err
	}
	if err := m.guard.startNightly(m.Config.DataDir, m.Backup, m.Config.Version, m.Log); err != nil {
		m.Close()
		return err
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.ln) }()
	m.Log.Info("bus listening", "url", m.URL, "data", m.Config.DataDir, "version", m.Config.Version)
	return nil
}

// startTLS opens the HTTPS material, settles the public URL and wraps the
// listener. Off loopback, tablets need HTTPS for the app's service worker.
func (m *BusMain) startTLS(ctx context.Context) error {
	recorded, err := m.Store.RecordedPublicURL(ctx)
	if err != nil {
		return err
	}
	t, err := bus.OpenTLS(bus.TLSOptions{
		Dir:         filepath.Join(m.Config.DataDir, "tls"),
		CertFile:    m.Config.TLSCert,
		KeyFile:     m.Config.TLSKey,
		Listen:      m.ln.Addr(),
		PublicURL:   m.Config.PublicURL,
		RecordedURL: recorded,
		Log:         m.Log,
	})
	if err != nil {
		return &usageError{err.Error()}
	}
	m.Config.PublicURL, m.Config.TLS = t.PublicURL(), t
	m.ln = tls.NewListener(m.ln, t.Config())
	if t.PublicURLDerived() {
		m.Log.Info("public URL derived; tablets' data belongs to it, so it is kept across restarts; pin another with --public-url",
			"url", t.PublicURL())
	}
	if t.Provided() {
		m.Log.Info("serving the provided certificate", "file", m.Config.TLSCert)
	} else {
		m.Log.Info("tablets install the bus's CA once: open the setup page on this laptop and scan its QR",
			"setup", strings.TrimSuffix(t.PublicURL(), "/")+"/setup", "ca", t.CAName(), "sha256", t.CAFingerprint())
	}
	return nil
}

// Done is closed when the server stops on its own; it yields the reason.
func (m *BusMain) Done() <-chan error { return m.served }

// Close lets requests in flight finish, then closes the database cleanly.
func (m *BusMain) Close() error {
	var errs []error
	if m.Syncer != nil {
		m.Syncer.Stop()
	}
	if m.Forgetter != nil {
		m.Forgetter.Stop()
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

// checkDataDir makes sure dir exists and takes files, so that a typo or a
// read-only mount is reported at start, not at the first visit.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return usagef("data dir %s is not usable: %v", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return usagef("data dir %s is not writable: %v", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// openDataDir opens a store for a command that works on a data dir beside
// a running server, or without one: the dir must be usable, and a failure
// names it.
func openDataDir[S any](dataDir string, open func() (S, error)) (S, error) {
	var none S
	if err := checkDataDir(dataDir); err != nil {
		return none, err
	}
	s, err := open()
	if err != nil {
		return none, usagef("data dir %s: %v", dataDir, err)
	}
	return s, nil
}

// shutdownGracefully gives requests in flight shutdownGrace to finish.
func shutdownGracefully(shutdown func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return shutdown(ctx)
}

// listen listens on a server's --addr. On failure it closes store, which
// the server would have used, and names the setting at fault.
func listen(addr string, store io.Closer) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		store.Close()
		return nil, usagef("--addr %s: %v", addr, err)
	}
	return ln, nil
}

// settingOr returns a setting the running server recorded, or fallback
// when it recorded none.
func settingOr(ctx context.Context, store interface {
	Setting(ctx context.Context, key string) (string, error)
}, key, fallback string) (string, error) {
	v, err := store.Setting(ctx, key)
	if errors.Is(err, schema.ErrNotFound) {
		return fallback, nil
	}
	return v, err
}

func busFlags(name string, stderr io.Writer, m *BusMain, level *logLevel) *flag.FlagSet {
	cfg, syncCfg := &m.Config, &m.Sync
	fs := newFlagSet(name, stderr)
	fs.StringVar(&syncCfg.Schedule, "sync-schedule", bus.DefaultSyncSchedule, "when to sync with the office: a cron spec such as @every 1m or */5 * * * *")
	fs.StringVar(&cfg.Addr, "addr", bus.DefaultAddr, "address to listen on")
	fs.StringVar(&cfg.DataDir, "data", bus.DefaultDataDir, "directory for the bus database")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "URL tablets reach the bus on (default: from --addr; off loopback the first LAN address, then kept)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "certificate chain (PEM) to serve instead of the bus's own CA; needs --tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", "", "bearer token /metrics asks for (default: none, and /metrics answers loopback only)")
	fs.DurationVar(&cfg.KeepPersonal, "keep-personal", bus.DefaultKeepPersonal, "how long contact details stay on the bus after the office has them (0s: at the next run)")
	fs.StringVar(&cfg.CardContact, "card-contact", bus.DefaultCardContact, "the contact line on cards printed from the tablet app")
	fs.Var(level, "log-level", "debug, info, warn or error")
	backupFlags(fs, &m.Backup)
	return fs
}

func runBus(ctx context.Context, args []string, stderr io.Writer) error {
	m := BusMain{Config: bus.Config{Version: version}}
	level := &logLevel{slog.LevelInfo}
	if err := parseFlags(busFlags("bus", stderr, &m, level), args); err != nil {
		return err
	}
	if m.Config.KeepPersonal == 0 {
		m.Config.KeepPersonal = bus.ForgetAtOnce
	}
	m.Log = newLogger(stderr, level.Level)
	return runUntilStopped(ctx, &m, m.Log)
}

func runPair(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bus pair", stderr)
	dataDir := fs.String("data", bus.DefaultDataDir, "the bus's data directory")
	base := fs.String("url", "", "URL tablets reach the bus on (default: the one the running bus recorded)")
	asJSON := fs.Bool("json", false, "print {url, pairing_code, expires_at} as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openDataDir(*dataDir, func() (*bus.Store, error) {
		return bus.OpenStore(ctx, *dataDir, newLogger(stderr, slog.LevelWarn), nil)
	})
	if err != nil {
		return err
	}
	defer store.Close()
	if *base == "" {
		if *base, err = settingOr(ctx, store, "public_url", "http://"+bus.DefaultAddr); err != nil {
			return err
		}
	}
	pc, err := store.NewPairingCode(ctx)
	if err != nil {
		return err
	}
	link := pairingURL(*base, pc.Code)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{
			"url": link, "pairing_code": pc.Code, "expires_at": pc.ExpiresAt.Format(time.RFC3339),
		})
	}
	qr, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, qr.ToSmallString(false))
	fmt.Fprintf(stdout, "\nScan this code with the tablet, or open:\n  %s\nPairing code: %s (valid until %s, once)\n",
		link, pc.Code, pc.ExpiresAt.Local().Format("15:04"))
	return nil
}

// pairingURL is the link in the pairing QR: the app reads the code from the
// fragment, which never reaches a server log.
func pairingURL(base, code string) string {
	return strings.TrimSuffix(base, "/") + "/#pair=" + code
}

func runCards(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bus cards", stderr)
	dataDir := fs.String("data", bus.DefaultDataDir, "the bus's data directory")
	count := fs.Int("count", bus.DefaultCards, fmt.Sprintf("how many cards, 1 to %d (eight a page)", bus.MaxCards))
	out := fs.String("out", "", "the HTML file to write (required); print it on A4")
	contact := fs.String("contact", bus.DefaultCardContact, "the contact line on each card")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return usagef("--out is required: the HTML file to write the cards to")
	case *count < 1 || *count > bus.MaxCards:
		return usagef("--count %d: must be from 1 to %d", *count, bus.MaxCards)
	}
	if err := checkDataDir(*dataDir); err != nil {
		return err
	}
	store, err := bus.OpenStore(ctx, *dataDir, newLogger(stderr, slog.LevelWarn), nil)
	if err != nil {
		return usagef("data dir %s: %v", *dataDir, err)
	}
	defer store.Close()
	var sheet bytes.Buffer
	codes, err := store.IssueCards(ctx, &sheet, *count, *contact)
	if errors.Is(err, infosync.ErrNotEnrolled) || errors.Is(err, bus.ErrNoCodePrefix) {
		return usagef("%v: cards need codes, and codes need the office's key (`infobus bus enroll`)", err)
	}
	if err != nil {
		return err
	}
	// The codes are issued whatever happens to the file: they are only
	// promises until a visit carries one.
	if err := os.WriteFile(*out, sheet.Bytes(), 0o644); err != nil {
		return usagef("--out %s: %v", *out, err)
	}
	pages := (len(codes) + bus.CardsPerPage - 1) / bus.CardsPerPage
	fmt.Fprintf(stdout, "Wrote %s on %s to %s. Print it on A4 at 100%%.\n",
		plural(len(codes), "card", "cards"), plural(pages, "page", "pages"), *out)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
