package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

// Batching limits.
const (
	// MaxBatchSize is how many requests Graph takes in one $batch.
	MaxBatchSize = 20
	// DefaultBatchConcurrency is how many $batch requests AssignMany has in flight when given 0.
	DefaultBatchConcurrency = 4
	// maxBatchConcurrency bounds the caller's choice: more only earns more throttling.
	maxBatchConcurrency = 16
	// Backoff of a throttled item without a Retry-After: batchBackoffBase·2ⁿ, at most batchBackoffMax, plus jitter.
	batchBackoffBase = time.Second
	batchBackoffMax  = 60 * time.Second
)

// LicenseOp is one licence change of AssignMany (see AssignLicenses).
type LicenseOp struct {
	UserID string
	Add    []domain.AssignedLicense
	Remove []string // skuIds
}

// LicenseResult is the outcome of ops[Index]: Err is nil when Graph applied the change, else a *domain.Error as
// AssignLicenses returns it (a *LicenseError inside for licence refusals). Attempts counts how often the change was
// sent (more than once after 429/503 answers).
type LicenseResult struct {
	Index    int
	Op       LicenseOp
	User     domain.GraphUser // Graph's answer on success (the user's default properties)
	Err      error
	Attempts int
	// RequestID is Graph's request-id of the item's last answer ("" when there was none).
	RequestID string
}

// AssignMany applies many licence changes through JSON batching: chunks of up to 20 assignLicense requests in one
// POST /$batch each, at most concurrency (0 = DefaultBatchConcurrency, at most 16) batches in flight. The $batch
// request itself goes through the client's middleware (its own 429/503 retried there); the items inside it are
// retried here, as no SDK does: an item answered 429, 503 or 504 goes back into the queue after its own Retry-After
// (or an exponential backoff without one), up to the client's MaxRetries, and is sent in a later batch with other
// pending items. Everything is bounded by ctx: an item whose Retry-After would end past ctx's deadline fails at once
// (EThrottled), and items still pending when ctx ends fail with EUpstream.
//
// It returns one result per op, in the order of ops. An op that is invalid on its face (bad GUIDs, nothing to do)
// fails with EInvalid without being sent.
func (c *Client) AssignMany(ctx context.Context, ops []LicenseOp, concurrency int) []LicenseResult {
	results := make([]LicenseResult, len(ops))
	reqs := make([]batchRequestItem, len(ops))
	var pending []int
	for i, op := range ops {
		results[i] = LicenseResult{Index: i, Op: op}
		item, err := c.assignLicenseItem(ctx, i, op)
		if err != nil {
			results[i].Err = err
			continue
		}
		reqs[i] = item
		pending = append(pending, i)
	}
	what := func(i int) string { return "assign licences to user " + ops[i].UserID }
	outs := c.runBatch(ctx, reqs, pending, concurrency, what)
	for _, i := range pending {
		r, o := &results[i], outs[i]
		r.Attempts, r.RequestID = o.attempts, headerValue(o.answer.Headers, "request-id")
		switch {
		case o.err != nil:
			r.Err = o.err
		case o.answer.Status >= 200 && o.answer.Status < 300:
			u, err := parseUser(o.answer.Body)
			if err != nil {
				r.Err = c.mapError(what(i), fmt.Errorf("unusable answer in $batch: %w", err))
				continue
			}
			r.User = u
		default:
			r.Err = c.assignError(ctx, what(i), ops[i].UserID, ops[i].Remove, batchItemError(o.answer))
		}
	}
	return results
}

// batchOutcome is how one item of runBatch ended: its last answer, unless err says why it has none usable
// (the batch failed, its retries ran out, or ctx ended first).
type batchOutcome struct {
	answer   batchResponseItem
	err      error
	attempts int
}

// runBatch sends items[pending] through JSON batching: chunks of up to 20 per POST /$batch, at most concurrency
// (0 = DefaultBatchConcurrency, at most 16) batches in flight. The $batch request itself goes through the client's
// middleware (its own 429/503 retried there); the items inside it are retried here, as no SDK does: an item answered
// 429, 503 or 504, or left out of the answer, goes back into the queue after its own Retry-After (or an exponential
// backoff without one), up to the client's MaxRetries, and is sent in a later batch with other pending items.
// Everything is bounded by ctx: an item whose Retry-After would end past ctx's deadline ends at once (EThrottled),
// and items still pending when ctx ends end with EUpstream. Item ids must be their indexes in items; what(i) names
// item i in errors. It returns one outcome per item (by index).
func (c *Client) runBatch(ctx context.Context, items []batchRequestItem, pending []int, concurrency int, what func(int) string) []batchOutcome {
	if concurrency <= 0 {
		concurrency = DefaultBatchConcurrency
	}
	concurrency = min(concurrency, maxBatchConcurrency)
	outs := make([]batchOutcome, len(items))
	queue := make([]queuedItem, len(pending))
	for j, i := range pending {
		queue[j] = queuedItem{index: i}
	}
	done := make(chan []itemAnswer)
	inflight, remaining := 0, len(queue)
	stopped := false
	for remaining > 0 {
		now := time.Now()
		for !stopped && inflight < concurrency {
			var chunk []batchRequestItem
			rest := queue[:0:0]
			for _, q := range queue {
				if len(chunk) < MaxBatchSize && !q.notBefore.After(now) {
					chunk = append(chunk, items[q.index])
					outs[q.index].attempts++
				} else {
					rest = append(rest, q)
				}
			}
			if len(chunk) == 0 {
				break
			}
			queue = rest
			inflight++
			go func() { done <- c.sendBatch(ctx, chunk) }()
		}

		var (
			wake  <-chan time.Time
			timer *time.Timer
		)
		if !stopped && len(queue) > 0 {
			earliest := queue[0].notBefore
			for _, q := range queue[1:] {
				if q.notBefore.Before(earliest) {
					earliest = q.notBefore
				}
			}
			timer = time.NewTimer(time.Until(earliest))
			wake = timer.C
		}
		var ctxDone <-chan struct{}
		if !stopped {
			ctxDone = ctx.Done()
		}
		select {
		case answers := <-done:
			inflight--
			for _, a := range answers {
				o := &outs[a.index]
				o.answer = a.answer
				switch {
				case a.retry && !stopped && o.attempts <= c.maxRetries:
					wait := a.retryAfter
					if !a.hasRetryAfter {
						wait = backoff(o.attempts)
					}
					next := time.Now().Add(wait)
					if dl, ok := ctx.Deadline(); ok && next.After(dl) {
						o.err = domain.Wrap(a.err, domain.EThrottled, fmt.Sprintf("Microsoft Graph asked to retry (%s) in tenant %s after %s, past the deadline",
							what(a.index), c.tenantID, wait.Round(time.Millisecond)))
						remaining--
						continue
					}
					queue = append(queue, queuedItem{index: a.index, notBefore: next})
				case a.retry: // retries exhausted (or ctx ended): the last answer's error
					o.err = c.mapError(what(a.index), a.err)
					remaining--
				default:
					o.err = a.err
					remaining--
				}
			}
		case <-wake:
		case <-ctxDone:
			stopped = true
			for _, q := range queue {
				outs[q.index].err = domain.Wrap(ctx.Err(), domain.EUpstream, fmt.Sprintf("Microsoft Graph did not answer (%s) in tenant %s in time", what(q.index), c.tenantID))
			}
			remaining -= len(queue)
			queue = nil
		}
		if timer != nil {
			timer.Stop()
		}
	}
	return outs
}

// queuedItem is an item waiting to be (re)sent, not before notBefore.
type queuedItem struct {
	index     int
	notBefore time.Time
}

// itemAnswer is what one batch item came back with.
type itemAnswer struct {
	index  int
	answer batchResponseItem
	err    error // the batch failed (final), or why the item is retried
	retry  bool  // 429/503/504, or no answer for the item: send again
	// retryAfter is the item's Retry-After, when hasRetryAfter (else the caller backs off exponentially).
	retryAfter    time.Duration
	hasRetryAfter bool
}

// sendBatch posts one $batch and matches each answer to its item. When the batch itself fails (after the
// middleware's retries), every item fails with that error.
func (c *Client) sendBatch(ctx context.Context, items []batchRequestItem) []itemAnswer {
	outs := make([]itemAnswer, len(items))
	byID := map[string]int{}
	for j, it := range items {
		i, _ := strconv.Atoi(it.ID)
		outs[j] = itemAnswer{index: i}
		byID[it.ID] = j
	}
	answers, err := c.postBatch(ctx, items)
	if err != nil {
		for j := range outs {
			outs[j].err = c.mapError("send a $batch", err)
		}
		return outs
	}
	seen := make([]bool, len(items))
	for _, a := range answers {
		j, ok := byID[a.ID]
		if !ok || seen[j] {
			continue
		}
		seen[j] = true
		o := &outs[j]
		o.answer = a
		if a.Status == 429 || a.Status == 503 || a.Status == 504 {
			o.retry, o.err = true, batchItemError(a)
			o.retryAfter, o.hasRetryAfter = retryAfter(a.Headers)
		}
	}
	for j, ok := range seen {
		if !ok { // Graph left the item out: send it again
			outs[j].retry = true
			outs[j].err = domain.Errorf(domain.EUpstream, "Microsoft Graph's $batch answer for tenant %s had no response for item %s", c.tenantID, items[j].ID)
		}
	}
	return outs
}

// batchRequestItem is one request of a $batch body.
type batchRequestItem struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	// DependsOn is not used by AssignMany (its items are independent); the contract tests use it.
	DependsOn []string `json:"dependsOn,omitempty"`
}

// batchResponseItem is one answer of a $batch response.
type batchResponseItem struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// assignLicenseItem builds the $batch item of ops[index] with the SDK's own request builder, so that the item is
// byte for byte what AssignLicenses would send. The item id is the op's index: unique within the call, it maps an
// answer back to its op whatever the batch it was sent in.
func (c *Client) assignLicenseItem(ctx context.Context, index int, op LicenseOp) (batchRequestItem, error) {
	body, err := assignLicenseBody(op.UserID, op.Add, op.Remove)
	if err != nil {
		return batchRequestItem{}, err
	}
	ri, err := users.NewItemAssignLicenseRequestBuilderInternal(c.userParams(op.UserID), c.adapter).ToPostRequestInformation(ctx, body, nil)
	if err != nil {
		return batchRequestItem{}, domain.Wrap(err, domain.EInternal, "graph: build the licence change for user "+op.UserID)
	}
	u, err := ri.GetUri()
	if err != nil {
		return batchRequestItem{}, domain.Wrap(err, domain.EInternal, "graph: build the licence change for user "+op.UserID)
	}
	rel := strings.TrimPrefix(u.String(), c.baseURL)
	if rel == u.String() || !strings.HasPrefix(rel, "/") {
		return batchRequestItem{}, domain.Errorf(domain.EInternal, "graph: request URL %s is not under %s", u, c.baseURL)
	}
	return batchRequestItem{
		ID: strconv.Itoa(index), Method: "POST", URL: rel,
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    json.RawMessage(ri.Content),
	}, nil
}

// postBatch sends POST /$batch with raw JSON through the client's adapter (and so its middleware and token) and
// decodes the answers. msgraph-sdk-go-core's BatchRequest would do the same but decodes item errors through
// process-wide registries; this keeps everything local.
func (c *Client) postBatch(ctx context.Context, items []batchRequestItem) ([]batchResponseItem, error) {
	payload, err := json.Marshal(map[string]any{"requests": items})
	if err != nil {
		return nil, err
	}
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	ri.PathParameters = c.pathParams()
	ri.Headers.TryAdd("Accept", "application/json")
	ri.SetStreamContentAndContentType(payload, "application/json")
	raw, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return nil, err
	}
	b, _ := raw.([]byte)
	var resp struct {
		Responses []batchResponseItem `json:"responses"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("unusable $batch answer: %w", err)
	}
	return resp.Responses, nil
}

// parseUser decodes a user answer with the SDK's model (as a direct call would).
func parseUser(body json.RawMessage) (domain.GraphUser, error) {
	if len(body) == 0 {
		return domain.GraphUser{}, fmt.Errorf("no body")
	}
	n, err := jsonser.NewJsonParseNode(body)
	if err != nil {
		return domain.GraphUser{}, err
	}
	v, err := n.GetObjectValue(models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return domain.GraphUser{}, err
	}
	u, ok := v.(models.Userable)
	if !ok {
		return domain.GraphUser{}, fmt.Errorf("not a user")
	}
	return convertUser(u), nil
}

// batchItemError rebuilds the SDK's error for a failed item, so that it is classified exactly as the same answer
// to a direct call would be.
func batchItemError(a batchResponseItem) error {
	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	_ = json.Unmarshal(a.Body, &body)
	e := odataerrors.NewODataError()
	e.SetStatusCode(a.Status)
	h := abs.NewResponseHeaders()
	for k, v := range a.Headers {
		h.Add(k, v)
	}
	if body.Error.InnerError.RequestID != "" && len(h.Get("request-id")) == 0 {
		h.Add("request-id", body.Error.InnerError.RequestID)
	}
	e.SetResponseHeaders(h)
	main := odataerrors.NewMainError()
	code, msg := body.Error.Code, body.Error.Message
	if code == "" {
		code = "HTTP" + strconv.Itoa(a.Status)
	}
	main.SetCode(&code)
	main.SetMessage(&msg)
	e.SetErrorEscaped(main)
	e.Message = fmt.Sprintf("$batch item %s: HTTP %d: %s: %s", a.ID, a.Status, code, msg)
	return e
}

// retryAfter reads an item's Retry-After header (seconds, or an HTTP date).
func retryAfter(headers map[string]string) (time.Duration, bool) {
	for k, v := range headers {
		if !strings.EqualFold(k, "Retry-After") {
			continue
		}
		v = strings.TrimSpace(v)
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0), true
		}
	}
	return 0, false
}

// backoff is the wait before attempt n+1 of an item throttled without a Retry-After: batchBackoffBase·2ⁿ⁻¹, at
// most batchBackoffMax, plus up to 20 % jitter.
func backoff(n int) time.Duration {
	d := batchBackoffMax
	if n >= 1 && n < 16 {
		d = min(batchBackoffBase<<(n-1), batchBackoffMax)
	}
	return d + rand.N(d/5+1)
}

// headerValue is the value of a batch answer's header (names in any case).
func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
