// Package store keeps Seatwise's state in one DynamoDB table (single-table design: typed key prefixes, overloaded
// GSIs, conditional writes). No request path scans the table; lists are Query pages with an opaque cursor.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// DynamoAPI is the part of the DynamoDB client the store uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// Store is the DynamoDB-backed state of Seatwise.
type Store struct {
	db    DynamoAPI
	table string
	now   func() time.Time
}

// New returns a Store over the given table.
func New(db DynamoAPI, table string) *Store {
	return &Store{db: db, table: table, now: func() time.Time { return time.Now().UTC() }}
}

// Index names (template.yaml defines them).
const (
	gsi1 = "GSI1"
	gsi2 = "GSI2"
)

// Page is one page of a list and the cursor of the next ("" at the end).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

func clampLimit(limit int) int32 {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return int32(limit)
}

// encodeCursor turns a LastEvaluatedKey (all our keys are strings) into an opaque cursor.
func encodeCursor(key map[string]types.AttributeValue) (string, error) {
	if len(key) == 0 {
		return "", nil
	}
	var m map[string]string
	if err := attributevalue.UnmarshalMap(key, &m); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor is the inverse of encodeCursor; a cursor that is not ours is an EInvalid error.
func decodeCursor(cursor string, wantKeys ...string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := domain.Invalid(map[string]string{"cursor": "not a cursor returned by this API"})
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, bad
	}
	var m map[string]string
	if json.Unmarshal(b, &m) != nil || len(m) != len(wantKeys) {
		return nil, bad
	}
	for _, k := range wantKeys {
		if m[k] == "" {
			return nil, bad
		}
	}
	key, err := attributevalue.MarshalMap(m)
	if err != nil {
		return nil, bad
	}
	return key, nil
}

// queryPage runs one Query page and decodes its items into T.
func queryPage[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, cursor string, limit int, keys ...string) (Page[T], error) {
	start, err := decodeCursor(cursor, keys...)
	if err != nil {
		return Page[T]{}, err
	}
	in.TableName = &s.table
	in.ExclusiveStartKey = start
	in.Limit = ptr(clampLimit(limit))
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Page[T]{}, fmt.Errorf("query: %w", err)
	}
	page := Page[T]{Items: make([]T, 0, len(out.Items))}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &page.Items); err != nil {
		return Page[T]{}, fmt.Errorf("decode items: %w", err)
	}
	if page.NextCursor, err = encodeCursor(out.LastEvaluatedKey); err != nil {
		return Page[T]{}, err
	}
	return page, nil
}

// queryAll runs a Query to its end and decodes every item into T.
func queryAll[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput) ([]T, error) {
	in.TableName = &s.table
	var all []T
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		var items []T
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("decode items: %w", err)
		}
		all = append(all, items...)
	}
	return all, nil
}

func ptr[T any](v T) *T { return &v }

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}
}
