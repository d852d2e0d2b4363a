// Package usage computes licence usage: which licence factor (category) each licensed user falls into, by the
// provider's (or a customer's) ordered factor rules, and how many users each factor counts. It is pure: the
// caller reads users from the store and streams them through a Counter, whose memory does not grow with the
// number of users.
//
// Patterns are Go regular expressions (RE2 syntax: no backtracking, so no pattern can take exponential time),
// matched case-insensitively against the whole attribute value: the pattern p is compiled as (?i)^(?:p)$. Whole-
// value matching is what an admin expects of a field that says "Department: Sales" (it must not also catch
// "Pre-Sales Support"), it is how sites match their criteria, and a substring or prefix search stays one ".*"
// away ("Sales.*", ".*@contoso\.com"). A pattern can still switch case-insensitivity off with (?-i).
package usage

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seatwise/seatwise/shared/domain"
)

// Limits of a rule list.
const (
	MaxRules       = 50
	MaxCriteria    = 20
	MaxPattern     = 500 // characters
	MaxRuleName    = 80  // characters
	MaxRuleID      = 64
	maxPatternNote = 60 // how much of a pattern an error message quotes
)

// field identifies a criterion field.
type field int

const (
	fUPN field = iota
	fDisplayName
	fMail
	fDepartment
	fCity
	fOffice
	fUsageLocation
	fCountry
	fSKU
	fGroup
	fNumberType
	fNumber
	fExtension
	fSite
	fAccountType
	fAccountEnabled
)

// fieldIDs maps each domain.FactorFields name to its field (the two lists are in the same order).
var fieldIDs = func() map[string]field {
	m := make(map[string]field, len(domain.FactorFields))
	for i, name := range domain.FactorFields {
		m[strings.ToLower(name)] = field(i)
	}
	return m
}()

// enumerated lists the values a field can take, for the fields that have a fixed set: a pattern that matches none
// of them is a mistake (a typo) that would silently count nobody.
var enumerated = map[field][]string{
	fNumberType: {domain.NumberDirectRouting, domain.NumberOperatorConnect, domain.NumberCallingPlan, ""},
	fAccountType: {domain.AccountUser, domain.AccountResourceAccount, domain.AccountGuest,
		domain.AccountSfbOnPremUser, domain.AccountUnknown},
	fAccountEnabled: {"true", "false"},
}

var managedByValues = []string{domain.ManagedByAny, domain.ManagedByTemplate, domain.ManagedByUI, domain.ManagedByNone}

var ruleIDChars = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Compiled is a validated, compiled rule list. It is immutable and safe for concurrent use.
type Compiled struct {
	src   []domain.FactorRule
	rules []rule
}

type rule struct {
	enabled   bool
	managedBy string
	crit      []matcher
}

// matcher is one compiled criterion. Most patterns are plain words ("directRouting", "user"): they compare
// without the regexp engine.
type matcher struct {
	field field
	kind  matchKind
	lit   string
	re    *regexp.Regexp
}

type matchKind int

const (
	matchRegexp    matchKind = iota
	matchFold                // the whole value equals lit, case-insensitively
	matchEqual               // the whole value equals lit exactly ((?-i) literal)
	matchAny                 // "(?s).*": every value
	matchNoNewline           // ".*": every value without a newline
)

// Compile validates rules and compiles them. It trims the ids, names, fields, managedBy values and patterns, and
// spells fields as domain.FactorFields do (a field name is accepted in any letter case); Rules returns the result,
// which is what should be stored. Disabled rules are validated and kept (they count nobody).
//
// Errors: an EInvalid *domain.Error whose Fields name every problem by the JSON path of the input, e.g.
// "rules[2].criteria[0].pattern": "invalid regular expression: missing closing ): `(abc`". It checks: at most
// MaxRules rules; ids 1..MaxRuleID of letters, digits, '.', '_', '-', unique; names 1..MaxRuleName characters
// without control characters, unique ignoring letter case; managedBy "", template, ui or none; at most MaxCriteria
// criteria per rule, each of a known field with a valid pattern of at most MaxPattern characters that, for the
// fields with a fixed set of values (numberType, accountType, accountEnabled), matches at least one of them. Past
// MaxRules rules or MaxCriteria criteria, the rest is not looked at.
func Compile(rules []domain.FactorRule) (*Compiled, error) {
	fields := map[string]string{}
	if len(rules) > MaxRules {
		fields["rules"] = fmt.Sprintf("at most %d rules (there are %d)", MaxRules, len(rules))
		rules = rules[:MaxRules] // the others are not looked at: the list is refused anyway
	}
	c := &Compiled{src: make([]domain.FactorRule, len(rules)), rules: make([]rule, len(rules))}
	ids, names := map[string]int{}, map[string]int{}
	for i, in := range rules {
		at := fmt.Sprintf("rules[%d]", i)
		r := domain.FactorRule{
			ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name), Enabled: in.Enabled,
			ManagedBy: strings.TrimSpace(in.ManagedBy), Criteria: make([]domain.FactorCriterion, len(in.Criteria)),
		}
		switch {
		case r.ID == "":
			fields[at+".id"] = "required"
		case len(r.ID) > MaxRuleID:
			fields[at+".id"] = fmt.Sprintf("at most %d characters", MaxRuleID)
		case !ruleIDChars.MatchString(r.ID):
			fields[at+".id"] = "only letters, digits, '.', '_' and '-'"
		default:
			if j, dup := ids[r.ID]; dup {
				fields[at+".id"] = fmt.Sprintf("%q is also the id of rules[%d]", r.ID, j)
			} else {
				ids[r.ID] = i
			}
		}
		switch {
		case r.Name == "":
			fields[at+".name"] = "required"
		case utf8.RuneCountInString(r.Name) > MaxRuleName:
			fields[at+".name"] = fmt.Sprintf("at most %d characters", MaxRuleName)
		case strings.IndexFunc(r.Name, unicode.IsControl) >= 0:
			fields[at+".name"] = "must not contain control characters"
		default:
			key := strings.ToLower(r.Name)
			if j, dup := names[key]; dup {
				fields[at+".name"] = fmt.Sprintf("%q is also the name of rules[%d]", r.Name, j)
			} else {
				names[key] = i
			}
		}
		if !slices.Contains(managedByValues, r.ManagedBy) {
			fields[at+".managedBy"] = fmt.Sprintf("unknown value %q: empty (any), %s, %s or %s", r.ManagedBy,
				domain.ManagedByTemplate, domain.ManagedByUI, domain.ManagedByNone)
		}
		if len(in.Criteria) > MaxCriteria {
			fields[at+".criteria"] = fmt.Sprintf("at most %d criteria per rule (there are %d)", MaxCriteria, len(in.Criteria))
			in.Criteria = in.Criteria[:MaxCriteria]
		}
		cr := rule{enabled: r.Enabled, managedBy: r.ManagedBy, crit: make([]matcher, 0, len(in.Criteria))}
		for k, ic := range in.Criteria {
			cat := fmt.Sprintf("%s.criteria[%d]", at, k)
			crit := domain.FactorCriterion{Field: strings.TrimSpace(ic.Field), Pattern: strings.TrimSpace(ic.Pattern)}
			f, known := fieldIDs[strings.ToLower(crit.Field)]
			switch {
			case crit.Field == "":
				fields[cat+".field"] = "required: one of " + strings.Join(domain.FactorFields, ", ")
			case !known:
				fields[cat+".field"] = fmt.Sprintf("unknown field %q: one of %s", crit.Field, strings.Join(domain.FactorFields, ", "))
			default:
				crit.Field = domain.FactorFields[f]
			}
			r.Criteria[k] = crit
			m, why := compilePattern(f, crit.Pattern)
			if why != "" {
				fields[cat+".pattern"] = why
				continue
			}
			if known {
				if values, fixed := enumerated[f]; fixed && !slices.ContainsFunc(values, m.match) {
					fields[cat+".pattern"] = fmt.Sprintf("matches no %s: the values are %s", crit.Field, describe(values))
				}
			}
			cr.crit = append(cr.crit, m)
		}
		c.src[i], c.rules[i] = r, cr
	}
	if len(fields) > 0 {
		return nil, &domain.Error{Code: domain.EInvalid, Message: "invalid licence factor rules", Fields: fields}
	}
	return c, nil
}

// MustCompile is Compile for rules known to be valid (DefaultRules, tests); it panics on an error.
func MustCompile(rules []domain.FactorRule) *Compiled {
	c, err := Compile(rules)
	if err != nil {
		panic(fmt.Sprintf("usage: %v (%v)", err, err.(*domain.Error).Fields))
	}
	return c
}

// compilePattern compiles pattern for field f, or says why it cannot.
func compilePattern(f field, pattern string) (matcher, string) {
	if n := utf8.RuneCountInString(pattern); n > MaxPattern {
		return matcher{}, fmt.Sprintf("at most %d characters (there are %d)", MaxPattern, n)
	}
	if f == fNumber && strings.HasPrefix(pattern, "+") {
		// A leading "+" is never valid RE2 (a repetition of nothing): in an E.164 number it means the "+".
		pattern = `\+` + pattern[1:]
	}
	// Check the pattern alone first, so that an error quotes what the admin wrote, not our wrapping of it.
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return matcher{}, "invalid regular expression: " + syntaxMessage(err)
	}
	full := "(?i)^(?:" + pattern + ")$"
	re, err := regexp.Compile(full)
	if err != nil {
		return matcher{}, "invalid regular expression: " + syntaxMessage(err)
	}
	m := matcher{field: f, kind: matchRegexp, re: re}
	if parsed, err := syntax.Parse(full, syntax.Perl); err == nil {
		m.kind, m.lit = simpleKind(parsed.Simplify())
	}
	return m, ""
}

// simpleKind recognises the compiled forms of a whole-value literal (^lit$, case-folded or not) and of ^.*$.
func simpleKind(re *syntax.Regexp) (matchKind, string) {
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	if len(subs) < 2 || subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return matchRegexp, ""
	}
	mid := subs[1 : len(subs)-1]
	switch {
	case len(mid) == 0 || len(mid) == 1 && mid[0].Op == syntax.OpEmptyMatch:
		return matchEqual, ""
	case len(mid) != 1:
		return matchRegexp, ""
	case mid[0].Op == syntax.OpLiteral && mid[0].Flags&syntax.FoldCase != 0:
		return matchFold, string(mid[0].Rune)
	case mid[0].Op == syntax.OpLiteral:
		return matchEqual, string(mid[0].Rune)
	case mid[0].Op == syntax.OpStar && mid[0].Sub[0].Op == syntax.OpAnyChar:
		return matchAny, ""
	case mid[0].Op == syntax.OpStar && mid[0].Sub[0].Op == syntax.OpAnyCharNotNL:
		return matchNoNewline, ""
	}
	return matchRegexp, ""
}

// syntaxMessage is a regexp error without Go's "error parsing regexp: " prefix, quoting at most maxPatternNote
// characters of the offending text.
func syntaxMessage(err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	expr := se.Expr
	if utf8.RuneCountInString(expr) > maxPatternNote {
		expr = string([]rune(expr)[:maxPatternNote]) + "…"
	}
	return fmt.Sprintf("%s: `%s`", se.Code, expr)
}

func describe(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		if v == "" {
			q[i] = `"" (none)`
		} else {
			q[i] = v
		}
	}
	return strings.Join(q, ", ")
}

// match reports whether the whole of v matches.
func (m *matcher) match(v string) bool {
	switch m.kind {
	case matchFold:
		return strings.EqualFold(v, m.lit)
	case matchEqual:
		return v == m.lit
	case matchAny:
		return true
	case matchNoNewline:
		return !strings.ContainsRune(v, '\n')
	}
	return m.re.MatchString(v)
}

// matchList reports whether any element of vs matches (the empty value when vs is empty).
func (m *matcher) matchList(vs []string) bool {
	if len(vs) == 0 {
		return m.match("")
	}
	return slices.ContainsFunc(vs, m.match)
}

// Rules returns the normalised rules (a copy), in order.
func (c *Compiled) Rules() []domain.FactorRule {
	out := make([]domain.FactorRule, len(c.src))
	for i, r := range c.src {
		r.Criteria = slices.Clone(r.Criteria)
		out[i] = r
	}
	return out
}

// Len is the number of rules, disabled ones included.
func (c *Compiled) Len() int { return len(c.src) }

// Index returns the position of the rule with the given id.
func (c *Compiled) Index(ruleID string) (int, bool) {
	i := slices.IndexFunc(c.src, func(r domain.FactorRule) bool { return r.ID == ruleID })
	return i, i >= 0
}

// Match returns the index (in Rules) of the first enabled rule that matches the user: its ManagedBy matches
// f.ManagedBy ("" any; "none" = f.ManagedBy is ""), and every one of its criteria matches. ok is false when none
// does. Match does not look at whether the user is licensed (Counter does).
func (c *Compiled) Match(f UserFacts) (ruleIndex int, ok bool) {
	return c.match(&f)
}

func (c *Compiled) match(f *UserFacts) (int, bool) {
	for i := range c.rules {
		if c.rules[i].matches(f) {
			return i, true
		}
	}
	return -1, false
}

func (r *rule) matches(f *UserFacts) bool {
	if !r.enabled {
		return false
	}
	switch r.managedBy {
	case domain.ManagedByAny:
	case domain.ManagedByNone:
		if f.ManagedBy != "" {
			return false
		}
	default:
		if f.ManagedBy != r.managedBy {
			return false
		}
	}
	for i := range r.crit {
		if !r.crit[i].matchFacts(f) {
			return false
		}
	}
	return true
}

func (m *matcher) matchFacts(f *UserFacts) bool {
	switch m.field {
	case fUPN:
		return m.match(f.UserPrincipalName)
	case fDisplayName:
		return m.match(f.DisplayName)
	case fMail:
		return m.match(f.Mail)
	case fDepartment:
		return m.match(f.Department)
	case fCity:
		return m.match(f.City)
	case fOffice:
		return m.match(f.Office)
	case fUsageLocation:
		return m.match(f.UsageLocation)
	case fCountry:
		return m.match(f.Country)
	case fSKU:
		return m.matchList(f.SKUs)
	case fGroup:
		return m.matchList(f.Groups)
	case fNumberType:
		return m.match(f.NumberType)
	case fNumber:
		return m.match(f.Number)
	case fExtension:
		return m.match(f.Extension)
	case fSite:
		return m.match(f.SiteID)
	case fAccountType:
		return m.match(f.AccountType)
	case fAccountEnabled:
		if f.AccountEnabled {
			return m.match("true")
		}
		return m.match("false")
	}
	return false
}
