package sites_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/sites"
)

// fakeStore is an in-memory Store that records writes (the moto-backed tests run the real store).
type fakeStore struct {
	sites     []domain.Site
	templates map[string]bool
	writes    int
}

func (f *fakeStore) GetCustomer(_ context.Context, id string) (domain.Customer, error) {
	if id != "c1" {
		return domain.Customer{}, domain.Errorf(domain.ENotFound, "customer %s not found", id)
	}
	return domain.Customer{ID: id}, nil
}

func (f *fakeStore) GetSettings(_ context.Context, id string) (domain.Settings, error) {
	return domain.DefaultSettings(id), nil
}

func (f *fakeStore) PutSettings(_ context.Context, s domain.Settings, version int64, _ string, _ time.Time) (domain.Settings, error) {
	f.writes++
	s.Version = version + 1
	return s, nil
}

func (f *fakeStore) CreateSite(_ context.Context, s domain.Site, _ string) error {
	f.writes++
	f.sites = append(f.sites, s)
	return nil
}

func (f *fakeStore) GetSite(_ context.Context, _, id string) (domain.Site, error) {
	for _, s := range f.sites {
		if s.ID == id {
			return s, nil
		}
	}
	return domain.Site{}, domain.Errorf(domain.ENotFound, "site %s not found", id)
}

func (f *fakeStore) ListSites(context.Context, string) ([]domain.Site, error) { return f.sites, nil }

func (f *fakeStore) UpdateSite(_ context.Context, s domain.Site, version int64, _ string, _ time.Time) (domain.Site, error) {
	f.writes++
	s.Version = version + 1
	return s, nil
}

func (f *fakeStore) DeleteSite(context.Context, string, string, int64, string, time.Time) error {
	f.writes++
	return nil
}

func (f *fakeStore) GetTemplate(_ context.Context, _, id string) (domain.Template, error) {
	if !f.templates[id] {
		return domain.Template{}, domain.Errorf(domain.ENotFound, "template %s not found", id)
	}
	return domain.Template{ID: id}, nil
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	td.Require(t).Cmp(domain.ErrorCode(err), domain.EInvalid, "an EInvalid error: %v", err)
	e, _ := err.(*domain.Error)
	return e.Fields
}

func TestSiteValidationNamesFieldsAndStoresNothing(t *testing.T) {
	st := &fakeStore{templates: map[string]bool{"tpl": true}}
	svc := &sites.Service{Store: st, NewID: func() string { return "s1" }}
	ctx := context.Background()

	_, err := svc.Create(ctx, "c1", "admin", sites.SiteInput{
		Name:  "  ",
		Order: -1,
		Criteria: []domain.Criterion{
			{Field: "city", Value: "London"},
			{Field: "jobTitle", Value: "x"},
			{Field: "department", Value: " "},
			{Field: "upnDomain", Value: "a@contoso.com"},
			{Field: "group", Value: "Phone users"},
			{Field: "usageLocation", Value: "GBR"},
			{Field: "", Value: "x"},
			{Field: "office", Value: strings.Repeat("o", sites.MaxCriterionText+1)},
		},
		UsageLocation: "U1",
		NumberPolicy:  domain.NumberPolicy{Assign: true, Type: "mobile"},
	})
	td.Cmp(t, fieldsOf(t, err), td.Map(map[string]string{}, td.MapEntries{
		"name":              "required",
		"order":             td.Re(`^must be 0 to`),
		"criteria[1].field": td.Re(`^unknown field "jobTitle": one of usageLocation, city`),
		"criteria[2].value": "required",
		"criteria[3].value": td.Contains(`without "@"`),
		"criteria[4].value": td.Contains("group id"),
		"criteria[5].value": td.Contains("two-letter"),
		"criteria[6].field": td.HasPrefix("required"),
		"criteria[7].value": "at most 256 characters",
		"usageLocation":     td.Contains("two-letter"),
		"numberPolicy.type": td.Contains("directRouting, operatorConnect, callingPlan"),
	}))

	_, err = svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: strings.Repeat("n", sites.MaxSiteName+1),
		Criteria: make([]domain.Criterion, sites.MaxCriteria+1)})
	f := fieldsOf(t, err)
	td.Cmp(t, f["name"], "at most 80 characters")
	td.Cmp(t, f["criteria"], "at most 50 criteria")

	_, err = svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: "London", TemplateID: "nope"})
	td.Cmp(t, fieldsOf(t, err), map[string]string{"templateId": "no such template of this customer"})

	_, err = svc.Create(ctx, "c2", "admin", sites.SiteInput{Name: "London"})
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "unknown customer")
	td.Cmp(t, st.writes, 0, "nothing stored")

	// Valid input is normalised.
	got, err := svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: " London ", Default: true, TemplateID: "tpl", UsageLocation: "gb",
		Criteria: []domain.Criterion{{Field: "upnDomain", Value: " Contoso.COM "}, {Field: "group", Value: strings.ToUpper(phoneGroup)},
			{Field: "usageLocation", Value: "gb"}},
		NumberPolicy: domain.NumberPolicy{Assign: true, Type: domain.NumberDirectRouting}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, td.Struct(domain.Site{ID: "s1", CustomerID: "c1", Name: "London", Default: true, TemplateID: "tpl", UsageLocation: "GB",
		Criteria:     []domain.Criterion{{Field: "upnDomain", Value: "contoso.com"}, {Field: "group", Value: phoneGroup}, {Field: "usageLocation", Value: "GB"}},
		NumberPolicy: domain.NumberPolicy{Assign: true, Type: domain.NumberDirectRouting}, Version: 1},
		td.StructFields{"CreatedAt": td.NotZero(), "UpdatedAt": td.NotZero()}))
	td.Cmp(t, st.writes, 1)

	// A second default site is a conflict naming the first; the default itself may be updated.
	_, err = svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: "Leeds", Default: true})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains(`"London" is the default site`))
	_, err = svc.Update(ctx, "c1", "s1", 1, "admin", sites.SiteInput{Name: "London", Default: true})
	td.CmpNoError(t, err)
	td.Cmp(t, st.writes, 2)
}

func TestSettingsValidation(t *testing.T) {
	st := &fakeStore{}
	svc := &sites.Service{Store: st}
	ctx := context.Background()

	for _, tc := range []struct {
		in     sites.SettingsInput
		fields td.MapEntries
	}{
		{sites.SettingsInput{DefaultUsageLocation: "GBR", StagingLimitMinutes: 4, QuarantineDays: -1}, td.MapEntries{
			"defaultUsageLocation": td.Contains("two-letter"), "stagingLimitMinutes": "must be 5 to 20160 minutes (0 = the default, 1440)",
			"quarantineDays": "must be 0 to 365 days"}},
		{sites.SettingsInput{StagingLimitMinutes: domain.MaxStagingLimitMinutes + 1, QuarantineDays: domain.MaxQuarantineDays + 1},
			td.MapEntries{"stagingLimitMinutes": td.Ignore(), "quarantineDays": td.Ignore()}},
		{sites.SettingsInput{DefaultUsageLocation: "1A"}, td.MapEntries{"defaultUsageLocation": td.Ignore()}},
	} {
		_, err := svc.SaveSettings(ctx, "c1", "admin", 0, tc.in)
		td.Cmp(t, fieldsOf(t, err), td.Map(map[string]string{}, tc.fields), "%+v", tc.in)
	}
	td.Cmp(t, st.writes, 0, "nothing stored")

	got, err := svc.SaveSettings(ctx, "c1", "admin", 0, sites.SettingsInput{ManageLicenses: true, AllowStaging: true, DefaultUsageLocation: " gb "})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, td.Struct(domain.Settings{CustomerID: "c1", ManageLicenses: true, AllowStaging: true, DefaultUsageLocation: "GB",
		StagingLimitMinutes: domain.DefaultStagingLimitMinutes, QuarantineDays: 0, Version: 1}, td.StructFields{"UpdatedAt": td.NotZero()}),
		"limit 0 = the default; quarantine 0 = at once")
	got, err = svc.SaveSettings(ctx, "c1", "admin", 1, sites.SettingsInput{StagingLimitMinutes: 5, QuarantineDays: domain.MaxQuarantineDays})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got.StagingLimitMinutes, 5)
	td.Cmp(t, got.QuarantineDays, 365)
}
