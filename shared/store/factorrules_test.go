package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestFactorRulesVersionsAndInheritance(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	td.Require(t).CmpNoError(st.CreateCustomer(ctx, customer("c1", "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"), "test"))
	at := time.Now().UTC().Truncate(time.Millisecond).Add(time.Minute) // after customer.create

	// Nothing saved at all: version 0, nil rules (the caller's defaults apply), for the provider and a customer.
	set, inherited, err := st.GetFactorRules(ctx, "")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, set, domain.FactorRuleSet{})
	td.Cmp(t, inherited, false)
	set, inherited, err = st.GetFactorRules(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, set, domain.FactorRuleSet{})
	td.Cmp(t, inherited, true)

	dr := domain.FactorRule{ID: "dr", Name: "Direct Routing", Enabled: true,
		Criteria: []domain.FactorCriterion{{Field: domain.FactorNumberType, Pattern: "directRouting"}}}
	byUI := domain.FactorRule{ID: "ui", Name: "By UI", Enabled: false, ManagedBy: domain.ManagedByUI}
	provider, err := st.PutFactorRules(ctx, domain.FactorRuleSet{Rules: []domain.FactorRule{dr, byUI}}, 0, "root", at)
	td.Require(t).CmpNoError(err)
	byUI.Criteria = []domain.FactorCriterion{}
	wantProvider := domain.FactorRuleSet{Rules: []domain.FactorRule{dr, byUI}, Version: 1, UpdatedAt: at}
	td.Cmp(t, provider, wantProvider)

	// A customer without its own list gets the provider's.
	set, inherited, err = st.GetFactorRules(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, set, wantProvider)
	td.Cmp(t, inherited, true)

	// Stale saves: a second first save, an old version.
	_, err = st.PutFactorRules(ctx, domain.FactorRuleSet{Rules: []domain.FactorRule{dr}}, 0, "root", at)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)
	td.Cmp(t, fieldsOf(err), map[string]string{"version": "stale: reload"})
	provider, err = st.PutFactorRules(ctx, domain.FactorRuleSet{Rules: []domain.FactorRule{dr}}, 1, "root", at.Add(time.Second))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, provider.Version, int64(2))
	_, err = st.PutFactorRules(ctx, domain.FactorRuleSet{Rules: []domain.FactorRule{dr}}, 1, "root", at)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict)

	// The customer's own list (its own versions, from 0) replaces the provider's for it only.
	own, err := st.PutFactorRules(ctx, domain.FactorRuleSet{CustomerID: "c1", Rules: []domain.FactorRule{byUI}}, 2, "alice", at)
	td.Cmp(t, domain.ErrorCode(err), domain.EConflict, "the provider's version is not the customer's")
	own, err = st.PutFactorRules(ctx, domain.FactorRuleSet{CustomerID: "c1", Rules: []domain.FactorRule{byUI}}, 0, "alice", at)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, own, domain.FactorRuleSet{CustomerID: "c1", Rules: []domain.FactorRule{byUI}, Version: 1, UpdatedAt: at})
	set, inherited, err = st.GetFactorRules(ctx, "c1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, set, own)
	td.Cmp(t, inherited, false)
	set, _, _ = st.GetFactorRules(ctx, "")
	td.Cmp(t, set.Rules, []domain.FactorRule{dr})

	// An empty list is a list (not "none saved").
	own, err = st.PutFactorRules(ctx, domain.FactorRuleSet{CustomerID: "c1"}, 1, "alice", at.Add(time.Second))
	td.Require(t).CmpNoError(err)
	set, inherited, _ = st.GetFactorRules(ctx, "c1")
	td.Cmp(t, set.Rules, []domain.FactorRule{})
	td.Cmp(t, set.Version, int64(2))
	td.Cmp(t, inherited, false)

	// Reset: stale version refused; then the customer goes back to the provider's; resetting again is a no-op.
	td.Cmp(t, domain.ErrorCode(st.DeleteFactorRules(ctx, "c1", 1, "alice", at)), domain.EConflict)
	td.Require(t).CmpNoError(st.DeleteFactorRules(ctx, "c1", own.Version, "alice", at.Add(time.Minute)))
	set, inherited, _ = st.GetFactorRules(ctx, "c1")
	td.Cmp(t, set.Version, int64(2))
	td.Cmp(t, set.CustomerID, "")
	td.Cmp(t, inherited, true)
	td.CmpNoError(t, st.DeleteFactorRules(ctx, "c1", 0, "alice", at))
	td.Cmp(t, domain.ErrorCode(st.DeleteFactorRules(ctx, "c1", 2, "alice", at)), domain.EConflict)
	// After a reset, the customer's own list starts again from version 0.
	own, err = st.PutFactorRules(ctx, domain.FactorRuleSet{CustomerID: "c1", Rules: []domain.FactorRule{dr}}, 0, "alice", at.Add(2*time.Minute))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, own.Version, int64(1))

	// Unknown customer.
	_, err = st.PutFactorRules(ctx, domain.FactorRuleSet{CustomerID: "nope"}, 0, "alice", at)
	td.Cmp(t, domain.ErrorCode(err), domain.ENotFound)

	page, err := st.ListAudit(ctx, "c1", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Smuggle(actionsOf, []string{"factors.update", "factors.reset", "factors.update", "factors.update", "customer.create"}))
	page, err = st.ListAudit(ctx, "", store.AuditQuery{Limit: 50})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, page.Items, td.Smuggle(actionsOf, []string{"factors.update", "factors.update"}), "the provider's, under customer id \"\"")
}
