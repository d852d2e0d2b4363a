// Package sites manages a customer's provisioning settings and sites (the places users are provisioned on: the
// criteria that put a user there, the template they get, where their number comes from), and places users on
// sites.
package sites

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// Store is the state sites and settings read and write (*store.Store implements it).
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	// GetSettings returns domain.DefaultSettings (Version 0) for a customer that has saved none.
	GetSettings(ctx context.Context, customerID string) (domain.Settings, error)
	// PutSettings stores s if the stored settings are still at version (0 = none saved) and audits the change;
	// EConflict when they are not.
	PutSettings(ctx context.Context, s domain.Settings, version int64, actor string, at time.Time) (domain.Settings, error)
	// CreateSite returns EConflict (Fields["name"]) for a name the customer already uses.
	CreateSite(ctx context.Context, s domain.Site, actor string) error
	GetSite(ctx context.Context, customerID, siteID string) (domain.Site, error)
	// ListSites returns the customer's sites by Order, then Name.
	ListSites(ctx context.Context, customerID string) ([]domain.Site, error)
	// UpdateSite and DeleteSite return EConflict when the site is no longer at version; DeleteSite also while
	// numbers still belong to the site.
	UpdateSite(ctx context.Context, s domain.Site, version int64, actor string, at time.Time) (domain.Site, error)
	DeleteSite(ctx context.Context, customerID, siteID string, version int64, actor string, at time.Time) error
	GetTemplate(ctx context.Context, customerID, templateID string) (domain.Template, error)
}

var _ Store = (*store.Store)(nil)

// Limits of a site.
const (
	MaxSiteName      = 80
	MaxCriteria      = 50
	MaxCriterionText = 256
	// MaxSiteOrder bounds a site's Order (0..MaxSiteOrder).
	MaxSiteOrder = 1_000_000
	// MinStagingLimitMinutes is the shortest staging limit a customer may set.
	MinStagingLimitMinutes = 5
)

// Service manages settings and sites. Every change is validated first (an EInvalid error whose Fields are keyed by
// the JSON names of the input, e.g. "criteria[2].field") and written with optimistic locking; the store audits it.
type Service struct {
	Store Store
	Now   func() time.Time
	// NewID returns a new site id (tests set it for stable ids); nil = random UUIDs.
	NewID func() string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// SettingsInput is what an admin edits of a customer's settings.
type SettingsInput struct {
	ManageLicenses       bool   `json:"manageLicenses"`
	AllowStaging         bool   `json:"allowStaging"`
	DefaultUsageLocation string `json:"defaultUsageLocation"`
	// StagingLimitMinutes: MinStagingLimitMinutes..domain.MaxStagingLimitMinutes; 0 = the default (24 h).
	StagingLimitMinutes int `json:"stagingLimitMinutes"`
	// QuarantineDays: 0..domain.MaxQuarantineDays (0 = a released number is free again at once).
	QuarantineDays int `json:"quarantineDays"`
}

// SiteInput is what an admin edits of a site.
type SiteInput struct {
	Name          string              `json:"name"`
	Order         int                 `json:"order"`
	Default       bool                `json:"default"`
	Criteria      []domain.Criterion  `json:"criteria"`
	UsageLocation string              `json:"usageLocation"`
	TemplateID    string              `json:"templateId"`
	AllowStaging  bool                `json:"allowStaging"`
	NumberPolicy  domain.NumberPolicy `json:"numberPolicy"`
}

// Settings returns the customer's settings (the defaults, Version 0, when none were saved). Errors: ENotFound
// (customer).
func (s *Service) Settings(ctx context.Context, customerID string) (domain.Settings, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Settings{}, err
	}
	return s.Store.GetSettings(ctx, customerID)
}

// SaveSettings validates and stores the customer's settings if they are still at version (the version the admin
// read; 0 when none were saved). Errors: EInvalid (Fields: defaultUsageLocation, stagingLimitMinutes,
// quarantineDays), EConflict (changed by someone else since: reload), ENotFound (customer).
func (s *Service) SaveSettings(ctx context.Context, customerID, actor string, version int64, in SettingsInput) (domain.Settings, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Settings{}, err
	}
	fields := map[string]string{}
	loc, why := normalizeUsageLocation(in.DefaultUsageLocation)
	if why != "" {
		fields["defaultUsageLocation"] = why
	}
	limit := in.StagingLimitMinutes
	switch {
	case limit == 0:
		limit = domain.DefaultStagingLimitMinutes
	case limit < MinStagingLimitMinutes || limit > domain.MaxStagingLimitMinutes:
		fields["stagingLimitMinutes"] = fmt.Sprintf("must be %d to %d minutes (0 = the default, %d)",
			MinStagingLimitMinutes, domain.MaxStagingLimitMinutes, domain.DefaultStagingLimitMinutes)
	}
	if in.QuarantineDays < 0 || in.QuarantineDays > domain.MaxQuarantineDays {
		fields["quarantineDays"] = fmt.Sprintf("must be 0 to %d days", domain.MaxQuarantineDays)
	}
	if version < 0 {
		fields["version"] = "must not be negative"
	}
	if len(fields) > 0 {
		return domain.Settings{}, domain.Invalid(fields)
	}
	now := s.now()
	return s.Store.PutSettings(ctx, domain.Settings{
		CustomerID: customerID, ManageLicenses: in.ManageLicenses, AllowStaging: in.AllowStaging,
		DefaultUsageLocation: loc, StagingLimitMinutes: limit, QuarantineDays: in.QuarantineDays, UpdatedAt: now,
	}, version, actor, now)
}

// List returns the customer's sites, by Order then Name. Errors: ENotFound (customer).
func (s *Service) List(ctx context.Context, customerID string) ([]domain.Site, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return nil, err
	}
	return s.Store.ListSites(ctx, customerID)
}

// Get returns one site. Errors: ENotFound (customer or site).
func (s *Service) Get(ctx context.Context, customerID, siteID string) (domain.Site, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Site{}, err
	}
	return s.Store.GetSite(ctx, customerID, siteID)
}

// Create validates and stores a new site (version 1); the store audits it. Errors: EInvalid (Fields), EConflict
// (the name is taken, or another site is the default), ENotFound (customer).
func (s *Service) Create(ctx context.Context, customerID, actor string, in SiteInput) (domain.Site, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Site{}, err
	}
	if err := s.validate(ctx, customerID, "", &in); err != nil {
		return domain.Site{}, err
	}
	newID := s.NewID
	if newID == nil {
		newID = uuid.NewString
	}
	now := s.now()
	site := in.site(customerID, newID())
	site.Version, site.CreatedAt, site.UpdatedAt = 1, now, now
	if err := s.Store.CreateSite(ctx, site, actor); err != nil {
		return domain.Site{}, err
	}
	return site, nil
}

// Update replaces a site's settings if it is still at version (the version the admin read); the store audits it.
// Errors: EInvalid (Fields), EConflict (changed by someone else since: reload; the name is taken; another site is
// the default), ENotFound (customer or site).
func (s *Service) Update(ctx context.Context, customerID, siteID string, version int64, actor string, in SiteInput) (domain.Site, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Site{}, err
	}
	if _, err := s.Store.GetSite(ctx, customerID, siteID); err != nil {
		return domain.Site{}, err
	}
	if err := s.validate(ctx, customerID, siteID, &in); err != nil {
		return domain.Site{}, err
	}
	return s.Store.UpdateSite(ctx, in.site(customerID, siteID), version, actor, s.now())
}

// Delete deletes a site that is still at version; the store audits it. Errors: EConflict (changed since, or
// numbers still belong to the site), ENotFound (customer or site).
func (s *Service) Delete(ctx context.Context, customerID, siteID string, version int64, actor string) error {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return err
	}
	return s.Store.DeleteSite(ctx, customerID, siteID, version, actor, s.now())
}

func (in SiteInput) site(customerID, id string) domain.Site {
	return domain.Site{
		ID: id, CustomerID: customerID, Name: in.Name, Order: in.Order, Default: in.Default, Criteria: in.Criteria,
		UsageLocation: in.UsageLocation, TemplateID: in.TemplateID, AllowStaging: in.AllowStaging,
		NumberPolicy: in.NumberPolicy,
	}
}

// validate normalises in (trimmed; usage locations upper-case; UPN domains and group ids lower-case) and checks
// it: every problem is an entry of the EInvalid error's Fields. Then the template must exist, and no other site
// (than siteID) may be the default when in is (EConflict naming it).
func (s *Service) validate(ctx context.Context, customerID, siteID string, in *SiteInput) error {
	fields := validateSite(in)
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	if in.TemplateID != "" {
		if _, err := s.Store.GetTemplate(ctx, customerID, in.TemplateID); err != nil {
			if domain.ErrorCode(err) == domain.ENotFound {
				return domain.Invalid(map[string]string{"templateId": "no such template of this customer"})
			}
			return err
		}
	}
	if in.Default {
		sites, err := s.Store.ListSites(ctx, customerID)
		if err != nil {
			return err
		}
		for _, o := range sites {
			if o.Default && o.ID != siteID {
				return &domain.Error{Code: domain.EConflict,
					Message: fmt.Sprintf("site %q is the default site already: make it not the default first", o.Name),
					Fields:  map[string]string{"default": fmt.Sprintf("%q is the default site", o.Name)}}
			}
		}
	}
	return nil
}

var groupID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// criterionFields are the known criterion fields.
var criterionFields = []string{domain.CriterionUsageLocation, domain.CriterionCity, domain.CriterionDepartment,
	domain.CriterionOffice, domain.CriterionUPNDomain, domain.CriterionGroup}

var numberTypes = []string{domain.NumberDirectRouting, domain.NumberOperatorConnect, domain.NumberCallingPlan}

// validateSite normalises in (trimmed; usage locations upper-case; UPN domains and group ids lower-case) and
// returns what is wrong with it, keyed by JSON name (nil when nothing is): name 1..MaxSiteName characters without
// control characters; order 0..MaxSiteOrder; at most MaxCriteria criteria, each of a known field with a value of
// 1..MaxCriterionText characters (a usage location of two letters, a UPN domain without "@", a group id that is a
// GUID); a usage location of two letters or none; a number policy type of "" or one of the three number types. It
// checks nothing in the store (the template, the default site).
func validateSite(in *SiteInput) map[string]string {
	fields := map[string]string{}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fields["name"] = "required"
	case utf8.RuneCountInString(in.Name) > MaxSiteName:
		fields["name"] = fmt.Sprintf("at most %d characters", MaxSiteName)
	case strings.IndexFunc(in.Name, unicode.IsControl) >= 0:
		fields["name"] = "must not contain control characters"
	}
	if in.Order < 0 || in.Order > MaxSiteOrder {
		fields["order"] = fmt.Sprintf("must be 0 to %d", MaxSiteOrder)
	}
	if len(in.Criteria) > MaxCriteria {
		fields["criteria"] = fmt.Sprintf("at most %d criteria", MaxCriteria)
	}
	crit := make([]domain.Criterion, 0, len(in.Criteria))
	for i, c := range in.Criteria {
		f := fmt.Sprintf("criteria[%d]", i)
		c.Field, c.Value = strings.TrimSpace(c.Field), strings.TrimSpace(c.Value)
		if !slices.Contains(criterionFields, c.Field) {
			if c.Field == "" {
				fields[f+".field"] = "required: one of " + strings.Join(criterionFields, ", ")
			} else {
				fields[f+".field"] = fmt.Sprintf("unknown field %q: one of %s", c.Field, strings.Join(criterionFields, ", "))
			}
		}
		switch {
		case c.Value == "":
			fields[f+".value"] = "required"
		case utf8.RuneCountInString(c.Value) > MaxCriterionText:
			fields[f+".value"] = fmt.Sprintf("at most %d characters", MaxCriterionText)
		case strings.IndexFunc(c.Value, unicode.IsControl) >= 0:
			fields[f+".value"] = "must not contain control characters"
		case c.Field == domain.CriterionUsageLocation:
			loc, why := normalizeUsageLocation(c.Value)
			if why != "" {
				fields[f+".value"] = why
			}
			c.Value = loc
		case c.Field == domain.CriterionUPNDomain:
			c.Value = strings.ToLower(c.Value)
			if strings.Contains(c.Value, "@") {
				fields[f+".value"] = "a domain without \"@\", e.g. contoso.com"
			}
		case c.Field == domain.CriterionGroup:
			c.Value = strings.ToLower(c.Value)
			if !groupID.MatchString(c.Value) {
				fields[f+".value"] = "must be a group id (a GUID)"
			}
		}
		crit = append(crit, c)
	}
	in.Criteria = crit
	loc, why := normalizeUsageLocation(in.UsageLocation)
	if why != "" {
		fields["usageLocation"] = why
	}
	in.UsageLocation = loc
	in.TemplateID = strings.TrimSpace(in.TemplateID)
	if strings.ContainsAny(in.TemplateID, "#/?") {
		fields["templateId"] = "must be a template id"
	}
	in.NumberPolicy.Type = strings.TrimSpace(in.NumberPolicy.Type)
	if in.NumberPolicy.Type != "" && !slices.Contains(numberTypes, in.NumberPolicy.Type) {
		fields["numberPolicy.type"] = "empty (any type) or one of " + strings.Join(numberTypes, ", ")
	}
	if len(fields) == 0 {
		return nil
	}
	return fields
}

// normalizeUsageLocation returns a usage location upper-cased, or why it is not one ("" is allowed: none).
func normalizeUsageLocation(v string) (string, string) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "" {
		return "", ""
	}
	if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
		return v, "must be a two-letter country code (ISO 3166-1 alpha-2), e.g. GB"
	}
	return v, ""
}

// Place returns the site a user is provisioned on: the first site, by Order (then Name), one of whose criteria
// matches the user; else the default site; ok is false when neither exists.
func Place(sites []domain.Site, u domain.User) (site domain.Site, ok bool) {
	ordered := slices.Clone(sites)
	slices.SortStableFunc(ordered, func(a, b domain.Site) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	for _, s := range ordered {
		for _, c := range s.Criteria {
			if Match(c, u) {
				return s, true
			}
		}
	}
	for _, s := range ordered {
		if s.Default {
			return s, true
		}
	}
	return domain.Site{}, false
}

// Match reports whether a criterion matches a user, case-insensitively and exactly (spaces around values
// ignored): usageLocation, city, department, office (OfficeLocation), upnDomain (the part of the UPN after its
// "@"), group (the user holds a licence through that group id). An unknown field or an empty value matches nobody.
func Match(c domain.Criterion, u domain.User) bool {
	want := strings.TrimSpace(c.Value)
	if want == "" {
		return false
	}
	eq := func(have string) bool { return strings.EqualFold(strings.TrimSpace(have), want) }
	switch c.Field {
	case domain.CriterionUsageLocation:
		return eq(u.UsageLocation)
	case domain.CriterionCity:
		return eq(u.City)
	case domain.CriterionDepartment:
		return eq(u.Department)
	case domain.CriterionOffice:
		return eq(u.OfficeLocation)
	case domain.CriterionUPNDomain:
		at := strings.LastIndex(u.UserPrincipalName, "@")
		return at >= 0 && eq(u.UserPrincipalName[at+1:])
	case domain.CriterionGroup:
		for _, l := range u.Licences {
			if slices.ContainsFunc(l.Groups, eq) {
				return true
			}
		}
	}
	return false
}

// UsageLocation is the usage location a user placed on site gets: the site's, else the customer's default ("" when
// neither has one).
func UsageLocation(site domain.Site, set domain.Settings) string {
	if site.UsageLocation != "" {
		return site.UsageLocation
	}
	return set.DefaultUsageLocation
}

// DefaultUsageLocation is the usage location a user without one gets before a licence is assigned: the site the
// user is placed on's, else the customer's default ("" when neither has one).
func (s *Service) DefaultUsageLocation(ctx context.Context, customerID string, u domain.User) (string, error) {
	set, err := s.Store.GetSettings(ctx, customerID)
	if err != nil {
		return "", err
	}
	all, err := s.Store.ListSites(ctx, customerID)
	if err != nil {
		return "", err
	}
	site, _ := Place(all, u)
	return UsageLocation(site, set), nil
}
