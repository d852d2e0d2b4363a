// Command invoke runs one Lambda function once with an event, through aws-lambda-rie, against the running local
// stack: `sam local invoke` without Docker.
//
//	make invoke FN=api EVENT=events/api-health.json
//	go run ./infra/invoke -fn api -event events/api-health.json
//
// It reads the functions' environment from .local/functions.env (written by the running `make dev`), builds
// functions/<fn> as a Linux bootstrap for the host architecture (into .local/lambda/linux-<arch>/<fn>/bootstrap),
// installs aws-lambda-rie into ./bin when missing, and invokes the function once. The response payload goes to
// stdout (pretty JSON); the function's output and the REPORT line go to stderr. It exits 1 when the invocation
// fails or the handler returns an error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/seatwise/seatwise/infra/lambdarie"
	"github.com/seatwise/seatwise/shared/localaws"
)

const usage = "usage: make invoke FN=<function> EVENT=events/<file>.json"

func main() {
	fn := flag.String("fn", "", "the function: a folder of functions/")
	event := flag.String("event", "", "the event file, e.g. events/api-health.json")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *fn, *event); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, fn, eventPath string) error {
	root, err := localaws.RepoRoot()
	if err != nil {
		return err
	}
	if fn == "" {
		fns, _ := lambdarie.Functions(root)
		return fmt.Errorf("no function given (FN=%s)\n%s", strings.Join(fns, "|"), usage)
	}
	if err := lambdarie.CheckFunction(root, fn); err != nil {
		return err
	}
	if eventPath == "" {
		samples, _ := filepath.Glob(filepath.Join(root, "events", fn+"-*.json"))
		for i, s := range samples {
			samples[i], _ = filepath.Rel(root, s)
		}
		return fmt.Errorf("no event given (EVENT=<file>; samples for %s: %s)\n%s", fn, strings.Join(samples, ", "), usage)
	}
	event, err := readEvent(root, eventPath)
	if err != nil {
		return err
	}
	envFile := filepath.Join(root, ".local", "functions.env")
	env, err := readEnvFile(envFile)
	if err != nil {
		return err
	}
	if err := checkStackUp(env); err != nil {
		return err
	}
	fnEnv, err := lambdarie.FunctionEnv(root, fn)
	if err != nil {
		return err
	}

	rie, err := lambdarie.EnsureRIE(root)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "building functions/%s for linux/%s …\n", fn, runtime.GOARCH)
	bootstrap, err := lambdarie.Build(ctx, root, fn, filepath.Join(root, ".local", "lambda", "linux-"+runtime.GOARCH), runtime.GOARCH)
	if err != nil {
		return err
	}
	rt, err := lambdarie.Start(ctx, rie, bootstrap, append(fnEnv, env...))
	if err != nil {
		return err
	}
	defer rt.Close()

	res, err := rt.Invoke(ctx, event)
	for _, l := range res.Logs {
		fmt.Fprintln(os.Stderr, l)
	}
	if err != nil {
		return err
	}
	fmt.Println(prettyJSON(res.Payload))
	fmt.Fprintln(os.Stderr, res.ReportLine())
	if res.FunctionError != "" {
		return fmt.Errorf("%s returned an error: %s", fn, res.FunctionError)
	}
	return nil
}

// readEvent reads the event file (relative to the working directory, else to the repository root) and checks that
// it is JSON.
func readEvent(root, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !filepath.IsAbs(path) {
		data, err = os.ReadFile(filepath.Join(root, path))
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("event file %s does not exist (the samples are in events/)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("event file: %w", err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("event file %s is not valid JSON", path)
	}
	return data, nil
}

// readEnvFile reads KEY=VALUE lines (blank lines and # comments skipped).
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("start the local stack first: make dev (in another terminal)")
	}
	if err != nil {
		return nil, fmt.Errorf("read the functions' environment: %w", err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, ok := strings.Cut(line, "="); !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE, got %q", path, n, line)
		}
		env = append(env, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return env, nil
}

// checkStackUp fails clearly when the stack that wrote the environment file is no longer running.
func checkStackUp(env []string) error {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "AWS_ENDPOINT_URL" && k != "GRAPH_BASE_URL" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Port() == "" {
			continue
		}
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			return fmt.Errorf("the local stack is not running (nothing answers %s from .local/functions.env): "+
				"start the local stack first: make dev (in another terminal)", v)
		}
		c.Close()
	}
	return nil
}

// prettyJSON indents a JSON payload (anything else is returned as it is).
func prettyJSON(payload []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, payload, "", "  "); err != nil {
		return string(payload)
	}
	return b.String()
}
