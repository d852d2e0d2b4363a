package licensing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

const (
	bulkTenant = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	bulkE3     = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3
	bulkPBI    = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO
	bulkYammer = "7547a3fe-08ee-4ccb-b430-5077c5041653" // YAMMER_ENTERPRISE, a plan of SPE_E3
)

// bulkEnv is a customer synced from a simulated tenant (30 people, 10 on Microsoft 365 E3, 5 free Power BI seats),
// with the real store (moto), Graph client and sync.
type bulkEnv struct {
	sim       *graphsim.Sim
	store     *store.Store
	graph     *graph.Factory
	sync      *tenantsync.Service
	templates *licensing.Templates
	customer  string
}

type noQueue struct{}

func (noQueue) Send(context.Context, any) error { return nil }

func newBulkEnv(t *testing.T) *bulkEnv {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sim := graphsim.New(graphsim.Options{Seed: 5, Tenants: []graphsim.TenantSpec{{
		ID: bulkTenant, Name: "Bulk Ltd", Domain: "bulk.onmicrosoft.com", Users: 30, UsageLocation: "GB", Country: "United Kingdom",
		SKUs: []graphsim.SKUSpec{
			{PartNumber: "SPE_E3", Enabled: 30, Assigned: 10, Base: true},
			{PartNumber: "POWER_BI_PRO", Enabled: 5},
		},
	}}})
	run := sim.StartForTest(t)
	g, err := graph.New(graph.Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 8})
	td.Require(t).CmpNoError(err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &bulkEnv{sim: sim, store: st, graph: g, customer: "cust-bulk",
		sync: &tenantsync.Service{Store: st, Graph: g, Jobs: noQueue{}, Log: quiet}}
	e.templates = &licensing.Templates{Store: st, Bulk: &licensing.Bulk{Store: st, Graph: g, Log: quiet}}
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, domain.Customer{ID: e.customer, Name: "Bulk Ltd", TenantID: bulkTenant,
		CreatedAt: time.Now().UTC(), Version: 1}, "test"))
	td.Require(t).CmpNoError(e.sync.SyncCustomer(ctx, e.customer, "test"))
	return e
}

// pick returns n of the tenant's users that satisfy ok.
func (e *bulkEnv) pick(t *testing.T, n int, ok func(graphsim.User) bool) []graphsim.User {
	t.Helper()
	all, err := e.sim.Users(bulkTenant)
	td.Require(t).CmpNoError(err)
	var out []graphsim.User
	for _, u := range all {
		if ok(u) && len(out) < n {
			out = append(out, u)
		}
	}
	td.Require(t).Cmp(out, td.Len(n), "enough users")
	return out
}

func (e *bulkEnv) simUser(t *testing.T, id string) graphsim.User {
	t.Helper()
	all, err := e.sim.Users(bulkTenant)
	td.Require(t).CmpNoError(err)
	for _, u := range all {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no user %s", id)
	return graphsim.User{}
}

func (e *bulkEnv) consumed(t *testing.T, sku string) (sim, stored int) {
	t.Helper()
	skus, err := e.sim.SKUs(bulkTenant)
	td.Require(t).CmpNoError(err)
	for _, s := range skus {
		if s.SkuID == sku {
			sim = s.Consumed
		}
	}
	st, err := e.store.CustomerSKUs(context.Background(), e.customer)
	td.Require(t).CmpNoError(err)
	for _, s := range st {
		if s.SkuID == sku {
			stored = s.Consumed
		}
	}
	return sim, stored
}

func unlicensed(withLocation bool) func(graphsim.User) bool {
	return func(u graphsim.User) bool { return len(u.Licenses) == 0 && (u.UsageLocation != "") == withLocation }
}

func heldDirect(u graphsim.User, sku string) []graphsim.License {
	var out []graphsim.License
	for _, l := range u.Licenses {
		if l.SkuID == sku && l.AssignedByGroup == "" {
			out = append(out, l)
		}
	}
	return out
}

// TestAssignTemplateToManyUsers: a template (E3 without Viva Engage, and Power BI) assigned to five users under
// 30 % throttling: the one without a usage location gets its own error, the others get the licences exactly once;
// the store then holds what Graph holds (so the next sync writes nothing), each attempt is audited, a repeat is
// unchanged, and a request short of seats changes nothing.
func TestAssignTemplateToManyUsers(t *testing.T) {
	e := newBulkEnv(t)
	ctx := context.Background()
	tpl, err := e.templates.Create(ctx, e.customer, "alice", licensing.TemplateInput{Name: "Analyst",
		Licences: []domain.AssignedLicense{{SkuID: bulkE3, DisabledPlans: []string{bulkYammer}}, {SkuID: bulkPBI}}})
	td.Require(t).CmpNoError(err)

	fresh := e.pick(t, 3, unlicensed(true))
	noLocation := e.pick(t, 1, unlicensed(false))[0]
	e3Holder := e.pick(t, 1, func(u graphsim.User) bool { return len(u.Licenses) == 1 && len(u.Licenses[0].DisabledPlans) == 0 })[0]
	ids := []string{fresh[0].ID, noLocation.ID, fresh[1].ID, e3Holder.ID, fresh[2].ID}
	e3Before, _ := e.consumed(t, bulkE3)
	pbiBefore, _ := e.consumed(t, bulkPBI)

	td.Require(t).CmpNoError(e.sim.SetFaults(graphsim.Faults{Rate429: 0.3}))
	results, err := e.templates.Assign(ctx, e.customer, tpl.ID, "alice", ids)
	e.sim.ClearFaults()
	td.Require(t).CmpNoError(err)
	ok := td.Struct(licensing.BulkResult{Outcome: licensing.BulkOK}, td.StructFields{"RequestID": td.NotEmpty(), "User": td.NotNil()})
	td.Cmp(t, results, td.Slice([]licensing.BulkResult{}, td.ArrayEntries{
		0: ok, 1: td.Struct(licensing.BulkResult{UserID: noLocation.ID, Outcome: licensing.BulkFailed, Code: domain.EInvalid,
			Reason: string(graph.UsageLocationMissing)}, td.StructFields{"Error": td.Contains("no usage location")}),
		2: ok, 3: ok, 4: ok,
	}))

	for _, id := range []string{fresh[0].ID, fresh[1].ID, fresh[2].ID, e3Holder.ID} {
		u := e.simUser(t, id)
		td.Cmp(t, heldDirect(u, bulkE3), td.Smuggle(func(ls []graphsim.License) [][]string {
			var out [][]string
			for _, l := range ls {
				out = append(out, l.DisabledPlans)
			}
			return out
		}, [][]string{{bulkYammer}}), "%s: E3 once, Viva Engage off", u.DisplayName)
		td.Cmp(t, heldDirect(u, bulkPBI), td.Len(1), "%s: Power BI once", u.DisplayName)
		stored, err := e.store.GetUser(ctx, e.customer, id)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, stored.Licences, td.Bag(
			td.SuperJSONOf(`{"skuId":$1,"direct":true,"disabledPlans":[$2]}`, bulkE3, bulkYammer),
			td.SuperJSONOf(`{"skuId":$1,"direct":true,"disabledPlans":[]}`, bulkPBI)), "stored as Graph answered")
	}
	td.Cmp(t, e.simUser(t, noLocation.ID).Licenses, td.Empty(), "the user without a usage location got nothing")
	e3Sim, e3Stored := e.consumed(t, bulkE3)
	pbiSim, pbiStored := e.consumed(t, bulkPBI)
	td.Cmp(t, []int{e3Sim, pbiSim}, []int{e3Before + 3, pbiBefore + 4}, "seats taken once each (the E3 holder kept its seat)")
	td.Cmp(t, []int{e3Stored, pbiStored}, []int{e3Sim, pbiSim}, "stored SKU counts are Graph's")

	// The next sync finds nothing to write.
	td.Require(t).CmpNoError(e.sync.SyncCustomer(ctx, e.customer, "test"))
	runs, err := e.store.SyncRuns(ctx, e.customer, "", 1)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, runs.Items, td.Len(1))
	td.Cmp(t, runs.Items[0], td.SuperJSONOf(`{"status":"ok","usersWritten":0,"skusWritten":0}`), "the next sync agrees")
	counted, err := e.store.CountUsers(ctx, e.customer)
	td.Require(t).CmpNoError(err)
	cust, err := e.store.GetCustomer(ctx, e.customer)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, cust.Sync.LicensedCount, counted.LicensedCount, "the customer's counts moved with the users")
	td.Cmp(t, cust.Sync.UserCount, counted.UserCount)

	// Every attempt is audited, per user.
	audit, err := e.store.ListAudit(ctx, e.customer, store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	var assigns []domain.AuditRecord
	for _, r := range audit.Items {
		if r.Action == licensing.ActionTemplateAssign {
			assigns = append(assigns, r)
		}
	}
	td.Cmp(t, assigns, td.Len(5))
	byUser, err := e.store.ListAudit(ctx, e.customer, store.AuditQuery{UserID: noLocation.ID})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, byUser.Items, td.Slice([]domain.AuditRecord{}, td.ArrayEntries{0: td.SuperJSONOf(`{"action":"template.assign","outcome":"failed","userId":$1,"error":$2,"after":$3}`,
		noLocation.ID, td.Contains("usage location"), td.SuperJSONOf(`{"source":{"templateId":$1,"name":"Analyst","version":1}}`, tpl.ID))}))
	byUser, err = e.store.ListAudit(ctx, e.customer, store.AuditQuery{UserID: fresh[0].ID})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, byUser.Items, td.Slice([]domain.AuditRecord{}, td.ArrayEntries{0: td.SuperJSONOf(`{"outcome":"ok","requestId":$1,"before":{"licences":[]},"after":$2}`,
		td.NotEmpty(), td.SuperMapOf(map[string]any{"licences": td.Len(2)}, nil))}))

	// Again: nothing to do, nothing sent.
	before := e.sim.Stats()
	results, err = e.templates.Assign(ctx, e.customer, tpl.ID, "alice", []string{fresh[0].ID})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, results, []licensing.BulkResult{{UserID: fresh[0].ID, Outcome: licensing.BulkUnchanged}})
	td.Cmp(t, e.sim.Stats().Count("POST /v1.0/$batch", 0), before.Count("POST /v1.0/$batch", 0), "no Graph call")

	// One Power BI seat is left: a request for three users changes nothing and says why.
	more := e.pick(t, 3, func(u graphsim.User) bool {
		return u.UsageLocation != "" && len(u.Licenses) == 0 && !slices.Contains(ids, u.ID)
	})
	pbiOnly, err := e.templates.Create(ctx, e.customer, "alice", licensing.TemplateInput{Name: "Power BI",
		Licences: []domain.AssignedLicense{{SkuID: bulkPBI}}})
	td.Require(t).CmpNoError(err)
	_, err = e.templates.Assign(ctx, e.customer, pbiOnly.ID, "alice", []string{more[0].ID, more[1].ID, more[2].ID})
	td.Cmp(t, err, td.Smuggle(func(err error) *domain.Error {
		var de *domain.Error
		td.Require(t).True(errorsAs(err, &de))
		return de
	}, td.Struct(&domain.Error{Code: domain.EConflict, Fields: map[string]string{bulkPBI: "3 seats needed, 1 available"}},
		td.StructFields{"Message": td.Contains("Power BI Pro (3 needed, 1 available)")})))
	pbiAfter, _ := e.consumed(t, bulkPBI)
	td.Cmp(t, pbiAfter, pbiSim, "nothing changed")
}

// TestTemplateValidationAndLocking covers the template rules and the optimistic locking of edits.
func TestTemplateValidationAndLocking(t *testing.T) {
	e := newBulkEnv(t)
	ctx := context.Background()
	_, err := e.templates.Create(ctx, e.customer, "alice", licensing.TemplateInput{
		Name: " ", Description: string(make([]byte, 1001)),
		Licences: []domain.AssignedLicense{
			{SkuID: "not-a-guid"},
			{SkuID: bulkE3, DisabledPlans: []string{"70d33638-9c74-4d01-bfd3-562de28bd4ba", bulkYammer, bulkYammer}},
			{SkuID: "00000000-0000-4000-8000-000000000000"},
			{SkuID: bulkE3},
		}})
	td.Cmp(t, err, td.Smuggle(fieldsOf, map[string]string{
		"name":                         "required",
		"description":                  "at most 1000 characters",
		"licences[0].skuId":            "must be a SKU id (a GUID)",
		"licences[1].disabledPlans[0]": "not a service plan of Microsoft 365 E3",
		"licences[1].disabledPlans[2]": "listed twice",
		"licences[2].skuId":            "the customer has no subscription to this SKU",
		"licences[3].skuId":            "listed twice (also licences[1])",
	}))
	_, err = e.templates.Create(ctx, e.customer, "alice", licensing.TemplateInput{Name: "Empty"})
	td.Cmp(t, err, td.Smuggle(fieldsOf, map[string]string{"licences": "at least one licence is required"}))
	_, err = e.templates.Create(ctx, "nope", "alice", licensing.TemplateInput{Name: "X"})
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	tpl, err := e.templates.Create(ctx, e.customer, "alice", licensing.TemplateInput{Name: " Analyst ", Description: "d",
		Licences: []domain.AssignedLicense{{SkuID: "05E9A617-0261-4CEE-BB44-138D3EF5D965", DisabledPlans: []string{"7547A3FE-08EE-4CCB-B430-5077C5041653"}}}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, tpl, td.SuperJSONOf(`{"name":"Analyst","version":1,"licences":[{"skuId":$1,"disabledPlans":[$2]}]}`, bulkE3, bulkYammer))
	_, err = e.templates.Create(ctx, e.customer, "bob", licensing.TemplateInput{Name: "analyst", Licences: tpl.Licences})
	td.Cmp(t, err, td.Smuggle(fieldsOf, td.ContainsKey("name")), "names are unique per customer")

	in := licensing.TemplateInput{Name: "Analyst v2", Licences: tpl.Licences}
	_, err = e.templates.Update(ctx, e.customer, tpl.ID, 1, "alice", in)
	td.Require(t).CmpNoError(err)
	in.Name = "Bob's"
	_, err = e.templates.Update(ctx, e.customer, tpl.ID, 1, "bob", in)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "second edit from the same version")
	td.Cmp(t, domain.ErrorCode(e.templates.Delete(ctx, e.customer, tpl.ID, 1, "bob")), domain.EConflict)
	got, err := e.templates.Get(ctx, e.customer, tpl.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, td.SuperJSONOf(`{"name":"Analyst v2","version":2}`))

	_, err = e.templates.Assign(ctx, e.customer, tpl.ID, "alice", nil)
	td.Cmp(t, err, td.Smuggle(fieldsOf, map[string]string{"userIds": "at least one user is required"}))
	_, err = e.templates.Assign(ctx, e.customer, tpl.ID, "alice", make([]string, licensing.MaxTemplateAssign+1))
	td.Cmp(t, err, td.Smuggle(fieldsOf, td.ContainsKey("userIds")))
	_, err = e.templates.Assign(ctx, e.customer, tpl.ID, "alice", []string{"a", "A"})
	td.Cmp(t, err, td.Smuggle(fieldsOf, map[string]string{"userIds[1]": "listed twice (also userIds[0])"}))
	_, err = e.templates.Assign(ctx, e.customer, "nope", "alice", []string{"a"})
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

func fieldsOf(err error) map[string]string {
	var de *domain.Error
	if errorsAs(err, &de) {
		return de.Fields
	}
	return nil
}

func errorsAs(err error, target **domain.Error) bool { return errors.As(err, target) }
