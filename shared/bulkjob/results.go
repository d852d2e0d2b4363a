package bulkjob

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/store"
)

// Page sizes of Preview, Problems and Results.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// job reads a job of a customer that exists.
func (s *Service) job(ctx context.Context, customerID, jobID string) (store.BulkJob, error) {
	if _, err := s.Store.GetCustomer(ctx, customerID); err != nil {
		return store.BulkJob{}, err
	}
	return s.Store.GetBulkJob(ctx, customerID, jobID)
}

func (s *Service) rows(ctx context.Context, job store.BulkJob, index int) ([]rowPlan, error) {
	data, err := s.Store.GetBulkChunk(ctx, job.CustomerID, job.ID, store.BulkRows, index)
	if err != nil {
		return nil, err
	}
	var plans []rowPlan
	return plans, decodeChunk(data, &plans)
}

// Preview returns a page of the file's rows (in file order, limit 1..MaxPageSize, default DefaultPageSize) with
// what each changes of its user as validated — licences added and removed, add-ons switched, number, extension,
// site — and the licence totals of the whole file against the seats available. Errors: ENotFound (customer or
// job), EInvalid (cursor).
func (s *Service) Preview(ctx context.Context, customerID, jobID, cursor string, limit int) (Preview, error) {
	job, err := s.job(ctx, customerID, jobID)
	if err != nil {
		return Preview{}, err
	}
	out := Preview{Job: s.view(job), Rows: []PreviewRow{}, Seats: job.Seats}
	if out.Seats == nil {
		out.Seats = []store.BulkSeat{}
	}
	next, err := s.walk(ctx, job, cursor, pageSize(limit), func(p rowPlan, _ *RowResult) {
		out.Rows = append(out.Rows, PreviewRow{Row: p.Line, UserPrincipalName: p.UPN, UserID: p.UserID, DisplayName: p.DisplayName,
			Valid: p.Valid, Template: p.TemplateName, Changes: nonNilChanges(p.Changes), Unchanged: p.Valid && p.Changes.Empty()})
	}, false)
	out.NextCursor = next
	return out, err
}

func nonNilChanges(c Changes) Changes {
	if c.Add == nil {
		c.Add = []LicenceRef{}
	}
	if c.Remove == nil {
		c.Remove = []LicenceRef{}
	}
	if c.AddOns == nil {
		c.AddOns = []AddOnChange{}
	}
	return c
}

// walk calls fn for up to limit rows from cursor, with each row's result when withResults (nil for a row of a
// chunk not applied), and returns the cursor of what follows ("" at the end).
func (s *Service) walk(ctx context.Context, job store.BulkJob, cursor string, limit int, fn func(rowPlan, *RowResult), withResults bool) (string, error) {
	pos, err := parsePosition(cursor)
	if err != nil {
		return "", err
	}
	n := 0
	for pos.Chunk < job.Chunks {
		plans, err := s.rows(ctx, job, pos.Chunk)
		if err != nil {
			return "", err
		}
		var results []RowResult
		if withResults && pos.Chunk < job.Cursor {
			data, err := s.Store.GetBulkChunk(ctx, job.CustomerID, job.ID, store.BulkResults, pos.Chunk)
			if err != nil {
				return "", err
			}
			if err := decodeChunk(data, &results); err != nil {
				return "", err
			}
		}
		for ; pos.Offset < len(plans); pos.Offset++ {
			if n == limit {
				return pos.cursor(), nil
			}
			var r *RowResult
			if pos.Offset < len(results) {
				r = &results[pos.Offset]
			}
			fn(plans[pos.Offset], r)
			n++
		}
		pos = position{Chunk: pos.Chunk + 1}
	}
	return "", nil
}

// Problems returns a page of the file's problems, by row (row 0 is the file as a whole), then column; the last of
// them may sum up problems not listed. Errors: ENotFound (customer or job), EInvalid (cursor).
func (s *Service) Problems(ctx context.Context, customerID, jobID, cursor string, limit int) (store.Page[Problem], error) {
	job, err := s.job(ctx, customerID, jobID)
	if err != nil {
		return store.Page[Problem]{}, err
	}
	from := 0
	if cursor != "" {
		pos, err := parsePosition(cursor)
		if err != nil {
			return store.Page[Problem]{}, err
		}
		from = pos.Offset
	}
	limit = pageSize(limit)
	out := store.Page[Problem]{Items: []Problem{}}
	for page := from / problemsPerPage; page < job.ProblemPages && len(out.Items) < limit; page++ {
		data, err := s.Store.GetBulkChunk(ctx, job.CustomerID, job.ID, store.BulkProblems, page)
		if err != nil {
			return out, err
		}
		var ps []Problem
		if err := decodeChunk(data, &ps); err != nil {
			return out, err
		}
		for i := max(from-page*problemsPerPage, 0); i < len(ps) && len(out.Items) < limit; i++ {
			out.Items = append(out.Items, ps[i])
		}
	}
	if next := from + len(out.Items); next < job.ProblemsListed {
		out.NextCursor = position{Offset: next}.cursor()
	}
	return out, nil
}

// resultOf is a row's result: recorded, or what a row without one is (skipped, pending, cancelled, not applied).
func resultOf(job store.BulkJob, p rowPlan, r *RowResult) RowResult {
	if r != nil {
		return *r
	}
	out := RowResult{Row: p.Line, UserPrincipalName: p.UPN, UserID: p.UserID, Changes: p.Changes.String()}
	switch {
	case !p.Valid:
		out.Outcome, out.Error = OutcomeSkipped, p.Problem
	case job.Status == store.BulkCancelled:
		out.Outcome = OutcomeCancelled
	case job.Status == store.BulkFailed:
		out.Outcome, out.Error = OutcomeAborted, job.Error
	default:
		out.Outcome = OutcomePending
	}
	return out
}

// Results returns a page of per-row results in file order: each row applied has its outcome (ok, unchanged,
// staged, failed) with what changed and the error; the others are skipped (the row has problems), pending,
// cancelled, or not applied (the job failed). Errors: ENotFound (customer or job), EInvalid (cursor).
func (s *Service) Results(ctx context.Context, customerID, jobID, cursor string, limit int) (store.Page[RowResult], error) {
	job, err := s.job(ctx, customerID, jobID)
	if err != nil {
		return store.Page[RowResult]{}, err
	}
	out := store.Page[RowResult]{Items: []RowResult{}}
	out.NextCursor, err = s.walk(ctx, job, cursor, pageSize(limit), func(p rowPlan, r *RowResult) {
		out.Items = append(out.Items, resultOf(job, p, r))
	}, true)
	return out, err
}

// ResultsColumns are the columns of ResultsCSV.
var ResultsColumns = []string{"row", "userPrincipalName", "outcome", "changes", "error"}

// ResultsCSV writes every row's result (as Results) as CSV: UTF-8 with a byte order mark (Excel reads it as
// UTF-8), the uploaded file's delimiter, CRLF line ends, the columns ResultsColumns, every value through
// bulkcsv.SafeCell (a value from the file never runs as a formula). It may be called while the job runs (rows to
// go are pending). Errors: ENotFound (customer or job); a failure after the first bytes is returned as it is.
func (s *Service) ResultsCSV(ctx context.Context, customerID, jobID string, w io.Writer) error {
	job, err := s.job(ctx, customerID, jobID)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if job.Delimiter == ";" {
		cw.Comma = ';'
	}
	if err := cw.Write(ResultsColumns); err != nil {
		return err
	}
	var werr error
	cursor := ""
	for {
		cursor, err = s.walk(ctx, job, cursor, MaxPageSize, func(p rowPlan, r *RowResult) {
			if werr != nil {
				return
			}
			res := resultOf(job, p, r)
			werr = cw.Write([]string{strconv.Itoa(res.Row), bulkcsv.SafeCell(res.UserPrincipalName), res.Outcome,
				bulkcsv.SafeCell(res.Changes), bulkcsv.SafeCell(res.Error)})
		}, true)
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		if cursor == "" {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
