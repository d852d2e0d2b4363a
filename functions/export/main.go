// Command export is the month-end export Lambda: the schedule's {"action":"month-end"}, a provider's
// {"action":"month-end","month":"YYYY-MM"}, and the export queue's messages (re-runs the API queued).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/logging"
	"github.com/seatwise/seatwise/shared/store"
)

func main() {
	cfg, err := config.FromEnv(config.NeedTable | config.NeedReportsBucket)
	if err != nil {
		log.Fatalf("export: %v", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("export: load AWS config: %v", err)
	}
	var db store.DynamoAPI = dynamodb.NewFromConfig(awsCfg)
	if cfg.IsolateTransactions {
		db = store.TxIsolated(db)
	}
	r := export.New(store.New(db, cfg.TableName), s3.NewFromConfig(awsCfg), cfg.ReportsBucket, cfg.Version,
		logging.New(cfg.LogLevel))
	lambda.Start(r.HandleEvent)
}
