package httpapi

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestAuditByCustomerAndUserNewestFirstPaged(t *testing.T) {
	ta := newTestAPI(t)
	id := ta.createCustomer("Contoso Dental", tenantA)
	other := ta.createCustomer("Other", "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
	base := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	var recs []domain.AuditRecord
	for i := range 7 {
		recs = append(recs, domain.AuditRecord{At: base.Add(time.Duration(i) * time.Second), Actor: "alice", CustomerID: id,
			UserID: []string{"u1", "u2"}[i%2], Action: "licence.assign", Outcome: "ok", RequestID: fmt.Sprint("req-", i),
			Before: map[string]any{"licences": []any{}}, After: map[string]any{"n": i}})
	}
	recs[6].Outcome, recs[6].Error = "failed", "no seats left in Office 365 E3"
	td.Require(t).CmpNoError(ta.store.AppendAudits(context.Background(), append(recs,
		domain.AuditRecord{At: base, Actor: "bob", CustomerID: other, UserID: "u1", Action: "licence.assign", Outcome: "ok"})))

	pages := func(query string, hdr any) (ns []int, count int) {
		t.Helper()
		cursor := ""
		for count < 10 {
			var page store.Page[struct {
				After struct{ N *int }
			}]
			ta.Get("/api/v1/customers/"+id+"/audit?limit=3&cursor="+cursor+query, hdr).CmpStatus(200).
				CmpJSONBody(td.Smuggle(func(p store.Page[struct{ After struct{ N *int } }]) bool { page = p; return true }, true))
			count++
			for _, it := range page.Items {
				if it.After.N != nil {
					ns = append(ns, *it.After.N)
				} else {
					ns = append(ns, -1) // customer.create
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		return ns, count
	}
	viewer := ta.bearer(auth.Viewer, id)
	ns, n := pages("", viewer)
	td.Cmp(t, ns, []int{6, 5, 4, 3, 2, 1, 0, -1}, "newest first, the customer's creation last")
	td.Cmp(t, n, td.Between(3, 4))
	ns, _ = pages("&userId=U2", viewer)
	td.Cmp(t, ns, []int{5, 3, 1}, "one user's")
	ns, _ = pages("&userId=u1", viewer)
	td.Cmp(t, ns, []int{6, 4, 2, 0}, "another customer's records are not listed")

	ta.Get("/api/v1/customers/"+id+"/audit?userId=u1&limit=1", viewer).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"items":[{"at":$1,"actor":"alice","customerId":$2,"userId":"u1","action":"licence.assign",
			"before":{"licences":[]},"after":{"n":6},"outcome":"failed","error":"no seats left in Office 365 E3","requestId":"req-6"}],
			"nextCursor":$3}`, base.Add(6*time.Second).Format(time.RFC3339), id, td.NotEmpty()))
	ta.Get("/api/v1/customers/"+id+"/audit?cursor=bogus", viewer).CmpStatus(400)
	ta.Get("/api/v1/customers/"+id+"/audit?limit=0", viewer).CmpStatus(400)
	ta.Get("/api/v1/customers/"+other+"/audit", viewer).CmpStatus(404)
	ta.Get("/api/v1/customers/nope/audit", ta.admin()).CmpStatus(404)
}

func TestUsersByLicenceKind(t *testing.T) {
	ta := newTestAPI(t)
	ctx := context.Background()
	id := ta.createCustomer("Contoso Dental", tenantA)
	const (
		e3    = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK: base
		phone = "e43b5b99-8dfb-405f-9987-dc307f34bcbd" // MCOEV: add-on
		pbi   = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO: add-on
	)
	cust, err := ta.store.GetCustomer(ctx, id)
	td.Require(t).CmpNoError(err)
	_, err = ta.store.ReplaceSKUs(ctx, cust, []domain.SubscribedSKU{
		{SkuID: e3, PartNumber: "ENTERPRISEPACK", Enabled: 10}, {SkuID: phone, PartNumber: "MCOEV", Enabled: 10},
		{SkuID: pbi, PartNumber: "POWER_BI_PRO", Enabled: 10}})
	td.Require(t).CmpNoError(err)
	lic := func(ids ...string) []domain.Licence {
		var out []domain.Licence
		for _, s := range ids {
			out = append(out, domain.Licence{SkuID: s, Direct: true, State: "Active", Error: "None"})
		}
		return out
	}
	users := []domain.User{
		{ID: "a", DisplayName: "Ann", Licences: lic(e3)},
		{ID: "b", DisplayName: "Bob", Licences: lic(e3, phone)},
		{ID: "c", DisplayName: "Cem", Licences: lic(pbi)},
		{ID: "d", DisplayName: "Dee"},
		{ID: "e", DisplayName: "Bea", Licences: lic(phone, pbi)},
	}
	for i := range users {
		users[i].CustomerID, users[i].Status, users[i].UserPrincipalName = id, domain.UserActive, users[i].ID+"@contoso.example"
	}
	_, err = ta.store.ApplyUsers(ctx, id, users, nil, time.Now())
	td.Require(t).CmpNoError(err)

	names := func(query string) []string {
		t.Helper()
		var out []string
		ta.Get("/api/v1/customers/"+id+"/users?"+query, ta.admin()).CmpStatus(200).
			CmpJSONBody(td.Smuggle(func(p store.Page[struct{ DisplayName string }]) bool {
				for _, u := range p.Items {
					out = append(out, u.DisplayName)
				}
				return p.NextCursor == ""
			}, true))
		return out
	}
	td.Cmp(t, names("kind=addon"), []string{"Bea", "Bob", "Cem"}, "holders of any add-on")
	td.Cmp(t, names("kind=base"), []string{"Ann", "Bob"})
	td.Cmp(t, names("kind=addon&q=b"), []string{"Bea", "Bob"}, "combined with a name search")
	td.Cmp(t, names("kind=addon&sku="+pbi), []string{"Bea", "Cem"}, "combined with a SKU")
	ta.Get("/api/v1/customers/"+id+"/users?kind=AddOn", ta.admin()).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"kind":"must be base or addon"}`)))
	ta.Get("/api/v1/customers/"+id+"/skus", ta.admin()).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"items":$1}`,
		td.Smuggle(func(items []struct{ PartNumber, Kind string }) map[string]string {
			m := map[string]string{}
			for _, s := range items {
				m[s.PartNumber] = s.Kind
			}
			return m
		}, map[string]string{"ENTERPRISEPACK": "base", "MCOEV": "addon", "POWER_BI_PRO": "addon"})))

	// A customer without add-on licences: nobody holds one.
	_, err = ta.store.ReplaceSKUs(ctx, cust, []domain.SubscribedSKU{{SkuID: e3, PartNumber: "ENTERPRISEPACK", Enabled: 10}})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, names("kind=addon"), td.Empty())
}
