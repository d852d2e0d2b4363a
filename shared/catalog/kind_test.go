package catalog_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
)

func TestKind(t *testing.T) {
	cases := map[string]string{
		// base: suites, mailbox plans, device and resource-account licences, anything unknown
		"ENTERPRISEPACK": catalog.KindBase, "SPE_E3": catalog.KindBase, "SPE_E5": catalog.KindBase,
		"SPB": catalog.KindBase, "EXCHANGESTANDARD": catalog.KindBase, "Microsoft_Teams_Rooms_Pro": catalog.KindBase,
		"MCOCAP": catalog.KindBase, "PHONESYSTEM_VIRTUALUSER": catalog.KindBase, "SOMETHING_NEW": catalog.KindBase,
		"MCOEVX": catalog.KindBase, // a family match needs the whole name or an underscore variant
		// add-ons
		"MCOEV": catalog.KindAddOn, "mcoev_gov": catalog.KindAddOn, "MCOEVSMB_1": catalog.KindAddOn,
		"MCOPSTN1": catalog.KindAddOn, "MCOPSTN2": catalog.KindAddOn, "MCOPSTNC": catalog.KindAddOn, "MCOPSTN_6": catalog.KindAddOn,
		"MCOMEETADV": catalog.KindAddOn, "POWER_BI_PRO": catalog.KindAddOn, "POWER_BI_PRO_DEPT": catalog.KindAddOn,
		"VISIOCLIENT": catalog.KindAddOn, "PROJECTPROFESSIONAL": catalog.KindAddOn, "Microsoft_365_Copilot": catalog.KindAddOn,
		"Microsoft_Teams_Premium": catalog.KindAddOn, "ATP_ENTERPRISE": catalog.KindAddOn,
	}
	for part, want := range cases {
		td.Cmp(t, catalog.Kind("", part), want, part)
	}
	// Without a part number, the catalogue's part number of the skuId decides.
	mcoev, ok := catalog.ByPartNumber("MCOEV")
	td.Require(t).True(ok)
	td.Cmp(t, catalog.Kind(mcoev.SkuID, ""), catalog.KindAddOn)
	td.Cmp(t, catalog.Kind(enterprisePack, ""), catalog.KindBase)
	td.Cmp(t, catalog.Kind("00000000-0000-0000-0000-000000000000", ""), catalog.KindBase, "unknown → base")
	td.CmpTrue(t, catalog.ValidKind("addon"))
	td.CmpFalse(t, catalog.ValidKind("AddOn"))
}
