// Command staging is the staging-queue consumer Lambda.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/seatwise/seatwise/shared/app"
	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/staging"
)

func main() {
	a, err := app.FromEnv(context.Background(), config.NeedTable|config.NeedStagingQueue|config.NeedGraph)
	if err != nil {
		log.Fatalf("staging: %v", err)
	}
	h := &staging.Handler{Service: a.Staging, Log: a.Log}
	lambda.Start(h.HandleBatch)
}
