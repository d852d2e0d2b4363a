package usage

import (
	"strings"
	"sync"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

// UserFacts is what rules are evaluated on for one user. FactsOf builds it from the stored user; a caller that
// knows better (e.g. Teams' own accountType) may overwrite a field before counting.
type UserFacts struct {
	UserID            string
	UserPrincipalName string
	DisplayName       string
	Mail              string
	Department        string
	City              string
	Office            string
	UsageLocation     string
	Country           string
	AccountEnabled    bool
	// SKUs are the part numbers of the licences the user holds (the skuId of a SKU the catalogue does not know).
	// Empty for an unlicensed user, and for a user removed in the tenant (who no longer counts).
	SKUs []string
	// Groups are the ids of the groups the user's licences are inherited from.
	Groups []string
	// Number, NumberType and Extension are the user's telephone number as Seatwise provisioned (or imported) it
	// ("" when none); SiteID is the site the user is placed on.
	Number     string
	NumberType string
	Extension  string
	SiteID     string
	// AccountType is a domain.Account* value.
	AccountType string
	// ManagedBy is how Seatwise last changed the user's licences: domain.ManagedByTemplate, domain.ManagedByUI,
	// or "" (never).
	ManagedBy string
}

// Licensed reports whether the user counts as licensed: not removed in the tenant, holding at least one licence.
func (f *UserFacts) Licensed() bool { return len(f.SKUs) > 0 }

// FactsOf returns the facts of user u, whose provisioning is p (the zero Provisioning when there is none; a
// provisioning of another user is ignored) and whose licences were last managed by managedBy (ManagedBy* or "").
//
// Attribute values are trimmed. Every licence counts, whatever its state (as the customer's licensed count does).
// AccountType is resourceAccount when the user holds a Teams Phone Resource Account SKU (PHONESYSTEM_VIRTUALUSER
// and its Government, Faculty and GCC High variants: any SKU with the MCOEV_VIRTUALUSER service plan), guest for
// an external user (a UPN with "#EXT#"), else user. A user not active (removed in the tenant) gets no SKUs.
func FactsOf(u domain.User, p domain.Provisioning, managedBy string) UserFacts {
	f := UserFacts{
		UserID: u.ID, UserPrincipalName: strings.TrimSpace(u.UserPrincipalName),
		DisplayName: strings.TrimSpace(u.DisplayName), Mail: strings.TrimSpace(u.Mail),
		Department: strings.TrimSpace(u.Department), City: strings.TrimSpace(u.City),
		Office: strings.TrimSpace(u.OfficeLocation), UsageLocation: strings.TrimSpace(u.UsageLocation),
		Country: strings.TrimSpace(u.Country), AccountEnabled: u.AccountEnabled, AccountType: domain.AccountUser,
	}
	if managedBy == domain.ManagedByTemplate || managedBy == domain.ManagedByUI {
		f.ManagedBy = managedBy
	}
	if p.UserID == "" || p.UserID == u.ID {
		f.SiteID = strings.TrimSpace(p.SiteID)
		if f.Number = strings.TrimSpace(p.Number); f.Number != "" {
			f.NumberType = strings.TrimSpace(p.NumberType)
			f.Extension = strings.TrimSpace(p.Extension)
		}
	}
	if containsFold(f.UserPrincipalName, "#EXT#") {
		f.AccountType = domain.AccountGuest
	}
	if u.Status != domain.UserActive && u.Status != "" {
		return f
	}
	if len(u.Licences) > 0 {
		f.SKUs = make([]string, 0, len(u.Licences))
	}
	for _, l := range u.Licences {
		s := skuOf(l.SkuID)
		f.SKUs = append(f.SKUs, s.part)
		if s.resourceAccount {
			f.AccountType = domain.AccountResourceAccount
		}
		f.Groups = append(f.Groups, l.Groups...)
	}
	return f
}

// skuInfo is what usage needs of a SKU.
type skuInfo struct {
	part            string
	resourceAccount bool
}

// skus caches skuInfo by lower-case skuId, for the SKUs the catalogue knows (so it stays bounded by it):
// catalog.Lookup copies a product's plans on every call.
var skus sync.Map

func skuOf(skuID string) skuInfo {
	key := strings.ToLower(strings.TrimSpace(skuID))
	if v, ok := skus.Load(key); ok {
		return v.(skuInfo)
	}
	p, ok := catalog.Lookup(key)
	if !ok {
		return skuInfo{part: strings.TrimSpace(skuID)}
	}
	s := skuInfo{part: p.PartNumber}
	for _, pl := range p.Plans {
		if strings.HasPrefix(strings.ToUpper(pl.Name), "MCOEV_VIRTUALUSER") {
			s.resourceAccount = true
		}
	}
	skus.Store(key, s)
	return s
}

// containsFold reports whether s contains sub, ignoring ASCII letter case (without allocating, unlike ToUpper).
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
