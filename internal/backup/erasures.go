package backup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Erasure is one line of the data dir's erasure log: a visit whose
// contact details were erased on request. The log holds ids, never the
// details or the person's name: it exists so that a restore from a backup
// made before the erasure erases them again.
type Erasure struct {
	At      string `json:"at"` // RFC 3339
	VisitID string `json:"visit_id"`
	BusID   string `json:"bus_id"`
}

// AppendErasures adds erasures to dataDir's log and syncs it to disk.
func AppendErasures(dataDir string, es []Erasure) error {
	if len(es) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dataDir, ErasureLogFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, e := range es {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ErasuresSince reads the erasures dataDir's log holds from since on
// (inclusive: a replay erases again what is erased already, which changes
// nothing).
func ErasuresSince(dataDir string, since time.Time) ([]Erasure, error) {
	f, err := os.Open(filepath.Join(dataDir, ErasureLogFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Erasure
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var e Erasure
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A line cut short by a crash while appending: the ones
			// before it still count.
			if !sc.Scan() {
				break
			}
			return out, fmt.Errorf("%s line %d: %w", ErasureLogFile, line, err)
		}
		at, err := time.Parse(time.RFC3339Nano, e.At)
		if err != nil || !at.Before(since) {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}
