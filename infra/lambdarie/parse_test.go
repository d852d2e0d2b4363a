package lambdarie

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"
)

// Lines as the pinned aws-lambda-rie prints them (logrus orders a line's fields at random).
func TestResultParse(t *testing.T) {
	const id = "f3e66bfe-2fc5-4fbf-a39e-72a80a82bdb6"
	t.Run("first invocation", func(t *testing.T) {
		r := Result{RequestID: id}
		r.parse([]string{
			"START RequestId: " + id + " Version: $LATEST",
			"24 Nov 2026 21:15:59,024 [INFO] (rapid) INIT START(type: on-demand, phase: init)",
			"init output",
			"24 Nov 2026 21:15:59,532 [INFO] (rapid) INIT RTDONE(status: success)",
			"24 Nov 2026 21:15:59,532 [INFO] (rapid) INIT REPORT(durationMs: 507.812000)",
			"24 Nov 2026 21:15:59,532 [INFO] (rapid) INVOKE START(requestId: " + id + ")",
			`{"level":"INFO","msg":"handled"}`,
			"24 Nov 2026 21:15:59,636 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 104.329000ms)",
			"END RequestId: " + id,
			"REPORT RequestId: " + id + "\tInit Duration: 0.02 ms\tDuration: 612.32 ms\tBilled Duration: 613 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t",
		})
		td.Cmp(t, r.InitDuration, 507812*time.Microsecond)
		td.Cmp(t, r.Duration, 104329*time.Microsecond)
		td.Cmp(t, r.InitError, "")
		td.Cmp(t, r.Logs, []string{"init output", `{"level":"INFO","msg":"handled"}`})
		td.Cmp(t, r.Report, td.HasPrefix("REPORT RequestId: "+id))
		td.Cmp(t, r.RIELog, td.Len(5))
		td.Cmp(t, r.ReportLine(), "REPORT RequestId: "+id+"\tInit Duration: 507.81 ms\tDuration: 104.33 ms\tBilled Duration: 105 ms")
	})
	t.Run("warm invocation without RTDONE", func(t *testing.T) {
		r := Result{RequestID: id}
		r.parse([]string{"REPORT RequestId: " + id + "\tDuration: 1.50 ms\tBilled Duration: 2 ms\t"})
		td.Cmp(t, r.InitDuration, time.Duration(0))
		td.Cmp(t, r.Duration, 1500*time.Microsecond)
	})
	for name, line := range map[string]string{
		"error first":    "24 Nov 2026 21:16:14,666 [ERROR] (rapid) Init failed error=Runtime exited with error: exit status 1 InvokeID=",
		"invokeID first": "24 Nov 2026 21:16:14,666 [ERROR] (rapid) Init failed InvokeID= error=Runtime exited with error: exit status 1",
	} {
		t.Run("init failed, "+name, func(t *testing.T) {
			r := Result{RequestID: id}
			r.parse([]string{
				"2026/11/24 21:21:57 api: config: missing environment variables: TABLE_NAME",
				"24 Nov 2026 21:16:14,666 [INFO] (rapid) INIT RTDONE(status: error)",
				"24 Nov 2026 21:16:14,666 [INFO] (rapid) INIT REPORT(durationMs: 5.839000)",
				line,
				"24 Nov 2026 21:16:14,666 [INFO] (rapid) INIT REPORT(durationMs: 0.012000)",
			})
			td.Cmp(t, r.InitError, "Runtime exited with error: exit status 1")
			td.Cmp(t, r.InitDuration, 5839*time.Microsecond)
			td.Cmp(t, r.Logs, []string{"2026/11/24 21:21:57 api: config: missing environment variables: TABLE_NAME"})
		})
	}
}

func TestMergeEnv(t *testing.T) {
	td.Cmp(t, mergeEnv([]string{"A=1", "B=2", "A=3", "C=x=y"}), []string{"A=3", "B=2", "C=x=y"})
}
