package export

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// ActorRetention is who the retention's audit records and leases name.
const ActorRetention = "job:export-retention"

// Retain removes the exports whose month is past the two-year retention at Now (Expired) and only those: every
// version of every object under exports/YYYY/MM/ (current, noncurrent and delete markers, so nothing of it can be
// restored) and the month's run record, holding the month's lease meanwhile (a month another run holds is left for
// the next time). It returns the months removed, ascending.
func (r *Runner) Retain(ctx context.Context) ([]string, error) {
	now := r.now()
	months, err := r.storedMonths(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, month := range months {
		if !Expired(month, now) {
			continue
		}
		if err := r.remove(ctx, month); err != nil {
			if domain.ErrorCode(err) == domain.EConflict {
				r.log().WarnContext(ctx, "export retention: month busy, left for the next run", "month", month, "err", err)
				continue
			}
			errs = append(errs, fmt.Errorf("remove the exports of %s: %w", month, err))
			continue
		}
		r.log().InfoContext(ctx, "export retention: month removed", "month", month)
		removed = append(removed, month)
	}
	return removed, errors.Join(errs...)
}

// storedMonths lists the months that have objects (of any version) under exports/ or a run record, ascending.
func (r *Runner) storedMonths(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	years, err := r.versionPrefixes(ctx, exportsPrefix)
	if err != nil {
		return nil, err
	}
	for _, y := range years {
		ms, err := r.versionPrefixes(ctx, y)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if month, ok := monthOfKey(m); ok {
				set[month] = true
			}
		}
	}
	runs, err := r.Store.ListExports(ctx)
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		set[run.Month] = true
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	slices.Sort(out)
	return out, nil
}

// versionPrefixes lists the "folders" right under prefix, over every object version (a month whose current
// objects are gone still has its noncurrent ones).
func (r *Runner) versionPrefixes(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	in := &s3.ListObjectVersionsInput{Bucket: &r.Bucket, Prefix: &prefix, Delimiter: aws.String("/")}
	for {
		page, err := r.S3.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, p := range page.CommonPrefixes {
			out = append(out, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

// remove deletes a month's exports for good, holding its lease.
func (r *Runner) remove(ctx context.Context, month string) error {
	now := r.now()
	run, err := r.Store.AcquireExport(ctx, store.ExportRun{Month: month, RunID: newRunID(now), Status: store.ExportRemoving,
		RequestedBy: ActorRetention, RequestedAt: now, StartedAt: &now, LeaseUntil: now.Add(r.leaseTTL())})
	if err != nil {
		return err
	}
	prefix := monthPrefix(month)
	in := &s3.ListObjectVersionsInput{Bucket: &r.Bucket, Prefix: &prefix}
	var ids []s3types.ObjectIdentifier
	for {
		page, err := r.S3.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, d := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: d.Key, VersionId: d.VersionId})
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	if err := r.deleteObjects(ctx, ids); err != nil {
		return err
	}
	if err := r.Store.DeleteExport(ctx, month, run.RunID); err != nil {
		return err
	}
	if err := r.Store.AppendAudit(ctx, domain.AuditRecord{At: now, Actor: ActorRetention, Action: "export.remove",
		Before: map[string]any{"month": month, "objects": len(ids)}, Outcome: "ok"}); err != nil {
		r.log().ErrorContext(ctx, "export removal not audited", "month", month, "err", err)
	}
	return nil
}
