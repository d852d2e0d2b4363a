package config

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

func TestFromLookup(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t", "GRAPH_BASE_URL": "https://sim:1/v1.0/"}
	c, err := fromLookup(func(k string) string { return env[k] }, NeedTable)
	td.CmpNoError(t, err)
	td.Cmp(t, c, td.SStruct(Config{
		TableName:          "t",
		GraphAuthorityHost: DefaultAuthorityHost,
		GraphBaseURL:       "https://sim:1/v1.0",
		Version:            "dev",
		LogLevel:           "info",
	}))

	_, err = fromLookup(func(k string) string { return env[k] }, NeedTable|NeedJobsQueue|NeedGraph)
	td.CmpString(t, err, "config: missing environment variables: JOBS_QUEUE_URL, GRAPH_SECRET_ID")
}
