package office

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"infobus/schema"
)

// The pages of the loop back to the entrepreneur (loop.go): the answer
// and satisfaction forms on the entrepreneur's page, the question form on
// a follow-up's page, and the admins' page of standard reasons.

// loadLoop fills the entrepreneur's page's question and satisfaction
// parts for a follow-up at the office.
func (s *Server) loadLoop(c *fiber.Ctx, p *Page, d *followUpData) error {
	ctx := c.UserContext()
	fu := d.FollowUp
	q, err := s.store.LatestQuestion(ctx, fu.ID)
	switch {
	case err == nil:
		// A question is shown while the follow-up is unfinished; once it is
		// done the page is about the result.
		if !schema.StatusFinished(fu.Status) && fu.Status != schema.StatusReopenRequested {
			d.Question = q
			if _, ok := p.Values["answer"]; !ok {
				p.Values["answer"] = q.Answer
			}
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if fu.Status != schema.StatusDone && fu.Status != schema.StatusReopenRequested {
		return nil
	}
	if d.Reasons, err = s.store.Reasons(ctx, false); err != nil {
		return err
	}
	a, err := s.store.SatisfactionOf(ctx, fu.ID)
	switch {
	case err == nil:
		d.Satisfaction = a
		if _, ok := p.Values["satisfied"]; !ok {
			p.Values["satisfied"] = satisfiedValue(a.Satisfied)
			p.Values["reason"] = strconv.FormatInt(a.ReasonID, 10)
			p.Values["sat_comment"] = a.Comment
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	d.AskSatisfaction = true
	return nil
}

func satisfiedValue(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// FormID is a reason's id as the form sends it.
func (r Reason) FormID() string { return strconv.FormatInt(r.ID, 10) }

// AnswerAction is where the answer form posts.
func (d *followUpData) AnswerAction() string {
	return "/f/" + url.PathEscape(string(d.Code)) + "/answer"
}

// SatisfactionAction is where the satisfaction form posts.
func (d *followUpData) SatisfactionAction() string {
	return "/f/" + url.PathEscape(string(d.Code)) + "/satisfaction"
}

// loopForm reads the entrepreneur's page for a post to one of its loop
// forms; ok is false when the response (404, or the page with a 409) is
// already written.
func (s *Server) loopForm(c *fiber.Ctx) (*Page, *followUpData, bool, error) {
	p, d, _, err := s.followUpPage(c)
	if err != nil {
		return nil, nil, false, err
	}
	if d.State == codeUnknown {
		return p, d, false, s.render(c, fiber.StatusNotFound, "followup", p)
	}
	return p, d, true, nil
}

// rerender shows the entrepreneur's page again with one field's error.
func (s *Server) rerender(c *fiber.Ctx, p *Page, d *followUpData, status int, field, key string) error {
	p.Errors[field] = p.T(key)
	return s.render(c, status, "followup", p)
}

// handleAnswer stores the entrepreneur's answer to the office's question.
// The code is the key: no login.
func (s *Server) handleAnswer(c *fiber.Ctx) error {
	p, d, ok, err := s.loopForm(c)
	if !ok || err != nil {
		return err
	}
	answer := copyForm(c, "answer")
	p.Values["answer"] = answer
	if d.FollowUp == nil {
		return s.rerender(c, p, d, fiber.StatusConflict, "answer", "answer.error.none")
	}
	revised, err := s.store.AnswerQuestion(c.UserContext(), d.FollowUp.ID, answer)
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		return s.rerender(c, p, d, fiber.StatusBadRequest, fe.Field, fe.Key)
	case errors.Is(err, ErrNotFound):
		return s.rerender(c, p, d, fiber.StatusConflict, "answer", "answer.error.none")
	case err != nil:
		return err
	}
	saved := "answer"
	if revised {
		saved = "answer-revised"
	}
	return c.Redirect("/f/"+url.PathEscape(string(d.Code))+"?saved="+saved+"#question", fiber.StatusSeeOther)
}

// handleSatisfaction stores whether the entrepreneur is satisfied with a
// done follow-up.
func (s *Server) handleSatisfaction(c *fiber.Ctx) error {
	p, d, ok, err := s.loopForm(c)
	if !ok || err != nil {
		return err
	}
	in := Satisfaction{Comment: copyForm(c, "sat_comment")}
	p.Values["satisfied"], p.Values["reason"], p.Values["sat_comment"] = copyForm(c, "satisfied"), copyForm(c, "reason"), in.Comment
	if d.FollowUp == nil {
		return s.rerender(c, p, d, fiber.StatusConflict, "satisfied", "satisfaction.error.notdone")
	}
	switch p.Values["satisfied"] {
	case "yes":
		in.Satisfied = true
	case "no":
	default:
		return s.rerender(c, p, d, fiber.StatusBadRequest, "satisfied", "satisfaction.error.satisfied")
	}
	if r := p.Values["reason"]; r != "" && r != "0" {
		if in.ReasonID, err = strconv.ParseInt(r, 10, 64); err != nil || in.ReasonID < 0 {
			return s.rerender(c, p, d, fiber.StatusBadRequest, "reason", "satisfaction.error.reason")
		}
	}
	existed, err := s.store.PutSatisfaction(c.UserContext(), d.FollowUp.ID, in)
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		field := fe.Field
		if field == "comment" {
			field = "sat_comment"
		}
		return s.rerender(c, p, d, fiber.StatusBadRequest, field, fe.Key)
	case errors.Is(err, ErrNotDone):
		return s.rerender(c, p, d, fiber.StatusConflict, "satisfied", "satisfaction.error.notdone")
	case err != nil:
		return err
	}
	saved := "satisfaction"
	if existed {
		saved = "satisfaction-revised"
	}
	return c.Redirect("/f/"+url.PathEscape(string(d.Code))+"?saved="+saved+"#satisfaction", fiber.StatusSeeOther)
}

// handleFollowUpQuestion asks the entrepreneur a question from a
// follow-up's page.
func (s *Server) handleFollowUpQuestion(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	question := copyForm(c, "question")
	err := s.store.AskQuestion(c.UserContext(), session(c).Staff.Email, id, question)
	var me *MoveError
	if errors.As(err, &me) {
		p, perr := s.followUpWorkPage(c, id)
		if perr != nil {
			return perr
		}
		p.Errors["question"] = p.T(me.Key)
		p.Values["question"] = question
		return s.render(c, fiber.StatusUnprocessableEntity, "followup_work", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/followups/"+url.PathEscape(id)+"?done=asked", fiber.StatusSeeOther)
}

// reasonsData is the reasons page's Data.
type reasonsData struct {
	Reasons []Reason
}

func (s *Server) reasonsPage(c *fiber.Ctx) (*Page, error) {
	rs, err := s.store.Reasons(c.UserContext(), true)
	if err != nil {
		return nil, err
	}
	p := s.newPage(c)
	p.Data = &reasonsData{Reasons: rs}
	return p, nil
}

func (s *Server) handleReasons(c *fiber.Ctx) error {
	p, err := s.reasonsPage(c)
	if err != nil {
		return err
	}
	if c.Query("done") == "saved" {
		p.Notice = "reasons.saved"
	}
	return s.render(c, fiber.StatusOK, "reasons", p)
}

// handleReasonSave adds a standard reason (POST /reasons) or changes one
// (POST /reasons/{id}).
func (s *Server) handleReasonSave(c *fiber.Ctx) error {
	r := Reason{NL: copyForm(c, "nl"), EN: copyForm(c, "en"), Reopens: c.FormValue("reopens") == "1", Retired: c.FormValue("retired") == "1"}
	field := func(name string) string { return name }
	if id := c.Params("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return ErrNotFound
		}
		r.ID = n
		field = func(name string) string { return name + "-" + id }
	} else {
		switch c.FormValue("satisfied") {
		case "yes":
			r.Satisfied = true
		case "no":
		default:
			p, err := s.reasonsPage(c)
			if err != nil {
				return err
			}
			p.Errors["satisfied"] = p.T("reason.error.satisfied")
			p.Values["nl"], p.Values["en"] = r.NL, r.EN
			return s.render(c, fiber.StatusBadRequest, "reasons", p)
		}
	}
	_, err := s.store.SaveReason(c.UserContext(), session(c).Staff.Email, r)
	var fe *FieldError
	if errors.As(err, &fe) {
		p, perr := s.reasonsPage(c)
		if perr != nil {
			return perr
		}
		p.Errors[field(fe.Field)] = p.T(fe.Key)
		p.Values["nl"], p.Values["en"], p.Values["satisfied"] = r.NL, r.EN, c.FormValue("satisfied")
		return s.render(c, fiber.StatusBadRequest, "reasons", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/reasons?done=saved", fiber.StatusSeeOther)
}

// loadSatisfactionView adds the entrepreneur's satisfaction to a
// follow-up's page for staff.
func (s *Server) loadSatisfactionView(c *fiber.Ctx, p *Page, d *followUpWorkData) error {
	ctx := c.UserContext()
	a, err := s.store.SatisfactionOf(ctx, d.F.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d.Satisfaction = a
	if a.ReasonID == 0 {
		return nil
	}
	rs, err := s.store.Reasons(ctx, true)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.ID == a.ReasonID {
			d.SatisfactionReason = r.Label(p.Lang)
		}
	}
	return nil
}
