package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/maxatome/go-testdeep/helpers/tdhttp"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/devauth"
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

// The provisioning tests (settings, sites, numbers, staging) run the real API over the real store (DynamoDB in
// moto), the real services and the real Graph client against a simulated tenant whose users appear in Teams after a
// provisioning delay the test sets.

const provTenant = "6a2e8f1c-4b3d-4e5f-8a9b-0c1d2e3f4a5b"

// provAPI is the API with every provisioning service, over a simulated tenant with Office 365 E3 (Teams) and Teams
// Phone seats, registered as customer id.
type provAPI struct {
	*testAPI
	t     *testing.T
	sim   *graphsim.Sim
	sync  *tenantsync.Service
	id    string
	users map[string]string // display name → id
}

func newProvAPI(t *testing.T) *provAPI {
	t.Helper()
	ctx := context.Background()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sqsClient := sqs.NewFromConfig(cfg)
	spec := graphsim.TenantSpec{ID: provTenant, Name: "Fabrikam", Domain: "fabrikam.onmicrosoft.com", UsageLocation: "GB",
		SKUs: []graphsim.SKUSpec{{PartNumber: "ENTERPRISEPACK", Enabled: 20}, {PartNumber: "MCOEV", Enabled: 20}}}
	sim := graphsim.New(graphsim.Options{Tenants: []graphsim.TenantSpec{spec}})
	run := sim.StartForTest(t)
	td.Require(t).CmpNoError(sim.SetTeamsProvisioningDelay(time.Hour))
	td.Require(t).CmpNoError(sim.SetNumberOperationPacing(1, 0))
	g, err := graph.New(graph.Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 6, OperationPollInterval: 10 * time.Millisecond})
	td.Require(t).CmpNoError(err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokens := devauth.NewIssuer()
	lic := &licensing.Service{Store: st, Graph: g, Log: quiet}
	nums := &numbers.Service{Store: st, Graph: g, Log: quiet}
	syncSvc := &tenantsync.Service{Store: st, Graph: g, Jobs: queue.NewSender(sqsClient, stack.JobsQueueURL), Log: quiet}
	deps := Deps{
		Store: st, Sync: syncSvc, Claims: tokens.Claims, Version: "test", Log: quiet,
		Licensing: lic,
		Templates: &licensing.Templates{Store: st, Bulk: &licensing.Bulk{Store: st, Graph: g, Log: quiet}},
		Sites:     &sites.Service{Store: st},
		Numbers:   nums,
		Staging: &staging.Service{Store: st, Graph: g, Licensing: lic, Numbers: nums, Log: quiet,
			Queue: queue.NewSender(sqsClient, stack.StagingQueueURL)},
	}
	ta := &testAPI{TestAPI: tdhttp.NewTestAPI(t, New(deps)), store: st, tokens: tokens, sqs: sqsClient, stack: stack, api: &api{Deps: deps}}
	return &provAPI{testAPI: ta, t: t, sim: sim, sync: syncSvc, id: ta.createCustomer("Fabrikam", provTenant), users: map[string]string{}}
}

// addUser adds a user to the simulated tenant with direct licences (part numbers); syncNow stores them.
func (p *provAPI) addUser(name, city string, parts ...string) string {
	p.t.Helper()
	u, err := p.sim.AddUser(provTenant, graphsim.NewUser{DisplayName: name, City: city, UsageLocation: "GB"})
	td.Require(p.t).CmpNoError(err)
	for _, part := range parts {
		td.Require(p.t).CmpNoError(p.sim.AssignDirectLicense(provTenant, u.ID, part, nil))
	}
	p.users[name] = strings.ToLower(u.ID)
	return p.users[name]
}

func (p *provAPI) syncNow() {
	p.t.Helper()
	svc := *p.sync
	svc.FullEvery = time.Nanosecond
	td.Require(p.t).CmpNoError(svc.SyncCustomer(context.Background(), p.id, "test"))
}

func (p *provAPI) path(rest string) string { return "/api/v1/customers/" + p.id + rest }

func (p *provAPI) adminH() http.Header  { return p.bearer(auth.CustomerAdmin, p.id) }
func (p *provAPI) viewerH() http.Header { return p.bearer(auth.Viewer, p.id) }

func TestSettingsReadSaveValidateAndStale(t *testing.T) {
	p := newProvAPI(t)
	admin, viewer := p.adminH(), p.viewerH()

	defaults := td.JSON(`{"customerId":$1,"manageLicenses":false,"allowStaging":false,"defaultUsageLocation":"",
		"stagingLimitMinutes":1440,"quarantineDays":30,"version":0,"updatedAt":$2}`, p.id, td.NotEmpty())
	p.Get(p.path("/settings"), viewer).CmpStatus(200).CmpJSONBody(defaults)
	p.Get("/api/v1/customers/nope/settings", p.admin()).CmpStatus(404)

	// Every setting is required (a PUT replaces them all), each problem named; nothing is saved.
	p.PutJSON(p.path("/settings"), map[string]any{"manageLicenses": true}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"allowStaging":"required","defaultUsageLocation":"required",
			"stagingLimitMinutes":"required","quarantineDays":"required","version":$1}`, td.HasPrefix("required"))))
	full := func(version any, mod map[string]any) map[string]any {
		m := map[string]any{"manageLicenses": true, "allowStaging": true, "defaultUsageLocation": "gb",
			"stagingLimitMinutes": 120, "quarantineDays": 7, "version": version}
		for k, v := range mod {
			m[k] = v
		}
		return m
	}
	p.PutJSON(p.path("/settings"), full(0, map[string]any{"defaultUsageLocation": "GBR", "stagingLimitMinutes": 3, "quarantineDays": 400}), admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"defaultUsageLocation":$1,"stagingLimitMinutes":$1,"quarantineDays":$1}`, td.NotEmpty())))
	p.PutJSON(p.path("/settings"), full(0, map[string]any{"staging": true}), admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"staging":"unknown field"}`)))
	p.PutJSON(p.path("/settings"), full(0, map[string]any{"quarantineDays": "7"}), admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"quarantineDays":"must be a int"}`)))
	p.PutJSON(p.path("/settings"), full(-1, nil), admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":"must be 0 or more"}`)))
	p.PutJSON(p.path("/settings"), full(0, nil), viewer).CmpStatus(403)
	p.PutJSON("/api/v1/customers/nope/settings", full(0, nil), p.admin()).CmpStatus(404)
	p.Get(p.path("/settings"), viewer).CmpStatus(200).CmpJSONBody(defaults)

	// The first save is from version 0; a second admin who read version 0 too is told to reload.
	p.PutJSON(p.path("/settings"), full(0, nil), admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"customerId":$1,"manageLicenses":true,"allowStaging":true,"defaultUsageLocation":"GB",
			"stagingLimitMinutes":120,"quarantineDays":7,"version":1,"updatedAt":$2}`, p.id, td.NotEmpty()))
	p.PutJSON(p.path("/settings"), full(0, map[string]any{"quarantineDays": 0}), p.admin()).CmpStatus(409).
		CmpJSONBody(errConflict("reload"))
	p.PutJSON(p.path("/settings"), full(1, map[string]any{"stagingLimitMinutes": 0, "quarantineDays": 0}), admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"stagingLimitMinutes":1440,"quarantineDays":0,"version":2}`))
	p.Get(p.path("/settings"), viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"quarantineDays":0,"version":2}`))

	p.Get(p.path("/audit?limit=1"), viewer).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"items":[$1]}`, td.SuperMapOf(map[string]any{"action": "settings.update",
			"actor": "user-customer-admin", "outcome": "ok"}, nil)))
}

// errConflict is a conflict answer whose message contains msg.
func errConflict(msg string) td.TestDeep {
	return td.SuperJSONOf(`{"error":$1}`, td.SuperMapOf(map[string]any{"code": "conflict", "message": td.Contains(msg)}, nil))
}
