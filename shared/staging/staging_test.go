package staging_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

const (
	tenantID = "5c1d7e2b-3a4f-4b8c-9d0e-1f2a3b4c5d6e"
	admin    = "admin@partner.example"
	number1  = "+14255550100"
	number2  = "+14255550101"
)

var teamsPhone = skuID("MCOEV") // Microsoft Teams Phone Standard: Phone System, which a direct routing number needs

func skuID(part string) string {
	p, ok := catalog.ByPartNumber(part)
	if !ok {
		panic("no SKU " + part)
	}
	return p.SkuID
}

// clock is the wall clock moved on by an offset (SQS's delays stay real; staging deadlines can be passed at once).
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().UTC().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func ctxb() context.Context              { return context.Background() }
func quiet() *slog.Logger                { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// must returns v, failing t now when err is not nil: must(f())(t).
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		td.Require(t).CmpNoError(err)
		return v
	}
}

// flakyGraph is the real Graph client whose readiness check can be made to fail.
type flakyGraph struct {
	staging.Graph
	fail atomic.Pointer[error]
}

func (f *flakyGraph) TeamsReady(ctx context.Context, tenantID, userID string) (bool, graph.TeamsUserConfig, error) {
	if err := f.fail.Swap(nil); err != nil {
		return false, graph.TeamsUserConfig{}, *err
	}
	return f.Graph.TeamsReady(ctx, tenantID, userID)
}

// countingLicensing counts the licence assignments staging asks for.
type countingLicensing struct {
	staging.Licensing
	calls atomic.Int32
}

func (c *countingLicensing) Assign(ctx context.Context, actor, customerID, userID string, ch licensing.Change) (licensing.Result, error) {
	c.calls.Add(1)
	return c.Licensing.Assign(ctx, actor, customerID, userID, ch)
}

type env struct {
	t        *testing.T
	svc      *staging.Service
	h        *staging.Handler
	st       *store.Store
	sim      *graphsim.Sim
	g        *graph.Factory
	graph    *flakyGraph
	lic      *countingLicensing
	nums     *numbers.Service
	sqs      *sqs.Client
	queueURL string
	dlqURL   string
	sync     *tenantsync.Service
	cust     domain.Customer
	clock    *clock
	users    map[string]string // display name → id
	seattle  domain.Site       // criteria city=Seattle; the phone template; direct routing numbers
	head     domain.Site       // the default site: no template, no numbers
	phone    domain.Template   // Teams Phone
}

// newEnv wires staging over DynamoDB and SQS in moto and the real Graph client, licence operations and number
// inventory against a simulated tenant whose users appear in Teams delay after being licensed. The customer allows
// staging (limit 24 h) and has two sites: "Seattle" (city Seattle; template "Phone" = Teams Phone; numbers of
// direct routing, from its inventory: nums of number1, number2) and the default "Head office".
func newEnv(t *testing.T, delay time.Duration, nums ...string) *env {
	t.Helper()
	ctx := ctxb()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	spec := graphsim.TenantSpec{ID: tenantID, Name: "Fabrikam", Domain: "fabrikam.onmicrosoft.com", UsageLocation: "US",
		SKUs: []graphsim.SKUSpec{{PartNumber: "ENTERPRISEPACK", Enabled: 10}, {PartNumber: "MCOEV", Enabled: 10}}}
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{spec}})
	running := sim.StartForTest(t)
	td.Require(t).CmpNoError(sim.SetTeamsProvisioningDelay(delay))
	td.Require(t).CmpNoError(sim.SetNumberOperationPacing(1, 0))
	g := must(graph.New(graph.Config{
		AuthorityHost: running.AuthorityHost(), BaseURL: running.GraphURL(), RootCAs: running.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6, OperationPollInterval: 20 * time.Millisecond,
	}))(t)
	st := store.New(store.TxIsolated(dynamodb.NewFromConfig(cfg)), stack.TableName) // as the local stack: moto's transactions are not atomic
	sqsClient := sqs.NewFromConfig(cfg)
	clk := &clock{}
	log := quiet()
	nsvc := &numbers.Service{Store: st, Graph: g, Log: log}
	e := &env{t: t, st: st, sim: sim, g: g, sqs: sqsClient, queueURL: stack.StagingQueueURL, dlqURL: stack.StagingDLQURL, clock: clk,
		graph: &flakyGraph{Graph: g}, lic: &countingLicensing{Licensing: &licensing.Service{Store: st, Graph: g, Log: log}}, nums: nsvc,
		sync:  &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL), Log: log},
		cust:  domain.Customer{ID: "fabrikam", Name: "Fabrikam", TenantID: tenantID, CreatedAt: time.Now().UTC(), Version: 1},
		users: map[string]string{}}
	e.svc = &staging.Service{Store: st, Graph: e.graph, Licensing: e.lic, Numbers: nsvc, Queue: queue.NewSender(sqsClient, stack.StagingQueueURL),
		Now: clk.now, Log: log, RetryBase: time.Second, RetryMax: 2 * time.Second}
	e.h = &staging.Handler{Service: e.svc, Log: log}
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, e.cust, "test"))
	e.syncNow() // the SKUs, for templates and licence operations
	e.setSettings(true, true, 0)

	e.phone = domain.Template{ID: "tpl-phone", CustomerID: e.cust.ID, Name: "Phone", Licences: []domain.AssignedLicense{{SkuID: teamsPhone}},
		Version: 1, CreatedAt: time.Now().UTC()}
	td.Require(t).CmpNoError(st.CreateTemplate(ctx, e.phone, "test"))
	e.seattle = domain.Site{ID: "site-sea", CustomerID: e.cust.ID, Name: "Seattle", Order: 1, AllowStaging: true, TemplateID: e.phone.ID,
		Criteria:     []domain.Criterion{{Field: domain.CriterionCity, Value: "Seattle"}},
		NumberPolicy: domain.NumberPolicy{Assign: true, Type: domain.NumberDirectRouting}, CreatedAt: time.Now().UTC()}
	e.head = domain.Site{ID: "site-hq", CustomerID: e.cust.ID, Name: "Head office", Order: 2, Default: true, AllowStaging: true, CreatedAt: time.Now().UTC()}
	for _, s := range []*domain.Site{&e.seattle, &e.head} {
		td.Require(t).CmpNoError(st.CreateSite(ctx, *s, "test"))
		*s = must(st.GetSite(ctx, e.cust.ID, s.ID))(t)
	}
	for _, n := range nums {
		_ = must(nsvc.Add(ctx, e.cust.ID, "test", numbers.AddInput{Number: n, Type: domain.NumberDirectRouting, SiteID: e.seattle.ID}))(t)
		td.Require(t).CmpNoError(sim.AddNumbers(tenantID, graphsim.PhoneNumber{TelephoneNumber: n, NumberType: graphsim.NumberDirectRouting}))
	}
	return e
}

func (e *env) setSettings(manage, allow bool, limitMinutes int) {
	e.t.Helper()
	cur := must(e.st.GetSettings(ctxb(), e.cust.ID))(e.t)
	next := cur
	next.CustomerID, next.ManageLicenses, next.AllowStaging = e.cust.ID, manage, allow
	if limitMinutes > 0 {
		next.StagingLimitMinutes = limitMinutes
	}
	_ = must(e.st.PutSettings(ctxb(), next, cur.Version, "test", time.Now().UTC()))(e.t)
}

func (e *env) syncNow() {
	e.t.Helper()
	svc := *e.sync
	svc.FullEvery = time.Nanosecond
	td.Require(e.t).CmpNoError(svc.SyncCustomer(ctxb(), e.cust.ID, "test"))
}

// addUser adds a user with Office 365 E3 (Teams) in the simulator: Teams provisions them after the delay.
func (e *env) addUser(name, city, usageLocation string) string {
	e.t.Helper()
	u := must(e.sim.AddUser(tenantID, graphsim.NewUser{DisplayName: name, City: city, UsageLocation: usageLocation}))(e.t)
	td.Require(e.t).CmpNoError(e.sim.AssignDirectLicense(tenantID, u.ID, "ENTERPRISEPACK", nil))
	e.users[name] = strings.ToLower(u.ID)
	return e.users[name]
}

func (e *env) stage(name string) domain.Staging {
	e.t.Helper()
	return must(e.svc.Stage(ctxb(), staging.StageRequest{CustomerID: e.cust.ID, UserID: e.users[name], Reason: staging.ReasonLicence, Actor: admin}))(e.t)
}

func (e *env) record(name string) domain.Staging {
	e.t.Helper()
	return must(e.st.GetStaging(ctxb(), e.cust.ID, e.users[name]))(e.t)
}

// receive reads up to max messages of the staging queue, waiting up to wait for the first, as Lambda's poller does.
func (e *env) receive(maxN int, wait time.Duration) []events.SQSMessage {
	e.t.Helper()
	var out []events.SQSMessage
	deadline := time.Now().Add(wait)
	for len(out) < maxN {
		res := must(e.sqs.ReceiveMessage(ctxb(), &sqs.ReceiveMessageInput{
			QueueUrl: &e.queueURL, MaxNumberOfMessages: int32(min(maxN-len(out), 10)), WaitTimeSeconds: 0,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		}))(e.t)
		for _, m := range res.Messages {
			attrs := map[string]string{}
			for k, v := range m.Attributes {
				attrs[k] = v
			}
			out = append(out, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body, Attributes: attrs})
		}
		if len(res.Messages) == 0 {
			if len(out) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return out
}

// deliver hands messages to the consumer as Lambda does, and settles them as SQS does: the handled ones are
// deleted; those reported failed become visible again at once (as after the visibility timeout, shortened).
func (e *env) deliver(msgs []events.SQSMessage) []string {
	e.t.Helper()
	resp := must(e.h.HandleBatch(ctxb(), events.SQSEvent{Records: msgs}))(e.t)
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	for _, m := range msgs {
		if m.ReceiptHandle == "" {
			continue
		}
		if slices.Contains(failed, m.MessageId) {
			_ = must(e.sqs.ChangeMessageVisibility(ctxb(), &sqs.ChangeMessageVisibilityInput{QueueUrl: &e.queueURL, ReceiptHandle: &m.ReceiptHandle, VisibilityTimeout: 0}))(e.t)
			continue
		}
		_ = must(e.sqs.DeleteMessage(ctxb(), &sqs.DeleteMessageInput{QueueUrl: &e.queueURL, ReceiptHandle: &m.ReceiptHandle}))(e.t)
	}
	return failed
}

// run delivers the queue's messages until the users' staging has ended (or timeout).
func (e *env) run(timeout time.Duration, names ...string) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done := true
		for _, n := range names {
			if !e.record(n).Final() {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("staging of %v did not end within %s", names, timeout)
		}
		if msgs := e.receive(10, 3*time.Second); len(msgs) > 0 {
			e.deliver(msgs)
		}
	}
}

// audits returns the actions of the user's audit records (oldest first), with actor and outcome.
func (e *env) audits(name string, prefix string) []string {
	e.t.Helper()
	page := must(e.st.ListAudit(ctxb(), e.cust.ID, store.AuditQuery{UserID: e.users[name], Limit: 200}))(e.t)
	var out []string
	for _, r := range slices.Backward(page.Items) {
		if strings.HasPrefix(r.Action, prefix) {
			out = append(out, r.Action+" by "+r.Actor+": "+r.Outcome)
		}
	}
	return out
}

// simNumbersOf returns the simulator's numbers assigned to a user.
func (e *env) simNumbersOf(userID string) []string {
	e.t.Helper()
	var out []string
	for _, n := range must(e.sim.Numbers(tenantID))(e.t) {
		if strings.EqualFold(n.AssignmentTargetID, userID) {
			out = append(out, n.TelephoneNumber)
		}
	}
	return out
}

// storeNumbersOf returns the inventory's numbers held by a user (reserved or assigned), as "number status".
func (e *env) storeNumbersOf(userID string) []string {
	e.t.Helper()
	var out []string
	for _, n := range must(e.st.ListNumbers(ctxb(), e.cust.ID, store.NumberQuery{Limit: 100}))(e.t).Items {
		if strings.EqualFold(n.UserID, userID) {
			out = append(out, n.Number+" "+n.Status)
		}
	}
	return out
}

func (e *env) directSKUs(userID string) []string {
	e.t.Helper()
	u := must(e.sim.User(tenantID, userID))(e.t)
	var out []string
	for _, l := range u.Licenses {
		if l.AssignedByGroup == "" {
			out = append(out, strings.ToLower(l.SkuID))
		}
	}
	return out
}

func TestJourneyFromStagedToProvisioned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3*time.Second, number1, number2)
	alice := e.addUser("Alice Archer", "Seattle", "US")
	bob := e.addUser("Bob Baker", "Portland", "US")
	e.syncNow()

	rec := e.stage("Alice Archer")
	td.Cmp(t, rec, td.SStruct(domain.Staging{CustomerID: e.cust.ID, UserID: alice, DisplayName: "Alice Archer",
		Status: domain.StagingStaged, Reason: staging.ReasonLicence, Actor: admin, Version: 1}, td.StructFields{
		"UserPrincipalName": td.Re(`@fabrikam\.onmicrosoft\.com$`), "StagedAt": td.Ignore(), "UpdatedAt": td.Ignore(),
		"NextCheckAt": td.NotNil(), "LastResult": td.Ignore(),
		"Deadline": td.Code(func(d time.Time) bool { return d.Sub(rec.StagedAt) == 24*time.Hour }),
	}))
	again := e.stage("Alice Archer")
	td.Cmp(t, again.Version, int64(1), "staging a staged user again changes nothing")
	e.stage("Bob Baker")

	// The first checks come before Teams has provisioned the users: back on the queue, with the backoff.
	msgs := e.receive(2, 5*time.Second)
	td.Require(t).Len(msgs, 2)
	td.Cmp(t, e.deliver(msgs), td.Empty())
	for _, name := range []string{"Alice Archer", "Bob Baker"} {
		r := e.record(name)
		td.Cmp(t, r, td.SStruct(domain.Staging{Status: domain.StagingStaged, Attempts: 1, LastResult: "Not in Teams yet (check 1)."},
			td.StructFields{"=*": td.Ignore(), "NextCheckAt": td.Code(func(at *time.Time) bool {
				return at != nil && at.Sub(*r.LastCheckAt) == time.Second
			})}), name)
	}
	td.Cmp(t, e.receive(10, 0), td.Empty(), "the next checks wait for their delay")

	e.run(30*time.Second, "Alice Archer", "Bob Baker")

	// Alice: the Seattle site by her city, its template, a number of its inventory, in Teams and in the store.
	a := e.record("Alice Archer")
	td.Cmp(t, a, td.SStruct(domain.Staging{Status: domain.StagingProvisioned, PlacedSiteID: e.seattle.ID, TemplateApplied: true,
		ReservedNumber: number1, AssignedNumber: number1, LastResult: `Provisioned on site "Seattle" with number ` + number1 + "."},
		td.StructFields{"=*": td.Ignore(), "Attempts": td.Gte(1), "ProvisionedAt": td.NotNil(), "Error": ""}))
	td.Cmp(t, e.directSKUs(alice), td.Contains(teamsPhone), "the site's template was applied")
	td.Cmp(t, e.simNumbersOf(alice), []string{number1}, "assigned in Teams")
	n := must(e.st.GetNumber(ctxb(), e.cust.ID, number1))(t)
	td.Cmp(t, n, td.SStruct(domain.Number{Status: domain.NumberAssigned, UserID: alice, UserName: "Alice Archer", SiteID: e.seattle.ID},
		td.StructFields{"=*": td.Ignore()}), "flagged with her name")
	td.Cmp(t, must(e.st.GetProvisioning(ctxb(), e.cust.ID, alice))(t), td.SStruct(domain.Provisioning{SiteID: e.seattle.ID, Number: number1,
		NumberType: domain.NumberDirectRouting}, td.StructFields{"=*": td.Ignore(), "ReservedNumber": ""}))
	td.Cmp(t, e.audits("Alice Archer", "staging."), []string{"staging.stage by " + admin + ": ok", "staging.provisioned by job:staging: ok"})

	// Bob: no site matches his city: the default site, which has no template and assigns no number.
	b := e.record("Bob Baker")
	td.Cmp(t, b, td.SStruct(domain.Staging{Status: domain.StagingProvisioned, PlacedSiteID: e.head.ID, LastResult: `Provisioned on site "Head office".`},
		td.StructFields{"=*": td.Ignore(), "TemplateApplied": false, "AssignedNumber": ""}))
	td.Cmp(t, e.simNumbersOf(bob), td.Empty())
	td.Cmp(t, must(e.st.GetProvisioning(ctxb(), e.cust.ID, bob))(t).SiteID, e.head.ID)
	td.Cmp(t, int(e.lic.calls.Load()), 1, "one licence assigned in all: Alice's Teams Phone")

	page := must(e.svc.List(ctxb(), e.cust.ID, store.StagingQuery{Status: domain.StagingProvisioned}))(t)
	td.Cmp(t, page.Items, td.Len(2))
	byUser := must(e.svc.ByUsers(ctxb(), e.cust.ID, []string{alice, bob, "someone-else"}))(t)
	td.Cmp(t, byUser, td.Len(2))
}

func TestDuplicateDeliveryProvisionsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, number1, number2)
	alice := e.addUser("Alice Archer", "Seattle", "US")
	e.syncNow()
	e.stage("Alice Archer")

	msgs := e.receive(1, 5*time.Second)
	td.Require(t).Len(msgs, 1)
	// SQS delivers at least once: the same check three times at once (as copies with their own ids)...
	var copies []events.SQSMessage
	for i := range 3 {
		c := msgs[0]
		c.MessageId, c.ReceiptHandle = fmt.Sprintf("%s-%d", c.MessageId, i), ""
		copies = append(copies, c)
	}
	td.Cmp(t, e.deliver(copies), td.Empty())
	// ...and once more afterwards.
	td.Cmp(t, e.deliver(msgs), td.Empty())
	td.Cmp(t, e.receive(10, 2*time.Second), td.Empty(), "nothing re-queued")

	td.Cmp(t, e.record("Alice Archer").Status, domain.StagingProvisioned)
	td.Cmp(t, e.simNumbersOf(alice), td.Len(1), "one number in Teams")
	td.Cmp(t, e.storeNumbersOf(alice), td.Len(1), "one number in the inventory")
	td.Cmp(t, e.audits("Alice Archer", "staging.provisioned"), td.Len(1), "provisioned once")
	td.Cmp(t, e.audits("Alice Archer", "licence.assign"), []string{"licence.assign by job:staging: ok"}, "the template applied once")
}

// crashingNumbers stands for a process that dies after Teams assigned the number but before the inventory recorded
// it: the first Complete assigns the number through Graph and fails.
type crashingNumbers struct {
	staging.Numbers
	g       *graph.Factory
	crashed atomic.Bool
}

func (c *crashingNumbers) Complete(ctx context.Context, cust domain.Customer, n domain.Number, user domain.User, siteID, actor string) (domain.Number, error) {
	if c.crashed.CompareAndSwap(false, true) {
		if err := c.g.AssignNumber(ctx, cust.TenantID, graph.NumberAssignment{TelephoneNumber: n.Number, AssignmentTargetID: user.ID, NumberType: n.Type}); err != nil {
			return domain.Number{}, err
		}
		return domain.Number{}, errors.New("the process died after Teams assigned the number")
	}
	return c.Numbers.Complete(ctx, cust, n, user, siteID, actor)
}

func TestCrashBetweenStepsResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, number1, number2)
	e.svc.Numbers = &crashingNumbers{Numbers: e.nums, g: e.g}
	alice := e.addUser("Alice Archer", "Seattle", "US")
	e.syncNow()
	e.stage("Alice Archer")

	msgs := e.receive(1, 5*time.Second)
	td.Require(t).Len(msgs, 1)
	td.Cmp(t, e.deliver(msgs), []string{msgs[0].MessageId}, "an unexpected failure: redelivered")
	td.Cmp(t, e.record("Alice Archer"), td.SStruct(domain.Staging{Status: domain.StagingProvisioning, PlacedSiteID: e.seattle.ID,
		TemplateApplied: true, ReservedNumber: number1}, td.StructFields{"=*": td.Ignore(), "AssignedNumber": ""}), "the steps done are recorded")
	td.Cmp(t, e.simNumbersOf(alice), []string{number1}, "Teams has the number")
	td.Cmp(t, e.storeNumbersOf(alice), []string{number1 + " reserved"}, "the inventory has not recorded it")

	again := e.receive(1, 5*time.Second)
	td.Require(t).Len(again, 1)
	td.Cmp(t, again[0].Attributes["ApproximateReceiveCount"], "2")
	td.Cmp(t, e.deliver(again), td.Empty())

	td.Cmp(t, e.record("Alice Archer"), td.SStruct(domain.Staging{Status: domain.StagingProvisioned, AssignedNumber: number1},
		td.StructFields{"=*": td.Ignore()}))
	td.Cmp(t, e.simNumbersOf(alice), []string{number1})
	td.Cmp(t, e.storeNumbersOf(alice), []string{number1 + " assigned"})
	td.Cmp(t, int(e.lic.calls.Load()), 1, "the template was not applied again")
	td.Cmp(t, e.audits("Alice Archer", "staging.provisioned"), td.Len(1))
}

// flakyNumbers fails the first Complete as Graph failing would.
type flakyNumbers struct {
	staging.Numbers
	failed atomic.Bool
}

func (f *flakyNumbers) Complete(ctx context.Context, cust domain.Customer, n domain.Number, user domain.User, siteID, actor string) (domain.Number, error) {
	if f.failed.CompareAndSwap(false, true) {
		return domain.Number{}, domain.Errorf(domain.EUpstream, "Microsoft Graph is unavailable")
	}
	return f.Numbers.Complete(ctx, cust, n, user, siteID, actor)
}

func TestTransientStepFailureRetriesLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, number1, number2)
	e.svc.Numbers = &flakyNumbers{Numbers: e.nums}
	alice := e.addUser("Alice Archer", "Seattle", "US")
	e.syncNow()
	e.stage("Alice Archer")

	td.Cmp(t, e.deliver(e.receive(1, 5*time.Second)), td.Empty(), "handled: the retry is a new check")
	td.Cmp(t, e.record("Alice Archer"), td.SStruct(domain.Staging{Status: domain.StagingStaged, Attempts: 1, PlacedSiteID: e.seattle.ID,
		TemplateApplied: true, ReservedNumber: number1, LastResult: "Assigning number " + number1 + " failed: Microsoft Graph is unavailable. Will retry."},
		td.StructFields{"=*": td.Ignore(), "Error": "", "AssignedNumber": ""}), "back to staged, not failed, its progress kept")

	e.run(15*time.Second, "Alice Archer")
	td.Cmp(t, e.record("Alice Archer"), td.SStruct(domain.Staging{Status: domain.StagingProvisioned, Attempts: 1, AssignedNumber: number1},
		td.StructFields{"=*": td.Ignore()}))
	td.Cmp(t, e.simNumbersOf(alice), []string{number1})
	td.Cmp(t, e.storeNumbersOf(alice), []string{number1 + " assigned"})
	td.Cmp(t, int(e.lic.calls.Load()), 1, "the template was not applied again")
}

func TestUserWhoNeverAppearsFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Hour, number1)
	e.setSettings(true, true, 5)
	e.addUser("Alice Archer", "Seattle", "US")
	e.syncNow()
	rec := e.stage("Alice Archer")
	td.Cmp(t, rec.Deadline.Sub(rec.StagedAt), 5*time.Minute)

	td.Cmp(t, e.deliver(e.receive(1, 5*time.Second)), td.Empty())
	td.Cmp(t, e.record("Alice Archer").Attempts, 1)

	e.clock.advance(6 * time.Minute)
	e.run(15*time.Second, "Alice Archer")
	r := e.record("Alice Archer")
	td.Cmp(t, r, td.SStruct(domain.Staging{Status: domain.StagingFailed, Attempts: 1,
		Error: "Alice Archer (" + r.UserPrincipalName + ") did not appear in Teams within 5 min."}, td.StructFields{"=*": td.Ignore()}))
	td.Cmp(t, e.audits("Alice Archer", "staging."), []string{"staging.stage by " + admin + ": ok", "staging.failed by job:staging: failed"})
	td.Cmp(t, e.receive(10, time.Second), td.Empty(), "the chain ended")
}

// downStore is the store with SetProvisionedSite failing: a step failing for reasons of our own.
type downStore struct{ staging.Store }

func (downStore) SetProvisionedSite(context.Context, string, string, string, time.Time) error {
	return errors.New("DynamoDB is down")
}

func TestPoisonMessageEndsFailedAndInTheDLQ(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, number1)
	e.svc.Store = downStore{e.st}
	e.addUser("Alice Archer", "Seattle", "US")
	e.syncNow()
	e.stage("Alice Archer")

	for i := 1; i <= staging.DefaultMaxReceives; i++ {
		msgs := e.receive(1, 5*time.Second)
		td.Require(t).Len(msgs, 1, "delivery %d", i)
		td.Cmp(t, msgs[0].Attributes["ApproximateReceiveCount"], fmt.Sprint(i))
		td.Cmp(t, e.deliver(msgs), []string{msgs[0].MessageId}, "delivery %d fails", i)
		if i < staging.DefaultMaxReceives {
			td.Cmp(t, e.record("Alice Archer").Status, domain.StagingProvisioning, "delivery %d: redelivered, not failed yet", i)
		}
	}
	r := e.record("Alice Archer")
	td.Cmp(t, r.Status, domain.StagingFailed)
	td.Cmp(t, r.Error, "Handling this staging failed 5 times in a row; the last time while placing the user on a site: internal error")
	td.Cmp(t, e.audits("Alice Archer", "staging.failed"), []string{"staging.failed by job:staging: failed"})

	// SQS moves the message to the DLQ when it would be received a sixth time.
	td.Cmp(t, e.receive(1, time.Second), td.Empty())
	dlq := must(e.sqs.ReceiveMessage(ctxb(), &sqs.ReceiveMessageInput{QueueUrl: &e.dlqURL, WaitTimeSeconds: 1}))(t)
	td.Cmp(t, dlq.Messages, td.Len(1), "in the DLQ")
}

func TestTwoUsersRaceForTheLastNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, number1)
	alice := e.addUser("Alice Archer", "Seattle", "US")
	bob := e.addUser("Bob Baker", "Seattle", "US")
	e.syncNow()
	e.stage("Alice Archer")
	e.stage("Bob Baker")

	msgs := e.receive(2, 5*time.Second)
	td.Require(t).Len(msgs, 2)
	td.Cmp(t, e.deliver(msgs), td.Empty(), "both handled in one batch, at once")

	// The loser fails at once (no free number is permanent: the admin adds numbers and stages the user again).
	recs := map[string]domain.Staging{alice: e.record("Alice Archer"), bob: e.record("Bob Baker")}
	var winner, loser string
	for id, r := range recs {
		if r.Status == domain.StagingProvisioned {
			winner = id
		} else {
			loser = id
		}
	}
	td.Require(t).Not(winner, "", "one is provisioned")
	td.Require(t).Not(loser, "")
	td.Cmp(t, recs[winner].AssignedNumber, number1)
	td.Cmp(t, recs[loser], td.SStruct(domain.Staging{Status: domain.StagingFailed}, td.StructFields{"=*": td.Ignore(),
		"Error": td.Re(`^Assigning a number failed: no free directRouting number on site .*Seattle`), "AssignedNumber": ""}))
	td.Cmp(t, e.simNumbersOf(winner), []string{number1})
	td.Cmp(t, e.simNumbersOf(loser), td.Empty())
	td.Cmp(t, e.storeNumbersOf(winner), []string{number1 + " assigned"})
	td.Cmp(t, e.storeNumbersOf(loser), td.Empty())
}

func TestCheckNowAndRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Hour, number1)
	alice := e.addUser("Alice Archer", "Seattle", "US")
	e.addUser("Bob Baker", "Seattle", "US")
	e.syncNow()

	t.Run("not ready: stays staged", func(t *testing.T) {
		e.stage("Alice Archer")
		res := must(e.svc.CheckNow(ctxb(), e.cust.ID, alice, admin))(t)
		td.Cmp(t, res.Ready, false)
		td.Cmp(t, res.Message, td.HasPrefix("Alice Archer ("))
		td.Cmp(t, res.Message, td.Contains("has not appeared in Teams yet: they stay staged"))
		td.Cmp(t, res.Staging, td.SStruct(domain.Staging{Status: domain.StagingStaged, LastResult: "Not in Teams yet (checked by hand)."},
			td.StructFields{"=*": td.Ignore(), "LastCheckAt": td.NotNil(), "Attempts": 0}), "the queued check goes on")
	})

	t.Run("a transient Graph failure of the consumer: back on the queue", func(t *testing.T) {
		err := error(domain.Errorf(domain.EThrottled, "Microsoft Graph throttled the request"))
		e.graph.fail.Store(&err)
		td.Cmp(t, e.deliver(e.receive(1, 5*time.Second)), td.Empty())
		td.Cmp(t, e.record("Alice Archer"), td.SStruct(domain.Staging{Status: domain.StagingStaged, Attempts: 1,
			LastResult: "Checking whether the user is in Teams failed: Microsoft Graph throttled the request. Will retry."}, td.StructFields{"=*": td.Ignore()}))
	})

	t.Run("ready: provisioned at once", func(t *testing.T) {
		td.Require(t).CmpNoError(e.sim.SetTeamsProvisioningDelay(0))
		res := must(e.svc.CheckNow(ctxb(), e.cust.ID, alice, admin))(t)
		td.Cmp(t, res.Ready, true)
		td.Cmp(t, res.Staging, td.SStruct(domain.Staging{Status: domain.StagingProvisioned, AssignedNumber: number1, TemplateApplied: true},
			td.StructFields{"=*": td.Ignore()}))
		td.Cmp(t, res.Message, td.Contains("is in Teams and was provisioned"))
		td.Cmp(t, e.audits("Alice Archer", "staging.provisioned"), []string{"staging.provisioned by " + admin + ": ok"})

		// The check still queued finds the staging ended.
		e.run(5*time.Second, "Alice Archer")
		td.Cmp(t, e.deliver(e.receive(10, 3*time.Second)), td.Empty())
		td.Cmp(t, e.audits("Alice Archer", "staging.provisioned"), td.Len(1))
		_, err := e.svc.CheckNow(ctxb(), e.cust.ID, alice, admin)
		td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
		_, err = e.svc.Remove(ctxb(), e.cust.ID, alice, admin)
		td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "nothing to remove once provisioned")
	})

	t.Run("remove: the queued check is dropped", func(t *testing.T) {
		td.Require(t).CmpNoError(e.sim.SetTeamsProvisioningDelay(time.Hour))
		rec := e.stage("Bob Baker")
		removed := must(e.svc.Remove(ctxb(), e.cust.ID, rec.UserID, admin))(t)
		td.Cmp(t, removed, td.SStruct(domain.Staging{Status: domain.StagingRemoved, Version: rec.Version + 1}, td.StructFields{"=*": td.Ignore()}))
		td.Cmp(t, must(e.svc.Remove(ctxb(), e.cust.ID, rec.UserID, admin))(t), removed, "removing again: as it is")
		td.Require(t).CmpNoError(e.sim.SetTeamsProvisioningDelay(0)) // it would be provisioned if the check ran
		td.Cmp(t, e.deliver(e.receive(10, 3*time.Second)), td.Empty())
		td.Cmp(t, e.record("Bob Baker"), removed, "untouched")
		td.Cmp(t, e.audits("Bob Baker", "staging."), []string{"staging.stage by " + admin + ": ok", "staging.removed by " + admin + ": ok"})

		again := e.stage("Bob Baker")
		td.Cmp(t, again, td.SStruct(domain.Staging{Status: domain.StagingStaged, Version: removed.Version + 1},
			td.StructFields{"=*": td.Ignore(), "LastCheckAt": td.Nil(), "Attempts": 0}), "staged afresh")
		_, err := e.svc.Remove(ctxb(), e.cust.ID, "nobody", admin)
		td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	})
}

func TestStagingNeedsTheSwitches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Hour)
	e.setSettings(false, false, 0)
	alice := e.addUser("Alice Archer", "Seattle", "US")
	e.syncNow()
	u := must(e.st.GetUser(ctxb(), e.cust.ID, alice))(t)
	req := staging.StageRequest{CustomerID: e.cust.ID, UserID: alice, Actor: admin}

	_, err := e.svc.Stage(ctxb(), req)
	td.Cmp(t, err, td.Smuggle(func(err error) *domain.Error { var de *domain.Error; errors.As(err, &de); return de }, td.Struct(&domain.Error{
		Code: domain.EConflict, Message: "Staging is off for Fabrikam: turn on Manage Licenses and Allow User Staging in the customer's settings (Sites & settings) first.",
	}, td.StructFields{"Fields": td.NotEmpty()})))
	td.Cmp(t, must(e.svc.StageIfEligible(ctxb(), e.cust.ID, []domain.User{u}, staging.ReasonSync, "job:sync"))(t), 0)

	e.setSettings(true, false, 0)
	_, err = e.svc.Stage(ctxb(), req)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains("turn on Allow User Staging in"))
	td.Cmp(t, must(e.svc.StageIfEligible(ctxb(), e.cust.ID, []domain.User{u}, staging.ReasonSync, "job:sync"))(t), 0)
	_, err = e.st.GetStaging(ctxb(), e.cust.ID, alice)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "nothing staged")

	e.setSettings(true, true, 0)
	seattle := e.seattle
	seattle.AllowStaging = false
	_ = must(e.st.UpdateSite(ctxb(), seattle, seattle.Version, "test", time.Now().UTC()))(t)
	_, err = e.svc.Stage(ctxb(), req)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), `Site "Seattle" does not allow staging: turn on Allow User Staging on the site to stage Alice Archer (`+u.UserPrincipalName+").")
	td.Cmp(t, must(e.svc.StageIfEligible(ctxb(), e.cust.ID, []domain.User{u}, staging.ReasonSync, "job:sync"))(t), 0, "the site does not stage")
	_, err = e.svc.Stage(ctxb(), staging.StageRequest{CustomerID: e.cust.ID, UserID: alice, SiteID: "nowhere"})
	td.Cmp(t, err, td.Smuggle(func(err error) map[string]string { var de *domain.Error; errors.As(err, &de); return de.Fields },
		map[string]string{"siteId": "no such site"}))

	// The default site allows staging: placed there by hand.
	rec := must(e.svc.Stage(ctxb(), staging.StageRequest{CustomerID: e.cust.ID, UserID: alice, SiteID: e.head.ID, Actor: admin}))(t)
	td.Cmp(t, rec.SiteID, e.head.ID)
	td.Cmp(t, rec.Reason, staging.ReasonManual)
	_, err = e.svc.Remove(ctxb(), e.cust.ID, alice, admin)
	td.CmpNoError(t, err)

	seattle = must(e.st.GetSite(ctxb(), e.cust.ID, seattle.ID))(t)
	seattle.AllowStaging = true
	_ = must(e.st.UpdateSite(ctxb(), seattle, seattle.Version, "test", time.Now().UTC()))(t)
	td.Cmp(t, must(e.svc.StageIfEligible(ctxb(), e.cust.ID, []domain.User{u}, staging.ReasonSync, "job:sync"))(t), 1)
	td.Cmp(t, must(e.svc.StageIfEligible(ctxb(), e.cust.ID, []domain.User{u}, staging.ReasonSync, "job:sync"))(t), 0, "staged already")
	td.Cmp(t, e.record("Alice Archer"), td.SStruct(domain.Staging{Status: domain.StagingStaged, Reason: staging.ReasonSync, Actor: "job:sync"},
		td.StructFields{"=*": td.Ignore()}))
	// Two checks are queued, both of attempt 0: the removed staging's and the new one's (none for the refused
	// ones). Handled together, they are duplicates: one re-queues the chain, the other is dropped.
	msgs := e.receive(2, 3*time.Second)
	td.Require(t).Len(msgs, 2)
	td.Cmp(t, e.deliver(msgs), td.Empty())
	td.Cmp(t, e.record("Alice Archer").Attempts, 1)
	td.Cmp(t, e.receive(10, 3*time.Second), td.Len(1), "one chain goes on")
}

func TestOnboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, number1, number2)
	carol := e.addUser("Carol Clark", "Portland", "US")
	dave := e.addUser("Dave Dunn", "Portland", "") // no usage location: Microsoft refuses to license him
	e.syncNow()

	_, err := e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{carol, dave}, Number: number2})
	td.Cmp(t, err, td.Smuggle(func(err error) map[string]string { var de *domain.Error; errors.As(err, &de); return de.Fields },
		map[string]string{"number": "a number can be chosen for one user only"}))
	_, err = e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{carol, carol}})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	_, err = e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{carol}, TemplateID: "nope"})
	td.Cmp(t, err, td.Smuggle(func(err error) map[string]string { var de *domain.Error; errors.As(err, &de); return de.Fields },
		map[string]string{"templateId": "no such template"}))
	_, err = e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	_, err = e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{carol}, Number: "+14255559999"})
	td.Cmp(t, err, td.Smuggle(func(err error) map[string]string { var de *domain.Error; errors.As(err, &de); return de.Fields },
		map[string]string{"number": "not in the customer's number inventory"}))

	res := must(e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{carol}, TemplateID: e.phone.ID,
		SiteID: e.head.ID, Number: number2}))(t)
	td.Cmp(t, res, []staging.OnboardResult{{UserID: carol, Staged: true, Status: domain.StagingStaged}})
	td.Cmp(t, e.directSKUs(carol), td.Contains(teamsPhone), "licensed by the template")
	td.Cmp(t, e.record("Carol Clark"), td.SStruct(domain.Staging{Status: domain.StagingStaged, Reason: staging.ReasonOnboarding,
		SiteID: e.head.ID, TemplateID: e.phone.ID, Number: number2, TemplateApplied: true}, td.StructFields{"=*": td.Ignore()}))

	res = must(e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{dave}, TemplateID: e.phone.ID}))(t)
	td.Cmp(t, res, td.Len(1))
	td.Cmp(t, res[0], td.SStruct(staging.OnboardResult{UserID: dave, Status: domain.StagingFailed}, td.StructFields{"Error": td.Contains("no usage location")}))
	_, err = e.st.GetStaging(ctxb(), e.cust.ID, dave)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "refused: nothing staged")

	e.run(15*time.Second, "Carol Clark")
	td.Cmp(t, e.record("Carol Clark"), td.SStruct(domain.Staging{Status: domain.StagingProvisioned, PlacedSiteID: e.head.ID, AssignedNumber: number2},
		td.StructFields{"=*": td.Ignore()}), "the chosen site and number")
	td.Cmp(t, e.simNumbersOf(carol), []string{number2})
	td.Cmp(t, e.audits("Carol Clark", "licence.assign"), td.Len(1), "the template was applied once, by onboarding")

	_, err = e.svc.Onboard(ctxb(), e.cust.ID, admin, staging.OnboardRequest{UserIDs: []string{dave}, Number: "+1 (425) 555-0101"})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), "Number "+number2+" is assigned for Carol Clark: choose another.")
	td.Cmp(t, int(e.lic.calls.Load()), 2, "Carol's licence and Dave's refused one: nothing more for the refused requests")
}
