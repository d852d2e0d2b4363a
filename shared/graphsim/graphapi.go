package graphsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// property is one selectable property of an entity type.
type property[T any] struct {
	name string
	get  func(e T, t *tenant) any
}

// str returns nil for "" (Graph sends null for unset string properties).
func str(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func strs(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func graphTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// userProps are the user properties the simulator knows, in Graph's metadata order.
var userProps = []property[*User]{
	{"businessPhones", func(u *User, _ *tenant) any { return strs(u.BusinessPhones) }},
	{"displayName", func(u *User, _ *tenant) any { return str(u.DisplayName) }},
	{"givenName", func(u *User, _ *tenant) any { return str(u.GivenName) }},
	{"jobTitle", func(u *User, _ *tenant) any { return str(u.JobTitle) }},
	{"mail", func(u *User, _ *tenant) any { return str(u.Mail) }},
	{"mobilePhone", func(u *User, _ *tenant) any { return nil }},
	{"officeLocation", func(u *User, _ *tenant) any { return str(u.OfficeLocation) }},
	{"preferredLanguage", func(u *User, _ *tenant) any { return nil }},
	{"surname", func(u *User, _ *tenant) any { return str(u.Surname) }},
	{"userPrincipalName", func(u *User, _ *tenant) any { return u.UserPrincipalName }},
	{"id", func(u *User, _ *tenant) any { return u.ID }},
	{"accountEnabled", func(u *User, _ *tenant) any { return u.AccountEnabled }},
	{"assignedLicenses", func(u *User, _ *tenant) any {
		out := []any{}
		for _, l := range u.assignedLicenses() {
			out = append(out, obj{{"disabledPlans", strs(l.DisabledPlans)}, {"skuId", l.SkuID}})
		}
		return out
	}},
	{"city", func(u *User, _ *tenant) any { return str(u.City) }},
	{"companyName", func(u *User, _ *tenant) any { return str(u.CompanyName) }},
	{"country", func(u *User, _ *tenant) any { return str(u.Country) }},
	{"createdDateTime", func(u *User, _ *tenant) any { return graphTime(u.CreatedDateTime) }},
	{"department", func(u *User, _ *tenant) any { return str(u.Department) }},
	{"employeeId", func(u *User, _ *tenant) any { return str(u.EmployeeID) }},
	{"licenseAssignmentStates", func(u *User, _ *tenant) any {
		out := []any{}
		for _, l := range u.Licenses {
			out = append(out, obj{
				{"assignedByGroup", str(l.AssignedByGroup)},
				{"disabledPlans", strs(l.DisabledPlans)},
				{"error", l.Error},
				{"lastUpdatedDateTime", graphTime(l.LastUpdated)},
				{"skuId", l.SkuID},
				{"state", l.State},
			})
		}
		return out
	}},
	{"mailNickname", func(u *User, _ *tenant) any { return str(u.MailNickname) }},
	{"postalCode", func(u *User, _ *tenant) any { return nil }},
	{"state", func(u *User, _ *tenant) any { return nil }},
	{"streetAddress", func(u *User, _ *tenant) any { return nil }},
	{"usageLocation", func(u *User, _ *tenant) any { return str(u.UsageLocation) }},
	{"userType", func(u *User, _ *tenant) any { return str(u.UserType) }},
}

// userDefault is the property set of a user read without $select.
var userDefault = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
	"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

// skuProps are the subscribedSku properties.
var skuProps = []property[*SKU]{
	{"accountName", func(k *SKU, t *tenant) any { return t.name }},
	{"accountId", func(k *SKU, t *tenant) any { return t.id }},
	{"appliesTo", func(k *SKU, _ *tenant) any { return k.AppliesTo }},
	{"capabilityStatus", func(k *SKU, _ *tenant) any { return k.CapabilityStatus }},
	{"consumedUnits", func(k *SKU, _ *tenant) any { return k.Consumed }},
	{"id", func(k *SKU, _ *tenant) any { return k.ID }},
	{"skuId", func(k *SKU, _ *tenant) any { return k.SkuID }},
	{"skuPartNumber", func(k *SKU, _ *tenant) any { return k.PartNumber }},
	{"subscriptionIds", func(k *SKU, _ *tenant) any { return strs(k.SubscriptionIDs) }},
	{"prepaidUnits", func(k *SKU, _ *tenant) any {
		return obj{{"enabled", k.Enabled}, {"suspended", k.Suspended}, {"warning", k.Warning}, {"lockedOut", k.LockedOut}}
	}},
	{"servicePlans", func(k *SKU, _ *tenant) any {
		out := []any{}
		for _, p := range k.ServicePlans {
			out = append(out, obj{{"servicePlanId", p.ID}, {"servicePlanName", p.Name}, {"provisioningStatus", p.ProvisioningStatus}, {"appliesTo", p.AppliesTo}})
		}
		return out
	}},
}

// selection is a parsed $select: the properties to render, in metadata order, and the list for @odata.context.
type selection struct {
	names   map[string]bool
	context string // "(a,b)" or ""
}

// parseSelect validates $select against the known properties of typeName. A nil selection means "default set".
func parseSelect[T any](r *http.Request, props []property[T], typeName string) (*selection, string) {
	raw := r.URL.Query().Get("$select")
	if strings.TrimSpace(raw) == "" {
		return nil, ""
	}
	sel := &selection{names: map[string]bool{}}
	var list []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		found := ""
		for _, p := range props {
			if strings.EqualFold(p.name, f) {
				found = p.name
			}
		}
		if found == "" {
			return nil, fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.%s'.", f, typeName)
		}
		if !sel.names[found] {
			sel.names[found] = true
			list = append(list, found)
		}
	}
	sel.context = "(" + strings.Join(list, ",") + ")"
	return sel, ""
}

// render builds an entity's JSON with the selected (or default) properties.
func render[T any](e T, t *tenant, props []property[T], sel *selection, def []string) obj {
	var o obj
	for _, p := range props {
		if sel != nil && !sel.names[p.name] {
			continue
		}
		if sel == nil && def != nil && !contains(def, p.name) {
			continue
		}
		o = append(o, kv{p.name, p.get(e, t)})
	}
	return o
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func metadata(r *http.Request, fragment string) string {
	return origin(r) + "/v1.0/$metadata#" + fragment
}

// unsupportedQuery rejects query options the simulated endpoint does not implement (yet), so a client that relies
// on one finds out in tests rather than getting silently unfiltered data.
func unsupportedQuery(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for k := range r.URL.Query() {
		if !strings.HasPrefix(k, "$") || contains(allowed, k) {
			continue
		}
		if k == "$skip" {
			writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "'$skip' is not supported by the service.")
			return true
		}
		writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported query option '%s' (the simulator does not implement it on this endpoint).", k))
		return true
	}
	return false
}

// selectOnly rejects every query option but $select, and parses $select against the known properties of typeName;
// false when it has answered the request with an error.
func selectOnly[T any](w http.ResponseWriter, r *http.Request, props []property[T], typeName string) (*selection, bool) {
	if unsupportedQuery(w, r, "$select") {
		return nil, false
	}
	sel, bad := parseSelect(r, props, typeName)
	if bad != "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", bad)
		return nil, false
	}
	return sel, true
}

// listSKUs serves GET /v1.0/subscribedSkus.
func (s *Sim) listSKUs(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	sel, ok := selectOnly(w, r, skuProps, "subscribedSku")
	if !ok {
		return
	}
	t.mu.Lock()
	skus := t.skuSnapshot()
	value := make([]any, len(skus))
	for i := range skus {
		value[i] = render(&skus[i], t, skuProps, sel, nil)
	}
	t.mu.Unlock()
	ctx := "subscribedSkus"
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, obj{{"@odata.context", metadata(r, ctx)}, {"value", value}})
}

// getSKU serves GET /v1.0/subscribedSkus/{id} ({tenantId}_{skuId}).
func (s *Sim) getSKU(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	sel, ok := selectOnly(w, r, skuProps, "subscribedSku")
	if !ok {
		return
	}
	t.mu.Lock()
	var body obj
	for _, k := range t.skuSnapshot() {
		if strings.EqualFold(k.ID, args[0]) {
			body = render(&k, t, skuProps, sel, nil)
		}
	}
	t.mu.Unlock()
	if body == nil {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
		return
	}
	ctx := "subscribedSkus"
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, append(obj{{"@odata.context", metadata(r, ctx+"/$entity")}}, body...))
}

// Paging of /users.
const (
	defaultUserPage = 100
	maxUserPage     = 999
	skipTokenPrefix = "graphsim:users:"
)

func encodeSkipToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(skipTokenPrefix + lastID))
}

func decodeSkipToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), skipTokenPrefix) {
		return "", false
	}
	return strings.TrimPrefix(string(b), skipTokenPrefix), true
}

// listUsers serves GET /v1.0/users with $select, $top (1..999) and $skiptoken paging.
func (s *Sim) listUsers(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	if unsupportedQuery(w, r, "$select", "$top", "$skiptoken", "$count") {
		return
	}
	q := r.URL.Query()
	top := defaultUserPage
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUserPage {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v))
			return
		}
		top = n
	}
	after := ""
	if v := q.Get("$skiptoken"); v != "" {
		id, ok := decodeSkipToken(v)
		if !ok {
			writeGraphError(w, r, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		after = id
	}
	sel, bad := parseSelect(r, userProps, "user")
	if bad != "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", bad)
		return
	}

	t.mu.Lock()
	start := 0
	if after != "" {
		start = sort.Search(len(t.users), func(i int) bool { return t.users[i].ID > after })
	}
	end := min(start+top, len(t.users))
	value := make([]any, 0, end-start)
	for _, u := range t.users[start:end] {
		value = append(value, render(u, t, userProps, sel, userDefault))
	}
	next := ""
	if end < len(t.users) {
		next = encodeSkipToken(t.users[end-1].ID)
	}
	t.mu.Unlock()

	ctx := "users"
	if sel != nil {
		ctx += sel.context
	}
	body := obj{{"@odata.context", metadata(r, ctx)}}
	if next != "" {
		body = append(body, kv{"@odata.nextLink", nextLink(r, next)})
	}
	writeJSON(w, http.StatusOK, append(body, kv{"value", value}))
}

// nextLink is the request's own URL with its $skiptoken replaced, as Graph builds it (query options kept, "$" left
// unescaped).
func nextLink(r *http.Request, skipToken string) string {
	var parts []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil && dk == "$skiptoken" {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, "$skiptoken="+skipToken)
	return origin(r) + r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

// getUser serves GET /v1.0/users/{id | userPrincipalName}.
func (s *Sim) getUser(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	sel, ok := selectOnly(w, r, userProps, "user")
	if !ok {
		return
	}
	t.mu.Lock()
	var body obj
	if u := t.findUser(args[0]); u != nil {
		body = render(u, t, userProps, sel, userDefault)
	}
	t.mu.Unlock()
	if body == nil {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
		return
	}
	ctx := "users"
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, append(obj{{"@odata.context", metadata(r, ctx+"/$entity")}}, body...))
}
