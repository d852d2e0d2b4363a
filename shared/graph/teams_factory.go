package graph

import "context"

// TeamsReady reports whether a user of a tenant has appeared in Teams (see Client.TeamsReady).
func (f *Factory) TeamsReady(ctx context.Context, tenantID, userID string) (bool, TeamsUserConfig, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return false, TeamsUserConfig{}, err
	}
	return c.TeamsReady(ctx, userID)
}

// ListNumbers reads a tenant's Teams telephone numbers (see Client.ListNumbers).
func (f *Factory) ListNumbers(ctx context.Context, tenantID string, filter NumberFilter) ([]Number, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return nil, err
	}
	return c.ListNumbers(ctx, filter)
}

// AssignNumber assigns a telephone number to a user of a tenant and waits for Teams (see Client.AssignNumber).
func (f *Factory) AssignNumber(ctx context.Context, tenantID string, a NumberAssignment) error {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return err
	}
	return c.AssignNumber(ctx, a)
}

// UnassignNumber frees a telephone number of a tenant and waits for Teams (see Client.UnassignNumber).
func (f *Factory) UnassignNumber(ctx context.Context, tenantID, number, numberType string) error {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return err
	}
	return c.UnassignNumber(ctx, number, numberType)
}
