package httpapi

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func (a *api) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": a.Version})
}

func (a *api) me(c echo.Context) error {
	return c.JSON(http.StatusOK, principal(c))
}

// createCustomerRequest is the body of POST /customers.
type createCustomerRequest struct {
	Name         string `json:"name"`
	TenantID     string `json:"tenantId"`
	PublicSector bool   `json:"publicSector"`
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

const maxNameLen = 200

func (r *createCustomerRequest) validate() error {
	r.Name, r.TenantID = strings.TrimSpace(r.Name), strings.ToLower(strings.TrimSpace(r.TenantID))
	fields := map[string]string{}
	switch {
	case r.Name == "":
		fields["name"] = "required"
	case utf8.RuneCountInString(r.Name) > maxNameLen:
		fields["name"] = "at most 200 characters"
	case strings.IndexFunc(r.Name, unicode.IsControl) >= 0:
		fields["name"] = "must not contain control characters"
	}
	switch {
	case r.TenantID == "":
		fields["tenantId"] = "required"
	case !guidPattern.MatchString(r.TenantID):
		fields["tenantId"] = "must be a GUID such as 00000000-0000-0000-0000-000000000000"
	}
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	return nil
}

func (a *api) createCustomer(c echo.Context) error {
	var req createCustomerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	newID := a.NewID
	if newID == nil {
		newID = uuid.NewString
	}
	cust := domain.Customer{
		ID: newID(), Name: req.Name, TenantID: req.TenantID, PublicSector: req.PublicSector,
		CreatedAt: time.Now().UTC(), Version: 1, SyncIntervalMinutes: domain.DefaultSyncIntervalMinutes,
		Sync: domain.SyncState{Status: domain.SyncNever},
	}
	if err := a.Store.CreateCustomer(c.Request().Context(), cust, principal(c).Subject); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, cust)
}

func (a *api) getCustomer(c echo.Context) error {
	cust, err := a.Store.GetCustomer(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cust)
}

// pageParams reads ?cursor=&limit=.
func pageParams(c echo.Context) (string, int, error) {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return "", 0, domain.Invalid(map[string]string{"limit": "must be a whole number from 1 to 200"})
		}
		limit = n
	}
	return c.QueryParam("cursor"), limit, nil
}

func (a *api) listCustomers(c echo.Context) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	if p.AllScope() {
		page, err := a.Store.ListCustomers(ctx, cursor, limit)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, page)
	}
	// A scoped caller has a short, explicit list of customers: read them directly.
	page := store.Page[domain.Customer]{Items: []domain.Customer{}}
	for _, id := range p.Scope {
		cust, err := a.Store.GetCustomer(ctx, id)
		if domain.ErrorCode(err) == domain.ENotFound {
			continue
		}
		if err != nil {
			return err
		}
		page.Items = append(page.Items, cust)
	}
	return c.JSON(http.StatusOK, page)
}

func (a *api) syncCustomer(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := a.Store.GetCustomer(ctx, c.Param("id")); err != nil {
		return err
	}
	cust, err := a.Sync.RequestSync(ctx, c.Param("id"), principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, cust)
}

// skuView is a SKU as the API shows it: Graph's figures with the catalogue's names.
type skuView struct {
	CustomerID       string     `json:"customerId"`
	CustomerName     string     `json:"customerName"`
	SkuID            string     `json:"skuId"`
	PartNumber       string     `json:"partNumber"`
	Name             string     `json:"name"`
	Kind             string     `json:"kind"` // catalog.KindBase or catalog.KindAddOn
	Active           int        `json:"active"`
	Used             int        `json:"used"`
	Available        int        `json:"available"`
	Suspended        int        `json:"suspended"`
	Warning          int        `json:"warning"`
	CapabilityStatus string     `json:"capabilityStatus"`
	AppliesTo        string     `json:"appliesTo"`
	ServicePlans     []planView `json:"servicePlans"`
	UpdatedAt        time.Time  `json:"updatedAt"`
}

type planView struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	FriendlyName       string `json:"friendlyName"`
	ProvisioningStatus string `json:"provisioningStatus,omitempty"`
}

func viewSKU(s domain.CustomerSKU) skuView {
	v := skuView{
		CustomerID: s.CustomerID, CustomerName: s.CustomerName, SkuID: s.SkuID, PartNumber: s.PartNumber,
		Name: catalog.DisplayName(s.SkuID, s.PartNumber), Kind: catalog.Kind(s.SkuID, s.PartNumber), Active: s.Enabled, Used: s.Consumed, Available: s.Available(),
		Suspended: s.Suspended, Warning: s.Warning, CapabilityStatus: s.CapabilityStatus, AppliesTo: s.AppliesTo,
		ServicePlans: make([]planView, len(s.ServicePlans)), UpdatedAt: s.UpdatedAt,
	}
	for i, p := range s.ServicePlans {
		pv := planView{ID: p.ID, Name: p.Name, FriendlyName: p.Name, ProvisioningStatus: p.ProvisioningStatus}
		if _, friendly, ok := catalog.PlanName(p.ID); ok && friendly != "" {
			pv.FriendlyName = friendly
		}
		v.ServicePlans[i] = pv
	}
	return v
}

func viewSKUs(skus []domain.CustomerSKU) []skuView {
	out := make([]skuView, len(skus))
	for i, s := range skus {
		out[i] = viewSKU(s)
	}
	return out
}

func (a *api) customerSKUs(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := a.Store.GetCustomer(ctx, c.Param("id")); err != nil {
		return err
	}
	skus, err := a.Store.CustomerSKUs(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": viewSKUs(skus)})
}

func (a *api) listSKUs(c echo.Context) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	if p.AllScope() {
		page, err := a.Store.ListSKUs(ctx, cursor, limit)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, store.Page[skuView]{Items: viewSKUs(page.Items), NextCursor: page.NextCursor})
	}
	var all []domain.CustomerSKU
	for _, id := range p.Scope {
		skus, err := a.Store.CustomerSKUs(ctx, id)
		if err != nil {
			return err
		}
		all = append(all, skus...)
	}
	return c.JSON(http.StatusOK, store.Page[skuView]{Items: viewSKUs(all)})
}
