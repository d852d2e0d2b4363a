package httpapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/graphsim"
)

// TestStagingAndOnboarding drives staging through the API: the customer's switches, staging by hand, the list and
// the onboarding live view, "Un-stage now" before and after the user appears in Teams (then placed on the site by
// its criteria, given the site's template and a number from its inventory), removal, and onboarding.
func TestStagingAndOnboarding(t *testing.T) {
	p := newProvAPI(t) // users appear in Teams an hour after being licensed, until the test says otherwise
	admin, viewer := p.adminH(), p.viewerH()
	dee := p.addUser("Dee New", "Leeds", "ENTERPRISEPACK")
	eve := p.addUser("Eve New", "Leeds", "ENTERPRISEPACK")
	fay := p.addUser("Fay New", "York", "ENTERPRISEPACK")
	gil := p.addUser("Gil Nolicence", "York")
	td.Require(t).CmpNoError(p.sim.AddNumbers(provTenant,
		graphsim.PhoneNumber{TelephoneNumber: "+441134960010", NumberType: graphsim.NumberDirectRouting},
		graphsim.PhoneNumber{TelephoneNumber: "+441134960011", NumberType: graphsim.NumberDirectRouting}))
	p.syncNow()

	var phone, leeds, hq string
	p.PostJSON(p.path("/templates"), map[string]any{"name": "Phone", "licences": []any{map[string]any{"skuId": licSKU("MCOEV")}}}, admin).
		CmpStatus(201).CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&phone, td.NotEmpty())))
	p.PostJSON(p.path("/sites"), map[string]any{"name": "Leeds", "order": 1, "templateId": phone, "allowStaging": true,
		"criteria":     []any{map[string]any{"field": "city", "value": "leeds"}},
		"numberPolicy": map[string]any{"assign": true, "type": "directRouting"}}, admin).
		CmpStatus(201).CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&leeds, td.NotEmpty())))
	p.PostJSON(p.path("/sites"), map[string]any{"name": "Head office", "order": 2, "default": true, "allowStaging": true}, admin).
		CmpStatus(201).CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&hq, td.NotEmpty())))
	p.PostJSON(p.path("/numbers"), map[string]any{"from": "+441134960010", "to": "+441134960011", "type": "directRouting", "siteId": leeds}, admin).
		CmpStatus(201)

	// Staging needs both of the customer's switches.
	p.PostJSON(p.path("/staging"), map[string]any{"userId": dee}, admin).CmpStatus(409).CmpJSONBody(errConflict("Manage Licenses"))
	p.PutJSON(p.path("/settings"), map[string]any{"manageLicenses": true, "allowStaging": true, "defaultUsageLocation": "GB",
		"stagingLimitMinutes": 0, "quarantineDays": 30, "version": 0}, admin).CmpStatus(200)

	// Stage by hand.
	p.PostJSON(p.path("/staging"), map[string]any{}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"userId":$1}`, td.HasPrefix("required"))))
	p.PostJSON(p.path("/staging"), map[string]any{"userId": dee, "siteId": leeds}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"siteId":"unknown field"}`)))
	p.PostJSON(p.path("/staging"), map[string]any{"userId": "nobody"}, admin).CmpStatus(404)
	p.PostJSON(p.path("/staging"), map[string]any{"userId": dee}, viewer).CmpStatus(403)
	staged := td.SuperJSONOf(`{"userId":$1,"displayName":"Dee New","status":"staged","reason":"staged by hand",
		"actor":"user-customer-admin","version":$2,"stagedAt":$3,"deadline":$3}`, dee, td.Gte(1), td.NotEmpty())
	p.PostJSON(p.path("/staging"), map[string]any{"userId": dee}, admin).CmpStatus(200).CmpJSONBody(staged)
	p.PostJSON(p.path("/staging"), map[string]any{"userId": dee}, admin).CmpStatus(200).CmpJSONBody(staged) // already staged: as is

	// The list, filtered; and the onboarding live view (?users=), in the order asked, without users never staged.
	p.Get(p.path("/staging"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1],"nextCursor":""}`, staged))
	p.Get(p.path("/staging?status=active"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1],"nextCursor":""}`, staged))
	p.Get(p.path("/staging?status=provisioned"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[],"nextCursor":""}`))
	p.Get(p.path("/staging?status=waiting"), viewer).CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"status":$1}`, td.NotEmpty())))
	p.Get(p.path("/staging?users="+strings.ToUpper(eve)+","+dee), viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1],"nextCursor":""}`, staged))
	p.Get(p.path("/staging?users="+dee+"&status=active"), viewer).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"users":"cannot be combined with status or cursor"}`)))
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("u%d", i)
	}
	p.Get(p.path("/staging?users="+strings.Join(many, ",")), viewer).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"users":"at most 100 users"}`)))
	p.Get(p.path("/staging?users=,"), viewer).CmpStatus(400)
	p.Get("/api/v1/customers/nope/staging", p.admin()).CmpStatus(404)

	// Un-stage now, before the user is in Teams: still staged, and the user page says so.
	p.Post(p.path("/staging/"+dee+"/check"), nil, viewer).CmpStatus(403)
	p.PostJSON(p.path("/staging/"+dee+"/check"), map[string]any{"force": true}, admin).CmpStatus(400)
	p.Post(p.path("/staging/"+dee+"/check"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"ready":false,"message":$1,"staging":$2}`, td.NotEmpty(),
			td.SuperMapOf(map[string]any{"status": "staged", "lastResult": td.NotEmpty()}, nil)))
	p.Get(p.path("/users/"+dee), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"provisioning":{"siteId":"","siteName":"",
		"number":"","numberType":"","extension":"","staging":{"status":"staged","lastResult":$1,"error":""}}}`, td.NotEmpty()))

	// Once in Teams: provisioned at once, on Leeds (city), with its template and its first free number.
	td.Require(t).CmpNoError(p.sim.SetTeamsProvisioningDelay(0))
	p.PostJSON(p.path("/staging/"+dee+"/check"), map[string]any{}, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"ready":true,"message":$1,"staging":$2}`, td.NotEmpty(), td.SuperMapOf(map[string]any{
			"status": "provisioned", "placedSiteId": leeds, "templateApplied": true, "assignedNumber": "+441134960010"}, nil)))
	p.Get(p.path("/users/"+dee), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"provisioning":{"siteId":$1,"siteName":"Leeds",
		"number":"+441134960010","numberType":"directRouting","extension":"","staging":{"status":"provisioned","lastResult":$2,"error":""}},
		"licences":$3}`, leeds, td.NotEmpty(), td.Contains(td.SuperMapOf(map[string]any{"skuId": licSKU("MCOEV"), "direct": true}, nil))))
	p.Get(p.path("/numbers/%2B441134960010"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"status":"assigned","userId":$1,"userName":"Dee New"}`, dee))
	p.Post(p.path("/staging/"+dee+"/check"), nil, admin).CmpStatus(409) // staging has ended

	// Remove from staging: idempotent; a user never staged is not found; a provisioned user's staging has ended.
	td.Require(t).CmpNoError(p.sim.SetTeamsProvisioningDelay(time.Hour))
	p.PostJSON(p.path("/staging"), map[string]any{"userId": fay}, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"userId":$1,"status":"staged"}`, fay))
	p.Delete(p.path("/staging/"+fay), nil, viewer).CmpStatus(403)
	p.Delete(p.path("/staging/"+fay), nil, admin).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"userId":$1,"status":"removed"}`, fay))
	p.Delete(p.path("/staging/"+fay), nil, admin).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"userId":$1,"status":"removed"}`, fay))
	p.Delete(p.path("/staging/"+gil), nil, admin).CmpStatus(404)
	p.Delete(p.path("/staging/"+dee), nil, admin).CmpStatus(409)
	p.Post(p.path("/staging/"+gil+"/check"), nil, admin).CmpStatus(404)

	// Onboarding: validated first; then each user gets the template's licences and is staged.
	p.PostJSON(p.path("/onboarding"), map[string]any{}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"userIds":"at least one user is required"}`)))
	p.PostJSON(p.path("/onboarding"), map[string]any{"userIds": []string{eve, gil}, "templateId": phone, "number": "+441134960011"}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.SuperMapOf(map[string]any{"number": td.NotEmpty()}, nil)))
	p.PostJSON(p.path("/onboarding"), map[string]any{"userIds": []string{eve}, "templateId": phone, "site": leeds}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"site":"unknown field"}`)))
	p.PostJSON(p.path("/onboarding"), map[string]any{"userIds": []string{eve}, "templateId": phone}, viewer).CmpStatus(403)
	p.PostJSON(p.path("/onboarding"), map[string]any{"userIds": []string{eve}, "templateId": phone, "siteId": leeds}, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"results":[{"userId":$1,"staged":true,"status":"staged"}]}`, eve))
	p.Get(p.path("/staging?users="+eve), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1],"nextCursor":""}`,
		td.SuperMapOf(map[string]any{"userId": eve, "status": "staged", "reason": "onboarding", "siteId": leeds, "templateApplied": true}, nil)))
	td.Require(t).CmpNoError(p.sim.SetTeamsProvisioningDelay(0))
	p.Post(p.path("/staging/"+eve+"/check"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"ready":true,"staging":$1}`, td.SuperMapOf(map[string]any{
			"status": "provisioned", "placedSiteId": leeds, "assignedNumber": "+441134960011"}, nil)))
	p.Get(p.path("/staging?status=provisioned"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1,$2],"nextCursor":""}`,
		td.SuperMapOf(map[string]any{"userId": eve}, nil), td.SuperMapOf(map[string]any{"userId": dee}, nil)))
}
