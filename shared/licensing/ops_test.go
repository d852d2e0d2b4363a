package licensing_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

const (
	opsTenant = "0b7e3c2a-9d41-4f6e-8a15-3c2d1e0f9a88"
	opsSway   = "a23b959c-7ce8-4e57-9140-b90eb88a9e97" // SWAY, in Office 365 E3
)

var (
	opsE3 = opsSKU("ENTERPRISEPACK")
)

func opsSKU(part string) string {
	p, ok := catalog.ByPartNumber(part)
	if !ok {
		panic("no SKU " + part)
	}
	return p.SkuID
}

// opsFaultyGraph is the real Graph client with failures injected into chosen calls.
type opsFaultyGraph struct {
	licensing.Graph
	mu sync.Mutex
	// failAssign fails the nth call (from 1) of AssignLicensesWithRequestID.
	failAssign map[int]error
	assigns    int
	// failUser fails every read of a user.
	failUser error
}

func (f *opsFaultyGraph) AssignLicensesWithRequestID(ctx context.Context, tenantID, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, string, error) {
	f.mu.Lock()
	f.assigns++
	err := f.failAssign[f.assigns]
	f.mu.Unlock()
	if err != nil {
		return domain.GraphUser{}, "", err
	}
	return f.Graph.AssignLicensesWithRequestID(ctx, tenantID, userID, add, remove)
}

func (f *opsFaultyGraph) User(ctx context.Context, tenantID, userID string) (domain.GraphUser, error) {
	f.mu.Lock()
	err := f.failUser
	f.mu.Unlock()
	if err != nil {
		return domain.GraphUser{}, err
	}
	return f.Graph.User(ctx, tenantID, userID)
}

var opsInjected = domain.Errorf(domain.EUpstream, "Microsoft Graph failed (injected)")

type opsEnv struct {
	t     *testing.T
	svc   *licensing.Service
	graph *opsFaultyGraph
	real  *graph.Factory
	store *store.Store
	db    *dynamodb.Client
	table string
	sim   *graphsim.Sim
	sync  *tenantsync.Service
	cust  domain.Customer
	users map[string]string
}

// newOpsEnv wires the service over DynamoDB in moto and the real Graph client against a simulated tenant with E3,
// Exchange Online (Plan 1), Teams Phone and Power BI Pro (e3Seats seats of E3, 10 of the others).
func newOpsEnv(t *testing.T, e3Seats int) *opsEnv {
	t.Helper()
	ctx := context.Background()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	spec := graphsim.TenantSpec{ID: opsTenant, Name: "Tailspin", Domain: "tailspin.onmicrosoft.com", UsageLocation: "US"}
	for _, part := range []string{"ENTERPRISEPACK", "EXCHANGESTANDARD", "MCOEV", "POWER_BI_PRO"} {
		n := 10
		if part == "ENTERPRISEPACK" {
			n = e3Seats
		}
		spec.SKUs = append(spec.SKUs, graphsim.SKUSpec{PartNumber: part, Enabled: n})
	}
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{spec}})
	running := sim.StartForTest(t)
	g, err := graph.New(graph.Config{
		AuthorityHost: running.AuthorityHost(), BaseURL: running.GraphURL(), RootCAs: running.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6,
	})
	td.Require(t).CmpNoError(err)
	db := dynamodb.NewFromConfig(cfg)
	st := store.New(db, stack.TableName)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fg := &opsFaultyGraph{Graph: g, failAssign: map[int]error{}}
	e := &opsEnv{t: t, graph: fg, real: g, store: st, db: db, table: stack.TableName, sim: sim, users: map[string]string{},
		svc:  &licensing.Service{Store: st, Graph: fg, Log: quiet},
		sync: &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqs.NewFromConfig(cfg), stack.JobsQueueURL), Log: quiet},
		cust: domain.Customer{ID: "tailspin", Name: "Tailspin", TenantID: opsTenant, CreatedAt: time.Now().UTC(), Version: 1}}
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, e.cust, "test"))
	return e
}

func (e *opsEnv) addUser(name, usageLocation string, parts ...string) string {
	e.t.Helper()
	u, err := e.sim.AddUser(opsTenant, graphsim.NewUser{DisplayName: name, UsageLocation: usageLocation})
	td.Require(e.t).CmpNoError(err)
	for _, p := range parts {
		td.Require(e.t).CmpNoError(e.sim.AssignDirectLicense(opsTenant, u.ID, p, nil))
	}
	e.users[name] = u.ID
	return u.ID
}

func (e *opsEnv) syncNow(full bool) domain.SyncRun {
	e.t.Helper()
	svc := *e.sync
	if full {
		svc.FullEvery = time.Nanosecond
	}
	td.Require(e.t).CmpNoError(svc.SyncCustomer(context.Background(), e.cust.ID, "test"))
	runs, err := e.store.SyncRuns(context.Background(), e.cust.ID, "", 1)
	td.Require(e.t).CmpNoError(err)
	return runs.Items[0]
}

func (e *opsEnv) direct(name string) map[string][]string {
	e.t.Helper()
	u, err := e.sim.User(opsTenant, e.users[name])
	td.Require(e.t).CmpNoError(err)
	out := map[string][]string{}
	for _, l := range u.Licenses {
		if l.AssignedByGroup == "" {
			out[l.SkuID] = append([]string{}, l.DisabledPlans...)
		}
	}
	return out
}

func (e *opsEnv) stored(name string) domain.User {
	e.t.Helper()
	u, err := e.store.GetUser(context.Background(), e.cust.ID, e.users[name])
	td.Require(e.t).CmpNoError(err)
	return u
}

func (e *opsEnv) counts() domain.UserCounts {
	e.t.Helper()
	c, err := e.store.GetCustomer(context.Background(), e.cust.ID)
	td.Require(e.t).CmpNoError(err)
	return c.Sync.UserCounts
}

func (e *opsEnv) audits(name string) []any {
	e.t.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              &e.table,
		KeyConditionExpression: opsStr("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "CUST#" + e.cust.ID}, ":a": &types.AttributeValueMemberS{Value: "AUDIT#"},
		},
	})
	td.Require(e.t).CmpNoError(err)
	var rows []map[string]any
	td.Require(e.t).CmpNoError(attributevalue.UnmarshalListOfMaps(out.Items, &rows))
	var mine []any
	for _, r := range rows {
		if r["userId"] != e.users[name] {
			continue
		}
		for _, k := range []string{"before", "after"} {
			if s, ok := r[k].(string); ok {
				var v any
				td.Require(e.t).CmpNoError(json.Unmarshal([]byte(s), &v))
				r[k] = v
			}
		}
		mine = append(mine, r)
	}
	return mine
}

func opsStr(s string) *string { return &s }

func TestStoredUserAndCountsAreGraphsAnswer(t *testing.T) {
	e := newOpsEnv(t, 10)
	ctx := context.Background()
	e.addUser("Alice Adams", "US")
	e.addUser("Bob Brown", "US", "ENTERPRISEPACK", "MCOEV")
	e.addUser("Cleo Clark", "US")
	e.syncNow(false)
	td.Cmp(t, e.counts(), td.SuperJSONOf(`{"userCount":3,"licensedCount":1}`))

	res, err := e.svc.Assign(ctx, "admin", e.cust.ID, e.users["Alice Adams"], licensing.Change{SkuID: opsE3, DisabledPlans: []string{opsSway}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res.RequestID, td.NotEmpty())
	g, err := e.real.User(ctx, opsTenant, e.users["Alice Adams"])
	td.Require(t).CmpNoError(err)
	want := store.UserFromGraph(e.cust.ID, g)
	td.Cmp(t, e.stored("Alice Adams"), td.Struct(want, td.StructFields{"ChangedAt": td.Between(time.Now().Add(-time.Minute), time.Now())}),
		"stored as Graph answers it")
	td.Cmp(t, res.User, e.stored("Alice Adams"))
	td.Cmp(t, e.counts(), td.SuperJSONOf(`{"userCount":3,"licensedCount":2}`), "the customer's counts follow")

	off, err := e.svc.Offboard(ctx, "admin", e.cust.ID, e.users["Bob Brown"])
	td.Require(t).CmpNoError(err)
	td.Cmp(t, off.Removed, td.Len(2))
	td.Cmp(t, e.direct("Bob Brown"), td.Empty())
	td.Cmp(t, e.counts(), td.SuperJSONOf(`{"userCount":3,"licensedCount":1}`))

	skus, err := e.store.CustomerSKUs(ctx, e.cust.ID)
	td.Require(t).CmpNoError(err)
	simSKUs, err := e.sim.SKUs(opsTenant)
	td.Require(t).CmpNoError(err)
	used := map[string]int{}
	for _, k := range simSKUs {
		used[k.SkuID] = k.Consumed
	}
	for _, k := range skus {
		td.Cmp(t, k.Consumed, used[k.SkuID], "%s: stored used = Graph's", k.PartNumber)
	}

	// A delta sync, then a full one (which recounts): nothing to rewrite, the same counts.
	td.Cmp(t, e.syncNow(false), td.Struct(domain.SyncRun{Mode: "delta"}, td.StructFields{"UsersWritten": 0, "SKUsWritten": 0}))
	before := e.counts()
	td.Cmp(t, e.syncNow(true), td.Struct(domain.SyncRun{Mode: "full"}, td.StructFields{"UsersWritten": 0, "SKUsWritten": 0}))
	td.Cmp(t, e.counts(), before)
}

func TestLockedUserIsRefusedAndAudited(t *testing.T) {
	e := newOpsEnv(t, 10)
	ctx := context.Background()
	e.addUser("Lou Locked", "US")
	e.syncNow(false)
	now := time.Now()
	td.Require(t).CmpNoError(e.store.LockUserLicences(ctx, e.cust.ID, e.users["Lou Locked"], "someone-else", now, now.Add(time.Minute)))
	_, err := e.svc.Assign(ctx, "admin", e.cust.ID, e.users["Lou Locked"], licensing.Change{SkuID: opsE3})
	td.Cmp(t, err, td.All(td.Smuggle(domain.ErrorCode, domain.EConflict), td.Smuggle(domain.ErrorMessage, td.Contains("in progress"))))
	td.Cmp(t, e.direct("Lou Locked"), td.Empty())
	td.Cmp(t, e.audits("Lou Locked"), []any{map[string]any{"PK": td.Ignore(), "SK": td.Ignore(), "type": "audit", "at": td.Ignore(),
		"actor": "admin", "customerId": e.cust.ID, "userId": e.users["Lou Locked"], "action": "licence.assign",
		"outcome": "failed", "error": td.Contains("in progress"), "after": td.Ignore(), "GSI2PK": td.Ignore(), "GSI2SK": td.Ignore()}})

	// Released, or expired, the lock no longer stands in the way.
	td.Require(t).CmpNoError(e.store.UnlockUserLicences(ctx, e.cust.ID, e.users["Lou Locked"], "someone-else"))
	td.Require(t).CmpNoError(e.store.LockUserLicences(ctx, e.cust.ID, e.users["Lou Locked"], "crashed", now.Add(-time.Hour), now.Add(-time.Minute)))
	_, err = e.svc.Assign(ctx, "admin", e.cust.ID, e.users["Lou Locked"], licensing.Change{SkuID: opsE3})
	td.CmpNoError(t, err)
	td.Cmp(t, e.direct("Lou Locked"), map[string][]string{opsE3: {}})
	// The operation released its own lock.
	td.CmpNoError(t, e.store.LockUserLicences(ctx, e.cust.ID, e.users["Lou Locked"], "next", time.Now(), time.Now().Add(time.Minute)))
}

func TestReassignSaysWhatHappenedWhenItFails(t *testing.T) {
	ctx := context.Background()

	t.Run("a seat free, the old holder's licence cannot go: the new holder's is taken back", func(t *testing.T) {
		e := newOpsEnv(t, 10)
		e.addUser("Ann Phone", "US", "ENTERPRISEPACK", "MCOEV") // Teams Phone needs E3's Skype for Business
		e.addUser("Ben Taker", "US")
		e.syncNow(false)
		res, err := e.svc.Reassign(ctx, "admin", e.cust.ID, e.users["Ann Phone"], opsE3, e.users["Ben Taker"], nil)
		td.Cmp(t, err, td.All(td.Smuggle(domain.ErrorCode, domain.EConflict),
			td.Smuggle(domain.ErrorMessage, td.All(td.Contains("could not be removed from Ann Phone"), td.Contains("needs Skype for Business"),
				td.Contains("taken back from Ben Taker"), td.Contains("nothing changed")))))
		td.Cmp(t, res, td.Struct(licensing.ReassignResult{FromHolds: true}, td.StructFields{"Done": false, "ToHolds": false,
			"FromError": td.Contains("needs Skype for Business"),
			"Steps": []licensing.Step{
				{Action: licensing.ActionReassignAssign, UserID: e.users["Ben Taker"], OK: true, RequestID: res.Steps[0].RequestID},
				{Action: licensing.ActionReassignRemove, UserID: e.users["Ann Phone"], Error: res.Steps[1].Error, RequestID: res.Steps[1].RequestID},
				{Action: licensing.ActionReassignUndo, UserID: e.users["Ben Taker"], OK: true, RequestID: res.Steps[2].RequestID},
			}}))
		td.Cmp(t, e.direct("Ann Phone"), td.Len(2))
		td.Cmp(t, e.direct("Ben Taker"), td.Empty())
		td.Cmp(t, e.stored("Ben Taker").Licences, td.Empty())
	})

	t.Run("a seat free, taking it back fails too: both hold it, and it says so", func(t *testing.T) {
		e := newOpsEnv(t, 10)
		e.addUser("Ann Phone", "US", "ENTERPRISEPACK", "MCOEV")
		e.addUser("Ben Taker", "US")
		e.syncNow(false)
		e.graph.failAssign[3] = opsInjected
		res, err := e.svc.Reassign(ctx, "admin", e.cust.ID, e.users["Ann Phone"], opsE3, e.users["Ben Taker"], nil)
		td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.All(td.Contains("Taking it back from Ben Taker"), td.Contains("injected"),
			td.Contains("both now hold it, using two seats"))))
		td.Cmp(t, res, td.Struct(licensing.ReassignResult{FromHolds: true, ToHolds: true}, td.StructFields{"Done": false}))
		td.Cmp(t, e.direct("Ben Taker"), map[string][]string{opsE3: {}})
		td.Cmp(t, e.stored("Ben Taker").Licences, td.Len(1), "stored as Graph has it")
		td.Cmp(t, e.audits("Ben Taker"), []any{
			td.SuperMapOf(map[string]any{"action": licensing.ActionReassignAssign, "outcome": "ok"}, nil),
			td.SuperMapOf(map[string]any{"action": licensing.ActionReassignUndo, "outcome": "failed", "error": td.Contains("injected")}, nil),
		})
	})

	t.Run("no seat free, the new holder refused and giving it back fails: the old holder lost it", func(t *testing.T) {
		e := newOpsEnv(t, 1)
		e.addUser("Ann Holder", "US", "ENTERPRISEPACK")
		e.addUser("Xavi Exchange", "US", "EXCHANGESTANDARD") // E3's Exchange Online (Plan 2) excludes his Plan 1
		e.syncNow(false)
		e.graph.failAssign[3] = opsInjected
		res, err := e.svc.Reassign(ctx, "admin", e.cust.ID, e.users["Ann Holder"], opsE3, e.users["Xavi Exchange"], nil)
		td.Cmp(t, err, td.All(td.Smuggle(domain.ErrorCode, domain.EConflict), td.Smuggle(domain.ErrorMessage, td.All(
			td.Contains("Xavi Exchange"), td.Contains("cannot both be enabled"), td.Contains("Giving it back to Ann Holder"),
			td.Contains("injected"), td.Contains("no longer holds it and the seat is free")))))
		td.Cmp(t, res, td.Struct(licensing.ReassignResult{}, td.StructFields{"Done": false, "FromHolds": false,
			"FromRegained": false, "ToHolds": false, "ToError": td.Contains("cannot both be enabled"), "FromError": td.Contains("injected"),
			"Steps": td.Len(3)}))
		td.Cmp(t, e.direct("Ann Holder"), td.Empty())
		td.Cmp(t, e.stored("Ann Holder").Licences, td.Empty())
	})
}

func TestChangeMadeButNotReadBack(t *testing.T) {
	e := newOpsEnv(t, 10)
	ctx := context.Background()
	e.addUser("Rita Reader", "US")
	e.syncNow(false)
	e.graph.failUser = opsInjected
	res, err := e.svc.Assign(ctx, "admin", e.cust.ID, e.users["Rita Reader"], licensing.Change{SkuID: opsE3})
	td.Require(t).CmpNoError(err, "Graph made the change")
	td.Cmp(t, res.Notes, []string{"Microsoft Graph made the change, but reading it back failed (Microsoft Graph failed (injected)): the next sync will store it."})
	td.Cmp(t, e.direct("Rita Reader"), map[string][]string{opsE3: {}})
	td.Cmp(t, e.stored("Rita Reader").Licences, td.Empty(), "nothing guessed")
	td.Cmp(t, e.audits("Rita Reader"), []any{td.SuperMapOf(map[string]any{"outcome": "ok", "requestId": td.NotEmpty(),
		"after": td.Not(td.ContainsKey("licences"))}, nil)})
	td.Cmp(t, e.syncNow(false), td.Struct(domain.SyncRun{}, td.StructFields{"UsersWritten": 1}))
	td.Cmp(t, e.stored("Rita Reader").Licences, td.Len(1))
}
