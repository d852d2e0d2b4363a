package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/helpers/tdhttp"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/devauth"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

// The licence tests run the real API over the real store (DynamoDB in moto) and the real Graph client against the
// simulator, with a small tenant whose users and licences each test sets up in the simulator before a first sync.

const litware = "5c1d7e4a-3b2f-4c6d-8e9f-0a1b2c3d4e5f"

var (
	skuE3    = licSKU("ENTERPRISEPACK")
	skuPhone = licSKU("MCOEV")
	skuBI    = licSKU("POWER_BI_PRO")
	skuVisio = licSKU("VISIOCLIENT")
)

const (
	planSway   = "a23b959c-7ce8-4e57-9140-b90eb88a9e97" // SWAY, in Office 365 E3
	planYammer = "7547a3fe-08ee-4ccb-b430-5077c5041653" // YAMMER_ENTERPRISE, in Office 365 E3
)

func licSKU(part string) string {
	p, ok := catalog.ByPartNumber(part)
	if !ok {
		panic("no SKU " + part)
	}
	return p.SkuID
}

// litwareSpec is the test tenant: no generated users, the SKUs with the given seats (E3, Exchange Online Plan 1,
// Teams Phone, Power BI Pro, Visio).
func litwareSpec(seats map[string]int) graphsim.TenantSpec {
	spec := graphsim.TenantSpec{ID: litware, Name: "Litware", Domain: "litware.onmicrosoft.com", UsageLocation: "US", Country: "United States"}
	for _, part := range []string{"ENTERPRISEPACK", "EXCHANGESTANDARD", "MCOEV", "POWER_BI_PRO", "VISIOCLIENT"} {
		n, ok := seats[part]
		if !ok {
			n = 10
		}
		spec.SKUs = append(spec.SKUs, graphsim.SKUSpec{PartNumber: part, Enabled: n})
	}
	return spec
}

type licEnv struct {
	*testAPI
	handler http.Handler
	t       *testing.T
	sim     *graphsim.Sim
	sync    *tenantsync.Service
	db      *dynamodb.Client
	cust    string
	users   map[string]string // display name → id
}

func newLicEnv(t *testing.T, seats map[string]int) *licEnv {
	t.Helper()
	ctx := context.Background()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	db := dynamodb.NewFromConfig(cfg)
	st := store.New(db, stack.TableName)
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{litwareSpec(seats)}})
	running := sim.StartForTest(t)
	g, err := graph.New(graph.Config{
		AuthorityHost: running.AuthorityHost(), BaseURL: running.GraphURL(), RootCAs: running.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6,
	})
	td.Require(t).CmpNoError(err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sqsClient := sqs.NewFromConfig(cfg)
	syncSvc := &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL), Log: quiet}
	tokens := devauth.NewIssuer()
	deps := Deps{Store: st, Sync: syncSvc, Claims: tokens.Claims, Version: "test", Log: quiet,
		Licensing: &licensing.Service{Store: st, Graph: g, Log: quiet}}
	handler := New(deps)
	ta := &testAPI{TestAPI: tdhttp.NewTestAPI(t, handler), store: st, tokens: tokens, sqs: sqsClient, stack: stack, api: &api{Deps: deps}}
	e := &licEnv{testAPI: ta, handler: handler, t: t, sim: sim, sync: syncSvc, db: db, users: map[string]string{}}
	e.cust = ta.createCustomer("Litware", litware)
	return e
}

// addUser adds a user to the simulated tenant with direct licences (part numbers), before the first sync.
func (e *licEnv) addUser(name, usageLocation string, parts ...string) string {
	e.t.Helper()
	u, err := e.sim.AddUser(litware, graphsim.NewUser{DisplayName: name, UsageLocation: usageLocation})
	td.Require(e.t).CmpNoError(err)
	for _, p := range parts {
		td.Require(e.t).CmpNoError(e.sim.AssignDirectLicense(litware, u.ID, p, nil))
	}
	e.users[name] = u.ID
	return u.ID
}

// addGroup adds a licensing group assigning parts to the members.
func (e *licEnv) addGroup(name string, parts []string, members ...string) string {
	e.t.Helper()
	var ls []graphsim.GroupLicense
	for _, p := range parts {
		ls = append(ls, graphsim.GroupLicense{SkuID: p})
	}
	g, err := e.sim.AddGroup(litware, name, ls)
	td.Require(e.t).CmpNoError(err)
	for _, m := range members {
		td.Require(e.t).CmpNoError(e.sim.AddGroupMember(litware, g.ID, e.users[m]))
	}
	return g.ID
}

// syncNow runs one sync of the customer and returns its run.
func (e *licEnv) syncNow() domain.SyncRun {
	e.t.Helper()
	td.Require(e.t).CmpNoError(e.sync.SyncCustomer(context.Background(), e.cust, "test"))
	runs, err := e.store.SyncRuns(context.Background(), e.cust, "", 1)
	td.Require(e.t).CmpNoError(err)
	td.Require(e.t).Cmp(runs.Items, td.Len(1))
	return runs.Items[0]
}

func (e *licEnv) path(user string, rest ...string) string {
	return "/api/v1/customers/" + e.cust + "/users/" + e.users[user] + strings.Join(rest, "")
}

func (e *licEnv) customerAdmin() http.Header { return e.bearer(auth.CustomerAdmin, e.cust) }

// simLicences is what the simulator holds of a user: direct SKU → disabled plans, and SKU → groups.
func (e *licEnv) simLicences(user string) (map[string][]string, map[string][]string) {
	e.t.Helper()
	u, err := e.sim.User(litware, e.users[user])
	td.Require(e.t).CmpNoError(err)
	direct, groups := map[string][]string{}, map[string][]string{}
	for _, l := range u.Licenses {
		if l.AssignedByGroup == "" {
			direct[l.SkuID] = append([]string{}, l.DisabledPlans...)
		} else {
			groups[l.SkuID] = append(groups[l.SkuID], l.AssignedByGroup)
		}
	}
	return direct, groups
}

// stored is the user as the store holds it.
func (e *licEnv) stored(user string) domain.User {
	e.t.Helper()
	u, err := e.store.GetUser(context.Background(), e.cust, e.users[user])
	td.Require(e.t).CmpNoError(err)
	return u
}

// used is a SKU's consumed units as stored.
func (e *licEnv) used(skuID string) int {
	e.t.Helper()
	skus, err := e.store.CustomerSKUs(context.Background(), e.cust)
	td.Require(e.t).CmpNoError(err)
	for _, k := range skus {
		if k.SkuID == skuID {
			return k.Consumed
		}
	}
	e.t.Fatalf("SKU %s not stored", skuID)
	return 0
}

// simUsed is a SKU's consumed units in the simulator.
func (e *licEnv) simUsed(skuID string) int {
	e.t.Helper()
	skus, err := e.sim.SKUs(litware)
	td.Require(e.t).CmpNoError(err)
	for _, k := range skus {
		if k.SkuID == skuID {
			return k.Consumed
		}
	}
	return -1
}

// audits returns the audit records of a user, oldest first (read straight from the table).
func (e *licEnv) audits(user string) []map[string]any {
	e.t.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              &e.stack.TableName,
		KeyConditionExpression: licPtr("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "CUST#" + e.cust}, ":a": &types.AttributeValueMemberS{Value: "AUDIT#"},
		},
	})
	td.Require(e.t).CmpNoError(err)
	var rows []map[string]any
	td.Require(e.t).CmpNoError(attributevalue.UnmarshalListOfMaps(out.Items, &rows))
	var mine []map[string]any
	for _, r := range rows {
		if r["userId"] == e.users[user] {
			for _, k := range []string{"before", "after"} {
				if s, ok := r[k].(string); ok {
					var v any
					td.Require(e.t).CmpNoError(json.Unmarshal([]byte(s), &v))
					r[k] = v
				}
			}
			mine = append(mine, r)
		}
	}
	return mine
}

func licPtr[T any](v T) *T { return &v }

// seq matches a slice of any type item by item, in order (items may be operators).
func inOrder(items ...any) td.TestDeep {
	return td.Smuggle(func(v any) []any {
		rv := reflect.ValueOf(v)
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	}, items)
}

// apiError matches an error answer with the code and a message containing each of parts.
func licError(code string, parts ...string) td.TestDeep {
	msg := make([]any, len(parts))
	for i, p := range parts {
		msg[i] = td.Contains(p)
	}
	return td.All(td.JSONPointer("/error/code", code), td.JSONPointer("/error/message", td.All(msg...)))
}

// planOn finds the add-on of a licence in a user view.
func licPlanOn(v userView, skuID, planID string) any {
	for _, l := range v.Licences {
		if l.SkuID != skuID {
			continue
		}
		for _, p := range l.Plans {
			if p.ID == planID {
				return p.Enabled
			}
		}
	}
	return "not found"
}

func TestLicenceAssignWithAddOnsChangeAndRemove(t *testing.T) {
	e := newLicEnv(t, nil)
	e.addUser("Alice Adams", "US")
	e.syncNow()
	usedBefore := e.used(skuE3)

	// Assign Office 365 E3 with Sway switched off.
	var res licenceResultView
	e.PostJSON(e.path("Alice Adams", "/licences"), map[string]any{"skuId": skuE3, "disabledPlans": []string{planSway}}, e.customerAdmin()).
		CmpStatus(200).CmpJSONBody(td.Catch(&res, td.Ignore()))
	td.Cmp(t, res.RequestID, td.NotEmpty(), "Graph's request-id of the change")
	td.Cmp(t, licPlanOn(res.User, skuE3, planSway), false, "Sway is off in the answer")
	td.Cmp(t, licPlanOn(res.User, skuE3, planYammer), true)
	direct, _ := e.simLicences("Alice Adams")
	td.Cmp(t, direct, map[string][]string{skuE3: {planSway}}, "the simulator's user has the plan disabled")
	td.Cmp(t, e.stored("Alice Adams").Licences, []domain.Licence{{SkuID: skuE3, Direct: true, Groups: []string{},
		DisabledPlans: []string{planSway}, State: "Active", Error: "None"}}, "stored as Graph answered")
	td.Cmp(t, e.used(skuE3), usedBefore+1, "the stored SKU counts are Graph's")
	e.Get("/api/v1/customers/"+e.cust+"/users/"+e.users["Alice Adams"], e.bearer(auth.Viewer, e.cust)).CmpStatus(200).
		CmpJSONBody(td.Smuggle(func(v userView) any { return licPlanOn(v, skuE3, planSway) }, false))

	// Assigning it again is refused: change the add-ons instead.
	e.PostJSON(e.path("Alice Adams", "/licences"), map[string]any{"skuId": skuE3}, e.customerAdmin()).
		CmpStatus(409).CmpJSONBody(licError("conflict", "already holds Office 365 E3", "change its add-ons"))

	// Change the add-ons: Sway on, Yammer off.
	e.PutJSON(e.path("Alice Adams", "/licences/", skuE3), map[string]any{"disabledPlans": []string{planYammer}}, e.customerAdmin()).
		CmpStatus(200).CmpJSONBody(td.Catch(&res, td.Ignore()))
	td.Cmp(t, []any{licPlanOn(res.User, skuE3, planSway), licPlanOn(res.User, skuE3, planYammer)}, []any{true, false})
	direct, _ = e.simLicences("Alice Adams")
	td.Cmp(t, direct, map[string][]string{skuE3: {planYammer}})
	td.Cmp(t, e.used(skuE3), usedBefore+1, "changing add-ons takes no seat")
	// The same add-ons again: nothing to do, nothing sent.
	e.PutJSON(e.path("Alice Adams", "/licences/", skuE3), map[string]any{"disabledPlans": []string{planYammer}}, e.customerAdmin()).
		CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"requestId":"","notes":[$1]}`, td.Contains("Nothing to change")))

	// Remove it.
	e.Delete(e.path("Alice Adams", "/licences/", skuE3), nil, e.customerAdmin()).
		CmpStatus(200).CmpJSONBody(td.All(td.JSONPointer("/user/licences", td.Empty()), td.JSONPointer("/user/licensed", false),
		td.JSONPointer("/requestId", td.NotEmpty())))
	direct, _ = e.simLicences("Alice Adams")
	td.Cmp(t, direct, td.Empty())
	td.Cmp(t, e.used(skuE3), usedBefore)
	e.Delete(e.path("Alice Adams", "/licences/", skuE3), nil, e.customerAdmin()).
		CmpStatus(404).CmpJSONBody(licError("not_found", "does not hold Office 365 E3"))

	// Every change is audited: who, what (before → after), the outcome and Graph's request-id.
	td.Cmp(t, e.audits("Alice Adams"), inOrder(
		td.SuperMapOf(map[string]any{"action": "licence.assign", "outcome": "ok", "actor": "user-customer-admin",
			"requestId": td.NotEmpty(), "before": map[string]any{"licences": []any{}},
			"after": td.SuperMapOf(map[string]any{"licences": []any{td.SuperMapOf(map[string]any{
				"skuId": skuE3, "name": "Office 365 E3", "disabledPlans": []any{planSway}}, nil)}}, nil)}, nil),
		td.SuperMapOf(map[string]any{"action": "licence.assign", "outcome": "failed",
			"error": td.Contains("already holds")}, nil),
		td.SuperMapOf(map[string]any{"action": "licence.addons", "outcome": "ok", "requestId": td.NotEmpty()}, nil),
		td.SuperMapOf(map[string]any{"action": "licence.remove", "outcome": "ok", "requestId": td.NotEmpty(),
			"after": td.SuperMapOf(map[string]any{"licences": []any{}}, nil)}, nil),
	))

	// The next syncs agree with what the operations stored: they rewrite no user.
	td.Cmp(t, e.syncNow(), td.Struct(domain.SyncRun{Mode: "delta"}, td.StructFields{"UsersWritten": 0, "SKUsWritten": 0}))
	full := &tenantsync.Service{Store: e.store, Graph: e.sync.Graph, Jobs: e.sync.Jobs, Log: e.sync.Log, FullEvery: 1}
	td.Require(t).CmpNoError(full.SyncCustomer(context.Background(), e.cust, "test"))
	runs, err := e.store.SyncRuns(context.Background(), e.cust, "", 1)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, runs.Items[0], td.Struct(domain.SyncRun{Mode: "full"}, td.StructFields{"UsersWritten": 0, "SKUsWritten": 0}))
}

func TestLicenceRefusalsSayWhy(t *testing.T) {
	e := newLicEnv(t, map[string]int{"POWER_BI_PRO": 1})
	e.addUser("Bob Brown", "US")
	e.addUser("Nora Nolocation", "")
	e.addUser("Erin Exchange", "US", "EXCHANGESTANDARD")
	e.addUser("Gina Group", "US")
	e.addUser("Stale Stan", "US")
	e.addUser("Pat Powerbi", "US", "POWER_BI_PRO")
	e.addUser("Dora Direct", "US", "VISIOCLIENT")
	visio := e.addGroup("Visio users", []string{"VISIOCLIENT"}, "Gina Group")
	e.syncNow()
	admin := e.customerAdmin()
	assign := func(user, skuID string, plans ...string) *tdhttp.TestAPI {
		return e.PostJSON(e.path(user, "/licences"), map[string]any{"skuId": skuID, "disabledPlans": plans}, admin)
	}

	// Checked from the store, before Graph is called.
	assign("Nora Nolocation", skuE3).CmpStatus(400).CmpJSONBody(td.All(
		licError("invalid", "Nora Nolocation", "has no usage location", "default usage location"),
		td.JSONPointer("/error/fields", map[string]any{"usageLocation": "required before a licence can be assigned"})))
	assign("Bob Brown", licSKU("SPE_E5")).CmpStatus(400).
		CmpJSONBody(licError("invalid", "Litware has no subscription to Microsoft 365 E5"))
	assign("Bob Brown", skuE3, skuVisio).CmpStatus(400).CmpJSONBody(td.JSONPointer("/error/fields",
		map[string]any{"disabledPlans[0]": td.Contains("is not a service plan of Office 365 E3")}))
	assign("Bob Brown", skuBI).CmpStatus(409).
		CmpJSONBody(licError("conflict", "No seats available for Power BI Pro: 1 of 1 in use"))
	assign("Bob Brown", "not-a-guid").CmpStatus(400).
		CmpJSONBody(td.JSONPointer("/error/fields", map[string]any{"skuId": "must be a SKU id (a GUID)"}))
	e.PostJSON(e.path("Bob Brown", "/licences"), map[string]any{"skuId": skuE3, "plans": []string{}}, admin).
		CmpStatus(400).CmpJSONBody(td.JSONPointer("/error/fields", map[string]any{"plans": "unknown field"}))
	e.Delete(e.path("Gina Group", "/licences/", skuVisio), nil, admin).CmpStatus(409).CmpJSONBody(td.All(
		licError("conflict", "Gina Group", "holds Visio Plan 2 through the group 'Visio users' only", "cannot be removed from the user directly"),
		td.JSONPointer("/error/fields/skuId", "inherited from the group 'Visio users'")))
	e.PutJSON(e.path("Gina Group", "/licences/", skuVisio), map[string]any{"disabledPlans": []string{}}, admin).
		CmpStatus(409).CmpJSONBody(licError("conflict", "'Visio users'", "its add-ons are set on the group"))

	// Refused by Graph, explained by name.
	assign("Bob Brown", skuPhone).CmpStatus(409).CmpJSONBody(licError("conflict",
		"Microsoft 365 Phone System needs Skype for Business Online (Plan 2) or Skype for Business Online (Plan 1)",
		"Bob Brown", "would not have"))
	assign("Erin Exchange", skuE3).CmpStatus(409).CmpJSONBody(licError("conflict",
		"Exchange Online (Plan 1) and Exchange Online (Plan 2) cannot both be enabled for Erin Exchange"))
	// With Exchange Online (Plan 2) switched off in E3, there is no conflict.
	assign("Erin Exchange", skuE3, "efb87545-963c-4e0d-99df-69c6916d9eb0").CmpStatus(200)

	// The store is behind the tenant: Graph refuses, the message is the same, and the store catches up.
	_, err := e.sim.UpdateUser(litware, e.users["Stale Stan"], graphsim.UserPatch{UsageLocation: licPtr("")})
	td.Require(t).CmpNoError(err)
	assign("Stale Stan", skuE3).CmpStatus(400).CmpJSONBody(licError("invalid", "Stale Stan", "has no usage location"))
	td.Cmp(t, e.stored("Stale Stan").UsageLocation, "", "the refusal brought the stored user up to date")
	td.CmpNoError(t, e.sim.RemoveDirectLicense(litware, e.users["Dora Direct"], "VISIOCLIENT"))
	td.CmpNoError(t, e.sim.AddGroupMember(litware, visio, e.users["Dora Direct"]))
	e.Delete(e.path("Dora Direct", "/licences/", skuVisio), nil, admin).CmpStatus(409).
		CmpJSONBody(licError("conflict", "holds Visio Plan 2 through the group 'Visio users' only"))
	td.Cmp(t, e.stored("Dora Direct").Licences, []domain.Licence{{SkuID: skuVisio, Groups: []string{visio},
		DisabledPlans: []string{}, State: "Active", Error: "None"}})
	td.CmpNoError(t, e.sim.SetPrepaid(litware, "POWER_BI_PRO", 2))
	e.syncNow()
	td.CmpNoError(t, e.sim.AssignDirectLicense(litware, e.users["Erin Exchange"], "POWER_BI_PRO", nil)) // behind the store's back
	assign("Bob Brown", skuBI).CmpStatus(409).CmpJSONBody(licError("conflict", "No seats available for Power BI Pro: 2 of 2 in use"))
	td.Cmp(t, e.used(skuBI), 2, "the refusal brought the stored counts up to date")

	// Every refusal of a change to a user is audited, with Graph's request-id when Graph refused.
	td.Cmp(t, e.audits("Bob Brown"), td.All(td.Len(5), td.ArrayEach(td.SuperMapOf(map[string]any{
		"outcome": "failed", "error": td.NotEmpty(), "action": "licence.assign"}, nil))))
	td.Cmp(t, e.audits("Erin Exchange"), inOrder(
		td.SuperMapOf(map[string]any{"outcome": "failed", "requestId": td.NotEmpty(), "error": td.Contains("cannot both be enabled")}, nil),
		td.SuperMapOf(map[string]any{"outcome": "ok", "requestId": td.NotEmpty()}, nil),
	))
	td.Cmp(t, e.audits("Nora Nolocation"), td.Len(1))
	td.Cmp(t, e.audits("Gina Group"), td.Len(2))
	for _, name := range []string{"Bob Brown", "Nora Nolocation", "Gina Group"} {
		direct, _ := e.simLicences(name)
		td.Cmp(t, direct, td.Empty(), "%s: nothing changed", name)
	}
}

func TestLicenceReassign(t *testing.T) {
	e := newLicEnv(t, map[string]int{"ENTERPRISEPACK": 6, "VISIOCLIENT": 1})
	for _, n := range []string{"Ann", "Carl", "Dan", "Eve", "Fay", "Hal"} {
		e.addUser(n+" Holder", "US")
		td.Require(t).CmpNoError(e.sim.AssignDirectLicense(litware, e.users[n+" Holder"], "ENTERPRISEPACK", []string{planSway}))
	}
	e.addUser("Ben Taker", "US")
	e.addUser("Xena Exchange", "US", "EXCHANGESTANDARD") // E3's Exchange Online (Plan 2) excludes hers
	e.addUser("Ted Taker", "US")
	e.addUser("Vic Visio", "US", "VISIOCLIENT")
	e.addUser("Nils Nolocation", "")
	e.syncNow()
	admin := e.customerAdmin()
	reassign := func(from, skuID, to string) *tdhttp.TestAPI {
		return e.PostJSON(e.path(from, "/licences/", skuID, "/reassign"), map[string]any{"toUserId": e.users[to]}, admin)
	}
	var res reassignView

	// No seat free (E3: 6 of 6): From's licence is removed first, then To assigned, with From's add-ons.
	td.Cmp(t, e.used(skuE3), 6)
	reassign("Ann Holder", skuE3, "Ben Taker").CmpStatus(200).CmpJSONBody(td.Catch(&res, td.Ignore()))
	td.Cmp(t, res, td.Struct(reassignView{Done: true, ToHolds: true, SkuName: "Office 365 E3"}, td.StructFields{
		"Message": td.Contains("moved from Ann Holder"),
		"Steps": inOrder(
			td.Struct(stepView{Action: "licence.reassign.remove", UserID: e.users["Ann Holder"], OK: true}, td.StructFields{"RequestID": td.NotEmpty()}),
			td.Struct(stepView{Action: "licence.reassign.assign", UserID: e.users["Ben Taker"], OK: true}, td.StructFields{"RequestID": td.NotEmpty()}),
		),
		"From": td.Smuggle("Licences", td.Empty()),
		"To":   td.Smuggle(func(v userView) any { return licPlanOn(v, skuE3, planSway) }, false),
	}))
	direct, _ := e.simLicences("Ben Taker")
	td.Cmp(t, direct, map[string][]string{skuE3: {planSway}}, "Ben got Ann's add-ons")
	direct, _ = e.simLicences("Ann Holder")
	td.Cmp(t, direct, td.Empty())

	// No seat free, To refused by Graph: From gets the licence back with the same add-ons.
	var body reassignErrorBody
	reassign("Carl Holder", skuE3, "Xena Exchange").CmpStatus(409).CmpJSONBody(td.Catch(&body, td.Ignore()))
	td.Cmp(t, body.Error, td.Struct(errorDetail{Code: "conflict"}, td.StructFields{"Message": td.All(
		td.Contains("Xena Exchange"), td.Contains("could not get Office 365 E3"), td.Contains("cannot both be enabled"),
		td.Contains("Carl Holder (carl.holder@litware.onmicrosoft.com) got it back with the same add-ons"))}))
	td.Cmp(t, body.Reassign, td.Struct(reassignView{FromHolds: true, FromRegained: true}, td.StructFields{
		"Done": false, "ToHolds": false, "ToError": td.Contains("cannot both be enabled"), "FromError": ""}))
	td.Cmp(t, body.Reassign.Steps, inOrder(
		td.Struct(stepView{Action: "licence.reassign.remove", OK: true}, td.StructFields{"UserID": e.users["Carl Holder"], "RequestID": td.NotEmpty()}),
		td.Struct(stepView{Action: "licence.reassign.assign", OK: false}, td.StructFields{"UserID": e.users["Xena Exchange"], "Error": td.Contains("cannot both be enabled"), "RequestID": td.NotEmpty()}),
		td.Struct(stepView{Action: "licence.reassign.restore", OK: true}, td.StructFields{"UserID": e.users["Carl Holder"], "RequestID": td.NotEmpty()}),
	))
	direct, _ = e.simLicences("Carl Holder")
	td.Cmp(t, direct, map[string][]string{skuE3: {planSway}}, "Carl has it back, Sway still off")
	td.Cmp(t, e.stored("Carl Holder").Licences, td.Len(1))
	td.Cmp(t, e.audits("Carl Holder"), td.All(td.Len(2), td.ArrayEach(td.SuperMapOf(map[string]any{"outcome": "ok"}, nil))))
	td.Cmp(t, e.audits("Xena Exchange"), td.All(td.Len(1), td.ArrayEach(td.SuperMapOf(map[string]any{"outcome": "failed"}, nil))))

	// A seat free: To is assigned first; if Graph refuses To, From is never touched.
	td.CmpNoError(t, e.sim.SetPrepaid(litware, "ENTERPRISEPACK", 8))
	e.syncNow()
	reassign("Dan Holder", skuE3, "Xena Exchange").CmpStatus(409).CmpJSONBody(td.All(
		licError("conflict", "could not get Office 365 E3", "Dan Holder (dan.holder@litware.onmicrosoft.com) keeps it; nothing changed"),
		td.JSONPointer("/reassign", td.SuperJSONOf(`{"done":false,"fromHolds":true,"fromRegained":false,"steps":[$1]}`,
			td.SuperJSONOf(`{"action":"licence.reassign.assign","ok":false}`)))))
	td.Cmp(t, e.audits("Dan Holder"), td.Empty())
	reassign("Dan Holder", skuE3, "Ted Taker").CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"done":true,"steps":[$1,$2]}`,
		td.SuperJSONOf(`{"action":"licence.reassign.assign","ok":true}`), td.SuperJSONOf(`{"action":"licence.reassign.remove","ok":true}`)))
	direct, _ = e.simLicences("Ted Taker")
	td.Cmp(t, direct, map[string][]string{skuE3: {planSway}})

	// The stored counts say a seat is free but Graph has none: it goes the other way round.
	td.Cmp(t, e.used(skuE3), 6)
	td.CmpNoError(t, e.sim.SetPrepaid(litware, "ENTERPRISEPACK", 6))
	reassign("Eve Holder", skuE3, "Ann Holder").CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"done":true,"steps":[$1,$2]}`,
		td.SuperJSONOf(`{"action":"licence.reassign.remove","ok":true}`), td.SuperJSONOf(`{"action":"licence.reassign.assign","ok":true}`)))

	// Refused before Graph is called: a plain error, no "reassign".
	reassign("Fay Holder", skuE3, "Nils Nolocation").CmpStatus(400).CmpJSONBody(td.All(
		licError("invalid", "Nils Nolocation", "has no usage location"), td.Not(td.ContainsKey("reassign"))))
	reassign("Fay Holder", skuE3, "Ben Taker").CmpStatus(409).CmpJSONBody(licError("conflict", "Ben Taker", "already holds Office 365 E3"))
	reassign("Fay Holder", skuVisio, "Ben Taker").CmpStatus(404).CmpJSONBody(licError("not_found", "Fay Holder", "does not hold Visio Plan 2"))
	reassign("Fay Holder", skuE3, "Fay Holder").CmpStatus(400).CmpJSONBody(td.JSONPointer("/error/fields/toUserId", td.Contains("another user")))
	e.PostJSON(e.path("Fay Holder", "/licences/", skuE3, "/reassign"), map[string]any{}, admin).CmpStatus(400).
		CmpJSONBody(td.JSONPointer("/error/fields/toUserId", td.Contains("required")))
	e.PostJSON(e.path("Fay Holder", "/licences/", skuE3, "/reassign"), map[string]any{"toUserId": "nobody"}, admin).CmpStatus(404)
	direct, _ = e.simLicences("Fay Holder")
	td.Cmp(t, direct, map[string][]string{skuE3: {planSway}}, "Fay still holds it")

	// The next sync agrees with every stored change.
	td.Cmp(t, e.syncNow(), td.Struct(domain.SyncRun{Mode: "delta"}, td.StructFields{"UsersWritten": 0}))
}

func TestLicenceOffboardListsGroupLicences(t *testing.T) {
	e := newLicEnv(t, nil)
	e.addUser("Olga Offboard", "US", "ENTERPRISEPACK", "MCOEV", "VISIOCLIENT")
	e.addUser("Gus Grouponly", "US")
	e.addUser("Una Unlicensed", "US")
	e.addGroup("Visio users", []string{"VISIOCLIENT"}, "Olga Offboard")
	e.addGroup("BI users", []string{"POWER_BI_PRO"}, "Olga Offboard", "Gus Grouponly")
	e.syncNow()
	admin := e.customerAdmin()

	var res offboardView
	e.Post(e.path("Olga Offboard", "/offboard"), nil, admin).CmpStatus(200).CmpJSONBody(td.Catch(&res, td.Ignore()))
	td.Cmp(t, res.Removed, td.Bag(
		removedView{SkuID: skuE3, Name: "Office 365 E3"}, removedView{SkuID: skuPhone, Name: "Microsoft Teams Phone Standard"},
		removedView{SkuID: skuVisio, Name: "Visio Plan 2"}))
	td.Cmp(t, res.KeptViaGroup, td.Bag(
		td.Struct(groupLicenceView{SkuID: skuVisio, Name: "Visio Plan 2"}, td.StructFields{"Groups": inOrder(td.Struct(groupView{Name: "Visio users"}, nil))}),
		td.Struct(groupLicenceView{SkuID: skuBI, Name: "Power BI Pro"}, td.StructFields{"Groups": inOrder(td.Struct(groupView{Name: "BI users"}, nil))}),
	))
	td.Cmp(t, res.RequestID, td.NotEmpty())
	td.Cmp(t, res.Notes, td.Contains(td.Contains("still holds 2 licence(s) through groups")))
	direct, groups := e.simLicences("Olga Offboard")
	td.Cmp(t, direct, td.Empty())
	td.Cmp(t, groups, td.Len(2))
	td.Cmp(t, e.stored("Olga Offboard").Licences, td.All(td.Len(2), td.ArrayEach(td.Struct(domain.Licence{Direct: false}, nil))))
	td.Cmp(t, e.audits("Olga Offboard"), inOrder(td.SuperMapOf(map[string]any{"action": "licence.offboard", "outcome": "ok",
		"after": td.SuperMapOf(map[string]any{"requested": td.SuperMapOf(map[string]any{"remove": td.Len(3)}, nil)}, nil)}, nil)))

	// Only group licences: nothing to remove, nothing sent, they are listed.
	e.Post(e.path("Gus Grouponly", "/offboard"), strings.NewReader(`{}`), "Content-Type", "application/json", admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"removed":[],"keptViaGroup":[{"skuId":$1,"name":"Power BI Pro","groups":[{"id":$2,"name":"BI users"}]}],"requestId":""}`,
			skuBI, td.NotEmpty()))
	e.Post(e.path("Una Unlicensed", "/offboard"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"removed":[],"keptViaGroup":[],"notes":[$1]}`, td.Contains("nothing was removed")))
	e.Post(e.path("Una Unlicensed", "/offboard"), strings.NewReader(`{"all":true}`), "Content-Type", "application/json", admin).CmpStatus(400)
	td.Cmp(t, e.syncNow(), td.Struct(domain.SyncRun{}, td.StructFields{"UsersWritten": 0}))
}

func TestLicenceLastSeatRace(t *testing.T) {
	e := newLicEnv(t, map[string]int{"POWER_BI_PRO": 1})
	e.addUser("Rae Racer", "US")
	e.addUser("Ron Racer", "US")
	e.syncNow()
	td.Cmp(t, e.used(skuBI), 0)

	type answer struct {
		user   string
		status int
		body   map[string]any
	}
	answers := make([]answer, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, name := range []string{"Rae Racer", "Ron Racer"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := e.tokens.Token("admin-"+name, "Admin of "+name, auth.CustomerAdmin, []string{e.cust})
			if err != nil {
				panic(err)
			}
			req := tdhttp.NewRequest(http.MethodPost, e.path(name, "/licences"), strings.NewReader(`{"skuId":"`+skuBI+`"}`),
				"Content-Type", "application/json", "Authorization", "Bearer "+tok)
			<-start
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			answers[i] = answer{user: name, status: rec.Code, body: body}
		}()
	}
	close(start)
	wg.Wait()

	slices.SortFunc(answers, func(a, b answer) int { return a.status - b.status })
	td.Cmp(t, []int{answers[0].status, answers[1].status}, []int{200, 409}, "exactly one wins")
	winner, loser := answers[0].user, answers[1].user
	td.Cmp(t, answers[1].body, td.JSONPointer("/error/message", td.Contains("No seats available for Power BI Pro")))
	direct, _ := e.simLicences(winner)
	td.Cmp(t, direct, map[string][]string{skuBI: {}})
	direct, _ = e.simLicences(loser)
	td.Cmp(t, direct, td.Empty())
	td.Cmp(t, e.stored(loser).Licences, td.Empty(), "nothing stored for the loser")
	td.Cmp(t, []int{e.used(skuBI), e.simUsed(skuBI)}, []int{1, 1}, "one seat used, stored as in Graph")
	td.Cmp(t, e.audits(loser), inOrder(td.SuperMapOf(map[string]any{"actor": "admin-" + loser, "outcome": "failed",
		"error": td.Contains("No seats available")}, nil)), "the loser's only record is the failed attempt")
	td.Cmp(t, e.audits(winner), inOrder(td.SuperMapOf(map[string]any{"actor": "admin-" + winner, "outcome": "ok"}, nil)))
}

func TestLicenceRoutesNeedCustomerAdmin(t *testing.T) {
	e := newLicEnv(t, nil)
	e.addUser("Vera Viewed", "US", "ENTERPRISEPACK")
	e.addUser("Walt Other", "US")
	e.syncNow()
	writes := []struct {
		method, path, body string
	}{
		{http.MethodPost, e.path("Vera Viewed", "/licences"), `{"skuId":"` + skuVisio + `"}`},
		{http.MethodPut, e.path("Vera Viewed", "/licences/", skuE3), `{"disabledPlans":[]}`},
		{http.MethodDelete, e.path("Vera Viewed", "/licences/", skuE3), ``},
		{http.MethodPost, e.path("Vera Viewed", "/licences/", skuE3, "/reassign"), `{"toUserId":"` + e.users["Walt Other"] + `"}`},
		{http.MethodPost, e.path("Vera Viewed", "/offboard"), `{}`},
	}
	for _, w := range writes {
		for _, h := range []http.Header{e.bearer(auth.Viewer, e.cust), e.bearer(auth.Viewer, auth.AllCustomers)} {
			e.Name("viewer: " + w.method + " " + w.path).Request(tdhttp.NewRequest(w.method, w.path, strings.NewReader(w.body), "Content-Type", "application/json", h)).
				CmpStatus(403).CmpJSONBody(licError("forbidden", "viewer role cannot do this"))
		}
		e.Name("other customer's admin: " + w.method + " " + w.path).Request(tdhttp.NewRequest(w.method, w.path, strings.NewReader(w.body),
			"Content-Type", "application/json", e.bearer(auth.CustomerAdmin, "someone-else"))).CmpStatus(404)
	}
	direct, _ := e.simLicences("Vera Viewed")
	td.Cmp(t, direct, map[string][]string{skuE3: {}}, "nothing changed")
	td.Cmp(t, e.audits("Vera Viewed"), td.Empty())
	// Customer admins and provider admins may.
	e.PutJSON(e.path("Vera Viewed", "/licences/", skuE3), map[string]any{"disabledPlans": []string{planSway}}, e.customerAdmin()).CmpStatus(200)
	e.PutJSON(e.path("Vera Viewed", "/licences/", skuE3), map[string]any{"disabledPlans": []string{}}, e.admin()).CmpStatus(200)
}

// TestLicenceReassignOverAssignedIsRefused: with more holders than seats, taking the seat from one holder frees
// none, so the move is refused before Graph is called and the holder keeps the licence.
func TestLicenceReassignOverAssignedIsRefused(t *testing.T) {
	e := newLicEnv(t, map[string]int{"VISIOCLIENT": 1})
	e.addUser("Vic Visio", "US", "VISIOCLIENT")
	e.addUser("Olly Over", "US")
	td.Require(t).CmpNoError(e.sim.AssignDirectLicense(litware, e.users["Olly Over"], "VISIOCLIENT", nil)) // admin center: 2 of 1
	e.addUser("Ben Taker", "US")
	e.syncNow()
	e.PostJSON(e.path("Vic Visio", "/licences/", skuVisio, "/reassign"), map[string]any{"toUserId": e.users["Ben Taker"]}, e.customerAdmin()).
		CmpStatus(409).
		CmpJSONBody(td.SuperJSONOf(`{"error":$1}`, td.SuperMapOf(map[string]any{
			"code": "conflict", "message": td.All(td.Contains("over-assigned (2 of 1 in use)"), td.Contains("free 1 seat(s) first")),
		}, nil)))
	direct, _ := e.simLicences("Vic Visio")
	td.Cmp(t, direct, td.ContainsKey(skuVisio), "Vic keeps the licence")
	td.Cmp(t, e.simUsed(skuVisio), 2)
}
