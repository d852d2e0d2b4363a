// Command catalog-gen builds shared/catalog/catalog.json, the licence catalogue embedded in Seatwise, from
// Microsoft's "Product names and service plan identifiers for licensing" CSV.
//
// Usage, from anywhere inside the repository:
//
//	go run ./infra/catalog-gen [-in ../shared/data/ms-licensing-product-names.csv] [-out shared/catalog/catalog.json] [-v]
//
// The defaults are relative to the repository root (the directory holding go.mod, found by walking up from the
// working directory); paths given explicitly are relative to the working directory, as usual.
//
// Input: UTF-8 CSV (an optional byte-order mark is skipped), one row per SKU × service plan, with the columns
// Product_Display_Name, String_Id (the skuPartNumber), GUID (the skuId), Service_Plan_Name, Service_Plan_Id and
// Service_Plans_Included_Friendly_Names, in any order.
//
// Output: compact JSON, sorted, so that the same CSV always gives the same bytes; one entry per line for readable
// diffs:
//
//	{"source":"…","plans":{
//	"<planId>":{"name":"MCOSTANDARD","friendlyName":"Skype for Business Online (Plan 2)"},
//	…
//	},"products":{
//	"<skuId>":{"partNumber":"ENTERPRISEPACK","name":"Office 365 E3","plans":["<planId>",…]},
//	…
//	}}
//
// Rules:
//   - GUIDs must be well formed (8-4-4-4-12 hex digits); they are written in lower case. Identifiers are trimmed of
//     surrounding white space (the CSV has a few trailing spaces and non-breaking spaces), with a warning; runs of
//     white space inside names are collapsed to one space.
//   - An empty part number, a malformed GUID, a missing column or a ragged row is an error: nothing is written.
//   - A skuId seen with two part numbers or two display names keeps the first, with a warning on stderr.
//   - A part number shared by several skuIds is reported as a warning (catalog.ByPartNumber returns the lowest skuId).
//   - A service plan's name and friendly name vary between rows of the CSV (typos, upper-case copies, renames), so
//     the plans table keeps, for each plan, the most frequent value; for friendly names, values that merely repeat
//     the plan's name or are all in capitals are only used when nothing better exists. Ties go to the value seen
//     first. Plan-name conflicts are warnings; friendly-name variants are counted (listed with -v).
//   - Repeated SKU × plan rows are ignored. A product's plans are sorted by plan name, then plan id.
//
// Data attribution (keep in the README): SKU and service plan names: Microsoft, Product names and service plan
// identifiers for licensing, CC BY 4.0.
package main

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

const (
	defaultIn  = "../shared/data/ms-licensing-product-names.csv" // relative to the repository root
	defaultOut = "shared/catalog/catalog.json"                   // relative to the repository root

	source = "Microsoft, Product names and service plan identifiers for licensing, CC BY 4.0"
)

// CSV column names.
const (
	colProductName  = "Product_Display_Name"
	colPartNumber   = "String_Id"
	colSkuID        = "GUID"
	colPlanName     = "Service_Plan_Name"
	colPlanID       = "Service_Plan_Id"
	colPlanFriendly = "Service_Plans_Included_Friendly_Names"
)

var columns = []string{colProductName, colPartNumber, colSkuID, colPlanName, colPlanID, colPlanFriendly}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "catalog-gen:", err)
		os.Exit(1)
	}
}

// run is main without the exit: it parses args, generates the catalogue and writes it, reporting warnings and a
// summary on stderr.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("catalog-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "Microsoft's licensing CSV (default <repo root>/"+defaultIn+")")
	out := fs.String("out", "", "catalogue to write (default <repo root>/"+defaultOut+")")
	verbose := fs.Bool("v", false, "list every service plan whose friendly name varies in the CSV")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *in == "" || *out == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		if *in == "" {
			*in = filepath.Join(root, filepath.FromSlash(defaultIn))
		}
		if *out == "" {
			*out = filepath.Join(root, filepath.FromSlash(defaultOut))
		}
	}

	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("open input: %w", err)
	}
	defer f.Close()
	warn := func(msg string) { fmt.Fprintln(stderr, "catalog-gen: warning:", msg) }
	cat, err := parseCSV(f, warn)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if len(cat.friendlyVariants) > 0 {
		fmt.Fprintf(stderr, "catalog-gen: note: %d service plans have several friendly names in the CSV; kept the most common (-v lists them)\n",
			len(cat.friendlyVariants))
		if *verbose {
			for _, v := range cat.friendlyVariants {
				fmt.Fprintln(stderr, "catalog-gen:  ", v)
			}
		}
	}
	if cat.duplicateRows > 0 {
		fmt.Fprintf(stderr, "catalog-gen: note: ignored %d repeated SKU × plan rows\n", cat.duplicateRows)
	}

	data, err := cat.encode()
	if err != nil {
		return err
	}
	if err := writeFile(*out, data); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "catalog-gen: wrote %s: %d products, %d service plans, %d bytes\n",
		*out, len(cat.products), len(cat.plans), len(data))
	return nil
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod in the working directory or above; run inside the repository or pass -in and -out")
		}
		dir = parent
	}
}

// writeFile replaces path atomically (temporary file + rename), so a failed run never leaves half a catalogue.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".catalog-*.json")
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write output: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// catalogue is the parsed CSV.
type catalogue struct {
	products         map[string]*product // by skuId
	plans            map[string]plan     // by planId
	friendlyVariants []string            // descriptions of plans with several friendly names, sorted
	duplicateRows    int
}

type product struct {
	partNumber string
	name       string
	planIDs    map[string]bool
}

type plan struct {
	name, friendlyName string
}

// variants counts the values one field takes for one key, remembering which came first.
type variants struct {
	count map[string]int
	first map[string]int // value → order of first appearance
}

func (v *variants) add(s string) {
	if v.count == nil {
		v.count, v.first = map[string]int{}, map[string]int{}
	}
	if _, ok := v.first[s]; !ok {
		v.first[s] = len(v.first)
	}
	v.count[s]++
}

// sorted returns the values, best first: by rank (lower is better), then frequency, then first appearance.
func (v *variants) sorted(rank func(string) int) []string {
	vals := make([]string, 0, len(v.count))
	for s := range v.count {
		vals = append(vals, s)
	}
	slices.SortFunc(vals, func(a, b string) int {
		return cmp.Or(
			cmp.Compare(rank(a), rank(b)),
			cmp.Compare(v.count[b], v.count[a]),
			cmp.Compare(v.first[a], v.first[b]),
		)
	})
	return vals
}

func (v *variants) describe(vals []string) string {
	parts := make([]string, len(vals))
	for i, s := range vals {
		parts[i] = fmt.Sprintf("%q×%d", s, v.count[s])
	}
	return strings.Join(parts, ", ")
}

// parseCSV reads and validates Microsoft's CSV. warn receives non-fatal findings.
func parseCSV(r io.Reader, warn func(string)) (*catalogue, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty CSV: no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		idx[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, c := range columns {
		if _, ok := idx[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing column(s) %s in the header; want %s",
			strings.Join(missing, ", "), strings.Join(columns, ", "))
	}

	cat := &catalogue{products: map[string]*product{}, plans: map[string]plan{}}
	planNames := map[string]*variants{}
	planFriendly := map[string]*variants{}
	warned := map[string]bool{}
	warnOnce := func(key, msg string) {
		if !warned[key] {
			warned[key] = true
			warn(msg)
		}
	}
	partSkus := map[string][]string{} // part number → skuIds, in order of appearance

	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // csv.ParseError already names the line
		}
		line, _ := cr.FieldPos(0)
		field := func(col string) string { return rec[idx[col]] }
		// ident trims an identifier, warning once per distinct untrimmed value.
		ident := func(col string) string {
			raw := field(col)
			s := strings.TrimSpace(raw)
			if s != raw {
				warnOnce(col+"\x00"+raw, fmt.Sprintf("line %d: %s %q has surrounding white space; trimmed", line, col, raw))
			}
			return s
		}

		skuID, ok := normGUID(ident(colSkuID))
		if !ok {
			return nil, fmt.Errorf("line %d: %s %q is not a GUID", line, colSkuID, field(colSkuID))
		}
		planID, ok := normGUID(ident(colPlanID))
		if !ok {
			return nil, fmt.Errorf("line %d: %s %q is not a GUID", line, colPlanID, field(colPlanID))
		}
		part := ident(colPartNumber)
		if part == "" {
			return nil, fmt.Errorf("line %d: empty %s (part number) for skuId %s", line, colPartNumber, skuID)
		}
		name := normText(field(colProductName))
		if name == "" {
			warnOnce("noname\x00"+skuID, fmt.Sprintf("line %d: empty %s for skuId %s (%s)", line, colProductName, skuID, part))
		}

		p := cat.products[skuID]
		if p == nil {
			p = &product{partNumber: part, name: name, planIDs: map[string]bool{}}
			cat.products[skuID] = p
			partSkus[part] = append(partSkus[part], skuID)
		} else {
			if part != p.partNumber {
				warnOnce("part\x00"+skuID+"\x00"+part, fmt.Sprintf("line %d: skuId %s has part number %q, earlier %q; keeping %q",
					line, skuID, part, p.partNumber, p.partNumber))
			}
			if name != p.name {
				warnOnce("name\x00"+skuID+"\x00"+name, fmt.Sprintf("line %d: skuId %s (%s) has display name %q, earlier %q; keeping %q",
					line, skuID, p.partNumber, name, p.name, p.name))
			}
		}
		if p.planIDs[planID] {
			cat.duplicateRows++
		}
		p.planIDs[planID] = true

		if planNames[planID] == nil {
			planNames[planID], planFriendly[planID] = &variants{}, &variants{}
		}
		planNames[planID].add(normText(field(colPlanName)))
		planFriendly[planID].add(normText(field(colPlanFriendly)))
	}
	if len(cat.products) == 0 {
		return nil, errors.New("no data rows")
	}

	for _, part := range sortedKeys(partSkus) {
		if skus := partSkus[part]; len(skus) > 1 {
			slices.Sort(skus)
			warn(fmt.Sprintf("part number %s is shared by skuIds %s; lookups by part number return %s",
				part, strings.Join(skus, ", "), skus[0]))
		}
	}

	for _, id := range sortedKeys(planNames) {
		nv := planNames[id]
		names := nv.sorted(func(string) int { return 0 })
		if len(names) > 1 {
			warn(fmt.Sprintf("service plan %s has several names: %s; keeping %q", id, nv.describe(names), names[0]))
		}
		fv := planFriendly[id]
		friendly := fv.sorted(func(s string) int { return friendlyRank(s, names[0]) })
		if len(friendly) > 1 {
			cat.friendlyVariants = append(cat.friendlyVariants,
				fmt.Sprintf("%s %s: kept %q of %s", id, names[0], friendly[0], fv.describe(friendly)))
		}
		cat.plans[id] = plan{name: names[0], friendlyName: friendly[0]}
	}
	return cat, nil
}

// friendlyRank orders candidate friendly names: real names first, then all-capital copies, then values that just
// repeat the plan's name (or are empty).
func friendlyRank(s, planName string) int {
	switch {
	case s == "" || strings.EqualFold(s, planName):
		return 2
	case s == strings.ToUpper(s) && s != strings.ToLower(s):
		return 1
	default:
		return 0
	}
}

// normGUID checks that s is a GUID in the 8-4-4-4-12 form and returns it in lower case.
func normGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// normText trims s and collapses each run of white space (tabs, non-breaking spaces…) to one space.
func normText(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// JSON shapes of catalog.json; shared/catalog decodes the same field names.
type jsonPlan struct {
	Name         string `json:"name"`
	FriendlyName string `json:"friendlyName"`
}

type jsonProduct struct {
	PartNumber string   `json:"partNumber"`
	Name       string   `json:"name"`
	Plans      []string `json:"plans"`
}

// encode writes the catalogue as deterministic JSON, one plan or product per line.
func (c *catalogue) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// value appends v as compact JSON (Encode adds a newline, which is dropped).
	value := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encode catalogue: %w", err)
		}
		buf.Truncate(buf.Len() - 1)
		return nil
	}

	buf.WriteString(`{"source":`)
	if err := value(source); err != nil {
		return nil, err
	}
	buf.WriteString(`,"plans":{`)
	for i, id := range sortedKeys(c.plans) {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n\"" + id + "\":") // ids are validated lower-case GUIDs: no escaping needed
		p := c.plans[id]
		if err := value(jsonPlan{Name: p.name, FriendlyName: p.friendlyName}); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n},\"products\":{")
	for i, id := range sortedKeys(c.products) {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n\"" + id + "\":")
		p := c.products[id]
		planIDs := sortedKeys(p.planIDs)
		slices.SortStableFunc(planIDs, func(a, b string) int {
			return cmp.Compare(strings.ToLower(c.plans[a].name), strings.ToLower(c.plans[b].name))
		})
		if err := value(jsonProduct{PartNumber: p.partNumber, Name: p.name, Plans: planIDs}); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n}}\n")
	return buf.Bytes(), nil
}
