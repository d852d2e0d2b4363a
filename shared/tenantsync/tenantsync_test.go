package tenantsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

const contoso = graphsim.ContosoDentalID

type env struct {
	svc   *tenantsync.Service
	store *store.Store
	db    *dynamodb.Client
	table string
	sim   *graphsim.Sim
	graph *graph.Factory
	sqs   *sqs.Client
	stack *localaws.Stack
	clock *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newEnv wires the sync service over DynamoDB and SQS in moto and the real Graph client against a simulator with
// the given tenants (the demo tenants when none).
func newEnv(t *testing.T, tenants ...graphsim.TenantSpec) *env {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	opts := graphsim.Options{}
	if len(tenants) > 0 {
		opts.Tenants = tenants
	}
	sim := graphsim.New(opts)
	running := sim.StartForTest(t)
	g, err := graph.New(graph.Config{
		AuthorityHost: running.AuthorityHost(), BaseURL: running.GraphURL(), RootCAs: running.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6,
	})
	td.Require(t).CmpNoError(err)
	db := dynamodb.NewFromConfig(cfg)
	st := store.New(db, stack.TableName)
	sqsClient := sqs.NewFromConfig(cfg)
	clk := &clock{t: time.Now().UTC()}
	return &env{
		svc: &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL),
			Now: clk.now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		store: st, db: db, table: stack.TableName, sim: sim, graph: g, sqs: sqsClient, stack: stack, clock: clk,
	}
}

func (e *env) addCustomer(t *testing.T, id, tenant string) domain.Customer {
	t.Helper()
	c := domain.Customer{ID: id, Name: "Customer " + id, TenantID: tenant, CreatedAt: time.Now().UTC(), Version: 1}
	td.Require(t).CmpNoError(e.store.CreateCustomer(context.Background(), c, "test"))
	return c
}

func (e *env) customer(t *testing.T, id string) domain.Customer {
	t.Helper()
	c, err := e.store.GetCustomer(context.Background(), id)
	td.Require(t).CmpNoError(err)
	return c
}

// sync runs one sync and moves the clock on, as time passes between scheduled syncs.
func (e *env) sync(t *testing.T, id string) {
	t.Helper()
	td.Require(t).CmpNoError(e.svc.SyncCustomer(context.Background(), id, "test"))
	e.clock.advance(time.Minute)
}

// skusOf is what the simulator holds for a tenant, as the store should hold it.
func (e *env) skusOf(t *testing.T, tenant string) []domain.SubscribedSKU {
	t.Helper()
	skus, err := e.sim.SKUs(tenant)
	td.Require(t).CmpNoError(err)
	out := make([]domain.SubscribedSKU, len(skus))
	for i, s := range skus {
		out[i] = domain.SubscribedSKU{SkuID: s.SkuID, PartNumber: s.PartNumber, Enabled: s.Enabled, Consumed: s.Consumed}
	}
	return out
}

func stored(t *testing.T, st *store.Store, customerID string) []domain.SubscribedSKU {
	t.Helper()
	skus, err := st.CustomerSKUs(context.Background(), customerID)
	td.Require(t).CmpNoError(err)
	out := make([]domain.SubscribedSKU, len(skus))
	for i, s := range skus {
		out[i] = domain.SubscribedSKU{SkuID: s.SkuID, PartNumber: s.PartNumber, Enabled: s.Enabled, Consumed: s.Consumed}
	}
	return out
}

// userItems returns the stored user items of a customer (all, or those of ids), keyed by user id, without the
// times of writing (which differ between two runs that store the same state).
func (e *env) userItems(t *testing.T, customerID string, ids ...string) map[string]map[string]any {
	t.Helper()
	return e.userItemsProjected(t, customerID, "", ids...)
}

// userHashes is userItems for large tenants: each user's content digest and status only (moto is slow to read
// 5,000 whole items; the digest covers every property and licence the sync stores).
func (e *env) userHashes(t *testing.T, customerID string, ids ...string) map[string]map[string]any {
	t.Helper()
	return e.userItemsProjected(t, customerID, "ID, #hash, #status", ids...)
}

func (e *env) userItemsProjected(t *testing.T, customerID, projection string, ids ...string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	add := func(items []map[string]types.AttributeValue) {
		for _, raw := range items {
			var m map[string]any
			td.Require(t).CmpNoError(attributevalue.UnmarshalMap(raw, &m))
			delete(m, "ChangedAt")
			delete(m, "RemovedAt")
			out[m["ID"].(string)] = m
		}
	}
	if len(ids) > 0 { // by key: much faster than a Query in moto
		for chunk := range slices.Chunk(ids, 100) {
			keys := make([]map[string]types.AttributeValue, len(chunk))
			for i, id := range chunk {
				keys[i] = map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: "CUST#" + customerID + "#USER#" + strings.ToLower(id)},
					"SK": &types.AttributeValueMemberS{Value: "USER"},
				}
			}
			ka := types.KeysAndAttributes{Keys: keys}
			if projection != "" {
				ka.ProjectionExpression = &projection
				ka.ExpressionAttributeNames = map[string]string{"#hash": "hash", "#status": "Status"}
			}
			res, err := e.db.BatchGetItem(context.Background(), &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{e.table: ka},
			})
			td.Require(t).CmpNoError(err)
			td.Require(t).Cmp(res.UnprocessedKeys, td.Empty())
			add(res.Responses[e.table])
		}
		return out
	}
	p := dynamodb.NewQueryPaginator(e.db, &dynamodb.QueryInput{
		TableName:              &e.table,
		IndexName:              aws("GSI1"),
		KeyConditionExpression: aws("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "CUSTUSERS#" + customerID},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		td.Require(t).CmpNoError(err)
		add(page.Items)
	}
	return out
}

// countsAgree checks that the counts the sync kept equal a count of the stored users.
func (e *env) countsAgree(t *testing.T, customerID string) {
	t.Helper()
	counted, err := e.store.CountUsers(context.Background(), customerID)
	td.Require(t).CmpNoError(err)
	kept := e.customer(t, customerID).Sync.UserCounts
	if kept.ErrorsByType == nil {
		kept.ErrorsByType = map[string]int{}
	}
	td.Cmp(t, kept, counted, "the counts kept by the sync equal a count of the stored users")
}

func aws(s string) *string { return &s }

// simUsers returns the simulator's users of a tenant by lower-case id.
func (e *env) simUsers(t *testing.T, tenant string) map[string]graphsim.User {
	t.Helper()
	users, err := e.sim.Users(tenant)
	td.Require(t).CmpNoError(err)
	out := map[string]graphsim.User{}
	for _, u := range users {
		out[strings.ToLower(u.ID)] = u
	}
	return out
}

func TestFullSyncStoresEveryUserWithHowLicencesAreHeld(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)
	e.sync(t, "c1")

	td.Cmp(t, stored(t, e.store, "c1"), td.Bag(td.Flatten(e.skusOf(t, contoso))))
	simUsers := e.simUsers(t, contoso)
	items := e.userItems(t, "c1")
	td.Cmp(t, len(items), len(simUsers))

	var viaGroup, both, licensed int
	for id, su := range simUsers {
		u, err := e.store.GetUser(ctx, "c1", id)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, u.UserPrincipalName, su.UserPrincipalName)
		td.Cmp(t, u.Status, domain.UserActive)
		if len(u.Licences) > 0 {
			licensed++
		}
		for _, l := range u.Licences {
			if len(l.Groups) > 0 {
				viaGroup++
				if l.Direct {
					both++
				}
			}
		}
	}
	td.Cmp(t, viaGroup, td.Gt(0), "some licences are held via a group")
	names, err := e.store.GroupNames(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, names, td.MapEach(td.NotEmpty()), "the groups' names are stored")
	td.Cmp(t, slices.Collect(maps.Values(names)), td.Contains("Teams Phone users"))
	td.Cmp(t, both, td.Gt(0), "some licences are held both directly and via a group")

	c := e.customer(t, "c1")
	td.Cmp(t, c.Sync, td.SuperJSONOf(`{"status":"ok","mode":"full","userCount":$1,"licensedCount":$2}`, len(simUsers), licensed))
	td.CmpNotNil(t, c.Sync.LastFullSyncAt)
	e.countsAgree(t, "c1")

	runs, err := e.store.SyncRuns(ctx, "c1", "", 10)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(runs.Items, td.Len(1))
	td.Cmp(t, runs.Items[0], td.SuperJSONOf(`{"mode":"full","status":"ok","trigger":"test","resumed":false,"usersWritten":$1}`, len(simUsers)))
}

func TestDeltaSyncWritesOnlyChangesAndMarksRemovals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)
	e.sync(t, "c1")
	before := e.userItems(t, "c1")

	users, err := e.sim.Users(contoso)
	td.Require(t).CmpNoError(err)
	dept := "Orthodontics"
	for _, u := range users[:3] {
		_, err := e.sim.UpdateUser(contoso, u.ID, graphsim.UserPatch{Department: &dept})
		td.Require(t).CmpNoError(err)
	}
	td.Require(t).CmpNoError(e.sim.DeleteUser(contoso, users[3].ID))
	td.Require(t).CmpNoError(e.sim.PurgeUser(contoso, users[4].ID))
	added, err := e.sim.AddUser(contoso, graphsim.NewUser{DisplayName: "Zoe New", UsageLocation: "US"})
	td.Require(t).CmpNoError(err)

	e.sync(t, "c1")
	runs, err := e.store.SyncRuns(ctx, "c1", "", 10)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(runs.Items, td.Len(2))
	td.Cmp(t, runs.Items[0], td.SuperJSONOf(`{"mode":"delta","status":"ok","usersWritten":4,"usersRemoved":2,"pages":1}`))

	after := e.userItems(t, "c1")
	td.Cmp(t, after[strings.ToLower(users[0].ID)]["Department"], dept)
	td.Cmp(t, after[strings.ToLower(users[3].ID)]["Status"], domain.UserSoftDeleted)
	td.Cmp(t, after[strings.ToLower(users[4].ID)]["Status"], domain.UserDeleted)
	td.Cmp(t, after[strings.ToLower(added.ID)]["DisplayName"], "Zoe New")
	unchanged := 0
	for id, it := range before {
		if td.EqDeeply(after[id], it) {
			unchanged++
		}
	}
	td.Cmp(t, unchanged, len(before)-5, "only the changed users differ")
	td.Cmp(t, e.customer(t, "c1").Sync.UserCount, len(before)-2+1, "removed users no longer count")
	e.countsAgree(t, "c1")

	// Restored: active again.
	td.Require(t).CmpNoError(e.sim.RestoreUser(contoso, users[3].ID))
	e.sync(t, "c1")
	td.Cmp(t, e.userItems(t, "c1")[strings.ToLower(users[3].ID)]["Status"], domain.UserActive)
}

func TestPeriodicFullReadCatchesGroupLicenceChanges(t *testing.T) {
	e := newEnv(t)
	e.addCustomer(t, "c1", contoso)
	e.sync(t, "c1")

	groups, err := e.sim.Groups(contoso)
	td.Require(t).CmpNoError(err)
	users, err := e.sim.Users(contoso)
	td.Require(t).CmpNoError(err)
	var group graphsim.Group
	for _, g := range groups {
		if strings.Contains(g.DisplayName, "New starters") {
			group = g
		}
	}
	td.Require(t).NotZero(group.ID)
	member := strings.ToLower(users[10].ID)
	td.Require(t).CmpNoError(e.sim.AddGroupMember(contoso, group.ID, member))

	hasGroup := func() bool {
		u, err := e.store.GetUser(context.Background(), "c1", member)
		td.Require(t).CmpNoError(err)
		for _, l := range u.Licences {
			for _, g := range l.Groups {
				if strings.EqualFold(g, group.ID) {
					return true
				}
			}
		}
		return false
	}
	e.sync(t, "c1") // delta: Graph does not report group licence changes
	td.CmpFalse(t, hasGroup(), "delta does not see a group licence change")

	e.clock.advance(25 * time.Hour)
	e.sync(t, "c1") // daily full read
	td.CmpTrue(t, hasGroup(), "the periodic full read does")
	e.countsAgree(t, "c1")
	td.Cmp(t, e.customer(t, "c1").Sync.Mode, domain.SyncModeFull)
}

func TestInvalidDeltaTokenFallsBackToFullRead(t *testing.T) {
	e := newEnv(t)
	e.addCustomer(t, "c1", contoso)
	e.sync(t, "c1")
	e.sim.Reset() // tokens issued before a reset are refused with 410 resyncRequired
	e.sync(t, "c1")
	c := e.customer(t, "c1")
	td.Cmp(t, c.Sync.Status, domain.SyncOK)
	td.Cmp(t, c.Sync.Mode, domain.SyncModeFull)
}

// TestFaultsAndCrashesEndInTheCleanState compares, item by item, the users stored by a clean full sync of a
// 5,000-user tenant with those stored (in another table) under 10 % 429 and 5 % 503, with a worker that dies
// between pages, and with a duplicate delivery.
func TestFaultsAndCrashesEndInTheCleanState(t *testing.T) {
	spec := graphsim.LargeTenant(5000)
	clean := newEnv(t, spec)
	clean.addCustomer(t, "c1", spec.ID)
	start := time.Now()
	clean.sync(t, "c1")
	t.Logf("clean full sync of %d users: %s", spec.Users, time.Since(start))
	simUsers, err := clean.sim.Users(spec.ID)
	td.Require(t).CmpNoError(err)
	ids := make([]string, len(simUsers))
	for i, u := range simUsers {
		ids[i] = u.ID
	}
	step := time.Now()
	want := clean.userHashes(t, "c1", ids...)
	sample := ids[:200]
	wantSample := clean.userItems(t, "c1", sample...)
	t.Logf("read back: %s", time.Since(step))
	td.Require(t).Cmp(len(want), td.Gte(5000))
	var runs store.Page[domain.SyncRun]

	faulty := newEnv(t, spec)
	faulty.addCustomer(t, "c1", spec.ID)
	td.Require(t).CmpNoError(faulty.sim.SetFaults(graphsim.Faults{Rate429: 0.10, Rate503: 0.05}))
	// The worker dies while reading its third page: a crash, so nothing is released or recorded.
	faulty.svc.Graph = &dyingGraph{Graph: faulty.graph, afterPages: 2}
	step = time.Now()
	func() {
		defer func() { td.Cmp(t, recover(), errCrash) }()
		_ = faulty.svc.SyncCustomer(context.Background(), "c1", "test")
	}()
	t.Logf("two pages then a crash: %s", time.Since(step))

	// Redelivered before the lease expired: skipped; after: resumed from the checkpoint.
	faulty.svc.Graph = faulty.graph
	faulty.sync(t, "c1")
	td.Cmp(t, faulty.customer(t, "c1").Sync.Status, domain.SyncRunning, "the dead worker's lease still holds")
	faulty.clock.advance(11 * time.Minute)
	step = time.Now()
	for i := 0; i < 5 && faulty.customer(t, "c1").Sync.Status != domain.SyncOK; i++ {
		faulty.sync(t, "c1") // a Graph failure past the retries leaves the run to resume next time
	}
	td.Require(t).Cmp(faulty.customer(t, "c1").Sync.Status, domain.SyncOK)
	t.Logf("resumed to the end: %s", time.Since(step))
	runs, err = faulty.store.SyncRuns(context.Background(), "c1", "", 10)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, runs.Items[len(runs.Items)-1].Resumed, true)

	step = time.Now()
	got := faulty.userHashes(t, "c1", ids...)
	td.Cmp(t, got, want, "the same users, item by item")
	td.Cmp(t, faulty.userItems(t, "c1", sample...), wantSample, "the same users, every attribute")
	td.Cmp(t, faulty.customer(t, "c1").Sync.UserCounts, clean.customer(t, "c1").Sync.UserCounts)
	t.Logf("compared: %s", time.Since(step))
	step = time.Now()

	// A duplicate delivery, twice at once: one runs, the other finds the lease taken; the state is unchanged.
	faulty.sim.ClearFaults()
	job, _ := json.Marshal(queue.Job{Type: queue.TypeSync, CustomerID: "c1", RequestedBy: "schedule"})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := faulty.svc.HandleJobs(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: string(rune('a' + i)), Body: string(job)}}})
			td.Cmp(t, resp.BatchItemFailures, td.Empty())
		}()
	}
	wg.Wait()
	td.Cmp(t, faulty.userHashes(t, "c1", ids...), want, "the same users after a duplicate delivery")
	t.Logf("duplicate delivery: %s", time.Since(step))
}

var errCrash = errors.New("crash")

// dyingGraph panics while the worker reads the page after afterPages, as if the process died there.
type dyingGraph struct {
	tenantsync.Graph
	afterPages int32
	pages      atomic.Int32
}

func (d *dyingGraph) DeltaPage(ctx context.Context, tenantID, link string) (graph.DeltaPage, error) {
	if d.pages.Add(1) > d.afterPages {
		panic(errCrash)
	}
	return d.Graph.DeltaPage(ctx, tenantID, link)
}

func TestFailedSyncKeepsPreviousDataAndShowsWhy(t *testing.T) {
	e := newEnv(t)
	e.addCustomer(t, "c1", contoso)
	e.sync(t, "c1")
	good := stored(t, e.store, "c1")
	goodUsers := e.userItems(t, "c1")

	// Consent revoked: the token endpoint refuses the app.
	td.Require(t).CmpNoError(e.sim.RevokeConsent(contoso))
	e.sync(t, "c1")
	c := e.customer(t, "c1")
	td.Cmp(t, c.Sync, td.SuperJSONOf(`{"status":"failed","lastErrorCode":"unauthorized","lastError":$1}`, td.Contains(contoso)))
	td.CmpNotNil(t, c.Sync.LastSuccessAt)
	td.Cmp(t, stored(t, e.store, "c1"), good)
	td.Require(t).CmpNoError(e.sim.RestoreConsent(contoso))

	// Graph unavailable past the retries, in the middle of the users.
	td.Require(t).CmpNoError(e.sim.SetFaults(graphsim.Faults{Rate503: 1, Endpoint: "/v1.0/users"}))
	e.sync(t, "c1")
	c = e.customer(t, "c1")
	td.Cmp(t, c.Sync.Status, domain.SyncFailed)
	td.Cmp(t, c.Sync.LastErrorCode, domain.EUpstream)
	td.Cmp(t, stored(t, e.store, "c1"), good)
	td.Cmp(t, e.userItems(t, "c1"), goodUsers)

	// Recovery.
	e.sim.ClearFaults()
	e.sync(t, "c1")
	c = e.customer(t, "c1")
	td.Cmp(t, c.Sync.Status, domain.SyncOK)
	td.Cmp(t, c.Sync.LastError, "")
}

func TestScheduleEnqueuesDueCustomersAndWorkerHandlesBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)
	e.addCustomer(t, "c2", graphsim.FabrikamLegalID)
	e.sync(t, "c2") // c2 just synced: not due

	res, err := e.svc.HandleEvent(ctx, []byte(`{"action":"enqueue-due"}`))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, map[string]int{"enqueued": 1})

	out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &e.stack.JobsQueueURL, MaxNumberOfMessages: 10})
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(out.Messages, td.Len(1))

	// The worker: the queued job, a malformed message and an unknown customer.
	batch := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: *out.Messages[0].Body},
		{MessageId: "bad", Body: `{"type":`},
		{MessageId: "gone", Body: `{"type":"sync","customerId":"gone","requestedBy":"schedule"}`},
	}}
	payload, _ := json.Marshal(batch)
	resp, err := e.svc.HandleEvent(ctx, payload)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, resp, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "bad"}}})
	td.Cmp(t, stored(t, e.store, "c1"), td.Bag(td.Flatten(e.skusOf(t, contoso))))

	_, err = e.svc.HandleEvent(ctx, []byte(`{"action":"dance"}`))
	td.CmpError(t, err)

	// A longer interval postpones the schedule.
	c2 := e.customer(t, "c2")
	_, err = e.store.UpdateSyncInterval(ctx, "c2", c2.Version, 60, "test", time.Now())
	td.Require(t).CmpNoError(err)
	e.clock.advance(20 * time.Minute)
	res, err = e.svc.HandleEvent(ctx, []byte(`{"action":"enqueue-due"}`))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, map[string]int{"enqueued": 1}, "c1 is due again, c2 (hourly) is not")
}
