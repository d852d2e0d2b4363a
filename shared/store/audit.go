package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// auditRow is the stored form of an audit record: PK CUST#<id>, SK AUDIT#<time>#<random>, so a customer's
// records read newest first with a reverse Query. Before and after are kept as JSON text.
type auditRow struct {
	PK, SK     string
	Type       string    `dynamodbav:"type"`
	At         time.Time `dynamodbav:"at"`
	Actor      string    `dynamodbav:"actor"`
	CustomerID string    `dynamodbav:"customerId"`
	Action     string    `dynamodbav:"action"`
	Before     string    `dynamodbav:"before,omitempty"`
	After      string    `dynamodbav:"after,omitempty"`
	Outcome    string    `dynamodbav:"outcome"`
}

func (s *Store) auditItem(r domain.AuditRecord) (map[string]types.AttributeValue, error) {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	row := auditRow{
		PK: customerPK(r.CustomerID), SK: "AUDIT#" + r.At.UTC().Format(time.RFC3339Nano) + "#" + hex.EncodeToString(suffix[:]),
		Type: "audit", At: r.At, Actor: r.Actor, CustomerID: r.CustomerID, Action: r.Action, Outcome: r.Outcome,
	}
	for dst, v := range map[*string]any{&row.Before: r.Before, &row.After: r.After} {
		if v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("marshal audit %s: %w", r.Action, err)
		}
		*dst = string(b)
	}
	item, err := attributevalue.MarshalMap(row)
	if err != nil {
		return nil, fmt.Errorf("marshal audit %s: %w", r.Action, err)
	}
	return item, nil
}

// AppendAudit stores one audit record.
func (s *Store) AppendAudit(ctx context.Context, r domain.AuditRecord) error {
	item, err := s.auditItem(r)
	if err != nil {
		return err
	}
	return s.batchWrite(ctx, []types.WriteRequest{{PutRequest: &types.PutRequest{Item: item}}})
}
