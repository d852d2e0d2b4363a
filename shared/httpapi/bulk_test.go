package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/helpers/tdhttp"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/bulkjob"
	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/devauth"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

// newTestBulk is the mass-configuration service as the app wires it: over the store, the bulk licence path, the
// number inventory, the jobs queue and the reports bucket (with presigned uploads), in the local stack.
func newTestBulk(st *store.Store, cfg aws.Config, stack *localaws.Stack, lic bulkjob.Licensing, nums *numbers.Service) *bulkjob.Service {
	s3c := s3.NewFromConfig(cfg)
	return &bulkjob.Service{Store: st, Licensing: lic, Numbers: nums,
		Queue: queue.NewSender(sqs.NewFromConfig(cfg), stack.JobsQueueURL), Files: s3c, Presigner: s3.NewPresignClient(s3c),
		Bucket: stack.ReportsBucket, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

const bulkTenant = "3b7e1d2c-5a4f-4e6d-8c9b-0a1f2e3d4c5b"

// bulkAPI is the API with the mass-configuration service over a simulated tenant of users user01…user08@bulk.example
// (usage location GB; user01 holds Office 365 E3 directly) with Office 365 E3 and Teams Phone (20 seats each),
// registered as customer id, a site London with the numbers +442071830100…109 (extensions their last three digits)
// in the inventory and in Teams. Users appear in Teams as soon as they are licensed.
type bulkAPI struct {
	*testAPI
	t     *testing.T
	sim   *graphsim.Sim
	svc   *bulkjob.Service
	s3    *s3.Client
	id    string
	users map[int]string // n → user id (lower case)
}

func newBulkAPI(t *testing.T) *bulkAPI {
	t.Helper()
	ctx := context.Background()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sqsClient := sqs.NewFromConfig(cfg)
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{{ID: bulkTenant, Name: "Bulk", Domain: "bulk.example",
		UsageLocation: "GB", SKUs: []graphsim.SKUSpec{{PartNumber: "ENTERPRISEPACK", Enabled: 20}, {PartNumber: "MCOEV", Enabled: 20}}}}})
	run := sim.StartForTest(t)
	td.Require(t).CmpNoError(sim.SetTeamsProvisioningDelay(0))
	td.Require(t).CmpNoError(sim.SetNumberOperationPacing(1, 0))
	g, err := graph.New(graph.Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6, OperationPollInterval: 10 * time.Millisecond})
	td.Require(t).CmpNoError(err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokens := devauth.NewIssuer()
	lic := &licensing.Service{Store: st, Graph: g, Log: quiet}
	bulkLic := &licensing.Bulk{Store: st, Graph: g, Log: quiet}
	nums := &numbers.Service{Store: st, Graph: g, Log: quiet}
	syncSvc := &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL), Log: quiet, FullEvery: time.Nanosecond}
	stg := &staging.Service{Store: st, Graph: g, Licensing: lic, Numbers: nums, Log: quiet, Queue: queue.NewSender(sqsClient, stack.StagingQueueURL)}
	svc := newTestBulk(st, cfg, stack, bulkLic, nums)
	svc.Staging = stg
	deps := Deps{
		Store: st, Sync: syncSvc, Claims: tokens.Claims, Version: "test", Log: quiet,
		Licensing: lic, Templates: &licensing.Templates{Store: st, Bulk: bulkLic}, Sites: &sites.Service{Store: st},
		Numbers: nums, Staging: stg, Bulk: svc,
	}
	ta := &testAPI{TestAPI: tdhttp.NewTestAPI(t, New(deps)), store: st, tokens: tokens, sqs: sqsClient, stack: stack, api: &api{Deps: deps}}
	b := &bulkAPI{testAPI: ta, t: t, sim: sim, svc: svc, s3: s3.NewFromConfig(cfg), id: ta.createCustomer("Bulk", bulkTenant), users: map[int]string{}}

	for i := 1; i <= 8; i++ {
		u, err := sim.AddUser(bulkTenant, graphsim.NewUser{DisplayName: fmt.Sprintf("User %02d", i), UserPrincipalName: bulkUPN(i), UsageLocation: "GB"})
		td.Require(t).CmpNoError(err)
		b.users[i] = strings.ToLower(u.ID)
		if i == 1 {
			td.Require(t).CmpNoError(sim.AssignDirectLicense(bulkTenant, u.ID, "ENTERPRISEPACK", nil))
		}
	}
	td.Require(t).CmpNoError(syncSvc.SyncCustomer(ctx, b.id, "test"))
	td.Require(t).CmpNoError(st.CreateSite(ctx, domain.Site{ID: "site-lon", CustomerID: b.id, Name: "London", Order: 1, Version: 1,
		CreatedAt: time.Now().UTC()}, "test"))
	_, err = nums.Add(ctx, b.id, "test", numbers.AddInput{From: "+442071830100", To: "+442071830109", Type: domain.NumberDirectRouting,
		SiteID: "site-lon", ExtensionDigits: 3})
	td.Require(t).CmpNoError(err)
	for i := range 10 {
		td.Require(t).CmpNoError(sim.AddNumbers(bulkTenant, graphsim.PhoneNumber{TelephoneNumber: fmt.Sprintf("+4420718301%02d", i),
			NumberType: graphsim.NumberDirectRouting}))
	}
	return b
}

func bulkUPN(n int) string { return fmt.Sprintf("user%02d@bulk.example", n) }

func (b *bulkAPI) path(rest string) string { return "/api/v1/customers/" + b.id + rest }

func (b *bulkAPI) adminH() http.Header  { return b.bearer("customer-admin", b.id) }
func (b *bulkAPI) viewerH() http.Header { return b.bearer("viewer", b.id) }

// direct returns the SKUs user n holds directly in the simulated tenant.
func (b *bulkAPI) direct(n int) []string {
	b.t.Helper()
	u, err := b.sim.User(bulkTenant, b.users[n])
	td.Require(b.t).CmpNoError(err)
	var out []string
	for _, l := range u.Licenses {
		if l.AssignedByGroup == "" {
			p, _ := catalog.Lookup(l.SkuID)
			out = append(out, p.PartNumber)
		}
	}
	return out
}

// holderOf returns who holds a number in the simulated Teams ("" = nobody).
func (b *bulkAPI) holderOf(number string) string {
	b.t.Helper()
	nums, err := b.sim.Numbers(bulkTenant)
	td.Require(b.t).CmpNoError(err)
	for _, n := range nums {
		if n.TelephoneNumber == number {
			return strings.ToLower(n.AssignmentTargetID)
		}
	}
	return ""
}

// work is the jobs-queue consumer: it takes the bulk messages off the queue and hands them to the worker, until none
// is left; it returns how many it handled.
func work(t *testing.T, ta *testAPI, svc *bulkjob.Service) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for range 50 {
		out, err := ta.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &ta.stack.JobsQueueURL, MaxNumberOfMessages: 10})
		td.Require(t).CmpNoError(err)
		if len(out.Messages) == 0 {
			return n
		}
		for _, m := range out.Messages {
			var msg bulkjob.Message
			td.Require(t).CmpNoError(json.Unmarshal([]byte(*m.Body), &msg))
			if msg.Type == bulkjob.JobType {
				td.Require(t).CmpNoError(svc.HandleJob(ctx, msg.CustomerID, msg.JobID))
				n++
			}
			_, err := ta.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &ta.stack.JobsQueueURL, ReceiptHandle: m.ReceiptHandle})
			td.Require(t).CmpNoError(err)
		}
	}
	t.Fatal("the jobs queue never emptied")
	return n
}

// multipartBody is a multipart/form-data body with the given parts (field → file name and content).
func multipartBody(t *testing.T, parts ...[3]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var fw io.Writer
		var err error
		if p[1] != "" {
			fw, err = w.CreateFormFile(p[0], p[1])
		} else {
			fw, err = w.CreateFormField(p[0])
		}
		td.Require(t).CmpNoError(err)
		_, _ = io.WriteString(fw, p[2])
	}
	td.Require(t).CmpNoError(w.Close())
	return &buf, w.FormDataContentType()
}

// A file with errors is stored as an invalid job, its problems at their rows and columns, and cannot be started;
// the file fixed is uploaded again (as a multipart form), previewed, started, applied by the worker from the jobs
// queue to the end, and its results downloaded.
func TestBulkUploadFixPreviewApply(t *testing.T) {
	b := newBulkAPI(t)
	admin, viewer := b.adminH(), b.viewerH()
	jobJSON := func(status string) td.TestDeep {
		return td.SuperJSONOf(`{"customerId":$1,"id":$2,"status":$3,"createdBy":"user-customer-admin","progress":$4}`,
			b.id, td.NotEmpty(), status, td.NotNil())
	}

	// The sample, for any role.
	b.Get(b.path("/bulk/sample.csv"), viewer).CmpStatus(200).
		CmpHeader(td.SuperMapOf(http.Header{"Content-Type": {"text/csv; charset=utf-8"},
			"Content-Disposition": {`attachment; filename=seatwise-bulk-sample.csv`}}, nil)).
		CmpBody(string(bulkcsv.Sample()))
	b.Get("/api/v1/customers/nope/bulk/sample.csv", b.admin()).CmpStatus(404)

	// A file with errors: the request body, named by ?filename=.
	bad := "userPrincipalName,licences,number,extension,site\n" +
		"nobody@bulk.example,ENTERPRISEPACK,,,\n" + // 2: no such user
		bulkUPN(2) + ",SPE_E5,,,\n" + // 3: not one of the customer's licences
		bulkUPN(3) + ",ENTERPRISEPACK,+442071830100,,Paris\n" + // 4: no such site
		bulkUPN(4) + ",ENTERPRISEPACK;MCOEV,tel:+442071830101,,London\n" // 5: valid
	var badID string
	b.Post(b.path("/bulk?filename=mass.csv"), strings.NewReader(bad), "Content-Type", "text/csv; charset=utf-8", admin).
		CmpStatus(201).
		CmpJSONBody(td.All(jobJSON("invalid"), td.SuperJSONOf(`{"id":$1,"filename":"mass.csv","rows":4,"validRows":1,"invalidRows":3,
			"problems":3,"problemsListed":3,"delimiter":","}`, td.Catch(&badID, td.NotEmpty()))))
	var problems struct {
		Items      []bulkjob.Problem `json:"items"`
		NextCursor string            `json:"nextCursor"`
	}
	b.Get(b.path("/bulk/"+badID+"/problems"), viewer).CmpStatus(200).CmpJSONBody(td.Catch(&problems, td.Ignore()))
	type rc struct {
		Row    int
		Column string
	}
	var got []rc
	for _, p := range problems.Items {
		got = append(got, rc{p.Row, p.Column})
	}
	td.Cmp(t, got, []rc{{2, "userPrincipalName"}, {3, "licences"}, {4, "site"}})
	td.Cmp(t, problems.Items[0].Message, td.Contains("is not a user of Bulk"))
	td.Cmp(t, problems.Items[1].Value, "SPE_E5")
	td.Cmp(t, problems.NextCursor, "")
	b.Get(b.path("/bulk/"+badID+"/problems?limit=2"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"items":$1,"nextCursor":$2}`, td.Len(2), td.NotEmpty()))
	b.PostJSON(b.path("/bulk/"+badID+"/start"), map[string]any{}, admin).CmpStatus(409).
		CmpJSONBody(td.JSON(`{"error":{"code":"conflict","message":$1,"fields":{"onlyValid":"the file has problems"}}}`,
			td.Contains("apply only the 1 valid row(s)")))
	td.Cmp(t, work(t, b.testAPI, b.svc), 0, "nothing queued")
	b.Get(b.path("/bulk/"+badID), viewer).CmpStatus(200).CmpJSONBody(jobJSON("invalid"))
	td.Cmp(t, b.direct(4), td.Empty(), "nothing applied")

	// The file fixed, as a multipart form (semicolons, a byte order mark), named by its part.
	fixed := "\ufeffuserPrincipalName;licences;number;extension;site\r\n" +
		bulkUPN(2) + ";ENTERPRISEPACK;;;\r\n" +
		bulkUPN(3) + ";\"ENTERPRISEPACK;MCOEV\";+442071830100;;London\r\n" +
		bulkUPN(4) + ";\"ENTERPRISEPACK;MCOEV\";tel:+442071830101;201;London\r\n" +
		bulkUPN(1) + ";ENTERPRISEPACK;;;\r\n"
	body, ct := multipartBody(t, [3]string{"file", `C:\Users\me\mass-fixed.csv`, fixed})
	var jobID string
	b.Post(b.path("/bulk"), body, "Content-Type", ct, admin).CmpStatus(201).
		CmpJSONBody(td.All(jobJSON("validated"), td.SuperJSONOf(`{"id":$1,"filename":"mass-fixed.csv","rows":4,"validRows":4,
			"invalidRows":0,"problems":0,"delimiter":";"}`, td.Catch(&jobID, td.NotEmpty()))))

	// Preview: two pages, the licence totals against the seats free.
	var pre bulkjob.Preview
	b.Get(b.path("/bulk/"+jobID+"/preview?limit=3"), viewer).CmpStatus(200).CmpJSONBody(td.Catch(&pre, td.Ignore()))
	td.Cmp(t, pre.Job.ID, jobID)
	td.Cmp(t, len(pre.Rows), 3)
	td.Cmp(t, pre.Seats, td.Bag(
		td.SuperJSONOf(`{"partNumber":"ENTERPRISEPACK","needed":3,"neededValid":3,"available":19,"short":0}`),
		td.SuperJSONOf(`{"partNumber":"MCOEV","needed":2,"neededValid":2,"available":20,"short":0}`)))
	td.Cmp(t, pre.Rows[1], td.SuperJSONOf(`{"row":3,"userPrincipalName":$1,"userId":$2,"displayName":"User 03","valid":true,
		"unchanged":false}`, bulkUPN(3), b.users[3]))
	var added []string
	for _, l := range pre.Rows[1].Changes.Add {
		added = append(added, l.PartNumber)
	}
	td.Cmp(t, added, []string{"ENTERPRISEPACK", "MCOEV"})
	td.Cmp(t, pre.Rows[1].Changes.Remove, []bulkjob.LicenceRef{})
	td.Cmp(t, pre.Rows[1].Changes.Number, &bulkjob.ValueChange{To: "+442071830100"})
	td.Cmp(t, pre.Rows[1].Changes.Site, &bulkjob.ValueChange{To: "London"})
	td.Cmp(t, pre.Rows[2].Changes.Extension, &bulkjob.ValueChange{From: "101", To: "201"})
	b.Get(b.path("/bulk/"+jobID+"/preview?cursor="+pre.NextCursor), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"rows":[$1],"nextCursor":""}`, td.SuperJSONOf(`{"row":5,"valid":true,"unchanged":true}`)))

	// Start: customer admins only, once.
	b.PostJSON(b.path("/bulk/"+jobID+"/start"), map[string]any{}, viewer).CmpStatus(403)
	b.PostJSON(b.path("/bulk/"+jobID+"/start"), map[string]any{"onlyValid": false, "all": true}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"all":"unknown field"}`)))
	b.PostJSON(b.path("/bulk/"+jobID+"/start"), map[string]any{"onlyValid": false}, admin).CmpStatus(202).
		CmpJSONBody(td.All(jobJSON("queued"), td.SuperJSONOf(`{"total":4,"startedBy":"user-customer-admin","progress":$1}`,
			td.SuperJSONOf(`{"total":4,"done":0,"failed":0,"remaining":4,"percent":0}`))))
	b.Post(b.path("/bulk/"+jobID+"/start"), nil, admin).CmpStatus(409).CmpJSONBody(errConflict("being applied already"))

	// The worker takes the message off the jobs queue and applies the file to the end.
	td.Cmp(t, work(t, b.testAPI, b.svc), 1)
	b.Get(b.path("/bulk/"+jobID), viewer).CmpStatus(200).
		CmpJSONBody(td.All(jobJSON("completed"), td.SuperJSONOf(`{"applied":3,"unchanged":1,"failed":0,"finishedAt":$1,"progress":$2}`,
			td.NotEmpty(), td.SuperJSONOf(`{"total":4,"done":4,"failed":0,"remaining":0,"percent":100,"secondsLeft":null}`))))
	td.Cmp(t, b.direct(2), []string{"ENTERPRISEPACK"})
	td.Cmp(t, b.direct(3), td.Bag("ENTERPRISEPACK", "MCOEV"))
	td.Cmp(t, b.holderOf("+442071830100"), b.users[3])
	td.Cmp(t, b.holderOf("+442071830101"), b.users[4])
	b.Get(b.path("/numbers/%2B442071830101"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"status":"assigned","userId":$1,"extension":"201"}`, b.users[4]))

	// The results, as pages and as CSV (the file's delimiter; gzip-compressed when the client takes it).
	b.Get(b.path("/bulk/"+jobID+"/results?limit=10"), viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[$1,$2,$3,$4],"nextCursor":""}`,
			td.SuperJSONOf(`{"row":2,"outcome":"ok","changes":"added Office 365 E3 (ENTERPRISEPACK)","error":""}`),
			td.SuperJSONOf(`{"row":3,"outcome":"ok"}`), td.SuperJSONOf(`{"row":4,"outcome":"ok"}`),
			td.SuperJSONOf(`{"row":5,"outcome":"unchanged","userPrincipalName":$1}`, bulkUPN(1))))
	var csvFile string
	var zipped []byte
	b.Get(b.path("/bulk/"+jobID+"/results.csv"), viewer).CmpStatus(200).
		CmpHeader(td.SuperMapOf(http.Header{"Content-Type": {"text/csv; charset=utf-8"},
			"Content-Disposition": {`attachment; filename=mass-fixed-results.csv`}}, nil)).
		CmpBody(td.Catch(&csvFile, td.All(td.HasPrefix("\ufeffrow;userPrincipalName;outcome;changes;error\r\n2;"+bulkUPN(2)+";ok;added Office 365 E3 (ENTERPRISEPACK);\r\n"),
			td.Contains("5;"+bulkUPN(1)+";unchanged;"))))
	b.Get(b.path("/bulk/"+jobID+"/results.csv"), "Accept-Encoding", "gzip, deflate", viewer).CmpStatus(200).
		CmpHeader(td.SuperMapOf(http.Header{"Content-Encoding": {"gzip"}, "Vary": {"Accept-Encoding"}}, nil)).CmpBody(td.Catch(&zipped, td.NotEmpty()))
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	td.Require(t).CmpNoError(err)
	unzipped, err := io.ReadAll(zr)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, string(unzipped), csvFile)

	// The jobs, newest first; an ended job cannot be cancelled.
	b.Get(b.path("/bulk"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"items":[$1,$2],"nextCursor":""}`, td.SuperJSONOf(`{"id":$1,"status":"completed"}`, jobID),
			td.SuperJSONOf(`{"id":$1,"status":"invalid"}`, badID)))
	b.Get(b.path("/bulk?limit=1"), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"items":[$1],"nextCursor":$2}`,
		td.SuperJSONOf(`{"id":$1}`, jobID), td.NotEmpty()))
	b.Post(b.path("/bulk/"+jobID+"/cancel"), nil, admin).CmpStatus(409).CmpJSONBody(errConflict("has ended (completed)"))

	// The file with errors, cancelled without being applied.
	b.Post(b.path("/bulk/"+badID+"/cancel"), nil, viewer).CmpStatus(403)
	b.Post(b.path("/bulk/"+badID+"/cancel"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"status":"cancelled","cancelledBy":"user-customer-admin"}`))
	b.Get(b.path("/audit?limit=50"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"items":$1}`, td.SuperSetOf(td.SuperMapOf(map[string]any{"action": "bulk.upload"}, nil),
			td.SuperMapOf(map[string]any{"action": "bulk.start"}, nil), td.SuperMapOf(map[string]any{"action": "bulk.cancel"}, nil))))
}

// Hostile and malformed uploads are refused with 400 and a message that says what is wrong, and nothing is stored:
// no job, no file in the bucket. Viewers cannot upload.
func TestBulkHostileUploadsStoreNothing(t *testing.T) {
	ta := newTestAPI(t)
	id := ta.createCustomer("Contoso Dental", tenantA)
	admin := ta.bearer("customer-admin", id)
	path := "/api/v1/customers/" + id + "/bulk"
	const header = "userPrincipalName,licences\n"
	overLimit := header + strings.Repeat("a@b.c,x\n", bulkcsv.DefaultMaxBytes/8) // just over 10 MB
	td.Require(t).Cmp(len(overLimit), td.Gt(bulkcsv.DefaultMaxBytes))

	// refused checks a refusal: its message, and its fields (nil: none, the message says it all).
	refused := func(name string, body io.Reader, ct string, msg td.TestDeep, fields td.TestDeep) {
		t.Helper()
		want := td.JSON(`{"error":{"code":"invalid","message":$1}}`, msg)
		if fields != nil {
			want = td.JSON(`{"error":{"code":"invalid","message":$1,"fields":$2}}`, msg, fields)
		}
		ta.Name(name).Post(path+"?filename=x.csv", body, "Content-Type", ct, admin).CmpStatus(400).CmpJSONBody(want)
	}
	var noFields td.TestDeep
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range "userPrincipalName\na@b.c\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	refused("UTF-16", bytes.NewReader(utf16), "text/csv", td.Contains("UTF-16"), noFields)
	refused("over 10 MB", strings.NewReader(overLimit), "text/csv", td.HasPrefix("the file is larger than 10 MB"), noFields)
	refused("over 10 MB, no Content-Length", io.MultiReader(strings.NewReader(overLimit)), "application/octet-stream",
		td.HasPrefix("the file is larger than 10 MB"), noFields)
	refused("over the route's limit", strings.NewReader(overLimit+strings.Repeat("x", uploadOverhead)), "text/csv",
		td.HasPrefix("the file is larger than 10 MB"), td.JSON(`{"file":"larger than 10 MB"}`))
	mp, ct := multipartBody(t, [3]string{"file", "big.csv", overLimit})
	refused("over 10 MB, multipart", mp, ct, td.HasPrefix("the file is larger than 10 MB"), noFields)
	refused("10,000 columns", strings.NewReader("userPrincipalName"+strings.Repeat(",c", 10_000)+"\na@b.c\n"), "text/csv",
		td.Contains("has 10,001 columns"), noFields)
	refused("duplicate headers", strings.NewReader("userPrincipalName,licences,Licences\na@b.c,x,y\n"), "text/csv",
		td.HasPrefix("header row:"), noFields)
	refused("stray quote", strings.NewReader("userPrincipalName,licences\na@b.c,\"x\"y\n"), "text/csv", td.Contains("quote"), noFields)
	refused("an Excel workbook", strings.NewReader("PK\x03\x04rest"), "application/vnd.ms-excel", td.Contains("Excel workbook"), noFields)
	refused("empty", strings.NewReader(""), "text/csv", td.Contains("no file was sent"), td.JSON(`{"file":"required"}`))
	refused("JSON", strings.NewReader(`{"file":"x"}`), "application/json", td.Contains("send the CSV file"), td.JSON(`{"body":$1}`, td.Contains("application/json")))
	mp, ct = multipartBody(t, [3]string{"other", "", "x"})
	refused("multipart, unknown field", mp, ct, td.HasPrefix("unknown field other"), td.JSON(`{"other":"unknown field"}`))
	mp, ct = multipartBody(t, [3]string{"file", "a.csv", header + "a@b.c,x\n"}, [3]string{"file", "b.csv", header + "a@b.c,x\n"})
	refused("multipart, two files", mp, ct, td.String("one file per upload"), td.JSON(`{"file":"sent more than once"}`))
	mp, ct = multipartBody(t)
	refused("multipart, no file", mp, ct, td.Contains("no file was sent"), td.JSON(`{"file":"required"}`))
	refused("multipart, no boundary", strings.NewReader("x"), "multipart/form-data", td.Contains("multipart body cannot be read"),
		td.JSON(`{"body":"a multipart/form-data body with a boundary"}`))

	ta.Post(path, strings.NewReader(header+"a@b.c,x\n"), "Content-Type", "text/csv", ta.bearer("viewer", id)).CmpStatus(403)
	ta.Post("/api/v1/customers/nope/bulk", strings.NewReader(header+"a@b.c,x\n"), "Content-Type", "text/csv", ta.admin()).CmpStatus(404)

	ta.Get(path, admin).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[],"nextCursor":""}`))
	objs, err := ta.api.Bulk.Files.(*s3.Client).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
		Bucket: aws.String(ta.stack.ReportsBucket), Prefix: aws.String("uploads/")})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, objs.Contents, td.Empty(), "no file kept")

	// Other routes keep the API's small limit.
	ta.Post("/api/v1/customers/"+id+"/bulk/from-upload", strings.NewReader(`{"key":"`+strings.Repeat("x", maxBody)+`"}`),
		"Content-Type", "application/json", admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"body":"larger than the limit of this route"}`)))
}

// A file larger than an API request takes is put by the browser to a presigned URL of the bucket, then validated
// from there; paging parameters and keys are checked.
func TestBulkUploadThroughPresignedURL(t *testing.T) {
	ta := newTestAPI(t)
	id := ta.createCustomer("Contoso Dental", tenantA)
	_, err := ta.store.ApplyUsers(context.Background(), id, []domain.User{{CustomerID: id, ID: "u1", DisplayName: "U One",
		UserPrincipalName: "u1@example.com", Status: domain.UserActive}}, nil, time.Now())
	td.Require(t).CmpNoError(err)
	admin, viewer := ta.bearer("customer-admin", id), ta.bearer("viewer", id)
	path := "/api/v1/customers/" + id + "/bulk"

	ta.Post(path+"/upload-url", nil, viewer).CmpStatus(403)
	ta.PostJSON(path+"/upload-url", map[string]any{"size": 1}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"size":"unknown field"}`)))
	var u bulkjob.UploadURL
	ta.Post(path+"/upload-url", nil, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"url":$1,"method":"PUT","headers":$2,"key":$3,"expiresAt":$4}`, td.HasPrefix("http"),
			td.SuperMapOf(map[string]any{"Content-Type": "text/csv; charset=utf-8"}, nil), td.Re(`^uploads/`+id+`/incoming/[0-9a-f-]{36}\.csv$`),
			td.NotEmpty()))
	ta.Post(path+"/upload-url", nil, admin).CmpStatus(200).CmpJSONBody(td.Catch(&u, td.Ignore()))
	req, err := http.NewRequest(u.Method, u.URL, strings.NewReader("userPrincipalName;licences\r\nu1@example.com;\r\n"))
	td.Require(t).CmpNoError(err)
	for k, v := range u.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Require(t).Cmp(resp.StatusCode, 200)

	ta.PostJSON(path+"/from-upload", map[string]any{"key": u.Key, "filename": "big.csv"}, viewer).CmpStatus(403)
	ta.PostJSON(path+"/from-upload", map[string]any{"filename": "big.csv"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"key":$1}`, td.HasPrefix("required"))))
	ta.PostJSON(path+"/from-upload", map[string]any{"key": "uploads/other/incoming/x.csv", "filename": "x.csv"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"key":"not an upload of this customer"}`)))
	ta.PostJSON(path+"/from-upload", map[string]any{"key": "uploads/" + id + "/incoming/none.csv", "filename": "x.csv"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"key":"no file was uploaded there"}`)))
	var jobID string
	ta.PostJSON(path+"/from-upload", map[string]any{"key": u.Key, "filename": "big.csv"}, admin).CmpStatus(201).
		CmpJSONBody(td.SuperJSONOf(`{"id":$1,"status":"validated","rows":1,"filename":"big.csv","delimiter":";","columns":["userPrincipalName","licences"]}`,
			td.Catch(&jobID, td.NotEmpty())))

	// Paging and ids.
	for _, q := range []string{"/problems", "/preview", "/results"} {
		ta.Get(path+"/"+jobID+q+"?limit=500", viewer).CmpStatus(200)
		ta.Get(path+"/"+jobID+q+"?limit=501", viewer).CmpStatus(400).
			CmpJSONBody(errFields("invalid", td.JSON(`{"limit":"must be a whole number from 1 to 500"}`)))
		ta.Get(path+"/"+jobID+q+"?limit=0", viewer).CmpStatus(400)
		ta.Get(path+"/"+jobID+q+"?cursor=nope", viewer).CmpStatus(400).
			CmpJSONBody(errFields("invalid", td.JSON(`{"cursor":"not a cursor returned by this API"}`)))
		ta.Get(path+"/nope"+q, viewer).CmpStatus(404)
	}
	ta.Get(path+"/nope", viewer).CmpStatus(404)
	ta.Get(path+"/nope/results.csv", viewer).CmpStatus(404).
		CmpJSONBody(td.JSON(`{"error":{"code":"not_found","message":"bulk job nope not found"}}`))
	ta.Get(path+"?limit=201", viewer).CmpStatus(400)
	ta.Post(path+"/nope/start", nil, admin).CmpStatus(404)
	ta.Post(path+"/"+jobID+"/start", strings.NewReader(`{"onlyValid":"yes"}`), "Content-Type", "application/json", admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"onlyValid":"must be a bool"}`)))
	// A job still pending has its rows' results pending.
	ta.Get(path+"/"+jobID+"/results", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[{"row":2,"userPrincipalName":"u1@example.com","userId":"u1","outcome":"pending","changes":$1,"error":""}],"nextCursor":""}`, td.Ignore()))
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "br, gzip ; q=0": false, "gzip;q=0.000": false,
		"identity": false, "x-gzip": false,
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			r.Header.Set("Accept-Encoding", header)
		}
		td.Cmp(t, acceptsGzip(r), want, "Accept-Encoding: %q", header)
	}
}
