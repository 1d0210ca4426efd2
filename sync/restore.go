package sync

import "context"

// Restores and the protocol.
//
// Either end may be put back from a backup, and both must then lose
// nothing that still exists at the other end. Each database has an epoch:
// a random name made when it is created and made anew when it is
// restored. The bus sends its epoch and build on every request
// (EpochHeader, BuildHeader); every pull answer carries the office's epoch
// and HeldSeq, how far the office holds the bus's pushes.
//
//   - Office restored: its cursor for the bus (HeldSeq) is the backup's,
//     below the bus's. The bus rewinds its cursor to HeldSeq and pushes the
//     rest again; the office takes them by (id, rev), so what it still had
//     changes nothing. The office's epoch is new, so the bus pulls status
//     from the start and takes the office's word over its older copies.
//   - Bus restored: its epoch is new. The office forgets how far it held
//     that bus (a cursor in another numbering means nothing) and answers
//     HeldSeq 0, so the bus pushes everything it has once; tablets, seeing
//     the new epoch, send again the visits they hold that the bus lost.

// BusSeen is what a sync request says about the bus beyond its token.
type BusSeen struct {
	Epoch string // the bus database's epoch; "" from a bus that sends none
	Build string // the bus's binary version; "" when not sent
}

// Reconciler is what the client needs to follow an office that was
// restored; the bus's store implements it beside Outbox.
type Reconciler interface {
	// Reconcile takes the office's HeldSeq and epoch from a pull answer. It
	// moves the push cursor back to held when it is ahead and reports
	// that; when the office's epoch changed it moves the pull cursor to 0
	// and reports that too.
	Reconcile(ctx context.Context, held int64, officeEpoch string) (rewound, repull bool, err error)
}
