// Package bulkjob applies a mass-configuration CSV (package bulkcsv) to a customer's users: upload and validate
// against the stored state, preview, then apply as a job on the jobs queue, in chunks, with progress, per-row
// results, resumption after a crash, and cancellation.
//
// # Upload
//
// Service.Upload parses the file (bulkcsv.Parse, resolving licence names against the customer's own subscriptions
// first, then the Microsoft catalogue) and checks every row against the stored state: the user exists (by user
// principal name, any letter case) and is active; each licence is one of the customer's SKUs (add-ons are checked
// against the customer's service plans of that SKU by the parser); the template and the site exist (by name, any
// letter case) and the template's SKUs are the customer's; a user who gets a licence has a usage location; at most
// MaxLicencesPerRow licences; the number is in the customer's inventory, free or already the user's, not in
// quarantine, of the row's site (a number of no site goes anywhere), and the user holds no other number; an
// extension comes with a number; and seats suffice: per SKU, each user who does not hold it yet (directly or
// through a group) needs one free seat. When the rows without other problems need more seats of a SKU than are
// free, each of them gets a problem on its licences cell, and the file a problem of its own (Row 0) naming the SKU
// with the seats needed and available. No user and no number appears twice (the parser checks that). Every
// problem has its row and column. A file that cannot be read at all (bulkcsv's file-level errors) is refused with
// an EInvalid error and nothing is stored.
//
// A file comes as a request body (Upload), or, being larger than API Gateway and Lambda take (about 6 MB), is put
// by the browser to a signed URL of the bucket (NewUploadURL) and then read from there (UploadObject).
//
// What is stored: the job record (status validated or invalid, counts, seat totals), the rows as validated — each
// resolved to ids (user, SKUs and service plans, site, template) with what it will change — in chunks of at most
// ChunkSize rows, the problems in pages (at most MaxProblems listed, the rest summed up), all in DynamoDB under the
// job (store.BulkJob), and the uploaded file itself in the reports bucket under uploads/<customerId>/<jobId>.csv
// (when Files is set). The rows are resolved once, at upload: the worker applies exactly what was previewed, even
// if the catalogue or a template changes meanwhile, and does not need S3. Everything expires after Retention
// (the items' ttl; a lifecycle rule on uploads/ should do the same for the files).
//
// # What a row means
//
// The licences cell is the full set of licences the user is to hold directly, as the parser's documentation says:
// licences listed and not held directly are assigned; licences held directly and not listed are removed (a
// licence held through a group is never removed: it is not a direct licence); for a listed licence the user holds
// already, the add-ons given become exactly its switched-off service plans. An empty licences cell leaves the
// user's licences as they are. The template's licences are added to the row's: with a licences cell, the set is
// the cell's licences and the template's (a SKU in both keeps the cell's add-ons); without one, the template's
// licences are assigned (or their add-ons set) and nothing is removed, as assigning the template by hand does. The
// site's own template is not applied: the row says which licences the user holds. The number is assigned to the
// user through Teams (numbers.Service: reserve, then complete), the extension is recorded on that number in the
// inventory, and the user is placed on the site (the number's site when the row names none).
//
// # The job
//
// Service.Start refuses a file with problems unless the admin applies only its valid rows; it sends a jobs-queue
// message (Message, type JobType) that the worker (Service.HandleJob / Service.Run) processes. The worker holds the
// job's lease (no other worker runs it meanwhile; a duplicate message is dropped), applies one row chunk at a time
// and records the chunk's results with the job's cursor and counts in one transaction. A chunk's licence changes go
// through licensing.Bulk.ApplyMany (one Graph $batch request per 20 users, whole-chunk seat check, user locks,
// per-user audit "bulk.apply", recorded as managed by template); then each row's number and site. Before a chunk's
// first attempt, the changes it will make are recorded: a chunk replayed after a crash finds its licence changes
// applied (ApplyMany's "unchanged", nothing sent or audited again) and its numbers already the users' (nothing
// assigned again), and still reports what the first attempt changed. Near the invocation's deadline the worker
// releases the lease and re-enqueues the job. Service.Cancel stops a job before its next chunk; rows applied
// stay applied and are reported.
//
// A user whose number cannot be assigned yet because Teams does not know them (Teams provisioning lags licensing)
// is handed to staging with the number and site (outcome staged) when Staging is set; staging assigns the number
// when the user appears. A user who gains a Teams licence and gets no number in the file is staged as the licence
// operations stage users (with the row's site), when the customer's settings allow.
package bulkjob

import (
	"context"
	"log/slog"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
)

// Store is the state the jobs read and write (*store.Store implements it).
type Store interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error)
	ListSites(ctx context.Context, customerID string) ([]domain.Site, error)
	ListTemplates(ctx context.Context, customerID string) ([]domain.Template, error)
	// UsersByUPN returns the users among upns by lower-case UPN; UsersByID by lower-case id.
	UsersByUPN(ctx context.Context, customerID string, upns []string) (map[string]domain.User, error)
	UsersByID(ctx context.Context, customerID string, ids []string) (map[string]domain.User, error)
	NumbersByE164(ctx context.Context, customerID string, numbers []string) (map[string]domain.Number, error)
	ProvisioningByUsers(ctx context.Context, customerID string, userIDs []string) (map[string]domain.Provisioning, error)
	GetNumber(ctx context.Context, customerID, number string) (domain.Number, error)
	SetProvisionedSite(ctx context.Context, customerID, userID, siteID string, at time.Time) error
	CancelReservation(ctx context.Context, customerID, number, userID string, at time.Time) error
	AppendAudit(ctx context.Context, r domain.AuditRecord) error

	CreateBulkJob(ctx context.Context, job store.BulkJob, chunks []store.BulkChunk) (store.BulkJob, error)
	GetBulkJob(ctx context.Context, customerID, jobID string) (store.BulkJob, error)
	ListBulkJobs(ctx context.Context, customerID, cursor string, limit int) (store.Page[store.BulkJob], error)
	// PutBulkJob and RecordBulkChunk return EConflict when the job is no longer at version.
	PutBulkJob(ctx context.Context, job store.BulkJob, version int64) (store.BulkJob, error)
	GetBulkChunk(ctx context.Context, customerID, jobID, kind string, index int) ([]byte, error)
	PutBulkChunk(ctx context.Context, customerID, jobID string, c store.BulkChunk, ttl int64) error
	RecordBulkChunk(ctx context.Context, job store.BulkJob, version int64, c store.BulkChunk) (store.BulkJob, error)
}

var _ Store = (*store.Store)(nil)

// Licensing applies many users' licence changes at once (*licensing.Bulk implements it).
type Licensing interface {
	ApplyMany(ctx context.Context, req licensing.BulkRequest) ([]licensing.BulkResult, error)
}

var _ Licensing = (*licensing.Bulk)(nil)

// Numbers assigns numbers of the inventory (*numbers.Service implements it).
type Numbers interface {
	ReserveSpecific(ctx context.Context, cust domain.Customer, number string, user domain.User) (domain.Number, error)
	Complete(ctx context.Context, cust domain.Customer, n domain.Number, user domain.User, siteID, actor string) (domain.Number, error)
	Update(ctx context.Context, customerID, number string, version int64, actor string, in numbers.UpdateInput) (domain.Number, error)
}

var _ Numbers = (*numbers.Service)(nil)

// Stager stages a user for Teams provisioning (*staging.Service implements it).
type Stager interface {
	Stage(ctx context.Context, req staging.StageRequest) (domain.Staging, error)
}

var _ Stager = (*staging.Service)(nil)

// Queue sends to the jobs queue (*queue.Sender implements it).
type Queue interface {
	Send(ctx context.Context, v any) error
	SendDelayed(ctx context.Context, v any, delay time.Duration) error
}

var _ Queue = (*queue.Sender)(nil)

// Files keeps uploaded files (*s3.Client implements it).
type Files interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ Files = (*s3.Client)(nil)

// Presigner signs the URLs browsers upload files to (*s3.PresignClient implements it).
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

var _ Presigner = (*s3.PresignClient)(nil)

// JobType is the type of the jobs-queue messages of bulk jobs.
const JobType = "bulk"

// Message is a jobs-queue message asking a worker to apply (or go on applying) a job. Its type, customerId and
// requestedBy are queue.Job's; jobId is its own.
type Message struct {
	Type        string `json:"type"`
	CustomerID  string `json:"customerId"`
	JobID       string `json:"jobId"`
	RequestedBy string `json:"requestedBy,omitempty"`
}

// Audit actions. The licence changes are audited per user by licensing.Bulk (ActionApply), the numbers by
// numbers.Service (number.assign, number.update).
const (
	ActionUpload = "bulk.upload"
	ActionStart  = "bulk.start"
	ActionCancel = "bulk.cancel"
	ActionFinish = "bulk.finish"
	ActionApply  = "bulk.apply"
)

// Defaults and limits.
const (
	DefaultChunkSize   = 100
	MaxChunkSize       = 500
	DefaultLease       = 10 * time.Minute
	DefaultReserve     = 90 * time.Second
	DefaultRetention   = 90 * 24 * time.Hour
	DefaultConcurrency = 8
	// MaxProblems is the most problems a job lists; more are summed up in a last one.
	MaxProblems = bulkcsv.DefaultMaxProblems
	// MaxLicencesPerRow bounds the licences one row gives (with its template's), as a template's.
	MaxLicencesPerRow = licensing.MaxTemplateLicences
	// maxChunkBytes bounds the JSON of one stored chunk (DynamoDB items hold 400 KB).
	maxChunkBytes = 300 << 10
	// maxChunkAttempts: a chunk whose every row failed because Graph failed or throttled is retried later this
	// often before its failures are recorded.
	maxChunkAttempts = 3
	// problemsPerPage is the problems one stored chunk holds.
	problemsPerPage = 100
)

// Service uploads, previews and applies mass-configuration files.
type Service struct {
	Store     Store
	Licensing Licensing
	Numbers   Numbers
	Queue     Queue
	// Staging, when set, takes the users whose number waits for Teams, and the users who gain a Teams licence.
	Staging Stager
	// Files and Bucket, when set, keep the uploaded files (uploads/<customerId>/<jobId>.csv); with Presigner,
	// browsers upload files there themselves (NewUploadURL, UploadObject).
	Files     Files
	Presigner Presigner
	Bucket    string
	// ChunkSize is the most rows applied per chunk (default DefaultChunkSize, at most MaxChunkSize); it is fixed
	// for a job when its file is uploaded.
	ChunkSize int
	// Lease bounds how long one worker holds a job without recording a chunk (default DefaultLease).
	Lease time.Duration
	// Reserve is the time before the invocation's deadline at which the worker stops taking chunks and
	// re-enqueues the job (default DefaultReserve).
	Reserve time.Duration
	// Retention is how long a job and its rows and results are kept (default DefaultRetention).
	Retention time.Duration
	// Concurrency bounds the users whose number and site are set at once (default DefaultConcurrency).
	Concurrency int
	Now         func() time.Time
	// NewID returns a new job id; nil = UUIDv7 (time-ordered: the newest job lists first).
	NewID func() string
	Log   *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) chunkSize() int {
	switch {
	case s.ChunkSize <= 0:
		return DefaultChunkSize
	case s.ChunkSize > MaxChunkSize:
		return MaxChunkSize
	}
	return s.ChunkSize
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Sample returns the sample file admins download (bulkcsv.Sample).
func (s *Service) Sample() []byte { return bulkcsv.Sample() }

// Job is a job as the API shows it: the stored job and its progress.
type Job struct {
	store.BulkJob
	Progress Progress `json:"progress"`
}

// Progress is how far a job has gone: Done rows applied (changed, unchanged or staged), Failed rows failed,
// Remaining rows to go (not applied, once the job has ended), out of Total; Percent of Total with a result; the
// rate in rows per minute since the job started, and the seconds left at that rate (nil when unknown or ended).
type Progress struct {
	Total         int     `json:"total"`
	Done          int     `json:"done"`
	Failed        int     `json:"failed"`
	Remaining     int     `json:"remaining"`
	Percent       int     `json:"percent"`
	RatePerMinute float64 `json:"ratePerMinute"`
	SecondsLeft   *int64  `json:"secondsLeft"`
}

// Problem is something wrong in the file: its row as a spreadsheet shows it (0 for the file as a whole), its
// column (bulkcsv.ColUPN…, "" for the whole row), the value as written (may start with "=": show it as text,
// write it through bulkcsv.SafeCell), and what to do.
type Problem struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

// LicenceRef names a licence.
type LicenceRef struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"partNumber"`
	Name       string `json:"name"`
}

// AddOnChange is a licence the user keeps whose service plans change: Off are switched off, On switched on (plan
// names).
type AddOnChange struct {
	SkuID      string   `json:"skuId"`
	PartNumber string   `json:"partNumber"`
	Off        []string `json:"off"`
	On         []string `json:"on"`
}

// ValueChange is a value that changes: From ("" = none) → To.
type ValueChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Changes is what a row changes of its user.
type Changes struct {
	Add       []LicenceRef  `json:"add"`
	Remove    []LicenceRef  `json:"remove"`
	AddOns    []AddOnChange `json:"addOns"`
	Number    *ValueChange  `json:"number,omitempty"`
	Extension *ValueChange  `json:"extension,omitempty"`
	// Site names the sites (by name).
	Site *ValueChange `json:"site,omitempty"`
}

// Empty reports whether nothing changes.
func (c Changes) Empty() bool {
	return len(c.Add) == 0 && len(c.Remove) == 0 && len(c.AddOns) == 0 && c.Number == nil && c.Extension == nil && c.Site == nil
}

// PreviewRow is what one row will change, as validated (Valid false: it has problems and is not applied).
type PreviewRow struct {
	Row               int     `json:"row"`
	UserPrincipalName string  `json:"userPrincipalName"`
	UserID            string  `json:"userId"`
	DisplayName       string  `json:"displayName"`
	Valid             bool    `json:"valid"`
	Template          string  `json:"template"`
	Changes           Changes `json:"changes"`
	// Unchanged: the row changes nothing (the user has it all already).
	Unchanged bool `json:"unchanged"`
}

// Preview is a page of rows with what each will change, and the licence totals of the whole file.
type Preview struct {
	Job        Job              `json:"job"`
	Rows       []PreviewRow     `json:"rows"`
	NextCursor string           `json:"nextCursor"`
	Seats      []store.BulkSeat `json:"seats"`
}

// Outcomes of a row.
const (
	OutcomeOK        = "ok"          // applied: something changed
	OutcomeUnchanged = "unchanged"   // the user had it all already
	OutcomeStaged    = "staged"      // licences applied; the number (and site) wait for Teams, in staging
	OutcomeFailed    = "failed"      // Error says why (Changes what was applied nonetheless)
	OutcomeSkipped   = "skipped"     // the row has problems and was not applied
	OutcomePending   = "pending"     // not applied yet
	OutcomeCancelled = "cancelled"   // not applied: the job was cancelled first
	OutcomeAborted   = "not applied" // not applied: the job failed first
)

// RowResult is one row's result.
type RowResult struct {
	Row               int    `json:"row"`
	UserPrincipalName string `json:"userPrincipalName"`
	UserID            string `json:"userId"`
	Outcome           string `json:"outcome"`
	// Changes says what was changed (or, for a row not applied, what would have been).
	Changes string `json:"changes"`
	Error   string `json:"error"`
}
