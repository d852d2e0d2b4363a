package auth

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
)

func TestFromClaims(t *testing.T) {
	p, err := FromClaims(map[string]string{
		"sub": "u1", "email": "a@b.c", "cognito:groups": "[viewer provider-admin]", "custom:scope": "*",
	})
	td.CmpNoError(t, err)
	td.Cmp(t, p, Principal{Subject: "u1", Name: "a@b.c", Role: ProviderAdmin, Scope: []string{"*"}})
	td.CmpTrue(t, p.CanSee("anything"))

	p, err = FromClaims(map[string]string{
		"sub": "u2", "name": "Ann", "cognito:groups": "customer-admin", "custom:scope": "c1, c2",
	})
	td.CmpNoError(t, err)
	td.Cmp(t, p.Scope, []string{"c1", "c2"})
	td.CmpTrue(t, p.CanSee("c2"))
	td.CmpFalse(t, p.CanSee("c3"))
	td.CmpTrue(t, p.Role.AtLeast(Viewer))
	td.CmpFalse(t, p.Role.AtLeast(ProviderAdmin))

	for name, claims := range map[string]map[string]string{
		"no subject": {"cognito:groups": "viewer", "custom:scope": "*"},
		"no role":    {"sub": "x", "cognito:groups": "[admins]", "custom:scope": "*"},
		"no scope":   {"sub": "x", "cognito:groups": "viewer"},
	} {
		_, err := FromClaims(claims)
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized, name)
	}
}
