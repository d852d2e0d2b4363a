package graphsim

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// route is one endpoint of the simulator. Pattern segments match case-insensitively; "{x}" matches any segment.
// Authority routes have a plain handler; Graph routes (under /v1.0) a handler given the caller's tenant.
type route struct {
	method  string
	pattern string
	plain   func(s *Sim, w http.ResponseWriter, r *http.Request, args []string)
	graph   func(s *Sim, w http.ResponseWriter, r *http.Request, t *tenant, args []string)
}

// routes are every endpoint, gathered from the files that implement them.
var routes = slices.Concat(coreRoutes, patchRoutes, deltaRoutes, licensingRoutes, teamsRoutes)

// coreRoutes are the authority and the basic reads.
var coreRoutes = []route{
	{method: "GET", pattern: "/{tenant}/v2.0/.well-known/openid-configuration", plain: (*Sim).openIDConfiguration},
	{method: "GET", pattern: "/{tenant}/discovery/v2.0/keys", plain: (*Sim).jwks},
	{method: "POST", pattern: "/{tenant}/oauth2/v2.0/token", plain: (*Sim).token},
	{method: "GET", pattern: "/v1.0/subscribedSkus", graph: (*Sim).listSKUs},
	{method: "GET", pattern: "/v1.0/subscribedSkus/{id}", graph: (*Sim).getSKU},
	{method: "GET", pattern: "/v1.0/users", graph: (*Sim).listUsers},
	{method: "GET", pattern: "/v1.0/users/{id}", graph: (*Sim).getUser},
}

// match finds the route of a request among the Graph routes (graph) or the authority routes (!graph): the route,
// its wildcard values, and whether only the method was wrong.
func match(method, path string, graph bool) (rt *route, args []string, wrongMethod bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	wild := 0
	for i := range routes {
		if (routes[i].graph != nil) != graph {
			continue
		}
		ps := strings.Split(strings.Trim(routes[i].pattern, "/"), "/")
		if len(ps) != len(segs) {
			continue
		}
		var a []string
		ok := true
		for j, p := range ps {
			switch {
			case strings.HasPrefix(p, "{"):
				if segs[j] == "" {
					ok = false
				}
				a = append(a, segs[j])
			case !strings.EqualFold(p, segs[j]):
				ok = false
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		if routes[i].method != method {
			wrongMethod = true
			continue
		}
		// The most specific route wins: a literal segment beats a wildcard ("/users/delta" over "/users/{id}").
		if n := strings.Count(routes[i].pattern, "{"); rt == nil || n < wild {
			rt, args, wild = &routes[i], a, n
		}
	}
	if rt != nil {
		return rt, args, false
	}
	return nil, nil, wrongMethod
}

// Handler returns the HTTP handler of the simulated authority, Graph, and the /_sim/ control API.
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	clientReqID := r.Header.Get("client-request-id")
	if clientReqID == "" {
		clientReqID = reqID
	}
	h := w.Header()
	h.Set("request-id", reqID)
	h.Set("client-request-id", clientReqID)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Simulated","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"GRAPHSIM"}}`)

	if strings.HasPrefix(r.URL.Path, "/_sim/") || r.URL.Path == "/_sim" {
		s.serveControl(w, r)
		return
	}

	graph := strings.HasPrefix(strings.ToLower(r.URL.Path), "/v1.0/") || strings.EqualFold(r.URL.Path, "/v1.0")
	rt, args, wrongMethod := match(r.Method, r.URL.Path, graph)
	endpoint := "unmatched"
	if rt != nil {
		endpoint = rt.method + " " + rt.pattern
	}
	rec := &statusRecorder{ResponseWriter: w}
	defer func() { s.count(endpoint, rec.status()) }()

	if f, status, ok := s.decideFault(r.URL.Path); ok {
		if f.LatencyMs > 0 {
			t := time.NewTimer(time.Duration(f.LatencyMs) * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				rec.WriteHeader(499) // client gone; counted, never seen
				return
			}
		}
		if status != 0 {
			s.writeFault(rec, r, status, f.RetryAfterSeconds)
			return
		}
	}

	var tok *tokenClaims
	if graph {
		var ok bool
		if tok, ok = s.authenticate(rec, r); !ok {
			return
		}
	}
	switch {
	case rt != nil && graph:
		s.withTenant(rec, r, tok, func(t *tenant) { rt.graph(s, rec, r, t, args) })
	case rt != nil:
		rt.plain(s, rec, r, args)
	case wrongMethod:
		writeGraphError(rec, r, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	case graph:
		seg := strings.Trim(r.URL.Path[len("/v1.0"):], "/")
		writeGraphError(rec, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
	default:
		writeGraphError(rec, r, http.StatusNotFound, "NotFound", fmt.Sprintf("No resource at '%s'.", r.URL.Path))
	}
}

// writeFault answers an injected fault the way Graph does.
func (s *Sim) writeFault(w http.ResponseWriter, r *http.Request, status, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	if status == http.StatusTooManyRequests {
		w.Header().Set("x-ms-throttle-scope", "Tenant_Application/ReadWrite/simulated")
		writeGraphError(w, r, status, "TooManyRequests", fmt.Sprintf("Too many requests. Retry after %d seconds.", retryAfter))
		return
	}
	writeGraphError(w, r, status, "ServiceUnavailable", "The service is temporarily unavailable. Please retry later.")
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	if code != 499 {
		s.ResponseWriter.WriteHeader(code)
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b)
}

// graphContentType is what Graph sends with JSON.
const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// writeJSON writes v as a Graph JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", graphContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeGraphError writes Graph's error body: {"error":{"code","message","innerError":{"date","request-id",
// "client-request-id"}}}.
func writeGraphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	h := w.Header()
	writeJSON(w, status, obj{
		{"error", obj{
			{"code", code},
			{"message", message},
			{"innerError", obj{
				{"date", time.Now().UTC().Format("2006-01-02T15:04:05")},
				{"request-id", h.Get("request-id")},
				{"client-request-id", h.Get("client-request-id")},
			}},
		}},
	})
}

// obj is a JSON object that keeps its keys in order.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the fields in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
