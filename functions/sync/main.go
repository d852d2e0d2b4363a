// Command sync is the sync Lambda: the schedules' fan-outs (due syncs, the daily usage snapshots) and the jobs-queue
// worker (a customer's sync, its usage snapshot).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/seatwise/seatwise/shared/app"
	"github.com/seatwise/seatwise/shared/config"
)

func main() {
	a, err := app.FromEnv(context.Background(), config.NeedTable|config.NeedJobsQueue|config.NeedStagingQueue|config.NeedGraph)
	if err != nil {
		log.Fatalf("sync: %v", err)
	}
	lambda.Start(a.Sync.HandleEvent)
}
