package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func asDomain(err error, target **domain.Error) bool { return errors.As(err, target) }

func TestAuditByCustomerAndByUserNewestFirstPaged(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var records []domain.AuditRecord
	for i := range 9 {
		r := domain.AuditRecord{At: base.Add(time.Duration(i) * time.Second), Actor: "alice", CustomerID: "c1",
			Action: "licence.assign", UserID: []string{"U1", "u2", ""}[i%3], Outcome: "ok",
			Before: map[string]any{"skuIds": []string{}}, After: map[string]any{"n": i}}
		if i == 4 {
			r.Outcome, r.Error, r.RequestID = "failed", "no seats left", "req-4"
		}
		records = append(records, r)
	}
	td.Require(t).CmpNoError(st.AppendAudits(ctx, records[:5]))
	for _, r := range records[5:] {
		td.Require(t).CmpNoError(st.AppendAudit(ctx, r))
	}
	td.Require(t).CmpNoError(st.AppendAudit(ctx, domain.AuditRecord{At: base, Actor: "x", CustomerID: "c2", Action: "other", UserID: "u1", Outcome: "ok"}))

	all := func(q store.AuditQuery) (ns []int, pages int) {
		t.Helper()
		for {
			page, err := st.ListAudit(ctx, "c1", q)
			td.Require(t).CmpNoError(err)
			pages++
			for _, r := range page.Items {
				var after struct{ N int }
				td.Require(t).CmpNoError(json.Unmarshal(r.After.(json.RawMessage), &after))
				ns = append(ns, after.N)
			}
			if q.Cursor = page.NextCursor; q.Cursor == "" || pages > 10 {
				return ns, pages
			}
		}
	}
	ns, pages := all(store.AuditQuery{Limit: 4})
	td.Cmp(t, ns, []int{8, 7, 6, 5, 4, 3, 2, 1, 0}, "newest first, across pages")
	td.Cmp(t, pages, td.Between(3, 4))
	ns, _ = all(store.AuditQuery{UserID: "u1", Limit: 2})
	td.Cmp(t, ns, []int{6, 3, 0}, "one user's records (ids in any case), other customers' left out")
	ns, _ = all(store.AuditQuery{UserID: "U2", Limit: 2})
	td.Cmp(t, ns, []int{7, 4, 1})

	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{UserID: "u2", Limit: 3})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items[1], td.JSON(`{"at":$1,"actor":"alice","customerId":"c1","userId":"u2","action":"licence.assign",
		"before":{"skuIds":[]},"after":{"n":4},"outcome":"failed","error":"no seats left","requestId":"req-4"}`,
		base.Add(4*time.Second).Format(time.RFC3339)))

	_, err = st.ListAudit(ctx, "c1", store.AuditQuery{UserID: "u1", Cursor: mustCursor(t, st)})
	td.Cmp(t, domain.ErrorCode(err), domain.EInvalid, "a customer-wide cursor is not a user cursor")
}

func mustCursor(t *testing.T, st *store.Store) string {
	t.Helper()
	page, err := st.ListAudit(context.Background(), "c1", store.AuditQuery{Limit: 1})
	td.Require(t).CmpNoError(err)
	if page.NextCursor == "" {
		t.Fatal(fmt.Errorf("no cursor"))
	}
	return page.NextCursor
}
