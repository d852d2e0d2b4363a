// Package numbers manages a customer's telephone number inventory: adding numbers and ranges, importing the
// tenant's numbers from Teams, and assigning and releasing numbers through Microsoft Graph with the inventory kept
// consistent (a number is never assigned to two users; a released number waits in quarantine before reuse).
package numbers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/store"
)

// Graph is what the inventory needs of Microsoft Graph (*graph.Factory implements it). Errors carry domain codes;
// refusals of Teams carry a *graph.NumberError.
type Graph interface {
	// ListNumbers reads the tenant's Teams telephone numbers that match f.
	ListNumbers(ctx context.Context, tenantID string, f graph.NumberFilter) ([]graph.Number, error)
	// AssignNumber assigns a number to a user and waits for Teams (assigning a user's own number succeeds).
	AssignNumber(ctx context.Context, tenantID string, a graph.NumberAssignment) error
	// UnassignNumber frees a number and waits for Teams (*graph.NumberError NumberNotAssigned: it was free).
	UnassignNumber(ctx context.Context, tenantID, number, numberType string) error
}

var _ Graph = (*graph.Factory)(nil)

// Store is the state the inventory reads and writes (*store.Store implements it; see its methods for the errors).
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	GetUser(ctx context.Context, customerID, userID string) (domain.User, error)
	GetSettings(ctx context.Context, customerID string) (domain.Settings, error)
	GetSite(ctx context.Context, customerID, siteID string) (domain.Site, error)
	AddNumbers(ctx context.Context, customerID string, nums []domain.Number, actor string, at time.Time) (added []string, existing []string, err error)
	GetNumber(ctx context.Context, customerID, number string) (domain.Number, error)
	ListNumbers(ctx context.Context, customerID string, q store.NumberQuery) (store.Page[domain.Number], error)
	UpdateNumber(ctx context.Context, n domain.Number, version int64, actor string, at time.Time) (domain.Number, error)
	DeleteNumber(ctx context.Context, customerID, number string, version int64, actor string, at time.Time) error
	ReserveNumber(ctx context.Context, customerID, siteID, numberType string, user domain.User, now time.Time) (domain.Number, error)
	ReserveSpecificNumber(ctx context.Context, customerID, number string, user domain.User, now time.Time) (domain.Number, error)
	CompleteNumberAssignment(ctx context.Context, customerID, number string, user domain.User, siteID string, at time.Time) (domain.Number, error)
	CancelReservation(ctx context.Context, customerID, number, userID string, at time.Time) error
	ReleaseNumber(ctx context.Context, customerID, number string, quarantineUntil time.Time, at time.Time) (domain.Number, error)
	ImportNumber(ctx context.Context, n domain.Number, at time.Time) (created bool, err error)
	GetProvisioning(ctx context.Context, customerID, userID string) (domain.Provisioning, error)
	AppendAudit(ctx context.Context, r domain.AuditRecord) error
}

var _ Store = (*store.Store)(nil)

// Audit actions of the inventory. number.add, number.update and number.delete are appended by the store, in the
// same write as the change; the others by this package.
const (
	ActionAdd     = "number.add"
	ActionImport  = "number.import"
	ActionAssign  = "number.assign"
	ActionRelease = "number.release"
	ActionUpdate  = "number.update"
	ActionDelete  = "number.delete"
)

// Sources of a number.
const (
	SourceManual = "manual"
	SourceGraph  = "graph"
)

// Service manages the inventory.
type Service struct {
	Store Store
	Graph Graph
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

// Retryable reports whether a failed number assignment is worth retrying later, as it is, with the same number:
//   - a *graph.NumberError of kind NumberUserNotInTeams (the user has no Teams account yet) or NumberLicenseMissing
//     (Teams does not see their Phone System / Calling Plan licence yet): Teams provisioning lags licensing by
//     minutes to hours, so both clear by themselves;
//   - NumberOperationFailed (Teams failed for a reason it did not say), EThrottled and EUpstream (Graph failed,
//     throttled us past our retries, or did not finish the operation in time: a retry of an assignment is safe, as
//     assigning a user's own number succeeds), and a context deadline.
//
// Every other error is permanent: the number is someone else's in Teams (NumberTaken), not in Teams' inventory
// (NumberNotFound), of another type (NumberTypeMismatch), not for users (NumberNotForUsers), the user is not in the
// tenant (NumberTargetNotFound), and any EInvalid, ENotFound, EConflict or EUnauthorized. Complete keeps the
// reservation for a retryable error and cancels it for a permanent one.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var ne *graph.NumberError
	if errors.As(err, &ne) {
		switch ne.Kind {
		case graph.NumberUserNotInTeams, graph.NumberLicenseMissing, graph.NumberOperationFailed:
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch domain.ErrorCode(err) {
	case domain.EThrottled, domain.EUpstream:
		return true
	}
	return false
}

// numberKind returns the kind of the *graph.NumberError in err's chain ("" when there is none).
func numberKind(err error) graph.NumberErrorKind {
	var ne *graph.NumberError
	if errors.As(err, &ne) {
		return ne.Kind
	}
	return ""
}

var numberTypes = []string{domain.NumberDirectRouting, domain.NumberOperatorConnect, domain.NumberCallingPlan}

// AddInput adds one number (Number) or a range (From, To) to a site of the inventory.
type AddInput struct {
	Number string `json:"number"`
	From   string `json:"from"`
	To     string `json:"to"`
	Type   string `json:"type"`
	SiteID string `json:"siteId"`
	// Extension is the extension of a single number (digits, at most MaxExtensionDigits; "" = none).
	Extension string `json:"extension"`
	// ExtensionDigits gives each number its last n digits (0..MaxExtensionDigits) as extension; 0 = none.
	ExtensionDigits int `json:"extensionDigits"`
}

// AddResult lists the numbers added, and those the inventory held already (left unchanged).
type AddResult struct {
	Added    []string `json:"added"`
	Existing []string `json:"existing"`
}

// parseAdd validates in and returns the numbers it adds (without the customer, times and status). Every problem is
// an entry of the EInvalid error's Fields (number, from, to, type, siteId, extension, extensionDigits).
func parseAdd(in AddInput) ([]domain.Number, map[string]string) {
	fields := map[string]string{}
	in.Number, in.From, in.To = strings.TrimSpace(in.Number), strings.TrimSpace(in.From), strings.TrimSpace(in.To)
	in.Type, in.SiteID, in.Extension = strings.TrimSpace(in.Type), strings.TrimSpace(in.SiteID), strings.TrimSpace(in.Extension)
	var list []string
	switch {
	case in.Number != "" && (in.From != "" || in.To != ""):
		fields["number"] = "give either a number or a range (from and to), not both"
	case in.Number != "":
		n, err := ParseE164(in.Number)
		if err != nil {
			fields["number"] = err.Error()
		} else {
			list = []string{n}
		}
	case in.From == "" && in.To == "":
		fields["number"] = "required: a number, or a range with from and to"
	default:
		from, errF := ParseE164(in.From)
		to, errT := ParseE164(in.To)
		if errF != nil {
			fields["from"] = errF.Error()
		}
		if errT != nil {
			fields["to"] = errT.Error()
		}
		if errF == nil && errT == nil {
			all, field, err := ExpandRange(from, to)
			if err != nil {
				fields[field] = err.Error()
			}
			list = all
		}
	}
	if !slices.Contains(numberTypes, in.Type) {
		if in.Type == "" {
			fields["type"] = "required: one of " + strings.Join(numberTypes, ", ")
		} else {
			fields["type"] = fmt.Sprintf("unknown type %q: one of %s", in.Type, strings.Join(numberTypes, ", "))
		}
	}
	if in.SiteID == "" {
		fields["siteId"] = "required: the site the numbers belong to"
	} else if strings.ContainsAny(in.SiteID, "#/?") {
		fields["siteId"] = "must be a site id"
	}
	if why := checkExtension(in.Extension); why != "" {
		fields["extension"] = why
	} else if in.Extension != "" && in.Number == "" {
		fields["extension"] = "only for a single number: give a range extensionDigits instead"
	}
	switch {
	case in.ExtensionDigits < 0 || in.ExtensionDigits > MaxExtensionDigits:
		fields["extensionDigits"] = fmt.Sprintf("must be 0 to %d", MaxExtensionDigits)
	case in.ExtensionDigits > 0 && in.Extension != "":
		fields["extensionDigits"] = "give an extension or extensionDigits, not both"
	}
	if len(fields) > 0 {
		return nil, fields
	}
	out := make([]domain.Number, len(list))
	for i, n := range list {
		ext := in.Extension
		if in.ExtensionDigits > 0 {
			ext = n[len(n)-in.ExtensionDigits:]
		}
		out[i] = domain.Number{Number: n, Type: in.Type, SiteID: in.SiteID, Extension: ext, Status: domain.NumberAvailable, Source: SourceManual}
	}
	return out, nil
}

// Add adds a number or a range of numbers (available, Source manual) to a site; numbers the inventory holds
// already are listed in Existing and left unchanged. The store audits it (number.add).
//
// Errors: EInvalid (Fields: number, from, to, type, siteId, extension, extensionDigits; nothing is stored),
// ENotFound (customer).
func (s *Service) Add(ctx context.Context, customerID, actor string, in AddInput) (AddResult, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return AddResult{}, err
	}
	nums, fields := parseAdd(in)
	if len(fields) > 0 {
		return AddResult{}, domain.Invalid(fields)
	}
	if err := s.checkSite(ctx, customerID, nums[0].SiteID); err != nil {
		return AddResult{}, err
	}
	now := s.now()
	for i := range nums {
		nums[i].CustomerID, nums[i].Version, nums[i].UpdatedAt = customerID, 1, now
	}
	added, existing, err := s.Store.AddNumbers(ctx, customerID, nums, actor, now)
	if err != nil {
		return AddResult{}, err
	}
	return AddResult{Added: nonNil(added), Existing: nonNil(existing)}, nil
}

// checkSite returns EInvalid (Fields["siteId"]) when the customer has no such site.
func (s *Service) checkSite(ctx context.Context, customerID, siteID string) error {
	if _, err := s.Store.GetSite(ctx, customerID, siteID); err != nil {
		if domain.ErrorCode(err) == domain.ENotFound {
			return domain.Invalid(map[string]string{"siteId": "no such site of this customer"})
		}
		return err
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ImportResult counts what an import did. Read counts the numbers Graph returned; each is then Created, Updated,
// Unchanged or Skipped; Conflicts says, per number, what could not be imported.
type ImportResult struct {
	Read      int      `json:"read"`
	Created   int      `json:"created"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Skipped   int      `json:"skipped"`
	Conflicts []string `json:"conflicts"`
}

// maxAuditChanges bounds the per-number changes one import audit record lists.
const maxAuditChanges = 200

// importChange is one number an import created or changed, for its audit record.
type importChange struct {
	Number string `json:"number"`
	Before string `json:"before,omitempty"` // status[:user]; "" when created
	After  string `json:"after"`
}

// Import makes the inventory agree with the tenant's Teams numbers: it reads every number from Graph and imports
// each (store.ImportNumber) — a number assigned to a user becomes assigned to them (UserName: their stored display
// name, or their id when the store does not know them), an unassigned one available — and new numbers go to
// siteID ("" allowed). It does not write a number the inventory already holds as Graph says (Unchanged), and it
// skips (Skipped): numbers assigned to conference bridges or voice applications, numbers that cannot be assigned
// to users, numbers of an unknown type, numbers reserved for a provisioning in progress, and quarantined numbers
// Graph shows free (their quarantine goes on). A number the store refuses (e.g. its user holds another number) is
// listed in Conflicts and the import goes on. One audit record (number.import) summarises it.
//
// Errors: EInvalid (Fields["siteId"]: no such site), ENotFound (customer), Graph's (EUnauthorized, EThrottled,
// EUpstream) and the store's.
func (s *Service) Import(ctx context.Context, customerID, actor, siteID string) (ImportResult, error) {
	res := ImportResult{Conflicts: []string{}}
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return res, err
	}
	siteID = strings.TrimSpace(siteID)
	if siteID != "" {
		if err := s.checkSite(ctx, customerID, siteID); err != nil {
			return res, err
		}
	}
	nums, err := s.Graph.ListNumbers(ctx, cust.TenantID, graph.NumberFilter{PageSize: graph.MaxNumberPageSize})
	if err != nil {
		return res, err
	}
	held, err := s.inventory(ctx, customerID)
	if err != nil {
		return res, err
	}
	now := s.now()
	names := map[string]string{}
	var changes []importChange
	for _, g := range nums {
		res.Read++
		ch, outcome, err := s.importOne(ctx, customerID, siteID, g, held, names, now)
		switch outcome {
		case importCreated:
			res.Created++
		case importUpdated:
			res.Updated++
		case importUnchanged:
			res.Unchanged++
		case importSkipped:
			res.Skipped++
		case importConflict:
			res.Conflicts = append(res.Conflicts, fmt.Sprintf("%s: %s", g.TelephoneNumber, domain.ErrorMessage(err)))
			continue
		case importFailed:
			s.audit(ctx, domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: customerID, Action: ActionImport,
				After: importSummary(siteID, res, changes), Outcome: "failed", Error: domain.ErrorMessage(err)})
			return res, err
		}
		if ch != nil && len(changes) < maxAuditChanges {
			changes = append(changes, *ch)
		}
	}
	s.audit(ctx, domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: customerID, Action: ActionImport,
		After: importSummary(siteID, res, changes), Outcome: "ok"})
	return res, nil
}

func importSummary(siteID string, res ImportResult, changes []importChange) map[string]any {
	return map[string]any{"siteId": siteID, "read": res.Read, "created": res.Created, "updated": res.Updated,
		"unchanged": res.Unchanged, "skipped": res.Skipped, "conflicts": res.Conflicts, "changes": changes}
}

type importOutcome int

const (
	importCreated importOutcome = iota
	importUpdated
	importUnchanged
	importSkipped
	importConflict
	importFailed
)

// inventory reads the customer's whole inventory, by number.
func (s *Service) inventory(ctx context.Context, customerID string) (map[string]domain.Number, error) {
	out := map[string]domain.Number{}
	q := store.NumberQuery{Limit: store.MaxLimit}
	for {
		page, err := s.Store.ListNumbers(ctx, customerID, q)
		if err != nil {
			return nil, err
		}
		for _, n := range page.Items {
			out[n.Number] = n
		}
		if page.NextCursor == "" {
			return out, nil
		}
		q.Cursor = page.NextCursor
	}
}

// importOne imports one Graph number (see Import). held is the inventory (updated as numbers are written); names
// caches user display names.
func (s *Service) importOne(ctx context.Context, customerID, siteID string, g graph.Number, held map[string]domain.Number,
	names map[string]string, now time.Time) (*importChange, importOutcome, error) {
	number, err := ParseE164(g.TelephoneNumber)
	if err != nil || !slices.Contains(numberTypes, g.NumberType) {
		return nil, importSkipped, nil
	}
	if len(g.Capabilities) > 0 && !slices.Contains(g.Capabilities, "userAssignment") {
		return nil, importSkipped, nil
	}
	n := domain.Number{CustomerID: customerID, Number: number, Type: g.NumberType, SiteID: siteID, Source: SourceGraph, UpdatedAt: now}
	switch g.AssignmentStatus {
	case graph.NumberUnassigned:
		n.Status = domain.NumberAvailable
	case graph.NumberUserAssigned:
		if g.AssignmentTargetID == "" {
			return nil, importSkipped, nil
		}
		n.Status, n.UserID = domain.NumberAssigned, strings.ToLower(g.AssignmentTargetID)
		n.UserName, err = s.userName(ctx, customerID, n.UserID, names)
		if err != nil {
			return nil, importFailed, err
		}
	default: // conference bridges, voice applications
		return nil, importSkipped, nil
	}
	before, known := held[number]
	if known {
		switch {
		case before.Status == domain.NumberReserved:
			return nil, importSkipped, nil
		case before.Status == domain.NumberQuarantined && n.Status == domain.NumberAvailable:
			return nil, importSkipped, nil
		case before.Status == n.Status && strings.EqualFold(before.UserID, n.UserID) && before.UserName == n.UserName && before.Type == n.Type:
			return nil, importUnchanged, nil
		}
	}
	created, err := s.Store.ImportNumber(ctx, n, now)
	if err != nil {
		if domain.ErrorCode(err) == domain.EConflict {
			return nil, importConflict, err
		}
		return nil, importFailed, err
	}
	after := n
	if known {
		after.SiteID, after.Extension = before.SiteID, before.Extension
	}
	held[number] = after
	ch := &importChange{Number: number, After: statusOf(n)}
	if !created {
		ch.Before = statusOf(before)
		return ch, importUpdated, nil
	}
	return ch, importCreated, nil
}

func statusOf(n domain.Number) string {
	if n.UserID != "" {
		return n.Status + ":" + n.UserID
	}
	return n.Status
}

// userName returns the stored display name of a user, or their id when the store does not know them.
func (s *Service) userName(ctx context.Context, customerID, userID string, cache map[string]string) (string, error) {
	if name, ok := cache[userID]; ok {
		return name, nil
	}
	name := userID
	u, err := s.Store.GetUser(ctx, customerID, userID)
	switch {
	case err == nil && u.DisplayName != "":
		name = u.DisplayName
	case err != nil && domain.ErrorCode(err) != domain.ENotFound:
		return "", err
	}
	cache[userID] = name
	return name, nil
}

// List returns a page of the customer's numbers. Errors: ENotFound (customer), EInvalid (bad cursor).
func (s *Service) List(ctx context.Context, customerID string, q store.NumberQuery) (store.Page[domain.Number], error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return store.Page[domain.Number]{}, err
	}
	return s.Store.ListNumbers(ctx, customerID, q)
}

// Get returns one number ("+" optional; spaces, dashes and parentheses ignored). Errors: EInvalid (not a number),
// ENotFound (customer or number).
func (s *Service) Get(ctx context.Context, customerID, number string) (domain.Number, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Number{}, err
	}
	n, err := parseNumberParam(number)
	if err != nil {
		return domain.Number{}, err
	}
	return s.Store.GetNumber(ctx, customerID, n)
}

// parseNumberParam reads a number given as a path parameter or by a caller: "+" optional.
func parseNumberParam(number string) (string, error) {
	v := strings.TrimSpace(number)
	if v != "" && !strings.HasPrefix(v, "+") {
		v = "+" + v
	}
	n, err := ParseE164(v)
	if err != nil {
		return "", domain.Invalid(map[string]string{"number": err.Error()})
	}
	return n, nil
}

// UpdateInput is what an admin edits of a number; nil fields are left as they are.
type UpdateInput struct {
	SiteID    *string `json:"siteId,omitempty"`
	Extension *string `json:"extension,omitempty"`
	Type      *string `json:"type,omitempty"`
}

// Update changes a number's site, extension or type if it is still at version; the store audits it
// (number.update). The type of a reserved or assigned number is Teams': it cannot be changed here.
//
// Errors: EInvalid (Fields: number, siteId, extension, type), EConflict (changed since: reload; or a type change
// of a number in use), ENotFound (customer or number).
func (s *Service) Update(ctx context.Context, customerID, number string, version int64, actor string, in UpdateInput) (domain.Number, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Number{}, err
	}
	num, err := parseNumberParam(number)
	if err != nil {
		return domain.Number{}, err
	}
	fields := map[string]string{}
	if in.Type != nil {
		if t := strings.TrimSpace(*in.Type); !slices.Contains(numberTypes, t) {
			fields["type"] = "one of " + strings.Join(numberTypes, ", ")
		}
	}
	if in.SiteID != nil && (strings.TrimSpace(*in.SiteID) == "" || strings.ContainsAny(*in.SiteID, "#/?")) {
		fields["siteId"] = "must be a site id"
	}
	if in.Extension != nil {
		if why := checkExtension(strings.TrimSpace(*in.Extension)); why != "" {
			fields["extension"] = why
		}
	}
	if len(fields) > 0 {
		return domain.Number{}, domain.Invalid(fields)
	}
	n, err := s.Store.GetNumber(ctx, customerID, num)
	if err != nil {
		return domain.Number{}, err
	}
	if in.SiteID != nil {
		site := strings.TrimSpace(*in.SiteID)
		if site != n.SiteID {
			if err := s.checkSite(ctx, customerID, site); err != nil {
				return domain.Number{}, err
			}
		}
		n.SiteID = site
	}
	if in.Extension != nil {
		n.Extension = strings.TrimSpace(*in.Extension)
	}
	if in.Type != nil {
		t := strings.TrimSpace(*in.Type)
		if t != n.Type && (n.Status == domain.NumberReserved || n.Status == domain.NumberAssigned) {
			return domain.Number{}, &domain.Error{Code: domain.EConflict, Fields: map[string]string{"type": "the number is in use"},
				Message: fmt.Sprintf("%s is %s to %s: its type is what Teams says; release it first", n.Number, n.Status, n.UserName)}
		}
		n.Type = t
	}
	return s.Store.UpdateNumber(ctx, n, version, actor, s.now())
}

// Delete removes an available or quarantined number from the inventory if it is still at version; the store
// audits it (number.delete). Errors: EInvalid (not a number), EConflict (in use, or changed since), ENotFound.
func (s *Service) Delete(ctx context.Context, customerID, number string, version int64, actor string) error {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return err
	}
	num, err := parseNumberParam(number)
	if err != nil {
		return err
	}
	return s.Store.DeleteNumber(ctx, customerID, num, version, actor, s.now())
}

// Reserve holds the first free number of the site (of its number policy's type; "" = any) for the user, or the
// number already reserved for them (a resumed provisioning). Errors: EConflict (no free number on the site).
func (s *Service) Reserve(ctx context.Context, cust domain.Customer, site domain.Site, user domain.User) (domain.Number, error) {
	return s.Store.ReserveNumber(ctx, cust.ID, site.ID, site.NumberPolicy.Type, user, s.now())
}

// ReserveSpecific holds one given number for the user (returned as is when it is reserved for or assigned to them
// already). Errors: EInvalid (not a number), ENotFound (not in the inventory), EConflict (held by someone else, or
// in quarantine).
func (s *Service) ReserveSpecific(ctx context.Context, cust domain.Customer, number string, user domain.User) (domain.Number, error) {
	num, err := parseNumberParam(number)
	if err != nil {
		return domain.Number{}, err
	}
	return s.Store.ReserveSpecificNumber(ctx, cust.ID, num, user, s.now())
}

// Complete assigns a number reserved for the user through Graph (waiting for Teams), then records it in the
// inventory and on the user's provisioning (store.CompleteNumberAssignment, with siteID), flagged with the user's
// display name, and audits the attempt (number.assign, with Graph's outcome). It is idempotent: completing a
// number the user holds already assigns nothing new.
//
// When Graph refuses, the error is returned; if it is Retryable (not in Teams yet, licence not seen yet, Graph
// failing) the reservation is kept for the retry; otherwise it is cancelled (the number is available again) and,
// when Teams says the number is someone else's or of another type, the number is re-read from Graph so that the
// inventory tells the truth and it is not picked again. A user who holds another inventory number already is
// refused (EConflict) before Graph is called, and the reservation cancelled.
func (s *Service) Complete(ctx context.Context, cust domain.Customer, n domain.Number, user domain.User, siteID, actor string) (domain.Number, error) {
	before := n
	fail := func(err error, cancel bool) (domain.Number, error) {
		if cancel && n.Status == domain.NumberReserved {
			if cerr := s.Store.CancelReservation(ctx, cust.ID, n.Number, user.ID, s.now()); cerr != nil {
				s.log().Error("cancel a number reservation", "customer", cust.ID, "number", n.Number, "user", user.ID, "err", cerr)
			}
		}
		s.audit(ctx, domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: cust.ID, Action: ActionAssign, UserID: user.ID,
			Before: before, After: map[string]any{"number": n.Number, "userId": user.ID, "retryable": Retryable(err), "reservationKept": !cancel},
			Outcome: "failed", Error: domain.ErrorMessage(err)})
		return domain.Number{}, err
	}
	prov, err := s.Store.GetProvisioning(ctx, cust.ID, user.ID)
	if err != nil {
		return fail(err, false)
	}
	if prov.Number != "" && prov.Number != n.Number {
		return fail(domain.Errorf(domain.EConflict, "%s holds %s already: release it before assigning %s", nameOf(user), prov.Number, n.Number), true)
	}
	err = s.Graph.AssignNumber(ctx, cust.TenantID, graph.NumberAssignment{TelephoneNumber: n.Number, AssignmentTargetID: user.ID,
		NumberType: n.Type, AssignmentCategory: graph.NumberPrimary})
	if err != nil {
		if Retryable(err) {
			return fail(err, false)
		}
		out, ferr := fail(err, true)
		if k := numberKind(err); k == graph.NumberTaken || k == graph.NumberTypeMismatch {
			s.refresh(ctx, cust, n.Number)
		}
		return out, ferr
	}
	done, err := s.Store.CompleteNumberAssignment(ctx, cust.ID, n.Number, user, siteID, s.now())
	if err != nil {
		s.log().Error("number assigned in Teams but not recorded", "customer", cust.ID, "number", n.Number, "user", user.ID, "err", err)
		return fail(domain.Wrap(err, domain.ErrorCode(err), fmt.Sprintf("%s was assigned to %s in Teams, but the inventory could not record it: %s",
			n.Number, nameOf(user), domain.ErrorMessage(err))), false)
	}
	s.audit(ctx, domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: cust.ID, Action: ActionAssign, UserID: user.ID,
		Before: before, After: done, Outcome: "ok"})
	return done, nil
}

// refresh re-reads one number from Graph and imports it (best effort: failures are logged).
func (s *Service) refresh(ctx context.Context, cust domain.Customer, number string) {
	g, ok, err := s.teamsHolder(ctx, cust, number)
	switch {
	case err != nil:
		s.log().Warn("re-read a number from Graph", "customer", cust.ID, "number", number, "err", err)
	case ok:
		s.reimport(ctx, cust, g)
	}
}

// reimport imports one number as Graph shows it (best effort: failures are logged).
func (s *Service) reimport(ctx context.Context, cust domain.Customer, g graph.Number) {
	held := map[string]domain.Number{}
	if n, err := s.Store.GetNumber(ctx, cust.ID, g.TelephoneNumber); err == nil {
		held[n.Number] = n
	}
	if _, outcome, err := s.importOne(ctx, cust.ID, "", g, held, map[string]string{}, s.now()); err != nil || outcome == importConflict {
		s.log().Warn("import a number from Graph", "customer", cust.ID, "number", g.TelephoneNumber, "err", err)
	}
}

// teamsHolder returns the number as Teams has it (ok=false when Teams' inventory does not hold it).
func (s *Service) teamsHolder(ctx context.Context, cust domain.Customer, number string) (graph.Number, bool, error) {
	got, err := s.Graph.ListNumbers(ctx, cust.TenantID, graph.NumberFilter{TelephoneNumber: number})
	if err != nil {
		return graph.Number{}, false, err
	}
	for _, g := range got {
		if n, err := ParseE164(g.TelephoneNumber); err == nil && n == number {
			return g, true, nil
		}
	}
	return graph.Number{}, false, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func nameOf(u domain.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.ID
}

// AssignByHand assigns a number of the inventory to a user at once: it reserves the number for them
// (ReserveSpecific) and completes the assignment (Complete) on the user's provisioned site, else the number's
// site. Any failure cancels the reservation (a retryable one too: nobody retries a hand assignment).
//
// Errors: EInvalid (not a number), ENotFound (customer, user or number), EConflict (the number is someone else's
// or in quarantine; the user holds another number), and Complete's.
func (s *Service) AssignByHand(ctx context.Context, customerID, number, userID, actor string) (domain.Number, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return domain.Number{}, err
	}
	num, err := parseNumberParam(number)
	if err != nil {
		return domain.Number{}, err
	}
	if strings.TrimSpace(userID) == "" {
		return domain.Number{}, domain.Invalid(map[string]string{"userId": "required"})
	}
	user, err := s.Store.GetUser(ctx, customerID, strings.TrimSpace(userID))
	if err != nil {
		return domain.Number{}, err
	}
	prov, err := s.Store.GetProvisioning(ctx, customerID, user.ID)
	if err != nil {
		return domain.Number{}, err
	}
	if prov.Number != "" && prov.Number != num {
		return domain.Number{}, domain.Errorf(domain.EConflict, "%s holds %s already: release it before assigning %s", nameOf(user), prov.Number, num)
	}
	n, err := s.Store.ReserveSpecificNumber(ctx, customerID, num, user, s.now())
	if err != nil {
		return domain.Number{}, err
	}
	siteID := prov.SiteID
	if siteID == "" {
		siteID = n.SiteID
	}
	done, err := s.Complete(ctx, cust, n, user, siteID, actor)
	if err != nil && Retryable(err) && n.Status == domain.NumberReserved {
		if cerr := s.Store.CancelReservation(ctx, customerID, num, user.ID, s.now()); cerr != nil {
			s.log().Error("cancel a number reservation", "customer", customerID, "number", num, "user", user.ID, "err", cerr)
		}
	}
	return done, err
}

// Release frees a number. Graph is read first: when Teams shows the number on its holder, Teams unassigns it
// (waiting for the operation; "not assigned" by then counts as done); a number Teams shows free, or does not hold,
// needs nothing there; an assigned number Teams shows on someone else is refused (EConflict) and re-imported, as
// Seatwise never unassigns another user's number. Then the inventory puts the number in quarantine until now + the
// customer's QuarantineDays and takes it off its holder's provisioning (store.ReleaseNumber). A number reserved for
// a provisioning has its reservation cancelled instead: it is available again at once. A free number is returned
// as it is. Audited as number.release (refusals too).
//
// Errors: EInvalid (not a number), ENotFound (customer or number), EConflict (see above), Graph's (EUnauthorized,
// EThrottled, EUpstream…; the inventory is then unchanged) and the store's.
func (s *Service) Release(ctx context.Context, customerID, number, actor string) (domain.Number, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return domain.Number{}, err
	}
	num, err := parseNumberParam(number)
	if err != nil {
		return domain.Number{}, err
	}
	n, err := s.Store.GetNumber(ctx, customerID, num)
	if err != nil {
		return domain.Number{}, err
	}
	return s.release(ctx, cust, n, actor)
}

func (s *Service) release(ctx context.Context, cust domain.Customer, n domain.Number, actor string) (domain.Number, error) {
	if n.Status != domain.NumberAssigned && n.Status != domain.NumberReserved {
		return n, nil
	}
	record := func(after any, err error) {
		r := domain.AuditRecord{At: s.now(), Actor: actor, CustomerID: cust.ID, Action: ActionRelease, UserID: n.UserID,
			Before: n, After: after, Outcome: "ok"}
		if err != nil {
			r.Outcome, r.Error = "failed", domain.ErrorMessage(err)
		}
		s.audit(ctx, r)
	}
	g, known, err := s.teamsHolder(ctx, cust, n.Number)
	if err != nil {
		record(nil, err)
		return domain.Number{}, err
	}
	assigned := known && g.AssignmentStatus != graph.NumberUnassigned && g.AssignmentTargetID != ""
	switch {
	case !assigned:
		// Free in Teams already, or not in its inventory: nothing to unassign.
	case strings.EqualFold(g.AssignmentTargetID, n.UserID):
		if err := s.Graph.UnassignNumber(ctx, cust.TenantID, n.Number, n.Type); err != nil && numberKind(err) != graph.NumberNotAssigned {
			record(nil, err)
			return domain.Number{}, err
		}
	case n.Status == domain.NumberAssigned:
		// Teams gave the number to someone else behind Seatwise's back: never unassign another user's number.
		s.reimport(ctx, cust, g)
		err := domain.Errorf(domain.EConflict, "Teams shows %s assigned to %s %s, not to %s: nothing was unassigned, and the inventory now says so",
			n.Number, g.AssignmentStatus, g.AssignmentTargetID, cmpOr(n.UserName, n.UserID))
		record(nil, err)
		return domain.Number{}, err
	default:
		// Reserved here, someone else's in Teams: the reservation goes, Teams is left alone.
	}
	if n.Status == domain.NumberReserved {
		if err := s.Store.CancelReservation(ctx, cust.ID, n.Number, n.UserID, s.now()); err != nil {
			record(nil, err)
			return domain.Number{}, err
		}
		after, err := s.Store.GetNumber(ctx, cust.ID, n.Number)
		if err != nil {
			return domain.Number{}, err
		}
		record(after, nil)
		return after, nil
	}
	set, err := s.Store.GetSettings(ctx, cust.ID)
	if err != nil {
		return domain.Number{}, err
	}
	now := s.now()
	after, err := s.Store.ReleaseNumber(ctx, cust.ID, n.Number, now.AddDate(0, 0, set.QuarantineDays), now)
	if err != nil {
		record(nil, err)
		return domain.Number{}, err
	}
	record(after, nil)
	return after, nil
}

// ReleaseUser releases the number the user holds (or has reserved) in the inventory, as Release does, and returns
// it; nil when they hold none (offboarding calls it for every user).
func (s *Service) ReleaseUser(ctx context.Context, customerID, userID, actor string) (*domain.Number, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	prov, err := s.Store.GetProvisioning(ctx, customerID, userID)
	if err != nil {
		return nil, err
	}
	var out *domain.Number
	for _, num := range []string{prov.Number, prov.ReservedNumber} {
		if num == "" {
			continue
		}
		n, err := s.Store.GetNumber(ctx, customerID, num)
		if domain.ErrorCode(err) == domain.ENotFound {
			continue
		}
		if err != nil {
			return out, err
		}
		if !strings.EqualFold(n.UserID, userID) {
			continue // the provisioning item is behind: the number is someone else's now
		}
		r, err := s.release(ctx, cust, n, actor)
		if err != nil {
			return out, err
		}
		if out == nil {
			out = &r
		}
	}
	return out, nil
}

// audit appends an audit record; a failure is logged, not returned (the change itself is done).
func (s *Service) audit(ctx context.Context, r domain.AuditRecord) {
	if err := s.Store.AppendAudit(ctx, r); err != nil {
		s.log().Error("append audit record", "action", r.Action, "customer", r.CustomerID, "err", err)
	}
}
