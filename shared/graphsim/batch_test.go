package graphsim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/graphsim"
)

func batchBody(reqs ...map[string]any) io.Reader {
	b, _ := json.Marshal(map[string]any{"requests": reqs})
	return strings.NewReader(string(b))
}

func assignItem(id, user string, add []map[string]any, remove []string) map[string]any {
	return map[string]any{"id": id, "method": "POST", "url": "/users/" + user + "/assignLicense",
		"headers": map[string]string{"Content-Type": "application/json"},
		"body":    map[string]any{"addLicenses": add, "removeLicenses": remove}}
}

// responsesByID checks a batch answer's shape and indexes its responses by id.
func responsesByID(t *testing.T, body any) map[string]map[string]any {
	t.Helper()
	m, ok := body.(map[string]any)
	td.Require(t).Cmp(ok, true, "%v", body)
	td.Require(t).Cmp(m, td.Keys(td.Bag("responses")))
	out := map[string]map[string]any{}
	for _, r := range m["responses"].([]any) {
		item := r.(map[string]any)
		td.Cmp(t, item, td.SuperMapOf(map[string]any{"id": td.NotEmpty(), "status": td.Gte(100.0), "headers": td.NotNil()}, nil))
		out[item["id"].(string)] = item
	}
	return out
}

func TestBatch(t *testing.T) {
	run, tok := startLicensing(t)
	sim := run.Sim
	free := pickUsers(t, sim, licTenantID, 2, unlicensed)
	post := func(body io.Reader, hdr ...string) (int, any) {
		resp, v := call(t, run, "POST", "/v1.0/$batch", tok, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
		return resp.StatusCode, v
	}

	t.Run("items dispatched to their endpoints", func(t *testing.T) {
		status, body := post(gzipped(t, batchBody(
			map[string]any{"id": "1", "method": "GET", "url": "/users/" + free[0].ID + "?$select=id,usageLocation"},
			assignItem("2", free[0].ID, []map[string]any{lic(skuPowerBI)}, []string{}),
			map[string]any{"id": "3", "method": "GET", "url": "users/" + free[0].ID + "/licenseDetails", "dependsOn": []string{"2"}},
			map[string]any{"id": "4", "method": "GET", "url": "/nowhere"},
			map[string]any{"id": "5", "method": "DELETE", "url": "/subscribedSkus"},
		)), "Content-Encoding", "gzip")
		td.Require(t).Cmp(status, 200, "%v", body)
		got := responsesByID(t, body)
		td.Cmp(t, got, td.Keys(td.Bag("1", "2", "3", "4", "5")))
		td.Cmp(t, got["1"], td.SuperMapOf(map[string]any{"status": 200.0,
			"headers": td.SuperMapOf(map[string]any{"Content-Type": td.HasPrefix("application/json")}, nil),
			"body":    td.SuperMapOf(map[string]any{"id": free[0].ID, "usageLocation": "US"}, nil)}, nil))
		td.Cmp(t, got["2"], td.SuperMapOf(map[string]any{"status": 200.0, "body": td.SuperMapOf(map[string]any{"id": free[0].ID}, nil)}, nil))
		td.Cmp(t, got["3"], td.SuperMapOf(map[string]any{"status": 200.0,
			"body": td.SuperMapOf(map[string]any{"value": []any{td.SuperMapOf(map[string]any{"skuId": skuPowerBI}, nil)}}, nil)}, nil), "ran after 2")
		td.Cmp(t, got["4"], td.SuperMapOf(map[string]any{"status": 404.0, "body": graphErr("Request_ResourceNotFound", td.NotEmpty())}, nil))
		td.Cmp(t, got["5"], td.SuperMapOf(map[string]any{"status": 405.0}, nil))

		st := sim.Stats()
		td.Cmp(t, st.Count("POST /v1.0/$batch", 200), 1)
		td.Cmp(t, st.Count("POST /v1.0/users/{id}/assignLicense", 200), 1, "items counted under their own endpoints")
		td.Cmp(t, st.Count("GET /v1.0/users/{id}/licenseDetails", 200), 1)
		td.Cmp(t, st.Count("unmatched", 404), 1)
	})

	t.Run("dependsOn a failed request: 424", func(t *testing.T) {
		status, body := post(batchBody(
			assignItem("a", "00000000-0000-4000-8000-000000000001", []map[string]any{lic(skuPowerBI)}, []string{}),
			map[string]any{"id": "b", "method": "GET", "url": "/users/" + free[1].ID, "dependsOn": []string{"a"}},
			map[string]any{"id": "c", "method": "GET", "url": "/users/" + free[1].ID, "dependsOn": []string{"b"}},
			map[string]any{"id": "d", "method": "GET", "url": "/users/" + free[1].ID},
		))
		td.Require(t).Cmp(status, 200, "%v", body)
		got := responsesByID(t, body)
		td.Cmp(t, got["a"]["status"], 404.0)
		td.Cmp(t, got["b"], td.SuperMapOf(map[string]any{"status": 424.0, "body": graphErr("FailedDependency", td.NotEmpty())}, nil))
		td.Cmp(t, got["c"]["status"], 424.0, "transitively")
		td.Cmp(t, got["d"]["status"], 200.0)
	})

	t.Run("invalid batches", func(t *testing.T) {
		var reqs []map[string]any
		for i := range 21 {
			reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/users/" + free[1].ID})
		}
		status, body := post(batchBody(reqs...))
		td.Cmp(t, status, 400)
		td.Cmp(t, body, graphErr("BadRequest", td.Contains("exceeds the limit")))
		status, _ = post(batchBody(reqs[:20]...))
		td.Cmp(t, status, 200, "20 is fine")

		for name, body := range map[string]io.Reader{
			"no requests":       strings.NewReader(`{"requests":[]}`),
			"not JSON":          strings.NewReader(`{"requests":`),
			"duplicate ids":     batchBody(reqs[0], reqs[0]),
			"unknown depends":   batchBody(map[string]any{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"9"}}),
			"cycle":             batchBody(map[string]any{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"2"}}, map[string]any{"id": "2", "method": "GET", "url": "/users", "dependsOn": []string{"1"}}),
			"absolute URL":      batchBody(map[string]any{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"}),
			"POST without body": batchBody(map[string]any{"id": "1", "method": "POST", "url": "/users/x/assignLicense"}),
			"no Content-Type":   batchBody(map[string]any{"id": "1", "method": "POST", "url": "/users/x/assignLicense", "body": map[string]any{}}),
		} {
			status, resp := post(body)
			td.Cmp(t, status, 400, name)
			td.Cmp(t, resp, graphErr("BadRequest", td.NotEmpty()), name)
		}
	})

	t.Run("per-item faults", func(t *testing.T) {
		before := sim.Stats()
		td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/users/" + free[1].ID, Rate429: 1, RetryAfterSeconds: 7, Times: 2}))
		status, body := post(batchBody(
			map[string]any{"id": "1", "method": "GET", "url": "/users/" + free[1].ID},
			map[string]any{"id": "2", "method": "GET", "url": "/users/" + free[1].ID},
			map[string]any{"id": "3", "method": "GET", "url": "/users/" + free[1].ID},
			map[string]any{"id": "4", "method": "GET", "url": "/subscribedSkus"},
		))
		td.Require(t).Cmp(status, 200, "the batch itself is not throttled")
		got := responsesByID(t, body)
		td.Cmp(t, []any{got["1"]["status"], got["2"]["status"], got["3"]["status"], got["4"]["status"]}, []any{429.0, 429.0, 200.0, 200.0},
			"faults drawn in request order")
		td.Cmp(t, got["1"], td.SuperMapOf(map[string]any{
			"headers": td.SuperMapOf(map[string]any{"Retry-After": "7"}, nil),
			"body":    graphErr("TooManyRequests", td.NotEmpty()),
		}, nil))
		st := sim.Stats()
		count := func(ep string, status int) int { return st.Count(ep, status) - before.Count(ep, status) }
		td.Cmp(t, count("GET /v1.0/users/{id}", 429), 2)
		td.Cmp(t, count("GET /v1.0/users/{id}", 200), 1)
		td.Cmp(t, count("POST /v1.0/$batch", 200), 1)

		// The batch request itself may be throttled.
		td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/$batch", Rate503: 1, Times: 1}))
		status, body = post(batchBody(map[string]any{"id": "1", "method": "GET", "url": "/subscribedSkus"}))
		td.Cmp(t, status, 503)
		td.Cmp(t, body, graphErr("ServiceUnavailable", td.NotEmpty()))
	})
}
