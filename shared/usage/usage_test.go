package usage_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/usage"
)

// count streams members through a counter of rules.
func count(t testing.TB, rules []domain.FactorRule, members []member) domain.Usage {
	t.Helper()
	c, err := usage.Compile(rules)
	td.Require(t).CmpNoError(err)
	k := usage.NewCounter(c)
	for _, m := range members {
		k.Add(usage.FactsOf(m.user, m.prov, m.managedBy))
	}
	return k.Result()
}

// counts returns the factor counts of u by rule id.
func counts(u domain.Usage) map[string]int {
	m := map[string]int{}
	for _, f := range u.Factors {
		m[f.RuleID] = f.Count
	}
	return m
}

// invalidFields returns the Fields of err, which must be an EInvalid *domain.Error.
func invalidFields(t *testing.T, err error) map[string]string {
	t.Helper()
	td.Require(t).Cmp(domain.ErrorCode(err), domain.EInvalid, "error: %v", err)
	return err.(*domain.Error).Fields
}

func rule(id, name string, crit ...string) domain.FactorRule {
	r := domain.FactorRule{ID: id, Name: name, Enabled: true, Criteria: []domain.FactorCriterion{}}
	for i := 0; i+1 < len(crit); i += 2 {
		r.Criteria = append(r.Criteria, domain.FactorCriterion{Field: crit[i], Pattern: crit[i+1]})
	}
	return r
}

func TestWorkedExample(t *testing.T) {
	// "500 acquired, 370 currently licensed: 200 on Direct Routing, 100 on Operator Connect, 50 changed by hand,
	// 20 service numbers". Direct Routing users were provisioned by template, changed by hand since, or never
	// touched by Seatwise: they count under Direct Routing however they were managed. The service numbers are
	// resource accounts holding Direct Routing numbers, provisioned by template: they count as service numbers.
	members := generate(of(drUser, 120), of(drByHand, 50), of(drUnmanaged, 30), of(ocUser, 100), of(byHand, 50),
		of(serviceNum, 20), of(unlicensed, 25), of(removed, 5))
	got := count(t, usage.DefaultRules(), members)
	td.Cmp(t, got, domain.Usage{
		Licensed: 370, Unmatched: 0,
		Factors: []domain.FactorCount{
			{RuleID: usage.RuleDirectRouting, Name: "Managed Users – Direct Routing", Enabled: true, Count: 200},
			{RuleID: usage.RuleOperatorConnect, Name: "Managed Users – Operator Connect", Enabled: true, Count: 100},
			{RuleID: usage.RuleByTemplate, Name: "Managed Users – By Template", Enabled: true, Count: 0},
			{RuleID: usage.RuleByUI, Name: "Managed Users – By User Interface", Enabled: true, Count: 50},
			{RuleID: usage.RuleServiceNumbers, Name: "Managed Service Numbers", Enabled: true, Count: 20},
		},
		BySKU: map[string]int{"SPE_E3": 300, "MCOEV": 300, "ENTERPRISEPACK": 50, "PHONESYSTEM_VIRTUALUSER": 20},
	})
}

func TestDefaultRulesOtherCategories(t *testing.T) {
	members := generate(of(byTemplate, 7), of(unmanaged, 3), of(serviceNum, 2))
	got := count(t, usage.DefaultRules(), members)
	td.Cmp(t, got.Licensed, 12)
	td.Cmp(t, counts(got), map[string]int{usage.RuleDirectRouting: 0, usage.RuleOperatorConnect: 0,
		usage.RuleByTemplate: 7, usage.RuleByUI: 0, usage.RuleServiceNumbers: 2})
	td.Cmp(t, got.Unmatched, 3, "Calling Plan users Seatwise never changed")

	// The service numbers do not depend on the order of the rules: the Managed Users rules require accountType user.
	reversed := usage.DefaultRules()
	slices.Reverse(reversed)
	got = count(t, reversed, generate(of(serviceNum, 4), of(drUser, 3)))
	td.Cmp(t, counts(got), map[string]int{usage.RuleServiceNumbers: 4, usage.RuleByUI: 0, usage.RuleByTemplate: 3,
		usage.RuleOperatorConnect: 0, usage.RuleDirectRouting: 0},
		"reversed: service numbers unchanged; the template rule now comes before Direct Routing")
}

func TestCountedOnceByFirstMatch(t *testing.T) {
	rules := []domain.FactorRule{
		rule("london", "London", domain.FactorCity, "london"),
		rule("sales", "Sales", domain.FactorDepartment, "sales"),
	}
	u := domain.User{ID: "u1", City: "London", Department: "Sales", Licences: []domain.Licence{{SkuID: skuE3}}}
	c := usage.MustCompile(rules)
	i, ok := c.Match(usage.FactsOf(u, domain.Provisioning{}, ""))
	td.Cmp(t, i, 0)
	td.Cmp(t, ok, true)

	k := usage.NewCounter(c)
	k.Add(usage.FactsOf(u, domain.Provisioning{}, ""))
	got := k.Result()
	td.Cmp(t, got.Licensed, 1)
	td.Cmp(t, counts(got), map[string]int{"london": 1, "sales": 0})

	// Swapping the rules swaps the factor that counts the user.
	got = count(t, []domain.FactorRule{rules[1], rules[0]}, []member{{user: u}})
	td.Cmp(t, counts(got), map[string]int{"london": 0, "sales": 1})
}

func TestDisabledRulesSkipped(t *testing.T) {
	rules := usage.DefaultRules()
	rules[0].Enabled = false // Direct Routing off: those users fall to the next rule that matches them
	got := count(t, rules, generate(of(drUser, 4), of(drByHand, 3), of(drUnmanaged, 2), of(serviceNum, 1)))
	td.Cmp(t, got.Factors[0], domain.FactorCount{RuleID: usage.RuleDirectRouting, Name: "Managed Users – Direct Routing", Enabled: false, Count: 0})
	td.Cmp(t, counts(got), map[string]int{usage.RuleDirectRouting: 0, usage.RuleOperatorConnect: 0,
		usage.RuleByTemplate: 4, usage.RuleByUI: 3, usage.RuleServiceNumbers: 1})
	td.Cmp(t, got.Unmatched, 2)
	td.Cmp(t, got.Licensed, 10)

	_, ok := usage.MustCompile([]domain.FactorRule{{ID: "all", Name: "All"}}).Match(usage.UserFacts{SKUs: []string{"X"}})
	td.Cmp(t, ok, false, "a disabled catch-all matches nobody")
	_, ok = usage.MustCompile([]domain.FactorRule{{ID: "all", Name: "All", Enabled: true}}).Match(usage.UserFacts{SKUs: []string{"X"}})
	td.Cmp(t, ok, true, "an enabled rule without criteria matches everybody")
}

func TestCaseInsensitiveWholeValue(t *testing.T) {
	f := usage.UserFacts{UserPrincipalName: "Ada.Lovelace@Contoso.COM", Department: "Pre-Sales Support",
		City: "LONDON", NumberType: domain.NumberDirectRouting, SKUs: []string{"SPE_E3"}, AccountType: domain.AccountUser}
	for _, tc := range []struct {
		field, pattern string
		want           bool
	}{
		{domain.FactorCity, "london", true},
		{domain.FactorCity, "London", true},
		{domain.FactorCity, "Lond", false}, // the whole value, not a prefix
		{domain.FactorCity, "Lond.*", true},
		{domain.FactorCity, "(?-i)London", false}, // case-sensitive on request
		{domain.FactorCity, "(?-i)LONDON", true},
		{domain.FactorDepartment, "sales", false}, // not a substring
		{domain.FactorDepartment, ".*sales.*", true},
		{domain.FactorUPN, `.*@contoso\.com`, true},
		{domain.FactorUPN, `ada\.lovelace@contoso\.com|bob@contoso\.com`, true}, // alternatives, anchored as a whole
		{domain.FactorUPN, `bob@contoso\.com|ada.*`, true},
		{domain.FactorUPN, `bob@contoso\.com|lovelace`, false},
		{domain.FactorNumberType, "DIRECTROUTING", true},
		{domain.FactorNumberType, "directRouting|operatorConnect", true},
		{domain.FactorNumberType, "", false}, // "" = no number
		{domain.FactorMail, "", true},        // empty attribute
		{domain.FactorMail, ".*", true},
		{domain.FactorMail, ".+", false},
		{domain.FactorSKU, "spe_e3", true},
		{domain.FactorAccountType, "USER", true},
		{domain.FactorAccountEnabled, "false", true},
	} {
		c, err := usage.Compile([]domain.FactorRule{rule("r", "R", tc.field, tc.pattern)})
		if !td.CmpNoError(t, err, "%s %q", tc.field, tc.pattern) {
			continue
		}
		_, ok := c.Match(f)
		td.Cmp(t, ok, tc.want, "%s %q", tc.field, tc.pattern)
	}
}

func TestSKUCriterionOverLicences(t *testing.T) {
	u := domain.User{ID: "u1", Licences: []domain.Licence{{SkuID: skuO365E3}, {SkuID: skuPhone}, {SkuID: skuUnknown}}}
	f := usage.FactsOf(u, domain.Provisioning{}, "")
	td.Cmp(t, f.SKUs, []string{"ENTERPRISEPACK", "MCOEV", skuUnknown})
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{"MCOEV", true},              // the second licence
		{"enterprisepack", true},     // the first
		{"MCO.*", true},              // MCOEV
		{"MCOEV_VIRTUALUSER", false}, // no licence is that
		{"SPE_E3|MCOEV", true},
		{"ENTERPRISE", false}, // whole part numbers
		{"0BADC0DE-.*", true}, // an unknown SKU by its id
	} {
		_, ok := usage.MustCompile([]domain.FactorRule{rule("r", "R", domain.FactorSKU, tc.pattern)}).Match(f)
		td.Cmp(t, ok, tc.want, "sku %q", tc.pattern)
	}

	// Two criteria over the same list must each find a licence (not necessarily the same one).
	both := rule("r", "R", domain.FactorSKU, "ENTERPRISEPACK", domain.FactorSKU, "MCOEV")
	_, ok := usage.MustCompile([]domain.FactorRule{both}).Match(f)
	td.Cmp(t, ok, true)

	got := count(t, []domain.FactorRule{rule("phone", "Phone", domain.FactorSKU, "MCOEV")},
		[]member{{user: u}, {user: domain.User{ID: "u2", Licences: []domain.Licence{{SkuID: skuO365E3}}}}})
	td.Cmp(t, got, domain.Usage{Licensed: 2, Unmatched: 1,
		Factors: []domain.FactorCount{{RuleID: "phone", Name: "Phone", Enabled: true, Count: 1}},
		BySKU:   map[string]int{"ENTERPRISEPACK": 2, "MCOEV": 1, skuUnknown: 1}})
}

func TestUnlicensedNotCounted(t *testing.T) {
	catchAll := []domain.FactorRule{{ID: "all", Name: "Everyone", Enabled: true}}
	got := count(t, catchAll, generate(of(unlicensed, 5), of(removed, 4), of(byHand, 2)))
	td.Cmp(t, got, domain.Usage{Licensed: 2, Factors: []domain.FactorCount{{RuleID: "all", Name: "Everyone", Enabled: true, Count: 2}},
		BySKU: map[string]int{"ENTERPRISEPACK": 2}})

	empty := usage.NewCounter(usage.MustCompile(nil)).Result()
	td.Cmp(t, empty, domain.Usage{Factors: []domain.FactorCount{}, BySKU: map[string]int{}})
}

func TestFactsOf(t *testing.T) {
	u := domain.User{ID: "u1", UserPrincipalName: " ada@contoso.com ", DisplayName: "Ada", Mail: "ada@contoso.com",
		Department: "Sales ", City: "London", OfficeLocation: "Floor 3", UsageLocation: "GB", Country: "UK",
		AccountEnabled: true, Status: domain.UserActive,
		Licences: []domain.Licence{
			{SkuID: strings.ToUpper(skuE3), Direct: true},
			{SkuID: skuPhone, Groups: []string{phoneGroupID}, State: "Error", Error: "CountViolation"},
		}}
	p := domain.Provisioning{UserID: "u1", SiteID: "lon", Number: "+442071234567", NumberType: domain.NumberDirectRouting, Extension: "4567"}
	td.Cmp(t, usage.FactsOf(u, p, domain.ManagedByTemplate), usage.UserFacts{
		UserID: "u1", UserPrincipalName: "ada@contoso.com", DisplayName: "Ada", Mail: "ada@contoso.com",
		Department: "Sales", City: "London", Office: "Floor 3", UsageLocation: "GB", Country: "UK", AccountEnabled: true,
		SKUs: []string{"SPE_E3", "MCOEV"}, Groups: []string{phoneGroupID},
		Number: "+442071234567", NumberType: domain.NumberDirectRouting, Extension: "4567", SiteID: "lon",
		AccountType: domain.AccountUser, ManagedBy: domain.ManagedByTemplate,
	})

	f := usage.FactsOf(u, domain.Provisioning{UserID: "someone-else", Number: "+442070000000", NumberType: domain.NumberOperatorConnect}, "bogus")
	td.Cmp(t, f, td.Struct(usage.UserFacts{UserID: "u1"}, td.StructFields{"Number": "", "NumberType": "", "ManagedBy": ""}), "another user's provisioning is ignored")
	f = usage.FactsOf(u, domain.Provisioning{UserID: "u1", SiteID: "lon", NumberType: domain.NumberDirectRouting}, domain.ManagedByNone)
	td.Cmp(t, f, td.Struct(usage.UserFacts{SiteID: "lon"}, td.StructFields{"NumberType": "", "ManagedBy": ""}), "no number, no number type")

	for _, tc := range []struct {
		user domain.User
		want string
	}{
		{domain.User{Licences: []domain.Licence{{SkuID: skuResource}}}, domain.AccountResourceAccount},
		{domain.User{Licences: []domain.Licence{{SkuID: skuE3}, {SkuID: skuResGov}}}, domain.AccountResourceAccount},
		{domain.User{UserPrincipalName: "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", Licences: []domain.Licence{{SkuID: skuE3}}}, domain.AccountGuest},
		{domain.User{Licences: []domain.Licence{{SkuID: skuPhone}}}, domain.AccountUser},
		{domain.User{}, domain.AccountUser},
	} {
		td.Cmp(t, usage.FactsOf(tc.user, domain.Provisioning{}, "").AccountType, tc.want, "%v", tc.user)
	}

	gone := u
	gone.Status = domain.UserDeleted
	f = usage.FactsOf(gone, p, "")
	td.Cmp(t, f.Licensed(), false, "a removed user no longer counts")
	td.Cmp(t, f.UserPrincipalName, "ada@contoso.com")
}

func TestNumberCriterion(t *testing.T) {
	f := usage.UserFacts{Number: "+442071234567", SKUs: []string{"MCOEV"}}
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`\+44207.*`, true},
		{`+44207.*`, true}, // a leading + is the number's
		{`+44161.*`, false},
		{`.*4567`, true},
		{`+442071234567`, true},
		{`\+44(20|161)[0-9]{8}`, true},
	} {
		_, ok := usage.MustCompile([]domain.FactorRule{rule("r", "R", domain.FactorNumber, tc.pattern)}).Match(f)
		td.Cmp(t, ok, tc.want, "number %q", tc.pattern)
	}
	_, err := usage.Compile([]domain.FactorRule{rule("r", "R", domain.FactorCity, "+44")})
	td.Cmp(t, invalidFields(t, err), map[string]string{
		"rules[0].criteria[0].pattern": "invalid regular expression: missing argument to repetition operator: `+`"},
		"only the number field takes a leading + literally")
}

func TestManagedBy(t *testing.T) {
	rules := []domain.FactorRule{
		{ID: "t", Name: "Template", Enabled: true, ManagedBy: domain.ManagedByTemplate},
		{ID: "u", Name: "UI", Enabled: true, ManagedBy: domain.ManagedByUI},
		{ID: "n", Name: "Never", Enabled: true, ManagedBy: domain.ManagedByNone},
	}
	c := usage.MustCompile(rules)
	for _, tc := range []struct {
		managedBy string
		want      int
	}{{domain.ManagedByTemplate, 0}, {domain.ManagedByUI, 1}, {"", 2}} {
		i, ok := c.Match(usage.UserFacts{ManagedBy: tc.managedBy, SKUs: []string{"X"}})
		td.Cmp(t, ok, true)
		td.Cmp(t, i, tc.want, "managedBy %q", tc.managedBy)
	}
}

func TestCompileValidation(t *testing.T) {
	good := rule("ok", "Fine", domain.FactorCity, "London")
	for _, tc := range []struct {
		name  string
		rules []domain.FactorRule
		want  map[string]string
	}{
		{"bad regexp", []domain.FactorRule{good, good, rule("r2", "Bad", domain.FactorCity, "x", domain.FactorDepartment, "(abc")}, map[string]string{
			"rules[1].id":                  `"ok" is also the id of rules[0]`,
			"rules[1].name":                `"Fine" is also the name of rules[0]`,
			"rules[2].criteria[1].pattern": "invalid regular expression: missing closing ): `(abc`",
		}},
		{"regexp errors quote the admin's text", []domain.FactorRule{
			rule("a", "A", domain.FactorCity, "abc)"), rule("b", "B", domain.FactorCity, "a**"),
			rule("c", "C", domain.FactorCity, `[z-a]`), rule("d", "D", domain.FactorCity, `\8`),
			rule("e", "E", domain.FactorCity, `x{1001}`), rule("f", "F", domain.FactorCity, `(?<name`),
			rule("g", "G", domain.FactorCity, `(?P=name)`),
		}, map[string]string{
			"rules[0].criteria[0].pattern": "invalid regular expression: unexpected ): `abc)`",
			"rules[1].criteria[0].pattern": "invalid regular expression: invalid nested repetition operator: `**`",
			"rules[2].criteria[0].pattern": "invalid regular expression: invalid character class range: `z-a`",
			"rules[3].criteria[0].pattern": "invalid regular expression: invalid escape sequence: `\\8`",
			"rules[4].criteria[0].pattern": "invalid regular expression: invalid repeat count: `{1001}`",
			"rules[5].criteria[0].pattern": "invalid regular expression: invalid named capture: `(?<name`",
			"rules[6].criteria[0].pattern": "invalid regular expression: invalid or unsupported Perl syntax: `(?P`",
		}},
		{"names, ids, fields", []domain.FactorRule{
			{ID: "", Name: " ", Enabled: true, ManagedBy: "robot", Criteria: []domain.FactorCriterion{
				{Field: "", Pattern: "x"}, {Field: "jobTitle", Pattern: "x"}}},
			{ID: "has space", Name: "FINE", Criteria: []domain.FactorCriterion{{Field: "CITY", Pattern: "x"}}},
			{ID: strings.Repeat("x", 65), Name: strings.Repeat("n", 81)},
			{ID: "ctl", Name: "tab\there"},
			good,
		}, map[string]string{
			"rules[0].id":                "required",
			"rules[0].name":              "required",
			"rules[0].managedBy":         `unknown value "robot": empty (any), template, ui or none`,
			"rules[0].criteria[0].field": "required: one of " + strings.Join(domain.FactorFields, ", "),
			"rules[0].criteria[1].field": `unknown field "jobTitle": one of ` + strings.Join(domain.FactorFields, ", "),
			"rules[1].id":                "only letters, digits, '.', '_' and '-'",
			"rules[2].id":                "at most 64 characters",
			"rules[2].name":              "at most 80 characters",
			"rules[3].name":              "must not contain control characters",
			"rules[4].name":              `"Fine" is also the name of rules[1]`,
		}},
		{"limits", []domain.FactorRule{
			{ID: "many", Name: "Many", Criteria: make([]domain.FactorCriterion, 21)},
			rule("long", "Long", domain.FactorUPN, strings.Repeat("a", 501)),
			rule("fits", "Fits", domain.FactorUPN, strings.Repeat("é", 500)),
		}, map[string]string{
			"rules[0].criteria": "at most 20 criteria per rule (there are 21)",
			// the first 20 empty criteria say what they lack too; the 21st is not looked at
			"rules[1].criteria[0].pattern": "at most 500 characters (there are 501)",
		}},
		{"enumerated values", []domain.FactorRule{
			rule("a", "A", domain.FactorNumberType, "directRoutng"),
			rule("b", "B", domain.FactorAccountType, "resource"),
			rule("c", "C", domain.FactorAccountEnabled, "yes"),
			rule("d", "D", domain.FactorNumberType, "direct.*", domain.FactorAccountType, "resourceAccount|user",
				domain.FactorAccountEnabled, "TRUE", domain.FactorNumberType, ""),
		}, map[string]string{
			"rules[0].criteria[0].pattern": `matches no numberType: the values are directRouting, operatorConnect, callingPlan, "" (none)`,
			"rules[1].criteria[0].pattern": "matches no accountType: the values are user, resourceAccount, guest, sfbOnPremUser, unknown",
			"rules[2].criteria[0].pattern": "matches no accountEnabled: the values are true, false",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := usage.Compile(tc.rules)
			got := invalidFields(t, err)
			td.Cmp(t, err.(*domain.Error).Message, "invalid licence factor rules")
			if tc.name == "limits" {
				td.Cmp(t, got, td.SuperMapOf(tc.want, nil))
				td.CmpLen(t, got, 2+20)
				return
			}
			td.Cmp(t, got, tc.want)
		})
	}

	many := make([]domain.FactorRule, 51)
	for i := range many {
		many[i] = rule(fmt.Sprint("r", i), fmt.Sprint("Rule ", i))
	}
	_, err := usage.Compile(many)
	td.Cmp(t, invalidFields(t, err), map[string]string{"rules": "at most 50 rules (there are 51)"})
	_, err = usage.Compile(many[:50])
	td.CmpNoError(t, err)
}

func TestCompileNormalises(t *testing.T) {
	c, err := usage.Compile([]domain.FactorRule{{ID: " a ", Name: " Sales ", Enabled: true, ManagedBy: " ui ",
		Criteria: []domain.FactorCriterion{{Field: " DEPARTMENT", Pattern: " Sales "}, {Field: "usagelocation", Pattern: "gb"}}}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, c.Rules(), []domain.FactorRule{{ID: "a", Name: "Sales", Enabled: true, ManagedBy: "ui",
		Criteria: []domain.FactorCriterion{{Field: "department", Pattern: "Sales"}, {Field: "usageLocation", Pattern: "gb"}}}})
	td.Cmp(t, c.Len(), 1)
	i, ok := c.Index("a")
	td.Cmp(t, []any{i, ok}, []any{0, true})
	_, ok = c.Index("b")
	td.Cmp(t, ok, false)

	// Rules returns a copy.
	c.Rules()[0].Criteria[0].Pattern = "changed"
	td.Cmp(t, c.Rules()[0].Criteria[0].Pattern, "Sales")

	// DefaultRules are valid, and a new slice each time.
	d := usage.DefaultRules()
	td.Cmp(t, usage.MustCompile(d).Rules(), d)
	d[0].Criteria[0].Pattern = "x"
	td.Cmp(t, usage.DefaultRules()[0].Criteria[0].Pattern, domain.AccountUser)
	td.Cmp(t, len(d), 5)
}

func TestDrillDown(t *testing.T) {
	members := generate(of(drUser, 25), of(byHand, 10), of(unmanaged, 3))
	c := usage.MustCompile(usage.DefaultRules())
	page := func(ruleID, after string, limit int) ([]string, bool) {
		t.Helper()
		k := usage.NewCounter(c)
		td.Require(t).CmpNoError(k.Collect(ruleID, after, limit))
		for i := len(members) - 1; i >= 0; i-- { // any order
			k.Add(usage.FactsOf(members[i].user, members[i].prov, members[i].managedBy))
		}
		return k.Collected()
	}
	ids := func(from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("u%06d", i))
		}
		return out
	}
	got, more := page(usage.RuleDirectRouting, "", 10)
	td.Cmp(t, got, ids(1, 10))
	td.Cmp(t, more, true)
	got, more = page(usage.RuleDirectRouting, "u000010", 10)
	td.Cmp(t, got, ids(11, 20))
	td.Cmp(t, more, true)
	got, more = page(usage.RuleDirectRouting, "u000020", 10)
	td.Cmp(t, got, ids(21, 25))
	td.Cmp(t, more, false)
	got, more = page(usage.RuleByUI, "", 0)
	td.Cmp(t, got, ids(26, 35))
	td.Cmp(t, more, false)
	got, more = page("", "", 0)
	td.Cmp(t, got, ids(36, 38), "the unmatched users")
	td.Cmp(t, more, false)
	got, _ = page(usage.RuleOperatorConnect, "", 5)
	td.Cmp(t, got, td.Nil())

	k := usage.NewCounter(c)
	td.Cmp(t, domain.ErrorCode(k.Collect("nope", "", 10)), domain.ENotFound)
	td.Cmp(t, domain.ErrorCode(k.Collect(usage.RuleByUI, "", -1)), domain.EInvalid)
	got, more = k.Collected()
	td.Cmp(t, got, td.Nil(), "nothing chosen")
	k.Add(usage.UserFacts{})
	td.Cmp(t, domain.ErrorCode(k.Collect(usage.RuleByUI, "", 10)), domain.EInvalid, "too late")
}

func TestEveryField(t *testing.T) {
	f := usage.UserFacts{UserID: "u1", UserPrincipalName: "ada@contoso.com", DisplayName: "Ada Lovelace",
		Mail: "ada@contoso.com", Department: "Sales", City: "London", Office: "Floor 3", UsageLocation: "GB",
		Country: "United Kingdom", AccountEnabled: true, SKUs: []string{"SPE_E3"}, Groups: []string{phoneGroupID},
		Number: "+442071234567", NumberType: domain.NumberOperatorConnect, Extension: "4567", SiteID: "lon",
		AccountType: domain.AccountUser}
	bare := usage.UserFacts{} // every attribute empty (accountEnabled false); Match does not look at licences held
	yes := map[string]string{
		domain.FactorUPN: `ada@.*`, domain.FactorDisplayName: "ada lovelace", domain.FactorMail: `.*@contoso\.com`,
		domain.FactorDepartment: "SALES", domain.FactorCity: "london|paris", domain.FactorOffice: `floor \d`,
		domain.FactorUsageLocation: "gb", domain.FactorCountry: "united kingdom", domain.FactorSKU: "spe_.*",
		domain.FactorGroup: "6F1C2D3E-.*", domain.FactorNumberType: "operatorconnect", domain.FactorNumber: "+44.*",
		domain.FactorExtension: "45.*", domain.FactorSite: "LON", domain.FactorAccountType: "user",
		domain.FactorAccountEnabled: "true",
	}
	td.Cmp(t, len(yes), len(domain.FactorFields), "every field is tried")
	for _, field := range domain.FactorFields {
		c := usage.MustCompile([]domain.FactorRule{rule("r", "R", field, yes[field])})
		_, ok := c.Match(f)
		td.Cmp(t, ok, true, "%s %q matches", field, yes[field])
		_, ok = c.Match(bare)
		td.Cmp(t, ok, false, "%s %q: not an empty attribute", field, yes[field])
	}
	for _, field := range domain.FactorFields {
		pattern := ""
		if field == domain.FactorAccountEnabled {
			pattern = "false"
		} else if field == domain.FactorAccountType {
			continue // never empty in FactsOf; "" is no account type
		}
		_, ok := usage.MustCompile([]domain.FactorRule{rule("r", "R", field, pattern)}).Match(bare)
		td.Cmp(t, ok, true, "%s %q matches an empty attribute (an empty list too)", field, pattern)
	}
}

func TestDrillDownInOrder(t *testing.T) {
	k := usage.NewCounter(usage.MustCompile([]domain.FactorRule{{ID: "all", Name: "All", Enabled: true}}))
	td.Require(t).CmpNoError(k.Collect("all", "b", 2))
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		k.Add(usage.UserFacts{UserID: id, SKUs: []string{"X"}})
	}
	ids, more := k.Collected()
	td.Cmp(t, ids, []string{"c", "d"})
	td.Cmp(t, more, true)
}

func TestLongPatternErrorIsShortened(t *testing.T) {
	_, err := usage.Compile([]domain.FactorRule{rule("r", "R", domain.FactorUPN, "("+strings.Repeat("é", 100))})
	td.Cmp(t, invalidFields(t, err), map[string]string{
		"rules[0].criteria[0].pattern": "invalid regular expression: missing closing ): `(" + strings.Repeat("é", 59) + "…`"})
}
