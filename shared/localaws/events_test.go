package localaws

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/maxatome/go-testdeep/td"
)

// decodeStrict decodes a JSON file into v, rejecting fields v does not know.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	td.Require(t).CmpNoError(err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	td.Require(t).CmpNoError(dec.Decode(v), path)
}

// TestEventSamples checks that events/ has a sample per function and trigger,
// and that each decodes into the aws-lambda-go type its function receives.
func TestEventSamples(t *testing.T) {
	root, err := RepoRoot()
	td.Require(t).CmpNoError(err)
	tpl, err := loadTemplate(filepath.Join(root, "template.yaml"))
	td.Require(t).CmpNoError(err)

	// Route keys of the api function's HttpApi events, as API Gateway reports them.
	routes := map[string]bool{}
	for _, ev := range asMap(tpl.Resources["ApiFunction"].Properties["Events"]) {
		p := asMap(asMap(ev)["Properties"])
		routes[p["Method"].(string)+" "+p["Path"].(string)] = true
	}
	td.Cmp(t, routes, map[string]bool{"GET /api/v1/health": true, "ANY /api/{proxy+}": true})

	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	td.Require(t).CmpNoError(err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	td.Cmp(t, names, td.SuperBagOf(
		"api-health.json", "api-list-customers.json", "api-create-customer.json",
		"sync-schedule.json", "sync-snapshot-all.json", "sync-jobs-sqs.json", "staging-sqs.json",
		"export-month-end.json", "export-month.json",
	))

	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			switch {
			case strings.HasPrefix(name, "api-"):
				var ev events.APIGatewayV2HTTPRequest
				decodeStrict(t, f, &ev)
				td.Cmp(t, ev.Version, "2.0")
				td.Cmp(t, routes[ev.RouteKey], true, "route key %q is a template route", ev.RouteKey)
				td.Cmp(t, ev.RequestContext.RouteKey, ev.RouteKey)
				td.Cmp(t, ev.RequestContext.HTTP.Path, ev.RawPath)
				td.Cmp(t, ev.RawPath, td.HasPrefix("/api/v1/"))
				if ev.RouteKey == "GET /api/v1/health" {
					td.CmpNil(t, ev.RequestContext.Authorizer, "health needs no auth")
					return
				}
				td.Cmp(t, ev.RequestContext.Authorizer, td.Ptr(td.Struct(events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}, td.StructFields{
					"JWT": td.Ptr(td.Struct(events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{}, td.StructFields{
						"Claims": td.SuperMapOf(map[string]string{
							"cognito:groups": "[provider-admin]",
							"custom:scope":   "*",
						}, td.MapEntries{"sub": td.NotEmpty(), "name": td.NotEmpty()}),
					})),
				})))
				if ev.RequestContext.HTTP.Method == "POST" {
					td.Cmp(t, json.Valid([]byte(ev.Body)), true, "body is JSON")
				}
			case strings.HasSuffix(name, "-sqs.json"):
				var ev events.SQSEvent
				decodeStrict(t, f, &ev)
				td.Cmp(t, ev.Records, td.Len(1))
				for _, r := range ev.Records {
					sum := md5.Sum([]byte(r.Body))
					td.Cmp(t, r.Md5OfBody, hex.EncodeToString(sum[:]))
					td.Cmp(t, r.EventSource, "aws:sqs")
					td.Cmp(t, r.EventSourceARN, td.Re(`^arn:aws:sqs:us-east-1:123456789012:seatwise-local-(jobs|staging)$`))
					td.Cmp(t, json.Valid([]byte(r.Body)), true, "body is JSON")
				}
			default:
				var ev struct {
					Action string `json:"action"`
					Month  string `json:"month,omitempty"`
				}
				decodeStrict(t, f, &ev)
				td.Cmp(t, ev.Action, td.Any("enqueue-due", "snapshot-all", "month-end"))
			}
		})
	}
}
