package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// This file holds what licence operations (shared/licensing) store: one user as Graph answered after a change, and
// a per-user lock so that two changes of one user's licences never interleave.

// putUserAttempts bounds the retries of PutUser when another writer changes the user between its read and write.
const putUserAttempts = 5

// PutUser stores one user as Microsoft Graph answered it (store.UserFromGraph of a user read back after a licence
// change): its item with the index keys and the content hash a sync compares, so that the next sync of the same
// state writes nothing. The customer's user counts (sync.userCount, licensedCount, disabledCount, errorCount,
// errorsByType) move with it in the same transaction, as a sync would count the change. It writes nothing when the
// stored user already has this content, and reports whether it wrote.
//
// The write is conditional on the stored hash it read (optimistic locking against a concurrent sync); a lost race
// is retried from a fresh read.
func (s *Store) PutUser(ctx context.Context, u domain.User, at time.Time) (bool, error) {
	u.ID = strings.ToLower(u.ID)
	if u.CustomerID == "" || u.ID == "" {
		return false, domain.Errorf(domain.EInvalid, "store: a user needs a customer id and an id")
	}
	for attempt := 0; attempt < putUserAttempts; attempt++ {
		old, found, err := s.userState(ctx, u.CustomerID, u.ID)
		if err != nil {
			return false, err
		}
		it := newUserItem(u)
		if found && old.Hash == it.Hash {
			return false, nil
		}
		it.ChangedAt = at
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return false, fmt.Errorf("marshal user %s: %w", u.ID, err)
		}
		put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}
		var delta domain.UserCounts
		if found {
			put.ConditionExpression = ptr("#hash = :old")
			put.ExpressionAttributeNames = map[string]string{"#hash": "hash"}
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":old": str(old.Hash)}
			old.countable.add(&delta, -1)
		}
		countableOf(it.User).add(&delta, 1)
		items := []types.TransactWriteItem{{Put: put}}
		if upd := s.countsUpdate(u.CustomerID, delta); upd != nil {
			items = append(items, types.TransactWriteItem{Update: upd})
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var canceled *types.TransactionCanceledException
		if errors.As(err, &canceled) {
			if r := canceled.CancellationReasons; len(r) > 0 && r[0].Code != nil && *r[0].Code == "ConditionalCheckFailed" {
				continue // the user changed since it was read: read it again
			}
			if r := canceled.CancellationReasons; len(r) > 1 && r[1].Code != nil && *r[1].Code == "ConditionalCheckFailed" {
				return false, domain.Errorf(domain.ENotFound, "customer %s not found", u.CustomerID)
			}
		}
		if err != nil {
			return false, fmt.Errorf("store user %s of %s: %w", u.ID, u.CustomerID, err)
		}
		s.addErrorTypes(ctx, u.CustomerID, delta.ErrorsByType)
		return true, nil
	}
	return false, domain.Errorf(domain.EConflict, "user %s of %s kept changing while it was stored: try again", u.ID, u.CustomerID)
}

// userState is what PutUser reads of a stored user: its hash and what it counts for.
type userState struct {
	Hash string `dynamodbav:"hash"`
	countable
}

func (s *Store) userState(ctx context.Context, customerID, userID string) (userState, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: userKey(customerID, userID), ConsistentRead: ptr(true),
		ProjectionExpression:     ptr("#hash, #status, AccountEnabled, licensed, hasErrors, errorTypes"),
		ExpressionAttributeNames: map[string]string{"#hash": "hash", "#status": "Status"},
	})
	if err != nil {
		return userState{}, false, fmt.Errorf("read user %s of %s: %w", userID, customerID, err)
	}
	if out.Item == nil {
		return userState{}, false, nil
	}
	var st userState
	if err := attributevalue.UnmarshalMap(out.Item, &st); err != nil {
		return userState{}, false, fmt.Errorf("decode user %s of %s: %w", userID, customerID, err)
	}
	return st, true, nil
}

// countsUpdate adds the scalar counts of delta to the customer's sync state (nil when they are all zero).
func (s *Store) countsUpdate(customerID string, delta domain.UserCounts) *types.Update {
	var adds []string
	values := map[string]types.AttributeValue{}
	for name, n := range map[string]int{
		"userCount": delta.UserCount, "licensedCount": delta.LicensedCount,
		"disabledCount": delta.DisabledCount, "errorCount": delta.ErrorCount,
	} {
		if n != 0 {
			adds = append(adds, "#sync."+name+" :"+name)
			values[":"+name] = num(int64(n))
		}
	}
	if len(adds) == 0 {
		return nil
	}
	return &types.Update{
		TableName: &s.table, Key: key(customerPK(customerID), metaSK),
		ConditionExpression:       ptr("attribute_exists(PK)"),
		UpdateExpression:          ptr("ADD " + strings.Join(adds, ", ")),
		ExpressionAttributeNames:  map[string]string{"#sync": "sync"},
		ExpressionAttributeValues: values,
	}
}

// addErrorTypes adds delta to the customer's sync.errorsByType, best effort: the map may not exist yet (it is
// written only when not empty), and the next full sync recounts it anyway.
func (s *Store) addErrorTypes(ctx context.Context, customerID string, delta map[string]int) {
	if len(delta) == 0 {
		return
	}
	names := map[string]string{"#sync": "sync", "#ebt": "errorsByType"}
	values := map[string]types.AttributeValue{":zero": num(0)}
	var sets []string
	i := 0
	for k, n := range delta {
		kn, vn := fmt.Sprintf("#k%d", i), fmt.Sprintf(":d%d", i)
		names[kn], values[vn] = k, num(int64(n))
		sets = append(sets, fmt.Sprintf("#sync.#ebt.%s = if_not_exists(#sync.#ebt.%s, :zero) + %s", kn, kn, vn))
		i++
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(customerPK(customerID), metaSK),
		ConditionExpression:       ptr("attribute_exists(#sync.#ebt)"),
		UpdateExpression:          ptr("SET " + strings.Join(sets, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		return
	}
	m := map[string]int{}
	for k, n := range delta {
		if n > 0 {
			m[k] = n
		}
	}
	av, err := attributevalue.Marshal(m)
	if err != nil {
		return
	}
	_, _ = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(customerPK(customerID), metaSK),
		ConditionExpression:       ptr("attribute_exists(#sync) AND attribute_not_exists(#sync.#ebt)"),
		UpdateExpression:          ptr("SET #sync.#ebt = :m"),
		ExpressionAttributeNames:  map[string]string{"#sync": "sync", "#ebt": "errorsByType"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":m": av},
	})
}

// The lock on a user's licences: an item in the user's partition (SK LOCK#LICENCES) with its holder and expiry;
// DynamoDB's TTL removes the ones left behind.
const licenceLockSK = "LOCK#LICENCES"

// LockUserLicences gives holder the lock on a user's licences until `until`, so that two changes of the same
// user's licences (by two admins, or a reassignment and an offboarding) never interleave: the second would read a
// state the first is changing. An expired lock (a crashed change) is taken over.
//
// Errors: EConflict when another holder has a live lock.
func (s *Store) LockUserLicences(ctx context.Context, customerID, userID, holder string, now, until time.Time) error {
	userID = strings.ToLower(userID)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(userPK(customerID, userID), licenceLockSK),
		ConditionExpression:      ptr("attribute_not_exists(PK) OR lockUntil < :now"),
		UpdateExpression:         ptr("SET #type = :lock, holder = :holder, lockUntil = :until, #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": num(now.UnixMilli()), ":until": num(until.UnixMilli()), ":holder": str(holder),
			":lock": str("lock"), ":ttl": num(until.Add(24 * time.Hour).Unix()),
		},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return domain.Errorf(domain.EConflict, "another change to the licences of user %s is in progress: try again in a moment", userID)
	}
	if err != nil {
		return fmt.Errorf("lock the licences of user %s of %s: %w", userID, customerID, err)
	}
	return nil
}

// UnlockUserLicences releases holder's lock on a user's licences; a lock holder no longer holds (it expired and
// was taken over) is left alone.
func (s *Store) UnlockUserLicences(ctx context.Context, customerID, userID, holder string) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{
		Delete: &types.Delete{
			TableName: &s.table, Key: key(userPK(customerID, strings.ToLower(userID)), licenceLockSK),
			ConditionExpression:       ptr("holder = :holder"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":holder": str(holder)},
		},
	}}})
	var canceled *types.TransactionCanceledException
	if err == nil || errors.As(err, &canceled) {
		return nil
	}
	return fmt.Errorf("unlock the licences of user %s of %s: %w", userID, customerID, err)
}
