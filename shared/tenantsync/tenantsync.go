// Package tenantsync keeps each customer's stored licences and users equal to its Microsoft 365 tenant: the
// scheduled fan-out (one jobs-queue message per due customer) and the worker that syncs one customer.
//
// A customer's users are read with Graph's delta query: a full round on the first sync, when Graph says the stored
// deltaLink is no longer valid, and periodically (FullEvery, daily by default: delta does not report licences a user
// inherits from a group), and otherwise only the changes since the stored deltaLink. The worker checkpoints after
// every page (the link of the next page, in one transaction with the run's history record, under the customer's
// sync lease), so a sync that dies mid-way resumes from its last checkpoint when the message is redelivered, and a
// page replayed after a crash writes nothing twice (users are compared with what is stored).
package tenantsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
)

// Graph reads a tenant's licences and users from Microsoft Graph (*graph.Factory implements it).
type Graph interface {
	// ListSKUs returns the tenant's subscribed SKUs. Errors carry domain codes (EUnauthorized, EThrottled, EUpstream…).
	ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error)
	// GroupNames returns the display names of the tenant's groups, by lower-case id.
	GroupNames(ctx context.Context, tenantID string) (map[string]string, error)
	// DeltaPage reads one page of a users delta round (link "" starts a full round); an error wrapping
	// graph.ErrResyncRequired when a deltaLink is no longer valid.
	DeltaPage(ctx context.Context, tenantID, link string) (graph.DeltaPage, error)
}

var _ Graph = (*graph.Factory)(nil)

// Store is the state the sync reads and writes.
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	AllCustomers(ctx context.Context) ([]domain.Customer, error)
	MarkSyncQueued(ctx context.Context, customerID string) error
	SetSyncFailed(ctx context.Context, customerID, code, message string, at time.Time) error
	AcquireSyncLease(ctx context.Context, customerID, holder string, now, until time.Time) (bool, error)
	FinishSync(ctx context.Context, customerID, holder string, state domain.SyncState) error
	GetCheckpoint(ctx context.Context, customerID string) (store.Checkpoint, error)
	SaveCheckpoint(ctx context.Context, customerID, holder string, cp store.Checkpoint, finished *domain.SyncRun, leaseUntil time.Time) error
	ReplaceSKUs(ctx context.Context, c domain.Customer, skus []domain.SubscribedSKU) (store.SKUChanges, error)
	ApplyUsers(ctx context.Context, customerID string, users []domain.User, removed []store.Removal, at time.Time) (store.UserChanges, error)
	CountDelta(ctx context.Context, customerID string, users []domain.User, removed []store.Removal) (domain.UserCounts, error)
	MergeGroupNames(ctx context.Context, customerID string, names map[string]string) error
	GroupNames(ctx context.Context, customerID string) (map[string]string, error)
	MarkUnseenDeleted(ctx context.Context, customerID string, seen map[string]bool, at time.Time) (int, error)
	AppendAudit(ctx context.Context, r domain.AuditRecord) error
	GetSettings(ctx context.Context, customerID string) (domain.Settings, error)
	UsersGaining(ctx context.Context, customerID string, users []domain.User, relevant func(skuID string) bool) ([]domain.User, error)
}

var _ Store = (*store.Store)(nil)

// Stager stages users who gained a Teams-relevant licence (*staging.Service implements it); it skips those the
// customer's or site's settings do not stage.
type Stager interface {
	StageIfEligible(ctx context.Context, customerID string, users []domain.User, reason, actor string) (int, error)
}

// StageReason is the reason recorded on users the sync stages.
const StageReason = "licence seen by sync"

// Queue sends a message to the jobs queue.
type Queue interface {
	Send(ctx context.Context, v any) error
}

// Service runs syncs.
type Service struct {
	Store Store
	Graph Graph
	Jobs  Queue
	// Staging, when set, stages users a sync sees gain a Teams-relevant licence (not on a customer's first sync,
	// which only learns the tenant as it is).
	Staging Stager
	// FullEvery is how often a customer's users are read in full (default 24 hours).
	FullEvery time.Duration
	// Lease bounds how long one sync may hold a customer before another may take over (default 10 minutes); a
	// running sync renews it after every page.
	Lease time.Duration
	// Reserve is the time before the invocation's deadline at which a sync stops reading pages and re-enqueues
	// its continuation (default one minute).
	Reserve time.Duration
	Now     func() time.Time
	Log     *slog.Logger
	// Handlers run the jobs-queue messages of types other than queue.TypeSync, by type: the sync function is the
	// jobs queue's consumer, and other parts queue their own jobs on it (the app routes queue.TypeSnapshot to the
	// usage audit). A handler's error makes the message retried, as a failed sync's does; a message of a type with
	// no handler fails.
	Handlers map[string]JobHandler
	// Actions run the scheduled invocations {"action": name} other than "enqueue-due", by name (the app routes
	// "snapshot-all" to the usage audit's daily fan-out); what a handler returns is the invocation's answer.
	Actions map[string]ActionHandler
}

// JobHandler runs one jobs-queue message (see Service.Handlers).
type JobHandler func(ctx context.Context, job queue.Job) error

// ActionHandler runs one scheduled invocation (see Service.Actions).
type ActionHandler func(ctx context.Context) (any, error)

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

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// RequestSync queues a sync of the customer now ("Sync now") and returns the customer as it then stands.
func (s *Service) RequestSync(ctx context.Context, customerID, actor string) (domain.Customer, error) {
	if err := s.Store.MarkSyncQueued(ctx, customerID); err != nil {
		return domain.Customer{}, err
	}
	if err := s.Jobs.Send(ctx, queue.Job{Type: queue.TypeSync, CustomerID: customerID, RequestedBy: actor}); err != nil {
		_ = s.Store.SetSyncFailed(ctx, customerID, domain.EUpstream, "the sync could not be queued; try again", s.now())
		return domain.Customer{}, domain.Wrap(err, domain.EUpstream, "the sync could not be queued")
	}
	return s.Store.GetCustomer(ctx, customerID)
}

// EnqueueDue puts one jobs-queue message per customer whose last sync attempt is older than its interval.
func (s *Service) EnqueueDue(ctx context.Context) (int, error) {
	now := s.now()
	customers, err := s.Store.AllCustomers(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range customers {
		interval := time.Duration(max(c.SyncIntervalMinutes, domain.MinSyncIntervalMinutes)) * time.Minute
		// A minute of slack, so that a customer synced just after the last tick is not skipped for a whole interval.
		if at := c.Sync.LastAttemptAt; at != nil && at.After(now.Add(-interval+time.Minute)) {
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

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SyncCustomer syncs one customer: its SKUs, then its users, from a new run or from the checkpoint of an
// unfinished one. A failure of Microsoft Graph is recorded on the customer (status, reason, time) and keeps the
// stored data (the run resumes from its checkpoint next time); the returned error is for failures of our own
// storage, so that the message is retried.
func (s *Service) SyncCustomer(ctx context.Context, customerID, actor string) error {
	w := &worker{Service: s, customerID: customerID, actor: actor, holder: newID(), start: s.now()}
	got, err := s.Store.AcquireSyncLease(ctx, customerID, w.holder, w.start, w.start.Add(orDefault(s.Lease, 10*time.Minute)))
	if err != nil {
		return err
	}
	if !got {
		s.log().InfoContext(ctx, "sync already running", "customer", customerID)
		return nil
	}
	return w.run(ctx)
}

// worker is one invocation's sync of one customer, holding its lease.
type worker struct {
	*Service
	customerID, actor, holder string
	start                     time.Time
	customer                  domain.Customer
	cp                        store.Checkpoint
	seen                      map[string]bool // users seen in this invocation's pages of a full round
	groups                    map[string]bool // groups the users read inherit licences from
	stage                     bool            // users gaining a Teams licence are staged
}

// stagingOn reports whether this run stages users: a stager is configured, the customer manages licences and allows
// staging, and the tenant was read before (the first sync stages no one).
func (w *worker) stagingOn(ctx context.Context) (bool, error) {
	if w.Staging == nil || w.cp.LastFullAt == nil {
		return false, nil
	}
	set, err := w.Store.GetSettings(ctx, w.customerID)
	if err != nil {
		return false, domain.Wrap(err, domain.EInternal, "reading the staging settings failed")
	}
	return set.ManageLicenses && set.AllowStaging, nil
}

// stageGains stages the users of a page who gain a Teams-relevant licence, before the page is stored: a page
// replayed after a crash finds them again, and staging an already staged user changes nothing.
func (w *worker) stageGains(ctx context.Context, users []domain.User) error {
	if !w.stage {
		return nil
	}
	gained, err := w.Store.UsersGaining(ctx, w.customerID, users, catalog.TeamsRelevant)
	if err != nil {
		return domain.Wrap(err, domain.EInternal, "finding newly licensed users failed")
	}
	if len(gained) == 0 {
		return nil
	}
	if _, err := w.Staging.StageIfEligible(ctx, w.customerID, gained, StageReason, "job:sync"); err != nil {
		return domain.Wrap(err, domain.EInternal, "staging newly licensed users failed")
	}
	return nil
}

func (w *worker) run(ctx context.Context) error {
	var err error
	if w.customer, err = w.Store.GetCustomer(ctx, w.customerID); err != nil {
		return w.release(ctx, err)
	}
	if w.cp, err = w.Store.GetCheckpoint(ctx, w.customerID); err != nil {
		return w.release(ctx, err)
	}
	if w.stage, err = w.stagingOn(ctx); err != nil {
		return w.release(ctx, err)
	}
	if w.cp.Run == nil {
		w.newRun()
	} else {
		// A full round that read no page yet is still from the start: it may mark the users it never sees deleted.
		w.cp.Run.Resumed, w.cp.Run.FinishedAt = true, nil
		w.cp.Run.FromStart = w.cp.Run.Mode == domain.SyncModeFull && w.cp.Run.Pages == 0
		w.cp.Run.Status = domain.SyncRunning
	}
	state := w.customer.Sync
	state.LastAttemptAt, state.Mode = &w.start, w.cp.Run.Mode

	skus, err := w.Graph.ListSKUs(ctx, w.customer.TenantID)
	if err != nil {
		return w.fail(ctx, state, err)
	}
	skuChanges, err := w.Store.ReplaceSKUs(ctx, w.customer, skus)
	if err != nil {
		return w.release(ctx, err)
	}
	w.cp.Run.SKUsWritten += skuChanges.Written + skuChanges.Deleted
	state.SKUCount = len(skus)

	done, err := w.readUsers(ctx)
	switch {
	case err != nil && domain.ErrorCode(err) != domain.EInternal && !errors.Is(err, store.ErrLeaseLost):
		return w.fail(ctx, state, err) // Graph's failure: recorded, resumes from the checkpoint next time
	case err != nil:
		return w.release(ctx, err)
	case !done:
		return w.continueLater(ctx, state)
	}
	return w.finish(ctx, state)
}

func (w *worker) newRun() {
	full := w.cp.DeltaLink == "" || w.cp.LastFullAt == nil || w.start.Sub(*w.cp.LastFullAt) >= orDefault(w.FullEvery, 24*time.Hour)
	run := &store.RunState{SyncRun: domain.SyncRun{
		ID: newID(), Mode: domain.SyncModeDelta, Trigger: w.actor, StartedAt: w.start, Status: domain.SyncRunning,
	}, Link: w.cp.DeltaLink}
	if full {
		run.Mode, run.Link, run.FromStart = domain.SyncModeFull, "", true
	}
	w.cp.Run = run
}

// readUsers reads and stores pages until the round ends (true) or the invocation's deadline nears (false).
func (w *worker) readUsers(ctx context.Context) (bool, error) {
	run := w.cp.Run
	w.groups = map[string]bool{}
	if run.FromStart {
		w.seen = map[string]bool{}
	}
	for {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < orDefault(w.Reserve, time.Minute) {
			return false, nil
		}
		page, err := w.Graph.DeltaPage(ctx, w.customer.TenantID, run.Link)
		if errors.Is(err, graph.ErrResyncRequired) && run.Mode == domain.SyncModeDelta {
			w.log().InfoContext(ctx, "delta token no longer valid: full read", "customer", w.customerID)
			w.cp.DeltaLink = ""
			run.Mode, run.Link, run.FromStart = domain.SyncModeFull, "", true
			run.Counts, run.Pending = domain.UserCounts{}, nil
			w.seen = map[string]bool{}
			continue
		}
		if err != nil {
			return false, err
		}
		at := w.now()
		users := make([]domain.User, len(page.Changed))
		for i, g := range page.Changed {
			users[i] = store.UserFromGraph(w.customerID, g)
			if w.seen != nil {
				w.seen[users[i].ID] = true
			}
			for _, l := range users[i].Licences {
				for _, gid := range l.Groups {
					w.groups[strings.ToLower(gid)] = true
				}
			}
		}
		removed := make([]store.Removal, len(page.Removed))
		for i, r := range page.Removed {
			removed[i] = store.Removal{ID: r.ID, Status: domain.UserDeleted}
			if r.Reason == graph.RemovedSoftDeleted {
				removed[i].Status = domain.UserSoftDeleted
			}
		}
		if err := w.countPage(ctx, users, removed); err != nil {
			return false, err
		}
		if err := w.stageGains(ctx, users); err != nil {
			return false, err
		}
		changes, err := w.Store.ApplyUsers(ctx, w.customerID, users, removed, at)
		if err != nil {
			return false, domain.Wrap(err, domain.EInternal, "storing users failed")
		}
		if run.Pending != nil {
			run.Counts, run.Pending = store.AddCounts(run.Counts, run.Pending.Delta), nil
		}
		run.Pages++
		run.UsersWritten += changes.Written
		run.UsersRemoved += changes.Removed
		if page.DeltaLink != "" {
			// Users a complete full round did not see are gone (there is nothing to compare on the first one).
			if run.Mode == domain.SyncModeFull && run.FromStart && w.cp.LastFullAt != nil {
				n, err := w.Store.MarkUnseenDeleted(ctx, w.customerID, w.seen, at)
				if err != nil {
					return false, domain.Wrap(err, domain.EInternal, "marking removed users failed")
				}
				run.UsersRemoved += n
			}
			w.cp.DeltaLink = page.DeltaLink
			if run.Mode == domain.SyncModeFull {
				w.cp.LastFullAt = &at
			}
			return true, nil
		}
		run.Link = page.NextLink
		if err := w.save(ctx, nil); err != nil {
			return false, err
		}
	}
}

// countPage counts a page before it is applied. A full round adds up the users it reads; a delta round computes
// the change from what is stored and checkpoints it first, so that a page replayed after a crash (its users perhaps
// already written) counts once.
func (w *worker) countPage(ctx context.Context, users []domain.User, removed []store.Removal) error {
	run := w.cp.Run
	if run.Mode == domain.SyncModeFull {
		run.Counts = store.AddCounts(run.Counts, store.CountsOf(users))
		return nil
	}
	if run.Pending != nil && run.Pending.Link == run.Link {
		return nil
	}
	delta, err := w.Store.CountDelta(ctx, w.customerID, users, removed)
	if err != nil {
		return domain.Wrap(err, domain.EInternal, "counting users failed")
	}
	run.Pending = &store.PendingPage{Link: run.Link, Delta: delta}
	return w.save(ctx, nil)
}

// save checkpoints the run (and records finished, a completed run), renewing the lease.
func (w *worker) save(ctx context.Context, finished *domain.SyncRun) error {
	return w.Store.SaveCheckpoint(ctx, w.customerID, w.holder, w.cp, finished, w.now().Add(orDefault(w.Lease, 10*time.Minute)))
}

// finish completes the run: the checkpoint (with the new deltaLink), the history record, counts and the outcome.
func (w *worker) finish(ctx context.Context, state domain.SyncState) error {
	run, counts := w.cp.Run.SyncRun, w.cp.Run.Counts
	w.storeGroupNames(ctx)
	end := w.now()
	run.Status, run.FinishedAt, run.DurationMs = domain.SyncOK, &end, end.Sub(run.StartedAt).Milliseconds()
	w.cp.Run = nil
	if err := w.save(ctx, &run); err != nil {
		return w.release(ctx, err)
	}
	if run.Mode == domain.SyncModeFull {
		state.UserCounts = store.AddCounts(domain.UserCounts{}, counts)
	} else {
		state.UserCounts = store.AddCounts(state.UserCounts, counts)
	}
	state.Status, state.LastSuccessAt, state.LastError, state.LastErrorCode = domain.SyncOK, &end, "", ""
	state.Mode, state.LastDurationMs, state.LastFullSyncAt = run.Mode, end.Sub(w.start).Milliseconds(), w.cp.LastFullAt
	if run.UsersWritten+run.UsersRemoved+run.SKUsWritten > 0 {
		w.audit(ctx, "sync", "ok", run)
	}
	w.log().InfoContext(ctx, "synced", "customer", w.customerID, "mode", run.Mode, "pages", run.Pages,
		"usersWritten", run.UsersWritten, "usersRemoved", run.UsersRemoved, "skusWritten", run.SKUsWritten,
		"ms", state.LastDurationMs)
	return w.Store.FinishSync(ctx, w.customerID, w.holder, state)
}

// storeGroupNames stores the names of new groups the users inherit licences from (for display only: a failure is
// logged, not fatal).
func (w *worker) storeGroupNames(ctx context.Context) {
	stored, err := w.Store.GroupNames(ctx, w.customerID)
	if err != nil {
		w.log().WarnContext(ctx, "group names not read", "customer", w.customerID, "err", err)
		return
	}
	for id := range stored {
		delete(w.groups, id)
	}
	if len(w.groups) == 0 {
		return
	}
	all, err := w.Graph.GroupNames(ctx, w.customer.TenantID)
	if err == nil {
		names := map[string]string{}
		for id := range w.groups {
			if n, ok := all[id]; ok {
				names[id] = n
			}
		}
		err = w.Store.MergeGroupNames(ctx, w.customerID, names)
	}
	if err != nil {
		w.log().WarnContext(ctx, "group names not stored", "customer", w.customerID, "err", err)
	}
}

// fail records Graph's failure on the customer and in the run's history; the run's checkpoint stays, so the next
// sync resumes it.
func (w *worker) fail(ctx context.Context, state domain.SyncState, cause error) error {
	now := w.now()
	state.Status, state.LastErrorCode, state.LastError = domain.SyncFailed, domain.ErrorCode(cause), domain.ErrorMessage(cause)
	state.LastDurationMs = now.Sub(w.start).Milliseconds()
	w.log().WarnContext(ctx, "sync failed", "customer", w.customerID, "err", cause)
	run := w.cp.Run
	run.Status, run.Error, run.ErrorCode = domain.SyncFailed, state.LastError, state.LastErrorCode
	run.FinishedAt, run.DurationMs = &now, now.Sub(run.StartedAt).Milliseconds()
	if err := w.save(ctx, nil); err != nil {
		return w.release(ctx, err)
	}
	w.audit(ctx, "sync", "failed", state.LastError)
	return w.Store.FinishSync(ctx, w.customerID, w.holder, state)
}

// continueLater checkpoints, releases the lease and queues the rest of the run for another invocation.
func (w *worker) continueLater(ctx context.Context, state domain.SyncState) error {
	if err := w.save(ctx, nil); err != nil {
		return w.release(ctx, err)
	}
	state.Status = domain.SyncRunning
	if err := w.Store.FinishSync(ctx, w.customerID, w.holder, state); err != nil {
		return err
	}
	w.log().InfoContext(ctx, "sync continues in a new invocation", "customer", w.customerID, "pages", w.cp.Run.Pages)
	return w.Jobs.Send(ctx, queue.Job{Type: queue.TypeSync, CustomerID: w.customerID, RequestedBy: w.actor})
}

// release gives the lease back after a failure of our own (the message will be retried) and returns err.
func (w *worker) release(ctx context.Context, err error) error {
	state := w.customer.Sync
	state.Status, state.LastErrorCode, state.LastError = domain.SyncFailed, domain.EInternal, "internal error: the sync will be retried"
	state.LastAttemptAt = &w.start
	if ferr := w.Store.FinishSync(context.WithoutCancel(ctx), w.customerID, w.holder, state); ferr != nil && !errors.Is(ferr, store.ErrLeaseLost) {
		w.log().ErrorContext(ctx, "releasing the sync lease failed", "customer", w.customerID, "err", ferr)
	}
	return err
}

func (w *worker) audit(ctx context.Context, action, outcome string, after any) {
	err := w.Store.AppendAudit(ctx, domain.AuditRecord{
		At: w.now(), Actor: "job:sync/" + w.actor, CustomerID: w.customerID, Action: action, After: after, Outcome: outcome,
	})
	if err != nil {
		w.log().ErrorContext(ctx, "audit failed", "customer", w.customerID, "err", err)
	}
}

// Action is the input of the scheduled invocation.
type Action struct {
	Action string `json:"action"`
}

// HandleEvent is the sync function's entry point: an SQS batch from the jobs queue, the schedule's
// {"action":"enqueue-due"}, or another schedule's {"action": name} of Actions.
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
	case probe.Action != "" && s.Actions[probe.Action] != nil:
		return s.Actions[probe.Action](ctx)
	default:
		return nil, fmt.Errorf("sync: unknown event (want an SQS batch or {\"action\":\"enqueue-due\"}, or an action of %v): %.200s",
			slices.Sorted(maps.Keys(s.Actions)), payload)
	}
}

// HandleJobs processes a batch from the jobs queue and reports the messages that should be retried.
func (s *Service) HandleJobs(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
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
		if h := s.Handlers[job.Type]; h != nil {
			return h(ctx, job)
		}
		return fmt.Errorf("unknown job type %q", job.Type)
	}
}
