package office

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"infobus/schema"
)

// The admins' page of routing rules, and routing by hand on a
// follow-up's page (routing.go).

type rulesData struct {
	Rules                                    []Rule
	Topics, Kinds, Wijken, Stadsdelen, Depts []Option
	People                                   []Option
}

// rulesPage fills the rules page; values are a refused form's, or nil.
func (s *Server) rulesPage(c *fiber.Ctx, values map[string]string) (*Page, error) {
	ctx := c.UserContext()
	rules, err := s.store.Rules(ctx)
	if err != nil {
		return nil, err
	}
	cols, err := s.store.Colleagues(ctx)
	if err != nil {
		return nil, err
	}
	p := s.newPage(c)
	if values != nil {
		p.Values = values
	}
	v := func(name string) string { return p.Values[name] }
	d := &rulesData{Rules: rules,
		Topics: termOptions(p, schema.Ref.Topics, v("topic")), Wijken: wijkOptions(p, v("wijk")),
		Depts: termOptions(p, schema.Ref.Departments, v("department"))[1:]}
	d.Kinds = []Option{{Value: "", Label: p.T("filter.any"), Selected: v("kind") == ""}}
	for _, k := range schema.FollowUpKinds {
		d.Kinds = append(d.Kinds, Option{Value: k, Label: p.T("kind." + k), Selected: v("kind") == k})
	}
	d.Stadsdelen = []Option{{Value: "", Label: p.T("filter.any"), Selected: v("stadsdeel") == ""}}
	for _, sd := range schema.Ref.Stadsdelen() {
		d.Stadsdelen = append(d.Stadsdelen, Option{Value: sd, Label: sd, Selected: v("stadsdeel") == sd})
	}
	d.People = []Option{{Value: "0", Label: p.T("rules.nobody")}}
	for _, c := range cols {
		id := strconv.FormatInt(c.ID, 10)
		d.People = append(d.People, Option{Value: id, Label: c.Email, Selected: v("person") == id})
	}
	p.Data = d
	return p, nil
}

func (s *Server) handleRules(c *fiber.Ctx) error {
	p, err := s.rulesPage(c, nil)
	if err != nil {
		return err
	}
	switch c.Query("done") {
	case "saved":
		p.Notice = "rules.saved"
	case "deleted":
		p.Notice = "rules.deleted"
	}
	return s.render(c, fiber.StatusOK, "rules", p)
}

func (s *Server) handleRuleAdd(c *fiber.Ctx) error {
	values := map[string]string{}
	for _, k := range []string{"position", "topic", "kind", "wijk", "stadsdeel", "department", "person"} {
		values[k] = strings.TrimSpace(copyForm(c, k))
	}
	r := Rule{Topic: values["topic"], Kind: values["kind"], Wijk: values["wijk"], Stadsdeel: values["stadsdeel"], Department: values["department"]}
	var fe *FieldError
	pos, err := strconv.Atoi(values["position"])
	if values["position"] == "" {
		pos, err = 100, nil
	}
	r.Position = pos
	if err != nil {
		fe = &FieldError{Field: "position", Key: "rule.error.position"}
	}
	if n, err := strconv.ParseInt(values["person"], 10, 64); values["person"] != "" && (err != nil || n < 0) {
		fe = &FieldError{Field: "person", Key: "assign.bad"}
	} else {
		r.Person = n
	}
	if fe == nil {
		_, err = s.store.AddRule(c.UserContext(), session(c).Staff.Email, r)
		if !errors.As(err, &fe) && err != nil {
			return err
		}
	}
	if fe != nil {
		p, err := s.rulesPage(c, values)
		if err != nil {
			return err
		}
		p.Errors[fe.Field] = p.T(fe.Key)
		return s.render(c, fiber.StatusBadRequest, "rules", p)
	}
	return c.Redirect("/rules?done=saved", fiber.StatusSeeOther)
}

func (s *Server) handleRuleDelete(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	if err := s.store.DeleteRule(c.UserContext(), session(c).Staff.Email, id); err != nil {
		return err
	}
	return c.Redirect("/rules?done=deleted", fiber.StatusSeeOther)
}

// handleFollowUpRoute routes a follow-up by hand.
func (s *Server) handleFollowUpRoute(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	dept := copyForm(c, "route_department")
	err := s.store.RouteFollowUp(c.UserContext(), session(c).Staff.Email, id, dept, 0)
	var fe *FieldError
	if errors.As(err, &fe) {
		p, perr := s.followUpWorkPage(c, id)
		if perr != nil {
			return perr
		}
		p.Errors["route_department"] = p.T(fe.Key)
		return s.render(c, fiber.StatusUnprocessableEntity, "followup_work", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/followups/"+url.PathEscape(id)+"?done=routed", fiber.StatusSeeOther)
}
