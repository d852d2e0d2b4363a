package export_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usage"
)

// testPartSize makes every file of the known dataset a multipart upload of several parts (moto is told to accept
// parts this small in TestMain).
const testPartSize = 1024

func TestMain(m *testing.M) {
	// moto_server (started by each test, inheriting this environment) accepts multipart parts from 1 KiB.
	os.Setenv("S3_UPLOAD_PART_MIN_SIZE", "1024")
	os.Setenv("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", "1048576")
	os.Exit(m.Run())
}

func TestResolveMonth(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 55, 0, 0, time.UTC)
	for in, want := range map[string]string{"": "2026-11", "2026-10": "2026-10", "2024-01": "2024-01"} {
		got, err := export.ResolveMonth(in, now)
		td.CmpNoError(t, err, in)
		td.Cmp(t, got, want, in)
	}
	for _, bad := range []string{"2026-13", "26-10", "2026-12", "October", "2026-1"} {
		_, err := export.ResolveMonth(bad, now)
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, bad)
	}
}

func TestRetainedUntil(t *testing.T) {
	td.Cmp(t, export.RetainedUntil("2024-10"), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	td.Cmp(t, export.RetainedUntil("2024-12"), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	td.CmpTrue(t, export.Expired("2024-09", now))
	td.CmpTrue(t, export.Expired("2024-10", now))
	td.CmpFalse(t, export.Expired("2024-11", now))
	td.CmpFalse(t, export.Expired("2024-12", now))
	line := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	td.CmpFalse(t, export.Expired("2024-10", line), "exactly two years after the month ended: kept")
	td.CmpTrue(t, export.Expired("2024-10", line.Add(time.Nanosecond)), "any later: removed")
}

func TestCSVCells(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                      "plain",
		"":                           "",
		"-3":                         "-3",
		"42":                         "42",
		"=1+1":                       "'=1+1",
		"+44 20 7946 0000":           "'+44 20 7946 0000",
		"-minus":                     "'-minus",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\tTab":                      "'\tTab",
		"a,b":                        `"a,b"`,
		`say "hi"`:                   `"say ""hi"""`,
		"two\nlines":                 "\"two\nlines\"",
		"\rcr":                       "\"'\rcr\"",
		`=HYPERLINK("http://x","y")`: `"'=HYPERLINK(""http://x"",""y"")"`,
		"Zürich – 東京":                "Zürich – 東京",
		"bad\xffutf8":                "bad\uFFFDutf8",
	} {
		td.Cmp(t, string(export.AppendCell(nil, in)), want, "%q", in)
	}
}

// ---------------------------------------------------------------- the local stack

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type env struct {
	st     *store.Store
	s3     *s3.Client
	bucket string
	clock  *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	return &env{
		st:     store.New(store.TxIsolated(dynamodb.NewFromConfig(cfg)), stack.TableName),
		s3:     s3.NewFromConfig(cfg),
		bucket: stack.ReportsBucket,
		clock:  &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)},
	}
}

// runner returns a Runner over the env (st: the env's store when nil).
func (e *env) runner(st export.Store) *export.Runner {
	if st == nil {
		st = e.st
	}
	r := export.New(nil, e.s3, e.bucket, "test-1.2.3", nil)
	r.Store, r.Now, r.PartSize = st, e.clock.Now, testPartSize
	return r
}

// get reads an object (a version when given).
func (e *env) get(t *testing.T, key, version string) []byte {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: &e.bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out, err := e.s3.GetObject(context.Background(), in)
	td.Require(t).CmpNoError(err, key)
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	td.Require(t).CmpNoError(err)
	return data
}

// keys lists the current objects under prefix.
func (e *env) keys(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: &prefix})
	td.Require(t).CmpNoError(err)
	keys := []string{}
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// versions counts every version and delete marker under prefix.
func (e *env) versions(t *testing.T, prefix string) int {
	t.Helper()
	out, err := e.s3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &e.bucket, Prefix: &prefix})
	td.Require(t).CmpNoError(err)
	return len(out.Versions) + len(out.DeleteMarkers)
}

// files reads a month's manifest and each file it names (checking its size and SHA-256), by kind.
func (e *env) files(t *testing.T, r *export.Runner, month string) (*export.Manifest, map[string][]byte) {
	t.Helper()
	m, err := r.Manifest(context.Background(), month)
	td.Require(t).CmpNoError(err)
	out := map[string][]byte{}
	for _, f := range m.Files {
		data := e.get(t, f.Key, f.VersionID)
		sum := sha256.Sum256(data)
		td.Cmp(t, f.SHA256, hex.EncodeToString(sum[:]), f.Name)
		td.Cmp(t, f.Size, int64(len(data)), f.Name)
		out[f.Kind] = data
	}
	return m, out
}

// parseCSV checks the Excel framing (BOM, CRLF) and parses the rows, the header first.
func parseCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	td.Require(t).Cmp(string(data), td.HasPrefix("\ufeff"), "UTF-8 BOM")
	body := data[len("\ufeff"):]
	td.Cmp(t, string(body), td.HasSuffix("\r\n"), "rows end with CRLF")
	r := csv.NewReader(bytes.NewReader(body))
	rows, err := r.ReadAll()
	td.Require(t).CmpNoError(err)
	return rows
}

// ---------------------------------------------------------------- the known dataset

const (
	month = "2026-10"
	d1    = "2026-10-01"
	d2    = "2026-10-02"
	d3    = "2026-10-03"
)

type cust struct {
	id, name, tenant string
	public           bool
}

var (
	alpha = cust{"c-alpha", "Alpha Ltd", "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", false}
	beta  = cust{"c-beta", "Beta Council", "6c2d3e4f-5061-4b7c-9d8e-0f1a2b3c4d5e", true}
	gamma = cust{"c-gamma", "Gamma & Söhne", "7d3e4f50-6172-4c8d-8e9f-1a2b3c4d5e6f", false}
)

const (
	drName  = "Managed Users – Direct Routing"
	ocName  = "Managed Users – Operator Connect"
	vipName = "Alpha Ltd VIPs" // a customer's own rule, named after the customer
)

func dr(n int) domain.FactorCount {
	return domain.FactorCount{RuleID: usage.RuleDirectRouting, Name: drName, Enabled: true, Count: n}
}
func oc(n int) domain.FactorCount {
	return domain.FactorCount{RuleID: usage.RuleOperatorConnect, Name: ocName, Enabled: true, Count: n}
}
func vip(n int) domain.FactorCount {
	return domain.FactorCount{RuleID: "alpha-vip", Name: vipName, Enabled: true, Count: n}
}

var templateOff = domain.FactorCount{RuleID: usage.RuleByTemplate, Name: "Managed Users – By Template"}

func e3(enabled, consumed, acquired, assigned int) domain.SnapshotSKU {
	return domain.SnapshotSKU{SkuID: "05e9a617-0261-4cee-bb44-138d3ef5d965", PartNumber: "SPE_E3", Name: "Microsoft 365 E3",
		Enabled: enabled, Consumed: consumed, Acquired: acquired, Assigned: assigned}
}

func phone(enabled, consumed, acquired, assigned int) domain.SnapshotSKU {
	return domain.SnapshotSKU{SkuID: "e43b5b99-8dfb-405f-9987-dc307f34bcbd", PartNumber: "MCOEV", Name: "Microsoft Teams Phone Standard",
		Enabled: enabled, Consumed: consumed, Acquired: acquired, Assigned: assigned}
}

func snap(c cust, siteID, siteName, date string, users, licensed, unmatched int, rules int64, factors []domain.FactorCount, skus ...domain.SnapshotSKU) domain.Snapshot {
	taken, _ := time.Parse(time.DateOnly, date)
	if factors == nil {
		factors = []domain.FactorCount{}
	}
	if skus == nil {
		skus = []domain.SnapshotSKU{}
	}
	return domain.Snapshot{CustomerID: c.id, CustomerName: c.name, PublicSector: c.public, SiteID: siteID, SiteName: siteName,
		Date: date, TakenAt: taken.Add(30 * time.Minute), Users: users, Licensed: licensed, Unmatched: unmatched,
		Factors: factors, SKUs: skus, RulesVersion: rules}
}

type fc = []domain.FactorCount

// knownDataset: Alpha (a customer rule set of its own, version 7; sites London HQ and Manchester, which opens on
// the 2nd; Teams Phone dropped on the 3rd), Beta (public sector; one site), Gamma (no sites, no snapshot on the
// 2nd, every user unmatched).
func knownDataset() []domain.Snapshot {
	return []domain.Snapshot{
		snap(alpha, "", "", d1, 10, 8, 1, 7, fc{dr(5), vip(2)}, e3(20, 8, 20, 8), phone(5, 3, 0, 3)),
		snap(alpha, "", "", d2, 12, 9, 0, 7, fc{dr(6), vip(3)}, e3(20, 9, 20, 9), phone(5, 2, 0, 2)),
		snap(alpha, "", "", d3, 11, 9, 0, 7, fc{dr(6), vip(3)}, e3(25, 9, 20, 9)),
		snap(alpha, "s-lon", "London HQ", d1, 6, 5, 1, 7, fc{dr(3), vip(1)}, e3(0, 0, 0, 5)),
		snap(alpha, "s-lon", "London HQ", d2, 7, 6, 0, 7, fc{dr(4), vip(2)}, e3(0, 0, 0, 6)),
		snap(alpha, "s-lon", "London HQ", d3, 7, 6, 0, 7, fc{dr(4), vip(2)}, e3(0, 0, 0, 6)),
		snap(alpha, "s-man", "Manchester", d2, 5, 3, 0, 7, fc{dr(2), vip(1)}, e3(0, 0, 0, 3)),
		snap(alpha, "s-man", "Manchester", d3, 4, 3, 0, 7, fc{dr(2), vip(1)}, e3(0, 0, 0, 3)),
		snap(beta, "", "", d1, 4, 3, 0, 3, fc{dr(1), oc(2), templateOff}, e3(5, 3, 0, 3)),
		snap(beta, "", "", d2, 4, 3, 0, 3, fc{dr(1), oc(2), templateOff}, e3(5, 3, 0, 3)),
		snap(beta, "", "", d3, 4, 2, 0, 3, fc{dr(0), oc(2), templateOff}, e3(5, 2, 0, 2)),
		snap(beta, "s-york", "York Office", d1, 4, 3, 0, 3, fc{dr(1), oc(2), templateOff}, e3(0, 0, 0, 3)),
		snap(beta, "s-york", "York Office", d2, 4, 3, 0, 3, fc{dr(1), oc(2), templateOff}, e3(0, 0, 0, 3)),
		snap(beta, "s-york", "York Office", d3, 4, 2, 0, 3, fc{dr(0), oc(2), templateOff}, e3(0, 0, 0, 2)),
		snap(gamma, "", "", d1, 2, 1, 1, 3, nil, phone(2, 1, 0, 1)),
		snap(gamma, "", "", d3, 3, 2, 2, 3, nil, phone(2, 2, 0, 2)),
	}
}

// seed stores the customers and their snapshots (one PutSnapshots per customer and date).
func seed(t *testing.T, st *store.Store, custs []cust, snaps []domain.Snapshot) {
	t.Helper()
	ctx := context.Background()
	for _, c := range custs {
		td.Require(t).CmpNoError(st.CreateCustomer(ctx, domain.Customer{ID: c.id, Name: c.name, TenantID: c.tenant,
			PublicSector: c.public, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Version: 1}, "test"))
	}
	byDay := map[string][]domain.Snapshot{}
	var order []string
	for _, sn := range snaps {
		k := sn.CustomerID + "|" + sn.Date
		if byDay[k] == nil {
			order = append(order, k)
		}
		byDay[k] = append(byDay[k], sn)
	}
	for _, k := range order {
		td.Require(t).CmpNoError(st.PutSnapshots(ctx, byDay[k]), k)
	}
}

// storeOrder sorts snapshots as MonthSnapshots streams them.
func storeOrder(snaps []domain.Snapshot) []domain.Snapshot {
	out := slices.Clone(snaps)
	slices.SortFunc(out, func(a, b domain.Snapshot) int {
		return cmp.Compare(a.CustomerID+"#"+cmp.Or(a.SiteID, "-")+"#"+a.Date, b.CustomerID+"#"+cmp.Or(b.SiteID, "-")+"#"+b.Date)
	})
	return out
}

var wantPartner = [][]string{
	export.PartnerHeader,
	// month, customer_id, customer_name, public_sector, level, site_id, site_name, category, code, name, measure, last, last_date, peak, peak_date, days
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "total", "", "", "users", "11", d3, "12", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "total", "", "", "licensed", "9", d3, "9", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "total", "", "", "unmatched", "0", d3, "1", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "factor", "direct-routing", drName, "users", "6", d3, "6", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "factor", "alpha-vip", vipName, "users", "3", d3, "3", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "assigned", "0", d3, "3", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "consumed", "0", d3, "3", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "enabled", "0", d3, "5", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "acquired", "0", d3, "0", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "9", d3, "9", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "consumed", "9", d3, "9", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "enabled", "25", d3, "25", d3, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "acquired", "20", d3, "20", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-lon", "London HQ", "total", "", "", "users", "7", d3, "7", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-lon", "London HQ", "total", "", "", "licensed", "6", d3, "6", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-lon", "London HQ", "total", "", "", "unmatched", "0", d3, "1", d1, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-lon", "London HQ", "factor", "direct-routing", drName, "users", "4", d3, "4", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-lon", "London HQ", "factor", "alpha-vip", vipName, "users", "2", d3, "2", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-lon", "London HQ", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "6", d3, "6", d2, "3"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-man", "Manchester", "total", "", "", "users", "4", d3, "5", d2, "2"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-man", "Manchester", "total", "", "", "licensed", "3", d3, "3", d2, "2"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-man", "Manchester", "total", "", "", "unmatched", "0", d3, "0", d2, "2"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-man", "Manchester", "factor", "direct-routing", drName, "users", "2", d3, "2", d2, "2"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-man", "Manchester", "factor", "alpha-vip", vipName, "users", "1", d3, "1", d2, "2"},
	{month, "c-alpha", "Alpha Ltd", "false", "site", "s-man", "Manchester", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "3", d3, "3", d2, "2"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "total", "", "", "users", "4", d3, "4", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "total", "", "", "licensed", "2", d3, "3", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "total", "", "", "unmatched", "0", d3, "0", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "factor", "direct-routing", drName, "users", "0", d3, "1", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "factor", "operator-connect", ocName, "users", "2", d3, "2", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "2", d3, "3", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "consumed", "2", d3, "3", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "enabled", "5", d3, "5", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "customer", "", "", "sku", "SPE_E3", "Microsoft 365 E3", "acquired", "0", d3, "0", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "site", "s-york", "York Office", "total", "", "", "users", "4", d3, "4", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "site", "s-york", "York Office", "total", "", "", "licensed", "2", d3, "3", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "site", "s-york", "York Office", "total", "", "", "unmatched", "0", d3, "0", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "site", "s-york", "York Office", "factor", "direct-routing", drName, "users", "0", d3, "1", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "site", "s-york", "York Office", "factor", "operator-connect", ocName, "users", "2", d3, "2", d1, "3"},
	{month, "c-beta", "Beta Council", "true", "site", "s-york", "York Office", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "2", d3, "3", d1, "3"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "total", "", "", "users", "3", d3, "3", d3, "2"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "total", "", "", "licensed", "2", d3, "2", d3, "2"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "total", "", "", "unmatched", "2", d3, "2", d3, "2"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "assigned", "2", d3, "2", d3, "2"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "consumed", "2", d3, "2", d3, "2"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "enabled", "2", d3, "2", d1, "2"},
	{month, "c-gamma", "Gamma & Söhne", "false", "customer", "", "", "sku", "MCOEV", "Microsoft Teams Phone Standard", "acquired", "0", d3, "0", d1, "2"},
}

var wantAnonymised = [][]string{
	export.AnonymisedHeader,
	// month, public_sector, category, code, name, measure, customers, last, peak
	{month, "false", "total", "", "", "users", "2", "14", "15"},
	{month, "false", "total", "", "", "licensed", "2", "11", "11"},
	{month, "false", "total", "", "", "unmatched", "2", "2", "3"},
	{month, "false", "factor", "direct-routing", drName, "users", "1", "6", "6"},
	{month, "false", "factor", "customer-specific", "Customer-specific factors", "users", "1", "3", "3"},
	{month, "false", "sku", "MCOEV", "Microsoft Teams Phone Standard", "assigned", "2", "2", "5"},
	{month, "false", "sku", "MCOEV", "Microsoft Teams Phone Standard", "consumed", "2", "2", "5"},
	{month, "false", "sku", "MCOEV", "Microsoft Teams Phone Standard", "enabled", "2", "2", "7"},
	{month, "false", "sku", "MCOEV", "Microsoft Teams Phone Standard", "acquired", "2", "0", "0"},
	{month, "false", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "1", "9", "9"},
	{month, "false", "sku", "SPE_E3", "Microsoft 365 E3", "consumed", "1", "9", "9"},
	{month, "false", "sku", "SPE_E3", "Microsoft 365 E3", "enabled", "1", "25", "25"},
	{month, "false", "sku", "SPE_E3", "Microsoft 365 E3", "acquired", "1", "20", "20"},
	{month, "true", "total", "", "", "users", "1", "4", "4"},
	{month, "true", "total", "", "", "licensed", "1", "2", "3"},
	{month, "true", "total", "", "", "unmatched", "1", "0", "0"},
	{month, "true", "factor", "direct-routing", drName, "users", "1", "0", "1"},
	{month, "true", "factor", "operator-connect", ocName, "users", "1", "2", "2"},
	{month, "true", "sku", "SPE_E3", "Microsoft 365 E3", "assigned", "1", "2", "3"},
	{month, "true", "sku", "SPE_E3", "Microsoft 365 E3", "consumed", "1", "2", "3"},
	{month, "true", "sku", "SPE_E3", "Microsoft 365 E3", "enabled", "1", "5", "5"},
	{month, "true", "sku", "SPE_E3", "Microsoft 365 E3", "acquired", "1", "0", "0"},
}

// TestKnownDataset checks every field of the three files and of the manifest for a known dataset, and the file
// listing of the month.
func TestKnownDataset(t *testing.T) {
	e := newEnv(t)
	data := knownDataset()
	seed(t, e.st, []cust{alpha, beta, gamma}, data)
	r := e.runner(nil)

	res, err := r.Handle(context.Background(), export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, export.Result{Month: month, RunID: res.RunID, Written: 4, Manifest: "exports/2026/10/manifest.json",
		Snapshots: 16, Customers: 3, Sites: 3, Rows: 47})
	td.Cmp(t, res.RunID, td.Re(`^20261124T100000Z-[0-9a-f]{8}$`))

	m, files := e.files(t, r, month)
	now := e.clock.Now()
	prefix := "exports/2026/10/" + res.RunID + "/"
	td.Cmp(t, m, td.SStruct(&export.Manifest{
		FormatVersion: 1, Month: month, RunID: res.RunID, GeneratedAt: now, SoftwareVersion: "test-1.2.3",
		RequestedBy: "job:export", Period: export.DateRange{From: "2026-10-01", To: "2026-10-31"},
		Data: &export.DataRange{From: d1, To: d3, FirstTakenAt: time.Date(2026, 10, 1, 0, 30, 0, 0, time.UTC),
			LastTakenAt: time.Date(2026, 10, 3, 0, 30, 0, 0, time.UTC)},
		RulesVersions: []int64{3, 7},
		Counts:        export.Counts{Snapshots: 16, Customers: 3, PublicSectorCustomers: 1, Sites: 3, PartnerRows: 47, AnonymisedRows: 22},
		RetainedUntil: time.Date(2028, 11, 1, 0, 0, 0, 0, time.UTC),
	}, td.StructFields{
		"Files": td.Bag(
			fileWant(prefix, export.KindAnonymised, "seatwise-usage-2026-10-anonymised.csv", "text/csv; charset=utf-8", 22, files, now),
			fileWant(prefix, export.KindPartner, "seatwise-usage-2026-10-partner.csv", "text/csv; charset=utf-8", 47, files, now),
			fileWant(prefix, export.KindSnapshots, "seatwise-usage-2026-10-snapshots.json", "application/json", 16, files, now),
		),
	}))

	td.Cmp(t, parseCSV(t, files[export.KindPartner]), wantPartner, "partner CSV")
	td.Cmp(t, parseCSV(t, files[export.KindAnonymised]), wantAnonymised, "anonymised CSV")

	var raw []domain.Snapshot
	td.Require(t).CmpNoError(json.Unmarshal(files[export.KindSnapshots], &raw))
	td.Cmp(t, raw, storeOrder(data), "raw JSON: every snapshot, in the order read")
	td.Cmp(t, bytes.Count(files[export.KindSnapshots], []byte("\n")), 16+2, "one snapshot per line between [ and ]")

	td.Cmp(t, e.keys(t, "exports/"), td.Bag(
		"exports/2026/10/manifest.json",
		prefix+"seatwise-usage-2026-10-anonymised.csv",
		prefix+"seatwise-usage-2026-10-partner.csv",
		prefix+"seatwise-usage-2026-10-snapshots.json",
	))

	run, err := r.Status(context.Background(), month)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, run, td.SStruct(store.ExportRun{Month: month, RunID: res.RunID, Status: store.ExportSucceeded,
		RequestedBy: "job:export", RequestedAt: now, StartedAt: &now, FinishedAt: &now, HeartbeatAt: now, LeaseUntil: now,
		Progress: store.ExportProgress{Snapshots: 16, Customers: 3, Sites: 3, Rows: 47, EstimatedCustomers: 3}},
		td.StructFields{"Version": td.Gt(int64(1))}))

	// The API's view: the month with its manifest and run; a presigned download of each file and the manifest.
	months, err := r.Months(context.Background())
	td.Require(t).CmpNoError(err)
	td.Cmp(t, months, []export.MonthExport{{Month: month, Manifest: m, Run: &run, RetainedUntil: m.RetainedUntil}})
	for _, f := range m.Files {
		d, err := r.Download(context.Background(), month, f.Name)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, d, td.Struct(export.Download{Name: f.Name, ExpiresAt: now.Add(5 * time.Minute), Size: f.Size, SHA256: f.SHA256},
			td.StructFields{"URL": td.All(td.Contains("X-Amz-Expires=300"), td.Contains("versionId="))}))
		resp, err := http.Get(d.URL)
		td.Require(t).CmpNoError(err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		td.Cmp(t, resp.StatusCode, 200, f.Name)
		td.Cmp(t, body, files[f.Kind], f.Name)
		// (moto ignores the response-content-disposition of a presigned URL; S3 answers with it)
		u, _ := url.Parse(d.URL)
		td.Cmp(t, u.Query().Get("response-content-disposition"), "attachment; filename="+f.Name)
	}
	_, err = r.Download(context.Background(), month, "other.csv")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	d, err := r.Download(context.Background(), month, export.ManifestName)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, d.URL, td.Contains("exports/2026/10/manifest.json"))
	_, err = r.Download(context.Background(), "2026-09", export.ManifestName)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileWant(prefix, kind, name, contentType string, rows int, files map[string][]byte, now time.Time) any {
	return td.SStruct(export.File{Name: name, Kind: kind, Key: prefix + name, ContentType: contentType,
		Size: int64(len(files[kind])), SHA256: sha(files[kind]), Rows: rows, WrittenAt: now},
		td.StructFields{"VersionID": td.NotEmpty()})
}

// TestAnonymisedHasNoCustomerData searches the anonymised file for every customer name, id and tenant id, every
// site name and id, and the customer's own factor name: none is there (and all are in the partner file).
func TestAnonymisedHasNoCustomerData(t *testing.T) {
	e := newEnv(t)
	seed(t, e.st, []cust{alpha, beta, gamma}, knownDataset())
	r := e.runner(nil)
	_, err := r.Handle(context.Background(), export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	_, files := e.files(t, r, month)
	anon := strings.ToLower(string(files[export.KindAnonymised]))
	partner := strings.ToLower(string(files[export.KindPartner]))

	// What the partner file names (so the search below is not vacuous)…
	named := []string{"s-lon", "London HQ", "s-man", "Manchester", "s-york", "York Office", vipName, "alpha-vip",
		"Alpha", "Beta", "Gamma", "Söhne"}
	for _, c := range []cust{alpha, beta, gamma} {
		named = append(named, c.id, c.name)
	}
	for _, s := range named {
		td.Cmp(t, strings.Contains(partner, strings.ToLower(s)), true, "the partner file names %q", s)
	}
	// … and the tenant ids (in no file: the snapshots do not carry them).
	secrets := named
	for _, c := range []cust{alpha, beta, gamma} {
		secrets = append(secrets, c.tenant, strings.ToUpper(c.tenant))
	}
	for _, s := range secrets {
		td.Cmp(t, strings.Contains(anon, strings.ToLower(s)), false, "the anonymised file names %q", s)
	}
}

// TestRerunReplacesTheMonth: a second run writes new files, a manifest that names only them, and deletes the
// first run's; a download presigned from the old manifest still gets the old version.
func TestRerunReplacesTheMonth(t *testing.T) {
	e := newEnv(t)
	data := knownDataset()
	seed(t, e.st, []cust{alpha, beta, gamma}, data)
	r := e.runner(nil)
	ctx := context.Background()
	first, err := r.Handle(ctx, export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	oldManifest, oldFiles := e.files(t, r, month)

	// The data changes (Gamma's 3rd is refreshed), and the month is run again an hour later.
	refreshed := snap(gamma, "", "", d3, 5, 4, 4, 3, nil, phone(4, 4, 0, 4))
	refreshed.TakenAt = refreshed.TakenAt.Add(time.Hour)
	td.Require(t).CmpNoError(e.st.PutSnapshots(ctx, []domain.Snapshot{refreshed}))
	e.clock.Set(e.clock.Now().Add(time.Hour))
	second, err := r.Handle(ctx, export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, second.RunID, td.Not(first.RunID))

	m, files := e.files(t, r, month)
	td.Cmp(t, m.RunID, second.RunID)
	td.Cmp(t, m.GeneratedAt, e.clock.Now())
	td.Cmp(t, string(files[export.KindPartner]), td.Contains("c-gamma,Gamma & Söhne,false,customer,,,total,,,users,5,2026-10-03,5,2026-10-03,2\r\n"))
	td.Cmp(t, files[export.KindPartner], td.Not(oldFiles[export.KindPartner]))

	want := []any{"exports/2026/10/manifest.json"}
	for _, f := range m.Files {
		td.Cmp(t, f.Key, td.HasPrefix("exports/2026/10/"+second.RunID+"/"))
		want = append(want, f.Key)
	}
	td.Cmp(t, e.keys(t, "exports/"), td.Bag(want...), "only the new run's files")
	for _, f := range oldManifest.Files {
		_, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &e.bucket, Key: aws.String(f.Key)})
		var noKey *s3types.NoSuchKey
		td.Cmp(t, errors.As(err, &noKey), true, "%s is gone: %v", f.Key, err)
		// A reader that had the old manifest reads the version it names, never a mix.
		td.Cmp(t, e.get(t, f.Key, f.VersionID), oldFiles[f.Kind], f.Name)
	}
}

// blockingStore holds the first run inside MonthSnapshots until released.
type blockingStore struct {
	*store.Store
	entered, release chan struct{}
	once             sync.Once
}

func (b *blockingStore) MonthSnapshots(ctx context.Context, m string, fn func(domain.Snapshot) error) error {
	b.once.Do(func() {
		close(b.entered)
		<-b.release
	})
	return b.Store.MonthSnapshots(ctx, m, fn)
}

// TestConcurrentRunsConflict: while a run of the month is in progress, a scheduled run, a provider's run and a
// re-run through the API each get EConflict; a run of another month goes ahead; once the first ends, a re-run
// through the API (queued, then executed in the background) succeeds.
func TestConcurrentRunsConflict(t *testing.T) {
	e := newEnv(t)
	seed(t, e.st, []cust{alpha, beta, gamma}, knownDataset())
	ctx := context.Background()
	blocking := &blockingStore{Store: e.st, entered: make(chan struct{}), release: make(chan struct{})}
	first := e.runner(blocking)
	done := make(chan error, 1)
	go func() {
		_, err := first.Handle(ctx, export.Request{Action: "month-end", Month: month})
		done <- err
	}()
	<-blocking.entered

	other := e.runner(nil)
	other.Trigger = other.Background()
	e.clock.Set(e.clock.Now().Add(time.Minute))
	_, err := other.Handle(ctx, export.Request{Action: "month-end", Month: month})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), td.HasPrefix("an export of 2026-10 is running since 2026-11-24T10:00:00Z"))
	_, err = other.Start(ctx, month, "admin@provider")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	st, err := other.Status(ctx, month)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, st.Status, store.ExportRunning)
	td.Cmp(t, st.Phase, "reading")

	_, err = other.Handle(ctx, export.Request{Action: "month-end", Month: "2026-09"})
	td.CmpNoError(t, err, "another month is not held")

	close(blocking.release)
	td.Require(t).CmpNoError(<-done)

	// A re-run through the API: queued, then run in the background.
	queued, err := other.Start(ctx, month, "admin@provider")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, queued.Status, store.ExportQueued)
	td.Cmp(t, queued.RequestedBy, "admin@provider")
	var last store.ExportRun
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		last, err = other.Status(ctx, month)
		td.Require(t).CmpNoError(err)
		if last.Status == store.ExportSucceeded || last.Status == store.ExportFailed {
			break
		}
	}
	td.Cmp(t, last, td.Struct(store.ExportRun{RunID: queued.RunID, Status: store.ExportSucceeded, RequestedBy: "admin@provider",
		Progress: store.ExportProgress{Snapshots: 16, Customers: 3, Sites: 3, Rows: 47, EstimatedCustomers: 3}}))
	m, err := other.Manifest(ctx, month)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, m.RunID, queued.RunID)
	td.Cmp(t, m.RequestedBy, "admin@provider")

	// The same queued run delivered again: nothing to do.
	res, err := other.Handle(ctx, export.Request{Action: "month-end", Month: month, RunID: queued.RunID})
	td.CmpNoError(t, err)
	td.Cmp(t, res.Note, td.Contains("is not waiting"))
}

// TestRetention runs the retention with a controlled clock on both sides of the two-year line: a month is removed
// (every version of its objects, and its run record) only once two years have passed since it ended.
func TestRetention(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.runner(nil)
	// Exports of 2024-10 (run twice: noncurrent versions and delete markers), 2024-11, 2024-12 and 2026-10, each
	// written at its month's end.
	for _, m := range []string{"2024-10", "2024-10", "2024-11", "2024-12", "2026-10"} {
		t0, _ := time.Parse("2006-01", m)
		e.clock.Set(t0.AddDate(0, 1, 0).Add(-5 * time.Minute)) // the schedule's time: 23:55 on the month's last day
		_, err := r.Handle(ctx, export.Request{Action: "month-end", Month: m})
		td.Require(t).CmpNoError(err, m)
	}
	td.Cmp(t, e.versions(t, "exports/2024/10/"), td.Gt(4), "2024-10 has old versions")

	// Exactly two years after 2024-10 ended: nothing is removed.
	e.clock.Set(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	removed, err := r.Retain(ctx)
	td.Require(t).CmpNoError(err)
	td.CmpEmpty(t, removed)
	for _, m := range []string{"2024-10", "2024-11", "2024-12", "2026-10"} {
		_, err := r.Manifest(ctx, m)
		td.CmpNoError(t, err, m)
	}

	// Now = 2026-11-24 (the scheduled run's retention): 2024-10 goes, 2024-11 and younger stay.
	e.clock.Set(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	res, err := r.Handle(ctx, export.Request{Action: "month-end", Month: "2026-10"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res.Removed, []string{"2024-10"})
	td.Cmp(t, e.versions(t, "exports/2024/10/"), 0, "every version of 2024-10 is gone")
	_, err = r.Status(ctx, "2024-10")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "and its run record")
	for _, m := range []string{"2024-11", "2024-12", "2026-10"} {
		_, err := r.Manifest(ctx, m)
		td.CmpNoError(t, err, m)
		_, err = r.Status(ctx, m)
		td.CmpNoError(t, err, m)
		td.Cmp(t, e.versions(t, "exports/"+strings.Replace(m, "-", "/", 1)+"/"), td.Gte(4), m)
	}
	months, err := r.Months(ctx)
	td.Require(t).CmpNoError(err)
	var names []string
	for _, m := range months {
		names = append(names, m.Month)
	}
	td.Cmp(t, names, []string{"2026-10", "2024-12", "2024-11"})

	// A month past the retention cannot be exported again; 2024-11 still can.
	_, err = r.Handle(ctx, export.Request{Action: "month-end", Month: "2024-10"})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	r.Trigger = r.Background()
	_, err = r.Start(ctx, "2024-09", "admin")
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	_, err = r.Handle(ctx, export.Request{Action: "month-end", Month: "2024-11"})
	td.CmpNoError(t, err)

	// A second later than the line for 2024-11 (2026-12-01T00:00Z): it goes too.
	e.clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC))
	removed, err = r.Retain(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, removed, []string{"2024-11"})
	td.Cmp(t, e.versions(t, "exports/2024/12/"), td.Gte(4), "2024-12 stays")
}

// TestExcelHostileNames: formula-like, comma, quote, newline, tab and non-ASCII names come out neutralised and
// quoted in the partner file, and parse back to the neutralised text.
func TestExcelHostileNames(t *testing.T) {
	e := newEnv(t)
	hyper := cust{"c-1", `=HYPERLINK("http://evil.example/?q=1","Click me")`, "8e4f5061-7283-4d9e-8fa0-2b3c4d5e6f70", false}
	comma := cust{"c-2", `Smith, Jones & "Partners"`, "9f506172-8394-4eaf-9ab1-3c4d5e6f7081", true}
	lines := cust{"c-3", "Line one\nLine two\r\nLine three", "a0617283-94a5-4fb0-8bc2-4d5e6f708192", false}
	intl := cust{"c-4", "Zürich Straße – 東京 Ltd", "b1728394-a5b6-4ac1-9cd3-5e6f708192a3", false}
	plus := cust{"c-5", "+44 Telecom", "c2839405-b6c7-4bd2-8de4-6f708192a3b4", false}
	at := cust{"c-6", "@home", "d3940516-c7d8-4ce3-9ef5-708192a3b4c5", false}
	snaps := []domain.Snapshot{
		snap(hyper, "", "", d1, 1, 1, 0, 1, fc{dr(1)}),
		snap(hyper, "s-1", "-1+1", d1, 1, 1, 0, 1, fc{dr(1)}),
		snap(comma, "", "", d1, 1, 1, 0, 1, fc{dr(1)}),
		snap(comma, "s-2", "\tTabbed, site", d1, 1, 1, 0, 1, fc{dr(1)}),
		snap(lines, "", "", d1, 1, 1, 1, 1, nil),
		snap(intl, "", "", d1, 1, 1, 1, 1, nil),
		snap(plus, "", "", d1, 1, 1, 1, 1, nil),
		snap(at, "", "", d1, 1, 1, 1, 1, nil),
	}
	seed(t, e.st, []cust{hyper, comma, lines, intl, plus, at}, snaps)
	r := e.runner(nil)
	_, err := r.Handle(context.Background(), export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	_, files := e.files(t, r, month)
	raw := string(files[export.KindPartner])

	td.Cmp(t, raw, td.Contains(`,"'=HYPERLINK(""http://evil.example/?q=1"",""Click me"")",`))
	td.Cmp(t, raw, td.Contains(`,"Smith, Jones & ""Partners""",`))
	td.Cmp(t, raw, td.Contains(",\"Line one\nLine two\r\nLine three\","))
	td.Cmp(t, raw, td.Contains(",Zürich Straße – 東京 Ltd,"))
	td.Cmp(t, raw, td.Contains(",'+44 Telecom,"))
	td.Cmp(t, raw, td.Contains(",'@home,"))
	td.Cmp(t, raw, td.Contains(",s-1,'-1+1,"))
	td.Cmp(t, raw, td.Contains(",s-2,\"'\tTabbed, site\","))

	names := map[string]bool{}
	for _, row := range parseCSV(t, files[export.KindPartner])[1:] {
		names[row[2]] = true
		names[row[6]] = true
		td.Cmp(t, row[11], td.Re(`^-?\d+$`), "counts stay numbers")
	}
	td.Cmp(t, names, map[string]bool{
		`'=HYPERLINK("http://evil.example/?q=1","Click me")`: true,
		`Smith, Jones & "Partners"`:                          true,
		"Line one\nLine two\nLine three":                     true, // encoding/csv reads a quoted CRLF as LF
		"Zürich Straße – 東京 Ltd":                             true,
		"'+44 Telecom":                                       true,
		"'@home":                                             true,
		"'-1+1":                                              true,
		"'\tTabbed, site":                                    true,
		"":                                                   true,
	})
	for _, c := range []cust{hyper, comma, lines, intl, plus, at} {
		td.Cmp(t, strings.Contains(string(files[export.KindAnonymised]), c.name), false, c.name)
	}
}

// TestEmptyMonth: a month without snapshots still gets its (empty) files and a manifest without a data range.
func TestEmptyMonth(t *testing.T) {
	e := newEnv(t)
	r := e.runner(nil)
	res, err := r.HandleEvent(context.Background(), json.RawMessage(`{"action":"month-end","scheduledTime":"2026-10-31T23:55:00Z"}`))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, td.Struct(export.Result{Month: "2026-10", Written: 4}, nil))
	m, files := e.files(t, r, "2026-10")
	td.CmpNil(t, m.Data)
	td.Cmp(t, m.RulesVersions, []int64{})
	td.Cmp(t, string(files[export.KindSnapshots]), "[]\n")
	td.Cmp(t, parseCSV(t, files[export.KindPartner]), [][]string{export.PartnerHeader})
	td.Cmp(t, parseCSV(t, files[export.KindAnonymised]), [][]string{
		export.AnonymisedHeader,
		{"2026-10", "false", "total", "", "", "users", "0", "0", "0"},
		{"2026-10", "false", "total", "", "", "licensed", "0", "0", "0"},
		{"2026-10", "false", "total", "", "", "unmatched", "0", "0", "0"},
		{"2026-10", "true", "total", "", "", "users", "0", "0", "0"},
		{"2026-10", "true", "total", "", "", "licensed", "0", "0", "0"},
		{"2026-10", "true", "total", "", "", "unmatched", "0", "0", "0"},
	})

	// An SQS delivery of a run that is not queued is acknowledged, not retried; a bad action is refused.
	out, err := r.HandleEvent(context.Background(), json.RawMessage(
		`{"Records":[{"messageId":"m1","body":"{\"action\":\"month-end\",\"month\":\"2026-10\",\"runId\":\"nope\"}"}]}`))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, out, td.JSON(`{"batchItemFailures":[]}`))
	_, err = r.Handle(context.Background(), export.Request{Action: "other"})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}

// failingS3 fails the manifest's PutObject.
type failingS3 struct{ export.S3API }

func (f failingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if strings.HasSuffix(aws.ToString(in.Key), "/manifest.json") {
		return nil, errors.New("injected: S3 is down")
	}
	return f.S3API.PutObject(ctx, in, optFns...)
}

// failingStore fails the month's stream after a few snapshots.
type failingStore struct{ *store.Store }

func (f failingStore) MonthSnapshots(ctx context.Context, m string, fn func(domain.Snapshot) error) error {
	n := 0
	return f.Store.MonthSnapshots(ctx, m, func(sn domain.Snapshot) error {
		if n++; n > 10 {
			return errors.New("injected: DynamoDB is down")
		}
		return fn(sn)
	})
}

// TestFailedRunLeavesTheMonthAsItWas: a run that fails — while reading (its multipart uploads under way), or at
// the manifest (its files complete) — is recorded as failed with the reason, leaves none of its objects and no
// unfinished upload, and the month's previous export stays whole.
func TestFailedRunLeavesTheMonthAsItWas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seed(t, e.st, []cust{alpha, beta, gamma}, knownDataset())
	good := e.runner(nil)
	first, err := good.Handle(ctx, export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	before := e.keys(t, "exports/")
	_, files := e.files(t, good, month)

	for name, r := range map[string]*export.Runner{
		"reading":  e.runner(failingStore{e.st}),
		"manifest": func() *export.Runner { r := e.runner(nil); r.S3 = failingS3{e.s3}; return r }(),
	} {
		e.clock.Set(e.clock.Now().Add(time.Hour))
		_, err := r.Handle(ctx, export.Request{Action: "month-end", Month: month})
		td.Cmp(t, err, td.Contains("injected"), name)
		run, err := good.Status(ctx, month)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, run.Status, store.ExportFailed, name)
		td.Cmp(t, run.Error, td.Contains("injected"), name)
		td.Cmp(t, run.LeaseUntil, e.clock.Now(), "%s: the month is free again", name)
		td.Cmp(t, e.keys(t, "exports/"), td.Bag(anySlice(before)...), "%s: only the previous export's objects", name)
		uploads, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &e.bucket})
		td.Require(t).CmpNoError(err)
		td.CmpEmpty(t, uploads.Uploads, "%s: no unfinished upload", name)
		m, again := e.files(t, good, month)
		td.Cmp(t, m.RunID, first.RunID, name)
		td.Cmp(t, again, files, name)
	}
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
