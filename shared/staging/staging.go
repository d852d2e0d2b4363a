// Package staging consumes the staging queue: users waiting to appear in Teams before they are provisioned.
//
// This first version validates and acknowledges each check and reports malformed messages as batch item failures
// (so that they end in the DLQ); the readiness check and provisioning arrive with the staging issue.
package staging

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/seatwise/seatwise/shared/queue"
)

// Handler processes staging-queue batches.
type Handler struct {
	Log *slog.Logger
}

// HandleBatch processes one SQS batch and reports the messages to retry.
func (h *Handler) HandleBatch(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		check, err := decode(m.Body)
		if err != nil {
			h.Log.ErrorContext(ctx, "malformed staging message", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		h.Log.InfoContext(ctx, "staging check received", "customer", check.CustomerID, "user", check.UserID)
	}
	return resp, nil
}

func decode(body string) (queue.StagingCheck, error) {
	var c queue.StagingCheck
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return c, fmt.Errorf("decode staging check: %w", err)
	}
	if c.CustomerID == "" || c.UserID == "" {
		return c, fmt.Errorf("staging check needs customerId and userId: %.200s", body)
	}
	return c, nil
}
