package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/licensing"
)

// Templates (service profiles) of a customer: read by any role in scope, written and assigned by customer admins
// and above. Edits carry the version read (optimistic locking: 409 when someone else changed the template since).

// Templates manages templates (*licensing.Templates implements it). Errors carry domain codes (see licensing).
type Templates interface {
	List(ctx context.Context, customerID string) ([]domain.Template, error)
	Get(ctx context.Context, customerID, templateID string) (domain.Template, error)
	Create(ctx context.Context, customerID, actor string, in licensing.TemplateInput) (domain.Template, error)
	Update(ctx context.Context, customerID, templateID string, version int64, actor string, in licensing.TemplateInput) (domain.Template, error)
	Delete(ctx context.Context, customerID, templateID string, version int64, actor string) error
	Assign(ctx context.Context, customerID, templateID, actor string, userIDs []string) ([]licensing.BulkResult, error)
}

var _ Templates = (*licensing.Templates)(nil)

// templateView is a template as the API shows it: its licences with the catalogue's names and their kind.
type templateView struct {
	ID          string                `json:"id"`
	CustomerID  string                `json:"customerId"`
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Licences    []templateLicenceView `json:"licences"`
	Version     int64                 `json:"version"`
	CreatedAt   time.Time             `json:"createdAt"`
	UpdatedAt   time.Time             `json:"updatedAt"`
}

type templateLicenceView struct {
	SkuID         string   `json:"skuId"`
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	DisabledPlans []string `json:"disabledPlans"`
}

func viewTemplate(t domain.Template) templateView {
	v := templateView{ID: t.ID, CustomerID: t.CustomerID, Name: t.Name, Description: t.Description,
		Licences: make([]templateLicenceView, len(t.Licences)), Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	for i, l := range t.Licences {
		v.Licences[i] = templateLicenceView{SkuID: l.SkuID, Name: catalog.DisplayName(l.SkuID, ""), Kind: catalog.Kind(l.SkuID, ""),
			DisabledPlans: nonNilStrings(l.DisabledPlans)}
	}
	return v
}

func (a *api) templates() (Templates, error) {
	if a.Deps.Templates == nil {
		return nil, domain.Errorf(domain.EInternal, "templates are not configured")
	}
	return a.Deps.Templates, nil
}

// templateRequest is the body of POST …/templates and PUT …/templates/{templateId} (which also needs version).
type templateRequest struct {
	licensing.TemplateInput
	Version *int64 `json:"version"`
}

// decodeTemplate returns the templates service and the decoded body of a create or an update.
func (a *api) decodeTemplate(c echo.Context) (Templates, templateRequest, error) {
	ts, err := a.templates()
	if err != nil {
		return nil, templateRequest{}, err
	}
	var req templateRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, templateRequest{}, err
	}
	return ts, req, nil
}

func (a *api) listTemplates(c echo.Context) error {
	ts, err := a.templates()
	if err != nil {
		return err
	}
	list, err := ts.List(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]templateView, len(list))
	for i, t := range list {
		out[i] = viewTemplate(t)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (a *api) getTemplate(c echo.Context) error {
	ts, err := a.templates()
	if err != nil {
		return err
	}
	t, err := ts.Get(c.Request().Context(), c.Param("id"), c.Param("templateId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewTemplate(t))
}

func (a *api) createTemplate(c echo.Context) error {
	ts, req, err := a.decodeTemplate(c)
	if err != nil {
		return err
	}
	if req.Version != nil {
		return domain.Invalid(map[string]string{"version": "a new template has no version yet"})
	}
	t, err := ts.Create(c.Request().Context(), c.Param("id"), principal(c).Subject, req.TemplateInput)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewTemplate(t))
}

func (a *api) updateTemplate(c echo.Context) error {
	ts, req, err := a.decodeTemplate(c)
	if err != nil {
		return err
	}
	if req.Version == nil {
		return domain.Invalid(map[string]string{"version": "required: the version you read, so that a concurrent change is not overwritten"})
	}
	t, err := ts.Update(c.Request().Context(), c.Param("id"), c.Param("templateId"), *req.Version, principal(c).Subject, req.TemplateInput)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewTemplate(t))
}

// deleteTemplate takes the version read as ?version= (a DELETE has no body).
func (a *api) deleteTemplate(c echo.Context) error {
	ts, err := a.templates()
	if err != nil {
		return err
	}
	version, err := strconv.ParseInt(c.QueryParam("version"), 10, 64)
	if err != nil || version < 1 {
		return domain.Invalid(map[string]string{"version": "required (?version=): the version you read, so that a concurrent change is not lost"})
	}
	if err := ts.Delete(c.Request().Context(), c.Param("id"), c.Param("templateId"), version, principal(c).Subject); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("templateId"), "deleted": true})
}

// assignTemplateRequest is the body of POST …/templates/{templateId}/assign.
type assignTemplateRequest struct {
	UserIDs []string `json:"userIds"`
}

// assignTemplateResponse has one result per user, in the order of the request, and their totals.
type assignTemplateResponse struct {
	Items   []licensing.BulkResult `json:"items"`
	Summary map[string]int         `json:"summary"`
}

func (a *api) assignTemplate(c echo.Context) error {
	ts, err := a.templates()
	if err != nil {
		return err
	}
	var req assignTemplateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	results, err := ts.Assign(c.Request().Context(), c.Param("id"), c.Param("templateId"), principal(c).Subject, req.UserIDs)
	if err != nil {
		return err
	}
	out := assignTemplateResponse{Items: results, Summary: map[string]int{licensing.BulkOK: 0, licensing.BulkUnchanged: 0, licensing.BulkFailed: 0}}
	for _, r := range results {
		out.Summary[r.Outcome]++
	}
	return c.JSON(http.StatusOK, out)
}
