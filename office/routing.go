package office

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"infobus/schema"
)

// Routing rules: admins say which department (and optionally which
// person) gets a follow-up, by the visit's topic, the follow-up's kind,
// and the wijk or stadsdeel. The push applies them in the follow-up's own
// upsert (queryFollowUpUpsert in syncstore.go), so a follow-up is routed
// when it arrives and again when a new revision changes its kind or the
// visit's topics; triggers (migration 0012) put each route on the
// timeline as automatic. Staff can route by hand, which later pushes keep.

// queryRouteMatch is the first rule that matches a follow-up being pushed:
// ?4 its kind, ?9 its wijk, ?12 the wijk's stadsdeel, ?13 the visit's
// topics as a JSON array of codes.
const queryRouteMatch = `
SELECT id, department FROM routing_rules
WHERE (kind = '' OR kind = ?4) AND (wijk = '' OR wijk = ?9) AND (stadsdeel = '' OR stadsdeel = ?12)
  AND (topic = '' OR instr(?13, '"' || topic || '"') > 0)
ORDER BY position, id LIMIT 1`

// stadsdeelOf is the stadsdeel of a wijk, "" for an unknown one.
func stadsdeelOf(wijk string) string {
	w, ok := schema.Ref.Wijk(wijk)
	if !ok {
		return ""
	}
	return w.Stadsdeel
}

// Audit actions of routing.
const (
	ActionRuleSaved   = "rule_saved"
	ActionRuleDeleted = "rule_deleted"
	ActionRouted      = "followup_routed"
)

// EventRoute is a timeline event: a rule (actor "automatisch") or a staff
// member routed the follow-up; the note is the department, "" when no rule
// routes it any more.
const EventRoute = "route"

const (
	queryRules = `
SELECT r.id, r.position, r.topic, r.kind, r.wijk, r.stadsdeel, r.department, coalesce(r.person, 0), coalesce(st.email, '')
FROM routing_rules r LEFT JOIN staff st ON st.id = r.person ORDER BY r.position, r.id`
	queryRuleInsert = `
INSERT INTO routing_rules (position, topic, kind, wijk, stadsdeel, department, person) VALUES (?, ?, ?, ?, ?, ?, ?)`
	queryRuleDelete  = `DELETE FROM routing_rules WHERE id = ?`
	queryRouteByHand = `
UPDATE followups SET department = ?2, route_by = ?3, assignee = coalesce(?4, assignee) WHERE id = ?1`
)

// Rule is one routing rule; an empty condition matches anything.
type Rule struct {
	ID         int64
	Position   int
	Topic      string
	Kind       string
	Wijk       string
	Stadsdeel  string
	Department string
	Person     int64  // staff id, 0 for none
	PersonName string // the person's email
}

// checkRule returns the first bad field of r and its catalogue key.
func checkRule(r Rule) *FieldError {
	switch {
	case r.Topic != "" && !slices.Contains(termCodes(schema.Ref.Topics), r.Topic):
		return &FieldError{Field: "topic", Key: "rule.error.topic"}
	case r.Kind != "" && !slices.Contains(schema.FollowUpKinds, r.Kind):
		return &FieldError{Field: "kind", Key: "rule.error.kind"}
	case r.Wijk != "" && stadsdeelOf(r.Wijk) == "":
		return &FieldError{Field: "wijk", Key: "rule.error.wijk"}
	case r.Stadsdeel != "" && !slices.Contains(schema.Ref.Stadsdelen(), r.Stadsdeel):
		return &FieldError{Field: "stadsdeel", Key: "rule.error.stadsdeel"}
	case !slices.Contains(termCodes(schema.Ref.Departments), r.Department):
		return &FieldError{Field: "department", Key: "rule.error.department"}
	case r.Position < 0 || r.Position > 9999:
		return &FieldError{Field: "position", Key: "rule.error.position"}
	}
	return nil
}

// Rules lists the routing rules in the order they are tried.
func (s *Store) Rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.db.Read.QueryContext(ctx, queryRules)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.ID, &r.Position, &r.Topic, &r.Kind, &r.Wijk, &r.Stadsdeel, &r.Department, &r.Person, &r.PersonName); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddRule adds a routing rule on behalf of actor. It returns a
// *FieldError naming the first bad field, also for a person who cannot
// log in.
func (s *Store) AddRule(ctx context.Context, actor string, r Rule) (int64, error) {
	if fe := checkRule(r); fe != nil {
		return 0, fe
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var person any
		if r.Person != 0 {
			var email string
			err := tx.QueryRowContext(ctx, queryStaffActive, r.Person).Scan(&email)
			if errors.Is(err, sql.ErrNoRows) {
				return &FieldError{Field: "person", Key: "assign.bad"}
			}
			if err != nil {
				return err
			}
			person = r.Person
		}
		res, err := tx.ExecContext(ctx, queryRuleInsert, r.Position, r.Topic, r.Kind, r.Wijk, r.Stadsdeel, r.Department, person)
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionRuleSaved, fmt.Sprint(r.ID), r.Department)
	})
	return r.ID, err
}

// DeleteRule removes a routing rule on behalf of actor; follow-ups it
// routed keep their department. It returns ErrNotFound for an unknown id.
func (s *Store) DeleteRule(ctx context.Context, actor string, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err := schema.ExecChanged(ctx, tx, queryRuleDelete, id)
		if err != nil {
			return err
		}
		if !changed {
			return ErrNotFound
		}
		return audit(ctx, tx, s.now(), actor, ActionRuleDeleted, fmt.Sprint(id), "")
	})
}

// RouteFollowUp routes a follow-up by hand to department (and to the
// colleague person, 0 for nobody new) on behalf of actor; later pushes keep
// this route. It returns ErrNotFound for an unknown follow-up and a
// *FieldError for an unknown department or a colleague who cannot log in.
func (s *Store) RouteFollowUp(ctx context.Context, actor, followUpID, department string, person int64) error {
	if !slices.Contains(termCodes(schema.Ref.Departments), department) {
		return &FieldError{Field: "department", Key: "rule.error.department"}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, _, err := followUpState(ctx, tx, followUpID); err != nil {
			return err
		}
		var assignee any
		if person != 0 {
			var email string
			err := tx.QueryRowContext(ctx, queryStaffActive, person).Scan(&email)
			if errors.Is(err, sql.ErrNoRows) {
				return &FieldError{Field: "person", Key: "assign.bad"}
			}
			if err != nil {
				return err
			}
			assignee = person
		}
		if _, err := tx.ExecContext(ctx, queryRouteByHand, followUpID, department, actor, assignee); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queryEventInsert, followUpID, schema.Timestamp(s.now()), actor, "", "", "", department, EventRoute); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), actor, ActionRouted, followUpID, department)
	})
}
