package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Site items: PK CUST#<customerId>, SK SITE#<siteId>. A site's name is unique per customer (any letter case): each
// name holds a guard item PK CUST#<customerId>, SK SITENAME#<lower-case trimmed name>, written and removed in the
// same transaction as the site (as templates do).
type siteItem struct {
	PK, SK string
	Kind   string `dynamodbav:"type"`
	domain.Site
}

func siteSK(id string) string { return "SITE#" + id }

func siteNameSK(name string) string { return "SITENAME#" + strings.ToLower(strings.TrimSpace(name)) }

func (it siteItem) site() domain.Site {
	st := it.Site
	if st.Criteria == nil {
		st.Criteria = []domain.Criterion{}
	}
	return st
}

func (s *Store) sitePut(st domain.Site) (*types.Put, error) {
	if st.Criteria == nil {
		st.Criteria = []domain.Criterion{}
	}
	item, err := attributevalue.MarshalMap(siteItem{PK: customerPK(st.CustomerID), SK: siteSK(st.ID), Kind: "site", Site: st})
	if err != nil {
		return nil, fmt.Errorf("marshal site %s: %w", st.ID, err)
	}
	return &types.Put{TableName: &s.table, Item: item}, nil
}

func (s *Store) siteNamePut(st domain.Site) *types.Put {
	item := key(customerPK(st.CustomerID), siteNameSK(st.Name))
	item["type"] = str("siteName")
	item["siteId"] = str(st.ID)
	return &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}
}

// CreateSite stores a new site (ID and CreatedAt set by the caller; stored at version 1), its name guard and an
// audit record ("site.create") in one transaction. It returns an EConflict error (Fields["name"]) when the
// customer has a site of that name, ENotFound when the customer does not exist.
func (s *Store) CreateSite(ctx context.Context, site domain.Site, actor string) error {
	site.Version = 1
	if site.UpdatedAt.IsZero() {
		site.UpdatedAt = site.CreatedAt
	}
	put, err := s.sitePut(site)
	if err != nil {
		return err
	}
	put.ConditionExpression = ptr("attribute_not_exists(PK)")
	audit, err := s.auditItem(domain.AuditRecord{
		At: site.CreatedAt, Actor: actor, CustomerID: site.CustomerID, Action: "site.create", After: site, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(customerPK(site.CustomerID), metaSK),
			ConditionExpression: ptr("attribute_exists(PK)")}},
		{Put: put},
		{Put: s.siteNamePut(site)},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return domain.Errorf(domain.ENotFound, "customer %s not found", site.CustomerID)
	case failed[2]:
		return siteNameTaken(site.Name)
	case failed[1]:
		return domain.Errorf(domain.EConflict, "site %s already exists", site.ID)
	default:
		return fmt.Errorf("create site: %w", err)
	}
}

// GetSite returns one site of the customer, or an ENotFound error.
func (s *Store) GetSite(ctx context.Context, customerID, siteID string) (domain.Site, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(customerPK(customerID), siteSK(siteID)),
		ConsistentRead: ptr(true)})
	if err != nil {
		return domain.Site{}, fmt.Errorf("get site %s: %w", siteID, err)
	}
	if out.Item == nil {
		return domain.Site{}, domain.Errorf(domain.ENotFound, "site %s not found", siteID)
	}
	var it siteItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Site{}, fmt.Errorf("decode site %s: %w", siteID, err)
	}
	return it.site(), nil
}

// ListSites returns every site of the customer (a handful), by Order, then name.
func (s *Store) ListSites(ctx context.Context, customerID string) ([]domain.Site, error) {
	items, err := queryAll[siteItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":s": str("SITE#"),
		},
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return nil, fmt.Errorf("list sites of %s: %w", customerID, err)
	}
	out := make([]domain.Site, len(items))
	for i, it := range items {
		out[i] = it.site()
	}
	slices.SortFunc(out, func(a, b domain.Site) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)),
			strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateSite replaces a site that is still at version (the version the caller read) with site (all but its ID,
// customer and CreatedAt), and audits the change ("site.update"), in one transaction; a rename moves the name
// guard in the same transaction. It returns the stored site (version + 1), an EConflict error when someone else
// changed or deleted it since (Fields["version"]) or when another site has the new name (Fields["name"]),
// ENotFound for an unknown site.
func (s *Store) UpdateSite(ctx context.Context, site domain.Site, version int64, actor string, at time.Time) (domain.Site, error) {
	before, err := s.GetSite(ctx, site.CustomerID, site.ID)
	if err != nil {
		return domain.Site{}, err
	}
	if before.Version != version {
		return domain.Site{}, stale("site %s", site.ID)
	}
	after := site
	after.CustomerID, after.ID, after.CreatedAt = before.CustomerID, before.ID, before.CreatedAt
	after.Version, after.UpdatedAt = version+1, at
	if after.Criteria == nil {
		after.Criteria = []domain.Criterion{}
	}
	put, err := s.sitePut(after)
	if err != nil {
		return domain.Site{}, err
	}
	put.ConditionExpression = ptr("#ver = :v")
	put.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
	put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: site.CustomerID, Action: "site.update", Before: before, After: after, Outcome: "ok",
	})
	if err != nil {
		return domain.Site{}, err
	}
	items := []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: audit}}}
	renamed := siteNameSK(before.Name) != siteNameSK(after.Name)
	if renamed {
		items = append(items,
			types.TransactWriteItem{Put: s.siteNamePut(after)},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(customerPK(site.CustomerID), siteNameSK(before.Name))}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case failed[0]:
		return domain.Site{}, stale("site %s", site.ID)
	case renamed && failed[2]:
		return domain.Site{}, siteNameTaken(after.Name)
	default:
		return domain.Site{}, fmt.Errorf("update site %s: %w", site.ID, err)
	}
}

// DeleteSite deletes a site that is still at version, with its name guard, and audits it ("site.delete"), in one
// transaction. It returns an EConflict error when numbers of the inventory still belong to the site or when
// someone else changed it since, ENotFound for an unknown site.
//
// The numbers are looked up (a Query of the customer's inventory) before the delete: a number added to the site
// at that very moment would be left with a deleted site, which the number list shows as site-less.
func (s *Store) DeleteSite(ctx context.Context, customerID, siteID string, version int64, actor string, at time.Time) error {
	before, err := s.GetSite(ctx, customerID, siteID)
	if err != nil {
		return err
	}
	if before.Version != version {
		return stale("site %s", siteID)
	}
	n, err := s.siteNumberCount(ctx, customerID, siteID)
	if err != nil {
		return err
	}
	if n > 0 {
		return domain.Errorf(domain.EConflict, "site %q still has numbers: move or delete them first", before.Name)
	}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: customerID, Action: "site.delete", Before: before, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(customerPK(customerID), siteSK(siteID)),
			ConditionExpression:       ptr("#ver = :v"),
			ExpressionAttributeNames:  map[string]string{"#ver": "Version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)}}},
		{Delete: &types.Delete{TableName: &s.table, Key: key(customerPK(customerID), siteNameSK(before.Name))}},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return stale("site %s", siteID)
	default:
		return fmt.Errorf("delete site %s: %w", siteID, err)
	}
}

// siteNumberCount returns 1 when some number of the inventory belongs to the site, else 0 (it stops at the first).
func (s *Store) siteNumberCount(ctx context.Context, customerID, siteID string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: ptr(gsi1),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		FilterExpression:          ptr("SiteID = :site"),
		ProjectionExpression:      ptr("PK"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(numbersGSI1PK(customerID)), ":site": str(siteID)},
	}
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("numbers of site %s: %w", siteID, err)
		}
		if len(out.Items) > 0 {
			return 1, nil
		}
	}
	return 0, nil
}

func siteNameTaken(name string) error {
	e := domain.Errorf(domain.EConflict, "a site named %q already exists for this customer", name)
	e.Fields = map[string]string{"name": "another site of this customer has this name"}
	return e
}
