package export

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
)

// MonthExport is one month as the API lists it: its files (the manifest), its latest run and its retention.
type MonthExport struct {
	Month string `json:"month"`
	// Manifest describes the month's files; null when none are written (the first run is queued, running or failed).
	Manifest *Manifest `json:"manifest"`
	// Run is the month's latest run (status, progress, error); null when none is recorded.
	Run *store.ExportRun `json:"run"`
	// RetainedUntil is when the retention removes the month.
	RetainedUntil time.Time `json:"retainedUntil"`
}

// Months returns every month with an export or a run, newest first.
func (r *Runner) Months(ctx context.Context) ([]MonthExport, error) {
	runs, err := r.Store.ListExports(ctx)
	if err != nil {
		return nil, err
	}
	byMonth := map[string]*MonthExport{}
	get := func(month string) *MonthExport {
		m := byMonth[month]
		if m == nil {
			m = &MonthExport{Month: month, RetainedUntil: RetainedUntil(month)}
			byMonth[month] = m
		}
		return m
	}
	for _, run := range runs {
		get(run.Month).Run = &run
	}
	manifests, err := r.manifestMonths(ctx)
	if err != nil {
		return nil, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 8)
	)
	for _, month := range manifests {
		m := get(month)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			man, err := r.manifest(ctx, month)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && domain.ErrorCode(err) != domain.ENotFound {
				errs = append(errs, err)
				return
			}
			m.Manifest = man
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]MonthExport, 0, len(byMonth))
	for _, m := range byMonth {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b MonthExport) int { return cmp.Compare(b.Month, a.Month) })
	return out, nil
}

// manifestMonths lists the months that have a current manifest.
func (r *Runner) manifestMonths(ctx context.Context) ([]string, error) {
	var months []string
	years, err := r.currentPrefixes(ctx, exportsPrefix)
	if err != nil {
		return nil, err
	}
	for _, y := range years {
		ms, err := r.currentPrefixes(ctx, y)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if month, ok := monthOfKey(m); ok {
				months = append(months, month)
			}
		}
	}
	return months, nil
}

func (r *Runner) currentPrefixes(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(r.S3, &s3.ListObjectsV2Input{Bucket: &r.Bucket, Prefix: &prefix, Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	return out, nil
}

// Month returns one month's export. Errors: EInvalid for a malformed month; ENotFound when the month has neither
// files nor a run.
func (r *Runner) Month(ctx context.Context, month string) (MonthExport, error) {
	if err := validMonth(month); err != nil {
		return MonthExport{}, err
	}
	out := MonthExport{Month: month, RetainedUntil: RetainedUntil(month)}
	run, err := r.Store.GetExport(ctx, month)
	switch {
	case err == nil:
		out.Run = &run
	case domain.ErrorCode(err) != domain.ENotFound:
		return MonthExport{}, err
	}
	man, err := r.manifest(ctx, month)
	switch {
	case err == nil:
		out.Manifest = man
	case domain.ErrorCode(err) != domain.ENotFound:
		return MonthExport{}, err
	}
	if out.Run == nil && out.Manifest == nil {
		return MonthExport{}, domain.Errorf(domain.ENotFound, "no export of %s", month)
	}
	return out, nil
}

// Manifest returns a month's manifest. Errors: EInvalid for a malformed month; ENotFound when the month has none.
func (r *Runner) Manifest(ctx context.Context, month string) (*Manifest, error) {
	if err := validMonth(month); err != nil {
		return nil, err
	}
	return r.manifest(ctx, month)
}

func (r *Runner) manifest(ctx context.Context, month string) (*Manifest, error) {
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &r.Bucket, Key: aws.String(ManifestKey(month))})
	if err != nil {
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			return nil, domain.Errorf(domain.ENotFound, "no export of %s", month)
		}
		return nil, fmt.Errorf("get the manifest of %s: %w", month, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the manifest of %s: %w", month, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode the manifest of %s: %w", month, err)
	}
	return &m, nil
}

// Download is a short-lived link to one file of a month's export.
type Download struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
	Size      int64     `json:"size,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
}

// Download presigns a GET of one file the month's manifest names (by its Name), or of the manifest itself
// (ManifestName), valid DownloadTTL: the file's version the manifest names, as an attachment under its name.
// Errors: EInvalid for a malformed month; ENotFound when the month has no export or its manifest no such file.
func (r *Runner) Download(ctx context.Context, month, name string) (Download, error) {
	if r.Presign == nil {
		return Download{}, domain.Errorf(domain.EInternal, "export: downloads are not configured")
	}
	m, err := r.Manifest(ctx, month)
	if err != nil {
		return Download{}, err
	}
	in := &s3.GetObjectInput{Bucket: &r.Bucket}
	d := Download{Name: name}
	if name == ManifestName {
		in.Key, in.ResponseContentType = aws.String(ManifestKey(month)), aws.String(contentTypeJSON)
	} else {
		i := slices.IndexFunc(m.Files, func(f File) bool { return f.Name == name })
		if i < 0 {
			return Download{}, domain.Errorf(domain.ENotFound, "the export of %s has no file %q", month, name)
		}
		f := m.Files[i]
		in.Key, in.ResponseContentType = aws.String(f.Key), aws.String(f.ContentType)
		if f.VersionID != "" {
			in.VersionId = aws.String(f.VersionID)
		}
		d.Size, d.SHA256 = f.Size, f.SHA256
	}
	in.ResponseContentDisposition = aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	ttl := r.downloadTTL()
	now := r.now()
	req, err := r.Presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return Download{}, fmt.Errorf("presign %s: %w", aws.ToString(in.Key), err)
	}
	d.URL, d.ExpiresAt = req.URL, now.Add(ttl)
	return d, nil
}

// Start queues a run of month (a re-run replaces the month's files as a whole) requested by actor, and has the
// Trigger execute it; it returns the queued run, whose progress Status reads. Errors: EInvalid for a malformed,
// future or expired month; EConflict "an export of <month> is running since …" while another run holds the
// month; EUpstream when the run could not be handed over (the run is then recorded as failed).
func (r *Runner) Start(ctx context.Context, month, actor string) (store.ExportRun, error) {
	if r.Trigger == nil {
		return store.ExportRun{}, domain.Errorf(domain.EInternal, "export: re-runs are not configured")
	}
	now := r.now()
	if err := validMonth(month); err != nil {
		return store.ExportRun{}, err
	}
	if _, err := ResolveMonth(month, now); err != nil {
		return store.ExportRun{}, err
	}
	if err := checkRetained(month, now); err != nil {
		return store.ExportRun{}, err
	}
	run, err := r.Store.AcquireExport(ctx, store.ExportRun{Month: month, RunID: newRunID(now), Status: store.ExportQueued,
		RequestedBy: actor, RequestedAt: now, LeaseUntil: now.Add(r.queuedTTL())})
	if err != nil {
		return store.ExportRun{}, err
	}
	if err := r.Trigger.Trigger(ctx, Request{Action: actionMonthEnd, Month: month, RunID: run.RunID}); err != nil {
		l := &lease{r: r, run: run}
		cause := domain.Wrap(err, domain.EUpstream, "the export of "+month+" could not be started: try again")
		r.end(context.WithoutCancel(ctx), l, cause)
		return store.ExportRun{}, cause
	}
	return run, nil
}

// Status returns the latest run of month: its status, phase, progress and error. Errors: EInvalid for a malformed
// month; ENotFound when the month never had a run.
func (r *Runner) Status(ctx context.Context, month string) (store.ExportRun, error) {
	if err := validMonth(month); err != nil {
		return store.ExportRun{}, err
	}
	return r.Store.GetExport(ctx, month)
}

func validMonth(month string) error {
	t, err := time.Parse(monthLayout, month)
	if err != nil || t.Format(monthLayout) != month {
		return &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("month %q is not YYYY-MM", month),
			Fields: map[string]string{"month": "must be YYYY-MM"}}
	}
	return nil
}

// QueueTrigger hands queued runs to the export function through its SQS queue (the message is the Request).
type QueueTrigger struct {
	Queue interface {
		Send(ctx context.Context, v any) error
	}
}

var _ Trigger = QueueTrigger{Queue: (*queue.Sender)(nil)}

// Trigger sends req to the queue.
func (q QueueTrigger) Trigger(ctx context.Context, req Request) error { return q.Queue.Send(ctx, req) }

// Background returns a Trigger that executes queued runs in a goroutine of this process (the local runner, and
// tests): Handle with a context that outlives the request's.
func (r *Runner) Background() Trigger {
	return TriggerFunc(func(ctx context.Context, req Request) error {
		ctx = context.WithoutCancel(ctx)
		go func() {
			if _, err := r.Handle(ctx, req); err != nil {
				r.log().ErrorContext(ctx, "export run failed", "month", req.Month, "runId", req.RunID, "err", err)
			}
		}()
		return nil
	})
}
