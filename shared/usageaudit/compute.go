package usageaudit

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usage"
)

// Current is a customer's licence usage now.
type Current struct {
	// Usage counts the customer's licensed users by factor (Licensed = the sum of the factor counts + Unmatched).
	Usage domain.Usage `json:"usage"`
	// Users counts the customer's active users, licensed or not.
	Users int `json:"users"`
	// Acquired is the sum of the pool's acquired seats; AcquiredBySKU the seats by skuId (SKUs not entered are
	// absent).
	Acquired      int            `json:"acquired"`
	AcquiredBySKU map[string]int `json:"acquiredBySku"`
	// SKUs are the customer's SKUs (those it subscribes to, those its users hold, those of its pool), by part
	// number: Graph's enabled and consumed units, the acquired seats, the users holding each.
	SKUs []domain.SnapshotSKU `json:"skus"`
	// Sites is the usage per site, in the sites' order, then the unplaced users (UnplacedSiteID) when there are any.
	Sites []SiteUsage `json:"sites"`
	// RulesVersion is the version of the rule set counted with (0 = the defaults, or rules being previewed).
	RulesVersion int64     `json:"rulesVersion"`
	ComputedAt   time.Time `json:"computedAt"`
}

// SiteUsage is the licence usage of the users of one site scope.
type SiteUsage struct {
	SiteID   string       `json:"siteId"`
	SiteName string       `json:"siteName"`
	Users    int          `json:"users"`
	Usage    domain.Usage `json:"usage"`
	// SKUs are the SKUs the site's users hold (Assigned only; Enabled, Consumed and Acquired are the customer's).
	SKUs []domain.SnapshotSKU `json:"skus"`
}

// Current computes the customer's usage with its rules. Errors: ENotFound (no such customer).
func (s *Service) Current(ctx context.Context, customerID string) (Current, error) {
	c, err := s.checkCustomer(ctx, customerID)
	if err != nil {
		return Current{}, err
	}
	return s.current(ctx, c)
}

// current computes the customer's usage with its rules.
func (s *Service) current(ctx context.Context, c domain.Customer) (Current, error) {
	v, version, err := s.effectiveRules(ctx, c.ID)
	if err != nil {
		return Current{}, err
	}
	compiled, err := usage.Compile(v.Rules)
	if err != nil {
		return Current{}, domain.Wrap(err, domain.EInternal, "the stored licence factor rules are not valid")
	}
	cur, err := s.compute(ctx, c, compiled)
	cur.RulesVersion = version
	return cur, err
}

// Preview computes the customer's usage with rules (normalised and validated as SaveRules does), saving
// nothing. Errors: ENotFound, EInvalid (as SaveRules).
func (s *Service) Preview(ctx context.Context, customerID string, rules []domain.FactorRule) (Current, error) {
	c, err := s.checkCustomer(ctx, customerID)
	if err != nil {
		return Current{}, err
	}
	compiled, err := normaliseRules(rules)
	if err != nil {
		return Current{}, err
	}
	return s.compute(ctx, c, compiled)
}

// DrillDown returns a page of the users counted under a rule of the customer's (ruleID Unmatched: the licensed
// users no enabled rule counts), ordered by user id: the limit (1..store.MaxLimit, 0 = store.DefaultLimit) users
// after cursor (the last id of the previous page; "" = from the start). NextCursor is "" on the last page. It
// counts all the customer's users again, keeping only the page's ids. Errors: ENotFound (no such customer or
// rule), EInvalid (limit).
func (s *Service) DrillDown(ctx context.Context, customerID, ruleID, cursor string, limit int) (store.Page[domain.User], error) {
	out := store.Page[domain.User]{Items: []domain.User{}}
	switch {
	case limit < 0 || limit > store.MaxLimit:
		return out, domain.Invalid(map[string]string{"limit": "must be 1 to 200"})
	case limit == 0:
		limit = store.DefaultLimit
	}
	if ruleID = strings.TrimSpace(ruleID); ruleID == "" {
		return out, domain.Invalid(map[string]string{"rule": "required: a rule id, or " + Unmatched})
	}
	if _, err := s.checkCustomer(ctx, customerID); err != nil {
		return out, err
	}
	v, _, err := s.effectiveRules(ctx, customerID)
	if err != nil {
		return out, err
	}
	compiled, err := usage.Compile(v.Rules)
	if err != nil {
		return out, domain.Wrap(err, domain.EInternal, "the stored licence factor rules are not valid")
	}
	collect := ruleID
	if ruleID == Unmatched {
		collect = ""
	}
	counter := usage.NewCounter(compiled)
	if err := counter.Collect(collect, strings.ToLower(strings.TrimSpace(cursor)), limit); err != nil {
		return out, err
	}
	sc, err := s.newScopes(ctx, customerID)
	if err != nil {
		return out, err
	}
	err = s.eachUser(ctx, customerID, func(u domain.User) {
		f, _ := sc.facts(u)
		counter.Add(f)
	})
	if err != nil {
		return out, err
	}
	ids, more := counter.Collected()
	users, err := s.Store.UsersByID(ctx, customerID, ids)
	if err != nil {
		return out, err
	}
	for _, id := range ids {
		if u, ok := users[strings.ToLower(id)]; ok {
			out.Items = append(out.Items, u)
		}
	}
	if more && len(ids) > 0 {
		out.NextCursor = ids[len(ids)-1]
	}
	return out, nil
}

// eachUser streams the customer's active users, a page at a time.
func (s *Service) eachUser(ctx context.Context, customerID string, fn func(domain.User)) error {
	return s.Store.EachUser(ctx, customerID, func(users []domain.User) error {
		for _, u := range users {
			fn(u)
		}
		return ctx.Err()
	})
}

// scopes places users on sites and builds their facts.
type scopes struct {
	prov  map[string]domain.Provisioning
	sites []domain.Site
	byID  map[string]int // site id → index in sites
}

func (s *Service) newScopes(ctx context.Context, customerID string) (*scopes, error) {
	prov, err := s.Store.ProvisioningOf(ctx, customerID)
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListSites(ctx, customerID)
	if err != nil {
		return nil, err
	}
	sc := &scopes{prov: prov, sites: list, byID: make(map[string]int, len(list))}
	for i, st := range list {
		sc.byID[st.ID] = i
	}
	return sc, nil
}

// facts returns the user's facts and the index of their site in sc.sites (-1 = unplaced).
func (sc *scopes) facts(u domain.User) (usage.UserFacts, int) {
	p := sc.prov[strings.ToLower(u.ID)]
	p.UserID = "" // the map's key is the user's: FactsOf need not compare ids in another letter case
	site, ok := sc.byID[p.SiteID]
	if p.SiteID == "" || !ok {
		site = -1
		if placed, found := sites.Place(sc.sites, u); found {
			site = sc.byID[placed.ID]
		}
	}
	f := usage.FactsOf(u, p, p.ManagedBy)
	f.SiteID = ""
	if site >= 0 {
		f.SiteID = sc.sites[site].ID
	}
	return f, site
}

// tally is the count of one scope.
type tally struct {
	counter  *usage.Counter
	users    int
	assigned map[string]int // licensed users holding each SKU, by lower-case skuId
}

func newTally(c *usage.Compiled) *tally {
	return &tally{counter: usage.NewCounter(c), assigned: map[string]int{}}
}

func (t *tally) add(u domain.User, f usage.UserFacts) {
	t.users++
	t.counter.Add(f)
	if !f.Licensed() {
		return
	}
	for _, l := range u.Licences {
		t.assigned[strings.ToLower(l.SkuID)]++
	}
}

// compute counts the customer's users with compiled.
func (s *Service) compute(ctx context.Context, c domain.Customer, compiled *usage.Compiled) (Current, error) {
	sc, err := s.newScopes(ctx, c.ID)
	if err != nil {
		return Current{}, err
	}
	skus, err := s.Store.CustomerSKUs(ctx, c.ID)
	if err != nil {
		return Current{}, err
	}
	pool, err := s.Store.GetPool(ctx, c.ID)
	if err != nil {
		return Current{}, err
	}
	pool = withPoolDefaults(pool, c.ID)
	all := newTally(compiled)
	perSite := make([]*tally, len(sc.sites))
	for i := range perSite {
		perSite[i] = newTally(compiled)
	}
	unplaced := newTally(compiled)
	err = s.eachUser(ctx, c.ID, func(u domain.User) {
		f, site := sc.facts(u)
		all.add(u, f)
		if site >= 0 {
			perSite[site].add(u, f)
		} else {
			unplaced.add(u, f)
		}
	})
	if err != nil {
		return Current{}, err
	}
	info := skuInfos(skus)
	cur := Current{
		Usage: all.counter.Result(), Users: all.users, AcquiredBySKU: map[string]int{}, Sites: []SiteUsage{},
		ComputedAt: s.now(),
	}
	for id, n := range pool.Acquired {
		cur.Acquired += n
		cur.AcquiredBySKU[strings.ToLower(id)] = n
	}
	// The customer's SKUs: subscribed, held, or in the pool.
	ids := map[string]bool{}
	for id := range info {
		ids[id] = true
	}
	for id := range all.assigned {
		ids[id] = true
	}
	for id := range cur.AcquiredBySKU {
		ids[id] = true
	}
	for id := range ids {
		k := skuRow(info, id)
		k.Acquired, k.Assigned = cur.AcquiredBySKU[id], all.assigned[id]
		cur.SKUs = append(cur.SKUs, k)
	}
	sortSKUs(cur.SKUs)
	siteUsage := func(id, name string, t *tally) SiteUsage {
		su := SiteUsage{SiteID: id, SiteName: name, Users: t.users, Usage: t.counter.Result(), SKUs: []domain.SnapshotSKU{}}
		for id, n := range t.assigned {
			k := skuRow(info, id)
			k.Enabled, k.Consumed, k.Assigned = 0, 0, n
			su.SKUs = append(su.SKUs, k)
		}
		sortSKUs(su.SKUs)
		return su
	}
	for i, st := range sc.sites {
		cur.Sites = append(cur.Sites, siteUsage(st.ID, st.Name, perSite[i]))
	}
	if unplaced.users > 0 {
		cur.Sites = append(cur.Sites, siteUsage(UnplacedSiteID, UnplacedSiteName, unplaced))
	}
	if cur.SKUs == nil {
		cur.SKUs = []domain.SnapshotSKU{}
	}
	return cur, nil
}

// skuInfos indexes the customer's SKUs by lower-case skuId, as snapshot rows (Assigned and Acquired 0).
func skuInfos(skus []domain.CustomerSKU) map[string]domain.SnapshotSKU {
	out := make(map[string]domain.SnapshotSKU, len(skus))
	for _, k := range skus {
		id := strings.ToLower(k.SkuID)
		row := skuRow(nil, id)
		if k.PartNumber != "" {
			if row.Name == row.PartNumber { // not in the catalogue
				row.Name = k.PartNumber
			}
			row.PartNumber = k.PartNumber
		}
		row.Enabled, row.Consumed = k.Enabled, k.Consumed
		out[id] = row
	}
	return out
}

// skuRow is the snapshot row of a SKU: the customer's when known, else named from the catalogue (the skuId when
// the catalogue does not know it either).
func skuRow(info map[string]domain.SnapshotSKU, id string) domain.SnapshotSKU {
	if k, ok := info[id]; ok {
		return k
	}
	k := domain.SnapshotSKU{SkuID: id, PartNumber: id, Name: id}
	if p, ok := catalog.Lookup(id); ok {
		k.PartNumber, k.Name = p.PartNumber, p.Name
	}
	return k
}

func sortSKUs(k []domain.SnapshotSKU) {
	slices.SortFunc(k, func(a, b domain.SnapshotSKU) int {
		return cmp.Or(strings.Compare(a.PartNumber, b.PartNumber), strings.Compare(a.SkuID, b.SkuID))
	})
}
