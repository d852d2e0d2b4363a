package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/store"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	stack := localaws.StartForTest(t)
	cfg, _ := stack.AWSConfig(context.Background())
	return store.New(dynamodb.NewFromConfig(cfg), stack.TableName)
}

func customer(id, tenant string) domain.Customer {
	return domain.Customer{ID: id, Name: "Customer " + id, TenantID: tenant, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Version: 1}
}

func skus(n, consumed int) []domain.SubscribedSKU {
	out := make([]domain.SubscribedSKU, n)
	for i := range out {
		out[i] = domain.SubscribedSKU{
			SkuID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), PartNumber: fmt.Sprintf("PART_%02d", i),
			Enabled: 10, Consumed: consumed, CapabilityStatus: "Enabled", AppliesTo: "User",
			ServicePlans: []domain.ServicePlanInfo{{ID: "p", Name: "PLAN", ProvisioningStatus: "Success"}},
		}
	}
	return out
}

func TestCreateCustomerOncePerTenant(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	c := customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11")
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, c, "test"))

	got, err := st.GetCustomer(ctx, "c1")
	td.Require(t).CmpNoError(err)
	c.Sync = domain.SyncState{Status: domain.SyncNever, UserCounts: domain.UserCounts{ErrorsByType: map[string]int{}}}
	c.SyncIntervalMinutes = domain.DefaultSyncIntervalMinutes
	td.Cmp(t, got, c)

	err = st.CreateCustomer(ctx, customer("c2", c.TenantID), "test")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	_, err = st.GetCustomer(ctx, "c2")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound, "the refused customer was not stored")

	err = st.CreateCustomer(ctx, customer("c1", "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"), "test")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "same id")
}

func TestReplaceSKUsWritesOnlyChangesAndDeletesRemoved(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	c := customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11")
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, c, "test"))

	// More than one BatchWriteItem (25) worth.
	all := skus(30, 3)
	changes, err := st.ReplaceSKUs(ctx, c, all)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, changes, store.SKUChanges{Written: 30})

	changes, err = st.ReplaceSKUs(ctx, c, all)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, changes, store.SKUChanges{Unchanged: 30})

	next := skus(28, 3)
	next[5].Consumed = 11 // over-assigned: available is negative, and kept so
	changes, err = st.ReplaceSKUs(ctx, c, next)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, changes, store.SKUChanges{Written: 1, Deleted: 2, Unchanged: 27})

	stored, err := st.CustomerSKUs(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, stored, td.Len(28))
	td.Cmp(t, stored[5].SubscribedSKU, next[5])
	td.Cmp(t, stored[5].Available(), -1)
	td.Cmp(t, stored[5].CustomerName, "Customer c1")

	// The summary across customers pages through every SKU.
	var seen int
	cursor := ""
	for {
		page, err := st.ListSKUs(ctx, cursor, 10)
		td.Require(t).CmpNoError(err)
		seen += len(page.Items)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	td.Cmp(t, seen, 28)
}

func TestSyncStateRoundTrip(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))

	td.Require(t).CmpNoError(st.MarkSyncQueued(ctx, "c1"))
	c, _ := st.GetCustomer(ctx, "c1")
	td.Cmp(t, c.Sync.Status, domain.SyncQueued)

	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	state := domain.SyncState{Status: domain.SyncFailed, LastAttemptAt: &at, LastError: "no", LastErrorCode: domain.EUpstream, SKUCount: 3,
		UserCounts: domain.UserCounts{UserCount: 4, ErrorCount: 1, ErrorsByType: map[string]int{"CountViolation": 1}}}
	now := time.Now()
	got, err := st.AcquireSyncLease(ctx, "c1", "run-1", now, now.Add(time.Minute))
	td.Require(t).True(got)
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(st.FinishSync(ctx, "c1", "run-1", state))
	c, _ = st.GetCustomer(ctx, "c1")
	td.Cmp(t, c.Sync, state)

	td.Cmp(t, domain.ErrorCode(st.MarkSyncQueued(ctx, "nope")), domain.ENotFound)
	td.Cmp(t, st.FinishSync(ctx, "c1", "run-2", state), td.ErrorIs(store.ErrLeaseLost))
}
