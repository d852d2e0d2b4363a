package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
)

func TestAlertsReplacedPerCustomer(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	since := at.Add(-72 * time.Hour)

	unused := domain.Alert{CustomerID: "c1", CustomerName: "One", Kind: domain.AlertUnused, SkuID: "sku-e3", PartNumber: "ENTERPRISEPACK",
		Count: 12, Since: &since, Message: "12 E3 seats unused for 3 days", Link: "#/customers/c1/usage"}
	errs := domain.Alert{CustomerID: "c1", CustomerName: "One", Kind: domain.AlertLicenceErrors, Count: 2, Message: "2 licence errors",
		Link: "#/customers/c1/licences"}
	over := domain.Alert{CustomerID: "c2", CustomerName: "Two", Kind: domain.AlertOverused, SkuID: "sku-e5", PartNumber: "SPE_E5",
		Count: 1, Message: "1 E5 seat over", Link: "#/customers/c2/licences"}
	td.Require(t).CmpNoError(st.PutAlerts(ctx, "c2", []domain.Alert{over}, at))
	td.Require(t).CmpNoError(st.PutAlerts(ctx, "c1", []domain.Alert{unused, errs}, at))
	td.Require(t).CmpNoError(st.PutAlerts(ctx, "c3", nil, at))

	all, err := st.ListAlerts(ctx, nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, all, []domain.Alert{unused, errs, over}, "by customer, each in its order")

	some, err := st.ListAlerts(ctx, []string{"c3", "c2", "nope", "c2"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, some, []domain.Alert{over})
	none, err := st.ListAlerts(ctx, []string{})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, none, []domain.Alert{})

	// A customer's new list replaces the old; an empty one leaves the dashboard.
	td.Require(t).CmpNoError(st.PutAlerts(ctx, "c1", []domain.Alert{errs}, at.Add(time.Hour)))
	td.Require(t).CmpNoError(st.PutAlerts(ctx, "c2", []domain.Alert{}, at.Add(time.Hour)))
	all, err = st.ListAlerts(ctx, nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, all, []domain.Alert{errs})
	some, err = st.ListAlerts(ctx, []string{"c1", "c2"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, some, []domain.Alert{errs})
}
