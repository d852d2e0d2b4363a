package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Alerts item: PK CUST#<customerId>, SK ALERTS — the customer's current alerts, replaced whole each time they are
// computed. While the list is not empty the item is in GSI1 (ALERTS, <customerId>), so the dashboard reads every
// customer's alerts with one Query.
type alertsItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string `dynamodbav:",omitempty"`
	Kind           string `dynamodbav:"type"`
	CustomerID     string
	Alerts         []domain.Alert
	UpdatedAt      time.Time
}

const (
	alertsSK     = "ALERTS"
	alertsGSI1PK = "ALERTS"
)

// PutAlerts replaces the customer's current alerts (nil or empty: none).
func (s *Store) PutAlerts(ctx context.Context, customerID string, alerts []domain.Alert, at time.Time) error {
	it := alertsItem{PK: customerPK(customerID), SK: alertsSK, Kind: "alerts", CustomerID: customerID,
		Alerts: alerts, UpdatedAt: at}
	if it.Alerts == nil {
		it.Alerts = []domain.Alert{}
	}
	if len(alerts) > 0 {
		it.GSI1PK, it.GSI1SK = alertsGSI1PK, customerID
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("marshal the alerts of %s: %w", customerID, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("put the alerts of %s: %w", customerID, err)
	}
	return nil
}

// ListAlerts returns the current alerts of the given customers (nil = every customer's, from GSI1), ordered by
// customer id, each customer's in the order they were stored. Customers without alerts add nothing.
func (s *Store) ListAlerts(ctx context.Context, customerIDs []string) ([]domain.Alert, error) {
	var items []alertsItem
	if customerIDs == nil {
		var err error
		items, err = queryAll[alertsItem](ctx, s, &dynamodb.QueryInput{
			IndexName:                 ptr(gsi1),
			KeyConditionExpression:    ptr("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(alertsGSI1PK)},
		})
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
	} else {
		ids := slices.Clone(customerIDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		keys := make([]map[string]types.AttributeValue, 0, len(ids))
		for _, id := range ids {
			if id != "" {
				keys = append(keys, key(customerPK(id), alertsSK))
			}
		}
		err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
			var it alertsItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("decode alerts: %w", err)
			}
			items = append(items, it)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
	}
	slices.SortFunc(items, func(a, b alertsItem) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	out := []domain.Alert{}
	for _, it := range items {
		out = append(out, it.Alerts...)
	}
	return out, nil
}
