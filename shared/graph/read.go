package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

// UserFields are the user properties Seatwise reads ($select).
var UserFields = []string{"id", "userPrincipalName", "displayName", "mail", "usageLocation", "accountEnabled",
	"assignedLicenses", "licenseAssignmentStates", "businessPhones", "department", "officeLocation", "city", "country"}

// maxPages bounds a listing that would otherwise follow nextLinks forever (a misbehaving service).
const maxPages = 100_000

func (c *Client) pathParams() map[string]string { return map[string]string{"baseurl": c.baseURL} }

// ListSKUs returns the tenant's subscribed SKUs (GET /subscribedSkus).
//
// Errors: EUnauthorized (credentials or consent refused), EThrottled, EUpstream (Graph failing or unreachable, or
// ctx done).
func (c *Client) ListSKUs(ctx context.Context) ([]domain.SubscribedSKU, error) {
	const op = "list subscribed SKUs"
	b := subscribedskus.NewSubscribedSkusRequestBuilderInternal(c.pathParams(), c.adapter)
	resp, err := b.Get(ctx, nil)
	var out []domain.SubscribedSKU
	for page := 0; ; page++ {
		if err != nil {
			return nil, c.mapError(op, err)
		}
		if resp == nil {
			return nil, c.mapError(op, fmt.Errorf("empty answer"))
		}
		for _, s := range resp.GetValue() {
			out = append(out, convertSKU(s))
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

// UsersPage reads one page of the tenant's users: the first page when link is "", else the page at link (a
// nextLink returned by an earlier call, which callers may checkpoint). It returns the page and the next link, ""
// after the last page. pageSize (1..999, 0 = 999) applies to the first page; later pages keep it.
//
// Errors: EInvalid (bad pageSize or link), EUnauthorized, EThrottled, EUpstream.
func (c *Client) UsersPage(ctx context.Context, link string, pageSize int) ([]domain.GraphUser, string, error) {
	const op = "list users"
	if pageSize == 0 {
		pageSize = MaxPageSize
	}
	if pageSize < 1 || pageSize > MaxPageSize {
		return nil, "", domain.Errorf(domain.EInvalid, "graph: page size %d is outside 1..%d", pageSize, MaxPageSize)
	}
	b := users.NewUsersRequestBuilderInternal(c.pathParams(), c.adapter)
	var (
		resp models.UserCollectionResponseable
		err  error
	)
	if link == "" {
		top := int32(pageSize)
		resp, err = b.Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: UserFields, Top: &top},
		})
	} else {
		if err := c.checkNextLink(op, link, 0); err != nil {
			return nil, "", err
		}
		resp, err = b.WithUrl(link).Get(ctx, nil)
	}
	if err != nil {
		return nil, "", c.mapError(op, err)
	}
	if resp == nil {
		return nil, "", c.mapError(op, fmt.Errorf("empty answer"))
	}
	page := make([]domain.GraphUser, 0, len(resp.GetValue()))
	for _, u := range resp.GetValue() {
		page = append(page, convertUser(u))
	}
	return page, deref(resp.GetOdataNextLink()), nil
}

// PageUsers reads all the tenant's users, pageSize (1..999, 0 = 999) at a time, following @odata.nextLink, and
// calls fn with each page in order. It stops at the first error of fn, which it returns as is.
//
// Errors: EInvalid (bad pageSize), EUnauthorized, EThrottled, EUpstream, or fn's error.
func (c *Client) PageUsers(ctx context.Context, pageSize int, fn func([]domain.GraphUser) error) error {
	link := ""
	for page := 0; ; page++ {
		if page >= maxPages {
			return domain.Errorf(domain.EUpstream, "Microsoft Graph returned more than %d pages of users for tenant %s", maxPages, c.tenantID)
		}
		users, next, err := c.UsersPage(ctx, link, pageSize)
		if err != nil {
			return err
		}
		if err := fn(users); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if next == link {
			return domain.Errorf(domain.EUpstream, "Microsoft Graph returned the same nextLink twice for tenant %s", c.tenantID)
		}
		link = next
	}
}

// checkNextLink refuses a nextLink that leaves the Graph origin (the token would not be sent there anyway) or a
// listing that never ends.
func (c *Client) checkNextLink(op, link string, page int) error {
	if page >= maxPages {
		return domain.Errorf(domain.EUpstream, "Microsoft Graph returned more than %d pages for %s in tenant %s", maxPages, op, c.tenantID)
	}
	if !strings.HasPrefix(link, c.origin+"/") {
		return domain.Errorf(domain.EInvalid, "graph: next link %q for %s is not on %s", link, op, c.origin)
	}
	return nil
}

func convertSKU(s models.SubscribedSkuable) domain.SubscribedSKU {
	out := domain.SubscribedSKU{
		SkuID:            uuidString(s.GetSkuId()),
		PartNumber:       deref(s.GetSkuPartNumber()),
		AppliesTo:        deref(s.GetAppliesTo()),
		CapabilityStatus: deref(s.GetCapabilityStatus()),
		Consumed:         int(deref(s.GetConsumedUnits())),
		ServicePlans:     []domain.ServicePlanInfo{},
	}
	if p := s.GetPrepaidUnits(); p != nil {
		out.Enabled = int(deref(p.GetEnabled()))
		out.Suspended = int(deref(p.GetSuspended()))
		out.Warning = int(deref(p.GetWarning()))
		out.LockedOut = int(deref(p.GetLockedOut()))
	}
	for _, p := range s.GetServicePlans() {
		out.ServicePlans = append(out.ServicePlans, domain.ServicePlanInfo{
			ID:                 uuidString(p.GetServicePlanId()),
			Name:               deref(p.GetServicePlanName()),
			ProvisioningStatus: deref(p.GetProvisioningStatus()),
			AppliesTo:          deref(p.GetAppliesTo()),
		})
	}
	return out
}

func convertUser(u models.Userable) domain.GraphUser {
	out := domain.GraphUser{
		ID:                deref(u.GetId()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		DisplayName:       deref(u.GetDisplayName()),
		Mail:              deref(u.GetMail()),
		UsageLocation:     deref(u.GetUsageLocation()),
		AccountEnabled:    deref(u.GetAccountEnabled()),
		Department:        deref(u.GetDepartment()),
		OfficeLocation:    deref(u.GetOfficeLocation()),
		City:              deref(u.GetCity()),
		Country:           deref(u.GetCountry()),
	}
	if phones := u.GetBusinessPhones(); len(phones) > 0 {
		out.BusinessPhones = phones
	}
	for _, l := range u.GetAssignedLicenses() {
		out.AssignedLicenses = append(out.AssignedLicenses, domain.AssignedLicense{
			SkuID:         uuidString(l.GetSkuId()),
			DisabledPlans: uuidStrings(l.GetDisabledPlans()),
		})
	}
	for _, l := range u.GetLicenseAssignmentStates() {
		out.LicenseStates = append(out.LicenseStates, domain.LicenseAssignmentState{
			SkuID:           uuidString(l.GetSkuId()),
			DisabledPlans:   uuidStrings(l.GetDisabledPlans()),
			AssignedByGroup: deref(l.GetAssignedByGroup()),
			State:           deref(l.GetState()),
			Error:           deref(l.GetError()),
		})
	}
	return out
}

func uuidString[T fmt.Stringer](id *T) string {
	if id == nil {
		return ""
	}
	return (*id).String()
}

func uuidStrings[T fmt.Stringer](ids []T) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// ListSKUs lists a tenant's subscribed SKUs (see Client.ListSKUs).
func (f *Factory) ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return nil, err
	}
	return c.ListSKUs(ctx)
}

// PageUsers reads a tenant's users page by page (see Client.PageUsers).
func (f *Factory) PageUsers(ctx context.Context, tenantID string, pageSize int, fn func([]domain.GraphUser) error) error {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return err
	}
	return c.PageUsers(ctx, pageSize, fn)
}
