package staging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/sites"
)

// Handler is the staging-queue consumer (the staging Lambda).
type Handler struct {
	Service *Service
	Log     *slog.Logger
	// Reserve is the time before the invocation's deadline at which work stops, so that what happened can still be
	// recorded (default 10 seconds).
	Reserve time.Duration
}

// maxParallel bounds the messages of one batch handled at once (the queue's batch size is 10).
const maxParallel = 10

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	if h.Service != nil {
		return h.Service.log()
	}
	return slog.Default()
}

// HandleBatch handles one SQS batch, its messages in parallel, and reports those to retry: malformed ones (they end
// in the DLQ) and those whose handling failed (SQS redelivers them; see the package comment).
func (h *Handler) HandleBatch(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		reserve := h.Reserve
		if reserve <= 0 {
			reserve = 10 * time.Second
		}
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		defer cancel()
	}
	failed := make([]bool, len(ev.Records))
	parallel(len(ev.Records), maxParallel, func(i int) {
		m := ev.Records[i]
		if err := h.handle(work, m); err != nil {
			h.log().ErrorContext(ctx, "staging message failed", "messageId", m.MessageId, "receives", receiveCount(m), "err", err)
			failed[i] = true
		}
	})
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// handle handles one message; an error reports it for redelivery.
func (h *Handler) handle(ctx context.Context, m events.SQSMessage) (err error) {
	check, err := decode(m.Body)
	if err != nil {
		return err
	}
	s := h.Service
	if s == nil {
		return errors.New("staging handler without a service")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic handling the staging check of user %s: %v", check.UserID, p)
		}
		if err != nil && receiveCount(m) >= s.maxReceives() {
			s.giveUp(ctx, check, receiveCount(m), err)
		}
	}()
	return s.process(ctx, check)
}

// receiveCount is the message's ApproximateReceiveCount (1 when absent or unreadable).
func receiveCount(m events.SQSMessage) int {
	n, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func decode(body string) (queue.StagingCheck, error) {
	var c queue.StagingCheck
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return c, fmt.Errorf("decode staging check: %w", err)
	}
	if c.CustomerID == "" || c.UserID == "" || c.Attempt < 0 {
		return c, fmt.Errorf("staging check needs customerId, userId and an attempt ≥ 0: %.200s", body)
	}
	return c, nil
}

// process handles one readiness check. It returns nil when the message is done with (handled, stale or a
// duplicate), else the error to redeliver it for.
func (s *Service) process(ctx context.Context, check queue.StagingCheck) error {
	rec, err := s.Store.GetStaging(ctx, check.CustomerID, check.UserID)
	switch {
	case domain.ErrorCode(err) == domain.ENotFound:
		s.log().InfoContext(ctx, "staging check for no staging record: dropped", "customer", check.CustomerID, "user", check.UserID)
		return nil
	case err != nil:
		return err
	case rec.Final():
		s.log().DebugContext(ctx, "staging check for an ended staging: dropped", "customer", check.CustomerID, "user", check.UserID, "status", rec.Status)
		return nil
	case check.Attempt != rec.Attempts:
		s.log().DebugContext(ctx, "stale staging check: dropped", "customer", check.CustomerID, "user", check.UserID,
			"attempt", check.Attempt, "recordAttempts", rec.Attempts)
		return nil
	}
	now := s.now()
	if rec.Status == domain.StagingStaged && rec.NextCheckAt != nil && rec.NextCheckAt.Sub(now) > time.Second {
		// Early (SQS delays stop at 15 minutes): wait the rest.
		return s.Queue.SendDelayed(ctx, check, min(rec.NextCheckAt.Sub(now), s.retryMax()))
	}
	cust, err := s.Store.GetCustomer(ctx, check.CustomerID)
	if domain.ErrorCode(err) == domain.ENotFound {
		s.log().WarnContext(ctx, "staging check for a customer that no longer exists: dropped", "customer", check.CustomerID)
		return nil
	}
	if err != nil {
		return err
	}
	j := &job{s: s, cust: cust, actor: JobActor, rec: rec}
	if _, err := j.advance(ctx); err != nil && !errors.Is(err, errLost) {
		return err
	}
	return nil
}

// giveUp marks the user of a message that failed MaxReceives times failed, with why, before the message goes to
// the DLQ.
func (s *Service) giveUp(ctx context.Context, check queue.StagingCheck, receives int, cause error) {
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	rec, err := s.Store.GetStaging(wctx, check.CustomerID, check.UserID)
	if err != nil || rec.Final() || rec.Attempts != check.Attempt {
		if err != nil {
			s.log().ErrorContext(ctx, "a failing staging could not be marked failed", "customer", check.CustomerID, "user", check.UserID, "err", err)
		}
		return
	}
	j := &job{s: s, actor: JobActor, rec: rec}
	while := ""
	var se *stepError
	if errors.As(cause, &se) {
		while = " while " + se.doing
	}
	reason := fmt.Sprintf("Handling this staging failed %d times in a row; the last time%s: %s", receives, while, domain.ErrorMessage(cause))
	if err := j.fail(wctx, reason); err != nil && !errors.Is(err, errLost) {
		s.log().ErrorContext(ctx, "a failing staging could not be marked failed", "customer", check.CustomerID, "user", check.UserID, "err", err)
	}
}

// errLost: the staging record changed under us (another delivery of the check, CheckNow or an admin): whoever
// changed it carries on.
var errLost = errors.New("staging record changed meanwhile")

// job is the handling of one staging record, by the consumer or by CheckNow.
type job struct {
	s      *Service
	cust   domain.Customer
	actor  string
	rec    domain.Staging // as last read or saved
	byHand bool           // CheckNow
}

// save writes j.rec (errLost when it changed meanwhile).
func (j *job) save(ctx context.Context) error {
	j.rec.UpdatedAt = j.s.now()
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	saved, err := j.s.Store.UpdateStaging(wctx, j.rec)
	if err != nil {
		if domain.ErrorCode(err) == domain.EConflict {
			return fmt.Errorf("%w: %w", errLost, err)
		}
		return err
	}
	j.rec = saved
	return nil
}

// advance checks readiness (or resumes provisioning) and acts on it; ready reports whether the user is in Teams.
func (j *job) advance(ctx context.Context) (ready bool, err error) {
	if j.rec.Status == domain.StagingProvisioning {
		return true, j.provision(ctx)
	}
	ok, _, err := j.s.Graph.TeamsReady(ctx, j.cust.TenantID, j.rec.UserID)
	if err != nil {
		if j.byHand {
			return false, err
		}
		return false, j.outcome(ctx, "checking whether the user is in Teams", err, isTransient(err))
	}
	now := j.s.now()
	if !ok {
		if j.byHand {
			j.rec.LastCheckAt, j.rec.LastResult = &now, "Not in Teams yet (checked by hand)."
			return false, j.save(ctx)
		}
		if !now.Before(j.rec.Deadline) {
			return false, j.fail(ctx, fmt.Sprintf("%s did not appear in Teams within %s.", whoRec(j.rec), limitWords(j.rec.Deadline.Sub(j.rec.StagedAt))))
		}
		return false, j.requeue(ctx, fmt.Sprintf("Not in Teams yet (check %d).", j.rec.Attempts+1))
	}
	j.rec.Status, j.rec.LastCheckAt, j.rec.NextCheckAt, j.rec.Error = domain.StagingProvisioning, &now, nil, ""
	j.rec.LastResult = "In Teams: provisioning."
	if err := j.save(ctx); err != nil {
		return true, err
	}
	return true, j.provision(ctx)
}

// requeue puts the record back to staged with one more attempt and sends the chain's next check after the backoff.
func (j *job) requeue(ctx context.Context, result string) error {
	before := j.rec
	now := j.s.now()
	j.rec.Status = domain.StagingStaged
	j.rec.Attempts++
	delay := j.s.nextDelay(j.rec.Attempts, now, j.rec.Deadline)
	next := now.Add(delay)
	j.rec.LastCheckAt, j.rec.NextCheckAt, j.rec.LastResult, j.rec.Error = &now, &next, result, ""
	if err := j.save(ctx); err != nil {
		return err
	}
	msg := queue.StagingCheck{CustomerID: j.rec.CustomerID, UserID: j.rec.UserID, Attempt: j.rec.Attempts}
	wctx, cancel := writeCtx(ctx) // the record says a check is queued: queue it, even when ctx has just ended
	defer cancel()
	if err := j.s.Queue.SendDelayed(wctx, msg, delay); err != nil {
		// Without the next check the chain would end: put the record back as it was, so that the redelivered
		// message (of the attempt before) is not stale, and have it redelivered.
		back := before
		back.Version = j.rec.Version
		j.rec = back
		if rerr := j.save(ctx); rerr != nil {
			j.s.log().ErrorContext(ctx, "staging check neither queued nor undone", "customer", j.rec.CustomerID, "user", j.rec.UserID, "err", rerr)
		}
		return fmt.Errorf("queue the next staging check: %w", err)
	}
	return nil
}

// fail ends the staging failed with reason.
func (j *job) fail(ctx context.Context, reason string) error {
	before := j.rec
	now := j.s.now()
	j.rec.Status, j.rec.Error, j.rec.NextCheckAt, j.rec.LastCheckAt = domain.StagingFailed, reason, nil, &now
	j.rec.LastResult = reason
	if j.rec.ReservedNumber != "" && j.rec.AssignedNumber == "" {
		j.rec.LastResult += fmt.Sprintf(" Number %s may still be reserved for the user: assign or release it on the Numbers page.", j.rec.ReservedNumber)
	}
	if err := j.save(ctx); err != nil {
		return err
	}
	j.s.log().InfoContext(ctx, "staging failed", "customer", j.rec.CustomerID, "user", j.rec.UserID, "reason", reason)
	j.s.audit(ctx, j.actor, ActionFailed, j.rec, before, j.rec, reason)
	return nil
}

// outcome acts on a failed step: transient → back on the queue with the backoff (failed at the deadline); an
// unexpected error (EInternal: our storage, a bug) → returned, so that the message is redelivered; anything else →
// failed with the reason.
func (j *job) outcome(ctx context.Context, doing string, err error, transient bool) error {
	reason := sentence(fmt.Sprintf("%s failed: %s", capitalise(doing), domain.ErrorMessage(err)))
	switch {
	case domain.ErrorCode(err) == domain.EInternal && !transient:
		return &stepError{doing: doing, err: err}
	case !transient:
		return j.fail(ctx, reason)
	case !j.s.now().Before(j.rec.Deadline):
		return j.fail(ctx, reason+" Still failing at the staging limit: given up.")
	}
	return j.requeue(ctx, reason+" Will retry.")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sentence ends s with a full stop (unless it ends with one, or with "!" or "?").
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// isTransient: Graph throttled us or failed (or ran out of time).
func isTransient(err error) bool {
	switch domain.ErrorCode(err) {
	case domain.EThrottled, domain.EUpstream:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// provision places the user, applies the template and assigns a number, saving each step before the next, then
// ends the staging provisioned. Steps recorded done are skipped (a resumed provisioning). A step's failure ends it
// re-queued or failed (nil), or is returned (see outcome).
func (j *job) provision(ctx context.Context) error {
	if err := j.provisionSteps(ctx); err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// stepError is an unexpected error of a provisioning step (the handler's own: the message is redelivered).
type stepError struct {
	doing string
	err   error
}

func (e *stepError) Error() string { return e.doing + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// during names the step of an unexpected error (nil, errStop and errLost pass as they are).
func during(doing string, err error) error {
	var se *stepError
	if err == nil || errors.Is(err, errStop) || errors.Is(err, errLost) || errors.As(err, &se) {
		return err
	}
	return &stepError{doing: doing, err: err}
}

func (j *job) provisionSteps(ctx context.Context) error {
	s := j.s
	u, err := s.Store.GetUser(ctx, j.cust.ID, j.rec.UserID)
	switch {
	case domain.ErrorCode(err) == domain.ENotFound:
		return j.fail(ctx, fmt.Sprintf("%s is no longer a user of the customer.", whoRec(j.rec)))
	case err != nil:
		return during("reading the user", err)
	case u.Status != "" && u.Status != domain.UserActive:
		return j.fail(ctx, fmt.Sprintf("%s was removed from the tenant.", whoUser(u)))
	}
	site, err := j.place(ctx, u)
	if err != nil {
		return during("placing the user on a site", err)
	}
	if u, err = j.applyTemplate(ctx, u, site); err != nil {
		return during("applying the template", err)
	}
	if err := j.assignNumber(ctx, u, site); err != nil {
		return during("assigning a number", err)
	}
	before := j.rec
	now := j.s.now()
	j.rec.Status, j.rec.ProvisionedAt, j.rec.NextCheckAt, j.rec.Error = domain.StagingProvisioned, &now, nil, ""
	j.rec.LastResult = fmt.Sprintf("Provisioned on site %s", siteName(site))
	if j.rec.AssignedNumber != "" {
		j.rec.LastResult += " with number " + j.rec.AssignedNumber
	}
	j.rec.LastResult += "."
	if err := j.save(ctx); err != nil {
		return err
	}
	s.log().InfoContext(ctx, "provisioned", "customer", j.rec.CustomerID, "user", j.rec.UserID, "site", site.ID, "number", j.rec.AssignedNumber)
	s.audit(ctx, j.actor, ActionProvisioned, j.rec, before, map[string]any{
		"siteId": site.ID, "siteName": site.Name, "templateApplied": j.rec.TemplateApplied, "number": j.rec.AssignedNumber,
	}, "")
	return nil
}

// stepFailed reports a step's error: see outcome. It returns a non-nil error always (nil from outcome means the
// staging was re-queued or failed, which ends this handling: errStop).
func (j *job) stepFailed(ctx context.Context, doing string, err error, transient bool) error {
	if oerr := j.outcome(ctx, doing, err, transient); oerr != nil {
		return oerr
	}
	return errStop
}

// errStop ends a provisioning whose outcome is recorded (re-queued or failed).
var errStop = errors.New("staging outcome recorded")

// place returns the user's site: the one recorded, else the one requested, else the one the criteria give, which
// is recorded on the user's provisioning and on the staging record.
func (j *job) place(ctx context.Context, u domain.User) (domain.Site, error) {
	s := j.s
	if id := j.rec.PlacedSiteID; id != "" {
		site, err := s.Store.GetSite(ctx, j.cust.ID, id)
		if domain.ErrorCode(err) == domain.ENotFound {
			return site, j.stepFailed(ctx, "placing the user", domain.Errorf(domain.ENotFound, "the site the user was placed on no longer exists"), false)
		}
		return site, err
	}
	var site domain.Site
	if id := j.rec.SiteID; id != "" {
		var err error
		site, err = s.Store.GetSite(ctx, j.cust.ID, id)
		if domain.ErrorCode(err) == domain.ENotFound {
			return site, j.stepFailed(ctx, "placing the user", domain.Errorf(domain.ENotFound, "the requested site no longer exists"), false)
		}
		if err != nil {
			return site, err
		}
	} else {
		all, err := s.Store.ListSites(ctx, j.cust.ID)
		if err != nil {
			return site, err
		}
		var ok bool
		if site, ok = sites.Place(all, u); !ok {
			return site, j.stepFailed(ctx, "placing the user", domain.Errorf(domain.EConflict, "no site matches %s and there is no default site", whoUser(u)), false)
		}
	}
	if err := s.Store.SetProvisionedSite(ctx, j.cust.ID, u.ID, site.ID, s.now()); err != nil {
		return site, err
	}
	j.rec.PlacedSiteID = site.ID
	j.rec.LastResult = fmt.Sprintf("Placed on site %s.", siteName(site))
	return site, j.save(ctx)
}

// applyTemplate assigns the template's licences the user does not hold directly (the requested template, else the
// site's; none: nothing to do), unless recorded done.
func (j *job) applyTemplate(ctx context.Context, u domain.User, site domain.Site) (domain.User, error) {
	s := j.s
	tid := j.rec.TemplateID
	if tid == "" {
		tid = site.TemplateID
	}
	if j.rec.TemplateApplied || tid == "" {
		return u, nil
	}
	const doing = "applying the template"
	t, err := s.Store.GetTemplate(ctx, j.cust.ID, tid)
	if domain.ErrorCode(err) == domain.ENotFound {
		return u, j.stepFailed(ctx, doing, domain.Errorf(domain.ENotFound, "the template no longer exists"), false)
	}
	if err != nil {
		return u, err
	}
	// Staging assigns these itself: the licence operations must not stage the user again.
	lctx := licensing.WithManagedBy(licensing.WithoutStaging(ctx), domain.ManagedByTemplate)
	for _, l := range t.Licences {
		if holdsDirectly(u, l.SkuID) {
			continue
		}
		res, err := s.Licensing.Assign(lctx, j.actor, j.cust.ID, u.ID, licensing.Change{SkuID: l.SkuID, DisabledPlans: l.DisabledPlans})
		if err != nil {
			if alreadyHeld(err) {
				continue
			}
			return u, j.stepFailed(ctx, fmt.Sprintf("applying template %q", t.Name), err, isTransient(err) || licenceBusy(err))
		}
		u = res.User
	}
	j.rec.TemplateApplied = true
	j.rec.LastResult = fmt.Sprintf("Template %q applied.", t.Name)
	return u, j.save(ctx)
}

func holdsDirectly(u domain.User, skuID string) bool {
	for _, l := range u.Licences {
		if strings.EqualFold(l.SkuID, skuID) && l.Direct {
			return true
		}
	}
	return false
}

// alreadyHeld: the licence operation refused because the user holds the licence directly (a change seen late).
func alreadyHeld(err error) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == domain.EConflict && de.Fields["skuId"] == "already assigned to this user"
}

// licenceBusy: another change of the user's licences holds their lock (an EConflict without fields; the licence
// refusals all name a field).
func licenceBusy(err error) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == domain.EConflict && len(de.Fields) == 0
}

// assignNumber gives the user a number (the requested one, else one of the site's inventory when its policy
// assigns numbers), unless recorded done or the user holds one already.
func (j *job) assignNumber(ctx context.Context, u domain.User, site domain.Site) error {
	s := j.s
	if j.rec.AssignedNumber != "" || (j.rec.Number == "" && !site.NumberPolicy.Assign) {
		return nil
	}
	const doing = "assigning a number"
	prov, err := s.Store.GetProvisioning(ctx, j.cust.ID, u.ID)
	if err != nil {
		return err
	}
	if prov.Number != "" {
		// Assigned already (by a run that stopped before recording it, by hand, or imported): one number per user.
		if j.rec.Number != "" && !sameNumber(prov.Number, j.rec.Number) {
			return j.stepFailed(ctx, doing, domain.Errorf(domain.EConflict, "%s holds %s already: release it before assigning %s",
				whoUser(u), prov.Number, j.rec.Number), false)
		}
		j.rec.AssignedNumber = prov.Number
		j.rec.LastResult = fmt.Sprintf("Holds number %s.", prov.Number)
		return j.save(ctx)
	}
	var n domain.Number
	if j.rec.Number != "" {
		n, err = s.Numbers.ReserveSpecific(ctx, j.cust, j.rec.Number, u)
	} else {
		n, err = s.Numbers.Reserve(ctx, j.cust, site, u)
	}
	if err != nil {
		return j.stepFailed(ctx, doing, err, numbers.Retryable(err))
	}
	if j.rec.ReservedNumber != n.Number {
		j.rec.ReservedNumber = n.Number
		j.rec.LastResult = fmt.Sprintf("Number %s reserved.", n.Number)
		if err := j.save(ctx); err != nil {
			return err
		}
	}
	done, err := s.Numbers.Complete(ctx, j.cust, n, u, site.ID, j.actor)
	if err != nil {
		return j.stepFailed(ctx, fmt.Sprintf("assigning number %s", n.Number), err, numbers.Retryable(err))
	}
	j.rec.AssignedNumber = done.Number
	return nil
}

// sameNumber compares two telephone numbers ignoring spaces, dashes, brackets and a missing "+".
func sameNumber(a, b string) bool {
	norm := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		return s
	}
	return norm(a) == norm(b)
}
