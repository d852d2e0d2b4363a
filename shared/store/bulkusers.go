package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// This file holds what a bulk licence change (licensing.Bulk) reads and stores: many users of one customer at
// once, with as few calls as the single-user path (licences.go) allows.

// bulkStoreConcurrency bounds the single-item calls a bulk method has in flight.
const bulkStoreConcurrency = 8

// UsersByID reads the given users of a customer (any letter case), 100 per BatchGetItem. Users not stored are
// missing from the map, which is keyed by lower-case id.
func (s *Store) UsersByID(ctx context.Context, customerID string, ids []string) (map[string]domain.User, error) {
	lower := make([]string, len(ids))
	for i, id := range ids {
		lower[i] = normUserID(id)
	}
	out := make(map[string]domain.User, len(ids))
	err := s.batchGetUsers(ctx, customerID, lower, "", nil, func(raw map[string]types.AttributeValue) error {
		var it userItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return err
		}
		out[it.ID] = it.User
		return nil
	})
	return out, err
}

func normUserID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// PutUsers stores users of one customer as Microsoft Graph answered them after a bulk change, as PutUser does for
// one: each user's item (index keys, content hash) is written only when its content changed, conditional on the
// hash it read (a user a concurrent sync rewrote is read again and retried), and the customer's user counts move by
// the sum of the changes written. Unlike PutUser, the counts are added once for the whole set rather than in one
// transaction per user (a transaction per user costs a round trip each, and all of them contend for the customer's
// item): a crash between the users and the counts leaves the counts off until the next full sync recounts them.
// It returns how many users it wrote.
func (s *Store) PutUsers(ctx context.Context, customerID string, users []domain.User, at time.Time) (int, error) {
	ids := make([]string, len(users))
	for i := range users {
		users[i].ID = normUserID(users[i].ID)
		if users[i].CustomerID != customerID || users[i].ID == "" {
			return 0, domain.Errorf(domain.EInvalid, "store: user %q is not a user of customer %s", users[i].ID, customerID)
		}
		ids[i] = users[i].ID
	}
	old := map[string]userState{}
	err := s.batchGetUsers(ctx, customerID, ids, "ID, #hash, #status, AccountEnabled, licensed, hasErrors, errorTypes",
		map[string]string{"#hash": "hash", "#status": "Status"}, func(raw map[string]types.AttributeValue) error {
			var st struct {
				ID string `dynamodbav:"ID"`
				userState
			}
			if err := attributevalue.UnmarshalMap(raw, &st); err != nil {
				return err
			}
			old[st.ID] = st.userState
			return nil
		})
	if err != nil {
		return 0, err
	}
	var (
		mu      sync.Mutex
		delta   domain.UserCounts
		written int
		errs    []error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, bulkStoreConcurrency)
	)
	for _, u := range users {
		st, found := old[u.ID]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, wrote, err := s.putUserIfChanged(ctx, u, st, found, at)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if wrote {
				written++
				delta = AddCounts(delta, d)
			}
		}()
	}
	wg.Wait()
	if upd := s.countsUpdate(customerID, delta); upd != nil {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: upd.TableName, Key: upd.Key, ConditionExpression: upd.ConditionExpression,
			UpdateExpression: upd.UpdateExpression, ExpressionAttributeNames: upd.ExpressionAttributeNames,
			ExpressionAttributeValues: upd.ExpressionAttributeValues,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("count the users of %s: %w", customerID, err))
		}
	}
	s.addErrorTypes(ctx, customerID, delta.ErrorsByType)
	return written, errors.Join(errs...)
}

// putUserIfChanged writes u when its content differs from the stored state st (found: the user is stored),
// conditional on the stored hash; a lost race is retried from a consistent read. It returns the change of the
// customer's counts.
func (s *Store) putUserIfChanged(ctx context.Context, u domain.User, st userState, found bool, at time.Time) (domain.UserCounts, bool, error) {
	for attempt := 0; attempt < putUserAttempts; attempt++ {
		if attempt > 0 {
			var err error
			if st, found, err = s.userState(ctx, u.CustomerID, u.ID); err != nil {
				return domain.UserCounts{}, false, err
			}
		}
		it := newUserItem(u)
		if found && st.Hash == it.Hash {
			return domain.UserCounts{}, false, nil
		}
		it.ChangedAt = at
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return domain.UserCounts{}, false, fmt.Errorf("marshal user %s: %w", u.ID, err)
		}
		in := &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}
		var delta domain.UserCounts
		if found {
			in.ConditionExpression = ptr("#hash = :old")
			in.ExpressionAttributeNames = map[string]string{"#hash": "hash"}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":old": str(st.Hash)}
			st.countable.add(&delta, -1)
		}
		countableOf(it.User).add(&delta, 1)
		_, err = s.db.PutItem(ctx, in)
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			continue // the user changed since it was read: read it again
		}
		if err != nil {
			return domain.UserCounts{}, false, fmt.Errorf("store user %s of %s: %w", u.ID, u.CustomerID, err)
		}
		return delta, true, nil
	}
	return domain.UserCounts{}, false, domain.Errorf(domain.EConflict, "user %s of %s kept changing while it was stored: try again", u.ID, u.CustomerID)
}

// UnlockUsersLicences releases holder's locks on the licences of many users of a customer (see
// LockUserLicences), with one conditional delete each; a lock holder no longer holds is left alone.
func (s *Store) UnlockUsersLicences(ctx context.Context, customerID, holder string, userIDs []string) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, bulkStoreConcurrency)
	)
	for _, id := range userIDs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: &s.table, Key: key(userPK(customerID, normUserID(id)), licenceLockSK),
				ConditionExpression:       ptr("holder = :holder"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":holder": str(holder)},
			})
			var failed *types.ConditionalCheckFailedException
			if err != nil && !errors.As(err, &failed) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("unlock the licences of user %s of %s: %w", id, customerID, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
