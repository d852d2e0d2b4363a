package usage_test

import (
	"fmt"

	"github.com/seatwise/seatwise/shared/domain"
)

// SKU ids of the catalogue.
const (
	skuE3        = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3
	skuO365E3    = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK
	skuPhone     = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV (Teams Phone Standard)
	skuCalling   = "0dab259f-bf13-4952-b7f8-7db8f131b28d" // MCOPSTN1
	skuResource  = "440eaaa8-b3e0-484b-a8be-62870b9ba70a" // PHONESYSTEM_VIRTUALUSER
	skuResGov    = "2cf22bcb-0c9e-4bc6-8daf-7e7654c0f285" // PHONESYSTEM_VIRTUALUSER_GOV
	skuUnknown   = "0badc0de-0000-4000-8000-000000000001" // not in the catalogue
	phoneGroupID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
)

// member is one generated user with what FactsOf needs of them.
type member struct {
	user      domain.User
	prov      domain.Provisioning
	managedBy string
}

// kind is a category of generated user.
type kind struct {
	skus      []string
	numType   string // "" = no number
	managedBy string
	status    string // "" = active
}

var (
	drUser      = kind{skus: []string{skuE3, skuPhone}, numType: domain.NumberDirectRouting, managedBy: domain.ManagedByTemplate}
	drByHand    = kind{skus: []string{skuE3, skuPhone}, numType: domain.NumberDirectRouting, managedBy: domain.ManagedByUI}
	drUnmanaged = kind{skus: []string{skuE3, skuPhone}, numType: domain.NumberDirectRouting}
	ocUser      = kind{skus: []string{skuE3, skuPhone}, numType: domain.NumberOperatorConnect, managedBy: domain.ManagedByTemplate}
	byHand      = kind{skus: []string{skuO365E3}, managedBy: domain.ManagedByUI}
	byTemplate  = kind{skus: []string{skuE3, skuPhone, skuCalling}, numType: domain.NumberCallingPlan, managedBy: domain.ManagedByTemplate}
	serviceNum  = kind{skus: []string{skuResource}, numType: domain.NumberDirectRouting, managedBy: domain.ManagedByTemplate}
	unmanaged   = kind{skus: []string{skuE3, skuPhone, skuCalling}, numType: domain.NumberCallingPlan}
	unlicensed  = kind{managedBy: domain.ManagedByUI}
	removed     = kind{skus: []string{skuE3}, managedBy: domain.ManagedByUI, status: domain.UserSoftDeleted}
)

var cities = []string{"London", "Manchester", "Leeds", "Bristol", "Glasgow"}
var departments = []string{"Sales", "Litigation", "Finance", "IT", "Operations", "Support"}

// generate returns n users of each kind, in turn (ids u000001, u000002, …).
func generate(groups ...batch) []member {
	var out []member
	for _, g := range groups {
		for range g.n {
			i := len(out) + 1
			u := domain.User{
				CustomerID: "c1", ID: fmt.Sprintf("u%06d", i),
				UserPrincipalName: fmt.Sprintf("user%d@contoso.com", i), DisplayName: fmt.Sprintf("User %d", i),
				Mail: fmt.Sprintf("user%d@contoso.com", i), UsageLocation: "GB", AccountEnabled: true,
				Department: departments[i%len(departments)], City: cities[i%len(cities)], Country: "United Kingdom",
				OfficeLocation: fmt.Sprintf("Floor %d", i%7), Status: domain.UserActive,
			}
			if g.k.status != "" {
				u.Status = g.k.status
			}
			for _, s := range g.k.skus {
				u.Licences = append(u.Licences, domain.Licence{SkuID: s, Direct: true, Groups: []string{}, State: "Active", Error: "None"})
			}
			p := domain.Provisioning{}
			if g.k.numType != "" {
				p = domain.Provisioning{CustomerID: "c1", UserID: u.ID, SiteID: "lon", Number: fmt.Sprintf("+44207%07d", i),
					NumberType: g.k.numType, Extension: fmt.Sprint(1000 + i)}
			}
			out = append(out, member{user: u, prov: p, managedBy: g.k.managedBy})
		}
	}
	return out
}

// batch is n users of one kind.
type batch struct {
	k kind
	n int
}

func of(k kind, n int) batch { return batch{k, n} }
