package store

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TxIsolated wraps a DynamoAPI so that a TransactWriteItems never overlaps another write of this process. Real
// DynamoDB runs conflicting transactions atomically and needs no wrapper; moto (5.2.1, the local stack and the
// tests) does not: it checks and writes a transaction's items one by one, and a cancelled transaction restores a
// copy of the whole table taken when it started, undoing whatever was written in between. The local stack and the
// tests that race writers use it; the Lambdas do not.
func TxIsolated(db DynamoAPI) DynamoAPI { return &txIsolated{DynamoAPI: db} }

type txIsolated struct {
	DynamoAPI
	mu sync.RWMutex // a transaction holds it exclusively, other writes shared
}

func (c *txIsolated) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.DynamoAPI.TransactWriteItems(ctx, in, optFns...)
}

func (c *txIsolated) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.DynamoAPI.UpdateItem(ctx, in, optFns...)
}

func (c *txIsolated) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.DynamoAPI.PutItem(ctx, in, optFns...)
}

func (c *txIsolated) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.DynamoAPI.DeleteItem(ctx, in, optFns...)
}

func (c *txIsolated) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.DynamoAPI.BatchWriteItem(ctx, in, optFns...)
}
