package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

var day0 = time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)

// usageSnap is a snapshot whose counters derive from n: users 10n, licensed 8n (direct routing 5n, by UI 2n,
// unmatched n), E3 enabled 9n consumed 8n acquired 10n; sites get the same counts, without the customer's SKU
// totals.
func usageSnap(customerID, siteID, date string, takenAt time.Time, n int) domain.Snapshot {
	sku := domain.SnapshotSKU{SkuID: "sku-e3", PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3", Assigned: 8 * n}
	if siteID == "" {
		sku.Enabled, sku.Consumed, sku.Acquired = 9*n, 8*n, 10*n
	}
	return domain.Snapshot{CustomerID: customerID, CustomerName: "Customer " + customerID, SiteID: siteID, SiteName: siteID,
		Date: date, TakenAt: takenAt, Users: 10 * n, Licensed: 8 * n, Unmatched: n,
		Factors: []domain.FactorCount{
			{RuleID: "dr", Name: "Direct Routing", Enabled: true, Count: 5 * n},
			{RuleID: "ui", Name: "By UI", Enabled: true, Count: 2 * n},
		},
		SKUs: []domain.SnapshotSKU{sku}, RulesVersion: 1}
}

// refresh is one customer's snapshots of a date: the customer level (counts from n) and the given sites.
func refresh(customerID, date string, takenAt time.Time, n int, sites ...string) []domain.Snapshot {
	out := []domain.Snapshot{usageSnap(customerID, "", date, takenAt, n)}
	for _, s := range sites {
		out = append(out, usageSnap(customerID, s, date, takenAt, 1))
	}
	return out
}

// sumOf is the provider total of customer-level snapshots.
func sumOf(date string, snaps ...domain.Snapshot) store.ProviderTotal {
	t := store.ProviderTotal{Date: date, Factors: map[string]int{}, SKUs: map[string]domain.SnapshotSKU{}}
	for _, s := range snaps {
		t.Customers++
		t.Users += s.Users
		t.Licensed += s.Licensed
		t.Unmatched += s.Unmatched
		for _, f := range s.Factors {
			t.Factors[f.Name] += f.Count
		}
		for _, k := range s.SKUs {
			cur := t.SKUs[k.PartNumber]
			cur.SkuID, cur.PartNumber, cur.Name = k.SkuID, k.PartNumber, k.Name
			cur.Enabled += k.Enabled
			cur.Consumed += k.Consumed
			cur.Acquired += k.Acquired
			cur.Assigned += k.Assigned
			t.SKUs[k.PartNumber] = cur
		}
	}
	for k, v := range t.Factors {
		if v == 0 {
			delete(t.Factors, k)
		}
	}
	return t
}

func sitesOn(t *testing.T, st *store.Store, customerID, date string) []string {
	t.Helper()
	var out []string
	err := st.MonthSnapshots(context.Background(), date[:7], func(s domain.Snapshot) error {
		if s.CustomerID == customerID && s.Date == date && s.SiteID != "" {
			out = append(out, s.SiteID)
		}
		return nil
	})
	td.Require(t).CmpNoError(err)
	return out
}

func TestSnapshotsReplaceAndKeepTotalsExact(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	const d = "2026-03-10"

	c1 := refresh("c1", d, day0, 10, "s1", "s2")
	c2 := refresh("c2", d, day0, 3, "s1")
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, c1))
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, c2))
	totals, err := st.ProviderTotals(ctx, d, d)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, totals, []store.ProviderTotal{sumOf(d, c1[0], c2[0])})
	td.Cmp(t, totals[0].Users, 130)
	td.Cmp(t, totals[0].SKUs["ENTERPRISEPACK"], domain.SnapshotSKU{SkuID: "sku-e3", PartNumber: "ENTERPRISEPACK",
		Name: "Office 365 E3", Enabled: 117, Consumed: 104, Acquired: 130, Assigned: 104})

	// A re-run of the same day, same values: nothing moves.
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, refresh("c1", d, day0.Add(time.Hour), 10, "s1", "s2")))
	totals, _ = st.ProviderTotals(ctx, d, d)
	td.Cmp(t, totals, []store.ProviderTotal{sumOf(d, c1[0], c2[0])})

	// A refresh with other values and sites: the totals follow, s2 goes, s3 comes.
	c1 = refresh("c1", d, day0.Add(2*time.Hour), 4, "s1", "s3")
	c1[0].Factors = c1[0].Factors[:1] // "By UI" gone from c1
	c1[0].SKUs = append(c1[0].SKUs, domain.SnapshotSKU{SkuID: "sku-e5", PartNumber: "SPE_E5", Name: "E5", Enabled: 2, Assigned: 1})
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, c1))
	totals, _ = st.ProviderTotals(ctx, d, d)
	td.Cmp(t, totals, []store.ProviderTotal{sumOf(d, c1[0], c2[0])})
	td.Cmp(t, totals[0].Factors, map[string]int{"Direct Routing": 35, "By UI": 6})
	td.Cmp(t, sitesOn(t, st, "c1", d), []string{"s1", "s3"})
	got, err := st.ListSnapshots(ctx, "c1", "s3", d, d)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, c1[2:])

	// An older refresh finishing late changes nothing.
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, refresh("c1", d, day0.Add(90*time.Minute), 50, "s2")))
	got, _ = st.ListSnapshots(ctx, "c1", "", d, d)
	td.Cmp(t, got, c1[:1])
	td.Cmp(t, sitesOn(t, st, "c1", d), []string{"s1", "s3"})
	totals, _ = st.ProviderTotals(ctx, d, d)
	td.Cmp(t, totals, []store.ProviderTotal{sumOf(d, c1[0], c2[0])})

	// Counters back to 0 leave the totals.
	c2 = refresh("c2", d, day0.Add(3*time.Hour), 0)
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, c2))
	totals, _ = st.ProviderTotals(ctx, d, d)
	td.Cmp(t, totals, []store.ProviderTotal{sumOf(d, c1[0], c2[0])})
	td.Cmp(t, totals[0].Customers, 2)
	td.Cmp(t, sitesOn(t, st, "c2", d), td.Nil())

	// Malformed sets.
	for name, snaps := range map[string][]domain.Snapshot{
		"empty":         nil,
		"no customer":   refresh("", d, day0, 1),
		"no top":        refresh("c1", d, day0, 1, "s1")[1:],
		"two tops":      append(refresh("c1", d, day0, 1), usageSnap("c1", "", d, day0, 1)),
		"bad date":      refresh("c1", "2026-3-10", day0, 1),
		"mixed dates":   append(refresh("c1", d, day0, 1), usageSnap("c1", "s1", "2026-03-11", day0, 1)),
		"mixed custs":   append(refresh("c1", d, day0, 1), usageSnap("c2", "s1", d, day0, 1)),
		"site twice":    refresh("c1", d, day0, 1, "s1", "s1"),
		"reserved site": refresh("c1", d, day0, 1, "-"),
		"no takenAt":    refresh("c1", d, time.Time{}, 1),
	} {
		td.Cmp(t, domain.ErrorCode(st.PutSnapshots(ctx, snaps)), domain.EInvalid, name)
	}
}

func TestSnapshotHistoryRanges(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()

	var c1Top, s1 []domain.Snapshot
	var totals []store.ProviderTotal
	for i := range 40 { // 2026-03-10 .. 2026-04-18
		at := day0.AddDate(0, 0, i)
		d := at.Format("2006-01-02")
		snaps := refresh("c1", d, at, i+1, "s1", "s2")
		td.Require(t).CmpNoError(st.PutSnapshots(ctx, snaps))
		c1Top, s1 = append(c1Top, snaps[0]), append(s1, snaps[1])
		if i%2 == 0 { // c2 every other day
			c2 := refresh("c2", d, at, 1, "s1")
			td.Require(t).CmpNoError(st.PutSnapshots(ctx, c2))
			totals = append(totals, sumOf(d, snaps[0], c2[0]))
		} else {
			totals = append(totals, sumOf(d, snaps[0]))
		}
	}

	got, err := st.ListSnapshots(ctx, "c1", "", "2026-03-10", "2026-04-18")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, c1Top)
	got, err = st.ListSnapshots(ctx, "c1", "s1", "2026-03-30", "2026-04-02")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, s1[20:24], "inclusive, across a month end")
	got, err = st.ListSnapshots(ctx, "c1", "", "2026-01-01", "2026-03-11")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, c1Top[:2])
	got, err = st.ListSnapshots(ctx, "c1", "s9", "2026-01-01", "2026-12-31")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, []domain.Snapshot{})
	got, err = st.ListSnapshots(ctx, "c2", "", "2026-04-18", "2026-04-18")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, []domain.Snapshot{}, "c2 has no snapshot that day")

	pt, err := st.ProviderTotals(ctx, "2026-03-10", "2026-04-18")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, pt, totals)
	pt, err = st.ProviderTotals(ctx, "2026-04-17", "2026-05-01")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, pt, totals[38:])
	td.Cmp(t, pt[0].Customers, 2)
	td.Cmp(t, pt[1].Customers, 1)

	for _, r := range [][2]string{{"2026-04-02", "2026-04-01"}, {"2026-4-1", "2026-04-02"}, {"2026-04-01", ""}} {
		_, err = st.ListSnapshots(ctx, "c1", "", r[0], r[1])
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, r)
		_, err = st.ProviderTotals(ctx, r[0], r[1])
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, r)
	}
}

func TestConcurrentRefreshesKeepTotalsExact(t *testing.T) {
	st := newSerialTxStore(t)
	ctx := context.Background()
	const d = "2026-03-10"
	customers := []string{"c1", "c2", "c3"}

	// Yesterday's snapshot of c1 exists already; each customer is refreshed 4 times at once, each refresh with
	// its own values and sites; the latest (greatest TakenAt) must win whatever the order they finish in.
	td.Require(t).CmpNoError(st.PutSnapshots(ctx, refresh("c1", d, day0.Add(-time.Hour), 7, "s0")))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for ci, c := range customers {
		for r := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sites := []string{fmt.Sprintf("s%d", r+1), fmt.Sprintf("s%d", r+2)}
				at := day0.Add(time.Duration(r) * time.Minute)
				for round := range 2 { // a re-run of the same refresh too
					if err := st.PutSnapshots(ctx, refresh(c, d, at, 10*ci+r+1, sites...)); err != nil {
						errs <- fmt.Errorf("%s refresh %d round %d: %w", c, r, round, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	td.Require(t).CmpNoError(errors.Join(all...))

	var tops []domain.Snapshot
	for ci, c := range customers {
		got, err := st.ListSnapshots(ctx, c, "", d, d)
		td.Require(t).CmpNoError(err)
		td.Require(t).Cmp(got, td.Len(1))
		td.Cmp(t, got[0], refresh(c, d, day0.Add(3*time.Minute), 10*ci+4)[0], "the latest refresh of %s won", c)
		td.Cmp(t, sitesOn(t, st, c, d), []string{"s4", "s5"}, "only the latest refresh's sites remain for %s", c)
		tops = append(tops, got[0])
	}
	totals, err := st.ProviderTotals(ctx, d, d)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, totals, []store.ProviderTotal{sumOf(d, tops...)})
}

func TestMonthSnapshotsOrderAndPages(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	defer store.SetListPageSize(4)()

	dates := []string{"2026-02-28", "2026-03-01", "2026-03-02", "2026-03-31", "2026-04-01"}
	var want []string
	// Stored out of order: customers c2, c10, c1 (ordered c1 < c10 < c2), sites b, a, -none-.
	for _, c := range []string{"c2", "c10", "c1"} {
		for i := len(dates) - 1; i >= 0; i-- {
			at, _ := time.Parse("2006-01-02", dates[i])
			td.Require(t).CmpNoError(st.PutSnapshots(ctx, refresh(c, dates[i], at, 1, "b", "a", "-none-")))
		}
	}
	for _, c := range []string{"c1", "c10", "c2"} {
		for _, s := range []string{"", "-none-", "a", "b"} {
			for _, d := range []string{"2026-03-01", "2026-03-02", "2026-03-31"} {
				want = append(want, c+"/"+s+"/"+d)
			}
		}
	}
	var got []string
	err := st.MonthSnapshots(ctx, "2026-03", func(s domain.Snapshot) error {
		got = append(got, s.CustomerID+"/"+s.SiteID+"/"+s.Date)
		return nil
	})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, want, "36 snapshots over 9+ pages of 4")

	// fn's error stops the stream.
	stop := errors.New("stop")
	n := 0
	err = st.MonthSnapshots(ctx, "2026-03", func(domain.Snapshot) error {
		if n++; n == 6 {
			return stop
		}
		return nil
	})
	td.Cmp(t, err, stop)
	td.Cmp(t, n, 6)

	err = st.MonthSnapshots(ctx, "2026-05", func(domain.Snapshot) error { return errors.New("none expected") })
	td.CmpNoError(t, err)
	for _, m := range []string{"2026-3", "2026-13", "", "2026-03-01"} {
		td.Cmp(t, domain.ErrorCode(st.MonthSnapshots(ctx, m, func(domain.Snapshot) error { return nil })), domain.EInvalid, m)
	}
}
