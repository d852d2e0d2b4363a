package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/licensing"
)

// Licence operations on one user (shared/licensing does the work): assign with add-ons, change add-ons, remove,
// reassign a seat to another user, offboard. Every route needs customer-admin or above within the scope.

// licenceResultView is the answer of assign, change add-ons and remove: the user as Graph answered.
type licenceResultView struct {
	User      userView `json:"user"`
	RequestID string   `json:"requestId"`
	Notes     []string `json:"notes"`
}

func viewLicenceResult(r licensing.Result, groups map[string]string) licenceResultView {
	return licenceResultView{User: viewUser(r.User, nil, groups), RequestID: r.RequestID, Notes: nonNilStrings(r.Notes)}
}

// groupNames are the customer's stored group names, for views after a change (none when they cannot be read: the
// change is made, and the names are only a nicety).
func (a *api) groupNames(c echo.Context) map[string]string {
	names, err := a.Store.GroupNames(c.Request().Context(), c.Param("id"))
	if err != nil {
		a.Log.WarnContext(c.Request().Context(), "group names not read", "customer", c.Param("id"), "err", err)
		return map[string]string{}
	}
	return names
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// assignLicenceRequest is the body of POST …/users/{userId}/licences.
type assignLicenceRequest struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

func (a *api) licensing() (*licensing.Service, error) {
	if a.Licensing == nil {
		return nil, domain.Errorf(domain.EInternal, "licence operations are not configured")
	}
	return a.Licensing, nil
}

func (a *api) assignLicence(c echo.Context) error {
	var req assignLicenceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	svc, err := a.licensing()
	if err != nil {
		return err
	}
	res, err := svc.Assign(c.Request().Context(), principal(c).Subject, c.Param("id"), c.Param("userId"),
		licensing.Change{SkuID: req.SkuID, DisabledPlans: req.DisabledPlans})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewLicenceResult(res, a.groupNames(c)))
}

// changeAddOnsRequest is the body of PUT …/licences/{skuId}: the SKU's service plans to switch off (all of them:
// [] switches every add-on on).
type changeAddOnsRequest struct {
	DisabledPlans *[]string `json:"disabledPlans"`
}

func (a *api) changeAddOns(c echo.Context) error {
	var req changeAddOnsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.DisabledPlans == nil {
		return domain.Invalid(map[string]string{"disabledPlans": "required: the service plans to switch off ([] for none)"})
	}
	svc, err := a.licensing()
	if err != nil {
		return err
	}
	res, err := svc.ChangeAddOns(c.Request().Context(), principal(c).Subject, c.Param("id"), c.Param("userId"),
		licensing.Change{SkuID: c.Param("skuId"), DisabledPlans: *req.DisabledPlans})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewLicenceResult(res, a.groupNames(c)))
}

func (a *api) removeLicence(c echo.Context) error {
	svc, err := a.licensing()
	if err != nil {
		return err
	}
	res, err := svc.Remove(c.Request().Context(), principal(c).Subject, c.Param("id"), c.Param("userId"), c.Param("skuId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewLicenceResult(res, a.groupNames(c)))
}

// reassignRequest is the body of POST …/licences/{skuId}/reassign.
type reassignRequest struct {
	ToUserID string `json:"toUserId"`
	// DisabledPlans, when given, are the add-ons the new holder gets switched off; else the old holder's.
	DisabledPlans *[]string `json:"disabledPlans"`
}

// reassignView says what a reassignment did.
type reassignView struct {
	SkuID        string     `json:"skuId"`
	SkuName      string     `json:"skuName"`
	Done         bool       `json:"done"`
	FromHolds    bool       `json:"fromHolds"`
	FromRegained bool       `json:"fromRegained"`
	ToHolds      bool       `json:"toHolds"`
	ToError      string     `json:"toError"`
	FromError    string     `json:"fromError"`
	Message      string     `json:"message"`
	Steps        []stepView `json:"steps"`
	From         userView   `json:"from"`
	To           userView   `json:"to"`
	Notes        []string   `json:"notes"`
}

type stepView struct {
	Action    string `json:"action"`
	UserID    string `json:"userId"`
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	RequestID string `json:"requestId"`
}

func viewReassign(r licensing.ReassignResult, groups map[string]string) reassignView {
	v := reassignView{SkuID: r.SkuID, SkuName: r.SkuName, Done: r.Done, FromHolds: r.FromHolds, FromRegained: r.FromRegained,
		ToHolds: r.ToHolds, ToError: r.ToError, FromError: r.FromError, Message: r.Message, Steps: []stepView{},
		From: viewUser(r.From, nil, groups), To: viewUser(r.To, nil, groups), Notes: nonNilStrings(r.Notes)}
	for _, s := range r.Steps {
		v.Steps = append(v.Steps, stepView{Action: s.Action, UserID: s.UserID, OK: s.OK, Error: s.Error, RequestID: s.RequestID})
	}
	return v
}

// reassignErrorBody is the answer of a reassignment that did not complete after changing something (or trying
// to): the error, and what was done.
type reassignErrorBody struct {
	Error    errorDetail  `json:"error"`
	Reassign reassignView `json:"reassign"`
}

func (a *api) reassignLicence(c echo.Context) error {
	var req reassignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	svc, err := a.licensing()
	if err != nil {
		return err
	}
	var plans []string
	if req.DisabledPlans != nil {
		plans = append([]string{}, *req.DisabledPlans...)
	}
	res, err := svc.Reassign(c.Request().Context(), principal(c).Subject, c.Param("id"), c.Param("userId"), c.Param("skuId"),
		req.ToUserID, plans)
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, viewReassign(res, a.groupNames(c)))
	case len(res.Steps) == 0:
		return err // refused before Graph changed anything
	}
	code := domain.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok || code == domain.EInternal {
		return err
	}
	body := reassignErrorBody{Error: errorDetail{Code: code, Message: domain.ErrorMessage(err)}, Reassign: viewReassign(res, a.groupNames(c))}
	var de *domain.Error
	if errors.As(err, &de) {
		body.Error.Fields = de.Fields
	}
	return c.JSON(status, body)
}

// offboardView says what offboarding did to a user's licences.
type offboardView struct {
	User         userView           `json:"user"`
	Removed      []removedView      `json:"removed"`
	KeptViaGroup []groupLicenceView `json:"keptViaGroup"`
	RequestID    string             `json:"requestId"`
	Notes        []string           `json:"notes"`
}

type removedView struct {
	SkuID string `json:"skuId"`
	Name  string `json:"name"`
}

type groupLicenceView struct {
	SkuID  string      `json:"skuId"`
	Name   string      `json:"name"`
	Groups []groupView `json:"groups"`
}

func (a *api) offboardUser(c echo.Context) error {
	if c.Request().ContentLength != 0 {
		var req struct{}
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	svc, err := a.licensing()
	if err != nil {
		return err
	}
	res, err := svc.Offboard(c.Request().Context(), principal(c).Subject, c.Param("id"), c.Param("userId"))
	if err != nil {
		return err
	}
	v := offboardView{User: viewUser(res.User, nil, a.groupNames(c)), Removed: []removedView{}, KeptViaGroup: []groupLicenceView{},
		RequestID: res.RequestID, Notes: nonNilStrings(res.Notes)}
	for _, l := range res.Removed {
		v.Removed = append(v.Removed, removedView{SkuID: l.SkuID, Name: catalog.DisplayName(l.SkuID, "")})
	}
	for _, gl := range res.KeptViaGroup {
		g := groupLicenceView{SkuID: gl.SkuID, Name: gl.Name, Groups: []groupView{}}
		for _, gr := range gl.Groups {
			g.Groups = append(g.Groups, groupView{ID: gr.ID, Name: gr.Name})
		}
		v.KeptViaGroup = append(v.KeptViaGroup, g)
	}
	return c.JSON(http.StatusOK, v)
}
