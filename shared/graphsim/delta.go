package graphsim

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// deltaRoutes are the endpoints of this file: the users delta query (both spellings: msgraph-sdk-go calls
// "delta()") and the groups that assign licences.
var deltaRoutes = []route{
	{method: "GET", pattern: "/v1.0/users/delta", graph: (*Sim).userDelta},
	{method: "GET", pattern: "/v1.0/users/delta()", graph: (*Sim).userDelta},
	{method: "GET", pattern: "/v1.0/groups", graph: (*Sim).listGroups},
	{method: "GET", pattern: "/v1.0/groups/{id}", graph: (*Sim).getGroup},
}

// Delta paging and token lifetime.
const (
	// defaultDeltaPage is the page size of a delta query without Prefer: odata.maxpagesize.
	defaultDeltaPage = 100
	// maxDeltaPage bounds odata.maxpagesize (larger preferences are capped, as Graph caps them).
	maxDeltaPage = 999
	// deltaTokenLifetime is how long a delta or skip token stays usable; directory objects' tokens last 7 days.
	deltaTokenLifetime = 7 * 24 * time.Hour
	// maxDeltaIDs is the most ids a delta query's $filter may name.
	maxDeltaIDs = 50
)

// deltaState is what a delta round's $skiptoken and $deltatoken carry. The simulator signs it (HMAC with the token
// key), so a token is only good for the tenant and tenant build (Reset starts a new one) that issued it.
type deltaState struct {
	Tenant string   `json:"t"`
	Epoch  uint64   `json:"e"`
	Issued int64    `json:"iat"`
	From   uint64   `json:"f"`              // report changes after this seq
	Upto   uint64   `json:"u"`              // the tenant's seq when the round began: the next deltaLink's From
	Full   bool     `json:"full,omitempty"` // the first round: every current user, no removals
	Select []string `json:"s,omitempty"`    // nil = the default property set
	IDs    []string `json:"ids,omitempty"`  // $filter=id eq '…' (sorted)
	// The cursor: Phase 0 lists users after After (by id), phase 1 removals from tombstone index Tomb.
	Phase int    `json:"p,omitempty"`
	After string `json:"a,omitempty"`
	Tomb  int    `json:"i,omitempty"`
}

func (s *Sim) encodeDeltaState(st deltaState) string {
	st.Issued = s.now().Unix()
	b, _ := json.Marshal(st)
	payload := b64.EncodeToString(b)
	return payload + "." + b64.EncodeToString(s.sign("delta|" + payload)[:16])
}

// decodeDeltaState checks a token: a Graph error code and message when it is unusable.
func (s *Sim) decodeDeltaState(tok string, t *tenant) (deltaState, string, string) {
	var st deltaState
	payload, sig, ok := strings.Cut(tok, ".")
	raw, err := b64.DecodeString(sig)
	if !ok || err != nil || len(raw) != 16 || !hmac.Equal(raw, s.sign("delta|" + payload)[:16]) {
		return st, "syncStateNotFound", "The sync state specified in the request could not be found. Restart the synchronization with a delta query without a token."
	}
	b, err := b64.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &st) != nil || st.Tenant != t.id {
		return st, "syncStateNotFound", "The sync state specified in the request could not be found. Restart the synchronization with a delta query without a token."
	}
	if st.Epoch != t.deltaEpoch || st.From > t.seq || st.Upto > t.seq {
		return st, "resyncRequired", "Resync required. Replace any local cached copy of the data with a full synchronization: call delta again without a token."
	}
	if s.now().Sub(time.Unix(st.Issued, 0)) > deltaTokenLifetime {
		return st, "resyncRequired", "The sync token has expired. Resync required: call delta again without a token."
	}
	return st, "", ""
}

// filterIDs matches one term of a delta $filter, id eq '…'; filterOr separates the terms.
var (
	filterIDs = regexp.MustCompile(`(?i)^\s*id\s+eq\s+'([^']+)'\s*$`)
	filterOr  = regexp.MustCompile(`(?i)\s+or\s+`)
)

// parseDeltaFilter accepts only `id eq '…' or id eq '…'` (up to 50 ids), as Graph's users delta does.
func parseDeltaFilter(f string) ([]string, string) {
	if strings.TrimSpace(f) == "" {
		return nil, ""
	}
	var ids []string
	for _, term := range filterOr.Split(f, -1) {
		m := filterIDs.FindStringSubmatch(term)
		if m == nil {
			return nil, "Unsupported Query."
		}
		id := strings.ToLower(m[1])
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > maxDeltaIDs {
		return nil, fmt.Sprintf("The number of ids in the filter exceeds the limit of %d.", maxDeltaIDs)
	}
	slices.Sort(ids)
	return ids, ""
}

// preferredPageSize reads Prefer: odata.maxpagesize=n (1..999; larger is capped, nonsense ignored).
func preferredPageSize(r *http.Request) (int, bool) {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				continue
			}
			if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`)); err == nil && n > 0 {
				return min(n, maxDeltaPage), true
			}
		}
	}
	return defaultDeltaPage, false
}

// userDelta serves GET /v1.0/users/delta and /v1.0/users/delta().
//
// The first call ($select, optional $filter=id eq '…') lists every current user, page by page
// (@odata.nextLink with $skiptoken), and ends with @odata.deltaLink ($deltatoken). A later call with the deltaLink
// lists the users changed since (their properties or direct licences: not licenseAssignmentStates inherited from
// groups, which Graph's delta does not track), then those removed since, as {"id","@removed":{"reason"}} with
// "changed" (soft-deleted, restorable) or "deleted" (permanently). A user may appear twice across rounds (changed
// while a round was paged); clients upsert. An unusable token is answered 410 Gone with code syncStateNotFound
// (unknown, tampered, another tenant's) or resyncRequired (expired, or the tenant was reset): the client must start
// over without a token. Prefer: return=minimal is not implemented (full selected properties are returned).
func (s *Sim) userDelta(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	if unsupportedQuery(w, r, "$select", "$filter", "$deltatoken", "$skiptoken") {
		return
	}
	q := r.URL.Query()
	var (
		st  deltaState
		sel *selection
	)
	tok, round := q.Get("$skiptoken"), false
	if tok == "" {
		tok, round = q.Get("$deltatoken"), true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case tok == "latest" && round:
		// $deltatoken=latest: no data, just a deltaLink from now on.
		var bad string
		if sel, bad = parseSelect(r, userProps, "user"); bad != "" {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", bad)
			return
		}
		ids, bad := parseDeltaFilter(q.Get("$filter"))
		if bad != "" {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", bad)
			return
		}
		st = deltaState{Tenant: t.id, Epoch: t.deltaEpoch, From: t.seq, Upto: t.seq, IDs: ids, Phase: 1, Tomb: len(t.tombstones)}
		if sel != nil {
			st.Select = strings.Split(strings.Trim(sel.context, "()"), ",")
		}
	case tok != "":
		var code, msg string
		if st, code, msg = s.decodeDeltaState(tok, t); code != "" {
			writeGraphError(w, r, http.StatusGone, code, msg)
			return
		}
		if round { // a deltaLink starts a new round: changes after its From, up to now
			st.Upto, st.Full, st.Phase, st.After, st.Tomb = t.seq, false, 0, "", 0
		}
		if st.Select != nil {
			sel = &selection{names: map[string]bool{}, context: "(" + strings.Join(st.Select, ",") + ")"}
			for _, n := range st.Select {
				sel.names[n] = true
			}
		}
	default:
		var bad string
		if sel, bad = parseSelect(r, userProps, "user"); bad != "" {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", bad)
			return
		}
		ids, bad := parseDeltaFilter(q.Get("$filter"))
		if bad != "" {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", bad)
			return
		}
		st = deltaState{Tenant: t.id, Epoch: t.deltaEpoch, Upto: t.seq, Full: true, IDs: ids}
		if sel != nil {
			st.Select = strings.Split(strings.Trim(sel.context, "()"), ",")
		}
	}
	size, preferred := preferredPageSize(r)

	value := make([]any, 0, min(size, 64))
	more := t.deltaCollect(&st, size,
		func(u *User) { value = append(value, render(u, t, userProps, sel, userDefault)) },
		func(tb tombstone) {
			value = append(value, obj{{"id", tb.id}, {"@removed", obj{{"reason", tb.reason}}}})
		})

	ctx := "users"
	if sel != nil {
		ctx += sel.context
	}
	body := obj{{"@odata.context", metadata(r, ctx)}}
	link := origin(r) + r.URL.EscapedPath()
	if more {
		body = append(body, kv{"@odata.nextLink", link + "?$skiptoken=" + s.encodeDeltaState(st)})
	} else {
		next := deltaState{Tenant: t.id, Epoch: t.deltaEpoch, From: st.Upto, Upto: st.Upto, Select: st.Select, IDs: st.IDs}
		body = append(body, kv{"@odata.deltaLink", link + "?$deltatoken=" + s.encodeDeltaState(next)})
	}
	if preferred {
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(size))
	}
	writeJSON(w, http.StatusOK, append(body, kv{"value", value}))
}

// deltaCollect emits up to size items of a delta round from st's cursor, moves the cursor past them, and reports
// whether more remain. Users come in id order (a binary search finds the cursor, so paging a large tenant costs
// O(page) per page in a first round), then removals in the order they happened. Callers hold t.mu.
func (t *tenant) deltaCollect(st *deltaState, size int, user func(*User), removed func(tombstone)) bool {
	n := 0
	if st.Phase == 0 {
		// The candidates: all users, or the filtered ids.
		count, at, id := len(t.users), func(i int) *User { return t.users[i] }, func(i int) string { return t.users[i].ID }
		if st.IDs != nil {
			count, at, id = len(st.IDs), func(i int) *User { return t.usersByID[st.IDs[i]] }, func(i int) string { return st.IDs[i] }
		}
		i := 0
		if st.After != "" {
			i = sort.Search(count, func(i int) bool { return id(i) > st.After })
		}
		for ; i < count; i++ {
			u := at(i)
			if u == nil || !(st.Full || u.changeSeq > st.From) {
				continue
			}
			if n == size {
				return true
			}
			user(u)
			n++
			st.After = u.ID
		}
		if st.Full {
			return false
		}
		st.Phase, st.After = 1, ""
		st.Tomb = sort.Search(len(t.tombstones), func(i int) bool { return t.tombstones[i].seq > st.From })
	}
	for i := st.Tomb; i < len(t.tombstones); i++ {
		tb := t.tombstones[i]
		if t.lastTomb[tb.id] != i || t.usersByID[tb.id] != nil {
			continue // removed again later, or back (restored: reported as changed)
		}
		if st.IDs != nil {
			if _, found := slices.BinarySearch(st.IDs, tb.id); !found {
				continue
			}
		}
		if n == size {
			st.Tomb = i
			return true
		}
		removed(tb)
		n++
	}
	st.Tomb = len(t.tombstones)
	return false
}

// groupProps are the group properties the simulator knows.
var groupProps = []property[*Group]{
	{"id", func(g *Group, _ *tenant) any { return g.ID }},
	{"assignedLicenses", func(g *Group, _ *tenant) any {
		out := []any{}
		for _, l := range g.Licenses {
			out = append(out, obj{{"disabledPlans", strs(l.DisabledPlans)}, {"skuId", l.SkuID}})
		}
		return out
	}},
	{"createdDateTime", func(g *Group, _ *tenant) any { return graphTime(g.CreatedDateTime) }},
	{"description", func(g *Group, _ *tenant) any { return nil }},
	{"displayName", func(g *Group, _ *tenant) any { return g.DisplayName }},
	{"groupTypes", func(g *Group, _ *tenant) any { return []string{} }},
	{"mailEnabled", func(g *Group, _ *tenant) any { return false }},
	{"mailNickname", func(g *Group, _ *tenant) any { return nickname(g.DisplayName) }},
	{"securityEnabled", func(g *Group, _ *tenant) any { return true }},
}

// groupDefault is the property set of a group read without $select (assignedLicenses must be selected, as in
// Graph).
var groupDefault = []string{"id", "createdDateTime", "description", "displayName", "groupTypes", "mailEnabled",
	"mailNickname", "securityEnabled"}

func nickname(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, name)
}

// listGroups serves GET /v1.0/groups (a tenant has a few licensing groups: one page).
func (s *Sim) listGroups(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	sel, ok := selectOnly(w, r, groupProps, "group")
	if !ok {
		return
	}
	t.mu.Lock()
	value := make([]any, len(t.groups))
	for i, g := range t.groups {
		value[i] = render(g, t, groupProps, sel, groupDefault)
	}
	t.mu.Unlock()
	ctx := "groups"
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, obj{{"@odata.context", metadata(r, ctx)}, {"value", value}})
}

// getGroup serves GET /v1.0/groups/{id}.
func (s *Sim) getGroup(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	sel, ok := selectOnly(w, r, groupProps, "group")
	if !ok {
		return
	}
	t.mu.Lock()
	var body obj
	if g, ok := t.groupsByID[strings.ToLower(args[0])]; ok {
		body = render(g, t, groupProps, sel, groupDefault)
	}
	t.mu.Unlock()
	if body == nil {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
		return
	}
	ctx := "groups"
	if sel != nil {
		ctx += sel.context
	}
	writeJSON(w, http.StatusOK, append(obj{{"@odata.context", metadata(r, ctx+"/$entity")}}, body...))
}
