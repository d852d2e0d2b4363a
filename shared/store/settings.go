package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Settings item: PK CUST#<customerId>, SK SETTINGS.
type settingsItem struct {
	PK, SK string
	Kind   string `dynamodbav:"type"`
	domain.Settings
}

const settingsSK = "SETTINGS"

// GetSettings returns the customer's provisioning settings: domain.DefaultSettings (version 0) when none are saved.
func (s *Store) GetSettings(ctx context.Context, customerID string) (domain.Settings, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(customerPK(customerID), settingsSK),
		ConsistentRead: ptr(true)})
	if err != nil {
		return domain.Settings{}, fmt.Errorf("get settings of %s: %w", customerID, err)
	}
	if out.Item == nil {
		return domain.DefaultSettings(customerID), nil
	}
	var it settingsItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Settings{}, fmt.Errorf("decode settings of %s: %w", customerID, err)
	}
	return it.Settings, nil
}

// PutSettings stores the customer's settings when the stored ones are still at version (the version the caller
// read; 0 = none saved yet), and audits the change ("settings.update"), in one transaction. It returns the stored
// settings (version + 1), an EConflict error (Fields["version"]) when someone else saved them since, ENotFound
// when the customer does not exist.
func (s *Store) PutSettings(ctx context.Context, set domain.Settings, version int64, actor string, at time.Time) (domain.Settings, error) {
	before, err := s.GetSettings(ctx, set.CustomerID)
	if err != nil {
		return domain.Settings{}, err
	}
	if before.Version != version {
		return domain.Settings{}, stale("the settings of customer %s", set.CustomerID)
	}
	after := set
	after.Version, after.UpdatedAt = version+1, at
	err = s.putCustomerVersioned(ctx, set.CustomerID, "the settings of customer "+set.CustomerID,
		settingsItem{PK: customerPK(set.CustomerID), SK: settingsSK, Kind: "settings", Settings: after}, version,
		domain.AuditRecord{At: at, Actor: actor, CustomerID: set.CustomerID, Action: "settings.update", Before: before, After: after, Outcome: "ok"})
	if err != nil {
		return domain.Settings{}, err
	}
	return after, nil
}

// putCustomerVersioned writes one versioned item of a customer (settings, licence pool) with its audit record, in
// one transaction that also checks the customer exists. version is the version the caller read (0 = none saved
// yet, the item must not exist). Errors: ENotFound (no such customer), EConflict naming what (saved by someone
// else since).
func (s *Store) putCustomerVersioned(ctx context.Context, customerID, what string, item any, version int64, rec domain.AuditRecord) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", what, err)
	}
	put := &types.Put{TableName: &s.table, Item: av, ConditionExpression: ptr("attribute_not_exists(PK)")}
	if version > 0 {
		put.ConditionExpression = ptr("#ver = :v")
		put.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	audit, err := s.auditItem(rec)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(customerPK(customerID), metaSK),
			ConditionExpression: ptr("attribute_exists(PK)")}},
		{Put: put},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return domain.Errorf(domain.ENotFound, "customer %s not found", customerID)
	case failed[1]:
		return stale("%s", what)
	default:
		return fmt.Errorf("put %s: %w", what, err)
	}
}
