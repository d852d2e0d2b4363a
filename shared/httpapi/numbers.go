package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/store"
)

// The number inventory of a customer (shared/numbers does the work): list and search, add numbers and ranges,
// import the tenant's numbers from Teams, edit, remove, assign by hand and release. Read by any role in scope;
// changed by customer admins and above. A number in the path is E.164 with its "+" literal or URL-encoded (%2B).

func (a *api) numbers() (*numbers.Service, error) {
	if a.Deps.Numbers == nil {
		return nil, domain.Errorf(domain.EInternal, "the number inventory is not configured")
	}
	return a.Deps.Numbers, nil
}

var (
	numberStatuses = map[string]bool{domain.NumberAvailable: true, domain.NumberReserved: true, domain.NumberAssigned: true, domain.NumberQuarantined: true}
	numberTypes    = map[string]bool{domain.NumberDirectRouting: true, domain.NumberOperatorConnect: true, domain.NumberCallingPlan: true}
)

func (a *api) listNumbers(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	q := store.NumberQuery{Q: c.QueryParam("q"), SiteID: c.QueryParam("siteId"), Status: c.QueryParam("status"),
		Type: c.QueryParam("type"), Cursor: cursor, Limit: limit}
	fields := map[string]string{}
	if q.Status != "" && !numberStatuses[q.Status] {
		fields["status"] = "must be available, reserved, assigned or quarantined"
	}
	if q.Type != "" && !numberTypes[q.Type] {
		fields["type"] = "must be directRouting, operatorConnect or callingPlan"
	}
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	page, err := svc.List(c.Request().Context(), c.Param("id"), q)
	if err != nil {
		return err
	}
	if page.Items == nil {
		page.Items = []domain.Number{}
	}
	return c.JSON(http.StatusOK, page)
}

func (a *api) addNumbers(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	var in numbers.AddInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	res, err := svc.Add(c.Request().Context(), c.Param("id"), principal(c).Subject, in)
	if err != nil {
		return err
	}
	res.Added, res.Existing = nonNilStrings(res.Added), nonNilStrings(res.Existing)
	return c.JSON(http.StatusCreated, res)
}

// importRequest is the optional body of POST …/numbers/import.
type importRequest struct {
	SiteID string `json:"siteId"`
}

func (a *api) importNumbers(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	var req importRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	res, err := svc.Import(c.Request().Context(), c.Param("id"), principal(c).Subject, req.SiteID)
	if err != nil {
		return err
	}
	res.Conflicts = nonNilStrings(res.Conflicts)
	return c.JSON(http.StatusOK, res)
}

func (a *api) getNumber(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	number, err := numberParam(c)
	if err != nil {
		return err
	}
	n, err := svc.Get(c.Request().Context(), c.Param("id"), number)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

// numberUpdateRequest is the body of PATCH …/numbers/{number}: the fields to change and the version read.
type numberUpdateRequest struct {
	numbers.UpdateInput
	Version *int64 `json:"version"`
}

func (a *api) updateNumber(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	number, err := numberParam(c)
	if err != nil {
		return err
	}
	var req numberUpdateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := bodyVersion(req.Version); err != nil {
		return err
	}
	n, err := svc.Update(c.Request().Context(), c.Param("id"), number, *req.Version, principal(c).Subject, req.UpdateInput)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

// deleteNumber takes the version read as ?version= (a DELETE has no body).
func (a *api) deleteNumber(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	number, err := numberParam(c)
	if err != nil {
		return err
	}
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	if err := svc.Delete(c.Request().Context(), c.Param("id"), number, version, principal(c).Subject); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"number": number, "deleted": true})
}

// assignNumberRequest is the body of POST …/numbers/{number}/assign.
type assignNumberRequest struct {
	UserID string `json:"userId"`
}

func (a *api) assignNumber(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	number, err := numberParam(c)
	if err != nil {
		return err
	}
	var req assignNumberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.UserID == "" {
		return domain.Invalid(map[string]string{"userId": "required: the user who gets the number"})
	}
	n, err := svc.AssignByHand(c.Request().Context(), c.Param("id"), number, req.UserID, principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (a *api) releaseNumber(c echo.Context) error {
	svc, err := a.numbers()
	if err != nil {
		return err
	}
	number, err := numberParam(c)
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	n, err := svc.Release(c.Request().Context(), c.Param("id"), number, principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}
