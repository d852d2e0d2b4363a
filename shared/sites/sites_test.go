package sites_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/store"
)

// newService is the service over the real store (moto), with a customer "c1" and a template "tpl".
func newService(t *testing.T) (*sites.Service, *store.Store) {
	t.Helper()
	ctx := context.Background()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, domain.Customer{ID: "c1", Name: "Contoso", TenantID: "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11",
		CreatedAt: time.Now().UTC(), Version: 1}, "test"))
	td.Require(t).CmpNoError(st.CreateTemplate(ctx, domain.Template{ID: "tpl", CustomerID: "c1", Name: "Phone",
		Licences: []domain.AssignedLicense{{SkuID: "4828c8ec-dc2e-4779-b502-87ac9ce28ab7", DisabledPlans: []string{}}}, Version: 1,
		CreatedAt: time.Now().UTC()}, "test"))
	n := 0
	return &sites.Service{Store: st, NewID: func() string { n++; return fmt.Sprintf("site-%d", n) }}, st
}

func TestSitesWithTheStore(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()

	london, err := svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: "London", Order: 2, TemplateID: "tpl", AllowStaging: true,
		Criteria:     []domain.Criterion{{Field: "city", Value: "London"}},
		NumberPolicy: domain.NumberPolicy{Assign: true, Type: domain.NumberCallingPlan}})
	td.Require(t).CmpNoError(err)
	hq, err := svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: "HQ", Order: 1, Default: true, UsageLocation: "gb"})
	td.Require(t).CmpNoError(err)

	got, err := svc.Get(ctx, "c1", london.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, london)
	list, err := svc.List(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, list, td.Smuggle(func(s []domain.Site) []string {
		var out []string
		for _, x := range s {
			out = append(out, x.Name)
		}
		return out
	}, []string{"HQ", "London"}), "by order")

	// Names are unique (any case); one default site.
	_, err = svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: "london"})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	_, err = svc.Create(ctx, "c1", "admin", sites.SiteInput{Name: "Leeds", Default: true})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains(`"HQ" is the default site`))
	_, err = svc.Update(ctx, "c1", london.ID, london.Version, "admin", sites.SiteInput{Name: "London", Default: true})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)

	// Update: normalised, versioned; a stale version is a conflict.
	up, err := svc.Update(ctx, "c1", london.ID, 1, "admin", sites.SiteInput{Name: "London City", Order: 2,
		Criteria: []domain.Criterion{{Field: "upnDomain", Value: "London.Contoso.com"}}, UsageLocation: "gb"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, up, td.SuperJSONOf(`{"name": "London City", "version": 2, "usageLocation": "GB", "templateId": "",
		"criteria": [{"field": "upnDomain", "value": "london.contoso.com"}]}`))
	_, err = svc.Update(ctx, "c1", london.ID, 1, "admin", sites.SiteInput{Name: "London"})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "stale")
	_, err = svc.Update(ctx, "c1", "nope", 1, "admin", sites.SiteInput{Name: "London"})
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = svc.Update(ctx, "c1", london.ID, 2, "admin", sites.SiteInput{Name: "London", TemplateID: "gone"})
	td.Cmp(t, fieldsOf(t, err), map[string]string{"templateId": "no such template of this customer"})

	// A site with numbers cannot go; without, it can (at its version).
	_, _, err = st.AddNumbers(ctx, "c1", []domain.Number{{Number: "+442071234567", Type: domain.NumberDirectRouting, SiteID: hq.ID}}, "admin", time.Now().UTC())
	td.Require(t).CmpNoError(err)
	td.Cmp(t, domain.ErrorCode(svc.Delete(ctx, "c1", hq.ID, 1, "admin")), domain.EConflict)
	td.Cmp(t, domain.ErrorCode(svc.Delete(ctx, "c1", london.ID, 1, "admin")), domain.EConflict, "stale")
	td.CmpNoError(t, svc.Delete(ctx, "c1", london.ID, 2, "admin"))
	_, err = svc.Get(ctx, "c1", london.ID)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = svc.List(ctx, "c2")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

func TestSettingsWithTheStore(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()

	set, err := svc.Settings(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, set, domain.DefaultSettings("c1"))

	saved, err := svc.SaveSettings(ctx, "c1", "admin", 0, sites.SettingsInput{ManageLicenses: true, AllowStaging: true,
		DefaultUsageLocation: "us", StagingLimitMinutes: 60, QuarantineDays: 7})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, saved, td.SStruct(domain.Settings{CustomerID: "c1", ManageLicenses: true, AllowStaging: true, DefaultUsageLocation: "US",
		StagingLimitMinutes: 60, QuarantineDays: 7, Version: 1}, td.StructFields{"UpdatedAt": td.NotZero()}))
	got, err := svc.Settings(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got.Version, int64(1))
	td.Cmp(t, got.DefaultUsageLocation, "US")

	_, err = svc.SaveSettings(ctx, "c1", "admin", 0, sites.SettingsInput{})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "stale")
	_, err = svc.SaveSettings(ctx, "c1", "admin", 1, sites.SettingsInput{StagingLimitMinutes: 1})
	td.Cmp(t, fieldsOf(t, err), td.Map(map[string]string{}, td.MapEntries{"stagingLimitMinutes": td.Ignore()}))
	got, _ = svc.Settings(ctx, "c1")
	td.Cmp(t, got.StagingLimitMinutes, 60, "nothing stored")
	_, err = svc.Settings(ctx, "c2")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}
