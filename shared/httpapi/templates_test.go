package httpapi

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/helpers/tdhttp"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/devauth"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

const (
	tplTenant = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	tplE3     = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3 (base)
	tplPBI    = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO (add-on)
	tplYammer = "7547a3fe-08ee-4ccb-b430-5077c5041653" // YAMMER_ENTERPRISE, a plan of SPE_E3
	tplBIPlan = "70d33638-9c74-4d01-bfd3-562de28bd4ba" // BI_AZURE_P2, a plan of POWER_BI_PRO
)

// graphAPI is the API over the real store, the real Graph client and a simulated tenant (30 people, 10 on
// Microsoft 365 E3 of which 4 also hold Power BI; 10 free Power BI seats), synced once into customer id.
type graphAPI struct {
	*testAPI
	sim *graphsim.Sim
	id  string
}

func newGraphAPI(t *testing.T) *graphAPI {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sqsClient := sqs.NewFromConfig(cfg)
	sim := graphsim.New(graphsim.Options{Seed: 5, Tenants: []graphsim.TenantSpec{{
		ID: tplTenant, Name: "Bulk Ltd", Domain: "bulk.onmicrosoft.com", Users: 30, UsageLocation: "GB", Country: "United Kingdom",
		SKUs: []graphsim.SKUSpec{
			{PartNumber: "SPE_E3", Enabled: 30, Assigned: 10, Base: true},
			{PartNumber: "POWER_BI_PRO", Enabled: 14, Assigned: 4, Requires: "SPE_E3"},
		},
	}}})
	run := sim.StartForTest(t)
	g, err := graph.New(graph.Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 8})
	td.Require(t).CmpNoError(err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokens := devauth.NewIssuer()
	syncSvc := &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL), Log: quiet}
	deps := Deps{
		Store: st, Sync: syncSvc, Claims: tokens.Claims, Version: "test", Log: quiet,
		Licensing: &licensing.Service{Store: st, Graph: g, Log: quiet},
		Templates: &licensing.Templates{Store: st, Bulk: &licensing.Bulk{Store: st, Graph: g, Log: quiet}},
	}
	ta := &testAPI{TestAPI: tdhttp.NewTestAPI(t, New(deps)), store: st, tokens: tokens, sqs: sqsClient, stack: stack, api: &api{Deps: deps}}
	id := ta.createCustomer("Bulk Ltd", tplTenant)
	td.Require(t).CmpNoError(syncSvc.SyncCustomer(context.Background(), id, "test"))
	return &graphAPI{testAPI: ta, sim: sim, id: id}
}

func (g *graphAPI) users(t *testing.T, ok func(graphsim.User) bool) []graphsim.User {
	t.Helper()
	all, err := g.sim.Users(tplTenant)
	td.Require(t).CmpNoError(err)
	var out []graphsim.User
	for _, u := range all {
		if ok(u) {
			out = append(out, u)
		}
	}
	return out
}

func TestTemplatesCRUDValidationAndConcurrentEdits(t *testing.T) {
	g := newGraphAPI(t)
	base := "/api/v1/customers/" + g.id + "/templates"
	admin := g.bearer(auth.CustomerAdmin, g.id)
	viewer := g.bearer(auth.Viewer, g.id)

	// Validation: every problem named by field; nothing stored.
	g.PostJSON(base, map[string]any{"name": "", "description": strings.Repeat("x", 1001), "licences": []any{
		map[string]any{"skuId": "nope"},
		map[string]any{"skuId": tplE3, "disabledPlans": []string{tplBIPlan}},
		map[string]any{"skuId": "00000000-0000-4000-8000-000000000000"},
	}}, admin).CmpStatus(400).CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"invalid input","fields":{
		"name":"required",
		"description":"at most 1000 characters",
		"licences[0].skuId":"must be a SKU id (a GUID)",
		"licences[1].disabledPlans[0]":"not a service plan of Microsoft 365 E3",
		"licences[2].skuId":"the customer has no subscription to this SKU"}}}`))
	g.PostJSON(base, map[string]any{"name": "X", "licences": []any{}}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"licences":"at least one licence is required"}`)))
	g.PostJSON(base, map[string]any{"name": "X", "licences": []any{map[string]any{"skuId": tplE3}}, "site": "x"}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"site":"unknown field"}`)))
	g.PostJSON(base, map[string]any{"name": "X", "licences": []any{map[string]any{"skuId": tplE3}}, "version": 3}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"version":"a new template has no version yet"}`)))
	g.PostJSON(base, map[string]any{"name": "X", "licences": []any{map[string]any{"skuId": tplE3}}}, viewer).CmpStatus(403)

	var id string
	g.PostJSON(base, map[string]any{"name": "Analyst", "description": "E3 without Viva Engage, with Power BI",
		"licences": []any{map[string]any{"skuId": tplE3, "disabledPlans": []string{tplYammer}}, map[string]any{"skuId": tplPBI}}}, admin).
		CmpStatus(201).CmpJSONBody(td.SuperJSONOf(`{"id":$1,"name":"Analyst","version":1,"licences":[
			{"skuId":$2,"name":"Microsoft 365 E3","kind":"base","disabledPlans":[$3]},
			{"skuId":$4,"name":"Power BI Pro","kind":"addon","disabledPlans":[]}],
			"customerId":$5,"description":"E3 without Viva Engage, with Power BI","createdAt":$6,"updatedAt":$6}`,
		td.Catch(&id, td.NotEmpty()), tplE3, tplYammer, tplPBI, g.id, td.NotEmpty()))
	g.PostJSON(base, map[string]any{"name": "ANALYST", "licences": []any{map[string]any{"skuId": tplPBI}}}, admin).
		CmpStatus(409).CmpJSONBody(errFields("conflict", td.JSON(`{"name":"another template of this customer has this name"}`)))

	g.Get(base, viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[{"id":$1,"name":"Analyst","version":1,"customerId":$2,
		"description":"E3 without Viva Engage, with Power BI","licences":$3,"createdAt":$4,"updatedAt":$4}]}`,
		id, g.id, td.Len(2), td.NotEmpty()))
	g.Get(base+"/"+id, viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"id":$1,"version":1}`, id))
	g.Get(base+"/nope", viewer).CmpStatus(404)

	// Two admins edit from version 1: the second is told to reload.
	edit := func(name string, version any) map[string]any {
		return map[string]any{"name": name, "licences": []any{map[string]any{"skuId": tplE3}}, "version": version}
	}
	g.PutJSON(base+"/"+id, edit("Analyst (E3 only)", 1), admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"name":"Analyst (E3 only)","version":2,"licences":[{"skuId":$1,"name":"Microsoft 365 E3","kind":"base","disabledPlans":[]}]}`, tplE3))
	g.PutJSON(base+"/"+id, edit("Bob's analyst", 1), g.bearer(auth.ProviderAdmin, auth.AllCustomers)).CmpStatus(409).
		CmpJSONBody(td.JSON(`{"error":{"code":"conflict","message":$1,"fields":{"version":"stale: reload"}}}`,
			td.Contains("changed by someone else: reload")))
	g.PutJSON(base+"/"+id, map[string]any{"name": "No version", "licences": []any{map[string]any{"skuId": tplE3}}}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	g.PutJSON(base+"/"+id, edit("", 2), admin).CmpStatus(400)
	g.PutJSON(base+"/nope", edit("X", 1), admin).CmpStatus(404)
	g.Get(base+"/"+id, viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"name":"Analyst (E3 only)","version":2}`))

	// Delete carries the version too.
	g.Delete(base+"/"+id+"?version=1", nil, admin).CmpStatus(409)
	g.Delete(base+"/"+id, nil, admin).CmpStatus(400)
	g.Delete(base+"/"+id+"?version=2", nil, viewer).CmpStatus(403)
	g.Delete(base+"/"+id+"?version=2", nil, admin).CmpStatus(200).CmpJSONBody(td.JSON(`{"id":$1,"deleted":true}`, id))
	g.Get(base+"/"+id, viewer).CmpStatus(404)

	// Each change is in the audit trail, newest first.
	type nv struct {
		Name    string
		Version int
	}
	type rec struct {
		Action, Actor, Outcome string
		Before, After          nv
	}
	g.Get("/api/v1/customers/"+g.id+"/audit?limit=3", viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"items":$1,"nextCursor":$2}`,
		td.Smuggle(func(items []rec) []rec { return items }, []rec{
			{Action: "template.delete", Actor: "user-customer-admin", Outcome: "ok", Before: nv{"Analyst (E3 only)", 2}},
			{Action: "template.update", Actor: "user-customer-admin", Outcome: "ok", Before: nv{"Analyst", 1}, After: nv{"Analyst (E3 only)", 2}},
			{Action: "template.create", Actor: "user-customer-admin", Outcome: "ok", After: nv{"Analyst", 1}},
		}), td.NotEmpty()))
}

// errFields is an error answer with its code and fields.
func errFields(code string, fields any) td.TestDeep {
	return td.JSON(`{"error":{"code":$1,"message":$2,"fields":$3}}`, code, td.NotEmpty(), fields)
}

func TestAssignTemplateToSeveralUsers(t *testing.T) {
	g := newGraphAPI(t)
	base := "/api/v1/customers/" + g.id + "/templates"
	admin := g.bearer(auth.CustomerAdmin, g.id)
	var id string
	g.PostJSON(base, map[string]any{"name": "Analyst",
		"licences": []any{map[string]any{"skuId": tplE3, "disabledPlans": []string{tplYammer}}, map[string]any{"skuId": tplPBI}}}, admin).
		CmpStatus(201).CmpJSONBody(td.SuperJSONOf(`{"id":$1}`, td.Catch(&id, td.NotEmpty())))

	free := g.users(t, func(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation != "" })[:3]
	noLocation := g.users(t, func(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation == "" })[0]
	ids := []string{free[0].ID, noLocation.ID, free[1].ID, free[2].ID}

	g.PostJSON(base+"/"+id+"/assign", map[string]any{"userIds": ids}, g.bearer(auth.Viewer, g.id)).CmpStatus(403)
	g.PostJSON(base+"/"+id+"/assign", map[string]any{"userIds": ids}, g.bearer(auth.CustomerAdmin, "someone-else")).CmpStatus(404)
	g.PostJSON(base+"/"+id+"/assign", map[string]any{"userIds": []string{}}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"userIds":"at least one user is required"}`)))
	many := make([]string, licensing.MaxTemplateAssign+1)
	for i := range many {
		many[i] = "u" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
	}
	g.PostJSON(base+"/"+id+"/assign", map[string]any{"userIds": many}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"userIds":$1}`, td.HasPrefix("at most 500 users"))))

	ok := td.SuperJSONOf(`{"outcome":"ok","requestId":$1}`, td.NotEmpty())
	g.PostJSON(base+"/"+id+"/assign", map[string]any{"userIds": ids}, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1,$2,$3,$4],"summary":{"ok":3,"unchanged":0,"failed":1}}`,
			td.All(ok, td.SuperJSONOf(`{"userId":$1}`, free[0].ID)),
			td.JSON(`{"userId":$1,"outcome":"failed","code":"invalid","reason":"usage_location_missing","error":$2}`,
				noLocation.ID, td.Re(`has no usage location: set one`)),
			ok, ok))

	// The others hold the template's licences, as stored and shown.
	g.Get("/api/v1/customers/"+g.id+"/users/"+free[1].ID, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"licences":$1}`, td.Bag(
			td.SuperJSONOf(`{"skuId":$1,"direct":true,"plans":$2}`, tplE3, td.SuperBagOf(td.JSON(`{"id":$1,"name":"YAMMER_ENTERPRISE","friendlyName":$2,"enabled":false}`, tplYammer, td.Ignore()))),
			td.SuperJSONOf(`{"skuId":$1,"direct":true}`, tplPBI))))
	g.Get("/api/v1/customers/"+g.id+"/users/"+noLocation.ID, admin).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"licences":[]}`))
	g.Get("/api/v1/customers/"+g.id+"/skus", admin).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"items":$1}`, td.Bag(
		td.SuperJSONOf(`{"skuId":$1,"kind":"base","used":13}`, tplE3),
		td.SuperJSONOf(`{"skuId":$1,"kind":"addon","used":7}`, tplPBI))))

	// The user's audit: the failed attempt, with the reason.
	g.Get("/api/v1/customers/"+g.id+"/audit?userId="+noLocation.ID, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[{"at":$1,"actor":"user-customer-admin","customerId":$2,"userId":$3,"action":"template.assign",
			"before":{"licences":[]},"after":$4,"outcome":"failed","error":$5}],"nextCursor":""}`,
			td.NotEmpty(), g.id, noLocation.ID, td.SuperJSONOf(`{"source":{"templateId":$1,"name":"Analyst","version":1}}`, id),
			td.Contains("usage location")))
}
