package devauth

import (
	"net/http/httptest"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/domain"
)

func TestTokenRoundTrip(t *testing.T) {
	iss := NewIssuer()
	tok, err := iss.Token("dev-1", "Dev", auth.CustomerAdmin, []string{"c1", "c2"})
	td.CmpNoError(t, err)

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	claims, err := iss.Claims(r)
	td.CmpNoError(t, err)
	p, err := auth.FromClaims(claims)
	td.CmpNoError(t, err)
	td.Cmp(t, p, auth.Principal{Subject: "dev-1", Name: "Dev", Role: auth.CustomerAdmin, Scope: []string{"c1", "c2"}})

	other, _ := NewIssuer().Token("dev-1", "Dev", auth.ProviderAdmin, []string{"*"})
	for name, header := range map[string]string{"none": "", "garbage": "Bearer abc", "other key": "Bearer " + other} {
		r.Header.Set("Authorization", header)
		_, err := iss.Claims(r)
		td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized, name)
	}

	_, err = iss.Token("x", "x", "admin", []string{"*"})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}
