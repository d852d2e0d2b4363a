package graphsim

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// This file holds the simulated tenants' licensing groups, the generated large tenants, and the administration a
// person would do in Microsoft's admin center (add, change, delete and restore users; change licences and group
// memberships), as Go methods of Sim and under /_sim/.
//
// Delta bookkeeping: every change of a user's properties or direct licences calls t.touch (delta reports the user
// as changed); a removal appends a tombstone (delta reports "@removed"). Group-inherited licence changes touch
// nothing: Graph's delta does not track licenseAssignmentStates, and the simulator must not be kinder.

// Group is a security group that assigns licences to its members (group-based licensing).
type Group struct {
	ID              string
	DisplayName     string
	Licenses        []GroupLicense // the SKUs the group assigns
	Members         []string       // ids of its (active) members, sorted; filled in snapshots only
	CreatedDateTime time.Time

	members map[string]bool // by user id, soft-deleted members included (they come back on restore)
}

// GroupLicense is one SKU a group assigns. SkuID may be given as a part number to the methods of Sim.
type GroupLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// GroupSpec is a licensing group of a TenantSpec. Members are drawn from the users who hold every SKU of the group
// directly; KeepDirect of them keep their direct assignment as well (they hold the licence both ways), the others
// hold it through the group only. consumedUnits do not change: a user counts once per SKU.
type GroupSpec struct {
	DisplayName string
	SKUs        []string // part numbers (or skuIds) the group assigns, no plan disabled
	Members     int
	KeepDirect  int
}

// NewUser describes a user to add (AddUser, POST /_sim/tenants/{id}/users).
type NewUser struct {
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	UserPrincipalName string   `json:"userPrincipalName"` // "" → derived from the display name, in the tenant's domain
	UsageLocation     string   `json:"usageLocation"`
	Department        string   `json:"department"`
	JobTitle          string   `json:"jobTitle"`
	OfficeLocation    string   `json:"officeLocation"`
	City              string   `json:"city"`
	Country           string   `json:"country"`
	AccountEnabled    *bool    `json:"accountEnabled"` // nil → true
	BusinessPhones    []string `json:"businessPhones"`
}

// UserPatch changes some of a user's properties (UpdateUser, PATCH /_sim/tenants/{id}/users/{user}); nil fields
// are left alone.
type UserPatch struct {
	DisplayName       *string   `json:"displayName"`
	GivenName         *string   `json:"givenName"`
	Surname           *string   `json:"surname"`
	UserPrincipalName *string   `json:"userPrincipalName"`
	Mail              *string   `json:"mail"`
	UsageLocation     *string   `json:"usageLocation"` // "" clears it
	Department        *string   `json:"department"`
	JobTitle          *string   `json:"jobTitle"`
	OfficeLocation    *string   `json:"officeLocation"`
	City              *string   `json:"city"`
	Country           *string   `json:"country"`
	AccountEnabled    *bool     `json:"accountEnabled"`
	BusinessPhones    *[]string `json:"businessPhones"`
}

// tombstone records a user's removal for delta queries.
type tombstone struct {
	id     string
	seq    uint64
	reason string // "changed" (soft-deleted, restorable) or "deleted" (permanently)
}

// ErrConflict is returned (wrapped) by the administration methods when the change clashes with the tenant's state
// (a userPrincipalName in use, a restore over a user that is not deleted).
var ErrConflict = errors.New("conflict")

// LargeTenant returns the spec of a generated tenant with the given number of people (25 to 50,000 is the range
// the simulator is built and tested for): "Northwind Traders", on Microsoft 365 E3/E5 with Teams Phone, Calling
// Plans, Power BI, Visio and Teams Rooms, and two licensing groups. Its id and domain derive from the size, so
// large tenants of different sizes can live side by side. Nothing of it is stored: it is generated when added.
func LargeTenant(users int) TenantSpec {
	pct := func(p int) int { return users * p / 100 }
	rooms := max(1, users/500)
	return TenantSpec{
		ID:            nameUUID(fmt.Sprintf("large-tenant|%d", users)),
		Name:          fmt.Sprintf("Northwind Traders %d", users),
		Domain:        fmt.Sprintf("northwind%d.onmicrosoft.com", users),
		Users:         users,
		UsageLocation: "US",
		Country:       "United States",
		DialCode:      "+1",
		Cities:        []string{"New York", "Chicago", "Dallas", "Denver", "Atlanta", "Boston", "Phoenix", "Seattle"},
		SKUs: []SKUSpec{
			{PartNumber: "SPE_E3", Enabled: pct(85), Assigned: pct(80), Base: true},
			{PartNumber: "SPE_E5", Enabled: pct(12), Assigned: pct(10), Base: true},
			{PartNumber: "MCOEV", Enabled: pct(40), Assigned: pct(35), Requires: "SPE_E3"},
			{PartNumber: "MCOPSTN1", Enabled: pct(30), Assigned: pct(25), Requires: "MCOEV"},
			{PartNumber: "POWER_BI_PRO", Enabled: pct(20), Assigned: pct(15)},
			{PartNumber: "VISIOCLIENT", Enabled: pct(3) + 1, Assigned: pct(3)},
			{PartNumber: "Microsoft_Teams_Rooms_Pro", Enabled: rooms + 2, Assigned: rooms, Rooms: true},
		},
		Groups: []GroupSpec{
			{DisplayName: "Teams Phone users", SKUs: []string{"MCOEV"}, Members: pct(20), KeepDirect: pct(2)},
			{DisplayName: "Power BI users", SKUs: []string{"POWER_BI_PRO"}, Members: pct(10), KeepDirect: pct(1)},
		},
	}
}

// --- building (called by buildTenant) ---

// addUsers adds many users at once, sorting once.
func (t *tenant) addUsers(us []*User) {
	if t.usersByUPN == nil {
		t.usersByUPN = make(map[string]*User, len(us))
	}
	t.users = append(t.users, us...)
	slices.SortFunc(t.users, func(a, b *User) int { return strings.Compare(a.ID, b.ID) })
	for _, u := range us {
		t.usersByID[u.ID] = u
		t.usersByUPN[strings.ToLower(u.UserPrincipalName)] = u
	}
}

// seedGroups finishes a generated tenant: delta state, and the licensing groups of its spec (drawn from their own
// generator, so that groups never change the rest of the tenant's data).
func seedGroups(seed uint64, t *tenant, spec TenantSpec) error {
	t.deltaEpoch = rand.Uint64()
	t.lastTomb = map[string]int{}
	t.deleted = map[string]*User{}
	t.groupsByID = map[string]*Group{}
	if len(spec.Groups) == 0 {
		return nil
	}
	r := tenantRNG(seed, spec.ID+"|groups")
	consumed := t.consumedBySKU()
	for _, gs := range spec.Groups {
		if strings.TrimSpace(gs.DisplayName) == "" || gs.Members < 0 || gs.KeepDirect < 0 {
			return fmt.Errorf("tenant spec %s: group %q: empty name or negative counts", spec.ID, gs.DisplayName)
		}
		g := &Group{ID: newUUID(r), DisplayName: gs.DisplayName, members: map[string]bool{},
			CreatedDateTime: seedTime.AddDate(0, 0, -100-r.IntN(1000))}
		for _, key := range gs.SKUs {
			k := t.findSKU(key)
			if k == nil {
				return fmt.Errorf("tenant spec %s: group %q: SKU %s is not subscribed", spec.ID, gs.DisplayName, key)
			}
			g.Licenses = append(g.Licenses, GroupLicense{SkuID: k.SkuID, DisabledPlans: []string{}})
		}
		var pool []*User
		for _, u := range t.users {
			if !u.room && holdsDirect(u, g.Licenses) {
				pool = append(pool, u)
			}
		}
		r.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		for i, u := range pool[:min(gs.Members, len(pool))] {
			when := seedTime.AddDate(0, 0, -r.IntN(300))
			t.joinGroup(g, u, consumed, when)
			if i >= gs.KeepDirect {
				u.Licenses = slices.DeleteFunc(u.Licenses, func(l License) bool {
					return l.AssignedByGroup == "" && slices.ContainsFunc(g.Licenses, func(gl GroupLicense) bool { return gl.SkuID == l.SkuID })
				})
			}
		}
		t.addGroup(g)
	}
	return nil
}

func holdsDirect(u *User, ls []GroupLicense) bool {
	for _, gl := range ls {
		if !slices.ContainsFunc(u.Licenses, func(l License) bool { return l.AssignedByGroup == "" && l.SkuID == gl.SkuID }) {
			return false
		}
	}
	return len(ls) > 0
}

// --- tenant helpers (callers hold t.mu) ---

func (t *tenant) addGroup(g *Group) {
	i := sort.Search(len(t.groups), func(i int) bool { return t.groups[i].ID >= g.ID })
	t.groups = slices.Insert(t.groups, i, g)
	t.groupsByID[g.ID] = g
}

// consumedBySKU counts the users holding each SKU (once per SKU, whatever the number of sources).
func (t *tenant) consumedBySKU() map[string]int {
	c := map[string]int{}
	for _, u := range t.users {
		for _, l := range u.assignedLicenses() {
			c[l.SkuID]++
		}
	}
	return c
}

// holds reports whether u holds skuID (an assignment that is not in error).
func (u *User) holds(skuID string) bool {
	return slices.ContainsFunc(u.Licenses, func(l License) bool { return l.SkuID == skuID && l.State != "Error" })
}

// joinGroup adds u to g and gives u the group's licences, as group-based licensing does: Active when a seat is
// free (or u already holds the SKU), else Error/CountViolation (not assigned, no unit consumed). It does not touch
// u: delta does not report group-inherited licences.
func (t *tenant) joinGroup(g *Group, u *User, consumed map[string]int, when time.Time) {
	g.members[u.ID] = true
	for _, gl := range g.Licenses {
		t.applyGroupLicense(g, gl, u, consumed, when)
	}
}

func (t *tenant) applyGroupLicense(g *Group, gl GroupLicense, u *User, consumed map[string]int, when time.Time) {
	i := slices.IndexFunc(u.Licenses, func(l License) bool { return l.AssignedByGroup == g.ID && l.SkuID == gl.SkuID })
	if i >= 0 {
		if !slices.Equal(u.Licenses[i].DisabledPlans, gl.DisabledPlans) {
			u.Licenses[i].DisabledPlans = slices.Clone(gl.DisabledPlans)
			u.Licenses[i].LastUpdated = when
		}
		return
	}
	l := License{SkuID: gl.SkuID, DisabledPlans: slices.Clone(gl.DisabledPlans), AssignedByGroup: g.ID,
		State: "Active", Error: "None", LastUpdated: when}
	if !u.holds(gl.SkuID) {
		if k := t.findSKU(gl.SkuID); k == nil || consumed[gl.SkuID] >= k.Enabled {
			l.State, l.Error = "Error", "CountViolation"
		} else {
			consumed[gl.SkuID]++
		}
	}
	u.Licenses = append(u.Licenses, l)
}

// leaveGroup takes u out of g and removes the licences g gave u (no touch).
func (t *tenant) leaveGroup(g *Group, u *User) {
	delete(g.members, u.ID)
	u.Licenses = slices.DeleteFunc(u.Licenses, func(l License) bool { return l.AssignedByGroup == g.ID })
}

// removeUser takes u out of the listing and the indexes.
func (t *tenant) removeUser(u *User) {
	i := sort.Search(len(t.users), func(i int) bool { return t.users[i].ID >= u.ID })
	if i < len(t.users) && t.users[i] == u {
		t.users = slices.Delete(t.users, i, i+1)
	}
	delete(t.usersByID, u.ID)
	delete(t.usersByUPN, strings.ToLower(u.UserPrincipalName))
}

// bury records a removal for delta.
func (t *tenant) bury(id, reason string) {
	t.seq++
	t.tombstones = append(t.tombstones, tombstone{id: id, seq: t.seq, reason: reason})
	t.lastTomb[id] = len(t.tombstones) - 1
}

// upnTaken reports whether a userPrincipalName is in use by an active or soft-deleted user other than except.
func (t *tenant) upnTaken(upn string, except *User) bool {
	if u, ok := t.usersByUPN[strings.ToLower(upn)]; ok && u != except {
		return true
	}
	for _, u := range t.deleted {
		if u != except && strings.EqualFold(u.UserPrincipalName, upn) {
			return true
		}
	}
	return false
}

func (t *tenant) mustUser(key string) (*User, error) {
	if u := t.findUser(key); u != nil {
		return u, nil
	}
	return nil, fmt.Errorf("graphsim: tenant %s: user %s: %w", t.id, key, ErrNotFound)
}

func (t *tenant) mustGroup(id string) (*Group, error) {
	if g, ok := t.groupsByID[strings.ToLower(id)]; ok {
		return g, nil
	}
	for _, g := range t.groups {
		if strings.EqualFold(g.DisplayName, id) {
			return g, nil
		}
	}
	return nil, fmt.Errorf("graphsim: tenant %s: group %s: %w", t.id, id, ErrNotFound)
}

func (t *tenant) mustGroupAndUser(group, user string) (*Group, *User, error) {
	g, err := t.mustGroup(group)
	if err != nil {
		return nil, nil, err
	}
	u, err := t.mustUser(user)
	if err != nil {
		return nil, nil, err
	}
	return g, u, nil
}

// resolveLicenses checks group licences against the tenant's SKUs (skuId or part number) and normalises them.
func (t *tenant) resolveLicenses(ls []GroupLicense) ([]GroupLicense, error) {
	out := make([]GroupLicense, 0, len(ls))
	for _, gl := range ls {
		k := t.findSKU(gl.SkuID)
		if k == nil {
			return nil, fmt.Errorf("graphsim: tenant %s: SKU %s: %w", t.id, gl.SkuID, ErrNotFound)
		}
		if slices.ContainsFunc(out, func(o GroupLicense) bool { return o.SkuID == k.SkuID }) {
			return nil, fmt.Errorf("graphsim: SKU %s listed twice", gl.SkuID)
		}
		plans, err := resolvePlans(k, gl.DisabledPlans)
		if err != nil {
			return nil, err
		}
		out = append(out, GroupLicense{SkuID: k.SkuID, DisabledPlans: plans})
	}
	return out, nil
}

// resolvePlans checks disabled plans (ids or names) against a SKU's service plans and returns their ids.
func resolvePlans(k *SKU, plans []string) ([]string, error) {
	out := []string{}
	for _, p := range plans {
		i := slices.IndexFunc(k.ServicePlans, func(sp ServicePlan) bool { return strings.EqualFold(sp.ID, p) || strings.EqualFold(sp.Name, p) })
		if i < 0 {
			return nil, fmt.Errorf("graphsim: SKU %s has no service plan %s: %w", k.PartNumber, p, ErrNotFound)
		}
		if !slices.Contains(out, k.ServicePlans[i].ID) {
			out = append(out, k.ServicePlans[i].ID)
		}
	}
	return out, nil
}

func (g *Group) snapshot(t *tenant) Group {
	c := *g
	c.members = nil
	c.Licenses = make([]GroupLicense, len(g.Licenses))
	for i, gl := range g.Licenses {
		c.Licenses[i] = GroupLicense{SkuID: gl.SkuID, DisabledPlans: slices.Clone(gl.DisabledPlans)}
	}
	c.Members = []string{}
	for id := range g.members {
		if _, active := t.usersByID[id]; active {
			c.Members = append(c.Members, id)
		}
	}
	slices.Sort(c.Members)
	return c
}

// --- the administration API ---

// admin runs fn on a tenant under its lock.
func (s *Sim) admin(tenantID string, fn func(t *tenant) error) error {
	t, err := s.mustTenant(tenantID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return fn(t)
}

// User returns a copy of one of a tenant's users (by id or userPrincipalName).
func (s *Sim) User(tenantID, user string) (User, error) {
	var out User
	err := s.admin(tenantID, func(t *tenant) error {
		u, err := t.mustUser(user)
		if err == nil {
			out = u.clone()
		}
		return err
	})
	return out, err
}

// DeletedUsers returns copies of a tenant's soft-deleted (restorable) users, by id.
func (s *Sim) DeletedUsers(tenantID string) ([]User, error) {
	var out []User
	err := s.admin(tenantID, func(t *tenant) error {
		for _, u := range t.deleted {
			out = append(out, u.clone())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// Groups returns copies of a tenant's groups, by id.
func (s *Sim) Groups(tenantID string) ([]Group, error) {
	var out []Group
	err := s.admin(tenantID, func(t *tenant) error {
		for _, g := range t.groups {
			out = append(out, g.snapshot(t))
		}
		return nil
	})
	return out, err
}

// AddUser adds a user, as an admin does in the admin center (no licence). The id is derived from the tenant's
// state, so a scripted sequence of changes gives the same ids on every run.
func (s *Sim) AddUser(tenantID string, nu NewUser) (User, error) {
	var out User
	err := s.admin(tenantID, func(t *tenant) error {
		name := strings.TrimSpace(nu.DisplayName)
		if name == "" {
			return errors.New("graphsim: a new user needs a display name")
		}
		upn := strings.TrimSpace(nu.UserPrincipalName)
		if upn == "" {
			nick := strings.Map(func(r rune) rune {
				switch {
				case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
					return r
				case r == ' ':
					return '.'
				}
				return -1
			}, strings.ToLower(name))
			upn = strings.Trim(nick, ".") + "@" + t.domain
			for n := 2; t.upnTaken(upn, nil); n++ {
				upn = fmt.Sprintf("%s%d@%s", strings.Trim(nick, "."), n, t.domain)
			}
		}
		local, domain, ok := strings.Cut(upn, "@")
		if !ok || local == "" || domain == "" || strings.ContainsAny(upn, " /?#") {
			return fmt.Errorf("graphsim: invalid userPrincipalName %q", upn)
		}
		if t.upnTaken(upn, nil) {
			return fmt.Errorf("graphsim: userPrincipalName %s is in use: %w", upn, ErrConflict)
		}
		enabled := nu.AccountEnabled == nil || *nu.AccountEnabled
		u := &User{
			ID:                nameUUID(fmt.Sprintf("user|%s|%d|%s", t.id, t.seq, strings.ToLower(upn))),
			UserPrincipalName: upn, DisplayName: name, GivenName: nu.GivenName, Surname: nu.Surname,
			Mail: upn, MailNickname: local, UsageLocation: strings.ToUpper(nu.UsageLocation), AccountEnabled: enabled,
			Department: nu.Department, JobTitle: nu.JobTitle, OfficeLocation: nu.OfficeLocation, City: nu.City,
			Country: nu.Country, CompanyName: t.name, UserType: "Member", BusinessPhones: slices.Clone(nu.BusinessPhones),
			CreatedDateTime: s.now().UTC().Truncate(time.Second),
		}
		t.addUser(u)
		t.touch(u)
		out = u.clone()
		return nil
	})
	return out, err
}

// UpdateUser changes a user's properties (by id or userPrincipalName).
func (s *Sim) UpdateUser(tenantID, user string, p UserPatch) (User, error) {
	var out User
	err := s.admin(tenantID, func(t *tenant) error {
		u, err := t.mustUser(user)
		if err != nil {
			return err
		}
		if p.UserPrincipalName != nil && !strings.EqualFold(*p.UserPrincipalName, u.UserPrincipalName) {
			upn := strings.TrimSpace(*p.UserPrincipalName)
			if local, domain, ok := strings.Cut(upn, "@"); !ok || local == "" || domain == "" || strings.ContainsAny(upn, " /?#") {
				return fmt.Errorf("graphsim: invalid userPrincipalName %q", upn)
			}
			if t.upnTaken(upn, u) {
				return fmt.Errorf("graphsim: userPrincipalName %s is in use: %w", upn, ErrConflict)
			}
			delete(t.usersByUPN, strings.ToLower(u.UserPrincipalName))
			u.UserPrincipalName = upn
			t.usersByUPN[strings.ToLower(upn)] = u
		}
		if p.DisplayName != nil && strings.TrimSpace(*p.DisplayName) == "" {
			return errors.New("graphsim: the display name cannot be empty")
		}
		for _, f := range []struct {
			v   *string
			dst *string
		}{{p.DisplayName, &u.DisplayName}, {p.GivenName, &u.GivenName}, {p.Surname, &u.Surname}, {p.Mail, &u.Mail},
			{p.Department, &u.Department}, {p.JobTitle, &u.JobTitle}, {p.OfficeLocation, &u.OfficeLocation},
			{p.City, &u.City}, {p.Country, &u.Country}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if p.UsageLocation != nil {
			u.UsageLocation = strings.ToUpper(*p.UsageLocation)
		}
		if p.AccountEnabled != nil {
			u.AccountEnabled = *p.AccountEnabled
		}
		if p.BusinessPhones != nil {
			u.BusinessPhones = slices.Clone(*p.BusinessPhones)
		}
		t.touch(u)
		out = u.clone()
		return nil
	})
	return out, err
}

// DeleteUser soft-deletes a user (restorable for 30 days in Entra ID): it leaves the listings, its licences stop
// consuming units, and delta reports it as removed with reason "changed".
func (s *Sim) DeleteUser(tenantID, user string) error {
	return s.admin(tenantID, func(t *tenant) error {
		u, err := t.mustUser(user)
		if err != nil {
			return err
		}
		t.removeUser(u)
		t.deleted[u.ID] = u
		t.bury(u.ID, "changed")
		return nil
	})
}

// RestoreUser brings a soft-deleted user back, with its licences and group memberships; delta reports it as
// changed.
func (s *Sim) RestoreUser(tenantID, userID string) error {
	return s.admin(tenantID, func(t *tenant) error {
		u, ok := t.deleted[strings.ToLower(userID)]
		if !ok {
			if t.findUser(userID) != nil {
				return fmt.Errorf("graphsim: user %s is not deleted: %w", userID, ErrConflict)
			}
			return fmt.Errorf("graphsim: tenant %s: deleted user %s: %w", t.id, userID, ErrNotFound)
		}
		if t.upnTaken(u.UserPrincipalName, u) {
			return fmt.Errorf("graphsim: userPrincipalName %s is in use: %w", u.UserPrincipalName, ErrConflict)
		}
		delete(t.deleted, u.ID)
		t.addUser(u)
		t.touch(u)
		return nil
	})
}

// PurgeUser deletes a user permanently (active or soft-deleted, by id; by userPrincipalName when active): delta
// reports it as removed with reason "deleted".
func (s *Sim) PurgeUser(tenantID, user string) error {
	return s.admin(tenantID, func(t *tenant) error {
		u, ok := t.deleted[strings.ToLower(user)]
		if ok {
			delete(t.deleted, u.ID)
		} else {
			var err error
			if u, err = t.mustUser(user); err != nil {
				return err
			}
			t.removeUser(u)
		}
		for _, g := range t.groups {
			delete(g.members, u.ID)
		}
		t.bury(u.ID, "deleted")
		return nil
	})
}

// AssignDirectLicense gives a user a SKU directly (or changes the disabled plans of its direct assignment), as the
// admin center does, without Graph's checks (seats, usage location, plan conflicts): the way to put a tenant into
// the over-assigned or inconsistent states real tenants get into. sku is a skuId or part number; disabledPlans are
// service plan ids or names.
func (s *Sim) AssignDirectLicense(tenantID, user, sku string, disabledPlans []string) error {
	return s.admin(tenantID, func(t *tenant) error {
		u, err := t.mustUser(user)
		if err != nil {
			return err
		}
		k := t.findSKU(sku)
		if k == nil {
			return fmt.Errorf("graphsim: tenant %s: SKU %s: %w", t.id, sku, ErrNotFound)
		}
		plans, err := resolvePlans(k, disabledPlans)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Second)
		if i := slices.IndexFunc(u.Licenses, func(l License) bool { return l.AssignedByGroup == "" && l.SkuID == k.SkuID }); i >= 0 {
			u.Licenses[i].DisabledPlans, u.Licenses[i].LastUpdated = plans, now
		} else {
			u.Licenses = append(u.Licenses, License{SkuID: k.SkuID, DisabledPlans: plans, State: "Active", Error: "None", LastUpdated: now})
		}
		t.touch(u)
		return nil
	})
}

// RemoveDirectLicense removes a user's direct assignment of a SKU (its group-inherited ones stay).
func (s *Sim) RemoveDirectLicense(tenantID, user, sku string) error {
	return s.admin(tenantID, func(t *tenant) error {
		u, err := t.mustUser(user)
		if err != nil {
			return err
		}
		k := t.findSKU(sku)
		if k == nil {
			return fmt.Errorf("graphsim: tenant %s: SKU %s: %w", t.id, sku, ErrNotFound)
		}
		n := len(u.Licenses)
		u.Licenses = slices.DeleteFunc(u.Licenses, func(l License) bool { return l.AssignedByGroup == "" && l.SkuID == k.SkuID })
		if len(u.Licenses) == n {
			return fmt.Errorf("graphsim: user %s has no direct %s licence: %w", u.UserPrincipalName, k.PartNumber, ErrNotFound)
		}
		t.touch(u)
		return nil
	})
}

// AddGroup creates a licensing group (no members) assigning licences (skuId or part number each).
func (s *Sim) AddGroup(tenantID, displayName string, licenses []GroupLicense) (Group, error) {
	var out Group
	err := s.admin(tenantID, func(t *tenant) error {
		if strings.TrimSpace(displayName) == "" {
			return errors.New("graphsim: a group needs a display name")
		}
		ls, err := t.resolveLicenses(licenses)
		if err != nil {
			return err
		}
		g := &Group{ID: nameUUID(fmt.Sprintf("group|%s|%d|%d|%s", t.id, t.seq, len(t.groups), displayName)),
			DisplayName: displayName, Licenses: ls, members: map[string]bool{}, CreatedDateTime: s.now().UTC().Truncate(time.Second)}
		t.addGroup(g)
		out = g.snapshot(t)
		return nil
	})
	return out, err
}

// SetGroupLicenses replaces the licences a group assigns; its members' licenseAssignmentStates follow (without
// delta seeing it, as in Graph).
func (s *Sim) SetGroupLicenses(tenantID, group string, licenses []GroupLicense) error {
	return s.admin(tenantID, func(t *tenant) error {
		g, err := t.mustGroup(group)
		if err != nil {
			return err
		}
		ls, err := t.resolveLicenses(licenses)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Second)
		members := make([]*User, 0, len(g.members))
		for id := range g.members {
			if u := t.usersByID[id]; u != nil {
				members = append(members, u)
			} else if u := t.deleted[id]; u != nil {
				members = append(members, u)
			}
		}
		slices.SortFunc(members, func(a, b *User) int { return cmp.Compare(a.ID, b.ID) })
		// Removed SKUs first (they may free seats), then the others.
		for _, u := range members {
			u.Licenses = slices.DeleteFunc(u.Licenses, func(l License) bool {
				return l.AssignedByGroup == g.ID && !slices.ContainsFunc(ls, func(gl GroupLicense) bool { return gl.SkuID == l.SkuID })
			})
		}
		g.Licenses = ls
		consumed := t.consumedBySKU()
		for _, u := range members {
			for _, gl := range ls {
				t.applyGroupLicense(g, gl, u, consumed, now)
			}
		}
		return nil
	})
}

// AddGroupMember adds a user to a group: the user inherits the group's licences (no delta change).
func (s *Sim) AddGroupMember(tenantID, group, user string) error {
	return s.admin(tenantID, func(t *tenant) error {
		g, u, err := t.mustGroupAndUser(group, user)
		if err != nil {
			return err
		}
		if g.members[u.ID] {
			return fmt.Errorf("graphsim: %s is already a member of %s: %w", u.UserPrincipalName, g.DisplayName, ErrConflict)
		}
		t.joinGroup(g, u, t.consumedBySKU(), s.now().UTC().Truncate(time.Second))
		return nil
	})
}

// RemoveGroupMember takes a user out of a group, with the licences it inherited from it (no delta change).
func (s *Sim) RemoveGroupMember(tenantID, group, user string) error {
	return s.admin(tenantID, func(t *tenant) error {
		g, u, err := t.mustGroupAndUser(group, user)
		if err != nil {
			return err
		}
		if !g.members[u.ID] {
			return fmt.Errorf("graphsim: %s is not a member of %s: %w", u.UserPrincipalName, g.DisplayName, ErrNotFound)
		}
		t.leaveGroup(g, u)
		return nil
	})
}

// ChangeUsers changes the officeLocation of n users spread evenly over the tenant (n ≥ the user count changes
// everyone), for delta benchmarks, and returns their ids.
func (s *Sim) ChangeUsers(tenantID string, n int) ([]string, error) {
	var ids []string
	err := s.admin(tenantID, func(t *tenant) error {
		if n < 0 {
			return fmt.Errorf("graphsim: negative count %d", n)
		}
		total := len(t.users)
		n = min(n, total)
		for i := range n {
			u := t.users[i*total/n]
			base, _, _ := strings.Cut(u.OfficeLocation, ", desk ")
			if base == "" {
				base = cmp.Or(u.City, "Home") + " office"
			}
			u.OfficeLocation = fmt.Sprintf("%s, desk %d", base, t.seq+1)
			t.touch(u)
			ids = append(ids, u.ID)
		}
		return nil
	})
	return ids, err
}

// --- the administration API under /_sim/ ---

// serveAdmin answers the administration endpoints (segs are the path segments after /_sim/); it returns false for
// a path that is not one of them:
//
//	POST   /_sim/tenants/{id}/users                       NewUser → 201 User
//	PATCH  /_sim/tenants/{id}/users/{user}                UserPatch → User
//	DELETE /_sim/tenants/{id}/users/{user}[?permanent=true] soft delete (or hard delete)
//	POST   /_sim/tenants/{id}/users/{user}/restore        restore a soft-deleted user
//	PUT    /_sim/tenants/{id}/users/{user}/licenses/{sku} {"disabledPlans":[…]} (body optional): direct licence
//	DELETE /_sim/tenants/{id}/users/{user}/licenses/{sku} remove the direct licence
//	GET    /_sim/tenants/{id}/groups                      [Group]
//	POST   /_sim/tenants/{id}/groups                      {"displayName","licenses":[{"skuId","disabledPlans"}]} → 201 Group
//	PUT    /_sim/tenants/{id}/groups/{group}/licenses     [{"skuId","disabledPlans"}]
//	PUT    /_sim/tenants/{id}/groups/{group}/members/{user}
//	DELETE /_sim/tenants/{id}/groups/{group}/members/{user}
//	POST   /_sim/tenants/{id}/changes                     {"users":n} → {"changed":[ids]}
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request, segs []string) bool {
	if len(segs) < 3 || segs[0] != "tenants" {
		return false
	}
	tid, rest := segs[1], segs[2:]
	ok := func(v any, err error) {
		if err != nil {
			controlErr(w, err)
			return
		}
		controlJSON(w, http.StatusOK, v)
	}
	status := func(st int, v any, err error) {
		if err != nil {
			controlErr(w, err)
			return
		}
		controlJSON(w, st, v)
	}
	key := r.Method + " " + strings.Join(rest, "/")
	switch {
	case key == "POST users":
		var nu NewUser
		if decodeControl(w, r, &nu) {
			u, err := s.AddUser(tid, nu)
			status(http.StatusCreated, u, err)
		}
	case len(rest) == 2 && rest[0] == "users" && r.Method == http.MethodPatch:
		var p UserPatch
		if decodeControl(w, r, &p) {
			ok(s.UpdateUser(tid, rest[1], p))
		}
	case len(rest) == 2 && rest[0] == "users" && r.Method == http.MethodDelete:
		del := s.DeleteUser
		if r.URL.Query().Get("permanent") == "true" {
			del = s.PurgeUser
		}
		ok(map[string]any{"deleted": rest[1], "permanent": r.URL.Query().Get("permanent") == "true"}, del(tid, rest[1]))
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "restore" && r.Method == http.MethodPost:
		if err := s.RestoreUser(tid, rest[1]); err != nil {
			controlErr(w, err)
			return true
		}
		ok(s.User(tid, rest[1]))
	case len(rest) == 4 && rest[0] == "users" && rest[2] == "licenses" && r.Method == http.MethodPut:
		var body struct {
			DisabledPlans []string `json:"disabledPlans"`
		}
		if r.ContentLength != 0 && !decodeControl(w, r, &body) {
			return true
		}
		if err := s.AssignDirectLicense(tid, rest[1], rest[3], body.DisabledPlans); err != nil {
			controlErr(w, err)
			return true
		}
		ok(s.User(tid, rest[1]))
	case len(rest) == 4 && rest[0] == "users" && rest[2] == "licenses" && r.Method == http.MethodDelete:
		if err := s.RemoveDirectLicense(tid, rest[1], rest[3]); err != nil {
			controlErr(w, err)
			return true
		}
		ok(s.User(tid, rest[1]))
	case key == "GET groups":
		ok(s.Groups(tid))
	case key == "POST groups":
		var body struct {
			DisplayName string         `json:"displayName"`
			Licenses    []GroupLicense `json:"licenses"`
		}
		if decodeControl(w, r, &body) {
			g, err := s.AddGroup(tid, body.DisplayName, body.Licenses)
			status(http.StatusCreated, g, err)
		}
	case len(rest) == 3 && rest[0] == "groups" && rest[2] == "licenses" && r.Method == http.MethodPut:
		var ls []GroupLicense
		if decodeControl(w, r, &ls) {
			ok(s.groupSnapshot(tid, rest[1], s.SetGroupLicenses(tid, rest[1], ls)))
		}
	case len(rest) == 4 && rest[0] == "groups" && rest[2] == "members" && r.Method == http.MethodPut:
		ok(s.groupSnapshot(tid, rest[1], s.AddGroupMember(tid, rest[1], rest[3])))
	case len(rest) == 4 && rest[0] == "groups" && rest[2] == "members" && r.Method == http.MethodDelete:
		ok(s.groupSnapshot(tid, rest[1], s.RemoveGroupMember(tid, rest[1], rest[3])))
	case key == "POST changes":
		var body struct {
			Users int `json:"users"`
		}
		if decodeControl(w, r, &body) {
			ids, err := s.ChangeUsers(tid, body.Users)
			ok(map[string]any{"changed": ids}, err)
		}
	default:
		return false
	}
	return true
}

// groupSnapshot returns a group after a change (or the change's error).
func (s *Sim) groupSnapshot(tenantID, group string, err error) (Group, error) {
	if err != nil {
		return Group{}, err
	}
	var out Group
	err = s.admin(tenantID, func(t *tenant) error {
		g, err := t.mustGroup(group)
		if err == nil {
			out = g.snapshot(t)
		}
		return err
	})
	return out, err
}
