package graphsim_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// call does one request against the simulator and decodes the JSON answer (if any) into a generic value.
func call(t *testing.T, run *graphsim.Running, method, path, bearer string, body io.Reader, hdr ...string) (*http.Response, any) {
	t.Helper()
	req, err := http.NewRequest(method, run.URL+path, body)
	td.Require(t).CmpNoError(err)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := run.HTTPClient().Do(req)
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	td.Require(t).CmpNoError(err)
	var v any
	if len(raw) > 0 {
		td.Require(t).CmpNoError(json.Unmarshal(raw, &v), "body: %s", raw)
	}
	return resp, v
}

func tokenRequest(t *testing.T, run *graphsim.Running, tenant, secret string) (*http.Response, any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {graphsim.ClientID},
		"client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	return call(t, run, "POST", "/"+tenant+"/oauth2/v2.0/token", "", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
}

func accessToken(t *testing.T, run *graphsim.Running, tenant string) string {
	t.Helper()
	resp, body := tokenRequest(t, run, tenant, graphsim.ClientSecret)
	td.Require(t).Cmp(resp.StatusCode, 200, "token: %v", body)
	return body.(map[string]any)["access_token"].(string)
}

func TestDemoTenants(t *testing.T) {
	sim := graphsim.New(graphsim.Options{})
	infos := sim.Tenants()
	td.Cmp(t, infos, td.Len(2))
	td.Cmp(t, infos, td.SuperBagOf(
		td.Struct(graphsim.TenantInfo{ID: graphsim.ContosoDentalID, Name: "Contoso Dental"}, td.StructFields{"UserCount": td.Between(25, 200)}),
		td.Struct(graphsim.TenantInfo{ID: graphsim.FabrikamLegalID, Name: "Fabrikam Legal"}, td.StructFields{"UserCount": td.Between(25, 200)}),
	))

	for _, info := range infos {
		skus, err := sim.SKUs(info.ID)
		td.Require(t).CmpNoError(err)
		users, err := sim.Users(info.ID)
		td.Require(t).CmpNoError(err)
		holders := map[string]int{}
		for _, u := range users {
			td.Cmp(t, u.UserPrincipalName, td.HasSuffix("@"+info.Domain))
			seen := map[string]bool{}
			for _, l := range u.Licenses {
				if !seen[l.SkuID] {
					holders[l.SkuID]++
					seen[l.SkuID] = true
				}
			}
			if len(u.Licenses) > 0 {
				td.Cmp(t, u.UsageLocation, td.Len(2), "licensed users have a usage location: %s", u.UserPrincipalName)
			}
		}
		for _, k := range skus {
			p, ok := catalog.Lookup(k.SkuID)
			td.Cmp(t, ok, true, "%s: %s is in the catalogue", info.Name, k.PartNumber)
			td.Cmp(t, p.PartNumber, k.PartNumber)
			td.Cmp(t, k.ServicePlans, td.NotEmpty(), "%s has service plans", k.PartNumber)
			td.Cmp(t, k.Consumed, holders[k.SkuID], "%s %s consumedUnits = holders", info.Name, k.PartNumber)
			td.Cmp(t, k.ID, info.ID+"_"+k.SkuID)
		}
	}

	skus, _ := sim.SKUs(graphsim.ContosoDentalID)
	td.Cmp(t, skus, td.Contains(td.Struct(graphsim.SKU{SkuID: "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", PartNumber: "SPB", Enabled: 50, Consumed: 42}, nil)))
	skus, _ = sim.SKUs(graphsim.FabrikamLegalID)
	td.Cmp(t, skus, td.Contains(td.Struct(graphsim.SKU{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", Consumed: 92}, nil)))
	td.Cmp(t, skus, td.Contains(td.Struct(graphsim.SKU{PartNumber: "VISIOCLIENT", Enabled: 5, Consumed: 6}, nil)), "an over-used SKU")
}

func TestDeterministic(t *testing.T) {
	a, _ := graphsim.New(graphsim.Options{Seed: 7}).Users(graphsim.FabrikamLegalID)
	b, _ := graphsim.New(graphsim.Options{Seed: 7}).Users(graphsim.FabrikamLegalID)
	c, _ := graphsim.New(graphsim.Options{Seed: 8}).Users(graphsim.FabrikamLegalID)
	td.Cmp(t, a, b)
	td.CmpNot(t, a[0].ID, c[0].ID)
}

func TestAddTenantErrors(t *testing.T) {
	sim := graphsim.New(graphsim.Options{})
	td.CmpError(t, sim.AddTenant(graphsim.DemoTenants()[0]), "duplicate id")
	td.CmpError(t, sim.AddTenant(graphsim.TenantSpec{ID: "x", Domain: "bad/domain"}))
	td.CmpNoError(t, sim.AddTenant(graphsim.TenantSpec{ID: "11111111-2222-4333-8444-555555555555", Name: "Big", Domain: "big.onmicrosoft.com", Users: 1500,
		SKUs: []graphsim.SKUSpec{{PartNumber: "SPE_E3", Enabled: 1500, Assigned: 1400, Base: true}, {PartNumber: "NOT_A_REAL_SKU", Enabled: 3}}}))
	skus, err := sim.SKUs("big.onmicrosoft.com")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, skus, td.Len(2))
	td.Cmp(t, skus[0].Consumed, 1400)
	td.Cmp(t, skus[1].SkuID, td.Re(`^[0-9a-f-]{36}$`), "unknown part numbers get a derived skuId")
	_, err = sim.SKUs("nope")
	td.Cmp(t, errors.Is(err, graphsim.ErrNotFound), true)
}

func TestIdentity(t *testing.T) {
	run := graphsim.StartForTest(t)

	resp, body := call(t, run, "GET", "/"+graphsim.ContosoDentalID+"/v2.0/.well-known/openid-configuration", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{
		"issuer":                 run.URL + "/" + graphsim.ContosoDentalID + "/v2.0",
		"token_endpoint":         run.URL + "/" + graphsim.ContosoDentalID + "/oauth2/v2.0/token",
		"authorization_endpoint": run.URL + "/" + graphsim.ContosoDentalID + "/oauth2/v2.0/authorize",
		"jwks_uri":               run.URL + "/" + graphsim.ContosoDentalID + "/discovery/v2.0/keys",
	}, nil))

	resp, body = call(t, run, "GET", "/00000000-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration", "", nil)
	td.Cmp(t, resp.StatusCode, 400)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error_description": td.HasPrefix("AADSTS90002:")}, nil))

	resp, body = tokenRequest(t, run, graphsim.ContosoDentalID, graphsim.ClientSecret)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, map[string]any{"token_type": "Bearer", "expires_in": 3599.0, "ext_expires_in": 3599.0, "access_token": td.NotEmpty()})

	resp, body = tokenRequest(t, run, graphsim.ContosoDentalID, "wrong")
	td.Cmp(t, resp.StatusCode, 401)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": "invalid_client", "error_description": td.HasPrefix("AADSTS7000215:"), "error_codes": []any{7000215.0}}, nil))

	resp, body = tokenRequest(t, run, "00000000-0000-4000-8000-000000000000", graphsim.ClientSecret)
	td.Cmp(t, resp.StatusCode, 400)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error_description": td.HasPrefix("AADSTS90002:")}, nil))

	td.CmpNoError(t, run.Sim.RevokeConsent(graphsim.ContosoDentalID))
	resp, body = tokenRequest(t, run, graphsim.ContosoDentalID, graphsim.ClientSecret)
	td.Cmp(t, resp.StatusCode, 400)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": "unauthorized_client", "error_description": td.HasPrefix("AADSTS7000229:")}, nil))
	// The other tenant is not affected.
	resp, _ = tokenRequest(t, run, graphsim.FabrikamLegalID, graphsim.ClientSecret)
	td.Cmp(t, resp.StatusCode, 200)
}

func TestGraphAuthAndErrors(t *testing.T) {
	run := graphsim.StartForTest(t)

	resp, body := call(t, run, "GET", "/v1.0/users", "", nil, "client-request-id", "my-id")
	td.Cmp(t, resp.StatusCode, 401)
	td.Cmp(t, resp.Header.Get("request-id"), td.Re(`^[0-9a-f-]{36}$`))
	td.Cmp(t, resp.Header.Get("client-request-id"), "my-id")
	td.Cmp(t, body, map[string]any{"error": map[string]any{
		"code": "InvalidAuthenticationToken", "message": td.NotEmpty(),
		"innerError": map[string]any{"date": td.NotEmpty(), "request-id": resp.Header.Get("request-id"), "client-request-id": "my-id"},
	}})

	resp, _ = call(t, run, "GET", "/v1.0/users", "not.a.token", nil)
	td.Cmp(t, resp.StatusCode, 401)

	tok := accessToken(t, run, graphsim.ContosoDentalID)
	resp, body = call(t, run, "GET", "/v1.0/nothingHere", tok, nil)
	td.Cmp(t, resp.StatusCode, 404)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": td.NotEmpty(), "message": td.NotEmpty()}, nil)}, nil))
	td.Cmp(t, resp.Header.Get("request-id"), td.NotEmpty())
	td.Cmp(t, resp.Header.Get("client-request-id"), td.NotEmpty())

	resp, _ = call(t, run, "GET", "/nowhere", "", nil)
	td.Cmp(t, resp.StatusCode, 404)

	resp, body = call(t, run, "GET", "/v1.0/users?$top=1000", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{
		"message": "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."}, nil)}, nil))
	resp, _ = call(t, run, "GET", "/v1.0/users?$top=0", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
	resp, _ = call(t, run, "GET", "/v1.0/users?$top=999", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "GET", "/v1.0/users?$skip=5", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
	resp, body = call(t, run, "GET", "/v1.0/users?$select=id,shoeSize", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"message": td.Contains("shoeSize")}, nil)}, nil))
	resp, _ = call(t, run, "GET", "/v1.0/users/no-such-user", tok, nil)
	td.Cmp(t, resp.StatusCode, 404)
	resp, _ = call(t, run, "DELETE", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, resp.StatusCode, 405)

	// A revoked tenant's existing tokens are refused too.
	td.CmpNoError(t, run.Sim.RevokeConsent(graphsim.ContosoDentalID))
	resp, _ = call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, resp.StatusCode, 401)
	td.CmpNoError(t, run.Sim.RestoreConsent(graphsim.ContosoDentalID))
	resp, _ = call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
}

func TestSubscribedSkus(t *testing.T) {
	run := graphsim.StartForTest(t)
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	resp, body := call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Require(t).Cmp(resp.StatusCode, 200)
	td.Cmp(t, resp.Header.Get("Content-Type"), td.HasPrefix("application/json"))
	td.Cmp(t, body, td.SuperMapOf(map[string]any{
		"@odata.context": run.URL + "/v1.0/$metadata#subscribedSkus",
		"value": td.All(td.Len(7), td.ArrayEach(td.SuperMapOf(map[string]any{
			"id": td.HasPrefix(graphsim.FabrikamLegalID + "_"), "accountId": graphsim.FabrikamLegalID, "accountName": "Fabrikam Legal",
			"appliesTo": "User", "capabilityStatus": td.NotEmpty(), "consumedUnits": td.Gte(0.0),
			"prepaidUnits":    td.SuperMapOf(map[string]any{"enabled": td.Gte(0.0), "suspended": 0.0, "warning": td.Gte(0.0), "lockedOut": 0.0}, nil),
			"servicePlans":    td.ArrayEach(map[string]any{"servicePlanId": td.Re(`^[0-9a-f-]{36}$`), "servicePlanName": td.NotEmpty(), "provisioningStatus": "Success", "appliesTo": "User"}),
			"skuId":           td.Re(`^[0-9a-f-]{36}$`),
			"skuPartNumber":   td.NotEmpty(),
			"subscriptionIds": td.Len(1),
		}, nil))),
	}, nil))
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.Contains(td.SuperMapOf(map[string]any{
		"skuPartNumber": "ENTERPRISEPACK", "skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "consumedUnits": 92.0}, nil))}, nil))

	td.CmpNoError(t, run.Sim.SetPrepaid(graphsim.FabrikamLegalID, "ENTERPRISEPACK", 80))
	_, body = call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.Contains(td.SuperMapOf(map[string]any{
		"skuPartNumber": "ENTERPRISEPACK", "prepaidUnits": td.SuperMapOf(map[string]any{"enabled": 80.0}, nil), "consumedUnits": 92.0}, nil))}, nil))
}

func TestUsersPagingAndSelect(t *testing.T) {
	run := graphsim.StartForTest(t)
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	want, _ := run.Sim.Users(graphsim.FabrikamLegalID)

	seen := map[string]int{}
	pages := 0
	next := "/v1.0/users?$select=id,userPrincipalName,assignedLicenses,licenseAssignmentStates,usageLocation&$top=40"
	for next != "" {
		resp, body := call(t, run, "GET", next, tok, nil)
		td.Require(t).Cmp(resp.StatusCode, 200, "%v", body)
		m := body.(map[string]any)
		pages++
		if pages == 1 {
			td.Cmp(t, m["@odata.context"], run.URL+"/v1.0/$metadata#users(id,userPrincipalName,assignedLicenses,licenseAssignmentStates,usageLocation)")
		}
		for _, v := range m["value"].([]any) {
			u := v.(map[string]any)
			td.Cmp(t, u, td.Keys(td.Bag("id", "userPrincipalName", "assignedLicenses", "licenseAssignmentStates", "usageLocation")))
			seen[u["id"].(string)]++
		}
		next = ""
		if l, ok := m["@odata.nextLink"].(string); ok {
			td.Cmp(t, l, td.All(td.HasPrefix(run.URL+"/v1.0/users?"), td.Contains("$skiptoken="), td.Contains("$top=40")))
			next = strings.TrimPrefix(l, run.URL)
		}
	}
	td.Cmp(t, pages, (len(want)+39)/40)
	td.Cmp(t, len(seen), len(want))
	for _, u := range want {
		td.Cmp(t, seen[u.ID], 1, "user %s listed once", u.UserPrincipalName)
	}

	// Default property set, and lookups by id and by userPrincipalName.
	_, body := call(t, run, "GET", "/v1.0/users?$top=1", tok, nil)
	first := body.(map[string]any)["value"].([]any)[0].(map[string]any)
	td.Cmp(t, first, td.Keys(td.Bag("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")))
	resp, body := call(t, run, "GET", "/v1.0/users/"+want[0].ID+"?$select=id,displayName", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, map[string]any{"@odata.context": run.URL + "/v1.0/$metadata#users(id,displayName)/$entity", "id": want[0].ID, "displayName": want[0].DisplayName})
	resp, body = call(t, run, "GET", "/v1.0/users/"+want[1].UserPrincipalName+"?$select=id", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"id": want[1].ID}, nil))

	resp, _ = call(t, run, "GET", "/v1.0/users?$skiptoken=garbage", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
}

func TestFaultsStatsReset(t *testing.T) {
	run := graphsim.StartForTest(t)
	tok := accessToken(t, run, graphsim.ContosoDentalID)

	resp, body := call(t, run, "PUT", "/_sim/faults", "", strings.NewReader(`{"rate429":1,"retryAfterSeconds":2}`))
	td.Require(t).Cmp(resp.StatusCode, 200, "%v", body)
	resp, body = call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, resp.StatusCode, 429)
	td.Cmp(t, resp.Header.Get("Retry-After"), "2")
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "TooManyRequests"}, nil)}, nil))
	// Global faults never touch the token endpoint.
	resp, _ = tokenRequest(t, run, graphsim.ContosoDentalID, graphsim.ClientSecret)
	td.Cmp(t, resp.StatusCode, 200)

	// A targeted rule wins over the global one for its prefix, and can reach the token endpoint.
	td.CmpNoError(t, run.Sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users", Rate503: 1}))
	td.CmpNoError(t, run.Sim.SetFaults(graphsim.Faults{Endpoint: "/" + graphsim.ContosoDentalID + "/oauth2", Rate503: 1}))
	resp, body = call(t, run, "GET", "/v1.0/users", tok, nil)
	td.Cmp(t, resp.StatusCode, 503)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "ServiceUnavailable"}, nil)}, nil))
	resp, _ = tokenRequest(t, run, graphsim.ContosoDentalID, graphsim.ClientSecret)
	td.Cmp(t, resp.StatusCode, 503)

	resp, _ = call(t, run, "PUT", "/_sim/faults", "", strings.NewReader(`{"rate429":2}`))
	td.Cmp(t, resp.StatusCode, 400)
	resp, _ = call(t, run, "PUT", "/_sim/faults", "", strings.NewReader(`{"rate429":0.1,"bogus":1}`))
	td.Cmp(t, resp.StatusCode, 400)

	st := run.Sim.Stats()
	td.Cmp(t, st.Count("GET /v1.0/subscribedSkus", 429), 1)
	td.Cmp(t, st.Count("GET /v1.0/users", 503), 1)
	td.Cmp(t, st.Count("POST /{tenant}/oauth2/v2.0/token", 200), 2)
	td.Cmp(t, st.Count("POST /{tenant}/oauth2/v2.0/token", 503), 1)
	_, body = call(t, run, "GET", "/_sim/stats", "", nil)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"total": float64(st.Total), "requests": td.SuperMapOf(map[string]any{
		"GET /v1.0/subscribedSkus": map[string]any{"429": 1.0}}, nil)}, nil))

	td.CmpNoError(t, run.Sim.RevokeConsent(graphsim.FabrikamLegalID))
	td.CmpNoError(t, run.Sim.SetPrepaid(graphsim.ContosoDentalID, "SPB", 1))
	resp, _ = call(t, run, "POST", "/_sim/reset", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, run.Sim.Stats(), graphsim.Stats{Total: 0, Requests: map[string]map[int]int{}})
	td.Cmp(t, run.Sim.Faults(), td.Empty())
	_, body = call(t, run, "GET", "/_sim/tenants", "", nil)
	td.Cmp(t, body, td.Bag(
		td.SuperMapOf(map[string]any{"id": graphsim.ContosoDentalID, "name": "Contoso Dental", "domain": "contosodental.onmicrosoft.com", "userCount": td.Gte(25.0), "skuCount": 6.0}, nil),
		td.SuperMapOf(map[string]any{"id": graphsim.FabrikamLegalID, "consentRevoked": false}, nil),
	))
	resp, _ = call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, resp.StatusCode, 200, "faults are off after reset, tokens stay valid")
	skus, _ := run.Sim.SKUs(graphsim.ContosoDentalID)
	td.Cmp(t, skus, td.Contains(td.Struct(graphsim.SKU{PartNumber: "SPB", Enabled: 50}, nil)))

	// Consent over HTTP.
	resp, _ = call(t, run, "PUT", "/_sim/tenants/"+graphsim.ContosoDentalID+"/consent", "", strings.NewReader(`{"revoked":true}`))
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
	td.Cmp(t, resp.StatusCode, 401)
	resp, _ = call(t, run, "PUT", "/_sim/tenants/nope/consent", "", strings.NewReader(`{"revoked":true}`))
	td.Cmp(t, resp.StatusCode, 404)
}

func TestFaultRatesAreSeeded(t *testing.T) {
	sample := func() []int {
		sim := graphsim.New(graphsim.Options{Seed: 42})
		run := sim.StartForTest(t)
		tok := accessToken(t, run, graphsim.ContosoDentalID)
		td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Rate429: 0.3, Rate503: 0.1}))
		var codes []int
		for range 40 {
			resp, _ := call(t, run, "GET", "/v1.0/subscribedSkus", tok, nil)
			codes = append(codes, resp.StatusCode)
		}
		return codes
	}
	a := sample()
	td.Cmp(t, a, sample(), "same seed, same faults")
	td.Cmp(t, a, td.Contains(429))
	td.Cmp(t, a, td.Contains(200))
}

func TestStartErrors(t *testing.T) {
	run := graphsim.StartForTest(t)
	_, err := graphsim.Start(strings.TrimPrefix(run.URL, "https://"))
	td.Cmp(t, errors.Is(err, syscall.EADDRINUSE), true, "port in use: %v", err)

	path := filepath.Join(t.TempDir(), "sub", "ca.pem")
	td.CmpNoError(t, run.WriteCAFile(path))
	b, err := os.ReadFile(path)
	td.CmpNoError(t, err)
	td.Cmp(t, string(b), td.HasPrefix("-----BEGIN CERTIFICATE-----"))

	// localhost is in the certificate too.
	resp, err := run.HTTPClient().Get(strings.Replace(run.URL, "127.0.0.1", "localhost", 1) + "/_sim/tenants")
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, 200)
}
