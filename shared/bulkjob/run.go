package bulkjob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
)

// StageReason is the reason recorded on the users a job stages.
const StageReason = "mass configuration"

// HandleJob runs a jobs-queue message of type JobType (the jobs-queue consumer calls it): Run of the job, or, for
// a message without a job id, Run of each of the customer's jobs being applied. It returns only failures of our
// own (storage failing): the message is then retried; a job that is gone, has ended or is held by another worker
// is nothing to do.
func (s *Service) HandleJob(ctx context.Context, customerID, jobID string) error {
	if jobID != "" {
		return s.Run(ctx, customerID, jobID)
	}
	active, err := s.activeJobs(ctx, customerID)
	if err != nil {
		return err
	}
	var errs []error
	for _, j := range active {
		errs = append(errs, s.Run(ctx, customerID, j.ID))
	}
	return errors.Join(errs...)
}

// Run applies a queued job from where it stands, one row chunk after the other, until it has ended, it is
// cancelled, or the invocation's deadline nears (it then re-enqueues the job). A job that has ended, or that
// another worker holds, is left alone (nil). Each chunk's results are recorded with the job's cursor in one write,
// and a chunk replayed after a crash changes nothing twice (see the package documentation).
//
// Errors: failures of our own (storage failing, ctx ended): the lease is released and the job goes on when the
// message is delivered again.
func (s *Service) Run(ctx context.Context, customerID, jobID string) error {
	w := &worker{s: s, holder: newHolder()}
	ok, err := w.acquire(ctx, customerID, jobID)
	if err != nil || !ok {
		return err
	}
	err = w.run(ctx)
	if errors.Is(err, errLeaseLost) {
		s.log().WarnContext(ctx, "bulk job taken over by another worker", "customer", customerID, "job", jobID)
		return nil
	}
	if err != nil {
		w.release(context.WithoutCancel(ctx))
	}
	return err
}

func newHolder() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "bulkjob-" + hex.EncodeToString(b[:])
}

// worker is one invocation's run of one job, holding its lease.
type worker struct {
	s      *Service
	holder string
	job    store.BulkJob
	cust   domain.Customer
	look   lookup
	actor  string
	// lastChunk is how long the last chunk took.
	lastChunk time.Duration
}

func (w *worker) leaseUntil() int64 { return w.s.now().Add(orDefault(w.s.Lease, DefaultLease)).Unix() }

// acquire takes the job's lease; false when there is nothing to do (the job has ended, is not started, is gone, or
// another worker holds it).
func (w *worker) acquire(ctx context.Context, customerID, jobID string) (bool, error) {
	for attempt := 0; ; attempt++ {
		job, err := w.s.Store.GetBulkJob(ctx, customerID, jobID)
		if domain.ErrorCode(err) == domain.ENotFound {
			w.s.log().WarnContext(ctx, "bulk job not found: message dropped", "customer", customerID, "job", jobID)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		now := w.s.now()
		switch {
		case job.Status != store.BulkQueued && job.Status != store.BulkRunning:
			return false, nil // ended, or never started: a stale or duplicate message
		case job.LeaseHolder != "" && job.LeaseHolder != w.holder && job.LeaseUntil >= now.Unix():
			w.s.log().InfoContext(ctx, "bulk job held by another worker: message dropped", "customer", customerID, "job", jobID)
			return false, nil
		}
		w.job = job
		before := job.Version
		job.Status, job.LeaseHolder, job.LeaseUntil, job.UpdatedAt = store.BulkRunning, w.holder, w.leaseUntil(), now
		if job.StartedAt == nil {
			job.StartedAt = &now
		}
		job, err = w.s.Store.PutBulkJob(ctx, job, before)
		if domain.ErrorCode(err) == domain.EConflict && attempt < 5 {
			continue
		}
		if err != nil {
			return false, err
		}
		w.job = job
		w.actor = "job:bulk/" + job.StartedBy
		return true, nil
	}
}

// save writes the job as change makes it, re-reading and re-applying change when the job changed meanwhile (an
// admin cancelled it); errLeaseLost when another worker holds it now.
func (w *worker) save(ctx context.Context, change func(j *store.BulkJob)) error {
	for attempt := 0; ; attempt++ {
		next := w.job
		change(&next)
		next.UpdatedAt = w.s.now()
		got, err := w.s.Store.PutBulkJob(ctx, next, w.job.Version)
		if err == nil {
			w.job = got
			return nil
		}
		if domain.ErrorCode(err) != domain.EConflict || attempt >= 5 {
			return err
		}
		if err := w.reload(ctx); err != nil {
			return err
		}
	}
}

// reload reads the job again; errLeaseLost when another worker holds it now.
func (w *worker) reload(ctx context.Context) error {
	job, err := w.s.Store.GetBulkJob(ctx, w.job.CustomerID, w.job.ID)
	if err != nil {
		return err
	}
	if job.LeaseHolder != w.holder {
		return errLeaseLost
	}
	w.job = job
	return nil
}

// release gives the lease back (best effort) after a failure of our own.
func (w *worker) release(ctx context.Context) {
	if err := w.reload(ctx); err != nil {
		return
	}
	err := w.save(ctx, func(j *store.BulkJob) { j.LeaseHolder, j.LeaseUntil = "", 0 })
	if err != nil && !errors.Is(err, errLeaseLost) {
		w.s.log().ErrorContext(ctx, "release a bulk job's lease (it expires)", "customer", w.job.CustomerID, "job", w.job.ID, "err", err)
	}
}

func (w *worker) run(ctx context.Context) error {
	cust, err := w.s.Store.GetCustomer(ctx, w.job.CustomerID)
	if domain.ErrorCode(err) == domain.ENotFound {
		return w.finish(ctx, store.BulkFailed, "The customer was removed.")
	}
	if err != nil {
		return err
	}
	w.cust = cust
	if err := w.loadLookup(ctx); err != nil {
		return err
	}
	for {
		if err := w.reload(ctx); err != nil {
			return err
		}
		job := w.job
		switch {
		case job.Status != store.BulkRunning:
			return nil
		case job.CancelRequested:
			return w.finish(ctx, store.BulkCancelled, "")
		case job.Cursor >= job.Chunks:
			return w.finish(ctx, store.BulkCompleted, "")
		case w.nearDeadline(ctx):
			return w.continueLater(ctx, 0, "")
		}
		start := w.s.now()
		results, trouble, err := w.chunk(ctx, job.Cursor)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // the chunk was cut short: replay it rather than record its failures
		}
		if err != nil {
			return err
		}
		w.lastChunk = w.s.now().Sub(start)
		if trouble != nil && trouble.transient && job.ChunkAttempts+1 < maxChunkAttempts {
			attempts := job.ChunkAttempts + 1
			msg := fmt.Sprintf("Rows %d to %d will be tried again: %s", results[0].Row, results[len(results)-1].Row, trouble.message)
			if err := w.save(ctx, func(j *store.BulkJob) { j.ChunkAttempts, j.Error = attempts, msg }); err != nil {
				return err
			}
			return w.continueLater(ctx, time.Duration(attempts)*time.Minute, msg)
		}
		if err := w.record(ctx, job.Cursor, results); err != nil {
			return err
		}
		if trouble != nil && trouble.fatal {
			return w.finish(ctx, store.BulkFailed, trouble.message)
		}
	}
}

func (w *worker) loadLookup(ctx context.Context) error {
	skus, err := w.s.Store.CustomerSKUs(ctx, w.cust.ID)
	if err != nil {
		return err
	}
	sites, err := w.s.Store.ListSites(ctx, w.cust.ID)
	if err != nil {
		return err
	}
	w.look = lookup{skus: map[string]domain.CustomerSKU{}, siteNames: map[string]string{}}
	for _, s := range skus {
		w.look.skus[strings.ToLower(s.SkuID)] = s
	}
	for _, st := range sites {
		w.look.siteNames[st.ID] = st.Name
	}
	return nil
}

// nearDeadline reports whether the invocation should stop taking chunks: less than the reserve (or twice the last
// chunk's time) is left before ctx's deadline.
func (w *worker) nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		return false
	}
	return time.Until(dl) < max(orDefault(w.s.Reserve, DefaultReserve), 2*w.lastChunk)
}

// continueLater releases the lease and queues the rest of the job for another invocation (after delay).
func (w *worker) continueLater(ctx context.Context, delay time.Duration, why string) error {
	if err := w.save(ctx, func(j *store.BulkJob) { j.LeaseHolder, j.LeaseUntil = "", 0 }); err != nil {
		return err
	}
	w.s.log().InfoContext(ctx, "bulk job continues in a new invocation", "customer", w.job.CustomerID, "job", w.job.ID,
		"chunk", w.job.Cursor, "of", w.job.Chunks, "delay", delay, "why", why)
	return w.s.Queue.SendDelayed(ctx, Message{Type: JobType, CustomerID: w.job.CustomerID, JobID: w.job.ID, RequestedBy: w.job.StartedBy}, delay)
}

// finish ends the job with status and audits it.
func (w *worker) finish(ctx context.Context, status, errMsg string) error {
	now := w.s.now()
	err := w.save(ctx, func(j *store.BulkJob) {
		j.Status, j.FinishedAt, j.LeaseHolder, j.LeaseUntil = status, &now, "", 0
		if errMsg != "" || status != store.BulkFailed {
			j.Error = errMsg
		}
	})
	if err != nil {
		return err
	}
	j := w.job
	w.s.log().InfoContext(ctx, "bulk job ended", "customer", j.CustomerID, "job", j.ID, "status", status, "applied", j.Applied,
		"unchanged", j.Unchanged, "staged", j.Staged, "failed", j.Failed)
	w.s.audit(ctx, cmpOr(w.actor, "job:bulk"), ActionFinish, j, nil, map[string]any{"jobId": j.ID, "filename": j.Filename, "status": status,
		"total": j.Total, "applied": j.Applied, "unchanged": j.Unchanged, "staged": j.Staged, "failed": j.Failed})
	return nil
}

// record stores a chunk's results with the job's cursor moved past it, in one write.
func (w *worker) record(ctx context.Context, index int, results []RowResult) error {
	data, err := encodeChunk(results)
	if err != nil {
		return err
	}
	var counts store.BulkJob
	for _, r := range results {
		switch r.Outcome {
		case OutcomeOK:
			counts.Applied++
		case OutcomeUnchanged:
			counts.Unchanged++
		case OutcomeStaged:
			counts.Staged++
		case OutcomeFailed:
			counts.Failed++
		}
	}
	elapsed := w.lastChunk.Milliseconds()
	for attempt := 0; ; attempt++ {
		next := w.job
		next.Cursor, next.ChunkAttempts, next.Error = index+1, 0, ""
		next.Applied += counts.Applied
		next.Unchanged += counts.Unchanged
		next.Staged += counts.Staged
		next.Failed += counts.Failed
		next.ActiveMs += elapsed
		next.LeaseUntil, next.UpdatedAt = w.leaseUntil(), w.s.now()
		got, err := w.s.Store.RecordBulkChunk(ctx, next, w.job.Version, store.BulkChunk{Kind: store.BulkResults, Index: index, Data: data})
		if err == nil {
			w.job = got
			return nil
		}
		var de *domain.Error
		switch {
		case !errors.As(err, &de) || de.Code != domain.EConflict:
			return err
		case de.Fields["chunk"] != "":
			return errLeaseLost // another worker recorded it: it holds the job
		case attempt >= 5:
			return err
		}
		if err := w.reload(ctx); err != nil {
			return err
		}
		if w.job.Cursor != index {
			return errLeaseLost
		}
	}
}

// rowWork is one row of a chunk on its way.
type rowWork struct {
	plan    rowPlan
	res     *RowResult
	user    *domain.User // as stored before the chunk; nil when no longer an active user
	after   *domain.User // as Graph answered after the licence change
	prov    domain.Provisioning
	planned Changes // what the chunk's first attempt planned for the row

	licOutcome string // licensing.Bulk* outcome, "" when the row changes no licence
	failed     bool
	licFailed  bool
	code       string
	errMsg     string
	staged     bool   // the number waits in staging
	note       string // appended to the changes
	changedNow bool   // this attempt changed something besides the licences
}

func (rw *rowWork) fail(code, format string, args ...any) {
	rw.failed, rw.code, rw.errMsg = true, code, fmt.Sprintf(format, args...)
}

// chunkTrouble is a chunk whose every row failed for the same kind of reason: transient (Graph failing or
// throttling: the chunk is tried again later) or fatal (Graph refuses access to the tenant: the job fails).
type chunkTrouble struct {
	transient, fatal bool
	message          string
}

// chunk applies one row chunk and returns its results (one per row, in order). An error is our own: the chunk is
// then not recorded and is replayed later.
func (w *worker) chunk(ctx context.Context, index int) ([]RowResult, *chunkTrouble, error) {
	data, err := w.s.Store.GetBulkChunk(ctx, w.job.CustomerID, w.job.ID, store.BulkRows, index)
	if err != nil {
		return nil, nil, err
	}
	var plans []rowPlan
	if err := decodeChunk(data, &plans); err != nil {
		return nil, nil, err
	}
	results := make([]RowResult, len(plans))
	var work []*rowWork
	for i, p := range plans {
		results[i] = RowResult{Row: p.Line, UserPrincipalName: p.UPN, UserID: p.UserID}
		if !p.Valid {
			results[i].Outcome, results[i].Changes, results[i].Error = OutcomeSkipped, p.Changes.String(), p.Problem
			continue
		}
		work = append(work, &rowWork{plan: p, res: &results[i]})
	}
	if len(work) == 0 {
		return results, nil, nil
	}
	if err := w.readState(ctx, index, work); err != nil {
		return nil, nil, err
	}
	if err := w.licences(ctx, work); err != nil {
		return nil, nil, err
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	w.provisionAll(ctx, work)
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	for _, rw := range work {
		w.outcome(rw)
	}
	return results, troubleOf(work), nil
}

// readState reads the chunk's users and provisioning, and the changes its first attempt planned (recording them
// when this is the first attempt).
func (w *worker) readState(ctx context.Context, index int, work []*rowWork) error {
	var ids, nums []string
	for _, rw := range work {
		ids = append(ids, rw.plan.UserID)
		if rw.plan.Number != "" {
			nums = append(nums, rw.plan.Number)
		}
	}
	users, err := w.s.Store.UsersByID(ctx, w.cust.ID, ids)
	if err != nil {
		return err
	}
	provs, err := w.s.Store.ProvisioningByUsers(ctx, w.cust.ID, ids)
	if err != nil {
		return err
	}
	for _, rw := range work {
		if u, ok := users[strings.ToLower(rw.plan.UserID)]; ok && u.Status == domain.UserActive {
			rw.user = &u
		}
		rw.prov = provs[strings.ToLower(rw.plan.UserID)]
	}

	type planned struct {
		Line    int     `json:"line"`
		Changes Changes `json:"changes"`
	}
	data, err := w.s.Store.GetBulkChunk(ctx, w.job.CustomerID, w.job.ID, store.BulkAttempt, index)
	switch {
	case err == nil:
		var prior []planned
		if err := decodeChunk(data, &prior); err != nil {
			return err
		}
		byLine := make(map[int]Changes, len(prior))
		for _, p := range prior {
			byLine[p.Line] = p.Changes
		}
		for _, rw := range work {
			rw.planned = byLine[rw.plan.Line]
		}
		return nil
	case domain.ErrorCode(err) != domain.ENotFound:
		return err
	}
	inventory, err := w.s.Store.NumbersByE164(ctx, w.cust.ID, nums)
	if err != nil {
		return err
	}
	out := make([]planned, 0, len(work))
	for _, rw := range work {
		if rw.user != nil {
			var num *domain.Number
			if n, ok := inventory[rw.plan.Number]; ok {
				num = &n
			}
			rw.planned = w.look.changesOf(rw.plan, *rw.user, rw.prov, num)
		}
		out = append(out, planned{Line: rw.plan.Line, Changes: rw.planned})
	}
	if data, err = encodeChunk(out); err != nil {
		return err
	}
	return w.s.Store.PutBulkChunk(ctx, w.job.CustomerID, w.job.ID, store.BulkChunk{Kind: store.BulkAttempt, Index: index, Data: data}, w.job.TTL)
}

// licences applies the licence changes of the chunk's rows through the bulk path, in one request (less the rows
// whose SKU turns out short of seats, which fail).
func (w *worker) licences(ctx context.Context, work []*rowWork) error {
	var send []*rowWork
	for _, rw := range work {
		switch {
		case rw.user == nil:
			rw.fail(domain.ENotFound, "%s is no longer a user of %s (removed since the file was uploaded)", rw.plan.UPN, w.cust.Name)
			rw.licFailed = true
		case rw.plan.changesLicences():
			send = append(send, rw)
		}
	}
	lctx := licensing.WithoutStaging(licensing.WithManagedBy(ctx, domain.ManagedByTemplate))
	for round := 0; len(send) > 0; round++ {
		changes := make([]licensing.BulkChange, len(send))
		for i, rw := range send {
			changes[i] = licensing.BulkChange{UserID: rw.user.ID, Add: rw.plan.Licences, Remove: removals(rw.plan, *rw.user)}
		}
		results, err := w.s.Licensing.ApplyMany(lctx, licensing.BulkRequest{
			CustomerID: w.cust.ID, Actor: w.actor, Action: ActionApply, ManagedBy: domain.ManagedByTemplate, Changes: changes,
			Source: map[string]any{"bulkJobId": w.job.ID, "filename": w.job.Filename},
		})
		if err == nil {
			for i, r := range results {
				rw := send[i]
				rw.licOutcome = r.Outcome
				if r.User != nil {
					u := *r.User
					rw.after = &u
				}
				if r.Outcome == licensing.BulkFailed {
					rw.fail(r.Code, "%s", r.Error)
					rw.licFailed = true
				}
			}
			return nil
		}
		short := shortSKUs(err)
		if short == nil || round >= 3 {
			return err
		}
		kept := send[:0:0]
		for _, rw := range send {
			if sku, msg, ok := needsShort(rw, short); ok {
				rw.fail(domain.EConflict, "not enough seats of %s (%s): nothing was changed for this user", licenceLabel(w.look.licence(sku)), msg)
				rw.licFailed = true
				continue
			}
			kept = append(kept, rw)
		}
		if len(kept) == len(send) {
			return err
		}
		send = kept
	}
	return nil
}

// removals are the direct licences the user holds that a full set (SetLicences) leaves out.
func removals(p rowPlan, u domain.User) []string {
	if !p.SetLicences {
		return nil
	}
	var out []string
	for _, h := range u.Licences {
		if h.Direct && !slices.ContainsFunc(p.Licences, func(l domain.AssignedLicense) bool { return strings.EqualFold(l.SkuID, h.SkuID) }) {
			out = append(out, strings.ToLower(h.SkuID))
		}
	}
	return out
}

// shortSKUs returns the SKUs (by lower-case skuId) of ApplyMany's refusal for too few seats, or nil for any other
// error.
func shortSKUs(err error) map[string]string {
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EConflict || len(de.Fields) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range de.Fields {
		out[strings.ToLower(k)] = v
	}
	return out
}

// needsShort reports a short SKU the row gives to a user who does not hold it.
func needsShort(rw *rowWork, short map[string]string) (string, string, bool) {
	for _, l := range rw.plan.Licences {
		id := strings.ToLower(l.SkuID)
		if msg, ok := short[id]; ok && !holds(*rw.user, id) {
			return id, msg, true
		}
	}
	return "", "", false
}

// provisionAll sets the number and site of the rows whose licences went through, a few at a time.
func (w *worker) provisionAll(ctx context.Context, work []*rowWork) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, orDefault(w.s.Concurrency, DefaultConcurrency))
	for _, rw := range work {
		if rw.failed {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.provision(ctx, rw)
		}()
	}
	wg.Wait()
}

// provision gives one row's user the row's number (with its extension) and site.
func (w *worker) provision(ctx context.Context, rw *rowWork) {
	p := rw.plan
	u := *rw.user
	if rw.after != nil {
		u = *rw.after
	}
	siteDone := false
	if p.Number != "" {
		n, err := w.s.Store.GetNumber(ctx, w.cust.ID, p.Number)
		if err != nil {
			rw.fail(domain.ErrorCode(err), "number %s: %s", p.Number, domain.ErrorMessage(err))
			return
		}
		if p.Extension != "" && n.Extension != p.Extension {
			ext := p.Extension
			got, err := w.s.Numbers.Update(ctx, w.cust.ID, n.Number, n.Version, w.actor, numbers.UpdateInput{Extension: &ext})
			if err != nil {
				rw.fail(domain.ErrorCode(err), "extension %s of %s not set: %s", ext, n.Number, domain.ErrorMessage(err))
				return
			}
			n, rw.changedNow = got, true
		}
		if n.Status != domain.NumberAssigned || !strings.EqualFold(n.UserID, u.ID) {
			if !w.assignNumber(ctx, rw, u, n) {
				return
			}
			siteDone = p.SiteID != "" // Complete recorded it
		}
	}
	if p.SiteID != "" && !siteDone && rw.prov.SiteID != p.SiteID {
		if err := w.s.Store.SetProvisionedSite(ctx, w.cust.ID, u.ID, p.SiteID, w.s.now()); err != nil {
			rw.fail(domain.ErrorCode(err), "site %q not recorded: %s", p.SiteName, domain.ErrorMessage(err))
			return
		}
		rw.changedNow = true
	}
	if p.Number == "" && w.s.Staging != nil && rw.user != nil && rw.after != nil && gainsTeams(*rw.user, *rw.after) {
		_, err := w.s.Staging.Stage(ctx, staging.StageRequest{CustomerID: w.cust.ID, UserID: u.ID, Reason: StageReason, Actor: w.actor,
			SiteID: p.SiteID, TemplateApplied: true})
		if err == nil {
			rw.note = "staged for Teams provisioning"
		} else if code := domain.ErrorCode(err); code != domain.EConflict && code != domain.EInvalid {
			w.s.log().WarnContext(ctx, "stage a user of a bulk job", "customer", w.cust.ID, "user", u.ID, "err", err)
		}
	}
}

// assignNumber reserves and assigns the row's number; a number Teams cannot take yet goes to staging. It reports
// whether the number is assigned.
func (w *worker) assignNumber(ctx context.Context, rw *rowWork, u domain.User, n domain.Number) bool {
	p := rw.plan
	r, err := w.s.Numbers.ReserveSpecific(ctx, w.cust, n.Number, u)
	if err != nil {
		rw.fail(domain.ErrorCode(err), "number %s not assigned: %s", n.Number, domain.ErrorMessage(err))
		return false
	}
	if _, err = w.s.Numbers.Complete(ctx, w.cust, r, u, p.SiteID, w.actor); err == nil {
		rw.changedNow = true
		return true
	}
	if ctx.Err() != nil || !numbers.Retryable(err) {
		rw.fail(domain.ErrorCode(err), "number %s not assigned: %s", n.Number, domain.ErrorMessage(err))
		return false // Complete cancelled the reservation of a permanent failure; a cut-short chunk is replayed
	}
	why := domain.ErrorMessage(err)
	if w.s.Staging != nil {
		_, serr := w.s.Staging.Stage(ctx, staging.StageRequest{CustomerID: w.cust.ID, UserID: u.ID, Reason: StageReason, Actor: w.actor,
			SiteID: p.SiteID, Number: n.Number, TemplateApplied: true})
		if serr == nil {
			rw.staged, rw.note = true, fmt.Sprintf("number %s waits for Teams (%s): staged", n.Number, why)
			return false
		}
		why = fmt.Sprintf("%s; the user could not be staged: %s", why, domain.ErrorMessage(serr))
	}
	if cerr := w.s.Store.CancelReservation(context.WithoutCancel(ctx), w.cust.ID, n.Number, u.ID, w.s.now()); cerr != nil {
		w.s.log().ErrorContext(ctx, "cancel a number reservation", "customer", w.cust.ID, "number", n.Number, "user", u.ID, "err", cerr)
	}
	rw.fail(domain.ErrorCode(err), "number %s not assigned yet: %s", n.Number, why)
	return false
}

// gainsTeams reports whether the user gains a Teams-relevant licence.
func gainsTeams(before, after domain.User) bool {
	teams := func(u domain.User) bool {
		return slices.ContainsFunc(u.Licences, func(l domain.Licence) bool { return catalog.TeamsRelevant(l.SkuID) })
	}
	return !teams(before) && teams(after)
}

// outcome sets a row's result.
func (w *worker) outcome(rw *rowWork) {
	r := rw.res
	applied := rw.planned
	switch {
	case rw.licFailed:
		applied = Changes{}
	case rw.failed || rw.staged:
		applied.Number, applied.Extension, applied.Site = nil, nil, nil // what Teams and the inventory did not take
	}
	r.Changes = applied.String()
	if rw.note != "" {
		r.Changes = strings.TrimPrefix(r.Changes+"; "+rw.note, "; ")
	}
	switch {
	case rw.failed:
		r.Outcome, r.Error = OutcomeFailed, rw.errMsg
	case rw.staged:
		r.Outcome = OutcomeStaged
	case !rw.planned.Empty() || rw.licOutcome == licensing.BulkOK || rw.changedNow:
		r.Outcome = OutcomeOK
	default:
		r.Outcome = OutcomeUnchanged
	}
}

// troubleOf says whether every row of a chunk failed because Graph did (transient) or refused access (fatal).
func troubleOf(work []*rowWork) *chunkTrouble {
	transient, fatal := 0, 0
	for _, rw := range work {
		switch {
		case !rw.failed:
			return nil
		case rw.code == domain.EThrottled || rw.code == domain.EUpstream:
			transient++
		case rw.code == domain.EUnauthorized:
			fatal++
		}
	}
	switch {
	case transient == len(work):
		return &chunkTrouble{transient: true, message: "Microsoft Graph failed or throttled every change: " + work[0].errMsg}
	case fatal == len(work):
		return &chunkTrouble{fatal: true, message: "Microsoft Graph refused access to the tenant (was consent revoked?): " + work[0].errMsg}
	}
	return nil
}
