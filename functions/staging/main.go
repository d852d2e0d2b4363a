// Command staging is the staging-queue consumer Lambda.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/logging"
	"github.com/seatwise/seatwise/shared/staging"
)

func main() {
	cfg, err := config.FromEnv(config.NeedTable | config.NeedStagingQueue | config.NeedGraph)
	if err != nil {
		log.Fatalf("staging: %v", err)
	}
	h := &staging.Handler{Log: logging.New(cfg.LogLevel)}
	lambda.Start(h.HandleBatch)
}
