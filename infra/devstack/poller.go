package devstack

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// poller stands in for Lambda's SQS event source mapping: it receives batches, hands them to the same handler as
// the Lambda, and deletes the messages the handler did not report as failed (ReportBatchItemFailures). Failed
// messages become visible again after the visibility timeout and reach the DLQ through the redrive policy.
type poller struct {
	sqs    *sqs.Client
	url    string
	arn    string
	wait   time.Duration
	log    *slog.Logger
	handle func(context.Context, events.SQSEvent) events.SQSEventResponse
}

func queueARN(name string) string { return "arn:aws:sqs:us-east-1:123456789012:" + name }

func (p *poller) run(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &p.url, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("receive failed", "queue", p.url, "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(out.Messages) == 0 {
			sleep(ctx, p.wait)
			continue
		}
		p.deliver(ctx, out.Messages)
	}
}

func (p *poller) deliver(ctx context.Context, msgs []types.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		ev.Records[i] = events.SQSMessage{
			MessageId: deref(m.MessageId), ReceiptHandle: deref(m.ReceiptHandle), Body: deref(m.Body),
			Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: p.arn, AWSRegion: "us-east-1",
		}
	}
	resp := p.handle(ctx, ev)
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if failed[deref(m.MessageId)] {
			continue
		}
		if _, err := p.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &p.url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			p.log.Error("delete failed", "queue", p.url, "err", err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
