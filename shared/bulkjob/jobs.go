package bulkjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// view is a stored job as the API shows it.
func (s *Service) view(j store.BulkJob) Job {
	return Job{BulkJob: j, Progress: progressOf(j, s.now())}
}

func progressOf(j store.BulkJob, now time.Time) Progress {
	p := Progress{Total: j.Total, Done: j.Applied + j.Unchanged + j.Staged, Failed: j.Failed}
	processed := p.Done + p.Failed
	p.Remaining = max(p.Total-processed, 0)
	if p.Total > 0 {
		p.Percent = min(processed*100/p.Total, 100)
	}
	if j.StartedAt != nil && processed > 0 {
		end := now
		if j.FinishedAt != nil {
			end = *j.FinishedAt
		}
		if mins := end.Sub(*j.StartedAt).Minutes(); mins > 0 {
			p.RatePerMinute = float64(processed) / mins
		}
	}
	if (j.Status == store.BulkRunning || j.Status == store.BulkQueued) && p.RatePerMinute > 0 {
		left := int64(float64(p.Remaining) / p.RatePerMinute * 60)
		p.SecondsLeft = &left
	}
	return p
}

// Get returns one job with its progress. Errors: ENotFound (customer or job).
func (s *Service) Get(ctx context.Context, customerID, jobID string) (Job, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return Job{}, err
	}
	j, err := s.Store.GetBulkJob(ctx, customerID, jobID)
	if err != nil {
		return Job{}, err
	}
	return s.view(j), nil
}

// List returns one page of the customer's jobs, newest first. Errors: ENotFound (customer), EInvalid (cursor).
func (s *Service) List(ctx context.Context, customerID, cursor string, limit int) (store.Page[Job], error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return store.Page[Job]{}, err
	}
	page, err := s.Store.ListBulkJobs(ctx, customerID, cursor, limit)
	if err != nil {
		return store.Page[Job]{}, err
	}
	out := store.Page[Job]{Items: make([]Job, len(page.Items)), NextCursor: page.NextCursor}
	for i, j := range page.Items {
		out.Items[i] = s.view(j)
	}
	return out, nil
}

// activeJobScan bounds the jobs Start and HandleJob look through for one being applied.
const activeJobScan = 50

// activeJobs returns the customer's jobs being applied (queued or running) among its most recent ones, oldest
// first.
func (s *Service) activeJobs(ctx context.Context, customerID string) ([]store.BulkJob, error) {
	page, err := s.Store.ListBulkJobs(ctx, customerID, "", activeJobScan)
	if err != nil {
		return nil, err
	}
	var out []store.BulkJob
	for i := len(page.Items) - 1; i >= 0; i-- {
		if j := page.Items[i]; j.Status == store.BulkQueued || j.Status == store.BulkRunning {
			out = append(out, j)
		}
	}
	return out, nil
}

// Start applies a job: every row of a validated file, or (onlyValid) the rows without problems of a file that has
// some. It marks the job queued and sends its message to the jobs queue, and audits it (bulk.start).
//
// Errors: ENotFound (customer or job), EConflict (the file has problems and onlyValid is false; no row is valid;
// the job was started already or has ended; another job of the customer is being applied; the job changed
// meanwhile), EUpstream (the message could not be sent: the job is as it was).
func (s *Service) Start(ctx context.Context, customerID, jobID, actor string, onlyValid bool) (Job, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return Job{}, err
	}
	job, err := s.Store.GetBulkJob(ctx, customerID, jobID)
	if err != nil {
		return Job{}, err
	}
	switch job.Status {
	case store.BulkValidated:
	case store.BulkInvalid:
		switch {
		case !onlyValid:
			return Job{}, &domain.Error{Code: domain.EConflict, Fields: map[string]string{"onlyValid": "the file has problems"},
				Message: fmt.Sprintf("The file has %d problem(s) in %d row(s): put them right and upload the file again, or apply only the %d valid row(s).",
					job.Problems, job.InvalidRows, job.ValidRows)}
		case job.ValidRows == 0:
			return Job{}, domain.Errorf(domain.EConflict, "No row of the file is valid: put the problems right and upload the file again.")
		}
	case store.BulkQueued, store.BulkRunning:
		return Job{}, domain.Errorf(domain.EConflict, "The file is being applied already.")
	default:
		return Job{}, domain.Errorf(domain.EConflict, "The job has ended (%s): upload the file again to apply it again.", job.Status)
	}
	active, err := s.activeJobs(ctx, customerID)
	if err != nil {
		return Job{}, err
	}
	for _, a := range active {
		if a.ID != job.ID {
			return Job{}, domain.Errorf(domain.EConflict, "Another file (%s, uploaded by %s) is being applied to this customer: wait for it to end, or cancel it.",
				a.Filename, a.CreatedBy)
		}
	}
	before := job
	now := s.now()
	job.Status, job.OnlyValid, job.StartedBy, job.QueuedAt, job.UpdatedAt = store.BulkQueued, onlyValid && job.InvalidRows > 0, actor, &now, now
	job.Total = job.ValidRows
	job, err = s.Store.PutBulkJob(ctx, job, before.Version)
	if err != nil {
		return Job{}, err
	}
	if err := s.Queue.Send(ctx, Message{Type: JobType, CustomerID: customerID, JobID: job.ID, RequestedBy: actor}); err != nil {
		before.UpdatedAt = s.now()
		if _, rerr := s.Store.PutBulkJob(context.WithoutCancel(ctx), before, job.Version); rerr != nil {
			s.log().ErrorContext(ctx, "bulk job left queued without a message", "customer", customerID, "job", job.ID, "err", rerr)
		}
		return Job{}, domain.Wrap(err, domain.EUpstream, "The job could not be queued: try again.")
	}
	s.audit(ctx, actor, ActionStart, job, nil, map[string]any{"jobId": job.ID, "filename": job.Filename, "onlyValid": job.OnlyValid, "rows": job.Total})
	return s.view(job), nil
}

// Cancel stops a job: a job not started, or queued with no worker on it, ends cancelled at once; a running job is
// marked, and its worker stops before its next chunk (rows applied stay applied, and are reported). Audited
// (bulk.cancel).
//
// Errors: ENotFound (customer or job), EConflict (the job has ended; it changed meanwhile: retry).
func (s *Service) Cancel(ctx context.Context, customerID, jobID, actor string) (Job, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return Job{}, err
	}
	for attempt := 0; ; attempt++ {
		job, err := s.Store.GetBulkJob(ctx, customerID, jobID)
		if err != nil {
			return Job{}, err
		}
		now := s.now()
		before := job
		switch job.Status {
		case store.BulkValidated, store.BulkInvalid:
			job.Status, job.FinishedAt = store.BulkCancelled, &now
		case store.BulkQueued, store.BulkRunning:
			if job.CancelRequested {
				return s.view(job), nil
			}
			job.CancelRequested = true
			if job.LeaseHolder == "" || job.LeaseUntil < now.Unix() { // no worker on it
				job.Status, job.FinishedAt, job.LeaseHolder, job.LeaseUntil = store.BulkCancelled, &now, "", 0
			}
		default:
			return Job{}, domain.Errorf(domain.EConflict, "The job has ended (%s).", job.Status)
		}
		job.CancelledBy, job.UpdatedAt = actor, now
		job, err = s.Store.PutBulkJob(ctx, job, before.Version)
		if domain.ErrorCode(err) == domain.EConflict && attempt < 3 {
			continue // a worker recorded a chunk meanwhile
		}
		if err != nil {
			return Job{}, err
		}
		s.audit(ctx, actor, ActionCancel, job, map[string]any{"status": before.Status}, map[string]any{"jobId": job.ID, "status": job.Status,
			"done": job.Applied + job.Unchanged + job.Staged, "failed": job.Failed})
		return s.view(job), nil
	}
}

// audit appends an audit record of a job; a failure is logged.
func (s *Service) audit(ctx context.Context, actor, action string, job store.BulkJob, before, after any) {
	outcome := "ok"
	if job.Status == store.BulkFailed {
		outcome = "failed"
	}
	err := s.Store.AppendAudit(context.WithoutCancel(ctx), domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: job.CustomerID,
		Action: action, Before: before, After: after, Outcome: outcome, Error: job.Error})
	if err != nil {
		s.log().ErrorContext(ctx, "audit a bulk job", "customer", job.CustomerID, "job", job.ID, "action", action, "err", err)
	}
}

var errLeaseLost = errors.New("bulk job: another worker holds the job")
