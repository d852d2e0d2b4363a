package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

// Sync benchmark settings (issue 4, DESIGN §11).
const (
	syncUsers    = 50_000                 // people in the large tenant (Teams Rooms accounts come on top)
	syncChanged  = 500                    // users changed in the tenant before the delta sync
	syncLatency  = 150 * time.Millisecond // added by the simulator to every Graph (/v1.0) request
	heapSampling = 20 * time.Millisecond
	// syncInvocation is the sync function's timeout (template.yaml, SyncFunction Timeout): each SyncCustomer call
	// gets it as its deadline, as a Lambda invocation would, and a worker that stops near it queues a continuation,
	// which the benchmark runs at once.
	syncInvocation = 300 * time.Second
	// syncBudget bounds one benchmark's invocations together; motoMaxRSS bounds moto_server's memory. Beyond
	// either, the benchmark fails to run (moto 5.2.1 copies the whole table on every TransactWriteItems item).
	syncBudget = 30 * time.Minute
	motoMaxRSS = 6_000_000_000
	// syncRetries is how many failed invocations in a row are retried (as SQS would redeliver the message).
	syncRetries = 2
)

// benchSync runs sync-full-50k (the first sync of a 50,000-user tenant) and then sync-delta-500 (the next sync,
// after 500 users changed), through the real worker (tenantsync.Service), Graph client (graph.Factory, over TLS to
// the simulator with syncLatency on every Graph request) and store (over DynamoDB in moto_server).
//
// Figures: graph_requests (Graph /v1.0 requests the simulator answered, retried ones included; floor: one delta
// page per 999 users and the SKU listing; token and OpenID requests are token_requests, without a floor),
// wall_time (all the sync's invocations; floor = graph_requests × latency, what the requests cost one after the
// other), invocations (SyncCustomer calls: continuations the worker queued near its deadline, and retries after an
// error, run at once), items_written (DynamoDB items the store wrote: each Put/Delete of a BatchWriteItem that was
// processed, each Put/Update/Delete of a TransactWriteItems that succeeded, each PutItem, UpdateItem, DeleteItem
// that succeeded; floor: every user and SKU once, or the changed users for the delta), and for the full sync the
// process's heap (HeapInuse sampled every heapSampling): heap_before (after a GC, just before the sync: mostly the
// simulated tenants), peak_heap (the whole process during the sync) and peak_heap_delta (their difference: the
// worker's peak, plus the simulator's transient page encoding and garbage not yet collected).
// dynamodb_write_calls and dynamodb_time (the time spent in DynamoDB calls) tell moto's share of the wall time;
// the calls per operation and the simulator's requests per endpoint go to stderr.
func benchSync(ctx context.Context, root string) (err error) {
	benchStart := time.Now()
	defer func() { progress("sync benchmarks took %s", time.Since(benchStart).Round(time.Second)) }()

	large := graphsim.LargeTenant(syncUsers)
	progress("generating the simulated tenants (demo + %d users)", syncUsers)
	t0 := time.Now()
	sim := graphsim.New(graphsim.Options{Tenants: append(graphsim.DemoTenants(), large)})
	tenantUsers := 0
	for _, ti := range sim.Tenants() {
		if strings.EqualFold(ti.ID, large.ID) {
			tenantUsers = ti.UserCount
		}
	}
	skus, err := sim.SKUs(large.ID)
	if err != nil {
		return err
	}
	progress("tenant %s: %d users, %d SKUs (generated in %s)", large.ID, tenantUsers, len(skus), time.Since(t0).Round(time.Millisecond))

	bs, closeStack, err := startBenchStack(ctx, root, sim, "seatwise-bench-sync")
	if err != nil {
		return err
	}
	defer closeStack()
	moto, db, stor, gf := bs.moto, bs.db, bs.store, bs.graph
	jobs := &jobRecorder{}
	svc := &tenantsync.Service{
		Store: stor,
		Graph: gf,
		Jobs:  jobs,
		Log:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}

	cust := domain.Customer{
		ID: uuid.NewString(), Name: large.Name, TenantID: large.ID, CreatedAt: time.Now().UTC(), Version: 1,
	}
	if err := stor.CreateCustomer(ctx, cust, "bench"); err != nil {
		return fmt.Errorf("create customer: %w", err)
	}
	if err := sim.SetFaults(graphsim.Faults{LatencyMs: int(syncLatency / time.Millisecond)}); err != nil {
		return err
	}

	var failed []string

	// sync-full-50k
	progress("sync-full-50k: first sync of %d users (%s per Graph request)", tenantUsers, syncLatency)
	full, err := measureSync(ctx, svc, sim, db, jobs, moto, cust.ID, true)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: sync-full-50k: %v\n", err)
		failed = append(failed, "sync-full-50k")
	} else {
		// Floors: one delta page per 999 users and one SKU listing; every user and SKU written once.
		pagesFloor := ceilDiv(tenantUsers, graph.DeltaPageSize) + 1
		full.print("sync-full-50k", pagesFloor, tenantUsers+len(skus))
	}

	// sync-delta-500 (only after a full sync that ran)
	if len(failed) == 0 {
		ids, err := sim.ChangeUsers(large.ID, syncChanged)
		if err == nil && len(ids) != syncChanged {
			err = fmt.Errorf("the simulator changed %d users, not %d", len(ids), syncChanged)
		}
		if err == nil {
			progress("sync-delta-500: next sync after %d users changed", len(ids))
			var delta syncFigures
			if delta, err = measureSync(ctx, svc, sim, db, jobs, moto, cust.ID, false); err == nil {
				// Floors: one delta page (≤ 999 changes) and one SKU listing; the changed users written. SKUs are
				// unchanged and need no write.
				delta.print("sync-delta-500", 2, syncChanged)
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: sync-delta-500: %v\n", err)
			failed = append(failed, "sync-delta-500")
		}
	} else {
		failed = append(failed, "sync-delta-500 (needs sync-full-50k)")
	}
	if len(failed) > 0 {
		return fmt.Errorf("benchmarks failed to run: %v", failed)
	}
	return nil
}

// syncFigures are the measurements of one sync.
type syncFigures struct {
	graphRequests, tokenRequests int
	wall                         time.Duration
	items                        int64
	writeCalls                   int64
	ddbCalls                     int64
	ddbTime                      time.Duration
	runs                         int // SyncCustomer calls (invocations)
	continuations                int // of them, continuations the worker queued for itself
	retries                      int // of them, invocations run again after an error
	heap                         bool
	heapBefore, heapPeak         uint64
}

func (f syncFigures) print(benchmark string, requestsFloor, itemsFloor int) {
	figureFloor(benchmark, "graph_requests", fmt.Sprint(f.graphRequests), fmt.Sprint(requestsFloor), float64(f.graphRequests)/float64(requestsFloor))
	figure(benchmark, "token_requests", fmt.Sprint(f.tokenRequests))
	wallFloor := time.Duration(f.graphRequests) * syncLatency
	figureFloor(benchmark, "wall_time", seconds(f.wall), seconds(wallFloor), f.wall.Seconds()/wallFloor.Seconds())
	figureFloor(benchmark, "items_written", fmt.Sprint(f.items), fmt.Sprint(itemsFloor), float64(f.items)/float64(itemsFloor))
	figure(benchmark, "invocations", fmt.Sprint(f.runs))
	figure(benchmark, "dynamodb_write_calls", fmt.Sprint(f.writeCalls))
	figure(benchmark, "dynamodb_time", seconds(f.ddbTime))
	if f.heap {
		figure(benchmark, "heap_before", megabytes(f.heapBefore))
		figure(benchmark, "peak_heap", megabytes(f.heapPeak))
		figure(benchmark, "peak_heap_delta", megabytes(f.heapPeak-min(f.heapPeak, f.heapBefore)))
	}
}

// measureSync runs one customer sync to its end and measures it. The worker may stop early and queue a
// continuation for itself (near its deadline): each one is run at once, as the queue would redeliver it.
func measureSync(ctx context.Context, svc *tenantsync.Service, sim *graphsim.Sim, db *countingDB, jobs *jobRecorder, moto *localaws.Moto, customerID string, sampleHeap bool) (syncFigures, error) {
	var f syncFigures
	ctx, cancel := context.WithTimeoutCause(ctx, syncBudget, fmt.Errorf("the sync took longer than %s", syncBudget))
	defer cancel()
	ctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)

	var sampler *heapSampler
	if sampleHeap {
		runtime.GC()
		sampler = startHeapSampler(heapSampling)
	}
	statsBefore := sim.Stats()
	dbBefore := db.snapshot()
	jobs.take()

	start := time.Now()
	stopProgress := reportProgress(start, db, moto, abort)
	var err error
	for failures := 0; ; {
		f.runs++
		ictx, icancel := context.WithTimeout(ctx, syncInvocation)
		err = svc.SyncCustomer(ictx, customerID, "bench")
		icancel()
		if ctx.Err() != nil {
			err = context.Cause(ctx)
			break
		}
		if err != nil {
			if failures++; failures > syncRetries {
				break
			}
			progress("invocation %d failed (%v): running it again, as SQS would redeliver it", f.runs, err)
			f.retries++
			continue
		}
		failures = 0
		more := 0
		for _, j := range jobs.take() {
			if j.CustomerID == customerID {
				more++
			}
		}
		if more == 0 {
			break
		}
		f.continuations++
	}
	f.wall = time.Since(start)
	stopProgress()
	if sampler != nil {
		f.heap = true
		f.heapBefore, f.heapPeak = sampler.stop()
	}
	if err != nil {
		return f, fmt.Errorf("SyncCustomer: %w", err)
	}

	statsAfter := sim.Stats()
	g1, t1, u1 := graphCounts(statsBefore)
	g2, t2, u2 := graphCounts(statsAfter)
	f.graphRequests, f.tokenRequests = g2-g1, t2-t1
	if u2 > u1 {
		progress("warning: %d requests the simulator did not recognise", u2-u1)
	}
	progress("simulator requests: %s", statsDiff(statsBefore, statsAfter))
	d := db.snapshot().sub(dbBefore)
	f.items, f.writeCalls, f.ddbCalls, f.ddbTime = d.items, d.writeCalls, d.calls, d.time

	c, err := svc.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return f, fmt.Errorf("read the customer after the sync: %w", err)
	}
	if c.Sync.Status != domain.SyncOK {
		return f, fmt.Errorf("the sync ended %q: %s (%s)", c.Sync.Status, c.Sync.LastError, c.Sync.LastErrorCode)
	}
	progress("sync done in %s: %d invocation(s) (%d continuations, %d retries); customer sync state %s",
		f.wall.Round(time.Millisecond), f.runs, f.continuations, f.retries, syncSummary(c.Sync))
	progress("dynamodb: %d calls (%d writes), %s in calls: %s", f.ddbCalls, f.writeCalls, f.ddbTime.Round(time.Millisecond), d)
	return f, nil
}

// syncSummary renders the stored sync state (through JSON, so that it shows whatever fields the worker records).
func syncSummary(s domain.SyncState) string {
	b, err := json.Marshal(s)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// reportProgress prints the items written so far every 30 seconds until stopped, and aborts the sync when
// moto_server's memory passes motoMaxRSS.
func reportProgress(start time.Time, db *countingDB, moto *localaws.Moto, abort context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			rss, _ := motoRSS(moto)
			if rss > motoMaxRSS {
				abort(fmt.Errorf("moto_server uses %s of memory (limit %s)", megabytes(rss), megabytes(motoMaxRSS)))
			}
			if n%6 == 0 {
				s := db.snapshot()
				progress("  … %s: %d items written, %d DynamoDB calls; moto_server %s", time.Since(start).Round(time.Second),
					s.items, s.calls, megabytes(rss))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// motoRSS returns the resident memory of moto_server, a child process of this one (found through /proc: Linux
// only; false elsewhere).
func motoRSS(moto *localaws.Moto) (uint64, bool) {
	_, port, _ := strings.Cut(strings.TrimPrefix(moto.Endpoint, "http://"), ":")
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(b)) {
			cmd, err := os.ReadFile("/proc/" + pid + "/cmdline")
			if err != nil || !strings.Contains(string(cmd), "moto_server") || !strings.Contains(string(cmd), "\x00"+port) {
				continue
			}
			status, err := os.ReadFile("/proc/" + pid + "/status")
			if err != nil {
				return 0, false
			}
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
					var kb uint64
					if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err == nil {
						return kb << 10, true
					}
				}
			}
		}
	}
	return 0, false
}

// graphCounts splits the simulator's counters: Graph (/v1.0) requests, authority (token, OpenID) requests, and
// requests it did not recognise. Every answer counts, throttled and failed ones included.
func graphCounts(s graphsim.Stats) (graphReqs, authority, unmatched int) {
	for ep := range s.Requests {
		n := s.Count(ep, 0)
		_, path, _ := strings.Cut(ep, " ")
		switch {
		case strings.HasPrefix(strings.ToLower(path), "/v1.0"):
			graphReqs += n
		case ep == "unmatched":
			unmatched += n
		default:
			authority += n
		}
	}
	return graphReqs, authority, unmatched
}

// statsDiff lists the requests answered between two snapshots, per endpoint and status.
func statsDiff(before, after graphsim.Stats) string {
	var parts []string
	for ep, codes := range after.Requests {
		for code, n := range codes {
			if d := n - before.Requests[ep][code]; d > 0 {
				parts = append(parts, fmt.Sprintf("%s → %d: %d", ep, code, d))
			}
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// figureFloor prints one result line with its floor and ratio.
func figureFloor(benchmark, metric, value, floor string, ratio float64) {
	fmt.Printf("bench %s %s=%s floor=%s ratio=%.2f\n", benchmark, metric, value, floor, ratio)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func megabytes(b uint64) string { return fmt.Sprintf("%.1fMB", float64(b)/1e6) }

func ceilDiv(a, b int) int { return int(math.Ceil(float64(a) / float64(b))) }

// --- the worker's queue ---

// jobRecorder stands in for the jobs queue: it keeps what the worker sends (continuations of a sync).
type jobRecorder struct {
	mu   sync.Mutex
	jobs []queue.Job
}

func (q *jobRecorder) Send(_ context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var j queue.Job
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	return nil
}

// take returns and forgets the messages sent so far.
func (q *jobRecorder) take() []queue.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	j := q.jobs
	q.jobs = nil
	return j
}

// --- heap sampling ---

// heapSampler records the largest HeapInuse seen.
type heapSampler struct {
	before uint64
	peak   atomic.Uint64
	done   chan struct{}
	wg     sync.WaitGroup
}

func startHeapSampler(every time.Duration) *heapSampler {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapSampler{before: ms.HeapInuse, done: make(chan struct{})}
	h.peak.Store(ms.HeapInuse)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-t.C:
				h.sample()
			}
		}
	}()
	return h
}

func (h *heapSampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for {
		p := h.peak.Load()
		if ms.HeapInuse <= p || h.peak.CompareAndSwap(p, ms.HeapInuse) {
			return
		}
	}
}

// stop ends the sampling (after one last sample) and returns the heap at the start and the peak.
func (h *heapSampler) stop() (before, peak uint64) {
	close(h.done)
	h.wg.Wait()
	h.sample()
	return h.before, h.peak.Load()
}

// --- counting DynamoDB ---

// countingDB is the DynamoDB client the store gets: every method of *dynamodb.Client passes through (so it
// satisfies store.DynamoAPI whatever methods that interface gains), and the item writes are counted. Calls of the
// methods below are also counted and timed per operation.
type countingDB struct {
	*dynamodb.Client

	items atomic.Int64 // items written (successful writes only)

	mu  sync.Mutex
	ops map[string]opStats
}

var _ store.DynamoAPI = (*countingDB)(nil)

type opStats struct {
	calls int64
	time  time.Duration
	write bool
}

type dbCounts struct {
	items, writeCalls, calls int64
	time                     time.Duration
	ops                      map[string]opStats
}

func (d dbCounts) sub(o dbCounts) dbCounts {
	r := dbCounts{items: d.items - o.items, writeCalls: d.writeCalls - o.writeCalls, calls: d.calls - o.calls,
		time: d.time - o.time, ops: map[string]opStats{}}
	for op, st := range d.ops {
		st.calls -= o.ops[op].calls
		st.time -= o.ops[op].time
		if st.calls > 0 {
			r.ops[op] = st
		}
	}
	return r
}

// String lists the calls per operation, e.g. "BatchWriteItem 2004×/31.2s".
func (d dbCounts) String() string {
	names := make([]string, 0, len(d.ops))
	for op := range d.ops {
		names = append(names, op)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, op := range names {
		parts[i] = fmt.Sprintf("%s %d×/%s", op, d.ops[op].calls, d.ops[op].time.Round(10*time.Millisecond))
	}
	return strings.Join(parts, ", ")
}

func (c *countingDB) snapshot() dbCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := dbCounts{items: c.items.Load(), ops: make(map[string]opStats, len(c.ops))}
	for op, st := range c.ops {
		d.ops[op] = st
		d.calls += st.calls
		d.time += st.time
		if st.write {
			d.writeCalls += st.calls
		}
	}
	return d
}

// timed counts one call of op and, when the returned func runs, its duration.
func (c *countingDB) timed(op string, write bool) func() {
	start := time.Now()
	return func() {
		d := time.Since(start)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ops == nil {
			c.ops = map[string]opStats{}
		}
		st := c.ops[op]
		st.calls++
		st.time += d
		st.write = write
		c.ops[op] = st
	}
}

func (c *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	defer c.timed("PutItem", true)()
	out, err := c.Client.PutItem(ctx, in, optFns...)
	if err == nil {
		c.items.Add(1)
	}
	return out, err
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	defer c.timed("UpdateItem", true)()
	out, err := c.Client.UpdateItem(ctx, in, optFns...)
	if err == nil {
		c.items.Add(1)
	}
	return out, err
}

func (c *countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	defer c.timed("DeleteItem", true)()
	out, err := c.Client.DeleteItem(ctx, in, optFns...)
	if err == nil {
		c.items.Add(1)
	}
	return out, err
}

// BatchWriteItem counts the requests DynamoDB processed: those sent, less those it returned unprocessed.
func (c *countingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	defer c.timed("BatchWriteItem", true)()
	out, err := c.Client.BatchWriteItem(ctx, in, optFns...)
	if err == nil {
		n := 0
		for _, reqs := range in.RequestItems {
			n += len(reqs)
		}
		for _, reqs := range out.UnprocessedItems {
			n -= len(reqs)
		}
		c.items.Add(int64(n))
	}
	return out, err
}

// TransactWriteItems counts the Puts, Updates and Deletes of a transaction that succeeded (ConditionChecks write
// nothing).
func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	defer c.timed("TransactWriteItems", true)()
	out, err := c.Client.TransactWriteItems(ctx, in, optFns...)
	if err == nil {
		n := 0
		for _, it := range in.TransactItems {
			if it.Put != nil || it.Update != nil || it.Delete != nil {
				n++
			}
		}
		c.items.Add(int64(n))
	}
	return out, err
}

// The reads pass through, counted and timed.

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	defer c.timed("GetItem", false)()
	return c.Client.GetItem(ctx, in, optFns...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	defer c.timed("Query", false)()
	return c.Client.Query(ctx, in, optFns...)
}

func (c *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	defer c.timed("BatchGetItem", false)()
	return c.Client.BatchGetItem(ctx, in, optFns...)
}

func (c *countingDB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	defer c.timed("Scan", false)()
	return c.Client.Scan(ctx, in, optFns...)
}

func (c *countingDB) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	defer c.timed("TransactGetItems", false)()
	return c.Client.TransactGetItems(ctx, in, optFns...)
}
