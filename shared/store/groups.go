package store

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Group names of a customer: PK CUST#<id>, SK GROUPS, the names of the groups its users inherit licences from.
const groupsSK = "GROUPS"

type groupsItem struct {
	PK, SK string
	Type   string            `dynamodbav:"type"`
	Names  map[string]string `dynamodbav:"names"`
}

// GroupNames returns the stored names of the customer's licensing groups, by group id.
func (s *Store) GroupNames(ctx context.Context, customerID string) (map[string]string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(customerPK(customerID), groupsSK)})
	if err != nil {
		return nil, fmt.Errorf("group names of %s: %w", customerID, err)
	}
	var it groupsItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return nil, fmt.Errorf("decode group names of %s: %w", customerID, err)
		}
	}
	if it.Names == nil {
		it.Names = map[string]string{}
	}
	return it.Names, nil
}

// MergeGroupNames adds names to the customer's stored group names (writing only when something changed).
func (s *Store) MergeGroupNames(ctx context.Context, customerID string, names map[string]string) error {
	stored, err := s.GroupNames(ctx, customerID)
	if err != nil {
		return err
	}
	merged := maps.Clone(stored)
	maps.Copy(merged, names)
	if maps.Equal(merged, stored) {
		return nil
	}
	item, err := attributevalue.MarshalMap(groupsItem{PK: customerPK(customerID), SK: groupsSK, Type: "groups", Names: merged})
	if err != nil {
		return fmt.Errorf("marshal group names: %w", err)
	}
	if err := s.batchWrite(ctx, []types.WriteRequest{{PutRequest: &types.PutRequest{Item: item}}}); err != nil {
		return fmt.Errorf("store group names of %s: %w", customerID, err)
	}
	return nil
}
