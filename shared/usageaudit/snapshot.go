package usageaudit

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
)

// Snapshot computes the customer's usage now and stores it as today's (UTC) snapshots, replacing any taken earlier
// today: one of the whole customer (SiteID ""), one per site (every site, with or without users) and, when some
// users are placed on no site, one of them (UnplacedSiteID). It then computes and stores the customer's alerts
// (see Alerts). It returns the snapshots, the customer's first. Errors: ENotFound (no such customer).
func (s *Service) Snapshot(ctx context.Context, customerID, actor string) ([]domain.Snapshot, error) {
	c, err := s.checkCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	cur, err := s.current(ctx, c)
	if err != nil {
		return nil, err
	}
	snaps := snapshotsOf(c, cur)
	if err := s.Store.PutSnapshots(ctx, snaps); err != nil {
		return nil, err
	}
	if err := s.refreshAlerts(ctx, c, snaps[0]); err != nil {
		return nil, err
	}
	s.log().InfoContext(ctx, "usage snapshot", "customer", customerID, "date", snaps[0].Date, "users", cur.Users,
		"licensed", cur.Usage.Licensed, "sites", len(cur.Sites), "actor", actor)
	return snaps, nil
}

// snapshotsOf turns a customer's usage into its snapshots of the day.
func snapshotsOf(c domain.Customer, cur Current) []domain.Snapshot {
	base := domain.Snapshot{CustomerID: c.ID, CustomerName: c.Name, PublicSector: c.PublicSector,
		Date: dayOf(cur.ComputedAt), TakenAt: cur.ComputedAt, RulesVersion: cur.RulesVersion}
	whole := base
	whole.Users, whole.Licensed, whole.Unmatched = cur.Users, cur.Usage.Licensed, cur.Usage.Unmatched
	whole.Factors, whole.SKUs = cur.Usage.Factors, cur.SKUs
	out := []domain.Snapshot{whole}
	for _, su := range cur.Sites {
		sn := base
		sn.SiteID, sn.SiteName = su.SiteID, su.SiteName
		sn.Users, sn.Licensed, sn.Unmatched = su.Users, su.Usage.Licensed, su.Usage.Unmatched
		sn.Factors, sn.SKUs = su.Usage.Factors, su.SKUs
		out = append(out, sn)
	}
	return out
}

// SnapshotAll queues one snapshot job (queue.TypeSnapshot) per customer: the daily schedule's fan-out. It returns
// how many it queued.
func (s *Service) SnapshotAll(ctx context.Context) (int, error) {
	customers, err := s.Store.AllCustomers(ctx)
	if err != nil {
		return 0, err
	}
	for i, c := range customers {
		if err := s.Jobs.Send(ctx, queue.Job{Type: queue.TypeSnapshot, CustomerID: c.ID, RequestedBy: "schedule"}); err != nil {
			return i, fmt.Errorf("enqueue the snapshot of %s: %w", c.ID, err)
		}
	}
	s.log().InfoContext(ctx, "enqueued usage snapshots", "customers", len(customers))
	return len(customers), nil
}

// HandleJob runs a snapshot job from the jobs queue (a tenantsync.JobHandler). A customer removed since the job
// was queued is skipped; other errors are returned, so that the message is retried (a snapshot taken again the
// same day replaces the earlier one).
func (s *Service) HandleJob(ctx context.Context, job queue.Job) error {
	_, err := s.Snapshot(ctx, job.CustomerID, jobActor(job))
	if domain.ErrorCode(err) == domain.ENotFound {
		s.log().WarnContext(ctx, "snapshot of unknown customer dropped", "customer", job.CustomerID)
		return nil
	}
	return err
}

// History returns the daily snapshots of a customer (siteID "" = the whole customer; UnplacedSiteID = its
// unplaced users) from from to to (YYYY-MM-DD, inclusive, ascending; to defaults to today, from to
// DefaultHistoryDays before to; at most MaxHistoryDays days). customerID "" is every customer: the provider's
// daily totals (see HistoryAcross) as snapshots with CustomerID "". Errors: ENotFound (no such customer),
// EInvalid (dates).
func (s *Service) History(ctx context.Context, customerID, siteID, from, to string) ([]domain.Snapshot, error) {
	if customerID == "" {
		totals, err := s.HistoryAcross(ctx, nil, from, to)
		if err != nil {
			return nil, err
		}
		out := make([]domain.Snapshot, len(totals))
		for i, t := range totals {
			out[i] = domain.Snapshot{CustomerName: "All customers", Date: t.Date, Users: t.Users, Licensed: t.Licensed,
				Unmatched: t.Unmatched, Factors: totalFactors(t), SKUs: totalSKUs(t)}
		}
		return out, nil
	}
	from, to, err := dateRange(from, to, s.now())
	if err != nil {
		return nil, err
	}
	if _, err := s.checkCustomer(ctx, customerID); err != nil {
		return nil, err
	}
	snaps, err := s.Store.ListSnapshots(ctx, customerID, siteID, from, to)
	if snaps == nil && err == nil {
		snaps = []domain.Snapshot{}
	}
	return snaps, err
}

// totalFactors lists a total's factor counts by name (FactorCount.RuleID = the name: rules differ between
// customers, the totals add factors up by name), sorted by name.
func totalFactors(t store.ProviderTotal) []domain.FactorCount {
	out := make([]domain.FactorCount, 0, len(t.Factors))
	for _, name := range slices.Sorted(maps.Keys(t.Factors)) {
		out = append(out, domain.FactorCount{RuleID: name, Name: name, Enabled: true, Count: t.Factors[name]})
	}
	return out
}

// totalSKUs lists a total's SKUs by part number.
func totalSKUs(t store.ProviderTotal) []domain.SnapshotSKU {
	out := make([]domain.SnapshotSKU, 0, len(t.SKUs))
	for _, part := range slices.Sorted(maps.Keys(t.SKUs)) {
		out = append(out, t.SKUs[part])
	}
	return out
}

// HistoryAcross returns, for each day from from to to (as History) that has snapshots, the sum of the
// customer-level snapshots of the customers: for customerIDs nil (every customer: a provider admin without a
// scope), the provider's daily totals the store keeps; otherwise the sum computed from the listed customers'
// snapshots (customers without snapshots add nothing; an empty list gives nothing). Both add up as the store's
// totals do: factors by name, SKUs by part number (skuId when unknown), leaving out what counts nothing. Errors:
// EInvalid (dates).
func (s *Service) HistoryAcross(ctx context.Context, customerIDs []string, from, to string) ([]store.ProviderTotal, error) {
	from, to, err := dateRange(from, to, s.now())
	if err != nil {
		return nil, err
	}
	out := []store.ProviderTotal{}
	if customerIDs == nil {
		totals, err := s.Store.ProviderTotals(ctx, from, to)
		if totals == nil && err == nil {
			totals = out
		}
		return totals, err
	}
	byDate := map[string]*store.ProviderTotal{}
	seen := map[string]bool{}
	for _, id := range customerIDs {
		if seen[id] || id == "" {
			continue
		}
		seen[id] = true
		snaps, err := s.Store.ListSnapshots(ctx, id, "", from, to)
		if err != nil {
			return nil, err
		}
		for _, sn := range snaps {
			t := byDate[sn.Date]
			if t == nil {
				t = &store.ProviderTotal{Date: sn.Date, Factors: map[string]int{}, SKUs: map[string]domain.SnapshotSKU{}}
				byDate[sn.Date] = t
			}
			addSnapshot(t, sn)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(byDate)) {
		dropZeros(byDate[d])
		out = append(out, *byDate[d])
	}
	return out, nil
}

// ProviderHistory is HistoryAcross for every customer: the provider's daily totals.
func (s *Service) ProviderHistory(ctx context.Context, from, to string) ([]store.ProviderTotal, error) {
	return s.HistoryAcross(ctx, nil, from, to)
}

// addSnapshot adds a customer-level snapshot to a day's total, as the store's provider totals do.
func addSnapshot(t *store.ProviderTotal, sn domain.Snapshot) {
	t.Customers++
	t.Users += sn.Users
	t.Licensed += sn.Licensed
	t.Unmatched += sn.Unmatched
	for _, f := range sn.Factors {
		t.Factors[f.Name] += f.Count
	}
	for _, k := range sn.SKUs {
		part := cmp.Or(k.PartNumber, k.SkuID)
		sum := t.SKUs[part]
		if sum.PartNumber == "" {
			sum.SkuID, sum.PartNumber, sum.Name = k.SkuID, k.PartNumber, k.Name
		}
		sum.Enabled += k.Enabled
		sum.Consumed += k.Consumed
		sum.Acquired += k.Acquired
		sum.Assigned += k.Assigned
		t.SKUs[part] = sum
	}
}

// dropZeros removes the factors and SKUs that count nothing from a total, as the provider's totals do.
func dropZeros(t *store.ProviderTotal) {
	maps.DeleteFunc(t.Factors, func(_ string, n int) bool { return n == 0 })
	maps.DeleteFunc(t.SKUs, func(_ string, k domain.SnapshotSKU) bool {
		return k.Enabled == 0 && k.Consumed == 0 && k.Acquired == 0 && k.Assigned == 0
	})
}

// Alerts returns the current alerts of the customers (nil = every customer's), as the last snapshot of each
// computed them.
func (s *Service) Alerts(ctx context.Context, customerIDs []string) ([]domain.Alert, error) {
	if customerIDs != nil && len(customerIDs) == 0 {
		return []domain.Alert{}, nil
	}
	alerts, err := s.Store.ListAlerts(ctx, customerIDs)
	if alerts == nil && err == nil {
		alerts = []domain.Alert{}
	}
	return alerts, err
}

// alertWindow is how many days of snapshots the unused and overused alerts look back over to say since when: a
// run longer than that is reported as starting at the window's first day.
const alertWindow = 92

// refreshAlerts computes the customer's alerts after its snapshot today and stores them.
func (s *Service) refreshAlerts(ctx context.Context, c domain.Customer, today domain.Snapshot) error {
	pool, err := s.Store.GetPool(ctx, c.ID)
	if err != nil {
		return err
	}
	pool = withPoolDefaults(pool, c.ID)
	first, _ := time.Parse(dateLayout, today.Date)
	history, err := s.Store.ListSnapshots(ctx, c.ID, "", first.AddDate(0, 0, -(alertWindow-1)).Format(dateLayout), today.Date)
	if err != nil {
		return err
	}
	// Today's snapshot as computed (a store that lists before it sees the write still counts today).
	history = slices.DeleteFunc(history, func(sn domain.Snapshot) bool { return sn.Date >= today.Date })
	history = append(history, today)
	failed, since, err := s.failedStaging(ctx, c.ID)
	if err != nil {
		return err
	}
	alerts := computeAlerts(c, pool, history, failed, since)
	return s.Store.PutAlerts(ctx, c.ID, alerts, today.TakenAt)
}

// failedStaging counts the customer's users whose staging failed, and the earliest failure among them.
func (s *Service) failedStaging(ctx context.Context, customerID string) (int, *time.Time, error) {
	n, cursor := 0, ""
	var since *time.Time
	for {
		page, err := s.Store.ListStaging(ctx, customerID, store.StagingQuery{Status: domain.StagingFailed, Cursor: cursor, Limit: store.MaxLimit})
		if err != nil {
			return 0, nil, err
		}
		for _, st := range page.Items {
			if st.Status != domain.StagingFailed {
				continue
			}
			n++
			if since == nil || st.UpdatedAt.Before(*since) {
				at := st.UpdatedAt
				since = &at
			}
		}
		if page.NextCursor == "" {
			return n, since, nil
		}
		cursor = page.NextCursor
	}
}

// computeAlerts returns the customer's alerts, given its customer-level snapshots (ascending by date, today's
// last) and its failed stagings:
//   - unused: a SKU with at least pool.UnusedThreshold seats available (Graph's enabled − consumed) on each of the
//     last pool.UnusedDays days (one snapshot a day; a day without one breaks the run). Count = today's available
//     seats, Since = the first day of the run (within the last alertWindow days).
//   - overused: a SKU with fewer than 0 seats available today. Count = the seats missing, Since = the first day of
//     the run of such days.
//   - licence_errors: one alert per licence error type the last sync counted (Count = the licences in error), or
//     one with the users in error when the types are unknown.
//   - staging_failed: the users whose staging failed (Since = the earliest failure).
//
// They are ordered by kind (as listed), then by SKU part number or error type.
func computeAlerts(c domain.Customer, pool domain.LicencePool, history []domain.Snapshot, failed int, failedSince *time.Time) []domain.Alert {
	out := []domain.Alert{}
	if len(history) == 0 {
		return out
	}
	today := history[len(history)-1]
	licences := "#/customers/" + c.ID + "/licences"
	var overused []domain.Alert
	for _, k := range today.SKUs {
		available := k.Enabled - k.Consumed
		name := cmp.Or(k.Name, k.PartNumber)
		switch {
		case available >= pool.UnusedThreshold && available > 0:
			days, since := run(history, k.SkuID, func(a int) bool { return a >= pool.UnusedThreshold })
			if days >= pool.UnusedDays {
				out = append(out, domain.Alert{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertUnused,
					SkuID: k.SkuID, PartNumber: k.PartNumber, Count: available, Since: since, Link: licences,
					Message: fmt.Sprintf("%d %s %s unused for %d %s", available, name, plural(available, "seat", "seats"), days, plural(days, "day", "days"))})
			}
		case available < 0:
			_, since := run(history, k.SkuID, func(a int) bool { return a < 0 })
			overused = append(overused, domain.Alert{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertOverused,
				SkuID: k.SkuID, PartNumber: k.PartNumber, Count: -available, Since: since, Link: licences,
				Message: fmt.Sprintf("%d more %s %s assigned than bought", -available, name, plural(-available, "seat", "seats"))})
		}
	}
	out = append(out, overused...)
	errorsLink := "#/customers/" + c.ID + "/users?filter=errors"
	counts := c.Sync.UserCounts
	if len(counts.ErrorsByType) > 0 {
		for _, typ := range slices.Sorted(maps.Keys(counts.ErrorsByType)) {
			if n := counts.ErrorsByType[typ]; n > 0 {
				out = append(out, domain.Alert{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertLicenceErrors,
					Count: n, Link: errorsLink,
					Message: fmt.Sprintf("%d licence %s in error: %s", n, plural(n, "assignment", "assignments"), typ)})
			}
		}
	} else if n := counts.ErrorCount; n > 0 {
		out = append(out, domain.Alert{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertLicenceErrors,
			Count: n, Link: errorsLink, Message: fmt.Sprintf("%d %s a licence in error", n, plural(n, "user holds", "users hold"))})
	}
	if failed > 0 {
		out = append(out, domain.Alert{CustomerID: c.ID, CustomerName: c.Name, Kind: domain.AlertStagingFailed,
			Count: failed, Since: failedSince, Link: "#/customers/" + c.ID + "/staging",
			Message: fmt.Sprintf("staging failed for %d %s", failed, plural(failed, "user", "users"))})
	}
	return out
}

// run returns how many consecutive days, ending with the last snapshot, the SKU's available seats satisfied ok
// (a day without a snapshot, or without the SKU, ends the run), and the first of those days.
func run(history []domain.Snapshot, skuID string, ok func(available int) bool) (int, *time.Time) {
	days := 0
	var first time.Time
	var next time.Time
	for i := len(history) - 1; i >= 0; i-- {
		sn := history[i]
		day, err := time.Parse(dateLayout, sn.Date)
		if err != nil || (days > 0 && !day.Equal(next.AddDate(0, 0, -1))) {
			break
		}
		j := slices.IndexFunc(sn.SKUs, func(k domain.SnapshotSKU) bool { return strings.EqualFold(k.SkuID, skuID) })
		if j < 0 || !ok(sn.SKUs[j].Enabled-sn.SKUs[j].Consumed) {
			break
		}
		days++
		first, next = day, day
	}
	if days == 0 {
		return 0, nil
	}
	return days, &first
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
