package bulkcsv

import "strings"

// sampleRows are the sample file's rows (see the package documentation).
var sampleRows = []string{
	"userPrincipalName,licences,addOns,number,extension,site,template",
	"adele.vance@contoso.com,ENTERPRISEPACK;MCOEV,SWAY=off;YAMMER_ENTERPRISE=off,tel:+442079460101,101,London,",
	"alex.wilber@contoso.com,Office 365 E3;Microsoft Teams Phone Standard,,tel:+442079460102,102,London,Sales",
	"megan.bowen@contoso.com,SPB,SPB:TEAMS1=on;SPB:SWAY=off,,,Manchester,",
}

// Sample returns the sample file admins download: UTF-8 with a byte order mark (so that Excel reads it as UTF-8),
// lines ending in CRLF.
func Sample() []byte {
	return []byte("\ufeff" + strings.Join(sampleRows, "\r\n") + "\r\n")
}

// SafeCell makes a value safe to write into a CSV cell that a spreadsheet may open: a value that begins with
// = + - @, a tab or a carriage return gets a leading apostrophe, so that it shows as text instead of running as a
// formula. Use it when writing values from an uploaded file back out (results files, problem lists).
func SafeCell(v string) string {
	t := strings.TrimLeft(v, " ")
	if v != "" && (strings.IndexByte("\t\r", v[0]) >= 0 || t != "" && strings.IndexByte(formulaStarts, t[0]) >= 0) {
		return "'" + v
	}
	return v
}
