// Package auth turns verified token claims into a Principal and answers what that principal may do.
// It verifies nothing itself: in AWS, API Gateway's JWT authorizer has verified the Cognito token; locally, the dev
// runner verifies its own tokens. Both hand the claims to FromClaims.
package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/seatwise/seatwise/shared/domain"
)

// Role is what a signed-in person may do. Roles are ordered: each includes the rights of those below it.
type Role string

// Roles, from Cognito groups of the same names.
const (
	Viewer        Role = "viewer"
	CustomerAdmin Role = "customer-admin"
	ProviderAdmin Role = "provider-admin"
)

var rank = map[Role]int{Viewer: 1, CustomerAdmin: 2, ProviderAdmin: 3}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return rank[r] > 0 }

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return rank[r] >= rank[min] }

// AllCustomers is the scope entry that grants every customer.
const AllCustomers = "*"

// Claim names, as Cognito puts them in an ID token.
const (
	ClaimSubject = "sub"
	ClaimName    = "name"
	ClaimEmail   = "email"
	ClaimGroups  = "cognito:groups"
	ClaimScope   = "custom:scope"
)

// Principal is the signed-in caller.
type Principal struct {
	Subject string   `json:"subject"`
	Name    string   `json:"name"`
	Role    Role     `json:"role"`
	Scope   []string `json:"scope"`
}

// FromClaims builds a Principal from verified claims. The role is the highest of the caller's groups; the scope
// is "*" or a comma-separated list of customer ids. It returns an EUnauthorized error when the claims grant nothing.
func FromClaims(claims map[string]string) (Principal, error) {
	p := Principal{Subject: claims[ClaimSubject], Name: claims[ClaimName]}
	if p.Name == "" {
		p.Name = claims[ClaimEmail]
	}
	for _, g := range splitList(claims[ClaimGroups]) {
		if r := Role(g); r.Valid() && rank[r] > rank[p.Role] {
			p.Role = r
		}
	}
	p.Scope = splitList(claims[ClaimScope])
	switch {
	case p.Subject == "":
		return Principal{}, domain.Errorf(domain.EUnauthorized, "the token has no subject")
	case p.Role == "":
		return Principal{}, domain.Errorf(domain.EUnauthorized, "the token grants no Seatwise role")
	case len(p.Scope) == 0:
		return Principal{}, domain.Errorf(domain.EUnauthorized, "the token grants no customer scope")
	}
	return p, nil
}

// splitList reads a claim that holds a list: API Gateway passes arrays as "[a b]"; Cognito custom attributes are
// comma-separated.
func splitList(v string) []string {
	v = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "["), "]")
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}

// AllScope reports whether the principal sees every customer.
func (p Principal) AllScope() bool { return slices.Contains(p.Scope, AllCustomers) }

// CanSee reports whether customerID is within the principal's scope.
func (p Principal) CanSee(customerID string) bool {
	return p.AllScope() || slices.Contains(p.Scope, customerID)
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
