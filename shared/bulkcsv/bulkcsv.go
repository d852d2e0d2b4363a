// Package bulkcsv reads the mass-configuration CSV a customer admin uploads to configure many users at once. It
// checks the form of the file — size, encoding, delimiter, quoting, header, the syntax of every cell — and
// resolves licences and add-ons against the licence catalogue. Whether each user, seat, number, site and template
// exists for the customer is for the caller to check afterwards, against stored state; this package reads no state.
//
// # The format
//
// One row per user, under a header row. The downloadable sample (Sample) is:
//
//	userPrincipalName,licences,addOns,number,extension,site,template
//	adele.vance@contoso.com,ENTERPRISEPACK;MCOEV,SWAY=off;YAMMER_ENTERPRISE=off,tel:+442079460101,101,London,
//	alex.wilber@contoso.com,Office 365 E3;Microsoft Teams Phone Standard,,tel:+442079460102,102,London,Sales
//	megan.bowen@contoso.com,SPB,SPB:TEAMS1=on;SPB:SWAY=off,,,Manchester,
//
// Header names are matched without regard to letter case, spaces, dashes, dots and underscores, so "User
// principal name" and "USER_PRINCIPAL_NAME" both work. Columns may come in any order; only userPrincipalName is
// required. The columns, with the other names they may have:
//
//   - userPrincipalName (UPN): the user, as name@domain; at most 64 characters before the @ and 113 in all, letters,
//     digits and ' . - _ ! # ^ ~ before the @. Each user appears in one row only.
//   - licences (licenses, licence, license, SKUs, SKU, products): the licences the user is to hold directly,
//     separated by ";" (or by line breaks inside the cell). Each is a part number (ENTERPRISEPACK), the
//     catalogue's display name (Office 365 E3) or a skuId, in any letter case. A name that means several licences
//     (Visio Plan 2) is refused with their part numbers. An empty cell leaves the user's licences as they are.
//   - addOns (add-ons, addOn): the service plans of those licences to switch on or off, separated by ";". Each
//     is PLAN=off or PLAN=on (any letter case), where PLAN is the plan's name (SWAY) or, when no other plan of the
//     licence shares it, its friendly name (Sway). When a plan belongs to more than one of the row's licences,
//     name the licence first, by any of its names: ENTERPRISEPACK:SWAY=off. A listed licence gets every service
//     plan except those switched off here; for a licence the user already holds, these become exactly its
//     switched-off plans. PLAN=on changes nothing but may be written to say so.
//   - addOns:<licence> (any number of further columns, e.g. "addOns:ENTERPRISEPACK" or "addOns:Office 365 E3"):
//     the same entries, for that one licence, without the licence: SWAY=off;YAMMER_ENTERPRISE=off. The licence
//     must be in the row's licences when the cell is not empty.
//   - number (phone number, phone, telephone number, lineURI, DID): the user's telephone number in E.164, "+",
//     the country code and 8 to 15 digits in all (+442079460101), or the same with "tel:" in front
//     (tel:+442079460101), which Excel keeps as text. Spaces, dashes, dots and parentheses are ignored. Each
//     number appears in one row only.
//   - extension (ext): 1 to 8 digits (format the column as Text in Excel, or it drops leading zeros).
//   - site (site name), template (template name): names of the customer's site and template, at most 256
//     characters.
//
// Why add-ons are written this way: in Seatwise an add-on is a service plan of a licence switched on or off
// (Graph's disabledPlans), and every plan is on unless switched off. A column that listed bare plan names would
// leave the admin to guess whether the list means "on" or "off", and a wrong guess switches Teams off for
// hundreds of users; PLAN=off says what it does, and a bare name is refused with that explanation. Entries do not
// start with "-" or "=", which Excel would take for a formula, and use only ";", ":" and "=", which no part number,
// display name or plan name in the catalogue contains. The per-licence columns let an admin fill one column per
// licence with the same text down the sheet, without repeating the licence in every cell.
//
// # The file
//
//   - UTF-8, with or without a byte order mark (Excel: Save As "CSV UTF-8 (Comma delimited)"). A UTF-16 file, a
//     file in a Windows code page, an Excel workbook, or a file with NUL bytes is refused with what to do instead.
//   - Columns separated by commas or semicolons (Excel in many European locales), detected from the header row:
//     the one that splits it into known column names, else the more frequent outside quotes. Cells may be quoted
//     as RFC 4180 says: "a;b", "two""quotes", and line breaks inside quotes; a stray quote is refused. Lines end
//     in CRLF, LF or (old Macs) CR.
//   - At most 10 MB, 50,000 rows and 64 columns (Options changes them). Blank rows are skipped; cells are trimmed.
//   - Every row has as many cells as the header. A column with an empty header is allowed only when empty.
//   - No cell may begin with = + - @ (after trimming), a tab or a carriage return: a spreadsheet that opens the
//     file (or a results file that repeats the value) would run it as a formula ("CSV injection"). The one
//     exception is a number that begins with "+" followed by digits, spaces, dashes, dots or parentheses. Values
//     that Problem.Value repeats may still be hostile: write them out through SafeCell.
//   - No cell may hold control or invisible formatting characters (zero-width spaces, bidirectional overrides),
//     except line breaks between the items of licences and add-on cells.
//
// # Results
//
// Parse returns an error (a *domain.Error, code EInvalid, with a message for the admin) when the file as a whole
// cannot be read: too large, too many rows or columns, the wrong encoding, broken quoting, a bad header, or no
// rows. Otherwise it returns every row, each marked Valid or not, and every problem found (up to
// Options.MaxProblems), each with its row and column, so that nothing is applied while problems remain — or, if
// the admin chooses, only the valid rows are.
//
// Row numbers are those a spreadsheet shows: the header is row 1 when it is the first line, blank lines count, and
// a quoted cell that spans several lines is one row. A value that appears in two rows (a user, a number) is a
// problem of both, so that applying only the valid rows never picks one of the two at random.
package bulkcsv

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/seatwise/seatwise/shared/domain"
)

// The columns, as Problem.Column names them. Per-licence add-on columns are named AddOnsPrefix + the licence as
// written in the header; a column with an empty header is named "column " + its spreadsheet letter.
const (
	ColUPN       = "userPrincipalName"
	ColLicences  = "licences"
	ColAddOns    = "addOns"
	ColNumber    = "number"
	ColExtension = "extension"
	ColSite      = "site"
	ColTemplate  = "template"

	AddOnsPrefix = "addOns:"
)

// Default limits (see Options).
const (
	DefaultMaxBytes    = 10 << 20
	DefaultMaxRows     = 50_000
	DefaultMaxColumns  = 64
	DefaultMaxProblems = 1_000

	// MaxUPNLength and MaxUPNPrefix bound a user principal name, in all and before the @ (Microsoft Entra's limits).
	MaxUPNLength = 113
	MaxUPNPrefix = 64
	// MaxNameLength bounds a site or template name, in characters.
	MaxNameLength = 256
	// MaxExtensionDigits bounds an extension.
	MaxExtensionDigits = 8
	// MinNumberDigits and MaxNumberDigits bound the digits of an E.164 number after its "+".
	MinNumberDigits = 8
	MaxNumberDigits = 15

	maxValueLen    = 200 // bytes of a value Problem.Value repeats
	maxSuggestions = 20  // calls to Suggest in one Parse (each scans the catalogue)
)

// Options are the limits of Parse and the catalogue it resolves licences with; zero values mean the defaults.
type Options struct {
	MaxBytes    int64 // size of the file
	MaxRows     int   // data rows, blank rows not counted
	MaxColumns  int   // columns of the header
	MaxProblems int   // problems listed; more are summed up in one last problem
	Catalogue   Catalogue
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = DefaultMaxProblems
	}
	if o.Catalogue == nil {
		o.Catalogue = Default()
	}
	return o
}

// File is a parsed mass-configuration file.
type File struct {
	// Columns are the header's columns in file order, named as Problem.Column names them.
	Columns []string
	// Delimiter is the delimiter the file uses, ',' or ';' (a results file may use the same).
	Delimiter rune
	// Rows are the data rows in file order, valid or not; blank rows are skipped.
	Rows []Row
	// Problems are the problems of the rows, by row; empty when every row is valid.
	Problems []Problem
	// Unlisted counts the problems beyond Options.MaxProblems: not in Problems but summed up in its last entry.
	Unlisted int
}

// ValidRows returns the rows without problems.
func (f *File) ValidRows() []Row {
	out := make([]Row, 0, len(f.Rows))
	for _, r := range f.Rows {
		if r.Valid {
			out = append(out, r)
		}
	}
	return out
}

// Problem is something wrong in a row.
type Problem struct {
	Row     int    // the row, numbered as a spreadsheet shows it (header = 1)
	Column  string // the column (ColUPN…), or "" when the whole row is at fault
	Value   string // the offending value as written (at most 200 bytes; may start with "=": escape it, see SafeCell)
	Message string // what is wrong and how to put it right
}

// Row is a data row. In a row that is not Valid, a field with a problem is left empty (Licences keeps the licences
// that resolved).
type Row struct {
	Line              int // the row's number, as Problem.Row
	UserPrincipalName string
	Licences          []Licence // nil when the row sets no licences
	Number            string    // E.164 ("+442079460101"), or ""
	Extension         string
	Site              string
	Template          string
	Valid             bool
}

// Licence is a licence a row gives, resolved in the catalogue.
type Licence struct {
	SkuID         string   // lower-case GUID
	PartNumber    string   // e.g. "ENTERPRISEPACK"
	DisabledPlans []string // ids (lower-case GUIDs) of the service plans switched off, sorted; nil when none
}

// Parse reads and checks a mass-configuration file (see the package documentation for the format). It returns an
// EInvalid *domain.Error when the file as a whole is unusable, and otherwise every row with its problems.
func Parse(r io.Reader, opts Options) (*File, error) {
	opts = opts.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return nil, domain.Wrap(err, domain.EInvalid, "the file could not be read")
	}
	if int64(len(data)) > opts.MaxBytes {
		return nil, invalidf("the file is larger than %s: split it into smaller files", size(opts.MaxBytes))
	}
	data, validUTF8, err := checkEncoding(data)
	if err != nil {
		return nil, err
	}
	comma, err := detectDelimiter(data, opts.MaxColumns)
	if err != nil {
		return nil, err
	}
	rows := min(bytes.Count(data, []byte{'\n'}), opts.MaxRows) // at most, and about, the rows of the file
	p := &parser{opts: opts, validUTF8: validUTF8, file: &File{Delimiter: comma, Rows: make([]Row, 0, rows)},
		resolved: map[string]resolution{}, asWritten: map[string]resolution{},
		upns: make(map[string]int, rows), numbers: make(map[string]int, rows)}
	if err := p.run(data, comma); err != nil {
		return nil, err
	}
	return p.finish(), nil
}

func invalidf(format string, args ...any) *domain.Error {
	return domain.Errorf(domain.EInvalid, format, args...)
}

// size writes a byte count for people: "10 MB", "64 KB", "100 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

const saveAsUTF8 = `in Excel, use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)"`

// checkEncoding refuses what is not a UTF-8 text file, drops a UTF-8 byte order mark, and turns old Mac line
// endings (CR only) into LF. It reports whether the text is valid UTF-8: the caller finds the row that is not.
func checkEncoding(data []byte) ([]byte, bool, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return nil, false, invalidf("the file is UTF-16 (Excel's \"Unicode Text\"): save it as UTF-8 instead; %s", saveAsUTF8)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return nil, false, invalidf("the file is an Excel workbook (.xlsx) or another ZIP file, not CSV; %s", saveAsUTF8)
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, false, invalidf("the file is an Excel 97-2003 workbook (.xls), not CSV; %s", saveAsUTF8)
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, false, invalidf("the file is empty: it needs a header row and one row per user (download the sample)")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, false, invalidf("the file holds NUL bytes: it is UTF-16 without a byte order mark, or not a text file at all; %s", saveAsUTF8)
	}
	if bytes.IndexByte(data, '\n') < 0 && bytes.IndexByte(data, '\r') >= 0 {
		data = bytes.ReplaceAll(data, []byte{'\r'}, []byte{'\n'})
	}
	return data, utf8.Valid(data), nil
}

// detectDelimiter picks the delimiter of the header row (the first non-empty line): of comma and semicolon, the one
// that splits it into more known column names, else the more frequent outside quotes, else a comma. It refuses a
// header of more than maxCols columns before anything is allocated for them.
func detectDelimiter(data []byte, maxCols int) (rune, error) {
	i := 0
	for i < len(data) { // encoding/csv skips empty lines too
		if data[i] == '\n' {
			i++
		} else if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i += 2
		} else {
			break
		}
	}
	start := i
	var commas, semis, tabs int
	quoted := false
scan:
	for ; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			break scan
		case c == ',':
			commas++
		case c == ';':
			semis++
		case c == '\t':
			tabs++
		}
	}
	line := data[start:i]
	comma, n := ',', commas
	if semis > 0 && commas > 0 && commas+1 <= maxCols && semis+1 <= maxCols {
		if sc, ss := knownColumns(line, ','), knownColumns(line, ';'); ss > sc || ss == sc && semis > commas {
			comma, n = ';', semis
		}
	} else if semis > commas {
		comma, n = ';', semis
	}
	if n == 0 && tabs > 0 {
		return 0, invalidf("the columns are separated by tabs: separate them with commas or semicolons; %s", saveAsUTF8)
	}
	if n+1 > maxCols {
		return 0, invalidf("the header row has %s columns: at most %d are allowed (%s)", thousands(n+1), maxCols, columnList)
	}
	return comma, nil
}

// knownColumns counts the cells of a header line, split at delim outside quotes, that name a column.
func knownColumns(line []byte, delim byte) int {
	known := 0
	count := func(cell []byte) {
		h := strings.Trim(strings.TrimSpace(string(cell)), `"`)
		if k, _, addOn := strings.Cut(h, ":"); aliases[headerKey(h)] != colUnnamed || addOn && aliases[headerKey(k)] == colAddOns {
			known++
		}
	}
	quoted, from := false, 0
	for i, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == delim && !quoted:
			count(line[from:i])
			from = i + 1
		}
	}
	count(line[from:])
	return known
}

// parser holds the state of one Parse.
type parser struct {
	opts      Options
	validUTF8 bool
	file      *File
	cols      []column

	resolved  map[string]resolution // licence references met so far, by normName
	asWritten map[string]resolution // the same, by the reference as written
	suggests  int                   // Suggest calls so far (bounded: each scans the catalogue)

	upns    map[string]int  // lower-case UPN → index in file.Rows of its first row
	numbers map[string]int  // E.164 number → index in file.Rows of its first row
	dupSeen map[dupKey]bool // rows already told that a later row repeats their value

	lics   []*product  // scratch: the licences of the row
	states []planState // scratch: the add-on entries of the row

	more      int // problems beyond MaxProblems
	firstMore int // the first row of those
}

// dupKey is a row (index in file.Rows) and a column.
type dupKey struct {
	row int
	col string
}

// column is a column of the header.
type column struct {
	kind   colKind
	name   string   // as Problem.Column names it
	header string   // as written
	prod   *product // the licence of a per-licence add-on column
}

type colKind int

const (
	colUnnamed colKind = iota
	colUPN
	colLicences
	colAddOns
	colNumber
	colExtension
	colSite
	colTemplate
	colAddOnsFor // addOns:<licence>
)

// aliases maps a normalised header name (see headerKey) to its column.
var aliases = map[string]colKind{
	"userprincipalname": colUPN, "upn": colUPN,
	"licences": colLicences, "licenses": colLicences, "licence": colLicences, "license": colLicences,
	"skus": colLicences, "sku": colLicences, "products": colLicences,
	"addons": colAddOns, "addon": colAddOns,
	"number": colNumber, "phonenumber": colNumber, "phone": colNumber, "telephonenumber": colNumber,
	"lineuri": colNumber, "did": colNumber,
	"extension": colExtension, "ext": colExtension,
	"site": colSite, "sitename": colSite,
	"template": colTemplate, "templatename": colTemplate,
}

var colNames = map[colKind]string{
	colUPN: ColUPN, colLicences: ColLicences, colAddOns: ColAddOns, colNumber: ColNumber,
	colExtension: ColExtension, colSite: ColSite, colTemplate: ColTemplate,
}

const columnList = "the columns are userPrincipalName, licences, addOns, number, extension, site, template, and addOns:<licence>"

// headerKey normalises a header name: lower case, without spaces, dashes, dots, underscores and byte order marks.
func headerKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\t', '-', '_', '.', '\ufeff':
			return -1
		}
		return toLowerASCII(r)
	}, s)
}

func toLowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

func (p *parser) run(data []byte, comma rune) error {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	extra := 0 // line breaks inside quoted cells so far: line numbers minus these are row numbers
	header := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.syntaxError(err, extra)
		}
		line, _ := cr.FieldPos(0)
		row := line - extra
		for _, f := range rec {
			extra += strings.Count(f, "\n")
		}
		if !p.validUTF8 {
			for i, f := range rec {
				if !utf8.ValidString(f) {
					return invalidf("row %d (cell %s) is not valid UTF-8: the file was saved in another encoding (such as Windows-1252); %s",
						row, columnLetter(i), saveAsUTF8)
				}
			}
		}
		if header {
			if err := p.header(rec); err != nil {
				return err
			}
			header = false
			continue
		}
		if blank(rec) {
			continue
		}
		if len(p.file.Rows) == p.opts.MaxRows {
			return invalidf("the file has more than %s rows: split it into files of at most %s rows",
				thousands(p.opts.MaxRows), thousands(p.opts.MaxRows))
		}
		p.row(rec, row)
	}
	if !p.validUTF8 { // not reached: every byte is in some cell
		return invalidf("the file is not valid UTF-8; %s", saveAsUTF8)
	}
	if header {
		return invalidf("the file is empty: it needs a header row and one row per user (download the sample)")
	}
	if len(p.file.Rows) == 0 {
		return invalidf("the file has a header row but no rows of users")
	}
	return nil
}

// syntaxError explains a quoting error of encoding/csv.
func (p *parser) syntaxError(err error, extra int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return domain.Wrap(err, domain.EInvalid, "the file could not be read as CSV")
	}
	row := pe.StartLine - extra
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return invalidf(`row %d: a cell holds a double quote (") but does not start with one: enclose the cell in quotes and write the quote twice ("5"" screen")`, row)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line != pe.StartLine:
		return invalidf(`row %d: a quoted cell is not closed before the end of the file (or a quote inside it is not written twice)`, row)
	case errors.Is(pe.Err, csv.ErrQuote):
		return invalidf(`row %d: a quoted cell goes on after its closing quote: a quote inside a quoted cell is written twice ("")`, row)
	}
	return domain.Wrap(err, domain.EInvalid, fmt.Sprintf("row %d could not be read as CSV", row))
}

// header reads the header row.
func (p *parser) header(rec []string) error {
	if len(rec) > p.opts.MaxColumns {
		return invalidf("the header row has %s columns: at most %d are allowed (%s)", thousands(len(rec)), p.opts.MaxColumns, columnList)
	}
	var unknown, dups, bad []string
	seen := map[string]string{} // column identity → header as written
	p.cols = make([]column, len(rec))
	for i, raw := range rec {
		h := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
		c := column{header: h}
		var id string
		switch {
		case h == "":
			c.kind, c.name = colUnnamed, "column "+columnLetter(i)
		case aliases[headerKey(h)] != colUnnamed:
			c.kind = aliases[headerKey(h)]
			c.name, id = colNames[c.kind], colNames[c.kind]
		case strings.Contains(h, ":") && aliases[headerKey(h[:strings.Index(h, ":")])] == colAddOns:
			ref := strings.TrimSpace(h[strings.Index(h, ":")+1:])
			c.kind, c.name = colAddOnsFor, AddOnsPrefix+ref
			res := p.resolve(ref)
			if res.prod == nil {
				bad = append(bad, fmt.Sprintf("%s: %s", quote(h), res.msg))
				continue
			}
			c.prod, id = res.prod, AddOnsPrefix+res.prod.skuID
		default:
			unknown = append(unknown, quote(h))
			continue
		}
		p.cols[i] = c
		if id == "" {
			continue
		}
		if first, ok := seen[id]; ok {
			dups = append(dups, fmt.Sprintf("%s and %s", quote(first), quote(h)))
		} else {
			seen[id] = h
		}
	}
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, fmt.Sprintf("unknown %s %s (%s; the first row must be the header)",
			plural(len(unknown), "column", "columns"), listSome(unknown, 10), columnList))
	}
	if len(dups) > 0 {
		msgs = append(msgs, fmt.Sprintf("the header names the same column twice: %s", listSome(dups, 10)))
	}
	if len(bad) > 0 {
		msgs = append(msgs, fmt.Sprintf("add-on columns name licences that cannot be used: %s", listSome(bad, 10)))
	}
	if _, ok := seen[ColUPN]; !ok {
		msgs = append(msgs, "the userPrincipalName column is missing: it says which user each row configures")
	}
	if len(msgs) > 0 {
		return invalidf("header row: %s", strings.Join(msgs, "; "))
	}
	p.file.Columns = make([]string, len(p.cols))
	for i, c := range p.cols {
		p.file.Columns[i] = c.name
	}
	return nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// problem records a problem of the row at index ri of file.Rows and marks that row invalid.
func (p *parser) problem(ri int, col, value, msg string) {
	r := &p.file.Rows[ri]
	r.Valid = false
	if len(p.file.Problems) >= p.opts.MaxProblems {
		if p.more == 0 || r.Line < p.firstMore {
			p.firstMore = r.Line
		}
		p.more++
		return
	}
	p.file.Problems = append(p.file.Problems, Problem{Row: r.Line, Column: col, Value: clip(value), Message: msg})
}

func (p *parser) finish() *File {
	f := p.file
	// By row, then by column as the header orders them (a whole-row problem first).
	pos := make(map[string]int, len(f.Columns))
	for i, c := range f.Columns {
		pos[c] = i + 1
	}
	slices.SortStableFunc(f.Problems, func(a, b Problem) int {
		return cmp.Or(a.Row-b.Row, pos[a.Column]-pos[b.Column])
	})
	if p.more > 0 {
		f.Unlisted = p.more
		f.Problems = append(f.Problems, Problem{Row: p.firstMore, Message: fmt.Sprintf(
			"and %s more %s, not listed (the first in row %d): put these right and upload the file again",
			thousands(p.more), plural(p.more, "problem", "problems"), p.firstMore)})
	}
	return f
}

// clip shortens a value to maxValueLen bytes, on a character boundary, marking the cut with "…".
func clip(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	cut := maxValueLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quote quotes a value for a message, clipped.
func quote(s string) string { return fmt.Sprintf("%q", clip(s)) }

func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %s more", strings.Join(items[:n], ", "), thousands(len(items)-n))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands writes n with thousands separators: 50,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// columnLetter is a spreadsheet's name of the column at index i: A, B, …, Z, AA, AB, ….
func columnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

// resolution is the outcome of resolving a licence reference.
type resolution struct {
	prod  *product // nil when unknown or ambiguous
	msg   string   // why prod is nil
	cands []string // skuIds of the products an ambiguous reference may mean
}

// resolve resolves a licence reference through the catalogue, once per distinct reference.
func (p *parser) resolve(ref string) resolution {
	if res, ok := p.asWritten[ref]; ok {
		return res
	}
	k := normName(ref)
	if res, ok := p.resolved[k]; ok {
		p.asWritten[ref] = res
		return res
	}
	var res resolution
	switch ps := p.opts.Catalogue.Find(ref); len(ps) {
	case 0:
		res.msg = fmt.Sprintf("%s is not a licence in the catalogue", quote(ref))
		if s, ok := p.opts.Catalogue.(Suggester); ok && p.suggests < maxSuggestions {
			p.suggests++
			if hint := s.Suggest(ref); hint != "" && normName(hint) != k {
				res.msg += fmt.Sprintf(" (did you mean %s?)", quote(hint))
			}
		}
		if strings.Contains(ref, ",") {
			res.msg += `: separate licences with ";", as in ENTERPRISEPACK;MCOEV`
		} else {
			res.msg += ": write its part number (ENTERPRISEPACK), display name (Office 365 E3) or skuId"
		}
	case 1:
		res.prod = newProduct(ps[0])
	default:
		parts := map[string]bool{}
		for _, pr := range ps {
			parts[strings.ToLower(pr.PartNumber)] = true
			res.cands = append(res.cands, strings.ToLower(pr.SkuID))
		}
		var opts []string
		if len(parts) == len(ps) && !parts[k] {
			for _, pr := range ps {
				opts = append(opts, pr.PartNumber)
			}
			res.msg = fmt.Sprintf("%s names %d licences: write the part number of the one you mean: %s",
				quote(ref), len(ps), strings.Join(opts, ", "))
		} else {
			for _, pr := range ps {
				opts = append(opts, fmt.Sprintf("%s (%s)", strings.ToLower(pr.SkuID), pr.Name))
			}
			res.msg = fmt.Sprintf("%s names %d licences: write the skuId of the one you mean: %s",
				quote(ref), len(ps), strings.Join(opts, ", "))
		}
	}
	p.resolved[k] = res
	p.asWritten[ref] = res
	return res
}
