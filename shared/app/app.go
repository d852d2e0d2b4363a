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
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/graph"
	"github.com/seatwise/seatwise/shared/httpapi"
	"github.com/seatwise/seatwise/shared/licensing"
	"github.com/seatwise/seatwise/shared/logging"
	"github.com/seatwise/seatwise/shared/queue"
	"github.com/seatwise/seatwise/shared/store"
	"github.com/seatwise/seatwise/shared/tenantsync"
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
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.TableName)
	lg := &lazyGraph{cfg: cfg, secrets: secretsmanager.NewFromConfig(awsCfg)}
	return &App{
		Config: cfg,
		AWS:    awsCfg,
		Store:  st,
		Log:    log,
		Sync: &tenantsync.Service{
			Store: st,
			Graph: lg,
			Jobs:  queue.NewSender(sqs.NewFromConfig(awsCfg), cfg.JobsQueueURL),
			Log:   log,
		},
		Licensing: &licensing.Service{Store: st, Graph: lg, Log: log},
		Templates: &licensing.Templates{Store: st, Bulk: &licensing.Bulk{Store: st, Graph: lg, Log: log}},
	}, nil
}

// API returns the HTTP API, authenticating requests with claims.
func (a *App) API(claims httpapi.ClaimsFunc) *echo.Echo {
	return httpapi.New(httpapi.Deps{Store: a.Store, Sync: a.Sync, Claims: claims, Version: a.Config.Version, Log: a.Log,
		Licensing: a.Licensing, Templates: a.Templates})
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

// ListSKUs implements tenantsync.Graph.
func (g *lazyGraph) ListSKUs(ctx context.Context, tenantID string) ([]domain.SubscribedSKU, error) {
	f, err := g.get(ctx)
	if err != nil {
		return nil, err
	}
	return f.ListSKUs(ctx, tenantID)
}

// DeltaPage implements tenantsync.Graph.
func (g *lazyGraph) DeltaPage(ctx context.Context, tenantID, link string) (graph.DeltaPage, error) {
	f, err := g.get(ctx)
	if err != nil {
		return graph.DeltaPage{}, err
	}
	return f.DeltaPage(ctx, tenantID, link)
}

// GroupNames implements tenantsync.Graph.
func (g *lazyGraph) GroupNames(ctx context.Context, tenantID string) (map[string]string, error) {
	f, err := g.get(ctx)
	if err != nil {
		return nil, err
	}
	return f.GroupNames(ctx, tenantID)
}

// AssignLicensesWithRequestID implements licensing.Graph.
func (g *lazyGraph) AssignLicensesWithRequestID(ctx context.Context, tenantID, userID string, add []domain.AssignedLicense, remove []string) (domain.GraphUser, string, error) {
	f, err := g.get(ctx)
	if err != nil {
		return domain.GraphUser{}, "", err
	}
	return f.AssignLicensesWithRequestID(ctx, tenantID, userID, add, remove)
}

// User implements licensing.Graph.
func (g *lazyGraph) User(ctx context.Context, tenantID, userID string) (domain.GraphUser, error) {
	f, err := g.get(ctx)
	if err != nil {
		return domain.GraphUser{}, err
	}
	return f.User(ctx, tenantID, userID)
}

// GroupName implements licensing.Graph.
func (g *lazyGraph) GroupName(ctx context.Context, tenantID, groupID string) (string, error) {
	f, err := g.get(ctx)
	if err != nil {
		return "", err
	}
	return f.GroupName(ctx, tenantID, groupID)
}

// AssignMany implements licensing.BulkGraph.
func (g *lazyGraph) AssignMany(ctx context.Context, tenantID string, ops []graph.LicenseOp, concurrency int) ([]graph.LicenseResult, error) {
	f, err := g.get(ctx)
	if err != nil {
		return nil, err
	}
	return f.AssignMany(ctx, tenantID, ops, concurrency)
}

// ReadUsers implements licensing.BulkGraph.
func (g *lazyGraph) ReadUsers(ctx context.Context, tenantID string, ids []string, concurrency int) ([]graph.UserResult, error) {
	f, err := g.get(ctx)
	if err != nil {
		return nil, err
	}
	return f.ReadUsers(ctx, tenantID, ids, concurrency)
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
