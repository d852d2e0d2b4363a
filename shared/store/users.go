package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// User items: PK CUST#<id>#USER#<userId>, SK USER — one partition per user, so that a sync of a large tenant
// spreads its writes over the table's partitions; GSI1 (CUSTUSERS#<id>, <display name lower>#<userId>) lists a
// customer's users by display name and finds them by its prefix; GSI2 (CUSTUPN#<id>, <upn lower>) by UPN prefix.
type userItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	GSI2PK, GSI2SK string
	Type           string `dynamodbav:"type"`
	// Hash is a digest of the user's content: a sync rewrites a user only when it changes.
	Hash string `dynamodbav:"hash"`
	// SkuIDs, Licensed, HasErrors and ErrorTypes are derived from Licences, for filters and counts.
	SkuIDs     []string `dynamodbav:"skuIds"`
	Licensed   bool     `dynamodbav:"licensed"`
	HasErrors  bool     `dynamodbav:"hasErrors"`
	ErrorTypes []string `dynamodbav:"errorTypes"`
	domain.User
}

func userPK(customerID, userID string) string { return customerPK(customerID) + "#USER#" + userID }

const userSK = "USER"

func userKey(customerID, userID string) map[string]types.AttributeValue {
	return key(userPK(customerID, userID), userSK)
}

func newUserItem(u domain.User) userItem {
	it := userItem{
		PK: userPK(u.CustomerID, u.ID), SK: userSK,
		GSI1PK: "CUSTUSERS#" + u.CustomerID, GSI1SK: strings.ToLower(u.DisplayName) + "#" + u.ID,
		GSI2PK: "CUSTUPN#" + u.CustomerID, GSI2SK: strings.ToLower(u.UserPrincipalName) + "#" + u.ID,
		Type: "user", User: u,
		SkuIDs: []string{}, ErrorTypes: []string{},
		Licensed: u.Licensed(), HasErrors: u.HasErrors(),
	}
	for _, l := range u.Licences {
		it.SkuIDs = append(it.SkuIDs, strings.ToLower(l.SkuID))
		if l.InError() {
			it.ErrorTypes = append(it.ErrorTypes, l.Error)
		}
	}
	it.Hash = contentHash(u)
	return it
}

// contentHash digests what a sync writes of a user (not when it wrote it).
func contentHash(u domain.User) string {
	u.ChangedAt = time.Time{}
	b, _ := json.Marshal(u)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// UserFromGraph is the stored form of a user Graph reported.
func UserFromGraph(customerID string, g domain.GraphUser) domain.User {
	phones := g.BusinessPhones
	if phones == nil {
		phones = []string{}
	}
	return domain.User{
		CustomerID: customerID, ID: strings.ToLower(g.ID), UserPrincipalName: g.UserPrincipalName,
		DisplayName: g.DisplayName, Mail: g.Mail, UsageLocation: g.UsageLocation, AccountEnabled: g.AccountEnabled,
		Department: g.Department, OfficeLocation: g.OfficeLocation, City: g.City, Country: g.Country,
		BusinessPhones: phones, Licences: domain.LicencesOf(g), Status: domain.UserActive,
	}
}

// Removal is a user the tenant no longer has.
type Removal struct {
	ID     string
	Status string // domain.UserSoftDeleted or domain.UserDeleted
}

// UserChanges counts what ApplyUsers wrote.
type UserChanges struct {
	Written, Removed, Unchanged int
}

// storedUser is what ApplyUsers reads back to decide what changed.
type storedUser struct {
	ID     string `dynamodbav:"ID"`
	Hash   string `dynamodbav:"hash"`
	Status string `dynamodbav:"status"`
}

// ApplyUsers stores one page of a sync: the users Graph reported (written only when their content changed) and
// the users it reported removed (marked, not deleted). Applying the same page twice writes nothing the second
// time, so a page replayed after a crash ends in the same state.
func (s *Store) ApplyUsers(ctx context.Context, customerID string, users []domain.User, removed []Removal, at time.Time) (UserChanges, error) {
	ids := make([]string, 0, len(users)+len(removed))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	for _, r := range removed {
		ids = append(ids, strings.ToLower(r.ID))
	}
	stored, err := s.storedUsers(ctx, customerID, ids)
	if err != nil {
		return UserChanges{}, err
	}
	var changes UserChanges
	var writes []types.WriteRequest
	for _, u := range users {
		it := newUserItem(u)
		if old, ok := stored[u.ID]; ok && old.Hash == it.Hash {
			changes.Unchanged++
			continue
		}
		it.ChangedAt = at
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return changes, fmt.Errorf("marshal user %s: %w", u.ID, err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		changes.Written++
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return UserChanges{}, fmt.Errorf("store users of %s: %w", customerID, err)
	}
	for _, r := range removed {
		id := strings.ToLower(r.ID)
		old, ok := stored[id]
		if !ok || old.Status == r.Status {
			changes.Unchanged++
			continue
		}
		if err := s.markRemoved(ctx, customerID, id, r.Status, at); err != nil {
			return changes, err
		}
		changes.Removed++
	}
	return changes, nil
}

func (s *Store) markRemoved(ctx context.Context, customerID, userID, status string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: userKey(customerID, userID),
		ConditionExpression:      ptr("attribute_exists(PK)"),
		UpdateExpression:         ptr("SET #status = :s, RemovedAt = :at, ChangedAt = :at, #hash = :none"),
		ExpressionAttributeNames: map[string]string{"#status": "Status", "#hash": "hash"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": str(status), ":at": str(at.UTC().Format(time.RFC3339Nano)), ":none": str("removed"),
		},
	})
	return notFoundIfConditionFailed(err, "user %s of %s not found", userID, customerID)
}

// storedUsers reads the hash and status of the given users.
func (s *Store) storedUsers(ctx context.Context, customerID string, ids []string) (map[string]storedUser, error) {
	out := make(map[string]storedUser, len(ids))
	err := s.batchGetUsers(ctx, customerID, ids, "ID, #hash, #status", map[string]string{"#hash": "hash", "#status": "Status"},
		func(raw map[string]types.AttributeValue) error {
			var it storedUser
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			out[it.ID] = it
			return nil
		})
	return out, err
}

// batchGetUsers reads the projection of the given users, 100 keys per BatchGetItem, retrying unprocessed keys.
func (s *Store) batchGetUsers(ctx context.Context, customerID string, ids []string, projection string, names map[string]string, fn func(map[string]types.AttributeValue) error) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, 100) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, id := range chunk {
			keys[i] = userKey(customerID, id)
		}
		for attempt := 0; len(keys) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("read users of %s: %d keys still unprocessed", customerID, len(keys))
			}
			if attempt > 0 {
				time.Sleep(time.Duration(25<<attempt) * time.Millisecond)
			}
			ka := types.KeysAndAttributes{Keys: keys, ExpressionAttributeNames: names}
			if projection != "" { // "" reads whole items
				ka.ProjectionExpression = &projection
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: ka}})
			if err != nil {
				return fmt.Errorf("read users of %s: %w", customerID, err)
			}
			for _, raw := range res.Responses[s.table] {
				if err := fn(raw); err != nil {
					return fmt.Errorf("decode users of %s: %w", customerID, err)
				}
			}
			keys = res.UnprocessedKeys[s.table].Keys
		}
	}
	return nil
}

// MarkUnseenDeleted marks deleted every active user of the customer that is not in seen (after a complete full
// read: the tenant no longer has them) and returns how many it marked.
func (s *Store) MarkUnseenDeleted(ctx context.Context, customerID string, seen map[string]bool, at time.Time) (int, error) {
	items, err := queryAll[storedUser](ctx, s, &dynamodb.QueryInput{
		IndexName:                ptr(gsi1),
		KeyConditionExpression:   ptr("GSI1PK = :pk"),
		FilterExpression:         ptr("#status = :active"),
		ProjectionExpression:     ptr("ID, #hash, #status"),
		ExpressionAttributeNames: map[string]string{"#hash": "hash", "#status": "Status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("CUSTUSERS#" + customerID), ":active": str(domain.UserActive),
		},
	})
	if err != nil {
		return 0, fmt.Errorf("list users of %s: %w", customerID, err)
	}
	n := 0
	for _, it := range items {
		if seen[it.ID] {
			continue
		}
		if err := s.markRemoved(ctx, customerID, it.ID, domain.UserDeleted, at); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// CountUsers counts the customer's active users (reading only the attributes counts need).
func (s *Store) CountUsers(ctx context.Context, customerID string) (domain.UserCounts, error) {
	type row struct {
		AccountEnabled bool     `dynamodbav:"AccountEnabled"`
		Licensed       bool     `dynamodbav:"licensed"`
		HasErrors      bool     `dynamodbav:"hasErrors"`
		ErrorTypes     []string `dynamodbav:"errorTypes"`
	}
	rows, err := queryAll[row](ctx, s, &dynamodb.QueryInput{
		IndexName:                ptr(gsi1),
		KeyConditionExpression:   ptr("GSI1PK = :pk"),
		FilterExpression:         ptr("#status = :active"),
		ProjectionExpression:     ptr("AccountEnabled, licensed, hasErrors, errorTypes"),
		ExpressionAttributeNames: map[string]string{"#status": "Status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("CUSTUSERS#" + customerID), ":active": str(domain.UserActive),
		},
	})
	if err != nil {
		return domain.UserCounts{}, fmt.Errorf("count users of %s: %w", customerID, err)
	}
	c := domain.UserCounts{UserCount: len(rows), ErrorsByType: map[string]int{}}
	for _, r := range rows {
		if r.Licensed {
			c.LicensedCount++
		}
		if !r.AccountEnabled {
			c.DisabledCount++
		}
		if r.HasErrors {
			c.ErrorCount++
		}
		for _, e := range r.ErrorTypes {
			c.ErrorsByType[e]++
		}
	}
	return c, nil
}

// GetUser returns one user of the customer, or an ENotFound error.
func (s *Store) GetUser(ctx context.Context, customerID, userID string) (domain.User, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: userKey(customerID, strings.ToLower(userID))})
	if err != nil {
		return domain.User{}, fmt.Errorf("get user %s: %w", userID, err)
	}
	if out.Item == nil {
		return domain.User{}, domain.Errorf(domain.ENotFound, "user %s not found", userID)
	}
	var it userItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.User{}, fmt.Errorf("decode user %s: %w", userID, err)
	}
	return it.User, nil
}

// User list filters.
const (
	FilterUnlicensed = "unlicensed"
	FilterErrors     = "errors"
	FilterDisabled   = "disabled"
	FilterRemoved    = "removed"
)

// UserQuery selects a page of a customer's users.
type UserQuery struct {
	Q      string // prefix of the display name or of the UPN
	SkuID  string // users holding this SKU
	Filter string // one of the Filter constants, or ""
	Cursor string
	Limit  int
	// SkuIDs selects users holding any of these SKUs (e.g. a licence kind's); nil means no such criterion.
	SkuIDs []string
}

// maxFilteredReads bounds the Query pages one filtered list request reads before it returns what it found.
const maxFilteredReads = 5

// ListUsers returns one page of the customer's users ordered by display name (or by UPN when only the UPN
// matches q). A filtered page may be short while more remain: page on until NextCursor is "".
func (s *Store) ListUsers(ctx context.Context, customerID string, q UserQuery) (Page[domain.User], error) {
	filter, names, values, err := userFilter(q)
	if err != nil {
		return Page[domain.User]{}, err
	}
	prefix := strings.ToLower(strings.TrimSpace(q.Q))
	if prefix == "" {
		return s.userPage(ctx, byName(customerID, ""), filter, names, values, q.Cursor, q.Limit)
	}
	// A prefix matches the display name or the UPN: two index ranges, read one after the other under one cursor.
	cur, err := decodeSearchCursor(q.Cursor)
	if err != nil {
		return Page[domain.User]{}, err
	}
	out := Page[domain.User]{Items: []domain.User{}}
	if !cur.UPNPhase {
		page, err := s.userPage(ctx, byName(customerID, prefix), filter, names, values, cur.Cursor, q.Limit)
		if err != nil {
			return out, err
		}
		out.Items = page.Items
		if page.NextCursor != "" {
			out.NextCursor = encodeSearchCursor(searchCursor{Cursor: page.NextCursor})
			return out, nil
		}
		cur = searchCursor{UPNPhase: true}
	}
	byNameSeen := func(u domain.User) bool { return strings.HasPrefix(strings.ToLower(u.DisplayName), prefix) }
	page, err := s.userPage(ctx, byUPN(customerID, prefix), filter, names, values, cur.Cursor, q.Limit)
	if err != nil {
		return out, err
	}
	for _, u := range page.Items {
		if !byNameSeen(u) { // already listed in the display-name phase
			out.Items = append(out.Items, u)
		}
	}
	if page.NextCursor != "" {
		out.NextCursor = encodeSearchCursor(searchCursor{UPNPhase: true, Cursor: page.NextCursor})
	}
	return out, nil
}

type searchCursor struct {
	UPNPhase bool   `json:"u,omitempty"`
	Cursor   string `json:"c,omitempty"`
}

func encodeSearchCursor(c searchCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(s string) (searchCursor, error) {
	var c searchCursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, domain.Invalid(map[string]string{"cursor": "not a cursor returned by this API"})
	}
	return c, nil
}

func byName(customerID, prefix string) *dynamodb.QueryInput {
	return indexRange(gsi1, "GSI1PK", "GSI1SK", "CUSTUSERS#"+customerID, prefix)
}

func byUPN(customerID, prefix string) *dynamodb.QueryInput {
	return indexRange(gsi2, "GSI2PK", "GSI2SK", "CUSTUPN#"+customerID, prefix)
}

func indexRange(index, pkName, skName, pk, prefix string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		IndexName:                 ptr(index),
		KeyConditionExpression:    ptr(pkName + " = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	if prefix != "" {
		in.KeyConditionExpression = ptr(pkName + " = :pk AND begins_with(" + skName + ", :prefix)")
		in.ExpressionAttributeValues[":prefix"] = str(prefix)
	}
	return in
}

func userFilter(q UserQuery) (string, map[string]string, map[string]types.AttributeValue, error) {
	names := map[string]string{"#status": "Status"}
	values := map[string]types.AttributeValue{":active": str(domain.UserActive)}
	conds := []string{"#status = :active"}
	switch q.Filter {
	case "":
	case FilterUnlicensed:
		conds = append(conds, "licensed = :false")
		values[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	case FilterErrors:
		conds = append(conds, "hasErrors = :true")
		values[":true"] = &types.AttributeValueMemberBOOL{Value: true}
	case FilterDisabled:
		conds = append(conds, "AccountEnabled = :false")
		values[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	case FilterRemoved:
		conds[0] = "#status <> :active"
	default:
		return "", nil, nil, domain.Invalid(map[string]string{"filter": "must be unlicensed, errors, disabled or removed"})
	}
	if q.SkuID != "" {
		conds = append(conds, "contains(skuIds, :sku)")
		values[":sku"] = str(strings.ToLower(q.SkuID))
	}
	// Every criterion is one more AND'ed condition over attributes of the user item, so new ones slot in the same
	// way: a licence kind is the OR of its SKUs over skuIds; numbers and extensions (staging issue) will be
	// derived attributes of the user item like skuIds (e.g. "numbers", "extensions") matched with contains() or
	// begins_with(), while an exact number or extension lookup goes through its own GSI key to the user.
	if len(q.SkuIDs) > 0 {
		ors := make([]string, len(q.SkuIDs))
		for i, id := range q.SkuIDs {
			k := fmt.Sprintf(":sku%d", i)
			ors[i] = "contains(skuIds, " + k + ")"
			values[k] = str(strings.ToLower(id))
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	return strings.Join(conds, " AND "), names, values, nil
}

// userPage reads index pages until it has limit users that pass the filter, or has read maxFilteredReads pages.
// When a read finds more users than the page needs, the cursor is the key of the last user returned.
func (s *Store) userPage(ctx context.Context, in *dynamodb.QueryInput, filter string, names map[string]string, values map[string]types.AttributeValue, cursor string, limit int) (Page[domain.User], error) {
	in.TableName = &s.table
	in.FilterExpression = &filter
	in.ExpressionAttributeNames = names
	for k, v := range values {
		in.ExpressionAttributeValues[k] = v
	}
	keys := []string{"PK", "SK", "GSI1PK", "GSI1SK"}
	if *in.IndexName == gsi2 {
		keys = []string{"PK", "SK", "GSI2PK", "GSI2SK"}
	}
	start, err := decodeCursor(cursor, keys...)
	if err != nil {
		return Page[domain.User]{}, err
	}
	want := int(clampLimit(limit))
	in.Limit = ptr(int32(min(4*want, 400)))
	out := Page[domain.User]{Items: []domain.User{}}
	for reads := 0; reads < maxFilteredReads; reads++ {
		in.ExclusiveStartKey = start
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return out, fmt.Errorf("list users: %w", err)
		}
		start = res.LastEvaluatedKey
		for i, raw := range res.Items {
			var it userItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return out, fmt.Errorf("decode user: %w", err)
			}
			out.Items = append(out.Items, it.User)
			if len(out.Items) == want {
				if i < len(res.Items)-1 || start != nil {
					start = pick(raw, keys)
				}
				break
			}
		}
		if start == nil || len(out.Items) >= want {
			break
		}
	}
	if out.NextCursor, err = encodeCursor(start); err != nil {
		return out, err
	}
	return out, nil
}

// pick returns the named attributes of an item (an item's key, as a Query's ExclusiveStartKey).
func pick(item map[string]types.AttributeValue, names []string) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(names))
	for _, n := range names {
		out[n] = item[n]
	}
	return out
}

// countable is what a stored user contributes to its customer's counts.
type countable struct {
	Status         string   `dynamodbav:"Status"`
	AccountEnabled bool     `dynamodbav:"AccountEnabled"`
	Licensed       bool     `dynamodbav:"licensed"`
	HasErrors      bool     `dynamodbav:"hasErrors"`
	ErrorTypes     []string `dynamodbav:"errorTypes"`
}

func countableOf(u domain.User) countable {
	it := newUserItem(u)
	return countable{Status: u.Status, AccountEnabled: u.AccountEnabled, Licensed: it.Licensed, HasErrors: it.HasErrors, ErrorTypes: it.ErrorTypes}
}

// add adds sign times c's contribution (nothing unless active) to counts.
func (c countable) add(counts *domain.UserCounts, sign int) {
	if c.Status != domain.UserActive {
		return
	}
	counts.UserCount += sign
	if c.Licensed {
		counts.LicensedCount += sign
	}
	if !c.AccountEnabled {
		counts.DisabledCount += sign
	}
	if c.HasErrors {
		counts.ErrorCount += sign
	}
	for _, e := range c.ErrorTypes {
		if counts.ErrorsByType == nil {
			counts.ErrorsByType = map[string]int{}
		}
		counts.ErrorsByType[e] += sign
	}
}

// CountsOf counts users as CountUsers would count them stored.
func CountsOf(users []domain.User) domain.UserCounts {
	var counts domain.UserCounts
	for _, u := range users {
		countableOf(u).add(&counts, 1)
	}
	return counts
}

// AddCounts returns a + b (b may hold negative deltas); error types that reach zero are dropped.
func AddCounts(a, b domain.UserCounts) domain.UserCounts {
	out := domain.UserCounts{
		UserCount: a.UserCount + b.UserCount, LicensedCount: a.LicensedCount + b.LicensedCount,
		DisabledCount: a.DisabledCount + b.DisabledCount, ErrorCount: a.ErrorCount + b.ErrorCount,
		ErrorsByType: map[string]int{},
	}
	for _, m := range []map[string]int{a.ErrorsByType, b.ErrorsByType} {
		for k, v := range m {
			out.ErrorsByType[k] += v
		}
	}
	for k, v := range out.ErrorsByType {
		if v == 0 {
			delete(out.ErrorsByType, k)
		}
	}
	return out
}

// CountDelta is how storing users and removed would change the customer's counts, from what is stored now.
func (s *Store) CountDelta(ctx context.Context, customerID string, users []domain.User, removed []Removal) (domain.UserCounts, error) {
	ids := make([]string, 0, len(users)+len(removed))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	for _, r := range removed {
		ids = append(ids, strings.ToLower(r.ID))
	}
	before, err := s.countables(ctx, customerID, ids)
	if err != nil {
		return domain.UserCounts{}, err
	}
	var delta domain.UserCounts
	for _, u := range users {
		if old, ok := before[u.ID]; ok {
			old.add(&delta, -1)
		}
		countableOf(u).add(&delta, 1)
	}
	for _, r := range removed {
		if old, ok := before[strings.ToLower(r.ID)]; ok {
			old.add(&delta, -1)
		}
	}
	return delta, nil
}

func (s *Store) countables(ctx context.Context, customerID string, ids []string) (map[string]countable, error) {
	out := map[string]countable{}
	err := s.batchGetUsers(ctx, customerID, ids, "ID, #status, AccountEnabled, licensed, hasErrors, errorTypes",
		map[string]string{"#status": "Status"}, func(raw map[string]types.AttributeValue) error {
			var c struct {
				ID string `dynamodbav:"ID"`
				countable
			}
			if err := attributevalue.UnmarshalMap(raw, &c); err != nil {
				return err
			}
			out[c.ID] = c.countable
			return nil
		})
	return out, err
}

// EachUser streams the customer's active users in pages (one GSI1 Query, up to listPageSize users per page, fewer
// when DynamoDB's 1 MB page limit comes first), for computations over every user that keep no per-user state.
func (s *Store) EachUser(ctx context.Context, customerID string, fn func([]domain.User) error) error {
	in := byName(customerID, "")
	in.TableName, in.Limit = &s.table, ptr(listPageSize)
	in.FilterExpression = ptr("#status = :active")
	in.ExpressionAttributeNames = map[string]string{"#status": "Status"}
	in.ExpressionAttributeValues[":active"] = str(domain.UserActive)
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("users of %s: %w", customerID, err)
		}
		var items []userItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return fmt.Errorf("decode users of %s: %w", customerID, err)
		}
		users := make([]domain.User, len(items))
		for i, it := range items {
			users[i] = it.User
		}
		if err := fn(users); err != nil {
			return err
		}
	}
	return nil
}
