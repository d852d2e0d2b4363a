package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/seatwise/seatwise/infra/lambdarie"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
)

// Lambda benchmark settings.
const (
	deployArch = "arm64" // template.yaml: Architectures [arm64]
	initRuns   = 5
)

// benchLambda prints the binary size and INIT duration of every function.
func benchLambda(ctx context.Context, root string) (err error) {
	fns, err := lambdarie.Functions(root)
	if err != nil {
		return err
	}
	rie, err := lambdarie.EnsureRIE(root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "seatwise-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	progress("building %v for linux/%s (a cold build takes minutes)", fns, deployArch)
	deployed, err := lambdarie.BuildAll(ctx, root, fns, filepath.Join(tmp, "linux-"+deployArch), deployArch)
	if err != nil {
		return err
	}
	for _, fn := range fns {
		st, err := os.Stat(deployed[fn])
		if err != nil {
			return err
		}
		figure("lambda-"+fn, "binary_size", fmt.Sprintf("%.1fMB", float64(st.Size())/1e6))
	}

	host := deployed
	if runtime.GOARCH != deployArch {
		progress("building %v for linux/%s (the host, to run through rie)", fns, runtime.GOARCH)
		if host, err = lambdarie.BuildAll(ctx, root, fns, filepath.Join(tmp, "linux-"+runtime.GOARCH), runtime.GOARCH); err != nil {
			return err
		}
	}

	progress("starting moto_server and the Graph simulator")
	env, stopStack, err := startStack(ctx, root, tmp)
	if err != nil {
		return err
	}
	defer stopStack()

	var failed []string
	for _, fn := range fns {
		d, err := medianInit(ctx, root, rie, fn, host[fn], env)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: lambda-%s init_duration: %v\n", fn, err)
			failed = append(failed, "lambda-"+fn)
			continue
		}
		figure("lambda-"+fn, "init_duration", fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)))
	}
	if len(failed) > 0 {
		return fmt.Errorf("benchmarks failed to run: %v", failed)
	}
	return nil
}

// startStack starts moto_server with the template's resources and the Graph simulator, and returns the functions'
// environment for them.
func startStack(ctx context.Context, root, dir string) (env []string, stop func(), err error) {
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	moto, err := localaws.StartMoto(sctx, "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	st, err := localaws.Provision(sctx, moto.Endpoint, filepath.Join(root, "template.yaml"), "seatwise-bench", localaws.TestGraphCredentials)
	if err != nil {
		moto.Stop()
		return nil, nil, fmt.Errorf("create local AWS resources: %w\nmoto_server output: %s", err, moto.Output())
	}
	sim, err := graphsim.Start("127.0.0.1:0")
	if err != nil {
		moto.Stop()
		return nil, nil, err
	}
	stop = func() {
		sim.Close()
		moto.Stop()
	}
	caFile := filepath.Join(dir, "graphsim-ca.pem")
	if err := sim.WriteCAFile(caFile); err != nil {
		stop()
		return nil, nil, err
	}
	env = append(st.Env(),
		"GRAPH_AUTHORITY_HOST="+sim.URL+"/",
		"GRAPH_BASE_URL="+sim.URL+"/v1.0",
		"GRAPH_CA_FILE="+caFile,
	)
	return env, stop, nil
}

// medianInit starts fn through rie initRuns times, each time fresh, and returns the median INIT duration.
func medianInit(ctx context.Context, root, rie, fn, bootstrap string, env []string) (time.Duration, error) {
	fnEnv, err := lambdarie.FunctionEnv(root, fn)
	if err != nil {
		return 0, err
	}
	env = append(fnEnv, env...)
	event, err := benchEvent(root, fn)
	if err != nil {
		return 0, err
	}
	var runs []time.Duration
	for range initRuns {
		d, err := coldStart(ctx, rie, bootstrap, env, event)
		if err != nil {
			return 0, err
		}
		runs = append(runs, d)
	}
	slices.Sort(runs)
	return runs[len(runs)/2], nil
}

// coldStart starts a fresh runtime, invokes it once and returns the INIT duration of that first invocation.
func coldStart(ctx context.Context, rie, bootstrap string, env []string, event []byte) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rt, err := lambdarie.Start(ctx, rie, bootstrap, env)
	if err != nil {
		return 0, err
	}
	defer rt.Close()
	res, err := rt.Invoke(ctx, event)
	if err != nil {
		return 0, err
	}
	if res.FunctionError != "" {
		// INIT ran: the figure stands, but say that the sample event no longer works.
		fmt.Fprintf(os.Stderr, "bench: warning: %s returned an error: %s\n", rt.Name, res.FunctionError)
	}
	if res.InitDuration <= 0 {
		return 0, errors.New("rie reported no INIT duration")
	}
	return res.InitDuration, nil
}

// benchEvent returns the event to cold-start fn with: events/<fn>-health.json, else its first sample, else {}.
// INIT runs before the event is handled, so the event does not change the figure.
func benchEvent(root, fn string) ([]byte, error) {
	samples, err := filepath.Glob(filepath.Join(root, "events", fn+"-*.json"))
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return []byte(`{}`), nil
	}
	sort.Strings(samples)
	pick := samples[0]
	if h := filepath.Join(root, "events", fn+"-health.json"); slices.Contains(samples, h) {
		pick = h
	}
	return os.ReadFile(pick)
}
