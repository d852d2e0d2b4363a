package usage

import "github.com/seatwise/seatwise/shared/domain"

// IDs of the default rules.
const (
	RuleDirectRouting   = "direct-routing"
	RuleOperatorConnect = "operator-connect"
	RuleByTemplate      = "by-template"
	RuleByUI            = "by-ui"
	RuleServiceNumbers  = "service-numbers"
)

// DefaultRules returns the provider's rules until it saves its own (a new slice each call, free to modify), in
// order:
//
//  1. Managed Users – Direct Routing: accountType user, numberType directRouting.
//  2. Managed Users – Operator Connect: accountType user, numberType operatorConnect.
//  3. Managed Users – By Template: accountType user, licences last managed by a template.
//  4. Managed Users – By User Interface: accountType user, licences last changed by hand.
//  5. Managed Service Numbers: accountType resourceAccount (FactsOf derives it from a Teams Phone Resource Account
//     SKU, PHONESYSTEM_VIRTUALUSER and its variants).
//
// The four "Managed Users" rules require accountType user, so a resource account never falls into them even when
// it holds a Direct Routing number (as service numbers usually do): it reaches rule 5 whatever the order. Among
// users, the number type comes first: a user on Direct Routing counts there however their licences were managed.
// A licensed user with neither a Direct Routing nor an Operator Connect number whom Seatwise never changed (e.g.
// a Calling Plan user licensed in the Microsoft admin centre) is Unmatched, which the audit shows as such.
func DefaultRules() []domain.FactorRule {
	user := domain.FactorCriterion{Field: domain.FactorAccountType, Pattern: domain.AccountUser}
	return []domain.FactorRule{
		{ID: RuleDirectRouting, Name: "Managed Users – Direct Routing", Enabled: true, Criteria: []domain.FactorCriterion{
			user, {Field: domain.FactorNumberType, Pattern: domain.NumberDirectRouting}}},
		{ID: RuleOperatorConnect, Name: "Managed Users – Operator Connect", Enabled: true, Criteria: []domain.FactorCriterion{
			user, {Field: domain.FactorNumberType, Pattern: domain.NumberOperatorConnect}}},
		{ID: RuleByTemplate, Name: "Managed Users – By Template", Enabled: true, ManagedBy: domain.ManagedByTemplate,
			Criteria: []domain.FactorCriterion{user}},
		{ID: RuleByUI, Name: "Managed Users – By User Interface", Enabled: true, ManagedBy: domain.ManagedByUI,
			Criteria: []domain.FactorCriterion{user}},
		{ID: RuleServiceNumbers, Name: "Managed Service Numbers", Enabled: true, Criteria: []domain.FactorCriterion{
			{Field: domain.FactorAccountType, Pattern: domain.AccountResourceAccount}}},
	}
}
