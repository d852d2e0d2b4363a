package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/store"
)

// listNumbers pages through GET …/numbers?query with limit 2 and returns the numbers.
func (p *provAPI) listNumbers(query string) []string {
	p.t.Helper()
	var out []string
	cursor := ""
	for range 50 {
		var page struct {
			Items []struct {
				Number string `json:"number"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		p.Get(p.path("/numbers?limit=2&cursor="+cursor+"&"+query), p.viewerH()).CmpStatus(200).
			CmpJSONBody(td.Catch(&page, td.Ignore()))
		for _, n := range page.Items {
			out = append(out, n.Number)
		}
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
	p.t.Fatal("paging did not end")
	return nil
}

func TestNumbersAddListEditDelete(t *testing.T) {
	p := newProvAPI(t)
	admin, viewer := p.adminH(), p.viewerH()
	var leeds string
	p.PostJSON(p.path("/sites"), map[string]any{"name": "Leeds"}, admin).CmpStatus(201).
		CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&leeds, td.NotEmpty())))

	// Validation: every problem named; nothing stored.
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "0113 496 0000", "type": "landline", "siteId": leeds, "extension": "12a"}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"number":$1,"type":$1,"extension":$1}`, td.NotEmpty())))
	p.PostJSON(p.path("/numbers"), map[string]any{"from": "+441134960000", "to": "+441134970000", "type": "directRouting", "siteId": leeds}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"to":$1}`, td.Contains("at most 1000"))))
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "+441134960000", "type": "directRouting", "siteId": "nope"}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"siteId":"no such site of this customer"}`)))
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "+441134960000", "type": "directRouting", "siteId": leeds, "user": "x"}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"user":"unknown field"}`)))
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "+441134960000", "type": "directRouting", "siteId": leeds}, viewer).CmpStatus(403)
	p.PostJSON("/api/v1/customers/nope/numbers", map[string]any{"number": "+441134960000", "type": "directRouting", "siteId": leeds}, p.admin()).
		CmpStatus(404)
	p.Get(p.path("/numbers"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[],"nextCursor":""}`))

	// A range, with the last three digits as extensions; then one number again and one new.
	p.PostJSON(p.path("/numbers"), map[string]any{"from": "+44 113 496 0010", "to": "+44 113 496 0014", "type": "directRouting",
		"siteId": leeds, "extensionDigits": 3}, admin).CmpStatus(201).
		CmpJSONBody(td.JSON(`{"added":["+441134960010","+441134960011","+441134960012","+441134960013","+441134960014"],"existing":[]}`))
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "+441134960010", "type": "directRouting", "siteId": leeds}, admin).CmpStatus(201).
		CmpJSONBody(td.JSON(`{"added":[],"existing":["+441134960010"]}`))
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "+12065550100", "type": "callingPlan", "siteId": leeds, "extension": "100"}, admin).
		CmpStatus(201).CmpJSONBody(td.JSON(`{"added":["+12065550100"],"existing":[]}`))

	// Lists: ordered by number, paged, filtered.
	all := []string{"+12065550100", "+441134960010", "+441134960011", "+441134960012", "+441134960013", "+441134960014"}
	td.Cmp(t, p.listNumbers(""), all)
	td.Cmp(t, p.listNumbers("q=%2B44113496001"), all[1:])
	td.Cmp(t, p.listNumbers("q=1206"), all[:1])
	td.Cmp(t, p.listNumbers("type=callingPlan"), all[:1])
	td.Cmp(t, p.listNumbers("status=available&siteId="+leeds), all)
	td.Cmp(t, p.listNumbers("status=assigned"), td.Empty())
	p.Get(p.path("/numbers?status=free&type=mobile"), viewer).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"status":$1,"type":$2}`, td.HasPrefix("must be available"), td.HasPrefix("must be directRouting"))))
	p.Get(p.path("/numbers?limit=500"), viewer).CmpStatus(400)

	// One number: "+" literal, URL-encoded or left out.
	one := td.SuperJSONOf(`{"number":"+441134960012","extension":"012","status":"available","type":"directRouting","siteId":$1,
		"source":"manual","version":1,"userId":"","userName":""}`, leeds)
	p.Get(p.path("/numbers/+441134960012"), viewer).CmpStatus(200).CmpJSONBody(one)
	p.Get(p.path("/numbers/%2B441134960012"), viewer).CmpStatus(200).CmpJSONBody(one)
	p.Get(p.path("/numbers/441134960012"), viewer).CmpStatus(200).CmpJSONBody(one)
	p.Get(p.path("/numbers/+441134960099"), viewer).CmpStatus(404)
	p.Get(p.path("/numbers/call-me"), viewer).CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"number":$1}`, td.NotEmpty())))
	p.Get("/api/v1/customers/nope/numbers/+441134960012", p.admin()).CmpStatus(404)

	// Edits carry the version read.
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"extension": "4012", "version": 1}, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"number":"+441134960012","extension":"4012","type":"directRouting","version":2}`))
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"extension": "5012", "version": 1}, p.admin()).CmpStatus(409).
		CmpJSONBody(errConflict("reload"))
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"extension": "50x"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"extension": "50x", "type": "mobile", "version": 2}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"extension":$1,"type":$1}`, td.NotEmpty())))
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"siteId": "nope", "version": 2}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"siteId":"no such site of this customer"}`)))
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"status": "assigned", "version": 2}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"status":"unknown field"}`)))
	p.PatchJSON(p.path("/numbers/%2B441134960012"), map[string]any{"extension": "1", "version": 2}, viewer).CmpStatus(403)
	p.PatchJSON(p.path("/numbers/%2B441134960099"), map[string]any{"extension": "1", "version": 1}, admin).CmpStatus(404)
	p.Get(p.path("/numbers/%2B441134960012"), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"extension":"4012","version":2}`))

	// Deletes too.
	p.Delete(p.path("/numbers/%2B441134960012?version=1"), nil, admin).CmpStatus(409)
	p.Delete(p.path("/numbers/%2B441134960012"), nil, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	p.Delete(p.path("/numbers/%2B441134960012?version=2"), nil, viewer).CmpStatus(403)
	p.Delete(p.path("/numbers/%2B441134960012?version=2"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"number":"+441134960012","deleted":true}`))
	p.Get(p.path("/numbers/%2B441134960012"), viewer).CmpStatus(404)
	td.Cmp(t, p.listNumbers(""), td.Len(5))
}

// TestNumbersAssignReleaseImport assigns and releases numbers by hand through Graph (the simulator), and imports
// the tenant's Teams numbers.
func TestNumbersAssignReleaseImport(t *testing.T) {
	p := newProvAPI(t)
	admin, viewer := p.adminH(), p.viewerH()
	td.Require(t).CmpNoError(p.sim.SetTeamsProvisioningDelay(0))
	ann := p.addUser("Ann Phone", "Leeds", "ENTERPRISEPACK", "MCOEV")
	bob := p.addUser("Bob Phone", "Leeds", "ENTERPRISEPACK", "MCOEV")
	carl := p.addUser("Carl Nophone", "Leeds")
	td.Require(t).CmpNoError(p.sim.AddNumbers(provTenant,
		graphsim.PhoneNumber{TelephoneNumber: "+441134960010", NumberType: graphsim.NumberDirectRouting},
		graphsim.PhoneNumber{TelephoneNumber: "+441134960011", NumberType: graphsim.NumberDirectRouting},
		graphsim.PhoneNumber{TelephoneNumber: "+441134960020", NumberType: graphsim.NumberDirectRouting, AssignmentTargetID: bob}))
	p.syncNow()
	var leeds string
	p.PostJSON(p.path("/sites"), map[string]any{"name": "Leeds"}, admin).CmpStatus(201).
		CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&leeds, td.NotEmpty())))
	p.PostJSON(p.path("/numbers"), map[string]any{"from": "+441134960010", "to": "+441134960011", "type": "directRouting", "siteId": leeds}, admin).
		CmpStatus(201)
	p.Get(p.path("/users/"+ann), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"provisioning":{"siteId":"","siteName":"",
		"number":"","numberType":"","extension":"","staging":null}}`))

	// Assign by hand: in Teams and in the inventory; the user page shows it.
	p.PostJSON(p.path("/numbers/%2B441134960010/assign"), map[string]any{"userId": ann}, viewer).CmpStatus(403)
	p.PostJSON(p.path("/numbers/%2B441134960010/assign"), map[string]any{}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"userId":$1}`, td.HasPrefix("required"))))
	p.PostJSON(p.path("/numbers/%2B441134960010/assign"), map[string]any{"userId": "nobody"}, admin).CmpStatus(404)
	p.PostJSON(p.path("/numbers/%2B441134960010/assign"), map[string]any{"userId": ann}, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"number":"+441134960010","status":"assigned","userId":$1,"userName":"Ann Phone"}`, ann))
	p.Get(p.path("/users/"+ann), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"provisioning":{"siteId":$1,"siteName":"Leeds",
		"number":"+441134960010","numberType":"directRouting","extension":"","staging":null}}`, leeds))
	simNumber := func(n string) graphsim.PhoneNumber {
		nums, err := p.sim.Numbers(provTenant)
		td.Require(t).CmpNoError(err)
		for _, x := range nums {
			if x.TelephoneNumber == n {
				return x
			}
		}
		t.Fatalf("no %s in the simulator", n)
		return graphsim.PhoneNumber{}
	}
	td.Cmp(t, simNumber("+441134960010").AssignmentTargetID, td.Re("(?i)^"+ann+"$"))

	// A user never holds two numbers; a user not in Teams gets none, and the number stays free.
	p.PostJSON(p.path("/numbers/%2B441134960011/assign"), map[string]any{"userId": ann}, admin).CmpStatus(409).
		CmpJSONBody(errConflict("holds +441134960010 already"))
	p.PostJSON(p.path("/numbers/%2B441134960011/assign"), map[string]any{"userId": carl}, admin).CmpStatus(409)
	p.Get(p.path("/numbers/%2B441134960011"), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"status":"available","userId":""}`))
	p.Delete(p.path("/numbers/%2B441134960010?version=3"), nil, admin).CmpStatus(409)

	// Release: unassigned in Teams, quarantined for the customer's 30 days.
	p.Post(p.path("/numbers/%2B441134960010/release"), nil, viewer).CmpStatus(403)
	p.PostJSON(p.path("/numbers/%2B441134960010/release"), map[string]any{"now": true}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"now":"unknown field"}`)))
	p.Post(p.path("/numbers/%2B441134960010/release"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"number":"+441134960010","status":"quarantined","userId":"","userName":"","quarantinedUntil":$1}`,
			td.Smuggle(func(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) },
				td.Between(time.Now().Add(29*24*time.Hour), time.Now().Add(31*24*time.Hour)))))
	td.Cmp(t, simNumber("+441134960010").AssignmentTargetID, "")
	p.Get(p.path("/users/"+ann), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"provisioning":{"siteId":$1,"siteName":"Leeds",
		"number":"","numberType":"","extension":"","staging":null}}`, leeds))
	p.PostJSON(p.path("/numbers/%2B441134960011/release"), map[string]any{}, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"status":"available"}`))

	// Import: Bob's number is new, assigned to him; the others are as Teams says already (the quarantined one stays so).
	p.PostJSON(p.path("/numbers/import"), map[string]any{"siteId": "nope"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"siteId":"no such site of this customer"}`)))
	p.PostJSON(p.path("/numbers/import"), map[string]any{"siteId": leeds}, viewer).CmpStatus(403)
	p.PostJSON(p.path("/numbers/import"), map[string]any{"siteId": leeds}, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"read":3,"created":1,"updated":0,"unchanged":1,"skipped":1,"conflicts":[]}`))
	p.Get(p.path("/numbers/%2B441134960020"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"status":"assigned","userId":$1,"userName":"Bob Phone","siteId":$2,"source":"graph"}`, bob, leeds))
	p.Get(p.path("/users/"+bob), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"provisioning":{"siteId":"","siteName":"",
		"number":"+441134960020","numberType":"directRouting","extension":"","staging":null}}`))
	p.Post(p.path("/numbers/import"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"read":3,"created":0,"updated":0,"unchanged":2,"skipped":1,"conflicts":[]}`))

	page, err := p.store.ListAudit(context.Background(), p.id, store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	var actions []string
	for _, r := range page.Items {
		actions = append(actions, r.Action+":"+r.Outcome)
	}
	td.Cmp(t, actions, td.SuperBagOf("number.add:ok", "number.assign:ok", "number.release:ok", "number.import:ok"))
}
