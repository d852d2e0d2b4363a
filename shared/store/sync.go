package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// MarkSyncQueued records that a sync of the customer was requested, keeping the rest of its sync state.
// It returns an ENotFound error for an unknown customer.
func (s *Store) MarkSyncQueued(ctx context.Context, customerID string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(customerPK(customerID), metaSK),
		ConditionExpression: ptr("attribute_exists(PK)"),
		UpdateExpression:    ptr("SET #sync.#status = :queued"),
		ExpressionAttributeNames: map[string]string{
			"#sync": "sync", "#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":queued": str(domain.SyncQueued),
		},
	})
	return notFoundIfConditionFailed(err, "customer %s not found", customerID)
}

// AcquireSyncLease marks the customer's sync running and holds a lease on it until `until`, so that one
// customer's sync never runs twice at once; a lease that expired (a crashed sync) can be taken over.
// It returns false when another sync holds a live lease, and an ENotFound error for an unknown customer.
func (s *Store) AcquireSyncLease(ctx context.Context, customerID string, now, until time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(customerPK(customerID), metaSK),
		ConditionExpression: ptr("attribute_exists(PK) AND (attribute_not_exists(syncLeaseUntil) OR syncLeaseUntil < :now)"),
		UpdateExpression:    ptr("SET syncLeaseUntil = :until, #sync.#status = :running, #sync.lastAttemptAt = :nowts"),
		ExpressionAttributeNames: map[string]string{
			"#sync": "sync", "#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":     &types.AttributeValueMemberN{Value: fmt.Sprint(now.Unix())},
			":until":   &types.AttributeValueMemberN{Value: fmt.Sprint(until.Unix())},
			":running": str(domain.SyncRunning),
			":nowts":   str(now.UTC().Format(time.RFC3339Nano)),
		},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if _, gerr := s.GetCustomer(ctx, customerID); gerr != nil {
			return false, gerr
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire sync lease of %s: %w", customerID, err)
	}
	return true, nil
}

// FinishSync stores the outcome of a sync and releases its lease.
func (s *Store) FinishSync(ctx context.Context, customerID string, state domain.SyncState) error {
	av, err := attributevalue.Marshal(syncItem(state))
	if err != nil {
		return fmt.Errorf("marshal sync state: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(customerPK(customerID), metaSK),
		ConditionExpression:       ptr("attribute_exists(PK)"),
		UpdateExpression:          ptr("SET #sync = :s REMOVE syncLeaseUntil"),
		ExpressionAttributeNames:  map[string]string{"#sync": "sync"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": av},
	})
	return notFoundIfConditionFailed(err, "customer %s not found", customerID)
}

func notFoundIfConditionFailed(err error, format string, args ...any) error {
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &failed):
		return domain.Errorf(domain.ENotFound, format, args...)
	default:
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
	}
}
