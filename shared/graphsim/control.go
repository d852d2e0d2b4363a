package graphsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// serveControl answers the control API under /_sim/:
//
//	GET    /_sim/tenants                               [{"id","name","domain","userCount","skuCount","consentRevoked"}]
//	PUT    /_sim/tenants/{id}/consent                  {"revoked":true|false}
//	PUT    /_sim/tenants/{id}/skus/{skuId|part}/prepaid {"enabled":n}
//	GET    /_sim/faults                                the installed fault rules
//	PUT    /_sim/faults                                {"rate429","rate503","retryAfterSeconds","latencyMs","endpoint","times"}
//	DELETE /_sim/faults                                remove every fault rule
//	GET    /_sim/stats                                 {"total":n,"requests":{"GET /v1.0/users":{"200":n,…},…}}
//	POST   /_sim/reset                                 back to the seeded state, faults off, stats zero
//	…      /_sim/tenants/{id}/users|groups|changes     administration (see serveAdmin in admin.go)
//	…      /_sim/teams, /_sim/tenants/{id}/teams/…     Teams settings, numbers, provisioning (teamsControl, teams.go)
//
// Errors are {"error":"…"}.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[1:]
	key := r.Method + " " + strings.Join(segs, "/")
	switch {
	case key == "GET tenants":
		controlJSON(w, http.StatusOK, s.Tenants())
	case len(segs) == 3 && segs[0] == "tenants" && segs[2] == "consent" && r.Method == http.MethodPut:
		var body struct {
			Revoked *bool `json:"revoked"`
		}
		if !decodeControl(w, r, &body) {
			return
		}
		if body.Revoked == nil {
			controlError(w, http.StatusBadRequest, `body must be {"revoked":true|false}`)
			return
		}
		if err := s.setRevoked(segs[1], *body.Revoked); err != nil {
			controlErr(w, err)
			return
		}
		controlJSON(w, http.StatusOK, map[string]any{"id": strings.ToLower(segs[1]), "revoked": *body.Revoked})
	case len(segs) == 5 && segs[0] == "tenants" && segs[2] == "skus" && segs[4] == "prepaid" && r.Method == http.MethodPut:
		var body struct {
			Enabled *int `json:"enabled"`
		}
		if !decodeControl(w, r, &body) {
			return
		}
		if body.Enabled == nil {
			controlError(w, http.StatusBadRequest, `body must be {"enabled":n}`)
			return
		}
		if err := s.SetPrepaid(segs[1], segs[3], *body.Enabled); err != nil {
			controlErr(w, err)
			return
		}
		skus, _ := s.SKUs(segs[1])
		controlJSON(w, http.StatusOK, skus)
	case key == "GET faults":
		controlJSON(w, http.StatusOK, s.Faults())
	case key == "PUT faults":
		var f Faults
		if !decodeControl(w, r, &f) {
			return
		}
		if err := s.SetFaults(f); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		controlJSON(w, http.StatusOK, s.Faults())
	case key == "DELETE faults":
		s.ClearFaults()
		controlJSON(w, http.StatusOK, s.Faults())
	case key == "GET stats":
		controlJSON(w, http.StatusOK, s.Stats()) // status keys become JSON strings
	case key == "POST reset":
		s.Reset()
		controlJSON(w, http.StatusOK, map[string]any{"reset": true, "tenants": s.Tenants()})
	case s.teamsControl(w, r, segs): // Teams settings, numbers and provisioning (teams.go)
	case s.serveAdmin(w, r, segs): // users, licences and groups as an admin changes them (admin.go)
	default:
		controlError(w, http.StatusNotFound, fmt.Sprintf("no control endpoint %s %s", r.Method, r.URL.Path))
	}
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		controlError(w, http.StatusBadRequest, "invalid JSON body: more than one value")
		return false
	}
	return true
}

func controlErr(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNotFound) {
		controlError(w, http.StatusNotFound, err.Error())
		return
	}
	if errors.Is(err, ErrConflict) {
		controlError(w, http.StatusConflict, err.Error())
		return
	}
	controlError(w, http.StatusBadRequest, err.Error())
}

func controlError(w http.ResponseWriter, status int, msg string) {
	controlJSON(w, status, map[string]string{"error": msg})
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
