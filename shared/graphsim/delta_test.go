package graphsim_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/graphsim"
)

// deltaRound follows a delta round from path (relative to the simulator) to its deltaLink: the items of every
// page, the number of pages, and the deltaLink (relative).
func deltaRound(t *testing.T, run *graphsim.Running, tok, path string, hdr ...string) (items []map[string]any, pages int, deltaLink string) {
	t.Helper()
	for next := path; next != ""; {
		resp, body := call(t, run, "GET", next, tok, nil, hdr...)
		td.Require(t).Cmp(resp.StatusCode, 200, "GET %s: %v", next, body)
		m := body.(map[string]any)
		pages++
		for _, v := range m["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		next = ""
		if l, ok := m["@odata.nextLink"].(string); ok {
			td.Require(t).Cmp(m["@odata.deltaLink"], nil, "nextLink xor deltaLink")
			td.Cmp(t, l, td.All(td.HasPrefix(run.URL+"/v1.0/users/delta"), td.Contains("?$skiptoken=")))
			next = strings.TrimPrefix(l, run.URL)
		} else {
			dl, _ := m["@odata.deltaLink"].(string)
			td.Require(t).Cmp(dl, td.All(td.HasPrefix(run.URL+"/v1.0/users/delta"), td.Contains("?$deltatoken=")), "the last page has the deltaLink")
			deltaLink = strings.TrimPrefix(dl, run.URL)
		}
	}
	return items, pages, deltaLink
}

// ids splits delta items into changed user ids and removed ids with their reason.
func splitItems(items []map[string]any) (changed []string, removed map[string]string) {
	removed = map[string]string{}
	for _, it := range items {
		if r, ok := it["@removed"].(map[string]any); ok {
			removed[it["id"].(string)] = r["reason"].(string)
			continue
		}
		changed = append(changed, it["id"].(string))
	}
	return changed, removed
}

func TestUserDelta(t *testing.T) {
	run := graphsim.StartForTest(t)
	sim := run.Sim
	const ten = graphsim.FabrikamLegalID
	tok := accessToken(t, run, ten)
	users, _ := sim.Users(ten)

	// First round: every user once, over pages of the preferred size, then a deltaLink.
	items, pages, link := deltaRound(t, run, tok, "/v1.0/users/delta?$select=id,displayName,assignedLicenses,licenseAssignmentStates",
		"Prefer", "odata.maxpagesize=40")
	td.Cmp(t, pages, (len(users)+39)/40)
	changed, removed := splitItems(items)
	td.Cmp(t, removed, td.Empty())
	want := make([]string, len(users))
	for i, u := range users {
		want[i] = u.ID
	}
	td.Cmp(t, changed, want, "every user once, in id order")
	td.Cmp(t, items[0], td.Keys(td.Bag("id", "displayName", "assignedLicenses", "licenseAssignmentStates")))

	// Nothing changed: an empty round, and a new deltaLink.
	items, pages, link2 := deltaRound(t, run, tok, link)
	td.Cmp(t, items, td.Empty())
	td.Cmp(t, pages, 1)

	// An admin's changes: 3 edited, 1 soft-deleted, 1 hard-deleted, 1 added, and one user who only joins a
	// licensing group (delta does not see group-inherited licences).
	groups, err := sim.Groups(ten)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(groups, td.NotEmpty())
	joiner := ""
	for _, u := range users[10:] {
		if !hasID(groups[0].Members, u.ID) {
			joiner = u.ID
			break
		}
	}
	edited := []string{users[1].ID, users[2].ID, users[3].ID}
	dept := "Arbitration"
	for _, id := range edited {
		_, err := sim.UpdateUser(ten, id, graphsim.UserPatch{Department: &dept})
		td.Require(t).CmpNoError(err)
	}
	td.Require(t).CmpNoError(sim.DeleteUser(ten, users[4].ID))
	td.Require(t).CmpNoError(sim.PurgeUser(ten, users[5].ID))
	added, err := sim.AddUser(ten, graphsim.NewUser{DisplayName: "Nia Newcomer", UsageLocation: "GB"})
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(sim.AddGroupMember(ten, groups[0].ID, joiner))
	td.Require(t).CmpNoError(sim.SetGroupLicenses(ten, groups[1].ID, nil), "a group's licences change: no delta either")

	items, _, link3 := deltaRound(t, run, tok, link2)
	changed, removed = splitItems(items)
	td.Cmp(t, changed, td.Bag(edited[0], edited[1], edited[2], added.ID))
	td.Cmp(t, removed, map[string]string{users[4].ID: "changed", users[5].ID: "deleted"})
	for _, it := range items {
		if it["@removed"] == nil {
			td.Cmp(t, it, td.Keys(td.Bag("id", "displayName", "assignedLicenses", "licenseAssignmentStates")), "the round's $select is kept")
		} else {
			td.Cmp(t, it, td.Keys(td.Bag("id", "@removed")))
		}
	}
	td.CmpNot(t, changed, td.Contains(joiner), "a group membership change is not a user change")

	// The old deltaLink still works (and reports the same changes); restoring reports the user as changed.
	items, _, _ = deltaRound(t, run, tok, link2)
	td.Cmp(t, items, td.Len(6))
	td.Require(t).CmpNoError(sim.RestoreUser(ten, users[4].ID))
	items, _, link4 := deltaRound(t, run, tok, link3)
	changed, removed = splitItems(items)
	td.Cmp(t, changed, []string{users[4].ID})
	td.Cmp(t, removed, td.Empty())

	// Soft delete then permanent delete: one removal, the last reason.
	td.Require(t).CmpNoError(sim.DeleteUser(ten, users[6].ID))
	td.Require(t).CmpNoError(sim.PurgeUser(ten, users[6].ID))
	items, _, _ = deltaRound(t, run, tok, link4)
	_, removed = splitItems(items)
	td.Cmp(t, removed, map[string]string{users[6].ID: "deleted"})
}

func TestUserDeltaPathsAndQuery(t *testing.T) {
	run := graphsim.StartForTest(t)
	const ten = graphsim.ContosoDentalID
	tok := accessToken(t, run, ten)
	users, _ := run.Sim.Users(ten)

	// msgraph-sdk-go's spelling; its links keep it. The default page size is 100.
	items, pages, link := deltaRound(t, run, tok, "/v1.0/users/delta()?$select=id")
	td.Cmp(t, len(items), len(users))
	td.Cmp(t, pages, 1)
	td.Cmp(t, link, td.HasPrefix("/v1.0/users/delta()?$deltatoken="))
	resp, body := call(t, run, "GET", "/v1.0/users/delta", tok, nil, "Prefer", "odata.maxpagesize=5")
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, resp.Header.Get("Preference-Applied"), "odata.maxpagesize=5")
	td.Cmp(t, body, td.SuperMapOf(map[string]any{"value": td.Len(5), "@odata.nextLink": td.NotEmpty()}, nil))
	td.Cmp(t, body.(map[string]any)["value"].([]any)[0], td.Keys(td.Bag("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")), "default property set")
	st := run.Sim.Stats()
	td.Cmp(t, st.Count("GET /v1.0/users/delta()", 200), 1)
	td.Cmp(t, st.Count("GET /v1.0/users/delta", 200), 1)

	// $filter: only id eq '…' (up to 50); the filter sticks to the round and its deltaLink.
	f := fmt.Sprintf("id eq '%s' or id eq '%s'", users[3].ID, users[7].ID)
	items, _, link = deltaRound(t, run, tok, "/v1.0/users/delta?$select=id,displayName&$filter="+url.QueryEscape(f))
	changed, _ := splitItems(items)
	td.Cmp(t, changed, []string{users[3].ID, users[7].ID})
	name := "Renamed"
	for _, u := range users[:8] {
		_, err := run.Sim.UpdateUser(ten, u.ID, graphsim.UserPatch{DisplayName: &name})
		td.Require(t).CmpNoError(err)
	}
	td.Require(t).CmpNoError(run.Sim.DeleteUser(ten, users[7].ID))
	td.Require(t).CmpNoError(run.Sim.DeleteUser(ten, users[8].ID))
	items, _, _ = deltaRound(t, run, tok, link)
	changed, removed := splitItems(items)
	td.Cmp(t, changed, []string{users[3].ID})
	td.Cmp(t, removed, map[string]string{users[7].ID: "changed"})

	for _, bad := range []string{"displayName eq 'x'", "startswith(id,'a')", "id eq 'a' and id eq 'b'"} {
		resp, body = call(t, run, "GET", "/v1.0/users/delta?$filter="+url.QueryEscape(bad), tok, nil)
		td.Cmp(t, resp.StatusCode, 400, bad)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": "Request_UnsupportedQuery"}, nil)}, nil))
	}
	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprintf("id eq '%08d-0000-4000-8000-000000000000'", i))
	}
	resp, _ = call(t, run, "GET", "/v1.0/users/delta?$filter="+url.QueryEscape(strings.Join(many, " or ")), tok, nil)
	td.Cmp(t, resp.StatusCode, 400, "51 ids")
	resp, _ = call(t, run, "GET", "/v1.0/users/delta?$filter="+url.QueryEscape(strings.Join(many[:50], " or ")), tok, nil)
	td.Cmp(t, resp.StatusCode, 200, "50 ids")
	resp, _ = call(t, run, "GET", "/v1.0/users/delta?$top=5", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)
	resp, _ = call(t, run, "GET", "/v1.0/users/delta?$select=id,shoeSize", tok, nil)
	td.Cmp(t, resp.StatusCode, 400)

	// $deltatoken=latest: no data, a deltaLink from now on.
	items, _, link = deltaRound(t, run, tok, "/v1.0/users/delta?$deltatoken=latest&$select=id")
	td.Cmp(t, items, td.Empty())
	_, err := run.Sim.UpdateUser(ten, users[0].ID, graphsim.UserPatch{DisplayName: &name})
	td.Require(t).CmpNoError(err)
	items, _, _ = deltaRound(t, run, tok, link)
	td.Cmp(t, items, []map[string]any{{"id": users[0].ID}})
}

func TestUserDeltaInvalidTokens(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	sim := graphsim.New(graphsim.Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	run := sim.StartForTest(t)
	tokA := accessToken(t, run, graphsim.ContosoDentalID)
	tokB := accessToken(t, run, graphsim.FabrikamLegalID)
	_, _, link := deltaRound(t, run, tokA, "/v1.0/users/delta?$select=id")
	_, body := call(t, run, "GET", "/v1.0/users/delta?$select=id", tokA, nil, "Prefer", "odata.maxpagesize=10")
	next := strings.TrimPrefix(body.(map[string]any)["@odata.nextLink"].(string), run.URL)

	gone := func(path, tok, code string) {
		t.Helper()
		resp, body := call(t, run, "GET", path, tok, nil)
		td.Cmp(t, resp.StatusCode, 410, path)
		td.Cmp(t, body, td.SuperMapOf(map[string]any{"error": td.SuperMapOf(map[string]any{"code": code, "message": td.NotEmpty()}, nil)}, nil))
	}
	gone("/v1.0/users/delta?$deltatoken=garbage", tokA, "syncStateNotFound")
	gone("/v1.0/users/delta?$skiptoken=garbage", tokA, "syncStateNotFound")
	// Tampered: the payload changed, the signature not.
	payload, sig, _ := strings.Cut(strings.SplitN(link, "$deltatoken=", 2)[1], ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	var st map[string]any
	td.Require(t).CmpNoError(json.Unmarshal(raw, &st))
	st["f"] = 0.0
	raw, _ = json.Marshal(st)
	gone("/v1.0/users/delta?$deltatoken="+base64.RawURLEncoding.EncodeToString(raw)+"."+sig, tokA, "syncStateNotFound")
	// Another tenant's token.
	gone(link, tokB, "syncStateNotFound")
	gone(next, tokB, "syncStateNotFound")

	// Still good for its tenant, and the skiptoken too; then 8 days later both are expired.
	resp, _ := call(t, run, "GET", link, tokA, nil)
	td.Cmp(t, resp.StatusCode, 200)
	resp, _ = call(t, run, "GET", next, tokA, nil)
	td.Cmp(t, resp.StatusCode, 200)
	mu.Lock()
	now = now.Add(8 * 24 * time.Hour)
	mu.Unlock()
	tokA = accessToken(t, run, graphsim.ContosoDentalID)
	gone(link, tokA, "resyncRequired")
	gone(next, tokA, "resyncRequired")

	// A reset rebuilds the tenant: earlier tokens need a resync.
	_, _, link = deltaRound(t, run, tokA, "/v1.0/users/delta?$select=id")
	sim.Reset()
	gone(link, tokA, "resyncRequired")
}

func hasID(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
