package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Checkpoint is where a customer's user sync stands: the deltaLink of the last completed round, and the run in
// progress, if any, with the link of its next page. Item: PK CUST#<id>, SK SYNCSTATE.
type Checkpoint struct {
	DeltaLink  string     `dynamodbav:"deltaLink,omitempty"`
	LastFullAt *time.Time `dynamodbav:"lastFullAt,omitempty"`
	Run        *RunState  `dynamodbav:"run,omitempty"`
}

// RunState is a run in progress.
type RunState struct {
	domain.SyncRun
	// Link is the next page to read: "" starts a full round, a deltaLink a delta round, a nextLink continues.
	Link string `dynamodbav:"link"`
	// FromStart is true while every page of a full round was read by runs that kept the set of users seen,
	// i.e. the round was not resumed after a crash; only then may users not seen be marked deleted.
	FromStart bool `dynamodbav:"fromStart"`
	// Counts are, in a full round, the counts of the users read so far; in a delta round, the change to the counts
	// so far.
	Counts domain.UserCounts `dynamodbav:"counts"`
	// Pending is the page being applied in a delta round, with the change to the counts computed before any of its
	// users was written: a page replayed after a crash uses it, since its users may be stored already.
	Pending *PendingPage `dynamodbav:"pending,omitempty"`
}

// PendingPage is a delta page whose count change was computed before it was applied.
type PendingPage struct {
	Link  string            `dynamodbav:"link"`
	Delta domain.UserCounts `dynamodbav:"delta"`
}

const checkpointSK = "SYNCSTATE"

// syncRunItem is the stored form of a SyncRun: PK CUST#<id>, SK SYNCRUN#<startedAt>#<id>, so the history reads
// newest first. History items expire after historyTTL.
type syncRunItem struct {
	PK           string     `dynamodbav:"PK,omitempty"`
	SK           string     `dynamodbav:"SK,omitempty"`
	Type         string     `dynamodbav:"type,omitempty"`
	TTL          int64      `dynamodbav:"ttl,omitempty"`
	ID           string     `dynamodbav:"id"`
	Mode         string     `dynamodbav:"mode"`
	Trigger      string     `dynamodbav:"trigger"`
	StartedAt    time.Time  `dynamodbav:"startedAt"`
	FinishedAt   *time.Time `dynamodbav:"finishedAt,omitempty"`
	DurationMs   int64      `dynamodbav:"durationMs"`
	Status       string     `dynamodbav:"status"`
	Error        string     `dynamodbav:"error,omitempty"`
	ErrorCode    string     `dynamodbav:"errorCode,omitempty"`
	UsersWritten int        `dynamodbav:"usersWritten"`
	UsersRemoved int        `dynamodbav:"usersRemoved"`
	SKUsWritten  int        `dynamodbav:"skusWritten"`
	Pages        int        `dynamodbav:"pages"`
	Resumed      bool       `dynamodbav:"resumed"`
}

const historyTTL = 180 * 24 * time.Hour

func newSyncRunItem(r domain.SyncRun) syncRunItem {
	return syncRunItem{
		ID: r.ID, Mode: r.Mode, Trigger: r.Trigger, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMs: r.DurationMs, Status: r.Status, Error: r.Error, ErrorCode: r.ErrorCode,
		UsersWritten: r.UsersWritten, UsersRemoved: r.UsersRemoved, SKUsWritten: r.SKUsWritten, Pages: r.Pages,
		Resumed: r.Resumed,
	}
}

func (it syncRunItem) run() domain.SyncRun {
	return domain.SyncRun{
		ID: it.ID, Mode: it.Mode, Trigger: it.Trigger, StartedAt: it.StartedAt, FinishedAt: it.FinishedAt,
		DurationMs: it.DurationMs, Status: it.Status, Error: it.Error, ErrorCode: it.ErrorCode,
		UsersWritten: it.UsersWritten, UsersRemoved: it.UsersRemoved, SKUsWritten: it.SKUsWritten, Pages: it.Pages,
		Resumed: it.Resumed,
	}
}

type checkpointItem struct {
	PK, SK string
	Type   string `dynamodbav:"type"`
	Checkpoint
}

// GetCheckpoint returns the customer's sync checkpoint (the zero Checkpoint before the first sync).
func (s *Store) GetCheckpoint(ctx context.Context, customerID string) (Checkpoint, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(customerPK(customerID), checkpointSK), ConsistentRead: ptr(true),
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("get sync checkpoint of %s: %w", customerID, err)
	}
	var it checkpointItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return Checkpoint{}, fmt.Errorf("decode sync checkpoint of %s: %w", customerID, err)
		}
	}
	return it.Checkpoint, nil
}

// SaveCheckpoint stores the checkpoint and the history record of its run (or of finished, the run just completed),
// provided holder still holds the customer's sync lease, which it first renews until leaseUntil (ErrLeaseLost if
// holder lost it). The writes that follow the renewal need no transaction: no other run can take the lease before
// leaseUntil. (A transaction per page is also what moto, which copies the whole table for each transaction, cannot
// sustain on a 50,000-user table.)
func (s *Store) SaveCheckpoint(ctx context.Context, customerID, holder string, cp Checkpoint, finished *domain.SyncRun, leaseUntil time.Time) error {
	if err := s.RenewSyncLease(ctx, customerID, holder, leaseUntil); err != nil {
		return err
	}
	run := finished
	if cp.Run != nil {
		run = &cp.Run.SyncRun
	}
	item, err := attributevalue.MarshalMap(checkpointItem{PK: customerPK(customerID), SK: checkpointSK, Type: "syncstate", Checkpoint: cp})
	if err != nil {
		return fmt.Errorf("marshal sync checkpoint: %w", err)
	}
	writes := []types.WriteRequest{{PutRequest: &types.PutRequest{Item: item}}}
	if run != nil {
		h := newSyncRunItem(*run)
		h.PK, h.SK, h.Type = customerPK(customerID), "SYNCRUN#"+run.StartedAt.UTC().Format(time.RFC3339Nano)+"#"+run.ID, "syncrun"
		h.TTL = run.StartedAt.Add(historyTTL).Unix()
		hist, err := attributevalue.MarshalMap(h)
		if err != nil {
			return fmt.Errorf("marshal sync run: %w", err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: hist}})
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return fmt.Errorf("save sync checkpoint of %s: %w", customerID, err)
	}
	return nil
}

// SyncRuns returns one page of the customer's sync history, newest first.
func (s *Store) SyncRuns(ctx context.Context, customerID, cursor string, limit int) (Page[domain.SyncRun], error) {
	page, err := queryPage[syncRunItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":p": str("SYNCRUN#"),
		},
		ScanIndexForward: ptr(false),
	}, cursor, limit, "PK", "SK")
	if err != nil {
		return Page[domain.SyncRun]{}, fmt.Errorf("sync history of %s: %w", customerID, err)
	}
	out := Page[domain.SyncRun]{Items: make([]domain.SyncRun, len(page.Items)), NextCursor: page.NextCursor}
	for i, it := range page.Items {
		out.Items[i] = it.run()
	}
	return out, nil
}
