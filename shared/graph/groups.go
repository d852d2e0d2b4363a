package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// GroupNames returns the display names of the tenant's groups, by lower-case id, so that licences inherited from a
// group can be shown with the group's name. It pages through /groups with $select=id,displayName.
func (c *Client) GroupNames(ctx context.Context) (map[string]string, error) {
	const op = "list groups"
	out := map[string]string{}
	link := c.baseURL + "/groups?$select=id,displayName"
	for page := 0; link != ""; page++ {
		if err := c.checkNextLink(op, link, page); err != nil {
			return nil, err
		}
		b, err := c.rawGet(ctx, link)
		if err != nil {
			return nil, c.mapError(op, err)
		}
		var resp struct {
			Value []struct {
				ID          string `json:"id"`
				DisplayName string `json:"displayName"`
			} `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			return nil, c.mapError(op, fmt.Errorf("unusable answer: %w", err))
		}
		for _, g := range resp.Value {
			out[strings.ToLower(g.ID)] = g.DisplayName
		}
		link = resp.NextLink
	}
	return out, nil
}

// GroupNames returns the display names of a tenant's groups (see Client.GroupNames).
func (f *Factory) GroupNames(ctx context.Context, tenantID string) (map[string]string, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return nil, err
	}
	return c.GroupNames(ctx)
}
