package staging_test

import (
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/staging"
)

// hooked wires the hooks the app wires: syncs and licence operations stage users who gain a Teams licence,
// offboarding releases numbers, and a user without a usage location gets the site's or customer's default.
func (e *env) hooked() *licensing.Service {
	e.t.Helper()
	e.sync.Staging = e.svc
	lic := e.lic.Licensing.(*licensing.Service)
	lic.Staging, lic.Numbers, lic.UsageLocations = e.svc, e.nums, &sites.Service{Store: e.st}
	return lic
}

// addUnlicensed adds a user without licences in the simulator and syncs, so that the store knows them.
func (e *env) addUnlicensed(name, city, usageLocation string) string {
	e.t.Helper()
	u := must(e.sim.AddUser(tenantID, graphsim.NewUser{DisplayName: name, City: city, UsageLocation: usageLocation}))(e.t)
	if usageLocation == "" {
		_ = must(e.sim.UpdateUser(tenantID, u.ID, graphsim.UserPatch{UsageLocation: &usageLocation}))(e.t)
	}
	e.users[name] = strings.ToLower(u.ID)
	e.syncNow()
	return e.users[name]
}

func TestSyncStagesUsersWhoGainATeamsLicence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second, number1)
	e.hooked()
	dora := e.addUnlicensed("Dora Dunn", "Seattle", "US") // known unlicensed: not staged
	_, err := e.st.GetStaging(ctxb(), e.cust.ID, dora)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	// Licensed in the admin center, seen by the next sync.
	td.Require(t).CmpNoError(e.sim.AssignDirectLicense(tenantID, dora, "ENTERPRISEPACK", nil))
	e.syncNow()
	rec := e.record("Dora Dunn")
	td.Cmp(t, rec, td.Struct(domain.Staging{Status: domain.StagingStaged, Reason: staging.ReasonSync, Actor: "job:sync"}))

	// A later sync (a change of the same user) stages no one again, and a change of a licensed user stages no one.
	dept := "Sales"
	_ = must(e.sim.UpdateUser(tenantID, dora, graphsim.UserPatch{Department: &dept}))(t)
	e.syncNow()
	td.Cmp(t, e.record("Dora Dunn").Version, rec.Version, "not staged twice")

	e.run(30*time.Second, "Dora Dunn")
	td.Cmp(t, e.record("Dora Dunn").Status, domain.StagingProvisioned)
	td.Cmp(t, e.simNumbersOf(dora), []string{number1})
	td.Cmp(t, must(e.st.GetProvisioning(ctxb(), e.cust.ID, dora))(t).ManagedBy, domain.ManagedByTemplate, "the site's template")
}

func TestLicenceOperationsStageAndOffboardingReleasesTheNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second, number1)
	lic := e.hooked()
	eve := e.addUnlicensed("Eve Evans", "Seattle", "")

	// No usage location and no default: refused, as before.
	_, err := lic.Assign(ctxb(), admin, e.cust.ID, eve, licensing.Change{SkuID: skuID("ENTERPRISEPACK")})
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("default usage location")))

	// The customer's default is set through Graph, then the licence assigned, and the user staged.
	set := must(e.st.GetSettings(ctxb(), e.cust.ID))(t)
	set.DefaultUsageLocation = "GB"
	_ = must(e.st.PutSettings(ctxb(), set, set.Version, "test", time.Now().UTC()))(t)
	res := must(lic.Assign(ctxb(), admin, e.cust.ID, eve, licensing.Change{SkuID: skuID("ENTERPRISEPACK")}))(t)
	td.Cmp(t, res.Notes, td.SuperBagOf(td.Contains("Usage location set to GB"), td.Contains("Staged")))
	td.Cmp(t, must(e.sim.User(tenantID, eve))(t).UsageLocation, "GB")
	td.Cmp(t, must(e.st.GetProvisioning(ctxb(), e.cust.ID, eve))(t).ManagedBy, domain.ManagedByUI, "an admin's licence change")
	td.Cmp(t, e.record("Eve Evans"), td.Struct(domain.Staging{Status: domain.StagingStaged, Reason: licensing.StageReason, Actor: admin}))

	e.run(30*time.Second, "Eve Evans")
	td.Cmp(t, e.simNumbersOf(eve), []string{number1})
	td.Cmp(t, must(e.st.GetProvisioning(ctxb(), e.cust.ID, eve))(t).ManagedBy, domain.ManagedByTemplate, "then the site's template")

	// Offboarding removes the licences and releases the number into quarantine (30 days by default).
	off := must(lic.Offboard(ctxb(), admin, e.cust.ID, eve))(t)
	td.Require(t).NotNil(off.ReleasedNumber)
	td.Cmp(t, off.ReleasedNumber.Status, domain.NumberQuarantined)
	td.Cmp(t, off.Notes, td.Contains(td.Contains("Number "+number1+" released: in quarantine until")))
	td.Cmp(t, e.simNumbersOf(eve), td.Empty(), "unassigned in Teams")
	td.Cmp(t, must(e.st.GetProvisioning(ctxb(), e.cust.ID, eve))(t).Number, "")
}
