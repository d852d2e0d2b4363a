package graph_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// deltaResult is what one Delta call delivered.
type deltaResult struct {
	changed map[string]domain.GraphUser
	removed map[string]string
	pages   int
	link    string
}

// runDelta calls Delta and fails on a user delivered twice within the round.
func runDelta(t *testing.T, c *graph.Client, link string) (deltaResult, error) {
	t.Helper()
	r := deltaResult{changed: map[string]domain.GraphUser{}, removed: map[string]string{}}
	var err error
	r.link, err = c.Delta(ctxFor(t, 60*time.Second), link, func(changed []domain.GraphUser, removed []graph.RemovedUser) error {
		r.pages++
		for _, u := range changed {
			if _, dup := r.changed[u.ID]; dup {
				t.Errorf("user %s (%s) delivered twice", u.ID, u.UserPrincipalName)
			}
			r.changed[u.ID] = u
		}
		for _, u := range removed {
			r.removed[u.ID] = u.Reason
		}
		return nil
	})
	return r, err
}

func TestDelta(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	const ten = graphsim.FabrikamLegalID
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), ten)

	// A full round: everyone once, every field decoded, then a deltaLink.
	first, err := runDelta(t, c, "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, first.changed, wantUsers(t, sim, ten))
	td.Cmp(t, first.removed, td.Empty())
	td.Cmp(t, first.link, td.All(td.HasPrefix(run.GraphURL()+"/users/delta()?"), td.Contains("$deltatoken=")))
	st := sim.Stats()
	td.Cmp(t, st.Count("GET /v1.0/users/delta()", 200), 1, "the SDK's path form")
	td.Cmp(t, st.Count("GET /v1.0/users/delta", 0), 0)

	// An admin's changes: 3 users edited, 1 soft-deleted, 1 hard-deleted, 1 added, and 1 group membership (a
	// group-inherited licence, which delta does not report).
	users, _ := sim.Users(ten)
	groups, _ := sim.Groups(ten)
	joiner := ""
	for _, u := range users[10:] {
		if !strings.Contains(strings.Join(groups[0].Members, ","), u.ID) {
			joiner = u.ID
			break
		}
	}
	dept, enabled := "Arbitration", false
	edited := []string{users[1].ID, users[2].ID, users[3].ID}
	_, err = sim.UpdateUser(ten, edited[0], graphsim.UserPatch{Department: &dept})
	td.Require(t).CmpNoError(err)
	_, err = sim.UpdateUser(ten, edited[1], graphsim.UserPatch{AccountEnabled: &enabled})
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(sim.AssignDirectLicense(ten, edited[2], "POWER_BI_PRO", nil))
	td.Require(t).CmpNoError(sim.DeleteUser(ten, users[4].ID))
	td.Require(t).CmpNoError(sim.PurgeUser(ten, users[5].ID))
	added, err := sim.AddUser(ten, graphsim.NewUser{DisplayName: "Nia Newcomer", UsageLocation: "GB", City: "London"})
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(sim.AddGroupMember(ten, groups[0].ID, joiner))

	second, err := runDelta(t, c, first.link)
	td.Require(t).CmpNoError(err)
	want := wantUsers(t, sim, ten)
	td.Cmp(t, second.changed, map[string]domain.GraphUser{
		edited[0]: want[edited[0]], edited[1]: want[edited[1]], edited[2]: want[edited[2]], added.ID: want[added.ID],
	})
	td.Cmp(t, second.changed[edited[0]].Department, "Arbitration")
	td.Cmp(t, second.removed, map[string]string{users[4].ID: graph.RemovedSoftDeleted, users[5].ID: graph.RemovedDeleted})
	td.CmpNot(t, second.changed, td.ContainsKey(joiner), "group membership changes are not in delta")
	td.CmpNot(t, second.link, first.link)

	// Nothing since: an empty round.
	third, err := runDelta(t, c, second.link)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, third.changed, td.Empty())
	td.Cmp(t, third.removed, td.Empty())
	td.Cmp(t, third.pages, 1)

	// A caller's error stops the round and comes back as is.
	stop := domain.Errorf(domain.EInternal, "stop")
	link, err := c.Delta(ctxFor(t, 10*time.Second), "", func([]domain.GraphUser, []graph.RemovedUser) error { return stop })
	td.Cmp(t, err, stop)
	td.Cmp(t, link, "")

	// A link off the Graph host is refused before any request.
	_, err = c.Delta(ctxFor(t, 10*time.Second), "https://elsewhere.example/v1.0/users/delta()?$deltatoken=x", nil)
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}

func TestDeltaResyncRequired(t *testing.T) {
	run := graphsim.StartForTest(t)
	f := newFactory(t, run, graphsim.ClientSecret, 0)
	c := tenantClient(t, f, graphsim.ContosoDentalID)
	first, err := runDelta(t, c, "")
	td.Require(t).CmpNoError(err)

	resync := func(link, why string) {
		t.Helper()
		_, err := c.Delta(ctxFor(t, 10*time.Second), link, func([]domain.GraphUser, []graph.RemovedUser) error {
			t.Errorf("%s: no page expected", why)
			return nil
		})
		td.Cmp(t, errors.Is(err, graph.ErrResyncRequired), true, "%s: %v", why, err)
		td.Cmp(t, domain.ErrorCode(err), domain.EConflict, why)
		td.Cmp(t, domain.ErrorMessage(err), td.All(td.Contains("full resync"), td.Contains("HTTP 410"), td.Contains("request-id")), why)
	}
	base, _, _ := strings.Cut(first.link, "$deltatoken=")
	resync(base+"$deltatoken=not-a-token", "garbage token")
	// Another tenant's deltaLink.
	other, err := runDelta(t, tenantClient(t, f, graphsim.FabrikamLegalID), "")
	td.Require(t).CmpNoError(err)
	resync(other.link, "another tenant's token")
	// The tenant was rebuilt (its state is gone).
	run.Sim.Reset()
	resync(first.link, "after a reset")

	// Starting over works.
	again, err := runDelta(t, c, "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again.changed, wantUsers(t, run.Sim, graphsim.ContosoDentalID))

	// Other failures are not resyncs.
	td.Require(t).CmpNoError(run.Sim.SetFaults(graphsim.Faults{Rate503: 1}))
	_, err = c.Delta(ctxFor(t, 20*time.Second), again.link, func([]domain.GraphUser, []graph.RemovedUser) error { return nil })
	td.Cmp(t, domain.ErrorCode(err), domain.EUpstream)
	td.Cmp(t, errors.Is(err, graph.ErrResyncRequired), false)
}

// TestDeltaUnderFaults: a full delta read of a 5,000-user tenant with 20 % 429 and 5 % 503 delivers every user
// exactly once, over several pages.
func TestDeltaUnderFaults(t *testing.T) {
	sim := graphsim.New(graphsim.Options{Seed: 4, Tenants: []graphsim.TenantSpec{}})
	spec := graphsim.LargeTenant(5000)
	td.Require(t).CmpNoError(sim.AddTenant(spec))
	run := sim.StartForTest(t)
	c := tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 10), spec.ID)
	want := wantUsers(t, sim, spec.ID)
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Rate429: 0.2, Rate503: 0.05}))

	start := time.Now()
	r, err := runDelta(t, c, "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, r.pages, (len(want)+graph.DeltaPageSize-1)/graph.DeltaPageSize)
	td.Cmp(t, r.changed, want, "every user exactly once")
	st := sim.Stats()
	td.Cmp(t, st.Count("GET /v1.0/users/delta()", 429)+st.Count("GET /v1.0/users/delta()", 503), td.Gt(0), "faults were injected")
	td.Cmp(t, st.Count("GET /v1.0/users/delta()", 200), r.pages)

	ids, err := sim.ChangeUsers(spec.ID, 250)
	td.Require(t).CmpNoError(err)
	next, err := runDelta(t, c, r.link)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, next.changed, td.Len(250))
	for _, id := range ids {
		td.Cmp(t, next.changed[id].OfficeLocation, td.Contains(", desk "))
	}
	t.Logf("5,010 users and 250 changes read through 25 %% faults in %v", time.Since(start).Round(time.Millisecond))
}

// TestUserJSONDecodesIntoModels proves that the simulator's user JSON decodes into msgraph-sdk-go's models.User
// without losing a field Seatwise reads: every property of graph.UserFields and every field of
// licenseAssignmentStates lands in a typed getter, nothing in AdditionalData.
func TestUserJSONDecodesIntoModels(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	const ten = graphsim.ContosoDentalID

	// A user with every field set: licences direct (with a disabled plan) and through a group, a phone, an office.
	phone, _ := sim.Groups(ten)
	var uid string
	for _, g := range phone {
		if g.DisplayName == "Teams Phone users" {
			uid = g.Members[0]
		}
	}
	skus, _ := sim.SKUs(ten)
	var spb graphsim.SKU
	for _, k := range skus {
		if k.PartNumber == "SPB" {
			spb = k
		}
	}
	td.Require(t).CmpNoError(sim.AssignDirectLicense(ten, uid, "SPB", []string{spb.ServicePlans[0].ID}))
	dept, office, city, phones := "Clinical", "Seattle office", "Seattle", []string{"+1 206 555 0100"}
	_, err := sim.UpdateUser(ten, uid, graphsim.UserPatch{Department: &dept, OfficeLocation: &office, City: &city, BusinessPhones: &phones})
	td.Require(t).CmpNoError(err)

	raw := rawGraphGet(t, run, ten, "/v1.0/users/"+uid+"?$select="+strings.Join(graph.UserFields, ","))
	var generic map[string]any
	td.Require(t).CmpNoError(json.Unmarshal(raw, &generic))
	for _, f := range graph.UserFields {
		td.Cmp(t, generic[f], td.NotNil(), "the simulator sent %s", f)
	}
	node, err := jsonser.NewJsonParseNode(raw)
	td.Require(t).CmpNoError(err)
	p, err := node.GetObjectValue(models.CreateUserFromDiscriminatorValue)
	td.Require(t).CmpNoError(err)
	u := p.(models.Userable)

	for k := range u.GetAdditionalData() {
		td.Cmp(t, k, td.HasPrefix("@odata."), "property %s was not decoded into a field", k)
	}
	td.Cmp(t, *u.GetId(), generic["id"])
	td.Cmp(t, *u.GetUserPrincipalName(), generic["userPrincipalName"])
	td.Cmp(t, *u.GetDisplayName(), generic["displayName"])
	td.Cmp(t, *u.GetMail(), generic["mail"])
	td.Cmp(t, *u.GetUsageLocation(), generic["usageLocation"])
	td.Cmp(t, *u.GetAccountEnabled(), generic["accountEnabled"])
	td.Cmp(t, u.GetBusinessPhones(), phones)
	td.Cmp(t, *u.GetDepartment(), dept)
	td.Cmp(t, *u.GetOfficeLocation(), office)
	td.Cmp(t, *u.GetCity(), city)
	td.Cmp(t, *u.GetCountry(), generic["country"])

	als := generic["assignedLicenses"].([]any)
	td.Require(t).Cmp(u.GetAssignedLicenses(), td.Len(len(als)))
	for i, al := range u.GetAssignedLicenses() {
		g := als[i].(map[string]any)
		td.Cmp(t, al.GetAdditionalData(), td.Empty())
		td.Cmp(t, al.GetSkuId().String(), g["skuId"])
		td.Cmp(t, uuids(al.GetDisabledPlans()), g["disabledPlans"])
	}
	td.Cmp(t, generic["assignedLicenses"], td.Contains(map[string]any{"skuId": spb.SkuID, "disabledPlans": []any{spb.ServicePlans[0].ID}}))

	states := generic["licenseAssignmentStates"].([]any)
	td.Require(t).Cmp(u.GetLicenseAssignmentStates(), td.Len(len(states)))
	groups := 0
	for i, s := range u.GetLicenseAssignmentStates() {
		g := states[i].(map[string]any)
		td.Cmp(t, s.GetAdditionalData(), td.Empty())
		td.Cmp(t, s.GetSkuId().String(), g["skuId"])
		td.Cmp(t, uuids(s.GetDisabledPlans()), g["disabledPlans"])
		td.Cmp(t, *s.GetState(), g["state"])
		td.Cmp(t, *s.GetError(), g["error"])
		td.Cmp(t, s.GetLastUpdatedDateTime().UTC().Format(time.RFC3339), g["lastUpdatedDateTime"])
		if g["assignedByGroup"] == nil {
			td.Cmp(t, s.GetAssignedByGroup(), td.Nil())
		} else {
			groups++
			td.Cmp(t, *s.GetAssignedByGroup(), g["assignedByGroup"])
		}
	}
	td.Cmp(t, groups, td.Gt(0), "a group-inherited state was checked")

	// And the client's conversion of the same user.
	var got domain.GraphUser
	err = tenantClient(t, newFactory(t, run, graphsim.ClientSecret, 0), ten).PageUsers(ctxFor(t, 10*time.Second), 999, func(page []domain.GraphUser) error {
		for _, p := range page {
			if p.ID == uid {
				got = p
			}
		}
		return nil
	})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, wantUsers(t, sim, ten)[uid])
	td.Cmp(t, got.LicenseStates, td.Contains(td.Struct(domain.LicenseAssignmentState{State: "Active", Error: "None"},
		td.StructFields{"AssignedByGroup": td.Re(`^[0-9a-f-]{36}$`)})))
}

func uuids[T interface{ String() string }](ids []T) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, id.String())
	}
	return out
}

// rawGraphGet fetches a Graph path with a token of the tenant, outside the client, and returns the body.
func rawGraphGet(t *testing.T, run *graphsim.Running, tenant, path string) []byte {
	t.Helper()
	hc := run.HTTPClient()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {graphsim.ClientID},
		"client_secret": {graphsim.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := hc.PostForm(run.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	td.Require(t).CmpNoError(err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	td.Require(t).CmpNoError(json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()

	req, _ := http.NewRequest("GET", run.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = hc.Do(req)
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(resp.StatusCode, 200, "%s", b)
	return b
}
