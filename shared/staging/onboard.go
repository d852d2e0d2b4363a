package staging

import (
	"context"
	"fmt"
	"strings"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/numbers"
)

// MaxOnboard is the most users one onboarding request takes.
const MaxOnboard = 100

// onboardParallel bounds the users onboarded at once (each is a few Graph calls).
const onboardParallel = 4

// OnboardRequest onboards users ("quick subscriber"): the template's licences, then staging with the site (or by
// criteria) and the number (or from the site's inventory).
type OnboardRequest struct {
	UserIDs    []string `json:"userIds"`
	TemplateID string   `json:"templateId"`
	SiteID     string   `json:"siteId"`
	// Number is a number of the inventory for the only user ("" = from the site's inventory, by its policy).
	Number string `json:"number"`
}

// OnboardResult is one user's outcome: Staged is true when the user is staged (now, or already was: Status then
// says where that staging is); Status is the staging's status, or "failed" with Error.
type OnboardResult struct {
	UserID string `json:"userId"`
	Staged bool   `json:"staged"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Onboard licenses and stages users: for each, the template's licences the user does not hold directly are
// assigned through the licence operations (a refusal fails that user, and nothing is staged for them), then the
// user is staged with TemplateApplied, the site and the number. Results are in the order of req.UserIDs.
//
// Errors (nothing is done): EInvalid (1 to MaxOnboard distinct user ids; a number only with one user; a site or
// template that does not exist), ENotFound (customer), EConflict (the customer's switches are off, naming them; the
// requested site does not allow staging).
func (s *Service) Onboard(ctx context.Context, customerID, actor string, req OnboardRequest) ([]OnboardResult, error) {
	fields := map[string]string{}
	switch n := len(req.UserIDs); {
	case n == 0:
		fields["userIds"] = "at least one user is required"
	case n > MaxOnboard:
		fields["userIds"] = fmt.Sprintf("at most %d users", MaxOnboard)
	}
	seen := map[string]int{}
	ids := make([]string, len(req.UserIDs))
	for i, id := range req.UserIDs {
		id = strings.TrimSpace(id)
		ids[i] = id
		if id == "" {
			fields[fmt.Sprintf("userIds[%d]", i)] = "required"
			continue
		}
		if j, dup := seen[strings.ToLower(id)]; dup {
			fields[fmt.Sprintf("userIds[%d]", i)] = fmt.Sprintf("listed twice (also userIds[%d])", j)
		}
		seen[strings.ToLower(id)] = i
	}
	req.Number = strings.TrimSpace(req.Number)
	if req.Number != "" && len(req.UserIDs) > 1 {
		fields["number"] = "a number can be chosen for one user only"
	}
	if len(fields) > 0 {
		return nil, domain.Invalid(fields)
	}
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	set, err := s.Store.GetSettings(ctx, cust.ID)
	if err != nil {
		return nil, err
	}
	if err := switchesOff(cust, set); err != nil {
		return nil, err
	}
	if req.SiteID != "" {
		site, err := s.siteFor(ctx, cust.ID, req.SiteID, domain.User{}, nil)
		if err != nil {
			return nil, err
		}
		if !site.AllowStaging {
			return nil, &domain.Error{Code: domain.EConflict,
				Message: fmt.Sprintf("Site %s does not allow staging: turn on Allow User Staging on the site, or choose another.", siteName(site)),
				Fields:  map[string]string{"siteId": "the site does not allow staging"}}
		}
	}
	if req.Number != "" {
		if req.Number, err = s.checkNumber(ctx, cust.ID, req.Number, ids[0]); err != nil {
			return nil, err
		}
	}
	var tmpl domain.Template
	if req.TemplateID != "" {
		if tmpl, err = s.Store.GetTemplate(ctx, cust.ID, req.TemplateID); err != nil {
			if domain.ErrorCode(err) == domain.ENotFound {
				return nil, domain.Invalid(map[string]string{"templateId": "no such template"})
			}
			return nil, err
		}
	}
	out := make([]OnboardResult, len(ids))
	parallel(len(ids), onboardParallel, func(i int) {
		out[i] = s.onboardOne(ctx, cust, actor, ids[i], tmpl, req)
	})
	return out, nil
}

// onboardOne licenses and stages one user.
func (s *Service) onboardOne(ctx context.Context, cust domain.Customer, actor, userID string, tmpl domain.Template, req OnboardRequest) OnboardResult {
	res := OnboardResult{UserID: userID, Status: domain.StagingFailed}
	u, err := s.Store.GetUser(ctx, cust.ID, userID)
	if err != nil {
		res.Error = domain.ErrorMessage(err)
		return res
	}
	// Refuse before licensing a user who could not be staged (no site takes them, or it does not allow staging).
	if err := s.checkStageable(ctx, cust.ID, u, StageRequest{SiteID: req.SiteID}, nil); err != nil {
		res.Error = domain.ErrorMessage(err)
		return res
	}
	// Onboarding stages the user itself, with its own choices: the licence operations must not.
	lctx := licensing.WithManagedBy(licensing.WithoutStaging(ctx), domain.ManagedByTemplate)
	for _, l := range tmpl.Licences {
		if holdsDirectly(u, l.SkuID) {
			continue
		}
		r, err := s.Licensing.Assign(lctx, actor, cust.ID, u.ID, licensing.Change{SkuID: l.SkuID, DisabledPlans: l.DisabledPlans})
		if err != nil {
			if alreadyHeld(err) {
				continue
			}
			res.Error = domain.ErrorMessage(err)
			return res
		}
		u = r.User
	}
	rec, err := s.Stage(ctx, StageRequest{CustomerID: cust.ID, UserID: u.ID, Reason: ReasonOnboarding, Actor: actor,
		SiteID: req.SiteID, TemplateID: req.TemplateID, Number: req.Number, TemplateApplied: req.TemplateID != ""})
	if err != nil {
		res.Error = domain.ErrorMessage(err)
		return res
	}
	res.Staged, res.Status = true, rec.Status
	return res
}

// checkNumber checks a number chosen for a user: in E.164 form, in the inventory, and free (or the user's already).
// It returns the number as the inventory spells it.
func (s *Service) checkNumber(ctx context.Context, customerID, number, userID string) (string, error) {
	num, err := numbers.ParseE164(number)
	if err != nil {
		return "", domain.Invalid(map[string]string{"number": err.Error()})
	}
	n, err := s.Store.GetNumber(ctx, customerID, num)
	switch {
	case domain.ErrorCode(err) == domain.ENotFound:
		return "", domain.Invalid(map[string]string{"number": "not in the customer's number inventory"})
	case err != nil:
		return "", err
	case n.UserID != "" && !strings.EqualFold(n.UserID, userID):
		holder := n.UserName
		if holder == "" {
			holder = n.UserID
		}
		return "", &domain.Error{Code: domain.EConflict, Message: fmt.Sprintf("Number %s is %s for %s: choose another.", num, n.Status, holder),
			Fields: map[string]string{"number": n.Status + " for " + holder}}
	}
	return num, nil
}
