package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// Users are found by their exact UPN in any letter case, one Query each or by reading the customer's UPN index;
// a UPN that is the start of another ("#" may appear before the @) finds only its own user; an active user wins
// over a removed one of the same UPN; another customer's users are never found.
func TestUsersByUPN(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	user := func(c, id, upn string) domain.User {
		return domain.User{CustomerID: c, ID: id, UserPrincipalName: upn, DisplayName: "User " + id, Status: domain.UserActive,
			BusinessPhones: []string{}, Licences: []domain.Licence{}}
	}
	var users []domain.User
	for i := range 12 {
		users = append(users, user("c1", fmt.Sprintf("u%02d", i), fmt.Sprintf("Person.%02d@Contoso.com", i)))
	}
	users = append(users,
		user("c1", "hash", "ab#c@contoso.com"),
		user("c1", "plain", "ab@contoso.com"),
		user("c1", "old", "reused@contoso.com"),
		user("c1", "new", "reused@contoso.com"))
	_, err := st.ApplyUsers(ctx, "c1", users, nil, at)
	td.Require(t).CmpNoError(err)
	_, err = st.ApplyUsers(ctx, "c1", nil, []store.Removal{{ID: "old", Status: domain.UserDeleted}}, at)
	td.Require(t).CmpNoError(err)
	_, err = st.ApplyUsers(ctx, "c2", []domain.User{user("c2", "other", "person.01@contoso.com")}, nil, at)
	td.Require(t).CmpNoError(err)

	u, err := st.UserByUPN(ctx, "c1", " PERSON.03@contoso.COM ")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, u.ID, "u03")
	u, err = st.UserByUPN(ctx, "c1", "ab@contoso.com")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, u.ID, "plain")
	u, err = st.UserByUPN(ctx, "c1", "ab#c@contoso.com")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, u.ID, "hash")
	u, err = st.UserByUPN(ctx, "c1", "reused@contoso.com")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, u.ID, "new", "the active user of a reused UPN")
	_, err = st.UserByUPN(ctx, "c1", "ab")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = st.UserByUPN(ctx, "c2", "person.02@contoso.com")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "another customer's")

	want := []string{"person.00@contoso.com", "PERSON.11@CONTOSO.COM", "ab@contoso.com", "ab#c@contoso.com", "reused@contoso.com",
		"nobody@contoso.com", "person.00@contoso.com", ""}
	ids := func(m map[string]domain.User) map[string]string {
		out := map[string]string{}
		for k, u := range m {
			out[k] = u.ID
		}
		return out
	}
	expect := map[string]string{"person.00@contoso.com": "u00", "person.11@contoso.com": "u11", "ab@contoso.com": "plain",
		"ab#c@contoso.com": "hash", "reused@contoso.com": "new"}
	got, err := st.UsersByUPN(ctx, "c1", want)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ids(got), expect, "one Query per UPN")

	defer store.SetUPNQueryLimit(2)()
	got, err = st.UsersByUPN(ctx, "c1", want)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ids(got), expect, "the index read whole")
	got, err = st.UsersByUPN(ctx, "c2", want)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ids(got), map[string]string{}, "another customer's users are not found")
}
