package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/helpers/tdhttp"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// The usage audit tests run the real API and the real usage service over the real store (DynamoDB in moto), with
// users synced from a simulated tenant, numbers imported from its Teams and licences changed through the API, and
// a clock the test sets (so that snapshots fall on the days it chooses).

const (
	usageTenant  = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
	o365E3       = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK (Office 365 E3)
	teamsPhone   = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV (Teams Phone Standard)
	resourceAcct = "440eaaa8-b3e0-484b-a8be-62870b9ba70a" // PHONESYSTEM_VIRTUALUSER (Teams Phone Resource Account)
)

// usageAPI is the provisioning API (newProvAPI: Fabrikam, customer p.id) with the usage audit, whose clock the
// test sets.
type usageAPI struct {
	*provAPI
	clock   atomic.Int64 // Unix seconds
	handler http.Handler // for concurrent requests (tdhttp.TestAPI is not safe for concurrent use)
}

func newUsageAPI(t *testing.T) *usageAPI {
	t.Helper()
	u := &usageAPI{provAPI: newProvAPI(t)}
	u.setDay("2026-03-02")
	deps := u.api.Deps
	deps.Usage = &usageaudit.Service{Store: u.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Unix(u.clock.Load(), 0).UTC() }}
	u.handler = New(deps)
	u.TestAPI = tdhttp.NewTestAPI(t, u.handler)
	u.api = &api{Deps: deps}
	return u
}

// setDay sets the clock to noon (UTC) of day.
func (u *usageAPI) setDay(day string) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	u.clock.Store(d.Add(12 * time.Hour).Unix())
}

func (u *usageAPI) providerH() http.Header { return u.admin() }

// syncCustomer runs a full sync of customer id now.
func (u *usageAPI) syncCustomer(id string) {
	u.t.Helper()
	svc := *u.sync
	svc.FullEvery = time.Nanosecond
	td.Require(u.t).CmpNoError(svc.SyncCustomer(context.Background(), id, "test"))
}

// exampleScale is the size of the worked example: 10 is the figures (500 acquired, 370 licensed…); the
// default, 1, a tenth of them, since importing a number from Teams is one DynamoDB transaction and moto runs them
// one at a time (the full size takes about a minute). USAGE_EXAMPLE_SCALE=10 runs it at full size.
func exampleScale(t *testing.T) int {
	n := 1
	if v := os.Getenv("USAGE_EXAMPLE_SCALE"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		td.Require(t).CmpNoError(err)
		td.Require(t).Cmp(n, td.Gte(1))
	}
	return n
}

// workedExample builds the worked example (figures ×k/10) in a simulated tenant registered as a new
// customer, through the API where Seatwise does it (numbers imported from Teams, licences given by a template and
// by hand, the pool entered), and returns the customer id and the user ids by role:
//
//   - dr: 20k users with a Direct Routing number (in Leeds); the first 3k got their licences from a template, so
//     they match two factors (Direct Routing and By Template) and must be counted once, under Direct Routing;
//   - oc: 10k users with an Operator Connect number (in York);
//   - ui: 5k users whose licence an admin gave by hand;
//   - sn: 2k resource accounts (service numbers) with Direct Routing numbers;
//   - k unlicensed users.
//
// 37k licensed users; the provider enters 50k acquired seats (47k Office 365 E3, 3k resource accounts).
func (u *usageAPI) workedExample(k int) (id string, dr, oc, ui, sn []string) {
	t := u.t
	t.Helper()
	td.Require(t).CmpNoError(u.sim.AddTenant(graphsim.TenantSpec{ID: usageTenant, Name: "Northwind", Domain: "northwind.onmicrosoft.com",
		UsageLocation: "GB", SKUs: []graphsim.SKUSpec{
			{PartNumber: "ENTERPRISEPACK", Enabled: 48 * k}, {PartNumber: "MCOEV", Enabled: 31 * k},
			{PartNumber: "PHONESYSTEM_VIRTUALUSER", Enabled: 3 * k}}}))
	td.Require(t).CmpNoError(u.sim.SetTeamsProvisioningDelay(0))
	id = u.createCustomer("Northwind", usageTenant)
	add := func(name, city string, parts ...string) string {
		usr, err := u.sim.AddUser(usageTenant, graphsim.NewUser{DisplayName: name, City: city, UsageLocation: "GB"})
		td.Require(t).CmpNoError(err)
		for _, part := range parts {
			td.Require(t).CmpNoError(u.sim.AssignDirectLicense(usageTenant, usr.ID, part, nil))
		}
		return strings.ToLower(usr.ID)
	}
	var numbers []graphsim.PhoneNumber
	number := func(userID, typ string) {
		numbers = append(numbers, graphsim.PhoneNumber{TelephoneNumber: fmt.Sprintf("+44113496%04d", len(numbers)),
			NumberType: typ, AssignmentTargetID: userID})
	}
	var byTemplate []string
	for i := range 20 * k {
		var usr string
		if i < 3*k {
			usr = add(fmt.Sprintf("Direct %03d", i), "Leeds") // licensed by the template below
			byTemplate = append(byTemplate, usr)
		} else {
			usr = add(fmt.Sprintf("Direct %03d", i), "Leeds", "ENTERPRISEPACK", "MCOEV")
		}
		dr = append(dr, usr)
		number(usr, graphsim.NumberDirectRouting)
	}
	for i := range 10 * k {
		usr := add(fmt.Sprintf("Operator %03d", i), "York", "ENTERPRISEPACK", "MCOEV")
		oc = append(oc, usr)
		number(usr, graphsim.NumberOperatorConnect)
	}
	for i := range 5 * k {
		ui = append(ui, add(fmt.Sprintf("Hand %03d", i), "")) // licensed by hand below
	}
	for i := range 2 * k {
		usr := add(fmt.Sprintf("Queue %03d", i), "", "PHONESYSTEM_VIRTUALUSER")
		sn = append(sn, usr)
		number(usr, graphsim.NumberDirectRouting)
	}
	for i := range k {
		add(fmt.Sprintf("Nobody %03d", i), "")
	}
	td.Require(t).CmpNoError(u.sim.AddNumbers(usageTenant, numbers...))
	u.syncCustomer(id)

	admin := u.bearer(auth.CustomerAdmin, id)
	base := "/api/v1/customers/" + id
	for _, city := range []string{"Leeds", "York"} {
		u.PostJSON(base+"/sites", map[string]any{"name": city, "criteria": []any{map[string]any{"field": "city", "value": city}}}, admin).
			CmpStatus(201)
	}
	u.Post(base+"/numbers/import", nil, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"read":$1,"created":$1,"conflicts":[]}`, 32*k))
	var tpl string
	u.PostJSON(base+"/templates", map[string]any{"name": "Phone user",
		"licences": []any{map[string]any{"skuId": o365E3}, map[string]any{"skuId": teamsPhone}}}, admin).
		CmpStatus(201).CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&tpl, td.NotEmpty())))
	u.PostJSON(base+"/templates/"+tpl+"/assign", map[string]any{"userIds": byTemplate}, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"summary":{"ok":$1,"unchanged":0,"failed":0}}`, len(byTemplate)))
	// By hand, a few at a time (tdhttp.TestAPI is for one goroutine: these go to the handler directly).
	var wg sync.WaitGroup
	errs := make(chan error, len(ui))
	sem := make(chan struct{}, 8)
	for _, usr := range ui {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req := tdhttp.NewRequest(http.MethodPost, base+"/users/"+usr+"/licences", strings.NewReader(`{"skuId":"`+o365E3+`"}`),
				"Content-Type", "application/json", admin)
			rec := httptest.NewRecorder()
			u.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				errs <- fmt.Errorf("licence of %s: %d %s", usr, rec.Code, rec.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	u.PutJSON(base+"/pool", map[string]any{"acquired": map[string]int{o365E3: 47 * k, resourceAcct: 3 * k}, "unusedThreshold": 0,
		"unusedDays": 0, "version": 0}, u.providerH()).CmpStatus(200)
	return id, dr, oc, ui, sn
}

// factorCounts is the factors of a usage, as {ruleId: count}.
func factorCounts(counts map[string]int) td.TestDeep {
	return td.Smuggle(func(fs []any) map[string]int {
		out := map[string]int{}
		for _, f := range fs {
			m := f.(map[string]any)
			out[m["ruleId"].(string)] = int(m["count"].(float64))
		}
		return out
	}, counts)
}

// TestUsageWorkedExample reproduces the issue's example through the API ("500 acquired, 370 currently licensed:
// 200 on Direct Routing, 100 on Operator Connect, 50 changed by hand, 20 service numbers", at a tenth of the size
// unless USAGE_EXAMPLE_SCALE=10), with users matching two factors counted once; then drills down, refreshes,
// edits the rules (validation, preview, save, stale save, reset) and reads the history.
func TestUsageWorkedExample(t *testing.T) {
	k := exampleScale(t)
	u := newUsageAPI(t)
	id, dr, oc, ui, sn := u.workedExample(k)
	base := "/api/v1/customers/" + id
	viewer := u.bearer(auth.Viewer, id)

	// 50k acquired, 37k currently licensed: 20k on Direct Routing (the 3k also licensed by template counted once,
	// there), 10k on Operator Connect, 5k changed by hand, 2k service numbers; per site too.
	zero := map[string]int{"direct-routing": 0, "operator-connect": 0, "by-template": 0, "by-ui": 0, "service-numbers": 0}
	with := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for r, n := range zero {
			out[r] = n
		}
		for r, n := range m {
			out[r] = n
		}
		return out
	}
	defaults := with(map[string]int{"direct-routing": 20 * k, "operator-connect": 10 * k, "by-ui": 5 * k, "service-numbers": 2 * k})
	siteUsage := func(name string, users, licensed int, counts map[string]int) td.TestDeep {
		return td.JSON(`{"siteId":$1,"siteName":$2,"users":$3,"usage":{"licensed":$4,"unmatched":0,"factors":$5,"bySku":$6},"skus":$7}`,
			td.NotEmpty(), name, users, licensed, factorCounts(counts), td.Ignore(), td.Ignore())
	}
	u.Get(base+"/usage", viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{
		"usage":{"licensed":$1,"unmatched":0,"factors":$2,"bySku":{"ENTERPRISEPACK":$3,"MCOEV":$4,"PHONESYSTEM_VIRTUALUSER":$5}},
		"users":$6,"acquired":$7,"acquiredBySku":$8,"skus":$9,"sites":[$10,$11,$12],"rulesVersion":0,"computedAt":"2026-03-02T12:00:00Z"}`,
		37*k, td.All(td.Len(5), factorCounts(defaults)), 35*k, 30*k, 2*k, 38*k, 50*k,
		map[string]int{o365E3: 47 * k, resourceAcct: 3 * k},
		td.Bag(
			td.JSON(`{"skuId":$1,"partNumber":"ENTERPRISEPACK","name":"Office 365 E3","enabled":$2,"consumed":$3,"acquired":$4,"assigned":$3}`,
				o365E3, 48*k, 35*k, 47*k),
			td.JSON(`{"skuId":$1,"partNumber":"MCOEV","name":$2,"enabled":$3,"consumed":$4,"acquired":0,"assigned":$4}`,
				teamsPhone, td.NotEmpty(), 31*k, 30*k),
			td.JSON(`{"skuId":$1,"partNumber":"PHONESYSTEM_VIRTUALUSER","name":$2,"enabled":$3,"consumed":$4,"acquired":$3,"assigned":$4}`,
				resourceAcct, td.NotEmpty(), 3*k, 2*k)),
		siteUsage("Leeds", 20*k, 20*k, with(map[string]int{"direct-routing": 20 * k})),
		siteUsage("York", 10*k, 10*k, with(map[string]int{"operator-connect": 10 * k})),
		td.JSON(`{"siteId":"-none-","siteName":"Unplaced","users":$1,"usage":{"licensed":$2,"unmatched":0,"factors":$3,"bySku":$4},"skus":$5}`,
			8*k, 7*k, factorCounts(with(map[string]int{"by-ui": 5 * k, "service-numbers": 2 * k})), td.Ignore(), td.Ignore())))

	// Drill-down: the users behind a count, a page at a time, shown as the users list shows them.
	drill := func(rule string, limit int) []string {
		t.Helper()
		var got []string
		cursor := ""
		for range 10 {
			var page store.Page[userView]
			u.Get(fmt.Sprintf("%s/usage/users?rule=%s&limit=%d&cursor=%s", base, rule, limit, cursor), viewer).CmpStatus(200).
				CmpJSONBody(td.Smuggle(func(p store.Page[userView]) bool { page = p; return true }, true))
			td.Cmp(t, len(page.Items), td.Lte(limit))
			for _, usr := range page.Items {
				got = append(got, usr.ID)
				td.Cmp(t, usr.Licences, td.NotEmpty())
			}
			if cursor = page.NextCursor; cursor == "" {
				return got
			}
		}
		t.Fatal("paging did not end")
		return nil
	}
	td.Cmp(t, drill("operator-connect", 4*k), td.Bag(anyOf(oc)...), "every Operator Connect user, once, over 3 pages")
	td.Cmp(t, drill("service-numbers", 200), td.Bag(anyOf(sn)...))
	td.Cmp(t, drill("by-ui", 200), td.Bag(anyOf(ui)...))
	td.Cmp(t, drill("by-template", 200), td.Empty(), "the template's users are on Direct Routing")
	td.Cmp(t, drill("unmatched", 200), td.Empty())
	u.Get(base+"/usage/users?rule=nope", viewer).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"rule":$1}`, td.Contains("not one of the customer's rules"))))
	u.Get(base+"/usage/users", viewer).CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"rule":$1}`, td.HasPrefix("required"))))
	u.Get(base+"/usage/users?rule=by-ui&limit=500", viewer).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"limit":"must be a whole number from 1 to 200"}`)))

	// Refresh: today's snapshots (the customer's first, then each site).
	u.Post(base+"/snapshots", nil, viewer).CmpStatus(403)
	u.PostJSON(base+"/snapshots", map[string]any{"now": true}, u.bearer(auth.CustomerAdmin, id)).CmpStatus(400)
	u.Post(base+"/snapshots", nil, u.bearer(auth.CustomerAdmin, id)).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1,$2,$3,$4]}`,
			td.SuperJSONOf(`{"customerId":$1,"customerName":"Northwind","siteId":"","date":"2026-03-02","users":$2,"licensed":$3,"unmatched":0,"factors":$4,"rulesVersion":0}`,
				id, 38*k, 37*k, factorCounts(defaults)),
			td.SuperJSONOf(`{"siteName":"Leeds","licensed":$1}`, 20*k), td.SuperJSONOf(`{"siteName":"York","licensed":$1}`, 10*k),
			td.SuperJSONOf(`{"siteId":"-none-","licensed":$1}`, 7*k)))

	// The rules are the provider's defaults until someone saves some; a bad regular expression is named.
	prov := u.providerH()
	var rules []map[string]any
	u.Get(base+"/factors", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"rules":$1,"version":0,"inherited":true,"scope":"provider"}`,
			td.Smuggle(func(rs []map[string]any) bool { rules = rs; return len(rs) == 5 }, true)))
	bad := []any{map[string]any{"name": "Sales", "enabled": true, "criteria": []any{map[string]any{"field": "department", "pattern": "(sales"}}},
		map[string]any{"name": "Nobody", "enabled": true, "criteria": []any{map[string]any{"field": "colour", "pattern": "x"}}},
		map[string]any{"name": "Switch", "criteria": []any{}}}
	u.PutJSON(base+"/factors", map[string]any{"rules": bad[:2], "version": 0}, prov).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"rules[0].criteria[0].pattern":$1,"rules[1].criteria[0].field":$2}`,
			td.HasPrefix("invalid regular expression"), td.HasPrefix(`unknown field "colour"`))))
	u.PostJSON(base+"/factors/preview", map[string]any{"rules": bad[:1]}, prov).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"rules[0].criteria[0].pattern":$1}`, td.HasPrefix("invalid regular expression"))))
	u.PutJSON(base+"/factors", map[string]any{"rules": bad[2:], "version": 0}, prov).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"rules[0].enabled":"required: true or false"}`)))
	u.PutJSON(base+"/factors", map[string]any{"rules": []any{map[string]any{"name": "X", "enabled": true, "colour": "red"}}, "version": 0}, prov).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"colour":"unknown field"}`)))
	u.PutJSON(base+"/factors", map[string]any{"rules": rules}, prov).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	u.PutJSON(base+"/factors", map[string]any{"version": 0}, prov).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"rules":$1}`, td.HasPrefix("required"))))
	u.PostJSON(base+"/factors/preview", map[string]any{"rules": rules, "version": 0}, prov).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.NotEmpty())))
	u.PutJSON(base+"/factors", map[string]any{"rules": rules, "version": 0}, u.bearer(auth.CustomerAdmin, id)).CmpStatus(403)
	u.PostJSON(base+"/factors/preview", map[string]any{"rules": rules}, u.bearer(auth.CustomerAdmin, id)).CmpStatus(403)

	// Preview: By Template first takes the users it shares with Direct Routing; a new rule without an id gets one.
	// Nothing is saved.
	reordered := []any{rules[2], rules[0], rules[1], rules[3], rules[4],
		map[string]any{"name": "Everyone else", "enabled": true, "criteria": []any{}}}
	reorderedCounts := map[string]int{"by-template": 3 * k, "direct-routing": 17 * k, "operator-connect": 10 * k, "by-ui": 5 * k,
		"service-numbers": 2 * k, "everyone-else": 0}
	u.PostJSON(base+"/factors/preview", map[string]any{"rules": reordered}, prov).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"usage":$1,"rulesVersion":0}`, td.SuperJSONOf(`{"licensed":$1,"unmatched":0,"factors":$2}`,
			37*k, td.All(factorCounts(reorderedCounts), td.Smuggle("[0].ruleId", "by-template")))))
	u.Get(base+"/usage", viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"usage":$1}`,
		td.SuperJSONOf(`{"factors":$1}`, factorCounts(defaults))))

	// Save the customer's own rules (from version 0: it had none); a second save from the same version is stale.
	u.PutJSON(base+"/factors", map[string]any{"rules": reordered, "version": 0}, prov).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"rules":$1,"version":1,"inherited":false,"scope":"customer"}`,
			td.All(td.Len(6), td.Smuggle("[5]", td.JSON(`{"id":"everyone-else","name":"Everyone else","enabled":true,"criteria":[],"managedBy":""}`)))))
	u.PutJSON(base+"/factors", map[string]any{"rules": rules, "version": 0}, prov).CmpStatus(409)
	u.Get(base+"/usage", viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"usage":$1,"rulesVersion":1}`, td.SuperJSONOf(`{"factors":$1}`, factorCounts(reorderedCounts))))
	td.Cmp(t, drill("by-template", 200), td.Bag(anyOf(dr[:3*k])...))

	// A refresh the next day: the customer's history has both days; across customers, factors add up by name.
	u.setDay("2026-03-03")
	u.Post(base+"/snapshots", nil, prov).CmpStatus(200)
	u.Get(base+"/snapshots", viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1,$2]}`,
		td.SuperJSONOf(`{"date":"2026-03-02","licensed":$1,"factors":$2,"rulesVersion":0}`, 37*k, factorCounts(defaults)),
		td.SuperJSONOf(`{"date":"2026-03-03","licensed":$1,"factors":$2,"rulesVersion":1}`, 37*k, factorCounts(reorderedCounts))))
	u.Get(base+"/snapshots?from=2026-03-03&to=2026-03-31", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"date":"2026-03-03"}`)))
	var york string
	u.Get(base+"/sites", viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"items":[$1,$2]}`,
		td.Ignore(), td.SuperJSONOf(`{"name":"York","id":$1}`, td.Catch(&york, td.NotEmpty()))))
	u.Get(base+"/snapshots?siteId="+york, viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1,$2]}`,
		td.SuperJSONOf(`{"date":"2026-03-02","siteId":$1,"siteName":"York","users":$2,"licensed":$2}`, york, 10*k),
		td.SuperJSONOf(`{"date":"2026-03-03","siteId":$1,"licensed":$2}`, york, 10*k)))
	u.Get(base+"/snapshots?siteId=-none-&from=2026-03-02&to=2026-03-02", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"siteName":"Unplaced","users":$1,"licensed":$2}`, 8*k, 7*k)))
	u.Get("/api/v1/usage/history", viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1,$2]}`,
		td.JSON(`{"date":"2026-03-02","customers":1,"users":$1,"licensed":$2,"unmatched":0,"factors":$3,"skus":$4}`, 38*k, 37*k,
			map[string]int{"Managed Users – Direct Routing": 20 * k, "Managed Users – Operator Connect": 10 * k,
				"Managed Users – By User Interface": 5 * k, "Managed Service Numbers": 2 * k},
			td.SuperJSONOf(`{"ENTERPRISEPACK":$1}`, td.JSON(`{"skuId":$1,"partNumber":"ENTERPRISEPACK","name":"Office 365 E3",
				"enabled":$2,"consumed":$3,"acquired":$4,"assigned":$3}`, o365E3, 48*k, 35*k, 47*k))),
		td.SuperJSONOf(`{"date":"2026-03-03","customers":1,"factors":$1}`,
			map[string]int{"Managed Users – By Template": 3 * k, "Managed Users – Direct Routing": 17 * k, "Managed Users – Operator Connect": 10 * k,
				"Managed Users – By User Interface": 5 * k, "Managed Service Numbers": 2 * k})))

	// Reset: back to the provider's rules (DELETE with the version read).
	u.Delete(base+"/factors", nil, prov).CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	u.Delete(base+"/factors?version=1", nil, u.bearer(auth.CustomerAdmin, id)).CmpStatus(403)
	u.Delete(base+"/factors?version=2", nil, prov).CmpStatus(409)
	u.Delete(base+"/factors?version=1", nil, prov).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"rules":$1,"version":0,"inherited":true,"scope":"provider"}`, td.Len(5)))
	u.Get(base+"/usage", viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"usage":$1}`,
		td.SuperJSONOf(`{"factors":$1}`, factorCounts(defaults))))

	u.Get(base+"/audit?limit=200", viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"items":$1}`,
		td.SuperBagOf(
			td.SuperJSONOf(`{"action":"factors.update","actor":"user-provider-admin","outcome":"ok"}`),
			td.SuperJSONOf(`{"action":"factors.reset","actor":"user-provider-admin","outcome":"ok"}`),
			td.SuperJSONOf(`{"action":"pool.update","actor":"user-provider-admin","outcome":"ok"}`))))
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if strings.EqualFold(x, id) {
			return true
		}
	}
	return false
}

func anyOf(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// TestProviderFactorRules: every customer without rules of its own uses the provider's; only a provider admin who
// sees every customer changes them.
func TestProviderFactorRules(t *testing.T) {
	u := newUsageAPI(t)
	u.addUser("Ann Phone", "Leeds", "ENTERPRISEPACK", "MCOEV")
	u.addUser("Bob Plain", "York", "ENTERPRISEPACK")
	u.syncNow()
	viewer := u.viewerH()
	rules := []any{
		map[string]any{"id": "leeds", "name": "Leeds", "enabled": true, "criteria": []any{map[string]any{"field": "city", "pattern": "leeds"}}},
		map[string]any{"name": "Phone", "enabled": true, "managedBy": "", "criteria": []any{map[string]any{"field": "SKU", "pattern": "MCOEV"}}},
		map[string]any{"name": "Off", "enabled": false},
	}
	u.Get("/api/v1/factors", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"rules":$1,"version":0,"inherited":false,"scope":"provider"}`, td.Len(5)))
	u.PutJSON("/api/v1/factors", map[string]any{"rules": rules, "version": 0}, u.adminH()).CmpStatus(403)
	u.PutJSON("/api/v1/factors", map[string]any{"rules": rules, "version": 0}, u.bearer(auth.ProviderAdmin, u.id)).CmpStatus(403).
		CmpJSONBody(td.SuperJSONOf(`{"error":{"code":"forbidden","message":$1}}`, td.Contains("every customer")))
	u.PutJSON("/api/v1/factors", map[string]any{"rules": rules, "version": -1}, u.providerH()).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":"must be 0 or more"}`)))
	u.PutJSON("/api/v1/factors", map[string]any{"rules": rules, "version": 0}, u.providerH()).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"rules":[$1,$2,$3],"version":1,"inherited":false,"scope":"provider"}`,
			td.JSON(`{"id":"leeds","name":"Leeds","enabled":true,"criteria":[{"field":"city","pattern":"leeds"}],"managedBy":""}`),
			td.JSON(`{"id":"phone","name":"Phone","enabled":true,"criteria":[{"field":"sku","pattern":"MCOEV"}],"managedBy":""}`),
			td.JSON(`{"id":"off","name":"Off","enabled":false,"criteria":[],"managedBy":""}`)))
	u.PutJSON("/api/v1/factors", map[string]any{"rules": rules, "version": 0}, u.providerH()).CmpStatus(409)
	u.Get("/api/v1/factors", viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"version":1,"rules":$1}`, td.Len(3)))

	// The customer inherits them (its own version stays 0), and its usage is counted with them.
	u.Get(u.path("/factors"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"version":0,"inherited":true,"scope":"provider","rules":$1}`, td.Len(3)))
	u.Get(u.path("/usage"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"usage":$1,"rulesVersion":1}`, td.SuperJSONOf(`{"licensed":2,"unmatched":1,"factors":$1}`,
			factorCounts(map[string]int{"leeds": 1, "phone": 0, "off": 0}))))
	u.Get(u.path("/usage/users?rule=unmatched"), viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1],"nextCursor":""}`, td.SuperJSONOf(`{"displayName":"Bob Plain"}`)))
	u.Get("/api/v1/customers/nope/usage", u.providerH()).CmpStatus(404)
	u.Get("/api/v1/customers/nope/factors", u.providerH()).CmpStatus(404)
}

// TestLicencePool: read by all, saved by provider admins with the version read; SKUs of the customer only.
func TestLicencePool(t *testing.T) {
	u := newUsageAPI(t)
	u.syncNow()
	viewer := u.viewerH()
	e3 := strings.ToUpper(o365E3)
	u.Get(u.path("/pool"), viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"customerId":$1,"acquired":{},"unusedThreshold":5,"unusedDays":7,"version":0,"updatedAt":$2}`, u.id, td.Ignore()))
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]int{}}, u.providerH()).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"unusedThreshold":"required","unusedDays":"required","version":$1}`, td.HasPrefix("required"))))
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]int{resourceAcct: 3, e3: -1}, "unusedThreshold": 2, "unusedDays": 400, "version": 0}, u.providerH()).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"acquired.`+resourceAcct+`":"not a SKU of this customer","acquired.`+e3+`":$1,"unusedDays":$1}`, td.NotEmpty())))
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]string{e3: "ten"}, "unusedThreshold": 2, "unusedDays": 3, "version": 0}, u.providerH()).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.NotEmpty()))
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]int{e3: 10}, "unusedThreshold": 2, "unusedDays": 3, "version": 0, "spare": 1}, u.providerH()).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"spare":"unknown field"}`)))
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]int{e3: 10}, "unusedThreshold": 2, "unusedDays": 3, "version": 0}, u.adminH()).
		CmpStatus(403)
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]int{e3: 10}, "unusedThreshold": 2, "unusedDays": 3, "version": 0}, u.providerH()).
		CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"acquired":{"` + o365E3 + `":10},"unusedThreshold":2,"unusedDays":3,"version":1}`))
	u.PutJSON(u.path("/pool"), map[string]any{"acquired": map[string]int{}, "unusedThreshold": 0, "unusedDays": 0, "version": 0}, u.providerH()).
		CmpStatus(409)
	u.Get(u.path("/usage"), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"acquired":10,"acquiredBySku":{"` + o365E3 + `":10}}`))
}

// TestUsageDatesAndScopes: snapshot and history ranges are checked; the routes without a customer in the path
// answer for the caller's customers only.
func TestUsageDatesAndScopes(t *testing.T) {
	u := newUsageAPI(t)
	u.addUser("Ann Phone", "Leeds", "ENTERPRISEPACK", "MCOEV")
	u.syncNow()
	td.Require(t).CmpNoError(u.sim.AddTenant(graphsim.TenantSpec{ID: usageTenant, Name: "Other", Domain: "other.onmicrosoft.com",
		UsageLocation: "GB", Users: 3, SKUs: []graphsim.SKUSpec{{PartNumber: "ENTERPRISEPACK", Enabled: 3, Assigned: 3}}}))
	other := u.createCustomer("Other", usageTenant)
	u.syncCustomer(other)
	// Other's E3 is over-assigned once the provider lowers the seats: an overused alert after its snapshot.
	td.Require(t).CmpNoError(u.sim.SetPrepaid(usageTenant, "ENTERPRISEPACK", 1))
	u.syncCustomer(other)
	for _, id := range []string{u.id, other} {
		u.Post("/api/v1/customers/"+id+"/snapshots", nil, u.providerH()).CmpStatus(200)
	}

	viewer := u.viewerH() // Fabrikam's
	bad := func(query string, fields td.TestDeep) {
		t.Helper()
		u.Get(u.path("/snapshots?"+query), viewer).CmpStatus(400).CmpJSONBody(errFields("invalid", fields))
		u.Get("/api/v1/usage/history?"+query, viewer).CmpStatus(400).CmpJSONBody(errFields("invalid", fields))
	}
	bad("from=2026-3-1", td.JSON(`{"from":"must be a date YYYY-MM-DD"}`))
	bad("from=2026-02-30&to=tomorrow", td.JSON(`{"from":"must be a date YYYY-MM-DD","to":"must be a date YYYY-MM-DD"}`))
	bad("from=2026-03-02&to=2026-03-01", td.JSON(`{"from":"must not be after to","to":"must not be before from"}`))
	bad("from=2025-01-25&to=2026-03-01", td.JSON(`{"from":$1,"to":$2}`, td.Contains("at most 399 days before to"), td.Contains("at most 399 days after from")))
	bad("from=2026-03-10", td.JSON(`{"from":"must not be after to","to":"must not be before from"}`)) // to = today, 2026-03-02
	u.Get(u.path("/snapshots?from=2025-01-26&to=2026-03-01"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[]}`))
	u.Get(u.path("/snapshots?to=2026-03-02"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"date":"2026-03-02"}`)))
	u.Get(u.path("/snapshots?from=2026-03-02"), viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"date":"2026-03-02"}`)))
	u.Get("/api/v1/customers/"+other+"/snapshots", viewer).CmpStatus(404)

	// History: Fabrikam's viewer sees Fabrikam alone; the provider, both.
	u.Get("/api/v1/usage/history", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"date":"2026-03-02","customers":1,"licensed":1}`)))
	u.Get("/api/v1/usage/history", u.bearer(auth.Viewer, u.id, other)).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"date":"2026-03-02","customers":2,"licensed":4}`)))
	u.Get("/api/v1/usage/history", u.providerH()).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperJSONOf(`{"date":"2026-03-02","customers":2,"licensed":4}`)))
	u.Get("/api/v1/usage/history?from=2026-03-03&to=2026-03-04", u.providerH()).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[]}`))

	// Alerts: Other's overused E3, for those who see Other.
	overused := td.SuperJSONOf(`{"customerId":$1,"customerName":"Other","kind":"overused","partNumber":"ENTERPRISEPACK","count":2,"link":$2}`,
		other, td.HasPrefix("#/customers/"+other))
	u.Get("/api/v1/alerts", viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[]}`))
	u.Get("/api/v1/alerts", u.bearer(auth.Viewer, other)).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1]}`, overused))
	u.Get("/api/v1/alerts", u.providerH()).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1]}`, overused))
}

// TestUsageNotConfigured: without the usage service, the routes answer an internal error, not a panic.
func TestUsageNotConfigured(t *testing.T) {
	ta := newTestAPI(t)
	deps := ta.api.Deps
	deps.Usage, deps.Log = nil, slog.New(slog.NewTextHandler(io.Discard, nil))
	api := tdhttp.NewTestAPI(t, New(deps))
	api.Get("/api/v1/alerts", ta.admin()).CmpStatus(500).CmpJSONBody(td.JSON(`{"error":{"code":"internal","message":"internal error"}}`))
}
