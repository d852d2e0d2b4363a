package graphsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// tokenLifetime is the expires_in of issued access tokens (Entra issues 3599 s).
const tokenLifetime = 3599 * time.Second

// graphResource is the audience of Graph tokens.
const graphResource = "https://graph.microsoft.com"

// appRoles are the application permissions an issued token carries.
var appRoles = []string{"User.Read.All", "LicenseAssignment.ReadWrite.All", "Directory.Read.All",
	"TeamsUserConfiguration.Read.All", "TeamsTelephoneNumber.ReadWrite.All"}

// tokenClaims are the claims of a simulated access token.
type tokenClaims struct {
	Aud     string   `json:"aud"`
	Iss     string   `json:"iss"`
	Iat     int64    `json:"iat"`
	Nbf     int64    `json:"nbf"`
	Exp     int64    `json:"exp"`
	AppID   string   `json:"appid"`
	AppName string   `json:"app_displayname"`
	IDType  string   `json:"idtyp"`
	Oid     string   `json:"oid"`
	Roles   []string `json:"roles"`
	Tid     string   `json:"tid"`
	Ver     string   `json:"ver"`
}

var b64 = base64.RawURLEncoding

// mintToken issues an HS256-signed JWT for the application in a tenant.
func (s *Sim) mintToken(tenantID string) (string, error) {
	now := s.now()
	c := tokenClaims{
		Aud: graphResource, Iss: "https://sts.windows.net/" + tenantID + "/",
		Iat: now.Unix(), Nbf: now.Unix() - 300, Exp: now.Add(tokenLifetime).Unix(),
		AppID: ClientID, AppName: "Seatwise (local)", IDType: "app", Oid: nameUUID("sp|" + tenantID),
		Roles: appRoles, Tid: tenantID, Ver: "1.0",
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256","kid":"graphsim"}`)) + "." + b64.EncodeToString(payload)
	return signing + "." + b64.EncodeToString(s.sign(signing)), nil
}

func (s *Sim) sign(data string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// verifyToken checks a token's signature and lifetime; the message says why it is refused.
func (s *Sim) verifyToken(tok string) (*tokenClaims, string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "IDX14100: JWT is not well formed, there are no dots (.)."
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return nil, "Access token validation failure. Invalid signature."
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, "IDX14100: JWT is not well formed."
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, "IDX14100: JWT is not well formed."
	}
	if c.Aud != graphResource && c.Aud != "00000003-0000-0000-c000-000000000000" {
		return nil, "Access token validation failure. Invalid audience."
	}
	now := s.now().Unix()
	if now >= c.Exp || now < c.Nbf {
		return nil, "Lifetime validation failed, the token is expired."
	}
	return &c, ""
}

// authenticate checks the bearer token of a Graph request, answering 401 itself when it is missing or invalid.
func (s *Sim) authenticate(w http.ResponseWriter, r *http.Request) (*tokenClaims, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		unauthorized(w, r, "Access token is empty.")
		return nil, false
	}
	c, why := s.verifyToken(strings.TrimSpace(tok))
	if c == nil {
		unauthorized(w, r, why)
		return nil, false
	}
	return c, true
}

func unauthorized(w http.ResponseWriter, r *http.Request, message string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", message)
}

// withTenant runs fn with the tenant of a verified token, refusing tokens of unknown tenants and of tenants whose
// consent was revoked.
func (s *Sim) withTenant(w http.ResponseWriter, r *http.Request, c *tokenClaims, fn func(t *tenant)) {
	t, ok := s.tenant(c.Tid)
	if !ok {
		unauthorized(w, r, "Access token validation failure. The tenant of the token does not exist.")
		return
	}
	t.mu.Lock()
	revoked := t.revoked
	t.mu.Unlock()
	if revoked {
		unauthorized(w, r, fmt.Sprintf("Access token validation failure. The application %s no longer has consent in tenant %s.", ClientID, t.id))
		return
	}
	fn(t)
}

// origin returns the scheme and host the client used to reach the simulator.
func origin(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// openIDConfiguration serves GET /{tenant}/v2.0/.well-known/openid-configuration. MSAL (under azidentity, with
// instance discovery disabled) requires authorization_endpoint, token_endpoint and an issuer whose host is the
// authority's.
func (s *Sim) openIDConfiguration(w http.ResponseWriter, r *http.Request, args []string) {
	t, ok := s.tenant(args[0])
	if !ok {
		s.aadError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", args[0]))
		return
	}
	base := origin(r) + "/" + t.id
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeAADJSON(w, http.StatusOK, obj{
		{"token_endpoint", base + "/oauth2/v2.0/token"},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
		{"jwks_uri", base + "/discovery/v2.0/keys"},
		{"response_modes_supported", []string{"query", "fragment", "form_post"}},
		{"subject_types_supported", []string{"pairwise"}},
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"response_types_supported", []string{"code", "id_token", "code id_token", "id_token token"}},
		{"scopes_supported", []string{"openid", "profile", "email", "offline_access"}},
		{"issuer", base + "/v2.0"},
		{"request_uri_parameter_supported", false},
		{"userinfo_endpoint", origin(r) + "/oidc/userinfo"},
		{"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
		{"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
		{"http_logout_supported", true},
		{"frontchannel_logout_supported", true},
		{"end_session_endpoint", base + "/oauth2/v2.0/logout"},
		{"claims_supported", []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles"}},
		{"kerberos_endpoint", base + "/kerberos"},
		{"tenant_region_scope", "WW"},
		{"cloud_instance_name", "microsoftonline.com"},
		{"cloud_graph_host_name", "graph.windows.net"},
		{"msgraph_host", r.Host},
		{"rbac_url", "https://pas.windows.net"},
	})
}

// jwks serves the (empty) signing keys: simulated tokens are HMAC-signed and only the simulator verifies them.
func (s *Sim) jwks(w http.ResponseWriter, r *http.Request, args []string) {
	if _, ok := s.tenant(args[0]); !ok {
		s.aadError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", args[0]))
		return
	}
	writeAADJSON(w, http.StatusOK, obj{{"keys", []any{}}})
}

// token serves POST /{tenant}/oauth2/v2.0/token for the client-credentials grant, with Entra's error answers.
func (s *Sim) token(w http.ResponseWriter, r *http.Request, args []string) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded: "+err.Error())
		return
	}
	t, ok := s.tenant(args[0])
	if !ok {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", args[0]))
		return
	}
	grant := r.PostForm.Get("grant_type")
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok { // client_secret_basic
		clientID, secret = u, p
	}
	scope := r.PostForm.Get("scope")
	switch {
	case grant == "":
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	case grant != "client_credentials":
		s.aadError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'. The simulator supports client_credentials only.", grant))
		return
	case clientID == "":
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	case clientID != ClientID:
		s.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, t.name))
		return
	case secret == "":
		s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1:
		s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", ClientID))
		return
	}
	t.mu.Lock()
	revoked := t.revoked
	t.mu.Unlock()
	switch {
	case revoked:
		s.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 7000229, fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", ClientID, t.id))
		return
	case scope == "":
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	case !validAppScope(scope):
		s.aadError(w, r, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}
	tok, err := s.mintToken(t.id)
	if err != nil {
		s.aadError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeAADJSON(w, http.StatusOK, obj{
		{"token_type", "Bearer"},
		{"expires_in", int(tokenLifetime / time.Second)},
		{"ext_expires_in", int(tokenLifetime / time.Second)},
		{"access_token", tok},
	})
}

// validAppScope accepts a client-credentials scope: exactly one "<resource>/.default", beside which Entra ignores
// the OpenID scopes MSAL adds (openid, profile, offline_access).
func validAppScope(scope string) bool {
	n := 0
	for _, s := range strings.Fields(scope) {
		switch {
		case s == "openid" || s == "profile" || s == "offline_access" || s == "email":
		case strings.HasSuffix(s, "/.default"):
			n++
		default:
			return false
		}
	}
	return n == 1
}

// aadError writes an Entra ID (AADSTS) OAuth error.
func (s *Sim) aadError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, description string) {
	now := time.Now().UTC()
	trace := w.Header().Get("request-id")
	corr := w.Header().Get("client-request-id")
	writeAADJSON(w, status, obj{
		{"error", code},
		{"error_description", fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, description, trace, corr, now.Format("2006-01-02 15:04:05Z"))},
		{"error_codes", []int{aadsts}},
		{"timestamp", now.Format("2006-01-02 15:04:05Z")},
		{"trace_id", trace},
		{"correlation_id", corr},
		{"error_uri", fmt.Sprintf("%s/error?code=%d", origin(r), aadsts)},
	})
}

func writeAADJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
