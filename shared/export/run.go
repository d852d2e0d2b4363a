package export

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/usage"
)

// cleanupReserve is the time a run keeps before its invocation's deadline to clean up after a failure.
const cleanupReserve = 20 * time.Second

// ManifestFormat is the manifest's format version.
const ManifestFormat = 1

// Manifest describes a month's export: written last, it names the files of the run that wrote it.
type Manifest struct {
	FormatVersion int    `json:"formatVersion"`
	Month         string `json:"month"`
	RunID         string `json:"runId"`
	// GeneratedAt is when the files were finished (the manifest written).
	GeneratedAt     time.Time `json:"generatedAt"`
	SoftwareVersion string    `json:"softwareVersion"`
	RequestedBy     string    `json:"requestedBy"`
	// Period is the month: its first and last day.
	Period DateRange `json:"period"`
	// Data is the time range of the snapshots read (null when the month had none).
	Data *DataRange `json:"data"`
	// RulesVersions are the factor rule versions the snapshots were counted with, ascending.
	RulesVersions []int64 `json:"rulesVersions"`
	Counts        Counts  `json:"counts"`
	Files         []File  `json:"files"`
	// RetainedUntil is when the retention removes the month (RetainedUntil).
	RetainedUntil time.Time `json:"retainedUntil"`
}

// DateRange is a range of days (YYYY-MM-DD, inclusive).
type DateRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// DataRange is the range of the snapshots read: their first and last days, and when the earliest and the latest
// were taken.
type DataRange struct {
	From         string    `json:"from"`
	To           string    `json:"to"`
	FirstTakenAt time.Time `json:"firstTakenAt"`
	LastTakenAt  time.Time `json:"lastTakenAt"`
}

// Counts are what the files hold.
type Counts struct {
	Snapshots             int `json:"snapshots"`
	Customers             int `json:"customers"`
	PublicSectorCustomers int `json:"publicSectorCustomers"`
	Sites                 int `json:"sites"`
	PartnerRows           int `json:"partnerRows"`
	AnonymisedRows        int `json:"anonymisedRows"`
}

// File is one file of an export.
type File struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // KindAnonymised, KindPartner, KindSnapshots
	Key  string `json:"key"`
	// VersionID is the object's version (the bucket is versioned): a download of this manifest's file gets this
	// version even once a re-run has replaced it.
	VersionID   string    `json:"versionId,omitempty"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Rows        int       `json:"rows"` // CSV data rows; snapshots in the JSON
	WrittenAt   time.Time `json:"writtenAt"`
}

const (
	contentTypeCSV  = "text/csv; charset=utf-8"
	contentTypeJSON = "application/json"
)

// newRunID returns a run id that sorts by start time: 20261124T101500Z-1a2b3c4d.
func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// lease is a run that holds its month: it renews the lease as it reports progress, and stops (EConflict) when it
// has lost the month.
type lease struct {
	r    *Runner
	run  store.ExportRun
	last time.Time
}

// report stores the run's progress when due (or force), renewing the lease.
func (l *lease) report(ctx context.Context, force bool, update func(*store.ExportRun)) error {
	now := l.r.now()
	if update != nil {
		update(&l.run)
	}
	if !force && now.Sub(l.last) < l.r.progressEvery() {
		return nil
	}
	l.run.HeartbeatAt, l.run.LeaseUntil = now, now.Add(l.r.leaseTTL())
	saved, err := l.r.Store.SaveExport(ctx, l.run)
	if err != nil {
		return err
	}
	l.run, l.last = saved, now
	return nil
}

// execute computes and writes the month's files for run, which holds the month, and ends the run: succeeded (the
// manifest names its files, and the month holds nothing else), or failed (nothing of it is left).
func (r *Runner) execute(parent context.Context, run store.ExportRun) (res Result, err error) {
	// The work stops cleanupReserve before the invocation's deadline, so that a run that cannot finish in time
	// still removes what it wrote and records its failure.
	ctx := parent
	if dl, ok := parent.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(parent, dl.Add(-cleanupReserve))
		defer cancel()
	}
	month := run.Month
	res = Result{Month: month, RunID: run.RunID}
	log := r.log().With("month", month, "runId", run.RunID)
	log.InfoContext(ctx, "export run started", "requestedBy", run.RequestedBy)
	l := &lease{r: r, run: run, last: r.now()}
	runPrefix := monthPrefix(month) + run.RunID + "/"

	var writers []*objectWriter
	manifestWritten := false
	defer func() {
		if err == nil {
			return
		}
		cleanup := context.WithoutCancel(parent)
		for _, w := range writers {
			w.Abort(cleanup)
		}
		if !manifestWritten {
			// Nothing of this run may stay: the files it finished before it failed.
			if derr := r.deleteCurrent(cleanup, runPrefix, nil); derr != nil {
				log.WarnContext(cleanup, "export leftovers not deleted", "err", derr)
			}
		}
		r.end(cleanup, l, err)
	}()

	// The provider's factor rules name the anonymised factor rows; an estimate of the customers gauges progress.
	set, _, err := r.Store.GetFactorRules(ctx, "")
	if err != nil {
		return res, err
	}
	rules := set.Rules
	if set.Version == 0 && rules == nil {
		rules = usage.DefaultRules()
	}
	first, lastDay := monthDays(month)
	if totals, err := r.Store.ProviderTotals(ctx, first, lastDay); err == nil {
		for _, t := range totals {
			l.run.Progress.EstimatedCustomers = max(l.run.Progress.EstimatedCustomers, t.Customers)
		}
	} else {
		log.WarnContext(ctx, "export: no customer estimate", "err", err)
	}
	if err := l.report(ctx, true, func(run *store.ExportRun) { run.Phase = "reading" }); err != nil {
		return res, err
	}

	open := func(kind, contentType string) *objectWriter {
		w := newObjectWriter(ctx, r.S3, r.Bucket, runPrefix+FileName(month, kind), contentType, r.partSize())
		writers = append(writers, w)
		return w
	}
	anonW, partnerW, rawW := open(KindAnonymised, contentTypeCSV), open(KindPartner, contentTypeCSV), open(KindSnapshots, contentTypeJSON)
	partner := newCSVWriter(partnerW, PartnerHeader...)
	b := newBuilder(month, rules, partner, rawW)
	err = r.Store.MonthSnapshots(ctx, month, func(sn domain.Snapshot) error {
		if err := b.add(sn); err != nil {
			return err
		}
		return l.report(ctx, false, func(run *store.ExportRun) { run.Progress = b.progress(run.Progress) })
	})
	if err == nil {
		err = b.finish()
	}
	if err != nil {
		return res, err
	}
	anon := newCSVWriter(anonW, AnonymisedHeader...)
	if err := b.writeAnonymised(anon); err != nil {
		return res, err
	}
	if err := l.report(ctx, true, func(run *store.ExportRun) {
		run.Progress = b.progress(run.Progress)
		run.Phase = "manifest"
	}); err != nil {
		return res, err
	}

	// The files, then (still holding the month) the manifest that names them.
	m := Manifest{FormatVersion: ManifestFormat, Month: month, RunID: run.RunID, SoftwareVersion: r.Version,
		RequestedBy: run.RequestedBy, Period: DateRange{first, lastDay}, RulesVersions: []int64{},
		RetainedUntil: RetainedUntil(month),
		Counts: Counts{Snapshots: b.stats.Snapshots, Customers: b.stats.Customers, Sites: b.stats.Sites,
			PublicSectorCustomers: b.stats.PublicSectorCustomers, PartnerRows: partner.rows, AnonymisedRows: anon.rows}}
	for v := range b.stats.RulesVersions {
		m.RulesVersions = append(m.RulesVersions, v)
	}
	slices.Sort(m.RulesVersions)
	if b.stats.Snapshots > 0 {
		m.Data = &DataRange{From: b.stats.FirstDate, To: b.stats.LastDate, FirstTakenAt: b.stats.FirstTakenAt, LastTakenAt: b.stats.LastTakenAt}
	}
	for _, f := range []struct {
		w    *objectWriter
		kind string
		rows int
	}{{anonW, KindAnonymised, anon.rows}, {partnerW, KindPartner, partner.rows}, {rawW, KindSnapshots, b.stats.Snapshots}} {
		wr, err := f.w.Close()
		if err != nil {
			return res, err
		}
		m.Files = append(m.Files, File{Name: FileName(month, f.kind), Kind: f.kind, Key: wr.Key, VersionID: wr.VersionID,
			ContentType: f.w.contentType, Size: wr.Size, SHA256: wr.SHA256, Rows: f.rows, WrittenAt: r.now()})
	}
	if err := l.report(ctx, true, nil); err != nil { // still the month's run: the manifest is ours to write
		return res, err
	}
	m.GeneratedAt = r.now()
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return res, fmt.Errorf("encode the manifest of %s: %w", month, err)
	}
	if _, err := r.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &r.Bucket, Key: aws.String(ManifestKey(month)),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentTypeJSON),
	}); err != nil {
		return res, fmt.Errorf("put the manifest of %s: %w", month, err)
	}
	manifestWritten = true
	res.Written, res.Manifest = len(m.Files)+1, ManifestKey(month)
	res.Snapshots, res.Customers, res.Sites, res.Rows = b.stats.Snapshots, b.stats.Customers, b.stats.Sites, b.stats.Rows

	// Only now the previous run's files (and any failed run's leftovers) go.
	keep := map[string]bool{ManifestKey(month): true}
	for _, f := range m.Files {
		keep[f.Key] = true
	}
	_ = l.report(ctx, true, func(run *store.ExportRun) { run.Phase = "cleanup" })
	if cerr := r.deleteCurrent(ctx, monthPrefix(month), keep); cerr != nil {
		// The new export is complete and consistent; what is left is named by no manifest, and the next run of the
		// month deletes it.
		log.WarnContext(ctx, "export: older files not deleted", "err", cerr)
		res.Note = "older files of the month could not be deleted: " + cerr.Error()
	}
	r.end(ctx, l, nil)
	log.InfoContext(ctx, "export run done", "snapshots", res.Snapshots, "customers", res.Customers, "rows", res.Rows)
	return res, nil
}

// progress returns p with what the builder has done so far.
func (b *builder) progress(p store.ExportProgress) store.ExportProgress {
	p.Snapshots, p.Customers, p.Sites, p.Rows = b.stats.Snapshots, b.stats.Customers, b.stats.Sites, b.stats.Rows
	return p
}

// end records the run's end (succeeded when cause is nil, else failed with cause) and audits it. A run that lost
// its month records nothing: the month is another run's.
func (r *Runner) end(ctx context.Context, l *lease, cause error) {
	now := r.now()
	run := l.run
	run.FinishedAt, run.LeaseUntil, run.HeartbeatAt, run.Phase = &now, now, now, ""
	rec := domain.AuditRecord{At: now, Actor: ActorSchedule, Action: "export.run", Outcome: "ok",
		After: map[string]any{"month": run.Month, "runId": run.RunID, "requestedBy": run.RequestedBy, "progress": run.Progress}}
	run.Status = store.ExportSucceeded
	if cause != nil {
		run.Status, run.Error = store.ExportFailed, failureMessage(cause)
		rec.Outcome, rec.Error = "failed", run.Error
	}
	if _, err := r.Store.SaveExport(ctx, run); err != nil {
		r.log().ErrorContext(ctx, "export run end not recorded", "month", run.Month, "runId", run.RunID, "err", err)
		return
	}
	if err := r.Store.AppendAudit(ctx, rec); err != nil {
		r.log().ErrorContext(ctx, "export run not audited", "month", run.Month, "err", err)
	}
}

// failureMessage is what a provider admin reads of a failed run.
func failureMessage(err error) string {
	msg := err.Error()
	var de *domain.Error
	if errors.As(err, &de) {
		msg = de.Message
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

// monthDays returns the first and last days of month.
func monthDays(month string) (first, last string) {
	t, _ := time.Parse(monthLayout, month)
	return t.Format(time.DateOnly), t.AddDate(0, 1, -1).Format(time.DateOnly)
}

// deleteCurrent deletes the current objects under prefix that keep does not name (nil: all). In the versioned
// bucket a deletion leaves the old version as noncurrent, which the lifecycle removes after 30 days (and a
// download presigned with its version id still works until then).
func (r *Runner) deleteCurrent(ctx context.Context, prefix string, keep map[string]bool) error {
	p := s3.NewListObjectsV2Paginator(r.S3, &s3.ListObjectsV2Input{Bucket: &r.Bucket, Prefix: &prefix})
	var ids []s3types.ObjectIdentifier
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range out.Contents {
			if !keep[aws.ToString(o.Key)] {
				ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
			}
		}
	}
	return r.deleteObjects(ctx, ids)
}

// deleteObjects deletes objects (or object versions) in batches of 1,000.
func (r *Runner) deleteObjects(ctx context.Context, ids []s3types.ObjectIdentifier) error {
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		out, err := r.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &r.Bucket,
			Delete: &s3types.Delete{Objects: ids[:n], Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete %s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		ids = ids[n:]
	}
	return nil
}
