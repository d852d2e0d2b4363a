// Package lambdarie builds Seatwise's Lambda functions as the Linux `bootstrap` binaries SAM deploys and runs them
// through aws-lambda-rie, the AWS Lambda Runtime Interface Emulator: `sam local invoke` without Docker. The event
// tests, `make invoke` and the cold-start benchmark use it.
//
// How the pinned rie behaves (checked against its source and by running it):
//   - `aws-lambda-rie [--log-level L] [--runtime-interface-emulator-address H:P] [--runtime-api-address H:P] CMD…`
//     serves POST /2015-03-31/functions/function/invocations on the emulator address (default 0.0.0.0:8080) and the
//     Runtime API for the function on the runtime API address (default 127.0.0.1:9001). CMD is the bootstrap; it is
//     started lazily, on the first invocation, with rie's own environment (plus AWS_LAMBDA_RUNTIME_API and
//     defaults such as AWS_LAMBDA_FUNCTION_NAME) and rie's working directory. rie has no --help: it would run "--help"
//     as the bootstrap.
//   - It prints START/END/REPORT lines and the function's output on stdout, and its own log ("(rapid)") on stderr.
//     Its REPORT line's "Init Duration" is not the INIT phase: init runs asynchronously and that figure only times
//     handing it over (≈0.03 ms), while the REPORT "Duration" of the first invocation includes the whole INIT. The
//     real figures are in rapid's log: "INIT REPORT(durationMs: …)" (process start → the runtime's first
//     /invocation/next, what Lambda reports as Init Duration) and "INVOKE RTDONE(…, duration: …ms)". Result uses those.
//   - A function that exits during INIT makes the invocation answer HTTP 502 with an empty body; rapid logs
//     "INIT RTDONE(status: error)" and "Init failed error=…".
//   - The environment variable LOG_LEVEL also sets rie's log level, so Start passes --log-level info explicitly.
package lambdarie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Functions lists the Lambda functions of the repository at root: the folders functions/<name> that hold a main.go.
func Functions(root string) ([]string, error) {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var fns []string
	for _, m := range mains {
		fns = append(fns, filepath.Base(filepath.Dir(m)))
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("list functions: no functions/*/main.go under %s", root)
	}
	sort.Strings(fns)
	return fns, nil
}

// CheckFunction returns an error naming the known functions when fn is not one of them.
func CheckFunction(root, fn string) error {
	fns, err := Functions(root)
	if err != nil {
		return err
	}
	for _, f := range fns {
		if f == fn {
			return nil
		}
	}
	return fmt.Errorf("unknown function %q: want one of %s", fn, strings.Join(fns, ", "))
}

// Build builds functions/<fn> of the repository at root as a stripped static Linux binary for goarch, the way it
// is deployed (CGO_ENABLED=0 GOOS=linux, -tags lambda.norpc -trimpath -ldflags="-s -w"), and returns its path,
// outDir/<fn>/bootstrap.
func Build(ctx context.Context, root, fn, outDir, goarch string) (string, error) {
	out, err := BuildAll(ctx, root, []string{fn}, outDir, goarch)
	if err != nil {
		return "", err
	}
	return out[fn], nil
}

// BuildAll builds several functions as Build does, in one `go build` (the packages compile and link in parallel
// and share the work), and returns each function's bootstrap path by name.
func BuildAll(ctx context.Context, root string, fns []string, outDir, goarch string) (map[string]string, error) {
	if len(fns) == 0 {
		return nil, errors.New("build: no functions given")
	}
	if goarch == "" {
		return nil, errors.New("build: no GOARCH given")
	}
	for _, fn := range fns {
		if err := CheckFunction(root, fn); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	outDir, err := filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// `go build -o DIR pkg…` names each binary after its package's last path element; link into a scratch folder
	// beside the results and move each binary to <fn>/bootstrap (a rename on the same file system).
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	scratch, err := os.MkdirTemp(outDir, ".build-")
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(scratch)

	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", scratch + string(filepath.Separator)}
	for _, fn := range fns {
		args = append(args, "./functions/"+fn)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s for linux/%s: %w\n%s", strings.Join(fns, ", "), goarch, err,
			strings.TrimSpace(out.String()))
	}
	paths := make(map[string]string, len(fns))
	for _, fn := range fns {
		dst := filepath.Join(outDir, fn, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		if err := os.Rename(filepath.Join(scratch, fn), dst); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		paths[fn] = dst
	}
	return paths, nil
}

// FunctionEnv returns the Lambda settings rie should emulate for functions/<fn>, read from template.yaml at root:
// AWS_LAMBDA_FUNCTION_NAME=<fn>, and AWS_LAMBDA_FUNCTION_TIMEOUT (seconds) and AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB)
// from the function's Timeout and MemorySize, or the template's Globals. A setting the template does not give is
// left out (rie then uses its defaults, 300 s and 3008 MB).
func FunctionEnv(root, fn string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, fmt.Errorf("function settings: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("function settings: template.yaml: %w", err)
	}
	var top *yaml.Node
	if len(doc.Content) > 0 {
		top = doc.Content[0]
	}
	globals := mapGet(mapGet(top, "Globals"), "Function")
	var props *yaml.Node
	resources := mapGet(top, "Resources")
	if resources != nil && resources.Kind == yaml.MappingNode {
		for i := 1; i < len(resources.Content); i += 2 {
			res := resources.Content[i]
			p := mapGet(res, "Properties")
			if scalar(mapGet(res, "Type")) == "AWS::Serverless::Function" &&
				strings.TrimSuffix(scalar(mapGet(p, "CodeUri")), "/") == "functions/"+fn {
				props = p
				break
			}
		}
	}
	env := []string{"AWS_LAMBDA_FUNCTION_NAME=" + fn}
	for _, s := range []struct{ key, envName string }{
		{"Timeout", "AWS_LAMBDA_FUNCTION_TIMEOUT"},
		{"MemorySize", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"},
	} {
		v := scalar(mapGet(props, s.key))
		if v == "" {
			v = scalar(mapGet(globals, s.key))
		}
		if _, err := strconv.Atoi(v); err == nil {
			env = append(env, s.envName+"="+v)
		}
	}
	return env, nil
}

// mapGet returns the value of key in mapping node n, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar returns the value of a plain scalar node ("" for anything else, e.g. !Ref).
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return ""
	}
	return n.Value
}
