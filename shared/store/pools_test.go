package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestPoolDefaultsAndVersions(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))
	at := time.Now().UTC().Truncate(time.Millisecond).Add(time.Minute) // after customer.create

	got, err := st.GetPool(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, domain.LicencePool{CustomerID: "c1", Acquired: map[string]int{}, UnusedThreshold: 5, UnusedDays: 7})
	td.Cmp(t, got, store.DefaultPool("c1"))

	p := domain.LicencePool{CustomerID: "c1", Acquired: map[string]int{"sku-e3": 500, "sku-e5": 0}, UnusedThreshold: 10, UnusedDays: 3}
	saved, err := st.PutPool(ctx, p, 0, "alice", at)
	td.Require(t).CmpNoError(err)
	want := p
	want.Version, want.UpdatedAt = 1, at
	td.Cmp(t, saved, want)
	got, err = st.GetPool(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, want)

	_, err = st.PutPool(ctx, p, 0, "bob", at)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})
	saved, err = st.PutPool(ctx, domain.LicencePool{CustomerID: "c1", UnusedThreshold: 1, UnusedDays: 1}, 1, "alice", at.Add(time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, saved.Acquired, map[string]int{})
	got, _ = st.GetPool(ctx, "c1")
	td.Cmp(t, got, saved)

	_, err = st.PutPool(ctx, domain.LicencePool{CustomerID: "nope"}, 0, "alice", at)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Smuggle(actionsOf, []string{"pool.update", "pool.update", "customer.create"}))
	td.Cmp(t, page.Items[1].After, td.SuperJSONOf(`{"acquired":{"sku-e3":500,"sku-e5":0},"version":1}`))
}
