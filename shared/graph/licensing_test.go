package graph_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// The licensing test tenant and the ids the licence rules involve.
const (
	licTenant = "5e1f0c2a-7b3d-4c9e-8f1a-2b3c4d5e6f70"

	licE3       = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3
	licExchange = "4b9405b0-7788-4568-add1-99614e613b69" // EXCHANGESTANDARD
	licPhone    = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV
	licPowerBI  = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO

	licPlanExchangeStd = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
	licPlanExchangeEnt = "efb87545-963c-4e0d-99df-69c6916d9eb0"
	licPlanSkype2      = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c"
	licPlanSkype1      = "afc06cb0-b4f4-4473-8286-d644f70d8faf"
	licPlanPhone       = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
	licPlanTeams       = "57ff2da0-773e-42df-b2af-ffb7a2317929"
)

// licSim starts a simulator with the licensing test tenant (60 users; 2 free Power BI seats) and the demo tenants.
func licSim(t *testing.T, extra ...graphsim.SKUSpec) *graphsim.Running {
	t.Helper()
	spec := graphsim.TenantSpec{ID: licTenant, Name: "Northwind Licensing", Domain: "northwindlic.onmicrosoft.com",
		Users: 60, UsageLocation: "US", Country: "United States",
		SKUs: append([]graphsim.SKUSpec{
			{PartNumber: "SPE_E3", Enabled: 55, Assigned: 50, Base: true},
			{PartNumber: "EXCHANGESTANDARD", Enabled: 5, Base: true},
			{PartNumber: "MCOEV", Enabled: 10, Assigned: 4, Requires: "SPE_E3"},
			{PartNumber: "MCOPSTN1", Enabled: 5, Assigned: 2, Requires: "MCOEV"},
		}, extra...)}
	if len(extra) == 0 {
		spec.SKUs = append(spec.SKUs, graphsim.SKUSpec{PartNumber: "POWER_BI_PRO", Enabled: 12, Assigned: 10})
	}
	sim := graphsim.New(graphsim.Options{Seed: 11, Tenants: append(graphsim.DemoTenants(), spec)})
	return sim.StartForTest(t)
}

// licUsers returns the tenant's users that satisfy ok; the test stops unless there are at least min.
func licUsers(t *testing.T, sim *graphsim.Sim, tenantID string, min int, ok func(graphsim.User) bool) []graphsim.User {
	t.Helper()
	all, err := sim.Users(tenantID)
	td.Require(t).CmpNoError(err)
	var out []graphsim.User
	for _, u := range all {
		if ok(u) {
			out = append(out, u)
		}
	}
	td.Require(t).Cmp(len(out), td.Gte(min), "enough users for the test")
	return out
}

func licHas(u graphsim.User, sku string) bool {
	return slices.ContainsFunc(u.Licenses, func(l graphsim.License) bool { return l.SkuID == sku })
}

func licCleanE3(u graphsim.User) bool {
	return slices.ContainsFunc(u.Licenses, func(l graphsim.License) bool { return l.SkuID == licE3 && len(l.DisabledPlans) == 0 })
}

func licFree(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation != "" }

func licUser(t *testing.T, sim *graphsim.Sim, tenantID, id string) graphsim.User {
	t.Helper()
	for _, u := range licUsers(t, sim, tenantID, 1, func(u graphsim.User) bool { return u.ID == id }) {
		return u
	}
	return graphsim.User{}
}

func licSKU(t *testing.T, c *graph.Client, sku string) domain.SubscribedSKU {
	t.Helper()
	skus, err := c.ListSKUs(ctxFor(t, 10*time.Second))
	td.Require(t).CmpNoError(err)
	for _, s := range skus {
		if s.SkuID == sku {
			return s
		}
	}
	t.Fatalf("no SKU %s", sku)
	return domain.SubscribedSKU{}
}

// licenseError checks that err is a *domain.Error with code that carries a *graph.LicenseError, and returns it.
func licenseError(t *testing.T, err error, code string) *graph.LicenseError {
	t.Helper()
	td.Cmp(t, domain.ErrorCode(err), code, "%v", err)
	var le *graph.LicenseError
	td.Require(t).Cmp(errors.As(err, &le), true, "a LicenseError in %v", err)
	return le
}

func TestAssignLicenses(t *testing.T) {
	run := licSim(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), licTenant)
	free := licUsers(t, run.Sim, licTenant, 1, licFree)[0]
	e3 := licUsers(t, run.Sim, licTenant, 1, func(u graphsim.User) bool { return licCleanE3(u) && len(u.Licenses) == 1 })[0]

	// Add: only addLicenses given; the client still sends "removeLicenses": [] (the simulator refuses it otherwise).
	u, err := c.AssignLicenses(ctxFor(t, 10*time.Second), free.ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, u, td.Struct(domain.GraphUser{ID: free.ID, UserPrincipalName: free.UserPrincipalName, DisplayName: free.DisplayName}, nil))
	td.Cmp(t, licHas(licUser(t, run.Sim, licTenant, free.ID), licPowerBI), true)
	details, err := c.LicenseDetails(ctxFor(t, 10*time.Second), free.UserPrincipalName)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, details, td.All(td.Len(1), td.ArrayEach(td.Struct(graph.LicenseDetail{SkuID: licPowerBI, PartNumber: "POWER_BI_PRO"}, td.StructFields{
		"ID":           td.NotEmpty(),
		"ServicePlans": td.All(td.NotEmpty(), td.ArrayEach(td.Struct(domain.ServicePlanInfo{ProvisioningStatus: "Success", AppliesTo: "User"}, td.StructFields{"ID": td.NotEmpty(), "Name": td.NotEmpty()}))),
	}))))

	// Switching a plan off is re-adding the SKU with disabledPlans: no extra seat.
	used := licSKU(t, c, licE3).Consumed
	_, err = c.AssignLicenses(ctxFor(t, 10*time.Second), e3.ID, []domain.AssignedLicense{{SkuID: licE3, DisabledPlans: []string{licPlanTeams}}}, nil)
	td.Require(t).CmpNoError(err)
	details, err = c.LicenseDetails(ctxFor(t, 10*time.Second), e3.ID)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(details, td.Len(1))
	td.Cmp(t, details[0].ServicePlans, td.Contains(domain.ServicePlanInfo{ID: licPlanTeams, Name: "TEAMS1", ProvisioningStatus: "Disabled", AppliesTo: "User"}))
	td.Cmp(t, details[0].ServicePlans, td.Contains(td.Struct(domain.ServicePlanInfo{ID: licPlanExchangeEnt, ProvisioningStatus: "Success"}, nil)))
	td.Cmp(t, licSKU(t, c, licE3).Consumed, used)
	td.Cmp(t, licUser(t, run.Sim, licTenant, e3.ID).Licenses[0].DisabledPlans, []string{licPlanTeams})

	// Remove only.
	_, err = c.AssignLicenses(ctxFor(t, 10*time.Second), free.ID, nil, []string{licPowerBI})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, licUser(t, run.Sim, licTenant, free.ID).Licenses, td.Empty())
	details, err = c.LicenseDetails(ctxFor(t, 10*time.Second), free.ID)
	td.Cmp(t, err, nil)
	td.Cmp(t, details, td.Empty())

	st := run.Sim.Stats()
	td.Cmp(t, st.Count("POST /v1.0/users/{id}/assignLicense", 200), 3)
	td.Cmp(t, st.Count("POST /v1.0/users/{id}/assignLicense", 400), 0)
}

func TestAssignLicenseErrors(t *testing.T) {
	run := licSim(t)
	sim := run.Sim
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 1), licTenant)
	free := licUsers(t, sim, licTenant, 2, licFree)
	noLocation := licUsers(t, sim, licTenant, 1, func(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation == "" })[0]
	e3 := licUsers(t, sim, licTenant, 1, func(u graphsim.User) bool { return licCleanE3(u) && len(u.Licenses) == 1 })[0]
	phone := licUsers(t, sim, licTenant, 1, func(u graphsim.User) bool { return licCleanE3(u) && licHas(u, licPhone) })[0]
	assign := func(user string, add []domain.AssignedLicense, remove []string) error {
		_, err := c.AssignLicenses(ctxFor(t, 10*time.Second), user, add, remove)
		return err
	}

	t.Run("no seats", func(t *testing.T) {
		k := licSKU(t, c, licPowerBI)
		td.Require(t).CmpNoError(sim.SetPrepaid(licTenant, licPowerBI, k.Consumed))
		t.Cleanup(func() { _ = sim.SetPrepaid(licTenant, licPowerBI, k.Enabled) })
		err := assign(free[0].ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)
		le := licenseError(t, err, domain.EConflict)
		td.Cmp(t, le, td.Struct(&graph.LicenseError{Kind: graph.NoSeats, UserID: free[0].ID, SkuID: licPowerBI},
			td.StructFields{"Message": td.Contains("does not have any available licenses"), "Err": td.NotNil()}))
		td.Cmp(t, domain.ErrorMessage(err), td.All(td.Contains("no free licences"), td.Contains(licPowerBI), td.Re(`\(request-id [0-9a-f-]{36}\)$`)))
	})

	t.Run("usage location", func(t *testing.T) {
		err := assign(noLocation.ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)
		le := licenseError(t, err, domain.EInvalid)
		td.Cmp(t, le.Kind, graph.UsageLocationMissing)
		var de *domain.Error
		td.Require(t).Cmp(errors.As(err, &de), true)
		td.Cmp(t, de.Fields, td.Keys([]string{"usageLocation"}))
	})

	t.Run("mutually exclusive", func(t *testing.T) {
		le := licenseError(t, assign(e3.ID, []domain.AssignedLicense{{SkuID: licExchange}}, nil), domain.EConflict)
		td.Cmp(t, le.Kind, graph.MutuallyExclusive)
		td.Cmp(t, le.Plans, []string{licPlanExchangeStd, licPlanExchangeEnt})
	})

	t.Run("dependency", func(t *testing.T) {
		le := licenseError(t, assign(free[1].ID, []domain.AssignedLicense{{SkuID: licPhone}}, nil), domain.EConflict)
		td.Cmp(t, le.Kind, graph.Dependency)
		td.Cmp(t, le.Plans, []string{licPlanPhone, licPlanSkype2, licPlanSkype1})
		le = licenseError(t, assign(phone.ID, nil, []string{licE3}), domain.EConflict)
		td.Cmp(t, le.Kind, graph.Dependency, "removing the base under Teams Phone")
	})

	t.Run("unknown SKU and not assigned", func(t *testing.T) {
		const spb = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
		le := licenseError(t, assign(free[1].ID, []domain.AssignedLicense{{SkuID: spb}}, nil), domain.EInvalid)
		td.Cmp(t, le, td.Struct(&graph.LicenseError{Kind: graph.UnknownSKU, SkuID: spb}, nil))
		le = licenseError(t, assign(free[1].ID, nil, []string{licPowerBI}), domain.EConflict)
		td.Cmp(t, le, td.Struct(&graph.LicenseError{Kind: graph.NotAssigned, SkuID: licPowerBI}, nil))
	})

	t.Run("not found, invalid, throttled, upstream, unauthorized", func(t *testing.T) {
		err := assign("00000000-0000-4000-8000-000000000001", []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)
		td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
		var le *graph.LicenseError
		td.Cmp(t, errors.As(err, &le), false)

		before := sim.Stats().Total
		err = assign(free[1].ID, []domain.AssignedLicense{{SkuID: "not-a-guid", DisabledPlans: []string{"x"}}}, []string{"y"})
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
		var de *domain.Error
		td.Require(t).Cmp(errors.As(err, &de), true)
		td.Cmp(t, de.Fields, td.Keys(td.Bag("add[0].skuId", "add[0].disabledPlans[0]", "remove[0]")))
		td.Cmp(t, domain.ErrorCode(assign(free[1].ID, nil, nil)), domain.EInvalid, "nothing to do")
		td.Cmp(t, domain.ErrorCode(assign("", []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)), domain.EInvalid)
		td.Cmp(t, sim.Stats().Total, before, "refused before sending")

		ep := "/v1.0/users/" + free[1].ID + "/assignLicense"
		td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: ep, Rate429: 1}))
		td.Cmp(t, domain.ErrorCode(assign(free[1].ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)), domain.EThrottled)
		td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: ep, Rate503: 1}))
		td.Cmp(t, domain.ErrorCode(assign(free[1].ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)), domain.EUpstream)
		sim.ClearFaults()

		td.Require(t).CmpNoError(sim.RevokeConsent(licTenant))
		t.Cleanup(func() { _ = sim.RestoreConsent(licTenant) })
		td.Cmp(t, domain.ErrorCode(assign(free[1].ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, nil)), domain.EUnauthorized)
		_, err = c.LicenseDetails(ctxFor(t, 10*time.Second), free[1].ID)
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized)
		td.CmpNoError(t, sim.RestoreConsent(licTenant))
		_, err = c.LicenseDetails(ctxFor(t, 10*time.Second), "00000000-0000-4000-8000-000000000001")
		td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	})
}

// TestInheritedFromGroup removes, directly, a licence a demo tenant's user holds only through a licensing group:
// the error names the SKU and the group.
func TestInheritedFromGroup(t *testing.T) {
	run := graphsim.StartForTest(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), graphsim.ContosoDentalID)
	viaGroup := licUsers(t, run.Sim, graphsim.ContosoDentalID, 1, func(u graphsim.User) bool {
		var direct, group bool
		for _, l := range u.Licenses {
			if l.SkuID == licPhone {
				direct = direct || l.AssignedByGroup == ""
				group = group || l.AssignedByGroup != ""
			}
		}
		return group && !direct
	})[0]
	var groups []string
	for _, l := range viaGroup.Licenses {
		if l.SkuID == licPhone {
			groups = append(groups, l.AssignedByGroup)
		}
	}

	_, err := c.AssignLicenses(ctxFor(t, 10*time.Second), viaGroup.ID, nil, []string{licPhone})
	le := licenseError(t, err, domain.EConflict)
	td.Cmp(t, le, td.Struct(&graph.LicenseError{Kind: graph.InheritedFromGroup, UserID: viaGroup.ID, SkuID: licPhone, Group: groups[0], Groups: groups},
		td.StructFields{"Message": "User license is inherited from a group membership and it cannot be removed directly from the user."}))
	td.Cmp(t, domain.ErrorMessage(err), td.Contains(groups[0]))
	td.Cmp(t, licHas(licUser(t, run.Sim, graphsim.ContosoDentalID, viaGroup.ID), licPhone), true)
}

// TestRetriedPOSTBody is graph.md's "retry bug" check: the simulator throttles one assignLicense; the client's
// middleware retries it, and the retried body still decodes (a body that did not match its headers would be a 400).
func TestRetriedPOSTBody(t *testing.T) {
	run := licSim(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), licTenant)
	free := licUsers(t, run.Sim, licTenant, 1, licFree)[0]
	td.Require(t).CmpNoError(run.Sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + free.ID + "/assignLicense", Rate429: 1, Times: 1}))

	_, err := c.AssignLicenses(ctxFor(t, 20*time.Second), free.ID, []domain.AssignedLicense{{SkuID: licPowerBI}}, []string{})
	td.Require(t).CmpNoError(err)
	st := run.Sim.Stats()
	td.Cmp(t, st.Requests["POST /v1.0/users/{id}/assignLicense"], map[int]int{429: 1, 200: 1}, "throttled once, then decoded and applied")
	td.Cmp(t, licUser(t, run.Sim, licTenant, free.ID).Licenses, td.Bag(td.Struct(graphsim.License{SkuID: licPowerBI, State: "Active", Error: "None"}, nil)),
		"applied once")
}
