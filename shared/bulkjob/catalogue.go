package bulkjob

import (
	"slices"
	"strings"
	"unicode"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

// customerCatalogue resolves the licences of a file against the customer's own subscriptions first — so that a name
// the Microsoft catalogue finds ambiguous (Visio Plan 2) resolves when the customer has one of them, a SKU newer
// than the catalogue is known, and add-ons are the service plans Graph reports for the customer's SKU — and
// otherwise against the Microsoft catalogue (the row then names a licence the customer does not have, which the
// validation reports as such rather than as an unknown name).
type customerCatalogue struct {
	byID   map[string]catalog.Product // lower-case skuId
	byPart map[string][]string        // normalised part number → skuIds
	byName map[string][]string        // normalised display name → skuIds
	def    bulkcsv.Catalogue
}

func newCustomerCatalogue(skus []domain.CustomerSKU) *customerCatalogue {
	c := &customerCatalogue{byID: map[string]catalog.Product{}, byPart: map[string][]string{}, byName: map[string][]string{},
		def: bulkcsv.Default()}
	for _, s := range skus {
		p := customerProduct(s)
		c.byID[p.SkuID] = p
		if p.PartNumber != "" {
			k := normName(p.PartNumber)
			c.byPart[k] = append(c.byPart[k], p.SkuID)
		}
		if p.Name != "" && p.Name != p.PartNumber {
			k := normName(p.Name)
			c.byName[k] = append(c.byName[k], p.SkuID)
		}
	}
	for _, m := range []map[string][]string{c.byPart, c.byName} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	return c
}

// customerProduct is the customer's SKU as a catalogue product: its service plans as Graph reports them, with the
// catalogue's friendly names.
func customerProduct(s domain.CustomerSKU) catalog.Product {
	id := strings.ToLower(s.SkuID)
	p, known := catalog.Lookup(id)
	p.SkuID = id
	if s.PartNumber != "" {
		p.PartNumber = s.PartNumber
	}
	p.Name = catalog.DisplayName(id, s.PartNumber)
	if len(s.ServicePlans) > 0 || !known {
		plans := make([]catalog.Plan, 0, len(s.ServicePlans))
		for _, sp := range s.ServicePlans {
			pl := catalog.Plan{ID: strings.ToLower(sp.ID), Name: sp.Name}
			if name, friendly, ok := catalog.PlanName(sp.ID); ok {
				pl.FriendlyName = friendly
				if pl.Name == "" {
					pl.Name = name
				}
			}
			plans = append(plans, pl)
		}
		slices.SortFunc(plans, func(a, b catalog.Plan) int { return strings.Compare(a.Name, b.Name) })
		p.Plans = plans
	}
	return p
}

func (c *customerCatalogue) Find(name string) []catalog.Product {
	n := strings.TrimSpace(name)
	if p, ok := c.byID[strings.ToLower(n)]; ok {
		return []catalog.Product{p}
	}
	k := normName(n)
	ids, ok := c.byPart[k]
	if !ok {
		ids = c.byName[k]
	}
	if len(ids) == 0 {
		return c.def.Find(name)
	}
	out := make([]catalog.Product, len(ids))
	for i, id := range ids {
		out[i] = c.byID[id]
	}
	return out
}

func (c *customerCatalogue) Suggest(name string) string {
	if s, ok := c.def.(bulkcsv.Suggester); ok {
		return s.Suggest(name)
	}
	return ""
}

var (
	_ bulkcsv.Catalogue = (*customerCatalogue)(nil)
	_ bulkcsv.Suggester = (*customerCatalogue)(nil)
)

// normName is how names are compared: lower case, white space trimmed and collapsed (as bulkcsv compares them).
func normName(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), " ")
}
