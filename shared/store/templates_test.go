package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

const (
	skuE3   = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuPBI  = "f8a1db68-be16-40ed-86d5-cb42ce701560"
	planYam = "7547a3fe-08ee-4ccb-b430-5077c5041653"
)

func TestTemplatesLifecycleWithOptimisticLocking(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))
	at := time.Now().UTC().Truncate(time.Millisecond).Add(time.Minute) // after the customer's creation, for the audit order
	tick := func() time.Time { at = at.Add(time.Second); return at }
	tpl := domain.Template{ID: "t1", CustomerID: "c1", Name: "Office worker", Description: "E3 without Viva Engage",
		Licences: []domain.AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{planYam}}, {SkuID: skuPBI}},
		Version:  1, CreatedAt: at, UpdatedAt: at}
	td.Require(t).CmpNoError(st.CreateTemplate(ctx, tpl, "alice"))

	got, err := st.GetTemplate(ctx, "c1", "t1")
	td.Require(t).CmpNoError(err)
	want := tpl
	want.Licences = []domain.AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{planYam}}, {SkuID: skuPBI, DisabledPlans: []string{}}}
	td.Cmp(t, got, want)

	// Names are unique per customer, whatever the case; ids too; the customer must exist.
	dup := tpl
	dup.ID, dup.Name = "t2", "  OFFICE WORKER"
	err = st.CreateTemplate(ctx, dup, "alice")
	td.Cmp(t, err, td.Smuggle(domain.ErrorCode, domain.EConflict))
	td.Cmp(t, err, td.Smuggle(func(e error) map[string]string { return fieldsOf(e) }, td.ContainsKey("name")))
	dup.Name = "Other"
	dup.ID = "t1"
	td.Cmp(t, domain.ErrorCode(st.CreateTemplate(ctx, dup, "alice")), domain.EConflict, "same id")
	dup.ID, dup.CustomerID = "t3", "nope"
	td.Cmp(t, domain.ErrorCode(st.CreateTemplate(ctx, dup, "alice")), domain.ENotFound, "unknown customer")

	second := tpl
	second.ID, second.Name, second.CreatedAt = "t2", "Analyst", tick()
	td.Require(t).CmpNoError(st.CreateTemplate(ctx, second, "alice"))
	list, err := st.ListTemplates(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, list, td.Smuggle(func(ts []domain.Template) []string {
		var names []string
		for _, t := range ts {
			names = append(names, t.Name)
		}
		return names
	}, []string{"Analyst", "Office worker"}))

	// Two edits from version 1: the first wins, the second is told to reload.
	edit := tpl
	edit.Name = "Office worker (E3)"
	updated, err := st.UpdateTemplate(ctx, edit, 1, "alice", tick())
	td.Require(t).CmpNoError(err)
	td.Cmp(t, updated, td.SuperJSONOf(`{"name":"Office worker (E3)","version":2}`))
	edit.Name = "Bob's name"
	_, err = st.UpdateTemplate(ctx, edit, 1, "bob", tick())
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})

	// The old name is free again after a rename; the new one is taken.
	free := tpl
	free.ID, free.CreatedAt = "t4", tick()
	td.CmpNoError(t, st.CreateTemplate(ctx, free, "alice"), "old name reusable")
	edit.Name = "analyst"
	_, err = st.UpdateTemplate(ctx, edit, 2, "alice", tick())
	td.Cmp(t, fieldsOf(err), td.ContainsKey("name"), "rename onto another template's name")

	// Delete needs the current version too.
	td.Cmp(t, domain.ErrorCode(st.DeleteTemplate(ctx, "c1", "t1", 1, "bob", tick())), domain.EConflict)
	td.CmpNoError(t, st.DeleteTemplate(ctx, "c1", "t1", 2, "alice", tick()))
	_, err = st.GetTemplate(ctx, "c1", "t1")
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)
	td.Cmp(t, domain.ErrorCode(st.DeleteTemplate(ctx, "c1", "t1", 2, "alice", tick())), domain.ENotFound)
	renamedBack := tpl
	renamedBack.ID, renamedBack.Name, renamedBack.CreatedAt = "t5", "Office worker (E3)", tick()
	td.CmpNoError(t, st.CreateTemplate(ctx, renamedBack, "alice"), "a deleted template's name is free")

	// Every change is audited, newest first.
	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	var actions []string
	for _, r := range page.Items {
		actions = append(actions, r.Action)
	}
	td.Cmp(t, actions, []string{"template.create", "template.delete", "template.create", "template.update",
		"template.create", "template.create", "customer.create"})
}

func fieldsOf(err error) map[string]string {
	var e *domain.Error
	if ok := asDomain(err, &e); ok {
		return e.Fields
	}
	return nil
}
