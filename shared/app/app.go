// Package app wires Seatwise's parts from the configuration: the one construction used by every Lambda's main and
// by the local runner, so that both run the same code.
package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/bulkjob"
	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/httpapi"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/logging"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/sites"
	"github.com/seatwise/seatwise/shared/staging"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
	"github.com/seatwise/seatwise/shared/usageaudit"
)

// App is a wired Seatwise.
type App struct {
	Config config.Config
	AWS    aws.Config
	Store  *store.Store
	Sync   *tenantsync.Service
	Log    *slog.Logger
	// Licensing runs licence operations through the same Graph client as the sync.
	Licensing *licensing.Service
	// Templates manages templates and assigns them to many users through the bulk path (licensing.Bulk).
	Templates *licensing.Templates
	// Sites manages a customer's provisioning settings and sites.
	Sites *sites.Service
	// Numbers manages the number inventory and assigns numbers through Graph.
	Numbers *numbers.Service
	// Bulk validates, previews and applies mass-configuration files (the jobs queue runs them).
	Bulk *bulkjob.Service
	// Staging stages newly licensed users and provisions them once Teams knows them (the staging queue's consumer).
	Staging *staging.Service
	// Usage is the licence usage audit; its daily snapshots run as jobs on the jobs queue, which the sync function
	// consumes (Sync.Handlers, Sync.Actions).
	Usage *usageaudit.Service
	// Export writes the month-end exports (the export function) and reads them back for the API: the months with
	// their files, presigned downloads, and re-runs, which its Trigger hands to the export function through the
	// export queue (none when EXPORT_QUEUE_URL is not set: the API then refuses re-runs).
	Export *export.Runner
}

// FromEnv reads the configuration (failing when a setting in need is missing) and wires the parts. It makes no
// network call: the Graph credentials are read from Secrets Manager on the first Graph call.
func FromEnv(ctx context.Context, need config.Need) (*App, error) {
	cfg, err := config.FromEnv(need)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	log := logging.New(cfg.LogLevel)
	var db store.DynamoAPI = dynamodb.NewFromConfig(awsCfg)
	if cfg.IsolateTransactions {
		db = store.TxIsolated(db)
	}
	st := store.New(db, cfg.TableName)
	lg := &lazyGraph{cfg: cfg, secrets: secretsmanager.NewFromConfig(awsCfg)}
	sqsClient := sqs.NewFromConfig(awsCfg)
	jobs := queue.NewSender(sqsClient, cfg.JobsQueueURL)
	a := &App{
		Config: cfg,
		AWS:    awsCfg,
		Store:  st,
		Log:    log,
		Sync: &tenantsync.Service{
			Store: st,
			Graph: lg,
			Jobs:  jobs,
			Log:   log,
		},
		Usage:     &usageaudit.Service{Store: st, Jobs: jobs, Log: log},
		Sites:     &sites.Service{Store: st},
		Numbers:   &numbers.Service{Store: st, Graph: lg, Log: log},
		Licensing: &licensing.Service{Store: st, Graph: lg, Log: log},
	}
	bulk := &licensing.Bulk{Store: st, Graph: lg, Log: log}
	a.Templates = &licensing.Templates{Store: st, Bulk: bulk}
	a.Staging = &staging.Service{Store: st, Graph: lg, Licensing: a.Licensing, Numbers: a.Numbers,
		Queue: queue.NewSender(sqsClient, cfg.StagingQueueURL), Log: log}
	// Licence changes and syncs stage users who gain a Teams licence; offboarding releases numbers; a user
	// without a usage location gets their site's or customer's default.
	a.Licensing.Staging, a.Licensing.Numbers, a.Licensing.UsageLocations = a.Staging, a.Numbers, a.Sites
	bulk.Staging = a.Staging
	a.Sync.Staging = a.Staging
	// The sync function runs the usage audit's daily fan-out (its schedule's {"action":"snapshot-all"}) and the
	// snapshot jobs it queues.
	s3c := s3.NewFromConfig(awsCfg)
	a.Bulk = &bulkjob.Service{Store: st, Licensing: bulk, Numbers: a.Numbers, Staging: a.Staging,
		Queue: queue.NewSender(sqsClient, cfg.JobsQueueURL), Files: s3c, Presigner: s3.NewPresignClient(s3c),
		Bucket: cfg.ReportsBucket, Log: log}
	a.Export = export.New(st, s3c, cfg.ReportsBucket, cfg.Version, log)
	if cfg.ExportQueueURL != "" {
		a.Export.Trigger = export.QueueTrigger{Queue: queue.NewSender(sqsClient, cfg.ExportQueueURL)}
	}
	a.Sync.Handlers = map[string]tenantsync.JobHandler{
		queue.TypeSnapshot: a.Usage.HandleJob,
		queue.TypeBulk: func(ctx context.Context, j queue.Job) error {
			return a.Bulk.HandleJob(ctx, j.CustomerID, j.JobID)
		},
	}
	a.Sync.Actions = map[string]tenantsync.ActionHandler{"snapshot-all": func(ctx context.Context) (any, error) {
		n, err := a.Usage.SnapshotAll(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]int{"enqueued": n}, nil
	}}
	return a, nil
}

// API returns the HTTP API, authenticating requests with claims.
func (a *App) API(claims httpapi.ClaimsFunc) *echo.Echo {
	return httpapi.New(httpapi.Deps{Store: a.Store, Sync: a.Sync, Claims: claims, Version: a.Config.Version, Log: a.Log,
		Licensing: a.Licensing, Templates: a.Templates, Sites: a.Sites, Numbers: a.Numbers, Staging: a.Staging,
		Usage: a.Usage, Bulk: a.Bulk, Exports: a.Export})
}

// SecretsAPI is the part of the Secrets Manager client the app uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// lazyGraph builds the Graph client factory on first use, reading the app credentials from Secrets Manager.
type lazyGraph struct {
	cfg     config.Config
	secrets SecretsAPI

	mu      sync.Mutex
	factory *graph.Factory
}

func (g *lazyGraph) get(ctx context.Context) (*graph.Factory, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.factory != nil {
		return g.factory, nil
	}
	out, err := g.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &g.cfg.GraphSecretID})
	if err != nil {
		return nil, domain.Wrap(err, domain.EUpstream, "could not read the Graph credentials from Secrets Manager")
	}
	var creds struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &creds) != nil || creds.ClientID == "" || creds.ClientSecret == "" {
		return nil, domain.Errorf(domain.EInternal, "the Graph credentials secret %s must be JSON {\"clientId\",\"clientSecret\"}", g.cfg.GraphSecretID)
	}
	roots, err := rootCAs(g.cfg.GraphCAFile)
	if err != nil {
		return nil, err
	}
	f, err := graph.New(graph.Config{
		AuthorityHost: g.cfg.GraphAuthorityHost, BaseURL: g.cfg.GraphBaseURL, RootCAs: roots,
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
	})
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	g.factory = f
	return f, nil
}

// call runs fn with the factory, built on first use.
func call[T any](ctx context.Context, g *lazyGraph, fn func(*graph.Factory) (T, error)) (T, error) {
	f, err := g.get(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(f)
}

// ListSKUs implements tenantsync.Graph.
func (g *lazyGraph) ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error) {
	return call(ctx, g, func(f *graph.Factory) ([]domain.SubscribedSKU, error) { return f.ListSKUs(ctx, tenantID) })
}

// DeltaPage implements tenantsync.Graph.
func (g *lazyGraph) DeltaPage(ctx context.Context, tenantID, link string) (graph.DeltaPage, error) {
	return call(ctx, g, func(f *graph.Factory) (graph.DeltaPage, error) { return f.DeltaPage(ctx, tenantID, link) })
}

// GroupNames implements tenantsync.Graph.
func (g *lazyGraph) GroupNames(ctx context.Context, tenantID string) (map[string]string, error) {
	return call(ctx, g, func(f *graph.Factory) (map[string]string, error) { return f.GroupNames(ctx, tenantID) })
}

// AssignLicensesWithRequestID implements licensing.Graph.
func (g *lazyGraph) AssignLicensesWithRequestID(ctx context.Context, tenantID, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, string, error) {
	type answer struct {
		u     domain.GraphUser
		reqID string
	}
	a, err := call(ctx, g, func(f *graph.Factory) (answer, error) {
		u, reqID, err := f.AssignLicensesWithRequestID(ctx, tenantID, userID, add, remove)
		return answer{u, reqID}, err
	})
	return a.u, a.reqID, err
}

// User implements licensing.Graph.
func (g *lazyGraph) User(ctx context.Context, tenantID, userID string) (domain.GraphUser, error) {
	return call(ctx, g, func(f *graph.Factory) (domain.GraphUser, error) { return f.User(ctx, tenantID, userID) })
}

// GroupName implements licensing.Graph.
func (g *lazyGraph) GroupName(ctx context.Context, tenantID, groupID string) (string, error) {
	return call(ctx, g, func(f *graph.Factory) (string, error) { return f.GroupName(ctx, tenantID, groupID) })
}

// SetUsageLocation implements licensing.Graph.
func (g *lazyGraph) SetUsageLocation(ctx context.Context, tenantID, userID, location string) error {
	_, err := call(ctx, g, func(f *graph.Factory) (struct{}, error) {
		return struct{}{}, f.SetUsageLocation(ctx, tenantID, userID, location)
	})
	return err
}

// AssignMany implements licensing.BulkGraph.
func (g *lazyGraph) AssignMany(ctx context.Context, tenantID string, ops []graph.LicenseOp, concurrency int) ([]graph.LicenseResult, error) {
	return call(ctx, g, func(f *graph.Factory) ([]graph.LicenseResult, error) {
		return f.AssignMany(ctx, tenantID, ops, concurrency)
	})
}

// ReadUsers implements licensing.BulkGraph.
func (g *lazyGraph) ReadUsers(ctx context.Context, tenantID string, ids []string, concurrency int) ([]graph.UserResult, error) {
	return call(ctx, g, func(f *graph.Factory) ([]graph.UserResult, error) {
		return f.ReadUsers(ctx, tenantID, ids, concurrency)
	})
}

// TeamsReady implements staging.Graph.
func (g *lazyGraph) TeamsReady(ctx context.Context, tenantID, userID string) (bool, graph.TeamsUserConfig, error) {
	type answer struct {
		ready bool
		cfg   graph.TeamsUserConfig
	}
	a, err := call(ctx, g, func(f *graph.Factory) (answer, error) {
		ready, cfg, err := f.TeamsReady(ctx, tenantID, userID)
		return answer{ready, cfg}, err
	})
	return a.ready, a.cfg, err
}

// ListNumbers implements numbers.Graph.
func (g *lazyGraph) ListNumbers(ctx context.Context, tenantID string, filter graph.NumberFilter) ([]graph.Number, error) {
	return call(ctx, g, func(f *graph.Factory) ([]graph.Number, error) { return f.ListNumbers(ctx, tenantID, filter) })
}

// AssignNumber implements numbers.Graph.
func (g *lazyGraph) AssignNumber(ctx context.Context, tenantID string, a graph.NumberAssignment) error {
	_, err := call(ctx, g, func(f *graph.Factory) (struct{}, error) { return struct{}{}, f.AssignNumber(ctx, tenantID, a) })
	return err
}

// UnassignNumber implements numbers.Graph.
func (g *lazyGraph) UnassignNumber(ctx context.Context, tenantID, number, numberType string) error {
	_, err := call(ctx, g, func(f *graph.Factory) (struct{}, error) {
		return struct{}{}, f.UnassignNumber(ctx, tenantID, number, numberType)
	})
	return err
}

// rootCAs returns the system roots plus the PEM certificates in file ("" = system roots only).
func rootCAs(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read GRAPH_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("GRAPH_CA_FILE %s holds no PEM certificate", file)
	}
	return pool, nil
}
