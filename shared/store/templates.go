package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Template items: PK CUST#<customerId>, SK TEMPLATE#<templateId>. A template's name is unique per customer (any
// letter case): each name holds a guard item PK CUST#<customerId>, SK TEMPLATENAME#<lower-case name>, written and
// removed in the same transaction as the template, so that two admins cannot create the same name at once.
type templateItem struct {
	PK, SK      string
	Type        string                   `dynamodbav:"type"`
	ID          string                   `dynamodbav:"id"`
	CustomerID  string                   `dynamodbav:"customerId"`
	Name        string                   `dynamodbav:"name"`
	Description string                   `dynamodbav:"description"`
	Licences    []domain.AssignedLicense `dynamodbav:"licences"`
	Version     int64                    `dynamodbav:"version"`
	CreatedAt   time.Time                `dynamodbav:"createdAt"`
	UpdatedAt   time.Time                `dynamodbav:"updatedAt"`
}

func templateSK(id string) string { return "TEMPLATE#" + id }

func templateNameSK(name string) string {
	return "TEMPLATENAME#" + strings.ToLower(strings.TrimSpace(name))
}

func (it templateItem) template() domain.Template {
	t := domain.Template{
		ID: it.ID, CustomerID: it.CustomerID, Name: it.Name, Description: it.Description,
		Licences: make([]domain.AssignedLicense, len(it.Licences)), Version: it.Version,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
	for i, l := range it.Licences {
		t.Licences[i] = domain.AssignedLicense{SkuID: l.SkuID, DisabledPlans: nonNilStrings(l.DisabledPlans)}
	}
	return t
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Store) templatePut(t domain.Template) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(templateItem{
		PK: customerPK(t.CustomerID), SK: templateSK(t.ID), Type: "template", ID: t.ID, CustomerID: t.CustomerID,
		Name: t.Name, Description: t.Description, Licences: t.Licences, Version: t.Version,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal template %s: %w", t.ID, err)
	}
	return &types.Put{TableName: &s.table, Item: item}, nil
}

func (s *Store) templateNamePut(t domain.Template) *types.Put {
	item := key(customerPK(t.CustomerID), templateNameSK(t.Name))
	item["type"] = str("templateName")
	item["templateId"] = str(t.ID)
	return &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}
}

// CreateTemplate stores a new template (its version as given, normally 1), its name guard and an audit record in
// one transaction. It returns an EConflict error (Fields["name"]) when the customer has a template of that name,
// and ENotFound when the customer does not exist.
func (s *Store) CreateTemplate(ctx context.Context, t domain.Template, actor string) error {
	put, err := s.templatePut(t)
	if err != nil {
		return err
	}
	put.ConditionExpression = ptr("attribute_not_exists(PK)")
	audit, err := s.auditItem(domain.AuditRecord{
		At: t.CreatedAt, Actor: actor, CustomerID: t.CustomerID, Action: "template.create", After: t, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(customerPK(t.CustomerID), metaSK),
			ConditionExpression: ptr("attribute_exists(PK)")}},
		{Put: put},
		{Put: s.templateNamePut(t)},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return domain.Errorf(domain.ENotFound, "customer %s not found", t.CustomerID)
	case failed[2]:
		return nameTaken(t.Name)
	case failed[1]:
		return domain.Errorf(domain.EConflict, "template %s already exists", t.ID)
	default:
		return fmt.Errorf("create template: %w", err)
	}
}

// GetTemplate returns one template of the customer, or an ENotFound error.
func (s *Store) GetTemplate(ctx context.Context, customerID, templateID string) (domain.Template, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(customerPK(customerID), templateSK(templateID)),
		ConsistentRead: ptr(true)})
	if err != nil {
		return domain.Template{}, fmt.Errorf("get template %s: %w", templateID, err)
	}
	if out.Item == nil {
		return domain.Template{}, domain.Errorf(domain.ENotFound, "template %s not found", templateID)
	}
	var it templateItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Template{}, fmt.Errorf("decode template %s: %w", templateID, err)
	}
	return it.template(), nil
}

// ListTemplates returns every template of the customer, ordered by name (a customer has a handful of them).
func (s *Store) ListTemplates(ctx context.Context, customerID string) ([]domain.Template, error) {
	items, err := queryAll[templateItem](ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: ptr("PK = :pk AND begins_with(SK, :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":t": str("TEMPLATE#"),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("list templates of %s: %w", customerID, err)
	}
	out := make([]domain.Template, len(items))
	for i, it := range items {
		out[i] = it.template()
	}
	slices.SortFunc(out, func(a, b domain.Template) int {
		return strings.Compare(strings.ToLower(a.Name)+"\x00"+a.ID, strings.ToLower(b.Name)+"\x00"+b.ID)
	})
	return out, nil
}

// UpdateTemplate replaces the name, description and licences of a template that is still at version (the version
// the caller read), and audits the change, in one transaction. It returns the stored template (version + 1), an
// EConflict error when someone else changed or deleted it since (Fields["version"]) or when another template has
// the new name (Fields["name"]), ENotFound for an unknown template.
func (s *Store) UpdateTemplate(ctx context.Context, t domain.Template, version int64, actor string, at time.Time) (domain.Template, error) {
	before, err := s.GetTemplate(ctx, t.CustomerID, t.ID)
	if err != nil {
		return domain.Template{}, err
	}
	if before.Version != version {
		return domain.Template{}, staleTemplate(t.ID)
	}
	after := before
	after.Name, after.Description, after.Licences = t.Name, t.Description, t.Licences
	after.Version, after.UpdatedAt = version+1, at
	put, err := s.templatePut(after)
	if err != nil {
		return domain.Template{}, err
	}
	put.ConditionExpression = ptr("version = :v")
	put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: t.CustomerID, Action: "template.update", Before: before, After: after, Outcome: "ok",
	})
	if err != nil {
		return domain.Template{}, err
	}
	items := []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: audit}}}
	renamed := templateNameSK(before.Name) != templateNameSK(after.Name)
	if renamed {
		items = append(items,
			types.TransactWriteItem{Put: s.templateNamePut(after)},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(customerPK(t.CustomerID), templateNameSK(before.Name))}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case failed[0]:
		return domain.Template{}, staleTemplate(t.ID)
	case renamed && failed[2]:
		return domain.Template{}, nameTaken(after.Name)
	default:
		return domain.Template{}, fmt.Errorf("update template %s: %w", t.ID, err)
	}
}

// DeleteTemplate deletes a template that is still at version, with its name guard, and audits it, in one
// transaction. It returns an EConflict error when someone else changed it since, ENotFound for an unknown template.
func (s *Store) DeleteTemplate(ctx context.Context, customerID, templateID string, version int64, actor string, at time.Time) error {
	before, err := s.GetTemplate(ctx, customerID, templateID)
	if err != nil {
		return err
	}
	if before.Version != version {
		return staleTemplate(templateID)
	}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: customerID, Action: "template.delete", Before: before, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(customerPK(customerID), templateSK(templateID)),
			ConditionExpression:       ptr("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)}}},
		{Delete: &types.Delete{TableName: &s.table, Key: key(customerPK(customerID), templateNameSK(before.Name))}},
		{Put: &types.Put{TableName: &s.table, Item: audit}},
	}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return staleTemplate(templateID)
	default:
		return fmt.Errorf("delete template %s: %w", templateID, err)
	}
}

// failedConditions returns, for a cancelled transaction, which of its items failed their condition (by index);
// for any other outcome, an empty set.
func failedConditions(err error) map[int]bool {
	out := map[int]bool{}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for i, r := range canceled.CancellationReasons {
			if r.Code != nil && *r.Code == "ConditionalCheckFailed" {
				out[i] = true
			}
		}
	}
	return out
}

func staleTemplate(id string) error {
	e := domain.Errorf(domain.EConflict, "template %s was changed by someone else: reload and try again", id)
	e.Fields = map[string]string{"version": "stale: reload"}
	return e
}

func nameTaken(name string) error {
	e := domain.Errorf(domain.EConflict, "a template named %q already exists for this customer", name)
	e.Fields = map[string]string{"name": "another template of this customer has this name"}
	return e
}
