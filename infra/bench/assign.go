package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

// Assignment benchmark settings (issue 5, DESIGN §11).
const (
	assignUsers      = 1000
	assignLatency    = 150 * time.Millisecond // added by the simulator to every Graph (/v1.0) request, as for the sync
	assignRate429    = 0.10                   // share of Graph requests (each $batch, and each item in it) answered 429
	assignRetryAfter = 1                      // seconds, the Retry-After of those answers
	assignTimeout    = 15 * time.Minute
	assignSKU        = "POWER_BI_PRO" // the licence assigned: an add-on every user can take
)

// assignTenant is one tenant of assignUsers people, every one on Microsoft 365 E3 (so every one has a usage
// location, which licensing requires) and none on Power BI Pro, with a Power BI Pro seat for each.
func assignTenant() graphsim.TenantSpec {
	return graphsim.TenantSpec{
		ID: "b3e7a1c2-0d4f-4e8a-9b6c-1a2b3c4d5e6f", Name: "Bench Assign 1000", Domain: "benchassign.onmicrosoft.com",
		Users: assignUsers, UsageLocation: "US", Country: "United States", DialCode: "+1",
		SKUs: []graphsim.SKUSpec{
			{PartNumber: "SPE_E3", Enabled: assignUsers, Assigned: assignUsers, Base: true},
			{PartNumber: assignSKU, Enabled: 0},
		},
	}
}

// benchAssign runs assign-1000: Power BI Pro assigned to 1,000 users of one tenant in one bulk change, through the
// licensing bulk path (licensing.Bulk.ApplyMany: checks, graph.AssignMany over $batch, the users read back through
// $batch and stored, the SKUs re-read, an audit record per user), with the real Graph client over TLS to the
// simulator (assignLatency on every Graph request, assignRate429 of the $batch requests and of the items inside them
// answered 429 with Retry-After assignRetryAfter) and the real store over DynamoDB in moto_server.
//
// Figures: graph_http_requests (the HTTP requests of the assignment phase, graph.AssignMany: $batch requests, the
// ones the middleware retried included; floor ⌈1000/20⌉ = 50), readback_http_requests (the users read back, also
// floor 50), total_graph_http_requests (every Graph HTTP request of the change, the SKU listing included; floor
// 101), the items Graph answered inside batches (assign_items, floor 1000, and how many were throttled), wall_time
// (ApplyMany; floor: both phases' batches at the bulk's concurrency, one latency each, plus the SKU listing),
// the DynamoDB items and calls, and the verification against the simulator's state: lost (users without the
// licence), duplicated (users holding it more than once), consumed_delta (consumed units of the SKU, which must
// rise by exactly 1,000) and stored_mismatches (users whose stored licences differ from Graph's).
func benchAssign(ctx context.Context, root string) error {
	benchStart := time.Now()
	defer func() { progress("assign benchmark took %s", time.Since(benchStart).Round(time.Second)) }()
	const bench = "assign-1000"

	spec := assignTenant()
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{spec}})
	if err := sim.SetPrepaid(spec.ID, assignSKU, assignUsers); err != nil {
		return err
	}
	skuID, consumedBefore, err := simSKU(sim, spec.ID, assignSKU)
	if err != nil {
		return err
	}
	bs, closeStack, err := startBenchStack(ctx, root, sim, "seatwise-bench-assign")
	if err != nil {
		return err
	}
	defer closeStack()
	db, stor, gf := bs.db, bs.store, bs.graph
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The customer, synced once: the bulk path checks each change against the stored users and SKUs.
	cust := domain.Customer{ID: uuid.NewString(), Name: spec.Name, TenantID: spec.ID, CreatedAt: time.Now().UTC(), Version: 1}
	if err := stor.CreateCustomer(ctx, cust, "bench"); err != nil {
		return fmt.Errorf("create customer: %w", err)
	}
	progress("%s: first sync of the %d-user tenant", bench, assignUsers)
	syncer := &tenantsync.Service{Store: stor, Graph: gf, Jobs: &jobRecorder{}, Log: quiet}
	if err := syncer.SyncCustomer(ctx, cust.ID, "bench"); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	users, err := sim.Users(spec.ID)
	if err != nil {
		return err
	}
	changes := make([]licensing.BulkChange, 0, len(users))
	for _, u := range users {
		changes = append(changes, licensing.BulkChange{UserID: u.ID, Add: []domain.AssignedLicense{{SkuID: skuID}}})
	}
	if len(changes) != assignUsers {
		return fmt.Errorf("the tenant has %d users, not %d", len(changes), assignUsers)
	}

	phases := &phaseGraph{Factory: gf, sim: sim}
	bulk := &licensing.Bulk{Store: stor, Graph: phases, Log: quiet}
	if err := sim.SetFaults(graphsim.Faults{LatencyMs: int(assignLatency / time.Millisecond), Rate429: assignRate429,
		RetryAfterSeconds: assignRetryAfter}); err != nil {
		return err
	}
	progress("%s: %d assignments (%s per Graph request, %.0f %% 429 with Retry-After %ds)", bench, len(changes),
		assignLatency, assignRate429*100, assignRetryAfter)
	actx, acancel := context.WithTimeout(ctx, assignTimeout)
	defer acancel()
	statsBefore, dbBefore := sim.Stats(), db.snapshot()
	start := time.Now()
	results, err := bulk.ApplyMany(actx, licensing.BulkRequest{CustomerID: cust.ID, Actor: "bench", Action: "bench.assign", Changes: changes})
	wall := time.Since(start)
	statsAfter, dbAfter := sim.Stats(), db.snapshot()
	sim.ClearFaults()
	if err != nil {
		return fmt.Errorf("ApplyMany: %w", err)
	}
	failed := 0
	for _, r := range results {
		if r.Outcome != licensing.BulkOK {
			if failed < 5 {
				progress("  user %s: %s: %s", r.UserID, r.Outcome, r.Error)
			}
			failed++
		}
	}

	// Graph figures.
	assignHTTP, readHTTP := phases.requests()
	total := graphHTTPRequests(statsBefore, statsAfter)
	items := statsAfter.Count("POST /v1.0/users/{id}/assignLicense", 0) - statsBefore.Count("POST /v1.0/users/{id}/assignLicense", 0)
	throttled := statsAfter.Count("POST /v1.0/users/{id}/assignLicense", 429) - statsBefore.Count("POST /v1.0/users/{id}/assignLicense", 429)
	batchFloor := ceilDiv(assignUsers, graph.MaxBatchSize)
	figureFloor(bench, "graph_http_requests", fmt.Sprint(assignHTTP), fmt.Sprint(batchFloor), float64(assignHTTP)/float64(batchFloor))
	figureFloor(bench, "readback_http_requests", fmt.Sprint(readHTTP), fmt.Sprint(batchFloor), float64(readHTTP)/float64(batchFloor))
	figureFloor(bench, "total_graph_http_requests", fmt.Sprint(total), fmt.Sprint(2*batchFloor+1), float64(total)/float64(2*batchFloor+1))
	figureFloor(bench, "assign_items", fmt.Sprint(items), fmt.Sprint(assignUsers), float64(items)/float64(assignUsers))
	figure(bench, "assign_items_throttled", fmt.Sprint(throttled))
	rounds := ceilDiv(batchFloor, graph.DefaultBatchConcurrency)
	wallFloor := time.Duration(2*rounds+1) * assignLatency
	figureFloor(bench, "wall_time", seconds(wall), seconds(wallFloor), wall.Seconds()/wallFloor.Seconds())
	figure(bench, "graph_phase_time", seconds(phases.elapsed()))
	d := dbAfter.sub(dbBefore)
	figure(bench, "items_written", fmt.Sprint(d.items))
	figure(bench, "dynamodb_calls", fmt.Sprint(d.calls))
	figure(bench, "dynamodb_time", seconds(d.time))
	progress("dynamodb during the change: %s", d)

	// Verification against the simulator's state (and the store's).
	lost, duplicated, mismatched, err := verifyAssigned(ctx, sim, stor, spec.ID, cust.ID, skuID, users)
	if err != nil {
		return err
	}
	_, consumedAfter, err := simSKU(sim, spec.ID, assignSKU)
	if err != nil {
		return err
	}
	figure(bench, "failed", fmt.Sprint(failed))
	figure(bench, "lost", fmt.Sprint(lost))
	figure(bench, "duplicated", fmt.Sprint(duplicated))
	figureFloor(bench, "consumed_delta", fmt.Sprint(consumedAfter-consumedBefore), fmt.Sprint(assignUsers), float64(consumedAfter-consumedBefore)/assignUsers)
	figure(bench, "stored_mismatches", fmt.Sprint(mismatched))
	if failed+lost+duplicated+mismatched > 0 || consumedAfter-consumedBefore != assignUsers {
		return fmt.Errorf("%s: %d failed, %d lost, %d duplicated, %d stored differently, consumed rose by %d (want %d)",
			bench, failed, lost, duplicated, mismatched, consumedAfter-consumedBefore, assignUsers)
	}
	return nil
}

// simSKU returns the skuId and consumed units of a tenant's SKU.
func simSKU(sim *graphsim.Sim, tenantID, part string) (string, int, error) {
	skus, err := sim.SKUs(tenantID)
	if err != nil {
		return "", 0, err
	}
	for _, s := range skus {
		if strings.EqualFold(s.PartNumber, part) {
			return s.SkuID, s.Consumed, nil
		}
	}
	return "", 0, fmt.Errorf("tenant %s has no SKU %s", tenantID, part)
}

// verifyAssigned counts the users that do not hold skuID directly in the simulator (lost), that hold it more than
// once (duplicated), and whose stored licences differ from the simulator's (mismatched).
func verifyAssigned(ctx context.Context, sim *graphsim.Sim, stor *store.Store, tenantID, customerID, skuID string, want []graphsim.User) (lost, duplicated, mismatched int, err error) {
	now, err := sim.Users(tenantID)
	if err != nil {
		return 0, 0, 0, err
	}
	byID := map[string]graphsim.User{}
	for _, u := range now {
		byID[u.ID] = u
	}
	ids := make([]string, len(want))
	for i, u := range want {
		ids[i] = u.ID
	}
	stored, err := stor.UsersByID(ctx, customerID, ids)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, w := range want {
		n := 0
		for _, l := range byID[w.ID].Licenses {
			if l.SkuID == skuID && l.AssignedByGroup == "" {
				n++
			}
		}
		switch {
		case n == 0:
			lost++
		case n > 1:
			duplicated++
		}
		s := stored[strings.ToLower(w.ID)]
		held := 0
		for _, l := range s.Licences {
			if strings.EqualFold(l.SkuID, skuID) && l.Direct {
				held++
			}
		}
		if held != min(n, 1) || len(s.Licences) != len(byID[w.ID].Licenses) {
			mismatched++
		}
	}
	return lost, duplicated, mismatched, nil
}

// graphHTTPRequests counts the Graph HTTP requests the simulator answered between two snapshots: every /v1.0
// endpoint but the items inside $batch requests (assignLicense and user reads only come through $batch here).
func graphHTTPRequests(before, after graphsim.Stats) int {
	n := 0
	for ep := range after.Requests {
		_, path, _ := strings.Cut(ep, " ")
		if !strings.HasPrefix(strings.ToLower(path), "/v1.0") || ep == "POST /v1.0/users/{id}/assignLicense" || ep == "GET /v1.0/users/{id}" {
			continue
		}
		n += after.Count(ep, 0) - before.Count(ep, 0)
	}
	return n
}

// phaseGraph is the bulk path's Graph with the simulator's statistics taken around each phase, so that the
// assignment's and the read-back's $batch requests can be told apart.
type phaseGraph struct {
	*graph.Factory
	sim *graphsim.Sim

	mu                   sync.Mutex
	assignHTTP, readHTTP int
	graphTime            time.Duration
}

func (p *phaseGraph) AssignMany(ctx context.Context, tenantID string, ops []graph.LicenseOp, concurrency int) ([]graph.LicenseResult, error) {
	before, start := p.sim.Stats(), time.Now()
	res, err := p.Factory.AssignMany(ctx, tenantID, ops, concurrency)
	p.record(&p.assignHTTP, before, start)
	return res, err
}

func (p *phaseGraph) ReadUsers(ctx context.Context, tenantID string, ids []string, concurrency int) ([]graph.UserResult, error) {
	before, start := p.sim.Stats(), time.Now()
	res, err := p.Factory.ReadUsers(ctx, tenantID, ids, concurrency)
	p.record(&p.readHTTP, before, start)
	return res, err
}

func (p *phaseGraph) record(n *int, before graphsim.Stats, start time.Time) {
	d := graphHTTPRequests(before, p.sim.Stats())
	p.mu.Lock()
	defer p.mu.Unlock()
	*n += d
	p.graphTime += time.Since(start)
}

func (p *phaseGraph) requests() (assign, read int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.assignHTTP, p.readHTTP
}

func (p *phaseGraph) elapsed() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.graphTime
}

var _ licensing.BulkGraph = (*phaseGraph)(nil)
