// Command api is the HTTP API Lambda: API Gateway HTTP API (payload v2) → echo.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	echoadapter "github.com/awslabs/aws-lambda-go-api-proxy/echo"

	"github.com/seatwise/seatwise/shared/app"
	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/httpapi"
)

func main() {
	a, err := app.FromEnv(context.Background(), config.NeedTable|config.NeedJobsQueue|config.NeedStagingQueue|config.NeedExportQueue|config.NeedReportsBucket|config.NeedGraph)
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	lambda.Start(echoadapter.NewV2(a.API(httpapi.LambdaClaims)).ProxyWithContext)
}
