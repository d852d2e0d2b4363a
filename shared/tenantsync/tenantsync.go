// Package tenantsync keeps each customer's stored licence data equal to its Microsoft 365 tenant: the scheduled
// fan-out (one jobs-queue message per due customer) and the worker that syncs one customer.
package tenantsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
)

// Graph reads a tenant's licences from Microsoft Graph.
type Graph interface {
	// ListSKUs returns the tenant's subscribed SKUs. Errors carry domain codes (EUnauthorized, EThrottled, EUpstream…).
	ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error)
}

// Store is the state the sync reads and writes.
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	AllCustomers(ctx context.Context) ([]domain.Customer, error)
	MarkSyncQueued(ctx context.Context, customerID string) error
	AcquireSyncLease(ctx context.Context, customerID string, now, until time.Time) (bool, error)
	FinishSync(ctx context.Context, customerID string, state domain.SyncState) error
	ReplaceSKUs(ctx context.Context, c domain.Customer, skus []domain.SubscribedSKU) (store.SKUChanges, error)
	AppendAudit(ctx context.Context, r domain.AuditRecord) error
}

var _ Store = (*store.Store)(nil)

// Queue sends a message to the jobs queue.
type Queue interface {
	Send(ctx context.Context, v any) error
}

// Service runs syncs.
type Service struct {
	Store Store
	Graph Graph
	Jobs  Queue
	// Interval is how often the schedule syncs each customer (default 15 minutes).
	Interval time.Duration
	// Lease bounds how long one sync may hold a customer before another may take over (default 10 minutes).
	Lease time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// RequestSync queues a sync of the customer now ("Sync now") and returns the customer as it then stands.
func (s *Service) RequestSync(ctx context.Context, customerID, actor string) (domain.Customer, error) {
	if err := s.Store.MarkSyncQueued(ctx, customerID); err != nil {
		return domain.Customer{}, err
	}
	if err := s.Jobs.Send(ctx, queue.Job{Type: queue.TypeSync, CustomerID: customerID, RequestedBy: actor}); err != nil {
		now := s.now()
		c, _ := s.Store.GetCustomer(ctx, customerID)
		state := c.Sync
		state.Status, state.LastAttemptAt = domain.SyncFailed, &now
		state.LastError, state.LastErrorCode = "the sync could not be queued; try again", domain.EUpstream
		_ = s.Store.FinishSync(ctx, customerID, state)
		return domain.Customer{}, domain.Wrap(err, domain.EUpstream, "the sync could not be queued")
	}
	return s.Store.GetCustomer(ctx, customerID)
}

// EnqueueDue puts one jobs-queue message per customer whose last sync attempt is older than the interval.
func (s *Service) EnqueueDue(ctx context.Context) (int, error) {
	interval := s.Interval
	if interval == 0 {
		interval = 15 * time.Minute
	}
	// A minute of slack, so that a customer synced just after the last tick is not skipped for a whole interval.
	cutoff := s.now().Add(-interval + time.Minute)
	customers, err := s.Store.AllCustomers(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range customers {
		if at := c.Sync.LastAttemptAt; at != nil && at.After(cutoff) {
			continue
		}
		if err := s.Jobs.Send(ctx, queue.Job{Type: queue.TypeSync, CustomerID: c.ID, RequestedBy: "schedule"}); err != nil {
			return n, fmt.Errorf("enqueue sync of %s: %w", c.ID, err)
		}
		n++
	}
	s.log().InfoContext(ctx, "enqueued due syncs", "count", n, "customers", len(customers))
	return n, nil
}

// SyncCustomer syncs one customer's SKUs. A failure of Microsoft Graph is recorded on the customer (status,
// reason, time) and keeps the previous SKU data; the returned error is only for failures of our own storage.
func (s *Service) SyncCustomer(ctx context.Context, customerID, actor string) error {
	lease := s.Lease
	if lease == 0 {
		lease = 10 * time.Minute
	}
	start := s.now()
	got, err := s.Store.AcquireSyncLease(ctx, customerID, start, start.Add(lease))
	if err != nil {
		return err
	}
	if !got {
		s.log().InfoContext(ctx, "sync already running", "customer", customerID)
		return nil
	}
	c, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return err
	}
	state := c.Sync
	state.LastAttemptAt = &start

	graphCtx, cancel := context.WithTimeout(ctx, lease)
	defer cancel()
	skus, err := s.Graph.ListSKUs(graphCtx, c.TenantID)
	if err != nil {
		state.Status, state.LastErrorCode = domain.SyncFailed, domain.ErrorCode(err)
		state.LastError = domain.ErrorMessage(err)
		if state.LastErrorCode == domain.EInternal {
			state.LastError = err.Error()
		}
		s.log().WarnContext(ctx, "sync failed", "customer", c.ID, "err", err)
		s.audit(ctx, c.ID, actor, "sync.failed", state.LastError)
		return s.Store.FinishSync(ctx, c.ID, state)
	}
	changes, err := s.Store.ReplaceSKUs(ctx, c, skus)
	if err != nil {
		return errors.Join(err, s.Store.FinishSync(ctx, c.ID, failedState(state, err)))
	}
	done := s.now()
	state.Status, state.LastSuccessAt, state.LastError, state.LastErrorCode = domain.SyncOK, &done, "", ""
	state.SKUCount = len(skus)
	if changes.Written+changes.Deleted > 0 {
		s.audit(ctx, c.ID, actor, "sync.skus", changes)
	}
	s.log().InfoContext(ctx, "synced", "customer", c.ID, "skus", len(skus), "written", changes.Written,
		"deleted", changes.Deleted, "ms", done.Sub(start).Milliseconds())
	return s.Store.FinishSync(ctx, c.ID, state)
}

func failedState(state domain.SyncState, err error) domain.SyncState {
	state.Status, state.LastErrorCode, state.LastError = domain.SyncFailed, domain.EInternal, "storing the result failed: "+err.Error()
	return state
}

func (s *Service) audit(ctx context.Context, customerID, actor, action string, after any) {
	outcome := "ok"
	if action == "sync.failed" {
		outcome = "failed"
	}
	err := s.Store.AppendAudit(ctx, domain.AuditRecord{
		At: s.now(), Actor: "job:sync/" + actor, CustomerID: customerID, Action: action, After: after, Outcome: outcome,
	})
	if err != nil {
		s.log().ErrorContext(ctx, "audit failed", "customer", customerID, "err", err)
	}
}

// Action is the input of the scheduled invocation.
type Action struct {
	Action string `json:"action"`
}

// HandleEvent is the sync function's entry point: an SQS batch from the jobs queue, or the schedule's
// {"action":"enqueue-due"}.
func (s *Service) HandleEvent(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Records []json.RawMessage `json:"Records"`
		Action  string            `json:"action"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("sync: event is not JSON: %w", err)
	}
	switch {
	case probe.Records != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("sync: decode SQS event: %w", err)
		}
		return s.HandleJobs(ctx, ev), nil
	case probe.Action == "enqueue-due":
		n, err := s.EnqueueDue(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]int{"enqueued": n}, nil
	default:
		return nil, fmt.Errorf("sync: unknown event (want an SQS batch or {\"action\":\"enqueue-due\"}): %.200s", payload)
	}
}

// HandleJobs processes a batch from the jobs queue and reports the messages that should be retried.
func (s *Service) HandleJobs(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := s.handleJob(ctx, m.Body); err != nil {
			s.log().ErrorContext(ctx, "job failed", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

func (s *Service) handleJob(ctx context.Context, body string) error {
	var job queue.Job
	if err := json.Unmarshal([]byte(body), &job); err != nil {
		return fmt.Errorf("malformed job %.200q: %w", body, err)
	}
	switch job.Type {
	case queue.TypeSync:
		err := s.SyncCustomer(ctx, job.CustomerID, job.RequestedBy)
		if domain.ErrorCode(err) == domain.ENotFound {
			// The customer was removed after the job was queued: nothing to do, and retrying will not help.
			s.log().WarnContext(ctx, "sync of unknown customer dropped", "customer", job.CustomerID)
			return nil
		}
		return err
	default:
		return fmt.Errorf("unknown job type %q", job.Type)
	}
}
