package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seatwise/seatwise/shared/domain"
)

// Licence pool item: PK CUST#<customerId>, SK POOL — the seats the provider bought per SKU and the unused-seats
// alert thresholds.
type poolItem struct {
	PK, SK string
	Kind   string `dynamodbav:"type"`
	domain.LicencePool
}

const poolSK = "POOL"

// DefaultPool is the licence pool of a customer that has saved none: nothing acquired, default thresholds.
func DefaultPool(customerID string) domain.LicencePool {
	return domain.LicencePool{CustomerID: customerID, Acquired: map[string]int{},
		UnusedThreshold: domain.DefaultUnusedThreshold, UnusedDays: domain.DefaultUnusedDays}
}

// GetPool returns the customer's licence pool: DefaultPool (version 0) when none is saved.
func (s *Store) GetPool(ctx context.Context, customerID string) (domain.LicencePool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(customerPK(customerID), poolSK),
		ConsistentRead: ptr(true)})
	if err != nil {
		return domain.LicencePool{}, fmt.Errorf("get the licence pool of %s: %w", customerID, err)
	}
	if out.Item == nil {
		return DefaultPool(customerID), nil
	}
	var it poolItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.LicencePool{}, fmt.Errorf("decode the licence pool of %s: %w", customerID, err)
	}
	if it.Acquired == nil {
		it.Acquired = map[string]int{}
	}
	return it.LicencePool, nil
}

// PutPool stores the customer's licence pool when the stored one is still at version (the version the caller
// read; 0 = none saved yet), and audits the change ("pool.update"), in one transaction. The values are stored as
// given (the caller validates them). It returns the stored pool (version + 1), an EConflict error
// (Fields["version"]) when someone else saved it since, ENotFound when the customer does not exist.
func (s *Store) PutPool(ctx context.Context, p domain.LicencePool, version int64, actor string, at time.Time) (domain.LicencePool, error) {
	before, err := s.GetPool(ctx, p.CustomerID)
	if err != nil {
		return domain.LicencePool{}, err
	}
	if before.Version != version {
		return domain.LicencePool{}, stale("the licence pool of customer %s", p.CustomerID)
	}
	after := p
	if after.Acquired == nil {
		after.Acquired = map[string]int{}
	}
	after.Version, after.UpdatedAt = version+1, at
	err = s.putCustomerVersioned(ctx, p.CustomerID, "the licence pool of customer "+p.CustomerID,
		poolItem{PK: customerPK(p.CustomerID), SK: poolSK, Kind: "pool", LicencePool: after}, version,
		domain.AuditRecord{At: at, Actor: actor, CustomerID: p.CustomerID, Action: "pool.update", Before: before, After: after, Outcome: "ok"})
	if err != nil {
		return domain.LicencePool{}, err
	}
	return after, nil
}
