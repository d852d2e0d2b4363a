package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

// LicenseErrorKind says why Microsoft Graph refused a licence change.
type LicenseErrorKind string

// The licence refusals Seatwise acts on, and the domain code each one is reported with.
const (
	// NoSeats: every prepaid unit of the SKU is in use (EConflict: buy or free seats, then retry).
	NoSeats LicenseErrorKind = "no_seats"
	// UsageLocationMissing: the user has no usageLocation, which licensing requires (EInvalid: set it first).
	UsageLocationMissing LicenseErrorKind = "usage_location_missing"
	// MutuallyExclusive: the change would enable two service plans that cannot go together, e.g. Exchange Online
	// Plan 1 and Plan 2 (EConflict; Plans holds both).
	MutuallyExclusive LicenseErrorKind = "mutually_exclusive"
	// Dependency: a service plan would be left without a plan it needs, e.g. Teams Phone without Teams, or a
	// Calling Plan without Teams Phone (EConflict; Plans holds the dependent plan, then those it needs).
	Dependency LicenseErrorKind = "dependency"
	// InheritedFromGroup: the licence to remove comes from a group, not a direct assignment (EConflict; Groups
	// names the groups when the user's licenseAssignmentStates could be read).
	InheritedFromGroup LicenseErrorKind = "inherited_from_group"
	// UnknownSKU: the tenant has no subscription to the SKU (EInvalid).
	UnknownSKU LicenseErrorKind = "unknown_sku"
	// NotAssigned: the licence to remove is not assigned to the user (EConflict; a removal retried after it
	// succeeded ends here, so callers may treat it as done).
	NotAssigned LicenseErrorKind = "not_assigned"
)

// code is the domain error code a refusal is reported with.
func (k LicenseErrorKind) code() string {
	switch k {
	case UsageLocationMissing, UnknownSKU:
		return domain.EInvalid
	default:
		return domain.EConflict
	}
}

// LicenseError is a licence change Microsoft Graph refused for a reason Seatwise can act on. It reaches callers
// wrapped in a *domain.Error (Code from the kind, see the constants); find it with errors.As.
type LicenseError struct {
	Kind   LicenseErrorKind
	UserID string
	// SkuID is the SKU concerned, when Graph's message or the user's licences tell (no seats, unknown SKU,
	// inherited from group, not assigned).
	SkuID string
	// Plans are the service plans of Graph's message: the two exclusive ones, or the dependent plan followed by
	// the plans it depends on.
	Plans []string
	// Group is the (first) group that assigns the licence the caller tried to remove; Groups are all of them.
	Group  string
	Groups []string
	// Message is Graph's own message.
	Message string
	// Err is Graph's error as the SDK returned it.
	Err error
}

func (e *LicenseError) Error() string {
	return fmt.Sprintf("licence change refused (%s): %s", e.Kind, e.Message)
}

// Unwrap returns Graph's error.
func (e *LicenseError) Unwrap() error { return e.Err }

// LicenseDetail is one licence of a user as /users/{id}/licenseDetails describes it: the SKU and the state of each
// of its service plans ("Disabled" for plans switched off in the assignment).
type LicenseDetail struct {
	ID           string
	SkuID        string
	PartNumber   string
	ServicePlans []domain.ServicePlanInfo
}

func (c *Client) userParams(userID string) map[string]string {
	return map[string]string{"baseurl": c.baseURL, "user%2Did": userID}
}

// AssignLicenses adds licences to a user (or, for a SKU the user already has directly, replaces its disabledPlans:
// that is how a service plan is switched off or on) and removes the direct licences remove (skuIds), in one
// atomic change (POST /users/{id}/assignLicense). The body always carries both lists, empty ones included: Graph
// refuses a request without removeLicenses. A throttled call is retried by the client's middleware with the same
// (uncompressed) body.
//
// The answer is the user as Graph returns it: its default properties (id, userPrincipalName, displayName, mail…),
// not its licences; read LicenseDetails or the user for those.
//
// Errors: EInvalid (bad ids, no usage location, unknown SKU), EConflict (no seats, mutually exclusive plans, a
// missing dependency, a licence inherited from a group or not assigned) — those two carrying a *LicenseError —,
// ENotFound (no such user), EUnauthorized, EThrottled, EUpstream.
func (c *Client) AssignLicenses(ctx context.Context, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, error) {
	op := "assign licences to user " + userID
	body, err := assignLicenseBody(userID, add, remove)
	if err != nil {
		return domain.GraphUser{}, err
	}
	u, err := users.NewItemAssignLicenseRequestBuilderInternal(c.userParams(userID), c.adapter).Post(ctx, body, nil)
	if err != nil {
		return domain.GraphUser{}, c.assignError(ctx, op, userID, remove, err)
	}
	if u == nil {
		return domain.GraphUser{}, c.mapError(op, fmt.Errorf("empty answer"))
	}
	return convertUser(u), nil
}

// assignLicenseBody validates a licence change and builds the SDK's body for it.
func assignLicenseBody(userID string, add []domain.AssignedLicense, remove []string) (users.ItemAssignLicensePostRequestBodyable, error) {
	fields := map[string]string{}
	if strings.TrimSpace(userID) == "" || strings.ContainsAny(userID, "/?#") {
		fields["userId"] = "must be a user id or userPrincipalName"
	}
	addList := make([]models.AssignedLicenseable, 0, len(add))
	for i, a := range add {
		sku, err := uuid.Parse(a.SkuID)
		if err != nil {
			fields[fmt.Sprintf("add[%d].skuId", i)] = "must be a GUID"
		}
		disabled := make([]uuid.UUID, 0, len(a.DisabledPlans))
		for j, p := range a.DisabledPlans {
			id, err := uuid.Parse(p)
			if err != nil {
				fields[fmt.Sprintf("add[%d].disabledPlans[%d]", i, j)] = "must be a GUID"
				continue
			}
			disabled = append(disabled, id)
		}
		l := models.NewAssignedLicense()
		l.SetSkuId(&sku)
		l.SetDisabledPlans(disabled)
		addList = append(addList, l)
	}
	removeList := make([]uuid.UUID, 0, len(remove))
	for i, r := range remove {
		id, err := uuid.Parse(r)
		if err != nil {
			fields[fmt.Sprintf("remove[%d]", i)] = "must be a GUID"
			continue
		}
		removeList = append(removeList, id)
	}
	if len(add) == 0 && len(remove) == 0 {
		fields["add"] = "nothing to add or remove"
	}
	if len(fields) > 0 {
		return nil, &domain.Error{Code: domain.EInvalid, Message: "graph: invalid licence change for user " + userID, Fields: fields}
	}
	body := users.NewItemAssignLicensePostRequestBody()
	body.SetAddLicenses(addList)
	body.SetRemoveLicenses(removeList) // never nil: "removeLicenses": [] is required
	return body, nil
}

// assignError maps a failed licence change: Graph's licence refusals become a *LicenseError inside a
// *domain.Error; the rest goes through mapError. For a licence inherited from a group it reads the user's
// licenseAssignmentStates to name the SKU and the groups (best effort, within ctx).
func (c *Client) assignError(ctx context.Context, op, userID string, remove []string, err error) error {
	var odataErr *odataerrors.ODataError
	if !errors.As(err, &odataErr) || odataErr.GetStatusCode() < 400 || odataErr.GetStatusCode() >= 500 ||
		odataErr.GetStatusCode() == 401 || odataErr.GetStatusCode() == 403 || odataErr.GetStatusCode() == 404 || odataErr.GetStatusCode() == 429 {
		return c.mapError(op, err)
	}
	msg := ""
	if main := odataErr.GetErrorEscaped(); main != nil {
		msg = deref(main.GetMessage())
	}
	kind, ok := classifyLicenceMessage(msg)
	if !ok {
		return c.mapError(op, err)
	}
	le := &LicenseError{Kind: kind, UserID: userID, Message: msg, Err: err}
	guids := guidPattern.FindAllString(msg, -1)
	for i := range guids {
		guids[i] = strings.ToLower(guids[i])
	}
	switch kind {
	case MutuallyExclusive, Dependency:
		le.Plans = guids
	case NoSeats, UnknownSKU, NotAssigned:
		if len(guids) > 0 {
			le.SkuID = guids[0]
		} else if kind == NotAssigned && len(remove) == 1 {
			le.SkuID = strings.ToLower(remove[0])
		}
	case InheritedFromGroup:
		le.SkuID, le.Groups = c.inheritingGroups(ctx, userID, remove)
		if len(le.Groups) > 0 {
			le.Group = le.Groups[0]
		}
	}
	de := domain.Wrap(le, kind.code(), c.licenceMessage(le, requestID(odataErr, odataErr)))
	switch kind {
	case UsageLocationMissing:
		de.Fields = map[string]string{"usageLocation": "the user needs a usage location before a licence can be assigned"}
	case UnknownSKU:
		de.Fields = map[string]string{"skuId": "the tenant has no subscription to SKU " + le.SkuID}
	}
	return de
}

// licenceMessages describes each refusal for people.
var licenceMessages = map[LicenseErrorKind]string{
	NoSeats:              "no free licences",
	UsageLocationMissing: "the user has no usage location",
	MutuallyExclusive:    "service plans that cannot be combined",
	Dependency:           "a service plan would lack a plan it depends on",
	InheritedFromGroup:   "the licence is assigned through a group",
	UnknownSKU:           "the tenant has no such subscription",
	NotAssigned:          "the user does not have that licence",
}

func (c *Client) licenceMessage(le *LicenseError, reqID string) string {
	detail := licenceMessages[le.Kind]
	switch {
	case le.Kind == InheritedFromGroup && len(le.Groups) > 0:
		detail += " (" + strings.Join(le.Groups, ", ") + ")"
	case le.SkuID != "":
		detail += " (SKU " + le.SkuID + ")"
	}
	m := fmt.Sprintf("Microsoft Graph refused the licence change for user %s in tenant %s: %s: %s", le.UserID, c.tenantID, detail, le.Message)
	if reqID != "" {
		m += " (request-id " + reqID + ")"
	}
	return m
}

var guidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// classifyLicenceMessage recognises Graph's licence refusals by their messages (reference/graph.md: Graph's code is
// a generic Request_BadRequest; some messages are only loosely known, so substrings are matched).
func classifyLicenceMessage(msg string) (LicenseErrorKind, bool) {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "invalid usage location"):
		return UsageLocationMissing, true
	case strings.Contains(m, "does not have any available licenses"):
		return NoSeats, true
	case strings.Contains(m, "are mutually exclusive"):
		return MutuallyExclusive, true
	case strings.Contains(m, "depends on the service plan"):
		return Dependency, true
	case strings.Contains(m, "inherited from a group"):
		return InheritedFromGroup, true
	case strings.Contains(m, "does not correspond to a valid company license"):
		return UnknownSKU, true
	case strings.Contains(m, "does not have a corresponding license"):
		return NotAssigned, true
	}
	return "", false
}

// inheritingGroups reads a user's licenseAssignmentStates and returns the first SKU of remove that the user holds
// through groups only, with those groups. It returns "" and nil when the states cannot be read.
func (c *Client) inheritingGroups(ctx context.Context, userID string, remove []string) (string, []string) {
	u, err := users.NewUserItemRequestBuilderInternal(c.userParams(userID), c.adapter).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "licenseAssignmentStates"}},
	})
	if err != nil || u == nil {
		return "", nil
	}
	states := convertUser(u).LicenseStates
	for _, sku := range remove {
		var groups []string
		direct := false
		for _, s := range states {
			if !strings.EqualFold(s.SkuID, sku) {
				continue
			}
			if s.AssignedByGroup == "" {
				direct = true
			} else if !slices.Contains(groups, s.AssignedByGroup) {
				groups = append(groups, s.AssignedByGroup)
			}
		}
		if !direct && len(groups) > 0 {
			return strings.ToLower(sku), groups
		}
	}
	return "", nil
}

// LicenseDetails returns the licences of a user with the state of each service plan (GET
// /users/{id}/licenseDetails).
//
// Errors: ENotFound (no such user), EUnauthorized, EThrottled, EUpstream.
func (c *Client) LicenseDetails(ctx context.Context, userID string) ([]LicenseDetail, error) {
	op := "read the licence details of user " + userID
	if strings.TrimSpace(userID) == "" || strings.ContainsAny(userID, "/?#") {
		return nil, domain.Errorf(domain.EInvalid, "graph: invalid user id %q", userID)
	}
	b := users.NewItemLicenseDetailsRequestBuilderInternal(c.userParams(userID), c.adapter)
	resp, err := b.Get(ctx, nil)
	var out []LicenseDetail
	for page := 0; ; page++ {
		if err != nil {
			return nil, c.mapError(op, err)
		}
		if resp == nil {
			return nil, c.mapError(op, fmt.Errorf("empty answer"))
		}
		for _, d := range resp.GetValue() {
			ld := LicenseDetail{ID: deref(d.GetId()), SkuID: uuidString(d.GetSkuId()), PartNumber: deref(d.GetSkuPartNumber()),
				ServicePlans: []domain.ServicePlanInfo{}}
			for _, p := range d.GetServicePlans() {
				ld.ServicePlans = append(ld.ServicePlans, domain.ServicePlanInfo{
					ID:                 uuidString(p.GetServicePlanId()),
					Name:               deref(p.GetServicePlanName()),
					ProvisioningStatus: deref(p.GetProvisioningStatus()),
					AppliesTo:          deref(p.GetAppliesTo()),
				})
			}
			out = append(out, ld)
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		if err := c.checkNextLink(op, next, page); err != nil {
			return nil, err
		}
		resp, err = b.WithUrl(next).Get(ctx, nil)
	}
}

// replayBodyHandler gives every attempt of a request its own reader over the request's body. It sits right inside
// the retry handler (see middlewares in graph.go). kiota's retry handler rewinds the body and sends the same reader
// again, but the HTTP/2 transport writes a body in a goroutine of its own and may still be reading the previous
// attempt's copy when the 429 arrives (the answer needs no body): the retry then goes out short or empty under the
// same headers, and Graph answers 400. With a fresh reader per attempt, attempts share nothing.
type replayBodyHandler struct{}

// bufferedBody holds a request's body bytes for its later attempts. It is no io.Seeker, so the retry handler leaves
// it alone, and reads as empty: every attempt reads its own copy.
type bufferedBody struct{ b []byte }

func (*bufferedBody) Read([]byte) (int, error) { return 0, io.EOF }
func (*bufferedBody) Close() error             { return nil }

// Intercept implements khttp.Middleware.
func (replayBodyHandler) Intercept(pipeline khttp.Pipeline, index int, req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return pipeline.Next(req, index)
	}
	body, ok := req.Body.(*bufferedBody)
	if !ok {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		body = &bufferedBody{b: b}
		req.Body = body // the retry handler's request: later attempts find the bytes here
	}
	attempt := req.Clone(req.Context())
	attempt.Body = io.NopCloser(bytes.NewReader(body.b))
	attempt.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body.b)), nil }
	attempt.ContentLength = int64(len(body.b))
	return pipeline.Next(attempt, index)
}
