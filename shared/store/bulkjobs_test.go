package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// A bulk job is stored with its chunks, read back, listed newest first, replaced only at its version, and records
// a chunk with its cursor in one write that refuses a stale job and a chunk recorded already.
func TestBulkJobs(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "5d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))

	job := store.BulkJob{CustomerID: "c1", ID: "0001", Filename: "a.csv", Status: store.BulkValidated, CreatedBy: "alice", CreatedAt: at,
		Rows: 3, ValidRows: 3, Columns: []string{"userPrincipalName"}, Delimiter: ",", Chunks: 2, UpdatedAt: at,
		Seats: []store.BulkSeat{{SkuID: "s1", PartNumber: "P", Name: "Plan", Available: 3, Needed: 2, NeededValid: 2}},
		TTL:   at.Add(time.Hour).Unix()}
	created, err := st.CreateBulkJob(ctx, job, []store.BulkChunk{
		{Kind: store.BulkRows, Index: 0, Data: []byte("rows 0")}, {Kind: store.BulkRows, Index: 1, Data: []byte("rows 1")},
	})
	td.Require(t).CmpNoError(err)
	job.Version = 1
	td.Cmp(t, created, job)
	_, err = st.CreateBulkJob(ctx, job, nil)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "created once")

	got, err := st.GetBulkJob(ctx, "c1", "0001")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, job)
	_, err = st.GetBulkJob(ctx, "c1", "0002")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	_, err = st.GetBulkJob(ctx, "c1", "a#b")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "a bad id is not found")

	data, err := st.GetBulkChunk(ctx, "c1", "0001", store.BulkRows, 1)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, string(data), "rows 1")
	_, err = st.GetBulkChunk(ctx, "c1", "0001", store.BulkResults, 0)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	td.Require(t).CmpNoError(st.PutBulkChunk(ctx, "c1", "0001", store.BulkChunk{Kind: store.BulkAttempt, Index: 0, Data: []byte("a")}, job.TTL))
	td.Require(t).CmpNoError(st.PutBulkChunk(ctx, "c1", "0001", store.BulkChunk{Kind: store.BulkAttempt, Index: 0, Data: []byte("b")}, job.TTL))
	data, err = st.GetBulkChunk(ctx, "c1", "0001", store.BulkAttempt, 0)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, string(data), "b", "replaced")

	// Replaced at its version only.
	next := job
	next.Status, next.Total = store.BulkQueued, 3
	queued, err := st.PutBulkJob(ctx, next, 1)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, queued.Version, int64(2))
	_, err = st.PutBulkJob(ctx, next, 1)
	td.Cmp(t, err, td.Code(func(err error) bool {
		var de *domain.Error
		return domain.ErrorCode(err) == domain.EConflict && errors.As(err, &de) && de.Fields["version"] != ""
	}), "stale")

	// A chunk and the cursor, together.
	running := queued
	running.Status, running.Cursor, running.Applied = store.BulkRunning, 1, 2
	rec, err := st.RecordBulkChunk(ctx, running, 2, store.BulkChunk{Kind: store.BulkResults, Index: 0, Data: []byte("results 0")})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, rec.Version, int64(3))
	_, err = st.RecordBulkChunk(ctx, running, 2, store.BulkChunk{Kind: store.BulkResults, Index: 1, Data: []byte("results 1")})
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "stale job")
	_, err = st.GetBulkChunk(ctx, "c1", "0001", store.BulkResults, 1)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "nothing written by the refused transaction")
	_, err = st.RecordBulkChunk(ctx, rec, 3, store.BulkChunk{Kind: store.BulkResults, Index: 0, Data: []byte("again")})
	td.Cmp(t, err, td.Code(func(err error) bool {
		var de *domain.Error
		return errors.As(err, &de) && de.Fields["chunk"] != ""
	}), "the chunk is recorded already")
	got, err = st.GetBulkJob(ctx, "c1", "0001")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, rec, "unchanged by the refusals")
	data, err = st.GetBulkChunk(ctx, "c1", "0001", store.BulkResults, 0)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, string(data), "results 0")

	// Listed newest first, in pages.
	for i := 2; i <= 4; i++ {
		j := job
		j.ID = fmt.Sprintf("%04d", i)
		_, err := st.CreateBulkJob(ctx, j, nil)
		td.Require(t).CmpNoError(err)
	}
	page, err := st.ListBulkJobs(ctx, "c1", "", 3)
	td.Require(t).CmpNoError(err)
	var ids []string
	for _, j := range page.Items {
		ids = append(ids, j.ID)
	}
	td.Cmp(t, ids, []string{"0004", "0003", "0002"})
	td.Require(t).Not(page.NextCursor, "")
	page, err = st.ListBulkJobs(ctx, "c1", page.NextCursor, 3)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(page.Items), 1)
	td.Cmp(t, page.Items[0].ID, "0001")
	page, err = st.ListBulkJobs(ctx, "c2", "", 3)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, []store.BulkJob{})
}

// Numbers and provisioning items are read in bulk, only those that exist.
func TestNumbersAndProvisioningInBulk(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	_, _, err := st.AddNumbers(ctx, "c1", numbersFrom("+4420712345", 0, 30, domain.NumberDirectRouting, "s1"), "alice", at)
	td.Require(t).CmpNoError(err)
	_, _, err = st.AddNumbers(ctx, "c2", numbersFrom("+4420712345", 0, 1, domain.NumberDirectRouting, "s1"), "alice", at)
	td.Require(t).CmpNoError(err)
	var want []string
	for i := 0; i < 140; i++ {
		want = append(want, fmt.Sprintf("+4420712345%02d", i)) // the first 30 exist
	}
	want = append(want, "4420712345 05", "+442071234500")
	nums, err := st.NumbersByE164(ctx, "c1", want)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(nums), 30)
	td.Cmp(t, nums["+442071234512"], td.Struct(domain.Number{Number: "+442071234512", SiteID: "s1", Status: domain.NumberAvailable}, td.StructFields{}))

	ada := domain.User{ID: "u-ada", DisplayName: "Ada"}
	_, err = st.ReserveSpecificNumber(ctx, "c1", "+442071234500", ada, at)
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(st.SetProvisionedSite(ctx, "c1", "u-bob", "s2", at))
	provs, err := st.ProvisioningByUsers(ctx, "c1", []string{"U-ADA", "u-bob", "u-none", ""})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(provs), 2)
	td.Cmp(t, provs["u-ada"].ReservedNumber, "+442071234500")
	td.Cmp(t, provs["u-bob"].SiteID, "s2")
}
