package numbers

import (
	"context"
	"fmt"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
)

func TestParseE164(t *testing.T) {
	for in, want := range map[string]string{
		"+442071234567":           "+442071234567",
		" +44 20 7123 4567 ":      "+442071234567",
		"+1 (206) 555-0100":       "+12065550100",
		"+1.206.555.0100":         "+12065550100",
		"+12345678":               "+12345678",        // 8 digits: the shortest
		"+123456789012345":        "+123456789012345", // 15: the longest
		"+49\u00a030\u00a0123456": "+4930123456",
	} {
		got, err := ParseE164(in)
		td.CmpNoError(t, err, in)
		td.Cmp(t, got, want, in)
	}
	for in, why := range map[string]string{
		"":                  "required",
		"442071234567":      "must start with +",
		"00442071234567":    "must start with +",
		"+44 20 7123 456x":  "only digits",
		"+44+2071234567":    "only digits",
		"+1234567":          "has 7 digits",
		"+1234567890123456": "has 16 digits",
		"+0442071234567":    "must not start with +0",
		"+":                 "has 0 digits",
	} {
		_, err := ParseE164(in)
		td.Cmp(t, err, td.Smuggle(func(e error) string { return e.Error() }, td.Contains(why)), "%q", in)
	}
}

func TestExpandRange(t *testing.T) {
	got, _, err := ExpandRange("+442071230998", "+442071231002")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, []string{"+442071230998", "+442071230999", "+442071231000", "+442071231001", "+442071231002"})

	got, _, err = ExpandRange("+12065550100", "+12065550100")
	td.CmpNoError(t, err)
	td.Cmp(t, got, []string{"+12065550100"})

	got, _, err = ExpandRange("+12065550000", "+12065550999")
	td.CmpNoError(t, err)
	td.Cmp(t, got, td.Len(MaxRange))
	td.Cmp(t, got[999], "+12065550999")

	for _, tc := range []struct{ from, to, field, why string }{
		{"+12065550000", "+12065551000", "to", "holds 1001 numbers: at most 1000"},
		{"+12065550100", "+12065550099", "to", "comes before"},
		{"+12065550100", "+120655501000", "to", "differ in length"},
	} {
		_, field, err := ExpandRange(tc.from, tc.to)
		td.Cmp(t, field, tc.field, tc.from+".."+tc.to)
		td.Cmp(t, err, td.Smuggle(func(e error) string { return e.Error() }, td.Contains(tc.why)))
	}
}

func TestParseAdd(t *testing.T) {
	nums, fields := parseAdd(AddInput{From: "+44 161 496 0000", To: "+441614960002", Type: domain.NumberDirectRouting, SiteID: "s1", ExtensionDigits: 4})
	td.Cmp(t, fields, td.Nil())
	td.Cmp(t, nums, []domain.Number{
		{Number: "+441614960000", Type: "directRouting", SiteID: "s1", Extension: "0000", Status: "available", Source: "manual"},
		{Number: "+441614960001", Type: "directRouting", SiteID: "s1", Extension: "0001", Status: "available", Source: "manual"},
		{Number: "+441614960002", Type: "directRouting", SiteID: "s1", Extension: "0002", Status: "available", Source: "manual"},
	})

	nums, fields = parseAdd(AddInput{Number: "+1 206 555 0100", Type: domain.NumberCallingPlan, SiteID: "s1", Extension: "100"})
	td.Cmp(t, fields, td.Nil())
	td.Cmp(t, nums, []domain.Number{{Number: "+12065550100", Type: "callingPlan", SiteID: "s1", Extension: "100", Status: "available", Source: "manual"}})

	for _, tc := range []struct {
		in   AddInput
		want td.MapEntries
	}{
		{AddInput{}, td.MapEntries{"number": "required: a number, or a range with from and to",
			"type": "required: one of directRouting, operatorConnect, callingPlan", "siteId": "required: the site the numbers belong to"}},
		{AddInput{Number: "2071234567", Type: "mobile", SiteID: "s1", Extension: "12a", ExtensionDigits: 9},
			td.MapEntries{"number": td.Contains("must start with +"), "type": `unknown type "mobile": one of directRouting, operatorConnect, callingPlan`,
				"extension": "digits only (1 to 8)", "extensionDigits": "must be 0 to 8"}},
		{AddInput{Number: "+12065550100", From: "+12065550100", Type: "directRouting", SiteID: "s1"},
			td.MapEntries{"number": "give either a number or a range (from and to), not both"}},
		{AddInput{From: "+1206555010", To: "abc", Type: "directRouting", SiteID: "s1"},
			td.MapEntries{"to": td.Contains("must start with +")}},
		{AddInput{From: "+12065550100", Type: "directRouting", SiteID: "s1"},
			td.MapEntries{"to": td.HasPrefix("required")}},
		{AddInput{From: "+12065550000", To: "+12065551000", Type: "directRouting", SiteID: "s1"},
			td.MapEntries{"to": td.Contains("at most 1000")}},
		{AddInput{From: "+12065550000", To: "+12065550010", Type: "directRouting", SiteID: "s1", Extension: "100"},
			td.MapEntries{"extension": td.Contains("only for a single number")}},
		{AddInput{Number: "+12065550000", Type: "directRouting", SiteID: "s1", Extension: "123456789"},
			td.MapEntries{"extension": "at most 8 digits"}},
		{AddInput{Number: "+12065550000", Type: "directRouting", SiteID: "s1", Extension: "1", ExtensionDigits: 2},
			td.MapEntries{"extensionDigits": "give an extension or extensionDigits, not both"}},
		{AddInput{Number: "+12065550000", Type: "directRouting", SiteID: "a#b"}, td.MapEntries{"siteId": "must be a site id"}},
	} {
		nums, fields := parseAdd(tc.in)
		td.Cmp(t, fields, td.Map(map[string]string{}, tc.want), "%+v", tc.in)
		td.Cmp(t, nums, td.Nil())
	}
}

func TestRetryable(t *testing.T) {
	wrap := func(k graph.NumberErrorKind) error {
		return domain.Wrap(&graph.NumberError{Kind: k}, domain.EConflict, "refused")
	}
	for k, want := range map[graph.NumberErrorKind]bool{
		graph.NumberUserNotInTeams:  true,
		graph.NumberLicenseMissing:  true,
		graph.NumberOperationFailed: true,
		graph.NumberTaken:           false,
		graph.NumberNotFound:        false,
		graph.NumberTypeMismatch:    false,
		graph.NumberNotForUsers:     false,
		graph.NumberTargetNotFound:  false,
		graph.NumberNotAssigned:     false,
	} {
		td.Cmp(t, Retryable(wrap(k)), want, string(k))
		td.Cmp(t, Retryable(fmt.Errorf("staging: %w", wrap(k))), want, "wrapped again: %s", k)
	}
	td.Cmp(t, Retryable(domain.Errorf(domain.EThrottled, "slow down")), true)
	td.Cmp(t, Retryable(domain.Errorf(domain.EUpstream, "503")), true)
	td.Cmp(t, Retryable(fmt.Errorf("call: %w", context.DeadlineExceeded)), true)
	for _, code := range []string{domain.EInvalid, domain.ENotFound, domain.EConflict, domain.EUnauthorized, domain.EInternal} {
		td.Cmp(t, Retryable(domain.Errorf(code, "no")), false, code)
	}
	td.Cmp(t, Retryable(nil), false)
}
