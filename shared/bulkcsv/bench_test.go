package bulkcsv_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/seatwise/seatwise/shared/bulkcsv"
)

// file50k is a file of the largest size allowed by default: 50,000 rows, licences with add-ons and numbers.
func file50k(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("\ufeffuserPrincipalName,licences,addOns,number,extension,site,template\r\n")
	lics := []string{"ENTERPRISEPACK;MCOEV,SWAY=off;YAMMER_ENTERPRISE=off", "Office 365 E3,", "SPB;MCOEV,SPB:TEAMS1=on", "SPE_E5,"}
	for i := range bulkcsv.DefaultMaxRows {
		fmt.Fprintf(&b, "user%05d@contoso.com,%s,+44 20 7%06d,%d,Site %d,Template %d\r\n", i, lics[i%len(lics)], i, 1000+i, i%20, i%5)
	}
	return b.Bytes()
}

func BenchmarkParse50k(b *testing.B) {
	data := file50k(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := bulkcsv.Parse(bytes.NewReader(data), bulkcsv.Options{})
		if err != nil || len(f.Problems) > 0 || len(f.Rows) != bulkcsv.DefaultMaxRows {
			b.Fatalf("err %v, %d rows, problems %v", err, len(f.Rows), f.Problems[:min(3, len(f.Problems))])
		}
	}
}
