package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
)

// newSerialTxStore is a store whose transactions are isolated from other writes, as DynamoDB's are and moto's
// are not (see store.TxIsolated): races between transactions are tested over it (the reads that lead to them still
// interleave).
func newSerialTxStore(t *testing.T) *store.Store {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	return store.New(store.TxIsolated(dynamodb.NewFromConfig(cfg)), stack.TableName)
}

// numbersFrom returns n numbers base+i (i from first), each with extension "1" + its last three digits.
func numbersFrom(base string, first, n int, typ, site string) []domain.Number {
	out := make([]domain.Number, n)
	for i := range out {
		nr := fmt.Sprintf("%s%02d", base, first+i)
		out[i] = domain.Number{Number: nr, Type: typ, SiteID: site, Extension: "1" + nr[len(nr)-3:]}
	}
	return out
}

func numbersOf(ns []domain.Number) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Number)
	}
	return out
}

// listAll pages through ListNumbers with a small limit and returns every number listed, and the page count.
func listAll(t *testing.T, st *store.Store, q store.NumberQuery) ([]string, int) {
	t.Helper()
	var all []string
	pages := 0
	for {
		page, err := st.ListNumbers(context.Background(), "c1", q)
		td.Require(t).CmpNoError(err)
		all = append(all, numbersOf(page.Items)...)
		pages++
		if page.NextCursor == "" || pages > 50 {
			return all, pages
		}
		q.Cursor = page.NextCursor
	}
}

func TestNumberInventory(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)

	london := numbersFrom("+4420712345", 0, 25, domain.NumberDirectRouting, "s1")
	paris := numbersFrom("+3314000000", 0, 5, domain.NumberOperatorConnect, "s2")
	added, existing, err := st.AddNumbers(ctx, "c1", append(london[:20:20], paris...), "alice", at)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(added), 25)
	td.CmpEmpty(t, existing)

	// Adding again reports the numbers already there and leaves them unchanged.
	added, existing, err = st.AddNumbers(ctx, "c1", append(london[15:], london[0]), "bob", at.Add(time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, added, numbersOf(london[20:]))
	td.Cmp(t, existing, append([]string{london[0].Number}, numbersOf(london[15:20])...))

	got, err := st.GetNumber(ctx, "c1", "4420712345"+"00") // without the "+"
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, domain.Number{CustomerID: "c1", Number: "+442071234500", Type: domain.NumberDirectRouting, SiteID: "s1",
		Extension: "1500", Status: domain.NumberAvailable, Source: "manual", Version: 1, UpdatedAt: at})
	_, err = st.GetNumber(ctx, "c1", "+449999")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	// Everything, by number, over several pages.
	all, pages := listAll(t, st, store.NumberQuery{Limit: 7})
	td.Cmp(t, all, append(numbersOf(paris), numbersOf(london)...))
	td.Cmp(t, pages, 5)

	// Number prefixes, with or without "+", spaces and dashes ignored; short digit strings match extensions too.
	for _, q := range []string{"+44207123451", "44207123451", "+44 207-123 451"} {
		got, _ := listAll(t, st, store.NumberQuery{Q: q, Limit: 4})
		td.Cmp(t, got, numbersOf(london[10:20]), q)
	}
	got2, _ := listAll(t, st, store.NumberQuery{Q: "33", Limit: 2})
	td.Cmp(t, got2, numbersOf(paris), "short prefix")
	got2, _ = listAll(t, st, store.NumberQuery{Q: "1503", Limit: 2})
	td.Cmp(t, got2, []string{"+442071234503"}, "extension")

	// Filters, paged: a filtered page may be short, the cursor carries on.
	got2, _ = listAll(t, st, store.NumberQuery{SiteID: "s2", Limit: 2})
	td.Cmp(t, got2, numbersOf(paris))
	got2, _ = listAll(t, st, store.NumberQuery{Type: domain.NumberDirectRouting, Status: domain.NumberAvailable, Limit: 6})
	td.Cmp(t, got2, numbersOf(london))
	got2, _ = listAll(t, st, store.NumberQuery{Q: "+44", SiteID: "s2"})
	td.CmpEmpty(t, got2)

	// A holder's name (any case) or id finds their number.
	_, err = st.ReserveSpecificNumber(ctx, "c1", london[3].Number, domain.User{ID: "U-ADA", DisplayName: "Ada Lovelace"}, at)
	td.Require(t).CmpNoError(err)
	for _, q := range []string{"lovel", "ADA LOVELACE", "u-ada"} {
		got2, _ = listAll(t, st, store.NumberQuery{Q: q})
		td.Cmp(t, got2, []string{london[3].Number}, q)
	}
	got2, _ = listAll(t, st, store.NumberQuery{Status: domain.NumberReserved})
	td.Cmp(t, got2, []string{london[3].Number})

	_, err = st.ListNumbers(ctx, "c1", store.NumberQuery{Status: "lost"})
	td.Cmp(t, fieldsOf(err), td.ContainsKey("status"))
	_, err = st.ListNumbers(ctx, "c1", store.NumberQuery{Type: "mobile"})
	td.Cmp(t, fieldsOf(err), td.ContainsKey("type"))
	_, err = st.ListNumbers(ctx, "c1", store.NumberQuery{Cursor: "bogus"})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)

	// Updates need the current version and change only site, extension and type.
	edit := got
	edit.SiteID, edit.Extension, edit.Type, edit.Status = "s2", "9", domain.NumberCallingPlan, domain.NumberAssigned
	updated, err := st.UpdateNumber(ctx, edit, 1, "alice", at.Add(2*time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, updated, td.SuperJSONOf(`{"siteId":"s2","extension":"9","type":"callingPlan","status":"available","version":2}`))
	_, err = st.UpdateNumber(ctx, edit, 1, "bob", at.Add(3*time.Second))
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})
	got2, _ = listAll(t, st, store.NumberQuery{SiteID: "s2", Type: domain.NumberCallingPlan})
	td.Cmp(t, got2, []string{london[0].Number})

	// Only free numbers can be deleted.
	reserved, err := st.GetNumber(ctx, "c1", london[3].Number)
	td.Require(t).CmpNoError(err)
	err = st.DeleteNumber(ctx, "c1", london[3].Number, reserved.Version, "alice", at)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("Ada Lovelace")))
	td.Cmp(t, domain.ErrorCode(st.DeleteNumber(ctx, "c1", london[0].Number, 1, "alice", at)), domain.EConflict, "stale")
	td.CmpNoError(t, st.DeleteNumber(ctx, "c1", london[0].Number, 2, "alice", at))
	_, err = st.GetNumber(ctx, "c1", london[0].Number)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Smuggle(actionsOf, td.Bag("number.add", "number.add", "number.update", "number.delete")))
	td.Cmp(t, page.Items, td.Contains(td.SuperJSONOf(`{"action":"number.add","actor":"alice","after":{"count":25,"first":"+331400000000","last":"+442071234519","existing":0}}`)))
}

func user(id, name string) domain.User {
	return domain.User{CustomerID: "c1", ID: id, DisplayName: name}
}

func TestNumberReservationLifecycle(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))
	td.Require(t).CmpNoError(st.CreateSite(ctx, domain.Site{ID: "s1", CustomerID: "c1", Name: "London"}, "test"))
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	const a, b = "+441110000001", "+441110000002"
	dr := domain.NumberDirectRouting
	_, _, err := st.AddNumbers(ctx, "c1", []domain.Number{{Number: b, Type: dr, SiteID: "s1", Extension: "2"},
		{Number: a, Type: dr, SiteID: "s1", Extension: "1"}}, "alice", now)
	td.Require(t).CmpNoError(err)
	u1, u2, u3 := user("U1", "Ada"), user("u2", "Bob"), user("u3", "Cy")
	prov := func(u domain.User) domain.Provisioning {
		t.Helper()
		p, err := st.GetProvisioning(ctx, "c1", u.ID)
		td.Require(t).CmpNoError(err)
		return p
	}

	td.Cmp(t, prov(u1), domain.Provisioning{CustomerID: "c1", UserID: "u1"}, "nothing provisioned yet")

	// The lowest available number is reserved, and the user's provisioning names it.
	n, err := st.ReserveNumber(ctx, "c1", "s1", dr, u1, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n, td.SStruct(domain.Number{Number: a, Status: domain.NumberReserved, UserID: "u1", UserName: "Ada", Version: 2}, td.StructFields{"=*": td.Ignore()}))
	td.Cmp(t, prov(u1), td.SuperJSONOf(`{"reservedNumber":$1,"number":""}`, a))
	// A crash after the reservation: reserving again resumes it, leaving the other number free.
	again, err := st.ReserveNumber(ctx, "c1", "s1", dr, u1, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, n)
	free, _ := st.GetNumber(ctx, "c1", b)
	td.Cmp(t, free.Status, domain.NumberAvailable)
	// ...and so does a reservation of that very number.
	again, err = st.ReserveSpecificNumber(ctx, "c1", a, u1, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, n)

	// Cancelled: available again (reservable), the user's reservation cleared; cancelling twice is fine.
	td.Require(t).CmpNoError(st.CancelReservation(ctx, "c1", a, "U1", now))
	td.CmpNoError(t, st.CancelReservation(ctx, "c1", a, "u1", now), "idempotent")
	got, _ := st.GetNumber(ctx, "c1", a)
	td.Cmp(t, got, td.SuperJSONOf(`{"status":"available","userId":"","userName":"","version":3}`))
	td.Cmp(t, prov(u1).ReservedNumber, "")

	// Completed: assigned, and the user's provisioning holds it with its site, type and extension.
	_, err = st.ReserveNumber(ctx, "c1", "s1", "", u1, now) // "" = any type
	td.Require(t).CmpNoError(err)
	_, err = st.CompleteNumberAssignment(ctx, "c1", a, u2, "s1", now)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "not reserved for u2")
	n, err = st.CompleteNumberAssignment(ctx, "c1", a, domain.User{ID: "u1", DisplayName: "Ada Lovelace"}, "s1", now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n, td.SuperJSONOf(`{"status":"assigned","userId":"u1","userName":"Ada Lovelace","version":5}`))
	td.Cmp(t, prov(u1), td.SuperJSONOf(`{"siteId":"s1","number":$1,"numberType":"directRouting","extension":"1","reservedNumber":""}`, a))
	again, err = st.CompleteNumberAssignment(ctx, "c1", a, u1, "s1", now.Add(time.Minute))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, n, "idempotent, no write")
	// A user holding a number keeps it.
	again, err = st.ReserveNumber(ctx, "c1", "s1", dr, u1, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, n)
	_, err = st.ReserveSpecificNumber(ctx, "c1", b, u1, now)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Re("already holds number \\"+a)))
	_, err = st.ReserveSpecificNumber(ctx, "c1", a, u2, now)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("Ada Lovelace")), "names the holder")
	_, err = st.ReserveSpecificNumber(ctx, "c1", "+440000", u2, now)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	// The holder's provisioning follows an edit of the number; placing them on a site keeps their number.
	n, err = st.UpdateNumber(ctx, domain.Number{CustomerID: "c1", Number: a, SiteID: "s1", Extension: "101", Type: dr}, n.Version, "alice", now)
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(st.SetProvisionedSite(ctx, "c1", "U1", "s2", now))
	td.Cmp(t, prov(u1), td.SuperJSONOf(`{"siteId":"s2","number":$1,"extension":"101"}`, a))

	// Released into quarantine for 10 days: not reservable before, reservable after.
	n, err = st.ReleaseNumber(ctx, "c1", a, now.Add(10*day), now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n, td.SuperJSONOf(`{"status":"quarantined","userId":"","userName":"","quarantinedUntil":$1}`, now.Add(10*day)))
	td.Cmp(t, prov(u1), td.SuperJSONOf(`{"siteId":"s2","number":"","numberType":"","extension":""}`))
	same, err := st.ReleaseNumber(ctx, "c1", a, now.Add(20*day), now.Add(time.Hour))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, same, n, "releasing a free number changes nothing")

	n, err = st.ReserveNumber(ctx, "c1", "s1", dr, u2, now.Add(day))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n.Number, b)
	_, err = st.CompleteNumberAssignment(ctx, "c1", b, u2, "", now.Add(day))
	td.Require(t).CmpNoError(err)
	_, err = st.ReserveNumber(ctx, "c1", "s1", dr, u3, now.Add(day))
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, "no free directRouting number on site London"))
	_, err = st.ReserveNumber(ctx, "c1", "s1", domain.NumberCallingPlan, u3, now.Add(20*day))
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, "no free callingPlan number on site London"))
	_, err = st.ReserveSpecificNumber(ctx, "c1", a, u3, now.Add(day))
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("quarantine until 2030-01-11")))
	td.Cmp(t, prov(u3).ReservedNumber, "", "refusals change nothing")
	n, err = st.ReserveNumber(ctx, "c1", "s1", dr, u3, now.Add(10*day)) // the quarantine ends at this very time
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n, td.SuperJSONOf(`{"number":$1,"status":"reserved","userId":"u3"}`, a))
	td.Cmp(t, n.QuarantinedUntil, td.Nil())
	td.CmpNoError(t, st.CancelReservation(ctx, "c1", a, "u3", now.Add(10*day)))

	// Releasing with a quarantine already over makes the number available at once.
	n, err = st.ReleaseNumber(ctx, "c1", b, now.Add(day), now.Add(2*day))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, n.Status, domain.NumberAvailable)
	td.Cmp(t, prov(u2).Number, "")

	// Order: available numbers (by number) before those whose quarantine ended (the earliest ended first).
	const c, d, e = "+441110000003", "+441110000004", "+441110000009"
	_, _, err = st.AddNumbers(ctx, "c1", []domain.Number{{Number: c, Type: dr, SiteID: "s1"}, {Number: d, Type: dr, SiteID: "s1"},
		{Number: e, Type: domain.NumberCallingPlan, SiteID: "s1"}}, "alice", now)
	td.Require(t).CmpNoError(err)
	for i, nr := range []string{a, b, c, d} { // a, c quarantined until day 12, d until day 11; b assigned
		holder := user(fmt.Sprintf("h%d", i), "Holder")
		_, err := st.ReserveSpecificNumber(ctx, "c1", nr, holder, now.Add(10*day))
		td.Require(t).CmpNoError(err)
		_, err = st.CompleteNumberAssignment(ctx, "c1", nr, holder, "s1", now.Add(10*day))
		td.Require(t).CmpNoError(err)
		if nr != b {
			until := now.Add(12 * day)
			if nr == d {
				until = now.Add(11 * day)
			}
			_, err = st.ReleaseNumber(ctx, "c1", nr, until, now.Add(10*day))
			td.Require(t).CmpNoError(err)
		}
	}
	later := now.Add(30 * day)
	var order []string
	for i := range 4 {
		n, err := st.ReserveNumber(ctx, "c1", "s1", "", user(fmt.Sprintf("o%d", i), "O"), later)
		td.Require(t).CmpNoError(err)
		order = append(order, n.Number)
	}
	td.Cmp(t, order, []string{e, d, a, c})
	_, err = st.ReserveNumber(ctx, "c1", "s1", "", user("o9", "O"), later)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, "no free number on site London"))
}

// A user never holds two numbers: completing a second reservation for a user who got a number meanwhile (here
// by an import from Teams) fails and changes nothing.
func TestNumberUserNeverHoldsTwo(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	dr := domain.NumberDirectRouting
	const x, y = "+441110000001", "+441110000002"
	_, _, err := st.AddNumbers(ctx, "c1", []domain.Number{{Number: x, Type: dr, SiteID: "s1"}, {Number: y, Type: dr, SiteID: "s1"}}, "alice", now)
	td.Require(t).CmpNoError(err)
	u := user("u1", "Ada")
	_, err = st.ReserveSpecificNumber(ctx, "c1", y, u, now)
	td.Require(t).CmpNoError(err)
	created, err := st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: dr, Status: domain.NumberAssigned, UserID: "u1", UserName: "Ada"}, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, created, false)

	yBefore, _ := st.GetNumber(ctx, "c1", y)
	provBefore, _ := st.GetProvisioning(ctx, "c1", "u1")
	td.Cmp(t, provBefore, td.SuperJSONOf(`{"number":$1,"reservedNumber":$2}`, x, y))
	_, err = st.CompleteNumberAssignment(ctx, "c1", y, u, "s1", now.Add(time.Minute))
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("already holds number "+x)))
	yAfter, _ := st.GetNumber(ctx, "c1", y)
	provAfter, _ := st.GetProvisioning(ctx, "c1", "u1")
	td.Cmp(t, yAfter, yBefore, "number unchanged")
	td.Cmp(t, provAfter, provBefore, "provisioning unchanged")

	// Cancelling the stray reservation clears it.
	td.Require(t).CmpNoError(st.CancelReservation(ctx, "c1", y, "u1", now))
	provAfter, _ = st.GetProvisioning(ctx, "c1", "u1")
	td.Cmp(t, provAfter, td.SuperJSONOf(`{"number":$1,"reservedNumber":""}`, x))
}

// Two users racing for the one free number of a site: exactly one wins; and one user reserving twice at once
// ends with one number.
func TestNumberReservationRace(t *testing.T) {
	st := newSerialTxStore(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	dr := domain.NumberDirectRouting
	for round := range 4 {
		site := fmt.Sprintf("race%d", round)
		nr := fmt.Sprintf("+4422200000%02d", round)
		_, _, err := st.AddNumbers(ctx, "c1", []domain.Number{{Number: nr, Type: dr, SiteID: site}}, "alice", now)
		td.Require(t).CmpNoError(err)
		users := []domain.User{user(fmt.Sprintf("r%da", round), "A"), user(fmt.Sprintf("r%db", round), "B")}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() { _, errs[i] = st.ReserveNumber(ctx, "c1", site, dr, u, now) })
		}
		wg.Wait()
		codes := []string{domain.ErrorCode(errs[0]), domain.ErrorCode(errs[1])}
		td.Cmp(t, codes, td.Bag("", domain.EConflict), "round %d", round)
		n, _ := st.GetNumber(ctx, "c1", nr)
		winner := 0
		if errs[0] != nil {
			winner = 1
		}
		td.Cmp(t, n.UserID, users[winner].ID)
		for i, u := range users {
			p, _ := st.GetProvisioning(ctx, "c1", u.ID)
			if i == winner {
				td.Cmp(t, p.ReservedNumber, nr)
			} else {
				td.Cmp(t, p.ReservedNumber, "")
			}
		}
	}

	// One user, two concurrent reservations, two free numbers: both calls answer the same number.
	_, _, err := st.AddNumbers(ctx, "c1", numbersFrom("+4433300000", 0, 2, dr, "twice"), "alice", now)
	td.Require(t).CmpNoError(err)
	got := make([]domain.Number, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { got[i], errs[i] = st.ReserveNumber(ctx, "c1", "twice", dr, user("same", "S"), now) })
	}
	wg.Wait()
	td.Require(t).CmpNoError(errs[0])
	td.Require(t).CmpNoError(errs[1])
	td.Cmp(t, got[0].Number, got[1].Number)
	free, _ := listAll(t, st, store.NumberQuery{SiteID: "twice", Status: domain.NumberAvailable})
	td.Cmp(t, len(free), 1)
}

func TestImportNumber(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	dr, oc := domain.NumberDirectRouting, domain.NumberOperatorConnect
	const x, y = "+441110000001", "+441110000002"
	prov := func(id string) domain.Provisioning {
		t.Helper()
		p, err := st.GetProvisioning(ctx, "c1", id)
		td.Require(t).CmpNoError(err)
		return p
	}

	// A new unassigned number is created available, with the given site.
	created, err := st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: dr, Status: "unassigned", SiteID: "s1", Extension: "11"}, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, created, true)
	n, _ := st.GetNumber(ctx, "c1", x)
	td.Cmp(t, n, domain.Number{CustomerID: "c1", Number: x, Type: dr, SiteID: "s1", Extension: "11", Status: domain.NumberAvailable,
		Source: "graph", Version: 1, UpdatedAt: now})

	// Then seen assigned: status, holder and type follow Graph, site and extension stay; the holder's provisioning
	// names it.
	created, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: oc, Status: domain.NumberAssigned,
		UserID: "U1", UserName: "Ada", SiteID: "other", Extension: "99"}, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, created, false)
	n, _ = st.GetNumber(ctx, "c1", x)
	td.Cmp(t, n, td.SuperJSONOf(`{"type":"operatorConnect","status":"assigned","userId":"u1","userName":"Ada","siteId":"s1","extension":"11","version":2}`))
	td.Cmp(t, prov("u1"), td.SuperJSONOf(`{"number":$1,"numberType":"operatorConnect","extension":"11"}`, x))
	// The same again writes nothing.
	_, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: oc, Status: domain.NumberAssigned, UserID: "u1", UserName: "Ada"}, now)
	td.Require(t).CmpNoError(err)
	n, _ = st.GetNumber(ctx, "c1", x)
	td.Cmp(t, n.Version, int64(2))

	// Moved to another user in Teams: the previous holder no longer holds it.
	_, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: oc, Status: domain.NumberAssigned, UserID: "u2", UserName: "Bob"}, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, prov("u1").Number, "")
	td.Cmp(t, prov("u2").Number, x)

	// A new number Teams shows assigned to a user who holds another: refused, nothing created.
	_, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: y, Type: dr, Status: domain.NumberAssigned, UserID: "u2", UserName: "Bob"}, now)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("already holds number "+x)))
	_, err = st.GetNumber(ctx, "c1", y)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	created, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: y, Type: dr, Status: domain.NumberAssigned, UserID: "u3", UserName: "Cy"}, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, created, true)
	td.Cmp(t, prov("u3"), td.SuperJSONOf(`{"number":$1,"numberType":"directRouting"}`, y))

	// Unassigned in Teams: available again, and the holder's provisioning cleared.
	_, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: oc, Status: "unassigned"}, now)
	td.Require(t).CmpNoError(err)
	n, _ = st.GetNumber(ctx, "c1", x)
	td.Cmp(t, n, td.SuperJSONOf(`{"status":"available","userId":"","userName":""}`))
	td.Cmp(t, prov("u2").Number, "")

	// A reservation in progress (Teams does not show it yet) is left alone.
	_, err = st.ReserveSpecificNumber(ctx, "c1", x, user("u4", "Di"), now)
	td.Require(t).CmpNoError(err)
	_, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: oc, Status: "unassigned"}, now)
	td.Require(t).CmpNoError(err)
	n, _ = st.GetNumber(ctx, "c1", x)
	td.Cmp(t, n, td.SuperJSONOf(`{"status":"reserved","userId":"u4"}`))
	// ...but Teams showing it assigned to that user completes it.
	_, err = st.ImportNumber(ctx, domain.Number{CustomerID: "c1", Number: x, Type: oc, Status: domain.NumberAssigned, UserID: "u4", UserName: "Di"}, now)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, prov("u4"), td.SuperJSONOf(`{"number":$1,"reservedNumber":""}`, x))
}
