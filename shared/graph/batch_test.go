package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// bulkSim is the licensing tenant with 100 free Power BI seats.
func bulkSim(t *testing.T) *graphsim.Running {
	return licSim(t, graphsim.SKUSpec{PartNumber: "POWER_BI_PRO", Enabled: 100})
}

func addPowerBI(users []graphsim.User) []graph.LicenseOp {
	ops := make([]graph.LicenseOp, len(users))
	for i, u := range users {
		ops[i] = graph.LicenseOp{UserID: u.ID, Add: []domain.AssignedLicense{{SkuID: licPowerBI}}}
	}
	return ops
}

// TestAssignManyUnderFaults: 45 changes through $batch with 20 % 429 and 5 % 503 injected on every Graph request
// (the batches and each item in them) all end applied, each exactly once, in about ⌈45/20⌉ batches plus retries.
func TestAssignManyUnderFaults(t *testing.T) {
	run := bulkSim(t)
	sim := run.Sim
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 10), licTenant)
	users := licUsers(t, sim, licTenant, 45, func(u graphsim.User) bool { return u.UsageLocation != "" && !licHas(u, licPowerBI) })[:45]
	_, err := c.ListSKUs(ctxFor(t, 10*time.Second)) // the token, before the faults
	td.Require(t).CmpNoError(err)
	before := sim.Stats()
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Rate429: 0.2, Rate503: 0.05}))

	start := time.Now()
	results := c.AssignMany(ctxFor(t, 30*time.Second), addPowerBI(users), 3)
	elapsed := time.Since(start)
	sim.ClearFaults()

	td.Require(t).Cmp(results, td.Len(45))
	retried := 0
	for i, r := range results {
		td.Cmp(t, r, td.Struct(graph.LicenseResult{Index: i}, td.StructFields{
			"Err": nil, "User": td.Struct(domain.GraphUser{ID: users[i].ID}, nil), "Attempts": td.Between(1, 11),
			"Op": td.Struct(graph.LicenseOp{UserID: users[i].ID}, td.StructFields{"Add": td.Len(1)}),
		}), "op %d", i)
		retried += r.Attempts - 1
	}
	for _, u := range users {
		n := 0
		for _, l := range licUser(t, sim, licTenant, u.ID).Licenses {
			if l.SkuID == licPowerBI {
				n++
			}
		}
		td.Cmp(t, n, 1, "%s licensed exactly once", u.UserPrincipalName)
	}
	td.Cmp(t, licSKU(t, c, licPowerBI).Consumed, 45)

	st := sim.Stats()
	count := func(ep string, status int) int { return st.Count(ep, status) - before.Count(ep, status) }
	const item = "POST /v1.0/users/{id}/assignLicense"
	td.Cmp(t, count(item, 200), 45, "each change applied exactly once")
	td.Cmp(t, count(item, 400), 0)
	itemFaults := count(item, 429) + count(item, 503)
	td.Cmp(t, itemFaults, retried, "every item fault retried, nothing else")
	td.Cmp(t, itemFaults, td.Gt(0), "faults were injected into items")
	batches := count("POST /v1.0/$batch", 0)
	batchFaults := count("POST /v1.0/$batch", 429) + count("POST /v1.0/$batch", 503)
	t.Logf("45 changes: %d $batch requests (%d answered 200, %d throttled or unavailable and retried by the middleware), %d item faults retried by AssignMany, %s",
		batches, batches-batchFaults, batchFaults, itemFaults, elapsed.Round(time.Millisecond))
	td.Cmp(t, batches-batchFaults, td.Between(3, 3+itemFaults), "⌈45/20⌉ batches, plus at most one per retried item")
	td.Cmp(t, elapsed, td.Lt(15*time.Second))
}

func TestAssignManyOutcomes(t *testing.T) {
	run := bulkSim(t)
	sim := run.Sim
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 3), licTenant)
	free := licUsers(t, sim, licTenant, 2, licFree) // no licence: distinct from e3 below
	noLocation := licUsers(t, sim, licTenant, 1, func(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation == "" })[0]
	e3 := licUsers(t, sim, licTenant, 1, func(u graphsim.User) bool { return licCleanE3(u) && len(u.Licenses) == 1 })[0]

	ops := []graph.LicenseOp{
		{UserID: free[0].ID, Add: []domain.AssignedLicense{{SkuID: licPowerBI}}},
		{UserID: noLocation.ID, Add: []domain.AssignedLicense{{SkuID: licPowerBI}}},
		{UserID: e3.ID, Add: []domain.AssignedLicense{{SkuID: licExchange}}},
		{UserID: "00000000-0000-4000-8000-000000000001", Add: []domain.AssignedLicense{{SkuID: licPowerBI}}},
		{UserID: free[1].ID, Add: []domain.AssignedLicense{{SkuID: "nope"}}},
		{UserID: free[1].ID, Add: []domain.AssignedLicense{{SkuID: licPowerBI}}},
		{UserID: e3.ID, Remove: []string{licPowerBI}},
	}
	results := c.AssignMany(ctxFor(t, 20*time.Second), ops, 0)
	td.Require(t).Cmp(results, td.Len(len(ops)))
	kind := func(err error) graph.LicenseErrorKind {
		var le *graph.LicenseError
		if errors.As(err, &le) {
			return le.Kind
		}
		return ""
	}
	td.Cmp(t, results[0].Err, nil)
	td.Cmp(t, results[0].User.ID, free[0].ID)
	td.Cmp(t, []any{domain.ErrorCode(results[1].Err), kind(results[1].Err)}, []any{domain.EInvalid, graph.UsageLocationMissing})
	td.Cmp(t, []any{domain.ErrorCode(results[2].Err), kind(results[2].Err)}, []any{domain.EConflict, graph.MutuallyExclusive})
	var le *graph.LicenseError
	td.Require(t).Cmp(errors.As(results[2].Err, &le), true)
	td.Cmp(t, le.Plans, []string{licPlanExchangeStd, licPlanExchangeEnt})
	td.Cmp(t, domain.ErrorCode(results[3].Err), domain.ENotFound)
	td.Cmp(t, results[4], td.Struct(graph.LicenseResult{Index: 4, Attempts: 0}, td.StructFields{"Err": td.Code(func(err error) bool { return domain.ErrorCode(err) == domain.EInvalid }), "Op": td.Ignore()}),
		"invalid on its face: not sent")
	td.Cmp(t, results[5].Err, nil)
	td.Cmp(t, []any{domain.ErrorCode(results[6].Err), kind(results[6].Err)}, []any{domain.EConflict, graph.NotAssigned})
	td.Cmp(t, sim.Stats().Count("POST /v1.0/$batch", 200), 1, "one batch for six sendable ops")
	td.Cmp(t, c.AssignMany(ctxFor(t, time.Second), nil, 2), td.Empty())
}

func TestAssignManyRetryAfter(t *testing.T) {
	run := bulkSim(t)
	sim := run.Sim
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 3), licTenant)
	free := licUsers(t, sim, licTenant, 3, func(u graphsim.User) bool { return u.UsageLocation != "" && !licHas(u, licPowerBI) })
	_, err := c.ListSKUs(ctxFor(t, 10*time.Second))
	td.Require(t).CmpNoError(err)

	// An item throttled with Retry-After: 1 is sent again a second later, in a batch of its own.
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + free[0].ID + "/assignLicense", Rate429: 1, RetryAfterSeconds: 1, Times: 1}))
	start := time.Now()
	results := c.AssignMany(ctxFor(t, 10*time.Second), addPowerBI(free[:2]), 2)
	td.Cmp(t, time.Since(start), td.Between(time.Second, 3*time.Second))
	td.Cmp(t, []any{results[0].Err, results[0].Attempts, results[1].Err, results[1].Attempts}, []any{nil, 2, nil, 1})
	td.Cmp(t, sim.Stats().Count("POST /v1.0/$batch", 200), 2)

	// A Retry-After past the deadline fails the item at once (EThrottled) instead of sleeping into the deadline.
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + free[2].ID + "/assignLicense", Rate429: 1, RetryAfterSeconds: 60}))
	start = time.Now()
	results = c.AssignMany(ctxFor(t, 5*time.Second), addPowerBI(free[2:3]), 1)
	td.Cmp(t, time.Since(start), td.Lt(2*time.Second))
	td.Cmp(t, domain.ErrorCode(results[0].Err), domain.EThrottled)
	td.Cmp(t, domain.ErrorMessage(results[0].Err), td.Contains("past the deadline"))

	// Retries exhausted: the last answer's error.
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + free[2].ID + "/assignLicense", Rate503: 1}))
	results = c.AssignMany(ctxFor(t, 5*time.Second), addPowerBI(free[2:3]), 1)
	td.Cmp(t, domain.ErrorCode(results[0].Err), domain.EUpstream)
	td.Cmp(t, results[0].Attempts, 4, "first attempt + MaxRetries")

	// The context ends while an item waits: it fails EUpstream.
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + free[2].ID + "/assignLicense", Rate429: 1, RetryAfterSeconds: 1}))
	ctx, cancel := context.WithCancel(context.Background()) // no deadline: the Retry-After is waited for
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	start = time.Now()
	results = c.AssignMany(ctx, addPowerBI(free[2:3]), 1)
	td.Cmp(t, domain.ErrorCode(results[0].Err), domain.EUpstream)
	td.Cmp(t, time.Since(start), td.Lt(time.Second))
}

// TestBatchContract sends raw batches through the client's adapter: Graph's limit of 20 requests, and 424 for a
// request whose dependency failed.
func TestBatchContract(t *testing.T) {
	run := licSim(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), licTenant)
	free := licUsers(t, run.Sim, licTenant, 1, licFree)[0]
	get := func(id, url string, deps ...string) graph.BatchRequestItem {
		return graph.BatchRequestItem{ID: id, Method: "GET", URL: url, DependsOn: deps}
	}

	var items []graph.BatchRequestItem
	for i := range 21 {
		items = append(items, get(fmt.Sprint(i), "/users/"+free.ID))
	}
	_, err := c.PostBatchForTest(ctxFor(t, 10*time.Second), items)
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains("HTTP 400"))
	answers, err := c.PostBatchForTest(ctxFor(t, 10*time.Second), items[:20])
	td.Require(t).CmpNoError(err)
	td.Cmp(t, answers, td.Len(20))

	body, _ := json.Marshal(map[string]any{"addLicenses": []any{map[string]any{"skuId": licPowerBI, "disabledPlans": []string{}}}})
	answers, err = c.PostBatchForTest(ctxFor(t, 10*time.Second), []graph.BatchRequestItem{
		{ID: "1", Method: "POST", URL: "/users/" + free.ID + "/assignLicense", Headers: map[string]string{"Content-Type": "application/json"}, Body: body},
		get("2", "/users/"+free.ID+"/licenseDetails", "1"),
		get("3", "/users/"+free.ID),
	})
	td.Require(t).CmpNoError(err)
	byID := map[string]graph.BatchResponseItem{}
	for _, a := range answers {
		byID[a.ID] = a
	}
	td.Cmp(t, byID["1"].Status, 400, "removeLicenses missing")
	td.Cmp(t, string(byID["1"].Body), td.Contains("removeLicenses"))
	td.Cmp(t, byID["2"].Status, 424)
	td.Cmp(t, byID["3"].Status, 200)
}
