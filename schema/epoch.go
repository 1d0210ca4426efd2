package schema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// SettingEpoch is the settings key of a database's epoch: a random name
// made when the database is created and made anew when it is restored
// from a backup, so that the other ends notice (see infobus/sync's
// restore.go).
const SettingEpoch = "epoch"

// NewEpoch returns a fresh random epoch.
func NewEpoch() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// EnsureEpoch gives a database without an epoch its first and returns the
// epoch it has.
func EnsureEpoch(ctx context.Context, db interface {
	Execer
	Querier
}) (string, error) {
	const queryEpochInit = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
	if _, err := db.ExecContext(ctx, queryEpochInit, SettingEpoch, NewEpoch()); err != nil {
		return "", err
	}
	return Setting(ctx, db, SettingEpoch)
}
