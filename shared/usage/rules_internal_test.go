package usage

import (
	"regexp"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

var samplePatterns = []string{"directRouting", "DIRECTROUTING", "", ".*", "(?s).*", ".+", "(?-i)Abc", "(?i)abc",
	"a|b", "^abc$", "abc.*", "é", "K", "(?:)", "()", "a*", `\.`, "[a]", "(?-i:A)b", "straße", "ǅ", `\Qa.b\E`}

var sampleValues = []string{"", "directRouting", "directrouting", "DIRECTROUTING", "Abc", "abc", "ABC", "a", "b",
	"ab", "abc\n", "x\ny", ".", "É", "é", "k", "K", "\u212a" /* Kelvin sign */, "STRASSE", "straße", "ǆ", "Ǆ", "a.b"}

func TestFastPathsAgreeWithRegexp(t *testing.T) {
	for _, p := range samplePatterns {
		m, why := compilePattern(fCity, p)
		td.Require(t).Cmp(why, "", "pattern %q", p)
		re := regexp.MustCompile("(?i)^(?:" + p + ")$")
		for _, v := range sampleValues {
			td.Cmp(t, m.match(v), re.MatchString(v), "pattern %q (kind %d) value %q", p, m.kind, v)
		}
	}
}

func TestFastPathKinds(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		kind    matchKind
		lit     string
	}{
		{"directRouting", matchFold, "directRouting"},
		{"", matchEqual, ""},
		{"(?:)", matchEqual, ""},
		{"(?-i)Abc", matchEqual, "Abc"},
		{".*", matchNoNewline, ""},
		{"(?s).*", matchAny, ""},
		{"a|b", matchRegexp, ""},
		{"abc.*", matchRegexp, ""},
		{`\Qa.b\E`, matchFold, "a.b"},
	} {
		m, why := compilePattern(fCity, tc.pattern)
		td.Require(t).Cmp(why, "")
		td.Cmp(t, m.kind, tc.kind, "pattern %q", tc.pattern)
		td.Cmp(t, strings.EqualFold(m.lit, tc.lit), true, "pattern %q: literal %q", tc.pattern, m.lit)
	}
}

// FuzzMatch checks that every pattern Compile accepts matches exactly as the regexp it stands for.
func FuzzMatch(f *testing.F) {
	for i, p := range samplePatterns {
		f.Add(p, sampleValues[i%len(sampleValues)])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		m, why := compilePattern(fCity, pattern)
		if why != "" {
			return
		}
		re, err := regexp.Compile("(?i)^(?:" + pattern + ")$")
		if err != nil {
			t.Fatalf("compilePattern accepted %q, regexp refuses it: %v", pattern, err)
		}
		if got, want := m.match(value), re.MatchString(value); got != want {
			t.Fatalf("pattern %q (kind %d) value %q: got %v, want %v", pattern, m.kind, value, got, want)
		}
	})
}
