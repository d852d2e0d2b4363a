package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
)

func TestLicenceRulesUseRealPlans(t *testing.T) {
	check := func(id string) {
		_, _, ok := catalog.PlanName(id)
		td.Cmp(t, ok, true, "service plan %s is in the catalogue", id)
	}
	for _, set := range exclusivePlans {
		for _, p := range set {
			check(p)
		}
	}
	for p, deps := range planDependencies {
		check(p)
		for _, d := range deps {
			check(d)
		}
	}
}

// TestGroupInheritedLicences puts group licences on users directly (the group model is admin.go's) and checks how
// assignLicense treats them: a licence held only through a group cannot be removed directly; a direct licence
// beside a group one can, and the user keeps the SKU; a direct licence of a SKU held through a group takes no
// seat. Successful changes touch the user (delta), refused ones do not.
func TestGroupInheritedLicences(t *testing.T) {
	const (
		tenantID = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
		group    = "0f0e0d0c-0b0a-4908-8706-050403020100"
		e3       = "05e9a617-0261-4cee-bb44-138d3ef5d965"
		powerBI  = "f8a1db68-be16-40ed-86d5-cb42ce701560"
	)
	s := New(Options{Seed: 5, Tenants: []TenantSpec{{ID: tenantID, Name: "Group Test", Domain: "grouptest.onmicrosoft.com",
		Users: 10, UsageLocation: "FR", SKUs: []SKUSpec{
			{PartNumber: "SPE_E3", Enabled: 10, Assigned: 6, Base: true},
			{PartNumber: "POWER_BI_PRO", Enabled: 2, Assigned: 2},
		}}}})
	run := s.StartForTest(t)
	tok, err := s.mintToken(tenantID)
	td.Require(t).CmpNoError(err)
	tn, _ := s.tenant(tenantID)

	var viaGroup, both, groupPBI *User
	tn.mu.Lock()
	for _, u := range tn.users {
		hasE3, hasPBI := false, false
		for _, l := range u.Licenses {
			hasE3 = hasE3 || l.SkuID == e3
			hasPBI = hasPBI || l.SkuID == powerBI
		}
		switch {
		case hasE3 && !hasPBI && viaGroup == nil:
			viaGroup = u // Power BI through the group only
			u.Licenses = append(u.Licenses, License{SkuID: powerBI, AssignedByGroup: group, State: "Active", Error: "None"})
		case hasE3 && both == nil:
			both = u // E3 directly and through the group
			u.Licenses = append(u.Licenses, License{SkuID: e3, AssignedByGroup: group, State: "Active", Error: "None"})
		case hasE3 && !hasPBI && groupPBI == nil:
			groupPBI = u // Power BI through the group, in error: no seat was free
			u.Licenses = append(u.Licenses, License{SkuID: powerBI, AssignedByGroup: group, State: "Error", Error: "CountViolation"})
		}
	}
	tn.mu.Unlock()
	td.Require(t).Cmp([]*User{viaGroup, both, groupPBI}, td.ArrayEach(td.NotNil()))

	post := func(u *User, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", run.URL+"/v1.0/users/"+u.ID+"/assignLicense", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := run.HTTPClient().Do(req)
		td.Require(t).CmpNoError(err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, m
	}
	seq := func(u *User) uint64 {
		tn.mu.Lock()
		defer tn.mu.Unlock()
		return u.changeSeq
	}
	consumed := func(sku string) int {
		tn.mu.Lock()
		defer tn.mu.Unlock()
		for _, k := range tn.skuSnapshot() {
			if k.SkuID == sku {
				return k.Consumed
			}
		}
		return -1
	}

	before := seq(viaGroup)
	status, body := post(viaGroup, `{"addLicenses":[],"removeLicenses":["`+powerBI+`"]}`)
	td.Cmp(t, status, 400)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "Request_BadRequest",
		"message": "User license is inherited from a group membership and it cannot be removed directly from the user."}, nil)}, nil))
	td.Cmp(t, seq(viaGroup), before, "a refused change does not touch the user")

	// No Power BI seat is free, yet a direct assignment on top of the group's takes none.
	td.Require(t).Cmp(consumed(powerBI), 3, "two direct, one through the group")
	status, body = post(viaGroup, `{"addLicenses":[{"skuId":"`+powerBI+`","disabledPlans":[]}],"removeLicenses":[]}`)
	td.Cmp(t, status, 200, "%v", body)
	td.Cmp(t, consumed(powerBI), 3)
	td.Cmp(t, seq(viaGroup), td.Gt(before), "touched")
	// The group licence in error holds no seat: a direct one needs a free seat.
	status, body = post(groupPBI, `{"addLicenses":[{"skuId":"`+powerBI+`","disabledPlans":[]}],"removeLicenses":[]}`)
	td.Cmp(t, status, 400)
	td.Cmp(t, body["error"], td.SuperMapOf(map[string]any{"message": td.Contains("does not have any available licenses")}, nil))

	usedE3 := consumed(e3)
	before = seq(both)
	status, _ = post(both, `{"addLicenses":[],"removeLicenses":["`+e3+`"]}`)
	td.Cmp(t, status, 200, "the direct assignment goes, the group's stays")
	tn.mu.Lock()
	td.Cmp(t, both.Licenses, []License{{SkuID: e3, AssignedByGroup: group, State: "Active", Error: "None"}})
	tn.mu.Unlock()
	td.Cmp(t, consumed(e3), usedE3, "still holds E3 through the group")
	td.Cmp(t, seq(both), td.Gt(before))
	status, body = post(both, `{"addLicenses":[],"removeLicenses":["`+e3+`"]}`)
	td.Cmp(t, status, 400)
	td.Cmp(t, body["error"], td.SuperMapOf(map[string]any{"message": td.HasPrefix("User license is inherited from a group")}, nil))
}
