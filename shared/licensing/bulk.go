package licensing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/store"
)

// This file is the bulk path of licence changes: many users of one customer changed at once (a template assigned
// to many users, later the bulk CSV upload), checked before Microsoft Graph is called, applied through Graph's JSON
// batching (graph.AssignMany: chunks of 20, bounded concurrency, throttled items retried), then re-read from Graph
// in bulk and stored as Graph answered, and audited per user.

// BulkStore is what a bulk change reads and writes (*store.Store implements it).
type BulkStore interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error)
	// UsersByID returns the stored users among ids, by lower-case id.
	UsersByID(ctx context.Context, customerID string, ids []string) (map[string]domain.User, error)
	// LockUserLicences returns an EConflict error when another change of the user's licences holds the lock.
	LockUserLicences(ctx context.Context, customerID, userID, holder string, now, until time.Time) error
	UnlockUsersLicences(ctx context.Context, customerID, holder string, userIDs []string) error
	// PutUsers stores users as Graph answered (and moves the customer's user counts with them).
	PutUsers(ctx context.Context, customerID string, users []domain.User, at time.Time) (int, error)
	ReplaceSKUs(ctx context.Context, c domain.Customer, skus []domain.SubscribedSKU) (store.SKUChanges, error)
	AppendAudits(ctx context.Context, records []domain.AuditRecord) error
	SetManagedBy(ctx context.Context, customerID string, userIDs []string, by string, at time.Time) error
}

var _ BulkStore = (*store.Store)(nil)

// BulkGraph is the part of Microsoft Graph a bulk change uses (*graph.Factory implements it). The errors returned
// beside the results are for the tenant's client only.
type BulkGraph interface {
	AssignMany(ctx context.Context, tenantID string, ops []graph.LicenseOp, concurrency int) ([]graph.LicenseResult, error)
	ReadUsers(ctx context.Context, tenantID string, ids []string, concurrency int) ([]graph.UserResult, error)
	ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error)
}

var _ BulkGraph = (*graph.Factory)(nil)

// MaxBulkChanges is the most changes one ApplyMany call takes.
const MaxBulkChanges = 1000

// bulkLockFor is how long a bulk change holds the locks on its users' licences (they are released at its end;
// a crashed change's locks expire).
const bulkLockFor = 15 * time.Minute

// bulkStoreConcurrency bounds the store calls (locks) a bulk change has in flight.
const bulkStoreConcurrency = 8

// Bulk applies many licence changes of one customer. It is safe for concurrent use.
type Bulk struct {
	Store BulkStore
	Graph BulkGraph
	// Staging, when set, stages users who gain a Teams-relevant licence.
	Staging Stager
	// Concurrency is how many $batch requests are in flight (0 = graph.DefaultBatchConcurrency).
	Concurrency int
	Now         func() time.Time
	Log         *slog.Logger
}

// BulkChange is one user's licence change: the licences to add (or whose disabled plans to replace, for a SKU the
// user holds directly) and the SKUs to remove, applied by Graph as one atomic change of that user.
type BulkChange struct {
	UserID string
	Add    []domain.AssignedLicense
	Remove []string
}

// BulkRequest is a bulk change and what the audit trail records of it.
type BulkRequest struct {
	CustomerID string
	Actor      string
	// Action names the change in the audit trail, e.g. "template.assign".
	Action string
	// Source is what the changes come from (a template, a CSV upload), recorded with each audit record.
	Source any
	// ManagedBy is recorded on the users changed, for the usage audit (a domain.ManagedBy* value).
	ManagedBy string
	Changes   []BulkChange
}

// Outcomes of one user's change.
const (
	BulkOK        = "ok"        // Graph applied the change
	BulkUnchanged = "unchanged" // the user already had exactly this: nothing was sent
	BulkFailed    = "failed"    // refused before Graph was called, or by Graph: Error says why
)

// BulkResult is the outcome of one user's change.
type BulkResult struct {
	UserID  string `json:"userId"`
	Outcome string `json:"outcome"`
	// Code is the domain error code of a failure; Reason the kind of a licence refusal (graph.LicenseErrorKind:
	// no_seats, usage_location_missing, mutually_exclusive, dependency, inherited_from_group…) when known.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	// RequestID is Graph's request-id of the change, when Graph was called.
	RequestID string `json:"requestId,omitempty"`
	// User is the user as stored after the change (Graph's answer), when it could be read back.
	User *domain.User `json:"-"`
}

func (b *Bulk) now() time.Time { return nowUTC(b.Now) }

func (b *Bulk) log() *slog.Logger { return loggerOrDefault(b.Log) }

// bulkWork is one change on its way.
type bulkWork struct {
	change BulkChange
	id     string // lower-case user id
	before *domain.User
	op     graph.LicenseOp
	res    *BulkResult
	sent   bool
	after  *domain.User
}

// ApplyMany applies the changes of req and returns one result per change, in order.
//
// Before Graph is called, each user's licences are locked against other changes and every change is checked
// against the stored state: the user must be known and active; the SKUs to add must be the customer's, with
// disabled plans of their own; a user without a usage location cannot get a licence; a licence held only through
// a group cannot be removed directly; a change the user already has is not sent (outcome unchanged). Those failures
// are the users' own results. Seats are then checked for the whole request: per SKU, the users that do not hold it
// yet need one free seat each; when a SKU has too few, nothing is changed and ApplyMany returns an EConflict error
// naming each short SKU (Fields by skuId).
//
// The remaining changes go to Graph in one graph.AssignMany; every user sent is then read back from Graph in bulk
// (graph.ReadUsers) and stored as Graph answered, the SKUs are re-read and stored, and each change is audited
// (before → after, outcome, error, Graph's request-id).
//
// Errors (for the whole request): EInvalid (no changes, too many, a user listed twice), ENotFound (unknown
// customer), EConflict (too few seats), or a store failure. Graph's failures are per user.
func (b *Bulk) ApplyMany(ctx context.Context, req BulkRequest) ([]BulkResult, error) {
	switch n := len(req.Changes); {
	case n == 0:
		return nil, domain.Invalid(map[string]string{"changes": "at least one change is required"})
	case n > MaxBulkChanges:
		return nil, domain.Invalid(map[string]string{"changes": fmt.Sprintf("at most %d changes at once", MaxBulkChanges)})
	}
	work := make([]*bulkWork, len(req.Changes))
	results := make([]BulkResult, len(req.Changes))
	seen := map[string]int{}
	ids := make([]string, len(req.Changes))
	for i, c := range req.Changes {
		id := strings.ToLower(strings.TrimSpace(c.UserID))
		if j, dup := seen[id]; dup {
			return nil, domain.Invalid(map[string]string{fmt.Sprintf("changes[%d].userId", i): fmt.Sprintf("user %s is listed twice (also change %d)", c.UserID, j)})
		}
		seen[id] = i
		ids[i] = id
		results[i] = BulkResult{UserID: c.UserID}
		work[i] = &bulkWork{change: c, id: id, res: &results[i]}
	}
	cust, err := b.Store.GetCustomer(ctx, req.CustomerID)
	if err != nil {
		return nil, err
	}

	holder := bulkHolder()
	locked := b.lockAll(ctx, req.CustomerID, holder, work)
	defer b.unlockAll(context.WithoutCancel(ctx), req.CustomerID, holder, locked)

	skuList, err := b.Store.CustomerSKUs(ctx, req.CustomerID)
	if err != nil {
		return nil, err
	}
	skus := make(map[string]domain.CustomerSKU, len(skuList))
	for _, s := range skuList {
		skus[strings.ToLower(s.SkuID)] = s
	}
	stored, err := b.Store.UsersByID(ctx, req.CustomerID, ids)
	if err != nil {
		return nil, err
	}
	for _, w := range work {
		if w.res.Outcome != "" { // not locked
			continue
		}
		if u, ok := stored[w.id]; ok {
			w.before = &u
		}
		b.precheck(w, skus)
	}
	if err := bulkSeats(work, skus); err != nil {
		return nil, err
	}

	var send []*bulkWork
	for _, w := range work {
		if w.res.Outcome == "" {
			w.sent = true
			send = append(send, w)
		}
	}
	if len(send) > 0 {
		b.apply(ctx, cust, send)
	}
	b.audit(ctx, req, work)
	var pairs [][2]domain.User
	var changed []string
	for _, w := range send {
		if w.res.Outcome == BulkOK {
			changed = append(changed, w.id)
		}
		if w.before != nil && w.after != nil {
			pairs = append(pairs, [2]domain.User{*w.before, *w.after})
		}
	}
	recordManaged(ctx, b.Store, b.log(), req.CustomerID, changed, managedBy(ctx, req.ManagedBy), b.now())
	if note := stageGains(ctx, b.Staging, req.CustomerID, req.Actor, pairs...); note != "" {
		b.log().InfoContext(ctx, "bulk change staged users", "customer", req.CustomerID, "note", note)
	}
	return results, nil
}

func bulkHolder() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "bulk-" + hex.EncodeToString(b[:])
}

// lockAll locks each user's licences; a user whose lock another change holds fails with that error. It returns
// the users locked.
func (b *Bulk) lockAll(ctx context.Context, customerID, holder string, work []*bulkWork) []string {
	now := b.now()
	var (
		mu     sync.Mutex
		locked []string
		wg     sync.WaitGroup
		sem    = make(chan struct{}, bulkStoreConcurrency)
	)
	for _, w := range work {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := b.Store.LockUserLicences(ctx, customerID, w.id, holder, now, now.Add(bulkLockFor))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bulkFail(w.res, err, "")
				return
			}
			locked = append(locked, w.id)
		}()
	}
	wg.Wait()
	return locked
}

func (b *Bulk) unlockAll(ctx context.Context, customerID, holder string, ids []string) {
	if len(ids) == 0 {
		return
	}
	if err := b.Store.UnlockUsersLicences(ctx, customerID, holder, ids); err != nil {
		b.log().WarnContext(ctx, "unlock user licences (they expire)", "customer", customerID, "err", err)
	}
}

// fail records a failure in a result.
func bulkFail(r *BulkResult, err error, requestID string) {
	r.Outcome, r.Code, r.Error = BulkFailed, domain.ErrorCode(err), domain.ErrorMessage(err)
	var le *graph.LicenseError
	if errors.As(err, &le) {
		r.Reason = string(le.Kind)
	}
	if requestID == "" {
		requestID = graph.RequestID(err)
	}
	r.RequestID = requestID
}

// refuse records a failure found before Graph was called.
func bulkRefuse(r *BulkResult, code string, kind graph.LicenseErrorKind, format string, args ...any) {
	r.Outcome, r.Code, r.Reason, r.Error = BulkFailed, code, string(kind), fmt.Sprintf(format, args...)
}

// precheck checks one change against the stored state and builds its Graph operation; a change that fails is
// its user's result, one the user already has is unchanged.
func (b *Bulk) precheck(w *bulkWork, skus map[string]domain.CustomerSKU) {
	u, r := w.before, w.res
	if u == nil || u.Status != domain.UserActive {
		bulkRefuse(r, domain.ENotFound, "", "user %s is not a user of this customer (or was removed); sync the customer if it is new", w.change.UserID)
		return
	}
	held := map[string]domain.Licence{}
	for _, l := range u.Licences {
		held[strings.ToLower(l.SkuID)] = l
	}
	op := graph.LicenseOp{UserID: u.ID}
	for _, a := range w.change.Add {
		skuID := strings.ToLower(a.SkuID)
		sku, ok := skus[skuID]
		if !ok {
			bulkRefuse(r, domain.EInvalid, graph.UnknownSKU, "the customer has no subscription to SKU %s", a.SkuID)
			return
		}
		plans := map[string]bool{}
		for _, p := range sku.ServicePlans {
			plans[strings.ToLower(p.ID)] = true
		}
		disabled := make([]string, 0, len(a.DisabledPlans))
		for _, p := range a.DisabledPlans {
			p = strings.ToLower(p)
			if !plans[p] {
				bulkRefuse(r, domain.EInvalid, "", "service plan %s is not part of %s", p, bulkSKUName(sku))
				return
			}
			disabled = append(disabled, p)
		}
		if l, ok := held[skuID]; ok && l.Direct && bulkSamePlans(l.DisabledPlans, disabled) {
			continue // already held directly with these add-ons
		}
		op.Add = append(op.Add, domain.AssignedLicense{SkuID: skuID, DisabledPlans: disabled})
	}
	for _, s := range w.change.Remove {
		skuID := strings.ToLower(s)
		l, ok := held[skuID]
		switch {
		case !ok:
			continue // nothing to remove
		case !l.Direct:
			bulkRefuse(r, domain.EConflict, graph.InheritedFromGroup, "%s is assigned to user %s through group %s and cannot be removed directly: remove the user from the group",
				bulkSKULabel(skus, skuID), u.UserPrincipalName, strings.Join(l.Groups, ", "))
			return
		}
		op.Remove = append(op.Remove, skuID)
	}
	if len(op.Add) > 0 && strings.TrimSpace(u.UsageLocation) == "" {
		bulkRefuse(r, domain.EInvalid, graph.UsageLocationMissing, "user %s has no usage location: set one (e.g. the site's or the customer's country) before a licence can be assigned", u.UserPrincipalName)
		return
	}
	if len(op.Add) == 0 && len(op.Remove) == 0 {
		r.Outcome = BulkUnchanged
		return
	}
	w.op = op
}

func bulkSamePlans(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range x {
		x[i] = strings.ToLower(x[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func bulkSKUName(s domain.CustomerSKU) string { return catalog.DisplayName(s.SkuID, s.PartNumber) }

func bulkSKULabel(skus map[string]domain.CustomerSKU, skuID string) string {
	if s, ok := skus[skuID]; ok {
		return bulkSKUName(s)
	}
	return catalog.DisplayName(skuID, "")
}

// seatsFor checks that each SKU has a free seat for every user of the request who gets it and does not hold it
// yet (a user who holds it, directly or through a group, takes no new seat). Removals are not counted as freeing
// seats: Graph applies the changes in no particular order.
func bulkSeats(work []*bulkWork, skus map[string]domain.CustomerSKU) error {
	need := map[string]int{}
	for _, w := range work {
		if w.res.Outcome != "" {
			continue
		}
		for _, a := range w.op.Add {
			if !slices.ContainsFunc(w.before.Licences, func(l domain.Licence) bool { return strings.EqualFold(l.SkuID, a.SkuID) }) {
				need[a.SkuID]++
			}
		}
	}
	fields := map[string]string{}
	var short []string
	for skuID, n := range need {
		s := skus[skuID]
		if avail := s.Available(); n > avail {
			fields[skuID] = fmt.Sprintf("%d seats needed, %d available", n, max(avail, 0))
			short = append(short, fmt.Sprintf("%s (%d needed, %d available)", bulkSKUName(s), n, max(avail, 0)))
		}
	}
	if len(short) == 0 {
		return nil
	}
	sort.Strings(short)
	return &domain.Error{Code: domain.EConflict, Fields: fields,
		Message: "not enough seats for this change, nothing was changed: " + strings.Join(short, "; ") + ". Buy or free seats, or change fewer users."}
}

// apply sends the changes to Graph, then reads the users sent back from Graph and stores them (and the SKUs) as
// Graph answered.
func (b *Bulk) apply(ctx context.Context, cust domain.Customer, send []*bulkWork) {
	ops := make([]graph.LicenseOp, len(send))
	for i, w := range send {
		ops[i] = w.op
	}
	results, err := b.Graph.AssignMany(ctx, cust.TenantID, ops, b.Concurrency)
	if err != nil {
		for _, w := range send {
			bulkFail(w.res, err, "")
		}
		return
	}
	for i, r := range results {
		w := send[i]
		if r.Err != nil {
			bulkFail(w.res, r.Err, r.RequestID)
			continue
		}
		w.res.Outcome, w.res.RequestID = BulkOK, r.RequestID
	}

	// Every user sent is read back, failed ones included: a change whose answer was lost (a timeout) may still
	// have been applied, and the store must hold what Graph holds.
	ids := make([]string, len(send))
	for i, w := range send {
		ids[i] = w.op.UserID
	}
	read, err := b.Graph.ReadUsers(ctx, cust.TenantID, ids, b.Concurrency)
	if err != nil {
		b.log().WarnContext(ctx, "read back changed users", "customer", cust.ID, "err", err)
	}
	at := b.now()
	var users []domain.User
	var back []*bulkWork
	for i, r := range read {
		w := send[i]
		if r.Err != nil {
			b.log().WarnContext(ctx, "read back a changed user", "customer", cust.ID, "user", w.id, "err", r.Err)
			continue
		}
		users = append(users, store.UserFromGraph(cust.ID, r.User))
		back = append(back, w)
	}
	if len(users) > 0 {
		if _, err := b.Store.PutUsers(ctx, cust.ID, users, at); err != nil {
			// The changes are made; the stored users may lag until the next sync.
			b.log().WarnContext(ctx, "store changed users", "customer", cust.ID, "err", err)
		}
		for i, w := range back {
			u := users[i]
			u.ChangedAt = at
			w.after, w.res.User = &u, &u
		}
	}
	skus, err := b.Graph.ListSKUs(ctx, cust.TenantID)
	if err == nil {
		_, err = b.Store.ReplaceSKUs(ctx, cust, skus)
	}
	if err != nil {
		b.log().WarnContext(ctx, "re-read SKUs after a bulk change", "customer", cust.ID, "err", err)
	}
}

// bulkAudit is what an audit record of a bulk change holds as before and after.
type bulkAudit struct {
	Licences []domain.Licence `json:"licences"`
	// Change is the change asked for (in after).
	Change *bulkAuditChange `json:"change,omitempty"`
	Source any              `json:"source,omitempty"`
}

type bulkAuditChange struct {
	Add    []domain.AssignedLicense `json:"add"`
	Remove []string                 `json:"remove"`
}

// audit records every change that was attempted (sent to Graph, or refused by the checks), not the unchanged ones.
func (b *Bulk) audit(ctx context.Context, req BulkRequest, work []*bulkWork) {
	at := b.now()
	var records []domain.AuditRecord
	for _, w := range work {
		if w.res.Outcome == BulkUnchanged {
			continue
		}
		rec := domain.AuditRecord{At: at, Actor: req.Actor, CustomerID: req.CustomerID, UserID: w.id, Action: req.Action,
			Outcome: w.res.Outcome, Error: w.res.Error, RequestID: w.res.RequestID}
		if w.before != nil {
			rec.Before = bulkAudit{Licences: bulkLicences(w.before.Licences)}
		}
		after := bulkAudit{Change: &bulkAuditChange{Add: bulkNonNilAdd(w.change.Add), Remove: bulkNonNil(w.change.Remove)}, Source: req.Source}
		switch {
		case w.after != nil:
			after.Licences = bulkLicences(w.after.Licences)
		case w.before != nil:
			after.Licences = bulkLicences(w.before.Licences) // not applied, or not read back: as far as we know, unchanged
		}
		rec.After = after
		records = append(records, rec)
	}
	if len(records) == 0 {
		return
	}
	if err := b.Store.AppendAudits(context.WithoutCancel(ctx), records); err != nil {
		b.log().ErrorContext(ctx, "audit a bulk licence change", "customer", req.CustomerID, "action", req.Action, "records", len(records), "err", err)
	}
}

func bulkLicences(l []domain.Licence) []domain.Licence {
	if l == nil {
		return []domain.Licence{}
	}
	return l
}

func bulkNonNilAdd(a []domain.AssignedLicense) []domain.AssignedLicense {
	if a == nil {
		return []domain.AssignedLicense{}
	}
	return a
}

func bulkNonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
