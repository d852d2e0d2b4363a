package graphsim

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// licensingRoutes are the endpoints of this file (and of batch.go).
var licensingRoutes = []route{
	{method: "POST", pattern: "/v1.0/users/{id}/assignLicense", graph: (*Sim).assignLicense},
	{method: "GET", pattern: "/v1.0/users/{id}/licenseDetails", graph: (*Sim).licenseDetails},
	{method: "POST", pattern: "/v1.0/$batch", graph: (*Sim).batch},
}

// Service plans the licence rules below refer to (ids from Microsoft's licensing table).
const (
	planExchangeStandard   = "9aaf7827-d63c-4b61-89c3-182f06f82e5c" // EXCHANGE_S_STANDARD, Exchange Online (Plan 1)
	planExchangeEnterprise = "efb87545-963c-4e0d-99df-69c6916d9eb0" // EXCHANGE_S_ENTERPRISE, Exchange Online (Plan 2)
	planExchangeDeskless   = "4a82b400-a79f-41a4-b4e2-e94f5787b113" // EXCHANGE_S_DESKLESS, Exchange Online Kiosk
	planExchangeEssentials = "1126bef5-da20-4f07-b45e-ad25d2581aa8" // EXCHANGE_S_ESSENTIALS
	planSharePointStandard = "c7699d2e-19aa-44de-8edf-1736da088ca1" // SHAREPOINTSTANDARD, SharePoint (Plan 1)
	planSharePointEnt      = "5dbe027f-2339-4123-9542-606e4d348a72" // SHAREPOINTENTERPRISE, SharePoint (Plan 2)
	planSharePointDeskless = "902b47e5-dcb2-4fdc-858b-c63a90a2bdb9" // SHAREPOINTDESKLESS, SharePoint Kiosk
	planSkypePlan2         = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c" // MCOSTANDARD, Skype for Business Online (Plan 2)
	planSkypePlan1         = "afc06cb0-b4f4-4473-8286-d644f70d8faf" // MCOIMP, Skype for Business Online (Plan 1)
	planPhoneSystem        = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7" // MCOEV, Teams Phone Standard
	planPhoneVirtualUser   = "f47330e9-c134-43b3-9993-e7f004506889" // MCOEV_VIRTUALUSER, Teams Phone resource account
	planCallingDomestic    = "4ed3ff63-69d7-4fb7-b984-5aec7f605ca8" // MCOPSTN1, Domestic Calling Plan
	planCallingIntl        = "5a10155d-f5c1-411a-a8ec-e99aae125390" // MCOPSTN2, Domestic and International Calling Plan
	planCallingDomestic120 = "54a152dc-90de-4996-93d2-bc47e670fc06" // MCOPSTN5, Domestic Calling Plan (120 min)
	planAudioConferencing  = "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40" // MCOMEETADV, Audio Conferencing
)

// exclusivePlans are sets of service plans of which a user may have only one enabled (Graph's
// MutuallyExclusiveViolation): the mailbox plans, and the SharePoint plans. The same plan from two licences (E3 and
// E5 both carry Exchange Online Plan 2) is no conflict.
var exclusivePlans = [][]string{
	{planExchangeStandard, planExchangeEnterprise, planExchangeDeskless, planExchangeEssentials},
	{planSharePointStandard, planSharePointEnt, planSharePointDeskless},
}

// planDependencies maps a service plan to the plans of which at least one must be enabled beside it (Graph's
// DependencyViolation): Teams Phone and Audio Conferencing need Teams/Skype for Business, a Calling Plan needs
// Teams Phone.
var planDependencies = map[string][]string{
	planPhoneSystem:        {planSkypePlan2, planSkypePlan1},
	planAudioConferencing:  {planSkypePlan2, planSkypePlan1},
	planCallingDomestic:    {planPhoneSystem, planPhoneVirtualUser},
	planCallingIntl:        {planPhoneSystem, planPhoneVirtualUser},
	planCallingDomestic120: {planPhoneSystem, planPhoneVirtualUser},
}

// Graph's messages for refused licence assignments (reference/graph.md).
const (
	msgUsageLocation = "License assignment cannot be done for user with invalid usage location."
	msgInherited     = "User license is inherited from a group membership and it cannot be removed directly from the user."
	msgBadJSON       = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
)

func msgNoSeats(skuID string) string {
	return fmt.Sprintf("Subscription with SKU %s does not have any available licenses.", skuID)
}

func msgUnknownSKU(skuID string) string {
	return fmt.Sprintf("License %s does not correspond to a valid company License.", skuID)
}

// maxBodyBytes bounds request bodies, compressed and decompressed.
const maxBodyBytes = 4 << 20

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// readBody reads a request body as Graph does: "Content-Encoding: gzip" bodies are decompressed (msgraph-sdk-go
// compresses what it posts), and a body labelled gzip that is not gzip is a 400, so that a client whose retry sends
// the uncompressed body under the gzip label finds out here. It answers the error itself and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "The request body is labelled 'Content-Encoding: gzip' but is not gzip data: "+err.Error())
			return nil, false
		}
		defer zr.Close()
		rd = io.LimitReader(zr, maxBodyBytes+1)
	default:
		writeGraphError(w, r, http.StatusUnsupportedMediaType, "UnsupportedMediaType", fmt.Sprintf("Content-Encoding '%s' is not supported.", enc))
		return nil, false
	}
	b, err := io.ReadAll(rd)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || len(b) > maxBodyBytes:
		writeGraphError(w, r, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is too large.")
		return nil, false
	case err != nil:
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "The request body could not be read: "+err.Error())
		return nil, false
	}
	return b, true
}

// assignLicenseBody is the body of POST /users/{id}/assignLicense. Both lists are required (pointers tell a missing
// list from an empty one).
type assignLicenseBody struct {
	AddLicenses *[]struct {
		SkuID         string   `json:"skuId"`
		DisabledPlans []string `json:"disabledPlans"`
	} `json:"addLicenses"`
	RemoveLicenses *[]string `json:"removeLicenses"`
}

// licenceRefusal is a refused assignment: Graph's status, code and message.
type licenceRefusal struct {
	status        int
	code, message string
}

func badRequest(msg string) *licenceRefusal {
	return &licenceRefusal{http.StatusBadRequest, "Request_BadRequest", msg}
}

// assignLicense serves POST /v1.0/users/{id}/assignLicense: licences added (or re-added with new disabledPlans) and
// removed in one atomic change, refused with Graph's errors (see applyLicenceChange).
func (s *Sim) assignLicense(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	if unsupportedQuery(w, r) {
		return
	}
	raw, ok := readBody(w, r)
	if !ok {
		return
	}
	var body assignLicenseBody
	if err := json.Unmarshal(raw, &body); err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", msgBadJSON)
		return
	}
	switch {
	case body.AddLicenses == nil:
		writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'addLicenses' of resource 'User'.")
		return
	case body.RemoveLicenses == nil:
		writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'removeLicenses' of resource 'User'.")
		return
	}
	add := make([]License, 0, len(*body.AddLicenses))
	for _, a := range *body.AddLicenses {
		add = append(add, License{SkuID: strings.ToLower(a.SkuID), DisabledPlans: lowerAll(a.DisabledPlans)})
	}
	remove := lowerAll(*body.RemoveLicenses)

	t.mu.Lock()
	u := t.findUser(args[0])
	var (
		out     obj
		refusal *licenceRefusal
	)
	if u != nil {
		if refusal = t.applyLicenceChange(u, add, remove, s.now); refusal == nil {
			out = render(u, t, userProps, nil, userDefault)
		}
	}
	t.mu.Unlock()
	switch {
	case u == nil:
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
	case refusal != nil:
		writeGraphError(w, r, refusal.status, refusal.code, refusal.message)
	default:
		writeJSON(w, http.StatusOK, append(obj{{"@odata.context", metadata(r, "users/$entity")}}, out...))
	}
}

func lowerAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// applyLicenceChange adds (or updates the disabled plans of) the direct licences add and removes the direct
// licences remove, all or nothing, refusing it with Graph's errors, checked in this order: SKUs known, usage location
// set, removals direct, seats free, no mutually exclusive plans, no plan without what it depends on. Seats are counted and taken
// under t.mu (held by the caller), so concurrent assignments never push consumedUnits past prepaidUnits.enabled.
// Only violations the change introduces are refused (an inconsistent state left by group licensing stays as is).
func (t *tenant) applyLicenceChange(u *User, add []License, remove []string, now func() time.Time) *licenceRefusal {
	skus := map[string]*SKU{}
	for _, id := range append(skuIDs(add), remove...) {
		k := t.skuByID(id)
		if k == nil {
			return badRequest(msgUnknownSKU(id))
		}
		skus[id] = k
	}
	for _, a := range add {
		if slices.Contains(remove, a.SkuID) {
			return badRequest(fmt.Sprintf("License %s cannot be both added and removed in the same request.", a.SkuID))
		}
		for _, p := range a.DisabledPlans {
			if !slices.ContainsFunc(skus[a.SkuID].ServicePlans, func(sp ServicePlan) bool { return sp.ID == p }) {
				return badRequest(fmt.Sprintf("Invalid value specified for property 'disabledPlans': service plan %s is not part of license %s.", p, a.SkuID))
			}
		}
	}
	if len(add) > 0 && u.UsageLocation == "" {
		return badRequest(msgUsageLocation)
	}

	next := slices.Clone(u.Licenses)
	for _, id := range remove {
		direct := slices.IndexFunc(next, func(l License) bool { return l.SkuID == id && l.AssignedByGroup == "" })
		if direct < 0 {
			if slices.ContainsFunc(next, func(l License) bool { return l.SkuID == id }) {
				return badRequest(msgInherited)
			}
			return badRequest(fmt.Sprintf("User does not have a corresponding license %s.", id))
		}
		next = slices.Delete(next, direct, direct+1)
	}
	held := map[string]bool{}
	for _, l := range u.assignedLicenses() {
		held[l.SkuID] = true
	}
	var need []string // SKUs the user does not hold yet: each takes a seat
	for _, a := range add {
		a.DisabledPlans = slices.Clone(a.DisabledPlans)
		a.State, a.Error, a.LastUpdated = "Active", "None", now()
		if i := slices.IndexFunc(next, func(l License) bool { return l.SkuID == a.SkuID && l.AssignedByGroup == "" }); i >= 0 {
			next[i] = a
			continue
		}
		next = append(next, a)
		if !held[a.SkuID] && !slices.Contains(need, a.SkuID) {
			need = append(need, a.SkuID)
		}
	}
	if len(need) > 0 {
		consumed := map[string]int{}
		for _, o := range t.users {
			for _, l := range o.assignedLicenses() {
				if slices.Contains(need, l.SkuID) {
					consumed[l.SkuID]++
				}
			}
		}
		for _, id := range need {
			if consumed[id] >= skus[id].Enabled {
				return badRequest(msgNoSeats(skus[id].SkuID))
			}
		}
	}

	before, after := t.enabledPlans(u.assignedLicenses()), t.enabledPlans((&User{Licenses: next}).assignedLicenses())
	if a, b := exclusiveConflict(after); a != "" {
		if c, d := exclusiveConflict(before); c != a || d != b {
			return badRequest(fmt.Sprintf("License assignment failed because service plans %s,%s are mutually exclusive.", a, b))
		}
	}
	for _, p := range sortedKeys(after) {
		deps, ok := planDependencies[p]
		if !ok || slices.ContainsFunc(deps, func(d string) bool { return after[d] }) {
			continue
		}
		if before[p] && !slices.ContainsFunc(deps, func(d string) bool { return before[d] }) {
			continue // already violated before this change
		}
		return badRequest(fmt.Sprintf("License assignment failed because service plan %s depends on the service plan(s) %s", p, strings.Join(deps, ",")))
	}

	u.Licenses = next
	t.touch(u)
	return nil
}

func skuIDs(ls []License) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.SkuID
	}
	return out
}

// skuByID finds a subscribed SKU by skuId only (assignLicense takes skuIds, not part numbers).
func (t *tenant) skuByID(id string) *SKU {
	if !guidRe.MatchString(id) {
		return nil
	}
	for _, k := range t.skus {
		if strings.EqualFold(k.SkuID, id) {
			return k
		}
	}
	return nil
}

// enabledPlans is the set of service plans the licences enable (their SKUs' plans less the disabled ones).
func (t *tenant) enabledPlans(ls []License) map[string]bool {
	on := map[string]bool{}
	for _, l := range ls {
		k := t.skuByID(l.SkuID)
		if k == nil {
			continue
		}
		for _, p := range k.ServicePlans {
			if !slices.Contains(l.DisabledPlans, p.ID) {
				on[p.ID] = true
			}
		}
	}
	return on
}

// exclusiveConflict returns the first two distinct enabled plans of an exclusive set, or "", "".
func exclusiveConflict(on map[string]bool) (string, string) {
	for _, set := range exclusivePlans {
		var found []string
		for _, p := range set {
			if on[p] {
				found = append(found, p)
			}
		}
		if len(found) > 1 {
			return found[0], found[1]
		}
	}
	return "", ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// licenseDetailProps are the licenseDetails properties.
var licenseDetailProps = []property[*licenseDetail]{
	{"id", func(d *licenseDetail, _ *tenant) any { return d.id }},
	{"skuId", func(d *licenseDetail, _ *tenant) any { return d.sku.SkuID }},
	{"skuPartNumber", func(d *licenseDetail, _ *tenant) any { return d.sku.PartNumber }},
	{"servicePlans", func(d *licenseDetail, _ *tenant) any {
		out := []any{}
		for _, p := range d.sku.ServicePlans {
			status := "Success"
			if slices.Contains(d.disabled, p.ID) {
				status = "Disabled"
			}
			out = append(out, obj{{"servicePlanId", p.ID}, {"servicePlanName", p.Name}, {"provisioningStatus", status}, {"appliesTo", p.AppliesTo}})
		}
		return out
	}},
}

// licenseDetail is one entry of a user's licenseDetails.
type licenseDetail struct {
	id       string
	sku      *SKU
	disabled []string
}

// licenseDetails serves GET /v1.0/users/{id}/licenseDetails: one entry per assigned SKU, its service plans marked
// Disabled when the assignment disables them.
func (s *Sim) licenseDetails(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	sel, ok := selectOnly(w, r, licenseDetailProps, "licenseDetails")
	if !ok {
		return
	}
	t.mu.Lock()
	u := t.findUser(args[0])
	var value []any
	userID := ""
	if u != nil {
		userID = u.ID
		value = []any{}
		for _, l := range u.assignedLicenses() {
			k := t.skuByID(l.SkuID)
			if k == nil {
				continue
			}
			h := sha256.Sum256([]byte("licenseDetails|" + u.ID + "|" + k.SkuID))
			d := &licenseDetail{id: base64.RawURLEncoding.EncodeToString(h[:]), sku: k, disabled: l.DisabledPlans}
			value = append(value, render(d, t, licenseDetailProps, sel, nil))
		}
	}
	t.mu.Unlock()
	if u == nil {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
		return
	}
	ctx := fmt.Sprintf("users('%s')/licenseDetails", userID)
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, obj{{"@odata.context", metadata(r, ctx)}, {"value", value}})
}
