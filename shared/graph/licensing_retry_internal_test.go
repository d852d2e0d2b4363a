package graph

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"
	khttp "github.com/microsoft/kiota-http-go"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// TestRetriedPOSTMiddlewareOrder shows that the simulator catches graph.md's "retry bug": with kiota's compression
// handler inside the retry handler, a POST throttled once is retried with its uncompressed body under the gzip
// label, and the simulator answers 400 as Graph does. Compression outside the retry handler is not enough on its
// own: the retry handler rewinds and re-sends the reader the HTTP/2 transport of the first attempt may still be
// reading, and about one retry in ten went out empty under "Content-Length: 118" (400 again); with
// replayBodyHandler inside the retry handler every attempt has its own reader (400 runs, no failure). The client's
// own pipeline (no compression, replayBodyHandler) survives the retry.
func TestRetriedPOSTMiddlewareOrder(t *testing.T) {
	const (
		tenantID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
		powerBI  = "f8a1db68-be16-40ed-86d5-cb42ce701560"
	)
	sim := graphsim.New(graphsim.Options{Seed: 1, Tenants: []graphsim.TenantSpec{{ID: tenantID, Name: "Retry Order",
		Domain: "retryorder.onmicrosoft.com", Users: 20, UsageLocation: "US",
		SKUs: []graphsim.SKUSpec{{PartNumber: "SPE_E3", Enabled: 20, Assigned: 15}, {PartNumber: "POWER_BI_PRO", Enabled: 20}}}}})
	run := sim.StartForTest(t)
	all, err := sim.Users(tenantID)
	td.Require(t).CmpNoError(err)
	var users []graphsim.User
	for _, u := range all {
		if u.UsageLocation != "" {
			users = append(users, u)
		}
	}
	td.Require(t).Cmp(len(users), td.Gte(3))
	retry := func() khttp.Middleware {
		return khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{MaxRetries: 2,
			ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return true }})
	}

	for i, tc := range []struct {
		name  string
		mws   []khttp.Middleware
		code  string
		stats map[int]int
	}{
		{"compression inside retry", []khttp.Middleware{retry(), khttp.NewCompressionHandler()}, domain.EInvalid, map[int]int{429: 1, 400: 1}},
		{"compression outside retry, a fresh body per attempt", []khttp.Middleware{khttp.NewCompressionHandler(), retry(), replayBodyHandler{}}, "", map[int]int{429: 1, 200: 1}},
		{"the client's pipeline", middlewares(3), "", map[int]int{429: 1, 200: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
				ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret})
			td.Require(t).CmpNoError(err)
			f.httpClient = &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(f.tokenClient.Transport.(*http.Transport), tc.mws...)}
			c, err := f.Tenant(tenantID)
			td.Require(t).CmpNoError(err)
			u := users[i]
			before := sim.Stats()
			td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + u.ID + "/assignLicense", Rate429: 1, Times: 1}))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = c.AssignLicenses(ctx, u.ID, []domain.AssignedLicense{{SkuID: powerBI}}, nil)
			td.Cmp(t, domain.ErrorCode(err), tc.code, "%v", err)
			if tc.code != "" {
				td.Cmp(t, domain.ErrorMessage(err), td.Contains("is not gzip data"))
			}
			after := sim.Stats()
			got := map[int]int{}
			for _, st := range []int{200, 400, 429} {
				if n := after.Count("POST /v1.0/users/{id}/assignLicense", st) - before.Count("POST /v1.0/users/{id}/assignLicense", st); n > 0 {
					got[st] = n
				}
			}
			td.Cmp(t, got, tc.stats)
		})
	}
}
