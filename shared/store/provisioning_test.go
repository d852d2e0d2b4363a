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

func TestSetManagedByKeepsNumberFields(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)

	// U-ADA holds a number (provisioning written by the number transactions), u-bob has a site only.
	_, _, err := st.AddNumbers(ctx, "c1", numbersFrom("+4420712345", 0, 1, domain.NumberDirectRouting, "s1"), "alice", at)
	td.Require(t).CmpNoError(err)
	ada := domain.User{ID: "U-ADA", DisplayName: "Ada"}
	_, err = st.ReserveSpecificNumber(ctx, "c1", "+442071234500", ada, at)
	td.Require(t).CmpNoError(err)
	_, err = st.CompleteNumberAssignment(ctx, "c1", "+442071234500", ada, "s1", at)
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(st.SetProvisionedSite(ctx, "c1", "u-bob", "s2", at))

	later := at.Add(time.Minute)
	td.Require(t).CmpNoError(st.SetManagedBy(ctx, "c1", []string{"u-ada", "U-BOB", "u-new", "u-ada", ""}, domain.ManagedByTemplate, later))

	got, err := st.GetProvisioning(ctx, "c1", "u-ada")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, td.SStruct(domain.Provisioning{CustomerID: "c1", UserID: "u-ada", SiteID: "s1", Number: "+442071234500",
		NumberType: domain.NumberDirectRouting, Extension: "1500", ManagedBy: domain.ManagedByTemplate, UpdatedAt: later},
		td.StructFields{"Version": td.Gt(int64(1))}))

	all, err := st.ProvisioningOf(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(all), 3)
	td.Cmp(t, all["u-ada"], got)
	td.Cmp(t, all["u-bob"], td.SStruct(domain.Provisioning{CustomerID: "c1", UserID: "u-bob", SiteID: "s2",
		ManagedBy: domain.ManagedByTemplate, Version: 2, UpdatedAt: later}))
	td.Cmp(t, all["u-new"], td.SStruct(domain.Provisioning{CustomerID: "c1", UserID: "u-new",
		ManagedBy: domain.ManagedByTemplate, Version: 1, UpdatedAt: later}))

	// A later number change keeps ManagedBy; "ui" replaces "template"; "" forgets it.
	_, err = st.ReleaseNumber(ctx, "c1", "+442071234500", later.Add(time.Hour), later.Add(time.Second))
	td.Require(t).CmpNoError(err)
	got, _ = st.GetProvisioning(ctx, "c1", "u-ada")
	td.Cmp(t, got.Number, "")
	td.Cmp(t, got.ManagedBy, domain.ManagedByTemplate)
	td.Require(t).CmpNoError(st.SetManagedBy(ctx, "c1", []string{"u-ada"}, domain.ManagedByUI, later))
	td.Require(t).CmpNoError(st.SetManagedBy(ctx, "c1", []string{"u-bob"}, "", later))
	all, err = st.ProvisioningOf(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, all["u-ada"].ManagedBy, domain.ManagedByUI)
	td.Cmp(t, all["u-bob"].ManagedBy, "")
	td.Cmp(t, all["u-bob"].SiteID, "s2")

	td.Cmp(t, domain.ErrorCode(st.SetManagedBy(ctx, "c1", []string{"u-ada"}, "robot", later)), domain.EInvalid)

	other, err := st.ProvisioningOf(ctx, "c2")
	td.Require(t).CmpNoError(err)
	td.CmpEmpty(t, other)
}

func TestProvisioningOfPages(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	defer store.SetListPageSize(7)()
	at := time.Now().UTC().Truncate(time.Millisecond)

	ids := make([]string, 40)
	for i := range ids {
		ids[i] = fmt.Sprintf("U-%03d", i)
	}
	td.Require(t).CmpNoError(st.SetManagedBy(ctx, "c1", ids[:30], domain.ManagedByUI, at))
	for _, id := range ids[25:] {
		td.Require(t).CmpNoError(st.SetProvisionedSite(ctx, "c1", id, "s1", at))
	}
	td.Require(t).CmpNoError(st.SetManagedBy(ctx, "c2", []string{"u-000"}, domain.ManagedByUI, at))

	all, err := st.ProvisioningOf(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(all), 40, "6 pages of 7")
	for i, id := range ids {
		p := all[fmt.Sprintf("u-%03d", i)]
		td.Cmp(t, p.UserID, fmt.Sprintf("u-%03d", i), id)
		td.Cmp(t, p.ManagedBy, map[bool]string{true: domain.ManagedByUI, false: ""}[i < 30], id)
		td.Cmp(t, p.SiteID, map[bool]string{true: "s1", false: ""}[i >= 25], id)
	}
}
