package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// auditRow is the stored form of an audit record: PK CUST#<id>, SK AUDIT#<time>#<random>, so a customer's
// records read newest first with a reverse Query. Before and after are kept as JSON text. A record about a user
// also carries GSI2 keys (AUDITUSER#<customerId>#<userId>, its SK), so a user's records read newest first too.
type auditRow struct {
	PK, SK         string
	GSI2PK, GSI2SK string    `dynamodbav:",omitempty"`
	Type           string    `dynamodbav:"type"`
	At             time.Time `dynamodbav:"at"`
	Actor          string    `dynamodbav:"actor"`
	CustomerID     string    `dynamodbav:"customerId"`
	UserID         string    `dynamodbav:"userId,omitempty"`
	Action         string    `dynamodbav:"action"`
	Before         string    `dynamodbav:"before,omitempty"`
	After          string    `dynamodbav:"after,omitempty"`
	Outcome        string    `dynamodbav:"outcome"`
	Error          string    `dynamodbav:"error,omitempty"`
	RequestID      string    `dynamodbav:"requestId,omitempty"`
}

func auditUserPK(customerID, userID string) string {
	return "AUDITUSER#" + customerID + "#" + strings.ToLower(userID)
}

func (s *Store) auditItem(r domain.AuditRecord) (map[string]types.AttributeValue, error) {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	row := auditRow{
		PK: customerPK(r.CustomerID), SK: "AUDIT#" + r.At.UTC().Format(time.RFC3339Nano) + "#" + hex.EncodeToString(suffix[:]),
		Type: "audit", At: r.At, Actor: r.Actor, CustomerID: r.CustomerID, Action: r.Action, Outcome: r.Outcome,
		UserID: strings.ToLower(r.UserID), Error: r.Error, RequestID: r.RequestID,
	}
	if r.UserID != "" {
		row.GSI2PK, row.GSI2SK = auditUserPK(r.CustomerID, r.UserID), row.SK
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
