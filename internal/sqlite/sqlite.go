// Package sqlite is the one place Infobus touches the SQLite driver
// directly: importing it registers schema.DriverName, and IsUnique reads
// the driver's error codes. schema stays standard-library only, and the
// bus and the office do not each keep a copy of the driver-specific part.
package sqlite

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// IsUnique reports whether err is SQLite refusing a row because a unique
// or primary key is taken. The driver's error exposes its extended code
// only as a struct field, not through a method an interface could name, so
// this check needs the driver's type.
func IsUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// IsFull reports whether err is SQLite finding the disk (or the database's
// page limit) full: the write did not happen, and will not until space is
// freed.
func IsFull(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrFull
}
