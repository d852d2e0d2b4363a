package usage

import (
	"container/heap"
	"slices"

	"github.com/seatwise/seatwise/shared/domain"
)

// Counter counts users by factor as they are streamed through it. It keeps counts only (its memory depends on
// the number of rules and SKUs, not of users), plus, when asked, the ids of one rule's users up to a limit. It is
// not safe for concurrent use.
type Counter struct {
	c         *Compiled
	counts    []int
	licensed  int
	unmatched int
	bySKU     map[string]int
	added     bool
	drill     *collector
}

// NewCounter returns a counter over c's rules.
func NewCounter(c *Compiled) *Counter {
	return &Counter{c: c, counts: make([]int, len(c.rules)), bySKU: map[string]int{}}
}

// Add counts one user: nothing unless licensed (f.Licensed); then once, by the first matching rule (or as
// unmatched), and once under each SKU part number they hold.
func (k *Counter) Add(f UserFacts) {
	k.added = true
	if !f.Licensed() {
		return
	}
	k.licensed++
	i, ok := k.c.match(&f)
	if ok {
		k.counts[i]++
	} else {
		k.unmatched++
		i = -1
	}
	for j, part := range f.SKUs {
		if !slices.Contains(f.SKUs[:j], part) { // two skuIds can share a part number
			k.bySKU[part]++
		}
	}
	if k.drill != nil && k.drill.rule == i {
		k.drill.add(f.UserID)
	}
}

// Result returns the counts so far.
func (k *Counter) Result() domain.Usage {
	u := domain.Usage{Licensed: k.licensed, Unmatched: k.unmatched,
		Factors: make([]domain.FactorCount, len(k.counts)), BySKU: make(map[string]int, len(k.bySKU))}
	for i, r := range k.c.src {
		u.Factors[i] = domain.FactorCount{RuleID: r.ID, Name: r.Name, Enabled: r.Enabled, Count: k.counts[i]}
	}
	for part, n := range k.bySKU {
		u.BySKU[part] = n
	}
	return u
}

// Collect makes the counter keep the ids of the users counted by the rule ruleID ("" = the unmatched users) for a
// drill-down page: the limit smallest ids greater than after ("" = from the start), or all of them when limit is
// 0. It must be called before the first Add. Errors: ENotFound (no such rule), EInvalid (called after Add, or a
// negative limit).
func (k *Counter) Collect(ruleID, after string, limit int) error {
	if k.added {
		return domain.Errorf(domain.EInvalid, "drill-down must be chosen before counting")
	}
	if limit < 0 {
		return domain.Invalid(map[string]string{"limit": "must not be negative"})
	}
	i := -1
	if ruleID != "" {
		var ok bool
		if i, ok = k.c.Index(ruleID); !ok {
			return domain.Errorf(domain.ENotFound, "no licence factor rule %q", ruleID)
		}
	}
	k.drill = &collector{rule: i, after: after, limit: limit}
	return nil
}

// Collected returns the ids kept by Collect in ascending order, and whether more of the rule's users come after
// them (the next page starts after the last id).
func (k *Counter) Collected() (ids []string, more bool) {
	if k.drill == nil {
		return nil, false
	}
	ids = slices.Clone(k.drill.ids)
	slices.Sort(ids)
	return ids, k.drill.more
}

// collector keeps the limit smallest ids above after: a max-heap once it is full.
type collector struct {
	rule  int
	after string
	limit int
	ids   maxHeap
	more  bool
}

func (c *collector) add(id string) {
	switch {
	case id <= c.after && c.after != "":
	case c.limit == 0 || len(c.ids) < c.limit:
		heap.Push(&c.ids, id)
	case id < c.ids[0]:
		c.ids[0] = id
		heap.Fix(&c.ids, 0)
		c.more = true
	default:
		c.more = true
	}
}

type maxHeap []string

func (h maxHeap) Len() int           { return len(h) }
func (h maxHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h maxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *maxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
