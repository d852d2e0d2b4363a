package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Export run items: PK EXPORT#<YYYY-MM>, SK RUN — the latest month-end export run of that month, which is also the
// month's lease: a run may start only when no item exists or the item's lease (attribute "lease", Unix
// milliseconds) has passed, so two runs of one month never interleave. A run renews its lease as it reports
// progress and gives it up when it ends. GSI1 (EXPORTS, <YYYY-MM>) lists every month's latest run.
//
// Writes are whole-item puts conditioned on the run id and the version read (the run is the item's only writer
// while it holds the lease; a run that lost it — its lease passed and another run took the month — gets EConflict
// and stops). Starting a run appends an "export.start" audit record (provider-level: customer id "") in the same
// transaction.
type exportRunItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Kind           string `dynamodbav:"type"`
	Lease          int64  `dynamodbav:"lease"`
	ExportRun
}

// Export run statuses.
const (
	ExportQueued    = "queued"    // started through the API; the export function has not taken it yet
	ExportRunning   = "running"   // an invocation is computing and writing the files
	ExportSucceeded = "succeeded" // the manifest names the run's files
	ExportFailed    = "failed"    // nothing of the run is visible; Error says why
	ExportRemoving  = "removing"  // the retention is deleting the month
)

// ExportRun is one month-end export run of a month: who asked, its state, its lease and its progress.
type ExportRun struct {
	Month       string `json:"month"`
	RunID       string `json:"runId"`
	Status      string `json:"status"`
	Phase       string `json:"phase,omitempty"` // what a running run does: reading, manifest, cleanup
	RequestedBy string `json:"requestedBy"`     // a person's subject, or "job:export" for the schedule
	// RequestedAt is when the run was asked for; StartedAt when an invocation took it; FinishedAt when it ended.
	RequestedAt time.Time  `json:"requestedAt"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	FinishedAt  *time.Time `json:"finishedAt,omitempty"`
	// HeartbeatAt is the run's last progress report; the month is the run's until LeaseUntil.
	HeartbeatAt time.Time      `json:"heartbeatAt"`
	LeaseUntil  time.Time      `json:"leaseUntil"`
	Progress    ExportProgress `json:"progress"`
	Error       string         `json:"error,omitempty"`
	Version     int64          `json:"version"`
}

// ExportProgress counts what a run has read and written so far.
type ExportProgress struct {
	Snapshots int `json:"snapshots"` // daily snapshots read
	Customers int `json:"customers"` // customers done
	Sites     int `json:"sites"`     // site scopes done
	Rows      int `json:"rows"`      // partner CSV rows written
	// EstimatedCustomers is the most customers with a snapshot on one day of the month (the provider daily
	// totals), a guess of Customers at the end: 0 when unknown.
	EstimatedCustomers int `json:"estimatedCustomers"`
}

const (
	exportRunSK  = "RUN"
	exportsGSI1  = "EXPORTS"
	exportAction = "export.start"
)

func exportPK(month string) string { return "EXPORT#" + month }

func (r ExportRun) item() (map[string]types.AttributeValue, error) {
	it, err := attributevalue.MarshalMap(exportRunItem{
		PK: exportPK(r.Month), SK: exportRunSK, GSI1PK: exportsGSI1, GSI1SK: r.Month, Kind: "exportRun",
		Lease: r.LeaseUntil.UnixMilli(), ExportRun: r,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal the export run of %s: %w", r.Month, err)
	}
	return it, nil
}

// running says who holds a month (the EConflict a second run gets).
func (r ExportRun) running() error {
	since := r.RequestedAt
	if r.StartedAt != nil {
		since = *r.StartedAt
	}
	return domain.Errorf(domain.EConflict, "an export of %s is running since %s (run %s, requested by %s)",
		r.Month, since.UTC().Format(time.RFC3339), r.RunID, r.RequestedBy)
}

// AcquireExport makes run (Month, RunID, Status, RequestedBy, RequestedAt, LeaseUntil set by the caller) the
// month's current run when no other run holds the month — none ever did, or the holder's lease ended at or before
// run.RequestedAt — and audits "export.start" in the same transaction. It returns the run as stored (Version 1).
// Errors: EConflict "an export of <month> is running since <time> (…)" when another run holds the month.
func (s *Store) AcquireExport(ctx context.Context, run ExportRun) (ExportRun, error) {
	run.Version = 1
	if run.HeartbeatAt.IsZero() {
		run.HeartbeatAt = run.RequestedAt
	}
	item, err := run.item()
	if err != nil {
		return ExportRun{}, err
	}
	audit, err := s.auditItem(domain.AuditRecord{At: run.RequestedAt, Actor: run.RequestedBy, Action: exportAction,
		After: map[string]string{"month": run.Month, "runId": run.RunID, "status": run.Status}, Outcome: "ok"})
	if err != nil {
		return ExportRun{}, err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item,
			ConditionExpression:       ptr("attribute_not_exists(PK) OR #lease <= :now"),
			ExpressionAttributeNames:  map[string]string{"#lease": "lease"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(run.RequestedAt.UnixMilli())}}},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	if err == nil {
		return run, nil
	}
	if !lostRace(err) {
		return ExportRun{}, fmt.Errorf("start the export of %s: %w", run.Month, err)
	}
	holder, gerr := s.GetExport(ctx, run.Month)
	if gerr != nil {
		return ExportRun{}, domain.Errorf(domain.EConflict, "an export of %s is running", run.Month)
	}
	return ExportRun{}, holder.running()
}

// ClaimExport lets the invocation that runs a queued run take it: a queued run whose id is runID becomes running
// (StartedAt now, lease until leaseUntil); so does a running run of that id whose lease has ended (the invocation
// that ran it died and its message came back). ok=false, with the month's current run, when the month's run is
// another one, has ended, or is held by a live invocation: there is nothing for the caller to do.
func (s *Store) ClaimExport(ctx context.Context, month, runID string, now, leaseUntil time.Time) (_ ExportRun, ok bool, err error) {
	cur, err := s.GetExport(ctx, month)
	if domain.ErrorCode(err) == domain.ENotFound {
		return ExportRun{}, false, nil
	}
	if err != nil {
		return ExportRun{}, false, err
	}
	if cur.RunID != runID || !(cur.Status == ExportQueued || cur.Status == ExportRunning && !cur.LeaseUntil.After(now)) {
		return cur, false, nil
	}
	next := cur
	next.Status, next.StartedAt, next.HeartbeatAt, next.LeaseUntil, next.Phase = ExportRunning, &now, now, leaseUntil, ""
	saved, err := s.SaveExport(ctx, next)
	if domain.ErrorCode(err) == domain.EConflict {
		cur, gerr := s.GetExport(ctx, month)
		return cur, false, gerr
	}
	if err != nil {
		return ExportRun{}, false, err
	}
	return saved, true, nil
}

// SaveExport stores run (its progress, phase, lease, and at the end its status) over the version it was read at,
// provided it is still the month's run, and returns it with the next version. Errors: EConflict when the month's
// run is another one now or changed since (the caller lost the month: it must stop).
func (s *Store) SaveExport(ctx context.Context, run ExportRun) (ExportRun, error) {
	read := run.Version
	run.Version++
	item, err := run.item()
	if err != nil {
		return ExportRun{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:      ptr("#run = :run AND #v = :v"),
		ExpressionAttributeNames: map[string]string{"#run": "RunID", "#v": "Version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":run": str(run.RunID), ":v": num(read),
		}})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return ExportRun{}, domain.Errorf(domain.EConflict, "the export run %s of %s no longer holds the month", run.RunID, run.Month)
	}
	if err != nil {
		return ExportRun{}, fmt.Errorf("save the export run of %s: %w", run.Month, err)
	}
	return run, nil
}

// GetExport returns the latest export run of month (a consistent read). Errors: ENotFound when the month never had
// one (or the retention removed it).
func (s *Store) GetExport(ctx context.Context, month string) (ExportRun, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(exportPK(month), exportRunSK), ConsistentRead: ptr(true)})
	if err != nil {
		return ExportRun{}, fmt.Errorf("get the export run of %s: %w", month, err)
	}
	if out.Item == nil {
		return ExportRun{}, domain.Errorf(domain.ENotFound, "no export of %s has run", month)
	}
	var it exportRunItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ExportRun{}, fmt.Errorf("decode the export run of %s: %w", month, err)
	}
	return it.ExportRun, nil
}

// ListExports returns the latest run of every month that had one, by month ascending (GSI1: eventually
// consistent — GetExport reads one month's exactly).
func (s *Store) ListExports(ctx context.Context) ([]ExportRun, error) {
	items, err := queryAll[exportRunItem](ctx, s, &dynamodb.QueryInput{IndexName: ptr(gsi1),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(exportsGSI1)},
	})
	if err != nil {
		return nil, fmt.Errorf("list export runs: %w", err)
	}
	out := make([]ExportRun, len(items))
	for i, it := range items {
		out[i] = it.ExportRun
	}
	return out, nil
}

// DeleteExport removes the run record of month if runID is still its run (the retention, holding the month's
// lease, removes the month). Errors: EConflict when another run holds the month now.
func (s *Store) DeleteExport(ctx context.Context, month, runID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(exportPK(month), exportRunSK),
		ConditionExpression:       ptr("#run = :run"),
		ExpressionAttributeNames:  map[string]string{"#run": "RunID"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":run": str(runID)}})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return domain.Errorf(domain.EConflict, "the export run %s of %s no longer holds the month", runID, month)
	}
	if err != nil {
		return fmt.Errorf("delete the export run of %s: %w", month, err)
	}
	return nil
}
