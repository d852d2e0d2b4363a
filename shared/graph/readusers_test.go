package graph_test

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// TestReadUsersThroughBatchUnderFaults: 45 users (and an unknown one) read through $batch with 30 % 429 injected
// come back exactly as a listing decodes them, in ⌈46/20⌉ batches plus retries; AssignMany reports request-ids.
func TestReadUsersThroughBatchUnderFaults(t *testing.T) {
	run := bulkSim(t)
	sim := run.Sim
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 10), licTenant)
	users := licUsers(t, sim, licTenant, 45, func(u graphsim.User) bool { return true })[:45]
	want := wantUsers(t, sim, licTenant)
	ids := make([]string, 0, 46)
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	ids = append(ids[:10], append([]string{"00000000-0000-4000-8000-000000000000"}, ids[10:]...)...)
	_, err := c.ListSKUs(ctxFor(t, 10*time.Second)) // the token, before the faults
	td.Require(t).CmpNoError(err)
	before := sim.Stats()
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Rate429: 0.3}))
	results := c.ReadUsers(ctxFor(t, 30*time.Second), ids, 2)
	sim.ClearFaults()

	td.Require(t).Cmp(results, td.Len(46))
	for i, r := range results {
		if i == 10 {
			td.Cmp(t, domain.ErrorCode(r.Err), domain.ENotFound, "unknown user")
			continue
		}
		td.Cmp(t, r, graph.UserResult{Index: i, ID: ids[i], User: want[ids[i]]}, "user %d", i)
	}
	st := sim.Stats()
	ok := st.Count("GET /v1.0/users/{id}", 200) - before.Count("GET /v1.0/users/{id}", 200)
	td.Cmp(t, ok, 45, "each user read once")
	td.Cmp(t, st.Count("GET /v1.0/users/{id}", 429)-before.Count("GET /v1.0/users/{id}", 429), td.Gt(0), "faults were injected")

	bad := c.ReadUsers(ctxFor(t, 5*time.Second), []string{"a/b"}, 0)
	td.Cmp(t, domain.ErrorCode(bad[0].Err), domain.EInvalid)

	free := licUsers(t, sim, licTenant, 2, func(u graphsim.User) bool { return u.UsageLocation != "" && !licHas(u, licPowerBI) })
	res := c.AssignMany(ctxFor(t, 10*time.Second), addPowerBI(free[:2]), 0)
	for _, r := range res {
		td.Cmp(t, r.RequestID, td.Re(`^[0-9a-f-]{36}$`), "request-id of the item's answer")
	}
}
