package licensing

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// TemplateStore is the state templates read and write (*store.Store implements it).
type TemplateStore interface {
	GetCustomer(ctx context.Context, id string) (domain.Customer, error)
	CustomerSKUs(ctx context.Context, customerID string) ([]domain.CustomerSKU, error)
	// CreateTemplate returns EConflict (Fields["name"]) for a name the customer already uses.
	CreateTemplate(ctx context.Context, t domain.Template, actor string) error
	GetTemplate(ctx context.Context, customerID, templateID string) (domain.Template, error)
	ListTemplates(ctx context.Context, customerID string) ([]domain.Template, error)
	// UpdateTemplate and DeleteTemplate return EConflict (Fields["version"]) when the template is no longer at
	// version.
	UpdateTemplate(ctx context.Context, t domain.Template, version int64, actor string, at time.Time) (domain.Template, error)
	DeleteTemplate(ctx context.Context, customerID, templateID string, version int64, actor string, at time.Time) error
}

var _ TemplateStore = (*store.Store)(nil)

// Template limits.
const (
	MaxTemplateName        = 100
	MaxTemplateDescription = 1000
	MaxTemplateLicences    = 25
	// MaxTemplateAssign is the most users one request assigns a template to (an API request must end within the
	// API's timeout; larger sets go through the bulk upload, as a job).
	MaxTemplateAssign = 500
)

// Audit action of a template assigned to users (one record per user); the template's own changes are audited by
// the store as template.create, template.update and template.delete.
const ActionTemplateAssign = "template.assign"

// Templates manages a customer's templates (service profiles) and assigns them to users through the bulk path.
type Templates struct {
	Store TemplateStore
	Bulk  *Bulk
	Now   func() time.Time
	// NewID returns a new template id (tests set it for stable ids); nil = random UUIDs.
	NewID func() string
}

// TemplateInput is what an admin edits of a template.
type TemplateInput struct {
	Name        string                   `json:"name"`
	Description string                   `json:"description"`
	Licences    []domain.AssignedLicense `json:"licences"`
}

func (t *Templates) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

var templateGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validate normalises in (trimmed, lower-case ids, plans sorted) and checks it against the customer's SKUs: a name
// (1 to MaxTemplateName characters, no control characters), at most MaxTemplateDescription characters of
// description, 1 to MaxTemplateLicences licences, each a SKU the customer subscribes to, listed once, whose disabled
// plans are service plans of that SKU. Every problem is an entry of the EInvalid error's Fields.
func (t *Templates) validate(ctx context.Context, customerID string, in *TemplateInput) error {
	fields := map[string]string{}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fields["name"] = "required"
	case utf8.RuneCountInString(in.Name) > MaxTemplateName:
		fields["name"] = fmt.Sprintf("at most %d characters", MaxTemplateName)
	case strings.IndexFunc(in.Name, unicode.IsControl) >= 0:
		fields["name"] = "must not contain control characters"
	}
	in.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(in.Description) > MaxTemplateDescription {
		fields["description"] = fmt.Sprintf("at most %d characters", MaxTemplateDescription)
	}
	switch n := len(in.Licences); {
	case n == 0:
		fields["licences"] = "at least one licence is required"
	case n > MaxTemplateLicences:
		fields["licences"] = fmt.Sprintf("at most %d licences", MaxTemplateLicences)
	}
	if len(in.Licences) > 0 && len(in.Licences) <= MaxTemplateLicences {
		skus, err := t.Store.CustomerSKUs(ctx, customerID)
		if err != nil {
			return err
		}
		byID := map[string]domain.CustomerSKU{}
		for _, s := range skus {
			byID[strings.ToLower(s.SkuID)] = s
		}
		seen := map[string]int{}
		for i, l := range in.Licences {
			f := fmt.Sprintf("licences[%d]", i)
			l.SkuID = strings.ToLower(strings.TrimSpace(l.SkuID))
			sku, known := byID[l.SkuID]
			switch j, dup := seen[l.SkuID]; {
			case l.SkuID == "":
				fields[f+".skuId"] = "required: a SKU id (a GUID)"
			case !templateGUID.MatchString(l.SkuID):
				fields[f+".skuId"] = "must be a SKU id (a GUID)"
			case dup:
				fields[f+".skuId"] = fmt.Sprintf("listed twice (also licences[%d])", j)
			case !known:
				fields[f+".skuId"] = "the customer has no subscription to this SKU"
			}
			seen[l.SkuID] = i
			plans := map[string]bool{}
			for _, p := range sku.ServicePlans {
				plans[strings.ToLower(p.ID)] = true
			}
			disabled := make([]string, 0, len(l.DisabledPlans))
			for j, p := range l.DisabledPlans {
				p = strings.ToLower(strings.TrimSpace(p))
				pf := fmt.Sprintf("%s.disabledPlans[%d]", f, j)
				switch {
				case !templateGUID.MatchString(p):
					fields[pf] = "must be a service plan id (a GUID)"
				case slices.Contains(disabled, p):
					fields[pf] = "listed twice"
				case known && !plans[p]:
					fields[pf] = "not a service plan of " + catalog.DisplayName(sku.SkuID, sku.PartNumber)
				default:
					disabled = append(disabled, p)
				}
			}
			slices.Sort(disabled)
			l.DisabledPlans = disabled
			in.Licences[i] = l
		}
	}
	if len(fields) > 0 {
		return domain.Invalid(fields)
	}
	return nil
}

// List returns the customer's templates, ordered by name. Errors: ENotFound (customer).
func (t *Templates) List(ctx context.Context, customerID string) ([]domain.Template, error) {
	if _, err := t.Store.GetCustomer(ctx, customerID); err != nil {
		return nil, err
	}
	return t.Store.ListTemplates(ctx, customerID)
}

// Get returns one template. Errors: ENotFound (customer or template).
func (t *Templates) Get(ctx context.Context, customerID, templateID string) (domain.Template, error) {
	if _, err := t.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Template{}, err
	}
	return t.Store.GetTemplate(ctx, customerID, templateID)
}

// Create validates and stores a new template (version 1) and audits it. Errors: EInvalid (Fields), EConflict (the
// name is taken), ENotFound (customer).
func (t *Templates) Create(ctx context.Context, customerID, actor string, in TemplateInput) (domain.Template, error) {
	if _, err := t.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Template{}, err
	}
	if err := t.validate(ctx, customerID, &in); err != nil {
		return domain.Template{}, err
	}
	newID := t.NewID
	if newID == nil {
		newID = uuid.NewString
	}
	now := t.now()
	tpl := domain.Template{ID: newID(), CustomerID: customerID, Name: in.Name, Description: in.Description,
		Licences: in.Licences, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := t.Store.CreateTemplate(ctx, tpl, actor); err != nil {
		return domain.Template{}, err
	}
	return tpl, nil
}

// Update replaces a template's name, description and licences if it is still at version (the version the admin
// read) and audits the change. Errors: EInvalid (Fields), EConflict (changed by someone else since: reload; or
// the name is taken), ENotFound (customer or template).
func (t *Templates) Update(ctx context.Context, customerID, templateID string, version int64, actor string, in TemplateInput) (domain.Template, error) {
	if _, err := t.Store.GetCustomer(ctx, customerID); err != nil {
		return domain.Template{}, err
	}
	if err := t.validate(ctx, customerID, &in); err != nil {
		return domain.Template{}, err
	}
	return t.Store.UpdateTemplate(ctx, domain.Template{ID: templateID, CustomerID: customerID, Name: in.Name,
		Description: in.Description, Licences: in.Licences}, version, actor, t.now())
}

// Delete deletes a template that is still at version and audits it. Errors: EConflict (changed since), ENotFound.
func (t *Templates) Delete(ctx context.Context, customerID, templateID string, version int64, actor string) error {
	if _, err := t.Store.GetCustomer(ctx, customerID); err != nil {
		return err
	}
	return t.Store.DeleteTemplate(ctx, customerID, templateID, version, actor, t.now())
}

// Assign gives the template's licences (with their add-ons) to each user, through the bulk path (Bulk.ApplyMany):
// a user who already holds a licence of the template directly gets its add-ons set as the template says; one who
// holds all of it already is unchanged. It returns one result per user, in order.
//
// Errors: EInvalid (no users, more than MaxTemplateAssign, an empty id, a user listed twice), ENotFound (customer or
// template), EConflict (too few seats for the whole request: nothing was changed), and store failures.
func (t *Templates) Assign(ctx context.Context, customerID, templateID, actor string, userIDs []string) ([]BulkResult, error) {
	switch n := len(userIDs); {
	case n == 0:
		return nil, domain.Invalid(map[string]string{"userIds": "at least one user is required"})
	case n > MaxTemplateAssign:
		return nil, domain.Invalid(map[string]string{"userIds": fmt.Sprintf("at most %d users at once (%d given): use the bulk upload for more", MaxTemplateAssign, n)})
	}
	fields := map[string]string{}
	seen := map[string]int{}
	for i, id := range userIDs {
		k := strings.ToLower(strings.TrimSpace(id))
		switch j, dup := seen[k]; {
		case k == "" || strings.ContainsAny(k, "/?#"):
			fields[fmt.Sprintf("userIds[%d]", i)] = "must be a user id"
		case dup:
			fields[fmt.Sprintf("userIds[%d]", i)] = fmt.Sprintf("listed twice (also userIds[%d])", j)
		}
		seen[k] = i
	}
	if len(fields) > 0 {
		return nil, domain.Invalid(fields)
	}
	tpl, err := t.Get(ctx, customerID, templateID)
	if err != nil {
		return nil, err
	}
	changes := make([]BulkChange, len(userIDs))
	for i, id := range userIDs {
		changes[i] = BulkChange{UserID: strings.TrimSpace(id), Add: tpl.Licences}
	}
	return t.Bulk.ApplyMany(ctx, BulkRequest{
		CustomerID: customerID, Actor: actor, Action: ActionTemplateAssign, Changes: changes, ManagedBy: domain.ManagedByTemplate,
		Source: map[string]any{"templateId": tpl.ID, "name": tpl.Name, "version": tpl.Version},
	})
}
