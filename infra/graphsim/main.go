// Command graphsim runs the simulated Microsoft cloud (Entra ID token endpoint and Microsoft Graph) with the demo
// tenants, in the foreground, over TLS with a certificate it generates (`make graphsim`).
//
// Environment:
//
//	GRAPH_SIM_ADDR     listen address (default 127.0.0.1:8081)
//	GRAPH_SIM_CA_FILE  where to write the CA certificate clients must trust (default .local/graphsim-ca.pem)
//	GRAPH_SIM_SEED     seed of the generated tenants and of fault injection (default 0)
//	GRAPH_SIM_LARGE_USERS  people in the generated large tenant, "Northwind Traders N" (default 50000; 0 = none)
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/seatwise/seatwise/shared/graphsim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "graphsim:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := env("GRAPH_SIM_ADDR", "127.0.0.1:8081")
	caFile := env("GRAPH_SIM_CA_FILE", filepath.Join(".local", "graphsim-ca.pem"))
	var seed uint64
	if v := os.Getenv("GRAPH_SIM_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("GRAPH_SIM_SEED=%q is not a non-negative integer", v)
		}
		seed = n
	}

	large := 50_000
	if v := os.Getenv("GRAPH_SIM_LARGE_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 50_000 {
			return fmt.Errorf("GRAPH_SIM_LARGE_USERS=%q is not a number between 0 and 50000", v)
		}
		large = n
	}

	sim := graphsim.New(graphsim.Options{Seed: seed})
	if large > 0 {
		start := time.Now()
		if err := sim.AddTenant(graphsim.LargeTenant(large)); err != nil {
			return err
		}
		fmt.Printf("Generated the %d-user tenant in %v\n", large, time.Since(start).Round(time.Millisecond))
	}
	srv, err := sim.Start(addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %s is in use: stop what holds it or set GRAPH_SIM_ADDR", addr)
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.WriteCAFile(caFile); err != nil {
		return err
	}
	absCA, _ := filepath.Abs(caFile)

	fmt.Printf("Graph simulator listening on %s\n", srv.URL)
	fmt.Printf("  authority host  GRAPH_AUTHORITY_HOST=%s\n", srv.AuthorityHost())
	fmt.Printf("  Graph base URL  GRAPH_BASE_URL=%s\n", srv.GraphURL())
	fmt.Printf("  CA certificate  GRAPH_CA_FILE=%s\n", absCA)
	fmt.Printf("  app credentials clientId=%s clientSecret=%s\n", graphsim.ClientID, graphsim.ClientSecret)
	fmt.Println("  tenants:")
	for _, t := range sim.Tenants() {
		fmt.Printf("    %s  %-24s %-36s %5d users %3d SKUs\n", t.ID, t.Name, t.Domain, t.UserCount, t.SKUCount)
	}
	fmt.Printf("  control: GET %[1]s/_sim/tenants | PUT %[1]s/_sim/faults | GET %[1]s/_sim/stats | POST %[1]s/_sim/reset\n", srv.URL)
	fmt.Printf("  e.g. curl --cacert %s -X PUT %s/_sim/faults -d '{\"rate429\":0.1,\"retryAfterSeconds\":1}'\n", absCA, srv.URL)
	fmt.Println("Ctrl-C stops it.")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	fmt.Println("\ngraphsim: stopped")
	return nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
