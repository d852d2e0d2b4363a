package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestSitesLifecycle(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))
	at := time.Now().UTC().Truncate(time.Millisecond)
	tick := func() time.Time { at = at.Add(time.Second); return at }

	london := domain.Site{ID: "s1", CustomerID: "c1", Name: "London", Order: 2,
		Criteria:      []domain.Criterion{{Field: domain.CriterionCity, Value: "London"}},
		UsageLocation: "GB", TemplateID: "t1", AllowStaging: true,
		NumberPolicy: domain.NumberPolicy{Assign: true, Type: domain.NumberDirectRouting}, CreatedAt: tick()}
	td.Require(t).CmpNoError(st.CreateSite(ctx, london, "alice"))
	got, err := st.GetSite(ctx, "c1", "s1")
	td.Require(t).CmpNoError(err)
	want := london
	want.Version, want.UpdatedAt = 1, london.CreatedAt
	td.Cmp(t, got, want)

	// Names are unique per customer whatever the case and spacing; the customer must exist.
	dup := domain.Site{ID: "s2", CustomerID: "c1", Name: " LONDON ", CreatedAt: tick()}
	err = st.CreateSite(ctx, dup, "alice")
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), td.ContainsKey("name"))
	dup.CustomerID = "nope"
	td.Cmp(t, domain.ErrorCode(st.CreateSite(ctx, dup, "alice")), domain.ENotFound)

	for _, s := range []domain.Site{
		{ID: "s2", CustomerID: "c1", Name: "Paris", Order: 1, CreatedAt: tick()},
		{ID: "s3", CustomerID: "c1", Name: "berlin", Order: 2, Default: true, CreatedAt: tick()},
	} {
		td.Require(t).CmpNoError(st.CreateSite(ctx, s, "alice"))
	}
	list, err := st.ListSites(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, list, td.Smuggle(siteNames, []string{"Paris", "berlin", "London"}), "by order, then name")
	td.Cmp(t, list[1].Criteria, []domain.Criterion{}, "criteria never nil")

	// Two edits from version 1: the first wins, the second is told to reload.
	edit := london
	edit.Name, edit.Order = "London HQ", 0
	updated, err := st.UpdateSite(ctx, edit, 1, "alice", tick())
	td.Require(t).CmpNoError(err)
	td.Cmp(t, updated, td.SuperJSONOf(`{"name":"London HQ","order":0,"version":2,"createdAt":$1}`, london.CreatedAt))
	_, err = st.UpdateSite(ctx, edit, 1, "bob", tick())
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})
	// A rename frees the old name and refuses another site's.
	td.CmpNoError(t, st.CreateSite(ctx, domain.Site{ID: "s4", CustomerID: "c1", Name: "london", CreatedAt: tick()}, "alice"))
	edit.Name = "PARIS"
	_, err = st.UpdateSite(ctx, edit, 2, "alice", tick())
	td.Cmp(t, fieldsOf(err), td.ContainsKey("name"))
	got, err = st.GetSite(ctx, "c1", "s1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got.Name, "London HQ", "the refused rename changed nothing")

	// A site that numbers belong to cannot be deleted.
	added, _, err := st.AddNumbers(ctx, "c1", []domain.Number{{Number: "+442071234567", Type: domain.NumberDirectRouting, SiteID: "s1"}}, "alice", tick())
	td.Require(t).CmpNoError(err)
	td.Cmp(t, added, []string{"+442071234567"})
	err = st.DeleteSite(ctx, "c1", "s1", 2, "alice", tick())
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, err, td.Smuggle(domain.ErrorMessage, td.Contains("still has numbers")))
	td.Cmp(t, domain.ErrorCode(st.DeleteSite(ctx, "c1", "s1", 1, "alice", tick())), domain.EConflict, "stale")
	td.CmpNoError(t, st.DeleteNumber(ctx, "c1", "+442071234567", 1, "alice", tick()))
	td.CmpNoError(t, st.DeleteSite(ctx, "c1", "s1", 2, "alice", tick()))
	_, err = st.GetSite(ctx, "c1", "s1")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	td.Cmp(t, domain.ErrorCode(st.DeleteSite(ctx, "c1", "s1", 2, "alice", tick())), domain.ENotFound)
	td.CmpNoError(t, st.CreateSite(ctx, domain.Site{ID: "s5", CustomerID: "c1", Name: "london hq", CreatedAt: tick()}, "alice"),
		"a deleted site's name is free")

	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Smuggle(actionsOf, []string{"site.create", "site.delete", "number.delete", "number.add",
		"site.create", "site.update", "site.create", "site.create", "site.create", "customer.create"}))
}

func siteNames(sites []domain.Site) []string {
	out := []string{}
	for _, s := range sites {
		out = append(out, s.Name)
	}
	return out
}
