// Command staging is the staging-queue consumer Lambda.
package main

import (
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/staging"
)

func main() {
	if _, err := config.FromEnv(config.NeedTable | config.NeedStagingQueue | config.NeedGraph); err != nil {
		log.Fatalf("staging: %v", err)
	}
	h := &staging.Handler{Log: slog.New(slog.NewJSONHandler(os.Stderr, nil))}
	lambda.Start(h.HandleBatch)
}
