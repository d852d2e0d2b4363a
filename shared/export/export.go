// Package export writes the month-end licence usage files to the reports bucket.
//
// This first version resolves and validates which month a run is for; computing and writing the files arrives with
// the month-end export issue, and until then a run reports that it wrote nothing.
package export

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
)

// Request is the input of an export run: the scheduler sends {"action":"month-end"}; a provider admin may name a
// past month.
type Request struct {
	Action string `json:"action"`
	Month  string `json:"month,omitempty"` // YYYY-MM; "" = the month that ends (or ended last) at the time of the run
}

// Result says what a run did.
type Result struct {
	Month   string `json:"month"`
	Written int    `json:"written"`
	Note    string `json:"note,omitempty"`
}

// Runner runs exports.
type Runner struct {
	Bucket string
	Now    func() time.Time
	Log    *slog.Logger
}

// Handle runs one export.
func (r *Runner) Handle(ctx context.Context, req Request) (Result, error) {
	if req.Action != "month-end" {
		return Result{}, domain.Errorf(domain.EInvalid, "export: unknown action %q (want \"month-end\")", req.Action)
	}
	month, err := ResolveMonth(req.Month, r.Now().UTC())
	if err != nil {
		return Result{}, err
	}
	r.Log.InfoContext(ctx, "export run", "month", month, "bucket", r.Bucket)
	return Result{Month: month, Note: "month-end files are not produced yet"}, nil
}

// ResolveMonth returns the month an export run is for: month when given (YYYY-MM, not in the future), else the
// month of now, which the schedule runs on its last day.
func ResolveMonth(month string, now time.Time) (string, error) {
	if month == "" {
		return now.Format("2006-01"), nil
	}
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return "", &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("month %q is not YYYY-MM", month),
			Fields: map[string]string{"month": "must be YYYY-MM"}}
	}
	if t.After(now) {
		return "", &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("month %s has not started", month),
			Fields: map[string]string{"month": "must not be in the future"}}
	}
	return month, nil
}
