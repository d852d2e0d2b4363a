// Command export is the month-end export Lambda.
package main

import (
	"log"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/logging"
)

func main() {
	cfg, err := config.FromEnv(config.NeedTable | config.NeedReportsBucket)
	if err != nil {
		log.Fatalf("export: %v", err)
	}
	r := &export.Runner{Bucket: cfg.ReportsBucket, Now: time.Now, Log: logging.New(cfg.LogLevel)}
	lambda.Start(r.Handle)
}
