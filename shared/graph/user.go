package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

// User reads one user with the properties a sync reads (UserFields, licenseAssignmentStates included): GET
// /users/{id}?$select=…. It is what a licence change reads back, so that the stored user is what Graph answered
// (and what the next sync will read).
//
// Errors: EInvalid (bad id), ENotFound (no such user), EUnauthorized, EThrottled, EUpstream.
func (c *Client) User(ctx context.Context, userID string) (domain.GraphUser, error) {
	op := "read user " + userID
	if err := checkID("user id", userID); err != nil {
		return domain.GraphUser{}, err
	}
	u, err := users.NewUserItemRequestBuilderInternal(c.userParams(userID), c.adapter).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: UserFields},
	})
	if err != nil {
		return domain.GraphUser{}, c.mapError(op, err)
	}
	if u == nil {
		return domain.GraphUser{}, c.mapError(op, fmt.Errorf("empty answer"))
	}
	return convertUser(u), nil
}

// AssignLicensesWithRequestID is AssignLicenses that also returns Graph's request-id: of the answer on success, of
// the refusal on failure ("" when Graph gave none), for the audit trail.
func (c *Client) AssignLicensesWithRequestID(ctx context.Context, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, string, error) {
	op := "assign licences to user " + userID
	body, err := assignLicenseBody(userID, add, remove)
	if err != nil {
		return domain.GraphUser{}, "", err
	}
	inspect := khttp.NewHeadersInspectionOptions()
	inspect.InspectResponseHeaders = true
	u, err := users.NewItemAssignLicenseRequestBuilderInternal(c.userParams(userID), c.adapter).Post(ctx, body,
		&users.ItemAssignLicenseRequestBuilderPostRequestConfiguration{Options: []abs.RequestOption{inspect}})
	if err != nil {
		reqID := RequestID(err)
		if reqID == "" {
			reqID = lastHeader(inspect.GetResponseHeaders(), "request-id")
		}
		return domain.GraphUser{}, reqID, c.assignError(ctx, op, userID, remove, err)
	}
	reqID := lastHeader(inspect.GetResponseHeaders(), "request-id")
	if u == nil {
		return domain.GraphUser{}, reqID, c.mapError(op, fmt.Errorf("empty answer"))
	}
	return convertUser(u), reqID, nil
}

// lastHeader is the last value of a header (a retried request collects one per attempt).
func lastHeader(h *abs.ResponseHeaders, name string) string {
	if h == nil {
		return ""
	}
	if v := h.Get(name); len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// RequestID returns Graph's request-id of a failed call (its response header, else its error body), or "" when err
// holds no Graph answer.
func RequestID(err error) string {
	var apiErr abs.ApiErrorable
	if !errors.As(err, &apiErr) {
		return ""
	}
	var odataErr *odataerrors.ODataError
	if !errors.As(err, &odataErr) {
		odataErr = nil
	}
	return requestID(apiErr, odataErr)
}

// GroupName returns a group's display name (GET /groups/{id}?$select=id,displayName), to name the group a licence
// is inherited from.
//
// Errors: EInvalid (bad id), ENotFound (no such group), EUnauthorized, EThrottled, EUpstream.
func (c *Client) GroupName(ctx context.Context, groupID string) (string, error) {
	op := "read group " + groupID
	if err := checkID("group id", groupID); err != nil {
		return "", err
	}
	b, err := c.rawGet(ctx, c.baseURL+"/groups/"+url.PathEscape(groupID)+"?$select=id,displayName")
	if err != nil {
		return "", c.mapError(op, err)
	}
	var g struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return "", c.mapError(op, fmt.Errorf("decode group: %w", err))
	}
	return g.DisplayName, nil
}

// User reads one user of a tenant (see Client.User).
func (f *Factory) User(ctx context.Context, tenantID, userID string) (domain.GraphUser, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return domain.GraphUser{}, err
	}
	return c.User(ctx, userID)
}

// AssignLicenses changes a user's licences in a tenant (see Client.AssignLicenses).
func (f *Factory) AssignLicenses(ctx context.Context, tenantID, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return domain.GraphUser{}, err
	}
	return c.AssignLicenses(ctx, userID, add, remove)
}

// AssignLicensesWithRequestID changes a user's licences in a tenant and returns Graph's request-id (see
// Client.AssignLicensesWithRequestID).
func (f *Factory) AssignLicensesWithRequestID(ctx context.Context, tenantID, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, string, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return domain.GraphUser{}, "", err
	}
	return c.AssignLicensesWithRequestID(ctx, userID, add, remove)
}

// GroupName returns the display name of a group of a tenant (see Client.GroupName).
func (f *Factory) GroupName(ctx context.Context, tenantID, groupID string) (string, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return "", err
	}
	return c.GroupName(ctx, groupID)
}

// SetUsageLocation sets a user's usage location (PATCH /users/{id} {usageLocation}), which a licence needs: Graph
// refuses to assign one to a user without it.
//
// Errors: EInvalid (bad id or location), ENotFound (no such user), EUnauthorized, EThrottled, EUpstream.
func (c *Client) SetUsageLocation(ctx context.Context, userID, location string) error {
	op := "set the usage location of user " + userID
	if err := checkID("user id", userID); err != nil {
		return err
	}
	if !usageLocationRe.MatchString(location) {
		return domain.Invalid(map[string]string{"usageLocation": "must be a two-letter country code (ISO 3166-1 alpha-2)"})
	}
	body := models.NewUser()
	loc := strings.ToUpper(location)
	body.SetUsageLocation(&loc)
	if _, err := users.NewUserItemRequestBuilderInternal(c.userParams(userID), c.adapter).Patch(ctx, body, nil); err != nil {
		return c.mapError(op, err)
	}
	return nil
}

var usageLocationRe = regexp.MustCompile(`^[A-Za-z]{2}$`)

// SetUsageLocation sets a user's usage location in a tenant (see Client.SetUsageLocation).
func (f *Factory) SetUsageLocation(ctx context.Context, tenantID, userID, location string) error {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return err
	}
	return c.SetUsageLocation(ctx, userID, location)
}
