//go:build !windows

package backup

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is taken, shared-nothing, by a running server and by restore.
const lockFile = ".lock"

// ErrInUse: a server runs on the data dir, or a restore is under way.
var ErrInUse = errors.New("the data dir is in use by a running server; stop it first (systemctl stop infobus-…)")

// LockDir takes the data dir's lock, which a running server holds for its
// whole life, or returns ErrInUse. The lock goes when the process does,
// however it ends.
func LockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
