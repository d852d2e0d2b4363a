package staging

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/queue"
)

func TestBackoff(t *testing.T) {
	s := &Service{}
	td.Cmp(t, []time.Duration{s.Backoff(1), s.Backoff(2), s.Backoff(3), s.Backoff(4), s.Backoff(5), s.Backoff(6), s.Backoff(1000)},
		[]time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute},
		"defaults: one minute doubling, at most SQS's 15 minutes")

	s = &Service{RetryBase: time.Second, RetryMax: 5 * time.Second}
	td.Cmp(t, []time.Duration{s.Backoff(0), s.Backoff(1), s.Backoff(2), s.Backoff(3), s.Backoff(4)},
		[]time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second})
}

func TestNextDelayStopsAtTheDeadline(t *testing.T) {
	s := &Service{}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	td.Cmp(t, s.nextDelay(3, now, now.Add(time.Hour)), 4*time.Minute, "the backoff, well before the deadline")
	td.Cmp(t, s.nextDelay(3, now, now.Add(90*time.Second)), 90*time.Second, "the last check falls on the deadline")
	td.Cmp(t, s.nextDelay(3, now, now.Add(200*time.Millisecond)), time.Second, "at least a second")
	td.Cmp(t, s.nextDelay(3, now, now.Add(-time.Minute)), time.Second, "past the deadline: at once (a second)")
}

func TestLimitWords(t *testing.T) {
	td.Cmp(t, limitWords(24*time.Hour), "24 h")
	td.Cmp(t, limitWords(90*time.Minute), "90 min")
	td.Cmp(t, limitWords(5*time.Minute), "5 min")
	td.Cmp(t, limitWords(30*time.Second), "30 s")
}

func TestDecode(t *testing.T) {
	c, err := decode(`{"customerId":"c1","userId":"u1","attempt":3}`)
	td.CmpNoError(t, err)
	td.Cmp(t, c, queue.StagingCheck{CustomerID: "c1", UserID: "u1", Attempt: 3})
	c, err = decode(`{"customerId":"c1","userId":"u1"}`)
	td.CmpNoError(t, err, "a first check may leave attempt out")
	td.Cmp(t, c.Attempt, 0)
	for _, body := range []string{`{`, `{"customerId":"c1"}`, `{"userId":"u1"}`, `{"customerId":"c1","userId":"u1","attempt":-1}`, `[]`} {
		_, err := decode(body)
		td.CmpError(t, err, body)
	}
}

func TestReceiveCount(t *testing.T) {
	td.Cmp(t, receiveCount(events.SQSMessage{Attributes: map[string]string{"ApproximateReceiveCount": "4"}}), 4)
	td.Cmp(t, receiveCount(events.SQSMessage{}), 1)
	td.Cmp(t, receiveCount(events.SQSMessage{Attributes: map[string]string{"ApproximateReceiveCount": "x"}}), 1)
}

func TestHandleBatchReportsMalformedMessages(t *testing.T) {
	h := &Handler{Service: &Service{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	resp, err := h.HandleBatch(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "not-json", Body: `{`},
		{MessageId: "no-user", Body: `{"customerId":"c1"}`},
	}})
	td.CmpNoError(t, err)
	td.Cmp(t, resp.BatchItemFailures, []events.SQSBatchItemFailure{{ItemIdentifier: "not-json"}, {ItemIdentifier: "no-user"}})

	resp, err = (&Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).HandleBatch(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m", Body: `{"customerId":"c1","userId":"u1"}`},
	}})
	td.CmpNoError(t, err)
	td.Cmp(t, resp.BatchItemFailures, []events.SQSBatchItemFailure{{ItemIdentifier: "m"}}, "no service: retried, never dropped")
}

func TestErrorKinds(t *testing.T) {
	held := &domain.Error{Code: domain.EConflict, Message: "x already holds E3", Fields: map[string]string{"skuId": "already assigned to this user"}}
	noSeats := &domain.Error{Code: domain.EConflict, Message: "No seats", Fields: map[string]string{"skuId": "no seats available"}}
	locked := domain.Errorf(domain.EConflict, "another change to the licences of user u is in progress: try again in a moment")
	td.CmpTrue(t, alreadyHeld(held))
	td.CmpFalse(t, alreadyHeld(noSeats))
	td.CmpTrue(t, licenceBusy(locked))
	td.CmpFalse(t, licenceBusy(noSeats))

	td.CmpTrue(t, isTransient(domain.Errorf(domain.EThrottled, "slow down")))
	td.CmpTrue(t, isTransient(domain.Errorf(domain.EUpstream, "Graph failed")))
	td.CmpTrue(t, isTransient(context.DeadlineExceeded))
	td.CmpFalse(t, isTransient(domain.Errorf(domain.EUnauthorized, "consent revoked")))
	td.CmpFalse(t, isTransient(errors.New("boom")))

	se := during("placing the user on a site", errors.New("boom"))
	td.Cmp(t, se.Error(), "placing the user on a site: boom")
	td.CmpNil(t, during("x", nil))
	td.Cmp(t, during("x", errStop), errStop)
	td.Cmp(t, during("y", se), se, "named once")
}

func TestSameNumber(t *testing.T) {
	td.CmpTrue(t, sameNumber("+1 425-555-0100", "+14255550100"))
	td.CmpTrue(t, sameNumber("14255550100", "+14255550100"))
	td.CmpFalse(t, sameNumber("+14255550101", "+14255550100"))
}
