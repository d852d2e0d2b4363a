package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"
)

// TestParseTime measures what the first use of the catalogue costs (it happens once per Lambda instance).
// Run `go test -run ParseTime -v ./shared/catalog` to see the numbers; BenchmarkParse gives the steady state.
func TestParseTime(t *testing.T) {
	start := time.Now()
	idx, err := parse(catalogJSON)
	first := time.Since(start)
	td.CmpNoError(t, err)
	best := first
	for range 10 {
		start := time.Now()
		_, _ = parse(catalogJSON)
		best = min(best, time.Since(start))
	}
	t.Logf("catalog.json: %d bytes, %d products, %d plans; first parse %v, best of 10 %v",
		len(catalogJSON), len(idx.bySku), len(idx.plans), first, best)
	if best > 5*time.Millisecond {
		t.Logf("parse takes more than 5ms: consider a more compact encoding of catalog.json")
	}
}

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(catalogJSON)))
	for b.Loop() {
		if _, err := parse(catalogJSON); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseRejectsDanglingPlan(t *testing.T) {
	_, err := parse([]byte(`{"plans":{},"products":{"6fd2c87f-b296-42f0-b197-1e91e994b900":{"partNumber":"X","name":"X","plans":["57ff2da0-773e-42df-b2af-ffb7a2317929"]}}}`))
	td.Cmp(t, err, td.Contains("unknown service plan 57ff2da0-773e-42df-b2af-ffb7a2317929"))

	_, err = parse([]byte(`{"plans":`))
	td.Cmp(t, err, td.HasPrefix("decode:"))
}

// TestEmbeddedCatalogue checks the invariants the generator promises.
func TestEmbeddedCatalogue(t *testing.T) {
	idx := load()
	td.Cmp(t, len(idx.bySku), td.Gt(500))
	td.Cmp(t, len(idx.plans), td.Gt(500))
	guid := `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
	for id, p := range idx.bySku {
		td.Cmp(t, id, td.Re(guid), "skuId")
		td.CmpNot(t, p.PartNumber, "", "part number of %s", id)
		td.CmpNot(t, p.Plans, td.Empty(), "plans of %s", id)
		seen := map[string]bool{}
		for i, pl := range p.Plans {
			td.CmpFalse(t, seen[pl.ID], "plan %s listed twice in %s", pl.ID, id)
			seen[pl.ID] = true
			if i > 0 {
				td.Cmp(t, strings.ToLower(pl.Name), td.Gte(strings.ToLower(p.Plans[i-1].Name)), "plans of %s sorted by name", id)
			}
		}
	}
	for id := range idx.plans {
		td.Cmp(t, id, td.Re(guid), "plan id")
	}
}
