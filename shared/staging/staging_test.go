package staging

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/maxatome/go-testdeep/td"
)

func TestHandleBatchReportsMalformedMessages(t *testing.T) {
	h := &Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	resp, err := h.HandleBatch(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ok", Body: `{"customerId":"c1","userId":"u1"}`},
		{MessageId: "not-json", Body: `{`},
		{MessageId: "no-user", Body: `{"customerId":"c1"}`},
	}})
	td.CmpNoError(t, err)
	td.Cmp(t, resp.BatchItemFailures, []events.SQSBatchItemFailure{{ItemIdentifier: "not-json"}, {ItemIdentifier: "no-user"}})
}
