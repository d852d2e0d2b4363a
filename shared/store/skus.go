package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// SKU items: PK CUST#<id>, SK SKU#<skuId>; GSI1 (SKUS, <skuId>#<customerId>) lists every customer's SKUs by SKU.
const skusGSI1PK = "SKUS"

type skuItem struct {
	PK, SK           string
	GSI1PK, GSI1SK   string
	Type             string                   `dynamodbav:"type"`
	CustomerID       string                   `dynamodbav:"customerId"`
	CustomerName     string                   `dynamodbav:"customerName"`
	UpdatedAt        time.Time                `dynamodbav:"updatedAt"`
	SkuID            string                   `dynamodbav:"skuId"`
	PartNumber       string                   `dynamodbav:"partNumber"`
	AppliesTo        string                   `dynamodbav:"appliesTo"`
	CapabilityStatus string                   `dynamodbav:"capabilityStatus"`
	Enabled          int                      `dynamodbav:"enabled"`
	Suspended        int                      `dynamodbav:"suspended"`
	Warning          int                      `dynamodbav:"warning"`
	LockedOut        int                      `dynamodbav:"lockedOut"`
	Consumed         int                      `dynamodbav:"consumed"`
	ServicePlans     []domain.ServicePlanInfo `dynamodbav:"servicePlans"`
}

func newSKUItem(c domain.Customer, sku domain.SubscribedSKU, at time.Time) skuItem {
	return skuItem{
		PK: customerPK(c.ID), SK: "SKU#" + sku.SkuID, GSI1PK: skusGSI1PK, GSI1SK: sku.SkuID + "#" + c.ID, Type: "sku",
		CustomerID: c.ID, CustomerName: c.Name, UpdatedAt: at,
		SkuID: sku.SkuID, PartNumber: sku.PartNumber, AppliesTo: sku.AppliesTo, CapabilityStatus: sku.CapabilityStatus,
		Enabled: sku.Enabled, Suspended: sku.Suspended, Warning: sku.Warning, LockedOut: sku.LockedOut,
		Consumed: sku.Consumed, ServicePlans: sku.ServicePlans,
	}
}

func (it skuItem) sku() domain.CustomerSKU {
	return domain.CustomerSKU{
		CustomerID: it.CustomerID, CustomerName: it.CustomerName, UpdatedAt: it.UpdatedAt,
		SubscribedSKU: domain.SubscribedSKU{
			SkuID: it.SkuID, PartNumber: it.PartNumber, AppliesTo: it.AppliesTo, CapabilityStatus: it.CapabilityStatus,
			Enabled: it.Enabled, Suspended: it.Suspended, Warning: it.Warning, LockedOut: it.LockedOut,
			Consumed: it.Consumed, ServicePlans: it.ServicePlans,
		},
	}
}

// sameContent reports whether two items hold the same licence data, whatever their update time.
func (it skuItem) sameContent(other skuItem) bool {
	it.UpdatedAt, other.UpdatedAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(it, other)
}

// CustomerSKUs returns the stored SKUs of a customer, ordered by SKU id.
func (s *Store) CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error) {
	items, err := s.customerSKUItems(ctx, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]domain.CustomerSKU, len(items))
	for i, it := range items {
		out[i] = it.sku()
	}
	return out, nil
}

func (s *Store) customerSKUItems(ctx context.Context, customerID string) ([]skuItem, error) {
	items, err := queryAll[skuItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :sku)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":sku": str("SKU#"),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("list SKUs of %s: %w", customerID, err)
	}
	return items, nil
}

// ListSKUs returns one page of every customer's SKUs, ordered by SKU id then customer.
func (s *Store) ListSKUs(ctx context.Context, cursor string, limit int) (Page[domain.CustomerSKU], error) {
	page, err := queryPage[skuItem](ctx, s, &dynamodb.QueryInput{
		IndexName:                 ptr(gsi1),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(skusGSI1PK)},
	}, cursor, limit, "PK", "SK", "GSI1PK", "GSI1SK")
	if err != nil {
		return Page[domain.CustomerSKU]{}, fmt.Errorf("list SKUs: %w", err)
	}
	out := Page[domain.CustomerSKU]{Items: make([]domain.CustomerSKU, len(page.Items)), NextCursor: page.NextCursor}
	for i, it := range page.Items {
		out.Items[i] = it.sku()
	}
	return out, nil
}

// SKUChanges counts what ReplaceSKUs wrote.
type SKUChanges struct {
	Written, Deleted, Unchanged int
}

// ReplaceSKUs makes the customer's stored SKUs equal to skus: it writes only the SKUs that changed and deletes the
// ones the tenant no longer has, in batches.
func (s *Store) ReplaceSKUs(ctx context.Context, c domain.Customer, skus []domain.SubscribedSKU) (SKUChanges, error) {
	stored, err := s.customerSKUItems(ctx, c.ID)
	if err != nil {
		return SKUChanges{}, err
	}
	now := s.now()
	var changes SKUChanges
	var writes []types.WriteRequest
	seen := make(map[string]bool, len(skus))
	for _, sku := range skus {
		seen[sku.SkuID] = true
		it := newSKUItem(c, sku, now)
		i := slices.IndexFunc(stored, func(old skuItem) bool { return old.SkuID == sku.SkuID })
		if i >= 0 && stored[i].sameContent(it) {
			changes.Unchanged++
			continue
		}
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return changes, fmt.Errorf("marshal SKU %s: %w", sku.SkuID, err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		changes.Written++
	}
	for _, old := range stored {
		if !seen[old.SkuID] {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(old.PK, old.SK)}})
			changes.Deleted++
		}
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return SKUChanges{}, fmt.Errorf("store SKUs of %s: %w", c.ID, err)
	}
	return changes, nil
}

// batchWrite writes in batches of 25, retrying unprocessed items with backoff.
func (s *Store) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	for len(writes) > 0 {
		n := min(25, len(writes))
		pending := writes[:n]
		writes = writes[n:]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return fmt.Errorf("batch write: %d items still unprocessed", len(pending))
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}
