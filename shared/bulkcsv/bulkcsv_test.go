package bulkcsv_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

const (
	skuE3    = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK, Office 365 E3
	skuPhone = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV, Microsoft Teams Phone Standard
	skuSPB   = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46" // SPB, Microsoft 365 Business Premium
	planSway = "a23b959c-7ce8-4e57-9140-b90eb88a9e97" // SWAY
	planYamm = "7547a3fe-08ee-4ccb-b430-5077c5041653" // YAMMER_ENTERPRISE
	planTeam = "57ff2da0-773e-42df-b2af-ffb7a2317929" // TEAMS1
)

const header = "userPrincipalName,licences,addOns,number,extension,site,template\n"

func parse(t testing.TB, s string, opts ...bulkcsv.Options) (*bulkcsv.File, error) {
	t.Helper()
	var o bulkcsv.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return bulkcsv.Parse(strings.NewReader(s), o)
}

// mustParse parses a file that must be readable as a whole.
func mustParse(t testing.TB, s string, opts ...bulkcsv.Options) *bulkcsv.File {
	t.Helper()
	f, err := parse(t, s, opts...)
	td.Require(t).CmpNoError(err)
	return f
}

// refused checks that a file is refused as a whole with an EInvalid *domain.Error whose message contains each
// of parts.
func refused(t testing.TB, s string, opts bulkcsv.Options, parts ...string) {
	t.Helper()
	f, err := bulkcsv.Parse(strings.NewReader(s), opts)
	td.CmpNil(t, f)
	var de *domain.Error
	if !td.CmpTrue(t, errors.As(err, &de), "a *domain.Error, got %v", err) {
		return
	}
	td.Cmp(t, de.Code, domain.EInvalid)
	for _, p := range parts {
		td.Cmp(t, de.Message, td.Contains(p))
	}
}

// problems matches a list of problems, each matched by one of ps.
func problems(ps ...td.TestDeep) td.TestDeep {
	e := td.ArrayEntries{}
	for i, p := range ps {
		e[i] = p
	}
	return td.All(td.Len(len(ps)), td.Slice([]bulkcsv.Problem{}, e))
}

// prob matches a problem whose message contains msg.
func prob(row int, col, value, msg string) td.TestDeep {
	return td.Struct(bulkcsv.Problem{Row: row, Column: col, Value: value}, td.StructFields{"Message": td.Contains(msg)})
}

func TestSample(t *testing.T) {
	s := bulkcsv.Sample()
	td.Cmp(t, string(s), td.HasPrefix("\ufeffuserPrincipalName,licences,addOns,number,extension,site,template\r\n"))
	td.Cmp(t, bytes.Count(s, []byte("\r\n")), bytes.Count(s, []byte("\n")), "CRLF only")

	f, err := bulkcsv.Parse(bytes.NewReader(s), bulkcsv.Options{})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, f.Problems, td.Empty())
	td.Cmp(t, f.Columns, []string{"userPrincipalName", "licences", "addOns", "number", "extension", "site", "template"})
	td.Cmp(t, f.Delimiter, ',')
	td.Cmp(t, f.Rows, []bulkcsv.Row{
		{Line: 2, UserPrincipalName: "adele.vance@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: skuE3, PartNumber: "ENTERPRISEPACK", DisabledPlans: []string{planYamm, planSway}},
			{SkuID: skuPhone, PartNumber: "MCOEV"},
		}, Number: "+442079460101", Extension: "101", Site: "London", Valid: true},
		{Line: 3, UserPrincipalName: "alex.wilber@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: skuE3, PartNumber: "ENTERPRISEPACK"},
			{SkuID: skuPhone, PartNumber: "MCOEV"},
		}, Number: "+442079460102", Extension: "102", Site: "London", Template: "Sales", Valid: true},
		{Line: 4, UserPrincipalName: "megan.bowen@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: skuSPB, PartNumber: "SPB", DisabledPlans: []string{planSway}},
		}, Site: "Manchester", Valid: true},
	})
	td.Cmp(t, f.ValidRows(), f.Rows)
}

// The hostile files of issue 9: each refused with a clear message, nothing returned to apply.

func TestWrongEncoding(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE}
	for _, r := range header {
		utf16le = append(utf16le, byte(r), 0)
	}
	refused(t, string(utf16le), bulkcsv.Options{}, "UTF-16", "CSV UTF-8")
	refused(t, "\xFE\xFF\x00u\x00p\x00n", bulkcsv.Options{}, "UTF-16")
	refused(t, "u\x00p\x00n\x00\n\x00", bulkcsv.Options{}, "NUL bytes", "CSV UTF-8")
	refused(t, "PK\x03\x04\x14\x00\x06\x00", bulkcsv.Options{}, "Excel workbook (.xlsx)")
	refused(t, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", bulkcsv.Options{}, "(.xls)")

	// Windows-1252: "é" is the byte E9; the message names the row and the cell.
	latin1 := header + "adele@contoso.com,,,,,London,\n\nrene@contoso.com,,,,,Gen\xE8ve,\n"
	refused(t, latin1, bulkcsv.Options{}, "row 4 (cell F) is not valid UTF-8", "CSV UTF-8")
	refused(t, "userPrincipalName,n\xE9\n", bulkcsv.Options{}, "row 1 (cell B) is not valid UTF-8")
	// …also in a semicolon file, after a quoted cell spanning lines.
	refused(t, "userPrincipalName;site\na@contoso.com;\"two\nlines\"\nb@contoso.com;\xFF\n", bulkcsv.Options{}, "row 3 (cell B)")

	refused(t, "", bulkcsv.Options{}, "the file is empty")
	refused(t, "\ufeff \r\n\r\n", bulkcsv.Options{}, "the file is empty")
}

func TestSizeLimit(t *testing.T) {
	row := "user@contoso.com,ENTERPRISEPACK,,,,London,\n"
	big := header + strings.Repeat(row, bulkcsv.DefaultMaxBytes/len(row)+1)
	td.Cmp(t, len(big), td.Gt(bulkcsv.DefaultMaxBytes))
	refused(t, big, bulkcsv.Options{}, "larger than 10 MB", "split it")

	small := header + "a@contoso.com,,,,,London,\n"
	refused(t, small, bulkcsv.Options{MaxBytes: int64(len(small) - 1)}, fmt.Sprintf("larger than %d bytes", len(small)-1))
	f := mustParse(t, small, bulkcsv.Options{MaxBytes: int64(len(small))})
	td.Cmp(t, f.Rows, td.Len(1))
}

func TestRowLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for i := range 4 {
		fmt.Fprintf(&b, "u%d@contoso.com,,,,,,\n\n", i) // blank lines do not count
	}
	f := mustParse(t, b.String(), bulkcsv.Options{MaxRows: 4})
	td.Cmp(t, f.Rows, td.Len(4))
	refused(t, b.String(), bulkcsv.Options{MaxRows: 3}, "more than 3 rows")

	b.Reset()
	b.WriteString(header)
	for i := range bulkcsv.DefaultMaxRows + 1 {
		fmt.Fprintf(&b, "u%d@contoso.com,,,,,,\n", i)
	}
	refused(t, b.String(), bulkcsv.Options{}, "more than 50,000 rows", "split it")
}

func TestFormulaInjection(t *testing.T) {
	f := mustParse(t, header+
		"\"=HYPERLINK(\"\"http://evil\"\")@contoso.com\",,,,,,\n"+
		"b@contoso.com,+ENTERPRISEPACK,,,,,\n"+
		"c@contoso.com,ENTERPRISEPACK,-2+3+cmd|' /C calc'!A0,,,,\n"+
		"d@contoso.com,,,@SUM(1+1)*cmd|' /C calc'!A0,,,\n"+
		"e@contoso.com,,,,,\"\t=1+2\",\n"+
		"f@contoso.com,,,,,\"\r=1+2\",\n"+
		"g@contoso.com,,,,,,  =cmd\n"+
		"h@contoso.com,,,+cmd|' /C calc'!A0,,,\n"+
		"i@contoso.com,,,+44 (20) 7946-0101,-1,,\n"+
		"j@contoso.com,,,\"+44 20.7946.0102\",,Plus+Minus-Site,x=y\n")
	td.Cmp(t, f.Problems, problems(
		prob(2, "userPrincipalName", "=HYPERLINK(\"http://evil\")@contoso.com", `begins with "=", which makes a spreadsheet run it as a formula`),
		prob(3, "licences", "+ENTERPRISEPACK", `remove the "+"`),
		prob(4, "addOns", "-2+3+cmd|' /C calc'!A0", `begins with "-"`),
		prob(5, "number", "@SUM(1+1)*cmd|' /C calc'!A0", "write the number as +442079460101"),
		prob(6, "site", "\t=1+2", "begins with a tab or carriage return"),
		prob(7, "site", "\r=1+2", "begins with a tab or carriage return"),
		prob(8, "template", "=cmd", `begins with "="`),
		prob(9, "number", "+cmd|' /C calc'!A0", `begins with "+"`),
		prob(10, "extension", "-1", `begins with "-"`),
	))
	td.Cmp(t, f.Rows[8], td.SStruct(bulkcsv.Row{Line: 10, UserPrincipalName: "i@contoso.com", Number: "+442079460101"}, nil))
	td.Cmp(t, f.Rows[9], bulkcsv.Row{Line: 11, UserPrincipalName: "j@contoso.com", Number: "+442079460102",
		Site: "Plus+Minus-Site", Template: "x=y", Valid: true})
	for _, r := range f.Rows[:9] {
		td.CmpFalse(t, r.Valid, "row %d", r.Line)
	}
}

func TestTenThousandColumns(t *testing.T) {
	wide := strings.Repeat("x,", 9_999) + "x\n"
	refused(t, wide+"a@contoso.com\n", bulkcsv.Options{}, "the header row has 10,000 columns: at most 64")
	refused(t, strings.Repeat("x;", 9_999)+"x\n", bulkcsv.Options{}, "10,000 columns")
	// A quoted header cell full of delimiters is one column.
	refused(t, `userPrincipalName,"`+strings.Repeat(",", 10_000)+"\"\n", bulkcsv.Options{}, "unknown column")

	// A row of 10,000 cells under a normal header is a ragged row.
	f := mustParse(t, header+"a@contoso.com"+strings.Repeat(",", 9_999)+"\nb@contoso.com,,,,,,\n")
	td.Cmp(t, f.Problems, problems(prob(2, "", "", "the row has 10,000 cells but the header has 7")))
	td.Cmp(t, f.ValidRows(), td.Len(1))

	refused(t, "a,b,c,d\n", bulkcsv.Options{MaxColumns: 3}, "4 columns: at most 3")
}

func TestRaggedRows(t *testing.T) {
	f := mustParse(t, header+
		"a@contoso.com,ENTERPRISEPACK,,,,\n"+
		"b@contoso.com,ENTERPRISEPACK,,,,London,,extra\n"+
		"c@contoso.com,ENTERPRISEPACK,,,,London,\n"+
		"d@contoso.com,Microsoft 365 Business Premium, Teams Phone,,,,London,\n")
	td.Cmp(t, f.Problems, problems(
		prob(2, "", "", "the row has 6 cells but the header has 7: cells are missing"),
		prob(3, "", "", "the row has 8 cells but the header has 7: the extra cells have no column"),
		prob(5, "", "", "delimiter inside a cell that is not quoted"),
	))
	td.Cmp(t, f.Rows, td.Len(4))
	td.Cmp(t, f.Rows[0], bulkcsv.Row{Line: 2}, "nothing of a ragged row is used")
	td.Cmp(t, f.ValidRows(), []bulkcsv.Row{{Line: 4, UserPrincipalName: "c@contoso.com",
		Licences: []bulkcsv.Licence{{SkuID: skuE3, PartNumber: "ENTERPRISEPACK"}}, Site: "London", Valid: true}})
}

func TestHeader(t *testing.T) {
	o := bulkcsv.Options{}
	refused(t, "userPrincipalName,licences,Licenses\na@contoso.com,,\n", o,
		`the header names the same column twice: "licences" and "Licenses"`)
	refused(t, "UPN,User Principal Name\n", o, `"UPN" and "User Principal Name"`)
	refused(t, "upn,addOns:ENTERPRISEPACK,addOns:Office 365 E3\n", o, `"addOns:ENTERPRISEPACK" and "addOns:Office 365 E3"`)
	refused(t, "upn,displayName,department\n", o, `unknown columns "displayName", "department"`, "the columns are userPrincipalName")
	refused(t, "licences,number\nENTERPRISEPACK,+442079460101\n", o, "the userPrincipalName column is missing")
	refused(t, "a@contoso.com,ENTERPRISEPACK\n", o, `unknown columns "a@contoso.com", "ENTERPRISEPACK"`, "the first row must be the header")
	refused(t, "upn,addOns:NOPE,addOns:Visio Plan 2\n", o, `"addOns:NOPE": "NOPE" is not a licence`, `"Visio Plan 2" names 2 licences`)
	refused(t, "upn,=cmd()\n", o, `unknown column "=cmd()"`)
	refused(t, header, o, "a header row but no rows")
	refused(t, header+",,,,,,\n\n ,  ,,,,,\n", o, "a header row but no rows")
	refused(t, "userPrincipalName\tlicences\n", o, "separated by tabs")
	refused(t, strings.Repeat("nope,", 30)+"upn\n", o, "and 20 more")

	// Aliases, any case, spaces, dashes and underscores; columns in any order; a BOM before a quoted name.
	f := mustParse(t, "\ufeff\"Phone Number\",USER_PRINCIPAL_NAME, Add-Ons ,SKUs,Ext.,Site Name,template,addon:Office 365 E3\n"+
		"+442079460101,a@contoso.com,MCOEV:MCOEV=on,ENTERPRISEPACK;MCOEV,7,HQ,T,Sway=off\n")
	td.Cmp(t, f.Columns, []string{"number", "userPrincipalName", "addOns", "licences", "extension", "site", "template",
		"addOns:Office 365 E3"})
	td.Cmp(t, f.Problems, td.Empty())
	td.Cmp(t, f.Rows, []bulkcsv.Row{{Line: 2, UserPrincipalName: "a@contoso.com", Licences: []bulkcsv.Licence{
		{SkuID: skuE3, PartNumber: "ENTERPRISEPACK", DisabledPlans: []string{planSway}},
		{SkuID: skuPhone, PartNumber: "MCOEV"},
	}, Number: "+442079460101", Extension: "7", Site: "HQ", Template: "T", Valid: true}})

	// Only userPrincipalName is required.
	f = mustParse(t, "upn\na@contoso.com\n")
	td.Cmp(t, f.Rows, []bulkcsv.Row{{Line: 2, UserPrincipalName: "a@contoso.com", Valid: true}})

	// Columns without a header are allowed while empty (Excel's used range).
	f = mustParse(t, "upn,site,,\na@contoso.com,HQ,,\nb@contoso.com,HQ,,note\n")
	td.Cmp(t, f.Columns, []string{"userPrincipalName", "site", "column C", "column D"})
	td.Cmp(t, f.Problems, problems(prob(3, "column D", "note", "a value in a column without a header")))
}

func TestSemicolonFiles(t *testing.T) {
	f := mustParse(t, "userPrincipalName;licences;addOns;number;extension;site;template\r\n"+
		"a@contoso.com;\"ENTERPRISEPACK;MCOEV\";SWAY=off;+44 20 7946 0101;101;Genève, Lac;\r\n"+
		"b@contoso.com;Office 365 E3;\"Sway=off;Yammer Enterprise=off\";;;\"HQ; \"\"North\"\"\";T\r\n"+
		"c@contoso.com;Dynamics 365 for Sales, Enterprise Edition for Government;;;;;\r\n")
	td.Cmp(t, f.Delimiter, ';')
	td.Cmp(t, f.Problems, td.Empty())
	td.Cmp(t, f.Rows, []bulkcsv.Row{
		{Line: 2, UserPrincipalName: "a@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: skuE3, PartNumber: "ENTERPRISEPACK", DisabledPlans: []string{planSway}},
			{SkuID: skuPhone, PartNumber: "MCOEV"},
		}, Number: "+442079460101", Extension: "101", Site: "Genève, Lac", Valid: true},
		{Line: 3, UserPrincipalName: "b@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: skuE3, PartNumber: "ENTERPRISEPACK", DisabledPlans: []string{planYamm, planSway}},
		}, Site: `HQ; "North"`, Template: "T", Valid: true},
		{Line: 4, UserPrincipalName: "c@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: "28b275ce-aec7-4c26-82e2-1ffbc2746ad4", PartNumber: "DYN365_ENTERPRISE_SALES_GOV"},
		}, Valid: true},
	})
}

func TestDelimiter(t *testing.T) {
	// Three commas inside quotes, two semicolons outside: semicolons.
	refused(t, "\"upn\";\"addOns:Windows 365 Business 16 vCPU, 64 GB, 1 TB\";\"x,y\"\na;b;c\n", bulkcsv.Options{},
		`unknown column "x,y"`)
	// Unquoted, three commas and two semicolons: the semicolons give known columns.
	f := mustParse(t, "upn;addOns:Windows 365 Business 16 vCPU, 64 GB, 1 TB;licences\na@contoso.com;;\n")
	td.Cmp(t, f.Delimiter, ';')
	td.Cmp(t, f.Columns, []string{"userPrincipalName", "addOns:Windows 365 Business 16 vCPU, 64 GB, 1 TB", "licences"})
	// The reverse: a stray semicolon in a comma file's header.
	refused(t, "upn,site,licences;x\na@contoso.com,HQ,\n", bulkcsv.Options{}, `unknown column "licences;x"`)
}

func TestQuotedFields(t *testing.T) {
	f := mustParse(t, header+
		"\"a@contoso.com\",\"ENTERPRISEPACK\nMCOEV\",\"SWAY=off\r\nYAMMER_ENTERPRISE=off\",,,\"Main, \"\"Old\"\" Building\",\n"+
		"b@contoso.com,,,,,\"two\nlines\",\n"+
		"\n"+
		"c@contoso.com,,,,,,\n"+
		"d@contoso.com,,,,,,\"\"\n")
	td.Cmp(t, f.Problems, problems(prob(3, "site", "two\nlines", "the cell holds a line break (U+000A)")))
	td.Cmp(t, f.Rows, []bulkcsv.Row{
		{Line: 2, UserPrincipalName: "a@contoso.com", Licences: []bulkcsv.Licence{
			{SkuID: skuE3, PartNumber: "ENTERPRISEPACK", DisabledPlans: []string{planYamm, planSway}},
			{SkuID: skuPhone, PartNumber: "MCOEV"},
		}, Site: `Main, "Old" Building`, Valid: true},
		{Line: 3, UserPrincipalName: "b@contoso.com"},
		{Line: 5, UserPrincipalName: "c@contoso.com", Valid: true}, // rows as a spreadsheet numbers them
		{Line: 6, UserPrincipalName: "d@contoso.com", Valid: true},
	})

	o := bulkcsv.Options{}
	refused(t, header+"a@contoso.com,,,,,5\" screen,\n", o, `row 2: a cell holds a double quote (") but does not start with one`)
	refused(t, header+"a@contoso.com,,,,,\"HQ\"North,\n", o, "row 2: a quoted cell goes on after its closing quote")
	refused(t, header+"a@contoso.com,,,,,,\nb@contoso.com,,,,,\"HQ,\nc@contoso.com,,,,,,\n", o, "row 3: a quoted cell is not closed")
}

func TestLineEndings(t *testing.T) {
	body := []string{header[:len(header)-1], "a@contoso.com,ENTERPRISEPACK,,,,HQ,", "b@contoso.com,,,+442079460101,,,"}
	var want []bulkcsv.Row
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		for _, bom := range []string{"", "\ufeff"} {
			s := bom + strings.Join(body, eol) + eol
			f := mustParse(t, s)
			td.Cmp(t, f.Problems, td.Empty(), "eol %q bom %q", eol, bom)
			if want == nil {
				want = f.Rows
				td.Cmp(t, want, td.Len(2))
				continue
			}
			td.Cmp(t, f.Rows, want, "eol %q bom %q", eol, bom)
			// Without the final line break too.
			td.Cmp(t, mustParse(t, strings.TrimSuffix(s, eol)).Rows, want)
		}
	}
}

func TestDuplicates(t *testing.T) {
	f := mustParse(t, header+
		"a@contoso.com,,,+442079460101,,,\n"+
		"b@contoso.com,,,tel:+44 20 7946 0102,,,\n"+
		"A@Contoso.com,,,,,,\n"+
		"c@contoso.com,,,+44-20-7946-0101,,,\n"+
		"a@contoso.com,,,,,,\n"+
		"d@contoso.com,,,+442079460103,,,\n")
	td.Cmp(t, f.Problems, problems(
		prob(2, "userPrincipalName", "a@contoso.com", "a@contoso.com is repeated in row 4: one row per user"),
		// …and not again for row 6
		prob(2, "number", "+442079460101", "+442079460101 is repeated in row 5: a number belongs to one user"),
		prob(4, "userPrincipalName", "A@Contoso.com", "A@Contoso.com is also in row 2: one row per user"),
		prob(5, "number", "+442079460101", "+442079460101 is also in row 2"),
		prob(6, "userPrincipalName", "a@contoso.com", "is also in row 2"),
	))
	td.Cmp(t, f.ValidRows(), td.All(td.Len(2), td.Smuggle("[0].UserPrincipalName", "b@contoso.com"),
		td.Smuggle("[1].UserPrincipalName", "d@contoso.com")))
}

func TestLicences(t *testing.T) {
	f := mustParse(t, header+
		"a@contoso.com,office 365 e3;MICROSOFT TEAMS PHONE STANDARD;,,,,,\n"+
		"b@contoso.com,"+skuE3+";;,,,,,\n"+
		"c@contoso.com,ENTERPRISEPAK;Enterprise Pack,,,,,\n"+
		"d@contoso.com,Visio Plan 2;MCOPSTN5,,,,,\n"+
		"e@contoso.com,ENTERPRISEPACK;Office 365 E3,,,,,\n"+
		"f@contoso.com,\"ENTERPRISEPACK,MCOEV\",,,,,\n")
	td.Cmp(t, f.Problems, problems(
		prob(4, "licences", "ENTERPRISEPAK", `"ENTERPRISEPAK" is not a licence in the catalogue (did you mean "ENTERPRISEPACK"?)`),
		prob(4, "licences", "Enterprise Pack", `(did you mean "ENTERPRISEPACK"?)`),
		prob(5, "licences", "Visio Plan 2", "names 2 licences: write the part number of the one you mean: VISIO_PLAN2_DEPT, VISIOCLIENT"),
		prob(5, "licences", "MCOPSTN5", "names 2 licences: write the skuId of the one you mean: 54a152dc-90de-4996-93d2-bc47e670fc06"),
		prob(6, "licences", "Office 365 E3", "ENTERPRISEPACK (Office 365 E3) is listed twice"),
		prob(7, "licences", "ENTERPRISEPACK,MCOEV", `separate licences with ";"`),
	))
	td.Cmp(t, f.Rows[0].Licences, []bulkcsv.Licence{{SkuID: skuE3, PartNumber: "ENTERPRISEPACK"}, {SkuID: skuPhone, PartNumber: "MCOEV"}})
	td.Cmp(t, f.Rows[1].Licences, []bulkcsv.Licence{{SkuID: skuE3, PartNumber: "ENTERPRISEPACK"}})
	td.Cmp(t, f.Rows[4].Licences, []bulkcsv.Licence{{SkuID: skuE3, PartNumber: "ENTERPRISEPACK"}}, "an invalid row keeps what resolved")
}

// tenantCatalogue resolves only the customer's subscriptions: "Visio Plan 2" is not ambiguous there.
type tenantCatalogue struct{}

func (tenantCatalogue) Find(name string) []catalog.Product {
	var out []catalog.Product
	for _, p := range bulkcsv.Default().Find(name) {
		if p.PartNumber == "VISIOCLIENT" || p.PartNumber == "ENTERPRISEPACK" {
			out = append(out, p)
		}
	}
	return out
}

func TestCatalogueOption(t *testing.T) {
	f := mustParse(t, header+"a@contoso.com,Visio Plan 2;MCOEV,,,,,\n", bulkcsv.Options{Catalogue: tenantCatalogue{}})
	td.Cmp(t, f.Problems, problems(prob(2, "licences", "MCOEV", `"MCOEV" is not a licence in the catalogue: write`)))
	td.Cmp(t, f.Rows[0].Licences, []bulkcsv.Licence{{SkuID: "c5928f49-12ba-48f7-ada3-0d743a3601d5", PartNumber: "VISIOCLIENT"}})
}

func TestAddOns(t *testing.T) {
	hdr := "upn,licences,addOns,addOns:ENTERPRISEPACK,addOns:MCOEV\n"
	f := mustParse(t, hdr+
		"a@contoso.com,ENTERPRISEPACK;MCOEV,TEAMS1=OFF ; ENTERPRISEPACK:SWAY = off,YAMMER_ENTERPRISE=off,MCOEV=on\n"+
		"b@contoso.com,ENTERPRISEPACK,SWAY,,\n"+
		"c@contoso.com,ENTERPRISEPACK,SWAY=no;=off;SPB:SWAY=off,,\n"+
		"d@contoso.com,ENTERPRISEPACK;SPB,SWAY=off,,\n"+
		"e@contoso.com,ENTERPRISEPACK,MCOEV=off,,MCOEV=off\n"+
		"f@contoso.com,ENTERPRISEPACK,SWAY=off,Sway=on;TEAMS1=off;Microsoft Teams=off,\n"+
		"g@contoso.com,,SWAY=off,,\n"+
		"h@contoso.com,NOPE;ENTERPRISEPACK,NOPE:X=off;FOO=off;NOPE2:Y=off,,\n"+
		"i@contoso.com,ENTERPRISEPACK;MCOEV,,MCOEV:MCOEV=off,\n"+
		"j@contoso.com,MS_TEAMS_IW,Microsoft Teams=off,,\n")
	td.Cmp(t, f.Problems, problems(
		prob(3, "addOns", "SWAY", "say whether the add-on is on or off: SWAY=off (or SWAY=on)"),
		prob(4, "addOns", "SWAY=no", "after the = write on or off"),
		prob(4, "addOns", "=off", "name the service plan before the ="),
		prob(4, "addOns", "SPB:SWAY=off", `"SPB" is not in the row's licences (ENTERPRISEPACK)`),
		prob(5, "addOns", "SWAY=off", `"SWAY" is a service plan of ENTERPRISEPACK and SPB: name the licence first, as ENTERPRISEPACK:SWAY=off`),
		prob(6, "addOns", "MCOEV=off", `"MCOEV" is not a service plan of ENTERPRISEPACK`),
		prob(6, "addOns:MCOEV", "MCOEV=off", "this column sets add-ons of MCOEV (Microsoft Teams Phone Standard), which is not in the row's licences"),
		prob(7, "addOns:ENTERPRISEPACK", "Sway=on", `SWAY of ENTERPRISEPACK is switched both on and off (also "SWAY=off")`),
		prob(7, "addOns:ENTERPRISEPACK", "Microsoft Teams=off", `TEAMS1 of ENTERPRISEPACK is listed twice (also as "TEAMS1=off")`),
		prob(8, "addOns", "SWAY=off", "add-ons without licences"),
		prob(9, "licences", "NOPE", `"NOPE" is not a licence`),
		prob(9, "addOns", "NOPE2:Y=off", `"NOPE2" is not a licence in the catalogue`),
		prob(10, "addOns:ENTERPRISEPACK", "MCOEV:MCOEV=off", "this column sets add-ons of ENTERPRISEPACK only"),
		prob(11, "addOns", "Microsoft Teams=off", `several service plans of MS_TEAMS_IW are called "Microsoft Teams": write the plan's name, one of MCO_TEAMS_IW, TEAMS1`),
	))
	td.Cmp(t, f.Rows[0], bulkcsv.Row{Line: 2, UserPrincipalName: "a@contoso.com", Licences: []bulkcsv.Licence{
		{SkuID: skuE3, PartNumber: "ENTERPRISEPACK", DisabledPlans: []string{"57ff2da0-773e-42df-b2af-ffb7a2317929", planYamm, planSway}},
		{SkuID: skuPhone, PartNumber: "MCOEV"},
	}, Valid: true})
}

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		col, value string
		msg        string // "" when valid
	}{
		{"userPrincipalName", "adele.vance@contoso.onmicrosoft.com", ""},
		{"userPrincipalName", "o'brien_x!#^~-1@sub.contoso.co.uk", ""},
		{"userPrincipalName", "adele_fabrikam.com#EXT#@contoso.onmicrosoft.com", ""},
		{"userPrincipalName", "adele.vance", "the form name@domain"},
		{"userPrincipalName", "a@b@contoso.com", "the form name@domain"},
		{"userPrincipalName", "@contoso.com", `begins with "@"`},
		{"userPrincipalName", "x.@contoso.com", "does not start or end with a dot"},
		{"userPrincipalName", "adele@", "the form name@domain"},
		{"userPrincipalName", "Adele Vance@contoso.com", `' ' is not allowed before the @`},
		{"userPrincipalName", "adèle@contoso.com", `'è' is not allowed`},
		{"userPrincipalName", ".adele@contoso.com", "does not start or end with a dot"},
		{"userPrincipalName", "a..b@contoso.com", "two dots in a row"},
		{"userPrincipalName", "adele@contoso", "has a dot in it"},
		{"userPrincipalName", "adele@contoso..com", `"contoso..com" is not a domain`},
		{"userPrincipalName", "adele@-contoso.com", "is not a domain"},
		{"userPrincipalName", "adele@contoso_x.com", "is not a domain"},
		{"userPrincipalName", strings.Repeat("a", 65) + "@contoso.com", "65 characters before the @: at most 64"},
		{"userPrincipalName", strings.Repeat("a", 60) + "@" + strings.Repeat("b", 50) + ".com", "115 characters: a user principal name has at most 113"},
		{"userPrincipalName", "adele\u200b@contoso.com", "control character (U+200B)"},
		{"number", "+442079460101", ""},
		{"number", "tel:+442079460101", ""},
		{"number", "TEL: +44 (0)20-7946.0101", ""},
		{"number", "+1 425 555 0100", ""},
		{"number", "442079460101", "Excel drops the + unless the column is formatted as Text"},
		{"number", "4.42079E+11", "Excel has turned the number into a rounded figure"},
		{"number", "020 7946 0101", "starts with + and the country code"},
		{"number", "tel:+44 20 7946 0101 x12", "only digits after the +"},
		{"number", "+44 20 7946 0101 x12", `begins with "+"`},
		{"number", "tel:+442079460101;ext=12", "put the extension in the extension column"},
		{"number", "+1234567", "7 digits: an E.164 number has 8 to 15"},
		{"number", "+1234567890123456", "16 digits"},
		{"number", "+0442079460101", "does not start with +0"},
		{"number", "+", `begins with "+"`},
		{"number", "tel:+", "0 digits"},
		{"extension", "0123", ""},
		{"extension", "12345678", ""},
		{"extension", "123456789", "1 to 8 digits"},
		{"extension", "12a", "1 to 8 digits"},
		{"extension", "１２", "1 to 8 digits"},
		{"site", "Zürich — HQ 🏢", ""},
		{"site", strings.Repeat("é", 256), ""},
		{"site", strings.Repeat("é", 257), "257 characters: a site name has at most 256"},
		{"template", "a\x07b", "control character (U+0007)"},
		{"template", "a\u202eb", "(U+202E)"},
	} {
		s := "userPrincipalName,number,extension,site,template\n"
		row := map[string]string{"userPrincipalName": "x@contoso.com"}
		row[tc.col] = tc.value
		var cells []string
		for _, c := range []string{"userPrincipalName", "number", "extension", "site", "template"} {
			cells = append(cells, `"`+row[c]+`"`)
		}
		f := mustParse(t, s+strings.Join(cells, ",")+"\n")
		if tc.msg == "" {
			td.Cmp(t, f.Problems, td.Empty(), "%s %q", tc.col, tc.value)
			td.CmpTrue(t, f.Rows[0].Valid)
			continue
		}
		td.Cmp(t, f.Problems, problems(td.Struct(bulkcsv.Problem{Row: 2, Column: tc.col}, td.StructFields{
			"Value":   td.Any(tc.value, td.HasSuffix("…")),
			"Message": td.Contains(tc.msg),
		})), "%s %q", tc.col, tc.value)
		td.CmpFalse(t, f.Rows[0].Valid)
	}
	f := mustParse(t, "upn,site\n,HQ\n")
	td.Cmp(t, f.Problems, problems(prob(2, "userPrincipalName", "", "required")))
}

func TestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("upn,number\n")
	for i := range 10 {
		fmt.Fprintf(&b, "u%d@contoso.com,=%d\n", i, i)
	}
	b.WriteString("ok@contoso.com,+442079460101\n")
	f := mustParse(t, b.String(), bulkcsv.Options{MaxProblems: 4})
	td.Cmp(t, f.Problems, td.Len(5))
	td.Cmp(t, f.Problems[3].Row, 5)
	td.Cmp(t, f.Problems[4], bulkcsv.Problem{Row: 6,
		Message: "and 6 more problems, not listed (the first in row 6): put these right and upload the file again"})
	td.Cmp(t, f.ValidRows(), td.Len(1), "rows past the cap are still marked invalid")
}

func TestValueClipped(t *testing.T) {
	long := strings.Repeat("é", 300)
	f := mustParse(t, "upn,licences\na@contoso.com,"+long+"\n")
	td.Cmp(t, f.Problems, td.Len(1))
	td.Cmp(t, len(f.Problems[0].Value), td.Lte(203))
	td.Cmp(t, f.Problems[0].Value, td.All(td.HasPrefix("éé"), td.HasSuffix("é…")))
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+cmd": "'+cmd", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
		"  =1": "'  =1", "": "", "plain": "plain", "a=b": "a=b",
	} {
		td.Cmp(t, bulkcsv.SafeCell(in), want, "SafeCell(%q)", in)
	}
}

func TestReadError(t *testing.T) {
	_, err := bulkcsv.Parse(errReader{}, bulkcsv.Options{})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid)
	td.Cmp(t, domain.ErrorMessage(err), "the file could not be read")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
