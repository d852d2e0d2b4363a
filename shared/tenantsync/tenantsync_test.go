package tenantsync_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

const contoso = "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"

type env struct {
	svc   *tenantsync.Service
	store *store.Store
	sim   *graphsim.Sim
	sqs   *sqs.Client
	stack *localaws.Stack
}

// newEnv wires the sync service over DynamoDB and SQS in moto and the real Graph client against the simulator.
func newEnv(t *testing.T) *env {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	sim := graphsim.New(graphsim.Options{})
	running := sim.StartForTest(t)
	g, err := graph.New(graph.Config{
		AuthorityHost: running.AuthorityHost(), BaseURL: running.GraphURL(), RootCAs: running.CertPool(),
		ClientID: localaws.TestGraphCredentials.ClientID, ClientSecret: localaws.TestGraphCredentials.ClientSecret,
		MaxRetries: 2,
	})
	td.Require(t).CmpNoError(err)
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sqsClient := sqs.NewFromConfig(cfg)
	return &env{
		svc: &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		store: st, sim: sim, sqs: sqsClient, stack: stack,
	}
}

func (e *env) addCustomer(t *testing.T, id, tenant string) domain.Customer {
	t.Helper()
	c := domain.Customer{ID: id, Name: "Customer " + id, TenantID: tenant, CreatedAt: time.Now().UTC(), Version: 1}
	td.Require(t).CmpNoError(e.store.CreateCustomer(context.Background(), c, "test"))
	return c
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

func TestSyncStoresWhatGraphHoldsAndWritesOnlyChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)

	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c1", "test"))
	want := e.skusOf(t, contoso)
	td.Cmp(t, stored(t, e.store, "c1"), td.Bag(td.Flatten(want)))
	c, _ := e.store.GetCustomer(ctx, "c1")
	td.Cmp(t, c.Sync, td.SStruct(domain.SyncState{Status: domain.SyncOK, SKUCount: len(want)}, td.StructFields{
		"LastAttemptAt": td.NotNil(), "LastSuccessAt": td.NotNil(),
	}))

	// A second sync with nothing changed writes nothing; a changed seat count rewrites that SKU only.
	before, _ := e.store.CustomerSKUs(ctx, "c1")
	td.Require(t).CmpNoError(e.sim.SetPrepaid(contoso, want[0].SkuID, want[0].Enabled+7))
	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c1", "test"))
	after, _ := e.store.CustomerSKUs(ctx, "c1")
	changed := 0
	for i := range after {
		if !after[i].UpdatedAt.Equal(before[i].UpdatedAt) {
			changed++
			td.Cmp(t, after[i].Enabled, want[0].Enabled+7)
		}
	}
	td.Cmp(t, changed, 1, "only the changed SKU is rewritten")
}

func TestFailedSyncKeepsPreviousDataAndShowsWhy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)
	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c1", "test"))
	good := stored(t, e.store, "c1")

	// Consent revoked: the token endpoint refuses the app.
	td.Require(t).CmpNoError(e.sim.RevokeConsent(contoso))
	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c1", "test"))
	c, _ := e.store.GetCustomer(ctx, "c1")
	td.Cmp(t, c.Sync, td.SStruct(domain.SyncState{Status: domain.SyncFailed, LastErrorCode: domain.EUnauthorized, SKUCount: len(good)},
		td.StructFields{"LastError": td.Contains(contoso), "LastAttemptAt": td.NotNil(), "LastSuccessAt": td.NotNil()}))
	td.Cmp(t, stored(t, e.store, "c1"), good)
	td.Require(t).CmpNoError(e.sim.RestoreConsent(contoso))

	// Graph unavailable past the retries.
	td.Require(t).CmpNoError(e.sim.SetFaults(graphsim.Faults{Rate503: 1}))
	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c1", "test"))
	c, _ = e.store.GetCustomer(ctx, "c1")
	td.Cmp(t, c.Sync.Status, domain.SyncFailed)
	td.Cmp(t, c.Sync.LastErrorCode, domain.EUpstream)
	td.Cmp(t, stored(t, e.store, "c1"), good)

	// Recovery.
	e.sim.ClearFaults()
	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c1", "test"))
	c, _ = e.store.GetCustomer(ctx, "c1")
	td.Cmp(t, c.Sync.Status, domain.SyncOK)
	td.Cmp(t, c.Sync.LastError, "")
}

func TestOneSyncAtATime(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)
	now := time.Now()
	got, err := e.store.AcquireSyncLease(ctx, "c1", now, now.Add(time.Minute))
	td.Require(t).CmpNoError(err)
	td.CmpTrue(t, got)
	// A second sync while the lease is live does nothing.
	td.CmpNoError(t, e.svc.SyncCustomer(ctx, "c1", "test"))
	td.Cmp(t, stored(t, e.store, "c1"), td.Empty())
	// An expired lease (a crashed sync) is taken over.
	e.svc.Now = func() time.Time { return now.Add(2 * time.Minute) }
	td.CmpNoError(t, e.svc.SyncCustomer(ctx, "c1", "test"))
	td.Cmp(t, stored(t, e.store, "c1"), td.NotEmpty())

	_, err = e.store.AcquireSyncLease(ctx, "missing", now, now.Add(time.Minute))
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

func TestScheduleEnqueuesDueCustomersAndWorkerHandlesBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addCustomer(t, "c1", contoso)
	e.addCustomer(t, "c2", "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
	td.Require(t).CmpNoError(e.svc.SyncCustomer(ctx, "c2", "test")) // c2 just synced: not due

	res, err := e.svc.HandleEvent(ctx, []byte(`{"action":"enqueue-due"}`))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, map[string]int{"enqueued": 1})

	out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &e.stack.JobsQueueURL, MaxNumberOfMessages: 10})
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(out.Messages, td.Len(1))

	// The worker: the queued job, a duplicate delivery of it, a malformed message and an unknown customer.
	batch := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: *out.Messages[0].Body},
		{MessageId: "m1-again", Body: *out.Messages[0].Body},
		{MessageId: "bad", Body: `{"type":`},
		{MessageId: "gone", Body: `{"type":"sync","customerId":"gone","requestedBy":"schedule"}`},
	}}
	resp, err := e.svc.HandleEvent(ctx, mustJSON(t, batch))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, resp, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "bad"}}})
	td.Cmp(t, stored(t, e.store, "c1"), td.Bag(td.Flatten(e.skusOf(t, contoso))))

	_, err = e.svc.HandleEvent(ctx, []byte(`{"action":"dance"}`))
	td.CmpError(t, err)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	td.Require(t).CmpNoError(err)
	return b
}
