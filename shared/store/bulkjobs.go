package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Mass-configuration jobs (package bulkjob). The job: PK CUST#<customerId>, SK BULKJOB#<jobId> — job ids are
// time-ordered (UUIDv7), so a Query of the customer's BULKJOB# range backwards lists the newest first. Its chunks
// live in their own partition, PK CUST#<customerId>#BULKJOB#<jobId>, SK <kind>#<index, 6 digits>: the rows of the
// file as validated (BulkRows), the problems found (BulkProblems), the per-row results of each row chunk applied
// (BulkResults, same index as its row chunk) and the changes a chunk's first attempt planned (BulkAttempt). A chunk
// holds an opaque blob the job's package encodes (at most a few hundred KB). Every item of a job carries the job's
// ttl.

// Bulk job statuses.
const (
	BulkValidated = "validated" // the file has no problems: it can be applied
	BulkInvalid   = "invalid"   // the file has problems: nothing is applied, unless only the valid rows are
	BulkQueued    = "queued"    // applying: waiting for a worker
	BulkRunning   = "running"   // applying
	BulkCompleted = "completed" // every row applied has a result (some may have failed)
	BulkCancelled = "cancelled" // stopped by an admin: the rows applied before stay applied
	BulkFailed    = "failed"    // the job could not go on (Error says why)
)

// Kinds of a bulk job's chunks.
const (
	BulkRows     = "ROWS"
	BulkProblems = "PROB"
	BulkResults  = "RES"
	BulkAttempt  = "ATT"
)

// BulkJob is a mass-configuration file uploaded for a customer, and its application as a job.
type BulkJob struct {
	CustomerID string `json:"customerId"`
	ID         string `json:"id"`
	// Filename is the name of the uploaded file (without folders); Size its bytes.
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	// FileKey is where the uploaded file is kept (the reports bucket's key), "" when it is not kept.
	FileKey   string    `json:"-"`
	Status    string    `json:"status"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	// Rows counts the file's rows (blank rows not counted), ValidRows and InvalidRows those without and with
	// problems. Problems counts the problems found, ProblemsListed those that can be read (the rest are summed up
	// in the last one listed).
	Rows           int      `json:"rows"`
	ValidRows      int      `json:"validRows"`
	InvalidRows    int      `json:"invalidRows"`
	Problems       int      `json:"problems"`
	ProblemsListed int      `json:"problemsListed"`
	Columns        []string `json:"columns"`
	// Delimiter is the file's delimiter, "," or ";" (the results file uses the same).
	Delimiter string `json:"delimiter"`
	// Seats are the licence totals of the file, per SKU, as validated.
	Seats []BulkSeat `json:"seats"`
	// Chunks and ProblemPages count the row chunks and problem chunks stored.
	Chunks       int `json:"-"`
	ProblemPages int `json:"-"`

	// OnlyValid: the admin chose to apply the valid rows only.
	OnlyValid  bool       `json:"onlyValid"`
	StartedBy  string     `json:"startedBy,omitempty"`
	QueuedAt   *time.Time `json:"queuedAt,omitempty"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Total counts the rows to apply; Applied, Unchanged, Staged and Failed the rows done so far by outcome.
	Total     int `json:"total"`
	Applied   int `json:"applied"`
	Unchanged int `json:"unchanged"`
	Staged    int `json:"staged"`
	Failed    int `json:"failed"`
	// CancelRequested: an admin asked to stop; the worker stops before its next chunk.
	CancelRequested bool   `json:"cancelRequested"`
	CancelledBy     string `json:"cancelledBy,omitempty"`
	// Error says why the job failed (status failed), or why its last chunk is being retried.
	Error string `json:"error,omitempty"`

	// Cursor is the next row chunk to apply; ChunkAttempts counts the failed attempts of that chunk.
	Cursor        int `json:"-"`
	ChunkAttempts int `json:"-"`
	// LeaseHolder holds the job until LeaseUntil (Unix seconds): no other worker runs it meanwhile.
	LeaseHolder string `json:"-"`
	LeaseUntil  int64  `json:"-"`
	// ActiveMs is the time workers have spent applying chunks (for the rate).
	ActiveMs int64 `json:"-"`
	TTL      int64 `json:"-" dynamodbav:"ttl,omitempty"`

	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// BulkSeat is a licence's totals in a file: seats it needs (users who do not hold the SKU yet, each takes one) and
// frees (direct licences it removes from users who do not also hold the SKU through a group), against the seats
// available when the file was validated.
type BulkSeat struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"partNumber"`
	Name       string `json:"name"`
	// Available is the SKU's free seats (enabled − consumed) when the file was validated.
	Available int `json:"available"`
	// Needed counts the rows of known users that need a new seat; NeededValid those of them without problems.
	Needed      int `json:"needed"`
	NeededValid int `json:"neededValid"`
	Freed       int `json:"freed"`
	// Short is how many seats the valid rows lack (NeededValid − Available, at least 0).
	Short int `json:"short"`
}

// BulkChunk is a blob of a bulk job: its kind (BulkRows…) and index.
type BulkChunk struct {
	Kind  string
	Index int
	Data  []byte
}

type bulkJobItem struct {
	PK, SK string
	Kind   string `dynamodbav:"type"`
	BulkJob
}

type bulkChunkItem struct {
	PK, SK string
	Kind   string `dynamodbav:"type"`
	Data   []byte `dynamodbav:"data"`
	TTL    int64  `dynamodbav:"ttl,omitempty"`
}

func bulkJobSK(jobID string) string { return "BULKJOB#" + jobID }

func bulkChunkPK(customerID, jobID string) string {
	return customerPK(customerID) + "#BULKJOB#" + jobID
}

func bulkChunkSK(kind string, index int) string { return fmt.Sprintf("%s#%06d", kind, index) }

func bulkJobKey(customerID, jobID string) map[string]types.AttributeValue {
	return key(customerPK(customerID), bulkJobSK(jobID))
}

func (s *Store) bulkJobPut(job BulkJob, cond string, version int64) (*types.Put, error) {
	if job.Columns == nil {
		job.Columns = []string{}
	}
	if job.Seats == nil {
		job.Seats = []BulkSeat{}
	}
	item, err := attributevalue.MarshalMap(bulkJobItem{PK: customerPK(job.CustomerID), SK: bulkJobSK(job.ID), Kind: "bulkJob", BulkJob: job})
	if err != nil {
		return nil, fmt.Errorf("marshal bulk job %s: %w", job.ID, err)
	}
	put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr(cond)}
	if version > 0 {
		put.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	return put, nil
}

func (s *Store) bulkChunkItem(customerID, jobID string, c BulkChunk, ttl int64) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(bulkChunkItem{PK: bulkChunkPK(customerID, jobID), SK: bulkChunkSK(c.Kind, c.Index),
		Kind: "bulkChunk", Data: c.Data, TTL: ttl})
	if err != nil {
		return nil, fmt.Errorf("marshal bulk chunk %s/%s#%d: %w", jobID, c.Kind, c.Index, err)
	}
	return item, nil
}

func checkBulkIDs(customerID, jobID string) error {
	if customerID == "" || jobID == "" || strings.ContainsAny(customerID+jobID, "#/") {
		return domain.Errorf(domain.EInvalid, "store: bad bulk job key %q/%q", customerID, jobID)
	}
	return nil
}

// CreateBulkJob stores a new job (at version 1) and its chunks: the chunks first, then the job, so that a job that
// can be read has all its chunks. Errors: EConflict when the job exists.
func (s *Store) CreateBulkJob(ctx context.Context, job BulkJob, chunks []BulkChunk) (BulkJob, error) {
	if err := checkBulkIDs(job.CustomerID, job.ID); err != nil {
		return BulkJob{}, err
	}
	writes := make([]types.WriteRequest, 0, len(chunks))
	for _, c := range chunks {
		item, err := s.bulkChunkItem(job.CustomerID, job.ID, c, job.TTL)
		if err != nil {
			return BulkJob{}, err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return BulkJob{}, fmt.Errorf("store chunks of bulk job %s: %w", job.ID, err)
	}
	job.Version = 1
	put, err := s.bulkJobPut(job, "attribute_not_exists(PK)", 0)
	if err != nil {
		return BulkJob{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Item, ConditionExpression: put.ConditionExpression})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return BulkJob{}, domain.Errorf(domain.EConflict, "bulk job %s exists already", job.ID)
	case err != nil:
		return BulkJob{}, fmt.Errorf("store bulk job %s: %w", job.ID, err)
	}
	return job, nil
}

// GetBulkJob returns one job of the customer (a consistent read), or an ENotFound error.
func (s *Store) GetBulkJob(ctx context.Context, customerID, jobID string) (BulkJob, error) {
	if checkBulkIDs(customerID, jobID) != nil {
		return BulkJob{}, domain.Errorf(domain.ENotFound, "bulk job %q not found", jobID)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: bulkJobKey(customerID, jobID), ConsistentRead: ptr(true)})
	if err != nil {
		return BulkJob{}, fmt.Errorf("get bulk job %s: %w", jobID, err)
	}
	if out.Item == nil {
		return BulkJob{}, domain.Errorf(domain.ENotFound, "bulk job %s not found", jobID)
	}
	var it bulkJobItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return BulkJob{}, fmt.Errorf("decode bulk job %s: %w", jobID, err)
	}
	return it.BulkJob, nil
}

// ListBulkJobs returns one page of the customer's jobs, newest first.
func (s *Store) ListBulkJobs(ctx context.Context, customerID, cursor string, limit int) (Page[BulkJob], error) {
	page, err := queryPage[bulkJobItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":p": str("BULKJOB#"),
		},
		ScanIndexForward: ptr(false),
	}, cursor, limit, "PK", "SK")
	if err != nil {
		return Page[BulkJob]{}, fmt.Errorf("list bulk jobs of %s: %w", customerID, err)
	}
	out := Page[BulkJob]{Items: make([]BulkJob, len(page.Items)), NextCursor: page.NextCursor}
	for i, it := range page.Items {
		out.Items[i] = it.BulkJob
	}
	return out, nil
}

func staleBulkJob(id string) error {
	e := domain.Errorf(domain.EConflict, "bulk job %s was changed meanwhile: reload and try again", id)
	e.Fields = map[string]string{"version": "stale: reload"}
	return e
}

// PutBulkJob replaces a job that is still at version and returns it at version+1. Errors: EConflict (Fields
// "version") when the job changed since, or no longer exists.
func (s *Store) PutBulkJob(ctx context.Context, job BulkJob, version int64) (BulkJob, error) {
	if err := checkBulkIDs(job.CustomerID, job.ID); err != nil {
		return BulkJob{}, err
	}
	job.Version = version + 1
	put, err := s.bulkJobPut(job, "#ver = :v", version)
	if err != nil {
		return BulkJob{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return BulkJob{}, staleBulkJob(job.ID)
	case err != nil:
		return BulkJob{}, fmt.Errorf("store bulk job %s: %w", job.ID, err)
	}
	return job, nil
}

// GetBulkChunk returns the blob of one chunk of a job, or an ENotFound error.
func (s *Store) GetBulkChunk(ctx context.Context, customerID, jobID, kind string, index int) ([]byte, error) {
	if err := checkBulkIDs(customerID, jobID); err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table,
		Key: key(bulkChunkPK(customerID, jobID), bulkChunkSK(kind, index)), ConsistentRead: ptr(true)})
	if err != nil {
		return nil, fmt.Errorf("get chunk %s#%d of bulk job %s: %w", kind, index, jobID, err)
	}
	if out.Item == nil {
		return nil, domain.Errorf(domain.ENotFound, "chunk %s#%d of bulk job %s not found", kind, index, jobID)
	}
	var it bulkChunkItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode chunk %s#%d of bulk job %s: %w", kind, index, jobID, err)
	}
	return it.Data, nil
}

// PutBulkChunk stores (or replaces) one chunk of a job.
func (s *Store) PutBulkChunk(ctx context.Context, customerID, jobID string, c BulkChunk, ttl int64) error {
	if err := checkBulkIDs(customerID, jobID); err != nil {
		return err
	}
	item, err := s.bulkChunkItem(customerID, jobID, c, ttl)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("store chunk %s#%d of bulk job %s: %w", c.Kind, c.Index, jobID, err)
	}
	return nil
}

// RecordBulkChunk stores a new chunk of a job and replaces the job (still at version) in one transaction, and
// returns the job at version+1: a worker records a chunk's results with its cursor, so that the two never part.
// Errors: EConflict — Fields "version" when the job changed since; Fields "chunk" when the chunk exists already
// (nothing is written then).
func (s *Store) RecordBulkChunk(ctx context.Context, job BulkJob, version int64, c BulkChunk) (BulkJob, error) {
	if err := checkBulkIDs(job.CustomerID, job.ID); err != nil {
		return BulkJob{}, err
	}
	item, err := s.bulkChunkItem(job.CustomerID, job.ID, c, job.TTL)
	if err != nil {
		return BulkJob{}, err
	}
	job.Version = version + 1
	put, err := s.bulkJobPut(job, "#ver = :v", version)
	if err != nil {
		return BulkJob{}, err
	}
	err = s.transact(ctx,
		types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}},
		types.TransactWriteItem{Put: put})
	switch failed := failedConditions(err); {
	case err == nil:
		return job, nil
	case failed[0]:
		e := domain.Errorf(domain.EConflict, "chunk %s#%d of bulk job %s is recorded already", c.Kind, c.Index, job.ID)
		e.Fields = map[string]string{"chunk": "recorded already"}
		return BulkJob{}, e
	case failed[1]:
		return BulkJob{}, staleBulkJob(job.ID)
	default:
		return BulkJob{}, fmt.Errorf("record chunk %s#%d of bulk job %s: %w", c.Kind, c.Index, job.ID, err)
	}
}

// NumbersByE164 returns the numbers of the customer's inventory among numbers (E.164 with "+"), by number;
// numbers not in the inventory are missing from the map. It reads 100 per BatchGetItem, a few at a time.
func (s *Store) NumbersByE164(ctx context.Context, customerID string, numbers []string) (map[string]domain.Number, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(numbers))
	seen := map[string]bool{}
	for _, n := range numbers {
		n = normNumber(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		keys = append(keys, numberKey(customerID, n))
	}
	out := make(map[string]domain.Number, len(keys))
	var mu sync.Mutex
	err := s.parallelBatchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		n, err := decodeNumber(raw)
		if err != nil {
			return err
		}
		mu.Lock()
		out[n.Number] = n
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read numbers of %s: %w", customerID, err)
	}
	return out, nil
}

// ProvisioningByUsers returns the provisioning items of the given users (any letter case), by lower-case user id;
// users with none are missing from the map (GetProvisioning would return them empty).
func (s *Store) ProvisioningByUsers(ctx context.Context, customerID string, userIDs []string) (map[string]domain.Provisioning, error) {
	ids := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if id = normUserID(id); id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = provisioningKey(customerID, id)
	}
	out := make(map[string]domain.Provisioning, len(ids))
	var mu sync.Mutex
	err := s.parallelBatchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		var it provisioningItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return err
		}
		mu.Lock()
		out[strings.ToLower(it.UserID)] = it.Provisioning
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read provisioning of %s: %w", customerID, err)
	}
	return out, nil
}

// parallelBatchGet runs batchGet over slices of 100 keys, bulkStoreConcurrency at a time; fn must be safe for
// concurrent use.
func (s *Store) parallelBatchGet(ctx context.Context, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, bulkStoreConcurrency)
	)
	for chunk := range slices.Chunk(keys, 100) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.batchGet(ctx, chunk, fn); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}
