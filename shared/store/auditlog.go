package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// AuditQuery selects a page of a customer's audit records, newest first.
type AuditQuery struct {
	// UserID limits the records to those about one user (GSI2: AUDITUSER#<customerId>#<userId>).
	UserID string
	Cursor string
	Limit  int
}

// ListAudit returns one page of the customer's audit records (or of one user's, with q.UserID), newest first.
// Before and after come back as the JSON values that were recorded (json.RawMessage).
func (s *Store) ListAudit(ctx context.Context, customerID string, q AuditQuery) (Page[domain.AuditRecord], error) {
	in := &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :audit)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":audit": str("AUDIT#"),
		},
		ScanIndexForward: ptr(false),
	}
	keys := []string{"PK", "SK"}
	if q.UserID != "" {
		in.IndexName = ptr(gsi2)
		in.KeyConditionExpression = ptr("GSI2PK = :pk")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(auditUserPK(customerID, q.UserID))}
		keys = []string{"PK", "SK", "GSI2PK", "GSI2SK"}
	}
	page, err := queryPage[auditRow](ctx, s, in, q.Cursor, q.Limit, keys...)
	if err != nil {
		return Page[domain.AuditRecord]{}, fmt.Errorf("list audit of %s: %w", customerID, err)
	}
	out := Page[domain.AuditRecord]{Items: make([]domain.AuditRecord, len(page.Items)), NextCursor: page.NextCursor}
	for i, r := range page.Items {
		out.Items[i] = r.record()
	}
	return out, nil
}

// record is the domain form of a stored audit record; before and after are decoded back into JSON values.
func (r auditRow) record() domain.AuditRecord {
	rec := domain.AuditRecord{
		At: r.At, Actor: r.Actor, CustomerID: r.CustomerID, UserID: r.UserID, Action: r.Action,
		Outcome: r.Outcome, Error: r.Error, RequestID: r.RequestID,
	}
	if r.Before != "" && json.Valid([]byte(r.Before)) {
		rec.Before = json.RawMessage(r.Before)
	}
	if r.After != "" && json.Valid([]byte(r.After)) {
		rec.After = json.RawMessage(r.After)
	}
	return rec
}

// AppendAudits stores many audit records at once (batches of 25), e.g. one per user of a bulk change.
func (s *Store) AppendAudits(ctx context.Context, records []domain.AuditRecord) error {
	writes := make([]types.WriteRequest, 0, len(records))
	for _, r := range records {
		item, err := s.auditItem(r)
		if err != nil {
			return err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return fmt.Errorf("store audit records: %w", err)
	}
	return nil
}
