package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/helpers/tdhttp"
	"github.com/maxatome/go-testdeep/td"
	"gopkg.in/yaml.v3"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/devauth"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// testAPI is the API over a real store (DynamoDB in moto) and real queues, with locally signed tokens.
type testAPI struct {
	*tdhttp.TestAPI
	store  *store.Store
	tokens *devauth.Issuer
	sqs    *sqs.Client
	stack  *localaws.Stack
	api    *api
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sqsClient := sqs.NewFromConfig(cfg)
	tokens := devauth.NewIssuer()
	nums := &numbers.Service{Store: st, Graph: noGraph{}}
	deps := Deps{
		Store:   st,
		Sync:    &tenantsync.Service{Store: st, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL)},
		Claims:  tokens.Claims,
		Version: "test",
		// No Graph: licence routes run up to their checks (a user without licences offboards without Graph); the
		// number and staging routes up to their first Graph call, which fails.
		Licensing: &licensing.Service{Store: st},
		Templates: &licensing.Templates{Store: st, Bulk: &licensing.Bulk{Store: st}},
		Sites:     &sites.Service{Store: st},
		Numbers:   nums,
		Staging: &staging.Service{Store: st, Graph: noGraph{}, Licensing: &licensing.Service{Store: st}, Numbers: nums,
			Queue: queue.NewSender(sqsClient, stack.StagingQueueURL)},
		Usage:   &usageaudit.Service{Store: st, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL)},
		Bulk:    newTestBulk(st, cfg, stack, &licensing.Bulk{Store: st}, nums),
		Exports: newTestExports(st, cfg, stack),
	}
	return &testAPI{TestAPI: tdhttp.NewTestAPI(t, New(deps)), store: st, tokens: tokens, sqs: sqsClient, stack: stack,
		api: &api{Deps: deps}}
}

// noGraph stands for Microsoft Graph in tests without the simulator: every call fails as an unreachable Graph would.
type noGraph struct{}

func errNoGraph() error { return domain.Errorf(domain.EUpstream, "no Microsoft Graph in this test") }

func (noGraph) ListNumbers(context.Context, string, graph.NumberFilter) ([]graph.Number, error) {
	return nil, errNoGraph()
}
func (noGraph) AssignNumber(context.Context, string, graph.NumberAssignment) error {
	return errNoGraph()
}
func (noGraph) UnassignNumber(context.Context, string, string, string) error { return errNoGraph() }
func (noGraph) TeamsReady(context.Context, string, string) (bool, graph.TeamsUserConfig, error) {
	return false, graph.TeamsUserConfig{}, errNoGraph()
}

func (ta *testAPI) bearer(role auth.Role, scope ...string) http.Header {
	tok, err := ta.tokens.Token("user-"+string(role), "Test "+string(role), role, scope)
	if err != nil {
		panic(err)
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func (ta *testAPI) admin() http.Header { return ta.bearer(auth.ProviderAdmin, auth.AllCustomers) }

// createCustomer adds a customer through the API and returns its id.
func (ta *testAPI) createCustomer(name, tenant string) string {
	var id string
	ta.PostJSON("/api/v1/customers", map[string]any{"name": name, "tenantId": tenant}, ta.admin()).
		CmpStatus(http.StatusCreated).
		CmpJSONBody(td.SuperJSONOf(`{"id": $1, "name": $2, "tenantId": $3, "sync": $4}`,
			td.Catch(&id, td.NotEmpty()), name, tenant, td.SuperMapOf(map[string]any{"status": "never"}, nil)))
	return id
}

const tenantA = "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"

func TestHealthNeedsNoToken(t *testing.T) {
	ta := newTestAPI(t)
	ta.Get("/api/v1/health").CmpStatus(200).CmpJSONBody(td.JSON(`{"status":"ok","version":"test"}`))
	ta.Get("/api/v1/nope").CmpStatus(404).CmpJSONBody(td.JSON(`{"error":{"code":"not_found","message":"no such route"}}`))
}

func TestCreateCustomerRejectsBadInputAndStoresNothing(t *testing.T) {
	ta := newTestAPI(t)
	ta.createCustomer("Contoso Dental", tenantA)

	cases := []struct {
		name, body string
		status     int
		fields     any
	}{
		{"empty name", `{"name":"  ","tenantId":"a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}`, 400, td.JSON(`{"name":"required"}`)},
		{"tenant not a GUID", `{"name":"X","tenantId":"contoso.onmicrosoft.com"}`, 400, td.JSON(`{"tenantId":"must be a GUID such as 00000000-0000-0000-0000-000000000000"}`)},
		{"both wrong", `{"name":"","tenantId":""}`, 400, td.JSON(`{"name":"required","tenantId":"required"}`)},
		{"unknown field", `{"name":"X","tenantId":"a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d","plan":"gold"}`, 400, td.JSON(`{"plan":"unknown field"}`)},
		{"wrong type", `{"name":"X","tenantId":"a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d","publicSector":"yes"}`, 400, td.JSON(`{"publicSector":"must be a bool"}`)},
		{"malformed", `{"name":`, 400, td.SuperMapOf(map[string]any{"body": td.NotEmpty()}, nil)},
		{"empty body", ``, 400, td.JSON(`{"body":"a JSON object is required"}`)},
		{"two values", `{"name":"X","tenantId":"a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"} {}`, 400, td.JSON(`{"body":"trailing data after the JSON object"}`)},
		{"oversized", `{"name":"` + strings.Repeat("x", maxBody) + `","tenantId":"a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}`, 400, td.SuperMapOf(map[string]any{"body": td.NotEmpty()}, nil)},
		{"duplicate tenant (upper case)", `{"name":"Other","tenantId":"` + strings.ToUpper(tenantA) + `"}`, 409, td.JSON(`{"tenantId":"this Microsoft tenant is already registered as a customer"}`)},
	}
	for _, c := range cases {
		ta.Name(c.name).Post("/api/v1/customers", strings.NewReader(c.body), "Content-Type", "application/json", ta.admin()).
			CmpStatus(c.status).
			CmpJSONBody(td.JSON(`{"error":{"code":$1,"message":$2,"fields":$3}}`,
				map[int]string{400: "invalid", 409: "conflict"}[c.status], td.NotEmpty(), c.fields))
	}
	page, err := ta.store.ListCustomers(context.Background(), "", 50)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Len(1), "only the first customer is stored")
}

func TestCustomersPageWithCursor(t *testing.T) {
	ta := newTestAPI(t)
	for i := range 5 {
		ta.createCustomer(fmt.Sprintf("Customer %d", i), fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i))
	}
	var names []string
	cursor := ""
	for range 3 {
		var page store.Page[domain.Customer]
		ta.Get("/api/v1/customers?limit=2&cursor="+cursor, ta.admin()).CmpStatus(200).
			CmpJSONBody(td.Smuggle(func(p store.Page[domain.Customer]) store.Page[domain.Customer] { page = p; return p }, td.Ignore()))
		for _, c := range page.Items {
			names = append(names, c.Name)
		}
		cursor = page.NextCursor
	}
	td.Cmp(t, names, []string{"Customer 0", "Customer 1", "Customer 2", "Customer 3", "Customer 4"})
	td.Cmp(t, cursor, "")

	ta.Get("/api/v1/customers?cursor=not-ours", ta.admin()).CmpStatus(400).
		CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"invalid input","fields":{"cursor":"not a cursor returned by this API"}}}`))
	for _, limit := range []string{"0", "201", "x"} {
		ta.Get("/api/v1/customers?limit="+limit, ta.admin()).CmpStatus(400).
			CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"invalid input","fields":{"limit":"must be a whole number from 1 to 200"}}}`))
	}
}

func TestSyncNowQueuesAJob(t *testing.T) {
	ta := newTestAPI(t)
	id := ta.createCustomer("Contoso Dental", tenantA)
	ta.Post("/api/v1/customers/"+id+"/sync", nil, ta.admin()).CmpStatus(202).
		CmpJSONBody(td.SuperJSONOf(`{"id":$1,"sync":$2}`, id, td.SuperMapOf(map[string]any{"status": "queued"}, nil)))

	out, err := ta.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &ta.stack.JobsQueueURL, MaxNumberOfMessages: 10})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, out.Messages, td.Len(1))
	td.Cmp(t, json.RawMessage(*out.Messages[0].Body), td.Smuggle(unmarshalAny, td.JSON(`{"type":"sync","customerId":$1,"requestedBy":"user-provider-admin"}`, id)))

	ta.Post("/api/v1/customers/nope/sync", nil, ta.admin()).CmpStatus(404)
}

// authNumber is the number of TestAuthorization's number routes (sent as %2B…).
const authNumber = "+441632960001"

// TestAuthorization checks every route × role × scope: no token → 401; a customer outside the scope → 404; a
// role below the route's → 403; a route that changes every customer (policy all) without a scope of every
// customer → 403; otherwise the route runs. (The routes without a customer in the path that read customers' data,
// GET /usage/history and GET /alerts, run for every caller and answer for the caller's scope: usage_test.go checks
// what each scope sees.)
func TestAuthorization(t *testing.T) {
	ta := newTestAPI(t)
	own := ta.createCustomer("Own", tenantA)
	other := ta.createCustomer("Other", "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
	for _, id := range []string{own, other} {
		_, err := ta.store.ApplyUsers(context.Background(), id, []domain.User{{CustomerID: id, ID: "u1", DisplayName: "U One",
			UserPrincipalName: "u1@example.com", Status: domain.UserActive}}, nil, time.Now())
		td.Require(t).CmpNoError(err)
		// A template "t1" for the template routes (whose writes, sent an empty body, stop at validation).
		td.Require(t).CmpNoError(ta.store.CreateTemplate(context.Background(), domain.Template{ID: "t1", CustomerID: id,
			Name: "T1", Licences: []domain.AssignedLicense{}, Version: 1, CreatedAt: time.Now()}, "test"))
		// A site "s1", an available number and a staged u1 for the site, number and staging routes.
		td.Require(t).CmpNoError(ta.store.CreateSite(context.Background(), domain.Site{ID: "s1", CustomerID: id, Name: "S1",
			Version: 1, CreatedAt: time.Now()}, "test"))
		_, _, err = ta.store.AddNumbers(context.Background(), id, []domain.Number{{CustomerID: id, Number: authNumber,
			Type: domain.NumberDirectRouting, SiteID: "s1", Status: domain.NumberAvailable, Source: numbers.SourceManual}}, "test", time.Now())
		td.Require(t).CmpNoError(err)
		_, _, err = ta.store.StageUser(context.Background(), domain.Staging{CustomerID: id, UserID: "u1", DisplayName: "U One",
			Status: domain.StagingStaged, Reason: staging.ReasonManual, StagedAt: time.Now(), Deadline: time.Now().Add(time.Hour)})
		td.Require(t).CmpNoError(err)
		// A validated mass-configuration job "j1" for the bulk routes.
		_, err = ta.store.CreateBulkJob(context.Background(), store.BulkJob{CustomerID: id, ID: "j1", Filename: "j1.csv",
			Status: store.BulkValidated, CreatedBy: "test", CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil)
		td.Require(t).CmpNoError(err)
	}
	// A month exported for the export routes (whose run, once queued, holds the month: 409 after the first).
	month := ta.seedExport(t)

	roles := []auth.Role{auth.Viewer, auth.CustomerAdmin, auth.ProviderAdmin}
	for _, r := range ta.api.routes() {
		for _, role := range roles {
			for scopeName, scope := range map[string][]string{"all": {auth.AllCustomers}, "own": {own}} {
				for target, id := range map[string]string{"own": own, "other": other} {
					path := strings.ReplaceAll(strings.ReplaceAll(Prefix+r.path, ":id", id), ":userId", "u1")
					path = strings.NewReplacer(":templateId", "t1", ":siteId", "s1", ":jobId", "j1", ":number", url.PathEscape(authNumber),
						":month", month, ":name", export.FileName(month, export.KindAnonymised)).Replace(path)
					name := fmt.Sprintf("%s %s as %s scope %s on %s", r.method, r.path, role, scopeName, target)
					resp := ta.Name(name).Request(tdhttp.NewRequest(r.method, path, strings.NewReader(`{}`), "Content-Type", "application/json"))
					if !r.policy.public {
						resp.CmpStatus(http.StatusUnauthorized)
					}
					resp = ta.Name(name).Request(tdhttp.NewRequest(r.method, path, strings.NewReader(`{}`),
						"Content-Type", "application/json", ta.bearer(role, scope...)))
					scoped := strings.Contains(r.path, ":id")
					switch {
					case r.policy.public:
						resp.CmpStatus(http.StatusOK)
					case scoped && scopeName == "own" && target == "other":
						resp.CmpStatus(http.StatusNotFound)
					case !role.AtLeast(r.policy.min):
						resp.CmpStatus(http.StatusForbidden)
					case r.policy.all && scopeName != "all":
						resp.CmpStatus(http.StatusForbidden)
					default:
						resp.CmpStatus(td.Not(td.Any(401, 403, 404)))
					}
				}
			}
		}
	}
}

// TestOpenAPIDescribesEveryRoute fails when a route is missing from openapi.yaml.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	td.Require(t).CmpNoError(yaml.Unmarshal(openAPI, &doc))
	td.Cmp(t, doc.OpenAPI, td.HasPrefix("3.1"))
	param := regexp.MustCompile(`:(\w+)`)
	e := New(Deps{})
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, Prefix) {
			continue
		}
		path := param.ReplaceAllString(strings.TrimPrefix(r.Path, Prefix), "{$1}")
		td.Cmp(t, doc.Paths[path], td.ContainsKey(strings.ToLower(r.Method)), "%s %s in openapi.yaml", r.Method, path)
	}
}

func unmarshalAny(raw json.RawMessage) (any, error) {
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

func TestUsersSearchFilterAndPage(t *testing.T) {
	ta := newTestAPI(t)
	id := ta.createCustomer("Contoso Dental", tenantA)
	const e3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	var users []domain.User
	for i := range 30 {
		u := domain.User{CustomerID: id, ID: fmt.Sprintf("u%02d", i), DisplayName: fmt.Sprintf("Person %02d", i),
			UserPrincipalName: fmt.Sprintf("p%02d@contoso.example", i), AccountEnabled: i%5 != 0, Status: domain.UserActive}
		switch {
		case i%3 == 0:
			u.Licences = []domain.Licence{{SkuID: e3, Direct: true, State: "Active", Error: "None"}}
		case i%3 == 1:
			u.Licences = []domain.Licence{{SkuID: e3, Groups: []string{"g1"}, State: "Error", Error: "CountViolation"}}
		}
		users = append(users, u)
	}
	users[7].DisplayName, users[7].UserPrincipalName = "Ann Example", "zed@contoso.example"
	users[8].DisplayName, users[8].UserPrincipalName = "Bob Zed", "bob@contoso.example"
	_, err := ta.store.ApplyUsers(context.Background(), id, users, []store.Removal{}, time.Now())
	td.Require(t).CmpNoError(err)
	_, err = ta.store.ApplyUsers(context.Background(), id, nil, []store.Removal{{ID: "u29", Status: domain.UserSoftDeleted}}, time.Now())
	td.Require(t).CmpNoError(err)

	list := func(query string) []string {
		t.Helper()
		var names []string
		cursor := ""
		for range 20 {
			var page store.Page[userView]
			ta.Get("/api/v1/customers/"+id+"/users?limit=4&cursor="+cursor+"&"+query, ta.admin()).CmpStatus(200).
				CmpJSONBody(td.Smuggle(func(p store.Page[userView]) bool { page = p; return true }, true))
			for _, u := range page.Items {
				names = append(names, u.DisplayName)
			}
			if cursor = page.NextCursor; cursor == "" {
				return names
			}
		}
		t.Fatal("paging did not end")
		return nil
	}
	td.Cmp(t, list(""), td.Len(29), "every active user, across pages")
	td.Cmp(t, list("q=ZED"), []string{"Ann Example"}, "a UPN prefix, whatever the case (Bob Zed's name only contains it)")
	td.Cmp(t, list("q=b"), []string{"Bob Zed"}, "name and UPN both match: listed once")
	td.Cmp(t, list("q=person+1"), []string{"Person 10", "Person 11", "Person 12", "Person 13", "Person 14", "Person 15", "Person 16", "Person 17", "Person 18", "Person 19"})
	td.Cmp(t, list("q=nobody"), td.Empty())
	td.Cmp(t, list("filter=errors"), td.Len(10))
	td.Cmp(t, list("filter=unlicensed"), td.Len(9))
	td.Cmp(t, list("filter=disabled"), td.Len(6))
	td.Cmp(t, list("filter=removed"), []string{"Person 29"})
	td.Cmp(t, list("sku="+e3), td.Len(20))

	ta.Get("/api/v1/customers/"+id+"/users?filter=odd", ta.admin()).CmpStatus(400).
		CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"invalid input","fields":{"filter":"must be unlicensed, errors, disabled or removed"}}}`))
	ta.Get("/api/v1/customers/"+id+"/users/u01", ta.admin()).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"id":"u01","hasErrors":true,"licences":[{"skuId":$1,"partNumber":"ENTERPRISEPACK","name":"Office 365 E3","direct":false,"groups":[{"id":"g1","name":""}],"state":"Error","error":"CountViolation","plans":$2}]}`,
			e3, td.All(td.NotEmpty(), td.ArrayEach(td.SuperMapOf(map[string]any{"enabled": true}, nil)))))
	ta.Get("/api/v1/customers/"+id+"/users/nope", ta.admin()).CmpStatus(404)
}

func TestUpdateSyncIntervalWithOptimisticLocking(t *testing.T) {
	ta := newTestAPI(t)
	id := ta.createCustomer("Contoso Dental", tenantA)
	ta.PatchJSON("/api/v1/customers/"+id, map[string]any{"syncIntervalMinutes": 60, "version": 1}, ta.admin()).
		CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"syncIntervalMinutes":60,"version":2}`))
	ta.PatchJSON("/api/v1/customers/"+id, map[string]any{"syncIntervalMinutes": 30, "version": 1}, ta.admin()).
		CmpStatus(409).CmpJSONBody(td.SuperJSONOf(`{"error":$1}`, td.SuperMapOf(map[string]any{"code": "conflict", "fields": map[string]any{"version": "stale: reload"}}, nil)))
	ta.PatchJSON("/api/v1/customers/"+id, map[string]any{"syncIntervalMinutes": 5, "version": 2}, ta.admin()).
		CmpStatus(400).CmpJSONBody(td.JSON(`{"error":{"code":"invalid","message":"invalid input","fields":{"syncIntervalMinutes":"must be from 15 to 1440 minutes"}}}`))
	ta.Get("/api/v1/customers/"+id, ta.admin()).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"syncIntervalMinutes":60,"version":2}`))
}
