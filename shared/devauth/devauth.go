// Package devauth signs and verifies the local runner's sign-in tokens. Only the local runner imports it: the
// Lambda build has no dev sign-in code path (in AWS, API Gateway verifies Cognito tokens).
package devauth

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/domain"
)

// Issuer signs and verifies local tokens with one HMAC key.
type Issuer struct {
	key []byte
	ttl time.Duration
}

const issuer = "seatwise-local"

// NewIssuer returns an Issuer with a fresh random key.
func NewIssuer() *Issuer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Issuer{key: key, ttl: 12 * time.Hour}
}

// Token returns a signed token carrying the same claims a Cognito ID token would.
func (i *Issuer) Token(subject, name string, role auth.Role, scope []string) (string, error) {
	if !role.Valid() {
		return "", domain.Invalid(map[string]string{"role": "must be provider-admin, customer-admin or viewer"})
	}
	if len(scope) == 0 {
		return "", domain.Invalid(map[string]string{"scope": `required: ["*"] or customer ids`})
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": issuer, "sub": subject, "name": name, "iat": now.Unix(), "exp": now.Add(i.ttl).Unix(),
		auth.ClaimGroups: "[" + string(role) + "]", auth.ClaimScope: strings.Join(scope, ","),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Claims verifies the request's bearer token and returns its claims as strings (the shape API Gateway passes).
func (i *Issuer) Claims(r *http.Request) (map[string]string, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil, domain.Errorf(domain.EUnauthorized, "authentication required: send Authorization: Bearer <token>")
	}
	tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return i.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer), jwt.WithExpirationRequired())
	if err != nil {
		return nil, domain.Wrap(err, domain.EUnauthorized, "invalid or expired token: sign in again")
	}
	out := map[string]string{}
	for k, v := range tok.Claims.(jwt.MapClaims) {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
}
