// Package catalog is Seatwise's read-only licence catalogue: Microsoft 365 products (SKUs) and their service plans,
// with display names. The data is embedded from catalog.json, generated from Microsoft's "Product names and service
// plan identifiers for licensing" CSV (CC BY 4.0) by `go run ./infra/catalog-gen`; it is parsed once, on first use.
//
// Identifiers are matched case-insensitively. The package is safe for concurrent use.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed catalog.json
var catalogJSON []byte

// Plan is a service plan (one service inside a product, e.g. TEAMS1).
type Plan struct {
	ID           string // servicePlanId, lower-case GUID
	Name         string // servicePlanName, e.g. "TEAMS1"
	FriendlyName string // e.g. "Microsoft Teams"
}

// Product is a licensable product (a SKU).
type Product struct {
	SkuID      string // lower-case GUID
	PartNumber string // skuPartNumber, e.g. "ENTERPRISEPACK"
	Name       string // display name, e.g. "Office 365 E3"
	Plans      []Plan // sorted by plan name
}

// Lookup returns the product with the given skuId (any letter case). The caller may modify the result.
func Lookup(skuID string) (Product, bool) {
	p, ok := load().bySku[normID(skuID)]
	if !ok {
		return Product{}, false
	}
	return p.clone(), true
}

// ByPartNumber returns the product with the given skuPartNumber (any letter case). When several SKUs share a part
// number (MCOPSTN5 does), the one with the lowest skuId is returned.
func ByPartNumber(part string) (Product, bool) {
	p, ok := load().byPart[strings.ToUpper(strings.TrimSpace(part))]
	if !ok {
		return Product{}, false
	}
	return p.clone(), true
}

// PlanName returns the name and friendly name of the service plan with the given id (any letter case).
func PlanName(planID string) (name, friendly string, ok bool) {
	pl, ok := load().plans[normID(planID)]
	return pl.Name, pl.FriendlyName, ok
}

// DisplayName returns the catalogue's name of the product, or partNumber when the SKU is not in the catalogue
// (or skuID itself when partNumber is empty too).
func DisplayName(skuID, partNumber string) string {
	if p, ok := load().bySku[normID(skuID)]; ok && p.Name != "" {
		return p.Name
	}
	if partNumber != "" {
		return partNumber
	}
	if p, ok := load().bySku[normID(skuID)]; ok {
		return p.PartNumber
	}
	return skuID
}

func normID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

func (p *Product) clone() Product {
	c := *p
	c.Plans = slices.Clone(p.Plans)
	return c
}

// index is the parsed catalogue.
type index struct {
	bySku  map[string]*Product // by lower-case skuId
	byPart map[string]*Product // by upper-case part number
	plans  map[string]Plan     // by lower-case plan id
}

var load = sync.OnceValue(func() *index {
	idx, err := parse(catalogJSON)
	if err != nil {
		panic(fmt.Sprintf("catalog: embedded catalog.json: %v", err)) // a build defect, caught by the tests
	}
	return idx
})

// fileFormat is the layout of catalog.json (written by infra/catalog-gen).
type fileFormat struct {
	Plans map[string]struct {
		Name         string `json:"name"`
		FriendlyName string `json:"friendlyName"`
	} `json:"plans"`
	Products map[string]struct {
		PartNumber string   `json:"partNumber"`
		Name       string   `json:"name"`
		Plans      []string `json:"plans"`
	} `json:"products"`
}

func parse(data []byte) (*index, error) {
	var f fileFormat
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	idx := &index{
		bySku:  make(map[string]*Product, len(f.Products)),
		byPart: make(map[string]*Product, len(f.Products)),
		plans:  make(map[string]Plan, len(f.Plans)),
	}
	for id, pl := range f.Plans {
		idx.plans[id] = Plan{ID: id, Name: pl.Name, FriendlyName: pl.FriendlyName}
	}
	for skuID, fp := range f.Products {
		p := &Product{SkuID: skuID, PartNumber: fp.PartNumber, Name: fp.Name, Plans: make([]Plan, len(fp.Plans))}
		for i, planID := range fp.Plans {
			pl, ok := idx.plans[planID]
			if !ok {
				return nil, fmt.Errorf("product %s (%s) refers to unknown service plan %s", skuID, fp.PartNumber, planID)
			}
			p.Plans[i] = pl
		}
		idx.bySku[skuID] = p
		key := strings.ToUpper(p.PartNumber)
		if prev, ok := idx.byPart[key]; !ok || skuID < prev.SkuID {
			idx.byPart[key] = p
		}
	}
	return idx, nil
}
