package export

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
)

func TestResolveMonth(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 55, 0, 0, time.UTC)
	for in, want := range map[string]string{"": "2026-11", "2026-10": "2026-10", "2024-01": "2024-01"} {
		got, err := ResolveMonth(in, now)
		td.CmpNoError(t, err, in)
		td.Cmp(t, got, want, in)
	}
	for _, bad := range []string{"2026-13", "26-10", "2026-12", "October"} {
		_, err := ResolveMonth(bad, now)
		td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, bad)
	}
}
