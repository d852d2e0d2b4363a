package lambdarie_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/infra/lambdarie"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
)

// The functions' bootstraps for the host architecture, built once for the package's tests.
var (
	buildDir  string
	buildOnce sync.Once
	built     map[string]string
	riePath   string
	repoRoot  string
	setupErr  error
	buildTook time.Duration
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdarie-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup installs rie when missing and builds every function for the host architecture (once).
func setup(t *testing.T) (root, rie string, bootstraps map[string]string) {
	t.Helper()
	buildOnce.Do(func() {
		if repoRoot, setupErr = localaws.RepoRoot(); setupErr != nil {
			return
		}
		if riePath, setupErr = lambdarie.EnsureRIE(repoRoot); setupErr != nil {
			return
		}
		fns, err := lambdarie.Functions(repoRoot)
		if err != nil {
			setupErr = err
			return
		}
		// A cold build with msgraph-sdk-go takes minutes; a warm one seconds.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		start := time.Now()
		built, setupErr = lambdarie.BuildAll(ctx, repoRoot, fns, buildDir, runtime.GOARCH)
		buildTook = time.Since(start)
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	t.Logf("built %d functions for linux/%s in %v", len(built), runtime.GOARCH, buildTook.Round(time.Millisecond))
	return repoRoot, riePath, built
}

// TestEventsThroughRIE invokes every function's bootstrap through aws-lambda-rie with each of its events/ samples,
// against moto and the Graph simulator.
func TestEventsThroughRIE(t *testing.T) {
	root, rie, bootstraps := setup(t)
	require := td.Require(t)

	stack := localaws.StartForTest(t)
	sim := graphsim.StartForTest(t)
	caFile := filepath.Join(t.TempDir(), "graphsim-ca.pem")
	require.CmpNoError(sim.WriteCAFile(caFile))
	env := append(stack.Env(),
		"GRAPH_AUTHORITY_HOST="+sim.URL+"/",
		"GRAPH_BASE_URL="+sim.URL+"/v1.0",
		"GRAPH_CA_FILE="+caFile,
	)

	fns, err := lambdarie.Functions(root)
	require.CmpNoError(err)
	samples, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	require.CmpNoError(err)
	byFn := map[string][]string{}
	for _, s := range samples {
		owner := ""
		for _, fn := range fns {
			if strings.HasPrefix(filepath.Base(s), fn+"-") && len(fn) > len(owner) {
				owner = fn
			}
		}
		td.Cmp(t, owner, td.NotEmpty(), "%s is named after no function (want <fn>-<what>.json, fn in %v)", s, fns)
		byFn[owner] = append(byFn[owner], s)
	}

	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			require := td.Require(t)
			files := byFn[fn]
			sort.Strings(files)
			require.Cmp(files, td.NotEmpty(), "events/%s-*.json: every function needs at least one sample event", fn)

			fnEnv, err := lambdarie.FunctionEnv(root, fn)
			require.CmpNoError(err)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rt, err := lambdarie.Start(ctx, rie, bootstraps[fn], append(fnEnv, env...))
			require.CmpNoError(err)
			t.Cleanup(func() { rt.Close() })

			var initDur time.Duration
			for _, f := range files {
				name := strings.TrimSuffix(filepath.Base(f), ".json")
				t.Run(name, func(t *testing.T) {
					event, err := os.ReadFile(f)
					td.Require(t).CmpNoError(err)
					res := invoke(t, rt, event)
					if res.InitDuration > 0 {
						initDur = res.InitDuration
					}
					checkSample(t, rt, fn, name, event, res)
				})
			}
			st, err := os.Stat(bootstraps[fn])
			require.CmpNoError(err)
			t.Logf("%s: INIT %.2f ms, stripped linux/%s binary %.1f MB (%d bytes)",
				fn, float64(initDur)/float64(time.Millisecond), runtime.GOARCH, float64(st.Size())/1e6, st.Size())
			td.Cmp(t, initDur, td.Gt(time.Duration(0)), "the first invocation reports the INIT duration")
		})
	}
}

// invoke sends event and requires a response that is not an error.
func invoke(t *testing.T, rt *lambdarie.Runtime, event []byte) lambdarie.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := rt.Invoke(ctx, event)
	td.Require(t).CmpNoError(err)
	t.Log(res.ReportLine())
	td.Cmp(t, res.FunctionError, "", "handler error; function output:\n%s", strings.Join(res.Logs, "\n"))
	var payload map[string]any
	if json.Unmarshal(res.Payload, &payload) == nil {
		td.Cmp(t, payload, td.Not(td.ContainsKey("errorType")), "payload %s", res.Payload)
		td.Cmp(t, payload, td.Not(td.ContainsKey("errorMessage")), "payload %s", res.Payload)
	}
	return res
}

// checkSample checks the response to a sample event: the samples named here precisely, any other by its kind.
func checkSample(t *testing.T, rt *lambdarie.Runtime, fn, name string, event []byte, res lambdarie.Result) {
	t.Helper()
	switch {
	case name == "api-health":
		status, body := apiResponse(t, res)
		td.Cmp(t, status, 200, "body %s", body)
		td.Cmp(t, body, td.JSONPointer("/status", "ok"))
	case name == "api-list-customers":
		status, body := apiResponse(t, res)
		td.Cmp(t, status, 200, "body %s", body)
		td.Cmp(t, body, td.JSONPointer("/items", td.Isa([]any{})))
	case name == "api-create-customer":
		var req events.APIGatewayV2HTTPRequest
		td.Require(t).CmpNoError(json.Unmarshal(event, &req))
		var in map[string]any
		td.Require(t).CmpNoError(json.Unmarshal([]byte(req.Body), &in))
		status, body := apiResponse(t, res)
		td.Cmp(t, status, 201, "body %s", body)
		td.Cmp(t, body, td.JSONPointer("/id", td.NotEmpty()))
		td.Cmp(t, body, td.JSONPointer("/name", in["name"]))
		td.Cmp(t, body, td.JSONPointer("/tenantId", in["tenantId"]))
		// The same tenant again: a conflict.
		status, body = apiResponse(t, invoke(t, rt, event))
		td.Cmp(t, status, 409, "second create: body %s", body)
		td.Cmp(t, body, td.JSONPointer("/error/code", "conflict"))
	case fn == "api":
		status, body := apiResponse(t, res)
		td.Cmp(t, status, td.Between(200, 499), "body %s", body)
	case name == "sync-schedule" || name == "sync-snapshot-all":
		var out map[string]int
		td.Require(t).CmpNoError(json.Unmarshal(res.Payload, &out), "payload %s", res.Payload)
		td.Cmp(t, out, td.Map(map[string]int{}, td.MapEntries{"enqueued": td.Gte(0)}))
	case strings.HasSuffix(name, "-sqs"):
		// Every message handled, none to retry (a job for an unknown customer is dropped, not retried).
		var out events.SQSEventResponse
		td.Require(t).CmpNoError(json.Unmarshal(res.Payload, &out), "payload %s", res.Payload)
		td.CmpEmpty(t, out.BatchItemFailures, "payload %s", res.Payload)
	case fn == "export":
		var in struct {
			Month string `json:"month"`
		}
		td.Require(t).CmpNoError(json.Unmarshal(event, &in))
		var out map[string]any
		td.Require(t).CmpNoError(json.Unmarshal(res.Payload, &out), "payload %s", res.Payload)
		month := any(td.Re(`^\d{4}-(0[1-9]|1[0-2])$`))
		if in.Month != "" {
			month = in.Month
		}
		td.Cmp(t, out, td.SuperMapOf(map[string]any{"month": month}, nil))
	default:
		td.Cmp(t, json.Valid(res.Payload), true, "payload %s", res.Payload)
	}
}

// apiResponse decodes an HTTP API (payload v2) response: its status and body.
func apiResponse(t *testing.T, res lambdarie.Result) (int, json.RawMessage) {
	t.Helper()
	var resp events.APIGatewayV2HTTPResponse
	td.Require(t).CmpNoError(json.Unmarshal(res.Payload, &resp), "payload %s", res.Payload)
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		body, err = base64.StdEncoding.DecodeString(resp.Body)
		td.Require(t).CmpNoError(err)
	}
	td.Cmp(t, json.Valid(body), true, "body is JSON: %s", body)
	return resp.StatusCode, body
}

// TestInitFailsWithoutConfig checks that each function, started without the environment variables it requires,
// fails at INIT and says which variables are missing.
func TestInitFailsWithoutConfig(t *testing.T) {
	root, rie, bootstraps := setup(t)
	fns, err := lambdarie.Functions(root)
	td.Require(t).CmpNoError(err)
	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			require := td.Require(t)
			fnEnv, err := lambdarie.FunctionEnv(root, fn)
			require.CmpNoError(err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rt, err := lambdarie.Start(ctx, rie, bootstraps[fn], fnEnv)
			require.CmpNoError(err)
			defer rt.Close()

			res, err := rt.Invoke(ctx, []byte(`{}`))
			td.Cmp(t, err, td.Smuggle(func(e error) string { return e.Error() },
				td.All(td.HasPrefix(fn+": INIT failed (Runtime exited with error: exit status 1)"),
					td.Contains("missing environment variables: TABLE_NAME"))))
			td.Cmp(t, res.StatusCode, 502)
			td.Cmp(t, res.InitError, td.NotEmpty())
			td.Cmp(t, res.InitDuration, td.Gt(time.Duration(0)))
			t.Logf("%v", err)
		})
	}
}
