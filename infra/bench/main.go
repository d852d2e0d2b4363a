// Command bench runs Seatwise's benchmarks (DESIGN.md §11) and prints one line per figure:
//
//	bench <benchmark> <metric>=<value><unit>
//
// This part measures the Lambda cold start of each function (benchmark lambda-<fn>):
//   - binary_size: the stripped linux/arm64 bootstrap, as deployed (MB = 10^6 bytes);
//   - init_duration: the INIT phase through aws-lambda-rie (bootstrap start → its first /runtime/invocation/next,
//     as rie's rapid core measures it), for a bootstrap built for the host architecture, median of 5 fresh starts,
//     against a local moto_server and Graph simulator that bench starts itself.
//
// It exits non-zero only when a benchmark fails to run, never because a figure is slow.
package main

import (
	"context"
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

// run runs every benchmark. Each benchmark lives in a file of its own (lambda.go: the Lambda cold start).
func run(ctx context.Context) error {
	root, err := localaws.RepoRoot()
	if err != nil {
		return err
	}
	return benchLambda(ctx, root)
}

// figure prints one result line.
func figure(benchmark, metric, value string) {
	fmt.Printf("bench %s %s=%s\n", benchmark, metric, value)
}

// progress reports what bench is doing, on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
