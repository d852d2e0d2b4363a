package graph_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// newFactory returns a Factory configured for a running simulator, as production code configures it.
func newFactory(t *testing.T, run *graphsim.Running, secret string, maxRetries int) *graph.Factory {
	t.Helper()
	f, err := graph.New(graph.Config{
		AuthorityHost: run.AuthorityHost(),
		BaseURL:       run.GraphURL(),
		RootCAs:       run.CertPool(),
		ClientID:      graphsim.ClientID,
		ClientSecret:  secret,
		MaxRetries:    maxRetries,
	})
	td.Require(t).CmpNoError(err)
	return f
}

func tenantClient(t *testing.T, f *graph.Factory, tenantID string) *graph.Client {
	t.Helper()
	c, err := f.Tenant(tenantID)
	td.Require(t).CmpNoError(err)
	return c
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wantSKUs is what the client must decode from the simulator's state.
func wantSKUs(t *testing.T, sim *graphsim.Sim, tenantID string) []domain.SubscribedSKU {
	skus, err := sim.SKUs(tenantID)
	td.Require(t).CmpNoError(err)
	var out []domain.SubscribedSKU
	for _, k := range skus {
		d := domain.SubscribedSKU{SkuID: k.SkuID, PartNumber: k.PartNumber, AppliesTo: k.AppliesTo,
			CapabilityStatus: k.CapabilityStatus, Enabled: k.Enabled, Suspended: k.Suspended, Warning: k.Warning,
			LockedOut: k.LockedOut, Consumed: k.Consumed, ServicePlans: []domain.ServicePlanInfo{}}
		for _, p := range k.ServicePlans {
			d.ServicePlans = append(d.ServicePlans, domain.ServicePlanInfo{ID: p.ID, Name: p.Name, ProvisioningStatus: p.ProvisioningStatus, AppliesTo: p.AppliesTo})
		}
		out = append(out, d)
	}
	return out
}

// wantUsers is what the client must decode from the simulator's users, by id.
func wantUsers(t *testing.T, sim *graphsim.Sim, tenantID string) map[string]domain.GraphUser {
	users, err := sim.Users(tenantID)
	td.Require(t).CmpNoError(err)
	out := map[string]domain.GraphUser{}
	for _, u := range users {
		g := domain.GraphUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName, Mail: u.Mail,
			UsageLocation: u.UsageLocation, AccountEnabled: u.AccountEnabled, Department: u.Department,
			OfficeLocation: u.OfficeLocation, City: u.City, Country: u.Country, BusinessPhones: u.BusinessPhones}
		for _, l := range u.Licenses {
			plans := l.DisabledPlans
			if len(plans) == 0 {
				plans = nil
			}
			// assignedLicenses: one entry per SKU held (a state in Error is not held), the direct one's plans.
			i := slices.IndexFunc(g.AssignedLicenses, func(a domain.AssignedLicense) bool { return a.SkuID == l.SkuID })
			switch {
			case l.State == "Error":
			case i < 0:
				g.AssignedLicenses = append(g.AssignedLicenses, domain.AssignedLicense{SkuID: l.SkuID, DisabledPlans: plans})
			case l.AssignedByGroup == "":
				g.AssignedLicenses[i].DisabledPlans = plans
			}
			g.LicenseStates = append(g.LicenseStates, domain.LicenseAssignmentState{SkuID: l.SkuID, DisabledPlans: plans,
				AssignedByGroup: l.AssignedByGroup, State: l.State, Error: l.Error})
		}
		out[u.ID] = g
	}
	return out
}

// readAll pages through a tenant's users and fails on any user seen twice.
func readAll(t *testing.T, c *graph.Client, pageSize int) (map[string]domain.GraphUser, int, error) {
	t.Helper()
	got := map[string]domain.GraphUser{}
	pages := 0
	err := c.PageUsers(ctxFor(t, 30*time.Second), pageSize, func(page []domain.GraphUser) error {
		pages++
		td.Cmp(t, len(page), td.Between(1, pageSize), "page %d size", pages)
		for _, u := range page {
			if _, dup := got[u.ID]; dup {
				t.Errorf("user %s (%s) returned twice", u.ID, u.UserPrincipalName)
			}
			got[u.ID] = u
		}
		return nil
	})
	return got, pages, err
}

func TestListSKUs(t *testing.T) {
	run := graphsim.StartForTest(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), graphsim.FabrikamLegalID)

	skus, err := c.ListSKUs(ctxFor(t, 10*time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, skus, wantSKUs(t, run.Sim, graphsim.FabrikamLegalID))
	td.Cmp(t, skus, td.Contains(td.Struct(domain.SubscribedSKU{
		SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", AppliesTo: "User",
		CapabilityStatus: "Enabled", Enabled: 100, Consumed: 92,
	}, td.StructFields{"ServicePlans": td.All(td.Len(td.Gt(10)), td.ArrayEach(td.Struct(domain.ServicePlanInfo{ProvisioningStatus: "Success", AppliesTo: "User"},
		td.StructFields{"ID": td.Re(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`), "Name": td.NotEmpty()})))})))
	td.Cmp(t, skus, td.Contains(td.Struct(domain.SubscribedSKU{PartNumber: "VISIOCLIENT", Enabled: 5, Consumed: 6}, nil)), "available may be negative")

	// Contoso, through the Factory shortcut (the tenantsync.Graph shape).
	f := newFactory(t, run, graphsim.ClientSecret, 0)
	skus, err = f.ListSKUs(ctxFor(t, 10*time.Second), graphsim.ContosoDentalID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, skus, wantSKUs(t, run.Sim, graphsim.ContosoDentalID))
	td.Cmp(t, skus, td.Contains(td.Struct(domain.SubscribedSKU{PartNumber: "POWER_BI_PRO", CapabilityStatus: "Warning", Warning: 5}, nil)))
}

func TestPageUsers(t *testing.T) {
	run := graphsim.StartForTest(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), graphsim.FabrikamLegalID)
	want := wantUsers(t, run.Sim, graphsim.FabrikamLegalID)

	got, pages, err := readAll(t, c, 20)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, pages, (len(want)+19)/20, "several pages")
	td.Cmp(t, got, want, "every user once, every field decoded")
	td.Cmp(t, run.Sim.Stats().Count("GET /v1.0/users", 200), pages)

	// A caller's error stops the listing and comes back as is.
	stop := domain.Errorf(domain.EInternal, "stop")
	calls := 0
	err = c.PageUsers(ctxFor(t, 10*time.Second), 50, func([]domain.GraphUser) error { calls++; return stop })
	td.Cmp(t, err, stop)
	td.Cmp(t, calls, 1)

	// Checkpointing: UsersPage hands out the next link, which resumes the listing.
	first, next, err := c.UsersPage(ctxFor(t, 10*time.Second), "", 100)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, first, td.Len(100))
	td.Cmp(t, next, td.All(td.HasPrefix(run.GraphURL()+"/users?"), td.Contains("$skiptoken=")))
	rest, last, err := c.UsersPage(ctxFor(t, 10*time.Second), next, 100)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(first)+len(rest), len(want))
	td.Cmp(t, last, "")

	_, _, err = c.UsersPage(ctxFor(t, 10*time.Second), "https://elsewhere.example/v1.0/users?$skiptoken=x", 10)
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, "a nextLink off the Graph host is refused")
	td.Cmp(t, domain.ErrorCode(c.PageUsers(context.Background(), 1000, nil)), domain.EInvalid)
}

// TestPageUsersUnderFaults is the "done when": with 20 % 429 and 5 % 503, a full read of a 5,000-user
// tenant returns every user exactly once.
func TestPageUsersUnderFaults(t *testing.T) {
	sim := graphsim.New(graphsim.Options{Seed: 3, Tenants: []graphsim.TenantSpec{}})
	spec := graphsim.LargeTenant(5000)
	td.Require(t).CmpNoError(sim.AddTenant(spec))
	run := sim.StartForTest(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 10), spec.ID)
	want := wantUsers(t, sim, spec.ID)
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Rate429: 0.2, Rate503: 0.05, RetryAfterSeconds: 0}))

	start := time.Now()
	got, pages, err := readAll(t, c, 100)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, pages, (len(want)+99)/100)
	td.Cmp(t, got, want, "every user exactly once despite throttling")
	st := sim.Stats()
	td.Cmp(t, st.Count("GET /v1.0/users", 429), td.Gt(0), "faults were injected")
	td.Cmp(t, st.Count("GET /v1.0/users", 503), td.Gt(0), "faults were injected")
	td.Cmp(t, st.Count("GET /v1.0/users", 200), pages)
	td.Cmp(t, time.Since(start), td.Lt(10*time.Second))

	// And the SKUs.
	skus, err := c.ListSKUs(ctxFor(t, 10*time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, skus, wantSKUs(t, sim, spec.ID))
}

func TestRetryAfterHonoured(t *testing.T) {
	sim := graphsim.New(graphsim.Options{Seed: 1})
	run := sim.StartForTest(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), graphsim.ContosoDentalID)
	_, err := c.ListSKUs(ctxFor(t, 10*time.Second)) // token first, then faults
	td.Require(t).CmpNoError(err)

	// 429 with Retry-After: 1 on some requests: the retries wait about a second each.
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Rate429: 0.3, RetryAfterSeconds: 1}))
	start := time.Now()
	n429 := 0
	for i := 0; i < 10 && n429 == 0; i++ {
		_, err = c.ListSKUs(ctxFor(t, 20*time.Second))
		td.Require(t).CmpNoError(err)
		n429 = sim.Stats().Count("GET /v1.0/subscribedSkus", 429)
	}
	td.Cmp(t, n429, td.Gt(0))
	td.Cmp(t, time.Since(start), td.Gte(time.Duration(n429)*time.Second-100*time.Millisecond), "waited Retry-After each time")
}

func TestUnauthorized(t *testing.T) {
	run := graphsim.StartForTest(t)

	t.Run("wrong secret", func(t *testing.T) {
		c := tenantClient(t, newFactory(t, run, "not-the-secret", 0), graphsim.ContosoDentalID)
		_, err := c.ListSKUs(ctxFor(t, 10*time.Second))
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized)
		td.Cmp(t, domain.ErrorMessage(err), td.All(
			td.HasPrefix("Microsoft Graph refused the credentials for tenant "+graphsim.ContosoDentalID+": "),
			td.Contains("invalid_client"), td.Contains("AADSTS7000215"), td.Not(td.Contains("Trace ID"))))
	})

	t.Run("unknown tenant", func(t *testing.T) {
		c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), "3f1e6c7a-0000-4000-8000-000000000000")
		_, err := c.ListSKUs(ctxFor(t, 10*time.Second))
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized)
		td.Cmp(t, domain.ErrorMessage(err), td.Contains("AADSTS90002"))
	})

	t.Run("consent revoked before the first token", func(t *testing.T) {
		td.Require(t).CmpNoError(run.Sim.RevokeConsent(graphsim.FabrikamLegalID))
		t.Cleanup(func() { _ = run.Sim.RestoreConsent(graphsim.FabrikamLegalID) })
		f := newFactory(t, run, graphsim.ClientSecret, 0)
		err := f.PageUsers(ctxFor(t, 10*time.Second), graphsim.FabrikamLegalID, 100, func([]domain.GraphUser) error { return nil })
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized)
		td.Cmp(t, domain.ErrorMessage(err), td.All(td.Contains("unauthorized_client"), td.Contains("AADSTS7000229")))
	})

	t.Run("consent revoked with a cached token", func(t *testing.T) {
		c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), graphsim.ContosoDentalID)
		_, err := c.ListSKUs(ctxFor(t, 10*time.Second))
		td.Require(t).CmpNoError(err)
		td.Require(t).CmpNoError(run.Sim.RevokeConsent(graphsim.ContosoDentalID))
		t.Cleanup(func() { _ = run.Sim.RestoreConsent(graphsim.ContosoDentalID) })
		_, err = c.ListSKUs(ctxFor(t, 10*time.Second))
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized)
		td.Cmp(t, domain.ErrorMessage(err), td.All(td.Contains("HTTP 401: InvalidAuthenticationToken"), td.Re(`\(request-id [0-9a-f-]{36}\)$`)))
	})
}

func TestUpstreamFailures(t *testing.T) {
	run := graphsim.StartForTest(t)
	f := newFactory(t, run, graphsim.ClientSecret, 3)
	c := tenantClient(t, f, graphsim.ContosoDentalID)

	td.Require(t).CmpNoError(run.Sim.SetFaults(graphsim.Faults{Rate503: 1}))
	start := time.Now()
	_, err := c.ListSKUs(ctxFor(t, 20*time.Second))
	td.Cmp(t, domain.ErrorCode(err), domain.EUpstream)
	td.Cmp(t, domain.ErrorMessage(err), td.All(td.Contains("HTTP 503: ServiceUnavailable"), td.Contains("request-id")))
	td.Cmp(t, time.Since(start), td.Lt(5*time.Second), "bounded")
	td.Cmp(t, run.Sim.Stats().Count("GET /v1.0/subscribedSkus", 503), 4, "first attempt + 3 retries")

	td.Require(t).CmpNoError(run.Sim.SetFaults(graphsim.Faults{Rate429: 1}))
	err = c.PageUsers(ctxFor(t, 20*time.Second), 10, func([]domain.GraphUser) error { return nil })
	td.Cmp(t, domain.ErrorCode(err), domain.EThrottled)

	// The context bounds every call, retries and latency included.
	td.Require(t).CmpNoError(run.Sim.SetFaults(graphsim.Faults{LatencyMs: 3000}))
	start = time.Now()
	_, err = c.ListSKUs(ctxFor(t, 300*time.Millisecond))
	td.Cmp(t, domain.ErrorCode(err), domain.EUpstream)
	td.Cmp(t, time.Since(start), td.Lt(2*time.Second))
	run.Sim.ClearFaults()

	// Nothing listening.
	dead := newFactoryAt(t, "https://127.0.0.1:1/", "https://127.0.0.1:1/v1.0", nil)
	start = time.Now()
	_, err = dead.ListSKUs(ctxFor(t, time.Second), graphsim.ContosoDentalID)
	td.Cmp(t, domain.ErrorCode(err), domain.EUpstream)
	td.Cmp(t, time.Since(start), td.Lt(2*time.Second))
}

func newFactoryAt(t *testing.T, authority, base string, roots *x509.CertPool) *graph.Factory {
	t.Helper()
	f, err := graph.New(graph.Config{AuthorityHost: authority, BaseURL: base, RootCAs: roots, ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret})
	td.Require(t).CmpNoError(err)
	return f
}

// TestAuthorizationHeaderReachesGraph puts a recorder in front of the simulator: the credential auth provider
// silently drops the header for hosts it does not allow, which would otherwise only show as 401s.
func TestAuthorizationHeaderReachesGraph(t *testing.T) {
	sim := graphsim.New(graphsim.Options{})
	var (
		mu   sync.Mutex
		seen = map[string]string{}
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/") {
			mu.Lock()
			seen[r.URL.Path] = r.Header.Get("Authorization")
			mu.Unlock()
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	f := newFactoryAt(t, srv.URL+"/", srv.URL+"/v1.0", roots)
	_, err := f.ListSKUs(ctxFor(t, 10*time.Second), graphsim.ContosoDentalID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, seen["/v1.0/subscribedSkus"], td.Re(`^Bearer [\w-]+\.[\w-]+\.[\w-]+$`))
	td.Cmp(t, sim.Stats().Count("GET /v1.0/subscribedSkus", 200), 1)
	td.Cmp(t, sim.Stats().Count("GET /v1.0/subscribedSkus", 401), 0)
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]graph.Config{
		"no secret":      {ClientID: "x"},
		"no client id":   {ClientSecret: "x"},
		"http base":      {ClientID: "x", ClientSecret: "y", BaseURL: "http://127.0.0.1:1/v1.0"},
		"http authority": {ClientID: "x", ClientSecret: "y", AuthorityHost: "http://127.0.0.1:1/"},
	} {
		_, err := graph.New(cfg)
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, name)
	}

	f, err := graph.New(graph.Config{ClientID: "x", ClientSecret: "y"})
	td.Require(t).CmpNoError(err)
	a, err := f.Tenant(graphsim.ContosoDentalID)
	td.Require(t).CmpNoError(err)
	b, err := f.Tenant(strings.ToUpper(graphsim.ContosoDentalID))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, a, td.Shallow(b), "one client per tenant")
	td.Cmp(t, a.TenantID(), graphsim.ContosoDentalID)
	_, err = f.Tenant("a/b")
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}
