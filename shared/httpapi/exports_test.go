package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
)

// queuedExports is the export runner's Trigger in the API tests: it keeps the runs the API queued, which a test
// then executes itself (as the export function would take them from its queue).
type queuedExports struct {
	mu   sync.Mutex
	reqs []export.Request
}

func (q *queuedExports) Trigger(_ context.Context, req export.Request) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reqs = append(q.reqs, req)
	return nil
}

// take returns the runs queued since the last call.
func (q *queuedExports) take() []export.Request {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.reqs
	q.reqs = nil
	return out
}

// newTestExports is the export runner of the test API: the stack's reports bucket, runs queued to a queuedExports.
func newTestExports(st *store.Store, cfg aws.Config, stack *localaws.Stack) *export.Runner {
	r := export.New(st, s3.NewFromConfig(cfg), stack.ReportsBucket, "test-1.2.3", slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Trigger = &queuedExports{}
	return r
}

func (ta *testAPI) exportRunner() *export.Runner { return ta.api.Exports }

func (ta *testAPI) queuedExports() *queuedExports { return ta.api.Exports.Trigger.(*queuedExports) }

// pastMonth is the month n months before the current one (UTC).
func pastMonth(n int) string {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -n, 0).Format("2006-01")
}

// seedMonthSnapshots stores daily snapshots of the customers (id → name; the first is public sector) on the first
// two days of month: each customer level and one site "Main office".
func seedMonthSnapshots(t *testing.T, st *store.Store, month string, customers [][2]string) int {
	t.Helper()
	first, err := time.Parse("2006-01", month)
	td.Require(t).CmpNoError(err)
	n := 0
	for i, c := range customers {
		for day := range 2 {
			date := first.AddDate(0, 0, day)
			base := domain.Snapshot{CustomerID: c[0], CustomerName: c[1], PublicSector: i == 0, Date: date.Format(time.DateOnly),
				TakenAt: date.Add(30 * time.Minute), Users: 10 + day, Licensed: 8 + day, Unmatched: 1, RulesVersion: 0,
				Factors: []domain.FactorCount{{RuleID: "direct-routing", Name: "Managed Users – Direct Routing", Enabled: true, Count: 7 + day}},
				SKUs: []domain.SnapshotSKU{{SkuID: "05e9a617-0261-4cee-bb44-138d3ef5d965", PartNumber: "SPE_E3", Name: "Microsoft 365 E3",
					Enabled: 20, Consumed: 8 + day, Assigned: 8 + day}}}
			site := base
			site.SiteID, site.SiteName, site.Users, site.Licensed = "s-main", c[1]+" Main office", 5, 4
			site.SKUs = []domain.SnapshotSKU{{SkuID: "05e9a617-0261-4cee-bb44-138d3ef5d965", PartNumber: "SPE_E3", Name: "Microsoft 365 E3", Assigned: 4}}
			td.Require(t).CmpNoError(st.PutSnapshots(context.Background(), []domain.Snapshot{base, site}))
			n += 2
		}
	}
	return n
}

// seedExport exports a past month of two customers (run as the schedule would) and returns it: TestAuthorization's
// :month, whose anonymised file is its :name.
func (ta *testAPI) seedExport(t *testing.T) string {
	t.Helper()
	month := pastMonth(1)
	seedMonthSnapshots(t, ta.store, month, [][2]string{{"c-auth-1", "Auth One"}, {"c-auth-2", "Auth Two"}})
	_, err := ta.exportRunner().Handle(context.Background(), export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	return month
}

// download GETs a presigned URL (no API token) and returns the body.
func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(resp.StatusCode, 200, "presigned GET: %s", body)
	return body
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var sha256Re = td.Re(`^[0-9a-f]{64}$`)

func TestExportsListDownloadAndRerun(t *testing.T) {
	ta := newTestAPI(t)
	ctx := context.Background()
	month := pastMonth(1)
	snaps := seedMonthSnapshots(t, ta.store, month, [][2]string{{"c-contoso", "Contoso Dental"}, {"c-fabrikam", "Fabrikam Clinics"}})

	ta.Get("/api/v1/exports", ta.admin()).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[]}`))
	ta.Get("/api/v1/exports/"+month, ta.admin()).CmpStatus(404).
		CmpJSONBody(td.JSON(`{"error":{"code":"not_found","message":"no export of ` + month + `"}}`))

	// The schedule exports the month.
	res, err := ta.exportRunner().Handle(ctx, export.Request{Action: "month-end", Month: month})
	td.Require(t).CmpNoError(err)
	first, _ := time.Parse("2006-01", month)
	wantFiles := func() any {
		file := func(kind string, names bool, ct string) any {
			name := export.FileName(month, kind)
			if kind == export.KindManifest {
				name = export.ManifestName
			}
			return td.SuperJSONOf(`{"name":$1,"kind":$2,"contentType":$3,"size":$4,"sha256":$5,"namesCustomers":$6}`,
				name, kind, td.HasPrefix(ct), td.Gt(0), sha256Re, names)
		}
		return td.JSON(`[$1,$2,$3,$4]`,
			file(export.KindAnonymised, false, "text/csv"), file(export.KindPartner, true, "text/csv"),
			file(export.KindSnapshots, true, "application/json"), file(export.KindManifest, false, "application/json"))
	}
	monthBody := func(runID any, status string) any {
		return td.JSON(`{
			"month": $1,
			"retainedUntil": $2,
			"manifest": {
				"runId": $3, "generatedAt": $4, "softwareVersion": "test-1.2.3", "requestedBy": $5,
				"period": {"from": $6, "to": $7},
				"data": {"from": $6, "to": $8, "firstTakenAt": $4, "lastTakenAt": $4},
				"rulesVersions": [0],
				"counts": $9,
				"files": $10
			},
			"run": $11
		}`, month, export.RetainedUntil(month).Format(time.RFC3339), runID, td.Smuggle(parseTime, td.Lax(td.NotZero())),
			td.NotEmpty(), first.Format(time.DateOnly), first.AddDate(0, 1, -1).Format(time.DateOnly),
			first.AddDate(0, 0, 1).Format(time.DateOnly),
			td.SuperMapOf(map[string]any{"snapshots": snaps, "customers": 2, "publicSectorCustomers": 1, "sites": 2}, nil),
			wantFiles(),
			td.SuperJSONOf(`{"runId":$1,"status":$2,"active":false,"progress":$3,"error":""}`, runID, status,
				td.SuperMapOf(map[string]any{"snapshots": snaps, "customers": 2}, nil)))
	}
	var listed struct {
		Items []exportMonthView `json:"items"`
	}
	ta.Get("/api/v1/exports", ta.admin()).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1]}`, monthBody(res.RunID, store.ExportSucceeded))).CmpJSONBody(into(&listed))
	var view exportMonthView
	ta.Get("/api/v1/exports/"+month, ta.admin()).CmpStatus(200).
		CmpJSONBody(monthBody(res.RunID, store.ExportSucceeded)).CmpJSONBody(into(&view))
	td.Require(t).Cmp(view.Manifest.Files, td.Len(4))
	td.Cmp(t, listed.Items[0].Manifest.Files, view.Manifest.Files, "the list and the month agree")

	// Every file, the manifest too, downloads through its presigned URL with the size and SHA-256 listed.
	files := map[string][]byte{}
	for _, f := range view.Manifest.Files {
		var d exportDownload
		ta.Name("url of "+f.Name).Get("/api/v1/exports/"+month+"/files/"+f.Name+"/url", ta.admin()).CmpStatus(200).
			CmpHeader(td.SuperMapOf(http.Header{"Cache-Control": {"no-store"}}, nil)).
			CmpJSONBody(td.SuperJSONOf(`{"name":$1,"url":$2,"expiresAt":$3,"size":$4,"sha256":$5}`,
				f.Name, td.Re(`^http://127\.0\.0\.1:\d+/`), td.Smuggle(parseTime, td.Between(time.Now().Add(time.Minute), time.Now().Add(10*time.Minute))),
				f.Size, f.SHA256)).CmpJSONBody(into(&d))
		body := download(t, d.URL)
		td.Cmp(t, sha256Hex(body), f.SHA256, f.Name)
		td.Cmp(t, int64(len(body)), f.Size, f.Name)
		files[f.Kind] = body
	}
	anon := files[export.KindAnonymised]
	td.Require(t).Cmp(string(anon), td.HasPrefix("\ufeff"+strings.Join(export.AnonymisedHeader, ",")+"\r\n"), "a BOM, then the header")
	rows, err := csv.NewReader(bytes.NewReader(anon[len("\ufeff"):])).ReadAll()
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(rows), td.Gt(1), "data rows")
	for _, secret := range []string{"Contoso", "Fabrikam", "c-contoso", "c-fabrikam", "Main office"} {
		td.Cmp(t, string(anon), td.Not(td.Contains(secret)), "the anonymised file names no customer (%s)", secret)
	}
	td.Cmp(t, string(files[export.KindPartner]), td.Contains("Contoso Dental"), "the partner file does")
	td.Cmp(t, string(files[export.KindManifest]), td.Contains(`"runId": "`+res.RunID+`"`))

	// Only the names the manifest lists.
	for _, name := range []string{"nope.csv", "seatwise-usage-" + month + "-other.csv", res.RunID, "..%2Fmanifest.json"} {
		ta.Name("url of "+name).Get("/api/v1/exports/"+month+"/files/"+name+"/url", ta.admin()).CmpStatus(404).
			CmpJSONBody(td.JSON(`{"error":{"code":"not_found","message":$1}}`, td.HasPrefix("the export of "+month+" has no file")))
	}
	ta.Get("/api/v1/exports/"+pastMonth(3)+"/files/manifest.json/url", ta.admin()).CmpStatus(404)

	// A provider admin who does not see every customer reads the list and the anonymised file, not the files that
	// name customers, and runs nothing.
	scoped := ta.bearer(auth.ProviderAdmin, "c-contoso")
	ta.Get("/api/v1/exports", scoped).CmpStatus(200)
	ta.Get("/api/v1/exports/"+month+"/files/"+export.FileName(month, export.KindAnonymised)+"/url", scoped).CmpStatus(200)
	ta.Get("/api/v1/exports/"+month+"/files/manifest.json/url", scoped).CmpStatus(200)
	for _, kind := range []string{export.KindPartner, export.KindSnapshots} {
		ta.Get("/api/v1/exports/"+month+"/files/"+export.FileName(month, kind)+"/url", scoped).CmpStatus(403).
			CmpJSONBody(td.JSON(`{"error":{"code":"forbidden","message":$1}}`, td.Contains("names customers")))
	}
	ta.Post("/api/v1/exports/"+month+"/run", nil, scoped).CmpStatus(403)
	// Customer admins and viewers see no exports at all.
	for _, role := range []auth.Role{auth.CustomerAdmin, auth.Viewer} {
		h := ta.bearer(role, auth.AllCustomers)
		ta.Get("/api/v1/exports", h).CmpStatus(403).CmpJSONBody(td.JSON(`{"error":{"code":"forbidden","message":$1}}`, td.Contains("needs provider-admin")))
		ta.Get("/api/v1/exports/"+month, h).CmpStatus(403)
		ta.Get("/api/v1/exports/"+month+"/files/"+export.FileName(month, export.KindAnonymised)+"/url", h).CmpStatus(403)
		ta.Post("/api/v1/exports/"+month+"/run", nil, h).CmpStatus(403)
	}
	td.Cmp(t, ta.queuedExports().take(), td.Empty(), "nothing queued by the refusals")

	// Re-run: queued (the old files stay listed), a second run is refused naming since when, then it runs.
	var queued exportMonthView
	ta.Post("/api/v1/exports/"+month+"/run", nil, ta.admin()).CmpStatus(202).
		CmpJSONBody(td.SuperJSONOf(`{"month":$1,"manifest":$2,"run":$3}`, month,
			td.SuperMapOf(map[string]any{"runId": res.RunID}, nil),
			td.SuperJSONOf(`{"runId":$1,"status":"queued","active":true,"requestedBy":"user-provider-admin"}`, td.Not(res.RunID)))).
		CmpJSONBody(into(&queued))
	newRun := queued.Run.RunID
	ta.Get("/api/v1/exports/"+month, ta.admin()).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"run":$1}`, td.SuperMapOf(map[string]any{"runId": newRun, "status": "queued", "active": true}, nil)))
	ta.PostJSON("/api/v1/exports/"+month+"/run", map[string]any{}, ta.admin()).CmpStatus(409).
		CmpJSONBody(td.JSON(`{"error":{"code":"conflict","message":$1}}`,
			td.Re(`^an export of `+month+` is running since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(run `+newRun+`, requested by user-provider-admin\)$`)))
	reqs := ta.queuedExports().take()
	td.Require(t).Cmp(reqs, []export.Request{{Action: "month-end", Month: month, RunID: newRun}})
	res2, err := ta.exportRunner().Handle(ctx, reqs[0])
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res2.RunID, newRun)
	var rerun exportMonthView
	ta.Get("/api/v1/exports/"+month, ta.admin()).CmpStatus(200).
		CmpJSONBody(monthBody(newRun, store.ExportSucceeded)).CmpJSONBody(into(&rerun))
	td.Cmp(t, rerun.Run.RequestedBy, "user-provider-admin")
	td.Cmp(t, rerun.Manifest.RequestedBy, "user-provider-admin")
	td.CmpTrue(t, rerun.Manifest.GeneratedAt.After(view.Manifest.GeneratedAt), "a new manifest")
	td.Cmp(t, rerun.Manifest.Files[0].SHA256, view.Manifest.Files[0].SHA256, "the same data gives the same anonymised file")
	td.Cmp(t, rerun.Manifest.Files[3].SHA256, td.Not(view.Manifest.Files[3].SHA256), "its manifest differs (run id, time)")
}

func TestExportsRefuseBadMonths(t *testing.T) {
	ta := newTestAPI(t)
	now := time.Now().UTC()
	next := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0).Format("2006-01")
	for _, bad := range []string{"2026-13", "2026-1", "202610", "abc", "2026-10-01"} {
		want := td.JSON(`{"error":{"code":"invalid","message":"the month must be YYYY-MM, e.g. 2026-10","fields":{"month":"must be YYYY-MM"}}}`)
		ta.Name("GET "+bad).Get("/api/v1/exports/"+bad, ta.admin()).CmpStatus(400).CmpJSONBody(want)
		ta.Name("POST "+bad).Post("/api/v1/exports/"+bad+"/run", nil, ta.admin()).CmpStatus(400).CmpJSONBody(want)
		ta.Name("url "+bad).Get("/api/v1/exports/"+bad+"/files/manifest.json/url", ta.admin()).CmpStatus(400).CmpJSONBody(want)
	}
	ta.Post("/api/v1/exports/"+next+"/run", nil, ta.admin()).CmpStatus(400).
		CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"month ` + next + ` has not started","fields":{"month":"must not be in the future"}}}`))
	ta.Post("/api/v1/exports/2020-01/run", nil, ta.admin()).CmpStatus(400).
		CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":$1,"fields":{"month":"past the two-year retention"}}}`, td.HasPrefix("2020-01 is past the two-year retention")))
	ta.Post("/api/v1/exports/"+pastMonth(1)+"/run", strings.NewReader(`{"force":true}`), "Content-Type", "application/json", ta.admin()).
		CmpStatus(400).CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"unknown field force","fields":{"force":"unknown field"}}}`))
	td.Cmp(t, ta.queuedExports().take(), td.Empty())

	// A month that has started but has no snapshots exports empty files (the current month, say).
	cur := now.Format("2006-01")
	var v exportMonthView
	ta.Post("/api/v1/exports/"+cur+"/run", nil, ta.admin()).CmpStatus(202).
		CmpJSONBody(td.SuperJSONOf(`{"month":$1,"manifest":null,"run":$2}`, cur, td.SuperMapOf(map[string]any{"status": "queued", "active": true}, nil))).
		CmpJSONBody(into(&v))
	reqs := ta.queuedExports().take()
	td.Require(t).Cmp(reqs, td.Len(1))
	_, err := ta.exportRunner().Handle(context.Background(), reqs[0])
	td.Require(t).CmpNoError(err)
	ta.Get("/api/v1/exports", ta.admin()).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[{"month":$1,"retainedUntil":$2,"manifest":$3,"run":$4}]}`, cur, td.NotEmpty(),
			td.SuperJSONOf(`{"data":null,"counts":$1,"files":$2}`, td.SuperMapOf(map[string]any{"snapshots": 0, "customers": 0}, nil), td.Len(4)),
			td.SuperJSONOf(`{"runId":$1,"status":"succeeded","active":false}`, v.Run.RunID)))
}

// into catches a JSON body decoded as T.
func into[T any](p *T) td.TestDeep {
	return td.Smuggle(func(v T) bool { *p = v; return true }, true)
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
