package office

// TEMPORARY until the office workspace (office/audit.go, migration
// 0003_staff) lands in main: same signature as its audit helper, so that
// the privacy code compiles now. Delete this file at that merge.

import (
	"context"
	"database/sql"
	"time"
)

// ActorCLI is the actor of changes made on the office's command line.
const ActorCLI = "cli"

func audit(ctx context.Context, tx *sql.Tx, at time.Time, actor, action, subject, detail string) error {
	return nil
}
