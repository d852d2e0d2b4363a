package bulkjob_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/bulkjob"
	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

const (
	tenantID = "6a1d7e2b-3a4f-4b8c-9d0e-1f2a3b4c5d6f"
	domainN  = "fabrikam.onmicrosoft.com"
	admin    = "admin@partner.example"

	assignLicense = "POST /v1.0/users/{id}/assignLicense"
)

func skuID(part string) string {
	p, ok := catalog.ByPartNumber(part)
	if !ok {
		panic("no SKU " + part)
	}
	return p.SkuID
}

var (
	e3    = skuID("ENTERPRISEPACK")
	phone = skuID("MCOEV")
	pbi   = skuID("POWER_BI_PRO")
)

// planID returns the id of a service plan of a SKU.
func planID(part, plan string) string {
	p, _ := catalog.ByPartNumber(part)
	for _, pl := range p.Plans {
		if pl.Name == plan {
			return pl.ID
		}
	}
	panic("no plan " + plan)
}

func ctxb() context.Context { return context.Background() }

func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		td.Require(t).CmpNoError(err)
		return v
	}
}

// fakeQueue keeps the jobs-queue messages sent.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []bulkjob.Message
	fail error
}

func (q *fakeQueue) Send(ctx context.Context, v any) error { return q.SendDelayed(ctx, v, 0) }

func (q *fakeQueue) SendDelayed(_ context.Context, v any, _ time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.msgs = append(q.msgs, v.(bulkjob.Message))
	return nil
}

func (q *fakeQueue) pop() (bulkjob.Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs) == 0 {
		return bulkjob.Message{}, false
	}
	m := q.msgs[0]
	q.msgs = q.msgs[1:]
	return m, true
}

// hookedStore is the store with hooks around recording a chunk.
type hookedStore struct {
	*store.Store
	mu     sync.Mutex
	before func(index int) error // an error fails the write
	after  func(index int)
}

func (h *hookedStore) RecordBulkChunk(ctx context.Context, job store.BulkJob, version int64, c store.BulkChunk) (store.BulkJob, error) {
	h.mu.Lock()
	before, after := h.before, h.after
	h.mu.Unlock()
	if before != nil {
		if err := before(c.Index); err != nil {
			return store.BulkJob{}, err
		}
	}
	got, err := h.Store.RecordBulkChunk(ctx, job, version, c)
	if err == nil && after != nil {
		after(c.Index)
	}
	return got, err
}

// hookedLicensing is the bulk licence path with a hook after each ApplyMany.
type hookedLicensing struct {
	bulkjob.Licensing
	mu    sync.Mutex
	calls int
	after func(ctx context.Context, call int)
}

func (h *hookedLicensing) ApplyMany(ctx context.Context, req licensing.BulkRequest) ([]licensing.BulkResult, error) {
	res, err := h.Licensing.ApplyMany(ctx, req)
	h.mu.Lock()
	h.calls++
	call, after := h.calls, h.after
	h.mu.Unlock()
	if after != nil {
		after(ctx, call)
	}
	return res, err
}

type env struct {
	t      *testing.T
	st     *store.Store
	hooked *hookedStore
	lic    *hookedLicensing
	sim    *graphsim.Sim
	svc    *bulkjob.Service
	queue  *fakeQueue
	s3     *s3.Client
	bucket string
	cust   domain.Customer
	users  map[string]string // user number (1..60) → id
	london domain.Site
	paris  domain.Site
}

// newEnv is a customer synced from a simulated tenant of 60 users (user01…user60@fabrikam, usage location US;
// user01…user05 hold Office 365 E3 directly, user06 Power BI Pro), with Office 365 E3 and Teams Phone (100 seats
// each) and Power BI Pro (3 seats, 2 free); sites London (numbers +14255550100…159, extensions their last three
// digits) and Paris (+14255550200…204); a template "Phone" (Office 365 E3 and Teams Phone, which needs E3's plans). Users appear in Teams as soon as they are
// licensed. The service applies chunks of chunkSize rows over the real store (moto), Graph client, bulk licence
// path and number inventory; the uploaded files go to the reports bucket.
func newEnv(t *testing.T, chunkSize int) *env {
	t.Helper()
	ctx := ctxb()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{{ID: tenantID, Name: "Fabrikam", Domain: domainN, UsageLocation: "US",
		SKUs: []graphsim.SKUSpec{{PartNumber: "ENTERPRISEPACK", Enabled: 100}, {PartNumber: "MCOEV", Enabled: 100}, {PartNumber: "POWER_BI_PRO", Enabled: 3}}}}})
	running := sim.StartForTest(t)
	td.Require(t).CmpNoError(sim.SetTeamsProvisioningDelay(0))
	td.Require(t).CmpNoError(sim.SetNumberOperationPacing(1, 0))
	g := must(graph.New(graph.Config{AuthorityHost: running.AuthorityHost(), BaseURL: running.GraphURL(), RootCAs: running.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6, OperationPollInterval: 10 * time.Millisecond}))(t)
	st := store.New(store.TxIsolated(dynamodb.NewFromConfig(cfg)), stack.TableName)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, st: st, sim: sim, queue: &fakeQueue{}, s3: s3.NewFromConfig(cfg), bucket: stack.ReportsBucket, users: map[string]string{},
		cust: domain.Customer{ID: "fabrikam", Name: "Fabrikam", TenantID: tenantID, CreatedAt: time.Now().UTC(), Version: 1}}
	e.hooked = &hookedStore{Store: st}
	e.lic = &hookedLicensing{Licensing: &licensing.Bulk{Store: st, Graph: g, Log: log}}
	nsvc := &numbers.Service{Store: st, Graph: g, Log: log}
	e.svc = &bulkjob.Service{Store: e.hooked, Licensing: e.lic, Numbers: nsvc, Queue: e.queue, Files: e.s3, Bucket: e.bucket,
		ChunkSize: chunkSize, Log: log}

	for i := 1; i <= 60; i++ {
		u := must(sim.AddUser(tenantID, graphsim.NewUser{DisplayName: fmt.Sprintf("User %02d", i),
			UserPrincipalName: fmt.Sprintf("user%02d@%s", i, domainN), UsageLocation: "US"}))(t)
		e.users[fmt.Sprint(i)] = strings.ToLower(u.ID)
		switch {
		case i <= 5:
			td.Require(t).CmpNoError(sim.AssignDirectLicense(tenantID, u.ID, "ENTERPRISEPACK", nil))
		case i == 6:
			td.Require(t).CmpNoError(sim.AssignDirectLicense(tenantID, u.ID, "POWER_BI_PRO", nil))
		}
	}
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, e.cust, "test"))
	sync := &tenantsync.Service{Store: st, Graph: g, Jobs: e.queue, Log: log, FullEvery: time.Nanosecond}
	td.Require(t).CmpNoError(sync.SyncCustomer(ctx, e.cust.ID, "test"))

	td.Require(t).CmpNoError(st.CreateTemplate(ctx, domain.Template{ID: "tpl-phone", CustomerID: e.cust.ID, Name: "Phone",
		Licences: []domain.AssignedLicense{{SkuID: e3}, {SkuID: phone}}, Version: 1, CreatedAt: time.Now().UTC()}, "test"))
	e.london = domain.Site{ID: "site-lon", CustomerID: e.cust.ID, Name: "London", Order: 1, Default: true, CreatedAt: time.Now().UTC()}
	e.paris = domain.Site{ID: "site-par", CustomerID: e.cust.ID, Name: "Paris", Order: 2, CreatedAt: time.Now().UTC()}
	for _, s := range []domain.Site{e.london, e.paris} {
		td.Require(t).CmpNoError(st.CreateSite(ctx, s, "test"))
	}
	for _, r := range []struct {
		from, to, site string
		n              int
	}{{"+14255550100", "+14255550159", e.london.ID, 60}, {"+14255550200", "+14255550204", e.paris.ID, 5}} {
		_ = must(nsvc.Add(ctx, e.cust.ID, "test", numbers.AddInput{From: r.from, To: r.to, Type: domain.NumberDirectRouting,
			SiteID: r.site, ExtensionDigits: 3}))(t)
		for i := range r.n {
			n := fmt.Sprintf("%s%02d", r.from[:len(r.from)-2], i)
			td.Require(t).CmpNoError(sim.AddNumbers(tenantID, graphsim.PhoneNumber{TelephoneNumber: n, NumberType: graphsim.NumberDirectRouting}))
		}
	}
	return e
}

// user returns the simulated user n.
func (e *env) user(n int) graphsim.User {
	e.t.Helper()
	return must(e.sim.User(tenantID, e.users[fmt.Sprint(n)]))(e.t)
}

// direct returns the SKUs user n holds directly in the simulator, with their disabled plans.
func (e *env) direct(n int) map[string][]string {
	out := map[string][]string{}
	for _, l := range e.user(n).Licenses {
		if l.AssignedByGroup == "" {
			var plans []string
			plans = append(plans, l.DisabledPlans...)
			out[strings.ToLower(l.SkuID)] = plans
		}
	}
	return out
}

// holderOf returns who holds a number in the simulated Teams ("" = nobody).
func (e *env) holderOf(number string) string {
	e.t.Helper()
	for _, n := range must(e.sim.Numbers(tenantID))(e.t) {
		if n.TelephoneNumber == number {
			return strings.ToLower(n.AssignmentTargetID)
		}
	}
	e.t.Fatalf("no number %s", number)
	return ""
}

// upload uploads a file of the given rows under the standard header.
func (e *env) upload(rows ...string) bulkjob.Job {
	e.t.Helper()
	file := "userPrincipalName,licences,addOns:ENTERPRISEPACK,number,extension,site,template\n" + strings.Join(rows, "\n") + "\n"
	return must(e.svc.Upload(ctxb(), e.cust.ID, admin, "C:\\Users\\me\\mass.csv", strings.NewReader(file)))(e.t)
}

func upn(n int) string { return fmt.Sprintf("user%02d@%s", n, domainN) }

// drain delivers the queued messages to the worker until none is left.
func (e *env) drain() {
	e.t.Helper()
	for range 100 {
		m, ok := e.queue.pop()
		if !ok {
			return
		}
		td.Require(e.t).Cmp(m.Type, bulkjob.JobType)
		td.Require(e.t).CmpNoError(e.svc.HandleJob(ctxb(), m.CustomerID, m.JobID))
	}
	e.t.Fatal("the job never ended")
}

func (e *env) job(id string) bulkjob.Job {
	e.t.Helper()
	return must(e.svc.Get(ctxb(), e.cust.ID, id))(e.t)
}

// results reads the results file: its rows by row number, as row → [upn, outcome, changes, error].
func (e *env) results(id string) map[string][]string {
	e.t.Helper()
	var buf bytes.Buffer
	td.Require(e.t).CmpNoError(e.svc.ResultsCSV(ctxb(), e.cust.ID, id, &buf))
	td.Require(e.t).True(bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")), "a byte order mark")
	td.Require(e.t).Contains(buf.String(), "\r\n", "CRLF")
	recs := must(csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll())(e.t)
	td.Require(e.t).Cmp(recs[0], bulkjob.ResultsColumns)
	out := map[string][]string{}
	for _, r := range recs[1:] {
		out[r[0]] = r[1:]
	}
	return out
}

// audits counts the customer's audit records of an action.
func (e *env) audits(action string) int {
	e.t.Helper()
	n, cursor := 0, ""
	for {
		page := must(e.st.ListAudit(ctxb(), e.cust.ID, store.AuditQuery{Cursor: cursor, Limit: 200}))(e.t)
		for _, r := range page.Items {
			if r.Action == action {
				n++
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return n
		}
	}
}

func (e *env) numberAssignments() int {
	st := e.sim.Stats()
	return st.Count("POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", 0) +
		st.Count("POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/microsoft.graph.teamsAdministration.assignNumber", 0)
}

func outcomes(res map[string][]string) map[string]int {
	out := map[string]int{}
	for _, r := range res {
		out[r[1]]++
	}
	return out
}

// A valid file of 50 users is validated, previewed and applied to the end, in three chunks: licences added (and
// add-ons switched, and a licence not listed removed), numbers assigned in Teams with their extensions and sites,
// templates' licences added, users placed on sites; every row has its result, every change its audit record.
func TestApplyFileToTheEnd(t *testing.T) {
	e := newEnv(t, 20)
	sway := planID("ENTERPRISEPACK", "SWAY")
	var rows []string
	for i := 1; i <= 50; i++ {
		num := fmt.Sprintf("+142555501%02d", i)
		switch {
		case i <= 5: // hold E3 already: Sway off, Teams Phone added
			rows = append(rows, fmt.Sprintf("%s,ENTERPRISEPACK;MCOEV,SWAY=off,tel:%s,,London,", upn(i), num))
		case i <= 38:
			ext := ""
			if i%10 == 0 {
				ext = fmt.Sprintf("9%02d", i) // another extension than the inventory's
			}
			rows = append(rows, fmt.Sprintf("%s,Office 365 E3;Microsoft Teams Phone Standard,,%s,%s,,", strings.ToUpper(upn(i)), num, ext))
		case i <= 44: // the template only: adds its licences
			rows = append(rows, fmt.Sprintf("%s,,,,,London,phone", upn(i)))
		default: // a site only
			rows = append(rows, fmt.Sprintf("%s,,,,,Paris,", upn(i)))
		}
	}
	job := e.upload(rows...)
	td.Cmp(t, job.BulkJob, td.SuperJSONOf(`{"status":"validated","rows":50,"validRows":50,"invalidRows":0,"problems":0,"filename":"mass.csv"}`))
	td.Cmp(t, job.Seats, td.Bag(
		td.SuperJSONOf(`{"partNumber":"ENTERPRISEPACK","needed":39,"neededValid":39,"available":95,"short":0}`),
		td.SuperJSONOf(`{"partNumber":"MCOEV","needed":44,"neededValid":44,"available":100,"short":0}`),
		td.SuperJSONOf(`{"partNumber":"POWER_BI_PRO","needed":0,"freed":1}`),
	))
	obj := must(e.s3.GetObject(ctxb(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("uploads/fabrikam/" + job.ID + ".csv")}))(t)
	body := must(io.ReadAll(obj.Body))(t)
	td.Cmp(t, string(body), td.HasPrefix("userPrincipalName,licences"), "the file is kept")

	pre := must(e.svc.Preview(ctxb(), e.cust.ID, job.ID, "", 7))(t)
	td.Cmp(t, len(pre.Rows), 7)
	ref := func(part string) bulkjob.LicenceRef {
		p, _ := catalog.ByPartNumber(part)
		return bulkjob.LicenceRef{SkuID: p.SkuID, PartNumber: part, Name: p.Name}
	}
	td.Cmp(t, pre.Rows[0], bulkjob.PreviewRow{Row: 2, UserPrincipalName: upn(1), UserID: e.users["1"], DisplayName: "User 01", Valid: true,
		Changes: bulkjob.Changes{Add: []bulkjob.LicenceRef{ref("MCOEV")}, Remove: []bulkjob.LicenceRef{},
			AddOns: []bulkjob.AddOnChange{{SkuID: e3, PartNumber: "ENTERPRISEPACK", Off: []string{"SWAY"}, On: []string{}}},
			Number: &bulkjob.ValueChange{To: "+14255550101"}, Site: &bulkjob.ValueChange{To: "London"}}})
	td.Cmp(t, pre.Rows[5].Changes, bulkjob.Changes{Add: []bulkjob.LicenceRef{ref("ENTERPRISEPACK"), ref("MCOEV")},
		Remove: []bulkjob.LicenceRef{ref("POWER_BI_PRO")}, AddOns: []bulkjob.AddOnChange{},
		Number: &bulkjob.ValueChange{To: "+14255550106"}, Site: &bulkjob.ValueChange{To: "London"}},
		"a licence not listed is removed; the number's site")
	next := must(e.svc.Preview(ctxb(), e.cust.ID, job.ID, pre.NextCursor, 40))(t)
	td.Cmp(t, next.Rows[2].Row, 11, "pages go on across chunks")
	td.Cmp(t, next.Rows[2].Changes.Extension, &bulkjob.ValueChange{From: "110", To: "910"})
	last := must(e.svc.Preview(ctxb(), e.cust.ID, job.ID, next.NextCursor, 40))(t)
	td.Cmp(t, len(last.Rows), 3)
	td.Cmp(t, last.NextCursor, "")
	td.Cmp(t, last.Rows[2].Changes, bulkjob.Changes{Add: []bulkjob.LicenceRef{}, Remove: []bulkjob.LicenceRef{}, AddOns: []bulkjob.AddOnChange{},
		Site: &bulkjob.ValueChange{To: "Paris"}})

	_, err := e.svc.Start(ctxb(), e.cust.ID, "nope", admin, false)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	started := must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	td.Cmp(t, started.Status, store.BulkQueued)
	td.Cmp(t, started.Progress, td.SuperJSONOf(`{"total":50,"done":0,"remaining":50,"percent":0}`))
	_, err = e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "started once")
	td.Cmp(t, e.queue.msgs, []bulkjob.Message{{Type: bulkjob.JobType, CustomerID: e.cust.ID, JobID: job.ID, RequestedBy: admin}})
	e.drain()

	done := e.job(job.ID)
	td.Cmp(t, done.BulkJob, td.SuperJSONOf(`{"status":"completed","total":50,"applied":50,"unchanged":0,"failed":0,"staged":0}`))
	td.Cmp(t, done.Progress, td.SuperJSONOf(`{"total":50,"done":50,"failed":0,"remaining":0,"percent":100,"secondsLeft":null}`))
	td.Cmp(t, done.FinishedAt, td.NotNil())

	// Microsoft's side.
	td.Cmp(t, e.direct(1), map[string][]string{e3: {sway}, phone: nil}, "Sway switched off, Teams Phone added")
	td.Cmp(t, e.direct(6), td.Map(map[string][]string{}, td.MapEntries{e3: td.Empty(), phone: td.Empty()}), "Power BI Pro removed")
	td.Cmp(t, e.direct(20), td.Len(2))
	td.Cmp(t, e.direct(40), map[string][]string{e3: nil, phone: nil}, "the template's licences")
	td.Cmp(t, e.direct(48), map[string][]string{}, "a site only")
	for _, i := range []int{1, 6, 30, 38} {
		td.Cmp(t, e.holderOf(fmt.Sprintf("+142555501%02d", i)), e.users[fmt.Sprint(i)], "number of user %d", i)
	}
	// Seatwise's side.
	prov := must(e.st.GetProvisioning(ctxb(), e.cust.ID, e.users["30"]))(t)
	td.Cmp(t, prov, td.SuperJSONOf(`{"number":"+14255550130","siteId":"site-lon","extension":"930","managedBy":"template"}`))
	prov = must(e.st.GetProvisioning(ctxb(), e.cust.ID, e.users["31"]))(t)
	td.Cmp(t, prov, td.SuperJSONOf(`{"number":"+14255550131","extension":"131"}`))
	prov = must(e.st.GetProvisioning(ctxb(), e.cust.ID, e.users["48"]))(t)
	td.Cmp(t, prov, td.SuperJSONOf(`{"siteId":"site-par","number":""}`))
	n := must(e.st.GetNumber(ctxb(), e.cust.ID, "+14255550120"))(t)
	td.Cmp(t, n, td.SuperJSONOf(`{"status":"assigned","extension":"920","userName":"User 20"}`))

	res := e.results(job.ID)
	td.Cmp(t, len(res), 50)
	td.Cmp(t, outcomes(res), map[string]int{"ok": 50})
	td.Cmp(t, res["2"], []string{upn(1), "ok",
		"added Microsoft Teams Phone Standard (MCOEV); add-ons of ENTERPRISEPACK: SWAY off; number +14255550101; site London", ""})
	td.Cmp(t, res["21"][2], "added Office 365 E3 (ENTERPRISEPACK), Microsoft Teams Phone Standard (MCOEV); number +14255550120; extension 920 (was 120); site London")
	td.Cmp(t, res["51"][2], "site Paris")

	td.Cmp(t, e.audits(bulkjob.ActionApply), 44, "one record per user whose licences changed")
	td.Cmp(t, e.sim.Stats().Count(assignLicense, 0), 44, "one licence change per user")
	td.Cmp(t, e.numberAssignments(), 38)
	td.Cmp(t, e.audits(bulkjob.ActionFinish), 1)

	page := must(e.svc.List(ctxb(), e.cust.ID, "", 10))(t)
	td.Cmp(t, len(page.Items), 1)
	td.Cmp(t, page.Items[0].ID, job.ID)

	// Applying the same file again changes nothing.
	again := e.upload(rows...)
	td.Cmp(t, again.Status, store.BulkValidated)
	td.Cmp(t, again.Seats, td.All(td.Len(2), td.ArrayEach(td.SuperJSONOf(`{"needed":0}`))))
	_ = must(e.svc.Start(ctxb(), e.cust.ID, again.ID, admin, false))(t)
	e.drain()
	td.Cmp(t, outcomes(e.results(again.ID)), map[string]int{"unchanged": 50})
	td.Cmp(t, e.audits(bulkjob.ActionApply), 44, "nothing sent again")
	td.Cmp(t, e.numberAssignments(), 38)
}

// A file with errors is refused with each problem at its row and column, and nothing is applied; applying only its
// valid rows applies those, and reports the others as skipped with their problem.
func TestFileWithErrors(t *testing.T) {
	e := newEnv(t, 4)
	job := e.upload(
		"nobody@"+domainN+",ENTERPRISEPACK,,,,,",               // 2: unknown user
		upn(2)+",SPE_E5,,,,,",                                  // 3: not the customer's licence
		upn(3)+",MCOEV,,+14255550200,,London,",                 // 4: a number of Paris
		upn(7)+",POWER_BI_PRO,,,,,",                            // 5-7: three new Power BI Pro seats, two free
		upn(8)+",POWER_BI_PRO,,,,,",                            //
		upn(9)+",POWER_BI_PRO,,,,,",                            //
		upn(10)+",ENTERPRISEPACK,,,,,",                         // 8: valid
		upn(11)+",ENTERPRISEPACK;MCOEV,,+14255550111,,London,", // 9: valid
		upn(12)+",ENTERPRISEPACK,,12345,,,",                    // 10: not a number (the parser)
		upn(13)+",ENTERPRISEPACK,,,,Berlin,nope",               // 11: no such site, no such template
		upn(14)+",ENTERPRISEPACK,,+14255550200,,Paris,",        // 12: the number of row 4 too
		upn(15)+",,,,42,,",                                     // 13: an extension without a number
		upn(16)+",POWER_BI_PRO;ENTERPRISEPACK,,,,,",            // 14: valid, but for the shortage
	)
	td.Cmp(t, job.BulkJob, td.SuperJSONOf(`{"status":"invalid","rows":13,"validRows":2,"invalidRows":11}`))
	probs := must(e.svc.Problems(ctxb(), e.cust.ID, job.ID, "", 100))(t)
	type rc struct {
		Row    int
		Column string
	}
	var got []rc
	for _, p := range probs.Items {
		got = append(got, rc{p.Row, p.Column})
	}
	td.Cmp(t, got, []rc{
		{0, "licences"}, {2, "userPrincipalName"}, {3, "licences"}, {4, "number"}, {4, "number"}, {5, "licences"}, {6, "licences"},
		{7, "licences"}, {10, "number"}, {11, "site"}, {11, "template"}, {12, "number"}, {13, "extension"}, {14, "licences"},
	})
	td.Cmp(t, job.Problems, len(got))
	td.Cmp(t, probs.Items[0].Value, "POWER_BI_PRO")
	td.Cmp(t, probs.Items[0].Message, td.All(td.Contains("Power BI Pro (POWER_BI_PRO)"), td.Contains("4 users"), td.Contains("2 seats are free")))
	td.Cmp(t, probs.Items[1].Message, td.Contains("is not a user of Fabrikam"))
	td.Cmp(t, probs.Items[2].Value, "SPE_E5")
	td.Cmp(t, probs.Items[2].Message, td.Contains("is not one of Fabrikam's licences (it has ENTERPRISEPACK, MCOEV, POWER_BI_PRO)"))
	td.Cmp(t, probs.Items[3].Message, td.Contains("is repeated in row 12"))
	td.Cmp(t, probs.Items[4].Message, td.Contains(`belongs to site "Paris", not "London"`))
	td.Cmp(t, probs.Items[5].Message, td.Contains("not enough seats of Power BI Pro"))
	td.Cmp(t, probs.Items[9].Message, td.Contains(`no site named "Berlin" (it has "London", "Paris")`))
	td.Cmp(t, probs.Items[10].Message, td.Contains(`no template named "nope" (it has "Phone")`))
	td.Cmp(t, probs.Items[11].Message, td.Contains("is also in row 4"))
	td.Cmp(t, probs.Items[12].Message, td.Contains("an extension goes with a number"))
	page := must(e.svc.Problems(ctxb(), e.cust.ID, job.ID, "", 5))(t)
	td.Cmp(t, len(page.Items), 5)
	page = must(e.svc.Problems(ctxb(), e.cust.ID, job.ID, page.NextCursor, 100))(t)
	td.Cmp(t, page.Items[0].Row, 5)
	td.Cmp(t, len(page.Items), 9)
	td.Cmp(t, page.NextCursor, "")
	td.Cmp(t, job.Seats, td.Contains(td.SuperJSONOf(`{"partNumber":"POWER_BI_PRO","needed":4,"neededValid":4,"available":2,"short":2}`)))

	_, err := e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false)
	td.Cmp(t, err, td.All(td.Code(func(err error) bool { return domain.ErrorCode(err) == domain.EConflict }),
		td.Contains("apply only the 2 valid row(s)")))
	td.Cmp(t, len(e.queue.msgs), 0, "nothing queued")
	td.Cmp(t, e.sim.Stats().Count(assignLicense, 0), 0, "nothing sent to Graph")
	td.Cmp(t, e.job(job.ID).Status, store.BulkInvalid)

	// Only the valid rows.
	started := must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, true))(t)
	td.Cmp(t, started.BulkJob, td.SuperJSONOf(`{"status":"queued","onlyValid":true,"total":2}`))
	e.drain()
	td.Cmp(t, e.job(job.ID).BulkJob, td.SuperJSONOf(`{"status":"completed","applied":2,"failed":0}`))
	td.Cmp(t, e.direct(10), map[string][]string{e3: nil})
	td.Cmp(t, e.direct(11), map[string][]string{e3: nil, phone: nil})
	td.Cmp(t, e.holderOf("+14255550111"), e.users["11"])
	for _, i := range []int{7, 8, 9, 12, 13, 14, 16} {
		td.Cmp(t, e.direct(i), map[string][]string{}, "user %d unchanged", i)
	}
	td.Cmp(t, e.direct(2), map[string][]string{e3: nil}, "user 2 unchanged")
	res := e.results(job.ID)
	td.Cmp(t, outcomes(res), map[string]int{"ok": 2, "skipped": 11})
	td.Cmp(t, res["2"][:3], []string{"nobody@" + domainN, "skipped", ""})
	td.Cmp(t, res["2"][3], td.Contains("is not a user of Fabrikam"))
	td.Cmp(t, res["9"][1:3], []string{"ok", "added Office 365 E3 (ENTERPRISEPACK), Microsoft Teams Phone Standard (MCOEV); number +14255550111; site London"})
	td.Cmp(t, e.audits(bulkjob.ActionApply), 2)
}

// A worker that crashes — a chunk applied but its results not recorded, then a worker stopped right after a
// chunk's licence changes — is resumed by the next delivery: every row is applied once (one licence change, one
// audit record, one number assignment each) and every row has its result, as if nothing had happened.
func TestResumeAfterCrash(t *testing.T) {
	e := newEnv(t, 10)
	var rows []string
	for i := 1; i <= 30; i++ {
		rows = append(rows, fmt.Sprintf("%s,ENTERPRISEPACK;MCOEV,,+142555501%02d,,London,", upn(i+10), i+10))
	}
	job := e.upload(rows...)
	_ = must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	m, _ := e.queue.pop()

	// 1. Chunk 1 is applied, but recording its results fails.
	e.hooked.before = func(index int) error {
		if index == 1 {
			return errors.New("DynamoDB is down")
		}
		return nil
	}
	err := e.svc.HandleJob(ctxb(), m.CustomerID, m.JobID)
	td.Cmp(t, err, td.Contains("DynamoDB is down"))
	cur := e.job(job.ID)
	td.Cmp(t, cur.BulkJob, td.SuperJSONOf(`{"status":"running","applied":10}`))
	td.Cmp(t, cur.Progress, td.SuperJSONOf(`{"done":10,"remaining":20,"percent":33}`))
	td.Cmp(t, e.holderOf("+14255550125"), e.users["25"], "chunk 1 was applied")

	// 2. The redelivery replays chunk 1; the worker is stopped right after chunk 2's licence changes.
	e.hooked.before = nil
	ctx, cancel := context.WithCancel(ctxb())
	defer cancel()
	e.lic.after = func(_ context.Context, call int) {
		if call == 4 { // chunk 0, chunk 1, chunk 1 again, chunk 2
			cancel()
		}
	}
	err = e.svc.HandleJob(ctx, m.CustomerID, m.JobID)
	td.Cmp(t, err, context.Canceled)
	td.Cmp(t, e.job(job.ID).Applied, 20)
	td.Cmp(t, e.direct(35), map[string][]string{e3: nil, phone: nil}, "chunk 2's licences were applied")
	td.Cmp(t, e.holderOf("+14255550135"), "", "but not its numbers")

	// 3. The next delivery ends the job.
	e.lic.after = nil
	td.CmpNoError(t, e.svc.HandleJob(ctxb(), m.CustomerID, m.JobID))
	done := e.job(job.ID)
	td.Cmp(t, done.BulkJob, td.SuperJSONOf(`{"status":"completed","applied":30,"unchanged":0,"failed":0}`))
	res := e.results(job.ID)
	td.Cmp(t, outcomes(res), map[string]int{"ok": 30}, "the replayed rows report what the first attempt did")
	td.Cmp(t, res["12"][2], "added Office 365 E3 (ENTERPRISEPACK), Microsoft Teams Phone Standard (MCOEV); number +14255550121; site London")
	td.Cmp(t, res["22"][2], "added Office 365 E3 (ENTERPRISEPACK), Microsoft Teams Phone Standard (MCOEV); number +14255550131; site London")
	for i := 11; i <= 40; i++ {
		td.Cmp(t, e.holderOf(fmt.Sprintf("+142555501%02d", i)), e.users[fmt.Sprint(i)])
	}
	td.Cmp(t, e.audits(bulkjob.ActionApply), 30, "each user's licence change audited once")
	td.Cmp(t, e.sim.Stats().Count(assignLicense, 0), 30, "each sent once")
	td.Cmp(t, e.numberAssignments(), 30, "each number assigned once")
	td.Cmp(t, e.audits(numbers.ActionAssign), 30)
	td.Cmp(t, len(e.queue.msgs), 0)
}

// Cancelling a running job stops it before its next chunk: the rows applied stay applied and are reported, the
// others are reported cancelled.
func TestCancelMidJob(t *testing.T) {
	e := newEnv(t, 10)
	var rows []string
	for i := 11; i <= 40; i++ {
		rows = append(rows, fmt.Sprintf("%s,ENTERPRISEPACK,,,,Paris,", upn(i)))
	}
	job := e.upload(rows...)
	_ = must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	e.hooked.after = func(index int) {
		if index == 0 {
			c := must(e.svc.Cancel(ctxb(), e.cust.ID, job.ID, "other@partner.example"))(t)
			td.Cmp(t, c.BulkJob, td.SuperJSONOf(`{"status":"running","cancelRequested":true}`))
		}
	}
	e.drain()
	done := e.job(job.ID)
	td.Cmp(t, done.BulkJob, td.SuperJSONOf(`{"status":"cancelled","applied":10,"cancelledBy":"other@partner.example"}`))
	td.Cmp(t, done.Progress, td.SuperJSONOf(`{"done":10,"remaining":20,"secondsLeft":null}`))
	res := e.results(job.ID)
	td.Cmp(t, outcomes(res), map[string]int{"ok": 10, "cancelled": 20})
	td.Cmp(t, res["2"][1:3], []string{"ok", "added Office 365 E3 (ENTERPRISEPACK); site Paris"})
	td.Cmp(t, res["31"][1:3], []string{"cancelled", "added Office 365 E3 (ENTERPRISEPACK); site Paris"})
	td.Cmp(t, e.direct(20), map[string][]string{e3: nil})
	td.Cmp(t, e.direct(21), map[string][]string{})
	_, err := e.svc.Cancel(ctxb(), e.cust.ID, job.ID, admin)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "ended")
	_, err = e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "ended")
	td.Cmp(t, e.audits(bulkjob.ActionCancel), 1)

	// A file not started is discarded by cancelling it; a queued one nobody runs ends at once.
	idle := e.upload(upn(50) + ",ENTERPRISEPACK,,,,,")
	td.Cmp(t, must(e.svc.Cancel(ctxb(), e.cust.ID, idle.ID, admin))(t).Status, store.BulkCancelled)
	queued := e.upload(upn(51) + ",ENTERPRISEPACK,,,,,")
	_ = must(e.svc.Start(ctxb(), e.cust.ID, queued.ID, admin, false))(t)
	td.Cmp(t, must(e.svc.Cancel(ctxb(), e.cust.ID, queued.ID, admin))(t).Status, store.BulkCancelled)
	e.drain() // the message finds the job ended
	td.Cmp(t, e.direct(51), map[string][]string{})
	td.Cmp(t, outcomes(e.results(queued.ID)), map[string]int{"cancelled": 1})
}

// Two deliveries of one job message: the second worker finds the job held by the first and drops its message; the
// job is applied once. A worker near its invocation's deadline re-enqueues the job instead of taking a chunk.
func TestDuplicateDelivery(t *testing.T) {
	e := newEnv(t, 10)
	var rows []string
	for i := 11; i <= 30; i++ {
		rows = append(rows, fmt.Sprintf("%s,ENTERPRISEPACK;MCOEV,,+142555501%02d,,,", upn(i), i))
	}
	job := e.upload(rows...)

	// Another file cannot be started while this one is applied.
	other := e.upload(upn(40) + ",ENTERPRISEPACK,,,,,")
	_ = must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	_, err := e.svc.Start(ctxb(), e.cust.ID, other.ID, admin, false)
	td.Cmp(t, err, td.Contains("Another file (mass.csv"))

	m, _ := e.queue.pop()
	inside, release := make(chan struct{}), make(chan struct{})
	e.lic.after = func(_ context.Context, call int) {
		if call == 1 {
			close(inside)
			<-release
		}
	}
	first := make(chan error, 1)
	go func() { first <- e.svc.HandleJob(ctxb(), m.CustomerID, m.JobID) }()
	<-inside
	td.CmpNoError(t, e.svc.HandleJob(ctxb(), m.CustomerID, m.JobID), "the duplicate is dropped")
	close(release)
	td.CmpNoError(t, <-first)
	td.CmpNoError(t, e.svc.HandleJob(ctxb(), m.CustomerID, m.JobID), "a late duplicate finds the job ended")
	td.Cmp(t, e.job(job.ID).BulkJob, td.SuperJSONOf(`{"status":"completed","applied":20}`))
	td.Cmp(t, e.lic.calls, 2, "two chunks, applied once each")
	td.Cmp(t, e.audits(bulkjob.ActionApply), 20)
	td.Cmp(t, e.numberAssignments(), 20)
	td.Cmp(t, outcomes(e.results(job.ID)), map[string]int{"ok": 20})

	// Near the deadline: the job goes back on the queue, its lease released.
	_ = must(e.svc.Start(ctxb(), e.cust.ID, other.ID, admin, false))(t)
	m, _ = e.queue.pop()
	ctx, cancel := context.WithTimeout(ctxb(), 30*time.Second) // less than the reserve
	defer cancel()
	td.CmpNoError(t, e.svc.HandleJob(ctx, m.CustomerID, m.JobID))
	td.Cmp(t, e.job(other.ID).BulkJob, td.SuperJSONOf(`{"status":"running","applied":0}`))
	td.Cmp(t, e.queue.msgs, []bulkjob.Message{m}, "continued in a new invocation")
	e.drain()
	td.Cmp(t, e.job(other.ID).Status, store.BulkCompleted)
	td.Cmp(t, e.direct(40), map[string][]string{e3: nil})
}

// The sample passes through; a file that cannot be read is refused and nothing is stored.
func TestSampleAndUnreadableFile(t *testing.T) {
	e := newEnv(t, 0)
	td.Cmp(t, (&bulkjob.Service{}).Sample(), bulkcsv.Sample())
	_, err := e.svc.Upload(ctxb(), e.cust.ID, admin, "x.csv", bytes.NewReader([]byte{0xFF, 0xFE, 'a', 0}))
	td.Cmp(t, err, td.All(td.Code(func(err error) bool { return domain.ErrorCode(err) == domain.EInvalid }), td.Contains("UTF-16")))
	_, err = e.svc.Upload(ctxb(), e.cust.ID, admin, "x.csv", strings.NewReader("userPrincipalName\n"+strings.Repeat("a@b.c\n", 1<<21)))
	td.Cmp(t, err, td.Contains("larger than 10 MB"))
	_, err = e.svc.Upload(ctxb(), "nobody", admin, "x.csv", strings.NewReader("userPrincipalName\na@b.c\n"))
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	page := must(e.svc.List(ctxb(), e.cust.ID, "", 10))(t)
	td.Cmp(t, page.Items, []bulkjob.Job{})

	// A file the browser puts to the bucket itself.
	e.svc.Presigner = s3.NewPresignClient(e.s3)
	u := must(e.svc.NewUploadURL(ctxb(), e.cust.ID))(t)
	td.Cmp(t, u.Key, td.Re(`^uploads/fabrikam/incoming/[0-9a-f-]{36}\.csv$`))
	td.Cmp(t, u.Method, "PUT")
	req := must(http.NewRequest(u.Method, u.URL, strings.NewReader("userPrincipalName;licences\r\n"+upn(45)+";ENTERPRISEPACK\r\n")))(t)
	for k, v := range u.Headers {
		req.Header.Set(k, v)
	}
	resp := must(http.DefaultClient.Do(req))(t)
	resp.Body.Close()
	td.Require(t).Cmp(resp.StatusCode, 200)
	job := must(e.svc.UploadObject(ctxb(), e.cust.ID, admin, u.Key, "big.csv"))(t)
	td.Cmp(t, job.BulkJob, td.SuperJSONOf(`{"status":"validated","rows":1,"filename":"big.csv","delimiter":";"}`))
	td.Cmp(t, job.FileKey, u.Key)
	_, err = e.svc.UploadObject(ctxb(), e.cust.ID, admin, "uploads/other/incoming/x.csv", "x.csv")
	td.Cmp(t, err, td.Code(func(err error) bool { return domain.ErrorCode(err) == domain.EInvalid }), "another customer's key")
	_, err = e.svc.UploadObject(ctxb(), e.cust.ID, admin, "uploads/fabrikam/incoming/../x.csv", "x.csv")
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	_, err = e.svc.UploadObject(ctxb(), e.cust.ID, admin, "uploads/fabrikam/incoming/none.csv", "x.csv")
	td.Cmp(t, err, td.Contains("No file was uploaded there"))
	_ = must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	e.drain()
	td.Cmp(t, e.direct(45), map[string][]string{e3: nil})
	var buf bytes.Buffer
	td.Require(t).CmpNoError(e.svc.ResultsCSV(ctxb(), e.cust.ID, job.ID, &buf))
	td.Cmp(t, buf.String(), "\ufeffrow;userPrincipalName;outcome;changes;error\r\n2;"+upn(45)+";ok;added Office 365 E3 (ENTERPRISEPACK);\r\n",
		"the file's delimiter")

}

// fakeStager records the users staged.
type fakeStager struct {
	mu  sync.Mutex
	req []staging.StageRequest
}

func (f *fakeStager) Stage(_ context.Context, r staging.StageRequest) (domain.Staging, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.req = append(f.req, r)
	return domain.Staging{CustomerID: r.CustomerID, UserID: r.UserID, Status: domain.StagingStaged}, nil
}

// A number Teams cannot take yet (the user is not in Teams: provisioning lags licensing) goes to staging with the
// number and the site, its reservation kept; without staging, the row fails and the number is free again. A user
// who gains a Teams licence and gets no number is staged too.
func TestNumberWaitsForTeams(t *testing.T) {
	e := newEnv(t, 0)
	td.Require(t).CmpNoError(e.sim.SetTeamsProvisioningDelay(time.Hour))
	stager := &fakeStager{}
	e.svc.Staging = stager
	job := e.upload(upn(41)+",ENTERPRISEPACK;MCOEV,,+14255550141,,London,", upn(42)+",ENTERPRISEPACK,,,,Paris,")
	_ = must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	e.drain()
	td.Cmp(t, e.job(job.ID).BulkJob, td.SuperJSONOf(`{"status":"completed","staged":1,"applied":1}`))
	res := e.results(job.ID)
	td.Cmp(t, res["2"][1], "staged")
	td.Cmp(t, res["2"][2], td.All(td.HasPrefix("added Office 365 E3 (ENTERPRISEPACK), Microsoft Teams Phone Standard (MCOEV); number +14255550141 waits for Teams"),
		td.HasSuffix(": staged")))
	td.Cmp(t, res["3"][1:3], []string{"ok", "added Office 365 E3 (ENTERPRISEPACK); site Paris; staged for Teams provisioning"})
	td.Cmp(t, stager.req, td.Bag(
		staging.StageRequest{CustomerID: e.cust.ID, UserID: e.users["41"], Reason: bulkjob.StageReason, Actor: "job:bulk/" + admin, SiteID: e.london.ID,
			Number: "+14255550141", TemplateApplied: true},
		staging.StageRequest{CustomerID: e.cust.ID, UserID: e.users["42"], Reason: bulkjob.StageReason, Actor: "job:bulk/" + admin, SiteID: e.paris.ID,
			TemplateApplied: true},
	))
	n := must(e.st.GetNumber(ctxb(), e.cust.ID, "+14255550141"))(t)
	td.Cmp(t, n, td.SuperJSONOf(`{"status":"reserved"}`), "kept for staging")
	td.Cmp(t, n.UserID, e.users["41"])

	// Without staging.
	e.svc.Staging = nil
	job = e.upload(upn(43) + ",ENTERPRISEPACK;MCOEV,,+14255550143,,,")
	_ = must(e.svc.Start(ctxb(), e.cust.ID, job.ID, admin, false))(t)
	e.drain()
	res = e.results(job.ID)
	td.Cmp(t, res["2"][1:3], []string{"failed", "added Office 365 E3 (ENTERPRISEPACK), Microsoft Teams Phone Standard (MCOEV)"})
	td.Cmp(t, res["2"][3], td.HasPrefix("number +14255550143 not assigned yet: "))
	td.Cmp(t, e.direct(43), map[string][]string{e3: nil, phone: nil}, "the licences stay")
	n = must(e.st.GetNumber(ctxb(), e.cust.ID, "+14255550143"))(t)
	td.Cmp(t, n.Status, domain.NumberAvailable, "the reservation is cancelled")
}
