package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Snapshot items: PK CUST#<customerId>#SNAP, SK <date>#<siteId, or "-" for the whole customer>, so one Query reads
// a customer's days in order (and one day's items together); GSI1 (SNAPS#<YYYY-MM>,
// <customerId>#<siteId or "-">#<date>) streams a month ordered by customer, site ("-", the customer level, first)
// and date. Dates are fixed-width (YYYY-MM-DD, UTC). Each item also records "refresh": the TakenAt (fixed-width
// UTC) of the customer-level snapshot of the refresh that wrote it — a refresh never overwrites what a later one
// (greater refresh) wrote.
//
// Provider daily totals: PK PROVIDER#SNAP, SK <date> — the sums of the customer-level snapshots of that day
// across customers (Customers, Users, Licensed, Unmatched, per factor name, per SKU part number). The item is
// read, changed by (new − old) of one customer's customer-level snapshot and written back whole, with a version
// condition, in the same transaction as that customer-level snapshot (conditioned on the old one being what was
// read); a lost race reads both again and retries. A whole-item put rather than ADD updates: the counters of a
// day can be hundreds (every SKU part number × 4), which an update expression (4 KB at most) does not hold, and
// nested map counters would need their parent maps first. A count that goes to 0 leaves its map (absent = 0).
type snapshotItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Kind           string `dynamodbav:"type"`
	Refresh        string `dynamodbav:"refresh"`
	domain.Snapshot
}

type totalsItem struct {
	PK, SK    string
	Kind      string `dynamodbav:"type"`
	Date      string
	Customers int
	Users     int
	Licensed  int
	Unmatched int
	Factors   map[string]int
	SKUs      map[string]domain.SnapshotSKU
	Version   int64
	UpdatedAt time.Time
}

// ProviderTotal is the sum of the customer-level snapshots of one day across customers: Customers counts the
// customers with a snapshot that day, Factors the licensed users by factor name, SKUs the SKU counters by part
// number (skuId when the part number is unknown).
type ProviderTotal struct {
	Date      string                        `json:"date"`
	Customers int                           `json:"customers"`
	Users     int                           `json:"users"`
	Licensed  int                           `json:"licensed"`
	Unmatched int                           `json:"unmatched"`
	Factors   map[string]int                `json:"factors"`
	SKUs      map[string]domain.SnapshotSKU `json:"skus"`
}

const (
	totalsPK = "PROVIDER#SNAP"
	// customerLevel is the site part of the keys of a customer-level snapshot.
	customerLevel = "-"
	dateLayout    = "2006-01-02"
	monthLayout   = "2006-01"
)

func snapshotPK(customerID string) string { return customerPK(customerID) + "#SNAP" }

func siteKeyPart(siteID string) string { return cmp.Or(siteID, customerLevel) }

func snapshotSK(date, siteID string) string { return date + "#" + siteKeyPart(siteID) }

func snapshotsGSI1PK(month string) string { return "SNAPS#" + month }

func validDate(d string) bool {
	t, err := time.Parse(dateLayout, d)
	return err == nil && t.Format(dateLayout) == d
}

func (s *Store) snapshotPut(snap domain.Snapshot, refresh string) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(snapshotItem{
		PK: snapshotPK(snap.CustomerID), SK: snapshotSK(snap.Date, snap.SiteID),
		GSI1PK: snapshotsGSI1PK(snap.Date[:7]), GSI1SK: snap.CustomerID + "#" + siteKeyPart(snap.SiteID) + "#" + snap.Date,
		Kind: "snapshot", Refresh: refresh, Snapshot: snap,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal snapshot %s/%s/%s: %w", snap.CustomerID, siteKeyPart(snap.SiteID), snap.Date, err)
	}
	return &types.Put{TableName: &s.table, Item: item}, nil
}

func decodeSnapshot(raw map[string]types.AttributeValue) (snapshotItem, error) {
	var it snapshotItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return it, fmt.Errorf("decode snapshot: %w", err)
	}
	if it.Factors == nil {
		it.Factors = []domain.FactorCount{}
	}
	if it.SKUs == nil {
		it.SKUs = []domain.SnapshotSKU{}
	}
	return it, nil
}

// validateSnapshots checks that snaps are one customer's snapshots of one date with exactly one customer-level
// snapshot, and returns that one.
func validateSnapshots(snaps []domain.Snapshot) (domain.Snapshot, error) {
	if len(snaps) == 0 {
		return domain.Snapshot{}, domain.Invalid(map[string]string{"snapshots": "at least the customer-level snapshot is required"})
	}
	first := snaps[0]
	if first.CustomerID == "" {
		return domain.Snapshot{}, domain.Invalid(map[string]string{"customerId": "required"})
	}
	if !validDate(first.Date) {
		return domain.Snapshot{}, domain.Invalid(map[string]string{"date": "must be a date YYYY-MM-DD"})
	}
	var top *domain.Snapshot
	sites := map[string]bool{}
	for i := range snaps {
		sn := &snaps[i]
		switch {
		case sn.CustomerID != first.CustomerID || sn.Date != first.Date:
			return domain.Snapshot{}, domain.Invalid(map[string]string{"snapshots": "must all be of one customer and one date"})
		case sn.SiteID == customerLevel:
			return domain.Snapshot{}, domain.Invalid(map[string]string{"siteId": `"-" is reserved`})
		case sn.SiteID == "" && top != nil:
			return domain.Snapshot{}, domain.Invalid(map[string]string{"snapshots": "only one customer-level snapshot (siteId \"\") is allowed"})
		case sn.SiteID == "":
			top = sn
		case sites[sn.SiteID]:
			return domain.Snapshot{}, domain.Invalid(map[string]string{"siteId": "site " + sn.SiteID + " appears twice"})
		default:
			sites[sn.SiteID] = true
		}
	}
	if top == nil {
		return domain.Snapshot{}, domain.Invalid(map[string]string{"snapshots": "the customer-level snapshot (siteId \"\") is required"})
	}
	if top.TakenAt.IsZero() {
		return domain.Snapshot{}, domain.Invalid(map[string]string{"takenAt": "required"})
	}
	return *top, nil
}

// snapshotAttempts bounds the retries of the customer-level snapshot and provider totals transaction when other
// refreshes of the same day win the race.
const snapshotAttempts = 12

// snapshotConcurrency bounds the site-level writes PutSnapshots runs at once.
const snapshotConcurrency = 8

// PutSnapshots stores one customer's snapshots of one date: the customer-level one (SiteID "", required, its
// TakenAt identifies the refresh) and each site's. They replace what that date had — a refresh the same day
// overwrites it, and site items of that date the refresh does not have are deleted — unless a later refresh
// (greater customer-level TakenAt) already stored that date, in which case nothing is written. The provider daily
// totals move by (new − old) of the customer-level snapshot in the same transaction as it, so a re-run or a
// concurrent refresh never double counts.
//
// Site items are written after the customer-level one, each conditionally (never over a later refresh's), then
// the date's site items older than the stored customer-level snapshot are deleted: once every refresh has
// returned, the date holds exactly the latest refresh's snapshots. Errors: EInvalid for a malformed set,
// EConflict when the totals kept changing (retry later).
func (s *Store) PutSnapshots(ctx context.Context, snaps []domain.Snapshot) error {
	top, err := validateSnapshots(snaps)
	if err != nil {
		return err
	}
	refresh := sortableTime(top.TakenAt)
	stored, err := s.putCustomerSnapshot(ctx, top, refresh)
	if err != nil || !stored {
		return err
	}

	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, snapshotConcurrency)
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for _, sn := range snaps {
		if sn.SiteID == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			put, err := s.snapshotPut(sn, refresh)
			if err != nil {
				fail(err)
				return
			}
			_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Item,
				ConditionExpression:       ptr("attribute_not_exists(PK) OR #r <= :r"),
				ExpressionAttributeNames:  map[string]string{"#r": "refresh"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":r": str(refresh)}})
			var failed *types.ConditionalCheckFailedException
			if err != nil && !errors.As(err, &failed) { // failed: a later refresh wrote this site
				fail(fmt.Errorf("put snapshot of site %s: %w", sn.SiteID, err))
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return s.sweepSnapshots(ctx, top.CustomerID, top.Date)
}

// putCustomerSnapshot stores the customer-level snapshot top and moves the provider totals of its date, in one
// transaction conditioned on what was read, retrying lost races. stored=false: a later refresh had stored the date.
func (s *Store) putCustomerSnapshot(ctx context.Context, top domain.Snapshot, refresh string) (stored bool, err error) {
	put, err := s.snapshotPut(top, refresh)
	if err != nil {
		return false, err
	}
	for attempt := 0; attempt < snapshotAttempts; attempt++ {
		if attempt > 0 {
			backoff := time.Duration(rand.Int64N(int64(min(10*time.Millisecond<<attempt, time.Second)))) + time.Millisecond
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(backoff):
			}
		}
		old, found, err := s.getSnapshotItem(ctx, top.CustomerID, top.Date, "")
		if err != nil {
			return false, err
		}
		if found && old.Refresh > refresh {
			return false, nil
		}
		tot, totFound, err := s.getTotals(ctx, top.Date)
		if err != nil {
			return false, err
		}
		version := tot.Version
		if found {
			addToTotals(&tot, old.Snapshot, -1)
		}
		addToTotals(&tot, top, 1)
		tot.Version, tot.UpdatedAt = version+1, top.TakenAt
		totItem, err := attributevalue.MarshalMap(tot)
		if err != nil {
			return false, fmt.Errorf("marshal the totals of %s: %w", top.Date, err)
		}
		snapPut := *put
		snapPut.ConditionExpression = ptr("attribute_not_exists(PK)")
		snapPut.ExpressionAttributeNames, snapPut.ExpressionAttributeValues = nil, nil
		if found {
			snapPut.ConditionExpression = ptr("#r = :r")
			snapPut.ExpressionAttributeNames = map[string]string{"#r": "refresh"}
			snapPut.ExpressionAttributeValues = map[string]types.AttributeValue{":r": str(old.Refresh)}
		}
		totPut := &types.Put{TableName: &s.table, Item: totItem, ConditionExpression: ptr("attribute_not_exists(PK)")}
		if totFound {
			totPut.ConditionExpression = ptr("#ver = :v")
			totPut.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
			totPut.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &snapPut}, {Put: totPut},
		}})
		if err == nil {
			return true, nil
		}
		if !lostRace(err) {
			return false, fmt.Errorf("put snapshot of %s on %s: %w", top.CustomerID, top.Date, err)
		}
	}
	return false, domain.Errorf(domain.EConflict, "the usage totals of %s kept changing while the snapshot of %s was stored: try again",
		top.Date, top.CustomerID)
}

// lostRace reports whether a transaction was cancelled by a condition on what was read or by a concurrent
// transaction on one of its items (both worth a new read and a retry).
func lostRace(err error) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		var conflict *types.TransactionConflictException
		return errors.As(err, &conflict)
	}
	race := false
	for _, r := range canceled.CancellationReasons {
		switch code := ptrValue(r.Code); code {
		case "ConditionalCheckFailed", "TransactionConflict":
			race = true
		case "", "None":
		default:
			return false
		}
	}
	return race
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sweepSnapshots deletes the site items of the date that are older than the stored customer-level snapshot (a
// previous refresh's sites this one no longer has, or a concurrent older refresh's), each on the condition that
// it was not rewritten since.
func (s *Store) sweepSnapshots(ctx context.Context, customerID, date string) error {
	top, found, err := s.getSnapshotItem(ctx, customerID, date, "")
	if err != nil || !found {
		return err
	}
	items, err := queryAll[snapshotItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :date)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(snapshotPK(customerID)), ":date": str(date + "#"),
		},
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return fmt.Errorf("snapshots of %s on %s: %w", customerID, date, err)
	}
	for _, it := range items {
		if it.SiteID == "" || it.Refresh >= top.Refresh {
			continue
		}
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(it.PK, it.SK),
			ConditionExpression:       ptr("#r = :r"),
			ExpressionAttributeNames:  map[string]string{"#r": "refresh"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":r": str(it.Refresh)}})
		var failed *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &failed) {
			return fmt.Errorf("delete snapshot %s of %s: %w", it.SK, customerID, err)
		}
	}
	return nil
}

func (s *Store) getSnapshotItem(ctx context.Context, customerID, date, siteID string) (snapshotItem, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table,
		Key: key(snapshotPK(customerID), snapshotSK(date, siteID)), ConsistentRead: ptr(true)})
	if err != nil {
		return snapshotItem{}, false, fmt.Errorf("get snapshot of %s on %s: %w", customerID, date, err)
	}
	if out.Item == nil {
		return snapshotItem{}, false, nil
	}
	it, err := decodeSnapshot(out.Item)
	return it, err == nil, err
}

func (s *Store) getTotals(ctx context.Context, date string) (totalsItem, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(totalsPK, date), ConsistentRead: ptr(true)})
	if err != nil {
		return totalsItem{}, false, fmt.Errorf("get the usage totals of %s: %w", date, err)
	}
	tot := totalsItem{PK: totalsPK, SK: date, Kind: "snapshotTotals", Date: date}
	found := out.Item != nil
	if found {
		if err := attributevalue.UnmarshalMap(out.Item, &tot); err != nil {
			return totalsItem{}, false, fmt.Errorf("decode the usage totals of %s: %w", date, err)
		}
	}
	if tot.Factors == nil {
		tot.Factors = map[string]int{}
	}
	if tot.SKUs == nil {
		tot.SKUs = map[string]domain.SnapshotSKU{}
	}
	return tot, found, nil
}

// addToTotals adds (sign 1) or takes away (sign -1) a customer-level snapshot's counts; entries that go to 0 are
// removed.
func addToTotals(t *totalsItem, sn domain.Snapshot, sign int) {
	t.Customers += sign
	t.Users += sign * sn.Users
	t.Licensed += sign * sn.Licensed
	t.Unmatched += sign * sn.Unmatched
	for _, f := range sn.Factors {
		if n := t.Factors[f.Name] + sign*f.Count; n != 0 {
			t.Factors[f.Name] = n
		} else {
			delete(t.Factors, f.Name)
		}
	}
	for _, k := range sn.SKUs {
		part := cmp.Or(k.PartNumber, k.SkuID)
		cur := t.SKUs[part]
		if sign > 0 || cur.PartNumber == "" {
			cur.SkuID, cur.PartNumber, cur.Name = k.SkuID, k.PartNumber, k.Name
		}
		cur.Enabled += sign * k.Enabled
		cur.Consumed += sign * k.Consumed
		cur.Acquired += sign * k.Acquired
		cur.Assigned += sign * k.Assigned
		if cur.Enabled == 0 && cur.Consumed == 0 && cur.Acquired == 0 && cur.Assigned == 0 {
			delete(t.SKUs, part)
		} else {
			t.SKUs[part] = cur
		}
	}
}

// ListSnapshots returns the snapshots of a customer (siteID "") or of one of its sites from date from to date to
// (YYYY-MM-DD, inclusive), ascending by date: one consistent Query of the customer's days (a snapshot just stored
// is seen), keeping the scope asked for. Errors: EInvalid for a malformed or reversed range.
func (s *Store) ListSnapshots(ctx context.Context, customerID, siteID, from, to string) ([]domain.Snapshot, error) {
	if err := validRange(from, to); err != nil {
		return nil, err
	}
	items, err := queryAll[snapshotItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression:   ptr("PK = :pk AND SK BETWEEN :from AND :to"),
		FilterExpression:         ptr("#site = :site"),
		ExpressionAttributeNames: map[string]string{"#site": "SiteID"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			// "$" sorts right after "#": every item of the date to, none after.
			":pk": str(snapshotPK(customerID)), ":from": str(from + "#"), ":to": str(to + "$"), ":site": str(siteID),
		},
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots of %s: %w", customerID, err)
	}
	out := make([]domain.Snapshot, 0, len(items))
	for _, it := range items {
		if it.Factors == nil {
			it.Factors = []domain.FactorCount{}
		}
		if it.SKUs == nil {
			it.SKUs = []domain.SnapshotSKU{}
		}
		out = append(out, it.Snapshot)
	}
	return out, nil
}

func validRange(from, to string) error {
	fields := map[string]string{}
	if !validDate(from) {
		fields["from"] = "must be a date YYYY-MM-DD"
	}
	if !validDate(to) {
		fields["to"] = "must be a date YYYY-MM-DD"
	}
	if len(fields) == 0 && from > to {
		fields["to"] = "must not be before from"
	}
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	return nil
}

// ProviderTotals returns the provider daily totals from date from to date to (inclusive), ascending by date; days
// without any snapshot are absent. Errors: EInvalid for a malformed or reversed range.
func (s *Store) ProviderTotals(ctx context.Context, from, to string) ([]ProviderTotal, error) {
	if err := validRange(from, to); err != nil {
		return nil, err
	}
	items, err := queryAll[totalsItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(totalsPK), ":from": str(from), ":to": str(to),
		},
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return nil, fmt.Errorf("usage totals: %w", err)
	}
	out := make([]ProviderTotal, len(items))
	for i, it := range items {
		out[i] = ProviderTotal{Date: it.Date, Customers: it.Customers, Users: it.Users, Licensed: it.Licensed,
			Unmatched: it.Unmatched, Factors: it.Factors, SKUs: it.SKUs}
		if out[i].Factors == nil {
			out[i].Factors = map[string]int{}
		}
		if out[i].SKUs == nil {
			out[i].SKUs = map[string]domain.SnapshotSKU{}
		}
	}
	slices.SortFunc(out, func(a, b ProviderTotal) int { return cmp.Compare(a.Date, b.Date) })
	return out, nil
}

// MonthSnapshots calls fn with every snapshot of the month (YYYY-MM), customer-level and site-level, ordered by
// customer id, then site (the customer level first, then site ids), then date: GSI1 Query pages read one at a
// time, so memory does not grow with the month. It stops at fn's first error and returns it. The index is
// eventually consistent: a snapshot of the last moment may be missing. Errors: EInvalid for a malformed month.
func (s *Store) MonthSnapshots(ctx context.Context, month string, fn func(domain.Snapshot) error) error {
	if t, err := time.Parse(monthLayout, month); err != nil || t.Format(monthLayout) != month {
		return domain.Invalid(map[string]string{"month": "must be a month YYYY-MM"})
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: ptr(gsi1), Limit: ptr(listPageSize),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(snapshotsGSI1PK(month))},
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("snapshots of %s: %w", month, err)
		}
		for _, raw := range res.Items {
			it, err := decodeSnapshot(raw)
			if err != nil {
				return err
			}
			if err := fn(it.Snapshot); err != nil {
				return err
			}
		}
	}
	return nil
}
