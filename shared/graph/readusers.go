package graph

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

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
	if concurrency <= 0 {
		concurrency = DefaultBatchConcurrency
	}
	concurrency = min(concurrency, maxBatchConcurrency)
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
	for attempt := 1; len(pending) > 0; attempt++ {
		var (
			mu    sync.Mutex
			retry []int
			wait  time.Duration
			wg    sync.WaitGroup
			sem   = make(chan struct{}, concurrency)
		)
		for start := 0; start < len(pending); start += MaxBatchSize {
			chunk := pending[start:min(start+MaxBatchSize, len(pending))]
			batch := make([]batchRequestItem, len(chunk))
			for j, i := range chunk {
				batch[j] = items[i]
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				answers, err := c.postBatch(ctx, batch)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					for _, i := range chunk {
						results[i].Err = c.mapError("read a batch of users", err)
					}
					return
				}
				seen := map[int]bool{}
				for _, a := range answers {
					i, err := strconv.Atoi(a.ID)
					if err != nil || i < 0 || i >= len(ids) || seen[i] {
						continue
					}
					seen[i] = true
					r := &results[i]
					switch {
					case a.Status >= 200 && a.Status < 300:
						u, err := parseUser(a.Body)
						r.User, r.Err = u, c.mapError("read user "+r.ID, err)
					case a.Status == 429 || a.Status == 503 || a.Status == 504:
						r.Err = c.mapError("read user "+r.ID, batchItemError(a))
						retry = append(retry, i)
						d, ok := retryAfter(a.Headers)
						if !ok {
							d = backoff(attempt)
						}
						wait = max(wait, d)
					default:
						r.Err = c.mapError("read user "+r.ID, batchItemError(a))
					}
				}
				for _, i := range chunk {
					if !seen[i] { // Graph left the item out: ask again
						results[i].Err = domain.Errorf(domain.EUpstream, "Microsoft Graph's $batch answer for tenant %s had no response for user %s", c.tenantID, ids[i])
						retry = append(retry, i)
					}
				}
			}()
		}
		wg.Wait()
		if len(retry) == 0 || attempt > c.maxRetries {
			return results
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			for _, i := range retry {
				results[i].Err = domain.Wrap(results[i].Err, domain.EThrottled, "Microsoft Graph asked to retry reading user "+ids[i]+" in tenant "+c.tenantID+" past the deadline")
			}
			return results
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return results
		case <-t.C:
		}
		pending = retry
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
