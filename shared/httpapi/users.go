package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// updateCustomerRequest is the body of PATCH /customers/{id}.
type updateCustomerRequest struct {
	SyncIntervalMinutes *int   `json:"syncIntervalMinutes"`
	Version             *int64 `json:"version"`
}

func (a *api) updateCustomer(c echo.Context) error {
	var req updateCustomerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if req.Version == nil {
		fields["version"] = "required: the version you read, so that a concurrent change is not overwritten"
	}
	switch m := req.SyncIntervalMinutes; {
	case m == nil:
		fields["syncIntervalMinutes"] = "required"
	case *m < domain.MinSyncIntervalMinutes || *m > domain.MaxSyncIntervalMinutes:
		fields["syncIntervalMinutes"] = "must be from 15 to 1440 minutes"
	}
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	cust, err := a.Store.UpdateSyncInterval(c.Request().Context(), c.Param("id"), *req.Version, *req.SyncIntervalMinutes,
		principal(c).Subject, time.Now().UTC())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cust)
}

// userView is a user as the API shows it: licences with the catalogue's names and the add-ons on or off.
type userView struct {
	domain.User
	Licensed   bool          `json:"licensed"`
	HasErrors  bool          `json:"hasErrors"`
	LastSeenAt *time.Time    `json:"lastSeenAt,omitempty"`
	Licences   []licenceView `json:"licences"`
}

type licenceView struct {
	SkuID      string      `json:"skuId"`
	PartNumber string      `json:"partNumber"`
	Name       string      `json:"name"`
	Direct     bool        `json:"direct"`
	Groups     []groupView `json:"groups"`
	State      string      `json:"state"`
	Error      string      `json:"error"`
	Plans      []addOnView `json:"plans"`
}

type groupView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type addOnView struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	FriendlyName string `json:"friendlyName"`
	Enabled      bool   `json:"enabled"`
}

// viewUser shows a user; lastFull is the customer's last complete full read, which saw every active user; groups
// names the customer's licensing groups.
func viewUser(u domain.User, lastFull *time.Time, groups map[string]string) userView {
	v := userView{User: u, Licensed: u.Licensed(), HasErrors: u.HasErrors(), Licences: make([]licenceView, len(u.Licences))}
	seen := u.ChangedAt
	if u.Status == domain.UserActive && lastFull != nil && lastFull.After(seen) {
		seen = *lastFull
	}
	if !seen.IsZero() {
		v.LastSeenAt = &seen
	}
	for i, l := range u.Licences {
		lv := licenceView{SkuID: l.SkuID, Direct: l.Direct, Groups: make([]groupView, len(l.Groups)), State: l.State,
			Error: l.Error, Plans: []addOnView{}}
		for j, g := range l.Groups {
			lv.Groups[j] = groupView{ID: g, Name: groups[strings.ToLower(g)]}
		}
		disabled := map[string]bool{}
		for _, p := range l.DisabledPlans {
			disabled[p] = true
		}
		if p, ok := catalog.Lookup(l.SkuID); ok {
			lv.PartNumber, lv.Name = p.PartNumber, p.Name
			for _, plan := range p.Plans {
				lv.Plans = append(lv.Plans, addOnView{ID: plan.ID, Name: plan.Name, FriendlyName: orText(plan.FriendlyName, plan.Name), Enabled: !disabled[plan.ID]})
			}
		} else {
			lv.Name = l.SkuID
		}
		v.Licences[i] = lv
	}
	return v
}

func (a *api) listUsers(c echo.Context) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cust, err := a.Store.GetCustomer(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	sku := c.QueryParam("sku")
	if sku != "" && !guidPattern.MatchString(sku) {
		return domain.Invalid(map[string]string{"sku": "must be a SKU id (a GUID)"})
	}
	q := store.UserQuery{Q: c.QueryParam("q"), SkuID: sku, Filter: c.QueryParam("filter"), Cursor: cursor, Limit: limit}
	if kind := c.QueryParam("kind"); kind != "" {
		if q.SkuIDs, err = a.skusOfKind(ctx, cust.ID, kind); err != nil {
			return err
		}
		if len(q.SkuIDs) == 0 { // the customer has no licence of this kind: nobody holds one
			return c.JSON(http.StatusOK, store.Page[userView]{Items: []userView{}})
		}
	}
	page, err := a.Store.ListUsers(ctx, cust.ID, q)
	if err != nil {
		return err
	}
	groups, err := a.Store.GroupNames(ctx, cust.ID)
	if err != nil {
		return err
	}
	out := store.Page[userView]{Items: make([]userView, len(page.Items)), NextCursor: page.NextCursor}
	for i, u := range page.Items {
		out.Items[i] = viewUser(u, cust.Sync.LastFullSyncAt, groups)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *api) getUser(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := a.Store.GetCustomer(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	u, err := a.Store.GetUser(ctx, cust.ID, c.Param("userId"))
	if err != nil {
		return err
	}
	groups, err := a.Store.GroupNames(ctx, cust.ID)
	if err != nil {
		return err
	}
	prov, err := a.provisioning(ctx, cust.ID, u.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userDetailView{userView: viewUser(u, cust.Sync.LastFullSyncAt, groups), Provisioning: prov})
}

// userDetailView is one user as GET …/users/{userId} shows them: with where they are placed and their number.
type userDetailView struct {
	userView
	Provisioning provisioningView `json:"provisioning"`
}

// provisioningView is a user's site and number as Seatwise provisioned (or imported) them, and their staging in
// short (nil when never staged).
type provisioningView struct {
	SiteID     string              `json:"siteId"`
	SiteName   string              `json:"siteName"`
	Number     string              `json:"number"`
	NumberType string              `json:"numberType"`
	Extension  string              `json:"extension"`
	Staging    *stagingSummaryView `json:"staging"`
}

type stagingSummaryView struct {
	Status     string `json:"status"`
	LastResult string `json:"lastResult"`
	Error      string `json:"error"`
}

// provisioning reads a user's provisioning block: a site since deleted has no name.
func (a *api) provisioning(ctx context.Context, customerID, userID string) (provisioningView, error) {
	p, err := a.Store.GetProvisioning(ctx, customerID, userID)
	if err != nil {
		return provisioningView{}, err
	}
	v := provisioningView{SiteID: p.SiteID, Number: p.Number, NumberType: p.NumberType, Extension: p.Extension}
	if p.SiteID != "" {
		site, err := a.Store.GetSite(ctx, customerID, p.SiteID)
		switch {
		case err == nil:
			v.SiteName = site.Name
		case domain.ErrorCode(err) != domain.ENotFound:
			return provisioningView{}, err
		}
	}
	st, err := a.Store.GetStaging(ctx, customerID, userID)
	switch {
	case err == nil:
		v.Staging = &stagingSummaryView{Status: st.Status, LastResult: st.LastResult, Error: st.Error}
	case domain.ErrorCode(err) != domain.ENotFound:
		return provisioningView{}, err
	}
	return v, nil
}

func (a *api) syncRuns(c echo.Context) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := a.Store.GetCustomer(ctx, c.Param("id")); err != nil {
		return err
	}
	page, err := a.Store.SyncRuns(ctx, c.Param("id"), cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
