package bulkcsv_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

// fuzzOptions are small limits, so that the fuzzer reaches them.
var fuzzOptions = bulkcsv.Options{MaxBytes: 64 << 10, MaxRows: 200, MaxColumns: 16, MaxProblems: 40}

// FuzzParse feeds Parse arbitrary bytes (go test -fuzz=FuzzParse ./shared/bulkcsv; the seed corpus is f.Add below
// and testdata/fuzz/FuzzParse). Whatever the input: Parse does not panic; it refuses the file with an EInvalid
// *domain.Error, or every row and problem refers to a real row; valid rows keep the field rules; and the valid rows,
// written out again as CSV, parse to the same rows.
func FuzzParse(f *testing.F) {
	f.Add(bulkcsv.Sample())
	f.Add([]byte("userPrincipalName;licences;addOns;number;extension;site;template\r\n" +
		"a@contoso.com;\"ENTERPRISEPACK;MCOEV\";SWAY=off;+44 20 7946 0101;101;Genève, Lac;\r\n" +
		"b@contoso.com;Office 365 E3;\"Sway=off;Yammer Enterprise=off\";;;\"HQ; \"\"North\"\"\";T\r\n"))
	f.Add([]byte("upn,licences,addOns:ENTERPRISEPACK,number\n" +
		"a@contoso.com,\"ENTERPRISEPACK\nMCOEV\",\"SWAY=off\nTEAMS1=on\",tel:+442079460101\n\n" +
		"A@CONTOSO.COM,Visio Plan 2,,+442079460101\n"))
	f.Add([]byte(header + "=cmd|' /C calc'!A0,+SPB,-x,@SUM(1),\t1,\r2,=3\n" +
		"b@contoso.com,ENTERPRISEPAK,SWAY,4.42079E+11,123456789,,\n"))
	f.Add([]byte(header + "a@contoso.com,,,\nb@contoso.com,,,,,,,,\n,,,,,,\n"))
	f.Add([]byte("upn,,site\r\na@contoso.com,,HQ\rb@contoso.com,x,\"HQ\"\"\"\r"))
	f.Add([]byte("\xFF\xFEu\x00p\x00n\x00"))
	f.Add([]byte("upn,site\na@contoso.com,Gen\xE8ve\n"))
	f.Add([]byte("upn,site\na@contoso.com,\"unclosed\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := bulkcsv.Parse(bytes.NewReader(data), fuzzOptions)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EInvalid || de.Message == "" || file != nil {
				t.Fatalf("error %#v with file %v: want an EInvalid *domain.Error and no file", err, file)
			}
			return
		}
		checkFile(t, data, file)

		// The valid rows, written again, parse to the same rows.
		valid := file.ValidRows()
		if len(valid) == 0 {
			return
		}
		again, err := bulkcsv.Parse(bytes.NewReader(writeRows(t, valid)), bulkcsv.Options{})
		if err != nil {
			t.Fatalf("valid rows written again: %v\n%s", err, writeRows(t, valid))
		}
		if len(again.Problems) > 0 {
			t.Fatalf("valid rows written again have problems: %+v\n%s", again.Problems, writeRows(t, valid))
		}
		for i := range valid {
			valid[i].Line = i + 2
		}
		if !rowsEqual(again.Rows, valid) {
			t.Fatalf("valid rows written again:\n got %+v\nwant %+v", again.Rows, valid)
		}
	})
}

// checkFile checks the invariants of a file Parse accepted.
func checkFile(t *testing.T, data []byte, f *bulkcsv.File) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
	if len(f.Rows) == 0 || len(f.Rows) > fuzzOptions.MaxRows {
		t.Fatalf("%d rows", len(f.Rows))
	}
	if len(f.Columns) == 0 || len(f.Columns) > fuzzOptions.MaxColumns || !slices.Contains(f.Columns, bulkcsv.ColUPN) {
		t.Fatalf("columns %q", f.Columns)
	}
	if f.Delimiter != ',' && f.Delimiter != ';' {
		t.Fatalf("delimiter %q", f.Delimiter)
	}
	lineOf := map[int]*bulkcsv.Row{}
	for i := range f.Rows {
		r := &f.Rows[i]
		if r.Line < 2 || r.Line > lines || (i > 0 && r.Line <= f.Rows[i-1].Line) {
			t.Fatalf("row %d numbered %d (file of %d lines, previous row %d)", i, r.Line, lines, f.Rows[max(i-1, 0)].Line)
		}
		lineOf[r.Line] = r
		if r.Valid {
			checkRow(t, r)
		}
	}
	if len(f.Problems) > fuzzOptions.MaxProblems+1 {
		t.Fatalf("%d problems listed, at most %d", len(f.Problems), fuzzOptions.MaxProblems+1)
	}
	truncated := len(f.Problems) == fuzzOptions.MaxProblems+1
	withProblem := map[int]bool{}
	for i, p := range f.Problems {
		r, ok := lineOf[p.Row]
		switch {
		case !ok:
			t.Fatalf("problem %+v: no such row", p)
		case r.Valid:
			t.Fatalf("problem %+v on a valid row", p)
		case i > 0 && p.Row < f.Problems[i-1].Row:
			t.Fatalf("problem %+v listed after row %d", p, f.Problems[i-1].Row)
		case p.Message == "":
			t.Fatalf("problem %+v without a message", p)
		case p.Column != "" && !slices.Contains(f.Columns, p.Column):
			t.Fatalf("problem %+v: no such column in %q", p, f.Columns)
		case len(p.Value) > 204 || !utf8.ValidString(p.Value):
			t.Fatalf("problem %+v: value too long or not UTF-8", p)
		}
		withProblem[p.Row] = true
	}
	for _, r := range f.Rows {
		if !r.Valid && !withProblem[r.Line] && !truncated {
			t.Fatalf("row %d is invalid without a problem listed", r.Line)
		}
	}
	upns, numbers := map[string]int{}, map[string]int{}
	for _, r := range f.ValidRows() {
		k := strings.ToLower(r.UserPrincipalName)
		if first, dup := upns[k]; dup {
			t.Fatalf("rows %d and %d both valid with user %s", first, r.Line, k)
		}
		upns[k] = r.Line
		if r.Number == "" {
			continue
		}
		if first, dup := numbers[r.Number]; dup {
			t.Fatalf("rows %d and %d both valid with number %s", first, r.Line, r.Number)
		}
		numbers[r.Number] = r.Line
	}
}

var (
	reUPN       = regexp.MustCompile(`^[A-Za-z0-9'_!#^~-]+(\.[A-Za-z0-9'_!#^~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
	reNumber    = regexp.MustCompile(`^(\+[1-9][0-9]{7,14})?$`)
	reExtension = regexp.MustCompile(`^[0-9]{0,8}$`)
)

// checkRow checks the field rules of a valid row, independently of how Parse checks them.
func checkRow(t *testing.T, r *bulkcsv.Row) {
	t.Helper()
	u := r.UserPrincipalName
	if !reUPN.MatchString(u) || len(u) > 113 || strings.Index(u, "@") > 64 {
		t.Fatalf("row %d: valid with user %q", r.Line, u)
	}
	if !reNumber.MatchString(r.Number) || !reExtension.MatchString(r.Extension) {
		t.Fatalf("row %d: valid with number %q, extension %q", r.Line, r.Number, r.Extension)
	}
	for _, s := range []string{r.Site, r.Template} {
		if utf8.RuneCountInString(s) > 256 || s != strings.TrimSpace(s) || strings.ContainsFunc(s, unicode.IsControl) ||
			s != "" && strings.ContainsAny(s[:1], "=+-@") {
			t.Fatalf("row %d: valid with site or template %q", r.Line, s)
		}
	}
	seen := map[string]bool{}
	for _, l := range r.Licences {
		p, ok := catalog.Lookup(l.SkuID)
		if !ok || p.SkuID != l.SkuID || p.PartNumber != l.PartNumber || seen[l.SkuID] {
			t.Fatalf("row %d: valid with licence %+v (catalogue: %v %+v; twice: %v)", r.Line, l, ok, p, seen[l.SkuID])
		}
		seen[l.SkuID] = true
		if !slices.IsSorted(l.DisabledPlans) || len(slices.Compact(slices.Clone(l.DisabledPlans))) != len(l.DisabledPlans) {
			t.Fatalf("row %d: disabled plans %q not sorted or repeated", r.Line, l.DisabledPlans)
		}
		for _, id := range l.DisabledPlans {
			if !slices.ContainsFunc(p.Plans, func(pl catalog.Plan) bool { return pl.ID == id }) {
				t.Fatalf("row %d: disabled plan %s is not a plan of %s", r.Line, id, l.PartNumber)
			}
		}
	}
}

// writeRows writes rows as a mass-configuration file: licences by part number (or skuId when the part number is
// ambiguous), switched-off plans by name.
func writeRows(t *testing.T, rows []bulkcsv.Row) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write([]string{"userPrincipalName", "licences", "addOns", "number", "extension", "site", "template"})
	for _, r := range rows {
		var lics, addOns []string
		for _, l := range r.Licences {
			ref := l.PartNumber
			if ps := bulkcsv.Default().Find(ref); len(ps) != 1 || ps[0].SkuID != l.SkuID {
				ref = l.SkuID
			}
			lics = append(lics, ref)
			for _, id := range l.DisabledPlans {
				name, _, _ := catalog.PlanName(id)
				addOns = append(addOns, ref+":"+name+"=off")
			}
		}
		_ = w.Write([]string{r.UserPrincipalName, strings.Join(lics, ";"), strings.Join(addOns, ";"), r.Number,
			r.Extension, r.Site, r.Template})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rowsEqual compares rows, a nil and an empty list of disabled plans being the same.
func rowsEqual(a, b []bulkcsv.Row) bool {
	return slices.EqualFunc(a, b, func(x, y bulkcsv.Row) bool {
		return x.Line == y.Line && x.UserPrincipalName == y.UserPrincipalName && x.Number == y.Number &&
			x.Extension == y.Extension && x.Site == y.Site && x.Template == y.Template && x.Valid == y.Valid &&
			slices.EqualFunc(x.Licences, y.Licences, func(l, m bulkcsv.Licence) bool {
				return l.SkuID == m.SkuID && l.PartNumber == m.PartNumber && slices.Equal(l.DisabledPlans, m.DisabledPlans)
			})
	})
}
