package export

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/seatwise/seatwise/shared/domain"
)

// Row categories and measures of both CSV files.
const (
	CategoryTotal  = "total"  // code empty; measures users, licensed, unmatched
	CategoryFactor = "factor" // code = the factor rule id; measure users
	CategorySKU    = "sku"    // code = the SKU part number (skuId when unknown); measures assigned, and at customer level consumed, enabled, acquired
)

// Measures.
const (
	MeasureUsers     = "users"     // total: active users in scope; factor: licensed users the factor counts
	MeasureLicensed  = "licensed"  // total: users holding at least one licence
	MeasureUnmatched = "unmatched" // total: licensed users no factor counts
	MeasureAssigned  = "assigned"  // sku: users in scope holding the SKU
	MeasureConsumed  = "consumed"  // sku, customer level: Graph's consumed units
	MeasureEnabled   = "enabled"   // sku, customer level: Graph's prepaid enabled units
	MeasureAcquired  = "acquired"  // sku, customer level: seats the provider entered as bought (0 = not entered)
)

// Anonymised factor rows: a factor that is not one of the provider's rules (a customer's own rule, whose name is
// free text the customer may have chosen) is summed under this code and name instead of its own.
const (
	CustomerSpecificCode = "customer-specific"
	CustomerSpecificName = "Customer-specific factors"
)

// Levels of the partner file.
const (
	LevelCustomer = "customer"
	LevelSite     = "site"
)

// PartnerHeader and AnonymisedHeader are the CSV files' header rows.
var (
	PartnerHeader = []string{"month", "customer_id", "customer_name", "public_sector", "level", "site_id", "site_name",
		"category", "code", "name", "measure", "last", "last_date", "peak", "peak_date", "days"}
	AnonymisedHeader = []string{"month", "public_sector", "category", "code", "name", "measure", "customers", "last", "peak"}
)

var measureRank = map[string]int{
	MeasureUsers: 0, MeasureLicensed: 1, MeasureUnmatched: 2,
	MeasureAssigned: 0, MeasureConsumed: 1, MeasureEnabled: 2, MeasureAcquired: 3,
}

var categoryRank = map[string]int{CategoryTotal: 0, CategoryFactor: 1, CategorySKU: 2}

// counterKey names one counter of a scope.
type counterKey struct {
	category, code, measure string
}

// counter follows one counter over a scope's days: its latest value and day seen, and its peak — the largest
// value on any day of the month (a day the counter is absent from counts 0) and the first day it was reached.
type counter struct {
	name     string
	value    int
	seen     string
	peak     int
	peakDate string
}

// scope follows one customer or one site over the month's days, from its snapshots in ascending date order.
type scope struct {
	customerID, siteID string
	first, last        string // the first and the last day with a snapshot
	days               int
	lastSnap           domain.Snapshot // the last snapshot, without its counters (names, flag, date)
	factorOrder        map[string]int  // the last snapshot's factor order
	counters           map[counterKey]*counter
	anon               map[counterKey]*counter // customer level: the anonymised view (provider factors, the rest summed)
	scratch, anonDay   map[counterKey]entry    // one day's values (reused)
}

type entry struct {
	name  string
	value int
}

func newScope(sn domain.Snapshot) *scope {
	return &scope{customerID: sn.CustomerID, siteID: sn.SiteID, first: sn.Date, factorOrder: map[string]int{},
		counters: map[counterKey]*counter{}, anon: map[counterKey]*counter{}, scratch: map[counterKey]entry{},
		anonDay: map[counterKey]entry{}}
}

// observe records one day's values (each key once per day).
func (s *scope) observe(m map[counterKey]*counter, values map[counterKey]entry, date string) {
	for k, e := range values {
		c := m[k]
		if c == nil {
			c = &counter{peak: -1}
			if date != s.first { // absent on the earlier days: 0 then, the first day being the first 0
				c.peak, c.peakDate = 0, s.first
			}
			m[k] = c
		}
		if e.value > c.peak {
			c.peak, c.peakDate = e.value, date
		}
		c.name, c.value, c.seen = e.name, e.value, date
	}
}

// lastValue is the counter's value on the scope's last day (0 when absent from it).
func (s *scope) lastValue(c *counter) int {
	if c.seen == s.last {
		return c.value
	}
	return 0
}

// add folds in the scope's next snapshot (a later date than the ones before). providerFactors maps the provider's
// rule ids to their names, for the anonymised view.
func (s *scope) add(sn domain.Snapshot, providerFactors map[string]string) {
	s.days++
	s.last = sn.Date
	customerLevel := sn.SiteID == ""

	put := func(k counterKey, name string, v int) {
		e := s.scratch[k]
		e.name, e.value = name, e.value+v
		s.scratch[k] = e
	}
	clear(s.scratch)
	put(counterKey{CategoryTotal, "", MeasureUsers}, "", sn.Users)
	put(counterKey{CategoryTotal, "", MeasureLicensed}, "", sn.Licensed)
	put(counterKey{CategoryTotal, "", MeasureUnmatched}, "", sn.Unmatched)
	clear(s.factorOrder)
	for i, f := range sn.Factors {
		if !f.Enabled && f.Count == 0 {
			continue
		}
		if _, ok := s.factorOrder[f.RuleID]; !ok {
			s.factorOrder[f.RuleID] = i
		}
		put(counterKey{CategoryFactor, f.RuleID, MeasureUsers}, f.Name, f.Count)
	}
	for _, k := range sn.SKUs {
		code, name := cmp.Or(k.PartNumber, k.SkuID), cmp.Or(k.Name, k.PartNumber, k.SkuID)
		put(counterKey{CategorySKU, code, MeasureAssigned}, name, k.Assigned)
		if customerLevel {
			put(counterKey{CategorySKU, code, MeasureConsumed}, name, k.Consumed)
			put(counterKey{CategorySKU, code, MeasureEnabled}, name, k.Enabled)
			put(counterKey{CategorySKU, code, MeasureAcquired}, name, k.Acquired)
		}
	}
	s.observe(s.counters, s.scratch, sn.Date)

	if customerLevel {
		// The anonymised view: the same counters, factors by the provider's rules only.
		anon := s.anonDay
		clear(anon)
		for k, e := range s.scratch {
			if k.category == CategoryFactor {
				if name, ok := providerFactors[k.code]; ok {
					e.name = name
				} else {
					k.code, e.name = CustomerSpecificCode, CustomerSpecificName
					e.value += anon[k].value
				}
			}
			anon[k] = e
		}
		s.observe(s.anon, anon, sn.Date)
	}
	sn.Factors, sn.SKUs = nil, nil
	s.lastSnap = sn
}

// sortedKeys orders a scope's counters: totals, then factors (in the order of the last snapshot, then the others
// by id), then SKUs by code; measures in their fixed order.
func sortedKeys(m map[counterKey]*counter, factorRank func(code string) int) []counterKey {
	keys := make([]counterKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b counterKey) int { return cmpKeys(a, b, factorRank) })
	return keys
}

// aggregate is one row of the anonymised file: sums over the customers of a sector.
type aggregate struct {
	name      string
	customers int
	last      int
	peak      int
}

type aggKey struct {
	public bool
	counterKey
}

// builder computes both CSV files and writes the raw JSON from the month's snapshots, streamed in the store's
// order (customer, then its customer level, then each site, each by date): one scope at a time is held, and the
// anonymised sums, whose size depends on the counters (factors × SKUs), not on the customers or the days.
type builder struct {
	month           string
	providerFactors map[string]string // provider rule id → name
	providerOrder   map[string]int

	partner *csvWriter
	raw     io.Writer
	rawErr  error
	rawN    int

	cur      *scope
	customer struct {
		id, name string
		public   bool
	}
	agg map[aggKey]*aggregate

	stats stats
}

// stats is what a run read, for the manifest and the progress.
type stats struct {
	Snapshots, Customers, Sites, Rows int
	PublicSectorCustomers             int
	FirstDate, LastDate               string
	FirstTakenAt, LastTakenAt         time.Time
	RulesVersions                     map[int64]bool
}

func newBuilder(month string, providerRules []domain.FactorRule, partner *csvWriter, raw io.Writer) *builder {
	b := &builder{month: month, providerFactors: map[string]string{}, providerOrder: map[string]int{},
		partner: partner, raw: raw, agg: map[aggKey]*aggregate{}, stats: stats{RulesVersions: map[int64]bool{}}}
	for i, r := range providerRules {
		b.providerFactors[r.ID] = r.Name
		b.providerOrder[r.ID] = i
	}
	// The anonymised file always has its total rows, for both sectors.
	for _, public := range []bool{false, true} {
		for _, m := range []string{MeasureUsers, MeasureLicensed, MeasureUnmatched} {
			b.agg[aggKey{public, counterKey{CategoryTotal, "", m}}] = &aggregate{}
		}
	}
	return b
}

// add takes the month's next snapshot.
func (b *builder) add(sn domain.Snapshot) error {
	if err := b.writeRaw(sn); err != nil {
		return err
	}
	st := &b.stats
	st.Snapshots++
	if st.FirstDate == "" || sn.Date < st.FirstDate {
		st.FirstDate = sn.Date
	}
	if sn.Date > st.LastDate {
		st.LastDate = sn.Date
	}
	if st.FirstTakenAt.IsZero() || sn.TakenAt.Before(st.FirstTakenAt) {
		st.FirstTakenAt = sn.TakenAt
	}
	if sn.TakenAt.After(st.LastTakenAt) {
		st.LastTakenAt = sn.TakenAt
	}
	st.RulesVersions[sn.RulesVersion] = true

	if b.cur != nil && (b.cur.customerID != sn.CustomerID || b.cur.siteID != sn.SiteID) {
		if err := b.closeScope(); err != nil {
			return err
		}
	}
	if b.cur == nil {
		b.cur = newScope(sn)
	} else if sn.Date <= b.cur.last {
		return fmt.Errorf("snapshots of %s/%s out of date order (%s after %s)", sn.CustomerID, cmp.Or(sn.SiteID, "-"), sn.Date, b.cur.last)
	}
	b.cur.add(sn, b.providerFactors)
	return nil
}

func (b *builder) writeRaw(sn domain.Snapshot) error {
	if b.rawErr != nil {
		return b.rawErr
	}
	data, err := json.Marshal(sn)
	if err != nil {
		b.rawErr = fmt.Errorf("encode the snapshot of %s on %s: %w", sn.CustomerID, sn.Date, err)
		return b.rawErr
	}
	sep := ",\n"
	if b.rawN == 0 {
		sep = "[\n"
	}
	b.rawN++
	if _, err := io.WriteString(b.raw, sep); err != nil {
		b.rawErr = err
		return err
	}
	_, b.rawErr = b.raw.Write(data)
	return b.rawErr
}

// finish closes the last scope and the raw JSON array.
func (b *builder) finish() error {
	if b.cur != nil {
		if err := b.closeScope(); err != nil {
			return err
		}
	}
	if b.rawErr != nil {
		return b.rawErr
	}
	end := "\n]\n"
	if b.rawN == 0 {
		end = "[]\n"
	}
	_, b.rawErr = io.WriteString(b.raw, end)
	return b.rawErr
}

// closeScope writes the finished scope's partner rows and, for a customer, adds it to the anonymised sums.
func (b *builder) closeScope() error {
	s := b.cur
	b.cur = nil
	last := s.lastSnap
	if s.siteID == "" {
		b.customer.id, b.customer.name, b.customer.public = s.customerID, last.CustomerName, last.PublicSector
		b.stats.Customers++
		if last.PublicSector {
			b.stats.PublicSectorCustomers++
		}
	} else {
		b.stats.Sites++
	}
	// A customer's rows all carry its name and flag as of its last customer-level snapshot.
	name, public := last.CustomerName, last.PublicSector
	if b.customer.id == s.customerID {
		name, public = b.customer.name, b.customer.public
	}
	level, siteName := LevelCustomer, ""
	if s.siteID != "" {
		level, siteName = LevelSite, last.SiteName
	}
	rank := func(code string) int {
		if i, ok := s.factorOrder[code]; ok {
			return i
		}
		return len(s.factorOrder)
	}
	days := strconv.Itoa(s.days)
	for _, k := range sortedKeys(s.counters, rank) {
		c := s.counters[k]
		if err := b.partner.Row(b.month, s.customerID, name, strconv.FormatBool(public), level, s.siteID, siteName,
			k.category, k.code, c.name, k.measure, strconv.Itoa(s.lastValue(c)), s.last, strconv.Itoa(c.peak), c.peakDate,
			days); err != nil {
			return err
		}
		b.stats.Rows++
	}
	if s.siteID == "" {
		for k, c := range s.anon {
			a := b.agg[aggKey{public, k}]
			if a == nil {
				a = &aggregate{}
				b.agg[aggKey{public, k}] = a
			}
			a.name = c.name
			a.customers++
			a.last += s.lastValue(c)
			a.peak += c.peak
		}
	}
	return nil
}

// writeAnonymised writes the anonymised file's rows: per sector (not public sector first), the sums over the
// customers of each counter of the customer level.
func (b *builder) writeAnonymised(w *csvWriter) error {
	keys := make([]aggKey, 0, len(b.agg))
	for k := range b.agg {
		keys = append(keys, k)
	}
	rank := func(code string) int {
		if i, ok := b.providerOrder[code]; ok {
			return i
		}
		return len(b.providerOrder)
	}
	slices.SortFunc(keys, func(x, y aggKey) int {
		if x.public != y.public {
			if !x.public {
				return -1
			}
			return 1
		}
		return cmpKeys(x.counterKey, y.counterKey, rank)
	})
	for _, k := range keys {
		a := b.agg[k]
		if err := w.Row(b.month, strconv.FormatBool(k.public), k.category, k.code, a.name, k.measure,
			strconv.Itoa(a.customers), strconv.Itoa(a.last), strconv.Itoa(a.peak)); err != nil {
			return err
		}
	}
	return nil
}

func cmpKeys(a, b counterKey, factorRank func(string) int) int {
	if c := cmp.Compare(categoryRank[a.category], categoryRank[b.category]); c != 0 {
		return c
	}
	if a.category == CategoryFactor {
		if c := cmp.Compare(factorRank(a.code), factorRank(b.code)); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.code, b.code); c != 0 {
		return c
	}
	return cmp.Compare(measureRank[a.measure], measureRank[b.measure])
}
