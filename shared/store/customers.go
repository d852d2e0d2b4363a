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

// Keys of customer items. A customer's items share PK CUST#<id>: META (the customer), SKU#<skuId>, AUDIT#….
// TENANT#<tenantId> holds the tenant's owner so a tenant is registered once.
func customerPK(id string) string     { return "CUST#" + id }
func tenantPK(tenantID string) string { return "TENANT#" + strings.ToLower(tenantID) }
func customerListSK(c domain.Customer) string {
	return strings.ToLower(c.Name) + "#" + c.ID
}

const (
	metaSK          = "META"
	customersGSI1PK = "CUSTOMERS"
)

// customerItem is the stored form of a customer. Sync state lives on the same item, written only by the sync job
// (UpdateItem of its own attributes), so it never races an admin's edit of the customer's fields.
type customerItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Type           string    `dynamodbav:"type"`
	ID             string    `dynamodbav:"id"`
	Name           string    `dynamodbav:"name"`
	TenantID       string    `dynamodbav:"tenantId"`
	PublicSector   bool      `dynamodbav:"publicSector"`
	CreatedAt      time.Time `dynamodbav:"createdAt"`
	Version        int64     `dynamodbav:"version"`
	Sync           *syncItem `dynamodbav:"sync,omitempty"`
	// SyncIntervalMinutes: 0 means the default.
	SyncIntervalMinutes int `dynamodbav:"syncIntervalMinutes,omitempty"`
	// SyncLeaseHolder is the run that holds the lease.
	SyncLeaseHolder string `dynamodbav:"syncLeaseHolder,omitempty"`
	// SyncLeaseUntil is when the running sync's lease expires (unix seconds); 0 when none holds it.
	SyncLeaseUntil int64 `dynamodbav:"syncLeaseUntil,omitempty"`
}

type syncItem struct {
	Status         string         `dynamodbav:"status"`
	LastAttemptAt  *time.Time     `dynamodbav:"lastAttemptAt,omitempty"`
	LastSuccessAt  *time.Time     `dynamodbav:"lastSuccessAt,omitempty"`
	LastError      string         `dynamodbav:"lastError,omitempty"`
	LastErrorCode  string         `dynamodbav:"lastErrorCode,omitempty"`
	SKUCount       int            `dynamodbav:"skuCount"`
	Mode           string         `dynamodbav:"mode,omitempty"`
	LastFullSyncAt *time.Time     `dynamodbav:"lastFullSyncAt,omitempty"`
	LastDurationMs int64          `dynamodbav:"lastDurationMs"`
	UserCount      int            `dynamodbav:"userCount"`
	LicensedCount  int            `dynamodbav:"licensedCount"`
	DisabledCount  int            `dynamodbav:"disabledCount"`
	ErrorCount     int            `dynamodbav:"errorCount"`
	ErrorsByType   map[string]int `dynamodbav:"errorsByType,omitempty"`
}

func newSyncItem(s domain.SyncState) syncItem {
	return syncItem{
		Status: s.Status, LastAttemptAt: s.LastAttemptAt, LastSuccessAt: s.LastSuccessAt, LastError: s.LastError,
		LastErrorCode: s.LastErrorCode, SKUCount: s.SKUCount, Mode: s.Mode, LastFullSyncAt: s.LastFullSyncAt,
		LastDurationMs: s.LastDurationMs, UserCount: s.UserCount, LicensedCount: s.LicensedCount,
		DisabledCount: s.DisabledCount, ErrorCount: s.ErrorCount, ErrorsByType: s.ErrorsByType,
	}
}

func (s syncItem) state() domain.SyncState {
	return domain.SyncState{
		Status: s.Status, LastAttemptAt: s.LastAttemptAt, LastSuccessAt: s.LastSuccessAt, LastError: s.LastError,
		LastErrorCode: s.LastErrorCode, SKUCount: s.SKUCount, Mode: s.Mode, LastFullSyncAt: s.LastFullSyncAt,
		LastDurationMs: s.LastDurationMs, UserCounts: domain.UserCounts{
			UserCount: s.UserCount, LicensedCount: s.LicensedCount, DisabledCount: s.DisabledCount,
			ErrorCount: s.ErrorCount, ErrorsByType: s.ErrorsByType,
		},
	}
}

func (it customerItem) customer() domain.Customer {
	c := domain.Customer{
		ID: it.ID, Name: it.Name, TenantID: it.TenantID, PublicSector: it.PublicSector,
		CreatedAt: it.CreatedAt, Version: it.Version, SyncIntervalMinutes: it.SyncIntervalMinutes,
		Sync: domain.SyncState{Status: domain.SyncNever},
	}
	if it.Sync != nil {
		c.Sync = it.Sync.state()
	}
	if c.Sync.ErrorsByType == nil {
		c.Sync.ErrorsByType = map[string]int{}
	}
	if c.SyncIntervalMinutes == 0 {
		c.SyncIntervalMinutes = domain.DefaultSyncIntervalMinutes
	}
	return c
}

// CreateCustomer stores a new customer, its tenant registration and an audit record in one transaction.
// It returns an EConflict error when the tenant is already registered.
func (s *Store) CreateCustomer(ctx context.Context, c domain.Customer, actor string) error {
	it := customerItem{
		PK: customerPK(c.ID), SK: metaSK, GSI1PK: customersGSI1PK, GSI1SK: customerListSK(c), Type: "customer",
		ID: c.ID, Name: c.Name, TenantID: c.TenantID, PublicSector: c.PublicSector, CreatedAt: c.CreatedAt,
		Version: c.Version, Sync: &syncItem{Status: domain.SyncNever}, SyncIntervalMinutes: c.SyncIntervalMinutes,
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("marshal customer: %w", err)
	}
	tenant := key(tenantPK(c.TenantID), "TENANT")
	tenant["customerId"] = str(c.ID)
	audit, err := s.auditItem(domain.AuditRecord{
		At: c.CreatedAt, Actor: actor, CustomerID: c.ID, Action: "customer.create", After: c, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: tenant, ConditionExpression: ptr("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		reasons := canceled.CancellationReasons
		if len(reasons) > 0 && reasons[0].Code != nil && *reasons[0].Code == "ConditionalCheckFailed" {
			e := domain.Errorf(domain.EConflict, "tenant %s is already registered", c.TenantID)
			e.Fields = map[string]string{"tenantId": "this Microsoft tenant is already registered as a customer"}
			return e
		}
		return domain.Errorf(domain.EConflict, "customer %s already exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("create customer: %w", err)
	}
	return nil
}

// GetCustomer returns the customer with the given id, or an ENotFound error.
func (s *Store) GetCustomer(ctx context.Context, id string) (domain.Customer, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(customerPK(id), metaSK)})
	if err != nil {
		return domain.Customer{}, fmt.Errorf("get customer %s: %w", id, err)
	}
	if out.Item == nil {
		return domain.Customer{}, domain.Errorf(domain.ENotFound, "customer %s not found", id)
	}
	var it customerItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Customer{}, fmt.Errorf("decode customer %s: %w", id, err)
	}
	return it.customer(), nil
}

// ListCustomers returns one page of customers ordered by name.
func (s *Store) ListCustomers(ctx context.Context, cursor string, limit int) (Page[domain.Customer], error) {
	page, err := queryPage[customerItem](ctx, s, customersQuery(), cursor, limit, "PK", "SK", "GSI1PK", "GSI1SK")
	if err != nil {
		return Page[domain.Customer]{}, fmt.Errorf("list customers: %w", err)
	}
	return Page[domain.Customer]{Items: customers(page.Items), NextCursor: page.NextCursor}, nil
}

// AllCustomers returns every customer (for the scheduled jobs).
func (s *Store) AllCustomers(ctx context.Context) ([]domain.Customer, error) {
	items, err := queryAll[customerItem](ctx, s, customersQuery())
	if err != nil {
		return nil, fmt.Errorf("list all customers: %w", err)
	}
	return customers(items), nil
}

func customersQuery() *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		IndexName:                 ptr(gsi1),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customersGSI1PK)},
	}
}

func customers(items []customerItem) []domain.Customer {
	out := make([]domain.Customer, len(items))
	for i, it := range items {
		out[i] = it.customer()
	}
	return out
}
