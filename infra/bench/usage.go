package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// Usage benchmark settings (issue 7, DESIGN §11).
const (
	usageUsers      = 50_000
	usageSeedPage   = 999 // users per ApplyUsers call, as a sync page
	usageSeedWriter = 4   // seed calls in flight
	usageTimeout    = 60 * time.Minute
)

// SKUs of the benchmark customer.
const (
	benchE3    = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK
	benchPhone = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV (Teams Phone Standard)
	benchRA    = "440eaaa8-b3e0-484b-a8be-62870b9ba70a" // PHONESYSTEM_VIRTUALUSER (resource accounts)
)

// usageCities are the users' cities: a site for each of the first five (by its criteria), none for the others.
var usageCities = []string{"London", "Paris", "Berlin", "Madrid", "Rome", "Leeds", "York", "Oslo"}

// benchUsage runs usage-factors-50k: the licence usage of one customer of 50,000 users (usageaudit.Service.Current:
// its provisioning read, its users streamed page by page from the store and counted by the default factor rules,
// for the customer and each site), against the real store over DynamoDB in moto_server. The customer is stored
// as a sync and provisioning leave it: users written through the sync's path (store.ApplyUsers); 1 % resource
// accounts, 5 % unlicensed, 0.5 % removed, the rest on Office 365 E3 (60 % with Teams Phone); provisioning items
// (written directly in the store's layout, then checked through store.ProvisioningOf) for 40 % on Direct Routing,
// 20 % on Operator Connect, 10 % managed by hand, 30 % by template, a third provisioned on one of 5 sites (the others
// placed by the sites' city criteria, or on none).
//
// Figures: wall_time (Current, from the call to its answer), peak_heap (the process's HeapInuse above its level
// just before the computation, after a GC, sampled every heapSampling: what the computation holds, the provisioning
// map and a page of users, plus garbage not yet collected), and to read them by: users (active users counted),
// provisioning_items, dynamodb_calls, dynamodb_time (the time spent in DynamoDB calls, one after the other: moto's
// share of the wall time) and compute_time (the rest: the service's own work). moto answers a Query on an index by
// going through the whole table, so against moto the wall time grows with the number of pages read (store.MaxLimit
// users a page) times the table's size, and is mostly moto's.
func benchUsage(ctx context.Context, root string) (err error) {
	benchStart := time.Now()
	defer func() { progress("usage benchmark took %s", time.Since(benchStart).Round(time.Second)) }()
	ctx, cancel := context.WithTimeoutCause(ctx, usageTimeout, fmt.Errorf("the usage benchmark took longer than %s", usageTimeout))
	defer cancel()

	progress("starting moto_server")
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	moto, err := localaws.StartMoto(sctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer moto.Stop()
	st, err := localaws.Provision(sctx, moto.Endpoint, filepath.Join(root, "template.yaml"), "seatwise-bench-usage", localaws.TestGraphCredentials)
	if err != nil {
		return fmt.Errorf("create local AWS resources: %w\nmoto_server output: %s", err, moto.Output())
	}
	awsCfg, err := st.AWSConfig(ctx)
	if err != nil {
		return err
	}
	db := &countingDB{Client: dynamodb.NewFromConfig(awsCfg)}
	stor := store.New(db, st.TableName)

	c, siteIDs, provisioned, err := seedUsageCustomer(ctx, stor, db, st.TableName)
	if err != nil {
		return fmt.Errorf("seed the customer: %w", err)
	}
	svc := &usageaudit.Service{Store: stor, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}

	progress("usage-factors-50k: computing the usage of %d users", usageUsers)
	runtime.GC()
	sampler := startHeapSampler(heapSampling)
	before := db.snapshot()
	start := time.Now()
	cur, err := svc.Current(ctx, c.ID)
	wall := time.Since(start)
	heapBefore, heapPeak := sampler.stop()
	if err != nil {
		return fmt.Errorf("usage-factors-50k: %w", err)
	}
	d := db.snapshot().sub(before)
	if err := checkUsage(cur, siteIDs); err != nil {
		return fmt.Errorf("usage-factors-50k: wrong result: %w", err)
	}
	progress("usage: %d users, %d licensed, %d unmatched; factors %s; %d site scopes", cur.Users, cur.Usage.Licensed,
		cur.Usage.Unmatched, factorSummary(cur.Usage), len(cur.Sites))
	progress("dynamodb: %s", d)
	figure("usage-factors-50k", "wall_time", seconds(wall))
	figure("usage-factors-50k", "peak_heap", megabytes(heapPeak-min(heapPeak, heapBefore)))
	figure("usage-factors-50k", "users", fmt.Sprint(cur.Users))
	figure("usage-factors-50k", "provisioning_items", fmt.Sprint(provisioned))
	figure("usage-factors-50k", "dynamodb_calls", fmt.Sprint(d.calls))
	figure("usage-factors-50k", "dynamodb_time", seconds(d.time))
	figure("usage-factors-50k", "compute_time", seconds(max(wall-d.time, 0)))
	return nil
}

// usageUser is the i-th user of the benchmark customer, and its provisioning (UserID "" = none).
func usageUser(customerID string, i int, siteIDs []string) (domain.User, domain.Provisioning) {
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
	u := domain.User{
		CustomerID: customerID, ID: id, UserPrincipalName: fmt.Sprintf("user%05d@bench.example", i),
		DisplayName: fmt.Sprintf("Bench User %05d", i), Mail: fmt.Sprintf("user%05d@bench.example", i),
		UsageLocation: "GB", AccountEnabled: i%50 != 7, Department: []string{"Sales", "Support", "Legal", "Finance", "IT", "HR", "Ops"}[i%7],
		City: usageCities[i%len(usageCities)], Country: "United Kingdom", BusinessPhones: []string{},
		Status: domain.UserActive, Licences: []domain.Licence{},
	}
	lic := func(sku string) domain.Licence {
		return domain.Licence{SkuID: sku, Direct: true, Groups: []string{}, DisabledPlans: []string{}, State: "Active", Error: "None"}
	}
	switch {
	case i%100 == 0:
		u.Licences = append(u.Licences, lic(benchRA))
	case i%20 == 1:
		// unlicensed
	default:
		u.Licences = append(u.Licences, lic(benchE3))
		if i%5 < 3 {
			u.Licences = append(u.Licences, lic(benchPhone))
		}
	}
	if i%200 == 3 {
		u.Status = domain.UserDeleted
	}
	p := domain.Provisioning{CustomerID: customerID, UserID: id, Version: 1, UpdatedAt: time.Now().UTC()}
	switch i % 5 {
	case 0, 1:
		p.Number, p.NumberType = fmt.Sprintf("+44207%07d", i), domain.NumberDirectRouting
	case 2:
		p.Number, p.NumberType = fmt.Sprintf("+44208%07d", i), domain.NumberOperatorConnect
	}
	switch i % 10 {
	case 3:
		p.ManagedBy = domain.ManagedByUI
	case 4, 5, 6:
		p.ManagedBy = domain.ManagedByTemplate
	}
	if i%3 == 0 {
		p.SiteID = siteIDs[(i/3)%len(siteIDs)]
	}
	if p.Number == "" && p.ManagedBy == "" && p.SiteID == "" {
		p.UserID = ""
	}
	return u, p
}

// benchProvisioningItem is a provisioning item as the store writes it (shared/store/provisioning.go); the benchmark
// writes them in batches (the store's own writes are one update or transaction each, too slow against moto for
// 50,000 users) and checks them through store.ProvisioningOf, so that a change of the store's layout fails here
// rather than going unnoticed.
type benchProvisioningItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Kind           string `dynamodbav:"type"`
	domain.Provisioning
}

// seedUsageCustomer stores the benchmark customer: its SKUs, pool, sites, users and provisioning.
func seedUsageCustomer(ctx context.Context, stor *store.Store, db *countingDB, table string) (domain.Customer, []string, int, error) {
	t0 := time.Now()
	c := domain.Customer{ID: "bench-usage", Name: "Bench Usage 50k", TenantID: "5e1f0c2a-7b3d-4c8e-9f10-2a3b4c5d6e7f",
		CreatedAt: time.Now().UTC(), Version: 1}
	if err := stor.CreateCustomer(ctx, c, "bench"); err != nil {
		return c, nil, 0, err
	}
	sku := func(id, part string, enabled, consumed int) domain.SubscribedSKU {
		return domain.SubscribedSKU{SkuID: id, PartNumber: part, Enabled: enabled, Consumed: consumed, CapabilityStatus: "Enabled", AppliesTo: "User"}
	}
	if _, err := stor.ReplaceSKUs(ctx, c, []domain.SubscribedSKU{
		sku(benchE3, "ENTERPRISEPACK", 50_000, 47_000), sku(benchPhone, "MCOEV", 30_000, 28_500), sku(benchRA, "PHONESYSTEM_VIRTUALUSER", 600, 500),
	}); err != nil {
		return c, nil, 0, err
	}
	if _, err := stor.PutPool(ctx, domain.LicencePool{CustomerID: c.ID, Acquired: map[string]int{benchE3: 48_000, benchPhone: 30_000, benchRA: 550},
		UnusedThreshold: domain.DefaultUnusedThreshold, UnusedDays: domain.DefaultUnusedDays}, 0, "bench", time.Now().UTC()); err != nil {
		return c, nil, 0, err
	}
	var siteIDs []string
	for i, city := range usageCities[:5] {
		s := domain.Site{ID: fmt.Sprintf("site-%d", i), CustomerID: c.ID, Name: city, Order: i,
			Criteria: []domain.Criterion{{Field: domain.CriterionCity, Value: city}}, CreatedAt: time.Now().UTC()}
		if err := stor.CreateSite(ctx, s, "bench"); err != nil {
			return c, nil, 0, err
		}
		siteIDs = append(siteIDs, s.ID)
	}

	progress("seeding %d users and their provisioning", usageUsers)
	var (
		mu          sync.Mutex
		errs        []error
		wg          sync.WaitGroup
		sem         = make(chan struct{}, usageSeedWriter)
		provisioned int
	)
	for from := 0; from < usageUsers; from += usageSeedPage {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			users := make([]domain.User, 0, usageSeedPage)
			var writes []types.WriteRequest
			for i := from; i < min(from+usageSeedPage, usageUsers); i++ {
				u, p := usageUser(c.ID, i, siteIDs)
				users = append(users, u)
				if p.UserID == "" {
					continue
				}
				item, err := attributevalue.MarshalMap(benchProvisioningItem{
					PK: "CUST#" + c.ID + "#USER#" + u.ID, SK: "PROVISION", GSI1PK: "CUSTPROV#" + c.ID, GSI1SK: u.ID,
					Kind: "provisioning", Provisioning: p})
				if err != nil {
					panic(err)
				}
				writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
			}
			_, err := stor.ApplyUsers(ctx, c.ID, users, nil, time.Now().UTC())
			if err == nil {
				err = batchPut(ctx, db, table, writes)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			provisioned += len(writes)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return c, nil, 0, errs[0]
	}
	prov, err := stor.ProvisioningOf(ctx, c.ID)
	if err != nil {
		return c, nil, 0, err
	}
	if len(prov) != provisioned {
		return c, nil, 0, fmt.Errorf("store.ProvisioningOf finds %d provisioning items, %d were written: the store's layout changed (update benchProvisioningItem)", len(prov), provisioned)
	}
	if _, p := usageUser(c.ID, 3, siteIDs); prov[p.UserID].ManagedBy != domain.ManagedByUI {
		return c, nil, 0, fmt.Errorf("store.ProvisioningOf does not read the provisioning written: %+v", prov[p.UserID])
	}
	progress("seeded in %s: %d users, %d provisioning items", time.Since(t0).Round(time.Second), usageUsers, provisioned)
	return c, siteIDs, provisioned, nil
}

// batchPut writes items 25 at a time, retrying what DynamoDB leaves unprocessed.
func batchPut(ctx context.Context, db *countingDB, table string, writes []types.WriteRequest) error {
	for chunk := range slices.Chunk(writes, 25) {
		pending := map[string][]types.WriteRequest{table: chunk}
		for len(pending[table]) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// checkUsage checks the computed usage against the generated customer: the active users, the licensed ones, and
// the site scopes adding up to the customer.
func checkUsage(cur usageaudit.Current, siteIDs []string) error {
	users, licensed := 0, 0
	for i := range usageUsers {
		if i%200 == 3 {
			continue
		}
		users++
		if i%20 != 1 || i%100 == 0 {
			licensed++
		}
	}
	sum := 0
	for _, f := range cur.Usage.Factors {
		sum += f.Count
	}
	siteUsers, siteLicensed := 0, 0
	for _, s := range cur.Sites {
		siteUsers += s.Users
		siteLicensed += s.Usage.Licensed
	}
	switch {
	case cur.Users != users:
		return fmt.Errorf("%d active users, want %d", cur.Users, users)
	case cur.Usage.Licensed != licensed:
		return fmt.Errorf("%d licensed users, want %d", cur.Usage.Licensed, licensed)
	case sum+cur.Usage.Unmatched != licensed:
		return fmt.Errorf("factors %d + unmatched %d ≠ licensed %d", sum, cur.Usage.Unmatched, licensed)
	case siteUsers != users || siteLicensed != licensed:
		return fmt.Errorf("the sites count %d users (%d licensed), want %d (%d)", siteUsers, siteLicensed, users, licensed)
	case len(cur.Sites) != len(siteIDs)+1:
		return fmt.Errorf("%d site scopes, want %d and the unplaced users", len(cur.Sites), len(siteIDs))
	}
	return nil
}

func factorSummary(u domain.Usage) string {
	parts := make([]string, len(u.Factors))
	for i, f := range u.Factors {
		parts[i] = fmt.Sprintf("%s=%d", f.RuleID, f.Count)
	}
	return strings.Join(parts, " ")
}
