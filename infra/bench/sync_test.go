package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
)

// TestCountingDBCountsItemsWritten checks the items_written figure against moto: every item a successful write
// stores counts once, a failed write counts nothing, and reads count none.
func TestCountingDBCountsItemsWritten(t *testing.T) {
	st := localaws.StartForTest(t)
	cfg, err := st.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db := &countingDB{Client: dynamodb.NewFromConfig(cfg)}
	ctx := context.Background()
	table := st.TableName
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": s(fmt.Sprintf("BENCH#%d", i)), "SK": s("X")}
	}
	want := int64(0)
	check := func(step string) {
		t.Helper()
		if got := db.snapshot().items; got != want {
			t.Fatalf("%s: items written %d, want %d", step, got, want)
		}
	}

	var puts []types.WriteRequest
	for i := range 25 {
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(i)}})
	}
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: puts}}); err != nil {
		t.Fatal(err)
	}
	want += 25
	check("BatchWriteItem of 25 puts")

	dels := []types.WriteRequest{{DeleteRequest: &types.DeleteRequest{Key: item(0)}}, {DeleteRequest: &types.DeleteRequest{Key: item(1)}}}
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: dels}}); err != nil {
		t.Fatal(err)
	}
	want += 2
	check("BatchWriteItem of 2 deletes")

	cond := "attribute_exists(PK)"
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: item(2), ConditionExpression: &cond}},
		{Put: &types.Put{TableName: &table, Item: item(100)}},
		{Delete: &types.Delete{TableName: &table, Key: item(3)}},
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		t.Fatal(err)
	}
	want += 2 // the condition check writes nothing
	check("TransactWriteItems")

	tx[0].ConditionCheck.Key = item(999) // no such item: the transaction is cancelled
	tx[1].Put.Item = item(101)
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err == nil {
		t.Fatal("a transaction whose condition fails succeeded")
	}
	check("cancelled TransactWriteItems")

	upd := "SET #a = :v"
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: item(4), UpdateExpression: &upd,
		ExpressionAttributeNames: map[string]string{"#a": "a"}, ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("1")}}); err != nil {
		t.Fatal(err)
	}
	want++
	check("UpdateItem")
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: item(998), UpdateExpression: &upd,
		ConditionExpression: &cond, ExpressionAttributeNames: map[string]string{"#a": "a"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("1")}}); err == nil {
		t.Fatal("a conditional update of a missing item succeeded")
	}
	check("failed UpdateItem")

	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: item(5)}); err != nil {
		t.Fatal(err)
	}
	check("GetItem")
	snap := db.snapshot()
	if snap.calls != 7 || snap.writeCalls != 6 || snap.ops["BatchWriteItem"].calls != 2 {
		t.Fatalf("calls %d (writes %d), per operation %s; want 7 (6 writes), 2 BatchWriteItem", snap.calls, snap.writeCalls, snap)
	}
	if _, ok := motoRSS(&localaws.Moto{Endpoint: st.Endpoint}); !ok {
		t.Errorf("moto_server's memory not found for %s", st.Endpoint)
	}
}

// TestGraphCounts checks that Graph requests and authority requests are told apart.
func TestGraphCounts(t *testing.T) {
	st := graphsim.Stats{Requests: map[string]map[int]int{
		"GET /v1.0/users/delta()":                             {200: 51, 429: 2},
		"GET /v1.0/subscribedSkus":                            {200: 1},
		"POST /{tenant}/oauth2/v2.0/token":                    {200: 1},
		"GET /{tenant}/v2.0/.well-known/openid-configuration": {200: 1},
		"unmatched": {404: 3},
	}}
	g, a, u := graphCounts(st)
	if g != 54 || a != 2 || u != 3 {
		t.Fatalf("graphCounts = %d, %d, %d; want 54, 2, 3", g, a, u)
	}
	if n := ceilDiv(50100, 999) + 1; n != 52 {
		t.Fatalf("floor %d, want 52", n)
	}
}
