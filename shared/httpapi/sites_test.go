package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

func TestSitesCRUDValidationAndStale(t *testing.T) {
	p := newProvAPI(t)
	base := p.path("/sites")
	admin, viewer := p.adminH(), p.viewerH()
	td.Require(t).CmpNoError(p.store.CreateTemplate(context.Background(), domain.Template{ID: "tpl-phone", CustomerID: p.id,
		Name: "Phone", Licences: []domain.AssignedLicense{}, Version: 1, CreatedAt: time.Now()}, "test"))

	// Validation: every problem named by its JSON path; nothing stored.
	p.PostJSON(base, map[string]any{"name": " ", "order": -1, "usageLocation": "GBR",
		"criteria":     []any{map[string]any{"field": "city", "value": "Leeds"}, map[string]any{"field": "colour", "value": ""}},
		"numberPolicy": map[string]any{"assign": true, "type": "mobile"}}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"name":"required","order":$1,"usageLocation":$1,
			"criteria[1].field":$1,"criteria[1].value":"required","numberPolicy.type":$1}`, td.NotEmpty())))
	p.PostJSON(base, map[string]any{"name": "Leeds", "templateId": "nope"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"templateId":"no such template of this customer"}`)))
	p.PostJSON(base, map[string]any{"name": "Leeds", "numberPolicy": map[string]any{"assign": true, "kind": "x"}}, admin).
		CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"kind":"unknown field"}`)))
	p.PostJSON(base, map[string]any{"name": "Leeds", "version": 1}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":"a new site has no version yet"}`)))
	p.PostJSON(base, map[string]any{"name": "Leeds"}, viewer).CmpStatus(403)
	p.PostJSON("/api/v1/customers/nope/sites", map[string]any{"name": "Leeds"}, p.admin()).CmpStatus(404)
	p.Get(base, viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[]}`))

	var leeds, hq string
	p.PostJSON(base, map[string]any{"name": "Leeds", "order": 1, "usageLocation": "gb", "templateId": "tpl-phone", "allowStaging": true,
		"criteria":     []any{map[string]any{"field": "city", "value": "Leeds"}, map[string]any{"field": "upnDomain", "value": "Leeds.Fabrikam.com"}},
		"numberPolicy": map[string]any{"assign": true, "type": "directRouting"}}, admin).
		CmpStatus(201).CmpJSONBody(td.JSON(`{"id":$1,"customerId":$2,"name":"Leeds","order":1,"default":false,"usageLocation":"GB",
			"criteria":[{"field":"city","value":"Leeds"},{"field":"upnDomain","value":"leeds.fabrikam.com"}],"templateId":"tpl-phone",
			"allowStaging":true,"numberPolicy":{"assign":true,"type":"directRouting"},"version":1,"createdAt":$3,"updatedAt":$3}`,
		td.Catch(&leeds, td.NotEmpty()), p.id, td.NotEmpty()))
	p.PostJSON(base, map[string]any{"name": "Head office", "default": true}, admin).CmpStatus(201).
		CmpJSONBody(td.SuperJSONOf(`{"id":$1,"default":true,"criteria":[],"numberPolicy":{"assign":false,"type":""},"version":1}`,
			td.Catch(&hq, td.NotEmpty())))
	p.PostJSON(base, map[string]any{"name": "LEEDS "}, admin).CmpStatus(409).
		CmpJSONBody(errFields("conflict", td.JSON(`{"name":"another site of this customer has this name"}`)))
	p.PostJSON(base, map[string]any{"name": "Annex", "default": true}, admin).CmpStatus(409).
		CmpJSONBody(errFields("conflict", td.JSON(`{"default":"\"Head office\" is the default site"}`)))

	p.Get(base, viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1,$2]}`,
		td.SuperMapOf(map[string]any{"name": "Head office"}, nil), td.SuperMapOf(map[string]any{"name": "Leeds"}, nil)))
	p.Get(base+"/"+leeds, viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"id":$1,"name":"Leeds","version":1}`, leeds))
	p.Get(base+"/nope", viewer).CmpStatus(404)

	// Edits carry the version read: a second admin who read version 1 is told to reload.
	edit := func(name string, version any) map[string]any {
		return map[string]any{"name": name, "order": 1, "allowStaging": true, "version": version}
	}
	p.PutJSON(base+"/"+leeds, edit("Leeds office", 1), admin).CmpStatus(200).
		CmpJSONBody(td.SuperJSONOf(`{"name":"Leeds office","version":2,"templateId":"","criteria":[]}`))
	p.PutJSON(base+"/"+leeds, edit("Leeds (old)", 1), p.admin()).CmpStatus(409).CmpJSONBody(errConflict("reload"))
	p.PutJSON(base+"/"+leeds, map[string]any{"name": "No version"}, admin).CmpStatus(400).
		CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	p.PutJSON(base+"/"+leeds, edit("", 2), admin).CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"name":"required"}`)))
	p.PutJSON(base+"/"+leeds, edit("Leeds", 2), viewer).CmpStatus(403)
	p.PutJSON(base+"/nope", edit("X", 1), admin).CmpStatus(404)
	p.Get(base+"/"+leeds, viewer).CmpStatus(200).CmpJSONBody(td.SuperJSONOf(`{"name":"Leeds office","version":2}`))

	// A site with numbers cannot be deleted; deletes carry the version too.
	p.PostJSON(p.path("/numbers"), map[string]any{"number": "+44 113 496 0000", "type": "directRouting", "siteId": leeds}, admin).CmpStatus(201)
	p.Delete(base+"/"+leeds+"?version=2", nil, admin).CmpStatus(409).CmpJSONBody(errConflict("still has numbers"))
	p.Delete(base+"/"+leeds+"?version=1", nil, admin).CmpStatus(409)
	p.Delete(base+"/"+leeds, nil, admin).CmpStatus(400).CmpJSONBody(errFields("invalid", td.JSON(`{"version":$1}`, td.HasPrefix("required"))))
	p.Delete(base+"/"+leeds+"?version=x", nil, admin).CmpStatus(400)
	p.Delete(base+"/"+leeds+"?version=2", nil, viewer).CmpStatus(403)
	p.Delete(p.path("/numbers/+441134960000?version=1"), nil, admin).CmpStatus(200).
		CmpJSONBody(td.JSON(`{"number":"+441134960000","deleted":true}`))
	p.Delete(base+"/"+leeds+"?version=2", nil, admin).CmpStatus(200).CmpJSONBody(td.JSON(`{"id":$1,"deleted":true}`, leeds))
	p.Get(base+"/"+leeds, viewer).CmpStatus(404)
	p.Get(base, viewer).CmpStatus(200).CmpJSONBody(td.JSON(`{"items":[$1]}`, td.SuperMapOf(map[string]any{"id": hq}, nil)))

	page, err := p.store.ListAudit(context.Background(), p.id, store.AuditQuery{Limit: 20})
	td.Require(t).CmpNoError(err)
	var actions []string
	for _, r := range page.Items {
		actions = append(actions, r.Action)
	}
	td.Cmp(t, actions, td.SuperBagOf("site.create", "site.create", "site.update", "site.delete"))
}
