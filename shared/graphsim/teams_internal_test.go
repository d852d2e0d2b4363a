package graphsim

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"
)

// TestTeamsLicensedSince checks the provisioning clock when licences change behind Teams' back (another feature's
// code changing u.Licenses), with and without the teamsLicensed call.
func TestTeamsLicensedSince(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, time.May, 4, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	sim := New(Options{Now: clock})
	tn, err := sim.mustTenant(ContosoDentalID)
	td.Require(t).CmpNoError(err)
	spb := tn.findSKU("SPB")
	exchange := tn.findSKU("EXCHANGESTANDARD")
	var unlicensed []*User
	for _, u := range tn.users {
		if len(u.Licenses) == 0 && !u.room {
			unlicensed = append(unlicensed, u)
		}
	}
	td.Require(t).Cmp(len(unlicensed), td.Gte(4))
	state := func(u *User) TeamsUser {
		t.Helper()
		users, err := sim.TeamsUsers(ContosoDentalID)
		td.Require(t).CmpNoError(err)
		return users[slices.IndexFunc(users, func(x TeamsUser) bool { return x.ID == u.ID })]
	}
	license := func(u *User, sku *SKU, lastUpdated time.Time, explicit bool) {
		tn.mu.Lock()
		u.Licenses = append(u.Licenses, License{SkuID: sku.SkuID, State: "Active", Error: "None", LastUpdated: lastUpdated})
		if explicit {
			tn.teamsLicensed(u, clock())
		}
		tn.mu.Unlock()
	}

	// Noticed at the first read: the clock starts then (the licence's time is now).
	a := unlicensed[0]
	license(a, spb, clock(), false)
	td.Cmp(t, state(a), td.Struct(TeamsUser{HasTeamsLicense: true, Provisioned: false, LicensedSince: clock()}, nil))
	advance(DefaultTeamsProvisioningDelay - time.Second)
	td.Cmp(t, state(a).Provisioned, false)
	advance(time.Second)
	td.Cmp(t, state(a).Provisioned, true)

	// Reported by teamsLicensed: the clock starts at the change, even when the first read comes later.
	b := unlicensed[1]
	license(b, spb, time.Time{}, true)
	advance(DefaultTeamsProvisioningDelay)
	td.Cmp(t, state(b), td.Struct(TeamsUser{HasTeamsLicense: true, Provisioned: true}, nil))

	// Unreported, but the licence says it is older than the delay: provisioned at once.
	c := unlicensed[2]
	license(c, spb, clock().Add(-time.Hour), false)
	td.Cmp(t, state(c), td.Struct(TeamsUser{HasTeamsLicense: true, Provisioned: true, LicensedSince: clock().Add(-time.Hour)}, nil))

	// A licence without Teams starts nothing; one that goes before provisioning resets the clock.
	d := unlicensed[3]
	license(d, exchange, clock(), true)
	td.Cmp(t, state(d), td.Struct(TeamsUser{HasTeamsLicense: false, Provisioned: false, FeatureTypes: []string{}}, nil))
	license(d, spb, clock(), true)
	advance(time.Minute)
	tn.mu.Lock()
	d.Licenses = d.Licenses[:1]
	tn.teamsLicensed(d, clock())
	tn.mu.Unlock()
	td.Cmp(t, state(d).LicensedSince, time.Time{})
	license(d, spb, clock(), true)
	advance(DefaultTeamsProvisioningDelay - time.Second)
	td.Cmp(t, state(d).Provisioned, false, "counted from the second licence")
	advance(time.Second)
	td.Cmp(t, state(d).Provisioned, true)

	// A provisioned user who loses Teams stays listed, without "Teams" in featureTypes.
	tn.mu.Lock()
	a.Licenses[0].DisabledPlans = []string{"57ff2da0-773e-42df-b2af-ffb7a2317929"} // TEAMS1
	tn.teamsLicensed(a, clock())
	tn.mu.Unlock()
	td.Cmp(t, state(a), td.Struct(TeamsUser{HasTeamsLicense: false, Provisioned: true}, td.StructFields{"FeatureTypes": td.Not(td.Contains("Teams"))}))
}
