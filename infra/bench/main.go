// Command bench runs Seatwise's benchmarks (DESIGN.md §11) and prints one line per figure:
//
//	bench <benchmark> <metric>=<value><unit> [floor=<value><unit> ratio=<value>]
//
// Arguments name the benchmarks to run (lambda, sync, assign, usage, export); none runs them all. assign.go measures
// 1,000 licence assignments through the licensing bulk path (benchmark assign-1000); usage.go the licence usage
// (factor counts) of a 50,000-user customer (benchmark usage-factors-50k); export.go the month-end export of 1,000
// customers × 5 sites × 30 daily snapshots (benchmark export-1000).
//
// lambda.go measures the Lambda cold start of each function (benchmark lambda-<fn>):
//   - binary_size: the stripped linux/arm64 bootstrap, as deployed (MB = 10^6 bytes);
//   - init_duration: the INIT phase through aws-lambda-rie (bootstrap start → its first /runtime/invocation/next,
//     as rie's rapid core measures it), for a bootstrap built for the host architecture, median of 5 fresh starts,
//     against a local moto_server and Graph simulator that bench starts itself.
//
// It exits non-zero only when a benchmark fails to run, never because a figure is slow.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/seatwise/seatwise/shared/localaws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run runs the benchmarks: all of them, or those named as arguments ("lambda", "sync", "assign", "usage", "export").
// Each lives in a file of its own (lambda.go: the Lambda cold start; sync.go: the tenant sync at scale; assign.go:
// bulk licence assignment; usage.go: the licence usage audit at scale; export.go: the month-end export at scale).
// One that fails to run does not stop the others.
func run(ctx context.Context) error {
	root, err := localaws.RepoRoot()
	if err != nil {
		return err
	}
	benches := []struct {
		name string
		run  func(context.Context, string) error
	}{
		{"lambda", benchLambda},
		{"sync", benchSync},
		{"assign", benchAssign},
		{"usage", benchUsage},
		{"export", benchExport},
	}
	want := map[string]bool{}
	for _, a := range os.Args[1:] {
		want[a] = true
	}
	all := len(want) == 0
	var errs []error
	for _, b := range benches {
		if !all && !want[b.name] {
			continue
		}
		delete(want, b.name)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := b.run(ctx, root); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.name, err))
		}
	}
	for name := range want {
		errs = append(errs, fmt.Errorf("unknown benchmark %q (want lambda, sync, assign, usage or export)", name))
	}
	return errors.Join(errs...)
}

// figure prints one result line.
func figure(benchmark, metric, value string) {
	fmt.Printf("bench %s %s=%s\n", benchmark, metric, value)
}

// progress reports what bench is doing, on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
