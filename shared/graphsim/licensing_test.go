package graphsim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/graphsim"
)

// Licensing test tenant: small, with the SKUs the licence rules need.
const (
	licTenantID = "5e1f0c2a-7b3d-4c9e-8f1a-2b3c4d5e6f70"

	skuE3       = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3
	skuExchange = "4b9405b0-7788-4568-add1-99614e613b69" // EXCHANGESTANDARD
	skuPhone    = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV
	skuCalling  = "0dab259f-bf13-4952-b7f8-7db8f131b28d" // MCOPSTN1
	skuPowerBI  = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO

	planExchangeStandard = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
	planExchangeEnt      = "efb87545-963c-4e0d-99df-69c6916d9eb0"
	planSkypePlan2       = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c"
	planSkypePlan1       = "afc06cb0-b4f4-4473-8286-d644f70d8faf"
	planPhoneSystem      = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
	planTeams            = "57ff2da0-773e-42df-b2af-ffb7a2317929"
)

func licensingSpec() graphsim.TenantSpec {
	return graphsim.TenantSpec{ID: licTenantID, Name: "Northwind Licensing", Domain: "northwindlic.onmicrosoft.com",
		Users: 60, UsageLocation: "US", Country: "United States",
		SKUs: []graphsim.SKUSpec{
			{PartNumber: "SPE_E3", Enabled: 45, Assigned: 40, Base: true},
			{PartNumber: "EXCHANGESTANDARD", Enabled: 5, Base: true},
			{PartNumber: "MCOEV", Enabled: 10, Assigned: 4, Requires: "SPE_E3"},
			{PartNumber: "MCOPSTN1", Enabled: 5, Assigned: 2, Requires: "MCOEV"},
			{PartNumber: "POWER_BI_PRO", Enabled: 12, Assigned: 10},
		}}
}

func startLicensing(t *testing.T) (*graphsim.Running, string) {
	t.Helper()
	sim := graphsim.New(graphsim.Options{Seed: 11, Tenants: []graphsim.TenantSpec{licensingSpec()}})
	run := sim.StartForTest(t)
	return run, accessToken(t, run, licTenantID)
}

// holds reports whether u has a licence of sku, and whether a direct one.
func holds(u graphsim.User, sku string) (has, direct bool) {
	for _, l := range u.Licenses {
		if l.SkuID == sku {
			has = true
			direct = direct || l.AssignedByGroup == ""
		}
	}
	return has, direct
}

// pickUsers returns the users of a tenant that satisfy ok (at least min of them, or the test stops).
func pickUsers(t *testing.T, sim *graphsim.Sim, tenantID string, min int, ok func(u graphsim.User) bool) []graphsim.User {
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

func cleanE3(u graphsim.User) bool {
	return slices.ContainsFunc(u.Licenses, func(l graphsim.License) bool { return l.SkuID == skuE3 && len(l.DisabledPlans) == 0 })
}

func unlicensed(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation != "" }

func userByID(t *testing.T, sim *graphsim.Sim, tenantID, id string) graphsim.User {
	t.Helper()
	all, err := sim.Users(tenantID)
	td.Require(t).CmpNoError(err)
	for _, u := range all {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no user %s", id)
	return graphsim.User{}
}

func consumed(t *testing.T, sim *graphsim.Sim, tenantID, sku string) (consumed, enabled int) {
	t.Helper()
	skus, err := sim.SKUs(tenantID)
	td.Require(t).CmpNoError(err)
	for _, k := range skus {
		if k.SkuID == sku {
			return k.Consumed, k.Enabled
		}
	}
	t.Fatalf("no SKU %s", sku)
	return 0, 0
}

func assignBody(add []map[string]any, remove []string) io.Reader {
	b, _ := json.Marshal(map[string]any{"addLicenses": add, "removeLicenses": remove})
	return bytes.NewReader(b)
}

func gzipped(t *testing.T, r io.Reader) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := io.Copy(zw, r)
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(zw.Close())
	return &buf
}

func lic(sku string, disabled ...string) map[string]any {
	return map[string]any{"skuId": sku, "disabledPlans": append([]string{}, disabled...)}
}

// graphErr matches Graph's error body with a code and a message (a string or an operator).
func graphErr(code string, message any) td.TestDeep {
	return td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": code, "message": message}, nil)}, nil)
}

func TestAssignLicense(t *testing.T) {
	run, tok := startLicensing(t)
	sim := run.Sim
	post := func(user string, body io.Reader, hdr ...string) (*http.Response, any) {
		return call(t, run, "POST", "/v1.0/users/"+user+"/assignLicense", tok, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
	}
	free := pickUsers(t, sim, licTenantID, 3, unlicensed)
	noLocation := pickUsers(t, sim, licTenantID, 1, func(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation == "" })[0]
	e3Only := pickUsers(t, sim, licTenantID, 2, func(u graphsim.User) bool {
		has, _ := holds(u, skuPhone)
		return cleanE3(u) && !has && len(u.Licenses) == 1
	})
	phone := pickUsers(t, sim, licTenantID, 1, func(u graphsim.User) bool { has, _ := holds(u, skuPhone); return has && cleanE3(u) })[0]

	t.Run("gzip body, seat taken, user answered", func(t *testing.T) {
		before, _ := consumed(t, sim, licTenantID, skuPowerBI)
		resp, body := post(free[0].ID, gzipped(t, assignBody([]map[string]any{lic(skuPowerBI)}, []string{})), "Content-Encoding", "gzip")
		td.Require(t).Cmp(resp.StatusCode, 200, "%v", body)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{
			"@odata.context": run.URL + "/v1.0/$metadata#users/$entity", "id": free[0].ID, "userPrincipalName": free[0].UserPrincipalName,
		}, nil))
		td.Cmp(t, userByID(t, sim, licTenantID, free[0].ID).Licenses, td.Bag(td.Struct(graphsim.License{SkuID: skuPowerBI, State: "Active", Error: "None"},
			td.StructFields{"DisabledPlans": td.Empty(), "LastUpdated": td.NotZero()})))
		after, _ := consumed(t, sim, licTenantID, skuPowerBI)
		td.Cmp(t, after, before+1)
	})

	t.Run("a body labelled gzip that is not gzip", func(t *testing.T) {
		resp, body := post(free[1].ID, assignBody([]map[string]any{lic(skuPowerBI)}, []string{}), "Content-Encoding", "gzip")
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("BadRequest", td.Contains("gzip")))
		td.Cmp(t, userByID(t, sim, licTenantID, free[1].ID).Licenses, td.Empty(), "nothing applied")
	})

	t.Run("malformed requests", func(t *testing.T) {
		resp, body := post(free[1].ID, strings.NewReader(`{"addLicenses":[{"skuId":"`+skuPowerBI+`","disabledPlans":[]}]}`))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", "Invalid value specified for property 'removeLicenses' of resource 'User'."))
		resp, _ = post(free[1].ID, strings.NewReader(`{"removeLicenses":[]}`))
		td.Cmp(t, resp.StatusCode, 400, "addLicenses is required too")
		resp, body = post(free[1].ID, strings.NewReader(`{"addLicenses":[`))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("BadRequest", td.HasPrefix("Unable to read JSON request payload")))
		resp, _ = post(free[1].ID, assignBody([]map[string]any{lic(skuPowerBI, "not-a-plan")}, []string{}))
		td.Cmp(t, resp.StatusCode, 400, "a disabled plan the SKU does not have")
		resp, _ = post(free[1].ID, assignBody([]map[string]any{lic(skuPowerBI)}, []string{skuPowerBI}))
		td.Cmp(t, resp.StatusCode, 400, "added and removed at once")
		td.Cmp(t, userByID(t, sim, licTenantID, free[1].ID).Licenses, td.Empty())
	})

	t.Run("unknown user and SKU", func(t *testing.T) {
		resp, body := post("00000000-0000-4000-8000-000000000001", assignBody([]map[string]any{lic(skuPowerBI)}, []string{}))
		td.Cmp(t, resp.StatusCode, 404)
		td.Cmp(t, body, graphErr("Request_ResourceNotFound", td.Contains("00000000-0000-4000-8000-000000000001")))
		const notSubscribed = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46" // SPB, a real SKU this tenant lacks
		resp, body = post(free[1].ID, assignBody([]map[string]any{lic(notSubscribed)}, []string{}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", "License "+notSubscribed+" does not correspond to a valid company License."))
	})

	t.Run("usage location", func(t *testing.T) {
		resp, body := post(noLocation.ID, assignBody([]map[string]any{lic(skuPowerBI)}, []string{}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", "License assignment cannot be done for user with invalid usage location."))
	})

	t.Run("no seats", func(t *testing.T) {
		used, enabled := consumed(t, sim, licTenantID, skuPowerBI)
		td.Require(t).CmpNoError(sim.SetPrepaid(licTenantID, skuPowerBI, used))
		t.Cleanup(func() { _ = sim.SetPrepaid(licTenantID, skuPowerBI, enabled) })
		resp, body := post(free[2].ID, assignBody([]map[string]any{lic(skuPowerBI)}, []string{}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", td.All(td.Contains("does not have any available licenses"), td.Contains(skuPowerBI))))
		after, _ := consumed(t, sim, licTenantID, skuPowerBI)
		td.Cmp(t, after, used)
	})

	t.Run("mutually exclusive plans", func(t *testing.T) {
		resp, body := post(e3Only[0].ID, assignBody([]map[string]any{lic(skuExchange)}, []string{}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", "License assignment failed because service plans "+planExchangeStandard+","+planExchangeEnt+" are mutually exclusive."))
		// With E3's mailbox switched off, Exchange Online Plan 1 is fine.
		resp, body = post(e3Only[0].ID, assignBody([]map[string]any{lic(skuE3, planExchangeEnt), lic(skuExchange)}, []string{}))
		td.Cmp(t, resp.StatusCode, 200, "%v", body)
	})

	t.Run("dependencies", func(t *testing.T) {
		resp, body := post(free[2].ID, assignBody([]map[string]any{lic(skuPhone)}, []string{}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", "License assignment failed because service plan "+planPhoneSystem+" depends on the service plan(s) "+planSkypePlan2+","+planSkypePlan1))
		// Removing the base, or switching its Skype plan off, under Teams Phone is refused too.
		resp, body = post(phone.ID, assignBody([]map[string]any{}, []string{skuE3}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", td.Contains("service plan "+planPhoneSystem+" depends on")))
		resp, _ = post(phone.ID, assignBody([]map[string]any{lic(skuE3, planSkypePlan2)}, []string{}))
		td.Cmp(t, resp.StatusCode, 400)
		// Base and add-on together are fine.
		resp, body = post(free[2].ID, assignBody([]map[string]any{lic(skuE3), lic(skuPhone)}, []string{}))
		td.Cmp(t, resp.StatusCode, 200, "%v", body)
	})

	t.Run("not assigned", func(t *testing.T) {
		resp, body := post(e3Only[1].ID, assignBody([]map[string]any{}, []string{skuPowerBI}))
		td.Cmp(t, resp.StatusCode, 400)
		td.Cmp(t, body, graphErr("Request_BadRequest", td.Contains("does not have a corresponding license")))
	})

	t.Run("disabling a plan is re-adding the SKU", func(t *testing.T) {
		used, _ := consumed(t, sim, licTenantID, skuE3)
		resp, body := post(e3Only[1].ID, assignBody([]map[string]any{lic(skuE3, planTeams)}, []string{}))
		td.Require(t).Cmp(resp.StatusCode, 200, "%v", body)
		td.Cmp(t, userByID(t, sim, licTenantID, e3Only[1].ID).Licenses, td.Bag(td.Struct(graphsim.License{SkuID: skuE3, DisabledPlans: []string{planTeams}}, nil)))
		after, _ := consumed(t, sim, licTenantID, skuE3)
		td.Cmp(t, after, used, "no extra seat")

		_, body = call(t, run, "GET", "/v1.0/users/"+e3Only[1].ID+"/licenseDetails", tok, nil)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{
			"@odata.context": run.URL + "/v1.0/$metadata#users('" + e3Only[1].ID + "')/licenseDetails",
			"value": []any{td.SuperMapOf(map[string]any{
				"id": td.Re(`^[\w-]{43}$`), "skuId": skuE3, "skuPartNumber": "SPE_E3",
				"servicePlans": td.All(td.Len(50),
					td.Contains(map[string]any{"servicePlanId": planTeams, "servicePlanName": "TEAMS1", "provisioningStatus": "Disabled", "appliesTo": "User"}),
					td.Contains(td.SuperMapOf(map[string]any{"servicePlanId": planExchangeEnt, "provisioningStatus": "Success"}, nil))),
			}, nil)},
		}, nil))

		// And back on.
		resp, _ = post(e3Only[1].ID, assignBody([]map[string]any{lic(skuE3)}, []string{}))
		td.Cmp(t, resp.StatusCode, 200)
		td.Cmp(t, userByID(t, sim, licTenantID, e3Only[1].ID).Licenses, td.Bag(td.Struct(graphsim.License{SkuID: skuE3}, td.StructFields{"DisabledPlans": td.Empty()})))
	})

	t.Run("remove", func(t *testing.T) {
		used, _ := consumed(t, sim, licTenantID, skuPowerBI)
		resp, body := post(free[0].ID, assignBody([]map[string]any{}, []string{skuPowerBI}))
		td.Cmp(t, resp.StatusCode, 200, "%v", body)
		td.Cmp(t, userByID(t, sim, licTenantID, free[0].ID).Licenses, td.Empty())
		after, _ := consumed(t, sim, licTenantID, skuPowerBI)
		td.Cmp(t, after, used-1)
	})
}

func TestLicenseDetails(t *testing.T) {
	run, tok := startLicensing(t)
	u := pickUsers(t, run.Sim, licTenantID, 1, func(u graphsim.User) bool { has, _ := holds(u, skuCalling); return has })[0]
	resp, body := call(t, run, "GET", "/v1.0/users/"+u.UserPrincipalName+"/licenseDetails", tok, nil)
	td.Require(t).Cmp(resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.All(td.Len(len(u.Licenses)), td.ArrayEach(td.SuperMapOf(map[string]any{
		"id": td.NotEmpty(), "skuId": td.Re(`^[0-9a-f-]{36}$`), "skuPartNumber": td.NotEmpty(),
		"servicePlans": td.ArrayEach(map[string]any{"servicePlanId": td.Re(`^[0-9a-f-]{36}$`), "servicePlanName": td.NotEmpty(),
			"provisioningStatus": td.Any("Success", "Disabled"), "appliesTo": "User"}),
	}, nil)))}, nil))
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.Contains(td.SuperMapOf(map[string]any{"skuId": skuCalling, "skuPartNumber": "MCOPSTN1"}, nil))}, nil))

	_, body = call(t, run, "GET", "/v1.0/users/"+u.ID+"/licenseDetails?$select=skuId", tok, nil)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.ArrayEach(td.Keys(td.Bag("skuId")))}, nil))
	resp, body = call(t, run, "GET", "/v1.0/users/00000000-0000-4000-8000-000000000001/licenseDetails", tok, nil)
	td.Cmp(t, resp.StatusCode, 404)
	td.Cmp(t, body, graphErr("Request_ResourceNotFound", td.NotEmpty()))
	resp, _ = call(t, run, "GET", "/v1.0/users/"+u.ID+"/licenseDetails?$filter=x", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
}

// TestSeatRace: many clients race for the last free seats; exactly as many win as there were seats.
func TestSeatRace(t *testing.T) {
	run, tok := startLicensing(t)
	used, enabled := consumed(t, run.Sim, licTenantID, skuPowerBI)
	freeSeats := enabled - used
	td.Require(t).Cmp(freeSeats, td.Between(1, 5))
	racers := pickUsers(t, run.Sim, licTenantID, 20, func(u graphsim.User) bool { has, _ := holds(u, skuPowerBI); return !has && u.UsageLocation != "" })

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
	)
	start := make(chan struct{})
	for _, u := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, body := call(t, run, "POST", "/v1.0/users/"+u.ID+"/assignLicense", tok, assignBody([]map[string]any{lic(skuPowerBI)}, []string{}), "Content-Type", "application/json")
			if resp.StatusCode == 400 {
				td.Cmp(t, body, graphErr("Request_BadRequest", td.Contains("does not have any available licenses")))
			}
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	td.Cmp(t, codes, map[int]int{200: freeSeats, 400: len(racers) - freeSeats})
	after, _ := consumed(t, run.Sim, licTenantID, skuPowerBI)
	td.Cmp(t, after, enabled, "every seat taken, none beyond")
}

func TestFaultTimes(t *testing.T) {
	run, tok := startLicensing(t)
	td.Require(t).CmpNoError(run.Sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/subscribedSkus", Rate429: 1, RetryAfterSeconds: 3, Times: 2}))
	var codes []int
	for range 4 {
		resp, _ := call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
		codes = append(codes, resp.StatusCode)
	}
	td.Cmp(t, codes, []int{429, 429, 200, 200})
	td.Cmp(t, run.Sim.Faults(), td.Empty(), "the rule removed itself")
	td.CmpError(t, run.Sim.SetFaults(graphsim.Faults{Rate429: 1, Times: -1}))
	resp, _ := call(t, run, "PUT", "/_sim/faults", "", strings.NewReader(fmt.Sprintf(`{"endpoint":"/v1.0/users","rate503":1,"times":%d}`, 1)))
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "GET", "/v1.0/users", tok, nil)
	td.Cmp(t, resp.StatusCode, 503)
	resp, _ = call(t, run, "GET", "/v1.0/users", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
}
