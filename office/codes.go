package office

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"

	"infobus/schema"
	infosync "infobus/sync"
)

const (
	queryCodePrefixes = `SELECT code_prefix FROM buses`
	queryBusByPrefix  = `SELECT id, code_key FROM buses WHERE code_prefix = ?`
	queryBusCodes     = `SELECT code_prefix, code_key FROM buses WHERE id = ?`
	queryCodeFind     = `SELECT followup_id, visit_id FROM codes WHERE code = ?`
	// The primary key decides: a new code is bound; a code already bound to
	// this follow-up is a no-op that still counts as a change (a replay);
	// one bound to another follow-up changes nothing, which the caller
	// refuses.
	queryCodeBind = `
INSERT INTO codes (code, bus_id, followup_id, visit_id, bound_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (code) DO UPDATE SET bound_at = codes.bound_at
WHERE codes.followup_id = excluded.followup_id AND codes.bus_id = excluded.bus_id`
)

// maxCodePrefixes is how many buses can have a prefix of CodePrefixLength
// symbols.
const maxCodePrefixes = 1 << (5 * schema.CodePrefixLength)

// ErrNoCodePrefix: every code prefix is taken.
var ErrNoCodePrefix = errors.New("every follow-up code prefix is taken")

// freeCodePrefix picks a prefix no bus has, at random so that a prefix says
// nothing about when its bus was enrolled.
func freeCodePrefix(ctx context.Context, tx *sql.Tx) (string, error) {
	rows, err := tx.QueryContext(ctx, queryCodePrefixes)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	taken := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return "", err
		}
		taken[p] = true
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	var free []string
	for n := range maxCodePrefixes {
		if p := schema.CodePrefix(n); !taken[p] {
			free = append(free, p)
		}
	}
	if len(free) == 0 {
		return "", ErrNoCodePrefix
	}
	i, err := rand.Int(rand.Reader, big.NewInt(int64(len(free))))
	if err != nil {
		return "", err
	}
	return free[i.Int64()], nil
}

// CodeInfo is what the office knows of a follow-up code.
type CodeInfo struct {
	Code  schema.Code
	BusID string
	// FollowUpID and VisitID are empty until a visit carrying the code has
	// reached the office.
	FollowUpID string
	VisitID    string
}

// LookupCode reads a code as a person typed or scanned it and checks it
// against the bus its prefix names. It returns a *schema.CodeError for a
// spelling that is not a code, and ErrNotFound for a code of no bus or one
// whose MAC fails: a guessed code and an unknown one look the same.
func (s *Store) LookupCode(ctx context.Context, typed string) (*CodeInfo, error) {
	code, err := schema.ParseCode(typed)
	if err != nil {
		return nil, err
	}
	s.settle(ctx)
	info := &CodeInfo{Code: code}
	var key []byte
	err = s.db.Read.QueryRowContext(ctx, queryBusByPrefix, code.Prefix()).Scan(&info.BusID, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !code.Verify(key) {
		return nil, ErrNotFound
	}
	err = s.db.Read.QueryRowContext(ctx, queryCodeFind, code).Scan(&info.FollowUpID, &info.VisitID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return info, nil
}

// busCodeKey is a bus's prefix and key, read once per record that carries
// codes.
func busCodeKey(ctx context.Context, tx *txStmts, busID string) (prefix string, key []byte, err error) {
	err = tx.QueryRowContext(ctx, queryBusCodes, busID).Scan(&prefix, &key)
	return prefix, key, err
}

// checkCodes refuses a record carrying a follow-up code that busID did not
// make: another bus's prefix, or a MAC that fails for its key. It runs
// before the record writes anything.
func checkCodes(ctx context.Context, tx *txStmts, busID string, rec *infosync.Incoming) error {
	var (
		prefix string
		key    []byte
		loaded bool
	)
	for i, f := range rec.Visit.FollowUps {
		if f.Code == "" {
			continue
		}
		if !loaded {
			var err error
			if prefix, key, err = busCodeKey(ctx, tx, busID); err != nil {
				return err
			}
			loaded = true
		}
		code, err := schema.ParseCode(f.Code)
		if err == nil && (prefix == "" || code.Prefix() != prefix || !code.Verify(key)) {
			err = errors.New("not this bus's code")
		}
		if err != nil {
			return codeRefusal(rec, i, false, schema.Problem{
				EN: "This code was not issued by this bus. Check the code on the card.",
				NL: "Deze code komt niet van deze bus. Controleer de code op de kaart."})
		}
	}
	return nil
}

// bindCodes binds each follow-up's code to it for good, once the follow-up
// is stored. A code bound to another follow-up refuses the record, after
// it wrote: the caller undoes the record.
func bindCodes(ctx context.Context, tx *txStmts, busID string, rec *infosync.Incoming, now string) error {
	v := rec.Visit
	for i, f := range v.FollowUps {
		if f.Code == "" {
			continue
		}
		// checkCodes has parsed it; f.Code is canonical after Normalize.
		changed, err := schema.ExecChanged(ctx, tx, queryCodeBind, f.Code, busID, f.ID, v.ID, now)
		if err != nil {
			return err
		}
		if !changed {
			return refuseCodeTaken(rec, i, true)
		}
	}
	return nil
}

// refuseCodeTaken refuses a record whose i-th follow-up carries a code
// bound to another follow-up.
func refuseCodeTaken(rec *infosync.Incoming, i int, late bool) error {
	return codeRefusal(rec, i, late, schema.Problem{
		EN: "This code already belongs to another follow-up. Use a new card or code.",
		NL: "Deze code hoort al bij een andere vervolgafspraak. Gebruik een nieuwe kaart of code."})
}

func codeRefusal(rec *infosync.Incoming, i int, late bool, p schema.Problem) error {
	v := rec.Visit
	return &errRefused{late: late, sa: infosync.SetAside{Index: rec.Index, ID: v.ID, Rev: v.Rev, Reason: infosync.ReasonCodeTaken,
		Message: p.EN, Fields: map[string]schema.Problem{fmt.Sprintf("followups[%d].code", i): p}}}
}
