package graphsim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBatchRequests is Graph's limit of requests in one JSON batch.
const maxBatchRequests = 20

// matchRoute is match, bound at init: the batch handler is itself in the route table, which a direct reference
// would make depend on itself.
var matchRoute func(method, path string, graph bool) (*route, []string, bool)

func init() { matchRoute = match }

// batchItem is one request of a JSON batch.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchResult is the answer to one batch item.
type batchResult struct {
	status  int
	headers map[string]string
	body    []byte
}

func (b batchResult) failed() bool { return b.status >= 400 }

// batch serves POST /v1.0/$batch: up to 20 requests (a 400 above), each dispatched to the simulator's own route
// handlers as if it had come alone — with the fault rules applied to it and counted in the statistics under its own
// endpoint, so that an item comes back 429 with its own Retry-After while the batch itself answers 200. Requests
// without dependencies run concurrently; a request runs once those in its dependsOn are done, and gets 424 when one
// of them failed. Responses come back in an order of their own (clients must match them by id).
func (s *Sim) batch(w http.ResponseWriter, r *http.Request, t *tenant, _ []string) {
	if unsupportedQuery(w, r) {
		return
	}
	raw, ok := readBody(w, r)
	if !ok {
		return
	}
	var body struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", msgBadJSON)
		return
	}
	waves, msg := planBatch(body.Requests)
	if msg != "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", msg)
		return
	}

	items := body.Requests
	results := make([]batchResult, len(items))
	index := map[string]int{}
	for i, it := range items {
		index[it.ID] = i
	}
	for _, wave := range waves {
		var wg sync.WaitGroup
		for _, i := range wave { // faults drawn in request order, so a seed gives the same faults
			it := items[i]
			if slices.ContainsFunc(it.DependsOn, func(d string) bool { return results[index[d]].failed() }) {
				results[i] = failedDependency(r, it)
				continue
			}
			path, _, _ := strings.Cut(itemPath(it.URL), "?")
			f, status, faulted := s.decideFault(path)
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.runBatchItem(r, t, it, f, status, faulted)
			}()
		}
		wg.Wait()
	}

	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	h := fnv.New64a()
	for _, it := range items {
		h.Write([]byte(it.ID))
	}
	rand.New(rand.NewPCG(h.Sum64(), uint64(len(items)))).Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	responses := make([]any, 0, len(items))
	for _, i := range order {
		res := results[i]
		o := obj{{"id", items[i].ID}, {"status", res.status}, {"headers", res.headers}}
		switch ct := res.headers["Content-Type"]; {
		case len(res.body) == 0:
		case strings.HasPrefix(ct, "application/json") && json.Valid(res.body):
			o = append(o, kv{"body", json.RawMessage(res.body)})
		default:
			o = append(o, kv{"body", base64.StdEncoding.EncodeToString(res.body)})
		}
		responses = append(responses, o)
	}
	writeJSON(w, http.StatusOK, obj{{"responses", responses}})
}

// planBatch validates a batch's requests and orders them in waves: each wave's requests depend only on requests of
// earlier waves. It returns Graph's message for an invalid batch.
func planBatch(items []batchItem) ([][]int, string) {
	switch {
	case len(items) == 0:
		return nil, "Invalid batch payload format: 'requests' must contain at least one request."
	case len(items) > maxBatchRequests:
		return nil, fmt.Sprintf("Number of requests inside batch exceeds the limit. The limit is %d, the batch contains %d.", maxBatchRequests, len(items))
	}
	ids := map[string]int{}
	for i, it := range items {
		switch {
		case strings.TrimSpace(it.ID) == "":
			return nil, "Invalid batch payload format: every request needs an 'id'."
		case ids[it.ID] != 0:
			return nil, fmt.Sprintf("Request with id '%s' is duplicated in the batch.", it.ID)
		case !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, strings.ToUpper(it.Method)):
			return nil, fmt.Sprintf("Invalid method '%s' for request id : %s.", it.Method, it.ID)
		case strings.TrimSpace(it.URL) == "" || strings.Contains(it.URL, "://"):
			return nil, fmt.Sprintf("Invalid URL '%s' for request id : %s: it must be relative to the version (e.g. /users).", it.URL, it.ID)
		}
		hasBody := len(it.Body) > 0 && string(it.Body) != "null"
		if write := strings.ToUpper(it.Method) != "GET" && strings.ToUpper(it.Method) != "DELETE"; write || hasBody {
			if !hasBody || headerValue(it.Headers, "Content-Type") == "" {
				return nil, fmt.Sprintf("Write request id : %s does not contain Content-Type header or body.", it.ID)
			}
		}
		ids[it.ID] = i + 1
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if ids[d] == 0 || d == it.ID {
				return nil, fmt.Sprintf("Request id : %s depends on '%s', which is not a request of this batch.", it.ID, d)
			}
		}
	}
	var waves [][]int
	done := make([]bool, len(items))
	for left := len(items); left > 0; {
		var wave []int
		for i, it := range items {
			if !done[i] && !slices.ContainsFunc(it.DependsOn, func(d string) bool { return !done[ids[d]-1] }) {
				wave = append(wave, i)
			}
		}
		if len(wave) == 0 {
			return nil, "The dependsOn of the batch's requests form a cycle."
		}
		for _, i := range wave {
			done[i] = true
		}
		left -= len(wave)
		waves = append(waves, wave)
	}
	return waves, ""
}

// itemPath is the /v1.0 path (and query) of a batch item's relative URL ("/users/x" or "users/x").
func itemPath(u string) string {
	return "/v1.0/" + strings.TrimLeft(strings.TrimSpace(u), "/")
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func failedDependency(outer *http.Request, it batchItem) batchResult {
	rec := newItemRecorder()
	writeGraphError(rec, outer, http.StatusFailedDependency, "FailedDependency",
		fmt.Sprintf("Request id : %s was not run because a request it depends on (%s) failed.", it.ID, strings.Join(it.DependsOn, ",")))
	return rec.result()
}

// runBatchItem answers one batch item: the injected fault (decided by the caller), or the route's own handler
// given an internal request built from the item. It counts the item in the statistics.
func (s *Sim) runBatchItem(outer *http.Request, t *tenant, it batchItem, f Faults, faultStatus int, faulted bool) batchResult {
	rec := newItemRecorder()
	method := strings.ToUpper(it.Method)
	target := itemPath(it.URL)
	u, err := url.Parse(target)
	if err != nil {
		writeGraphError(rec, outer, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid request URL '%s'.", it.URL))
		s.count("unmatched", rec.code)
		return rec.result()
	}
	rt, args, wrongMethod := matchRoute(method, u.Path, true)
	endpoint := "unmatched"
	if rt != nil {
		endpoint = rt.method + " " + rt.pattern
	}
	defer func() { s.count(endpoint, rec.code) }()

	if faulted {
		if f.LatencyMs > 0 {
			tm := time.NewTimer(time.Duration(f.LatencyMs) * time.Millisecond)
			select {
			case <-tm.C:
			case <-outer.Context().Done():
				tm.Stop()
			}
		}
		if faultStatus != 0 {
			s.writeFault(rec, outer, faultStatus, f.RetryAfterSeconds)
			return rec.result()
		}
	}
	switch {
	case rt != nil && strings.EqualFold(rt.pattern, "/v1.0/$batch"):
		writeGraphError(rec, outer, http.StatusBadRequest, "BadRequest", "A batch request cannot contain another batch request.")
		return rec.result()
	case rt == nil && wrongMethod:
		writeGraphError(rec, outer, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
		return rec.result()
	case rt == nil:
		writeGraphError(rec, outer, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource not found for the segment '%s'.", strings.TrimPrefix(u.Path, "/v1.0/")))
		return rec.result()
	}
	var body []byte
	if len(it.Body) > 0 && string(it.Body) != "null" {
		body = it.Body
	}
	req, err := http.NewRequestWithContext(outer.Context(), method, target, bytes.NewReader(body))
	if err != nil {
		writeGraphError(rec, outer, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid request URL '%s'.", it.URL))
		return rec.result()
	}
	req.Host, req.TLS, req.RemoteAddr = outer.Host, outer.TLS, outer.RemoteAddr
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	rt.graph(s, rec, req, t, args)
	return rec.result()
}

// itemRecorder collects the answer of a route handler to a batch item.
type itemRecorder struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func newItemRecorder() *itemRecorder {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	rec := &itemRecorder{h: http.Header{}}
	id := formatUUID(b)
	rec.h.Set("request-id", id)
	rec.h.Set("client-request-id", id)
	return rec
}

func (i *itemRecorder) Header() http.Header { return i.h }

func (i *itemRecorder) WriteHeader(code int) {
	if i.code == 0 {
		i.code = code
	}
}

func (i *itemRecorder) Write(b []byte) (int, error) {
	if i.code == 0 {
		i.code = http.StatusOK
	}
	return i.buf.Write(b)
}

func (i *itemRecorder) result() batchResult {
	if i.code == 0 {
		i.code = http.StatusOK
	}
	hdr := map[string]string{}
	for k, v := range i.h {
		if len(v) > 0 {
			hdr[k] = strings.Join(v, ",")
		}
	}
	return batchResult{status: i.code, headers: hdr, body: i.buf.Bytes()}
}
