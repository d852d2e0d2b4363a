package usage_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/usage"
)

// customer returns n users in the proportions of a typical customer: 40% Direct Routing, 20% Operator Connect,
// 10% Calling Plan by template, 10% changed by hand without a number, 4% service numbers, 6% never managed
// (unmatched), 10% unlicensed.
func customer(n int) []member {
	return generate(of(drUser, n*30/100), of(drByHand, n*10/100), of(ocUser, n*20/100), of(byTemplate, n*10/100),
		of(byHand, n*10/100), of(serviceNum, n*4/100), of(unmanaged, n*6/100), of(unlicensed, n*10/100))
}

// run counts members (FactsOf included: it is what a caller does for each stored user).
func run(c *usage.Compiled, members []member) *usage.Counter {
	k := usage.NewCounter(c)
	for i := range members {
		m := &members[i]
		k.Add(usage.FactsOf(m.user, m.prov, m.managedBy))
	}
	return k
}

// heap measures one run: the highest heap in use above what was live before (sampled every 1,000 users; the
// input users are live before), and what stays live after a collection while the counter is still reachable.
func heap(c *usage.Compiled, members []member) (peak, retained uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, top := ms.HeapAlloc, ms.HeapAlloc
	k := usage.NewCounter(c)
	for i := range members {
		m := &members[i]
		k.Add(usage.FactsOf(m.user, m.prov, m.managedBy))
		if i%1000 == 999 {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	retained = ms.HeapAlloc - min(base, ms.HeapAlloc)
	runtime.KeepAlive(k)
	return top - base, retained
}

func benchCount(b *testing.B, n int, rules []domain.FactorRule) {
	members := customer(n)
	c := usage.MustCompile(rules)
	peak, retained := heap(c, members)
	b.ReportAllocs()
	b.ResetTimer()
	var got domain.Usage
	for b.Loop() {
		got = run(c, members).Result()
	}
	b.StopTimer()
	if got.Licensed != n*90/100 {
		b.Fatalf("licensed %d, want %d", got.Licensed, n*90/100)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/user")
	b.ReportMetric(float64(peak), "peak-heap-B")
	b.ReportMetric(float64(retained), "retained-B")
}

// BenchmarkCount50k computes the factors of a 50,000-user customer with the default rules.
func BenchmarkCount50k(b *testing.B) { benchCount(b, 50_000, usage.DefaultRules()) }

// BenchmarkCount5k is the same for 5,000 users: retained memory does not grow with users.
func BenchmarkCount5k(b *testing.B) { benchCount(b, 5_000, usage.DefaultRules()) }

// BenchmarkCount50kRegex uses 20 rules of real regular expressions over several fields, none of which matches
// before the last ones: close to the most work a rule list asks per user.
func BenchmarkCount50kRegex(b *testing.B) {
	var rules []domain.FactorRule
	for i := range 18 {
		rules = append(rules, domain.FactorRule{ID: fmt.Sprint("r", i), Name: fmt.Sprint("Rule ", i), Enabled: true,
			Criteria: []domain.FactorCriterion{
				{Field: domain.FactorUPN, Pattern: `.*@(contoso|fabrikam)\.com`},
				{Field: domain.FactorDepartment, Pattern: "Sales|Support|IT"},
				{Field: domain.FactorNumber, Pattern: fmt.Sprintf(`+4420[0-9]{6}%d.*`, i%10)},
				{Field: domain.FactorCity, Pattern: fmt.Sprintf("Nowhere%d|Lon.*x", i)},
			}})
	}
	rules = append(rules, domain.FactorRule{ID: "voice", Name: "Voice", Enabled: true, Criteria: []domain.FactorCriterion{
		{Field: domain.FactorSKU, Pattern: "MCO(EV|PSTN.*)"}, {Field: domain.FactorNumber, Pattern: `\+44.*`}}},
		domain.FactorRule{ID: "rest", Name: "Rest", Enabled: true})
	benchCount(b, 50_000, rules)
}
