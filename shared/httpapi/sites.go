package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/sites"
)

// Sites of a customer (shared/sites does the work): where users are placed by criteria, with the template they get
// and their number policy. Read by any role in scope; written by customer admins and above, with the version read
// on edits and deletes (409 when someone else changed the site since).

// siteRequest is the body of POST …/sites and PUT …/sites/{siteId} (which also needs version).
type siteRequest struct {
	sites.SiteInput
	Version *int64 `json:"version"`
}

// viewSite shows a site: criteria always a list.
func viewSite(s domain.Site) domain.Site {
	if s.Criteria == nil {
		s.Criteria = []domain.Criterion{}
	}
	return s
}

// decodeSite returns the sites service and the decoded body of a create or an update.
func (a *api) decodeSite(c echo.Context) (*sites.Service, siteRequest, error) {
	svc, err := a.sites()
	if err != nil {
		return nil, siteRequest{}, err
	}
	var req siteRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, siteRequest{}, err
	}
	return svc, req, nil
}

func (a *api) listSites(c echo.Context) error {
	svc, err := a.sites()
	if err != nil {
		return err
	}
	list, err := svc.List(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]domain.Site, len(list))
	for i, s := range list {
		out[i] = viewSite(s)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (a *api) getSite(c echo.Context) error {
	svc, err := a.sites()
	if err != nil {
		return err
	}
	s, err := svc.Get(c.Request().Context(), c.Param("id"), c.Param("siteId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewSite(s))
}

func (a *api) createSite(c echo.Context) error {
	svc, req, err := a.decodeSite(c)
	if err != nil {
		return err
	}
	if req.Version != nil {
		return domain.Invalid(map[string]string{"version": "a new site has no version yet"})
	}
	s, err := svc.Create(c.Request().Context(), c.Param("id"), principal(c).Subject, req.SiteInput)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewSite(s))
}

func (a *api) updateSite(c echo.Context) error {
	svc, req, err := a.decodeSite(c)
	if err != nil {
		return err
	}
	if err := bodyVersion(req.Version); err != nil {
		return err
	}
	s, err := svc.Update(c.Request().Context(), c.Param("id"), c.Param("siteId"), *req.Version, principal(c).Subject, req.SiteInput)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewSite(s))
}

// deleteSite takes the version read as ?version= (a DELETE has no body).
func (a *api) deleteSite(c echo.Context) error {
	svc, err := a.sites()
	if err != nil {
		return err
	}
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	if err := svc.Delete(c.Request().Context(), c.Param("id"), c.Param("siteId"), version, principal(c).Subject); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("siteId"), "deleted": true})
}
