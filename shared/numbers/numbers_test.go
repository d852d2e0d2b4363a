package numbers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/store"
)

// env is the Contoso Dental demo tenant in the simulator, a customer for it in the store (moto) with the tenant's
// users stored as a sync would, one site, and the service over the real Graph client.
type env struct {
	t     *testing.T
	ctx   context.Context
	sim   *graphsim.Sim
	store *store.Store
	svc   *numbers.Service
	cust  domain.Customer
	site  domain.Site
	users map[string]graphsim.User // by lower-case id
}

const tenant = graphsim.ContosoDentalID

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(ctx)
	st := store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
	sim := graphsim.New(graphsim.Options{})
	run := sim.StartForTest(t)
	g, err := graph.New(graph.Config{AuthorityHost: run.AuthorityHost(), BaseURL: run.GraphURL(), RootCAs: run.CertPool(),
		ClientID: graphsim.ClientID, ClientSecret: graphsim.ClientSecret, MaxRetries: 4, OperationPollInterval: 5 * time.Millisecond})
	td.Require(t).CmpNoError(err)
	e := &env{t: t, ctx: ctx, sim: sim, store: st, users: map[string]graphsim.User{},
		svc:  &numbers.Service{Store: st, Graph: g, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		cust: domain.Customer{ID: "contoso", Name: "Contoso Dental", TenantID: tenant, CreatedAt: time.Now().UTC(), Version: 1}}
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, e.cust, "test"))
	simUsers, err := sim.Users(tenant)
	td.Require(t).CmpNoError(err)
	var stored []domain.User
	for _, u := range simUsers {
		e.users[strings.ToLower(u.ID)] = u
		stored = append(stored, domain.User{CustomerID: e.cust.ID, ID: strings.ToLower(u.ID), UserPrincipalName: u.UserPrincipalName,
			DisplayName: u.DisplayName, UsageLocation: u.UsageLocation, AccountEnabled: true, Status: "active"})
	}
	_, err = st.PutUsers(ctx, e.cust.ID, stored, time.Now().UTC())
	td.Require(t).CmpNoError(err)
	e.site = domain.Site{ID: "seattle", CustomerID: e.cust.ID, Name: "Seattle", Default: true, AllowStaging: true,
		NumberPolicy: domain.NumberPolicy{Assign: true, Type: domain.NumberDirectRouting}, Version: 1, CreatedAt: time.Now().UTC()}
	td.Require(t).CmpNoError(st.CreateSite(ctx, e.site, "test"))
	return e
}

// inventory returns the customer's whole inventory, by number.
func (e *env) inventory() map[string]domain.Number {
	e.t.Helper()
	out := map[string]domain.Number{}
	q := store.NumberQuery{Limit: store.MaxLimit}
	for {
		page, err := e.svc.List(e.ctx, e.cust.ID, q)
		td.Require(e.t).CmpNoError(err)
		for _, n := range page.Items {
			out[n.Number] = n
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			return out
		}
	}
}

// simNumber returns a number as the simulator holds it.
func (e *env) simNumber(number string) graphsim.PhoneNumber {
	e.t.Helper()
	nums, err := e.sim.Numbers(tenant)
	td.Require(e.t).CmpNoError(err)
	for _, n := range nums {
		if n.TelephoneNumber == number {
			return n
		}
	}
	e.t.Fatalf("the simulator has no number %s", number)
	return graphsim.PhoneNumber{}
}

// phoneUser returns a user in Teams with Teams Phone, no Calling Plan and no number.
func (e *env) phoneUser(skip ...string) domain.User {
	e.t.Helper()
	tus, err := e.sim.TeamsUsers(tenant)
	td.Require(e.t).CmpNoError(err)
	for _, tu := range tus {
		if tu.Provisioned && slices.Contains(tu.FeatureTypes, "PhoneSystem") && !slices.Contains(tu.FeatureTypes, "CallingPlan") &&
			len(tu.TelephoneNumbers) == 0 && !slices.Contains(skip, strings.ToLower(tu.ID)) {
			return e.user(tu.ID)
		}
	}
	e.t.Fatal("no Teams Phone user without a number in Contoso Dental")
	return domain.User{}
}

// notInTeams returns a user who is not in Teams (no Teams licence).
func (e *env) notInTeams() domain.User {
	e.t.Helper()
	tus, err := e.sim.TeamsUsers(tenant)
	td.Require(e.t).CmpNoError(err)
	for _, tu := range tus {
		if !tu.Provisioned && !tu.HasTeamsLicense {
			return e.user(tu.ID)
		}
	}
	e.t.Fatal("no user outside Teams in Contoso Dental")
	return domain.User{}
}

func (e *env) user(id string) domain.User {
	e.t.Helper()
	u, err := e.store.GetUser(e.ctx, e.cust.ID, id)
	td.Require(e.t).CmpNoError(err)
	return u
}

// freeNumber returns an available number of the inventory of a type.
func (e *env) freeNumber(numberType string) domain.Number {
	e.t.Helper()
	for _, n := range e.inventory() {
		if n.Status == domain.NumberAvailable && n.Type == numberType {
			return n
		}
	}
	e.t.Fatalf("no available %s number", numberType)
	return domain.Number{}
}

func (e *env) provisioning(userID string) domain.Provisioning {
	e.t.Helper()
	p, err := e.store.GetProvisioning(e.ctx, e.cust.ID, userID)
	td.Require(e.t).CmpNoError(err)
	return p
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var de *domain.Error
	td.Require(t).True(errors.As(err, &de), "a *domain.Error: %v", err)
	td.Require(t).Cmp(de.Code, domain.EInvalid, "%v", err)
	return de.Fields
}

func TestAddValidatesAndStoresNothing(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		in   numbers.AddInput
		want td.MapEntries
	}{
		{numbers.AddInput{Number: "020 7123 4567", Type: "directRouting", SiteID: "seattle"}, td.MapEntries{"number": td.Contains("must start with +")}},
		{numbers.AddInput{From: "+12065550100", To: "+12065551100", Type: "directRouting", SiteID: "seattle"}, td.MapEntries{"to": td.Contains("1001 numbers")}},
		{numbers.AddInput{From: "+1206555x100", To: "+12065550199", Type: "directRouting", SiteID: "seattle"}, td.MapEntries{"from": td.Contains("only digits")}},
		{numbers.AddInput{Number: "+12065550100", SiteID: "seattle"}, td.MapEntries{"type": td.HasPrefix("required")}},
		{numbers.AddInput{Number: "+12065550100", Type: "directRouting", SiteID: "seattle", Extension: "x1"}, td.MapEntries{"extension": td.Ignore()}},
		{numbers.AddInput{From: "+12065550100", To: "+12065550199", Type: "directRouting", SiteID: "seattle", ExtensionDigits: 12}, td.MapEntries{"extensionDigits": td.Ignore()}},
		{numbers.AddInput{Number: "+12065550100", Type: "directRouting", SiteID: "tacoma"}, td.MapEntries{"siteId": "no such site of this customer"}},
	} {
		_, err := e.svc.Add(e.ctx, e.cust.ID, "admin", tc.in)
		td.Cmp(t, fieldsOf(t, err), td.Map(map[string]string{}, tc.want), "%+v", tc.in)
	}
	td.Cmp(t, e.inventory(), td.Len(0), "nothing stored")

	res, err := e.svc.Add(e.ctx, e.cust.ID, "admin", numbers.AddInput{From: "+1 (206) 555-0198", To: "+1 206 555 0201", Type: "directRouting", SiteID: "seattle", ExtensionDigits: 3})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, numbers.AddResult{Added: []string{"+12065550198", "+12065550199", "+12065550200", "+12065550201"}, Existing: []string{}})
	res, err = e.svc.Add(e.ctx, e.cust.ID, "admin", numbers.AddInput{Number: "+12065550201", Type: "callingPlan", SiteID: "seattle"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, numbers.AddResult{Added: []string{}, Existing: []string{"+12065550201"}}, "present: left unchanged")
	inv := e.inventory()
	td.Cmp(t, inv, td.Len(4))
	td.Cmp(t, inv["+12065550201"], td.SStruct(domain.Number{CustomerID: e.cust.ID, Number: "+12065550201", Type: "directRouting",
		SiteID: "seattle", Extension: "201", Status: domain.NumberAvailable, Source: numbers.SourceManual, Version: 1}, td.StructFields{"UpdatedAt": td.NotZero()}))

	// Update and delete by hand.
	ext, site := "4242", "seattle"
	n, err := e.svc.Update(e.ctx, e.cust.ID, "12065550201", 1, "admin", numbers.UpdateInput{Extension: &ext, SiteID: &site})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n.Extension, "4242")
	td.Cmp(t, n.Version, int64(2))
	bad := "nowhere"
	_, err = e.svc.Update(e.ctx, e.cust.ID, "+12065550201", 2, "admin", numbers.UpdateInput{SiteID: &bad})
	td.Cmp(t, fieldsOf(t, err), map[string]string{"siteId": "no such site of this customer"})
	_, err = e.svc.Update(e.ctx, e.cust.ID, "+12065550201", 1, "admin", numbers.UpdateInput{Extension: &ext})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "stale version")
	td.CmpNoError(t, e.svc.Delete(e.ctx, e.cust.ID, "+12065550201", 2, "admin"))
	td.Cmp(t, e.inventory(), td.Len(3))
}

// graphTruth is what the inventory should say of each of Graph's numbers that can go to users.
func (e *env) graphTruth() map[string]string {
	e.t.Helper()
	nums, err := e.sim.Numbers(tenant)
	td.Require(e.t).CmpNoError(err)
	out := map[string]string{}
	for _, n := range nums {
		if !slices.Contains(n.Capabilities, graphsim.CapabilityUser) {
			continue
		}
		switch n.AssignmentStatus {
		case graphsim.NumberUnassigned:
			out[n.TelephoneNumber] = n.NumberType + " available"
		case graphsim.NumberUserAssigned:
			out[n.TelephoneNumber] = n.NumberType + " assigned " + strings.ToLower(n.AssignmentTargetID) + " " + e.users[strings.ToLower(n.AssignmentTargetID)].DisplayName
		}
	}
	return out
}

func (e *env) inventoryTruth() map[string]string {
	out := map[string]string{}
	for num, n := range e.inventory() {
		s := n.Type + " " + n.Status
		if n.UserID != "" {
			s += " " + n.UserID + " " + n.UserName
		}
		out[num] = s
	}
	return out
}

func TestImportMakesTheInventoryGraphs(t *testing.T) {
	e := newEnv(t)
	want := e.graphTruth()
	td.Require(t).Cmp(len(want), td.Gt(20), "Contoso Dental has numbers")

	res, err := e.svc.Import(e.ctx, e.cust.ID, "admin", "seattle")
	td.Require(t).CmpNoError(err)
	all, _ := e.sim.Numbers(tenant)
	td.Cmp(t, res, numbers.ImportResult{Read: len(all), Created: len(want), Skipped: len(all) - len(want), Conflicts: []string{}},
		"conference and service numbers skipped")
	td.Cmp(t, e.inventoryTruth(), want)
	for _, n := range e.inventory() {
		td.Cmp(t, n.SiteID, "seattle")
		td.Cmp(t, n.Source, numbers.SourceGraph)
	}
	assigned := 0
	for _, v := range want {
		if strings.Contains(v, " assigned ") {
			assigned++
		}
	}
	td.Cmp(t, assigned, td.Gt(0))

	// A second import writes nothing.
	res, err = e.svc.Import(e.ctx, e.cust.ID, "admin", "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, numbers.ImportResult{Read: len(all), Unchanged: len(want), Skipped: len(all) - len(want), Conflicts: []string{}})

	// Teams changes behind Seatwise's back: the next import follows.
	var free string
	for num, v := range want {
		if strings.HasPrefix(v, graphsim.NumberDirectRouting+" available") {
			free = num
			break
		}
	}
	u := e.phoneUser()
	td.Require(t).CmpNoError(e.sim.AddNumbers(tenant, graphsim.PhoneNumber{TelephoneNumber: "+12065550777", NumberType: graphsim.NumberOperatorConnect}))
	g := e.svc.Graph.(*graph.Factory)
	td.Require(t).CmpNoError(g.AssignNumber(e.ctx, tenant, graph.NumberAssignment{TelephoneNumber: free, AssignmentTargetID: u.ID, NumberType: graph.NumberDirectRouting}))
	res, err = e.svc.Import(e.ctx, e.cust.ID, "admin", "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, td.SStruct(numbers.ImportResult{Read: len(all) + 1, Created: 1, Updated: 1, Unchanged: len(want) - 1, Conflicts: []string{}}, td.StructFields{"Skipped": td.Gt(0)}))
	td.Cmp(t, e.inventoryTruth(), e.graphTruth())
	td.Cmp(t, e.inventory()["+12065550777"].SiteID, "", "new numbers get the import's site")
	td.Cmp(t, e.inventory()[free].SiteID, "seattle", "a known number keeps its site")
	td.Cmp(t, e.provisioning(u.ID).Number, free, "the user's provisioning follows")

	// An unknown site is refused before anything is read.
	_, err = e.svc.Import(e.ctx, e.cust.ID, "admin", "nowhere")
	td.Cmp(t, fieldsOf(t, err), map[string]string{"siteId": "no such site of this customer"})
}

func TestAssignByHandThenRelease(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Import(e.ctx, e.cust.ID, "admin", "seattle")
	td.Require(t).CmpNoError(err)
	u := e.phoneUser()
	free := e.freeNumber(domain.NumberDirectRouting)

	n, err := e.svc.AssignByHand(e.ctx, e.cust.ID, strings.TrimPrefix(free.Number, "+"), strings.ToUpper(u.ID), "admin")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n, td.SuperJSONOf(`{"number": $1, "status": "assigned", "userId": $2, "userName": $3}`, free.Number, u.ID, u.DisplayName))
	sn := e.simNumber(free.Number)
	td.Cmp(t, strings.ToLower(sn.AssignmentTargetID), u.ID, "Teams shows the number on the user")
	td.Cmp(t, sn.AssignmentStatus, graphsim.NumberUserAssigned)
	stored := e.inventory()[free.Number]
	td.Cmp(t, stored.Status, domain.NumberAssigned)
	td.Cmp(t, stored.UserName, u.DisplayName, "flagged with the user's name")
	td.Cmp(t, e.provisioning(u.ID), td.SuperJSONOf(`{"number": $1, "numberType": "directRouting", "siteId": "seattle", "reservedNumber": ""}`, free.Number))

	// Again: idempotent. Another number for the same user: refused before Teams is asked.
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, free.Number, u.ID, "admin")
	td.CmpNoError(t, err)
	other := e.freeNumber(domain.NumberDirectRouting)
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, other.Number, u.ID, "admin")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains("holds "+free.Number+" already"))
	td.Cmp(t, e.inventory()[other.Number].Status, domain.NumberAvailable)
	// The number is someone else's now.
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, free.Number, e.phoneUser(u.ID).ID, "admin")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)

	before := time.Now().UTC()
	rel, err := e.svc.Release(e.ctx, e.cust.ID, free.Number, "admin")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, rel, td.SuperJSONOf(`{"number": $1, "status": "quarantined", "userId": "", "userName": ""}`, free.Number))
	td.Require(t).NotNil(rel.QuarantinedUntil)
	td.Cmp(t, *rel.QuarantinedUntil, td.Between(before.AddDate(0, 0, domain.DefaultQuarantineDays), time.Now().UTC().AddDate(0, 0, domain.DefaultQuarantineDays)))
	sn = e.simNumber(free.Number)
	td.Cmp(t, sn.AssignmentStatus, graphsim.NumberUnassigned, "Teams shows it free")
	td.Cmp(t, sn.AssignmentTargetID, "")
	td.Cmp(t, e.provisioning(u.ID).Number, "")

	// Released again, or the user released: nothing to do.
	again, err := e.svc.Release(e.ctx, e.cust.ID, free.Number, "admin")
	td.CmpNoError(t, err)
	td.Cmp(t, again.Status, domain.NumberQuarantined)
	none, err := e.svc.ReleaseUser(e.ctx, e.cust.ID, u.ID, "admin")
	td.CmpNoError(t, err)
	td.Cmp(t, none, td.Nil())
	// Quarantined: not for hand assignment either.
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, free.Number, u.ID, "admin")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)

	// Offboarding releases the user's number, even when Teams shows it free already.
	n2, err := e.svc.AssignByHand(e.ctx, e.cust.ID, other.Number, u.ID, "admin")
	td.Require(t).CmpNoError(err)
	g := e.svc.Graph.(*graph.Factory)
	td.Require(t).CmpNoError(g.UnassignNumber(e.ctx, tenant, n2.Number, n2.Type))
	got, err := e.svc.ReleaseUser(e.ctx, e.cust.ID, u.ID, "admin")
	td.Require(t).CmpNoError(err)
	td.Require(t).NotNil(got)
	td.Cmp(t, got.Number, other.Number)
	td.Cmp(t, got.Status, domain.NumberQuarantined)
}

func TestPermanentRefusalCancelsTheReservation(t *testing.T) {
	e := newEnv(t)
	u := e.phoneUser()
	// A number Teams does not know.
	_, err := e.svc.Add(e.ctx, e.cust.ID, "admin", numbers.AddInput{Number: "+12065559901", Type: "directRouting", SiteID: "seattle"})
	td.Require(t).CmpNoError(err)

	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, "+12065559901", u.ID, "admin")
	var ne *graph.NumberError
	td.Require(t).True(errors.As(err, &ne), "%v", err)
	td.Cmp(t, ne.Kind, graph.NumberNotFound)
	td.Cmp(t, numbers.Retryable(err), false)
	n := e.inventory()["+12065559901"]
	td.Cmp(t, n, td.SuperJSONOf(`{"status": "available", "userId": "", "userName": ""}`), "available again")
	td.Cmp(t, e.provisioning(u.ID), td.SuperJSONOf(`{"number": "", "reservedNumber": ""}`))

	// The staging path: reserve on the site, then complete.
	r, err := e.svc.Reserve(e.ctx, e.cust, e.site, u)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, r, td.SuperJSONOf(`{"number": "+12065559901", "status": "reserved", "userId": $1}`, u.ID))
	_, err = e.svc.Complete(e.ctx, e.cust, r, u, e.site.ID, "job:staging")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	td.Cmp(t, e.inventory()["+12065559901"].Status, domain.NumberAvailable)
	td.Cmp(t, e.provisioning(u.ID).ReservedNumber, "")
}

func TestUserNotInTeamsKeepsTheReservation(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Import(e.ctx, e.cust.ID, "admin", "seattle")
	td.Require(t).CmpNoError(err)
	u := e.notInTeams()

	r, err := e.svc.Reserve(e.ctx, e.cust, e.site, u)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, r.Type, domain.NumberDirectRouting, "the site's policy type")
	_, err = e.svc.Complete(e.ctx, e.cust, r, u, e.site.ID, "job:staging")
	var ne *graph.NumberError
	td.Require(t).True(errors.As(err, &ne), "%v", err)
	td.Cmp(t, ne.Kind, graph.NumberUserNotInTeams)
	td.Cmp(t, numbers.Retryable(err), true)
	td.Cmp(t, e.inventory()[r.Number], td.SuperJSONOf(`{"status": "reserved", "userId": $1}`, u.ID), "kept for the retry")
	td.Cmp(t, e.provisioning(u.ID).ReservedNumber, r.Number)
	again, err := e.svc.Reserve(e.ctx, e.cust, e.site, u)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again.Number, r.Number, "a retry resumes with the same number")

	// By hand nobody retries: the reservation goes.
	other := e.notInTeamsOther(u.ID)
	free := e.freeNumber(domain.NumberDirectRouting)
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, free.Number, other.ID, "admin")
	td.Cmp(t, numbers.Retryable(err), true)
	td.Cmp(t, e.inventory()[free.Number].Status, domain.NumberAvailable)
	td.Cmp(t, e.provisioning(other.ID).ReservedNumber, "")

	// Releasing the stuck reservation frees it at once.
	rel, err := e.svc.ReleaseUser(e.ctx, e.cust.ID, u.ID, "admin")
	td.Require(t).CmpNoError(err)
	td.Require(t).NotNil(rel)
	td.Cmp(t, rel.Status, domain.NumberAvailable)
	td.Cmp(t, e.provisioning(u.ID).ReservedNumber, "")
}

// notInTeamsOther returns another user outside Teams than skip: one with no licence at all will do.
func (e *env) notInTeamsOther(skip string) domain.User {
	e.t.Helper()
	tus, err := e.sim.TeamsUsers(tenant)
	td.Require(e.t).CmpNoError(err)
	for _, tu := range tus {
		if !tu.Provisioned && strings.ToLower(tu.ID) != skip {
			return e.user(tu.ID)
		}
	}
	e.t.Fatal("no second user outside Teams")
	return domain.User{}
}

// audits returns the actions and outcomes of the customer's audit records about a user, oldest first.
func (e *env) audits(userID string) []string {
	e.t.Helper()
	page, err := e.store.ListAudit(e.ctx, e.cust.ID, store.AuditQuery{UserID: userID, Limit: 100})
	td.Require(e.t).CmpNoError(err)
	var out []string
	for _, r := range slices.Backward(page.Items) {
		out = append(out, r.Action+" "+r.Outcome)
	}
	return out
}

func TestNumberTakenInTeamsIsReReadFromGraph(t *testing.T) {
	e := newEnv(t)
	holder := e.phoneUser()
	u := e.phoneUser(holder.ID)
	// Teams has the number on holder, the inventory believes it free (added by hand before an import).
	td.Require(t).CmpNoError(e.sim.AddNumbers(tenant, graphsim.PhoneNumber{TelephoneNumber: "+12065559902", NumberType: graphsim.NumberDirectRouting,
		AssignmentTargetID: holder.ID}))
	_, err := e.svc.Add(e.ctx, e.cust.ID, "admin", numbers.AddInput{Number: "+12065559902", Type: "directRouting", SiteID: "seattle", Extension: "9902"})
	td.Require(t).CmpNoError(err)

	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, "+12065559902", u.ID, "admin")
	var ne *graph.NumberError
	td.Require(t).True(errors.As(err, &ne), "%v", err)
	td.Cmp(t, ne.Kind, graph.NumberTaken)
	td.Cmp(t, e.inventory()["+12065559902"], td.SuperJSONOf(`{"status": "assigned", "userId": $1, "userName": $2, "siteId": "seattle", "extension": "9902"}`,
		holder.ID, holder.DisplayName), "the inventory now says whose it is, and will not offer it again")
	td.Cmp(t, e.provisioning(u.ID), td.SuperJSONOf(`{"number": "", "reservedNumber": ""}`))
	td.Cmp(t, e.provisioning(holder.ID).Number, "+12065559902")
	td.Cmp(t, e.audits(u.ID), []string{"number.assign failed"})

	// A successful assignment and release are audited too.
	free := e.freeNumberAdded("+12065559903")
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, free, u.ID, "admin")
	td.Cmp(t, err, td.Not(td.Nil()), "not in Teams' inventory")
	td.Require(t).CmpNoError(e.sim.AddNumbers(tenant, graphsim.PhoneNumber{TelephoneNumber: free, NumberType: graphsim.NumberDirectRouting}))
	_, err = e.svc.AssignByHand(e.ctx, e.cust.ID, free, u.ID, "admin")
	td.Require(t).CmpNoError(err)
	_, err = e.svc.Release(e.ctx, e.cust.ID, free, "admin")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, e.audits(u.ID), []string{"number.assign failed", "number.assign failed", "number.assign ok", "number.release ok"})
}

// freeNumberAdded adds one number by hand and returns it.
func (e *env) freeNumberAdded(number string) string {
	e.t.Helper()
	_, err := e.svc.Add(e.ctx, e.cust.ID, "admin", numbers.AddInput{Number: number, Type: "directRouting", SiteID: "seattle"})
	td.Require(e.t).CmpNoError(err)
	return number
}

func TestReleaseNeverUnassignsSomeoneElsesNumber(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Import(e.ctx, e.cust.ID, "admin", "seattle")
	td.Require(t).CmpNoError(err)
	var held domain.Number
	for _, n := range e.inventory() {
		if n.Status == domain.NumberAssigned && n.Type == domain.NumberDirectRouting {
			held = n
			break
		}
	}
	td.Require(t).NotZero(held.Number, "an assigned direct routing number")
	// Behind Seatwise's back, Teams moves the number to another user.
	other := e.phoneUser()
	g := e.svc.Graph.(*graph.Factory)
	td.Require(t).CmpNoError(g.UnassignNumber(e.ctx, tenant, held.Number, held.Type))
	td.Require(t).CmpNoError(g.AssignNumber(e.ctx, tenant, graph.NumberAssignment{TelephoneNumber: held.Number, AssignmentTargetID: other.ID, NumberType: held.Type}))

	_, err = e.svc.Release(e.ctx, e.cust.ID, held.Number, "admin")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), td.Contains("nothing was unassigned"))
	td.Cmp(t, strings.ToLower(e.simNumber(held.Number).AssignmentTargetID), other.ID, "still the other user's in Teams")
	td.Cmp(t, e.inventory()[held.Number], td.SuperJSONOf(`{"status": "assigned", "userId": $1, "userName": $2}`, other.ID, other.DisplayName),
		"the inventory follows Teams")
	td.Cmp(t, e.provisioning(held.UserID).Number, "", "the previous holder no longer has it")
}
