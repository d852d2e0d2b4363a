package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Provisioning items: PK CUST#<customerId>#USER#<userId>, SK PROVISION — where a user is placed and which number
// they hold. It lives beside the user item (SK USER) rather than in it because sync rewrites the user item whole.
// Number-holding fields (Number, ReservedNumber) only change in the same transaction as the number item, so that
// "number assigned to U" ⇔ "U's provisioning holds the number". Every write sets GSI1 (CUSTPROV#<customerId>,
// <userId>), so a customer's provisioning is one Query (ProvisioningOf); every write is an update of the named
// attributes, so ManagedBy survives number changes and the number fields survive SetManagedBy.
type provisioningItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Kind           string `dynamodbav:"type"`
	domain.Provisioning
}

const provisioningSK = "PROVISION"

func provisioningGSI1PK(customerID string) string { return "CUSTPROV#" + customerID }

func provisioningKey(customerID, userID string) map[string]types.AttributeValue {
	return key(userPK(customerID, strings.ToLower(userID)), provisioningSK)
}

// GetProvisioning returns where a user is placed and which number they hold: the zero value (with CustomerID and
// UserID set) when nothing was provisioned for them.
func (s *Store) GetProvisioning(ctx context.Context, customerID, userID string) (domain.Provisioning, error) {
	userID = strings.ToLower(userID)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: provisioningKey(customerID, userID),
		ConsistentRead: ptr(true)})
	if err != nil {
		return domain.Provisioning{}, fmt.Errorf("get provisioning of %s: %w", userID, err)
	}
	if out.Item == nil {
		return domain.Provisioning{CustomerID: customerID, UserID: userID}, nil
	}
	var it provisioningItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Provisioning{}, fmt.Errorf("decode provisioning of %s: %w", userID, err)
	}
	return it.Provisioning, nil
}

// SetProvisionedSite records the site a user is placed on (creating their provisioning item if need be).
func (s *Store) SetProvisionedSite(ctx context.Context, customerID, userID, siteID string, at time.Time) error {
	upd := provisioningUpdate(customerID, userID, at, map[string]types.AttributeValue{"SiteID": str(siteID)})
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: upd.Key, UpdateExpression: upd.UpdateExpression,
		ExpressionAttributeNames: upd.ExpressionAttributeNames, ExpressionAttributeValues: upd.ExpressionAttributeValues,
	})
	if err != nil {
		return fmt.Errorf("set site of %s: %w", userID, err)
	}
	return nil
}

// provisioningUpdate is an update of a user's provisioning item (created if absent) that sets the given
// attributes, bumps its version, stamps it and sets its GSI1 keys. Callers add a ConditionExpression (with names
// from provNames and their own values) and put it in a transaction.
func provisioningUpdate(customerID, userID string, at time.Time, set map[string]types.AttributeValue) *types.Update {
	userID = strings.ToLower(userID)
	names := map[string]string{"#kind": "type", "#cust": "CustomerID", "#user": "UserID", "#ver": "Version", "#at": "UpdatedAt",
		"#g1pk": "GSI1PK", "#g1sk": "GSI1SK"}
	values := map[string]types.AttributeValue{
		":kind": str("provisioning"), ":cust": str(customerID), ":user": str(userID), ":zero": num(0), ":one": num(1),
		":at": str(at.UTC().Format(time.RFC3339Nano)), ":g1pk": str(provisioningGSI1PK(customerID)),
	}
	sets := []string{"#kind = :kind", "#cust = :cust", "#user = :user", "#ver = if_not_exists(#ver, :zero) + :one", "#at = :at",
		"#g1pk = :g1pk", "#g1sk = :user"}
	attrs := make([]string, 0, len(set))
	for a := range set {
		attrs = append(attrs, a)
	}
	slices.Sort(attrs)
	for i, a := range attrs {
		n, v := fmt.Sprintf("#p%d", i), fmt.Sprintf(":p%d", i)
		names[n], values[v] = a, set[a]
		sets = append(sets, n+" = "+v)
	}
	return &types.Update{
		Key: provisioningKey(customerID, userID), UpdateExpression: ptr("SET " + strings.Join(sets, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
}

// withCondition adds a condition to an update; names and values are merged into the update's.
func withCondition(u *types.Update, cond string, names map[string]string, values map[string]types.AttributeValue) *types.Update {
	u.ConditionExpression = &cond
	for k, v := range names {
		u.ExpressionAttributeNames[k] = v
	}
	for k, v := range values {
		u.ExpressionAttributeValues[k] = v
	}
	return u
}

// sortableTime formats t in UTC with a fixed width (RFC 3339 with nanoseconds, trailing zeros kept), so that
// index sort keys built from it order chronologically.
func sortableTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// stale is the EConflict error of an optimistic-locking race lost on the thing named.
func stale(format string, args ...any) error {
	e := domain.Errorf(domain.EConflict, format+" was changed by someone else: reload and try again", args...)
	e.Fields = map[string]string{"version": "stale: reload"}
	return e
}

// batchGet reads the given items (whole), 100 keys per BatchGetItem, retrying unprocessed keys.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	for chunk := range slices.Chunk(keys, 100) {
		pending := chunk
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("batch get: %d keys still unprocessed", len(pending))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: pending, ConsistentRead: ptr(true)},
			}})
			if err != nil {
				return fmt.Errorf("batch get: %w", err)
			}
			for _, raw := range res.Responses[s.table] {
				if err := fn(raw); err != nil {
					return err
				}
			}
			pending = res.UnprocessedKeys[s.table].Keys
		}
	}
	return nil
}

// fillPage reads Query pages (with in's filter) until it has limit items or has read maxFilteredReads pages, and
// decodes each item with decode. When a read finds more items than the page needs, the cursor is the key (the
// named attributes) of the last item returned. A filtered page may be short while more remain.
func fillPage[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, keys []string, cursor string, limit int, decode func(map[string]types.AttributeValue) (T, error)) (Page[T], error) {
	start, err := decodeCursor(cursor, keys...)
	if err != nil {
		return Page[T]{}, err
	}
	in.TableName = &s.table
	want := int(clampLimit(limit))
	in.Limit = ptr(int32(want))
	if in.FilterExpression != nil {
		in.Limit = ptr(int32(min(4*want, 400)))
	}
	out := Page[T]{Items: []T{}}
	for reads := 0; reads < maxFilteredReads; reads++ {
		in.ExclusiveStartKey = start
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return out, fmt.Errorf("query: %w", err)
		}
		start = res.LastEvaluatedKey
		for i, raw := range res.Items {
			v, err := decode(raw)
			if err != nil {
				return out, err
			}
			out.Items = append(out.Items, v)
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

// managedByConcurrency bounds the updates SetManagedBy runs at once.
const managedByConcurrency = 8

// SetManagedBy records how Seatwise last changed the licences of the given users (by: domain.ManagedByTemplate,
// domain.ManagedByUI, or "" to forget it), creating their provisioning items if need be: one update each (only
// ManagedBy, the version, the stamp and the index keys change; site and number fields are kept), a few at a
// time. Errors: EInvalid for another value of by; otherwise the first failure, after the other updates ran.
func (s *Store) SetManagedBy(ctx context.Context, customerID string, userIDs []string, by string, at time.Time) error {
	switch by {
	case domain.ManagedByTemplate, domain.ManagedByUI, "":
	default:
		return domain.Invalid(map[string]string{"managedBy": "must be template, ui or empty"})
	}
	ids := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, managedByConcurrency)
	)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			upd := provisioningUpdate(customerID, id, at, map[string]types.AttributeValue{"ManagedBy": str(by)})
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: &s.table, Key: upd.Key, UpdateExpression: upd.UpdateExpression,
				ExpressionAttributeNames: upd.ExpressionAttributeNames, ExpressionAttributeValues: upd.ExpressionAttributeValues,
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("set managed-by of %s: %w", id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// listPageSize is the Limit of the Query pages EachUser, ProvisioningOf and MonthSnapshots read (DynamoDB ends a
// page at 1 MB first; moto does not, and reads its whole table per Query, so fewer pages matter locally; tests
// lower it).
var listPageSize int32 = 5000

// ProvisioningOf returns every provisioning item of the customer, by lower-case user id: one GSI1 Query
// (CUSTPROV#<customerId>), paged. The index is eventually consistent: a write of the last moment may be missing.
func (s *Store) ProvisioningOf(ctx context.Context, customerID string) (map[string]domain.Provisioning, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: ptr(gsi1), Limit: ptr(listPageSize),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(provisioningGSI1PK(customerID))},
	}
	out := map[string]domain.Provisioning{}
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("provisioning of %s: %w", customerID, err)
		}
		var items []provisioningItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, fmt.Errorf("decode provisioning of %s: %w", customerID, err)
		}
		for _, it := range items {
			out[strings.ToLower(it.UserID)] = it.Provisioning
		}
	}
	return out, nil
}
