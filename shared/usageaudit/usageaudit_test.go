package usageaudit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
	"github.com/seatwise/seatwise/shared/usage"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// One moto_server for the package: each test uses customers (and snapshot dates) of its own.
var shared *store.Store

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root, err := localaws.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "usageaudit tests:", err)
		return 1
	}
	moto, err := localaws.StartMoto(ctx, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "usageaudit tests need moto_server:", err)
		return 1
	}
	defer moto.Stop()
	stack, err := localaws.Provision(ctx, moto.Endpoint, filepath.Join(root, "template.yaml"), localaws.TestStackName, localaws.TestGraphCredentials)
	if err != nil {
		fmt.Fprintf(os.Stderr, "usageaudit tests: %v\nmoto_server output: %s\n", err, moto.Output())
		return 1
	}
	cfg, err := stack.AWSConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "usageaudit tests:", err)
		return 1
	}
	shared = store.New(store.TxIsolated(dynamodb.NewFromConfig(cfg)), stack.TableName)
	return m.Run()
}

// SKUs of the worked example (their catalogue part numbers).
const (
	e3    = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK, Office 365 E3
	phone = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV, Microsoft Teams Phone Standard
	ra    = "440eaaa8-b3e0-484b-a8be-62870b9ba70a" // PHONESYSTEM_VIRTUALUSER, Teams Phone Resource Account
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func day(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}

func newService(c *clock) *usageaudit.Service {
	return &usageaudit.Service{Store: shared, Now: c.now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func createCustomer(t *testing.T, id string, skus []domain.SubscribedSKU) domain.Customer {
	t.Helper()
	ctx := context.Background()
	c := domain.Customer{ID: id, Name: "Customer " + id, TenantID: fmt.Sprintf("%08x-1c2b-4f7e-9a51-2f3e8c9b0a11", crc32.ChecksumIEEE([]byte(id))),
		CreatedAt: time.Now().UTC(), Version: 1, PublicSector: strings.HasSuffix(id, "-gov")}
	td.Require(t).CmpNoError(shared.CreateCustomer(ctx, c, "test"))
	_, err := shared.ReplaceSKUs(ctx, c, skus)
	td.Require(t).CmpNoError(err)
	return c
}

func sku(id, part string, enabled, consumed int) domain.SubscribedSKU {
	return domain.SubscribedSKU{SkuID: id, PartNumber: part, Enabled: enabled, Consumed: consumed, CapabilityStatus: "Enabled", AppliesTo: "User"}
}

func user(customerID, id, city string, skus ...string) domain.User {
	u := domain.User{CustomerID: customerID, ID: id, UserPrincipalName: id + "@example.com", DisplayName: "User " + id,
		City: city, AccountEnabled: true, Status: domain.UserActive, BusinessPhones: []string{}, Licences: []domain.Licence{}}
	for _, s := range skus {
		u.Licences = append(u.Licences, domain.Licence{SkuID: s, Direct: true, State: "Active", Error: "None", Groups: []string{}, DisabledPlans: []string{}})
	}
	return u
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func putUsers(t *testing.T, customerID string, users []domain.User) {
	t.Helper()
	for chunk := range slices.Chunk(users, 100) {
		_, err := shared.PutUsers(context.Background(), customerID, chunk, time.Now().UTC())
		td.Require(t).CmpNoError(err)
	}
}

// importNumbers gives each user a number of the type, as an import from Teams does.
func importNumbers(t *testing.T, customerID, numberType string, base int, userIDs []string) {
	t.Helper()
	ctx := context.Background()
	for i, id := range userIDs {
		_, err := shared.ImportNumber(ctx, domain.Number{CustomerID: customerID, Number: fmt.Sprintf("+44207%07d", base+i),
			Type: numberType, Status: domain.NumberAssigned, UserID: id, UserName: "User " + id}, time.Now().UTC())
		td.Require(t).CmpNoError(err, "number of %s", id)
	}
}

// The worked example of the issue, stored as a sync and provisioning would leave it: "500 acquired, 370
// currently licensed: 200 on Direct Routing, 100 on Operator Connect, 50 changed by hand, 20 service numbers".
// 30 of the Direct Routing users were also licensed by a template (they match two factors: counted once, under
// Direct Routing); 5 resource accounts hold a Direct Routing number (still service numbers); 30 users hold no
// licence and 5 licensed users were removed in the tenant (neither counts). Sites: London (city London: the Direct
// Routing users and the unlicensed ones, plus 10 hand-managed users provisioned there), Paris (city Paris: the
// Operator Connect users); the other hand-managed users (Berlin) and the resource accounts are on no site.
type example struct {
	c                        domain.Customer
	dr, oc, hand, svc, unlic []string
	template                 []string // of dr
}

var (
	exampleOnce sync.Once
	exampleData example
	exampleErr  bool
)

func workedExample(t *testing.T) example {
	t.Helper()
	exampleOnce.Do(func() {
		exampleErr = true
		exampleData = seedExample(t)
		exampleErr = false
	})
	if exampleErr {
		t.Fatal("seeding the worked example failed")
	}
	return exampleData
}

func seedExample(t *testing.T) example {
	ctx := context.Background()
	start := time.Now()
	c := createCustomer(t, "c-example", []domain.SubscribedSKU{
		sku(e3, "ENTERPRISEPACK", 400, 350), sku(phone, "MCOEV", 350, 300), sku(ra, "PHONESYSTEM_VIRTUALUSER", 25, 20),
	})
	ex := example{c: c, dr: ids("dr", 200), oc: ids("oc", 100), hand: ids("hand", 50), svc: ids("svc", 20), unlic: ids("none", 30)}
	ex.template = ex.dr[:30]
	// Numbers first: moto copies the whole table for every transaction, so they cost less while it is small.
	importNumbers(t, c.ID, domain.NumberDirectRouting, 0, ex.dr)
	importNumbers(t, c.ID, domain.NumberOperatorConnect, 1000, ex.oc)
	importNumbers(t, c.ID, domain.NumberDirectRouting, 2000, ex.svc[:5])
	t.Logf("numbers imported in %s", time.Since(start).Round(time.Millisecond))
	var users []domain.User
	for _, id := range ex.dr {
		users = append(users, user(c.ID, id, "London", e3, phone))
	}
	for _, id := range ex.oc {
		users = append(users, user(c.ID, id, "Paris", e3, phone))
	}
	for i, id := range ex.hand {
		u := user(c.ID, id, "Berlin", e3)
		if i < 3 {
			u.Licences[0].State, u.Licences[0].Error = "ActiveWithError", "CountViolation"
		}
		users = append(users, u)
	}
	for _, id := range ex.svc {
		users = append(users, user(c.ID, id, "", ra))
	}
	for _, id := range ex.unlic {
		users = append(users, user(c.ID, id, "London"))
	}
	gone := ids("gone", 5)
	for _, id := range gone {
		users = append(users, user(c.ID, id, "London", e3))
	}
	putUsers(t, c.ID, users)
	removed := make([]store.Removal, len(gone))
	for i, id := range gone {
		removed[i] = store.Removal{ID: id, Status: domain.UserDeleted}
	}
	_, err := shared.ApplyUsers(ctx, c.ID, nil, removed, time.Now().UTC())
	td.Require(t).CmpNoError(err)

	now := time.Now().UTC()
	for _, s := range []domain.Site{
		{ID: "lon", CustomerID: c.ID, Name: "London", Order: 1, Criteria: []domain.Criterion{{Field: domain.CriterionCity, Value: "London"}}, CreatedAt: now},
		{ID: "par", CustomerID: c.ID, Name: "Paris", Order: 2, Criteria: []domain.Criterion{{Field: domain.CriterionCity, Value: "Paris"}}, CreatedAt: now},
	} {
		td.Require(t).CmpNoError(shared.CreateSite(ctx, s, "test"))
	}
	for _, id := range ex.hand[:10] {
		td.Require(t).CmpNoError(shared.SetProvisionedSite(ctx, c.ID, id, "lon", now))
	}
	td.Require(t).CmpNoError(shared.SetManagedBy(ctx, c.ID, ex.hand, domain.ManagedByUI, now))
	td.Require(t).CmpNoError(shared.SetManagedBy(ctx, c.ID, ex.template, domain.ManagedByTemplate, now))
	t.Logf("worked example seeded in %s", time.Since(start).Round(time.Millisecond))
	return ex
}

// factors are the default rules' counts.
func factors(dr, oc, tmpl, ui, svc int) []domain.FactorCount {
	counts := []int{dr, oc, tmpl, ui, svc}
	out := make([]domain.FactorCount, 5)
	for i, r := range usage.DefaultRules() {
		out[i] = domain.FactorCount{RuleID: r.ID, Name: r.Name, Enabled: true, Count: counts[i]}
	}
	return out
}

func TestWorkedExample(t *testing.T) {
	ex := workedExample(t)
	ctx := context.Background()
	clk := &clock{t: day("2030-06-01")}
	svc := newService(clk)

	pool, err := svc.SavePool(ctx, ex.c.ID, "admin", 0, usageaudit.PoolInput{Acquired: map[string]int{e3: 400, strings.ToUpper(phone): 75, ra: 25}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, pool, td.SStruct(domain.LicencePool{CustomerID: ex.c.ID, Acquired: map[string]int{e3: 400, phone: 75, ra: 25},
		UnusedThreshold: domain.DefaultUnusedThreshold, UnusedDays: domain.DefaultUnusedDays, Version: 1}, td.StructFields{"UpdatedAt": td.Ignore()}))

	cur, err := svc.Current(ctx, ex.c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, cur.Acquired, 500)
	td.Cmp(t, cur.AcquiredBySKU, map[string]int{e3: 400, phone: 75, ra: 25})
	td.Cmp(t, cur.Users, 400, "active users: the removed ones do not count")
	td.Cmp(t, cur.Usage, domain.Usage{
		Licensed: 370, Unmatched: 0,
		Factors: factors(200, 100, 0, 50, 20), // the 30 template-licensed Direct Routing users count once, under Direct Routing
		BySKU:   map[string]int{"ENTERPRISEPACK": 350, "MCOEV": 300, "PHONESYSTEM_VIRTUALUSER": 20},
	})
	td.Cmp(t, cur.SKUs, []domain.SnapshotSKU{
		{SkuID: e3, PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3", Enabled: 400, Consumed: 350, Acquired: 400, Assigned: 350},
		{SkuID: phone, PartNumber: "MCOEV", Name: "Microsoft Teams Phone Standard", Enabled: 350, Consumed: 300, Acquired: 75, Assigned: 300},
		{SkuID: ra, PartNumber: "PHONESYSTEM_VIRTUALUSER", Name: "Microsoft Teams Phone Resource Account", Enabled: 25, Consumed: 20, Acquired: 25, Assigned: 20},
	})
	td.Cmp(t, cur.ComputedAt, clk.now())
	td.Cmp(t, cur.RulesVersion, int64(0), "the default rules")

	// Sites: London (criteria, and 10 provisioned there), Paris, and the users on no site.
	td.Cmp(t, cur.Sites, []usageaudit.SiteUsage{
		{SiteID: "lon", SiteName: "London", Users: 240, Usage: domain.Usage{Licensed: 210, Factors: factors(200, 0, 0, 10, 0),
			BySKU: map[string]int{"ENTERPRISEPACK": 210, "MCOEV": 200}},
			SKUs: []domain.SnapshotSKU{
				{SkuID: e3, PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3", Assigned: 210},
				{SkuID: phone, PartNumber: "MCOEV", Name: "Microsoft Teams Phone Standard", Assigned: 200},
			}},
		{SiteID: "par", SiteName: "Paris", Users: 100, Usage: domain.Usage{Licensed: 100, Factors: factors(0, 100, 0, 0, 0),
			BySKU: map[string]int{"ENTERPRISEPACK": 100, "MCOEV": 100}},
			SKUs: []domain.SnapshotSKU{
				{SkuID: e3, PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3", Assigned: 100},
				{SkuID: phone, PartNumber: "MCOEV", Name: "Microsoft Teams Phone Standard", Assigned: 100},
			}},
		{SiteID: usageaudit.UnplacedSiteID, SiteName: usageaudit.UnplacedSiteName, Users: 60, Usage: domain.Usage{Licensed: 60,
			Factors: factors(0, 0, 0, 40, 20), BySKU: map[string]int{"ENTERPRISEPACK": 40, "PHONESYSTEM_VIRTUALUSER": 20}},
			SKUs: []domain.SnapshotSKU{
				{SkuID: e3, PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3", Assigned: 40},
				{SkuID: ra, PartNumber: "PHONESYSTEM_VIRTUALUSER", Name: "Microsoft Teams Phone Resource Account", Assigned: 20},
			}},
	})

	// The users behind a count: a user matching two factors is under the first only.
	page, err := svc.DrillDown(ctx, ex.c.ID, usage.RuleDirectRouting, "", 200)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, userIDs(page.Items), ex.dr)
	td.Cmp(t, page.NextCursor, "")
	page, err = svc.DrillDown(ctx, ex.c.ID, usage.RuleByTemplate, "", 50)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Empty())

	// The saved pool's stale version.
	_, err = svc.SavePool(ctx, ex.c.ID, "admin", 0, usageaudit.PoolInput{})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
}

func userIDs(users []domain.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func TestDrillDownPages(t *testing.T) {
	ex := workedExample(t)
	ctx := context.Background()
	svc := newService(&clock{t: day("2030-06-01")})
	var got []string
	cursor, pages := "", 0
	for {
		page, err := svc.DrillDown(ctx, ex.c.ID, usage.RuleOperatorConnect, cursor, 40)
		td.Require(t).CmpNoError(err)
		pages++
		td.Cmp(t, len(page.Items), td.Between(1, 40))
		if pages == 1 {
			td.Cmp(t, page.Items[0], td.SStruct(domain.User{ID: "oc-000", CustomerID: ex.c.ID, City: "Paris"}, td.StructFields{
				"UserPrincipalName": "oc-000@example.com", "DisplayName": "User oc-000", "Licences": td.Len(2), "=*": td.Ignore()}),
				"the users themselves")
		}
		got = append(got, userIDs(page.Items)...)
		if page.NextCursor == "" {
			break
		}
		td.Cmp(t, page.NextCursor, page.Items[len(page.Items)-1].ID, "the cursor is the last user id")
		cursor = page.NextCursor
	}
	td.Cmp(t, pages, 3)
	td.Cmp(t, got, ex.oc, "every user once, by id")

	_, err := svc.DrillDown(ctx, ex.c.ID, "no-such-rule", "", 10)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = svc.DrillDown(ctx, ex.c.ID, usage.RuleByUI, "", 500)
	td.Cmp(t, err, td.Smuggle(func(e error) map[string]string { return fieldsOf(e) }, td.ContainsKey("limit")))
	_, err = svc.DrillDown(ctx, "c-nobody", usage.RuleByUI, "", 10)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

func fieldsOf(err error) map[string]string {
	var e *domain.Error
	if de, ok := err.(*domain.Error); ok {
		e = de
	}
	if e == nil {
		return nil
	}
	return e.Fields
}

func TestPreviewSaveAndResetRules(t *testing.T) {
	ex := workedExample(t)
	ctx := context.Background()
	svc := newService(&clock{t: day("2030-06-01")})

	view, err := svc.Rules(ctx, ex.c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, view, usageaudit.RulesView{Rules: usage.DefaultRules(), Version: 0, Inherited: true, Scope: usageaudit.ScopeProvider})

	// Direct Routing switched off, and a new rule (no id yet) for the users licensed by a template.
	changed := usage.DefaultRules()
	changed[0].Enabled = false
	changed = append(changed[:2], append([]domain.FactorRule{{Name: "Template (any account)", Enabled: true, ManagedBy: domain.ManagedByTemplate}}, changed[2:]...)...)
	preview, err := svc.Preview(ctx, ex.c.ID, changed)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, preview.Usage.Licensed, 370)
	td.Cmp(t, preview.Usage.Unmatched, 170, "the Direct Routing users not licensed by a template")
	td.Cmp(t, preview.Usage.Factors, []domain.FactorCount{
		{RuleID: usage.RuleDirectRouting, Name: "Managed Users – Direct Routing", Enabled: false, Count: 0},
		{RuleID: usage.RuleOperatorConnect, Name: "Managed Users – Operator Connect", Enabled: true, Count: 100},
		{RuleID: "template-any-account", Name: "Template (any account)", Enabled: true, Count: 30},
		{RuleID: usage.RuleByTemplate, Name: "Managed Users – By Template", Enabled: true, Count: 0},
		{RuleID: usage.RuleByUI, Name: "Managed Users – By User Interface", Enabled: true, Count: 50},
		{RuleID: usage.RuleServiceNumbers, Name: "Managed Service Numbers", Enabled: true, Count: 20},
	})
	saved, err := svc.Current(ctx, ex.c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, saved.Usage.Factors, factors(200, 100, 0, 50, 20), "a preview saves nothing")

	// A bad regular expression is refused, naming the field.
	bad := usage.DefaultRules()
	bad[1].Criteria = []domain.FactorCriterion{{Field: domain.FactorDepartment, Pattern: "(sales"}}
	_, err = svc.Preview(ctx, ex.c.ID, bad)
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	td.Cmp(t, fieldsOf(err), td.ContainsKey("rules[1].criteria[0].pattern"))
	td.Cmp(t, fieldsOf(err)["rules[1].criteria[0].pattern"], td.Contains("missing closing )"))
	_, err = svc.SaveRules(ctx, ex.c.ID, "admin", 0, bad)
	td.Cmp(t, fieldsOf(err), td.ContainsKey("rules[1].criteria[0].pattern"))
	reserved := usage.DefaultRules()
	reserved[4].ID = usageaudit.Unmatched
	_, err = svc.SaveRules(ctx, ex.c.ID, "admin", 0, reserved)
	td.Cmp(t, fieldsOf(err), map[string]string{"rules[4].id": `"unmatched" is reserved for the licensed users no rule counts`})

	// Saved for this customer: the counts change, and the drill-down follows the saved rules.
	view, err = svc.SaveRules(ctx, ex.c.ID, "admin", 0, changed)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, view.Version, int64(1))
	td.Cmp(t, view.Scope, usageaudit.ScopeCustomer)
	td.Cmp(t, view.Inherited, false)
	td.Cmp(t, view.Rules[2].ID, "template-any-account")
	t.Cleanup(func() { _, _ = svc.ResetRules(ctx, ex.c.ID, "admin", view.Version) })
	cur, err := svc.Current(ctx, ex.c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, cur.Usage.Factors, preview.Usage.Factors)
	td.Cmp(t, cur.RulesVersion, int64(1))
	unmatched, err := svc.DrillDown(ctx, ex.c.ID, usageaudit.Unmatched, "", 200)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, userIDs(unmatched.Items), ex.dr[30:])
	_, err = svc.SaveRules(ctx, ex.c.ID, "admin", 0, view.Rules)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "stale version")

	// Reset: the customer inherits the provider's rules again.
	view, err = svc.ResetRules(ctx, ex.c.ID, "admin", 1)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, view, usageaudit.RulesView{Rules: usage.DefaultRules(), Inherited: true, Scope: usageaudit.ScopeProvider})
	cur, err = svc.Current(ctx, ex.c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, cur.Usage.Factors, factors(200, 100, 0, 50, 20))

	_, err = svc.Rules(ctx, "c-nobody")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = svc.ResetRules(ctx, "", "admin", 0)
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}

func TestPoolValidation(t *testing.T) {
	ctx := context.Background()
	createCustomer(t, "c-pool", []domain.SubscribedSKU{sku(e3, "ENTERPRISEPACK", 10, 5)})
	svc := newService(&clock{t: day("2030-06-01")})
	p, err := svc.Pool(ctx, "c-pool")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p, domain.LicencePool{CustomerID: "c-pool", Acquired: map[string]int{}, UnusedThreshold: 5, UnusedDays: 7})

	_, err = svc.SavePool(ctx, "c-pool", "admin", 0, usageaudit.PoolInput{
		Acquired: map[string]int{e3: -1, phone: 3}, UnusedThreshold: -2, UnusedDays: 91})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	td.Cmp(t, fieldsOf(err), map[string]string{
		"acquired." + e3:    "must be 0 to 10000000",
		"acquired." + phone: "not a SKU of this customer",
		"unusedThreshold":   "must be 1 to 1000000 (0 = the default, 5)",
		"unusedDays":        "must be 1 to 90 (0 = the default, 7)",
	})
	p, err = svc.SavePool(ctx, "c-pool", "admin", 0, usageaudit.PoolInput{Acquired: map[string]int{e3: 12}, UnusedThreshold: 2, UnusedDays: 3})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p.Acquired, map[string]int{e3: 12})
	td.Cmp(t, []int{p.UnusedThreshold, p.UnusedDays}, []int{2, 3})
	td.Cmp(t, p.Version, int64(1))
	_, err = svc.Pool(ctx, "c-nobody")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

func TestSnapshotsHistoryAndTotals(t *testing.T) {
	ex := workedExample(t)
	ctx := context.Background()
	clk := &clock{t: day("2031-05-01")}
	svc := newService(clk)

	snaps, err := svc.Snapshot(ctx, ex.c.ID, "admin")
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(snaps, td.Len(4))
	td.Cmp(t, snaps[0], td.SStruct(domain.Snapshot{CustomerID: ex.c.ID, CustomerName: ex.c.Name, Date: "2031-05-01",
		TakenAt: clk.now(), Users: 400, Licensed: 370, Factors: factors(200, 100, 0, 50, 20)}, td.StructFields{"SKUs": td.Len(3)}))
	td.Cmp(t, []string{snaps[1].SiteID, snaps[2].SiteID, snaps[3].SiteID}, []string{"lon", "par", usageaudit.UnplacedSiteID})
	// The sites partition the customer.
	users, licensed := 0, 0
	byFactor := map[string]int{}
	for _, sn := range snaps[1:] {
		users += sn.Users
		licensed += sn.Licensed
		for _, f := range sn.Factors {
			byFactor[f.RuleID] += f.Count
		}
	}
	td.Cmp(t, []int{users, licensed}, []int{400, 370})
	td.Cmp(t, byFactor, map[string]int{"direct-routing": 200, "operator-connect": 100, "by-template": 0, "by-ui": 50, "service-numbers": 20})

	// A refresh the same day replaces the day's snapshots; the next day adds one.
	clk.set(day("2031-05-01").Add(time.Hour))
	_, err = svc.Snapshot(ctx, ex.c.ID, "admin")
	td.Require(t).CmpNoError(err)
	clk.set(day("2031-05-02"))
	_, err = svc.Snapshot(ctx, ex.c.ID, "job:snapshot")
	td.Require(t).CmpNoError(err)

	hist, err := svc.History(ctx, ex.c.ID, "", "2031-05-01", "2031-05-02")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, hist, td.Len(2))
	td.Cmp(t, []string{hist[0].Date, hist[1].Date}, []string{"2031-05-01", "2031-05-02"})
	td.Cmp(t, hist[0].TakenAt, day("2031-05-01").Add(time.Hour), "the refresh's")
	lon, err := svc.History(ctx, ex.c.ID, "lon", "", "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, lon, td.Len(2), "the last 30 days by default")
	td.Cmp(t, lon[1], td.SStruct(domain.Snapshot{SiteID: "lon", SiteName: "London", Users: 240, Licensed: 210}, td.StructFields{"=*": td.Ignore()}))
	_, err = svc.History(ctx, ex.c.ID, "", "2031-05-03", "2031-05-01")
	td.Cmp(t, fieldsOf(err), td.ContainsKey("from"))
	_, err = svc.History(ctx, ex.c.ID, "", "yesterday", "")
	td.Cmp(t, fieldsOf(err), td.ContainsKey("from"))

	// A second customer on the second day: the totals across customers.
	small := createCustomer(t, "c-small-gov", []domain.SubscribedSKU{sku(e3, "ENTERPRISEPACK", 5, 2)})
	putUsers(t, small.ID, []domain.User{user(small.ID, "a", "Leeds", e3), user(small.ID, "b", "Leeds", e3), user(small.ID, "c", "Leeds")})
	snaps, err = svc.Snapshot(ctx, small.ID, "admin")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, snaps, td.Len(2), "the customer, and its users on no site")
	td.Cmp(t, snaps[0].PublicSector, true)

	totals, err := svc.HistoryAcross(ctx, nil, "2031-05-01", "2031-05-02")
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(totals, td.Len(2))
	td.Cmp(t, totals[0], td.SStruct(store.ProviderTotal{Date: "2031-05-01", Customers: 1, Users: 400, Licensed: 370,
		Factors: map[string]int{"Managed Users – Direct Routing": 200, "Managed Users – Operator Connect": 100,
			"Managed Users – By User Interface": 50, "Managed Service Numbers": 20}}, td.StructFields{"SKUs": td.Len(3)}))
	td.Cmp(t, totals[1], td.SStruct(store.ProviderTotal{Date: "2031-05-02", Customers: 2, Users: 403, Licensed: 372,
		Unmatched: 2, Factors: map[string]int{"Managed Users – Direct Routing": 200, "Managed Users – Operator Connect": 100,
			"Managed Users – By User Interface": 50, "Managed Service Numbers": 20}}, td.StructFields{"SKUs": td.Len(3)}))
	td.Cmp(t, totals[1].SKUs["ENTERPRISEPACK"], domain.SnapshotSKU{SkuID: e3, PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3",
		Enabled: 405, Consumed: 352, Acquired: 400, Assigned: 352})

	// Restricted to some customers: the sum of theirs, computed the same way.
	mine, err := svc.HistoryAcross(ctx, []string{small.ID, small.ID, "c-nobody"}, "2031-05-01", "2031-05-02")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, mine, []store.ProviderTotal{{Date: "2031-05-02", Customers: 1, Users: 3, Licensed: 2, Unmatched: 2,
		Factors: map[string]int{}, SKUs: map[string]domain.SnapshotSKU{
			"ENTERPRISEPACK": {SkuID: e3, PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3", Enabled: 5, Consumed: 2, Assigned: 2}}}})
	both, err := svc.HistoryAcross(ctx, []string{ex.c.ID, small.ID}, "2031-05-01", "2031-05-02")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, both, totals, "the same as the provider's totals when they are all the customers of those days")
	none, err := svc.HistoryAcross(ctx, []string{}, "2031-05-01", "2031-05-02")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, none, td.Empty())
	// History without a customer: the provider's totals as snapshots.
	all, err := svc.History(ctx, "", "", "2031-05-01", "2031-05-02")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, all, td.Len(2))
	td.Cmp(t, all[1], td.SStruct(domain.Snapshot{Date: "2031-05-02", CustomerName: "All customers", Users: 403, Licensed: 372, Unmatched: 2},
		td.StructFields{"Factors": td.Len(4), "SKUs": td.Len(3)}))
}

func TestAlerts(t *testing.T) {
	ctx := context.Background()
	c := createCustomer(t, "c-alerts", []domain.SubscribedSKU{
		sku(e3, "ENTERPRISEPACK", 100, 80), // 20 available
		sku(phone, "MCOEV", 10, 12),        // 2 missing
	})
	clk := &clock{t: day("2032-01-10")}
	svc := newService(clk)
	_, err := svc.SavePool(ctx, c.ID, "admin", 0, usageaudit.PoolInput{UnusedThreshold: 5, UnusedDays: 3})
	td.Require(t).CmpNoError(err)
	broken := user(c.ID, "err-1", "York", e3, phone)
	broken.Licences[1].State, broken.Licences[1].Error = "ActiveWithError", "CountViolation"
	putUsers(t, c.ID, []domain.User{user(c.ID, "ok-1", "York", e3), broken})
	failedAt := day("2032-01-09")
	for i, status := range []string{domain.StagingFailed, domain.StagingStaged, domain.StagingFailed} {
		_, _, err := shared.StageUser(ctx, domain.Staging{CustomerID: c.ID, UserID: fmt.Sprintf("st-%d", i), Status: status,
			StagedAt: failedAt, UpdatedAt: failedAt.Add(time.Duration(i) * time.Hour), Error: "not in Teams in time"})
		td.Require(t).CmpNoError(err)
	}

	licences, since := "#/customers/c-alerts/licences", failedAt
	want := func(extra ...domain.Alert) []domain.Alert {
		first := day("2032-01-10").Truncate(24 * time.Hour)
		base := []domain.Alert{
			{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertOverused, SkuID: phone, PartNumber: "MCOEV", Count: 2,
				Since: &first, Link: licences, Message: "2 more Microsoft Teams Phone Standard seats assigned than bought"},
			{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertLicenceErrors, Count: 1, Link: "#/customers/c-alerts/users?filter=errors",
				Message: "1 licence assignment in error: CountViolation"},
			{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertStagingFailed, Count: 2, Since: &since,
				Link: "#/customers/c-alerts/staging", Message: "staging failed for 2 users"},
		}
		return append(extra, base...)
	}
	// Days 1 and 2: 20 seats available, but not for 3 days yet.
	for _, d := range []string{"2032-01-10", "2032-01-11"} {
		clk.set(day(d))
		_, err = svc.Snapshot(ctx, c.ID, "job:snapshot")
		td.Require(t).CmpNoError(err)
		alerts, err := svc.Alerts(ctx, []string{c.ID})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, alerts, want(), d)
	}
	// Day 3: unused for 3 days.
	clk.set(day("2032-01-12"))
	_, err = svc.Snapshot(ctx, c.ID, "job:snapshot")
	td.Require(t).CmpNoError(err)
	alerts, err := svc.Alerts(ctx, []string{c.ID})
	td.Require(t).CmpNoError(err)
	first := day("2032-01-10").Truncate(24 * time.Hour)
	td.Cmp(t, alerts, want(domain.Alert{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertUnused, SkuID: e3,
		PartNumber: "ENTERPRISEPACK", Count: 20, Since: &first, Link: licences, Message: "20 Office 365 E3 seats unused for 3 days"}))
	all, err := svc.Alerts(ctx, nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, all, td.SuperBagOf(td.Flatten(alerts)), "every customer's")

	// A day without a snapshot breaks the run.
	clk.set(day("2032-01-14"))
	_, err = svc.Snapshot(ctx, c.ID, "job:snapshot")
	td.Require(t).CmpNoError(err)
	alerts, err = svc.Alerts(ctx, []string{c.ID})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, alerts, td.Len(3))
	td.Cmp(t, alerts[0].Kind, domain.AlertOverused)
	td.Cmp(t, *alerts[0].Since, day("2032-01-14").Truncate(24*time.Hour))
	empty, err := svc.Alerts(ctx, []string{})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, empty, td.Empty())
}

// jobs records what SnapshotAll queues.
type jobs struct {
	mu   sync.Mutex
	sent []queue.Job
}

func (q *jobs) Send(_ context.Context, v any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sent = append(q.sent, v.(queue.Job))
	return nil
}

// The daily schedule queues one job per customer; the sync function's jobs handler runs them.
func TestSnapshotJobsThroughTheSyncFunction(t *testing.T) {
	ctx := context.Background()
	createCustomer(t, "c-job", []domain.SubscribedSKU{sku(e3, "ENTERPRISEPACK", 5, 1)})
	putUsers(t, "c-job", []domain.User{user("c-job", "j1", "Hull", e3)})
	clk := &clock{t: day("2033-02-01").Add(-9*time.Hour + 30*time.Minute)} // 00:30 UTC
	q := &jobs{}
	svc := newService(clk)
	svc.Jobs = q
	worker := &tenantsync.Service{Log: svc.Log,
		Handlers: map[string]tenantsync.JobHandler{queue.TypeSnapshot: svc.HandleJob},
		Actions: map[string]tenantsync.ActionHandler{"snapshot-all": func(ctx context.Context) (any, error) {
			n, err := svc.SnapshotAll(ctx)
			return map[string]int{"enqueued": n}, err
		}},
	}
	res, err := worker.HandleEvent(ctx, []byte(`{"action":"snapshot-all"}`))
	td.Require(t).CmpNoError(err)
	customers, err := shared.AllCustomers(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, map[string]int{"enqueued": len(customers)})
	td.Cmp(t, q.sent, td.Len(len(customers)))
	td.Cmp(t, q.sent, td.SuperBagOf(queue.Job{Type: queue.TypeSnapshot, CustomerID: "c-job", RequestedBy: "schedule"}))

	var batch events.SQSEvent
	for i, j := range append(q.sent, queue.Job{Type: queue.TypeSnapshot, CustomerID: "c-removed-since", RequestedBy: "schedule"}) {
		b, err := json.Marshal(j)
		td.Require(t).CmpNoError(err)
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: string(b)})
	}
	resp := worker.HandleJobs(ctx, batch)
	td.Cmp(t, resp.BatchItemFailures, td.Empty(), "an unknown customer's job is dropped, not retried")

	snaps, err := svc.History(ctx, "c-job", "", "2033-02-01", "2033-02-01")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, snaps, td.Len(1))
	td.Cmp(t, snaps[0].Licensed, 1)
	totals, err := svc.HistoryAcross(ctx, nil, "2033-02-01", "2033-02-01")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, totals, td.Len(1))
	td.Cmp(t, totals[0].Customers, len(customers))

	// Redelivered: the same day's snapshots are replaced, the totals do not move.
	resp = worker.HandleJobs(ctx, events.SQSEvent{Records: batch.Records[:1]})
	td.Cmp(t, resp.BatchItemFailures, td.Empty())
	again, err := svc.HistoryAcross(ctx, nil, "2033-02-01", "2033-02-01")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, totals)
}

// A customer without rules of its own uses the provider's, once saved.
func TestProviderRulesInherited(t *testing.T) {
	ctx := context.Background()
	c := createCustomer(t, "c-inherit", []domain.SubscribedSKU{sku(e3, "ENTERPRISEPACK", 5, 1)})
	putUsers(t, c.ID, []domain.User{user(c.ID, "i1", "Bath", e3)})
	svc := newService(&clock{t: day("2030-06-01")})
	view, err := svc.Rules(ctx, "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, view, usageaudit.RulesView{Rules: usage.DefaultRules(), Scope: usageaudit.ScopeProvider})
	catchAll := append(usage.DefaultRules(), domain.FactorRule{Name: "Everyone else", Enabled: true})
	view, err = svc.SaveRules(ctx, "", "provider-admin", 0, catchAll)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, view.Version, int64(1))
	td.Cmp(t, view.Rules[5].ID, "everyone-else")
	t.Cleanup(func() { _, _ = svc.SaveRules(ctx, "", "provider-admin", 1, usage.DefaultRules()) })

	inherited, err := svc.Rules(ctx, c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, inherited, usageaudit.RulesView{Rules: view.Rules, Version: 0, Inherited: true, Scope: usageaudit.ScopeProvider})
	cur, err := svc.Current(ctx, c.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, cur.Usage.Unmatched, 0)
	td.Cmp(t, cur.Usage.Factors[5].Count, 1)
	td.Cmp(t, cur.RulesVersion, int64(1), "the provider's version")

	// A new rule whose name makes an id already taken gets another.
	preview, err := svc.Preview(ctx, c.ID, append(view.Rules, domain.FactorRule{Name: "Everyone  else!", Enabled: true, ManagedBy: domain.ManagedByNone}))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, preview.Usage.Factors[6].RuleID, "everyone-else-2")
}
