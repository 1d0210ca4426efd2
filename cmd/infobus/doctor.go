package main

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"infobus/bus"
	"infobus/internal/backup"
	"infobus/schema"
)

// Doctor's findings, worst last.
const (
	levelOK   = "ok"
	levelWarn = "warn"
	levelFail = "fail"
)

// finding is one check's result: what it saw, and what to do about it.
type finding struct {
	Check string `json:"check"`
	Level string `json:"level"`
	Say   string `json:"say"`
	Do    string `json:"do,omitempty"`
}

// Thresholds doctor judges by.
const (
	doctorBackupWarn   = 26 * time.Hour // a nightly backup plus a margin
	doctorBackupFail   = 72 * time.Hour
	doctorSyncWarn     = 24 * time.Hour
	doctorCertWarn     = 30 * 24 * time.Hour
	doctorMinFreeBytes = 1 << 30
)

// What doctor reads, straight from the file: it opens no store, so that
// it never migrates or writes.
const (
	queryDoctorBusSync = `
SELECT office_url, last_success, last_error,
       (SELECT count(*) FROM visits WHERE crew_seq > s.acked_seq),
       (SELECT count(*) FROM set_aside a JOIN visits v ON v.id = a.visit_id AND v.rev = a.rev)
FROM sync_state s WHERE id = 1`
	queryDoctorOffice = `SELECT (SELECT count(*) FROM buses), (SELECT count(*) FROM set_aside)`
)

// doctor checks one data dir.
type doctor struct {
	dir      string
	kind     schema.Database
	now      time.Time
	client   *http.Client
	findings []finding
}

func (d *doctor) add(check, level, say, do string) {
	d.findings = append(d.findings, finding{Check: check, Level: level, Say: say, Do: do})
}

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", stderr)
	dataDir := fs.String("data", "", "the data dir of a bus or an office (default: infobus-data/bus, else infobus-data/office)")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" {
		*dataDir = "infobus-data/bus"
		if _, err := os.Stat(*dataDir); err != nil {
			*dataDir = "infobus-data/office"
		}
	}
	d := &doctor{dir: *dataDir, now: time.Now(), client: &http.Client{Timeout: 5 * time.Second}}
	d.run(ctx)
	worst := levelOK
	for _, f := range d.findings {
		if f.Level == levelFail || (f.Level == levelWarn && worst == levelOK) {
			worst = f.Level
		}
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(map[string]any{"data": d.dir, "kind": d.kind, "result": worst, "findings": d.findings}); err != nil {
			return err
		}
	} else {
		for _, f := range d.findings {
			fmt.Fprintf(stdout, "%-4s  %-12s %s\n", strings.ToUpper(f.Level), f.Check, f.Say)
			if f.Do != "" {
				fmt.Fprintf(stdout, "      %-12s → %s\n", "", f.Do)
			}
		}
		switch worst {
		case levelOK:
			fmt.Fprintf(stdout, "\nAll is well with %s.\n", d.dir)
		case levelWarn:
			fmt.Fprintf(stdout, "\n%s works; the warnings above are worth a look.\n", d.dir)
		default:
			fmt.Fprintf(stdout, "\n%s has problems: do what the FAIL lines say.\n", d.dir)
		}
	}
	if worst == levelFail {
		return errDoctorFound
	}
	return nil
}

// errDoctorFound makes doctor exit 1 after it has said what is wrong.
var errDoctorFound = errors.New("doctor found problems")

func (d *doctor) run(ctx context.Context) {
	kind, err := backup.Kind(d.dir)
	if err != nil {
		d.add("data dir", levelFail, err.Error(), "give --data the folder the server runs on (its --data)")
		return
	}
	d.kind = kind
	dbFile := filepath.Join(d.dir, backup.DBFile(kind))
	d.checkPermissions(dbFile)
	d.checkDisk(dbFile)
	db, err := backup.OpenReadOnly(dbFile)
	if err != nil {
		d.add("database", levelFail, fmt.Sprintf("%s cannot be opened: %v", dbFile, err), "restore the last backup: infobus restore FILE --data "+d.dir)
		return
	}
	defer db.Close()
	if !d.checkDatabase(ctx, db) {
		return
	}
	if backup.ReplayPending(d.dir) {
		d.add("erasures", levelWarn, "the database was restored from a backup and the erasures made since are not applied again yet",
			"start the server (or run infobus restore again): it applies them before it serves")
	}
	if kind == schema.BusDatabase {
		d.checkCertificates()
		d.checkBusSync(ctx, db)
	} else {
		d.checkOffice(ctx, db)
	}
	d.checkBackup()
}

func (d *doctor) checkPermissions(dbFile string) {
	if runtime.GOOS == "windows" {
		return // permissions are ACLs there; the installer sets them
	}
	dir, err := os.Stat(d.dir)
	if err != nil {
		d.add("permissions", levelFail, err.Error(), "")
		return
	}
	// A file is exposed when others (or the group) may both enter the dir
	// and read the file: SQLite makes files 0644 under the usual umask,
	// so the dir's 0700 is what keeps them private.
	var exposed []string
	for _, p := range []string{dbFile, dbFile + "-wal", filepath.Join(d.dir, "tls", "ca.key"), filepath.Join(d.dir, "tls", "server.pem")} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		dm, fm := dir.Mode().Perm(), fi.Mode().Perm()
		if (dm&0o001 != 0 && fm&0o004 != 0) || (dm&0o010 != 0 && fm&0o040 != 0) {
			exposed = append(exposed, fmt.Sprintf("%s (%04o in a %04o dir)", p, fm, dm))
		}
	}
	fix := fmt.Sprintf("chmod 700 %s; chmod 600 %s (and chown them to the service user)", d.dir, dbFile)
	switch {
	case len(exposed) > 0:
		d.add("permissions", levelFail, "other users can read personal data or keys: "+strings.Join(exposed, ", "), fix)
	case dir.Mode().Perm()&0o077 != 0:
		d.add("permissions", levelWarn, fmt.Sprintf("the data dir is %04o: others may list it", dir.Mode().Perm()), fix)
	default:
		d.add("permissions", levelOK, "only the owner can read the data dir", "")
	}
}

func (d *doctor) checkDisk(dbFile string) {
	free, err := backup.FreeBytes(d.dir)
	if err != nil {
		d.add("disk", levelWarn, "free space unknown: "+err.Error(), "")
		return
	}
	var size int64
	if fi, err := os.Stat(dbFile); err == nil {
		size = fi.Size()
	}
	// A backup's snapshot and a VACUUM each need about the database's size.
	need := max(uint64(doctorMinFreeBytes), 2*uint64(size))
	if free < need {
		d.add("disk", levelFail, fmt.Sprintf("%s free, the database is %s: too little to back up or to keep writing safely", byteSize(int64(free)), byteSize(size)),
			"free space on that disk, or move the data dir to a larger one")
		return
	}
	d.add("disk", levelOK, fmt.Sprintf("%s free; the database is %s", byteSize(int64(free)), byteSize(size)), "")
}

func (d *doctor) checkDatabase(ctx context.Context, db *sql.DB) bool {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		d.add("database", levelFail, "not readable as a database: "+err.Error(), "restore the last backup: infobus restore FILE --data "+d.dir)
		return false
	}
	latest := schema.LatestVersion(d.kind)
	switch {
	case version > latest:
		d.add("schema", levelFail, fmt.Sprintf("schema version %d is newer than this binary knows (%d)", version, latest), "run the newer infobus binary that wrote it")
	case version < latest:
		d.add("schema", levelWarn, fmt.Sprintf("schema version %d; this binary brings it to %d at the next start", version, latest), "make a backup first: infobus backup --data "+d.dir)
	default:
		d.add("schema", levelOK, fmt.Sprintf("schema version %d, as this binary expects", version), "")
	}
	problems, err := backup.IntegrityCheck(ctx, db)
	if err == nil && len(problems) > 0 {
		err = errors.New(strings.Join(problems[:min(len(problems), 3)], "; "))
	}
	if err != nil {
		// SQLite's message may span lines; doctor's report is one line a
		// check, with what to do on the next.
		d.add("integrity", levelFail, "the database is damaged: "+strings.Join(strings.Fields(err.Error()), " "),
			"stop the server and restore the last good backup (infobus restore FILE --data "+d.dir+"); buses and tablets send again what it lacks")
		return false
	}
	d.add("integrity", levelOK, "SQLite's integrity check passes", "")
	return true
}

func (d *doctor) checkCertificates() {
	dir := filepath.Join(d.dir, "tls")
	ca, err := readCert(filepath.Join(dir, "ca.crt"))
	if errors.Is(err, fs.ErrNotExist) {
		d.add("certificates", levelOK, "no local CA yet: the bus makes one when it first serves HTTPS", "")
		return
	}
	if err != nil {
		d.add("certificates", levelFail, "the local CA cannot be read: "+err.Error(), "restore tls/ from a backup; tablets trust this CA")
		return
	}
	switch left := ca.NotAfter.Sub(d.now); {
	case left <= 0:
		d.add("certificates", levelFail, fmt.Sprintf("the local CA expired on %s: tablets no longer trust the bus", ca.NotAfter.Format(time.DateOnly)),
			"move tls/ aside, start the bus to make a new CA, and set up each tablet again at /setup")
	case left < doctorCertWarn:
		d.add("certificates", levelWarn, fmt.Sprintf("the local CA expires on %s", ca.NotAfter.Format(time.DateOnly)), "plan a new CA and a tablet set-up round before then")
	default:
		d.add("certificates", levelOK, fmt.Sprintf("the local CA is valid until %s", ca.NotAfter.Format(time.DateOnly)), "")
	}
	if !bus.Constrained(ca) {
		// A problem, not a remark: whoever takes its key from a stolen
		// laptop can pass for any site to every tablet that trusts it.
		d.add("ca limits", levelFail, "the local CA carries no critical name constraints: whoever holds its key (a stolen laptop) can pass for any site to the tablets that trust it",
			"stop the bus, run infobus bus renew-ca --data "+d.dir+", start the bus, and install the new CA on every tablet at /setup (remove the old one there)")
	} else {
		d.add("ca limits", levelOK, fmt.Sprintf("the local CA can vouch only for %s", strings.Join(append(ca.PermittedDNSDomains, ipRanges(ca)...), ", ")), "")
	}
	srv, err := readCert(filepath.Join(dir, "server.pem"))
	if err == nil && srv.NotAfter.Before(d.now) {
		d.add("server cert", levelWarn, "the server certificate expired on "+srv.NotAfter.Format(time.DateOnly), "start the bus: it renews the certificate under the same CA by itself")
	}
}

func ipRanges(c *x509.Certificate) []string {
	var out []string
	for _, r := range c.PermittedIPRanges {
		out = append(out, r.String())
	}
	return out
}

// readCert reads the first certificate of a PEM file.
func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no certificate in " + path)
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

func (d *doctor) checkBusSync(ctx context.Context, db *sql.DB) {
	var officeURL, lastSuccess, lastError string
	var pending, setAside int64
	err := db.QueryRowContext(ctx, queryDoctorBusSync).Scan(&officeURL, &lastSuccess, &lastError, &pending, &setAside)
	if err != nil {
		d.add("sync", levelFail, "sync state unreadable: "+err.Error(), "")
		return
	}
	if officeURL == "" {
		d.add("enrollment", levelWarn, "the bus is not enrolled: visits stay on the laptop",
			"on the office: infobus office add-bus NAME; here: infobus bus enroll STRING --data "+d.dir)
	} else {
		d.add("enrollment", levelOK, "enrolled with the office at "+officeURL, "")
		d.checkReachable(ctx, officeURL)
	}
	if officeURL != "" {
		d.checkAge("last sync", lastSuccess, doctorSyncWarn, doctorSyncWarn*7,
			fmt.Sprintf("%d visits wait for the office", pending), "check the van's internet and the office; infobus sync --data "+d.dir+" shows the error")
		if lastError != "" {
			d.add("last error", levelWarn, "the last sync failed: "+lastError, "")
		}
	}
	if setAside > 0 {
		d.add("set aside", levelWarn, fmt.Sprintf("%d visits were refused by the office and wait for the crew", setAside), "the crew see them in the app as apart gezet and fix them there")
	} else {
		d.add("set aside", levelOK, "no visits set aside", "")
	}
}

func (d *doctor) checkReachable(ctx context.Context, officeURL string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(officeURL, "/")+"/healthz", nil)
	if err == nil {
		var resp *http.Response
		if resp, err = d.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("it answered %s", resp.Status)
			}
		}
	}
	if err != nil {
		d.add("office", levelWarn, "the office does not answer now: "+err.Error(), "normal while the van is offline; otherwise check the office server and its URL")
		return
	}
	d.add("office", levelOK, "the office answers", "")
}

func (d *doctor) checkOffice(ctx context.Context, db *sql.DB) {
	var buses, setAside int64
	if err := db.QueryRowContext(ctx, queryDoctorOffice).Scan(&buses, &setAside); err != nil {
		d.add("buses", levelFail, "cannot read the buses: "+err.Error(), "")
		return
	}
	if buses == 0 {
		d.add("buses", levelWarn, "no bus is enrolled yet", "infobus office add-bus NAME --data "+d.dir)
	} else {
		d.add("buses", levelOK, fmt.Sprintf("%d buses enrolled", buses), "")
	}
	if setAside > 0 {
		d.add("set aside", levelWarn, fmt.Sprintf("%d records from buses were refused and kept aside", setAside), "infobus office list-buses shows which bus; the crew fix them in the app")
	} else {
		d.add("set aside", levelOK, "no records set aside", "")
	}
}

func (d *doctor) checkBackup() {
	st, ok, err := backup.LastBackup(d.dir)
	if err != nil {
		d.add("backup", levelWarn, "the note of the last backup is unreadable: "+err.Error(), "")
		return
	}
	if !ok {
		d.add("backup", levelWarn, "no backup of this data dir was ever made", "infobus backup --data "+d.dir+" --out FILE, and keep the nightly backup on (--backup-schedule)")
		return
	}
	d.checkAge("backup", st.At, doctorBackupWarn, doctorBackupFail, "the last is "+st.File, "check the server's log for \"nightly backup failed\", or run infobus backup --data "+d.dir)
}

// checkAge judges how long ago at (RFC 3339, "" for never) was.
func (d *doctor) checkAge(check, at string, warn, fail time.Duration, detail, do string) {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		d.add(check, levelWarn, "never; "+detail, do)
		return
	}
	age := d.now.Sub(t)
	say := fmt.Sprintf("%s ago (%s); %s", age.Round(time.Minute), t.Local().Format("2006-01-02 15:04"), detail)
	switch {
	case age > fail:
		d.add(check, levelFail, say, do)
	case age > warn:
		d.add(check, levelWarn, say, do)
	default:
		d.add(check, levelOK, say, "")
	}
}
