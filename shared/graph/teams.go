package graph

// Teams: whether a user's Teams account exists (admin/teams/userConfigurations), whether they hold a Teams licence
// (getTeamsLicensingDetails), and the tenant's telephone numbers (admin/teams/telephoneNumberManagement: list,
// assignNumber, unassignNumber, each action answered 202 with an operation to poll).
//
// msgraph-sdk-go v1.89 has no builders for admin/teams (its admin package covers edge, people, report settings,
// service announcements and sharepoint only), so these calls are raw kiota RequestInformations sent through the
// client's adapter: the same token, middleware (retries, Retry-After) and error mapping as every other call, and
// no extra package to compile. getTeamsLicensingDetails is in the users package the client already imports.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

const (
	// DefaultOperationPollInterval is the pause between polls of a number operation (Config.OperationPollInterval).
	DefaultOperationPollInterval = 2 * time.Second
	// DefaultNumberPageSize and MaxNumberPageSize bound $top on numberAssignments.
	DefaultNumberPageSize = 500
	MaxNumberPageSize     = 1000
)

// Number types, assignment statuses and categories of Teams telephone numbers.
const (
	NumberDirectRouting   = "directRouting"
	NumberCallingPlan     = "callingPlan"
	NumberOperatorConnect = "operatorConnect"

	NumberUnassigned   = "unassigned"
	NumberUserAssigned = "userAssigned"

	NumberPrimary = "primary"
)

var (
	numberTypes      = []string{NumberDirectRouting, NumberCallingPlan, NumberOperatorConnect}
	numberCategories = []string{NumberPrimary, "private", "alternate"}
)

// graphErrors maps every error status to Graph's OData error, for raw requests.
var graphErrors = abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// TeamsUserConfig is a user's Teams account (a teamsUserConfiguration).
type TeamsUserConfig struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	TenantID          string `json:"tenantId"`
	// AccountType: user, resourceAccount, guest, sfbOnPremUser, unknown.
	AccountType string `json:"accountType"`
	// FeatureTypes are the Teams features the user's licences give: Teams, AudioConferencing, PhoneSystem,
	// CallingPlan…
	FeatureTypes             []string         `json:"featureTypes"`
	IsEnterpriseVoiceEnabled bool             `json:"isEnterpriseVoiceEnabled"`
	TelephoneNumbers         []AssignedNumber `json:"telephoneNumbers"`
	CreatedDateTime          time.Time        `json:"createdDateTime"`
	ModifiedDateTime         time.Time        `json:"modifiedDateTime"`
}

// AssignedNumber is one of a user's telephone numbers.
type AssignedNumber struct {
	TelephoneNumber    string `json:"telephoneNumber"`
	AssignmentCategory string `json:"assignmentCategory"` // primary, private, alternate
}

// HasFeature reports whether the user has a Teams feature (case-insensitive), e.g. "PhoneSystem".
func (c TeamsUserConfig) HasFeature(f string) bool {
	return slices.ContainsFunc(c.FeatureTypes, func(x string) bool { return strings.EqualFold(x, f) })
}

// TeamsReady reports whether a user has appeared in Teams: their Teams account exists
// (GET /admin/teams/userConfigurations/{id}) with "Teams" among its featureTypes. A 404 is not an error: the user
// is not (yet) provisioned in Teams — it takes minutes to hours after licensing — or does not exist. cfg is the
// account when there is one, ready or not (a user whose Teams licence went keeps an account without "Teams").
//
// Errors: EInvalid (empty or malformed user id), EUnauthorized, EThrottled, EUpstream.
func (c *Client) TeamsReady(ctx context.Context, userID string) (ready bool, cfg TeamsUserConfig, err error) {
	const op = "read a Teams user configuration"
	if err := checkID("user id", userID); err != nil {
		return false, cfg, err
	}
	b, err := c.rawGet(ctx, c.baseURL+"/admin/teams/userConfigurations/"+url.PathEscape(userID))
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return false, cfg, nil
		}
		return false, cfg, c.mapError(op, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return false, TeamsUserConfig{}, c.mapError(op, fmt.Errorf("unusable answer: %w", err))
	}
	return cfg.HasFeature("Teams"), cfg, nil
}

// HasTeamsLicense reports whether a user holds a licence with Teams enabled
// (GET /users/{id}/licenseDetails/getTeamsLicensingDetails): false when it is switched off in disabledPlans.
//
// Errors: EInvalid, ENotFound (no such user), EUnauthorized, EThrottled, EUpstream.
func (c *Client) HasTeamsLicense(ctx context.Context, userID string) (bool, error) {
	const op = "read Teams licensing details"
	if err := checkID("user id", userID); err != nil {
		return false, err
	}
	res, err := users.NewItemLicenseDetailsGetTeamsLicensingDetailsRequestBuilderInternal(c.userParams(userID), c.adapter).Get(ctx, nil)
	if err != nil {
		return false, c.mapError(op, err)
	}
	if res == nil || res.GetHasTeamsLicense() == nil {
		return false, c.mapError(op, fmt.Errorf("answer without hasTeamsLicense"))
	}
	return *res.GetHasTeamsLicense(), nil
}

// Number is one telephone number of the tenant's Teams inventory (a numberAssignment).
type Number struct {
	ID                 string   `json:"id"`
	TelephoneNumber    string   `json:"telephoneNumber"` // E.164 with "+"
	NumberType         string   `json:"numberType"`      // directRouting, callingPlan, operatorConnect
	OperatorID         string   `json:"operatorId"`
	ActivationState    string   `json:"activationState"`
	Capabilities       []string `json:"capabilities"` // userAssignment, conferenceAssignment, voiceApplicationAssignment
	LocationID         string   `json:"locationId"`
	AssignmentTargetID string   `json:"assignmentTargetId"` // "" when unassigned
	AssignmentCategory string   `json:"assignmentCategory"`
	AssignmentStatus   string   `json:"assignmentStatus"` // unassigned, userAssigned, conferenceAssigned, voiceApplicationAssigned…
	IsoCountryCode     string   `json:"isoCountryCode"`
	City               string   `json:"city"`
	NumberSource       string   `json:"numberSource"` // online, onPremises
}

// NumberFilter selects numbers; empty fields select all. The fields are ANDed.
type NumberFilter struct {
	AssignmentStatus   string // e.g. NumberUnassigned
	NumberType         string // e.g. NumberDirectRouting
	TelephoneNumber    string // with or without "+"
	AssignmentTargetID string
	Capability         string // e.g. "userAssignment"
	// PageSize is the $top of each request: 0 = DefaultNumberPageSize, at most MaxNumberPageSize.
	PageSize int
}

// odata renders the filter as a $filter expression ("" for none).
func (f NumberFilter) odata() string {
	var cl []string
	for _, p := range []struct{ prop, v string }{{"assignmentStatus", f.AssignmentStatus}, {"numberType", f.NumberType},
		{"telephoneNumber", f.TelephoneNumber}, {"assignmentTargetId", f.AssignmentTargetID}} {
		if p.v != "" {
			cl = append(cl, p.prop+" eq "+odataString(p.v))
		}
	}
	if f.Capability != "" {
		cl = append(cl, "capabilities/any(c:c eq "+odataString(f.Capability)+")")
	}
	return strings.Join(cl, " and ")
}

func odataString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// queryEscape escapes a query value for a request line: spaces as %20 and "+" as %2B (Graph does not read "+" as
// a space everywhere, and a telephone number's "+" must survive).
func queryEscape(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") }

// ListNumbers returns the tenant's telephone numbers that match filter, in Graph's order, reading
// GET …/telephoneNumberManagement/numberAssignments page by page: it follows @odata.nextLink when Graph sends
// one, and otherwise moves $skip on until a page comes back short.
//
// Errors: EInvalid (bad PageSize), EUnauthorized, EThrottled, EUpstream.
func (c *Client) ListNumbers(ctx context.Context, filter NumberFilter) ([]Number, error) {
	const op = "list Teams telephone numbers"
	size := filter.PageSize
	if size == 0 {
		size = DefaultNumberPageSize
	}
	if size < 1 || size > MaxNumberPageSize {
		return nil, domain.Errorf(domain.EInvalid, "graph: number page size %d is outside 1..%d", size, MaxNumberPageSize)
	}
	base := c.baseURL + "/admin/teams/telephoneNumberManagement/numberAssignments?"
	if f := filter.odata(); f != "" {
		base += "$filter=" + queryEscape(f) + "&"
	}
	base += "$top=" + strconv.Itoa(size)
	link := base
	var out []Number
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if err := c.checkNextLink(op, link, page); err != nil {
			return nil, err
		}
		b, err := c.rawGet(ctx, link)
		if err != nil {
			return nil, c.mapError(op, err)
		}
		var resp struct {
			Value    []Number `json:"value"`
			NextLink string   `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			return nil, c.mapError(op, fmt.Errorf("unusable answer: %w", err))
		}
		fresh := 0
		for _, n := range resp.Value {
			k := n.ID + "|" + n.TelephoneNumber
			if !seen[k] {
				seen[k] = true
				out = append(out, n)
				fresh++
			}
		}
		switch {
		case resp.NextLink != "":
			link = resp.NextLink
		case len(resp.Value) < size:
			return out, nil
		case fresh == 0:
			return nil, domain.Errorf(domain.EUpstream, "Microsoft Graph returned the same telephone numbers again for $skip=%d in tenant %s", len(out), c.tenantID)
		default:
			link = base + "&$skip=" + strconv.Itoa(len(out))
		}
	}
}

// NumberAssignment is what AssignNumber asks for.
type NumberAssignment struct {
	TelephoneNumber    string // with or without "+"
	AssignmentTargetID string // the user's (or resource account's) object id
	NumberType         string // NumberDirectRouting, NumberCallingPlan or NumberOperatorConnect
	AssignmentCategory string // primary (""), private or alternate
	LocationID         string // the emergency location, optional
}

// AssignNumber assigns a telephone number to a user and waits for Teams to do it: POST
// …/numberAssignments/assignNumber answers 202 with an operation, which is polled (every
// Config.OperationPollInterval, until ctx ends) until it succeeds or fails. Assigning a number the user already
// holds succeeds.
//
// Errors: EInvalid (a missing field or an unknown type or category; or, as a *NumberError: the number is of
// another type or cannot go to users), ENotFound (*NumberError: the number is not in the inventory, or the target
// is not a user of the tenant), EConflict (*NumberError: the number is someone else's, the user is not in Teams
// yet, or lacks the Phone System / Calling Plan licence), EUnauthorized, EThrottled, EUpstream (the operation
// failed for another reason, or did not finish before ctx ended).
func (c *Client) AssignNumber(ctx context.Context, a NumberAssignment) error {
	fields := map[string]string{}
	if strings.TrimSpace(a.TelephoneNumber) == "" {
		fields["telephoneNumber"] = "required"
	}
	if err := checkID("assignment target id", a.AssignmentTargetID); err != nil {
		fields["assignmentTargetId"] = "required, an object id"
	}
	if !slices.Contains(numberTypes, a.NumberType) {
		fields["numberType"] = "one of " + strings.Join(numberTypes, ", ")
	}
	if a.AssignmentCategory != "" && !slices.Contains(numberCategories, a.AssignmentCategory) {
		fields["assignmentCategory"] = "one of " + strings.Join(numberCategories, ", ")
	}
	if len(fields) > 0 {
		return &domain.Error{Code: domain.EInvalid, Message: "graph: invalid number assignment", Fields: fields}
	}
	body := map[string]string{"telephoneNumber": strings.TrimSpace(a.TelephoneNumber), "assignmentTargetId": a.AssignmentTargetID, "numberType": a.NumberType}
	if a.AssignmentCategory != "" {
		body["assignmentCategory"] = a.AssignmentCategory
	}
	if a.LocationID != "" {
		body["locationId"] = a.LocationID
	}
	return c.numberOperation(ctx, "assignNumber", body, a.TelephoneNumber, a.AssignmentTargetID)
}

// UnassignNumber frees a telephone number and waits for Teams to do it (POST …/numberAssignments/unassignNumber,
// then the operation is polled as for AssignNumber).
//
// Errors: EInvalid, ENotFound (*NumberError: not in the inventory), EConflict (*NumberError NumberNotAssigned: it
// was free already — a retried unassignment ends here, so callers may treat it as done), EUnauthorized,
// EThrottled, EUpstream.
func (c *Client) UnassignNumber(ctx context.Context, number, numberType string) error {
	fields := map[string]string{}
	if strings.TrimSpace(number) == "" {
		fields["telephoneNumber"] = "required"
	}
	if !slices.Contains(numberTypes, numberType) {
		fields["numberType"] = "one of " + strings.Join(numberTypes, ", ")
	}
	if len(fields) > 0 {
		return &domain.Error{Code: domain.EInvalid, Message: "graph: invalid number unassignment", Fields: fields}
	}
	return c.numberOperation(ctx, "unassignNumber", map[string]string{"telephoneNumber": strings.TrimSpace(number), "numberType": numberType}, number, "")
}

// numberOperation posts a number action, reads the operation's Location and polls it to its end.
func (c *Client) numberOperation(ctx context.Context, action string, body map[string]string, number, target string) error {
	op := action + " " + number
	payload, err := json.Marshal(body)
	if err != nil {
		return domain.Wrap(err, domain.EInternal, "graph: encode "+action)
	}
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/admin/teams/telephoneNumberManagement/numberAssignments/" + action
	ri.PathParameters = c.pathParams()
	ri.Headers.TryAdd("Accept", "application/json")
	ri.SetStreamContentAndContentType(payload, "application/json")
	inspect := khttp.NewHeadersInspectionOptions()
	inspect.InspectResponseHeaders = true
	ri.AddRequestOptions([]abs.RequestOption{inspect})
	if err := c.adapter.SendNoContent(ctx, ri, graphErrors); err != nil {
		return c.mapError(op, err)
	}
	loc := ""
	if v := inspect.GetResponseHeaders().Get("Location"); len(v) > 0 {
		loc = v[0]
	}
	if loc == "" {
		return domain.Errorf(domain.EUpstream, "Microsoft Graph accepted %s in tenant %s but named no operation to follow (no Location)", op, c.tenantID)
	}
	if strings.HasPrefix(loc, "/") {
		loc = c.origin + loc
	}
	if err := c.checkNextLink(op, loc, 0); err != nil {
		return err
	}
	return c.pollNumberOperation(ctx, op, action, loc, number, target)
}

// numberOperationStatus is a telephoneNumberLongRunningOperation.
type numberOperationStatus struct {
	ID      string `json:"id"`
	Status  string `json:"status"` // notStarted, running, succeeded, failed
	Numbers []struct {
		ResourceLocation string `json:"resourceLocation"`
		Status           string `json:"status"`
		StatusDetail     string `json:"statusDetail"`
	} `json:"numbers"`
}

// parseNumberOperation decodes an operation, also when wrapped in "value" (as Graph's documentation shows it).
func parseNumberOperation(b []byte) (numberOperationStatus, error) {
	var wrapped struct {
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.Value) > 0 && wrapped.Value[0] == '{' {
		b = wrapped.Value
	}
	var st numberOperationStatus
	err := json.Unmarshal(b, &st)
	return st, err
}

// pollNumberOperation polls an operation until it ends or ctx does.
func (c *Client) pollNumberOperation(ctx context.Context, op, action, loc, number, target string) error {
	every := c.pollEvery
	if every <= 0 {
		every = DefaultOperationPollInterval
	}
	late := func() error {
		return domain.Wrap(ctx.Err(), domain.EUpstream, fmt.Sprintf("Microsoft Teams did not finish %s in tenant %s in time (operation %s): check the number before retrying", op, c.tenantID, loc))
	}
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return late()
		case <-t.C:
		}
		b, err := c.rawGet(ctx, loc)
		if err != nil {
			if ctx.Err() != nil {
				return late()
			}
			return c.mapError(op, err)
		}
		st, err := parseNumberOperation(b)
		if err != nil {
			return c.mapError(op, fmt.Errorf("unusable operation: %w", err))
		}
		switch strings.ToLower(st.Status) {
		case "succeeded":
			return nil
		case "failed":
			detail := ""
			for _, n := range st.Numbers {
				if n.StatusDetail != "" {
					detail = n.StatusDetail
					break
				}
			}
			ne := &NumberError{Kind: classifyNumberFailure(action, detail), TelephoneNumber: number, TargetID: target, OperationID: st.ID, Message: detail}
			return domain.Wrap(ne, ne.Kind.code(), fmt.Sprintf("Microsoft Teams could not %s in tenant %s: %s", op, c.tenantID, ne.describe()))
		}
		t.Reset(every) // notStarted, running, or a status added later
	}
}

// NumberErrorKind says why Teams refused a number operation.
type NumberErrorKind string

// The number refusals Seatwise acts on, and the domain code each one is reported with.
const (
	// NumberNotFound: the number is not in the tenant's inventory (ENotFound).
	NumberNotFound NumberErrorKind = "number_not_found"
	// NumberTaken: the number is assigned to another user or resource account (EConflict).
	NumberTaken NumberErrorKind = "number_taken"
	// NumberTypeMismatch: the number is of another type than the request said (EInvalid).
	NumberTypeMismatch NumberErrorKind = "number_type_mismatch"
	// NumberNotForUsers: the number's capabilities do not allow user assignment, e.g. a service number (EInvalid).
	NumberNotForUsers NumberErrorKind = "number_not_for_users"
	// NumberTargetNotFound: the assignment target is not a user or resource account of the tenant (ENotFound).
	NumberTargetNotFound NumberErrorKind = "target_not_found"
	// NumberUserNotInTeams: the user has no Teams account yet, not licensed or not provisioned (EConflict: retry
	// when TeamsReady says so).
	NumberUserNotInTeams NumberErrorKind = "user_not_in_teams"
	// NumberLicenseMissing: the user lacks the Phone System licence, or the Calling Plan a callingPlan number needs
	// (EConflict).
	NumberLicenseMissing NumberErrorKind = "license_missing"
	// NumberNotAssigned: the number to unassign is free already (EConflict; callers may treat it as done).
	NumberNotAssigned NumberErrorKind = "number_not_assigned"
	// NumberOperationFailed: the operation failed for a reason not recognised (EUpstream).
	NumberOperationFailed NumberErrorKind = "operation_failed"
)

func (k NumberErrorKind) code() string {
	switch k {
	case NumberNotFound, NumberTargetNotFound:
		return domain.ENotFound
	case NumberTypeMismatch, NumberNotForUsers:
		return domain.EInvalid
	case NumberOperationFailed:
		return domain.EUpstream
	default:
		return domain.EConflict
	}
}

// NumberError is a number operation Teams ran and failed. It reaches callers wrapped in a *domain.Error (Code from
// the kind, see the constants); find it with errors.As.
type NumberError struct {
	Kind            NumberErrorKind
	TelephoneNumber string
	TargetID        string // the user, for an assignment
	OperationID     string
	// Message is the operation's own statusDetail ("" when it gave none).
	Message string
}

func (e *NumberError) Error() string {
	return "number operation failed (" + string(e.Kind) + "): " + e.describe()
}

func (e *NumberError) describe() string {
	if e.Message != "" {
		return e.Message
	}
	return "the operation failed without a reason"
}

// classifyNumberFailure reads an operation's statusDetail. The wording is not documented: match loosely.
func classifyNumberFailure(action, detail string) NumberErrorKind {
	d := strings.ToLower(detail)
	has := func(s ...string) bool {
		return slices.ContainsFunc(s, func(x string) bool { return strings.Contains(d, x) })
	}
	switch {
	case has("already assigned"):
		return NumberTaken
	case action == "unassignNumber" && has("not assigned"):
		return NumberNotAssigned
	case has("is of type", "number type", "numbertype"):
		return NumberTypeMismatch
	case has("inventory") || has("telephone number", "phone number") && has("not found", "does not exist"):
		return NumberNotFound
	case has("not a user or resource account", "target") && has("not", "unknown"):
		return NumberTargetNotFound
	case has("not enabled for microsoft teams", "teams account", "not found in microsoft teams", "not provisioned"):
		return NumberUserNotInTeams
	case has("capabilit", "cannot be assigned to a user"):
		return NumberNotForUsers
	case has("license", "licence"):
		return NumberLicenseMissing
	}
	return NumberOperationFailed
}

// rawGet reads a URL on the Graph origin through the adapter and returns the body.
func (c *Client) rawGet(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %w", rawURL, err)
	}
	ri := abs.NewRequestInformation()
	ri.Method = abs.GET
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	raw, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", graphErrors)
	if err != nil {
		return nil, err
	}
	b, _ := raw.([]byte)
	if len(b) == 0 {
		return nil, fmt.Errorf("empty answer")
	}
	return b, nil
}

// statusOf returns the HTTP status of a Graph error (0 when it is not one).
func statusOf(err error) int {
	var apiErr abs.ApiErrorable
	if errors.As(err, &apiErr) {
		return apiErr.GetStatusCode()
	}
	return 0
}

// checkID refuses an empty id or one that would change the request's path.
func checkID(what, id string) error {
	if strings.TrimSpace(id) == "" || strings.ContainsAny(id, "/?#%") {
		return domain.Errorf(domain.EInvalid, "graph: invalid %s %q", what, id)
	}
	return nil
}
