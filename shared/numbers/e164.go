package numbers

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits of numbers.
const (
	// MinDigits and MaxDigits bound the digits of an E.164 number after its "+" (country code included).
	MinDigits = 8
	MaxDigits = 15
	// MaxRange is the most numbers one range adds.
	MaxRange = 1000
	// MaxExtensionDigits is the longest extension.
	MaxExtensionDigits = 8
)

// ParseE164 returns a telephone number in E.164 form ("+" then MinDigits..MaxDigits digits, the first 1-9), after
// removing the spaces, dashes, dots and parentheses people write numbers with; or an error saying what is wrong.
func ParseE164(s string) (string, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return "", fmt.Errorf("required: an E.164 number such as +442071234567")
	}
	var b strings.Builder
	for _, r := range raw {
		switch r {
		case ' ', '\t', '-', '(', ')', '.', '\u00a0':
			continue
		}
		b.WriteRune(r)
	}
	n := b.String()
	if !strings.HasPrefix(n, "+") {
		return "", fmt.Errorf("%q must start with + and the country code (E.164, e.g. +442071234567)", raw)
	}
	digits := n[1:]
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%q must hold only digits after the + (spaces, dashes and parentheses are allowed)", raw)
		}
	}
	switch {
	case len(digits) < MinDigits || len(digits) > MaxDigits:
		return "", fmt.Errorf("%q has %d digits: an E.164 number has %d to %d after the +", raw, len(digits), MinDigits, MaxDigits)
	case digits[0] == '0':
		return "", fmt.Errorf("%q must not start with +0: the country code comes first (E.164)", raw)
	}
	return n, nil
}

// ExpandRange returns the numbers from..to inclusive (both E.164, already parsed): they must have the same length
// with from ≤ to, and span at most MaxRange numbers. The error names the field ("from" or "to") at fault.
func ExpandRange(from, to string) ([]string, string, error) {
	if len(from) != len(to) {
		return nil, "to", fmt.Errorf("%s and %s differ in length: a range varies only in its last digits", from, to)
	}
	a, errA := strconv.ParseInt(from[1:], 10, 64)
	b, errB := strconv.ParseInt(to[1:], 10, 64)
	if errA != nil || errB != nil {
		return nil, "from", fmt.Errorf("not a range of numbers")
	}
	if b < a {
		return nil, "to", fmt.Errorf("%s comes before %s: give the lower number as from", to, from)
	}
	if n := b - a + 1; n > MaxRange {
		return nil, "to", fmt.Errorf("the range holds %d numbers: at most %d at once", n, MaxRange)
	}
	width := len(from) - 1
	out := make([]string, 0, b-a+1)
	for v := a; v <= b; v++ {
		out = append(out, fmt.Sprintf("+%0*d", width, v))
	}
	return out, "", nil
}

// checkExtension returns why ext (already trimmed) is not an extension ("" when it is one, or empty).
func checkExtension(ext string) string {
	if ext == "" {
		return ""
	}
	if len(ext) > MaxExtensionDigits {
		return fmt.Sprintf("at most %d digits", MaxExtensionDigits)
	}
	for _, r := range ext {
		if r < '0' || r > '9' {
			return fmt.Sprintf("digits only (1 to %d)", MaxExtensionDigits)
		}
	}
	return ""
}
