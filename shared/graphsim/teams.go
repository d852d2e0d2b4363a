package graphsim

// Teams: getTeamsLicensingDetails, admin/teams/userConfigurations (a licensed user appears only after a provisioning
// delay) and the telephone number inventory of admin/teams/telephoneNumberManagement, whose assignNumber and
// unassignNumber actions answer 202 with an operation to poll.
//
// Where reference/graph.md is silent, the simulator decides as follows (the client copes with both readings where
// there are two):
//   - A user has a Teams licence when one of their licences (direct or via a group, not in state Error, of a SKU that
//     is not suspended or locked out) carries a Teams service plan (TEAMS1 and its government, kiosk, essentials and
//     free variants) that its disabledPlans do not switch off. featureTypes come the same way from the other plans:
//     AudioConferencing (MCOMEETADV…), PhoneSystem (MCOEV…), PhoneSystemVirtualUser (MCOEV_VIRTUALUSER…),
//     CallingPlan (MCOPSTN1…).
//   - "Licensed since" is when the user was first seen with a Teams plan: the helper teamsLicensed, called by the
//     code that changes licences, or the first read that observes the plan (then the licence's lastUpdatedDateTime
//     when it is in the past). The user appears in userConfigurations ProvisioningDelay after that; before, the
//     single read is a 404 and the list leaves them out. Users licensed when their tenant was generated are
//     provisioned already. A provisioned user stays listed when their licence goes; featureTypes then lack "Teams".
//   - assignNumber/unassignNumber validate the request's shape up front (400 BadRequest: missing or unknown
//     parameter, invalid numberType or assignmentCategory, a telephone number that is not one) and everything else
//     when the operation runs, which then ends "failed" with numbers[0].statusDetail saying why: number not in the
//     inventory, number of another type, target unknown or not (yet) in Teams, number held by someone else, number
//     without the userAssignment capability, no Phone System licence, a callingPlan number without a Calling Plan
//     licence, and (unassign) a number that is not assigned. Assigning a number to the user who already holds it
//     succeeds; assigning a second number of the same category moves the user to the new one (as
//     Set-CsPhoneNumberAssignment does).
//   - An operation runs when it is polled for the OperationPolls-th time (earlier polls see notStarted, then
//     running), or OperationTime after its creation, whichever comes first; with OperationPolls 0 it runs within
//     the POST. Its outcome is decided when it runs, so of two operations racing for one number the first to run
//     wins. The 202's Location is …/telephoneNumberManagement/operations('<id>'); both that form and
//     operations/<id> are served. Operations are kept until a Reset.
//   - numberAssignments: $filter with "and"-joined "<property> eq '<value>'" (or eq null) clauses and
//     capabilities/any(c:c eq '<value>'); enum values compare case-insensitively, telephone numbers with or without
//     "+"; id and city are not filterable (400). $top 1..1000 (default 500, 400 outside), $skip ≥ 0. No nextLink:
//     the caller pages with $skip. userConfigurations: $top 1..999 (default 100) with @odata.nextLink/$skiptoken,
//     and $select.

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the Teams settings (see Sim.SetTeamsProvisioningDelay and Sim.SetNumberOperationPacing).
const (
	// DefaultTeamsProvisioningDelay is how long after getting a Teams licence a user appears in
	// admin/teams/userConfigurations (real tenants take minutes to hours).
	DefaultTeamsProvisioningDelay = 2 * time.Minute
	// DefaultNumberOperationPolls is the poll of a number operation that finds it finished.
	DefaultNumberOperationPolls = 3
	// DefaultNumberOperationTime is how long a number operation that nobody polls takes to run.
	DefaultNumberOperationTime = 30 * time.Second
)

// Number types, assignment statuses and capabilities of numberAssignments.
const (
	NumberDirectRouting   = "directRouting"
	NumberCallingPlan     = "callingPlan"
	NumberOperatorConnect = "operatorConnect"

	NumberUnassigned               = "unassigned"
	NumberUserAssigned             = "userAssigned"
	NumberConferenceAssigned       = "conferenceAssigned"
	NumberVoiceApplicationAssigned = "voiceApplicationAssigned"

	CapabilityUser             = "userAssignment"
	CapabilityConference       = "conferenceAssignment"
	CapabilityVoiceApplication = "voiceApplicationAssignment"
)

const (
	teamsAdminPath = "/v1.0/admin/teams"
	numbersPath    = teamsAdminPath + "/telephoneNumberManagement/numberAssignments"
	operationsPath = teamsAdminPath + "/telephoneNumberManagement/operations"
)

// teamsRoutes are the endpoints of this file.
var teamsRoutes = []route{
	{method: "GET", pattern: "/v1.0/users/{id}/licenseDetails/getTeamsLicensingDetails", graph: (*Sim).getTeamsLicensingDetails},
	{method: "GET", pattern: "/v1.0/users/{id}/licenseDetails/getTeamsLicensingDetails()", graph: (*Sim).getTeamsLicensingDetails}, // the Go SDK's form
	{method: "GET", pattern: teamsAdminPath + "/userConfigurations", graph: (*Sim).listTeamsUsers},
	{method: "GET", pattern: teamsAdminPath + "/userConfigurations/{id}", graph: (*Sim).getTeamsUser},
	{method: "GET", pattern: numbersPath, graph: (*Sim).listNumbers},
	{method: "POST", pattern: numbersPath + "/assignNumber", graph: (*Sim).assignNumber},
	{method: "POST", pattern: numbersPath + "/microsoft.graph.teamsAdministration.assignNumber", graph: (*Sim).assignNumber},
	{method: "POST", pattern: numbersPath + "/unassignNumber", graph: (*Sim).unassignNumber},
	{method: "POST", pattern: numbersPath + "/microsoft.graph.teamsAdministration.unassignNumber", graph: (*Sim).unassignNumber},
	{method: "GET", pattern: numbersPath + "/{id}", graph: (*Sim).getNumber},
	{method: "GET", pattern: operationsPath + "/{id}", graph: (*Sim).getNumberOperation},
	// operations('<id>') is one segment; after the literal routes above, which it would otherwise shadow.
	{method: "GET", pattern: teamsAdminPath + "/telephoneNumberManagement/{operations('id')}", graph: (*Sim).getNumberOperationByKey},
}

// --- settings ---

// TeamsSettings are the simulator-wide Teams settings.
type TeamsSettings struct {
	// ProvisioningDelay: how long after getting a Teams licence a user appears in userConfigurations.
	ProvisioningDelay time.Duration
	// OperationPolls: the poll of a number operation that finds it finished (0 = it runs within the POST).
	OperationPolls int
	// OperationTime: a number operation runs at the latest this long after its creation, polled or not.
	OperationTime time.Duration
}

var defaultTeamsSettings = TeamsSettings{DefaultTeamsProvisioningDelay, DefaultNumberOperationPolls, DefaultNumberOperationTime}

// teamsSettings holds the TeamsSettings of a Sim; the zero value means the defaults.
type teamsSettings struct {
	mu     sync.Mutex
	custom *TeamsSettings
}

func (ts *teamsSettings) get() TeamsSettings {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.custom == nil {
		return defaultTeamsSettings
	}
	return *ts.custom
}

func (ts *teamsSettings) update(fn func(*TeamsSettings)) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	c := defaultTeamsSettings
	if ts.custom != nil {
		c = *ts.custom
	}
	fn(&c)
	ts.custom = &c
}

func (ts *teamsSettings) reset() {
	ts.mu.Lock()
	ts.custom = nil
	ts.mu.Unlock()
}

// TeamsSettings returns the current Teams settings.
func (s *Sim) TeamsSettings() TeamsSettings { return s.teams.get() }

// SetTeamsProvisioningDelay sets how long after getting a Teams licence a user appears in
// admin/teams/userConfigurations (0 = at once). It applies to every tenant, to users licensed before the call too;
// Reset restores DefaultTeamsProvisioningDelay.
func (s *Sim) SetTeamsProvisioningDelay(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("graphsim: negative Teams provisioning delay %s", d)
	}
	s.teams.update(func(c *TeamsSettings) { c.ProvisioningDelay = d })
	return nil
}

// SetNumberOperationPacing sets when number operations run: on their polls-th poll (0 = within the POST), and at
// the latest maxTime after their creation (0 = no time limit: only polls make them run). Reset restores the
// defaults.
func (s *Sim) SetNumberOperationPacing(polls int, maxTime time.Duration) error {
	if polls < 0 || polls > 100 || maxTime < 0 {
		return fmt.Errorf("graphsim: number operation pacing: polls must be 0..100 and the time not negative")
	}
	s.teams.update(func(c *TeamsSettings) { c.OperationPolls, c.OperationTime = polls, maxTime })
	return nil
}

// --- per-user and per-tenant state ---

// teamsAccount is a user's Teams state. The zero value is "never seen with a Teams licence".
type teamsAccount struct {
	licensedSince time.Time  // when the user got a Teams plan (zero: none, or not observed yet)
	provisioned   time.Time  // when the Teams account was created (zero: not yet)
	modified      time.Time  // modifiedDateTime
	features      featureSet // featureTypes at the last observation
	voice         bool       // enterprise voice switched on (by a number assignment)
}

// teamsTenant is a tenant's telephone number inventory and number operations.
type teamsTenant struct {
	numbers  []*PhoneNumber          // sorted by telephone number
	byNumber map[string]*PhoneNumber // by telephone number ("+" and digits)
	ops      map[string]*numberOp    // by id
	pending  []*numberOp             // not run yet, in creation order
	skus     map[string]*skuTeams    // by skuId as licences spell it (teamsSKU)
}

// PhoneNumber is one telephone number of a tenant's Teams inventory (a numberAssignment).
type PhoneNumber struct {
	TelephoneNumber    string   `json:"telephoneNumber"`              // E.164 with "+"; given without, "+" is added
	NumberType         string   `json:"numberType"`                   // directRouting, callingPlan or operatorConnect
	Capabilities       []string `json:"capabilities,omitempty"`       // nil → by type
	AssignmentTargetID string   `json:"assignmentTargetId,omitempty"` // "" = unassigned
	AssignmentCategory string   `json:"assignmentCategory,omitempty"` // primary, private, alternate; "" → primary when assigned
	AssignmentStatus   string   `json:"assignmentStatus,omitempty"`   // "" → unassigned, or userAssigned with a target
	ActivationState    string   `json:"activationState,omitempty"`    // "" → activated
	LocationID         string   `json:"locationId,omitempty"`
	IsoCountryCode     string   `json:"isoCountryCode,omitempty"`
	City               string   `json:"city,omitempty"`
	NumberSource       string   `json:"numberSource,omitempty"` // "" → online
	OperatorID         string   `json:"operatorId,omitempty"`
}

// TeamsUser summarises a user's Teams state (Sim.TeamsUsers).
type TeamsUser struct {
	ID                string    `json:"id"`
	UserPrincipalName string    `json:"userPrincipalName"`
	HasTeamsLicense   bool      `json:"hasTeamsLicense"`
	Provisioned       bool      `json:"provisioned"` // listed in admin/teams/userConfigurations
	LicensedSince     time.Time `json:"licensedSince,omitzero"`
	FeatureTypes      []string  `json:"featureTypes"`
	EnterpriseVoice   bool      `json:"isEnterpriseVoiceEnabled"`
	TelephoneNumbers  []string  `json:"telephoneNumbers"`
}

// numberOp is an assignNumber or unassignNumber operation.
type numberOp struct {
	id       string
	assign   bool
	created  time.Time
	number   string // normalised
	target   string
	numType  string
	category string
	location string
	polls    int
	status   string // notStarted, running, succeeded, failed
	detail   string // why it failed
}

func (o *numberOp) done() bool { return o.status == "succeeded" || o.status == "failed" }

// --- licences → Teams features ---

// featureSet is a set of Teams featureTypes.
type featureSet uint8

const (
	featTeams featureSet = 1 << iota
	featAudioConferencing
	featPhoneSystem
	featPhoneSystemVirtualUser
	featCallingPlan
)

// teamsFeatureNames are the featureTypes, in the order Graph lists them.
var teamsFeatureNames = []struct {
	f    featureSet
	name string
}{{featTeams, "Teams"}, {featAudioConferencing, "AudioConferencing"}, {featPhoneSystem, "PhoneSystem"},
	{featPhoneSystemVirtualUser, "PhoneSystemVirtualUser"}, {featCallingPlan, "CallingPlan"}}

func (fs featureSet) names() []string {
	out := []string{}
	for _, n := range teamsFeatureNames {
		if fs&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func (fs featureSet) voice() bool { return fs&(featPhoneSystem|featPhoneSystemVirtualUser) != 0 }

// teamsFeatureOfPlan maps upper-case service plan names to the feature they give.
var teamsFeatureOfPlan = map[string]featureSet{
	"TEAMS1": featTeams, "TEAMS_GOV": featTeams, "TEAMS_AR_GCCHIGH": featTeams, "TEAMS_AR_DOD": featTeams,
	"TEAMS_DESKLESS": featTeams, "TEAMSESS": featTeams, "TEAMS_FREE": featTeams, "MCO_TEAMS_IW": featTeams,
	"MCOMEETADV": featAudioConferencing, "MCOMEETADV_GOV": featAudioConferencing, "MCOMEETADV_AR_GCCHIGH": featAudioConferencing,
	"MCOMEETACPEA": featAudioConferencing, "MCOMEETBASIC": featAudioConferencing, "MCOMEETBASIC_GOV": featAudioConferencing,
	"MCOEV": featPhoneSystem, "MCOEV_GOV": featPhoneSystem, "MCOEVSMB": featPhoneSystem,
	"MCOEV_VIRTUALUSER": featPhoneSystemVirtualUser, "MCOEV_VIRTUALUSER_GOV": featPhoneSystemVirtualUser,
	"MCOPSTN1": featCallingPlan, "MCOPSTN2": featCallingPlan, "MCOPSTN3": featCallingPlan, "MCOPSTN5": featCallingPlan,
	"MCOPSTN6": featCallingPlan, "MCOPSTN8": featCallingPlan, "MCOPSTNEAU": featCallingPlan, "MCOPSTN_PAYG_1": featCallingPlan,
}

// featurePlan is a service plan that gives a Teams feature.
type featurePlan struct {
	id string
	f  featureSet
}

// skuTeams is a SKU with the service plans of it that give Teams features (memoised: plans never change).
type skuTeams struct {
	sku   *SKU
	plans []featurePlan
}

// teamsSKU returns the SKU of a licence with its Teams plans. Callers hold t.mu.
func (t *tenant) teamsSKU(skuID string) *skuTeams {
	if st, ok := t.teams.skus[skuID]; ok {
		return st
	}
	k := t.findSKU(skuID)
	if k == nil {
		return nil // not memoised: the SKU may come later
	}
	st := &skuTeams{sku: k}
	for _, p := range k.ServicePlans {
		if f, ok := teamsFeatureOfPlan[strings.ToUpper(p.Name)]; ok {
			st.plans = append(st.plans, featurePlan{p.ID, f})
		}
	}
	if t.teams.skus == nil {
		t.teams.skus = map[string]*skuTeams{}
	}
	t.teams.skus[skuID] = st
	return st
}

// licenceFeatures returns the Teams features one licence assignment state gives: none from a state in Error, or
// from a suspended, locked-out or deleted subscription; plans in its disabledPlans are off.
func (t *tenant) licenceFeatures(l License) featureSet {
	if l.State == "Error" || l.State == "Disabled" {
		return 0
	}
	st := t.teamsSKU(l.SkuID)
	if st == nil || len(st.plans) == 0 {
		return 0
	}
	switch st.sku.CapabilityStatus {
	case "Suspended", "LockedOut", "Deleted":
		return 0
	}
	var out featureSet
	for _, p := range st.plans {
		if !slices.ContainsFunc(l.DisabledPlans, func(d string) bool { return strings.EqualFold(d, p.id) }) {
			out |= p.f
		}
	}
	return out
}

// teamsFeatures returns the Teams features u's licences give.
func (t *tenant) teamsFeatures(u *User) featureSet {
	var out featureSet
	for _, l := range u.Licenses {
		out |= t.licenceFeatures(l)
	}
	return out
}

// teamsLicensed tells Teams that u's licences changed at now, so that a newly licensed user's provisioning delay
// counts from now. Callers hold t.mu.
//
// Whoever changes a user's licences (assignLicense, group membership or group licence changes, the admin API):
// please call t.teamsLicensed(u, s.now()) after the change. Teams copes without it (it notices the change at its
// next read, and then counts from the licence's lastUpdatedDateTime if that is in the past, else from that read),
// but the call makes the delay exact.
func (t *tenant) teamsLicensed(u *User, now time.Time) { t.teamsObserve(u, now, true) }

// teamsObserve updates u's Teams state from their licences and returns their featureTypes. explicit: the licences
// changed at now (teamsLicensed); otherwise this is a read noticing them. Callers hold t.mu.
func (t *tenant) teamsObserve(u *User, now time.Time, explicit bool) featureSet {
	f := t.teamsFeatures(u)
	a := &u.teams
	hasTeams := f&featTeams != 0
	switch {
	case hasTeams && a.licensedSince.IsZero():
		a.licensedSince = now
		if !explicit {
			a.licensedSince = t.teamsLicenceTime(u, now)
		}
	case !hasTeams && a.provisioned.IsZero():
		a.licensedSince = time.Time{} // the licence went before the account was made: start again next time
	}
	if f != a.features && !a.provisioned.IsZero() {
		a.modified = now
	}
	a.features = f
	return f
}

// teamsLicenceTime is when u's Teams plan arrived, as far as the licences tell: the earliest lastUpdatedDateTime of
// the licences that carry one, when it is not in the future; else now.
func (t *tenant) teamsLicenceTime(u *User, now time.Time) time.Time {
	since := now
	for _, l := range u.Licenses {
		if t.licenceFeatures(l)&featTeams != 0 && !l.LastUpdated.IsZero() && l.LastUpdated.Before(since) {
			since = l.LastUpdated
		}
	}
	return since
}

// teamsProvisioned observes u and reports whether their Teams account exists at now, creating it when the
// provisioning delay has passed. Callers hold t.mu.
func (t *tenant) teamsProvisioned(u *User, now time.Time, delay time.Duration) (featureSet, bool) {
	f := t.teamsObserve(u, now, false)
	a := &u.teams
	if a.provisioned.IsZero() && !a.licensedSince.IsZero() && !now.Before(a.licensedSince.Add(delay)) {
		a.provisioned = a.licensedSince.Add(delay)
		a.modified = a.provisioned
	}
	return f, !a.provisioned.IsZero()
}

// numbersOf returns the numbers assigned to a user, in inventory order.
func (t *tenant) numbersOf(userID string) []*PhoneNumber {
	var out []*PhoneNumber
	for _, n := range t.teams.numbers {
		if n.AssignmentTargetID != "" && strings.EqualFold(n.AssignmentTargetID, userID) {
			out = append(out, n)
		}
	}
	return out
}

// numbersByTarget indexes the assigned numbers by lower-case target id.
func (t *tenant) numbersByTarget() map[string][]*PhoneNumber {
	out := map[string][]*PhoneNumber{}
	for _, n := range t.teams.numbers {
		if n.AssignmentTargetID != "" {
			k := strings.ToLower(n.AssignmentTargetID)
			out[k] = append(out[k], n)
		}
	}
	return out
}

// --- seeding ---

// seedTeams gives a generated tenant its Teams state: a few people whose admin switched Teams off, Teams accounts
// for everyone licensed (provisioned long ago), and, when the spec has a dial code, a number inventory: numbers for
// most Teams Phone users (calling plan numbers for Calling Plan holders, direct routing or Operator Connect numbers
// for the others, direct routing for some rooms), free numbers of each type, and service numbers of the
// conferencing bridge. It draws from its own generator, so the rest of the tenant does not depend on it.
func seedTeams(seed uint64, t *tenant, spec TenantSpec) {
	r := tenantRNG(seed, spec.ID+"|teams")
	t.teams = teamsTenant{byNumber: map[string]*PhoneNumber{}, ops: map[string]*numberOp{}, skus: map[string]*skuTeams{}}
	features := make([]featureSet, len(t.users))
	for i, u := range t.users {
		features[i] = t.teamsFeatures(u)
	}

	// Two people with Teams switched off in their (direct) licences.
	var cands []int
	for i, u := range t.users {
		direct := !slices.ContainsFunc(u.Licenses, func(l License) bool { return l.AssignedByGroup != "" })
		if !u.room && direct && features[i]&featTeams != 0 && features[i]&featPhoneSystem == 0 {
			cands = append(cands, i)
		}
	}
	r.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
	for _, ui := range cands[:min(2, len(cands))] {
		u := t.users[ui]
		for i, l := range u.Licenses {
			st := t.teamsSKU(l.SkuID)
			if st == nil {
				continue
			}
			for _, p := range st.plans {
				if p.f == featTeams && !slices.Contains(l.DisabledPlans, p.id) {
					u.Licenses[i].DisabledPlans = append(slices.Clone(u.Licenses[i].DisabledPlans), p.id)
				}
			}
		}
		features[ui] = t.teamsFeatures(u)
	}

	// Teams accounts of everyone licensed: made an hour after the licence.
	for i, u := range t.users {
		if features[i]&featTeams == 0 {
			continue
		}
		since := t.teamsLicenceTime(u, seedTime)
		u.teams = teamsAccount{licensedSince: since, provisioned: since.Add(time.Hour), modified: since.Add(time.Hour), features: features[i]}
	}

	if spec.DialCode == "" {
		return
	}
	g := newNumberGen(spec, t.id)
	for i, u := range t.users {
		f := features[i]
		if u.teams.provisioned.IsZero() || f&featPhoneSystem == 0 {
			continue
		}
		typ := ""
		switch {
		case f&featCallingPlan != 0:
			if r.IntN(100) < 80 {
				typ = NumberCallingPlan
			}
		case u.room:
			if r.IntN(2) == 0 {
				typ = NumberDirectRouting
			}
		case r.IntN(100) < 60:
			typ = []string{NumberDirectRouting, NumberOperatorConnect}[r.IntN(2)]
		}
		if typ == "" {
			continue
		}
		n := g.next(typ)
		n.AssignmentTargetID, n.AssignmentCategory, n.AssignmentStatus = u.ID, "primary", NumberUserAssigned
		t.seedNumber(n)
		u.teams.voice = true
	}
	for _, typ := range []struct {
		typ string
		n   int
	}{{NumberCallingPlan, 6}, {NumberDirectRouting, 8}, {NumberOperatorConnect, 6}} {
		for range typ.n {
			t.seedNumber(g.next(typ.typ))
		}
	}
	bridge := nameUUID("graphsim-conference-bridge|" + t.id)
	for range 2 {
		n := g.next(NumberCallingPlan)
		n.Capabilities = []string{CapabilityConference, CapabilityVoiceApplication}
		n.AssignmentTargetID, n.AssignmentCategory, n.AssignmentStatus = bridge, "primary", NumberConferenceAssigned
		t.seedNumber(n)
	}
	n := g.next(NumberCallingPlan) // a free service number (auto attendants, call queues)
	n.Capabilities = []string{CapabilityConference, CapabilityVoiceApplication}
	t.seedNumber(n)
	slices.SortFunc(t.teams.numbers, func(a, b *PhoneNumber) int { return strings.Compare(a.TelephoneNumber, b.TelephoneNumber) })
}

// numberGen makes a tenant's telephone numbers: fictional ranges where the dial code has them (+1 555-01xx, +44
// Ofcom's drama ranges), one block per office city.
type numberGen struct {
	dial   string
	areas  []string
	width  int
	start  int
	cities []string
	iso    string
	tenant string
	k      int
}

func newNumberGen(spec TenantSpec, tenantID string) *numberGen {
	g := &numberGen{dial: spec.DialCode, cities: orDefault(spec.Cities, defaultCities), iso: spec.UsageLocation, tenant: tenantID}
	switch strings.TrimSpace(spec.DialCode) {
	case "+1":
		g.areas, g.width, g.start = []string{"206555", "425555", "253555"}, 4, 100
	case "+44":
		g.areas, g.width, g.start = []string{"207946", "161496", "131496"}, 4, 0
	default:
		g.areas, g.width, g.start = []string{"555"}, 7, 0
	}
	g.dial = "+" + strings.TrimLeft(strings.TrimSpace(g.dial), "+")
	return g
}

func (g *numberGen) next(typ string) *PhoneNumber {
	k := g.k
	g.k++
	n := &PhoneNumber{
		TelephoneNumber: fmt.Sprintf("%s%s%0*d", g.dial, g.areas[k%len(g.areas)], g.width, g.start+k/len(g.areas)),
		NumberType:      typ,
	}
	switch typ {
	case NumberCallingPlan:
		n.City, n.IsoCountryCode, n.OperatorID = g.cities[k%len(g.cities)], g.iso, nameUUID("graphsim-operator|microsoft")
	case NumberOperatorConnect:
		n.IsoCountryCode, n.OperatorID = g.iso, nameUUID("graphsim-operator|operator-connect|"+g.tenant)
	}
	return n
}

// normalizeNumber returns a telephone number as "+digits", and whether it is one (7 to 15 digits, no leading 0).
func normalizeNumber(s string) (string, bool) {
	d := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return "+" + d, true
}

var (
	numberTypes      = []string{NumberDirectRouting, NumberCallingPlan, NumberOperatorConnect}
	numberStatuses   = []string{NumberUnassigned, NumberUserAssigned, NumberConferenceAssigned, NumberVoiceApplicationAssigned}
	numberCategories = []string{"primary", "private", "alternate"}
)

// enumValue returns the canonical spelling of v in values (case-insensitive), or "".
func enumValue(v string, values []string) string {
	for _, e := range values {
		if strings.EqualFold(e, v) {
			return e
		}
	}
	return ""
}

// completeNumber validates n and fills its defaults.
func completeNumber(n PhoneNumber) (*PhoneNumber, error) {
	num, ok := normalizeNumber(n.TelephoneNumber)
	if !ok {
		return nil, fmt.Errorf("telephone number %q is not a number in E.164 form", n.TelephoneNumber)
	}
	n.TelephoneNumber = num
	if n.NumberType = enumValue(n.NumberType, numberTypes); n.NumberType == "" {
		return nil, fmt.Errorf("%s: numberType must be one of %s", num, strings.Join(numberTypes, ", "))
	}
	if n.Capabilities == nil {
		n.Capabilities = []string{CapabilityUser}
		if n.NumberType == NumberDirectRouting {
			n.Capabilities = []string{CapabilityConference, CapabilityVoiceApplication, CapabilityUser}
		}
	}
	n.Capabilities = slices.Clone(n.Capabilities)
	switch {
	case n.AssignmentStatus == "" && n.AssignmentTargetID == "":
		n.AssignmentStatus = NumberUnassigned
	case n.AssignmentStatus == "":
		n.AssignmentStatus = NumberUserAssigned
	default:
		if n.AssignmentStatus = enumValue(n.AssignmentStatus, numberStatuses); n.AssignmentStatus == "" {
			return nil, fmt.Errorf("%s: assignmentStatus must be one of %s", num, strings.Join(numberStatuses, ", "))
		}
	}
	if (n.AssignmentStatus == NumberUnassigned) != (n.AssignmentTargetID == "") {
		return nil, fmt.Errorf("%s: an assigned number needs an assignmentTargetId, an unassigned one has none", num)
	}
	if n.AssignmentTargetID != "" && n.AssignmentCategory == "" {
		n.AssignmentCategory = "primary"
	}
	if n.AssignmentCategory != "" {
		if n.AssignmentCategory = enumValue(n.AssignmentCategory, numberCategories); n.AssignmentCategory == "" {
			return nil, fmt.Errorf("%s: assignmentCategory must be one of %s", num, strings.Join(numberCategories, ", "))
		}
	}
	if n.ActivationState == "" {
		n.ActivationState = "activated"
	}
	if n.NumberSource == "" {
		n.NumberSource = "online"
	}
	return &n, nil
}

// addNumber adds a number to the inventory (the caller made sure it is new and complete). Callers hold t.mu.
func (t *tenant) addNumber(n *PhoneNumber) {
	i := sort.Search(len(t.teams.numbers), func(i int) bool { return t.teams.numbers[i].TelephoneNumber >= n.TelephoneNumber })
	t.teams.numbers = slices.Insert(t.teams.numbers, i, n)
	t.teams.byNumber[n.TelephoneNumber] = n
}

// seedNumber appends a generated number to the inventory, which seedTeams sorts once at the end.
func (t *tenant) seedNumber(n *PhoneNumber) {
	n, _ = completeNumber(*n) // generated numbers are valid
	t.teams.numbers = append(t.teams.numbers, n)
	t.teams.byNumber[n.TelephoneNumber] = n
}

// numberID is a numberAssignment's id, formed as Graph's look: base64 of "<tenant id>|<number>".
func numberID(tenantID, number string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tenantID + "|" + number))
}

// --- Go control API ---

// AddNumbers adds telephone numbers to a tenant's Teams inventory (as an operator port-in or a Calling Plan order
// would). Defaults: capabilities by type (directRouting: all three; others: userAssignment), assignmentStatus
// unassigned (userAssigned with an assignmentTargetId), category primary when assigned, activationState activated,
// numberSource online. A number already in the inventory, or listed twice, is an error and nothing is added.
func (s *Sim) AddNumbers(tenantID string, numbers ...PhoneNumber) error {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return err
	}
	var add []*PhoneNumber
	seen := map[string]bool{}
	for _, n := range numbers {
		c, err := completeNumber(n)
		if err != nil {
			return fmt.Errorf("graphsim: add numbers: %w", err)
		}
		if seen[c.TelephoneNumber] {
			return fmt.Errorf("graphsim: add numbers: %s listed twice", c.TelephoneNumber)
		}
		seen[c.TelephoneNumber] = true
		add = append(add, c)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range add {
		if t.teams.byNumber[n.TelephoneNumber] != nil {
			return fmt.Errorf("graphsim: add numbers: %s is already in tenant %s", n.TelephoneNumber, t.id)
		}
	}
	for _, n := range add {
		t.addNumber(n)
		if u := t.usersByID[strings.ToLower(n.AssignmentTargetID)]; u != nil && n.AssignmentStatus == NumberUserAssigned {
			u.teams.voice = true
		}
	}
	return nil
}

// Numbers returns a copy of a tenant's telephone number inventory, ordered by number, after running the number
// operations that are due.
func (s *Sim) Numbers(tenantID string) ([]PhoneNumber, error) {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return nil, err
	}
	set := s.teams.get()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.runDueNumberOps(s.now(), set)
	out := make([]PhoneNumber, len(t.teams.numbers))
	for i, n := range t.teams.numbers {
		out[i] = *n
		out[i].Capabilities = slices.Clone(n.Capabilities)
	}
	return out, nil
}

// TeamsUsers summarises the Teams state of every user of a tenant, in Graph's listing order. Reading it counts
// as an observation (see teamsLicensed): it may start a provisioning clock, and creates due Teams accounts.
func (s *Sim) TeamsUsers(tenantID string) ([]TeamsUser, error) {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return nil, err
	}
	set := s.teams.get()
	t.mu.Lock()
	defer t.mu.Unlock()
	now := s.now()
	t.runDueNumberOps(now, set)
	byTarget := t.numbersByTarget()
	out := make([]TeamsUser, 0, len(t.users))
	for _, u := range t.users {
		f, ok := t.teamsProvisioned(u, now, set.ProvisioningDelay)
		tu := TeamsUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, HasTeamsLicense: f&featTeams != 0,
			Provisioned: ok, LicensedSince: u.teams.licensedSince, FeatureTypes: f.names(), EnterpriseVoice: enterpriseVoice(u, f),
			TelephoneNumbers: []string{}}
		for _, n := range byTarget[strings.ToLower(u.ID)] {
			tu.TelephoneNumbers = append(tu.TelephoneNumbers, n.TelephoneNumber)
		}
		out = append(out, tu)
	}
	return out, nil
}

// ReprovisionTeamsUser restarts a user's Teams provisioning as if they had just been licensed: they leave
// userConfigurations and come back after the provisioning delay (if they hold a Teams licence). Their numbers stay
// assigned.
func (s *Sim) ReprovisionTeamsUser(tenantID, user string) error {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.findUser(user)
	if u == nil {
		return fmt.Errorf("graphsim: tenant %s: user %s: %w", tenantID, user, ErrNotFound)
	}
	u.teams.licensedSince, u.teams.provisioned = time.Time{}, time.Time{}
	t.teamsLicensed(u, s.now())
	return nil
}

func enterpriseVoice(u *User, f featureSet) bool { return u.teams.voice && f.voice() }

// --- Graph: licensing details and user configurations ---

// getTeamsLicensingDetails serves GET /v1.0/users/{id | userPrincipalName}/licenseDetails/getTeamsLicensingDetails.
func (s *Sim) getTeamsLicensingDetails(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	if unsupportedQuery(w, r) {
		return
	}
	t.mu.Lock()
	u := t.findUser(args[0])
	has := false
	if u != nil {
		has = t.teamsObserve(u, s.now(), false)&featTeams != 0
	}
	t.mu.Unlock()
	if u == nil {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
		return
	}
	writeJSON(w, http.StatusOK, obj{{"@odata.context", metadata(r, "microsoft.graph.teamsLicensingDetails")}, {"hasTeamsLicense", has}})
}

// teamsView is a user as a teamsUserConfiguration.
type teamsView struct {
	u        *User
	tenantID string
	features featureSet
	numbers  []*PhoneNumber
}

// teamsUserProps are the teamsUserConfiguration properties, in Graph's order.
var teamsUserProps = []property[*teamsView]{
	{"id", func(v *teamsView, _ *tenant) any { return v.u.ID }},
	{"userPrincipalName", func(v *teamsView, _ *tenant) any { return v.u.UserPrincipalName }},
	{"tenantId", func(v *teamsView, _ *tenant) any { return v.tenantID }},
	{"effectivePolicyAssignments", func(v *teamsView, _ *tenant) any { return []any{} }},
	{"telephoneNumbers", func(v *teamsView, _ *tenant) any {
		out := []any{}
		for _, n := range v.numbers {
			out = append(out, obj{{"telephoneNumber", n.TelephoneNumber}, {"assignmentCategory", n.AssignmentCategory}})
		}
		return out
	}},
	{"isEnterpriseVoiceEnabled", func(v *teamsView, _ *tenant) any { return enterpriseVoice(v.u, v.features) }},
	{"featureTypes", func(v *teamsView, _ *tenant) any { return v.features.names() }},
	{"accountType", func(v *teamsView, _ *tenant) any {
		switch {
		case v.u.room:
			return "resourceAccount"
		case strings.EqualFold(v.u.UserType, "Guest"):
			return "guest"
		}
		return "user"
	}},
	{"createdDateTime", func(v *teamsView, _ *tenant) any { return graphTime(v.u.teams.provisioned) }},
	{"modifiedDateTime", func(v *teamsView, _ *tenant) any { return graphTime(v.u.teams.modified) }},
}

const (
	defaultTeamsUserPage = 100
	teamsSkipTokenPrefix = "graphsim:teamsusers:"
)

// listTeamsUsers serves GET /v1.0/admin/teams/userConfigurations: the provisioned users, with $top (1..999),
// $skiptoken paging and $select.
func (s *Sim) listTeamsUsers(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	if unsupportedQuery(w, r, "$select", "$top", "$skiptoken") {
		return
	}
	q := r.URL.Query()
	top := defaultTeamsUserPage
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUserPage {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v))
			return
		}
		top = n
	}
	after := ""
	if v := q.Get("$skiptoken"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !strings.HasPrefix(string(b), teamsSkipTokenPrefix) {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		after = strings.TrimPrefix(string(b), teamsSkipTokenPrefix)
	}
	sel, bad := parseSelect(r, teamsUserProps, "teamsAdministration.teamsUserConfiguration")
	if bad != "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", bad)
		return
	}
	set := s.teams.get()
	t.mu.Lock()
	now := s.now()
	t.runDueNumberOps(now, set)
	byTarget := t.numbersByTarget()
	start := 0
	if after != "" {
		start = sort.Search(len(t.users), func(i int) bool { return t.users[i].ID > after })
	}
	value, next, last := []any{}, "", ""
	for _, u := range t.users[start:] {
		f, ok := t.teamsProvisioned(u, now, set.ProvisioningDelay)
		if !ok {
			continue
		}
		if len(value) == top {
			next = base64.RawURLEncoding.EncodeToString([]byte(teamsSkipTokenPrefix + last))
			break
		}
		v := &teamsView{u: u, tenantID: t.id, features: f, numbers: byTarget[strings.ToLower(u.ID)]}
		value = append(value, render(v, t, teamsUserProps, sel, nil))
		last = u.ID
	}
	t.mu.Unlock()
	ctx := "admin/teams/userConfigurations"
	if sel != nil {
		ctx += sel.context
	}
	body := obj{{"@odata.context", metadata(r, ctx)}}
	if next != "" {
		body = append(body, kv{"@odata.nextLink", nextLink(r, next)})
	}
	writeJSON(w, http.StatusOK, append(body, kv{"value", value}))
}

// getTeamsUser serves GET /v1.0/admin/teams/userConfigurations/{user id}: 404 until the user's Teams account
// exists.
func (s *Sim) getTeamsUser(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	sel, ok := selectOnly(w, r, teamsUserProps, "teamsAdministration.teamsUserConfiguration")
	if !ok {
		return
	}
	set := s.teams.get()
	t.mu.Lock()
	now := s.now()
	t.runDueNumberOps(now, set)
	var body obj
	if u := t.usersByID[strings.ToLower(args[0])]; u != nil {
		if f, ok := t.teamsProvisioned(u, now, set.ProvisioningDelay); ok {
			body = render(&teamsView{u: u, tenantID: t.id, features: f, numbers: t.numbersOf(u.ID)}, t, teamsUserProps, sel, nil)
		}
	}
	t.mu.Unlock()
	if body == nil {
		writeGraphError(w, r, http.StatusNotFound, "NotFound", fmt.Sprintf("User '%s' was not found in Microsoft Teams.", args[0]))
		return
	}
	ctx := "admin/teams/userConfigurations"
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, append(obj{{"@odata.context", metadata(r, ctx+"/$entity")}}, body...))
}

// --- Graph: number inventory ---

func renderNumber(t *tenant, n *PhoneNumber) obj {
	actions := []string{"locationUpdate"}
	if n.NumberType == NumberCallingPlan && n.AssignmentStatus == NumberUnassigned {
		actions = append(actions, "release")
	}
	return obj{
		{"id", numberID(t.id, n.TelephoneNumber)},
		{"telephoneNumber", n.TelephoneNumber},
		{"operatorId", str(n.OperatorID)},
		{"numberType", n.NumberType},
		{"activationState", n.ActivationState},
		{"capabilities", strs(n.Capabilities)},
		{"locationId", str(n.LocationID)},
		{"civicAddressId", nil},
		{"networkSiteId", nil},
		{"assignmentTargetId", str(n.AssignmentTargetID)},
		{"assignmentCategory", str(n.AssignmentCategory)},
		{"portInStatus", nil},
		{"assignmentStatus", n.AssignmentStatus},
		{"isoCountryCode", str(n.IsoCountryCode)},
		{"city", str(n.City)},
		{"numberSource", n.NumberSource},
		{"supportedCustomerActions", actions},
		{"reverseNumberLookupOptions", []string{}},
	}
}

// numberProps are the filterable numberAssignment properties; enum ones compare case-insensitively like the
// others.
var numberProps = map[string]func(n *PhoneNumber) string{
	"telephoneNumber":    func(n *PhoneNumber) string { return n.TelephoneNumber },
	"operatorId":         func(n *PhoneNumber) string { return n.OperatorID },
	"numberType":         func(n *PhoneNumber) string { return n.NumberType },
	"activationState":    func(n *PhoneNumber) string { return n.ActivationState },
	"locationId":         func(n *PhoneNumber) string { return n.LocationID },
	"civicAddressId":     func(n *PhoneNumber) string { return "" },
	"networkSiteId":      func(n *PhoneNumber) string { return "" },
	"assignmentTargetId": func(n *PhoneNumber) string { return n.AssignmentTargetID },
	"assignmentCategory": func(n *PhoneNumber) string { return n.AssignmentCategory },
	"portInStatus":       func(n *PhoneNumber) string { return "" },
	"assignmentStatus":   func(n *PhoneNumber) string { return n.AssignmentStatus },
	"isoCountryCode":     func(n *PhoneNumber) string { return n.IsoCountryCode },
	"numberSource":       func(n *PhoneNumber) string { return n.NumberSource },
}

// numberEnums are the allowed values of the enum properties (a filter on another value is a 400).
var numberEnums = map[string][]string{
	"numberType":         append(slices.Clone(numberTypes), "internalError", "unknownFutureValue"),
	"assignmentStatus":   append(slices.Clone(numberStatuses), "internalError", "thirdPartyAppAssigned", "policyAssigned", "unknownFutureValue"),
	"assignmentCategory": append(slices.Clone(numberCategories), "unknownFutureValue"),
	"activationState":    {"activated", "assignmentPending", "assignmentFailed", "updatePending", "updateFailed", "unknownFutureValue"},
	"numberSource":       {"online", "onPremises", "unknownFutureValue"},
}

var (
	filterAnd     = regexp.MustCompile(`(?i)\s+and\s+`)
	filterEq      = regexp.MustCompile(`^(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|(null))$`)
	filterCapable = regexp.MustCompile(`^capabilities/any\((\w+):\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\)$`)
)

// numberFilter is a parsed numberAssignments $filter: every clause must hold.
type numberFilter []func(n *PhoneNumber) bool

func parseNumberFilter(raw string) (numberFilter, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, ""
	}
	var f numberFilter
	for _, c := range filterAnd.Split(raw, -1) {
		c = strings.TrimSpace(c)
		if m := filterCapable.FindStringSubmatch(c); m != nil {
			if m[1] != m[2] {
				return nil, fmt.Sprintf("Invalid filter clause '%s': the lambda variable '%s' is not defined.", c, m[2])
			}
			want := strings.ReplaceAll(m[3], "''", "'")
			f = append(f, func(n *PhoneNumber) bool {
				return slices.ContainsFunc(n.Capabilities, func(c string) bool { return strings.EqualFold(c, want) })
			})
			continue
		}
		m := filterEq.FindStringSubmatch(c)
		if m == nil {
			return nil, fmt.Sprintf("Invalid filter clause '%s'. Supported: \"<property> eq '<value>'\" joined by 'and', and capabilities/any(c:c eq '<value>').", c)
		}
		prop, isNull := m[1], m[3] != ""
		want := strings.ReplaceAll(m[2], "''", "'")
		get, ok := numberProps[prop]
		if !ok {
			if prop == "id" || prop == "city" {
				return nil, fmt.Sprintf("Filtering on property '%s' is not supported.", prop)
			}
			return nil, fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.teamsAdministration.numberAssignment'.", prop)
		}
		if vals, isEnum := numberEnums[prop]; isEnum && !isNull && enumValue(want, vals) == "" {
			return nil, fmt.Sprintf("The value '%s' is not valid for property '%s'. Valid values: %s.", want, prop, strings.Join(vals, ", "))
		}
		if prop == "telephoneNumber" && !isNull {
			want = "+" + strings.TrimPrefix(want, "+")
		}
		f = append(f, func(n *PhoneNumber) bool {
			if isNull {
				return get(n) == ""
			}
			return strings.EqualFold(get(n), want)
		})
	}
	return f, ""
}

func (f numberFilter) match(n *PhoneNumber) bool {
	for _, c := range f {
		if !c(n) {
			return false
		}
	}
	return true
}

// Paging of numberAssignments.
const (
	defaultNumberPage = 500
	maxNumberPage     = 1000
)

// listNumbers serves GET …/telephoneNumberManagement/numberAssignments with $filter, $top (1..1000) and $skip.
func (s *Sim) listNumbers(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	if unsupportedQuery(w, r, "$filter", "$top", "$skip") {
		return
	}
	q := r.URL.Query()
	top, skip := defaultNumberPage, 0
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxNumberPage {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, maxNumberPage))
			return
		}
		top = n
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid value '%s' for $skip: it must be a non-negative integer.", v))
			return
		}
		skip = n
	}
	filter, bad := parseNumberFilter(q.Get("$filter"))
	if bad != "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", bad)
		return
	}
	set := s.teams.get()
	t.mu.Lock()
	t.runDueNumberOps(s.now(), set)
	value := []any{}
	for _, n := range t.teams.numbers {
		if !filter.match(n) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(value) == top {
			break
		}
		value = append(value, renderNumber(t, n))
	}
	t.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{{"@odata.context", metadata(r, "admin/teams/telephoneNumberManagement/numberAssignments")}, {"value", value}})
}

// getNumber serves GET …/numberAssignments/{id}.
func (s *Sim) getNumber(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	if unsupportedQuery(w, r) {
		return
	}
	set := s.teams.get()
	t.mu.Lock()
	t.runDueNumberOps(s.now(), set)
	var body obj
	for _, n := range t.teams.numbers {
		if numberID(t.id, n.TelephoneNumber) == args[0] {
			body = renderNumber(t, n)
		}
	}
	t.mu.Unlock()
	if body == nil {
		writeGraphError(w, r, http.StatusNotFound, "NotFound", fmt.Sprintf("Number assignment '%s' was not found.", args[0]))
		return
	}
	writeJSON(w, http.StatusOK, append(obj{{"@odata.context", metadata(r, "admin/teams/telephoneNumberManagement/numberAssignments/$entity")}}, body...))
}

// --- Graph: assign / unassign and their operations ---

func (s *Sim) assignNumber(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	s.numberAction(w, r, t, true)
}

func (s *Sim) unassignNumber(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	s.numberAction(w, r, t, false)
}

// readTeamsBody reads a request body of at most 64 KiB, gzip-compressed or not.
func readTeamsBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, 64<<10)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("the gzip-encoded body cannot be read: %w", err)
		}
		defer zr.Close()
		rd = io.LimitReader(zr, 1<<20)
	}
	return io.ReadAll(rd)
}

// numberAction validates an assignNumber or unassignNumber request, creates its operation and answers 202 with
// the operation's Location.
func (s *Sim) numberAction(w http.ResponseWriter, r *http.Request, t *tenant, assign bool) {
	if unsupportedQuery(w, r) {
		return
	}
	action, params := "unassignNumber", []string{"telephoneNumber", "numberType"}
	if assign {
		action, params = "assignNumber", []string{"telephoneNumber", "assignmentTargetId", "numberType", "assignmentCategory", "locationId"}
	}
	raw, err := readTeamsBody(w, r)
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "The request body cannot be read: "+err.Error())
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "The request body must be a JSON object of the action's parameters.")
		return
	}
	p := map[string]string{}
	for k, v := range fields {
		if !slices.Contains(params, k) {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The parameter '%s' in the request payload is not a valid parameter for the operation '%s'.", k, action))
			return
		}
		var sv *string
		if err := json.Unmarshal(v, &sv); err != nil {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The parameter '%s' must be a string.", k))
			return
		}
		if sv != nil {
			p[k] = strings.TrimSpace(*sv)
		}
	}
	required := []string{"telephoneNumber", "numberType"}
	if assign {
		required = []string{"telephoneNumber", "assignmentTargetId", "numberType"}
	}
	for _, k := range required {
		if p[k] == "" {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The parameter '%s' is required for the operation '%s'.", k, action))
			return
		}
	}
	op := &numberOp{assign: assign, target: p["assignmentTargetId"], location: p["locationId"], status: "notStarted"}
	var ok bool
	if op.number, ok = normalizeNumber(p["telephoneNumber"]); !ok {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The telephone number '%s' is not valid.", p["telephoneNumber"]))
		return
	}
	if op.numType = enumValue(p["numberType"], numberTypes); op.numType == "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The value '%s' is not valid for parameter 'numberType'. Valid values: %s.", p["numberType"], strings.Join(numberTypes, ", ")))
		return
	}
	if c := p["assignmentCategory"]; c != "" {
		if op.category = enumValue(c, numberCategories); op.category == "" {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The value '%s' is not valid for parameter 'assignmentCategory'. Valid values: %s.", c, strings.Join(numberCategories, ", ")))
			return
		}
	}
	kind := "Unassignment"
	if assign {
		kind = "Assignment"
	}
	op.id = base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + newRequestID()))

	set := s.teams.get()
	t.mu.Lock()
	op.created = s.now()
	t.runDueNumberOps(op.created, set)
	t.teams.ops[op.id] = op
	t.teams.pending = append(t.teams.pending, op)
	if set.OperationPolls == 0 {
		t.runNumberOp(op, op.created, set)
	}
	t.mu.Unlock()
	w.Header().Set("Location", origin(r)+teamsAdminPath+"/telephoneNumberManagement/operations('"+op.id+"')")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}

// getNumberOperationByKey serves GET …/telephoneNumberManagement/operations('<id>').
func (s *Sim) getNumberOperationByKey(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	key := args[0]
	lk := strings.ToLower(key)
	if !strings.HasPrefix(lk, "operations(") || !strings.HasSuffix(lk, ")") {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource not found for the segment '%s'.", key))
		return
	}
	id := strings.TrimSuffix(key[len("operations("):], ")")
	if len(id) >= 2 && id[0] == '\'' && id[len(id)-1] == '\'' {
		id = id[1 : len(id)-1]
	}
	s.getNumberOperation(w, r, t, []string{id})
}

// getNumberOperation serves GET …/telephoneNumberManagement/operations/{id}. Each poll moves a pending operation
// on (see TeamsSettings).
func (s *Sim) getNumberOperation(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	if unsupportedQuery(w, r) {
		return
	}
	set := s.teams.get()
	t.mu.Lock()
	now := s.now()
	t.runDueNumberOps(now, set)
	op := t.teams.ops[args[0]]
	var body obj
	if op != nil {
		if !op.done() {
			op.polls++
			if op.polls >= set.OperationPolls {
				t.runNumberOp(op, now, set)
			} else if op.polls > 1 {
				op.status = "running"
			}
		}
		body = obj{
			{"@odata.context", metadata(r, "admin/teams/telephoneNumberManagement/operations/$entity")},
			{"id", op.id},
			{"createdDateTime", graphTime(op.created)},
			{"status", op.status},
			{"numbers", []any{obj{
				{"resourceLocation", origin(r) + numbersPath + "/" + numberID(t.id, op.number)},
				{"status", op.status},
				{"statusDetail", str(op.detail)},
			}}},
		}
	}
	t.mu.Unlock()
	if body == nil {
		writeGraphError(w, r, http.StatusNotFound, "NotFound", fmt.Sprintf("Operation '%s' was not found.", args[0]))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// runDueNumberOps runs the pending operations older than the operation time, oldest first. Callers hold t.mu.
func (t *tenant) runDueNumberOps(now time.Time, set TeamsSettings) {
	if set.OperationTime <= 0 {
		return
	}
	for _, op := range t.teams.pending {
		if !op.done() && !now.Before(op.created.Add(set.OperationTime)) {
			t.runNumberOp(op, now, set)
		}
	}
}

// runNumberOp runs an operation: it applies the change or records why it failed. Callers hold t.mu.
func (t *tenant) runNumberOp(op *numberOp, now time.Time, set TeamsSettings) {
	if op.done() {
		return
	}
	if op.assign {
		op.detail = t.applyAssign(op, now, set)
	} else {
		op.detail = t.applyUnassign(op, now)
	}
	op.status = "succeeded"
	if op.detail != "" {
		op.status = "failed"
	}
	t.teams.pending = slices.DeleteFunc(t.teams.pending, func(p *numberOp) bool { return p == op })
}

// applyAssign assigns op's number to its target, or says why it cannot.
func (t *tenant) applyAssign(op *numberOp, now time.Time, set TeamsSettings) string {
	n := t.teams.byNumber[op.number]
	switch {
	case n == nil:
		return fmt.Sprintf("Telephone number '%s' was not found in the tenant's telephone number inventory.", op.number)
	case n.NumberType != op.numType:
		return fmt.Sprintf("Telephone number '%s' is of type '%s', not '%s'.", op.number, n.NumberType, op.numType)
	}
	u := t.usersByID[strings.ToLower(op.target)]
	if u == nil {
		return fmt.Sprintf("The assignment target '%s' is not a user or resource account of the tenant.", op.target)
	}
	f, ok := t.teamsProvisioned(u, now, set.ProvisioningDelay)
	switch {
	case !ok:
		return fmt.Sprintf("User '%s' is not enabled for Microsoft Teams yet: no Teams account was found for the user.", u.ID)
	case n.AssignmentStatus != NumberUnassigned && !strings.EqualFold(n.AssignmentTargetID, u.ID):
		return fmt.Sprintf("Telephone number '%s' is already assigned to another user or resource account.", op.number)
	case !slices.Contains(n.Capabilities, CapabilityUser) && !(u.room && slices.Contains(n.Capabilities, CapabilityVoiceApplication)):
		return fmt.Sprintf("Telephone number '%s' cannot be assigned to a user: its capabilities are %s.", op.number, strings.Join(n.Capabilities, ", "))
	case !f.voice():
		return fmt.Sprintf("User '%s' does not have a Microsoft Teams Phone (PhoneSystem) license.", u.ID)
	case n.NumberType == NumberCallingPlan && f&featCallingPlan == 0:
		return fmt.Sprintf("User '%s' does not have a Calling Plan license, which a callingPlan number requires.", u.ID)
	}
	cat := op.category
	if cat == "" {
		cat = "primary"
	}
	for _, old := range t.numbersOf(u.ID) { // one number per category: the new one replaces the old
		if old != n && old.AssignmentCategory == cat {
			old.AssignmentTargetID, old.AssignmentCategory, old.AssignmentStatus = "", "", NumberUnassigned
		}
	}
	n.AssignmentTargetID, n.AssignmentCategory, n.AssignmentStatus = u.ID, cat, NumberUserAssigned
	if op.location != "" {
		n.LocationID = op.location
	}
	u.teams.voice = true
	u.teams.modified = now
	return ""
}

// applyUnassign frees op's number, or says why it cannot.
func (t *tenant) applyUnassign(op *numberOp, now time.Time) string {
	n := t.teams.byNumber[op.number]
	switch {
	case n == nil:
		return fmt.Sprintf("Telephone number '%s' was not found in the tenant's telephone number inventory.", op.number)
	case n.NumberType != op.numType:
		return fmt.Sprintf("Telephone number '%s' is of type '%s', not '%s'.", op.number, n.NumberType, op.numType)
	case n.AssignmentStatus == NumberUnassigned:
		return fmt.Sprintf("Telephone number '%s' is not assigned to a user or resource account.", op.number)
	}
	if u := t.usersByID[strings.ToLower(n.AssignmentTargetID)]; u != nil {
		u.teams.modified = now
	}
	n.AssignmentTargetID, n.AssignmentCategory, n.AssignmentStatus = "", "", NumberUnassigned
	return ""
}

// --- control API (HTTP) ---

// teamsControl answers the Teams part of the control API, and reports whether the request was one of its:
//
//	GET  /_sim/teams                                    {"provisioningDelaySeconds","operationPolls","operationSeconds"}
//	PUT  /_sim/teams                                    the same, any subset
//	GET  /_sim/tenants/{id}/teams/users                 [TeamsUser]
//	POST /_sim/tenants/{id}/teams/users/{user}/reprovision  restart the user's provisioning clock
//	GET  /_sim/tenants/{id}/teams/numbers               [PhoneNumber]
//	POST /_sim/tenants/{id}/teams/numbers               [PhoneNumber] → 201 the inventory
func (s *Sim) teamsControl(w http.ResponseWriter, r *http.Request, segs []string) bool {
	tenantTeams := len(segs) >= 4 && segs[0] == "tenants" && segs[2] == "teams"
	switch {
	case len(segs) == 1 && segs[0] == "teams" && r.Method == http.MethodGet:
		controlJSON(w, http.StatusOK, teamsSettingsJSON(s.TeamsSettings()))
	case len(segs) == 1 && segs[0] == "teams" && r.Method == http.MethodPut:
		var body struct {
			Delay  *float64 `json:"provisioningDelaySeconds"`
			Polls  *int     `json:"operationPolls"`
			OpTime *float64 `json:"operationSeconds"`
		}
		if !decodeControl(w, r, &body) {
			return true
		}
		cur := s.TeamsSettings()
		if body.Delay != nil {
			cur.ProvisioningDelay = time.Duration(*body.Delay * float64(time.Second))
		}
		if body.Polls != nil {
			cur.OperationPolls = *body.Polls
		}
		if body.OpTime != nil {
			cur.OperationTime = time.Duration(*body.OpTime * float64(time.Second))
		}
		if err := errors.Join(s.SetTeamsProvisioningDelay(cur.ProvisioningDelay), s.SetNumberOperationPacing(cur.OperationPolls, cur.OperationTime)); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return true
		}
		controlJSON(w, http.StatusOK, teamsSettingsJSON(s.TeamsSettings()))
	case tenantTeams && len(segs) == 4 && segs[3] == "users" && r.Method == http.MethodGet:
		users, err := s.TeamsUsers(segs[1])
		if err != nil {
			controlErr(w, err)
			return true
		}
		controlJSON(w, http.StatusOK, users)
	case tenantTeams && len(segs) == 6 && segs[3] == "users" && segs[5] == "reprovision" && r.Method == http.MethodPost:
		if err := s.ReprovisionTeamsUser(segs[1], segs[4]); err != nil {
			controlErr(w, err)
			return true
		}
		controlJSON(w, http.StatusOK, map[string]any{"user": segs[4], "reprovisioning": true})
	case tenantTeams && len(segs) == 4 && segs[3] == "numbers" && r.Method == http.MethodGet:
		nums, err := s.Numbers(segs[1])
		if err != nil {
			controlErr(w, err)
			return true
		}
		controlJSON(w, http.StatusOK, nums)
	case tenantTeams && len(segs) == 4 && segs[3] == "numbers" && r.Method == http.MethodPost:
		var nums []PhoneNumber
		if !decodeControl(w, r, &nums) {
			return true
		}
		if err := s.AddNumbers(segs[1], nums...); err != nil {
			controlErr(w, err)
			return true
		}
		all, _ := s.Numbers(segs[1])
		controlJSON(w, http.StatusCreated, all)
	default:
		return false
	}
	return true
}

func teamsSettingsJSON(c TeamsSettings) map[string]any {
	return map[string]any{
		"provisioningDelaySeconds": c.ProvisioningDelay.Seconds(),
		"operationPolls":           c.OperationPolls,
		"operationSeconds":         c.OperationTime.Seconds(),
	}
}
