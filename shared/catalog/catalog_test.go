package catalog_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
)

const (
	enterprisePack = "6fd2c87f-b296-42f0-b197-1e91e994b900" // Office 365 E3
	planMCOStd     = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c" // MCOSTANDARD
	planTeams1     = "57ff2da0-773e-42df-b2af-ffb7a2317929" // TEAMS1
)

var e3Plans = td.SuperBagOf(
	catalog.Plan{ID: planMCOStd, Name: "MCOSTANDARD", FriendlyName: "Skype for Business Online (Plan 2)"},
	catalog.Plan{ID: planTeams1, Name: "TEAMS1", FriendlyName: "Microsoft Teams"},
	catalog.Plan{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE", FriendlyName: "Exchange Online (Plan 2)"},
)

func TestLookup(t *testing.T) {
	p, ok := catalog.Lookup(enterprisePack)
	td.CmpTrue(t, ok)
	td.Cmp(t, p, td.Struct(catalog.Product{
		SkuID:      enterprisePack,
		PartNumber: "ENTERPRISEPACK",
		Name:       "Office 365 E3",
	}, td.StructFields{"Plans": e3Plans}))

	t.Run("upper-case GUID", func(t *testing.T) {
		up, ok := catalog.Lookup("6FD2C87F-B296-42F0-B197-1E91E994B900")
		td.CmpTrue(t, ok)
		td.Cmp(t, up, p)
	})

	t.Run("unknown", func(t *testing.T) {
		_, ok := catalog.Lookup("00000000-0000-0000-0000-000000000000")
		td.CmpFalse(t, ok)
		_, ok = catalog.Lookup("")
		td.CmpFalse(t, ok)
	})

	t.Run("result is a copy", func(t *testing.T) {
		p, _ := catalog.Lookup(enterprisePack)
		p.Plans[0].Name = "CHANGED"
		again, _ := catalog.Lookup(enterprisePack)
		td.CmpNot(t, again.Plans[0].Name, "CHANGED")
	})
}

func TestByPartNumber(t *testing.T) {
	for _, tc := range []struct{ part, skuID, name string }{
		{"ENTERPRISEPACK", enterprisePack, "Office 365 E3"},
		{"SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "Microsoft 365 E5"},
		{"MCOEV", "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "Microsoft Teams Phone Standard"},
		{"SPB", "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "Microsoft 365 Business Premium"},
		{"spb", "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "Microsoft 365 Business Premium"},
		// trailing non-breaking space in Microsoft's CSV, trimmed by the generator
		{"MCOCAP_FACULTY", "420c7602-7f70-4895-9394-d3d679ea36fb", "Microsoft Teams Shared Devices for Faculty"},
		// shared by two SKUs: the lowest skuId wins
		{"MCOPSTN5", "54a152dc-90de-4996-93d2-bc47e670fc06", "Skype for Business PSTN Domestic Calling (120 Minutes)"},
	} {
		t.Run(tc.part, func(t *testing.T) {
			p, ok := catalog.ByPartNumber(tc.part)
			td.CmpTrue(t, ok)
			td.Cmp(t, p, td.SStruct(catalog.Product{SkuID: tc.skuID, Name: tc.name}, td.StructFields{
				"PartNumber": td.Re(`(?i)^` + tc.part + `$`),
				"Plans":      td.NotEmpty(),
			}))
			byID, ok := catalog.Lookup(tc.skuID)
			td.CmpTrue(t, ok)
			td.Cmp(t, byID, p)
		})
	}

	p, _ := catalog.ByPartNumber("SPE_E5")
	td.Cmp(t, p.Plans, td.SuperBagOf(
		catalog.Plan{ID: "4828c8ec-dc2e-4779-b502-87ac9ce28ab7", Name: "MCOEV", FriendlyName: "Microsoft 365 Phone System"},
		catalog.Plan{ID: planTeams1, Name: "TEAMS1", FriendlyName: "Microsoft Teams"},
	))

	_, ok := catalog.ByPartNumber("NOT_A_SKU")
	td.CmpFalse(t, ok)
}

func TestPlanName(t *testing.T) {
	name, friendly, ok := catalog.PlanName(planMCOStd)
	td.CmpTrue(t, ok)
	td.Cmp(t, name, "MCOSTANDARD")
	td.Cmp(t, friendly, "Skype for Business Online (Plan 2)")

	name, friendly, ok = catalog.PlanName("57FF2DA0-773E-42DF-B2AF-FFB7A2317929")
	td.CmpTrue(t, ok)
	td.Cmp(t, name, "TEAMS1")
	td.Cmp(t, friendly, "Microsoft Teams")

	// Microsoft's CSV spells this plan's friendly name several ways; the most common proper one is kept.
	_, friendly, _ = catalog.PlanName("113feb6c-3fe4-4440-bddc-54d774bf0318")
	td.Cmp(t, friendly, "Exchange Foundation")

	name, friendly, ok = catalog.PlanName("00000000-0000-0000-0000-000000000000")
	td.CmpFalse(t, ok)
	td.Cmp(t, name, "")
	td.Cmp(t, friendly, "")
}

func TestDisplayName(t *testing.T) {
	td.Cmp(t, catalog.DisplayName(enterprisePack, "ENTERPRISEPACK"), "Office 365 E3")
	td.Cmp(t, catalog.DisplayName("6FD2C87F-B296-42F0-B197-1E91E994B900", ""), "Office 365 E3")
	// unknown SKU: the part number Graph reported
	td.Cmp(t, catalog.DisplayName("11111111-2222-3333-4444-555555555555", "CONTOSO_CUSTOM_SKU"), "CONTOSO_CUSTOM_SKU")
	// nothing better known: the skuId itself
	td.Cmp(t, catalog.DisplayName("11111111-2222-3333-4444-555555555555", ""), "11111111-2222-3333-4444-555555555555")
}
