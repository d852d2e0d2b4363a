package export

import (
	"io"
	"strings"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark: Excel reads a CSV that starts with it as UTF-8 (without it, as the local code
// page).
const bom = "\ufeff"

// csvWriter writes CSV that opens cleanly in Excel: UTF-8 with a BOM, CRLF line ends, RFC 4180 quoting (a cell
// holding a comma, a double quote, CR or LF is quoted, its quotes doubled) and no formula injection: a text cell
// that begins with =, +, -, @, a tab, CR or LF gets a leading apostrophe, so a spreadsheet shows it as text instead
// of evaluating it (a cell that is a whole decimal integer, e.g. -3, is a number and is left alone). Invalid UTF-8
// is replaced by U+FFFD. Both CSV files of an export are written through it.
//
// Errors are sticky: after a failed write every call returns the first error.
type csvWriter struct {
	w    io.Writer
	line []byte
	rows int // data rows (the header excluded)
	err  error
}

// newCSVWriter writes the BOM and the header row.
func newCSVWriter(w io.Writer, header ...string) *csvWriter {
	c := &csvWriter{w: w}
	if _, err := io.WriteString(w, bom); err != nil {
		c.err = err
	}
	c.write(header)
	return c
}

// Row writes one data row.
func (c *csvWriter) Row(cells ...string) error {
	if c.write(cells) == nil {
		c.rows++
	}
	return c.err
}

func (c *csvWriter) write(cells []string) error {
	if c.err != nil {
		return c.err
	}
	c.line = c.line[:0]
	for i, cell := range cells {
		if i > 0 {
			c.line = append(c.line, ',')
		}
		c.line = appendCell(c.line, cell)
	}
	c.line = append(c.line, '\r', '\n')
	_, c.err = c.w.Write(c.line)
	return c.err
}

// appendCell appends one cell, neutralised and quoted as needed.
func appendCell(dst []byte, cell string) []byte {
	if !utf8.ValidString(cell) {
		cell = strings.ToValidUTF8(cell, "\uFFFD")
	}
	neutralise := cell != "" && strings.IndexByte("=+-@\t\r\n", cell[0]) >= 0 && !isInteger(cell)
	if !neutralise && !strings.ContainsAny(cell, ",\"\r\n") {
		return append(dst, cell...)
	}
	quote := strings.ContainsAny(cell, ",\"\r\n")
	if quote {
		dst = append(dst, '"')
	}
	if neutralise {
		dst = append(dst, '\'')
	}
	for i := 0; i < len(cell); i++ {
		if cell[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, cell[i])
	}
	if quote {
		dst = append(dst, '"')
	}
	return dst
}

// isInteger reports whether s is a decimal integer, optionally negative: "-3" (a number, not a formula).
func isInteger(s string) bool {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}
