package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
)

// Staging (shared/staging does the work): users waiting to appear in Teams before they are provisioned, staged by
// hand, checked at once ("Un-stage now") or taken out of staging; and onboarding, which licenses users and stages
// them in one request. Read by any role in scope; changed by customer admins and above.

func (a *api) staging() (*staging.Service, error) {
	if a.Deps.Staging == nil {
		return nil, domain.Errorf(domain.EInternal, "staging is not configured")
	}
	return a.Deps.Staging, nil
}

var stagingStatuses = map[string]bool{"active": true, domain.StagingStaged: true, domain.StagingProvisioning: true,
	domain.StagingProvisioned: true, domain.StagingFailed: true, domain.StagingRemoved: true}

// listStaging lists the customer's staging records, or with ?users= the records of those users (the onboarding
// live view), in the order asked, leaving out users never staged.
func (a *api) listStaging(c echo.Context) error {
	svc, err := a.staging()
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	status, users := c.QueryParam("status"), c.QueryParam("users")
	if status != "" && !stagingStatuses[status] {
		return domain.Invalid(map[string]string{"status": "must be active, staged, provisioning, provisioned, failed or removed"})
	}
	ctx := c.Request().Context()
	if users == "" {
		if _, err := a.Store.GetCustomer(ctx, c.Param("id")); err != nil {
			return err
		}
		page, err := svc.List(ctx, c.Param("id"), store.StagingQuery{Status: status, Cursor: cursor, Limit: limit})
		if err != nil {
			return err
		}
		if page.Items == nil {
			page.Items = []domain.Staging{}
		}
		return c.JSON(http.StatusOK, page)
	}

	var ids []string
	seen := map[string]bool{}
	for _, id := range strings.Split(users, ",") {
		if id = strings.TrimSpace(id); id != "" && !seen[strings.ToLower(id)] {
			seen[strings.ToLower(id)] = true
			ids = append(ids, id)
		}
	}
	switch {
	case status != "" || cursor != "":
		return domain.Invalid(map[string]string{"users": "cannot be combined with status or cursor"})
	case len(ids) == 0:
		return domain.Invalid(map[string]string{"users": "comma-separated user ids"})
	case len(ids) > staging.MaxByUsers:
		return domain.Invalid(map[string]string{"users": fmt.Sprintf("at most %d users", staging.MaxByUsers)})
	}
	if _, err := a.Store.GetCustomer(ctx, c.Param("id")); err != nil {
		return err
	}
	found, err := svc.ByUsers(ctx, c.Param("id"), ids)
	if err != nil {
		return err
	}
	page := store.Page[domain.Staging]{Items: []domain.Staging{}}
	for _, id := range ids {
		s, ok := found[id]
		if !ok {
			s, ok = found[strings.ToLower(id)]
		}
		if ok {
			page.Items = append(page.Items, s)
		}
	}
	return c.JSON(http.StatusOK, page)
}

// stageRequest is the body of POST …/staging.
type stageRequest struct {
	UserID string `json:"userId"`
}

func (a *api) stageUser(c echo.Context) error {
	svc, err := a.staging()
	if err != nil {
		return err
	}
	var req stageRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.UserID = strings.TrimSpace(req.UserID); req.UserID == "" {
		return domain.Invalid(map[string]string{"userId": "required: the user to stage"})
	}
	s, err := svc.Stage(c.Request().Context(), staging.StageRequest{CustomerID: c.Param("id"), UserID: req.UserID,
		Reason: staging.ReasonManual, Actor: principal(c).Subject})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

// checkStaging is "Un-stage now": the readiness check at once, provisioning the user when they are in Teams.
func (a *api) checkStaging(c echo.Context) error {
	svc, err := a.staging()
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	res, err := svc.CheckNow(c.Request().Context(), c.Param("id"), c.Param("userId"), principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (a *api) removeStaging(c echo.Context) error {
	svc, err := a.staging()
	if err != nil {
		return err
	}
	s, err := svc.Remove(c.Request().Context(), c.Param("id"), c.Param("userId"), principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

// onboardResponse has one result per user, in the order of the request.
type onboardResponse struct {
	Results []staging.OnboardResult `json:"results"`
}

func (a *api) onboard(c echo.Context) error {
	svc, err := a.staging()
	if err != nil {
		return err
	}
	var req staging.OnboardRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	results, err := svc.Onboard(c.Request().Context(), c.Param("id"), principal(c).Subject, req)
	if err != nil {
		return err
	}
	if results == nil {
		results = []staging.OnboardResult{}
	}
	return c.JSON(http.StatusOK, onboardResponse{Results: results})
}
