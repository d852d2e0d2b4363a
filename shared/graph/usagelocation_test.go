package graph_test

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graphsim"
)

func TestSetUsageLocation(t *testing.T) {
	run := licSim(t)
	f := newFactory(t, run, graphsim.ClientSecret, 2)
	ctx := ctxFor(t, 30*time.Second)
	u := licUsers(t, run.Sim, licTenant, 1, licFree)[0]

	td.Require(t).CmpNoError(f.SetUsageLocation(ctx, licTenant, u.ID, "gb"))
	got, err := run.Sim.User(licTenant, u.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got.UsageLocation, "GB")
	read, err := f.User(ctx, licTenant, u.ID)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, read.UsageLocation, "GB", "read back through Graph")

	err = f.SetUsageLocation(ctx, licTenant, u.ID, "Great Britain")
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	err = f.SetUsageLocation(ctx, licTenant, "6f1c7a52-0000-4000-8000-000000000001", "FR")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
}
