package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// patchRoutes change users as Graph's PATCH /users/{id} does, for the properties Seatwise sets.
var patchRoutes = []route{
	{method: "PATCH", pattern: "/v1.0/users/{id}", graph: (*Sim).patchUser},
}

var usageLocationRe = regexp.MustCompile(`^[A-Za-z]{2}$`)

// patchUser sets a user's usageLocation (the only property Seatwise writes): 204 No Content, as Graph answers.
// Other properties of the body are refused, so that a client sending more than it means is caught.
func (s *Sim) patchUser(w http.ResponseWriter, r *http.Request, t *tenant, args []string) {
	raw, ok := readBody(w, r)
	if !ok {
		return
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", msgBadJSON)
		return
	}
	var loc string
	for k, v := range body {
		if strings.HasPrefix(k, "@odata.") { // the SDK sends @odata.type
			continue
		}
		if k != "usageLocation" {
			writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("graphsim: property '%s' is not supported by this simulator's PATCH /users", k))
			return
		}
		if json.Unmarshal(v, &loc) != nil || !usageLocationRe.MatchString(loc) {
			writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'usageLocation' of resource 'User'.")
			return
		}
	}
	t.mu.Lock()
	u := t.findUser(args[0])
	if u != nil && loc != "" {
		u.UsageLocation = strings.ToUpper(loc)
		t.touch(u)
	}
	t.mu.Unlock()
	if u == nil {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", args[0]))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
