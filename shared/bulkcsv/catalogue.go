package bulkcsv

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/seatwise/seatwise/shared/catalog"
)

// Catalogue resolves the licences a file names. A nil Options.Catalogue means the embedded Microsoft catalogue
// (package catalog); the apply step may pass the customer's own subscriptions instead, so that a name that is
// ambiguous in Microsoft's list but not in the tenant resolves, and a SKU missing from the list is known.
type Catalogue interface {
	// Find returns the products name refers to: a skuId, else a part number, else a display name, compared
	// without regard to letter case or runs of white space. None means unknown; several mean ambiguous.
	Find(name string) []catalog.Product
}

// Suggester is optionally implemented by a Catalogue: Suggest returns a known part number or display name close
// to an unknown name, or "".
type Suggester interface {
	Suggest(name string) string
}

// Default returns the embedded catalogue (package catalog), with suggestions for misspelt names.
func Default() Catalogue { return embedded{} }

type embedded struct{}

// embeddedIndex indexes the catalogue's products by part number and display name. Package catalog looks products
// up by skuId and part number but cannot list them, so the skuIds are kept in skuids_gen.go (checked against
// catalog.json by TestGeneratedSkuIDs) and everything else is read through catalog.Lookup.
type embeddedIndex struct {
	byPart map[string][]string // normalised part number → skuIds
	byName map[string][]string // normalised display name → skuIds
	parts  []string            // every part number and display name, as written, for suggestions
	keys   []string            // squashed forms of parts, same order
}

var loadIndex = sync.OnceValue(func() *embeddedIndex {
	idx := &embeddedIndex{byPart: map[string][]string{}, byName: map[string][]string{}}
	for id := range strings.FieldsSeq(catalogueSkuIDs) {
		p, ok := catalog.Lookup(id)
		if !ok {
			continue // dropped from the catalogue since skuids_gen.go was written; TestGeneratedSkuIDs says so
		}
		k := normName(p.PartNumber)
		idx.byPart[k] = append(idx.byPart[k], p.SkuID)
		idx.parts = append(idx.parts, p.PartNumber)
		idx.keys = append(idx.keys, squash(p.PartNumber))
		if p.Name != "" {
			k := normName(p.Name)
			idx.byName[k] = append(idx.byName[k], p.SkuID)
			idx.parts = append(idx.parts, p.Name)
			idx.keys = append(idx.keys, squash(p.Name))
		}
	}
	for _, m := range []map[string][]string{idx.byPart, idx.byName} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	return idx
})

func (embedded) Find(name string) []catalog.Product {
	name = strings.TrimSpace(name)
	if isGUID(name) {
		if p, ok := catalog.Lookup(name); ok {
			return []catalog.Product{p}
		}
		return nil
	}
	idx := loadIndex()
	k := normName(name)
	ids, ok := idx.byPart[k]
	if !ok {
		if p, found := catalog.ByPartNumber(name); found { // a SKU newer than skuids_gen.go
			return []catalog.Product{p}
		}
		ids = idx.byName[k]
	}
	out := make([]catalog.Product, 0, len(ids))
	for _, id := range ids {
		if p, ok := catalog.Lookup(id); ok {
			out = append(out, p)
		}
	}
	return out
}

// Suggest returns the part number or display name that equals name once case, spaces, dashes and underscores are
// ignored, else the one closest to name by at most two edits, else "".
func (embedded) Suggest(name string) string {
	s := squash(name)
	if s == "" || len(s) > 200 {
		return ""
	}
	idx := loadIndex()
	best, bestD := "", 3
	for i, k := range idx.keys {
		if k == s {
			return idx.parts[i]
		}
		if len(s) < 5 || len(s) > 40 || abs(len(k)-len(s)) >= bestD {
			continue
		}
		if d := editDistance(s, k, bestD); d < bestD {
			best, bestD = idx.parts[i], d
		}
	}
	return best
}

// normName is the form names are compared in: lower case, white space (non-breaking spaces too) trimmed and
// collapsed to one space.
func normName(s string) string {
	if isNorm(s) {
		return s
	}
	return string(appendNorm(nil, s))
}

// appendNorm appends normName(s) to dst. Looking a map up with m[string(appendNorm(buf[:0], s))] does not allocate.
func appendNorm(dst []byte, s string) []byte {
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		space = false
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
	}
	return dst
}

// isNorm reports whether s is its own normName: ASCII without upper case, control characters, or spaces at either
// end or in a row.
func isNorm(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c < ' ', 'A' <= c && c <= 'Z', c == ' ' && s[i-1] == ' ':
			return false
		}
	}
	return true
}

// squash drops case, white space, dashes and underscores: "Enterprise Pack" and "ENTERPRISEPACK" meet.
func squash(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '-' || r == '_' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// editDistance is the Levenshtein distance of a and b (bytes), or limit when it is limit or more.
func editDistance(a, b string, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// isGUID reports whether s has the shape of a GUID (8-4-4-4-12 hexadecimal digits).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// product is a resolved licence with its service plans indexed for the add-on syntax.
type product struct {
	skuID, part, name string
	plans             []catalog.Plan
	exact             map[string]int   // plan name as the catalogue writes it → index in plans
	byName            map[string]int   // normalised plan name → index in plans
	byFriendly        map[string][]int // normalised friendly name → indexes in plans
}

func newProduct(p catalog.Product) *product {
	pr := &product{skuID: strings.ToLower(p.SkuID), part: p.PartNumber, name: p.Name, plans: p.Plans,
		exact: make(map[string]int, len(p.Plans)), byName: make(map[string]int, len(p.Plans)),
		byFriendly: make(map[string][]int, len(p.Plans))}
	for i, pl := range p.Plans {
		pr.exact[pl.Name] = i
		if _, dup := pr.byName[normName(pl.Name)]; !dup {
			pr.byName[normName(pl.Name)] = i
		}
		if pl.FriendlyName != "" {
			k := normName(pl.FriendlyName)
			pr.byFriendly[k] = append(pr.byFriendly[k], i)
		}
	}
	return pr
}

// plan finds a service plan of the product by its name, else by its friendly name when only one plan has it.
func (pr *product) plan(ref string) (catalog.Plan, bool) {
	if i, ok := pr.exact[ref]; ok {
		return pr.plans[i], true
	}
	var buf [64]byte
	k := appendNorm(buf[:0], ref)
	if i, ok := pr.byName[string(k)]; ok {
		return pr.plans[i], true
	}
	if is := pr.byFriendly[string(k)]; len(is) == 1 {
		return pr.plans[is[0]], true
	}
	return catalog.Plan{}, false
}

// has reports whether ref names a plan of the product, or several by their friendly name.
func (pr *product) has(ref string) bool {
	if _, ok := pr.exact[ref]; ok {
		return true
	}
	var buf [64]byte
	k := appendNorm(buf[:0], ref)
	_, ok := pr.byName[string(k)]
	return ok || len(pr.byFriendly[string(k)]) > 0
}

// label is how messages name the product: its part number.
func (pr *product) label() string { return pr.part }

var (
	_ Catalogue = embedded{}
	_ Suggester = embedded{}
)
