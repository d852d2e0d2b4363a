package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
)

func newTxStore(t *testing.T) *store.Store {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	return store.New(store.TxIsolated(dynamodb.NewFromConfig(cfg)), stack.TableName)
}

func exportRun(month, runID, status string, at time.Time, lease time.Duration) store.ExportRun {
	return store.ExportRun{Month: month, RunID: runID, Status: status, RequestedBy: "admin", RequestedAt: at,
		LeaseUntil: at.Add(lease)}
}

// TestExportLease: a month has one run at a time — a second gets EConflict until the first's lease ends or it
// finishes; a run that lost the month can no longer save; claims take only a queued run (or a dead one's).
func TestExportLease(t *testing.T) {
	st := newTxStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

	_, err := st.GetExport(ctx, "2026-10")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	a, err := st.AcquireExport(ctx, exportRun("2026-10", "run-a", store.ExportQueued, t0, 15*time.Minute))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, a.Version, int64(1))
	td.Cmp(t, a.HeartbeatAt, t0)

	_, err = st.AcquireExport(ctx, exportRun("2026-10", "run-b", store.ExportRunning, t0.Add(14*time.Minute), 5*time.Minute))
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, domain.ErrorMessage(err), "an export of 2026-10 is running since 2026-11-24T10:00:00Z (run run-a, requested by admin)")
	_, err = st.AcquireExport(ctx, exportRun("2026-09", "run-c", store.ExportRunning, t0, 5*time.Minute))
	td.CmpNoError(t, err, "another month is free")

	// Claims: not run-b's; run-a's once (queued → running), not again while its lease lives.
	_, ok, err := st.ClaimExport(ctx, "2026-10", "run-b", t0.Add(time.Minute), t0.Add(6*time.Minute))
	td.CmpNoError(t, err)
	td.CmpFalse(t, ok)
	t1 := t0.Add(time.Minute)
	a, ok, err = st.ClaimExport(ctx, "2026-10", "run-a", t1, t1.Add(5*time.Minute))
	td.Require(t).CmpNoError(err)
	td.CmpTrue(t, ok)
	td.Cmp(t, a, store.ExportRun{Month: "2026-10", RunID: "run-a", Status: store.ExportRunning, RequestedBy: "admin",
		RequestedAt: t0, StartedAt: &t1, HeartbeatAt: t1, LeaseUntil: t1.Add(5 * time.Minute), Version: 2})
	cur, ok, err := st.ClaimExport(ctx, "2026-10", "run-a", t1.Add(time.Minute), t1.Add(6*time.Minute))
	td.CmpNoError(t, err)
	td.CmpFalse(t, ok, "a live invocation holds it")
	td.Cmp(t, cur.Version, int64(2))

	// Progress renews the lease; a stale version is refused.
	a.Progress = store.ExportProgress{Snapshots: 100, Customers: 5}
	a.LeaseUntil = t1.Add(10 * time.Minute)
	a, err = st.SaveExport(ctx, a)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, a.Version, int64(3))
	stale := a
	stale.Version = 2
	_, err = st.SaveExport(ctx, stale)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	got, err := st.GetExport(ctx, "2026-10")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, a)

	// The lease ends (the invocation died): its own redelivery may take it over, and so may a new run.
	t2 := t1.Add(10 * time.Minute)
	_, err = st.AcquireExport(ctx, exportRun("2026-10", "run-d", store.ExportRunning, t2.Add(-time.Millisecond), 5*time.Minute))
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "a millisecond before the lease ends")
	d, err := st.AcquireExport(ctx, exportRun("2026-10", "run-d", store.ExportRunning, t2, 5*time.Minute))
	td.Require(t).CmpNoError(err, "at the lease's end")
	_, err = st.SaveExport(ctx, a)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "run-a lost the month")
	td.Cmp(t, domain.ErrorMessage(err), "the export run run-a of 2026-10 no longer holds the month")

	// Finished: the lease is given up at once.
	fin := t2.Add(time.Minute)
	d.Status, d.FinishedAt, d.LeaseUntil = store.ExportSucceeded, &fin, fin
	_, err = st.SaveExport(ctx, d)
	td.Require(t).CmpNoError(err)
	_, err = st.AcquireExport(ctx, exportRun("2026-10", "run-e", store.ExportQueued, fin, 15*time.Minute))
	td.CmpNoError(t, err)

	runs, err := st.ListExports(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, runs, td.Slice([]store.ExportRun{}, td.ArrayEntries{
		0: td.Struct(store.ExportRun{Month: "2026-09", RunID: "run-c", Status: store.ExportRunning}, nil),
		1: td.Struct(store.ExportRun{Month: "2026-10", RunID: "run-e", Status: store.ExportQueued}, nil),
	}))

	// Each start is audited (provider level).
	audit, err := st.ListAudit(ctx, "", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	var starts []string
	for _, r := range audit.Items {
		if r.Action == "export.start" {
			starts = append(starts, r.Actor)
		}
	}
	td.Cmp(t, starts, td.Len(4), "run-a, run-c, run-d, run-e")

	// The retention removes a month's record, only while it is the given run's.
	td.Cmp(t, domain.ErrorCode(st.DeleteExport(ctx, "2026-10", "run-d")), domain.EConflict)
	td.Require(t).CmpNoError(st.DeleteExport(ctx, "2026-10", "run-e"))
	_, err = st.GetExport(ctx, "2026-10")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}

// TestExportLeaseRace: runs of one month started at once — exactly one holds it, the others get EConflict.
func TestExportLeaseRace(t *testing.T) {
	st := newTxStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 23, 55, 0, 0, time.UTC)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.AcquireExport(ctx, exportRun("2026-11", "run-"+string(rune('a'+i)), store.ExportRunning, t0, 5*time.Minute))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "%v", err)
	}
	td.Cmp(t, won, 1)
}
