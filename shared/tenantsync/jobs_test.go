package tenantsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/tenantsync"
)

// Jobs of other types than sync go to the handler registered for their type; scheduled actions other than
// enqueue-due to theirs. Neither needs the store.
func TestOtherJobTypesAndActions(t *testing.T) {
	ctx := context.Background()
	var got []queue.Job
	svc := &tenantsync.Service{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handlers: map[string]tenantsync.JobHandler{
			queue.TypeSnapshot: func(_ context.Context, job queue.Job) error {
				got = append(got, job)
				if job.CustomerID == "broken" {
					return errors.New("snapshot failed")
				}
				return nil
			},
		},
		Actions: map[string]tenantsync.ActionHandler{
			"snapshot-all": func(context.Context) (any, error) { return map[string]int{"enqueued": 3}, nil },
		},
	}
	body := func(j queue.Job) string {
		b, err := json.Marshal(j)
		td.Require(t).CmpNoError(err)
		return string(b)
	}
	resp := svc.HandleJobs(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: body(queue.Job{Type: queue.TypeSnapshot, CustomerID: "c1", RequestedBy: "schedule"})},
		{MessageId: "m2", Body: body(queue.Job{Type: queue.TypeSnapshot, CustomerID: "broken"})},
		{MessageId: "m3", Body: body(queue.Job{Type: "dance", CustomerID: "c1"})},
		{MessageId: "m4", Body: "not json"},
	}})
	td.Cmp(t, got, []queue.Job{
		{Type: queue.TypeSnapshot, CustomerID: "c1", RequestedBy: "schedule"},
		{Type: queue.TypeSnapshot, CustomerID: "broken"},
	})
	td.Cmp(t, resp.BatchItemFailures, []events.SQSBatchItemFailure{
		{ItemIdentifier: "m2"}, // the handler failed: retried
		{ItemIdentifier: "m3"}, // no handler for the type
		{ItemIdentifier: "m4"},
	})

	res, err := svc.HandleEvent(ctx, []byte(`{"action":"snapshot-all"}`))
	td.CmpNoError(t, err)
	td.Cmp(t, res, map[string]int{"enqueued": 3})

	// An SQS batch through the same entry point.
	res, err = svc.HandleEvent(ctx, []byte(`{"Records":[{"messageId":"m5","body":`+
		string(must(json.Marshal(body(queue.Job{Type: queue.TypeSnapshot, CustomerID: "c2"}))))+`}]}`))
	td.CmpNoError(t, err)
	td.Cmp(t, res, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}})
	td.Cmp(t, got[len(got)-1].CustomerID, "c2")

	_, err = svc.HandleEvent(ctx, []byte(`{"action":"dance"}`))
	td.Cmp(t, err, td.Contains("unknown event"))
	td.Cmp(t, err, td.Contains("[snapshot-all]"), "the error names the actions known")

	// Without handlers, other types fail as before.
	bare := &tenantsync.Service{Log: svc.Log}
	resp = bare.HandleJobs(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m6", Body: body(queue.Job{Type: queue.TypeSnapshot, CustomerID: "c1"})}}})
	td.Cmp(t, resp.BatchItemFailures, []events.SQSBatchItemFailure{{ItemIdentifier: "m6"}})
	_, err = bare.HandleEvent(ctx, []byte(`{"action":"snapshot-all"}`))
	td.Cmp(t, err, td.Contains("unknown event"))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
