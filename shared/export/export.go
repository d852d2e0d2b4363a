// Package export writes the month-end licence usage files to the reports bucket, keeps them two years, and lets
// the API list, download and re-run them.
//
// # What a run computes
//
// From the month's daily snapshots (store.MonthSnapshots: customer by customer, the customer level then each
// site, each by date), at customer and site level only, every counter of a scope — the totals (users, licensed,
// unmatched), each factor's users, each SKU's assigned users and, at customer level, its consumed, enabled and
// acquired units — is reported twice, each labelled:
//   - last: its value in the scope's last snapshot of the month (last_date; 0 when that snapshot lacks it);
//   - peak: the largest value it had on any day of the month with a snapshot (a day it is absent from counts 0),
//     and peak_date, the first day it reached it. Each counter peaks on its own day.
//
// # Files
//
// Under exports/YYYY/MM/<runId>/ (a run id sorts by start time):
//   - seatwise-usage-YYYY-MM-anonymised.csv: per sector (public_sector false, then true), the sums over the
//     sector's customers of each customer-level counter — last = Σ customers' last values, peak = Σ customers'
//     peaks (what per-customer peak billing adds up to, not the peak of the daily total), customers = how many
//     customers had the counter. Columns: AnonymisedHeader. No customer, site, tenant or user data: factor rows are
//     the provider's rules (by id, with the provider's name); factors of a customer's own rules, whose names are
//     the customer's free text, are summed under code CustomerSpecificCode.
//   - seatwise-usage-YYYY-MM-partner.csv: the same counters per customer and per site, with the customer's id,
//     name and public-sector flag (as of its last customer-level snapshot) and the site's id and name. Columns:
//     PartnerHeader.
//   - seatwise-usage-YYYY-MM-snapshots.json: a JSON array of every snapshot both were computed from
//     (domain.Snapshot), one per line, in the order read.
//
// and exports/YYYY/MM/manifest.json (Manifest), written last, naming them with their size and SHA-256. Both CSV
// files are written by one csvWriter: UTF-8 with a BOM, CRLF, RFC 4180 quoting, formula-like cells neutralised.
//
// # Replacement, lease, retention
//
// A run writes its files under its own run id, then the manifest (one PUT: a reader sees the old manifest or the
// new one), then deletes every other object of the month (the previous run's files, a failed run's leftovers). A
// reader reads the manifest and only the files (and versions) it names, so it never sees a mix. Two runs of a
// month never interleave: a run holds the month's lease (store.AcquireExport, a conditional write with an expiry,
// renewed as the run reports progress); a second run gets EConflict "an export of 2026-10 is running since …".
//
// Every run first applies the retention: a month whose exports ended more than two years ago (RetainedUntil: two
// years after the first instant of the next month, UTC) is removed — every version of every object under
// exports/YYYY/MM/ and its run record — and a younger one never is. The bucket's lifecycle rule (730 days after an
// object is written) is the backstop should the job stop running.
package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// Store is the part of the store an export needs.
type Store interface {
	// MonthSnapshots streams the month's snapshots by customer, site ("" first), date.
	MonthSnapshots(ctx context.Context, month string, fn func(domain.Snapshot) error) error
	ProviderTotals(ctx context.Context, from, to string) ([]store.ProviderTotal, error)
	GetFactorRules(ctx context.Context, customerID string) (domain.FactorRuleSet, bool, error)
	// AcquireExport takes a month's lease (EConflict while another run holds it).
	AcquireExport(ctx context.Context, run store.ExportRun) (store.ExportRun, error)
	ClaimExport(ctx context.Context, month, runID string, now, leaseUntil time.Time) (store.ExportRun, bool, error)
	// SaveExport stores a run's progress or end (EConflict when the run lost the month).
	SaveExport(ctx context.Context, run store.ExportRun) (store.ExportRun, error)
	GetExport(ctx context.Context, month string) (store.ExportRun, error)
	ListExports(ctx context.Context) ([]store.ExportRun, error)
	DeleteExport(ctx context.Context, month, runID string) error
	AppendAudit(ctx context.Context, r domain.AuditRecord) error
}

var _ Store = (*store.Store)(nil)

// S3API is the part of the S3 client an export needs.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Presigner presigns downloads (*s3.PresignClient).
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

var _ Presigner = (*s3.PresignClient)(nil)

// Trigger has a queued run executed elsewhere: by the export function through its queue (QueueTrigger), or in a
// goroutine of the local runner (Background).
type Trigger interface {
	Trigger(ctx context.Context, req Request) error
}

// TriggerFunc adapts a function to Trigger.
type TriggerFunc func(ctx context.Context, req Request) error

// Trigger calls f.
func (f TriggerFunc) Trigger(ctx context.Context, req Request) error { return f(ctx, req) }

// Defaults of the Runner's settings.
const (
	DefaultLeaseTTL      = 5 * time.Minute  // a running run's lease, renewed with each progress report
	DefaultQueuedTTL     = 15 * time.Minute // how long a queued run holds the month before an invocation takes it
	DefaultProgressEvery = 5 * time.Second
	DefaultDownloadTTL   = 5 * time.Minute // presigned download URLs
)

// ActorSchedule is who runs the scheduled export (and the retention).
const ActorSchedule = "job:export"

// Runner runs the month-end exports and reads them back for the API. Store, S3 and Bucket are required; Presign
// for Download, Trigger for Start. Zero settings take their defaults.
type Runner struct {
	Store   Store
	S3      S3API
	Presign Presigner
	Bucket  string
	// Version is the software version written to manifests (config.Version).
	Version string
	Trigger Trigger
	Now     func() time.Time
	Log     *slog.Logger

	PartSize      int           // multipart upload part size (DefaultPartSize)
	LeaseTTL      time.Duration // DefaultLeaseTTL
	QueuedTTL     time.Duration // DefaultQueuedTTL
	ProgressEvery time.Duration // DefaultProgressEvery
	DownloadTTL   time.Duration // DefaultDownloadTTL
}

// New returns a Runner over st and the S3 client s3c (which also presigns downloads), writing to bucket.
func New(st Store, s3c *s3.Client, bucket, version string, log *slog.Logger) *Runner {
	return &Runner{Store: st, S3: s3c, Presign: s3.NewPresignClient(s3c), Bucket: bucket, Version: version,
		Now: time.Now, Log: log}
}

// Request is the input of an export run: the schedule sends {"action":"month-end","scheduledTime":"…"} (the
// month is that of the scheduled time, so a retry after midnight still exports the month that ended); a provider
// admin may name a past month; a run queued by Start carries its run id.
type Request struct {
	Action string `json:"action"`
	// Month is YYYY-MM; "" = the month of ScheduledTime, else of the time of the run.
	Month string `json:"month,omitempty"`
	// ScheduledTime is EventBridge Scheduler's <aws.scheduler.scheduled-time> (RFC 3339).
	ScheduledTime string `json:"scheduledTime,omitempty"`
	// RunID is the queued run (Start) this request executes.
	RunID string `json:"runId,omitempty"`
}

// Result says what a run did.
type Result struct {
	Month string `json:"month"`
	RunID string `json:"runId,omitempty"`
	// Written counts the objects written: the three files and the manifest.
	Written   int    `json:"written"`
	Manifest  string `json:"manifest,omitempty"` // its key
	Snapshots int    `json:"snapshots"`
	Customers int    `json:"customers"`
	Sites     int    `json:"sites"`
	Rows      int    `json:"rows"` // partner CSV rows
	// Removed lists the months the retention removed.
	Removed []string `json:"removed,omitempty"`
	Note    string   `json:"note,omitempty"`
}

const actionMonthEnd = "month-end"

// Handle runs one export request: the retention first, then the month's export (the queued run RunID, or a new
// run). Errors: EInvalid for a bad request or a month past the retention; EConflict when another run holds the
// month; whatever failed the run (which is then recorded as failed, nothing of it visible).
func (r *Runner) Handle(ctx context.Context, req Request) (Result, error) {
	if req.Action != actionMonthEnd {
		return Result{}, domain.Errorf(domain.EInvalid, "export: unknown action %q (want \"month-end\")", req.Action)
	}
	if r.Store == nil || r.S3 == nil || r.Bucket == "" {
		return Result{}, domain.Errorf(domain.EInternal, "export: the runner has no store, S3 client or bucket (use export.New)")
	}
	now := r.now()
	month := req.Month
	if month == "" && req.ScheduledTime != "" {
		t, err := time.Parse(time.RFC3339, req.ScheduledTime)
		if err != nil {
			return Result{}, &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("scheduledTime %q is not RFC 3339", req.ScheduledTime),
				Fields: map[string]string{"scheduledTime": "must be an RFC 3339 time"}}
		}
		month = t.UTC().Format(monthLayout)
	}
	month, err := ResolveMonth(month, now)
	if err != nil {
		return Result{}, err
	}
	if req.RunID != "" && req.Month == "" {
		return Result{}, domain.Invalid(map[string]string{"month": "required with runId"})
	}

	removed, retErr := r.Retain(ctx)
	if retErr != nil {
		r.log().ErrorContext(ctx, "export retention failed", "err", retErr)
	}
	res, err := r.export(ctx, month, req.RunID, now)
	res.Removed = removed
	return res, errors.Join(err, retErr)
}

// export runs the month's export: the queued run runID, or a new run of the schedule.
func (r *Runner) export(ctx context.Context, month, runID string, now time.Time) (Result, error) {
	if err := checkRetained(month, now); err != nil {
		return Result{Month: month}, err
	}
	var run store.ExportRun
	if runID != "" {
		claimed, ok, err := r.Store.ClaimExport(ctx, month, runID, now, now.Add(r.leaseTTL()))
		if err != nil {
			return Result{Month: month, RunID: runID}, err
		}
		if !ok {
			note := fmt.Sprintf("run %s of %s is not waiting to run", runID, month)
			if claimed.RunID != "" {
				note += fmt.Sprintf(" (the month's run is %s, %s)", claimed.RunID, claimed.Status)
			}
			r.log().InfoContext(ctx, "export request skipped", "month", month, "runId", runID, "note", note)
			return Result{Month: month, RunID: runID, Note: note}, nil
		}
		run = claimed
	} else {
		var err error
		run, err = r.Store.AcquireExport(ctx, store.ExportRun{Month: month, RunID: newRunID(now), Status: store.ExportRunning,
			RequestedBy: ActorSchedule, RequestedAt: now, StartedAt: &now, LeaseUntil: now.Add(r.leaseTTL())})
		if err != nil {
			return Result{Month: month}, err
		}
	}
	return r.execute(ctx, run)
}

// HandleEvent is the export function's handler: a scheduler or direct invocation (a Request), or an SQS event of
// the export queue whose messages are Requests of queued runs. A message is retried (reported as a batch item
// failure) only when its run could not be taken; a run that failed is recorded as failed and not retried.
func (r *Runner) HandleEvent(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			MessageID string `json:"messageId"`
			Body      string `json:"body"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, domain.Errorf(domain.EInvalid, "export: the event is not JSON: %v", err)
	}
	if probe.Records == nil {
		var req Request
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, domain.Errorf(domain.EInvalid, "export: bad request: %v", err)
		}
		return r.Handle(ctx, req)
	}
	type failure struct {
		ItemIdentifier string `json:"itemIdentifier"`
	}
	resp := struct {
		BatchItemFailures []failure `json:"batchItemFailures"`
	}{BatchItemFailures: []failure{}}
	for _, rec := range probe.Records {
		var req Request
		if err := json.Unmarshal([]byte(rec.Body), &req); err != nil {
			r.log().ErrorContext(ctx, "export message dropped: not a request", "messageId", rec.MessageID, "err", err)
			continue
		}
		_, err := r.Handle(ctx, req)
		if err == nil || !r.retry(ctx, req) {
			continue
		}
		r.log().ErrorContext(ctx, "export message will be retried", "messageId", rec.MessageID, "month", req.Month, "err", err)
		resp.BatchItemFailures = append(resp.BatchItemFailures, failure{ItemIdentifier: rec.MessageID})
	}
	return resp, nil
}

// retry reports whether a queued run's message should come back: its run is still waiting, or its state cannot
// be read (a failed or finished run is recorded, and not retried).
func (r *Runner) retry(ctx context.Context, req Request) bool {
	if req.RunID == "" || req.Month == "" {
		return false
	}
	run, err := r.Store.GetExport(ctx, req.Month)
	if err != nil {
		return domain.ErrorCode(err) != domain.ENotFound
	}
	return run.RunID == req.RunID && (run.Status == store.ExportQueued || run.Status == store.ExportRunning)
}

const monthLayout = "2006-01"

// ResolveMonth returns the month an export run is for: month when given (YYYY-MM, not in the future), else the
// month of now, which the schedule runs on its last day.
func ResolveMonth(month string, now time.Time) (string, error) {
	if month == "" {
		return now.UTC().Format(monthLayout), nil
	}
	t, err := time.Parse(monthLayout, month)
	if err != nil || t.Format(monthLayout) != month {
		return "", &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("month %q is not YYYY-MM", month),
			Fields: map[string]string{"month": "must be YYYY-MM"}}
	}
	if t.After(now) {
		return "", &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("month %s has not started", month),
			Fields: map[string]string{"month": "must not be in the future"}}
	}
	return month, nil
}

// RetainedUntil is the end of the retention of month's exports: two years after the month ended (the first
// instant of the next month, UTC). The retention removes the month once now is after it — for now = 2026-11-24,
// 2024-10 (retained until 2026-11-01T00:00Z) is removed, 2024-11 (until 2026-12-01) is kept. It panics on a
// malformed month.
func RetainedUntil(month string) time.Time {
	t, err := time.Parse(monthLayout, month)
	if err != nil {
		panic(fmt.Sprintf("export: month %q: %v", month, err))
	}
	return t.AddDate(2, 1, 0)
}

// Expired reports whether the retention removes month's exports at now.
func Expired(month string, now time.Time) bool { return now.After(RetainedUntil(month)) }

func checkRetained(month string, now time.Time) error {
	if Expired(month, now) {
		return &domain.Error{Code: domain.EInvalid,
			Message: fmt.Sprintf("%s is past the two-year retention (kept until %s)", month, RetainedUntil(month).Format(time.RFC3339)),
			Fields:  map[string]string{"month": "past the two-year retention"}}
	}
	return nil
}

// Keys and names of a month's objects.

const exportsPrefix = "exports/"

// monthPrefix is "exports/YYYY/MM/".
func monthPrefix(month string) string {
	return exportsPrefix + strings.Replace(month, "-", "/", 1) + "/"
}

// ManifestKey is the key of month's manifest.
func ManifestKey(month string) string { return monthPrefix(month) + ManifestName }

// ManifestName is the manifest's file name.
const ManifestName = "manifest.json"

// File kinds, and the file names of a month's export.
const (
	KindAnonymised = "anonymised"
	KindPartner    = "partner"
	KindSnapshots  = "snapshots"
)

// FileName is the name of month's file of kind.
func FileName(month, kind string) string {
	ext := ".csv"
	if kind == KindSnapshots {
		ext = ".json"
	}
	return "seatwise-usage-" + month + "-" + kind + ext
}

// monthOfKey returns the month of a key under exports/ ("exports/2026/10/…" → "2026-10").
func monthOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, exportsPrefix)
	if !ok || len(rest) < 8 || rest[4] != '/' || rest[7] != '/' {
		return "", false
	}
	month := rest[:4] + "-" + rest[5:7]
	t, err := time.Parse(monthLayout, month)
	if err != nil || t.Format(monthLayout) != month {
		return "", false
	}
	return month, true
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Runner) leaseTTL() time.Duration  { return orDuration(r.LeaseTTL, DefaultLeaseTTL) }
func (r *Runner) queuedTTL() time.Duration { return orDuration(r.QueuedTTL, DefaultQueuedTTL) }
func (r *Runner) progressEvery() time.Duration {
	return orDuration(r.ProgressEvery, DefaultProgressEvery)
}
func (r *Runner) downloadTTL() time.Duration { return orDuration(r.DownloadTTL, DefaultDownloadTTL) }

func (r *Runner) partSize() int {
	if r.PartSize > 0 {
		return r.PartSize
	}
	return DefaultPartSize
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
