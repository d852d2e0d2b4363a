package sites_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/sites"
)

const phoneGroup = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"

func TestMatch(t *testing.T) {
	u := domain.User{ID: "u1", UserPrincipalName: "Ada.Lovelace@Contoso.COM", UsageLocation: "GB", City: "London",
		Department: "Litigation", OfficeLocation: "Floor 3",
		Licences: []domain.Licence{{SkuID: "s1", Direct: true}, {SkuID: "s2", Groups: []string{"11111111-1111-4111-8111-111111111111", phoneGroup}}}}
	for _, tc := range []struct {
		c    domain.Criterion
		want bool
	}{
		{domain.Criterion{Field: domain.CriterionUsageLocation, Value: "gb"}, true},
		{domain.Criterion{Field: domain.CriterionUsageLocation, Value: "US"}, false},
		{domain.Criterion{Field: domain.CriterionCity, Value: " london "}, true},
		{domain.Criterion{Field: domain.CriterionCity, Value: "Lond"}, false}, // exact, not a prefix
		{domain.Criterion{Field: domain.CriterionDepartment, Value: "LITIGATION"}, true},
		{domain.Criterion{Field: domain.CriterionOffice, Value: "floor 3"}, true},
		{domain.Criterion{Field: domain.CriterionOffice, Value: "Floor 4"}, false},
		{domain.Criterion{Field: domain.CriterionUPNDomain, Value: "contoso.com"}, true},
		{domain.Criterion{Field: domain.CriterionUPNDomain, Value: "fabrikam.com"}, false},
		{domain.Criterion{Field: domain.CriterionGroup, Value: "6F1C2D3E-4B5A-4C6D-8E7F-9A0B1C2D3E4F"}, true},
		{domain.Criterion{Field: domain.CriterionGroup, Value: "22222222-2222-4222-8222-222222222222"}, false},
		{domain.Criterion{Field: "jobTitle", Value: "Associate"}, false},
		{domain.Criterion{Field: domain.CriterionCity, Value: ""}, false},
	} {
		td.Cmp(t, sites.Match(tc.c, u), tc.want, "%s=%q", tc.c.Field, tc.c.Value)
	}
	// An empty attribute never matches a criterion (its value is never empty).
	td.Cmp(t, sites.Match(domain.Criterion{Field: domain.CriterionCity, Value: "x"}, domain.User{}), false)
	td.Cmp(t, sites.Match(domain.Criterion{Field: domain.CriterionUPNDomain, Value: "x"}, domain.User{UserPrincipalName: "nodomain"}), false)
}

func TestPlace(t *testing.T) {
	london := domain.Site{ID: "lon", Name: "London", Order: 2, Criteria: []domain.Criterion{{Field: domain.CriterionCity, Value: "London"}}}
	phones := domain.Site{ID: "ph", Name: "Phones", Order: 1, Criteria: []domain.Criterion{
		{Field: domain.CriterionDepartment, Value: "Nowhere"}, {Field: domain.CriterionGroup, Value: phoneGroup}}}
	uk := domain.Site{ID: "uk", Name: "UK", Order: 2, Criteria: []domain.Criterion{{Field: domain.CriterionUsageLocation, Value: "GB"}}}
	fallback := domain.Site{ID: "hq", Name: "HQ", Order: 0, Default: true}
	all := []domain.Site{london, uk, fallback, phones} // not in order: Place orders them

	inLondon := domain.User{City: "London", UsageLocation: "GB"}
	got, ok := sites.Place(all, inLondon)
	td.Cmp(t, ok, true)
	td.Cmp(t, got.ID, "lon", "same order: by name, London before UK")

	withGroup := domain.User{City: "London", Licences: []domain.Licence{{SkuID: "s", Groups: []string{phoneGroup}}}}
	got, _ = sites.Place(all, withGroup)
	td.Cmp(t, got.ID, "ph", "any one criterion of the lowest order wins")

	inManchester := domain.User{City: "Manchester", UsageLocation: "GB"}
	got, _ = sites.Place(all, inManchester)
	td.Cmp(t, got.ID, "uk")

	nowhere := domain.User{City: "Paris", UsageLocation: "FR"}
	got, ok = sites.Place(all, nowhere)
	td.Cmp(t, ok, true)
	td.Cmp(t, got.ID, "hq", "no criteria match: the default site (whose own empty criteria match nobody)")

	_, ok = sites.Place([]domain.Site{london, uk}, nowhere)
	td.Cmp(t, ok, false, "no match and no default")
	_, ok = sites.Place(nil, nowhere)
	td.Cmp(t, ok, false)
}

func TestUsageLocation(t *testing.T) {
	set := domain.Settings{DefaultUsageLocation: "US"}
	td.Cmp(t, sites.UsageLocation(domain.Site{UsageLocation: "GB"}, set), "GB")
	td.Cmp(t, sites.UsageLocation(domain.Site{}, set), "US")
	td.Cmp(t, sites.UsageLocation(domain.Site{}, domain.Settings{}), "")
}
