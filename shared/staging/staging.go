// Package staging stages users who wait to appear in Microsoft Teams, and provisions them the moment they do: placed
// on a site by its criteria, given the site's template, and given a number from the site's inventory.
//
// A staged user has one staging record (store) and one message on the staging queue at a time: the chain. Each
// message carries the record's attempt count; the consumer (Handler) drops a message whose attempt no longer matches
// (a stale duplicate) or whose record has ended, and otherwise checks Teams readiness. Not ready: the record's
// attempts grow, the next check is due after a growing delay (Service.Backoff), and a new message carries the chain
// on; past the record's deadline the staging fails. Ready: the record moves to provisioning and each provisioning
// step (place, template, number) is saved on the record before the next, with the record's optimistic version, so
// that a redelivered message resumes where a crashed one stopped and two deliveries of one message never both
// provision.
//
// Errors of a step are transient (Graph throttled or failing, Teams not seeing the user or their licence yet: the
// record goes back to staged and the chain retries after the backoff, until the deadline), permanent (the record
// fails with the reason) or the handler's own (storage failing, a bug: the message is reported as a batch item
// failure and SQS redelivers it; at MaxReceives the record fails with the error before the message goes to the
// DLQ).
package staging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/store"
)

// Graph tells whether a user has appeared in Teams (*graph.Factory implements it).
type Graph interface {
	TeamsReady(ctx context.Context, tenantID, userID string) (bool, graph.TeamsUserConfig, error)
}

var _ Graph = (*graph.Factory)(nil)

// Licensing assigns a template's licences (*licensing.Service implements it).
type Licensing interface {
	Assign(ctx context.Context, actor, customerID, userID string, c licensing.Change) (licensing.Result, error)
}

var _ Licensing = (*licensing.Service)(nil)

// Numbers reserves and assigns numbers of the inventory (*numbers.Service implements it).
type Numbers interface {
	Reserve(ctx context.Context, cust domain.Customer, site domain.Site, user domain.User) (domain.Number, error)
	ReserveSpecific(ctx context.Context, cust domain.Customer, number string, user domain.User) (domain.Number, error)
	Complete(ctx context.Context, cust domain.Customer, n domain.Number, user domain.User, siteID, actor string) (domain.Number, error)
}

var _ Numbers = (*numbers.Service)(nil)

// Queue sends to the staging queue (*queue.Sender implements it).
type Queue interface {
	SendDelayed(ctx context.Context, v any, delay time.Duration) error
}

var _ Queue = (*queue.Sender)(nil)

// Store is the state staging reads and writes (*store.Store implements it).
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	GetUser(ctx context.Context, customerID, userID string) (domain.User, error)
	GetSettings(ctx context.Context, customerID string) (domain.Settings, error)
	ListSites(ctx context.Context, customerID string) ([]domain.Site, error)
	GetSite(ctx context.Context, customerID, siteID string) (domain.Site, error)
	GetTemplate(ctx context.Context, customerID, templateID string) (domain.Template, error)
	// StageUser creates a staging record unless an active one exists (then returned with created=false).
	StageUser(ctx context.Context, s domain.Staging) (domain.Staging, bool, error)
	GetStaging(ctx context.Context, customerID, userID string) (domain.Staging, error)
	// UpdateStaging writes s when the stored version is s.Version (else EConflict) and returns it at Version+1.
	UpdateStaging(ctx context.Context, s domain.Staging) (domain.Staging, error)
	ListStaging(ctx context.Context, customerID string, q store.StagingQuery) (store.Page[domain.Staging], error)
	StagingsByUser(ctx context.Context, customerID string, userIDs []string) (map[string]domain.Staging, error)
	SetProvisionedSite(ctx context.Context, customerID, userID, siteID string, at time.Time) error
	GetProvisioning(ctx context.Context, customerID, userID string) (domain.Provisioning, error)
	// GetNumber reads a number of the inventory (onboarding checks a chosen number before licensing anyone).
	GetNumber(ctx context.Context, customerID, number string) (domain.Number, error)
	AppendAudit(ctx context.Context, r domain.AuditRecord) error
}

var _ Store = (*store.Store)(nil)

// Service stages users and provisions them when they appear in Teams.
type Service struct {
	Store     Store
	Graph     Graph
	Licensing Licensing
	Numbers   Numbers
	Queue     Queue
	Now       func() time.Time
	Log       *slog.Logger
	// RetryBase is the first re-check delay (default one minute); it doubles per attempt up to RetryMax (default
	// 15 minutes, SQS's longest delay; a longer one is reached by re-sending).
	RetryBase, RetryMax time.Duration
	// MaxReceives: a message received this often (ApproximateReceiveCount) that still fails marks its user failed
	// and is left to go to the DLQ (default 5, the queue's maxReceiveCount).
	MaxReceives int
}

// The licence operations stage the users they give a Teams licence through StageIfEligible.
var _ licensing.Stager = (*Service)(nil)

// Defaults of the Service's settings.
const (
	DefaultRetryBase   = time.Minute
	DefaultRetryMax    = queue.MaxDelay
	DefaultMaxReceives = 5
)

// JobActor is the audit actor of the staging consumer.
const JobActor = "job:staging"

// Reasons recorded on a staging record (why the user was staged).
const (
	ReasonSync       = "licence seen by sync"
	ReasonLicence    = licensing.StageReason // "licence assigned"
	ReasonOnboarding = "onboarding"
	ReasonManual     = "staged by hand"
)

// Audit actions.
const (
	ActionStage       = "staging.stage"
	ActionProvisioned = "staging.provisioned"
	ActionFailed      = "staging.failed"
	ActionRemoved     = "staging.removed"
)

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

func (s *Service) retryBase() time.Duration {
	if s.RetryBase > 0 {
		return s.RetryBase
	}
	return DefaultRetryBase
}

func (s *Service) retryMax() time.Duration {
	if s.RetryMax > 0 {
		return s.RetryMax
	}
	return DefaultRetryMax
}

func (s *Service) maxReceives() int {
	if s.MaxReceives > 0 {
		return s.MaxReceives
	}
	return DefaultMaxReceives
}

// Backoff is the delay before the next readiness check after attempts failed checks (attempts ≥ 1): RetryBase,
// doubling per attempt, at most RetryMax.
func (s *Service) Backoff(attempts int) time.Duration {
	base, limit := s.retryBase(), s.retryMax()
	d := base
	for i := 1; i < attempts && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// nextDelay is the delay of the next check after attempts failed checks at now: the backoff, but never past the
// deadline (so that the last check falls on it), and at least a second.
func (s *Service) nextDelay(attempts int, now, deadline time.Time) time.Duration {
	d := min(s.Backoff(attempts), deadline.Sub(now))
	if d < time.Second {
		d = time.Second
	}
	return d.Round(time.Second)
}

// limitWords says a duration the way staging limits are set: "24 h", "90 min", "30 s".
func limitWords(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%d min", d.Round(time.Minute)/time.Minute)
	}
	return fmt.Sprintf("%d s", d.Round(time.Second)/time.Second)
}

// who names a user in messages.
func who(name, upn, id string) string {
	switch {
	case name != "" && upn != "":
		return fmt.Sprintf("%s (%s)", name, upn)
	case name != "":
		return name
	case upn != "":
		return upn
	}
	return "user " + id
}

func whoUser(u domain.User) string   { return who(u.DisplayName, u.UserPrincipalName, u.ID) }
func whoRec(r domain.Staging) string { return who(r.DisplayName, r.UserPrincipalName, r.UserID) }
func siteName(st domain.Site) string { return fmt.Sprintf("%q", st.Name) }

// switchesOff returns the EConflict refusal when the customer's settings do not allow staging (nil when they do).
func switchesOff(cust domain.Customer, set domain.Settings) error {
	var off []string
	if !set.ManageLicenses {
		off = append(off, "Manage Licenses")
	}
	if !set.AllowStaging {
		off = append(off, "Allow User Staging")
	}
	if len(off) == 0 {
		return nil
	}
	return &domain.Error{Code: domain.EConflict,
		Message: fmt.Sprintf("Staging is off for %s: turn on %s in the customer's settings (Sites & settings) first.", cust.Name, strings.Join(off, " and ")),
		Fields:  map[string]string{"settings": "turn on " + strings.Join(off, " and ")}}
}

// StageRequest asks to stage one user. SiteID, TemplateID and Number are onboarding's choices ("" = by the site's
// criteria and policy); TemplateApplied says the template's licences were assigned already.
type StageRequest struct {
	CustomerID      string
	UserID          string
	Reason          string
	Actor           string
	SiteID          string
	TemplateID      string
	Number          string
	TemplateApplied bool
}

// Stage stages a user: a staging record (deadline: now + the customer's staging limit) and a first check on the
// staging queue at once. A user staged already (staged or being provisioned) is returned as is, and nothing is
// sent.
//
// Errors: EInvalid (no user id; a site or template that does not exist), ENotFound (customer, user), EConflict (the
// customer's Manage Licenses or Allow User Staging switch is off, naming it; the user is deleted; no site takes the
// user, or their site does not allow staging), EUpstream (the check could not be queued: the record is then marked
// failed, so that staging again starts afresh).
func (s *Service) Stage(ctx context.Context, req StageRequest) (domain.Staging, error) {
	if strings.TrimSpace(req.UserID) == "" {
		return domain.Staging{}, domain.Invalid(map[string]string{"userId": "required"})
	}
	cust, err := s.Store.GetCustomer(ctx, req.CustomerID)
	if err != nil {
		return domain.Staging{}, err
	}
	set, err := s.Store.GetSettings(ctx, cust.ID)
	if err != nil {
		return domain.Staging{}, err
	}
	if err := switchesOff(cust, set); err != nil {
		return domain.Staging{}, err
	}
	u, err := s.Store.GetUser(ctx, cust.ID, req.UserID)
	if err != nil {
		return domain.Staging{}, err
	}
	if err := s.checkStageable(ctx, cust.ID, u, req, nil); err != nil {
		return domain.Staging{}, err
	}
	rec, _, err := s.stage(ctx, set, u, req)
	return rec, err
}

// checkStageable checks that the user and the site they would be placed on can be staged, and that a requested
// template exists. all are the customer's sites when already read (nil: read when needed).
func (s *Service) checkStageable(ctx context.Context, customerID string, u domain.User, req StageRequest, all []domain.Site) error {
	if u.Status != "" && u.Status != domain.UserActive {
		return domain.Errorf(domain.EConflict, "%s was removed from the tenant: they cannot be staged", whoUser(u))
	}
	site, err := s.siteFor(ctx, customerID, req.SiteID, u, all)
	if err != nil {
		return err
	}
	if !site.AllowStaging {
		return &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("Site %s does not allow staging: turn on Allow User Staging on the site to stage %s.", siteName(site), whoUser(u)),
			Fields:  map[string]string{"siteId": "the site does not allow staging"}}
	}
	if req.TemplateID != "" {
		if _, err := s.Store.GetTemplate(ctx, customerID, req.TemplateID); err != nil {
			if domain.ErrorCode(err) == domain.ENotFound {
				return domain.Invalid(map[string]string{"templateId": "no such template"})
			}
			return err
		}
	}
	return nil
}

// siteFor returns the requested site, or the site the user's attributes place them on.
func (s *Service) siteFor(ctx context.Context, customerID, siteID string, u domain.User, all []domain.Site) (domain.Site, error) {
	if siteID != "" {
		site, err := s.Store.GetSite(ctx, customerID, siteID)
		if domain.ErrorCode(err) == domain.ENotFound {
			return domain.Site{}, domain.Invalid(map[string]string{"siteId": "no such site"})
		}
		return site, err
	}
	if all == nil {
		var err error
		if all, err = s.Store.ListSites(ctx, customerID); err != nil {
			return domain.Site{}, err
		}
	}
	site, ok := sites.Place(all, u)
	if !ok {
		return domain.Site{}, &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("No site matches %s and there is no default site: add a site whose criteria match, or a default site.", whoUser(u)),
			Fields:  map[string]string{"siteId": "no site matches the user"}}
	}
	return site, nil
}

// stage writes the staging record and queues its first check (created=false: the user was staged already).
func (s *Service) stage(ctx context.Context, set domain.Settings, u domain.User, req StageRequest) (domain.Staging, bool, error) {
	now := s.now()
	limit := set.StagingLimitMinutes
	if limit <= 0 {
		limit = domain.DefaultStagingLimitMinutes
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = ReasonManual
	}
	rec := domain.Staging{
		CustomerID: set.CustomerID, UserID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName,
		Status: domain.StagingStaged, Reason: reason, StagedAt: now, Deadline: now.Add(time.Duration(limit) * time.Minute),
		NextCheckAt: &now, LastResult: "Staged: waiting for the user to appear in Teams.",
		SiteID: req.SiteID, TemplateID: req.TemplateID, Number: strings.TrimSpace(req.Number), TemplateApplied: req.TemplateApplied,
		Actor: req.Actor, UpdatedAt: now,
	}
	if rec.CustomerID == "" {
		rec.CustomerID = req.CustomerID
	}
	got, created, err := s.Store.StageUser(ctx, rec)
	if err != nil || !created {
		return got, false, err
	}
	wctx, cancel := writeCtx(ctx) // the record is written: queue its check, even when ctx has just ended
	defer cancel()
	if err := s.Queue.SendDelayed(wctx, queue.StagingCheck{CustomerID: got.CustomerID, UserID: got.UserID, Attempt: got.Attempts}, 0); err != nil {
		// No check is on its way: end this staging, so that staging the user again starts a new one.
		reason := "The staging check could not be queued: stage the user again."
		failed := got
		failed.Status, failed.Error, failed.LastResult, failed.NextCheckAt, failed.UpdatedAt = domain.StagingFailed, reason, reason, nil, s.now()
		if _, uerr := s.Store.UpdateStaging(wctx, failed); uerr != nil {
			s.log().ErrorContext(ctx, "staging left without a check", "customer", got.CustomerID, "user", got.UserID, "err", uerr)
		}
		s.audit(wctx, req.Actor, ActionStage, got, nil, failed, reason)
		return domain.Staging{}, false, domain.Wrap(err, domain.EUpstream, fmt.Sprintf("staging %s failed: the check could not be queued; try again", whoUser(u)))
	}
	s.audit(ctx, req.Actor, ActionStage, got, nil, got, "")
	return got, true, nil
}

// StageIfEligible stages the users (the sync's and the licence operations' hook for users who gained a
// Teams-relevant licence) whose customer allows staging and whose site, placed by its criteria, does too; the
// others are skipped silently, as are users staged already. It returns how many were staged; errors of single
// users are joined, and the others are still staged.
func (s *Service) StageIfEligible(ctx context.Context, customerID string, users []domain.User, reason, actor string) (int, error) {
	if len(users) == 0 {
		return 0, nil
	}
	set, err := s.Store.GetSettings(ctx, customerID)
	if err != nil {
		return 0, err
	}
	if !set.ManageLicenses || !set.AllowStaging {
		return 0, nil
	}
	all, err := s.Store.ListSites(ctx, customerID)
	if err != nil {
		return 0, err
	}
	if set.CustomerID == "" {
		set.CustomerID = customerID
	}
	n := 0
	var errs []error
	for _, u := range users {
		if u.Status != "" && u.Status != domain.UserActive {
			continue
		}
		if site, ok := sites.Place(all, u); !ok || !site.AllowStaging {
			continue
		}
		_, created, err := s.stage(ctx, set, u, StageRequest{CustomerID: customerID, UserID: u.ID, Reason: reason, Actor: actor})
		if err != nil {
			errs = append(errs, fmt.Errorf("stage %s: %w", whoUser(u), err))
			continue
		}
		if created {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// List returns a page of the customer's staging records, newest staged first.
func (s *Service) List(ctx context.Context, customerID string, q store.StagingQuery) (store.Page[domain.Staging], error) {
	return s.Store.ListStaging(ctx, customerID, q)
}

// MaxByUsers is the most users ByUsers reads at once.
const MaxByUsers = 100

// ByUsers returns the staging records of the given users (those that have one), by user id: onboarding's live
// view. Errors: EInvalid (more than MaxByUsers ids).
func (s *Service) ByUsers(ctx context.Context, customerID string, userIDs []string) (map[string]domain.Staging, error) {
	if len(userIDs) > MaxByUsers {
		return nil, domain.Invalid(map[string]string{"users": fmt.Sprintf("at most %d users", MaxByUsers)})
	}
	if len(userIDs) == 0 {
		return map[string]domain.Staging{}, nil
	}
	return s.Store.StagingsByUser(ctx, customerID, userIDs)
}

// Remove takes a staged user out of staging (status removed; the check already queued then finds the record ended
// and is dropped). A user removed already is returned as is.
//
// Errors: ENotFound (no staging record), EConflict (staging has ended — provisioned or failed — or the user is
// being provisioned right now; or the record changed meanwhile: reload).
func (s *Service) Remove(ctx context.Context, customerID, userID, actor string) (domain.Staging, error) {
	rec, err := s.Store.GetStaging(ctx, customerID, userID)
	if err != nil {
		return domain.Staging{}, err
	}
	switch rec.Status {
	case domain.StagingRemoved:
		return rec, nil
	case domain.StagingProvisioning:
		return domain.Staging{}, domain.Errorf(domain.EConflict, "%s is being provisioned right now: wait until it has finished", whoRec(rec))
	case domain.StagingProvisioned, domain.StagingFailed:
		return domain.Staging{}, domain.Errorf(domain.EConflict, "staging of %s has ended already (%s): there is nothing to remove", whoRec(rec), rec.Status)
	}
	next := rec
	now := s.now()
	next.Status, next.NextCheckAt, next.UpdatedAt, next.Error = domain.StagingRemoved, nil, now, ""
	next.LastResult = "Removed from staging."
	if rec.ReservedNumber != "" && rec.AssignedNumber == "" {
		next.LastResult += fmt.Sprintf(" Number %s stays reserved for the user: assign or release it on the Numbers page.", rec.ReservedNumber)
	}
	saved, err := s.Store.UpdateStaging(ctx, next)
	if err != nil {
		if domain.ErrorCode(err) == domain.EConflict {
			return domain.Staging{}, domain.Wrap(err, domain.EConflict, fmt.Sprintf("staging of %s changed meanwhile: reload and try again", whoRec(rec)))
		}
		return domain.Staging{}, err
	}
	s.audit(ctx, actor, ActionRemoved, rec, rec, saved, "")
	return saved, nil
}

// CheckResult is the outcome of CheckNow.
type CheckResult struct {
	Ready   bool           `json:"ready"`
	Message string         `json:"message"`
	Staging domain.Staging `json:"staging"`
}

// CheckNow ("Un-stage now") checks at once whether a staged user has appeared in Teams. Ready: the user is
// provisioned now, as the consumer would (the record ends provisioned or failed, or goes back to staged for a
// transient failure). Not ready: the record stays staged (its last result says so) and the queued checks go on. A
// user being provisioned is resumed.
//
// Errors: ENotFound (no staging record, customer), EConflict (staging has ended), and Graph's errors of the
// readiness check.
func (s *Service) CheckNow(ctx context.Context, customerID, userID, actor string) (CheckResult, error) {
	rec, err := s.Store.GetStaging(ctx, customerID, userID)
	if err != nil {
		return CheckResult{}, err
	}
	if rec.Final() {
		return CheckResult{}, domain.Errorf(domain.EConflict, "staging of %s has ended (%s): stage the user again to check", whoRec(rec), rec.Status)
	}
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return CheckResult{}, err
	}
	j := &job{s: s, cust: cust, actor: actor, rec: rec, byHand: true}
	ready, err := j.advance(ctx)
	if errors.Is(err, errLost) {
		cur, gerr := s.Store.GetStaging(ctx, customerID, userID)
		if gerr != nil {
			return CheckResult{}, gerr
		}
		return CheckResult{Ready: ready, Staging: cur,
			Message: fmt.Sprintf("%s is being checked by Seatwise at the same time: see the status below.", whoRec(rec))}, nil
	}
	if err != nil {
		return CheckResult{}, err
	}
	return CheckResult{Ready: ready, Staging: j.rec, Message: checkMessage(ready, j.rec)}, nil
}

func checkMessage(ready bool, r domain.Staging) string {
	name := whoRec(r)
	switch {
	case !ready:
		next := ""
		if r.NextCheckAt != nil {
			next = fmt.Sprintf(" (next check %s UTC)", r.NextCheckAt.Format("2 Jan 15:04"))
		}
		return fmt.Sprintf("%s has not appeared in Teams yet: they stay staged and Seatwise keeps checking%s.", name, next)
	case r.Status == domain.StagingProvisioned:
		return fmt.Sprintf("%s is in Teams and was provisioned: %s", name, r.LastResult)
	case r.Status == domain.StagingFailed:
		return fmt.Sprintf("%s is in Teams, but provisioning failed: %s", name, r.Error)
	}
	return fmt.Sprintf("%s is in Teams; provisioning will be retried: %s", name, r.LastResult)
}

// audit appends a staging audit record (failures are logged: the change itself is done).
func (s *Service) audit(ctx context.Context, actor, action string, rec domain.Staging, before, after any, errMsg string) {
	r := domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: rec.CustomerID, Action: action, UserID: rec.UserID, Outcome: "ok"}
	if before != nil {
		r.Before = before
	}
	if after != nil {
		r.After = after
	}
	if errMsg != "" {
		r.Outcome, r.Error = "failed", errMsg
	}
	wctx, cancel := writeCtx(ctx)
	defer cancel()
	if err := s.Store.AppendAudit(wctx, r); err != nil {
		s.log().ErrorContext(ctx, "audit failed", "customer", rec.CustomerID, "user", rec.UserID, "action", action, "err", err)
	}
}

// writeCtx is the context of a write that records what happened: it outlives ctx's cancellation (the work is done
// and must be recorded) for a bounded time.
func writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// parallel runs fn(i) for i in [0, n) with at most limit at once.
func parallel(n, limit int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(limit, 1))
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
