package graphsim_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/graphsim"
)

// testClock is a clock a test moves by hand (Options.Now).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, time.May, 4, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// esc escapes the spaces, quotes and plus signs of an OData query for a request line.
func esc(path string) string {
	return strings.NewReplacer(" ", "%20", "'", "%27", "+", "%2B").Replace(path)
}

// teamsUser returns the first user of a tenant that satisfies ok.
func teamsUser(t *testing.T, sim *graphsim.Sim, tenantID string, ok func(graphsim.TeamsUser) bool) graphsim.TeamsUser {
	t.Helper()
	users, err := sim.TeamsUsers(tenantID)
	td.Require(t).CmpNoError(err)
	for _, u := range users {
		if ok(u) {
			return u
		}
	}
	t.Fatalf("no such Teams user in %s", tenantID)
	return graphsim.TeamsUser{}
}

// phoneUser: provisioned, Teams Phone, no Calling Plan, no number.
func phoneUser(u graphsim.TeamsUser) bool {
	return u.Provisioned && slices.Contains(u.FeatureTypes, "PhoneSystem") && !slices.Contains(u.FeatureTypes, "CallingPlan") && len(u.TelephoneNumbers) == 0
}

// freeNumber returns the first unassigned number of a type that users can get.
func freeNumber(t *testing.T, sim *graphsim.Sim, tenantID, numberType string) graphsim.PhoneNumber {
	t.Helper()
	nums, err := sim.Numbers(tenantID)
	td.Require(t).CmpNoError(err)
	for _, n := range nums {
		if n.NumberType == numberType && n.AssignmentStatus == graphsim.NumberUnassigned && slices.Contains(n.Capabilities, graphsim.CapabilityUser) {
			return n
		}
	}
	t.Fatalf("no free %s number in %s", numberType, tenantID)
	return graphsim.PhoneNumber{}
}

func TestTeamsSeed(t *testing.T) {
	sim := graphsim.New(graphsim.Options{})
	for _, tc := range []struct{ tenant, dial string }{{graphsim.ContosoDentalID, "+1"}, {graphsim.FabrikamLegalID, "+44"}} {
		users, err := sim.TeamsUsers(tc.tenant)
		td.Require(t).CmpNoError(err)
		nums, err := sim.Numbers(tc.tenant)
		td.Require(t).CmpNoError(err)

		byID := map[string]graphsim.TeamsUser{}
		provisioned, withNumber := 0, 0
		for _, u := range users {
			byID[u.ID] = u
			if u.Provisioned {
				provisioned++
				td.Cmp(t, u.HasTeamsLicense, true, "seeded licensed users are provisioned")
			}
			if len(u.TelephoneNumbers) > 0 {
				withNumber++
				td.Cmp(t, u.FeatureTypes, td.Contains("PhoneSystem"), "%s has a number", u.UserPrincipalName)
				td.Cmp(t, u.EnterpriseVoice, true)
			}
		}
		td.Cmp(t, provisioned, td.Gt(20))
		td.Cmp(t, withNumber, td.Gt(5))
		types := map[string]int{}
		free := map[string]int{}
		for _, n := range nums {
			td.Cmp(t, n.TelephoneNumber, td.Re(`^\`+tc.dial+`\d{10}$`))
			types[n.NumberType]++
			switch n.AssignmentStatus {
			case graphsim.NumberUnassigned:
				free[n.NumberType]++
			case graphsim.NumberUserAssigned:
				u := byID[n.AssignmentTargetID]
				td.Cmp(t, u.TelephoneNumbers, []string{n.TelephoneNumber})
				if n.NumberType == graphsim.NumberCallingPlan {
					td.Cmp(t, u.FeatureTypes, td.Contains("CallingPlan"))
				}
			case graphsim.NumberConferenceAssigned:
				td.Cmp(t, n.Capabilities, td.Contains(graphsim.CapabilityConference))
			}
		}
		td.Cmp(t, free[graphsim.NumberCallingPlan], td.Gte(6))
		td.Cmp(t, free[graphsim.NumberDirectRouting], td.Gte(8))
		td.Cmp(t, free[graphsim.NumberOperatorConnect], td.Gte(6))
		td.Cmp(t, len(types), 3)
	}

	// Two people per tenant have Teams switched off (TEAMS1 in disabledPlans), deterministically.
	users, _ := sim.Users(graphsim.FabrikamLegalID)
	teamsOff := 0
	for _, u := range users {
		for _, l := range u.Licenses {
			if slices.Contains(l.DisabledPlans, "57ff2da0-773e-42df-b2af-ffb7a2317929") { // TEAMS1
				teamsOff++
				break
			}
		}
	}
	td.Cmp(t, teamsOff, td.Gte(2))
	n1, _ := sim.Numbers(graphsim.FabrikamLegalID)
	n2, _ := graphsim.New(graphsim.Options{}).Numbers(graphsim.FabrikamLegalID)
	td.Cmp(t, n1, n2, "deterministic")
}

func TestTeamsLicensingDetails(t *testing.T) {
	run := graphsim.StartForTest(t)
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	sim := run.Sim
	licensed := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return u.HasTeamsLicense })
	off := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return !u.HasTeamsLicense })

	for _, suffix := range []string{"getTeamsLicensingDetails", "getTeamsLicensingDetails()"} {
		resp, body := call(t, run, "GET", "/v1.0/users/"+licensed.ID+"/licenseDetails/"+suffix, tok, nil)
		td.Cmp(t, resp.StatusCode, 200)
		td.Cmp(t, body, map[string]any{"@odata.context": run.URL + "/v1.0/$metadata#microsoft.graph.teamsLicensingDetails", "hasTeamsLicense": true})
		_, body = call(t, run, "GET", "/v1.0/users/"+off.UserPrincipalName+"/licenseDetails/"+suffix, tok, nil)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"hasTeamsLicense": false}, nil))
	}
	resp, body := call(t, run, "GET", "/v1.0/users/nobody/licenseDetails/getTeamsLicensingDetails", tok, nil)
	td.Cmp(t, resp.StatusCode, 404)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "Request_ResourceNotFound"}, nil)}, nil))
}

func TestTeamsUserConfigurations(t *testing.T) {
	clock := newTestClock()
	run := graphsim.New(graphsim.Options{Now: clock.Now}).StartForTest(t)
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	sim := run.Sim
	users, err := sim.TeamsUsers(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	want := map[string]graphsim.TeamsUser{}
	for _, u := range users {
		if u.Provisioned {
			want[u.ID] = u
		}
	}

	// The list, paged.
	seen := map[string]bool{}
	next, pages := "/v1.0/admin/teams/userConfigurations?$top=25", 0
	for next != "" {
		resp, body := call(t, run, "GET", next, tok, nil)
		td.Require(t).Cmp(resp.StatusCode, 200, "%v", body)
		pages++
		m := body.(map[string]any)
		td.Cmp(t, m["@odata.context"], run.URL+"/v1.0/$metadata#admin/teams/userConfigurations")
		for _, v := range m["value"].([]any) {
			c := v.(map[string]any)
			id := c["id"].(string)
			td.Cmp(t, seen[id], false, "listed once")
			seen[id] = true
			w := want[id]
			td.Cmp(t, c, map[string]any{
				"id": id, "userPrincipalName": w.UserPrincipalName, "tenantId": graphsim.FabrikamLegalID,
				"effectivePolicyAssignments": []any{}, "telephoneNumbers": td.Len(len(w.TelephoneNumbers)),
				"isEnterpriseVoiceEnabled": w.EnterpriseVoice, "featureTypes": td.All(td.Contains("Teams"), td.Len(len(w.FeatureTypes))),
				"accountType": td.Re(`^(user|resourceAccount)$`), "createdDateTime": td.Re(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`),
				"modifiedDateTime": td.NotEmpty(),
			})
		}
		next = ""
		if l, ok := m["@odata.nextLink"].(string); ok {
			next = strings.TrimPrefix(l, run.URL)
		}
	}
	td.Cmp(t, len(seen), len(want))
	td.Cmp(t, pages, (len(want)+24)/25)

	resp, body := call(t, run, "GET", "/v1.0/admin/teams/userConfigurations?$top=1000", tok, nil)
	td.Cmp(t, resp.StatusCode, 400, "%v", body)
	resp, body = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations?$select=id,featureTypes&$top=2", tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.All(td.Len(2), td.ArrayEach(td.Keys(td.Bag("id", "featureTypes"))))}, nil))

	// One user; a phone user shows their number.
	withNumber := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return len(u.TelephoneNumbers) > 0 })
	resp, body = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+withNumber.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{
		"@odata.context":   run.URL + "/v1.0/$metadata#admin/teams/userConfigurations/$entity",
		"telephoneNumbers": []any{map[string]any{"telephoneNumber": withNumber.TelephoneNumbers[0], "assignmentCategory": "primary"}},
		"featureTypes":     td.Contains("PhoneSystem"), "isEnterpriseVoiceEnabled": true,
	}, nil))

	// Unlicensed, Teams switched off, unknown: 404 with Graph's error body.
	off := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return !u.HasTeamsLicense })
	for _, id := range []string{off.ID, "00000000-0000-4000-8000-000000000000"} {
		resp, body = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+id, tok, nil)
		td.Cmp(t, resp.StatusCode, 404)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "NotFound", "message": td.NotEmpty()}, nil)}, nil))
	}

	// Provisioning takes the configured delay, on the simulator's clock.
	td.CmpNoError(t, sim.SetTeamsProvisioningDelay(5*time.Minute))
	td.CmpNoError(t, sim.ReprovisionTeamsUser(graphsim.FabrikamLegalID, withNumber.ID))
	resp, _ = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+withNumber.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 404, "just licensed")
	clock.Add(5*time.Minute - time.Second)
	resp, _ = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+withNumber.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 404, "a second early")
	_, body = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations?$top=999", tok, nil)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.Len(len(want) - 1)}, nil), "not listed either")
	clock.Add(time.Second)
	resp, body = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+withNumber.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"createdDateTime": clock.Now().UTC().Format("2006-01-02T15:04:05Z")}, nil))

	// Over HTTP too, and Reset restores the default delay.
	resp, body = call(t, run, "PUT", "/_sim/teams", "", strings.NewReader(`{"provisioningDelaySeconds":60}`))
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, map[string]any{"provisioningDelaySeconds": 60.0, "operationPolls": 3.0, "operationSeconds": 30.0})
	resp, _ = call(t, run, "POST", "/_sim/tenants/"+graphsim.FabrikamLegalID+"/teams/users/"+withNumber.UserPrincipalName+"/reprovision", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+withNumber.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 404)
	clock.Add(time.Minute)
	resp, _ = call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+withNumber.ID, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "PUT", "/_sim/teams", "", strings.NewReader(`{"provisioningDelaySeconds":-1}`))
	td.Cmp(t, resp.StatusCode, 400)
	resp, body = call(t, run, "GET", "/_sim/tenants/"+graphsim.FabrikamLegalID+"/teams/users", "", nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.Len(len(users)))
	sim.Reset()
	td.Cmp(t, sim.TeamsSettings(), graphsim.TeamsSettings{ProvisioningDelay: graphsim.DefaultTeamsProvisioningDelay,
		OperationPolls: graphsim.DefaultNumberOperationPolls, OperationTime: graphsim.DefaultNumberOperationTime})
}

func TestNumberAssignmentsList(t *testing.T) {
	run := graphsim.StartForTest(t)
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	all, err := run.Sim.Numbers(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	list := func(query string) []any {
		t.Helper()
		resp, body := call(t, run, "GET", esc("/v1.0/admin/teams/telephoneNumberManagement/numberAssignments"+query), tok, nil)
		td.Require(t).Cmp(resp.StatusCode, 200, "%s: %v", query, body)
		td.Cmp(t, body.(map[string]any)["@odata.context"], run.URL+"/v1.0/$metadata#admin/teams/telephoneNumberManagement/numberAssignments")
		td.Cmp(t, body, td.Not(td.ContainsKey("@odata.nextLink")))
		return body.(map[string]any)["value"].([]any)
	}
	count := func(ok func(graphsim.PhoneNumber) bool) int {
		n := 0
		for _, p := range all {
			if ok(p) {
				n++
			}
		}
		return n
	}

	got := list("")
	td.Cmp(t, len(got), len(all))
	td.Cmp(t, got, td.ArrayEach(td.SuperMapOf(map[string]any{
		"id": td.Re(`^[A-Za-z0-9_-]+$`), "telephoneNumber": td.HasPrefix("+44"), "numberType": td.Re(`^(directRouting|callingPlan|operatorConnect)$`),
		"activationState": "activated", "capabilities": td.NotEmpty(), "assignmentStatus": td.NotEmpty(), "numberSource": "online",
		"locationId": nil, "civicAddressId": nil, "networkSiteId": nil, "portInStatus": nil, "reverseNumberLookupOptions": []any{},
	}, nil)))
	td.Cmp(t, got[0].(map[string]any)["telephoneNumber"], all[0].TelephoneNumber, "ordered by number")

	td.Cmp(t, len(list("?$filter=assignmentStatus eq 'unassigned'")), count(func(p graphsim.PhoneNumber) bool { return p.AssignmentStatus == "unassigned" }))
	td.Cmp(t, len(list("?$filter=numberType eq 'DirectRouting' and assignmentStatus eq 'userAssigned'")),
		count(func(p graphsim.PhoneNumber) bool {
			return p.NumberType == "directRouting" && p.AssignmentStatus == "userAssigned"
		}))
	td.Cmp(t, list("?$filter=telephoneNumber eq '"+strings.TrimPrefix(all[3].TelephoneNumber, "+")+"'"), td.All(td.Len(1),
		td.ArrayEach(td.SuperMapOf(map[string]any{"telephoneNumber": all[3].TelephoneNumber}, nil))), "with or without +")
	var target string
	for _, p := range all {
		if p.AssignmentStatus == "userAssigned" {
			target = p.AssignmentTargetID
		}
	}
	td.Cmp(t, list("?$filter=assignmentTargetId eq '"+target+"'"), td.Len(1))
	td.Cmp(t, len(list("?$filter=assignmentTargetId eq null")), count(func(p graphsim.PhoneNumber) bool { return p.AssignmentTargetID == "" }))
	td.Cmp(t, len(list("?$filter=assignmentStatus eq 'unassigned' and capabilities/any(c:c eq 'userAssignment')")),
		count(func(p graphsim.PhoneNumber) bool {
			return p.AssignmentStatus == "unassigned" && slices.Contains(p.Capabilities, "userAssignment")
		}))

	// $top and $skip.
	td.Cmp(t, list("?$top=7"), td.Len(7))
	page := list("?$top=5&$skip=5")
	td.Cmp(t, page, td.Len(5))
	td.Cmp(t, page[0].(map[string]any)["telephoneNumber"], all[5].TelephoneNumber)
	td.Cmp(t, list(fmt.Sprintf("?$skip=%d", len(all))), td.Len(0))
	td.Cmp(t, list("?$top=1000"), td.Len(len(all)))

	for _, bad := range []string{"?$top=1001", "?$top=0", "?$skip=-1", "?$filter=city eq 'London'", "?$filter=id eq 'x'",
		"?$filter=numberType eq 'fax'", "?$filter=shoeSize eq '9'", "?$filter=numberType ne 'callingPlan'", "?$orderby=city"} {
		resp, body := call(t, run, "GET", esc("/v1.0/admin/teams/telephoneNumberManagement/numberAssignments"+bad), tok, nil)
		td.Cmp(t, resp.StatusCode, 400, bad)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": td.NotEmpty(), "message": td.NotEmpty()}, nil)}, nil), bad)
	}

	// One number by id.
	id := got[2].(map[string]any)["id"].(string)
	resp, body := call(t, run, "GET", "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/"+id, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"id": id, "telephoneNumber": all[2].TelephoneNumber}, nil))
	resp, _ = call(t, run, "GET", "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/nope", tok, nil)
	td.Cmp(t, resp.StatusCode, 404)

	// Numbers added through the control API.
	resp, body = call(t, run, "POST", "/_sim/tenants/"+graphsim.FabrikamLegalID+"/teams/numbers", "",
		strings.NewReader(`[{"telephoneNumber":"442079469999","numberType":"operatorConnect","city":"London"}]`))
	td.Cmp(t, resp.StatusCode, 201, "%v", body)
	td.Cmp(t, list("?$filter=telephoneNumber eq '+442079469999'"), td.All(td.Len(1), td.ArrayEach(td.SuperMapOf(map[string]any{
		"numberType": "operatorConnect", "assignmentStatus": "unassigned", "capabilities": []any{"userAssignment"}, "city": "London",
		"assignmentTargetId": nil, "assignmentCategory": nil}, nil))))
	resp, _ = call(t, run, "POST", "/_sim/tenants/"+graphsim.FabrikamLegalID+"/teams/numbers", "",
		strings.NewReader(`[{"telephoneNumber":"+442079469999","numberType":"operatorConnect"}]`))
	td.Cmp(t, resp.StatusCode, 400, "already there")
	td.CmpError(t, run.Sim.AddNumbers(graphsim.FabrikamLegalID, graphsim.PhoneNumber{TelephoneNumber: "12", NumberType: "callingPlan"}))
	td.CmpError(t, run.Sim.AddNumbers(graphsim.FabrikamLegalID, graphsim.PhoneNumber{TelephoneNumber: "+442079468888", NumberType: "fax"}))
	td.CmpError(t, run.Sim.AddNumbers("no-such-tenant", graphsim.PhoneNumber{TelephoneNumber: "+442079468888", NumberType: "callingPlan"}))
}

// numberOp posts an assignNumber or unassignNumber action and returns the operation's path (from Location).
func numberOp(t *testing.T, run *graphsim.Running, tok, action, body string) string {
	t.Helper()
	resp, b := call(t, run, "POST", "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/"+action, tok, strings.NewReader(body),
		"Content-Type", "application/json")
	td.Require(t).Cmp(resp.StatusCode, http.StatusAccepted, "%v", b)
	loc := resp.Header.Get("Location")
	td.Require(t).Cmp(loc, td.Re(`^`+run.URL+`/v1.0/admin/teams/telephoneNumberManagement/operations\('[A-Za-z0-9_-]+'\)$`))
	return strings.TrimPrefix(loc, run.URL)
}

// pollOp polls an operation until it ends and returns the statuses seen and the final body.
func pollOp(t *testing.T, run *graphsim.Running, tok, path string) ([]string, map[string]any) {
	t.Helper()
	var seen []string
	for range 10 {
		resp, body := call(t, run, "GET", esc(path), tok, nil)
		td.Require(t).Cmp(resp.StatusCode, 200, "%v", body)
		m := body.(map[string]any)
		seen = append(seen, m["status"].(string))
		if m["status"] == "succeeded" || m["status"] == "failed" {
			return seen, m
		}
	}
	t.Fatalf("operation %s never ended: %v", path, seen)
	return nil, nil
}

func TestAssignUnassignNumber(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	user := teamsUser(t, sim, graphsim.FabrikamLegalID, phoneUser)
	num := freeNumber(t, sim, graphsim.FabrikamLegalID, graphsim.NumberDirectRouting)

	// Fully qualified action; the operation goes notStarted → running → succeeded.
	op := numberOp(t, run, tok, "microsoft.graph.teamsAdministration.assignNumber",
		fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"directRouting","assignmentCategory":"primary","locationId":"loc-1"}`,
			strings.TrimPrefix(num.TelephoneNumber, "+"), user.ID))
	seen, body := pollOp(t, run, tok, op)
	td.Cmp(t, seen, []string{"notStarted", "running", "succeeded"})
	opID := strings.TrimSuffix(strings.TrimPrefix(op, "/v1.0/admin/teams/telephoneNumberManagement/operations('"), "')")
	td.Cmp(t, body, map[string]any{
		"@odata.context":  run.URL + "/v1.0/$metadata#admin/teams/telephoneNumberManagement/operations/$entity",
		"id":              opID,
		"createdDateTime": td.NotEmpty(),
		"status":          "succeeded",
		"numbers": []any{map[string]any{"resourceLocation": td.HasPrefix(run.URL + "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/"),
			"status": "succeeded", "statusDetail": nil}},
	})
	// operations/{id} serves the same operation.
	resp, body2 := call(t, run, "GET", "/v1.0/admin/teams/telephoneNumberManagement/operations/"+opID, tok, nil)
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, body2, td.SuperMapOf(map[string]any{"id": opID, "status": "succeeded"}, nil))
	resp, _ = call(t, run, "GET", "/v1.0/admin/teams/telephoneNumberManagement/operations/unknown", tok, nil)
	td.Cmp(t, resp.StatusCode, 404)

	nums, _ := sim.Numbers(graphsim.FabrikamLegalID)
	i := slices.IndexFunc(nums, func(n graphsim.PhoneNumber) bool { return n.TelephoneNumber == num.TelephoneNumber })
	td.Cmp(t, nums[i], td.Struct(graphsim.PhoneNumber{AssignmentTargetID: user.ID, AssignmentCategory: "primary",
		AssignmentStatus: graphsim.NumberUserAssigned, LocationID: "loc-1"}, nil))
	_, cfg := call(t, run, "GET", "/v1.0/admin/teams/userConfigurations/"+user.ID, tok, nil)
	td.Cmp(t, cfg, td.SuperMapOf(map[string]any{"isEnterpriseVoiceEnabled": true,
		"telephoneNumbers": []any{map[string]any{"telephoneNumber": num.TelephoneNumber, "assignmentCategory": "primary"}}}, nil))

	// Again to the same user: succeeds, changes nothing.
	_, body = pollOp(t, run, tok, numberOp(t, run, tok, "assignNumber",
		fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"directRouting"}`, num.TelephoneNumber, user.ID)))
	td.Cmp(t, body["status"], "succeeded")

	// Failures, decided when the operation runs.
	other := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return phoneUser(u) && u.ID != user.ID })
	noPhone := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool {
		return u.Provisioned && !slices.Contains(u.FeatureTypes, "PhoneSystem")
	})
	off := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return !u.HasTeamsLicense })
	cp := freeNumber(t, sim, graphsim.FabrikamLegalID, graphsim.NumberCallingPlan)
	free := freeNumber(t, sim, graphsim.FabrikamLegalID, graphsim.NumberDirectRouting)
	for _, tc := range []struct{ action, body, detail string }{
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"directRouting"}`, num.TelephoneNumber, other.ID), "already assigned to another user"},
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":"+449999999999","assignmentTargetId":%q,"numberType":"directRouting"}`, other.ID), "was not found in the tenant's telephone number inventory"},
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"operatorConnect"}`, free.TelephoneNumber, other.ID), "is of type 'directRouting', not 'operatorConnect'"},
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"directRouting"}`, free.TelephoneNumber, off.ID), "not enabled for Microsoft Teams"},
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":"00000000-0000-4000-8000-000000000000","numberType":"directRouting"}`, free.TelephoneNumber), "is not a user or resource account"},
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"directRouting"}`, free.TelephoneNumber, noPhone.ID), "PhoneSystem"},
		{"assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"callingPlan"}`, cp.TelephoneNumber, other.ID), "Calling Plan license"},
		{"unassignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"numberType":"directRouting"}`, free.TelephoneNumber), "is not assigned"},
		{"microsoft.graph.teamsAdministration.unassignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"numberType":"callingPlan"}`, num.TelephoneNumber), "is of type"},
	} {
		_, body := pollOp(t, run, tok, numberOp(t, run, tok, tc.action, tc.body))
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"status": "failed",
			"numbers": []any{td.SuperMapOf(map[string]any{"status": "failed", "statusDetail": td.Contains(tc.detail)}, nil)}}, nil), tc.body)
	}

	// Malformed requests are refused up front.
	for _, bad := range []string{`{"telephoneNumber":"+441","numberType":"directRouting","assignmentTargetId":"x"}`,
		`{"numberType":"directRouting","assignmentTargetId":"x"}`, `{"telephoneNumber":"+442079460001","numberType":"fax","assignmentTargetId":"x"}`,
		`{"telephoneNumber":"+442079460001","numberType":"directRouting","assignmentTargetId":"x","colour":"red"}`,
		`{"telephoneNumber":"+442079460001","numberType":"directRouting","assignmentTargetId":"x","assignmentCategory":"main"}`, `[]`, `not json`} {
		resp, body := call(t, run, "POST", "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", tok, strings.NewReader(bad))
		td.Cmp(t, resp.StatusCode, 400, bad)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "BadRequest", "message": td.NotEmpty()}, nil)}, nil), bad)
	}
	resp, _ = call(t, run, "POST", "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber", tok,
		strings.NewReader(`{"telephoneNumber":"+442079460001","numberType":"directRouting","assignmentTargetId":"x"}`))
	td.Cmp(t, resp.StatusCode, 400, "unassign has no target")

	// A second primary number replaces the first; unassign frees it.
	_, body = pollOp(t, run, tok, numberOp(t, run, tok, "assignNumber",
		fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"directRouting"}`, free.TelephoneNumber, user.ID)))
	td.Cmp(t, body["status"], "succeeded")
	tu := teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return u.ID == user.ID })
	td.Cmp(t, tu.TelephoneNumbers, []string{free.TelephoneNumber})
	_, body = pollOp(t, run, tok, numberOp(t, run, tok, "unassignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"numberType":"directRouting"}`, free.TelephoneNumber)))
	td.Cmp(t, body["status"], "succeeded")
	tu = teamsUser(t, sim, graphsim.FabrikamLegalID, func(u graphsim.TeamsUser) bool { return u.ID == user.ID })
	td.Cmp(t, tu.TelephoneNumbers, []string{})
	td.Cmp(t, tu.EnterpriseVoice, true, "voice stays on")
	st := sim.Stats()
	td.Cmp(t, st.Count("POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/microsoft.graph.teamsAdministration.assignNumber", 202), 1)
	td.Cmp(t, st.Count("GET /v1.0/admin/teams/telephoneNumberManagement/{operations('id')}", 200), td.Gt(10))
}

func TestNumberOperationPacing(t *testing.T) {
	clock := newTestClock()
	run := graphsim.New(graphsim.Options{Now: clock.Now}).StartForTest(t)
	sim := run.Sim
	tok := accessToken(t, run, graphsim.FabrikamLegalID)
	users, _ := sim.TeamsUsers(graphsim.FabrikamLegalID)
	var a, b graphsim.TeamsUser
	for _, u := range users {
		if phoneUser(u) {
			if a.ID == "" {
				a = u
			} else if b.ID == "" {
				b = u
			}
		}
	}
	num := freeNumber(t, sim, graphsim.FabrikamLegalID, graphsim.NumberOperatorConnect)
	assign := func(u graphsim.TeamsUser) string {
		return numberOp(t, run, tok, "assignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"assignmentTargetId":%q,"numberType":"operatorConnect"}`, num.TelephoneNumber, u.ID))
	}

	// Two operations race for one number: the first to run wins, whatever the order of creation.
	opA, opB := assign(a), assign(b)
	seenB, bodyB := pollOp(t, run, tok, opB)
	td.Cmp(t, seenB, []string{"notStarted", "running", "succeeded"})
	td.Cmp(t, bodyB["status"], "succeeded")
	_, bodyA := pollOp(t, run, tok, opA)
	td.Cmp(t, bodyA["status"], "failed")
	nums, _ := sim.Numbers(graphsim.FabrikamLegalID)
	td.Cmp(t, nums, td.Contains(td.Struct(graphsim.PhoneNumber{TelephoneNumber: num.TelephoneNumber, AssignmentTargetID: b.ID}, nil)))

	// Unpolled operations run after the operation time.
	op := numberOp(t, run, tok, "unassignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"numberType":"operatorConnect"}`, num.TelephoneNumber))
	clock.Add(graphsim.DefaultNumberOperationTime)
	nums, _ = sim.Numbers(graphsim.FabrikamLegalID)
	td.Cmp(t, nums, td.Contains(td.Struct(graphsim.PhoneNumber{TelephoneNumber: num.TelephoneNumber, AssignmentStatus: "unassigned"}, nil)))
	seen, _ := pollOp(t, run, tok, op)
	td.Cmp(t, seen, []string{"succeeded"})

	// Polls 0: done within the POST. Polls 1: the first poll finds it done.
	td.CmpNoError(t, sim.SetNumberOperationPacing(0, 0))
	op = assign(a)
	nums, _ = sim.Numbers(graphsim.FabrikamLegalID)
	td.Cmp(t, nums, td.Contains(td.Struct(graphsim.PhoneNumber{TelephoneNumber: num.TelephoneNumber, AssignmentTargetID: a.ID}, nil)))
	seen, _ = pollOp(t, run, tok, op)
	td.Cmp(t, seen, []string{"succeeded"})
	td.CmpNoError(t, sim.SetNumberOperationPacing(1, 0))
	seen, _ = pollOp(t, run, tok, numberOp(t, run, tok, "unassignNumber", fmt.Sprintf(`{"telephoneNumber":%q,"numberType":"operatorConnect"}`, num.TelephoneNumber)))
	td.Cmp(t, seen, []string{"succeeded"})
	td.CmpError(t, sim.SetNumberOperationPacing(-1, 0))
}
