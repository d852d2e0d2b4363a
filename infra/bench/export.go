package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usage"
)

// Export benchmark settings (issue 8, DESIGN §11).
const (
	exportCustomers = 1000 // BENCH_EXPORT_CUSTOMERS overrides it (a quicker run while developing)
	exportSites     = 5
	exportDays      = 30
	exportWriters   = 8 // BatchWriteItem calls in flight while seeding
	exportTimeout   = 2 * time.Hour
)

// benchExport runs export-1000: the month-end export (export.Runner.Handle: the retention, then the month streamed
// from the store's GSI1 page by page, the three files written to S3 as multipart uploads, the manifest, the cleanup)
// of 1,000 customers × (the customer level + 5 sites) × 30 daily snapshots = 180,000 snapshots, against the real
// store over DynamoDB and S3 in moto_server.
//
// The snapshots are seeded with parallel BatchWriteItem calls in the store's snapshot layout (PutSnapshots is one
// transaction per customer and day, with the provider totals: far too slow for 180,000 against moto); the export
// reading back exactly 180,000 checks that layout.
//
// Figures: seed_time and seed_items (the seeding, apart), wall_time (Handle, from the call to its answer),
// peak_heap (the process's HeapInuse above its level just before the export, after a GC, sampled every
// heapSampling: what the export holds — one scope's counters, the anonymised sums, a page of snapshots and three
// part buffers — plus garbage not yet collected), rows (partner CSV rows), snapshots, and to read them by: the
// sizes of the files written (raw_json_size: what a run holding the month in memory would need at least),
// dynamodb_calls and dynamodb_time, s3_calls and s3_time (moto's share of the wall time: moto 5.2 serialises a
// Query page of 1,000 snapshots in several seconds, the bulk of wall_time) and own_time (the rest: decoding,
// computing, CSV/JSON encoding, hashing).
func benchExport(ctx context.Context, root string) (err error) {
	benchStart := time.Now()
	defer func() { progress("export benchmark took %s", time.Since(benchStart).Round(time.Second)) }()
	ctx, cancel := context.WithTimeoutCause(ctx, exportTimeout, fmt.Errorf("the export benchmark took longer than %s", exportTimeout))
	defer cancel()
	customers := exportCustomers
	if v, err := strconv.Atoi(os.Getenv("BENCH_EXPORT_CUSTOMERS")); err == nil && v > 0 {
		customers = v
	}
	bench := fmt.Sprintf("export-%d", customers)

	progress("starting moto_server")
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	moto, err := localaws.StartMoto(sctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer moto.Stop()
	st, err := localaws.Provision(sctx, moto.Endpoint, filepath.Join(root, "template.yaml"), "seatwise-bench-export", localaws.TestGraphCredentials)
	if err != nil {
		return fmt.Errorf("create local AWS resources: %w\nmoto_server output: %s", err, moto.Output())
	}
	awsCfg, err := st.AWSConfig(ctx)
	if err != nil {
		return err
	}
	db := &countingDB{Client: dynamodb.NewFromConfig(awsCfg)}
	stor := store.New(db, st.TableName)

	progress("%s: seeding %d customers × %d scopes × %d days", bench, customers, exportSites+1, exportDays)
	seedStart := time.Now()
	items, err := seedExportSnapshots(ctx, db, st.TableName, customers)
	if err != nil {
		return fmt.Errorf("seed the snapshots: %w", err)
	}
	seedTime := time.Since(seedStart)
	progress("seeded %d snapshots in %s", items, seedTime.Round(time.Second))

	s3c := s3.NewFromConfig(awsCfg)
	r := export.New(stor, s3c, st.ReportsBucket, "bench",
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	timedS3 := &timedS3{S3API: s3c}
	r.S3 = timedS3

	progress("%s: exporting %s", bench, exportMonth)
	runtime.GC()
	sampler := startHeapSampler(heapSampling)
	before := db.snapshot()
	start := time.Now()
	res, err := r.Handle(ctx, export.Request{Action: "month-end", Month: exportMonth})
	wall := time.Since(start)
	heapBefore, heapPeak := sampler.stop()
	if err != nil {
		return fmt.Errorf("%s: %w", bench, err)
	}
	d := db.snapshot().sub(before)
	if res.Snapshots != items || res.Customers != customers || res.Sites != customers*exportSites {
		return fmt.Errorf("%s: the export read %d snapshots of %d customers and %d sites, %d were seeded for %d customers and %d sites: "+
			"the store's snapshot layout changed (update benchSnapshotItem)", bench, res.Snapshots, res.Customers, res.Sites,
			items, customers, customers*exportSites)
	}
	m, err := r.Manifest(ctx, exportMonth)
	if err != nil {
		return err
	}
	sizes := map[string]int64{}
	for _, f := range m.Files {
		sizes[f.Kind] = f.Size
	}
	progress("dynamodb: %s", d)
	figure(bench, "seed_time", seconds(seedTime))
	figure(bench, "seed_items", fmt.Sprint(items))
	figure(bench, "wall_time", seconds(wall))
	figure(bench, "peak_heap", megabytes(heapPeak-min(heapPeak, heapBefore)))
	figure(bench, "rows", fmt.Sprint(res.Rows))
	figure(bench, "snapshots", fmt.Sprint(res.Snapshots))
	figure(bench, "raw_json_size", megabytes(uint64(sizes[export.KindSnapshots])))
	figure(bench, "partner_csv_size", megabytes(uint64(sizes[export.KindPartner])))
	figure(bench, "anonymised_rows", fmt.Sprint(m.Counts.AnonymisedRows))
	figure(bench, "dynamodb_calls", fmt.Sprint(d.calls))
	figure(bench, "dynamodb_time", seconds(d.time))
	s3Calls, s3Time := timedS3.totals()
	figure(bench, "s3_calls", fmt.Sprint(s3Calls))
	figure(bench, "s3_time", seconds(s3Time))
	figure(bench, "own_time", seconds(max(0, wall-d.time-s3Time)))
	return nil
}

// timedS3 counts and times the export's S3 calls (moto's share of the wall time, with dynamodb_time).
type timedS3 struct {
	export.S3API
	mu    sync.Mutex
	calls int
	time  time.Duration
}

func (t *timedS3) totals() (int, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls, t.time
}

func (t *timedS3) timed() func() {
	start := time.Now()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.calls++
		t.time += time.Since(start)
	}
}

func (t *timedS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	defer t.timed()()
	return t.S3API.PutObject(ctx, in, optFns...)
}

func (t *timedS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	defer t.timed()()
	return t.S3API.UploadPart(ctx, in, optFns...)
}

func (t *timedS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	defer t.timed()()
	return t.S3API.CreateMultipartUpload(ctx, in, optFns...)
}

func (t *timedS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	defer t.timed()()
	return t.S3API.CompleteMultipartUpload(ctx, in, optFns...)
}

func (t *timedS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	defer t.timed()()
	return t.S3API.ListObjectsV2(ctx, in, optFns...)
}

func (t *timedS3) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	defer t.timed()()
	return t.S3API.ListObjectVersions(ctx, in, optFns...)
}

func (t *timedS3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	defer t.timed()()
	return t.S3API.DeleteObjects(ctx, in, optFns...)
}

// exportMonth is the month exported: the last month before the current one with at least exportDays days (real
// time: the export runs with the real clock, and its progress reports with it).
var exportMonth = func() string {
	now := time.Now().UTC()
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for {
		m = m.AddDate(0, -1, 0)
		if m.AddDate(0, 1, -1).Day() >= exportDays {
			return m.Format("2006-01")
		}
	}
}()

// benchSnapshotItem is a snapshot item as the store writes it (shared/store/snapshots.go).
type benchSnapshotItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Kind           string `dynamodbav:"type"`
	Refresh        string `dynamodbav:"refresh"`
	domain.Snapshot
}

// exportSKUs are the benchmark's SKUs.
var exportSKUs = []domain.SnapshotSKU{
	{SkuID: "05e9a617-0261-4cee-bb44-138d3ef5d965", PartNumber: "SPE_E3", Name: "Microsoft 365 E3"},
	{SkuID: "e43b5b99-8dfb-405f-9987-dc307f34bcbd", PartNumber: "MCOEV", Name: "Microsoft Teams Phone Standard"},
	{SkuID: "440eaaa8-b3e0-484b-a8be-62870b9ba70a", PartNumber: "PHONESYSTEM_VIRTUALUSER", Name: "Microsoft Teams Phone Resource Account"},
}

// benchSnapshot is customer c's snapshot of day (1-based) for scope site (0 = the customer level, 1..5 its sites):
// counts that vary with the customer, the site and the day, every factor of the default rules, three SKUs.
func benchSnapshot(c, site, day int) domain.Snapshot {
	date := fmt.Sprintf("%s-%02d", exportMonth, day)
	taken, _ := time.Parse(time.DateOnly, date)
	scale := exportSites
	if site > 0 {
		scale = 1
	}
	n := func(k int) int { return scale * (k + (c*7+site*3+day*5)%11) }
	rules := usage.DefaultRules()
	factors := make([]domain.FactorCount, len(rules))
	licensed := 0
	for i, r := range rules {
		factors[i] = domain.FactorCount{RuleID: r.ID, Name: r.Name, Enabled: true, Count: n(10 - 2*i)}
		licensed += factors[i].Count
	}
	unmatched := n(1)
	licensed += unmatched
	skus := slices.Clone(exportSKUs)
	for i := range skus {
		skus[i].Assigned = licensed / (i + 1)
		if site == 0 {
			skus[i].Enabled, skus[i].Consumed, skus[i].Acquired = skus[i].Assigned+10, skus[i].Assigned, skus[i].Assigned+5
		}
	}
	sn := domain.Snapshot{CustomerID: fmt.Sprintf("cust-%04d", c), CustomerName: fmt.Sprintf("Bench Customer %04d", c),
		PublicSector: c%7 == 0, Date: date, TakenAt: taken.Add(30 * time.Minute), Users: licensed + n(3),
		Licensed: licensed, Unmatched: unmatched, Factors: factors, SKUs: skus, RulesVersion: 1}
	if site > 0 {
		sn.SiteID, sn.SiteName = fmt.Sprintf("site-%d", site), fmt.Sprintf("Site %d", site)
	}
	return sn
}

// seedExportSnapshots writes every snapshot of the month, a customer's 180 items per task, exportWriters
// BatchWriteItem calls in flight; it returns how many it wrote.
func seedExportSnapshots(ctx context.Context, db *countingDB, table string, customers int) (int, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, exportWriters)
	)
	for c := range customers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			writes := make([]types.WriteRequest, 0, (exportSites+1)*exportDays)
			for site := 0; site <= exportSites; site++ {
				for day := 1; day <= exportDays; day++ {
					sn := benchSnapshot(c, site, day)
					siteKey := "-"
					if sn.SiteID != "" {
						siteKey = sn.SiteID
					}
					item, err := attributevalue.MarshalMap(benchSnapshotItem{
						PK: "CUST#" + sn.CustomerID + "#SNAP", SK: sn.Date + "#" + siteKey,
						GSI1PK: "SNAPS#" + exportMonth, GSI1SK: sn.CustomerID + "#" + siteKey + "#" + sn.Date,
						Kind: "snapshot", Refresh: sn.TakenAt.Format("2006-01-02T15:04:05.000000000Z"), Snapshot: sn})
					if err != nil {
						panic(err)
					}
					writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
				}
			}
			err := exportBatchPut(ctx, db, table, writes)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
		if c%100 == 99 {
			progress("seeded %d customers", c+1)
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		return 0, errs[0]
	}
	return customers * (exportSites + 1) * exportDays, nil
}

// exportBatchPut writes items 25 at a time, retrying what DynamoDB leaves unprocessed.
func exportBatchPut(ctx context.Context, db *countingDB, table string, writes []types.WriteRequest) error {
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
