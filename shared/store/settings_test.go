package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestSettingsWithOptimisticLocking(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))
	at := time.Now().UTC().Truncate(time.Millisecond).Add(time.Minute) // after the customer's creation, for the audit order

	got, err := st.GetSettings(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, domain.DefaultSettings("c1"), "defaults, version 0, when none saved")

	set := domain.Settings{CustomerID: "c1", ManageLicenses: true, AllowStaging: true, DefaultUsageLocation: "GB",
		StagingLimitMinutes: 60, QuarantineDays: 7}
	saved, err := st.PutSettings(ctx, set, 0, "alice", at)
	td.Require(t).CmpNoError(err)
	want := set
	want.Version, want.UpdatedAt = 1, at
	td.Cmp(t, saved, want)
	got, err = st.GetSettings(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, want)

	// A second "first save" and a save from an old version are both stale.
	_, err = st.PutSettings(ctx, set, 0, "bob", at)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})
	set.QuarantineDays = 0
	saved, err = st.PutSettings(ctx, set, 1, "alice", at.Add(time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, saved.Version, int64(2))
	td.Cmp(t, saved.QuarantineDays, 0)
	_, err = st.PutSettings(ctx, set, 1, "bob", at.Add(2*time.Second))
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)

	// Unknown customer.
	_, err = st.PutSettings(ctx, domain.Settings{CustomerID: "nope"}, 0, "alice", at)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Smuggle(actionsOf, []string{"settings.update", "settings.update", "customer.create"}))
	td.Cmp(t, page.Items[0].Before, td.SuperJSONOf(`{"quarantineDays":7,"version":1}`))
	td.Cmp(t, page.Items[0].After, td.SuperJSONOf(`{"quarantineDays":0,"version":2}`))
}

func actionsOf(rs []domain.AuditRecord) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Action)
	}
	return out
}
