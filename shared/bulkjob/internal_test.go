package bulkjob

import (
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// Chunks hold at most the chunk size in rows and maxChunkBytes of JSON; a row never spans two.
func TestSplitPlans(t *testing.T) {
	plans := make([]rowPlan, 25)
	for i := range plans {
		plans[i] = rowPlan{Line: i + 2, UPN: "a@b.c"}
	}
	parts, err := splitPlans(plans, 10)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(parts), 3)
	td.Cmp(t, len(parts[2]), 5)

	big := strings.Repeat("x", maxChunkBytes/3)
	for i := range plans {
		plans[i].DisplayName = big
	}
	parts, err = splitPlans(plans, 10)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(parts), 13, "two rows per chunk")
	td.Cmp(t, parts[0][0].Line, 2)
	td.Cmp(t, parts[12][0].Line, 26)

	data, err := encodeChunk(parts[0])
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(data), td.Lt(maxChunkBytes/10), "compressed")
	var back []rowPlan
	td.Require(t).CmpNoError(decodeChunk(data, &back))
	td.Cmp(t, back, parts[0])
}

func TestPositions(t *testing.T) {
	p, err := parsePosition(position{Chunk: 3, Offset: 7}.cursor())
	td.CmpNoError(t, err)
	td.Cmp(t, p, position{Chunk: 3, Offset: 7})
	for _, bad := range []string{"x", "eyJjIjotMX0", "!!"} {
		_, err := parsePosition(bad)
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, bad)
	}
}

// Progress: done, failed and remaining rows, the rate since the start and the time left at that rate.
func TestProgress(t *testing.T) {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	j := store.BulkJob{Status: store.BulkRunning, Total: 1000, Applied: 200, Unchanged: 50, Staged: 30, Failed: 20, StartedAt: &start}
	p := progressOf(j, start.Add(3*time.Minute))
	td.Cmp(t, p, td.Struct(Progress{Total: 1000, Done: 280, Failed: 20, Remaining: 700, Percent: 30, RatePerMinute: 100},
		td.StructFields{"SecondsLeft": td.Ptr(int64(420))}))
	end := start.Add(10 * time.Minute)
	j.Status, j.FinishedAt = store.BulkCancelled, &end
	p = progressOf(j, end.Add(time.Hour))
	td.Cmp(t, p.SecondsLeft, (*int64)(nil))
	td.Cmp(t, p.RatePerMinute, 30.0)
	td.Cmp(t, progressOf(store.BulkJob{Status: store.BulkValidated}, start), Progress{})
}

// The customer's SKUs resolve first, with the service plans Graph reports for them; other names fall back to the
// Microsoft catalogue.
func TestCustomerCatalogue(t *testing.T) {
	visio, _ := catalog.ByPartNumber("VISIOCLIENT")
	c := newCustomerCatalogue([]domain.CustomerSKU{{SubscribedSKU: domain.SubscribedSKU{SkuID: strings.ToUpper(visio.SkuID), PartNumber: "VISIOCLIENT",
		ServicePlans: []domain.ServicePlanInfo{{ID: strings.ToUpper(visio.Plans[0].ID), Name: visio.Plans[0].Name}}}}, {SubscribedSKU: domain.SubscribedSKU{
		SkuID: "00000000-0000-4000-8000-000000000001", PartNumber: "NEW_SKU"}}})
	got := c.Find("visio plan 2")
	td.Require(t).Cmp(len(got), 1, "ambiguous in the catalogue, not among the customer's SKUs")
	td.Cmp(t, got[0].SkuID, visio.SkuID)
	td.Cmp(t, got[0].Plans, []catalog.Plan{{ID: visio.Plans[0].ID, Name: visio.Plans[0].Name, FriendlyName: visio.Plans[0].FriendlyName}})
	td.Cmp(t, c.Find(" new_sku "), td.Len(1), "a SKU the catalogue does not know")
	td.Cmp(t, c.Find("00000000-0000-4000-8000-000000000001"), td.Len(1))
	td.Cmp(t, c.Find("ENTERPRISEPACK"), td.Len(1), "the catalogue's")
	td.Cmp(t, c.Find("nothing at all"), td.Len(0))
	td.Cmp(t, c.Suggest("ENTERPRISPACK"), "ENTERPRISEPACK")
}

func TestChangesString(t *testing.T) {
	c := Changes{
		Add:    []LicenceRef{{PartNumber: "ENTERPRISEPACK", Name: "Office 365 E3"}, {PartNumber: "X", Name: "X"}},
		Remove: []LicenceRef{{PartNumber: "POWER_BI_PRO", Name: "Power BI Pro"}},
		AddOns: []AddOnChange{{PartNumber: "SPB", Off: []string{"SWAY"}, On: []string{"TEAMS1"}}},
		Number: &ValueChange{To: "+1"}, Extension: &ValueChange{From: "1", To: "2"}, Site: &ValueChange{From: "A", To: "B"},
	}
	td.Cmp(t, c.String(), "added Office 365 E3 (ENTERPRISEPACK), X; removed Power BI Pro (POWER_BI_PRO); add-ons of SPB: SWAY off, TEAMS1 on; "+
		"number +1; extension 2 (was 1); site B (was A)")
	td.Cmp(t, Changes{}.String(), "")
	td.Cmp(t, Changes{}.Empty(), true)
}

func TestCleanFilename(t *testing.T) {
	td.Cmp(t, cleanFilename(`C:\Users\me\mass.csv`), "mass.csv")
	td.Cmp(t, cleanFilename("../../etc/passwd"), "passwd")
	td.Cmp(t, cleanFilename("a\u202eb\x00.csv"), "ab.csv")
	td.Cmp(t, cleanFilename(""), "upload.csv")
	td.Cmp(t, len([]rune(cleanFilename(strings.Repeat("é", 300)))), maxFilenameLength)
}
