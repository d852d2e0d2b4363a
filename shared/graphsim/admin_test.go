package graphsim_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/graphsim"
)

func skuOf(t *testing.T, sim *graphsim.Sim, tenant, part string) graphsim.SKU {
	t.Helper()
	skus, err := sim.SKUs(tenant)
	td.Require(t).CmpNoError(err)
	for _, k := range skus {
		if k.PartNumber == part {
			return k
		}
	}
	t.Fatalf("no SKU %s in %s", part, tenant)
	return graphsim.SKU{}
}

func groupNamed(t *testing.T, sim *graphsim.Sim, tenant, name string) graphsim.Group {
	t.Helper()
	gs, err := sim.Groups(tenant)
	td.Require(t).CmpNoError(err)
	for _, g := range gs {
		if g.DisplayName == name {
			return g
		}
	}
	t.Fatalf("no group %q in %s", name, tenant)
	return graphsim.Group{}
}

func licenceSources(u graphsim.User, skuID string) (direct, group int) {
	for _, l := range u.Licenses {
		if l.SkuID != skuID {
			continue
		}
		if l.AssignedByGroup == "" {
			direct++
		} else {
			group++
		}
	}
	return direct, group
}

func TestDemoGroups(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	const ten = graphsim.ContosoDentalID

	gs, err := sim.Groups(ten)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, gs, td.Bag(
		td.Struct(graphsim.Group{DisplayName: "Teams Phone users"}, td.StructFields{"Members": td.Len(8), "Licenses": td.Len(1)}),
		td.Struct(graphsim.Group{DisplayName: "Power BI users"}, td.StructFields{"Members": td.Len(2)}),
		td.Struct(graphsim.Group{DisplayName: "New starters"}, td.StructFields{"Members": td.Empty()}),
	))
	// Existing consumption is unchanged: group members held the licence directly before.
	for part, n := range map[string]int{"SPB": 42, "MCOEV": 14, "MCOPSTN1": 12, "POWER_BI_PRO": 3, "EXCHANGESTANDARD": 6} {
		td.Cmp(t, skuOf(t, sim, ten, part).Consumed, n, part)
	}

	phone := groupNamed(t, sim, ten, "Teams Phone users")
	mcoev := skuOf(t, sim, ten, "MCOEV").SkuID
	both, groupOnly := "", 0
	for _, id := range phone.Members {
		u, err := sim.User(ten, id)
		td.Require(t).CmpNoError(err)
		d, g := licenceSources(u, mcoev)
		td.Cmp(t, g, 1)
		if d == 1 {
			both = id
		} else {
			groupOnly++
		}
	}
	td.Cmp(t, groupOnly, 5, "5 of 8 hold Teams Phone through the group only, 3 both ways")

	// Graph's view of a user holding the licence both ways: one assignedLicenses entry, two states.
	tok := accessToken(t, run, ten)
	resp, body := call(t, run, "GET", "/v1.0/users/"+both+"?$select=id,assignedLicenses,licenseAssignmentStates", tok, nil)
	td.Require(t).Cmp(resp.StatusCode, 200)
	m := body.(map[string]any)
	td.Cmp(t, m["assignedLicenses"], td.Contains(map[string]any{"skuId": mcoev, "disabledPlans": []any{}}))
	td.Cmp(t, m["assignedLicenses"], td.ArrayEach(td.Keys(td.Bag("skuId", "disabledPlans"))))
	var states []any
	for _, s := range m["licenseAssignmentStates"].([]any) {
		if s.(map[string]any)["skuId"] == mcoev {
			states = append(states, s)
		}
	}
	td.Cmp(t, states, td.Bag(
		td.SuperMapOf(map[string]any{"assignedByGroup": nil, "state": "Active", "error": "None", "lastUpdatedDateTime": td.Re(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`), "disabledPlans": []any{}}, nil),
		td.SuperMapOf(map[string]any{"assignedByGroup": phone.ID, "state": "Active", "error": "None"}, nil),
	))

	// Groups through Graph.
	resp, body = call(t, run, "GET", "/v1.0/groups?$select=id,displayName,assignedLicenses", tok, nil)
	td.Require(t).Cmp(resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.Contains(map[string]any{"id": phone.ID, "displayName": "Teams Phone users",
		"assignedLicenses": []any{map[string]any{"skuId": mcoev, "disabledPlans": []any{}}}})}, nil))
	resp, body = call(t, run, "GET", "/v1.0/groups/"+phone.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"displayName": "Teams Phone users", "securityEnabled": true}, nil))
	td.Cmp(t, body, td.Not(td.ContainsKey("assignedLicenses")), "not in the default set")
	resp, _ = call(t, run, "GET", "/v1.0/groups/"+phone.ID, accessToken(t, run, graphsim.FabrikamLegalID), nil)
	td.Cmp(t, resp.StatusCode, 404, "another tenant's group")
}

func TestGroupLicensingSeatsAndChanges(t *testing.T) {
	sim := graphsim.New(graphsim.Options{})
	const ten = graphsim.ContosoDentalID
	starters := groupNamed(t, sim, ten, "New starters")
	spb := skuOf(t, sim, ten, "SPB")
	td.Require(t).Cmp(spb.Enabled-spb.Consumed, 8)

	// Nine new starters join: eight get Business Premium, the ninth a CountViolation (no unit consumed).
	var ids []string
	for i := range 9 {
		u, err := sim.AddUser(ten, graphsim.NewUser{DisplayName: "Starter " + string(rune('A'+i)), UsageLocation: "US"})
		td.Require(t).CmpNoError(err)
		td.Require(t).CmpNoError(sim.AddGroupMember(ten, starters.ID, u.ID))
		ids = append(ids, u.ID)
	}
	td.Cmp(t, skuOf(t, sim, ten, "SPB").Consumed, 50)
	last, _ := sim.User(ten, ids[8])
	td.Cmp(t, last.Licenses, []graphsim.License{{SkuID: spb.SkuID, DisabledPlans: []string{}, AssignedByGroup: starters.ID,
		State: "Error", Error: "CountViolation", LastUpdated: last.Licenses[0].LastUpdated}})
	first, _ := sim.User(ten, ids[0])
	td.Cmp(t, first.Licenses, td.Len(1))
	td.Cmp(t, first.Licenses[0].State, "Active")
	td.Cmp(t, errors.Is(sim.AddGroupMember(ten, starters.ID, ids[0]), graphsim.ErrConflict), true, "already a member")

	// Leaving the group frees the seat.
	td.Require(t).CmpNoError(sim.RemoveGroupMember(ten, starters.ID, ids[0]))
	first, _ = sim.User(ten, ids[0])
	td.Cmp(t, first.Licenses, td.Empty())
	td.Cmp(t, skuOf(t, sim, ten, "SPB").Consumed, 49)
	td.Cmp(t, errors.Is(sim.RemoveGroupMember(ten, starters.ID, ids[0]), graphsim.ErrNotFound), true)

	// Changing a group's licences: disabled plans reach the members; the direct assignment's plans win in
	// assignedLicenses for those who hold both.
	phone := groupNamed(t, sim, ten, "Teams Phone users")
	mcoev := skuOf(t, sim, ten, "MCOEV")
	plan := mcoev.ServicePlans[0]
	td.Require(t).CmpNoError(sim.SetGroupLicenses(ten, phone.ID, []graphsim.GroupLicense{{SkuID: "MCOEV", DisabledPlans: []string{plan.Name}}}))
	for _, id := range phone.Members {
		u, _ := sim.User(ten, id)
		for _, l := range u.Licenses {
			if l.AssignedByGroup == phone.ID {
				td.Cmp(t, l.DisabledPlans, []string{plan.ID})
			}
		}
	}
	td.Cmp(t, skuOf(t, sim, ten, "MCOEV").Consumed, 14)
	// Dropping the SKU from the group: the group-only holders lose it.
	td.Require(t).CmpNoError(sim.SetGroupLicenses(ten, phone.ID, nil))
	td.Cmp(t, skuOf(t, sim, ten, "MCOEV").Consumed, 9)
	td.CmpError(t, sim.SetGroupLicenses(ten, phone.ID, []graphsim.GroupLicense{{SkuID: "NOPE"}}))
	td.CmpError(t, sim.SetGroupLicenses(ten, phone.ID, []graphsim.GroupLicense{{SkuID: "MCOEV", DisabledPlans: []string{"NOPE"}}}))

	// A new group, over HTTP-free Go API; an unknown SKU is refused.
	g, err := sim.AddGroup(ten, "Phone pilots", []graphsim.GroupLicense{{SkuID: mcoev.SkuID}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, g.Licenses, []graphsim.GroupLicense{{SkuID: mcoev.SkuID, DisabledPlans: []string{}}})
	_, err = sim.AddGroup(ten, "Bad", []graphsim.GroupLicense{{SkuID: "ENTERPRISEPACK"}})
	td.Cmp(t, errors.Is(err, graphsim.ErrNotFound), true)
}

func TestAdminOverHTTP(t *testing.T) {
	run := graphsim.StartForTest(t)
	const ten = graphsim.FabrikamLegalID
	base := "/_sim/tenants/" + ten
	tok := accessToken(t, run, ten)

	resp, body := call(t, run, "POST", base+"/users", "", strings.NewReader(`{"displayName":"Ola Nordmann","usageLocation":"gb","department":"Litigation"}`))
	td.Require(t).Cmp(resp.StatusCode, 201, "%v", body)
	id := body.(map[string]any)["ID"].(string)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"UserPrincipalName": "ola.nordmann@fabrikamlegal.onmicrosoft.com", "UsageLocation": "GB", "AccountEnabled": true}, nil))
	resp, _ = call(t, run, "POST", base+"/users", "", strings.NewReader(`{"displayName":"Ola","userPrincipalName":"ola.nordmann@fabrikamlegal.onmicrosoft.com"}`))
	td.Cmp(t, resp.StatusCode, 409)
	resp, _ = call(t, run, "POST", base+"/users", "", strings.NewReader(`{"displayName":""}`))
	td.Cmp(t, resp.StatusCode, 400)

	resp, body = call(t, run, "PATCH", base+"/users/ola.nordmann@fabrikamlegal.onmicrosoft.com", "", strings.NewReader(`{"jobTitle":"Partner","accountEnabled":false}`))
	td.Cmp(t, resp.StatusCode, 200, "%v", body)
	resp, body = call(t, run, "GET", "/v1.0/users/"+id+"?$select=id,jobTitle,accountEnabled,department", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"jobTitle": "Partner", "accountEnabled": false, "department": "Litigation"}, nil))

	// Direct licences, admin-center style: no seat check (Visio is already over-used).
	visio := skuOf(t, run.Sim, ten, "VISIOCLIENT")
	resp, body = call(t, run, "PUT", base+"/users/"+id+"/licenses/VISIOCLIENT", "", nil)
	td.Cmp(t, resp.StatusCode, 200, "%v", body)
	td.Cmp(t, skuOf(t, run.Sim, ten, "VISIOCLIENT").Consumed, visio.Consumed+1)
	e3 := skuOf(t, run.Sim, ten, "ENTERPRISEPACK")
	resp, body = call(t, run, "PUT", base+"/users/"+id+"/licenses/"+e3.SkuID, "", strings.NewReader(`{"disabledPlans":["`+e3.ServicePlans[1].Name+`"]}`))
	td.Cmp(t, resp.StatusCode, 200, "%v", body)
	_, body = call(t, run, "GET", "/v1.0/users/"+id+"?$select=assignedLicenses", tok, nil)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"assignedLicenses": td.Bag(
		map[string]any{"skuId": visio.SkuID, "disabledPlans": []any{}},
		map[string]any{"skuId": e3.SkuID, "disabledPlans": []any{e3.ServicePlans[1].ID}},
	)}, nil))
	resp, _ = call(t, run, "DELETE", base+"/users/"+id+"/licenses/VISIOCLIENT", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "DELETE", base+"/users/"+id+"/licenses/VISIOCLIENT", "", nil)
	td.Cmp(t, resp.StatusCode, 404)

	// Groups.
	resp, body = call(t, run, "POST", base+"/groups", "", strings.NewReader(`{"displayName":"Power BI pilots","licenses":[{"skuId":"POWER_BI_PRO"}]}`))
	td.Require(t).Cmp(resp.StatusCode, 201, "%v", body)
	gid := body.(map[string]any)["ID"].(string)
	resp, body = call(t, run, "PUT", base+"/groups/"+gid+"/members/"+id, "", nil)
	td.Cmp(t, resp.StatusCode, 200, "%v", body)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"Members": []any{id}}, nil))
	u, _ := run.Sim.User(ten, id)
	td.Cmp(t, u.Licenses, td.Contains(td.Struct(graphsim.License{AssignedByGroup: gid, State: "Active"}, nil)))
	resp, _ = call(t, run, "PUT", base+"/groups/"+gid+"/licenses", "", strings.NewReader(`[{"skuId":"POWER_BI_PRO","disabledPlans":[]},{"skuId":"VISIOCLIENT"}]`))
	td.Cmp(t, resp.StatusCode, 200)
	u, _ = run.Sim.User(ten, id)
	td.Cmp(t, u.Licenses, td.Contains(td.Struct(graphsim.License{SkuID: visio.SkuID, AssignedByGroup: gid, State: "Error", Error: "CountViolation"}, nil)))
	resp, _ = call(t, run, "DELETE", base+"/groups/"+gid+"/members/"+id, "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, body = call(t, run, "GET", base+"/groups", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.Len(3))

	// Bulk changes for benchmarks.
	resp, body = call(t, run, "POST", base+"/changes", "", strings.NewReader(`{"users":7}`))
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, map[string]any{"changed": td.Len(7)})

	// Soft delete, restore, permanent delete.
	resp, _ = call(t, run, "DELETE", base+"/users/"+id, "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "GET", "/v1.0/users/"+id, tok, nil)
	td.Cmp(t, resp.StatusCode, 404)
	deleted, _ := run.Sim.DeletedUsers(ten)
	td.Cmp(t, deleted, td.Len(1))
	resp, body = call(t, run, "POST", base+"/users/"+id+"/restore", "", nil)
	td.Cmp(t, resp.StatusCode, 200, "%v", body)
	resp, _ = call(t, run, "GET", "/v1.0/users/"+id, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "POST", base+"/users/"+id+"/restore", "", nil)
	td.Cmp(t, resp.StatusCode, 409, "not deleted")
	resp, _ = call(t, run, "DELETE", base+"/users/"+id+"?permanent=true", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "POST", base+"/users/"+id+"/restore", "", nil)
	td.Cmp(t, resp.StatusCode, 404)
	resp, _ = call(t, run, "DELETE", "/_sim/tenants/nope/users/"+id, "", nil)
	td.Cmp(t, resp.StatusCode, 404)
	resp, _ = call(t, run, "GET", base+"/nothing", "", nil)
	td.Cmp(t, resp.StatusCode, 404)

	// Reset forgets it all.
	resp, _ = call(t, run, "POST", "/_sim/reset", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	gs, _ := run.Sim.Groups(ten)
	td.Cmp(t, gs, td.Len(2))
	deleted, _ = run.Sim.DeletedUsers(ten)
	td.Cmp(t, deleted, td.Empty())
}

func TestLargeTenant(t *testing.T) {
	// The smallest size, and determinism.
	small := graphsim.LargeTenant(25)
	a, _ := graphsim.New(graphsim.Options{Seed: 5, Tenants: []graphsim.TenantSpec{small}}).Users(small.ID)
	b, _ := graphsim.New(graphsim.Options{Seed: 5, Tenants: []graphsim.TenantSpec{small}}).Users(small.ID)
	td.Cmp(t, a, b)
	td.Cmp(t, a, td.Len(26), "25 people and a Teams Rooms account")

	if testing.Short() {
		t.Skip("the 50,000-user tenant takes seconds")
	}
	spec := graphsim.LargeTenant(50_000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{spec}})
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("50,000-user tenant generated in %v, heap %.0f MB", took.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
	td.Cmp(t, took, td.Lt(10*time.Second), "linear: a quadratic step would take minutes")

	info := sim.Tenants()[0]
	td.Cmp(t, info.UserCount, 50_100)
	skus, _ := sim.SKUs(spec.ID)
	for i, k := range skus {
		_, known := catalog.Lookup(k.SkuID)
		td.Cmp(t, known, true, k.PartNumber)
		td.Cmp(t, k.Consumed, spec.SKUs[i].Assigned, k.PartNumber)
		td.Cmp(t, k.Consumed, td.Lte(k.Enabled), k.PartNumber)
	}
	gs, _ := sim.Groups(spec.ID)
	td.Cmp(t, gs, td.All(td.Len(2), td.ArrayEach(td.Struct(graphsim.Group{}, td.StructFields{"Members": td.Len(td.Gt(4000))}))))

	// Paging /users at $top=999: each page costs a binary search and the page, never a scan, so the last page
	// costs what the first does.
	run := sim.StartForTest(t)
	tok := accessToken(t, run, spec.ID)
	start = time.Now()
	seen := make(map[string]bool, info.UserCount)
	var pageTimes []time.Duration
	for next := run.URL + "/v1.0/users?$select=id,userPrincipalName,assignedLicenses,licenseAssignmentStates&$top=999"; next != ""; {
		req, _ := http.NewRequest("GET", next, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		resp, err := run.HTTPClient().Do(req)
		td.Require(t).CmpNoError(err)
		var page struct {
			Next  string `json:"@odata.nextLink"`
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		pageTimes = append(pageTimes, time.Since(t0))
		td.Require(t).CmpNoError(err)
		td.Require(t).Cmp(resp.StatusCode, 200)
		for _, v := range page.Value {
			if seen[v.ID] {
				t.Fatalf("user %s listed twice", v.ID)
			}
			seen[v.ID] = true
		}
		next = page.Next
	}
	t.Logf("50,100 users read in %d pages of 999 in %v (first page %v, last %v)", len(pageTimes),
		time.Since(start).Round(time.Millisecond), pageTimes[0].Round(time.Millisecond), pageTimes[len(pageTimes)-1].Round(time.Millisecond))
	td.Cmp(t, len(seen), info.UserCount)
	td.Cmp(t, pageTimes, td.Len(51))

	// A delta round over the same, and a round after 500 changes.
	start = time.Now()
	items, pages, link := deltaRound(t, run, tok, "/v1.0/users/delta?$select=id", "Prefer", "odata.maxpagesize=999")
	td.Cmp(t, len(items), info.UserCount)
	ids, err := sim.ChangeUsers(spec.ID, 500)
	td.Require(t).CmpNoError(err)
	items, _, _ = deltaRound(t, run, tok, link, "Prefer", "odata.maxpagesize=999")
	changed, _ := splitItems(items)
	td.Cmp(t, changed, ids)
	t.Logf("delta: first round %d pages, then 500 changes, in %v", pages, time.Since(start).Round(time.Millisecond))
}

func TestTenantIsolation(t *testing.T) {
	run := graphsim.StartForTest(t)
	tokA := accessToken(t, run, graphsim.ContosoDentalID)
	usersB, _ := run.Sim.Users(graphsim.FabrikamLegalID)

	// A's token, its tenant claim changed to B: the signature no longer matches.
	parts := strings.Split(tokA, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	td.Require(t).CmpNoError(err)
	var claims map[string]any
	td.Require(t).CmpNoError(json.Unmarshal(raw, &claims))
	td.Require(t).Cmp(claims["tid"], graphsim.ContosoDentalID)
	claims["tid"] = graphsim.FabrikamLegalID
	raw, _ = json.Marshal(claims)
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
	for _, path := range []string{"/v1.0/users", "/v1.0/users/" + usersB[0].ID, "/v1.0/users/delta", "/v1.0/subscribedSkus"} {
		resp, body := call(t, run, "GET", path, forged, nil)
		td.Cmp(t, resp.StatusCode, 401, path)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "InvalidAuthenticationToken"}, nil)}, nil))
	}

	// A's genuine token sees only A: B's user is not found, B's users are not listed.
	resp, body := call(t, run, "GET", "/v1.0/users/"+usersB[0].ID, tokA, nil)
	td.Cmp(t, resp.StatusCode, 404)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "Request_ResourceNotFound"}, nil)}, nil))
	resp, _ = call(t, run, "GET", "/v1.0/users/"+usersB[0].UserPrincipalName, tokA, nil)
	td.Cmp(t, resp.StatusCode, 404)
	items, _, _ := deltaRound(t, run, tokA, "/v1.0/users/delta?$select=id,userPrincipalName")
	for _, it := range items {
		td.Cmp(t, it["userPrincipalName"], td.HasSuffix("@contosodental.onmicrosoft.com"))
	}

	// Unknown paths: Graph's 404 JSON.
	for _, path := range []string{"/v1.0/me/nothing", "/v1.0/users/" + usersB[0].ID + "/nothing/here"} {
		resp, body = call(t, run, "GET", path, tokA, nil)
		td.Cmp(t, resp.StatusCode, 404, path)
		td.Cmp(t, resp.Header.Get("Content-Type"), td.HasPrefix("application/json"))
		td.Cmp(t, body, map[string]any{"error": map[string]any{"code": td.NotEmpty(), "message": td.NotEmpty(),
			"innerError": td.SuperMapOf(map[string]any{"request-id": td.NotEmpty(), "date": td.NotEmpty()}, nil)}})
	}
}
