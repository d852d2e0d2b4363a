package usageaudit

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
)

func TestRuleSlug(t *testing.T) {
	for name, want := range map[string]string{
		"Managed Users – Direct Routing": "managed-users-direct-routing",
		"  Sales (UK) ":                  "sales-uk",
		"Café":                           "caf",
		"–––":                            "rule",
		"":                               "rule",
		"A very long name that goes on and on and on and on and on and on": "a-very-long-name-that-goes-on-and-on-and-on-and-on-and-o",
	} {
		td.Cmp(t, ruleSlug(name), want, name)
	}
}

func TestDateRange(t *testing.T) {
	now := time.Date(2030, 3, 31, 23, 59, 0, 0, time.FixedZone("x", 3*3600)) // 20:59 UTC
	from, to, err := dateRange("", "", now)
	td.CmpNoError(t, err)
	td.Cmp(t, []string{from, to}, []string{"2030-03-02", "2030-03-31"}, "the last 30 days, UTC")
	from, to, err = dateRange("2029-01-01", "2029-01-01", now)
	td.CmpNoError(t, err)
	td.Cmp(t, []string{from, to}, []string{"2029-01-01", "2029-01-01"})
	_, _, err = dateRange("2029-1-01", "", now)
	td.Cmp(t, err, td.Smuggle(func(e *domain.Error) map[string]string { return e.Fields }, map[string]string{"from": "must be a date YYYY-MM-DD"}))
	_, _, err = dateRange("2026-01-01", "2029-01-01", now)
	td.Cmp(t, err, td.Smuggle(func(e *domain.Error) map[string]string { return e.Fields }, map[string]string{"from": "the range is at most 731 days"}))
}

func TestComputeAlertsEdges(t *testing.T) {
	c := domain.Customer{ID: "c", Name: "C", Sync: domain.SyncState{UserCounts: domain.UserCounts{ErrorCount: 2}}}
	pool := domain.LicencePool{UnusedThreshold: 5, UnusedDays: 2}
	snap := func(date string, enabled, consumed int) domain.Snapshot {
		return domain.Snapshot{Date: date, SKUs: []domain.SnapshotSKU{{SkuID: "s", PartNumber: "P", Enabled: enabled, Consumed: consumed}}}
	}
	// Exactly the threshold, on exactly UnusedDays days: an alert (the run starts on the first).
	got := computeAlerts(c, pool, []domain.Snapshot{snap("2030-01-01", 10, 6), snap("2030-01-02", 10, 5), snap("2030-01-03", 10, 4)}, 0, nil)
	since := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	td.Cmp(t, got, []domain.Alert{
		{CustomerID: "c", CustomerName: "C", Kind: domain.AlertUnused, SkuID: "s", PartNumber: "P", Count: 6, Since: &since,
			Link: "#/customers/c/licences", Message: "6 P seats unused for 2 days"},
		{CustomerID: "c", CustomerName: "C", Kind: domain.AlertLicenceErrors, Count: 2, Link: "#/customers/c/users?filter=errors",
			Message: "2 users hold a licence in error"},
	})
	// Below the threshold today: none; no snapshot at all: none.
	td.Cmp(t, computeAlerts(domain.Customer{ID: "c"}, pool, []domain.Snapshot{snap("2030-01-02", 10, 5), snap("2030-01-03", 10, 6)}, 0, nil), td.Empty())
	td.Cmp(t, computeAlerts(c, pool, nil, 0, nil), td.Empty())
	// A SKU absent one day breaks its run.
	td.Cmp(t, computeAlerts(domain.Customer{ID: "c"}, pool, []domain.Snapshot{snap("2030-01-02", 10, 0), {Date: "2030-01-03"}, snap("2030-01-04", 10, 0)}, 0, nil), td.Empty())
}
