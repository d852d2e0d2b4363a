package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestStagingLifecycle(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

	_, err := st.GetStaging(ctx, "c1", "u1")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	rec := domain.Staging{CustomerID: "c1", UserID: "U1", UserPrincipalName: "ada@example.com", DisplayName: "Ada",
		Reason: "licence seen by sync", StagedAt: at, Deadline: at.Add(24 * time.Hour), Actor: "job:sync"}
	created, ok, err := st.StageUser(ctx, rec)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ok, true)
	want := rec
	want.UserID, want.Status, want.Version, want.UpdatedAt = "u1", domain.StagingStaged, 1, at
	td.Cmp(t, created, want)
	got, err := st.GetStaging(ctx, "c1", "u1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, want)

	// Staged again while active: the record in progress is returned unchanged.
	again := rec
	again.Reason, again.StagedAt = "onboarding", at.Add(time.Hour)
	got, ok, err = st.StageUser(ctx, again)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ok, false)
	td.Cmp(t, got, want)

	// Updates need the stored version.
	next := got
	next.Status, next.Attempts, next.LastResult = domain.StagingProvisioning, 1, "in Teams"
	updated, err := st.UpdateStaging(ctx, next)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, updated, td.SuperJSONOf(`{"status":"provisioning","attempts":1,"version":2}`))
	_, err = st.UpdateStaging(ctx, next) // still version 1
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})
	_, err = st.UpdateStaging(ctx, domain.Staging{CustomerID: "c1", UserID: "nobody", Version: 1})
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	got, _, err = st.StageUser(ctx, again)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got.Status, domain.StagingProvisioning, "provisioning is active too")

	// Once final, staging again starts a new record whose version continues.
	updated.Status = domain.StagingProvisioned
	updated, err = st.UpdateStaging(ctx, updated)
	td.Require(t).CmpNoError(err)
	got, ok, err = st.StageUser(ctx, again)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ok, true)
	td.Cmp(t, got, td.SuperJSONOf(`{"userId":"u1","status":"staged","reason":"onboarding","attempts":0,"version":4}`))
	td.Cmp(t, got.StagedAt, again.StagedAt)
	_, err = st.UpdateStaging(ctx, updated) // the final record's version is stale now
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
}

func TestListStaging(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	statuses := []string{domain.StagingStaged, domain.StagingFailed, domain.StagingProvisioning, domain.StagingProvisioned,
		domain.StagingStaged, domain.StagingRemoved, domain.StagingFailed, domain.StagingStaged}
	for i, status := range statuses { // u0 staged first, u7 last; StagedAt with and without fractional seconds
		rec := domain.Staging{CustomerID: "c1", UserID: fmt.Sprintf("u%d", i), StagedAt: at.Add(time.Duration(i) * 500 * time.Millisecond)}
		got, _, err := st.StageUser(ctx, rec)
		td.Require(t).CmpNoError(err)
		if status != domain.StagingStaged {
			got.Status = status
			_, err = st.UpdateStaging(ctx, got)
			td.Require(t).CmpNoError(err)
		}
	}
	_, _, err := st.StageUser(ctx, domain.Staging{CustomerID: "c2", UserID: "u0", StagedAt: at})
	td.Require(t).CmpNoError(err)

	list := func(q store.StagingQuery) ([]string, int) {
		t.Helper()
		var ids []string
		pages := 0
		for {
			page, err := st.ListStaging(ctx, "c1", q)
			td.Require(t).CmpNoError(err)
			for _, s := range page.Items {
				ids = append(ids, s.UserID)
			}
			pages++
			if page.NextCursor == "" || pages > 20 {
				return ids, pages
			}
			q.Cursor = page.NextCursor
		}
	}
	ids, pages := list(store.StagingQuery{Limit: 3})
	td.Cmp(t, ids, []string{"u7", "u6", "u5", "u4", "u3", "u2", "u1", "u0"}, "newest staged first")
	td.Cmp(t, pages, 3)
	ids, _ = list(store.StagingQuery{Status: store.StagingActive, Limit: 2})
	td.Cmp(t, ids, []string{"u7", "u4", "u2", "u0"})
	ids, _ = list(store.StagingQuery{Status: domain.StagingFailed})
	td.Cmp(t, ids, []string{"u6", "u1"})
	_, err = st.ListStaging(ctx, "c1", store.StagingQuery{Status: "done"})
	td.Cmp(t, fieldsOf(err), td.ContainsKey("status"))

	byUser, err := st.StagingsByUser(ctx, "c1", []string{"U3", "u5", "u3", "nobody", ""})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, byUser, td.Map(map[string]domain.Staging{}, td.MapEntries{
		"u3": td.SuperJSONOf(`{"userId":"u3","status":"provisioned","version":2}`),
		"u5": td.SuperJSONOf(`{"userId":"u5","status":"removed"}`),
	}))
	byUser, err = st.StagingsByUser(ctx, "c1", nil)
	td.Require(t).CmpNoError(err)
	td.CmpEmpty(t, byUser)
}
