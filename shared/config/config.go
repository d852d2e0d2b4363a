// Package config reads the functions' configuration from environment variables (names in DESIGN.md and
// template.yaml). It is the only place that knows those names.
package config

import (
	"fmt"
	"os"
	"strings"
)

// Config is everything a Seatwise function needs to reach its resources.
type Config struct {
	TableName       string
	JobsQueueURL    string
	StagingQueueURL string
	// ExportQueueURL is the export function's queue, to which the API hands the runs a provider admin queues.
	ExportQueueURL string
	ReportsBucket  string
	GraphSecretID  string
	// GraphAuthorityHost is the Microsoft Entra authority (the simulator's URL locally).
	GraphAuthorityHost string
	// GraphBaseURL is the Microsoft Graph base URL, ending in /v1.0.
	GraphBaseURL string
	// GraphCAFile, when set, is a PEM file of extra roots trusted for Graph and Entra (the simulator's CA).
	GraphCAFile string
	Version     string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// IsolateTransactions (SEATWISE_ISOLATE_TRANSACTIONS=true) keeps DynamoDB transactions from overlapping other
	// writes of the process: only for the local stack's moto, whose transactions are not atomic (store.TxIsolated).
	IsolateTransactions bool
}

// Defaults for Microsoft's public cloud.
const (
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	DefaultGraphBaseURL  = "https://graph.microsoft.com/v1.0"
)

// Need names the settings a function requires; FromEnv fails when one of them is empty.
type Need int

// Settings that functions may require.
const (
	NeedTable Need = 1 << iota
	NeedJobsQueue
	NeedStagingQueue
	NeedReportsBucket
	NeedGraph
	NeedExportQueue
)

// FromEnv reads the configuration from the environment and checks that what need names is present.
func FromEnv(need Need) (Config, error) {
	return fromLookup(os.Getenv, need)
}

func fromLookup(get func(string) string, need Need) (Config, error) {
	c := Config{
		TableName:           get("TABLE_NAME"),
		JobsQueueURL:        get("JOBS_QUEUE_URL"),
		StagingQueueURL:     get("STAGING_QUEUE_URL"),
		ExportQueueURL:      get("EXPORT_QUEUE_URL"),
		ReportsBucket:       get("REPORTS_BUCKET"),
		GraphSecretID:       get("GRAPH_SECRET_ID"),
		GraphAuthorityHost:  orDefault(get("GRAPH_AUTHORITY_HOST"), DefaultAuthorityHost),
		GraphBaseURL:        strings.TrimRight(orDefault(get("GRAPH_BASE_URL"), DefaultGraphBaseURL), "/"),
		GraphCAFile:         get("GRAPH_CA_FILE"),
		Version:             orDefault(get("SEATWISE_VERSION"), "dev"),
		LogLevel:            orDefault(get("LOG_LEVEL"), "info"),
		IsolateTransactions: get("SEATWISE_ISOLATE_TRANSACTIONS") == "true",
	}
	var missing []string
	check := func(n Need, name, value string) {
		if need&n != 0 && value == "" {
			missing = append(missing, name)
		}
	}
	check(NeedTable, "TABLE_NAME", c.TableName)
	check(NeedJobsQueue, "JOBS_QUEUE_URL", c.JobsQueueURL)
	check(NeedStagingQueue, "STAGING_QUEUE_URL", c.StagingQueueURL)
	check(NeedReportsBucket, "REPORTS_BUCKET", c.ReportsBucket)
	check(NeedGraph, "GRAPH_SECRET_ID", c.GraphSecretID)
	check(NeedExportQueue, "EXPORT_QUEUE_URL", c.ExportQueueURL)
	if len(missing) > 0 {
		return c, fmt.Errorf("config: missing environment variables: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
