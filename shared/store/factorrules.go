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

// Factor rule items: the provider's list PK PROVIDER, SK FACTORRULES; a customer's own list (which replaces the
// provider's whole list for that customer) PK CUST#<customerId>, SK FACTORRULES. Each has its own optimistic
// version. The store knows no default rules: when none are saved it returns Version 0 and nil Rules, and the
// caller fills in its defaults. Changes of the provider's list are audited under customer id "" (PK CUST#).
type factorRulesItem struct {
	PK, SK string
	Kind   string `dynamodbav:"type"`
	domain.FactorRuleSet
}

const (
	providerPK    = "PROVIDER"
	factorRulesSK = "FACTORRULES"
)

func factorRulesKey(customerID string) map[string]types.AttributeValue {
	if customerID == "" {
		return key(providerPK, factorRulesSK)
	}
	return key(customerPK(customerID), factorRulesSK)
}

func factorRulesOwner(customerID string) string {
	if customerID == "" {
		return "the provider's factor rules"
	}
	return "the factor rules of customer " + customerID
}

// getFactorRules returns the rule set stored under customerID ("" = the provider's), found=false when none is.
func (s *Store) getFactorRules(ctx context.Context, customerID string) (domain.FactorRuleSet, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: factorRulesKey(customerID), ConsistentRead: ptr(true)})
	if err != nil {
		return domain.FactorRuleSet{}, false, fmt.Errorf("get %s: %w", factorRulesOwner(customerID), err)
	}
	if out.Item == nil {
		return domain.FactorRuleSet{CustomerID: customerID}, false, nil
	}
	var it factorRulesItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.FactorRuleSet{}, false, fmt.Errorf("decode %s: %w", factorRulesOwner(customerID), err)
	}
	return normRuleSet(it.FactorRuleSet), true, nil
}

// normRuleSet gives a stored set non-nil slices (a saved empty list stays an empty list, not "none saved").
func normRuleSet(set domain.FactorRuleSet) domain.FactorRuleSet {
	rules := make([]domain.FactorRule, len(set.Rules))
	for i, r := range set.Rules {
		if r.Criteria == nil {
			r.Criteria = []domain.FactorCriterion{}
		}
		rules[i] = r
	}
	set.Rules = rules
	return set
}

// GetFactorRules returns the factor rules that apply to a customer (customerID "" = the provider's own).
// A customer without its own list gets the provider's (CustomerID "", the provider's Version) with
// inherited=true. When nothing applies (no list saved at all) it returns Version 0 and nil Rules, and the caller
// uses its defaults. To save a customer's own list the first time, pass version 0 to PutFactorRules.
func (s *Store) GetFactorRules(ctx context.Context, customerID string) (set domain.FactorRuleSet, inherited bool, err error) {
	set, found, err := s.getFactorRules(ctx, customerID)
	if err != nil || found || customerID == "" {
		return set, false, err
	}
	set, _, err = s.getFactorRules(ctx, "")
	return set, true, err
}

// PutFactorRules stores the rule set of set.CustomerID ("" = the provider's) when its stored list is still at
// version (the version the caller read of that same list; 0 = none saved yet), and audits the change
// ("factors.update"), in one transaction. The rules are stored as given (the caller validates them). It returns
// the stored set (version + 1), an EConflict error (Fields["version"]) when someone else saved or reset the list
// since, ENotFound when the customer does not exist.
func (s *Store) PutFactorRules(ctx context.Context, set domain.FactorRuleSet, version int64, actor string, at time.Time) (domain.FactorRuleSet, error) {
	before, _, err := s.getFactorRules(ctx, set.CustomerID)
	if err != nil {
		return domain.FactorRuleSet{}, err
	}
	if before.Version != version {
		return domain.FactorRuleSet{}, stale("%s", factorRulesOwner(set.CustomerID))
	}
	after := normRuleSet(set)
	after.Version, after.UpdatedAt = version+1, at
	k := factorRulesKey(set.CustomerID)
	item, err := attributevalue.MarshalMap(factorRulesItem{Kind: "factorRules", FactorRuleSet: after})
	if err != nil {
		return domain.FactorRuleSet{}, fmt.Errorf("marshal %s: %w", factorRulesOwner(set.CustomerID), err)
	}
	item["PK"], item["SK"] = k["PK"], k["SK"]
	put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}
	if version > 0 {
		put.ConditionExpression = ptr("#ver = :v")
		put.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	rec := domain.AuditRecord{At: at, Actor: actor, CustomerID: set.CustomerID, Action: "factors.update", After: after, Outcome: "ok"}
	if version > 0 {
		rec.Before = before
	}
	audit, err := s.auditItem(rec)
	if err != nil {
		return domain.FactorRuleSet{}, err
	}
	items := []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: audit}}}
	if set.CustomerID != "" {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
			Key: key(customerPK(set.CustomerID), metaSK), ConditionExpression: ptr("attribute_exists(PK)")}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case failed[2]:
		return domain.FactorRuleSet{}, domain.Errorf(domain.ENotFound, "customer %s not found", set.CustomerID)
	case failed[0]:
		return domain.FactorRuleSet{}, stale("%s", factorRulesOwner(set.CustomerID))
	default:
		return domain.FactorRuleSet{}, fmt.Errorf("put %s: %w", factorRulesOwner(set.CustomerID), err)
	}
}

// DeleteFactorRules deletes the customer's own list when it is still at version, so that the customer goes back
// to the provider's (customerID "": the provider's list goes back to the caller's defaults), and audits it
// ("factors.reset"), in one transaction. Nothing saved and version 0 is a no-op; an EConflict error
// (Fields["version"]) when the list changed (or was reset) since it was read at version.
func (s *Store) DeleteFactorRules(ctx context.Context, customerID string, version int64, actor string, at time.Time) error {
	before, found, err := s.getFactorRules(ctx, customerID)
	if err != nil {
		return err
	}
	if before.Version != version {
		return stale("%s", factorRulesOwner(customerID))
	}
	if !found {
		return nil
	}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: customerID, Action: "factors.reset", Before: before, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: factorRulesKey(customerID),
			ConditionExpression:       ptr("#ver = :v"),
			ExpressionAttributeNames:  map[string]string{"#ver": "Version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)}}},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return stale("%s", factorRulesOwner(customerID))
	default:
		return fmt.Errorf("reset %s: %w", factorRulesOwner(customerID), err)
	}
}
