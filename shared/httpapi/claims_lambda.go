package httpapi

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/seatwise/seatwise/shared/domain"
)

// LambdaClaims reads the claims that API Gateway's JWT authorizer verified from the request context that
// echoadapter.NewV2 puts there.
func LambdaClaims(r *http.Request) (map[string]string, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil || len(rc.Authorizer.JWT.Claims) == 0 {
		return nil, domain.Errorf(domain.EUnauthorized, "authentication required")
	}
	return rc.Authorizer.JWT.Claims, nil
}
