package graph

import (
	"context"
	"strconv"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

// UserResult is the outcome of reading ids[Index] in ReadUsers: the user (UserFields) or Err.
type UserResult struct {
	Index int
	ID    string
	User  domain.GraphUser
	Err   error
}

// ReadUsers reads the given users with UserFields (their licences and licenseAssignmentStates included) through
// JSON batching: GET /users/{id} requests in chunks of up to 20 per POST /$batch, at most concurrency (0 =
// DefaultBatchConcurrency, at most 16) batches in flight. Items answered 429, 503 or 504 are sent again in a later
// round after their Retry-After (or an exponential backoff), up to the client's MaxRetries; a Retry-After past
// ctx's deadline fails them at once (EThrottled). It returns one result per id, in order: ENotFound for a user
// Graph does not know, EInvalid for an id that is not one, else the codes of mapError.
//
// It is how a bulk licence change re-reads what Graph made of the users it changed (AssignMany answers with the
// users' default properties, without their licences).
func (c *Client) ReadUsers(ctx context.Context, ids []string, concurrency int) []UserResult {
	results := make([]UserResult, len(ids))
	items := make([]batchRequestItem, len(ids))
	var pending []int
	for i, id := range ids {
		results[i] = UserResult{Index: i, ID: id}
		item, err := c.readUserItem(ctx, i, id)
		if err != nil {
			results[i].Err = err
			continue
		}
		items[i] = item
		pending = append(pending, i)
	}
	what := func(i int) string { return "read user " + ids[i] }
	outs := c.runBatch(ctx, items, pending, concurrency, what)
	for _, i := range pending {
		r, o := &results[i], outs[i]
		switch {
		case o.err != nil:
			r.Err = o.err
		case o.answer.Status >= 200 && o.answer.Status < 300:
			u, err := parseUser(o.answer.Body)
			r.User, r.Err = u, c.mapError(what(i), err)
		default:
			r.Err = c.mapError(what(i), batchItemError(o.answer))
		}
	}
	return results
}

// readUserItem builds the $batch item reading user id (its index as the item id) with the SDK's request builder.
func (c *Client) readUserItem(ctx context.Context, index int, id string) (batchRequestItem, error) {
	if strings.TrimSpace(id) == "" || strings.ContainsAny(id, "/?#") {
		return batchRequestItem{}, domain.Invalid(map[string]string{"userId": "must be a user id or userPrincipalName"})
	}
	ri, err := users.NewUserItemRequestBuilderInternal(c.userParams(id), c.adapter).ToGetRequestInformation(ctx,
		&users.UserItemRequestBuilderGetRequestConfiguration{QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: UserFields}})
	if err != nil {
		return batchRequestItem{}, domain.Wrap(err, domain.EInternal, "graph: build the read of user "+id)
	}
	u, err := ri.GetUri()
	if err != nil {
		return batchRequestItem{}, domain.Wrap(err, domain.EInternal, "graph: build the read of user "+id)
	}
	rel := strings.TrimPrefix(u.String(), c.baseURL)
	if rel == u.String() || !strings.HasPrefix(rel, "/") {
		return batchRequestItem{}, domain.Errorf(domain.EInternal, "graph: request URL %s is not under %s", u, c.baseURL)
	}
	return batchRequestItem{ID: strconv.Itoa(index), Method: "GET", URL: rel}, nil
}

// AssignMany applies many licence changes in a tenant (see Client.AssignMany). The error is for the tenant's
// client only (an invalid tenant id); the changes' own outcomes are in the results.
func (f *Factory) AssignMany(ctx context.Context, tenantID string, ops []LicenseOp, concurrency int) ([]LicenseResult, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return nil, err
	}
	return c.AssignMany(ctx, ops, concurrency), nil
}

// ReadUsers reads many users of a tenant (see Client.ReadUsers). The error is for the tenant's client only.
func (f *Factory) ReadUsers(ctx context.Context, tenantID string, ids []string, concurrency int) ([]UserResult, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return nil, err
	}
	return c.ReadUsers(ctx, ids, concurrency), nil
}
