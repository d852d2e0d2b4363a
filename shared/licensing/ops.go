package licensing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/store"
)

// Graph is what licence operations need of Microsoft Graph (*graph.Factory implements it). Errors carry domain
// codes; licence refusals carry a *graph.LicenseError.
type Graph interface {
	// AssignLicensesWithRequestID adds (or changes the disabled plans of) and removes a user's direct licences in
	// one atomic change, and returns Graph's request-id.
	AssignLicensesWithRequestID(ctx context.Context, tenantID, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, string, error)
	// User reads one user with its licenseAssignmentStates.
	User(ctx context.Context, tenantID, userID string) (domain.GraphUser, error)
	// ListSKUs reads the tenant's subscribed SKUs.
	ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error)
	// GroupName reads a group's display name.
	GroupName(ctx context.Context, tenantID, groupID string) (string, error)
	// SetUsageLocation sets a user's usage location.
	SetUsageLocation(ctx context.Context, tenantID, userID, location string) error
}

var _ Graph = (*graph.Factory)(nil)

// Store is the state licence operations read and write.
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	GetUser(ctx context.Context, customerID, userID string) (domain.User, error)
	CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error)
	ReplaceSKUs(ctx context.Context, c domain.Customer, skus []domain.SubscribedSKU) (store.SKUChanges, error)
	PutUser(ctx context.Context, u domain.User, at time.Time) (bool, error)
	AppendAudit(ctx context.Context, r domain.AuditRecord) error
	LockUserLicences(ctx context.Context, customerID, userID, holder string, now, until time.Time) error
	UnlockUserLicences(ctx context.Context, customerID, userID, holder string) error
	GroupNames(ctx context.Context, customerID string) (map[string]string, error)
	MergeGroupNames(ctx context.Context, customerID string, names map[string]string) error
	SetManagedBy(ctx context.Context, customerID string, userIDs []string, by string, at time.Time) error
}

var _ Store = (*store.Store)(nil)

// Service runs licence operations. Each one: checks what the store can tell (the SKU, free seats, the usage
// location, the add-ons, licences held through groups) and refuses clearly before Graph is called; makes the change
// through Graph, whose refusals are explained by name (SKU, service plans, groups); reads the user and the SKUs
// back from Graph and stores them as Graph answered, so that the next sync agrees; and appends an audit record for
// every attempt, refused or not, with Graph's request-id when there is one. Changes of one user's licences are
// serialised by a lock in the store.
type Service struct {
	Store Store
	Graph Graph
	Now   func() time.Time
	Log   *slog.Logger
	// Staging, when set, stages users who gain a Teams-relevant licence.
	Staging Stager
	// UsageLocations, when set, gives a user without a usage location the default of their site or customer
	// before a licence is assigned (otherwise such an assignment is refused).
	UsageLocations UsageLocator
	// Numbers, when set, releases an offboarded user's number into quarantine.
	Numbers NumberReleaser
	// LockFor bounds how long an operation holds a user's licence lock (default two minutes; a crashed operation's
	// lock expires then).
	LockFor time.Duration
}

// Audit actions.
const (
	ActionAssign          = "licence.assign"
	ActionChangeAddOns    = "licence.addons"
	ActionRemove          = "licence.remove"
	ActionReassign        = "licence.reassign"         // a reassignment refused before Graph was called
	ActionReassignAssign  = "licence.reassign.assign"  // B gets the licence
	ActionReassignRemove  = "licence.reassign.remove"  // A loses it
	ActionReassignRestore = "licence.reassign.restore" // A gets it back after B's assignment failed
	ActionReassignUndo    = "licence.reassign.undo"    // B loses it again after A's removal failed
	ActionOffboard        = "licence.offboard"
)

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
)

func (s *Service) now() time.Time { return nowUTC(s.Now) }

func (s *Service) log() *slog.Logger { return loggerOrDefault(s.Log) }

// nowUTC is now() in UTC, or the wall clock's when now is nil.
func nowUTC(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

// loggerOrDefault is l, or slog's default logger when l is nil.
func loggerOrDefault(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// Change is a licence with its add-ons: the SKU, and the service plans of the SKU switched off.
type Change struct {
	SkuID         string
	DisabledPlans []string
}

// Result is a user after a licence operation, as Microsoft Graph answered it and as now stored.
type Result struct {
	User domain.User
	// RequestID is Graph's request-id of the change ("" when no change was sent).
	RequestID string
	// Notes say what else the admin should know (the licence is still held through a group, nothing changed, the
	// user could not be read back…).
	Notes []string
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validate normalises a change and says what is wrong with its form (the store is not read).
func validateChange(c *Change, field string) error {
	fields := map[string]string{}
	c.SkuID = strings.ToLower(strings.TrimSpace(c.SkuID))
	switch {
	case c.SkuID == "":
		fields[field] = "required: the SKU id (a GUID)"
	case !guidRe.MatchString(c.SkuID):
		fields[field] = "must be a SKU id (a GUID)"
	}
	plans := make([]string, 0, len(c.DisabledPlans))
	for i, p := range c.DisabledPlans {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case !guidRe.MatchString(p):
			fields[fmt.Sprintf("disabledPlans[%d]", i)] = "must be a service plan id (a GUID)"
		case slices.Contains(plans, p):
			fields[fmt.Sprintf("disabledPlans[%d]", i)] = "listed twice"
		default:
			plans = append(plans, p)
		}
	}
	c.DisabledPlans = plans
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	return nil
}

// session is one operation's view of a customer: its SKUs, the users it changes (locked), and who acts.
type session struct {
	s      *Service
	actor  string
	cust   domain.Customer
	skus   []domain.CustomerSKU
	holder string
	locked []string
	groups map[string]string // lower-case group id → display name ("" unknown), looked up in this operation
}

// begin reads the customer, locks the users' licences (in a fixed order) and reads their SKUs. The caller reads the
// users after begin, so that it reads them under the lock, and calls end. A user locked by another operation is a
// refused attempt of action, audited.
func (s *Service) begin(ctx context.Context, actor, action, customerID string, userIDs ...string) (*session, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	sess := &session{s: s, actor: actor, cust: cust, holder: hex.EncodeToString(b[:])}
	ids := make([]string, len(userIDs))
	for i, id := range userIDs {
		ids[i] = strings.ToLower(id)
	}
	slices.Sort(ids)
	lockFor := s.LockFor
	if lockFor <= 0 {
		lockFor = 2 * time.Minute
	}
	for _, id := range ids {
		now := s.now()
		if err := s.Store.LockUserLicences(ctx, cust.ID, id, sess.holder, now, now.Add(lockFor)); err != nil {
			sess.end(ctx)
			if domain.ErrorCode(err) == domain.EConflict {
				sess.audit(ctx, domain.User{ID: id}, action, nil, nil, nil, nil, err, "")
			}
			return nil, err
		}
		sess.locked = append(sess.locked, id)
	}
	if sess.skus, err = s.Store.CustomerSKUs(ctx, cust.ID); err != nil {
		sess.end(ctx)
		return nil, err
	}
	return sess, nil
}

// beginUser is begin for one user, who is then read under the lock (see user). On an error the session is already
// ended; otherwise the caller calls end.
func (s *Service) beginUser(ctx context.Context, actor, action, customerID, userID string) (*session, domain.User, error) {
	sess, err := s.begin(ctx, actor, action, customerID, userID)
	if err != nil {
		return nil, domain.User{}, err
	}
	u, err := sess.user(ctx, userID)
	if err != nil {
		sess.end(ctx)
		return nil, domain.User{}, err
	}
	return sess, u, nil
}

// end releases the locks.
func (sess *session) end(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, id := range sess.locked {
		if err := sess.s.Store.UnlockUserLicences(ctx, sess.cust.ID, id, sess.holder); err != nil {
			sess.s.log().ErrorContext(ctx, "unlock user licences failed", "customer", sess.cust.ID, "user", id, "err", err)
		}
	}
	sess.locked = nil
}

// user reads a user of the customer under the session's lock; a user removed from the tenant cannot be changed.
func (sess *session) user(ctx context.Context, id string) (domain.User, error) {
	u, err := sess.s.Store.GetUser(ctx, sess.cust.ID, id)
	if err != nil {
		return domain.User{}, err
	}
	if u.Status != domain.UserActive {
		return u, domain.Errorf(domain.EConflict, "%s was deleted in the tenant (%s): their licences can no longer be changed", who(u), u.Status)
	}
	return u, nil
}

func (sess *session) sku(id string) (domain.CustomerSKU, bool) {
	i := slices.IndexFunc(sess.skus, func(k domain.CustomerSKU) bool { return strings.EqualFold(k.SkuID, id) })
	if i < 0 {
		return domain.CustomerSKU{}, false
	}
	return sess.skus[i], true
}

// skuName names a SKU as the catalogue does (or by its part number, or its id).
func (sess *session) skuName(id string) string {
	k, _ := sess.sku(id)
	return catalog.DisplayName(id, k.PartNumber)
}

// planName names a service plan by its friendly name (or its name, or its id).
func (sess *session) planName(id string) string {
	if name, friendly, ok := catalog.PlanName(id); ok {
		if friendly != "" {
			return friendly
		}
		return name
	}
	for _, k := range sess.skus {
		for _, p := range k.ServicePlans {
			if strings.EqualFold(p.ID, id) && p.Name != "" {
				return p.Name
			}
		}
	}
	return id
}

// groupName names a group: from the names the sync stored, else read from Graph (and stored); "" when neither
// knows it. Names are looked up once per operation.
func (sess *session) groupName(ctx context.Context, id string) string {
	id = strings.ToLower(id)
	if sess.groups == nil {
		sess.groups = map[string]string{}
		if stored, err := sess.s.Store.GroupNames(ctx, sess.cust.ID); err == nil {
			for k, v := range stored {
				sess.groups[strings.ToLower(k)] = v
			}
		}
	}
	if n, ok := sess.groups[id]; ok || sess.s.Graph == nil {
		return n
	}
	n, err := sess.s.Graph.GroupName(ctx, sess.cust.TenantID, id)
	if err != nil {
		sess.s.log().WarnContext(ctx, "group name not read", "customer", sess.cust.ID, "group", id, "err", err)
		n = ""
	} else if n != "" {
		if err := sess.s.Store.MergeGroupNames(ctx, sess.cust.ID, map[string]string{id: n}); err != nil {
			sess.s.log().WarnContext(ctx, "group name not stored", "customer", sess.cust.ID, "group", id, "err", err)
		}
	}
	sess.groups[id] = n
	return n
}

// groupList names groups for a message: 'Teams Phone users', 'Sales' (the id when the name is unknown).
func (sess *session) groupList(ctx context.Context, ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		if n := sess.groupName(ctx, id); n != "" {
			names[i] = "'" + n + "'"
		} else {
			names[i] = id
		}
	}
	return strings.Join(names, ", ")
}

func groupWord(ids []string) string {
	if len(ids) == 1 {
		return "the group"
	}
	return "the groups"
}

// who names a user in messages.
func who(u domain.User) string {
	switch {
	case u.DisplayName != "" && u.UserPrincipalName != "":
		return fmt.Sprintf("%s (%s)", u.DisplayName, u.UserPrincipalName)
	case u.DisplayName != "":
		return u.DisplayName
	case u.UserPrincipalName != "":
		return u.UserPrincipalName
	}
	return "user " + u.ID
}

func licenceOf(u domain.User, skuID string) (domain.Licence, bool) {
	i := slices.IndexFunc(u.Licences, func(l domain.Licence) bool { return strings.EqualFold(l.SkuID, skuID) })
	if i < 0 {
		return domain.Licence{}, false
	}
	return u.Licences[i], true
}

// holdsSeat reports whether the user already consumes a seat of the SKU (directly, or through a group whose
// assignment is not in error), so that a direct assignment takes no other.
func holdsSeat(u domain.User, skuID string) bool {
	l, ok := licenceOf(u, skuID)
	return ok && (l.Direct || len(l.Groups) > 0 && l.State != "Error")
}

// --- the checks and messages (the same words before Graph is called and for Graph's refusals) ---

func (sess *session) unknownSKU(skuID, field string) error {
	return &domain.Error{Code: domain.EInvalid,
		Message: fmt.Sprintf("%s has no subscription to %s: it cannot be assigned", sess.cust.Name, sess.skuName(skuID)),
		Fields:  map[string]string{field: "not a SKU this customer subscribes to"}}
}

func (sess *session) noSeats(skuID string) error {
	msg := fmt.Sprintf("No seats available for %s: every seat is in use. Free a seat or buy more, then try again.", sess.skuName(skuID))
	if k, ok := sess.sku(skuID); ok {
		msg = fmt.Sprintf("No seats available for %s: %d of %d in use. Free a seat or buy more, then try again.", sess.skuName(skuID), k.Consumed, k.Enabled)
	}
	return &domain.Error{Code: domain.EConflict, Message: msg, Fields: map[string]string{"skuId": "no seats available"}}
}

func noUsageLocation(u domain.User) error {
	return &domain.Error{Code: domain.EInvalid,
		Message: fmt.Sprintf("%s has no usage location, which Microsoft requires before a licence can be assigned. "+
			"Set the user's usage location (for example in the Microsoft 365 admin center) and try again; "+
			"or give the customer (Sites & settings) a default usage location.", who(u)),
		Fields: map[string]string{"usageLocation": "required before a licence can be assigned"}}
}

func (sess *session) inherited(ctx context.Context, u domain.User, skuID string, groups []string, what string) error {
	return &domain.Error{Code: domain.EConflict,
		Message: fmt.Sprintf("%s holds %s through %s %s only: %s. Remove the user from the group, or the licence from the group.",
			who(u), sess.skuName(skuID), groupWord(groups), sess.groupList(ctx, groups), what),
		Fields: map[string]string{"skuId": "inherited from " + groupWord(groups) + " " + sess.groupList(ctx, groups)}}
}

// checkPlans checks that the disabled plans are service plans of the SKU.
func (sess *session) checkPlans(k domain.CustomerSKU, plans []string) error {
	fields := map[string]string{}
	for i, p := range plans {
		if !slices.ContainsFunc(k.ServicePlans, func(sp domain.ServicePlanInfo) bool { return strings.EqualFold(sp.ID, p) }) {
			fields[fmt.Sprintf("disabledPlans[%d]", i)] = fmt.Sprintf("%s is not a service plan of %s", sess.planName(p), sess.skuName(k.SkuID))
		}
	}
	if len(fields) > 0 {
		return &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("some add-ons are not part of %s", sess.skuName(k.SkuID)), Fields: fields}
	}
	return nil
}

// explain turns Graph's licence refusals into messages that name the SKU, the plans and the groups; other errors
// (throttling, Graph unavailable, consent…) keep Graph's own message.
func (sess *session) explain(ctx context.Context, u domain.User, add []domain.AssignedLicense, remove []string, err error) error {
	var le *graph.LicenseError
	if !errors.As(err, &le) {
		if domain.ErrorCode(err) == domain.ENotFound {
			return domain.Wrap(err, domain.EConflict, fmt.Sprintf("%s no longer exists in the tenant (deleted since the last sync?): "+
				"nothing was changed", who(u)))
		}
		return err
	}
	var out error
	switch le.Kind {
	case graph.NoSeats:
		sku := le.SkuID
		if sku == "" && len(add) == 1 {
			sku = add[0].SkuID
		}
		out = sess.noSeats(sku)
	case graph.UsageLocationMissing:
		out = noUsageLocation(u)
	case graph.MutuallyExclusive:
		names := sess.planNames(le.Plans)
		a, b := "", ""
		if len(names) > 0 {
			a = names[0]
		}
		if len(names) > 1 {
			b = names[1]
		}
		out = &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("%s and %s cannot both be enabled for %s: Microsoft allows only one of them. "+
				"Switch one of them off in the add-ons, or remove the licence that carries it.", a, b, who(u)),
			Fields: map[string]string{"disabledPlans": fmt.Sprintf("%s and %s are mutually exclusive", a, b)}}
	case graph.Dependency:
		names := sess.planNames(le.Plans)
		plan, needs := "a service plan", "another service plan"
		if len(names) > 0 {
			plan = names[0]
		}
		if len(names) > 1 {
			needs = strings.Join(names[1:], " or ")
		}
		out = &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("%s needs %s, which %s would not have after this change. "+
				"Assign a licence that includes %s first, or switch %s off (or remove it).", plan, needs, who(u), needs, plan),
			Fields: map[string]string{"skuId": fmt.Sprintf("%s needs %s", plan, needs)}}
	case graph.InheritedFromGroup:
		sku := le.SkuID
		if sku == "" && len(remove) == 1 {
			sku = remove[0]
		}
		groups := le.Groups
		if l, ok := licenceOf(u, sku); ok && len(groups) == 0 {
			groups = l.Groups
		}
		out = sess.inherited(ctx, u, sku, groups, "it cannot be removed from the user directly")
	case graph.UnknownSKU:
		out = sess.unknownSKU(le.SkuID, "skuId")
	case graph.NotAssigned:
		out = &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("%s does not hold %s (any more)", who(u), sess.skuName(le.SkuID)),
			Fields:  map[string]string{"skuId": "not assigned to this user"}}
	default:
		return err
	}
	de := out.(*domain.Error)
	de.Err = err
	return de
}

func (sess *session) planNames(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = sess.planName(id)
	}
	return out
}

// --- applying a change ---

// applied is the outcome of one change of one user sent to Graph.
type applied struct {
	User      domain.User // after the change as read back (before it, when the change failed or was not read back)
	RequestID string
	Err       error    // Graph's refusal or failure, explained; nil when Graph made the change
	Notes     []string // what went wrong after Graph made the change (reading it back)
}

// apply sends one change of one user's licences to Graph; on success it reads the user and the SKUs back and
// stores them as Graph answered; either way it appends an audit record.
func (sess *session) apply(ctx context.Context, u domain.User, action string, add []domain.AssignedLicense, remove []string) applied {
	s := sess.s
	before := u.Licences
	if s.Graph == nil {
		return applied{User: u, Err: domain.Errorf(domain.EInternal, "licensing: no Microsoft Graph client configured")}
	}
	_, reqID, err := s.Graph.AssignLicensesWithRequestID(ctx, sess.cust.TenantID, u.ID, add, remove)
	res := applied{User: u, RequestID: reqID}
	if err != nil {
		sess.afterRefusal(ctx, u, err) // first, so that the explanation quotes the counts Graph has
		res.Err = sess.explain(ctx, u, add, remove, err)
		sess.audit(ctx, u, action, &before, nil, add, remove, res.Err, reqID)
		return res
	}
	after, readErr := sess.readBack(ctx, u)
	if readErr != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("Microsoft Graph made the change, but reading it back failed (%s): the next sync will store it.", domain.ErrorMessage(readErr)))
		sess.audit(ctx, u, action, &before, nil, add, remove, nil, reqID)
		return res
	}
	res.User = after
	sess.audit(ctx, u, action, &before, &after.Licences, add, remove, nil, reqID)
	recordManaged(ctx, s.Store, s.log(), sess.cust.ID, []string{u.ID}, managedBy(ctx, domain.ManagedByUI), s.now())
	if note := stageGains(ctx, s.Staging, sess.cust.ID, sess.actor, [2]domain.User{u, after}); note != "" {
		res.Notes = append(res.Notes, note)
	}
	return res
}

// readBack reads the user and the tenant's SKUs from Graph and stores them as Graph answered.
func (sess *session) readBack(ctx context.Context, u domain.User) (domain.User, error) {
	after, err := sess.refreshUser(ctx, u)
	if err != nil {
		return u, err
	}
	if err := sess.refreshSKUs(ctx); err != nil {
		return after, err
	}
	return after, nil
}

func (sess *session) refreshUser(ctx context.Context, u domain.User) (domain.User, error) {
	var (
		g   domain.GraphUser
		err error
	)
	for attempt := 0; attempt < 2; attempt++ {
		if g, err = sess.s.Graph.User(ctx, sess.cust.TenantID, u.ID); err == nil {
			break
		}
	}
	if err != nil {
		return u, err
	}
	after := store.UserFromGraph(sess.cust.ID, g)
	after.ChangedAt = sess.s.now()
	if _, err := sess.s.Store.PutUser(ctx, after, after.ChangedAt); err != nil {
		return u, err
	}
	return sess.s.Store.GetUser(ctx, sess.cust.ID, after.ID)
}

func (sess *session) refreshSKUs(ctx context.Context) error {
	skus, err := sess.s.Graph.ListSKUs(ctx, sess.cust.TenantID)
	if err != nil {
		return err
	}
	if _, err := sess.s.Store.ReplaceSKUs(ctx, sess.cust, skus); err != nil {
		return err
	}
	stored, err := sess.s.Store.CustomerSKUs(ctx, sess.cust.ID)
	if err != nil {
		return err
	}
	sess.skus = stored
	return nil
}

// afterRefusal brings the store up to date with what a refusal shows it got wrong (best effort): the SKU counts
// after "no seats" or "unknown SKU", the user after a refusal about the user's own state.
func (sess *session) afterRefusal(ctx context.Context, u domain.User, err error) {
	var le *graph.LicenseError
	if !errors.As(err, &le) {
		return
	}
	var rerr error
	switch le.Kind {
	case graph.NoSeats, graph.UnknownSKU:
		rerr = sess.refreshSKUs(ctx)
	case graph.UsageLocationMissing, graph.InheritedFromGroup, graph.NotAssigned:
		_, rerr = sess.refreshUser(ctx, u)
	}
	if rerr != nil {
		sess.s.log().WarnContext(ctx, "refresh after a refused licence change failed", "customer", sess.cust.ID, "user", u.ID, "err", rerr)
	}
}

// auditLicence is a licence as an audit record shows it.
type auditLicence struct {
	SkuID         string   `json:"skuId"`
	Name          string   `json:"name"`
	Direct        bool     `json:"direct,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	DisabledPlans []string `json:"disabledPlans"`
}

// auditBefore is the "before" of a licence change record: the user's licences.
type auditBefore struct {
	Licences []auditLicence `json:"licences"`
}

// auditAfter is the "after" of a licence change record: what was asked, and the user's licences as Graph answered
// (absent when the change failed or could not be read back).
type auditAfter struct {
	Requested auditRequest    `json:"requested"`
	Licences  *[]auditLicence `json:"licences,omitempty"`
}

type auditRequest struct {
	Add    []auditLicence `json:"add,omitempty"`
	Remove []auditLicence `json:"remove,omitempty"`
}

func (sess *session) auditLicences(ls []domain.Licence) []auditLicence {
	out := make([]auditLicence, len(ls))
	for i, l := range ls {
		out[i] = auditLicence{SkuID: l.SkuID, Name: sess.skuName(l.SkuID), Direct: l.Direct, Groups: l.Groups, DisabledPlans: l.DisabledPlans}
		if out[i].DisabledPlans == nil {
			out[i].DisabledPlans = []string{}
		}
	}
	return out
}

// audit appends the record of one attempted change (before is nil when the user was not read, after when the change
// was not made or not read back).
func (sess *session) audit(ctx context.Context, u domain.User, action string, before, after *[]domain.Licence, add []domain.AssignedLicense, remove []string, cause error, reqID string) {
	req := auditRequest{}
	for _, a := range add {
		req.Add = append(req.Add, auditLicence{SkuID: a.SkuID, Name: sess.skuName(a.SkuID), Direct: true, DisabledPlans: nonNil(a.DisabledPlans)})
	}
	for _, r := range remove {
		req.Remove = append(req.Remove, auditLicence{SkuID: r, Name: sess.skuName(r), Direct: true, DisabledPlans: []string{}})
	}
	out := auditAfter{Requested: req}
	if after != nil {
		ls := sess.auditLicences(*after)
		out.Licences = &ls
	}
	rec := domain.AuditRecord{
		At: sess.s.now(), Actor: sess.actor, CustomerID: sess.cust.ID, UserID: u.ID, Action: action,
		After: out, Outcome: OutcomeOK, RequestID: reqID,
	}
	if before != nil {
		rec.Before = auditBefore{Licences: sess.auditLicences(*before)}
	}
	if cause != nil {
		rec.Outcome, rec.Error = OutcomeFailed, domain.ErrorMessage(cause)
	}
	if err := sess.s.Store.AppendAudit(context.WithoutCancel(ctx), rec); err != nil {
		sess.s.log().ErrorContext(ctx, "audit failed", "customer", sess.cust.ID, "user", u.ID, "action", action, "err", err)
	}
}

// refuse audits a change refused before Graph was called and returns the refusal.
func (sess *session) refuse(ctx context.Context, u domain.User, action string, add []domain.AssignedLicense, remove []string, cause error) error {
	sess.audit(ctx, u, action, &u.Licences, nil, add, remove, cause, "")
	return cause
}

// sentence is an error's message ending with a full stop, to be followed by another sentence.
func sentence(err error) string {
	m := strings.TrimSpace(domain.ErrorMessage(err))
	if m != "" && !strings.HasSuffix(m, ".") {
		m += "."
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// --- the operations ---

// Assign gives a user a licence with its add-ons: c.DisabledPlans are the SKU's service plans to switch off.
//
// Errors: EInvalid (bad ids; a SKU the customer does not subscribe to; plans not of the SKU; no usage location),
// ENotFound (customer or user), EConflict (the user already holds it directly; no seats; plans that exclude each
// other or lack what they depend on; a concurrent change of the user), and Graph's EThrottled/EUpstream/EUnauthorized.
func (s *Service) Assign(ctx context.Context, actor, customerID, userID string, c Change) (Result, error) {
	if err := validateChange(&c, "skuId"); err != nil {
		return Result{}, err
	}
	sess, u, err := s.beginUser(ctx, actor, ActionAssign, customerID, userID)
	if err != nil {
		return Result{}, err
	}
	defer sess.end(ctx)
	add := []domain.AssignedLicense{{SkuID: c.SkuID, DisabledPlans: c.DisabledPlans}}
	k, ok := sess.sku(c.SkuID)
	if !ok {
		return Result{}, sess.refuse(ctx, u, ActionAssign, add, nil, sess.unknownSKU(c.SkuID, "skuId"))
	}
	if err := sess.checkPlans(k, c.DisabledPlans); err != nil {
		return Result{}, sess.refuse(ctx, u, ActionAssign, add, nil, err)
	}
	if l, held := licenceOf(u, c.SkuID); held && l.Direct {
		return Result{}, sess.refuse(ctx, u, ActionAssign, add, nil, &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("%s already holds %s: change its add-ons instead", who(u), sess.skuName(c.SkuID)),
			Fields:  map[string]string{"skuId": "already assigned to this user"}})
	}
	if !holdsSeat(u, c.SkuID) && k.Available() <= 0 {
		return Result{}, sess.refuse(ctx, u, ActionAssign, add, nil, sess.noSeats(c.SkuID))
	}
	var notes []string
	if u.UsageLocation == "" {
		note, err := sess.defaultUsageLocation(ctx, &u)
		if err != nil {
			return Result{}, sess.refuse(ctx, u, ActionAssign, add, nil, err)
		}
		notes = append(notes, note)
	}
	res := sess.apply(ctx, u, ActionAssign, add, nil)
	if res.Err != nil {
		return Result{}, res.Err
	}
	out := Result{User: res.User, RequestID: res.RequestID, Notes: append(notes, res.Notes...)}
	if l, ok := licenceOf(res.User, c.SkuID); ok && len(l.Groups) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s also holds %s through %s %s.", who(u), sess.skuName(c.SkuID), groupWord(l.Groups), sess.groupList(ctx, l.Groups)))
	}
	return out, nil
}

// ChangeAddOns changes which service plans of a licence the user holds directly are switched off (c.DisabledPlans,
// the whole new list). It takes no seat. Asking for the add-ons the user already has changes nothing and calls no
// one.
//
// Errors: EInvalid (bad ids, plans not of the SKU, no usage location), ENotFound (customer, user, or the user does
// not hold the SKU), EConflict (the licence is held through a group only; plans that exclude each other or lack
// what they depend on; a concurrent change), and Graph's failures.
func (s *Service) ChangeAddOns(ctx context.Context, actor, customerID, userID string, c Change) (Result, error) {
	if err := validateChange(&c, "skuId"); err != nil {
		return Result{}, err
	}
	sess, u, err := s.beginUser(ctx, actor, ActionChangeAddOns, customerID, userID)
	if err != nil {
		return Result{}, err
	}
	defer sess.end(ctx)
	add := []domain.AssignedLicense{{SkuID: c.SkuID, DisabledPlans: c.DisabledPlans}}
	l, held := licenceOf(u, c.SkuID)
	switch {
	case !held:
		return Result{}, domain.Errorf(domain.ENotFound, "%s does not hold %s: assign it first", who(u), sess.skuName(c.SkuID))
	case !l.Direct:
		return Result{}, sess.refuse(ctx, u, ActionChangeAddOns, add, nil,
			sess.inherited(ctx, u, c.SkuID, l.Groups, "its add-ons are set on the group"))
	}
	k, ok := sess.sku(c.SkuID)
	if !ok {
		return Result{}, sess.refuse(ctx, u, ActionChangeAddOns, add, nil, sess.unknownSKU(c.SkuID, "skuId"))
	}
	if err := sess.checkPlans(k, c.DisabledPlans); err != nil {
		return Result{}, sess.refuse(ctx, u, ActionChangeAddOns, add, nil, err)
	}
	if samePlans(l.DisabledPlans, c.DisabledPlans) {
		return Result{User: u, Notes: []string{"Nothing to change: these are the add-ons the user has."}}, nil
	}
	if u.UsageLocation == "" {
		return Result{}, sess.refuse(ctx, u, ActionChangeAddOns, add, nil, noUsageLocation(u))
	}
	res := sess.apply(ctx, u, ActionChangeAddOns, add, nil)
	if res.Err != nil {
		return Result{}, res.Err
	}
	return Result{User: res.User, RequestID: res.RequestID, Notes: res.Notes}, nil
}

func samePlans(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range x {
		x[i] = strings.ToLower(x[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// Remove takes a licence the user holds directly away from the user. A licence also held through a group stays
// held through it (Result.Notes says so); one held through groups only cannot be removed (the error names them).
//
// Errors: EInvalid (bad id), ENotFound (customer, user, or the user does not hold the SKU), EConflict (held through
// a group only; another plan depends on it; a concurrent change), and Graph's failures.
func (s *Service) Remove(ctx context.Context, actor, customerID, userID, skuID string) (Result, error) {
	c := Change{SkuID: skuID}
	if err := validateChange(&c, "skuId"); err != nil {
		return Result{}, err
	}
	sess, u, err := s.beginUser(ctx, actor, ActionRemove, customerID, userID)
	if err != nil {
		return Result{}, err
	}
	defer sess.end(ctx)
	remove := []string{c.SkuID}
	l, held := licenceOf(u, c.SkuID)
	switch {
	case !held:
		return Result{}, domain.Errorf(domain.ENotFound, "%s does not hold %s", who(u), sess.skuName(c.SkuID))
	case !l.Direct:
		return Result{}, sess.refuse(ctx, u, ActionRemove, nil, remove,
			sess.inherited(ctx, u, c.SkuID, l.Groups, "it cannot be removed from the user directly"))
	}
	res := sess.apply(ctx, u, ActionRemove, nil, remove)
	if res.Err != nil {
		return Result{}, res.Err
	}
	out := Result{User: res.User, RequestID: res.RequestID, Notes: res.Notes}
	if l, ok := licenceOf(res.User, c.SkuID); ok && len(l.Groups) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s still holds %s through %s %s.", who(u), sess.skuName(c.SkuID), groupWord(l.Groups), sess.groupList(ctx, l.Groups)))
	}
	return out, nil
}

// Step is one change a reassignment sent to Graph.
type Step struct {
	Action    string // ActionReassignAssign, ActionReassignRemove, ActionReassignRestore or ActionReassignUndo
	UserID    string
	OK        bool
	Error     string
	RequestID string
}

// ReassignResult says what a reassignment did, whether or not it completed.
type ReassignResult struct {
	SkuID, SkuName string
	From, To       domain.User // as stored at the end
	// Done: To holds the licence and From no longer holds it directly.
	Done bool
	// FromHolds: From holds the licence directly at the end (it kept it, or regained it).
	FromHolds bool
	// FromRegained: From's licence was removed, To's assignment failed, and From got it back (with its former
	// add-ons).
	FromRegained bool
	// ToHolds: To holds the licence directly at the end.
	ToHolds bool
	// ToError is why To could not get the licence ("" when it did); FromError why From's licence could not be
	// removed or given back.
	ToError, FromError string
	Steps              []Step
	// Message says what happened, in words.
	Message string
	Notes   []string
}

// Reassign moves a seat of a SKU from one user to another in one action. The new holder gets the old holder's
// add-ons unless disabledPlans is given (non-nil). When a seat is free (or To already takes one through a group),
// To is assigned first and From's licence removed after (if that fails, To's is taken back); when none is free,
// From's is removed first, then To assigned, and if To's assignment fails From gets the licence back with its former
// add-ons. The result says exactly what happened; the error (when the reassignment did not complete) is the
// refusal that stopped it, its message saying what state both users are left in.
//
// Errors: EInvalid (bad ids, the same user twice, To without usage location, plans not of the SKU), ENotFound
// (customer or users, From does not hold the SKU), EConflict (From holds it through a group only, To already holds
// it, a concurrent change), and To's or From's refusals by Graph.
func (s *Service) Reassign(ctx context.Context, actor, customerID, fromUserID, skuID, toUserID string, disabledPlans []string) (ReassignResult, error) {
	c := Change{SkuID: skuID, DisabledPlans: disabledPlans}
	if err := validateChange(&c, "skuId"); err != nil {
		return ReassignResult{}, err
	}
	toUserID = strings.ToLower(strings.TrimSpace(toUserID))
	switch {
	case toUserID == "":
		return ReassignResult{}, domain.Invalid(map[string]string{"toUserId": "required: the user who gets the licence"})
	case strings.ContainsAny(toUserID, "/?#"):
		return ReassignResult{}, domain.Invalid(map[string]string{"toUserId": "must be a user id"})
	case strings.EqualFold(toUserID, fromUserID):
		return ReassignResult{}, domain.Invalid(map[string]string{"toUserId": "must be another user than the one who holds the licence"})
	}
	sess, err := s.begin(ctx, actor, ActionReassign, customerID, fromUserID, toUserID)
	if err != nil {
		return ReassignResult{}, err
	}
	defer sess.end(ctx)
	from, err := sess.user(ctx, fromUserID)
	if err != nil {
		return ReassignResult{}, err
	}
	to, err := sess.user(ctx, toUserID)
	if err != nil {
		return ReassignResult{}, err
	}
	r := &reassignment{sess: sess, sku: c.SkuID, from: from, to: to}
	r.res = ReassignResult{SkuID: c.SkuID, SkuName: sess.skuName(c.SkuID), From: from, To: to}
	// A refusal is audited on the user it concerns, as the half of the move that user would have had.
	refuse := func(u domain.User, cause error) (ReassignResult, error) {
		if u.ID == from.ID {
			return ReassignResult{}, sess.refuse(ctx, u, ActionReassign, nil, []string{c.SkuID}, cause)
		}
		return ReassignResult{}, sess.refuse(ctx, u, ActionReassign, []domain.AssignedLicense{{SkuID: c.SkuID, DisabledPlans: nonNil(c.DisabledPlans)}}, nil, cause)
	}

	fl, held := licenceOf(from, c.SkuID)
	switch {
	case !held:
		return ReassignResult{}, domain.Errorf(domain.ENotFound, "%s does not hold %s", who(from), r.res.SkuName)
	case !fl.Direct:
		return refuse(from, sess.inherited(ctx, from, c.SkuID, fl.Groups, "it cannot be moved to another user"))
	}
	k, ok := sess.sku(c.SkuID)
	if !ok {
		return refuse(from, sess.unknownSKU(c.SkuID, "skuId"))
	}
	r.fromPlans = nonNil(slices.Clone(fl.DisabledPlans))
	r.toPlans = r.fromPlans
	if disabledPlans != nil {
		if err := sess.checkPlans(k, c.DisabledPlans); err != nil {
			return refuse(to, err)
		}
		r.toPlans = c.DisabledPlans
	}
	if tl, ok := licenceOf(to, c.SkuID); ok && tl.Direct {
		return refuse(to, &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("%s already holds %s: there is nothing to move", who(to), r.res.SkuName),
			Fields:  map[string]string{"toUserId": "already holds this licence"}})
	}
	if to.UsageLocation == "" {
		e := noUsageLocation(to).(*domain.Error)
		e.Fields = map[string]string{"toUserId": "has no usage location: set it before a licence can be assigned"}
		return refuse(to, e)
	}
	if k.Available() < 0 && !holdsSeat(to, c.SkuID) {
		// Over-assigned: taking the seat from the old holder frees none for the new one, who would be refused,
		// and the old holder could not get it back.
		return refuse(to, &domain.Error{Code: domain.EConflict,
			Message: fmt.Sprintf("%s is over-assigned (%d of %d in use): moving a seat would leave %s without it and %s refused; free %d seat(s) first",
				r.res.SkuName, k.Consumed, k.Enabled, who(from), who(to), -k.Available()),
			Fields: map[string]string{"skuId": "over-assigned: no seat can be moved"}})
	}
	if k.Available() > 0 || holdsSeat(to, c.SkuID) {
		if r.toFirst(ctx) {
			return r.finish()
		}
		// Graph found no seat after all (the stored counts were behind): move it the other way round.
	}
	r.fromFirst(ctx)
	return r.finish()
}

// reassignment is the state of one Reassign.
type reassignment struct {
	sess      *session
	sku       string
	from, to  domain.User
	fromPlans []string
	toPlans   []string
	res       ReassignResult
	failure   error // the refusal that stopped the reassignment
}

func (r *reassignment) step(ctx context.Context, u domain.User, action string, add []domain.AssignedLicense, remove []string) applied {
	a := r.sess.apply(ctx, u, action, add, remove)
	st := Step{Action: action, UserID: u.ID, OK: a.Err == nil, RequestID: a.RequestID}
	if a.Err != nil {
		st.Error = domain.ErrorMessage(a.Err)
	}
	r.res.Steps = append(r.res.Steps, st)
	r.res.Notes = append(r.res.Notes, a.Notes...)
	return a
}

func (r *reassignment) assignTo(ctx context.Context) applied {
	a := r.step(ctx, r.to, ActionReassignAssign, []domain.AssignedLicense{{SkuID: r.sku, DisabledPlans: r.toPlans}}, nil)
	r.to = a.User
	return a
}

func (r *reassignment) removeFrom(ctx context.Context) applied {
	a := r.step(ctx, r.from, ActionReassignRemove, nil, []string{r.sku})
	r.from = a.User
	return a
}

// toFirst assigns To, then removes From's licence (taking To's back if that fails). It returns false when Graph
// found no free seat for To, so that nothing changed and the caller may go the other way round.
func (r *reassignment) toFirst(ctx context.Context) bool {
	a := r.assignTo(ctx)
	var le *graph.LicenseError
	if a.Err != nil && errors.As(a.Err, &le) && le.Kind == graph.NoSeats && !holdsSeat(r.to, r.sku) {
		r.res.Steps = r.res.Steps[:len(r.res.Steps)-1] // retried the other way round; the attempt is in the audit
		return false
	}
	if a.Err != nil {
		r.failure, r.res.ToError = a.Err, domain.ErrorMessage(a.Err)
		r.res.FromHolds = true
		r.res.Message = fmt.Sprintf("%s could not get %s: %s %s keeps it; nothing changed.",
			who(r.to), r.res.SkuName, sentence(a.Err), who(r.from))
		return true
	}
	b := r.removeFrom(ctx)
	if b.Err == nil {
		r.res.Done, r.res.ToHolds = true, true
		r.res.Message = fmt.Sprintf("%s moved from %s to %s.", r.res.SkuName, who(r.from), who(r.to))
		return true
	}
	r.failure, r.res.FromError = b.Err, domain.ErrorMessage(b.Err)
	r.res.FromHolds = true
	undo := r.step(ctx, r.to, ActionReassignUndo, nil, []string{r.sku})
	r.to = undo.User
	if undo.Err == nil {
		r.res.Message = fmt.Sprintf("%s could not be removed from %s: %s It was taken back from %s again; nothing changed.",
			r.res.SkuName, who(r.from), sentence(b.Err), who(r.to))
		return true
	}
	r.res.ToHolds = true
	r.res.Message = fmt.Sprintf("%s could not be removed from %s: %s Taking it back from %s failed too (%s): both now hold it, using two seats.",
		r.res.SkuName, who(r.from), sentence(b.Err), who(r.to), domain.ErrorMessage(undo.Err))
	return true
}

// fromFirst removes From's licence, assigns To, and gives From the licence back (with its former add-ons) if To's
// assignment fails.
func (r *reassignment) fromFirst(ctx context.Context) {
	b := r.removeFrom(ctx)
	if b.Err != nil {
		r.failure, r.res.FromError = b.Err, domain.ErrorMessage(b.Err)
		r.res.FromHolds = true
		r.res.Message = fmt.Sprintf("%s could not be removed from %s: %s %s keeps it; nothing changed.",
			r.res.SkuName, who(r.from), sentence(b.Err), who(r.from))
		return
	}
	a := r.assignTo(ctx)
	if a.Err == nil {
		r.res.Done, r.res.ToHolds = true, true
		r.res.Message = fmt.Sprintf("%s moved from %s to %s.", r.res.SkuName, who(r.from), who(r.to))
		return
	}
	r.failure, r.res.ToError = a.Err, domain.ErrorMessage(a.Err)
	back := r.step(ctx, r.from, ActionReassignRestore, []domain.AssignedLicense{{SkuID: r.sku, DisabledPlans: r.fromPlans}}, nil)
	r.from = back.User
	if back.Err == nil {
		r.res.FromHolds, r.res.FromRegained = true, true
		r.res.Message = fmt.Sprintf("%s could not get %s: %s %s got it back with the same add-ons.",
			who(r.to), r.res.SkuName, sentence(a.Err), who(r.from))
		return
	}
	r.res.FromError = domain.ErrorMessage(back.Err)
	r.res.Message = fmt.Sprintf("%s could not get %s: %s Giving it back to %s failed too (%s): %s no longer holds it and the seat is free.",
		who(r.to), r.res.SkuName, sentence(a.Err), who(r.from), domain.ErrorMessage(back.Err), who(r.from))
}

// finish returns the result and, when the reassignment did not complete, an error whose message is the result's.
func (r *reassignment) finish() (ReassignResult, error) {
	r.res.From, r.res.To = r.from, r.to
	if r.res.Done {
		return r.res, nil
	}
	e := &domain.Error{Code: domain.ErrorCode(r.failure), Message: r.res.Message, Err: r.failure}
	var de *domain.Error
	if errors.As(r.failure, &de) {
		e.Fields = de.Fields
	}
	return r.res, e
}

// GroupLicence is a licence a user holds through groups.
type GroupLicence struct {
	SkuID, Name string
	Groups      []Group
}

// Group is a group that assigns licences.
type Group struct {
	ID, Name string // Name is "" when it could not be read
}

// OffboardResult says what offboarding did to a user's licences.
type OffboardResult struct {
	User domain.User // as stored at the end
	// Removed are the direct licences removed.
	Removed []domain.Licence
	// KeptViaGroup are the licences the user still holds through groups: they go when the user leaves the groups
	// (or the groups stop assigning them), not here.
	KeptViaGroup []GroupLicence
	// ReleasedNumber is the user's inventory number, released into quarantine (nil when the user held none).
	ReleasedNumber *domain.Number
	RequestID      string
	Notes          []string
}

// Offboard removes every licence the user holds directly, in one change, and lists those the user still holds
// through groups with the groups. A user with no direct licence is left alone (no call to Graph).
//
// Errors: ENotFound (customer or user), EConflict (another plan depends on one removed; a concurrent change), and
// Graph's failures.
func (s *Service) Offboard(ctx context.Context, actor, customerID, userID string) (OffboardResult, error) {
	sess, u, err := s.beginUser(ctx, actor, ActionOffboard, customerID, userID)
	if err != nil {
		return OffboardResult{}, err
	}
	defer sess.end(ctx)
	out := OffboardResult{User: u, Removed: []domain.Licence{}}
	var remove []string
	for _, l := range u.Licences {
		if l.Direct {
			remove = append(remove, l.SkuID)
			out.Removed = append(out.Removed, l)
		}
	}
	if len(remove) > 0 {
		res := sess.apply(ctx, u, ActionOffboard, nil, remove)
		if res.Err != nil {
			return OffboardResult{}, res.Err
		}
		out.User, out.RequestID, out.Notes = res.User, res.RequestID, res.Notes
	} else {
		out.Notes = append(out.Notes, who(u)+" holds no licence directly: nothing was removed.")
	}
	if s.Numbers != nil {
		n, err := s.Numbers.ReleaseUser(ctx, customerID, u.ID, actor)
		switch {
		case err != nil:
			out.Notes = append(out.Notes, fmt.Sprintf("Releasing the user's number failed (%s): release it from the Numbers page.", domain.ErrorMessage(err)))
		case n != nil:
			out.ReleasedNumber = n
			out.Notes = append(out.Notes, releasedNote(*n))
		}
	}
	out.KeptViaGroup = []GroupLicence{}
	for _, l := range out.User.Licences {
		if len(l.Groups) == 0 {
			continue
		}
		gl := GroupLicence{SkuID: l.SkuID, Name: sess.skuName(l.SkuID)}
		for _, g := range l.Groups {
			gl.Groups = append(gl.Groups, Group{ID: g, Name: sess.groupName(ctx, g)})
		}
		out.KeptViaGroup = append(out.KeptViaGroup, gl)
	}
	if n := len(out.KeptViaGroup); n > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s still holds %d licence(s) through groups: remove the user from the groups to free them.", who(u), n))
	}
	return out, nil
}
