// Package httpapi is Seatwise's HTTP API (/api/v1): echo routes, one authorization middleware driven by a route
// table, and one error mapping. The same *echo.Echo serves Lambda (through echoadapter) and the local runner.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/bulkjob"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// Store is the state the API reads and writes.
type Store interface {
	CreateCustomer(ctx context.Context, c domain.Customer, actor string) error
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	ListCustomers(ctx context.Context, cursor string, limit int) (store.Page[domain.Customer], error)
	CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error)
	ListSKUs(ctx context.Context, cursor string, limit int) (store.Page[domain.CustomerSKU], error)
	UpdateSyncInterval(ctx context.Context, customerID string, version int64, minutes int, actor string, at time.Time) (domain.Customer, error)
	ListUsers(ctx context.Context, customerID string, q store.UserQuery) (store.Page[domain.User], error)
	GetUser(ctx context.Context, customerID, userID string) (domain.User, error)
	SyncRuns(ctx context.Context, customerID, cursor string, limit int) (store.Page[domain.SyncRun], error)
	ListAudit(ctx context.Context, customerID string, q store.AuditQuery) (store.Page[domain.AuditRecord], error)
	GroupNames(ctx context.Context, customerID string) (map[string]string, error)
	// Reads for the user's provisioning block (changes go through the sites, numbers and staging services).
	GetSite(ctx context.Context, customerID, siteID string) (domain.Site, error)
	GetProvisioning(ctx context.Context, customerID, userID string) (domain.Provisioning, error)
	GetStaging(ctx context.Context, customerID, userID string) (domain.Staging, error)
}

var _ Store = (*store.Store)(nil)

// Syncer queues a sync of one customer.
type Syncer interface {
	RequestSync(ctx context.Context, customerID, actor string) (domain.Customer, error)
}

// ClaimsFunc returns the verified token claims of a request, or an EUnauthorized error.
type ClaimsFunc func(r *http.Request) (map[string]string, error)

// Deps are what the API needs.
type Deps struct {
	Store   Store
	Sync    Syncer
	Claims  ClaimsFunc
	Version string
	Log     *slog.Logger
	// NewID returns a new customer id (tests set it for stable ids).
	NewID func() string
	// Licensing runs licence operations (assign, add-ons, remove, reassign, offboard).
	Licensing *licensing.Service
	// Templates manages templates and assigns them to many users (*licensing.Templates).
	Templates Templates
	// Sites manages the customer's provisioning settings and sites.
	Sites *sites.Service
	// Numbers manages the number inventory (add, import, edit, assign and release by hand).
	Numbers *numbers.Service
	// Staging stages users, checks them at once, takes them out of staging and onboards users.
	Staging *staging.Service
	// Usage is the licence usage audit: factor rules, current usage and drill-down, the licence pool, snapshots,
	// history and alerts.
	Usage *usageaudit.Service
	// Bulk uploads, validates, previews and applies mass-configuration files (the jobs queue applies them).
	Bulk *bulkjob.Service
	// Exports lists the month-end exports with their files, presigns their downloads and queues re-runs (its
	// Trigger hands them to the export function).
	Exports *export.Runner
}

// api holds the dependencies of the handlers.
type api struct{ Deps }

// policy says who may call a route. Routes with an :id parameter are also limited to the caller's scope; a route
// that changes what every customer gets (all) needs a caller who sees every customer. Routes without :id that read
// customers' data filter it by the caller's scope themselves.
type policy struct {
	public bool
	min    auth.Role
	all    bool
}

type route struct {
	method, path string
	policy       policy
	handler      echo.HandlerFunc
}

// Prefix is the path prefix of every API route.
const Prefix = "/api/v1"

// largeBodies are the routes whose request bodies may be larger than maxBody ("METHOD /path" as in routes), each with
// its own limit.
var largeBodies = map[string]bodyLimit{
	http.MethodPost + " /customers/:id/bulk": {max: uploadBodyLimit, tooLarge: tooLargeUpload},
}

func (a *api) routes() []route {
	read := policy{min: auth.Viewer}
	write := policy{min: auth.CustomerAdmin}
	// The provider's business: licence factor rules (how usage is counted and billed), the purchased pool and the
	// month-end exports.
	provider := policy{min: auth.ProviderAdmin}
	return []route{
		{http.MethodGet, "/health", policy{public: true}, a.health},
		{http.MethodGet, "/openapi.yaml", read, serveOpenAPI},
		{http.MethodGet, "/me", read, a.me},
		{http.MethodGet, "/customers", read, a.listCustomers},
		{http.MethodPost, "/customers", policy{min: auth.ProviderAdmin}, a.createCustomer},
		{http.MethodGet, "/customers/:id", read, a.getCustomer},
		{http.MethodPatch, "/customers/:id", policy{min: auth.CustomerAdmin}, a.updateCustomer},
		{http.MethodGet, "/customers/:id/users", read, a.listUsers},
		{http.MethodGet, "/customers/:id/users/:userId", read, a.getUser},
		{http.MethodPost, "/customers/:id/users/:userId/licences", policy{min: auth.CustomerAdmin}, a.assignLicence},
		{http.MethodPut, "/customers/:id/users/:userId/licences/:skuId", policy{min: auth.CustomerAdmin}, a.changeAddOns},
		{http.MethodDelete, "/customers/:id/users/:userId/licences/:skuId", policy{min: auth.CustomerAdmin}, a.removeLicence},
		{http.MethodPost, "/customers/:id/users/:userId/licences/:skuId/reassign", policy{min: auth.CustomerAdmin}, a.reassignLicence},
		{http.MethodPost, "/customers/:id/users/:userId/offboard", policy{min: auth.CustomerAdmin}, a.offboardUser},
		{http.MethodGet, "/customers/:id/syncs", read, a.syncRuns},
		{http.MethodPost, "/customers/:id/sync", policy{min: auth.CustomerAdmin}, a.syncCustomer},
		{http.MethodGet, "/customers/:id/skus", read, a.customerSKUs},
		{http.MethodGet, "/customers/:id/templates", read, a.listTemplates},
		{http.MethodPost, "/customers/:id/templates", policy{min: auth.CustomerAdmin}, a.createTemplate},
		{http.MethodGet, "/customers/:id/templates/:templateId", read, a.getTemplate},
		{http.MethodPut, "/customers/:id/templates/:templateId", policy{min: auth.CustomerAdmin}, a.updateTemplate},
		{http.MethodDelete, "/customers/:id/templates/:templateId", policy{min: auth.CustomerAdmin}, a.deleteTemplate},
		{http.MethodPost, "/customers/:id/templates/:templateId/assign", policy{min: auth.CustomerAdmin}, a.assignTemplate},
		{http.MethodGet, "/customers/:id/audit", read, a.listAudit},
		{http.MethodGet, "/customers/:id/settings", read, a.getSettings},
		{http.MethodPut, "/customers/:id/settings", write, a.saveSettings},
		{http.MethodGet, "/customers/:id/sites", read, a.listSites},
		{http.MethodPost, "/customers/:id/sites", write, a.createSite},
		{http.MethodGet, "/customers/:id/sites/:siteId", read, a.getSite},
		{http.MethodPut, "/customers/:id/sites/:siteId", write, a.updateSite},
		{http.MethodDelete, "/customers/:id/sites/:siteId", write, a.deleteSite},
		{http.MethodGet, "/customers/:id/numbers", read, a.listNumbers},
		{http.MethodPost, "/customers/:id/numbers", write, a.addNumbers},
		{http.MethodPost, "/customers/:id/numbers/import", write, a.importNumbers},
		{http.MethodGet, "/customers/:id/numbers/:number", read, a.getNumber},
		{http.MethodPatch, "/customers/:id/numbers/:number", write, a.updateNumber},
		{http.MethodDelete, "/customers/:id/numbers/:number", write, a.deleteNumber},
		{http.MethodPost, "/customers/:id/numbers/:number/assign", write, a.assignNumber},
		{http.MethodPost, "/customers/:id/numbers/:number/release", write, a.releaseNumber},
		{http.MethodGet, "/customers/:id/staging", read, a.listStaging},
		{http.MethodPost, "/customers/:id/staging", write, a.stageUser},
		{http.MethodDelete, "/customers/:id/staging/:userId", write, a.removeStaging},
		{http.MethodPost, "/customers/:id/staging/:userId/check", write, a.checkStaging},
		{http.MethodPost, "/customers/:id/onboarding", write, a.onboard},
		{http.MethodGet, "/customers/:id/factors", read, a.getCustomerFactors},
		{http.MethodPut, "/customers/:id/factors", provider, a.saveCustomerFactors},
		{http.MethodDelete, "/customers/:id/factors", provider, a.resetCustomerFactors},
		{http.MethodPost, "/customers/:id/factors/preview", provider, a.previewFactors},
		{http.MethodGet, "/customers/:id/usage", read, a.getUsage},
		{http.MethodGet, "/customers/:id/usage/users", read, a.listUsageUsers},
		{http.MethodGet, "/customers/:id/pool", read, a.getPool},
		{http.MethodPut, "/customers/:id/pool", provider, a.savePool},
		{http.MethodGet, "/customers/:id/snapshots", read, a.listSnapshots},
		{http.MethodPost, "/customers/:id/snapshots", write, a.takeSnapshot},
		{http.MethodGet, "/customers/:id/bulk/sample.csv", read, a.bulkSample},
		{http.MethodPost, "/customers/:id/bulk", write, a.uploadBulk},
		{http.MethodPost, "/customers/:id/bulk/upload-url", write, a.newBulkUploadURL},
		{http.MethodPost, "/customers/:id/bulk/from-upload", write, a.uploadBulkFromURL},
		{http.MethodGet, "/customers/:id/bulk", read, a.listBulkJobs},
		{http.MethodGet, "/customers/:id/bulk/:jobId", read, a.getBulkJob},
		{http.MethodGet, "/customers/:id/bulk/:jobId/problems", read, a.bulkProblems},
		{http.MethodGet, "/customers/:id/bulk/:jobId/preview", read, a.bulkPreview},
		{http.MethodGet, "/customers/:id/bulk/:jobId/results", read, a.bulkResults},
		{http.MethodGet, "/customers/:id/bulk/:jobId/results.csv", read, a.bulkResultsCSV},
		{http.MethodPost, "/customers/:id/bulk/:jobId/start", write, a.startBulkJob},
		{http.MethodPost, "/customers/:id/bulk/:jobId/cancel", write, a.cancelBulkJob},
		{http.MethodGet, "/skus", read, a.listSKUs},
		{http.MethodGet, "/factors", read, a.getProviderFactors},
		{http.MethodPut, "/factors", policy{min: auth.ProviderAdmin, all: true}, a.saveProviderFactors},
		{http.MethodGet, "/usage/history", read, a.usageHistory},
		{http.MethodGet, "/alerts", read, a.listAlerts},
		{http.MethodGet, "/exports", provider, a.listExports},
		{http.MethodGet, "/exports/:month", provider, a.getExport},
		{http.MethodPost, "/exports/:month/run", policy{min: auth.ProviderAdmin, all: true}, a.runExport},
		{http.MethodGet, "/exports/:month/files/:name/url", provider, a.exportFileURL},
	}
}

// New returns the API's echo instance.
func New(d Deps) *echo.Echo {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	a := &api{Deps: d}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Use(middleware.RequestID())
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: fmt.Sprint(maxBody), Skipper: func(c echo.Context) bool {
		_, own := largeBodies[c.Request().Method+" "+strings.TrimPrefix(c.Path(), Prefix)]
		return own
	}}))
	g := e.Group(Prefix)
	for _, r := range a.routes() {
		mw := []echo.MiddlewareFunc{a.authorize(r.policy)}
		if l, ok := largeBodies[r.method+" "+r.path]; ok {
			mw = append(mw, l.middleware())
		}
		g.Add(r.method, r.path, r.handler, mw...)
	}
	return e
}

// authorize is the one middleware that authenticates and authorizes every route by role and customer scope.
// A customer outside the caller's scope is answered 404, so that its existence does not leak.
func (a *api) authorize(p policy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p.public {
				return next(c)
			}
			claims, err := a.Claims(c.Request())
			if err != nil {
				return err
			}
			pr, err := auth.FromClaims(claims)
			if err != nil {
				return err
			}
			if id := c.Param("id"); id != "" && !pr.CanSee(id) {
				return domain.Errorf(domain.ENotFound, "customer %s not found", id)
			}
			if !pr.Role.AtLeast(p.min) {
				return domain.Errorf(domain.EForbidden, "the %s role cannot do this (needs %s)", pr.Role, p.min)
			}
			if p.all && !pr.AllScope() {
				return domain.Errorf(domain.EForbidden, "this changes every customer: it needs a scope of every customer (*)")
			}
			c.SetRequest(c.Request().WithContext(auth.WithPrincipal(c.Request().Context(), pr)))
			return next(c)
		}
	}
}

func principal(c echo.Context) auth.Principal {
	p, _ := auth.FromContext(c.Request().Context())
	return p
}
