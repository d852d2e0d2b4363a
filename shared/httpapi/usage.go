package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// The licence usage audit (shared/usageaudit does the work): licence factor rules (the provider's, overridable per
// customer), a customer's usage now with the users behind each count, its licence pool, daily snapshots, the
// history across the caller's customers and the alerts of the dashboard.
//
// Who may do what: any role reads within its scope. Factor rules and the licence pool are the provider's business
// (how usage is counted and billed, what was bought): provider admins change them, and only one who sees every
// customer changes the provider's rules, which every customer without its own uses. A customer admin may refresh
// a customer's snapshot (as they may sync it). The routes without a customer in the path (GET /usage/history, GET
// /alerts) answer for the customers in the caller's scope only.

func (a *api) usage() (*usageaudit.Service, error) {
	if a.Deps.Usage == nil {
		return nil, domain.Errorf(domain.EInternal, "the usage audit is not configured")
	}
	return a.Deps.Usage, nil
}

// --- factor rules ---

// factorRuleInput is one rule of a PUT or preview body: enabled is required (a rule sent without it must not be
// switched off silently); a new rule may leave id out (it gets one made of its name).
type factorRuleInput struct {
	ID        string                   `json:"id"`
	Name      string                   `json:"name"`
	Enabled   *bool                    `json:"enabled"`
	Criteria  []domain.FactorCriterion `json:"criteria"`
	ManagedBy string                   `json:"managedBy"`
}

// factorRulesRequest is the body of PUT …/factors (rules and version) and of POST …/factors/preview (rules).
type factorRulesRequest struct {
	Rules   *[]factorRuleInput `json:"rules"`
	Version *int64             `json:"version"`
}

// rules checks the body's rules (and its version when withVersion) and returns them. The rules themselves (ids,
// names, fields, patterns) are validated by the service, which names every problem by its path
// ("rules[0].criteria[1].pattern").
func (r factorRulesRequest) rules(withVersion bool) ([]domain.FactorRule, error) {
	fields := map[string]string{}
	if r.Rules == nil {
		fields["rules"] = "required: the whole ordered list of rules ([] for none)"
	}
	switch {
	case !withVersion && r.Version != nil:
		fields["version"] = "a preview saves nothing and takes no version"
	case withVersion && r.Version == nil:
		fields["version"] = "required: the version you read (0 while none were saved), so that a concurrent change is not overwritten"
	case withVersion && *r.Version < 0:
		fields["version"] = "must be 0 or more"
	}
	var out []domain.FactorRule
	if r.Rules != nil {
		out = make([]domain.FactorRule, len(*r.Rules))
		for i, in := range *r.Rules {
			if in.Enabled == nil {
				fields[fmt.Sprintf("rules[%d].enabled", i)] = "required: true or false"
				continue
			}
			out[i] = domain.FactorRule{ID: in.ID, Name: in.Name, Enabled: *in.Enabled, Criteria: in.Criteria, ManagedBy: in.ManagedBy}
		}
	}
	if len(fields) > 0 {
		return nil, domain.Invalid(fields)
	}
	return out, nil
}

// viewRules shows a rule list: lists never null.
func viewRules(v usageaudit.RulesView) usageaudit.RulesView {
	if v.Rules == nil {
		v.Rules = []domain.FactorRule{}
	}
	for i := range v.Rules {
		if v.Rules[i].Criteria == nil {
			v.Rules[i].Criteria = []domain.FactorCriterion{}
		}
	}
	return v
}

func (a *api) getCustomerFactors(c echo.Context) error { return a.getFactors(c, c.Param("id")) }
func (a *api) getProviderFactors(c echo.Context) error { return a.getFactors(c, "") }

func (a *api) getFactors(c echo.Context, customerID string) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	v, err := svc.Rules(c.Request().Context(), customerID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewRules(v))
}

func (a *api) saveCustomerFactors(c echo.Context) error { return a.saveFactors(c, c.Param("id")) }
func (a *api) saveProviderFactors(c echo.Context) error { return a.saveFactors(c, "") }

func (a *api) saveFactors(c echo.Context, customerID string) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	var req factorRulesRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rules, err := req.rules(true)
	if err != nil {
		return err
	}
	v, err := svc.SaveRules(c.Request().Context(), customerID, principal(c).Subject, *req.Version, rules)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewRules(v))
}

// resetCustomerFactors takes the version read as ?version= (a DELETE has no body).
func (a *api) resetCustomerFactors(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	v, err := svc.ResetRules(c.Request().Context(), c.Param("id"), principal(c).Subject, version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewRules(v))
}

func (a *api) previewFactors(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	var req factorRulesRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rules, err := req.rules(false)
	if err != nil {
		return err
	}
	cur, err := svc.Preview(c.Request().Context(), c.Param("id"), rules)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewCurrent(cur))
}

// --- usage now ---

// viewUsage shows a usage: lists and maps never null.
func viewUsage(u domain.Usage) domain.Usage {
	if u.Factors == nil {
		u.Factors = []domain.FactorCount{}
	}
	if u.BySKU == nil {
		u.BySKU = map[string]int{}
	}
	return u
}

// viewCurrent shows a customer's usage now: lists and maps never null.
func viewCurrent(cur usageaudit.Current) usageaudit.Current {
	cur.Usage = viewUsage(cur.Usage)
	if cur.AcquiredBySKU == nil {
		cur.AcquiredBySKU = map[string]int{}
	}
	if cur.SKUs == nil {
		cur.SKUs = []domain.SnapshotSKU{}
	}
	if cur.Sites == nil {
		cur.Sites = []usageaudit.SiteUsage{}
	}
	for i := range cur.Sites {
		cur.Sites[i].Usage = viewUsage(cur.Sites[i].Usage)
		if cur.Sites[i].SKUs == nil {
			cur.Sites[i].SKUs = []domain.SnapshotSKU{}
		}
	}
	return cur
}

func (a *api) getUsage(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	cur, err := svc.Current(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewCurrent(cur))
}

// listUsageUsers is the drill-down: the users one rule counts (?rule=, "unmatched" for the licensed users no rule
// counts), a page at a time, shown as GET …/users shows them.
func (a *api) listUsageUsers(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cust, err := a.Store.GetCustomer(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	rule := strings.TrimSpace(c.QueryParam("rule"))
	if rule == "" {
		return domain.Invalid(map[string]string{"rule": "required: the id of one of the customer's rules, or " + usageaudit.Unmatched})
	}
	if rule != usageaudit.Unmatched {
		rules, err := svc.Rules(ctx, cust.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rules.Rules, func(r domain.FactorRule) bool { return r.ID == rule }) {
			return domain.Invalid(map[string]string{"rule": fmt.Sprintf("%q is not one of the customer's rules (nor %s)", rule, usageaudit.Unmatched)})
		}
	}
	if limit == 0 {
		limit = store.DefaultLimit
	}
	page, err := svc.DrillDown(ctx, cust.ID, rule, cursor, limit)
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

// --- licence pool ---

// poolRequest is the body of PUT …/pool: every field (a PUT replaces the pool) and the version read.
type poolRequest struct {
	Acquired        map[string]int `json:"acquired"`
	UnusedThreshold *int           `json:"unusedThreshold"`
	UnusedDays      *int           `json:"unusedDays"`
	Version         *int64         `json:"version"`
}

func (r poolRequest) input() (usageaudit.PoolInput, error) {
	fields := map[string]string{}
	if r.Acquired == nil {
		fields["acquired"] = "required: the purchased seats by SKU id ({} for none)"
	}
	if r.UnusedThreshold == nil {
		fields["unusedThreshold"] = "required"
	}
	if r.UnusedDays == nil {
		fields["unusedDays"] = "required"
	}
	switch {
	case r.Version == nil:
		fields["version"] = "required: the version you read (0 when none was saved yet), so that a concurrent change is not overwritten"
	case *r.Version < 0:
		fields["version"] = "must be 0 or more"
	}
	if len(fields) > 0 {
		return usageaudit.PoolInput{}, domain.Invalid(fields)
	}
	return usageaudit.PoolInput{Acquired: r.Acquired, UnusedThreshold: *r.UnusedThreshold, UnusedDays: *r.UnusedDays}, nil
}

// viewPool shows a pool: acquired never null.
func viewPool(p domain.LicencePool) domain.LicencePool {
	if p.Acquired == nil {
		p.Acquired = map[string]int{}
	}
	return p
}

func (a *api) getPool(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	p, err := svc.Pool(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewPool(p))
}

func (a *api) savePool(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	var req poolRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	p, err := svc.SavePool(c.Request().Context(), c.Param("id"), principal(c).Subject, *req.Version, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewPool(p))
}

// --- snapshots and history ---

// maxRangeDays bounds the range of a snapshot or history request, in days (from and to included): a year of
// daily points and some.
const maxRangeDays = 400

// defaultRangeDays is the range without from: the last 30 days.
const defaultRangeDays = 30

// dateRange reads ?from=&to=: dates YYYY-MM-DD (UTC days), to defaulting to today and from to 29 days before to,
// from ≤ to, at most maxRangeDays days.
func dateRange(c echo.Context, now time.Time) (from, to string, err error) {
	const layout = time.DateOnly
	fields := map[string]string{}
	parse := func(name string, def time.Time) time.Time {
		v := c.QueryParam(name)
		if v == "" {
			return def
		}
		t, err := time.Parse(layout, v)
		if err != nil || len(v) != len(layout) {
			fields[name] = "must be a date YYYY-MM-DD"
		}
		return t
	}
	today, _ := time.Parse(layout, now.UTC().Format(layout))
	t := parse("to", today)
	f := parse("from", t.AddDate(0, 0, -(defaultRangeDays-1)))
	if len(fields) == 0 {
		switch days := int(t.Sub(f).Hours()/24) + 1; {
		case f.After(t):
			fields["from"] = "must not be after to"
			fields["to"] = "must not be before from"
		case days > maxRangeDays:
			fields["from"] = fmt.Sprintf("at most %d days before to (the range covers %d days)", maxRangeDays-1, days)
			fields["to"] = fmt.Sprintf("at most %d days after from", maxRangeDays-1)
		}
	}
	if len(fields) > 0 {
		return "", "", domain.Invalid(fields)
	}
	return f.Format(layout), t.Format(layout), nil
}

// usageNow is the usage service's clock (tests set it).
func usageNow(svc *usageaudit.Service) time.Time {
	if svc.Now != nil {
		return svc.Now()
	}
	return time.Now()
}

// viewSnapshots shows snapshots: lists never null.
func viewSnapshots(snaps []domain.Snapshot) []domain.Snapshot {
	out := make([]domain.Snapshot, len(snaps))
	for i, s := range snaps {
		if s.Factors == nil {
			s.Factors = []domain.FactorCount{}
		}
		if s.SKUs == nil {
			s.SKUs = []domain.SnapshotSKU{}
		}
		out[i] = s
	}
	return out
}

func (a *api) listSnapshots(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	from, to, err := dateRange(c, usageNow(svc))
	if err != nil {
		return err
	}
	snaps, err := svc.History(c.Request().Context(), c.Param("id"), c.QueryParam("siteId"), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": viewSnapshots(snaps)})
}

// takeSnapshot is Refresh: today's snapshots computed now (a body, if any, is an empty object).
func (a *api) takeSnapshot(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	snaps, err := svc.Snapshot(c.Request().Context(), c.Param("id"), principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": viewSnapshots(snaps)})
}

// usageHistory answers for the caller's customers: the provider's daily totals for a caller who sees every
// customer, else the sum of the snapshots of the customers in their scope (one point per day with snapshots).
func (a *api) usageHistory(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	from, to, err := dateRange(c, usageNow(svc))
	if err != nil {
		return err
	}
	p := principal(c)
	var ids []string // nil = every customer
	if !p.AllScope() {
		ids = slices.Clone(p.Scope)
	}
	points, err := svc.HistoryAcross(c.Request().Context(), ids, from, to)
	if err != nil {
		return err
	}
	out := make([]store.ProviderTotal, len(points))
	for i, pt := range points {
		if pt.Factors == nil {
			pt.Factors = map[string]int{}
		}
		if pt.SKUs == nil {
			pt.SKUs = map[string]domain.SnapshotSKU{}
		}
		out[i] = pt
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// --- alerts ---

func (a *api) listAlerts(c echo.Context) error {
	svc, err := a.usage()
	if err != nil {
		return err
	}
	p := principal(c)
	var ids []string // nil = every customer
	if !p.AllScope() {
		ids = slices.Clone(p.Scope)
	}
	alerts, err := svc.Alerts(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	if alerts == nil {
		alerts = []domain.Alert{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": alerts})
}
