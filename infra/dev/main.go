// Command dev runs the whole of Seatwise on this machine (`make dev`): local AWS in moto_server, the Graph
// simulator, the API and the SPA. Ctrl-C stops everything it started.
//
// Environment: PORT (default 8080), MOTO_PORT (default 5000), GRAPH_SIM_ADDR (default 127.0.0.1:8081).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/seatwise/seatwise/infra/devstack"
	"github.com/seatwise/seatwise/shared/localaws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := localaws.RepoRoot()
	if err != nil {
		fail(err)
	}
	s, err := devstack.Start(ctx, devstack.Options{
		Addr:      "127.0.0.1:" + env("PORT", "8080"),
		MotoAddr:  "127.0.0.1:" + env("MOTO_PORT", "5000"),
		GraphAddr: env("GRAPH_SIM_ADDR", "127.0.0.1:8081"),
		Root:      root,
		Log:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf(`
Seatwise is running.
  SPA and API:      %s   (health: %s/api/v1/health)
  Sign in:          open the URL and choose a role on the local sign-in page, or get a token with
                    curl -s -XPOST %s/_dev/token -d '{"role":"provider-admin","scope":["*"],"name":"Dev Admin"}' -H 'Content-Type: application/json'
  Graph simulator:  %s   (tenants: %s/_sim/tenants; CA: %s)
  Local AWS (moto): %s
  Functions' env:   %s   (used by make invoke)
Demo tenants to add as customers: Contoso Dental 7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11, Fabrikam Legal a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
Press Ctrl-C to stop.
`, s.URL, s.URL, s.URL, s.GraphURL, s.GraphURL, os.Getenv("GRAPH_CA_FILE"), s.AWS.Endpoint, s.EnvFile)
	<-ctx.Done()
	fmt.Println("stopping…")
	s.Close()
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "make dev: %v\n", err)
	os.Exit(1)
}
