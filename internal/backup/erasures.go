package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Erasure is one line of the data dir's erasure log: a visit whose
// contact details were erased on request, or (FeedbackCode set, VisitID
// empty) a feedback comment emptied because it named the person. The log holds ids, never the
// details or the person's name: it exists so that a restore from a backup
// made before the erasure erases them again.
type Erasure struct {
	At      string `json:"at"` // RFC 3339
	VisitID string `json:"visit_id,omitempty"`
	// FeedbackCode is the code whose feedback comment was emptied: a code
	// is no personal data, the comment was.
	FeedbackCode string `json:"feedback_code,omitempty"`
	BusID        string `json:"bus_id,omitempty"`
	// Reason is why the details went, in the words of the log's server
	// (a bus tells the office's erasures from its own removal after a
	// week); Rev the visit's rev then. A bus replays a removal only over
	// that rev or an older one: newer details the crew typed in after it
	// were never removed.
	Reason string `json:"reason,omitempty"`
	Rev    int64  `json:"rev,omitempty"`
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

// ReplayFile marks a data dir whose database was put back from a backup
// and has not yet had its erasure log applied again: Restore writes it
// before it puts the copy in place, the store applies the log when it
// opens and then removes it. A crash in between applies the log at the
// next start, which changes nothing twice.
const ReplayFile = "erasures-replay-pending"

// ReplayPending says whether dataDir's erasure log is still to be applied
// again after a restore.
func ReplayPending(dataDir string) bool {
	return exists(filepath.Join(dataDir, ReplayFile))
}

// ReplayIfPending applies dataDir's erasure log again with replay when a
// restore left that pending, then checkpoints (secure_delete zeroed the
// cells; the checkpoint takes the old pages out of the WAL and writes the
// zeroed ones over the copy's) and clears the mark. It returns how many
// records replay changed; 0 when nothing was pending.
func ReplayIfPending(ctx context.Context, dataDir string, replay func(context.Context) (int, error), checkpoint func(context.Context) error) (int, error) {
	if !ReplayPending(dataDir) {
		return 0, nil
	}
	n, err := replay(ctx)
	if err != nil {
		return 0, fmt.Errorf("apply the erasures again after a restore: %w", err)
	}
	if err := checkpoint(ctx); err != nil {
		return 0, fmt.Errorf("checkpoint after applying the erasures again: %w", err)
	}
	return n, ReplayDone(dataDir)
}

// ReplayDone notes that dataDir's erasure log has been applied again.
func ReplayDone(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, ReplayFile))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	syncDir(dataDir)
	return err
}

func markReplay(dataDir string) error {
	f, err := os.OpenFile(filepath.Join(dataDir, ReplayFile), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	syncDir(dataDir)
	return nil
}
