package lambdarie

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Runtime is one aws-lambda-rie process emulating one function. It serves one invocation at a time; its first
// invocation starts the bootstrap and runs the INIT phase.
type Runtime struct {
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// URL is rie's invoke endpoint, http://127.0.0.1:PORT/2015-03-31/functions/function/invocations.
	URL string

	cmd       *exec.Cmd
	out       *lineLog
	exited    chan struct{}
	waitErr   error
	home      string
	client    *http.Client
	mu        sync.Mutex // one invocation at a time
	closeOnce sync.Once
}

// Result is the outcome of one invocation.
type Result struct {
	RequestID string
	// StatusCode is the HTTP status of rie's invoke endpoint: 200 when the function answered (a handler error
	// included), 502 when the runtime failed (e.g. it exited during INIT).
	StatusCode int
	// Payload is the response payload as the function returned it.
	Payload []byte
	// InitDuration is the INIT phase (bootstrap start → its first /runtime/invocation/next), measured by rie's
	// rapid core. It is non-zero only on the invocation that started the runtime.
	InitDuration time.Duration
	// Duration is the invocation proper (event handed to the runtime → its response), INIT excluded.
	Duration time.Duration
	// InitError says why INIT failed ("" when it did not run or succeeded).
	InitError string
	// FunctionError is "errorType: errorMessage" when the handler returned an error.
	FunctionError string
	// Report is rie's own REPORT line. Mind that its "Init Duration" is not the INIT phase (see the package
	// documentation); ReportLine gives the figures of this Result.
	Report string
	// Logs is what the function wrote during the invocation (rie's own log and START/END/REPORT lines excluded).
	Logs []string
	// RIELog is what rie logged during the invocation.
	RIELog []string
}

// ReportLine renders the invocation as a Lambda REPORT line, with the INIT phase measured by rapid.
func (r Result) ReportLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "REPORT RequestId: %s", r.RequestID)
	if r.InitDuration > 0 {
		fmt.Fprintf(&b, "\tInit Duration: %.2f ms", millis(r.InitDuration))
	}
	fmt.Fprintf(&b, "\tDuration: %.2f ms\tBilled Duration: %.f ms", millis(r.Duration), math.Ceil(millis(r.Duration)))
	if r.InitError != "" {
		fmt.Fprintf(&b, "\tStatus: init error")
	}
	return b.String()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reservedPorts are ports Start never uses: the dev stack's defaults (API 8080, moto 5000, simulator 8081) and
// rie's own defaults (8080, Runtime API 9001).
var reservedPorts = map[int]bool{5000: true, 8080: true, 8081: true, 9001: true}

// lambdaPath is the PATH of the Lambda execution environment.
const lambdaPath = "/usr/local/bin:/usr/bin:/bin"

var errEarlyExit = errors.New("aws-lambda-rie exited before it was ready")

// Start runs riePath emulating the function whose binary is bootstrap, on free loopback ports, and waits until it
// accepts invocations. ctx bounds the start only.
//
// The process environment is only PATH (the Lambda one), HOME (a fresh empty folder: no ~/.aws of the host),
// TZ=:UTC and AWS_LAMBDA_FUNCTION_NAME (the name of bootstrap's folder), then env (later entries win); rie passes
// it all to the function, with AWS_LAMBDA_RUNTIME_API added. Pass the function's settings (FunctionEnv) and its
// configuration in env.
func Start(ctx context.Context, riePath, bootstrap string, env []string) (*Runtime, error) {
	bootstrap, err := filepath.Abs(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("start rie: %w", err)
	}
	if st, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("start rie: bootstrap: %w", err)
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("start rie: bootstrap %s is not an executable file", bootstrap)
	}
	var lastErr error
	// Free ports are probed, then bound by rie: someone else may take one in between, so retry.
	for range 3 {
		rt, err := start(ctx, riePath, bootstrap, env)
		if err == nil {
			return rt, nil
		}
		lastErr = err
		if !errors.Is(err, errEarlyExit) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, riePath, bootstrap string, env []string) (*Runtime, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	apiAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))

	home, err := os.MkdirTemp("", "lambdarie-home-")
	if err != nil {
		return nil, fmt.Errorf("start rie: %w", err)
	}
	procEnv := mergeEnv(append([]string{
		"PATH=" + lambdaPath,
		"HOME=" + home,
		"TZ=:UTC",
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(filepath.Dir(bootstrap)),
	}, env...))
	name := filepath.Base(filepath.Dir(bootstrap))
	for _, kv := range procEnv {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_FUNCTION_NAME="); ok {
			name = v
		}
	}

	out := &lineLog{changed: make(chan struct{})}
	cmd := exec.Command(riePath,
		"--log-level", "info", // rie would otherwise take the function's LOG_LEVEL, and the INIT REPORT is at info
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap) // the function's working directory, like /var/task
	cmd.Env = procEnv
	cmd.Stdout = out // the same writer for both: one pipe, so rie's lines keep their order
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(home)
		return nil, fmt.Errorf("start %s: %w", riePath, err)
	}
	rt := &Runtime{
		Name:   name,
		URL:    "http://" + addr + "/2015-03-31/functions/function/invocations",
		cmd:    cmd,
		out:    out,
		exited: make(chan struct{}),
		home:   home,
		client: &http.Client{Transport: &http.Transport{}},
	}
	go func() {
		rt.waitErr = cmd.Wait()
		close(rt.exited)
	}()
	if err := rt.waitReady(ctx, addr); err != nil {
		rt.Close()
		return nil, err
	}
	return rt, nil
}

// waitReady waits until rie accepts connections (it starts the bootstrap only on the first invocation).
func (r *Runtime) waitReady(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		dctx, dcancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", addr)
		dcancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-r.exited:
			return fmt.Errorf("%s: %w (%v): %s", r.Name, errEarlyExit, r.waitErr, r.out.tail(20))
		case <-ctx.Done():
			return fmt.Errorf("%s: aws-lambda-rie did not listen on %s: %w; output: %s", r.Name, addr, ctx.Err(), r.out.tail(20))
		case <-tick.C:
		}
	}
}

// Invoke sends event to the function and waits for its response. It returns an error when the runtime produced no
// response: rie unreachable or gone, INIT failed, the invocation failed or timed out. A handler that returns an error
// is a response: Result.FunctionError says so and the error is nil.
func (r *Runtime) Invoke(ctx context.Context, event []byte) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{RequestID: newRequestID()}
	mark := r.out.end()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(event))
	if err != nil {
		return res, fmt.Errorf("%s: invoke: %w", r.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-RequestId", res.RequestID)
	resp, err := r.client.Do(req)
	if err == nil {
		res.StatusCode = resp.StatusCode
		res.Payload, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		select {
		case <-r.exited:
			return res, fmt.Errorf("%s: aws-lambda-rie exited (%v): %s", r.Name, r.waitErr, r.out.tail(20))
		default:
			return res, fmt.Errorf("%s: invoke: %w", r.Name, err)
		}
	}
	// rie writes its lines about the invocation before it answers; give the pipe reader a moment to catch up.
	r.out.waitFor(ctx, mark, 2*time.Second, func(l string) bool {
		return strings.HasPrefix(l, "REPORT RequestId: "+res.RequestID) || strings.Contains(l, "InvokeID="+res.RequestID)
	})
	res.parse(r.out.since(mark))

	switch {
	case res.InitError != "":
		return res, fmt.Errorf("%s: INIT failed (%s); function output:\n%s", r.Name, res.InitError, strings.Join(res.Logs, "\n"))
	case res.StatusCode != http.StatusOK:
		return res, fmt.Errorf("%s: invocation failed (HTTP %d): %s\nrie: %s\nfunction output:\n%s", r.Name, res.StatusCode,
			bytes.TrimSpace(res.Payload), strings.Join(res.RIELog, "\n"), strings.Join(res.Logs, "\n"))
	case !json.Valid(res.Payload) && bytes.HasPrefix(res.Payload, []byte("Task timed out")):
		return res, fmt.Errorf("%s: %s", r.Name, res.Payload)
	}
	var fnErr struct {
		Type    *string `json:"errorType"`
		Message *string `json:"errorMessage"`
	}
	if json.Unmarshal(res.Payload, &fnErr) == nil && (fnErr.Type != nil || fnErr.Message != nil) {
		res.FunctionError = strings.TrimPrefix(deref(fnErr.Type)+": "+deref(fnErr.Message), ": ")
	}
	return res, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var (
	initReportRe  = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	initRTDoneRe  = regexp.MustCompile(`INIT RTDONE\(status: (\w+)\)`)
	initFailedRe  = regexp.MustCompile(`Init failed .*?error=(.*?)(?: InvokeID=\S*)?$`)
	invokeDoneRe  = regexp.MustCompile(`INVOKE RTDONE\(status: \w+,.*duration: ([0-9.]+)ms\)`)
	reportDurRe   = regexp.MustCompile(`\tDuration: ([0-9.]+) ms`)
	rieLogLineTag = "] (rapid) "
)

// parse fills the durations, errors and logs of r from rie's output lines of the invocation.
func (r *Result) parse(lines []string) {
	initFailed := false
	for _, l := range lines {
		switch {
		case strings.Contains(l, rieLogLineTag):
			r.RIELog = append(r.RIELog, l)
			if m := initReportRe.FindStringSubmatch(l); m != nil && r.InitDuration == 0 {
				r.InitDuration = parseMillis(m[1])
			} else if m := initRTDoneRe.FindStringSubmatch(l); m != nil && m[1] != "success" {
				initFailed = true
			} else if m := initFailedRe.FindStringSubmatch(l); m != nil && r.InitError == "" {
				r.InitError = m[1]
			} else if m := invokeDoneRe.FindStringSubmatch(l); m != nil && r.Duration == 0 {
				r.Duration = parseMillis(m[1])
			}
		case strings.HasPrefix(l, "REPORT RequestId: "+r.RequestID):
			r.Report = strings.TrimSpace(l)
		case strings.HasPrefix(l, "START RequestId: "+r.RequestID), strings.HasPrefix(l, "END RequestId: "+r.RequestID):
		default:
			r.Logs = append(r.Logs, l)
		}
	}
	if initFailed && r.InitError == "" {
		r.InitError = "the runtime failed during INIT"
	}
	if r.Duration == 0 && r.Report != "" {
		if m := reportDurRe.FindStringSubmatch(r.Report); m != nil {
			r.Duration = parseMillis(m[1]) - r.InitDuration // rie's REPORT Duration includes INIT
		}
	}
}

func parseMillis(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond))
}

// Output returns rie's last n output lines (for diagnostics).
func (r *Runtime) Output(n int) string { return r.out.tail(n) }

// Close stops rie and the function's process (SIGTERM, then SIGKILL after 5 s) and waits for rie. It is safe to
// call more than once.
func (r *Runtime) Close() error {
	r.closeOnce.Do(func() {
		pid := r.cmd.Process.Pid
		// rie starts the bootstrap in a process group of its own: note it before rie goes.
		children := childProcesses(pid)
		select {
		case <-r.exited: // already gone (and reaped: its pid may be someone else's now)
		default:
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			select {
			case <-r.exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				<-r.exited
			}
		}
		for _, c := range children {
			if _, start, ok := procStat(c.pid); ok && start == c.start {
				_ = syscall.Kill(-c.pid, syscall.SIGKILL)
				_ = syscall.Kill(c.pid, syscall.SIGKILL)
			}
		}
		r.client.CloseIdleConnections()
		os.RemoveAll(r.home)
	})
	return nil
}

type process struct {
	pid   int
	start uint64 // start time in clock ticks since boot: tells a pid apart from a later reuse
}

// childProcesses lists the live children of pid (Linux /proc).
func childProcesses(pid int) []process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []process
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, start, ok := procStat(p); ok && ppid == pid {
			out = append(out, process{pid: p, start: start})
		}
	}
	return out
}

// procStat returns a process's parent pid and start time from /proc/PID/stat.
func procStat(pid int) (ppid int, start uint64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp … starttime(22nd field) …"; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	return ppid, start, err1 == nil && err2 == nil
}

// freePorts returns n distinct free loopback ports, none of them reserved.
func freePorts(n int) ([]int, error) {
	var ports []int
	var holds []net.Listener
	defer func() {
		for _, l := range holds {
			l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 50 {
			return nil, errors.New("find free loopback ports: none found")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		holds = append(holds, l)
		p := l.Addr().(*net.TCPAddr).Port
		if !reservedPorts[p] {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// mergeEnv keeps the last value of each variable, in the order of first appearance.
func mergeEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// lineLog collects a process's output as lines, keeping the last maxLogLines.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	dropped int // lines dropped from the front
	partial []byte
	changed chan struct{} // closed and replaced on every new line
}

const maxLogLines = 20000

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, strings.TrimRight(string(l.partial[:i]), "\r"))
		l.partial = l.partial[i+1:]
		added = true
	}
	l.partial = append([]byte(nil), l.partial...)
	if over := len(l.lines) - maxLogLines; over > 0 {
		l.lines = append([]string(nil), l.lines[over:]...)
		l.dropped += over
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(p), nil
}

// end returns the number of lines written so far: a mark for since.
func (l *lineLog) end() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped + len(l.lines)
}

// since returns the lines written after mark.
func (l *lineLog) since(mark int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := max(mark-l.dropped, 0)
	if i > len(l.lines) {
		return nil
	}
	return append([]string(nil), l.lines[i:]...)
}

// waitFor waits until a line after mark satisfies ok, for at most timeout.
func (l *lineLog) waitFor(ctx context.Context, mark int, timeout time.Duration, ok func(string) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	seen := mark
	for {
		l.mu.Lock()
		ch := l.changed
		start := max(seen-l.dropped, 0)
		lines := l.lines[min(start, len(l.lines)):]
		for _, line := range lines {
			if ok(line) {
				l.mu.Unlock()
				return true
			}
		}
		seen = l.dropped + len(l.lines)
		l.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// tail returns the last n lines, joined.
func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines[max(len(l.lines)-n, 0):]
	if len(l.partial) > 0 {
		lines = append(append([]string(nil), lines...), string(l.partial))
	}
	return strings.Join(lines, "\n")
}
