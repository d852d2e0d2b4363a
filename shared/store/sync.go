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
		TableName:                 &s.table,
		Key:                       key(customerPK(customerID), metaSK),
		ConditionExpression:       ptr("attribute_exists(PK)"),
		UpdateExpression:          ptr("SET #sync.#status = :queued"),
		ExpressionAttributeNames:  map[string]string{"#sync": "sync", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":queued": str(domain.SyncQueued)},
	})
	return notFoundIfConditionFailed(err, "customer %s not found", customerID)
}

// AcquireSyncLease marks the customer's sync running and gives holder a lease on it until `until`, so that one
// customer's sync never runs twice at once; a lease that expired (a crashed sync) can be taken over.
// It returns false when another holder has a live lease, and an ENotFound error for an unknown customer.
func (s *Store) AcquireSyncLease(ctx context.Context, customerID, holder string, now, until time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(customerPK(customerID), metaSK),
		ConditionExpression: ptr("attribute_exists(PK) AND (attribute_not_exists(syncLeaseUntil) OR syncLeaseUntil < :now)"),
		UpdateExpression: ptr("SET syncLeaseUntil = :until, syncLeaseHolder = :holder, #sync.#status = :running, " +
			"#sync.lastAttemptAt = :nowts"),
		ExpressionAttributeNames: map[string]string{"#sync": "sync", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":     num(now.Unix()),
			":until":   num(until.Unix()),
			":holder":  str(holder),
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

// ErrLeaseLost is returned when a sync writes after its lease was taken over by another run.
var ErrLeaseLost = errors.New("the sync lease was taken over by another run")

// leaseHeld is the condition that holder still holds the customer's sync lease.
func leaseHeld(holder string) (string, map[string]types.AttributeValue) {
	return "syncLeaseHolder = :holder", map[string]types.AttributeValue{":holder": str(holder)}
}

// RenewSyncLease extends holder's lease until `until`; it returns ErrLeaseLost when holder no longer holds it.
func (s *Store) RenewSyncLease(ctx context.Context, customerID, holder string, until time.Time) error {
	cond, values := leaseHeld(holder)
	values[":until"] = num(until.Unix())
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(customerPK(customerID), metaSK),
		ConditionExpression: &cond, UpdateExpression: ptr("SET syncLeaseUntil = :until"),
		ExpressionAttributeValues: values,
	})
	return leaseError(err, customerID)
}

// FinishSync stores the outcome of a sync and releases holder's lease. It returns ErrLeaseLost when holder no
// longer holds the lease (the outcome is then not stored).
func (s *Store) FinishSync(ctx context.Context, customerID, holder string, state domain.SyncState) error {
	av, err := attributevalue.Marshal(newSyncItem(state))
	if err != nil {
		return fmt.Errorf("marshal sync state: %w", err)
	}
	cond, values := leaseHeld(holder)
	values[":s"] = av
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(customerPK(customerID), metaSK),
		ConditionExpression:       &cond,
		UpdateExpression:          ptr("SET #sync = :s REMOVE syncLeaseUntil, syncLeaseHolder"),
		ExpressionAttributeNames:  map[string]string{"#sync": "sync"},
		ExpressionAttributeValues: values,
	})
	return leaseError(err, customerID)
}

// SetSyncFailed records a sync failure that happened outside a run (e.g. the job could not be queued).
func (s *Store) SetSyncFailed(ctx context.Context, customerID, code, message string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(customerPK(customerID), metaSK),
		ConditionExpression:      ptr("attribute_exists(PK)"),
		UpdateExpression:         ptr("SET #sync.#status = :failed, #sync.lastError = :msg, #sync.lastErrorCode = :code, #sync.lastAttemptAt = :at"),
		ExpressionAttributeNames: map[string]string{"#sync": "sync", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": str(domain.SyncFailed), ":msg": str(message), ":code": str(code),
			":at": str(at.UTC().Format(time.RFC3339Nano)),
		},
	})
	return notFoundIfConditionFailed(err, "customer %s not found", customerID)
}

func leaseError(err error, customerID string) error {
	var failed *types.ConditionalCheckFailedException
	var canceled *types.TransactionCanceledException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &failed), errors.As(err, &canceled):
		return fmt.Errorf("customer %s: %w", customerID, ErrLeaseLost)
	default:
		return fmt.Errorf("sync of customer %s: %w", customerID, err)
	}
}

// UpdateSyncInterval changes how often the schedule syncs the customer, if the customer is still at version.
// It returns an EConflict error when someone else changed the customer since, ENotFound for an unknown customer.
func (s *Store) UpdateSyncInterval(ctx context.Context, customerID string, version int64, minutes int, actor string, at time.Time) (domain.Customer, error) {
	before, err := s.GetCustomer(ctx, customerID)
	if err != nil {
		return domain.Customer{}, err
	}
	if before.Version != version {
		return domain.Customer{}, staleVersion(customerID)
	}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: customerID, Action: "customer.syncInterval",
		Before: before.SyncIntervalMinutes, After: minutes, Outcome: "ok",
	})
	if err != nil {
		return domain.Customer{}, err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(customerPK(customerID), metaSK),
			ConditionExpression: ptr("version = :v"),
			UpdateExpression:    ptr("SET syncIntervalMinutes = :m, version = version + :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":v": num(version), ":m": num(int64(minutes)), ":one": num(1),
			},
		}},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		return domain.Customer{}, staleVersion(customerID)
	}
	if err != nil {
		return domain.Customer{}, fmt.Errorf("update customer %s: %w", customerID, err)
	}
	return s.GetCustomer(ctx, customerID)
}

func staleVersion(customerID string) error {
	e := domain.Errorf(domain.EConflict, "customer %s was changed by someone else: reload and try again", customerID)
	e.Fields = map[string]string{"version": "stale: reload"}
	return e
}

func num(n int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(n)} }

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
