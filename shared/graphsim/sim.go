// Package graphsim is a simulated Microsoft cloud for Seatwise's tests, benchmarks and local runs: an Entra ID
// authority (OpenID configuration and a client-credentials token endpoint, so that azidentity's real code path runs)
// and Microsoft Graph v1.0 (subscribedSkus, users) for any number of simulated tenants, with the paths, JSON shapes,
// paging, errors and throttling that /work/shared/reference/graph.md documents for the real services.
//
// Tenants are generated deterministically from TenantSpecs and a seed. Each tenant's state lives behind its own
// mutex so that later features (delta, assignLicense, groups, Teams) can mutate it safely. A control API (HTTP under
// /_sim/ and the Go methods of Sim) lists tenants, injects faults (429 with Retry-After, 503, latency), revokes a
// tenant's consent, changes prepaid units, counts requests and resets everything.
package graphsim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Sim. The zero value gives the demo tenants with seed 0.
type Options struct {
	// Seed drives every generated value (ids, names, assignments) and the fault injection's randomness.
	Seed uint64
	// Tenants to simulate; nil means DemoTenants(). Pass an empty, non-nil slice for none.
	Tenants []TenantSpec
	// TokenKey is the HMAC key of issued access tokens; nil derives one from Seed, so that tokens stay valid across
	// restarts of a simulator with the same seed.
	TokenKey []byte
	// Now is the clock of token lifetimes; nil means time.Now.
	Now func() time.Time
}

// Sim is a set of simulated tenants and the services that answer for them. It is safe for concurrent use.
type Sim struct {
	seed uint64
	key  []byte
	now  func() time.Time

	mu      sync.RWMutex
	specs   []TenantSpec       // in creation order, for Reset
	tenants map[string]*tenant // by lower-case id
	domains map[string]*tenant // by lower-case domain

	fmu    sync.Mutex
	faults map[string]Faults // by lower-case endpoint prefix ("" = every /v1.0 request)
	rng    *rand.Rand

	smu   sync.Mutex
	stats map[string]map[int]int
	total int

	teams teamsSettings // Teams (teams.go): provisioning delay and number-operation pacing
}

// tenant is one simulated tenant. Every field below mu is guarded by it.
type tenant struct {
	id, name, domain string // immutable

	mu         sync.Mutex
	revoked    bool // the app's consent was withdrawn: no tokens, and issued tokens are refused
	skus       []*SKU
	users      []*User // sorted by id (the order of Graph's listings)
	usersByID  map[string]*User
	usersByUPN map[string]*User
	// seq counts the changes a delta query reports; touch stamps a changed user with it.
	seq uint64

	// Delta, groups and administration (delta.go, admin.go).
	deltaEpoch uint64            // random per build: delta tokens of an earlier build (before a Reset) are refused
	tombstones []tombstone       // users removed, in seq order (delta reports them as @removed)
	lastTomb   map[string]int    // user id → index of its latest tombstone
	deleted    map[string]*User  // soft-deleted users (restorable), by id
	groups     []*Group          // sorted by id
	groupsByID map[string]*Group // by lower-case id

	// Teams (teams.go): telephone number inventory and number operations.
	teams teamsTenant
}

// touch records that u changed (for delta queries). Callers hold t.mu and call it after every change of a user's
// properties or direct licences.
func (t *tenant) touch(u *User) {
	t.seq++
	u.changeSeq = t.seq
}

// User is a simulated user. Graph's assignedLicenses are derived from Licenses.
type User struct {
	ID                string
	UserPrincipalName string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	MailNickname      string
	UsageLocation     string
	AccountEnabled    bool
	Department        string
	JobTitle          string
	OfficeLocation    string
	City              string
	Country           string
	CompanyName       string
	EmployeeID        string
	UserType          string
	BusinessPhones    []string
	CreatedDateTime   time.Time
	// Licenses are the user's licence assignment states: one per SKU and source (direct or a group).
	Licenses []License

	room      bool   // a Teams Rooms resource account
	changeSeq uint64 // the tenant's seq at this user's last change (see touch)

	// Teams (teams.go): provisioning clock and voice state.
	teams teamsAccount
}

// License is one of a user's licenseAssignmentStates.
type License struct {
	SkuID           string
	DisabledPlans   []string
	AssignedByGroup string // "" for a direct assignment
	State           string // Active, ActiveWithError, Disabled, Error
	Error           string // None, CountViolation, …
	LastUpdated     time.Time
}

// SKU is a simulated subscribedSku.
type SKU struct {
	ID               string // "{tenantId}_{skuId}", as Graph forms it
	SkuID            string
	PartNumber       string
	AppliesTo        string
	CapabilityStatus string
	Enabled          int // prepaidUnits
	Suspended        int
	Warning          int
	LockedOut        int
	Consumed         int // consumedUnits; always computed from the users' licences
	ServicePlans     []ServicePlan
	SubscriptionIDs  []string
}

// ServicePlan is one service plan of a SKU.
type ServicePlan struct {
	ID                 string
	Name               string
	ProvisioningStatus string
	AppliesTo          string
}

// TenantInfo summarises a tenant (GET /_sim/tenants).
type TenantInfo struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Domain         string `json:"domain"`
	UserCount      int    `json:"userCount"`
	SKUCount       int    `json:"skuCount"`
	ConsentRevoked bool   `json:"consentRevoked"`
}

// Faults is one fault-injection rule. Endpoint "" applies to every Graph (/v1.0) request, never to the authority;
// a non-empty Endpoint is a path prefix, matched case-insensitively (e.g. "/v1.0/users", or
// "/<tenant id>/oauth2" to reach a tenant's token endpoint), and overrides the global rule for the requests it
// matches (the longest matching prefix wins).
type Faults struct {
	Rate429           float64 `json:"rate429"`           // share of requests answered 429 TooManyRequests
	Rate503           float64 `json:"rate503"`           // share of requests answered 503 ServiceUnavailable
	RetryAfterSeconds int     `json:"retryAfterSeconds"` // Retry-After of those answers (0 = retry at once)
	LatencyMs         int     `json:"latencyMs"`         // added to every matching request
	Endpoint          string  `json:"endpoint"`
	// Times, when positive, limits the rule to the next Times requests it matches: it removes itself afterwards
	// (rate429 1 with times 1 throttles exactly one request). 0 = for ever.
	Times int `json:"times,omitempty"`
}

func (f Faults) zero() bool { return f.Rate429 == 0 && f.Rate503 == 0 && f.LatencyMs == 0 }

// Stats counts the requests the simulator answered (control requests under /_sim/ excluded).
type Stats struct {
	Total int `json:"total"`
	// Requests maps an endpoint ("GET /v1.0/users", "POST /{tenant}/oauth2/v2.0/token", …) to counts by status.
	Requests map[string]map[int]int `json:"requests"`
}

// Count returns how many requests to endpoint were answered with status (any status when status is 0).
func (s Stats) Count(endpoint string, status int) int {
	n := 0
	for st, c := range s.Requests[endpoint] {
		if status == 0 || st == status {
			n += c
		}
	}
	return n
}

// ErrNotFound is returned (wrapped) by the Go control API for an unknown tenant or SKU.
var ErrNotFound = errors.New("not found")

// New returns a simulator with the tenants of opts. It panics if a spec is invalid (a programming error in the
// caller); use AddTenant to add tenants with error checking.
func New(opts Options) *Sim {
	s := &Sim{seed: opts.Seed, key: opts.TokenKey, now: opts.Now}
	if s.key == nil {
		k := sha256.Sum256([]byte(fmt.Sprintf("graphsim-token-key|%d", opts.Seed)))
		s.key = k[:]
	}
	if s.now == nil {
		s.now = time.Now
	}
	specs := opts.Tenants
	if specs == nil {
		specs = DemoTenants()
	}
	s.tenants, s.domains = map[string]*tenant{}, map[string]*tenant{}
	for _, spec := range specs {
		if err := s.AddTenant(spec); err != nil {
			panic("graphsim.New: " + err.Error())
		}
	}
	s.resetFaultsAndStats()
	return s
}

// AddTenant adds a tenant generated from spec (and the simulator's seed).
func (s *Sim) AddTenant(spec TenantSpec) error {
	t, err := buildTenant(s.seed, spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.tenants[t.id]; dup {
		return fmt.Errorf("graphsim: tenant %s already exists", t.id)
	}
	if _, dup := s.domains[t.domain]; dup {
		return fmt.Errorf("graphsim: domain %s already in use", t.domain)
	}
	s.specs = append(s.specs, cloneSpec(spec))
	s.tenants[t.id] = t
	s.domains[t.domain] = t
	return nil
}

func cloneSpec(spec TenantSpec) TenantSpec {
	spec.Cities = slices.Clone(spec.Cities)
	spec.Departments = slices.Clone(spec.Departments)
	spec.SKUs = slices.Clone(spec.SKUs)
	spec.Groups = slices.Clone(spec.Groups)
	for i := range spec.Groups {
		spec.Groups[i].SKUs = slices.Clone(spec.Groups[i].SKUs)
	}
	return spec
}

// Reset puts every tenant (those added by AddTenant included) back into its generated state, restores consents,
// turns faults off, zeroes the statistics, re-seeds the fault randomness and restores the default Teams settings.
func (s *Sim) Reset() {
	s.mu.Lock()
	s.tenants, s.domains = map[string]*tenant{}, map[string]*tenant{}
	for _, spec := range s.specs {
		t, err := buildTenant(s.seed, spec)
		if err != nil { // specs were validated when added
			panic("graphsim.Reset: " + err.Error())
		}
		s.tenants[t.id] = t
		s.domains[t.domain] = t
	}
	s.mu.Unlock()
	s.resetFaultsAndStats()
	s.teams.reset() // teams.go
}

func (s *Sim) resetFaultsAndStats() {
	s.fmu.Lock()
	s.faults = map[string]Faults{}
	s.rng = rand.New(rand.NewPCG(s.seed, 0x9e3779b97f4a7c15))
	s.fmu.Unlock()
	s.smu.Lock()
	s.stats, s.total = map[string]map[int]int{}, 0
	s.smu.Unlock()
}

// tenant returns the tenant with the given id or domain (any letter case).
func (s *Sim) tenant(idOrDomain string) (*tenant, bool) {
	k := strings.ToLower(idOrDomain)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t, ok := s.tenants[k]; ok {
		return t, true
	}
	t, ok := s.domains[k]
	return t, ok
}

func (s *Sim) mustTenant(id string) (*tenant, error) {
	t, ok := s.tenant(id)
	if !ok {
		return nil, fmt.Errorf("graphsim: tenant %s: %w", id, ErrNotFound)
	}
	return t, nil
}

// Tenants lists the tenants in creation order.
func (s *Sim) Tenants() []TenantInfo {
	s.mu.RLock()
	ts := make([]*tenant, 0, len(s.specs))
	for _, spec := range s.specs {
		if t, ok := s.tenants[strings.ToLower(spec.ID)]; ok {
			ts = append(ts, t)
		}
	}
	s.mu.RUnlock()
	out := make([]TenantInfo, 0, len(ts))
	for _, t := range ts {
		t.mu.Lock()
		out = append(out, TenantInfo{ID: t.id, Name: t.name, Domain: t.domain, UserCount: len(t.users), SKUCount: len(t.skus), ConsentRevoked: t.revoked})
		t.mu.Unlock()
	}
	return out
}

// RevokeConsent withdraws the application's consent in a tenant: the token endpoint refuses it
// (unauthorized_client, AADSTS7000229) and Graph refuses tokens already issued for it (401).
func (s *Sim) RevokeConsent(tenantID string) error { return s.setRevoked(tenantID, true) }

// RestoreConsent undoes RevokeConsent.
func (s *Sim) RestoreConsent(tenantID string) error { return s.setRevoked(tenantID, false) }

func (s *Sim) setRevoked(tenantID string, revoked bool) error {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.revoked = revoked
	t.mu.Unlock()
	return nil
}

// SetPrepaid sets prepaidUnits.enabled of a tenant's SKU (given by skuId or part number). It may go below
// consumedUnits, as when a subscription is reduced at renewal.
func (s *Sim) SetPrepaid(tenantID, sku string, enabled int) error {
	if enabled < 0 {
		return fmt.Errorf("graphsim: negative prepaid units %d", enabled)
	}
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.findSKU(sku)
	if k == nil {
		return fmt.Errorf("graphsim: tenant %s: SKU %s: %w", tenantID, sku, ErrNotFound)
	}
	k.Enabled = enabled
	return nil
}

// SKUs returns a copy of a tenant's subscribed SKUs, with Consumed computed.
func (s *Sim) SKUs(tenantID string) ([]SKU, error) {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.skuSnapshot(), nil
}

// Users returns a copy of a tenant's users in Graph's listing order.
func (s *Sim) Users(tenantID string) ([]User, error) {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]User, len(t.users))
	for i, u := range t.users {
		out[i] = u.clone()
	}
	return out, nil
}

// SetFaults installs (or, when its rates and latency are all zero, removes) the fault rule for f.Endpoint.
func (s *Sim) SetFaults(f Faults) error {
	switch {
	case f.Rate429 < 0 || f.Rate503 < 0 || math.IsNaN(f.Rate429) || math.IsNaN(f.Rate503) || f.Rate429+f.Rate503 > 1:
		return errors.New("rate429 and rate503 must be between 0 and 1, and their sum at most 1")
	case f.RetryAfterSeconds < 0 || f.RetryAfterSeconds > 3600:
		return errors.New("retryAfterSeconds must be between 0 and 3600")
	case f.LatencyMs < 0 || f.LatencyMs > 120000:
		return errors.New("latencyMs must be between 0 and 120000")
	case f.Endpoint != "" && !strings.HasPrefix(f.Endpoint, "/"):
		return errors.New(`endpoint must be "" or a path prefix starting with "/"`)
	case f.Times < 0:
		return errors.New("times must be 0 (for ever) or positive")
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	k := strings.ToLower(f.Endpoint)
	if f.zero() {
		delete(s.faults, k)
	} else {
		s.faults[k] = f
	}
	return nil
}

// ClearFaults removes every fault rule.
func (s *Sim) ClearFaults() {
	s.fmu.Lock()
	s.faults = map[string]Faults{}
	s.fmu.Unlock()
}

// Faults returns the installed fault rules, ordered by endpoint.
func (s *Sim) Faults() []Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	out := make([]Faults, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint < out[j].Endpoint })
	return out
}

// Stats returns a copy of the request counters.
func (s *Sim) Stats() Stats {
	s.smu.Lock()
	defer s.smu.Unlock()
	st := Stats{Total: s.total, Requests: make(map[string]map[int]int, len(s.stats))}
	for ep, m := range s.stats {
		st.Requests[ep] = make(map[int]int, len(m))
		for code, n := range m {
			st.Requests[ep][code] = n
		}
	}
	return st
}

func (s *Sim) count(endpoint string, status int) {
	s.smu.Lock()
	defer s.smu.Unlock()
	m := s.stats[endpoint]
	if m == nil {
		m = map[int]int{}
		s.stats[endpoint] = m
	}
	m[status]++
	s.total++
}

// decideFault picks the fault (if any) for a request path: the added latency, and 0, 429 or 503.
func (s *Sim) decideFault(path string) (f Faults, status int, ok bool) {
	lp := strings.ToLower(path)
	s.fmu.Lock()
	defer s.fmu.Unlock()
	best := -1
	for k, rule := range s.faults {
		if k != "" && strings.HasPrefix(lp, k) && len(k) > best {
			f, best = rule, len(k)
		}
	}
	if best < 0 {
		rule, global := s.faults[""]
		if !global || !strings.HasPrefix(lp, "/v1.0/") {
			return Faults{}, 0, false
		}
		f, best = rule, 0
	}
	if f.Times > 0 { // a rule for the next Times requests only
		if k := lp[:best]; f.Times == 1 {
			delete(s.faults, k)
		} else {
			left := f
			left.Times--
			s.faults[k] = left
		}
	}
	u := s.rng.Float64()
	switch {
	case u < f.Rate429:
		status = 429
	case u < f.Rate429+f.Rate503:
		status = 503
	}
	return f, status, true
}

// --- tenant helpers (callers hold t.mu) ---

func (t *tenant) addUser(u *User) {
	i := sort.Search(len(t.users), func(i int) bool { return t.users[i].ID >= u.ID })
	t.users = slices.Insert(t.users, i, u)
	t.usersByID[u.ID] = u
	if t.usersByUPN == nil {
		t.usersByUPN = map[string]*User{}
	}
	t.usersByUPN[strings.ToLower(u.UserPrincipalName)] = u
}

// findUser finds a user by id or userPrincipalName, as /users/{id | userPrincipalName} does.
func (t *tenant) findUser(key string) *User {
	if u, ok := t.usersByID[strings.ToLower(key)]; ok {
		return u
	}
	return t.usersByUPN[strings.ToLower(key)]
}

func (t *tenant) findSKU(key string) *SKU {
	for _, k := range t.skus {
		if strings.EqualFold(k.SkuID, key) || strings.EqualFold(k.PartNumber, key) || strings.EqualFold(k.ID, key) {
			return k
		}
	}
	return nil
}

// skuSnapshot copies the SKUs with consumedUnits computed from the users' licences.
func (t *tenant) skuSnapshot() []SKU {
	consumed := map[string]int{}
	for _, u := range t.users {
		for _, al := range u.assignedLicenses() {
			consumed[al.SkuID]++
		}
	}
	out := make([]SKU, len(t.skus))
	for i, k := range t.skus {
		c := *k
		c.Consumed = consumed[k.SkuID]
		c.ServicePlans = slices.Clone(k.ServicePlans)
		c.SubscriptionIDs = slices.Clone(k.SubscriptionIDs)
		out[i] = c
	}
	return out
}

// assignedLicenses derives Graph's assignedLicenses: one entry per SKU, whatever the number of sources; the direct
// assignment's disabled plans win. A state in Error (a group licence refused, e.g. for CountViolation) is not
// assigned and consumes no unit.
func (u *User) assignedLicenses() []License {
	var out []License
	for _, l := range u.Licenses {
		if l.State == "Error" {
			continue
		}
		i := slices.IndexFunc(out, func(o License) bool { return o.SkuID == l.SkuID })
		switch {
		case i < 0:
			out = append(out, l)
		case l.AssignedByGroup == "":
			out[i] = l
		}
	}
	return out
}

func (u *User) clone() User {
	c := *u
	c.BusinessPhones = slices.Clone(u.BusinessPhones)
	c.Licenses = make([]License, len(u.Licenses))
	for i, l := range u.Licenses {
		l.DisabledPlans = slices.Clone(l.DisabledPlans)
		c.Licenses[i] = l
	}
	return c
}
