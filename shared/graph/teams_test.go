package graph_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
)

// manualClock is a simulator clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// teamsClient is a Fabrikam client that polls number operations every few milliseconds.
func teamsClient(t *testing.T, run *graphsim.Running, maxRetries int) *graph.Client {
	t.Helper()
	f, err := graph.New(graph.Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: maxRetries, OperationPollInterval: 5 * time.Millisecond})
	td.Require(t).CmpNoError(err)
	return tenantClient(t, f, graphsim.FabrikamLegalID)
}

// simTeamsUsers returns the Fabrikam users that satisfy ok, in listing order.
func simTeamsUsers(t *testing.T, sim *graphsim.Sim, ok func(graphsim.TeamsUser) bool) []graphsim.TeamsUser {
	t.Helper()
	users, err := sim.TeamsUsers(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	var out []graphsim.TeamsUser
	for _, u := range users {
		if ok(u) {
			out = append(out, u)
		}
	}
	td.Require(t).Cmp(len(out), td.Gt(0), "some such user")
	return out
}

// phoneUserWithoutNumber: in Teams, with Teams Phone, without a Calling Plan or a number.
func phoneUserWithoutNumber(u graphsim.TeamsUser) bool {
	return u.Provisioned && slices.Contains(u.FeatureTypes, "PhoneSystem") && !slices.Contains(u.FeatureTypes, "CallingPlan") && len(u.TelephoneNumbers) == 0
}

// simFreeNumbers returns Fabrikam's free user numbers of a type.
func simFreeNumbers(t *testing.T, sim *graphsim.Sim, numberType string) []graphsim.PhoneNumber {
	t.Helper()
	nums, err := sim.Numbers(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	var out []graphsim.PhoneNumber
	for _, n := range nums {
		if n.NumberType == numberType && n.AssignmentStatus == graphsim.NumberUnassigned && slices.Contains(n.Capabilities, graphsim.CapabilityUser) {
			out = append(out, n)
		}
	}
	return out
}

// holder returns who holds a number in the simulator ("" = nobody).
func holder(t *testing.T, sim *graphsim.Sim, number string) string {
	t.Helper()
	nums, err := sim.Numbers(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	for _, n := range nums {
		if n.TelephoneNumber == number {
			return n.AssignmentTargetID
		}
	}
	t.Fatalf("no number %s", number)
	return ""
}

// numberError returns the *graph.NumberError in err's chain.
func numberError(t *testing.T, err error) *graph.NumberError {
	t.Helper()
	var ne *graph.NumberError
	td.Require(t).True(errors.As(err, &ne), "a *graph.NumberError: %v", err)
	return ne
}

func TestTeamsReady(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, time.June, 1, 8, 0, 0, 0, time.UTC)}
	sim := graphsim.New(graphsim.Options{Now: clock.Now})
	run := sim.StartForTest(t)
	c := teamsClient(t, run, 0)
	ctx := ctxFor(t, 10*time.Second)

	u := simTeamsUsers(t, sim, func(u graphsim.TeamsUser) bool { return u.Provisioned && len(u.TelephoneNumbers) > 0 })[0]
	ready, cfg, err := c.TeamsReady(ctx, u.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ready, true)
	td.Cmp(t, cfg, td.Struct(graph.TeamsUserConfig{ID: u.ID, UserPrincipalName: u.UserPrincipalName, TenantID: graphsim.FabrikamLegalID,
		FeatureTypes: u.FeatureTypes, IsEnterpriseVoiceEnabled: true,
		TelephoneNumbers: []graph.AssignedNumber{{TelephoneNumber: u.TelephoneNumbers[0], AssignmentCategory: "primary"}}},
		td.StructFields{"AccountType": td.Re(`^(user|resourceAccount)$`), "CreatedDateTime": td.Not(time.Time{}), "ModifiedDateTime": td.Not(time.Time{})}))
	td.Cmp(t, cfg.HasFeature("phonesystem"), true)

	// Not provisioned (Teams switched off, or no such user): not ready, and no error.
	off := simTeamsUsers(t, sim, func(u graphsim.TeamsUser) bool { return !u.HasTeamsLicense })[0]
	for _, id := range []string{off.ID, "00000000-0000-4000-8000-000000000000"} {
		ready, cfg, err = c.TeamsReady(ctx, id)
		td.CmpNoError(t, err)
		td.Cmp(t, ready, false)
		td.Cmp(t, cfg, graph.TeamsUserConfig{})
	}

	// Readiness before and after the provisioning delay, on the simulator's clock.
	td.CmpNoError(t, sim.SetTeamsProvisioningDelay(3*time.Minute))
	td.CmpNoError(t, sim.ReprovisionTeamsUser(graphsim.FabrikamLegalID, u.ID))
	ready, _, err = c.TeamsReady(ctx, u.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, ready, false, "just licensed")
	clock.Add(2 * time.Minute)
	ready, _, _ = c.TeamsReady(ctx, u.ID)
	td.Cmp(t, ready, false, "a minute to go")
	clock.Add(time.Minute)
	ready, cfg, err = c.TeamsReady(ctx, u.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, ready, true)
	td.Cmp(t, cfg.CreatedDateTime, clock.Now())

	for _, bad := range []string{"", "a/b", "x?y"} {
		_, _, err = c.TeamsReady(ctx, bad)
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, bad)
	}
	td.CmpNoError(t, sim.RevokeConsent(graphsim.FabrikamLegalID))
	_, _, err = c.TeamsReady(ctx, u.ID)
	td.Cmp(t, domain.ErrorCode(err), domain.EUnauthorized)
}

func TestHasTeamsLicense(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	c := teamsClient(t, run, 0)
	ctx := ctxFor(t, 10*time.Second)

	licensed := simTeamsUsers(t, sim, func(u graphsim.TeamsUser) bool { return u.HasTeamsLicense })[0]
	has, err := c.HasTeamsLicense(ctx, licensed.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, has, true)

	// A user whose licence carries Teams with TEAMS1 in its disabledPlans.
	const teams1 = "57ff2da0-773e-42df-b2af-ffb7a2317929"
	users, err := sim.Users(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	i := slices.IndexFunc(users, func(u graphsim.User) bool {
		return len(u.Licenses) > 0 && slices.ContainsFunc(u.Licenses, func(l graphsim.License) bool { return slices.Contains(l.DisabledPlans, teams1) })
	})
	td.Require(t).Cmp(i, td.Gte(0), "a user with TEAMS1 disabled")
	has, err = c.HasTeamsLicense(ctx, users[i].UserPrincipalName)
	td.CmpNoError(t, err)
	td.Cmp(t, has, false, "TEAMS1 disabled")
	ready, _, err := c.TeamsReady(ctx, users[i].ID)
	td.CmpNoError(t, err)
	td.Cmp(t, ready, false)

	unlicensed := slices.IndexFunc(users, func(u graphsim.User) bool { return len(u.Licenses) == 0 })
	has, err = c.HasTeamsLicense(ctx, users[unlicensed].ID)
	td.CmpNoError(t, err)
	td.Cmp(t, has, false)

	_, err = c.HasTeamsLicense(ctx, "nobody@fabrikamlegal.onmicrosoft.com")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = c.HasTeamsLicense(ctx, "")
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}

func TestListNumbers(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	c := teamsClient(t, run, 0)
	ctx := ctxFor(t, 10*time.Second)
	all, err := sim.Numbers(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	want := func(ok func(graphsim.PhoneNumber) bool) []string {
		var out []string
		for _, n := range all {
			if ok(n) {
				out = append(out, n.TelephoneNumber)
			}
		}
		return out
	}
	numbers := func(ns []graph.Number) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.TelephoneNumber)
		}
		return out
	}

	got, err := c.ListNumbers(ctx, graph.NumberFilter{})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, numbers(got), want(func(graphsim.PhoneNumber) bool { return true }))
	td.Cmp(t, got, td.ArrayEach(td.Struct(graph.Number{ActivationState: "activated", NumberSource: "online"},
		td.StructFields{"ID": td.NotEmpty(), "NumberType": td.Re(`^(directRouting|callingPlan|operatorConnect)$`), "Capabilities": td.NotEmpty()})))
	td.Cmp(t, sim.Stats().Count("GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments", 200), 1, "one short page")

	// Paging with $skip until exhausted.
	before := sim.Stats().Count("GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments", 200)
	paged, err := c.ListNumbers(ctx, graph.NumberFilter{PageSize: 7})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, paged, got)
	td.Cmp(t, sim.Stats().Count("GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments", 200)-before, len(all)/7+1)

	// Filters.
	free, err := c.ListNumbers(ctx, graph.NumberFilter{AssignmentStatus: graph.NumberUnassigned, PageSize: 4})
	td.CmpNoError(t, err)
	td.Cmp(t, numbers(free), want(func(n graphsim.PhoneNumber) bool { return n.AssignmentStatus == "unassigned" }))
	dr, err := c.ListNumbers(ctx, graph.NumberFilter{NumberType: graph.NumberDirectRouting, AssignmentStatus: graph.NumberUserAssigned})
	td.CmpNoError(t, err)
	td.Cmp(t, numbers(dr), want(func(n graphsim.PhoneNumber) bool {
		return n.NumberType == "directRouting" && n.AssignmentStatus == "userAssigned"
	}))
	td.Cmp(t, len(dr), td.Gt(0))
	one, err := c.ListNumbers(ctx, graph.NumberFilter{TelephoneNumber: all[4].TelephoneNumber})
	td.CmpNoError(t, err)
	td.Cmp(t, numbers(one), []string{all[4].TelephoneNumber}, "the + survives the query string")
	target := dr[0].AssignmentTargetID
	mine, err := c.ListNumbers(ctx, graph.NumberFilter{AssignmentTargetID: target})
	td.CmpNoError(t, err)
	td.Cmp(t, mine, td.All(td.Len(1), td.ArrayEach(td.Struct(graph.Number{AssignmentTargetID: target, AssignmentCategory: "primary"}, nil))))
	conf, err := c.ListNumbers(ctx, graph.NumberFilter{Capability: "conferenceAssignment", NumberType: graph.NumberCallingPlan})
	td.CmpNoError(t, err)
	td.Cmp(t, numbers(conf), want(func(n graphsim.PhoneNumber) bool {
		return n.NumberType == "callingPlan" && slices.Contains(n.Capabilities, "conferenceAssignment")
	}))

	// $top bounds.
	_, err = c.ListNumbers(ctx, graph.NumberFilter{PageSize: 1001})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	_, err = c.ListNumbers(ctx, graph.NumberFilter{PageSize: -1})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	max, err := c.ListNumbers(ctx, graph.NumberFilter{PageSize: 1000})
	td.CmpNoError(t, err)
	td.Cmp(t, max, got)
	// A filter value Graph refuses comes back as EInvalid.
	_, err = c.ListNumbers(ctx, graph.NumberFilter{NumberType: "fax"})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
}

func TestAssignAndUnassignNumber(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	c := teamsClient(t, run, 0)
	ctx := ctxFor(t, 20*time.Second)
	phone := simTeamsUsers(t, sim, phoneUserWithoutNumber)
	td.Require(t).Cmp(len(phone), td.Gte(2))
	a, b := phone[0], phone[1]
	num := simFreeNumbers(t, sim, graphsim.NumberDirectRouting)[0]

	// Assign: posted, polled through notStarted and running to succeeded.
	td.Require(t).CmpNoError(c.AssignNumber(ctx, graph.NumberAssignment{TelephoneNumber: num.TelephoneNumber, AssignmentTargetID: a.ID,
		NumberType: graph.NumberDirectRouting}))
	td.Cmp(t, holder(t, sim, num.TelephoneNumber), a.ID)
	st := sim.Stats()
	td.Cmp(t, st.Count("POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", 202), 1)
	td.Cmp(t, st.Count("GET /v1.0/admin/teams/telephoneNumberManagement/{operations('id')}", 200), graphsim.DefaultNumberOperationPolls)
	_, cfg, err := c.TeamsReady(ctx, a.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, cfg.TelephoneNumbers, []graph.AssignedNumber{{TelephoneNumber: num.TelephoneNumber, AssignmentCategory: "primary"}})
	td.Cmp(t, cfg.IsEnterpriseVoiceEnabled, true)
	td.CmpNoError(t, c.AssignNumber(ctx, graph.NumberAssignment{TelephoneNumber: num.TelephoneNumber, AssignmentTargetID: a.ID,
		NumberType: graph.NumberDirectRouting, AssignmentCategory: graph.NumberPrimary}), "again: no change, no error")

	// Someone else's number: a typed conflict naming the reason.
	err = c.AssignNumber(ctx, graph.NumberAssignment{TelephoneNumber: num.TelephoneNumber, AssignmentTargetID: b.ID, NumberType: graph.NumberDirectRouting})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, numberError(t, err), td.Struct(&graph.NumberError{Kind: graph.NumberTaken, TelephoneNumber: num.TelephoneNumber, TargetID: b.ID},
		td.StructFields{"OperationID": td.NotEmpty(), "Message": td.Contains("already assigned")}))
	td.Cmp(t, domain.ErrorMessage(err), td.All(td.Contains(num.TelephoneNumber), td.Contains(graphsim.FabrikamLegalID)))
	td.Cmp(t, holder(t, sim, num.TelephoneNumber), a.ID)

	// Unassign frees it; unassigning again says it is free.
	td.Require(t).CmpNoError(c.UnassignNumber(ctx, num.TelephoneNumber, graph.NumberDirectRouting))
	td.Cmp(t, holder(t, sim, num.TelephoneNumber), "")
	err = c.UnassignNumber(ctx, num.TelephoneNumber, graph.NumberDirectRouting)
	td.Cmp(t, numberError(t, err).Kind, graph.NumberNotAssigned)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.CmpNoError(t, c.AssignNumber(ctx, graph.NumberAssignment{TelephoneNumber: num.TelephoneNumber, AssignmentTargetID: b.ID, NumberType: graph.NumberDirectRouting}))
	td.Cmp(t, holder(t, sim, num.TelephoneNumber), b.ID)

	// The other refusals.
	off := simTeamsUsers(t, sim, func(u graphsim.TeamsUser) bool { return !u.HasTeamsLicense })[0]
	noPhone := simTeamsUsers(t, sim, func(u graphsim.TeamsUser) bool {
		return u.Provisioned && !slices.Contains(u.FeatureTypes, "PhoneSystem")
	})[0]
	free := simFreeNumbers(t, sim, graphsim.NumberDirectRouting)[0]
	cp := simFreeNumbers(t, sim, graphsim.NumberCallingPlan)[0]
	for _, tc := range []struct {
		a    graph.NumberAssignment
		kind graph.NumberErrorKind
		code string
	}{
		{graph.NumberAssignment{TelephoneNumber: "+449999999999", AssignmentTargetID: a.ID, NumberType: graph.NumberDirectRouting}, graph.NumberNotFound, domain.ENotFound},
		{graph.NumberAssignment{TelephoneNumber: free.TelephoneNumber, AssignmentTargetID: a.ID, NumberType: graph.NumberOperatorConnect}, graph.NumberTypeMismatch, domain.EInvalid},
		{graph.NumberAssignment{TelephoneNumber: free.TelephoneNumber, AssignmentTargetID: off.ID, NumberType: graph.NumberDirectRouting}, graph.NumberUserNotInTeams, domain.EConflict},
		{graph.NumberAssignment{TelephoneNumber: free.TelephoneNumber, AssignmentTargetID: "00000000-0000-4000-8000-000000000000", NumberType: graph.NumberDirectRouting}, graph.NumberTargetNotFound, domain.ENotFound},
		{graph.NumberAssignment{TelephoneNumber: free.TelephoneNumber, AssignmentTargetID: noPhone.ID, NumberType: graph.NumberDirectRouting}, graph.NumberLicenseMissing, domain.EConflict},
		{graph.NumberAssignment{TelephoneNumber: cp.TelephoneNumber, AssignmentTargetID: a.ID, NumberType: graph.NumberCallingPlan}, graph.NumberLicenseMissing, domain.EConflict},
	} {
		err := c.AssignNumber(ctx, tc.a)
		td.Cmp(t, domain.ErrorCode(err), tc.code, "%+v", tc.a)
		td.Cmp(t, numberError(t, err).Kind, tc.kind, "%+v", tc.a)
	}

	// Invalid requests never leave the client.
	err = c.AssignNumber(ctx, graph.NumberAssignment{NumberType: "fax", AssignmentCategory: "main"})
	td.Cmp(t, err, td.Struct(&domain.Error{Code: domain.EInvalid}, td.StructFields{"Fields": td.Keys(td.Bag("telephoneNumber", "assignmentTargetId", "numberType", "assignmentCategory"))}))
	td.Cmp(t, domain.ErrorCode(c.UnassignNumber(ctx, "", graph.NumberDirectRouting)), domain.EInvalid)

	// An operation that does not finish within the context: EUpstream, naming the operation.
	td.CmpNoError(t, sim.SetNumberOperationPacing(100, 0))
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = c.UnassignNumber(short, num.TelephoneNumber, graph.NumberDirectRouting)
	td.Cmp(t, domain.ErrorCode(err), domain.EUpstream)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains("operations('"))
}

// TestAssignNumberUnderThrottling: with 10 % of the Teams requests throttled, assignments still complete, and two
// racing for one number leave it with exactly one user.
func TestAssignNumberUnderThrottling(t *testing.T) {
	run := graphsim.New(graphsim.Options{Seed: 11}).StartForTest(t)
	sim := run.Sim
	c := teamsClient(t, run, 10)
	ctx := ctxFor(t, 30*time.Second)
	phone := simTeamsUsers(t, sim, phoneUserWithoutNumber)
	free := simFreeNumbers(t, sim, graphsim.NumberDirectRouting)
	td.Require(t).Cmp(len(phone), td.Gte(4))
	td.Require(t).Cmp(len(free), td.Gte(4))
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/admin/teams", Rate429: 0.1}))
	// And surely the first assignNumber POST: its retry must carry the same body.
	td.Require(t).CmpNoError(sim.SetFaults(graphsim.Faults{Endpoint: "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", Rate429: 1, Times: 1}))

	for round := range 4 {
		num := free[round].TelephoneNumber
		a, b := phone[round%len(phone)], phone[(round+1)%len(phone)]
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, u := range []graphsim.TeamsUser{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.AssignNumber(ctx, graph.NumberAssignment{TelephoneNumber: num, AssignmentTargetID: u.ID, NumberType: graph.NumberDirectRouting})
			}()
		}
		wg.Wait()
		winner := holder(t, sim, num)
		td.Cmp(t, winner, td.Any(a.ID, b.ID), "round %d: assigned", round)
		for i, u := range []graphsim.TeamsUser{a, b} {
			if u.ID == winner {
				td.CmpNoError(t, errs[i], "round %d: the winner", round)
			} else {
				td.Cmp(t, numberError(t, errs[i]).Kind, graph.NumberTaken, "round %d: the loser", round)
			}
		}
		n := 0
		for _, u := range simTeamsUsers(t, sim, func(graphsim.TeamsUser) bool { return true }) {
			if slices.Contains(u.TelephoneNumbers, num) {
				n++
			}
		}
		td.Cmp(t, n, 1, "round %d: exactly one user holds the number", round)
		// Free it again for the next round's users.
		td.CmpNoError(t, c.UnassignNumber(ctx, num, graph.NumberDirectRouting))
	}
	st := sim.Stats()
	throttled := 0
	for ep := range st.Requests {
		throttled += st.Count(ep, 429)
	}
	td.Cmp(t, throttled, td.Gt(1), "some requests were throttled")
	td.Cmp(t, st.Count("POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", 429), td.Gte(1))
	t.Logf("requests: %d, throttled: %d", st.Total, throttled)
	td.Cmp(t, st.Count("POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", 202), 8, "each assignment accepted once")
}

// TestTeamsReadyAfterLicensing follows a user from licensing (assignLicense) to Teams readiness: the provisioning
// delay counts from the licence, whoever changed it.
func TestTeamsReadyAfterLicensing(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, time.June, 1, 8, 0, 0, 0, time.UTC)}
	sim := graphsim.New(graphsim.Options{Now: clock.Now})
	run := sim.StartForTest(t)
	c := teamsClient(t, run, 0)
	ctx := ctxFor(t, 10*time.Second)
	users, err := sim.Users(graphsim.FabrikamLegalID)
	td.Require(t).CmpNoError(err)
	i := slices.IndexFunc(users, func(u graphsim.User) bool { return len(u.Licenses) == 0 && u.UsageLocation != "" })
	td.Require(t).Cmp(i, td.Gte(0))
	u := users[i]

	_, err = c.AssignLicenses(ctx, u.ID, []domain.AssignedLicense{{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900"}}, nil) // Office 365 E3
	td.Require(t).CmpNoError(err)
	has, err := c.HasTeamsLicense(ctx, u.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, has, true, "licensed at once")
	ready, _, err := c.TeamsReady(ctx, u.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, ready, false, "not in Teams yet")

	clock.Add(graphsim.DefaultTeamsProvisioningDelay - time.Second)
	ready, _, _ = c.TeamsReady(ctx, u.ID)
	td.Cmp(t, ready, false)
	clock.Add(time.Second)
	ready, cfg, err := c.TeamsReady(ctx, u.ID)
	td.CmpNoError(t, err)
	td.Cmp(t, ready, true)
	td.Cmp(t, cfg.FeatureTypes, td.Contains("Teams"))
	td.Cmp(t, cfg.CreatedDateTime, clock.Now())
}
