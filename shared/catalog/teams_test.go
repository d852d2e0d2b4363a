package catalog

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

func TestTeamsRelevant(t *testing.T) {
	for part, want := range map[string]bool{
		"ENTERPRISEPACK":   true,  // Office 365 E3: TEAMS1
		"MCOEV":            true,  // Phone System
		"MCOPSTN1":         true,  // Domestic Calling Plan
		"EXCHANGESTANDARD": false, // Exchange Online only
		"POWER_BI_PRO":     false,
	} {
		p, ok := ByPartNumber(part)
		td.Require(t).True(ok, part)
		td.Cmp(t, TeamsRelevant(p.SkuID), want, part)
		td.Cmp(t, TeamsRelevant(" "+p.SkuID+" "), want, part+" (spaces)")
	}
	td.CmpFalse(t, TeamsRelevant("00000000-0000-0000-0000-000000000000"))
}
