// Package usageaudit is the licence usage audit: the provider's (or a customer's) licence factor rules, the
// purchased licence pool, the usage of a customer computed from what the sync stored (each licensed user counted
// once, by the first factor that matches), the users behind a count, the daily snapshots (customer and site level)
// that make the usage history, and the alerts of the provider's dashboard.
//
// The computation streams the customer's active users from the store page by page through usage.Counter (one for
// the customer, one per site): its memory grows with the customer's provisioning items (one map, read first), its
// sites and SKUs, not with its users. A drill-down keeps one page of user ids.
//
// Placement. Every active user falls in exactly one site scope: the site Seatwise provisioned them on (their
// provisioning's SiteID, when that site still exists), else the site the customer's placement criteria choose
// (sites.Place: the first site whose criteria match, else the default site), else the "unplaced" scope (site id
// UnplacedSiteID, name UnplacedSiteName). So the site scopes partition the customer's users: their Users, Licensed,
// Unmatched, factor counts and assigned seats add up to the customer's. The site a user falls in is also what the
// "site" criterion of a rule matches ("" when unplaced).
package usageaudit

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usage"
)

// Store is the state the usage audit reads and writes (*store.Store implements it).
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	AllCustomers(ctx context.Context) ([]domain.Customer, error)
	CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error)
	ListSites(ctx context.Context, customerID string) ([]domain.Site, error)
	// EachUser streams the customer's active users, a page at a time.
	EachUser(ctx context.Context, customerID string, fn func([]domain.User) error) error
	// UsersByID reads users by id (the map is keyed by lower-case id).
	UsersByID(ctx context.Context, customerID string, ids []string) (map[string]domain.User, error)
	// ProvisioningOf returns every provisioning item of the customer, by lower-case user id.
	ProvisioningOf(ctx context.Context, customerID string) (map[string]domain.Provisioning, error)
	ListStaging(ctx context.Context, customerID string, q store.StagingQuery) (store.Page[domain.Staging], error)

	// GetFactorRules returns the customer's rules, or the provider's (inherited) when it has none; customerID ""
	// is the provider's. Nothing saved at all: Version 0 and nil Rules.
	GetFactorRules(ctx context.Context, customerID string) (set domain.FactorRuleSet, inherited bool, err error)
	// PutFactorRules and DeleteFactorRules return EConflict when the stored set is no longer at version.
	PutFactorRules(ctx context.Context, set domain.FactorRuleSet, version int64, actor string, at time.Time) (domain.FactorRuleSet, error)
	DeleteFactorRules(ctx context.Context, customerID string, version int64, actor string, at time.Time) error
	// GetPool returns the defaults (Version 0) when none was saved.
	GetPool(ctx context.Context, customerID string) (domain.LicencePool, error)
	// PutPool returns EConflict when the stored pool is no longer at version.
	PutPool(ctx context.Context, p domain.LicencePool, version int64, actor string, at time.Time) (domain.LicencePool, error)

	// PutSnapshots replaces one customer's snapshots of one date and moves the provider's daily totals.
	PutSnapshots(ctx context.Context, snaps []domain.Snapshot) error
	ListSnapshots(ctx context.Context, customerID, siteID, from, to string) ([]domain.Snapshot, error)
	ProviderTotals(ctx context.Context, from, to string) ([]store.ProviderTotal, error)
	PutAlerts(ctx context.Context, customerID string, alerts []domain.Alert, at time.Time) error
	ListAlerts(ctx context.Context, customerIDs []string) ([]domain.Alert, error)
}

var _ Store = (*store.Store)(nil)

// Queue sends a message to the jobs queue (*queue.Sender implements it).
type Queue interface {
	Send(ctx context.Context, v any) error
}

// Service is the licence usage audit.
type Service struct {
	Store Store
	// Jobs receives one queue.TypeSnapshot job per customer from SnapshotAll.
	Jobs Queue
	Now  func() time.Time
	Log  *slog.Logger
}

// Scopes of a rule list.
const (
	ScopeProvider = "provider"
	ScopeCustomer = "customer"
)

// The drill-down's pseudo rule id for the licensed users no enabled rule counts. No rule may take this id.
const Unmatched = "unmatched"

// The site scope of the users placed on no site.
const (
	UnplacedSiteID   = "-none-"
	UnplacedSiteName = "Unplaced"
)

// Limits.
const (
	// MaxAcquired bounds one SKU's acquired seats.
	MaxAcquired = 10_000_000
	// MaxUnusedThreshold and MaxUnusedDays bound a pool's unused-seats alert settings.
	MaxUnusedThreshold = 1_000_000
	MaxUnusedDays      = 90
	// MaxHistoryDays bounds one history request (two years: what the month-end export keeps).
	MaxHistoryDays = 731
	// DefaultHistoryDays is the range of a history request without a start.
	DefaultHistoryDays = 30
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// checkCustomer returns ENotFound for an unknown customer.
func (s *Service) checkCustomer(ctx context.Context, customerID string) (domain.Customer, error) {
	if strings.TrimSpace(customerID) == "" {
		return domain.Customer{}, domain.Errorf(domain.ENotFound, "no customer %q", customerID)
	}
	return s.Store.GetCustomer(ctx, customerID)
}

// --- rules ---

// RulesView is a scope's rule list as an admin edits it.
type RulesView struct {
	Rules []domain.FactorRule `json:"rules"`
	// Version is what a save or a reset of this scope sends back: the version of the scope's own rules, 0 when it
	// has none (a customer that inherits the provider's rules; a provider that never saved any and uses
	// usage.DefaultRules).
	Version int64 `json:"version"`
	// Inherited is true for a customer that uses the provider's rules.
	Inherited bool `json:"inherited"`
	// Scope is where the rules come from: ScopeCustomer (the customer's own) or ScopeProvider.
	Scope string `json:"scope"`
}

// effectiveRules returns the rules that apply to a customer ("" = the provider's) and their version (of the set
// they come from; 0 for the defaults).
func (s *Service) effectiveRules(ctx context.Context, customerID string) (RulesView, int64, error) {
	set, inherited, err := s.Store.GetFactorRules(ctx, customerID)
	if err != nil {
		return RulesView{}, 0, err
	}
	v := RulesView{Rules: set.Rules, Version: set.Version, Inherited: inherited && customerID != "", Scope: ScopeProvider}
	if customerID != "" && !v.Inherited {
		v.Scope = ScopeCustomer
	}
	rulesVersion := set.Version
	if v.Inherited {
		v.Version = 0
	}
	if set.Rules == nil && set.Version == 0 {
		v.Rules = usage.DefaultRules()
	}
	if v.Rules == nil {
		v.Rules = []domain.FactorRule{}
	}
	return v, rulesVersion, nil
}

// Rules returns the rules of a customer (customerID "" = the provider's): its own, the provider's when it has
// none, usage.DefaultRules when the provider saved none. Errors: ENotFound (no such customer).
func (s *Service) Rules(ctx context.Context, customerID string) (RulesView, error) {
	if customerID != "" {
		if _, err := s.checkCustomer(ctx, customerID); err != nil {
			return RulesView{}, err
		}
	}
	v, _, err := s.effectiveRules(ctx, customerID)
	return v, err
}

// normaliseRules gives the rules without an id one made of their name (see ruleSlug), then validates and
// normalises them (usage.Compile). Errors: EInvalid naming every problem by its JSON path ("rules[2].criteria[0]
// .pattern"), including an id equal to Unmatched.
func normaliseRules(rules []domain.FactorRule) (*usage.Compiled, error) {
	rules = slices.Clone(rules)
	taken := map[string]bool{Unmatched: true}
	for _, r := range rules {
		if id := strings.TrimSpace(r.ID); id != "" {
			taken[id] = true
		}
	}
	reserved := map[string]string{}
	for i := range rules {
		id := strings.TrimSpace(rules[i].ID)
		if id == Unmatched {
			reserved[fmt.Sprintf("rules[%d].id", i)] = fmt.Sprintf("%q is reserved for the licensed users no rule counts", Unmatched)
		}
		if id != "" {
			continue
		}
		base := ruleSlug(rules[i].Name)
		id = base
		for n := 2; taken[id]; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		taken[id] = true
		rules[i].ID = id
	}
	c, err := usage.Compile(rules)
	if len(reserved) > 0 {
		e := domain.Invalid(reserved)
		e.Message = "invalid licence factor rules"
		if de, ok := err.(*domain.Error); ok && de.Code == domain.EInvalid {
			maps.Copy(e.Fields, de.Fields)
		}
		return nil, e
	}
	return c, err
}

// ruleSlug is a rule id made of a name: its ASCII letters and digits in lower case, other runs of characters as
// one '-' ("Managed Users – Direct Routing" → "managed-users-direct-routing"), at most 56 characters (room for a
// "-N" that makes it unique), "rule" when nothing is left.
func ruleSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if b.Len() > 0 && !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > usage.MaxRuleID-8 {
		out = out[:usage.MaxRuleID-8]
	}
	if out = strings.Trim(out, "-"); out == "" {
		out = "rule"
	}
	return out
}

// SaveRules saves the rules of a customer (customerID "" = the provider's, which every customer without its own
// uses) if its own rules are still at version (0 = it has none yet). New rules (id "") get an id made of their
// name, unique in the list. Errors: ENotFound (no such customer), EInvalid (see usage.Compile; Fields name every
// problem, e.g. "rules[1].criteria[0].pattern"), EConflict (version is stale).
func (s *Service) SaveRules(ctx context.Context, customerID, actor string, version int64, rules []domain.FactorRule) (RulesView, error) {
	if customerID != "" {
		if _, err := s.checkCustomer(ctx, customerID); err != nil {
			return RulesView{}, err
		}
	}
	if version < 0 {
		return RulesView{}, domain.Invalid(map[string]string{"version": "must not be negative"})
	}
	c, err := normaliseRules(rules)
	if err != nil {
		return RulesView{}, err
	}
	saved, err := s.Store.PutFactorRules(ctx, domain.FactorRuleSet{CustomerID: customerID, Rules: c.Rules()}, version, actor, s.now())
	if err != nil {
		return RulesView{}, err
	}
	scope := ScopeProvider
	if customerID != "" {
		scope = ScopeCustomer
	}
	return RulesView{Rules: saved.Rules, Version: saved.Version, Scope: scope}, nil
}

// ResetRules deletes a customer's own rules (at version), so that it uses the provider's again, and returns them.
// Errors: ENotFound (no such customer), EInvalid (the provider's rules cannot be reset), EConflict (stale version).
func (s *Service) ResetRules(ctx context.Context, customerID, actor string, version int64) (RulesView, error) {
	if customerID == "" {
		return RulesView{}, domain.Errorf(domain.EInvalid, "the provider's rules cannot be reset: save the rules wanted")
	}
	if _, err := s.checkCustomer(ctx, customerID); err != nil {
		return RulesView{}, err
	}
	if err := s.Store.DeleteFactorRules(ctx, customerID, version, actor, s.now()); err != nil {
		return RulesView{}, err
	}
	v, _, err := s.effectiveRules(ctx, customerID)
	return v, err
}

// --- licence pool ---

// PoolInput is what an admin edits of a customer's licence pool.
type PoolInput struct {
	// Acquired is the purchased seats by skuId (0..MaxAcquired; SKUs of the customer only; a SKU left out: not
	// entered).
	Acquired map[string]int `json:"acquired"`
	// UnusedThreshold (1..MaxUnusedThreshold) and UnusedDays (1..MaxUnusedDays); 0 = the default.
	UnusedThreshold int `json:"unusedThreshold"`
	UnusedDays      int `json:"unusedDays"`
}

// Pool returns the customer's licence pool (the defaults, Version 0, when none was saved). Errors: ENotFound.
func (s *Service) Pool(ctx context.Context, customerID string) (domain.LicencePool, error) {
	if _, err := s.checkCustomer(ctx, customerID); err != nil {
		return domain.LicencePool{}, err
	}
	p, err := s.Store.GetPool(ctx, customerID)
	return withPoolDefaults(p, customerID), err
}

func withPoolDefaults(p domain.LicencePool, customerID string) domain.LicencePool {
	p.CustomerID = customerID
	if p.Acquired == nil {
		p.Acquired = map[string]int{}
	}
	if p.UnusedThreshold <= 0 {
		p.UnusedThreshold = domain.DefaultUnusedThreshold
	}
	if p.UnusedDays <= 0 {
		p.UnusedDays = domain.DefaultUnusedDays
	}
	return p
}

// SavePool saves the customer's licence pool if it is still at version (0 = none saved). Errors: ENotFound,
// EInvalid (Fields "acquired.<skuId>", "unusedThreshold", "unusedDays"), EConflict (stale version).
func (s *Service) SavePool(ctx context.Context, customerID, actor string, version int64, in PoolInput) (domain.LicencePool, error) {
	if _, err := s.checkCustomer(ctx, customerID); err != nil {
		return domain.LicencePool{}, err
	}
	skus, err := s.Store.CustomerSKUs(ctx, customerID)
	if err != nil {
		return domain.LicencePool{}, err
	}
	known := map[string]bool{}
	for _, k := range skus {
		known[strings.ToLower(k.SkuID)] = true
	}
	fields := map[string]string{}
	p := domain.LicencePool{CustomerID: customerID, Acquired: map[string]int{},
		UnusedThreshold: in.UnusedThreshold, UnusedDays: in.UnusedDays}
	for id, n := range in.Acquired {
		key := strings.ToLower(strings.TrimSpace(id))
		f := "acquired." + id
		switch _, dup := p.Acquired[key]; {
		case !known[key]:
			fields[f] = "not a SKU of this customer"
		case dup:
			fields[f] = "listed twice"
		case n < 0 || n > MaxAcquired:
			fields[f] = fmt.Sprintf("must be 0 to %d", MaxAcquired)
		default:
			p.Acquired[key] = n
		}
	}
	if p.UnusedThreshold < 0 || p.UnusedThreshold > MaxUnusedThreshold {
		fields["unusedThreshold"] = fmt.Sprintf("must be 1 to %d (0 = the default, %d)", MaxUnusedThreshold, domain.DefaultUnusedThreshold)
	}
	if p.UnusedDays < 0 || p.UnusedDays > MaxUnusedDays {
		fields["unusedDays"] = fmt.Sprintf("must be 1 to %d (0 = the default, %d)", MaxUnusedDays, domain.DefaultUnusedDays)
	}
	if version < 0 {
		fields["version"] = "must not be negative"
	}
	if len(fields) > 0 {
		return domain.LicencePool{}, domain.Invalid(fields)
	}
	p = withPoolDefaults(p, customerID)
	saved, err := s.Store.PutPool(ctx, p, version, actor, s.now())
	return withPoolDefaults(saved, customerID), err
}

// --- dates ---

const dateLayout = "2006-01-02"

// dayOf is the UTC date of t.
func dayOf(t time.Time) string { return t.UTC().Format(dateLayout) }

// dateRange validates a history range: dates YYYY-MM-DD, to defaulting to today and from to DefaultHistoryDays
// before it, from ≤ to, at most MaxHistoryDays days.
func dateRange(from, to string, now time.Time) (string, string, error) {
	fields := map[string]string{}
	parse := func(name, v string, def time.Time) time.Time {
		if v = strings.TrimSpace(v); v == "" {
			return def
		}
		t, err := time.Parse(dateLayout, v)
		if err != nil || len(v) != len(dateLayout) {
			fields[name] = "must be a date YYYY-MM-DD"
		}
		return t
	}
	today, _ := time.Parse(dateLayout, dayOf(now))
	t := parse("to", to, today)
	f := parse("from", from, t.AddDate(0, 0, -(DefaultHistoryDays-1)))
	if len(fields) == 0 {
		switch {
		case f.After(t):
			fields["from"] = "must not be after to"
		case t.Sub(f) >= MaxHistoryDays*24*time.Hour:
			fields["from"] = fmt.Sprintf("the range is at most %d days", MaxHistoryDays)
		}
	}
	if len(fields) > 0 {
		return "", "", domain.Invalid(fields)
	}
	return f.Format(dateLayout), t.Format(dateLayout), nil
}

// jobActor is the actor recorded for what a queued job does.
func jobActor(job queue.Job) string {
	if job.RequestedBy == "" {
		return "job:snapshot"
	}
	return "job:snapshot/" + job.RequestedBy
}
