package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
)

// benchStack is what a benchmark runs against: the simulator over TLS, moto with the template's resources, a store
// whose DynamoDB calls are counted, and the real Graph client.
type benchStack struct {
	running *graphsim.Running
	moto    *localaws.Moto
	db      *countingDB
	store   *store.Store
	graph   *graph.Factory
}

// startBenchStack starts sim and moto (stack stackName); close stops both.
func startBenchStack(ctx context.Context, root string, sim *graphsim.Sim, stackName string) (_ *benchStack, closeFn func(), err error) {
	b := &benchStack{}
	closeFn = func() {
		if b.moto != nil {
			b.moto.Stop()
		}
		if b.running != nil {
			b.running.Close()
		}
	}
	defer func() {
		if err != nil {
			closeFn()
		}
	}()
	if b.running, err = sim.Start("127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	progress("starting moto_server")
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if b.moto, err = localaws.StartMoto(sctx, "127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	st, err := localaws.Provision(sctx, b.moto.Endpoint, filepath.Join(root, "template.yaml"), stackName, localaws.TestGraphCredentials)
	if err != nil {
		return nil, nil, fmt.Errorf("create local AWS resources: %w\nmoto_server output: %s", err, b.moto.Output())
	}
	awsCfg, err := st.AWSConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.db = &countingDB{Client: dynamodb.NewFromConfig(awsCfg)}
	b.store = store.New(b.db, st.TableName)
	b.graph, err = graph.New(graph.Config{
		AuthorityHost: b.running.AuthorityHost(), BaseURL: b.running.GraphURL(), RootCAs: b.running.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret,
	})
	if err != nil {
		return nil, nil, err
	}
	return b, closeFn, nil
}
