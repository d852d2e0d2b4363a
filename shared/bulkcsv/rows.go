package bulkcsv

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// row checks a data row (not blank) numbered line, and appends it to file.Rows.
func (p *parser) row(rec []string, line int) {
	p.file.Rows = append(p.file.Rows, Row{Line: line, Valid: true})
	ri := len(p.file.Rows) - 1
	if len(rec) != len(p.cols) {
		msg := fmt.Sprintf("the row has %s cells but the header has %d: ", thousands(len(rec)), len(p.cols))
		if len(rec) > len(p.cols) {
			msg += "the extra cells have no column (is a delimiter inside a cell that is not quoted?)"
		} else {
			msg += "cells are missing (every row has one cell per column, empty or not)"
		}
		p.problem(ri, "", "", msg)
		return
	}

	// The cells, checked for formulas and control characters; a cell that fails is left out of what follows.
	var (
		vals    [colAddOnsFor]string
		bad     [colAddOnsFor]bool
		perLics []addOnCell
	)
	for i, raw := range rec {
		c := &p.cols[i]
		v, ok := p.cell(ri, c, raw)
		switch {
		case c.kind == colAddOnsFor:
			if ok && v != "" {
				perLics = append(perLics, addOnCell{col: c, v: v})
			}
		case !ok:
			bad[c.kind] = true
		case c.kind == colUnnamed:
			if v != "" {
				p.problem(ri, c.name, v, "a value in a column without a header: name the column or delete the value")
			}
		default:
			vals[c.kind] = v
		}
	}

	r := &p.file.Rows[ri]
	if v := vals[colUPN]; !bad[colUPN] {
		switch msg := checkUPN(v); {
		case v == "":
			p.problem(ri, ColUPN, v, "required: the user's principal name (adele.vance@contoso.com)")
		case msg != "":
			p.problem(ri, ColUPN, v, msg)
		default:
			r.UserPrincipalName = v
			p.unique(ri, ColUPN, p.upns, strings.ToLower(v), v, "one row per user")
		}
	}

	lics, unresolved := p.licences(ri, vals[colLicences])
	p.applyAddOns(ri, vals[colAddOns], perLics, lics, unresolved, bad[colLicences])

	if v := vals[colNumber]; v != "" {
		if n, msg := parseNumber(v); msg != "" {
			p.problem(ri, ColNumber, v, msg)
		} else {
			r.Number = n
			p.unique(ri, ColNumber, p.numbers, n, n, "a number belongs to one user")
		}
	}
	if v := vals[colExtension]; v != "" {
		if !isDigits(v) || len(v) > MaxExtensionDigits {
			p.problem(ri, ColExtension, v, fmt.Sprintf("an extension is 1 to %d digits (101)", MaxExtensionDigits))
		} else {
			r.Extension = v
		}
	}
	for _, k := range []colKind{colSite, colTemplate} {
		v := vals[k]
		if n := utf8.RuneCountInString(v); n > MaxNameLength {
			p.problem(ri, colNames[k], v, fmt.Sprintf("%d characters: a %s name has at most %d", n, colNames[k], MaxNameLength))
			continue
		}
		if k == colSite {
			r.Site = v
		} else {
			r.Template = v
		}
	}
}

// unique reports a value (key) that an earlier row has too, on this row and, once, on the earlier row.
func (p *parser) unique(ri int, col string, seen map[string]int, key, v, why string) {
	first, ok := seen[key]
	if !ok {
		seen[key] = ri
		return
	}
	p.problem(ri, col, v, fmt.Sprintf("%s is also in row %d: %s", v, p.file.Rows[first].Line, why))
	if p.dupSeen == nil {
		p.dupSeen = map[dupKey]bool{}
	}
	if k := (dupKey{first, col}); !p.dupSeen[k] {
		p.dupSeen[k] = true
		fv := p.file.Rows[first].UserPrincipalName
		if col == ColNumber {
			fv = p.file.Rows[first].Number
		}
		p.problem(first, col, fv, fmt.Sprintf("%s is repeated in row %d: %s", fv, p.file.Rows[ri].Line, why))
	}
}

// formulaStarts are the characters a spreadsheet takes as the start of a formula.
const formulaStarts = "=+-@"

// cell trims a cell and refuses it (false) when it could run as a formula or holds control characters.
func (p *parser) cell(ri int, c *column, raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	v := strings.TrimSpace(raw)
	switch {
	case raw[0] == '\t' || raw[0] == '\r':
		p.problem(ri, c.name, raw, "the cell begins with a tab or carriage return, which can make a spreadsheet run what follows "+
			"as a formula (CSV injection): remove it")
		return "", false
	case v != "" && strings.IndexByte(formulaStarts, v[0]) >= 0 && !(c.kind == colNumber && phoneLike(v)):
		msg := fmt.Sprintf("the cell begins with %q, which makes a spreadsheet run it as a formula (CSV injection), so it is refused: ", v[:1])
		if c.kind == colNumber {
			msg += "write the number as +442079460101 or tel:+442079460101"
		} else {
			msg += fmt.Sprintf("remove the %q", v[:1])
		}
		p.problem(ri, c.name, v, msg)
		return "", false
	}
	list := c.kind == colLicences || c.kind == colAddOns || c.kind == colAddOnsFor
	for _, r := range v {
		if r == '\n' && list {
			continue
		}
		if invisible(r) {
			what := "a control character"
			if r == '\n' || r == '\r' {
				what = "a line break"
			}
			p.problem(ri, c.name, v, fmt.Sprintf("the cell holds %s (%U): remove it", what, r))
			return "", false
		}
	}
	return v, true
}

// invisible reports control characters, invisible format characters (zero-width spaces, bidirectional overrides,
// byte order marks) and line or paragraph separators.
func invisible(r rune) bool {
	if r < utf8.RuneSelf {
		return r < ' ' || r == 0x7f
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// phoneLike reports a "+" followed by digits and the punctuation people write numbers with: a number, not a formula.
func phoneLike(v string) bool {
	if len(v) < 2 || v[0] != '+' {
		return false
	}
	digit := false
	for _, r := range v[1:] {
		switch {
		case '0' <= r && r <= '9':
			digit = true
		case strings.ContainsRune(numberPunct, r):
		default:
			return false
		}
	}
	return digit
}

// numberPunct are the characters dropped from a telephone number (as numbers.ParseE164 does).
const numberPunct = " \t-().\u00a0"

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseNumber returns a telephone number in E.164 form, or why it is not one. It follows numbers.ParseE164 and
// also accepts a "tel:" in front (which keeps Excel from reading the number as arithmetic).
func parseNumber(v string) (string, string) {
	s := v
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = strings.TrimSpace(s[4:])
	}
	if i := strings.Index(strings.ToLower(s), ";ext="); i >= 0 {
		return "", "put the extension in the extension column, and only the number here"
	}
	if excelScientific(s) {
		return "", "Excel has turned the number into a rounded figure and lost digits: format the column as Text, then " +
			"type the number as +442079460101 or tel:+442079460101"
	}
	n := s
	if strings.ContainsAny(s, numberPunct) {
		var b strings.Builder
		b.Grow(len(s))
		for _, r := range s {
			if !strings.ContainsRune(numberPunct, r) {
				b.WriteRune(r)
			}
		}
		n = b.String()
	}
	if !strings.HasPrefix(n, "+") {
		if isDigits(n) {
			return "", "a number starts with + and the country code (+442079460101): Excel drops the + unless the column " +
				"is formatted as Text, or write tel:+442079460101"
		}
		return "", "a number starts with + and the country code, in E.164 (+442079460101 or tel:+442079460101)"
	}
	digits := n[1:]
	switch {
	case strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }):
		return "", "a number holds only digits after the + (spaces, dashes, dots and parentheses are allowed)"
	case len(digits) < MinNumberDigits || len(digits) > MaxNumberDigits:
		return "", fmt.Sprintf("%d digits: an E.164 number has %d to %d digits after the +", len(digits), MinNumberDigits, MaxNumberDigits)
	case digits[0] == '0':
		return "", "a number does not start with +0: the country code comes first (+44…)"
	}
	return n, ""
}

// excelScientific reports a figure such as 4.42079E+11, which Excel writes for a long number in a General column.
func excelScientific(s string) bool {
	e := strings.IndexAny(s, "eE")
	if e <= 0 || e+2 > len(s) || s[e+1] != '+' {
		return false
	}
	mant, exp := s[:e], s[e+2:]
	whole, frac, _ := strings.Cut(mant, ".")
	return isDigits(whole) && (frac == "" || isDigits(frac)) && isDigits(exp)
}

// checkUPN returns why s is not a user principal name, or "".
func checkUPN(s string) string {
	const form = "a user principal name has the form name@domain (adele.vance@contoso.com)"
	at := strings.IndexByte(s, '@')
	if at < 0 || strings.Count(s, "@") > 1 {
		return form
	}
	local, dom := s[:at], s[at+1:]
	switch {
	case local == "" || dom == "":
		return form
	case len(s) > MaxUPNLength:
		return fmt.Sprintf("%d characters: a user principal name has at most %d", len(s), MaxUPNLength)
	case len(local) > MaxUPNPrefix:
		return fmt.Sprintf("%d characters before the @: at most %d", len(local), MaxUPNPrefix)
	}
	for _, r := range local {
		if !(r < utf8.RuneSelf && (isAlnum(byte(r)) || strings.IndexByte("'.-_!#^~", byte(r)) >= 0)) {
			return fmt.Sprintf("%q is not allowed before the @: letters, digits and ' . - _ ! # ^ ~ are", r)
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "the name before the @ does not start or end with a dot, nor have two dots in a row"
	}
	if !strings.Contains(dom, ".") {
		return "the domain after the @ has a dot in it (contoso.com)"
	}
	for l := range strings.SplitSeq(dom, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("%q is not a domain: its parts are letters, digits and dashes, separated by dots", dom)
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return fmt.Sprintf("%q is not a domain: its parts are letters, digits and dashes, separated by dots", dom)
			}
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// items splits a list cell at ";" and line breaks, trimmed, empty items dropped.
func items(v string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for it := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ';' || r == '\n' }) {
			if it = strings.TrimSpace(it); it != "" && !yield(it) {
				return
			}
		}
	}
}

// licences resolves the licences cell. It returns the licences found and the references that did not resolve
// (normalised), which later checks stay quiet about.
func (p *parser) licences(ri int, v string) ([]*product, map[string]bool) {
	lics := p.lics[:0]
	defer func() { p.lics = lics[:0] }()
	var unresolved map[string]bool
	for it := range items(v) {
		res := p.resolve(it)
		if res.prod == nil {
			p.problem(ri, ColLicences, it, res.msg)
			if unresolved == nil {
				unresolved = map[string]bool{}
			}
			unresolved[normName(it)] = true
			continue
		}
		if slices.ContainsFunc(lics, func(l *product) bool { return l.skuID == res.prod.skuID }) {
			p.problem(ri, ColLicences, it, fmt.Sprintf("%s (%s) is listed twice", res.prod.label(), res.prod.name))
			continue
		}
		lics = append(lics, res.prod)
	}
	return lics, unresolved
}

// addOnCell is a non-empty cell of a per-licence add-on column.
type addOnCell struct {
	col *column
	v   string
}

// planState is an add-on entry met in the row.
type planState struct {
	sku, plan string // skuId, plan id
	off       bool
	item      string
}

// applyAddOns reads the addOns cell and the per-licence add-on cells against the row's licences, and sets the
// row's licences with their disabled plans. licencesBad means the licences cell was refused outright.
func (p *parser) applyAddOns(ri int, addOns string, perLics []addOnCell, lics []*product, unresolved map[string]bool, licencesBad bool) {
	states := p.states[:0]
	defer func() { p.states = states[:0] }()
	quiet := len(unresolved) > 0 || licencesBad // some licence of the row is unknown: unmatched add-ons may be its
	if addOns != "" {
		if len(lics) == 0 && !quiet {
			p.problem(ri, ColAddOns, addOns, "add-ons without licences: list the licences they belong to in licences")
		} else {
			for it := range items(addOns) {
				p.addOn(ri, ColAddOns, it, nil, lics, unresolved, quiet, &states)
			}
		}
	}
	for _, c := range perLics {
		if !slices.ContainsFunc(lics, func(l *product) bool { return l.skuID == c.col.prod.skuID }) {
			p.problem(ri, c.col.name, c.v, fmt.Sprintf("this column sets add-ons of %s (%s), which is not in the row's licences: "+
				"add it to licences, or empty the cell", c.col.prod.label(), c.col.prod.name))
			continue
		}
		for it := range items(c.v) {
			p.addOn(ri, c.col.name, it, c.col.prod, lics, unresolved, quiet, &states)
		}
	}
	if len(lics) == 0 {
		return
	}
	out := make([]Licence, len(lics))
	for i, l := range lics {
		out[i] = Licence{SkuID: l.skuID, PartNumber: l.part}
		n := 0
		for _, st := range states {
			if st.sku == l.skuID && st.off {
				n++
			}
		}
		if n == 0 {
			continue
		}
		out[i].DisabledPlans = make([]string, 0, n)
		for _, st := range states {
			if st.sku == l.skuID && st.off {
				out[i].DisabledPlans = append(out[i].DisabledPlans, st.plan)
			}
		}
		slices.Sort(out[i].DisabledPlans)
	}
	p.file.Rows[ri].Licences = out
}

// addOn reads one add-on entry, [licence:]plan=on|off. fixed is the licence of a per-licence column.
func (p *parser) addOn(ri int, col, it string, fixed *product, lics []*product, unresolved map[string]bool, quiet bool,
	states *[]planState) {
	eq := strings.LastIndexByte(it, '=')
	if eq < 0 {
		p.problem(ri, col, it, fmt.Sprintf("say whether the add-on is on or off: %s=off (or %s=on); "+
			"a licence's service plans are on unless switched off", it, it))
		return
	}
	var off bool
	switch state := strings.TrimSpace(it[eq+1:]); {
	case strings.EqualFold(state, "off"):
		off = true
	case strings.EqualFold(state, "on"):
	default:
		p.problem(ri, col, it, "after the = write on or off (SWAY=off)")
		return
	}
	ref := strings.TrimSpace(it[:eq])
	var licRef, planRef string
	if c := strings.LastIndexByte(ref, ':'); c >= 0 {
		licRef, planRef = strings.TrimSpace(ref[:c]), strings.TrimSpace(ref[c+1:])
	} else {
		planRef = ref
	}
	if planRef == "" {
		p.problem(ri, col, it, "name the service plan before the = (SWAY=off)")
		return
	}

	var target *product
	switch {
	case licRef != "":
		res := p.resolve(licRef)
		cands := res.cands
		if res.prod != nil {
			cands = []string{res.prod.skuID}
		}
		if len(cands) == 0 {
			if !unresolved[normName(licRef)] {
				p.problem(ri, col, it, res.msg)
			}
			return
		}
		for _, l := range lics {
			if slices.Contains(cands, l.skuID) {
				target = l
			}
		}
		switch {
		case target == nil && !quiet:
			p.problem(ri, col, it, fmt.Sprintf("%s is not in the row's licences (%s): add it to licences, or correct the name",
				quote(licRef), partList(lics)))
			return
		case target == nil:
			return
		case fixed != nil && target != fixed:
			p.problem(ri, col, it, fmt.Sprintf("this column sets add-ons of %s only: move the entry to the addOns column", fixed.label()))
			return
		}
	case fixed != nil:
		target = fixed
	default:
		var in []*product
		for _, l := range lics {
			if l.has(planRef) {
				in = append(in, l)
			}
		}
		switch {
		case len(in) == 0 && quiet:
			return
		case len(in) == 0:
			p.problem(ri, col, it, fmt.Sprintf("%s is not a service plan of %s", quote(planRef), partList(lics)))
			return
		case len(in) > 1:
			p.problem(ri, col, it, fmt.Sprintf("%s is a service plan of %s: name the licence first, as %s:%s",
				quote(planRef), partList(in), in[0].label(), strings.TrimSpace(it)))
			return
		}
		target = in[0]
	}

	pl, ok := target.plan(planRef)
	if !ok {
		msg := fmt.Sprintf("%s is not a service plan of %s (%s)", quote(planRef), target.label(), target.name)
		if is := target.byFriendly[normName(planRef)]; len(is) > 1 {
			var names []string
			for _, i := range is {
				names = append(names, target.plans[i].Name)
			}
			msg = fmt.Sprintf("several service plans of %s are called %s: write the plan's name, one of %s",
				target.label(), quote(planRef), strings.Join(names, ", "))
		}
		p.problem(ri, col, it, msg)
		return
	}
	i := slices.IndexFunc(*states, func(s planState) bool { return s.sku == target.skuID && s.plan == pl.ID })
	switch {
	case i < 0:
		*states = append(*states, planState{sku: target.skuID, plan: pl.ID, off: off, item: it})
	case (*states)[i].off == off:
		p.problem(ri, col, it, fmt.Sprintf("%s of %s is listed twice (also as %s)", pl.Name, target.label(), quote((*states)[i].item)))
	default:
		p.problem(ri, col, it, fmt.Sprintf("%s of %s is switched both on and off (also %s): keep one", pl.Name, target.label(),
			quote((*states)[i].item)))
	}
}

func partList(ps []*product) string {
	if len(ps) == 0 {
		return "no licence"
	}
	names := make([]string, len(ps))
	for i, pr := range ps {
		names[i] = pr.label()
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
