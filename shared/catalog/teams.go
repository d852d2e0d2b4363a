package catalog

import "strings"

// teamsPlanPrefixes name the service plans that make a licence Teams-relevant: Teams itself (TEAMS1,
// TEAMS_FREE…), Phone System (MCOEV, MCOEV_VIRTUALUSER) and Calling Plans (MCOPSTN1, MCOPSTN_5…).
var teamsPlanPrefixes = []string{"TEAMS", "MCOEV", "MCOPSTN"}

// TeamsRelevant reports whether a SKU gives Teams or Teams voice (a user who gains it must appear in Teams before
// they can be provisioned with a number). A SKU the catalogue does not know is not Teams-relevant.
func TeamsRelevant(skuID string) bool {
	p, ok := load().bySku[normID(skuID)]
	if !ok {
		return false
	}
	for _, pl := range p.Plans {
		for _, pre := range teamsPlanPrefixes {
			if strings.HasPrefix(strings.ToUpper(pl.Name), pre) {
				return true
			}
		}
	}
	return false
}
