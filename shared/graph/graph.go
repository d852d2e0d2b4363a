// Package graph is Seatwise's Microsoft Graph client: the only package that imports msgraph-sdk-go (and only its
// sub-packages: the root package costs minutes of compile time). It offers the rest of the code a small API in
// domain terms — list a tenant's SKUs, page through its users — and maps every failure to a domain error code.
//
// Production and tests take the same path: an azidentity client-secret credential per tenant against
// Config.AuthorityHost (login.microsoftonline.com, or the simulator's token endpoint), and Graph at Config.BaseURL,
// both over TLS trusting Config.RootCAs.
package graph

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	azauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/seatwise/seatwise/shared/domain"
)

// Defaults for the public cloud.
const (
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	DefaultBaseURL       = "https://graph.microsoft.com/v1.0"
	// DefaultMaxRetries is how often a throttled (429) or unavailable (503/504) request is retried.
	DefaultMaxRetries = 5
	// MaxPageSize is the largest $top Graph accepts on /users.
	MaxPageSize = 999
)

// graphScope is the scope of app-only Graph tokens.
const graphScope = "https://graph.microsoft.com/.default"

// Config says where Microsoft Graph and its authority are and how to authenticate.
type Config struct {
	AuthorityHost string         // Entra authority host, e.g. "https://login.microsoftonline.com/"; "" = that
	BaseURL       string         // Graph base URL, e.g. "https://graph.microsoft.com/v1.0"; "" = that
	RootCAs       *x509.CertPool // roots trusted for both; nil = the system's
	ClientID      string         // the provider's multi-tenant app registration
	ClientSecret  string
	// MaxRetries bounds the retries of a 429/503/504 answer (Retry-After honoured); 0 = DefaultMaxRetries, at most
	// 10.
	MaxRetries int
	// OperationPollInterval is the pause between polls of a Teams number operation (teams.go); 0 =
	// DefaultOperationPollInterval.
	OperationPollInterval time.Duration
}

// Factory makes per-tenant clients that share one connection pool. It is safe for concurrent use.
type Factory struct {
	cfg         Config
	graphHost   string       // host name of BaseURL (the only host tokens are sent to)
	httpClient  *http.Client // Graph: explicit middleware pipeline over transport
	tokenClient *http.Client // the authority: plain client over the same transport

	mu      sync.Mutex
	clients map[string]*Client
}

// Client talks to Graph for one tenant. It is safe for concurrent use.
type Client struct {
	tenantID string
	baseURL  string
	origin   string // scheme://host of baseURL; nextLinks must stay on it
	adapter  *msgraphgocore.GraphRequestAdapterBase
	// maxRetries bounds our own retries of throttled items inside $batch (batch.go), which no middleware sees.
	maxRetries int
	// pollEvery is the pause between polls of a Teams number operation (teams.go).
	pollEvery time.Duration
}

// New validates cfg and returns a Factory.
func New(cfg Config) (*Factory, error) {
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthorityHost
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasSuffix(cfg.AuthorityHost, "/") {
		cfg.AuthorityHost += "/"
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	cfg.MaxRetries = min(cfg.MaxRetries, 10)
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, domain.Errorf(domain.EInvalid, "graph: client id and client secret are required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "https" || base.Hostname() == "" {
		return nil, domain.Errorf(domain.EInvalid, "graph: base URL %q must be an https URL", cfg.BaseURL)
	}
	if u, err := url.Parse(cfg.AuthorityHost); err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return nil, domain.Errorf(domain.EInvalid, "graph: authority host %q must be an https URL", cfg.AuthorityHost)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	transport.ForceAttemptHTTP2 = true
	transport.MaxIdleConnsPerHost = 16

	mws := middlewares(cfg.MaxRetries)
	httpClient := khttp.GetDefaultClient(mws...)
	httpClient.Transport = khttp.NewCustomTransportWithParentTransport(transport, mws...)

	return &Factory{
		cfg:         cfg,
		graphHost:   base.Hostname(),
		httpClient:  httpClient,
		tokenClient: &http.Client{Transport: transport, Timeout: 60 * time.Second},
		clients:     map[string]*Client{},
	}, nil
}

// middlewares is the Graph HTTP pipeline, outermost first. It is explicit because kiota's default list is built
// from a map (random order) and includes the compression handler, whose retried POSTs go out uncompressed while
// still labelled gzip (reference/graph.md). Compression is left out altogether.
func middlewares(maxRetries int) []khttp.Middleware {
	return []khttp.Middleware{
		// SdkVersion and one client-request-id for all attempts of a request.
		msgraphgocore.NewGraphTelemetryHandler(&msgraphgocore.GraphClientOptions{}),
		khttp.NewUserAgentHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
			MaxRetries: maxRetries,
			ShouldRetry: func(_ time.Duration, _ int, _ *http.Request, resp *http.Response) bool {
				// The handler is about to retry and never closes the answer it drops: release its connection.
				if resp != nil && resp.Body != nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
					_ = resp.Body.Close()
				}
				return true
			},
		}),
		// Each attempt its own copy of the body: a rewound, shared one can go out empty (licensing.go).
		replayBodyHandler{},
		khttp.NewRedirectHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
}

// Tenant returns the client of a tenant (created on first use, then cached with its token).
func (f *Factory) Tenant(tenantID string) (*Client, error) {
	tenantID = strings.ToLower(strings.TrimSpace(tenantID))
	if tenantID == "" || strings.ContainsAny(tenantID, "/?#% ") {
		return nil, domain.Errorf(domain.EInvalid, "graph: invalid tenant id %q", tenantID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[tenantID]; ok {
		return c, nil
	}
	cred, err := azidentity.NewClientSecretCredential(tenantID, f.cfg.ClientID, f.cfg.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: f.cfg.AuthorityHost},
			Transport: f.tokenClient,
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		return nil, domain.Wrap(err, domain.EInvalid, fmt.Sprintf("graph: credential for tenant %s", tenantID))
	}
	// Tokens go to the Graph host only; the provider silently sends none to a host not listed.
	auth, err := azauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{graphScope}, []string{f.graphHost})
	if err != nil {
		return nil, domain.Wrap(err, domain.EInternal, "graph: authentication provider")
	}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, msgraphgocore.GraphClientOptions{}, parseNodeFactory(), serializationWriterFactory(), f.httpClient)
	if err != nil {
		return nil, domain.Wrap(err, domain.EInternal, "graph: request adapter")
	}
	adapter.SetBaseUrl(f.cfg.BaseURL)
	base, _ := url.Parse(f.cfg.BaseURL) // validated in New
	c := &Client{tenantID: tenantID, baseURL: f.cfg.BaseURL, origin: base.Scheme + "://" + base.Host, adapter: adapter,
		maxRetries: f.cfg.MaxRetries, pollEvery: f.cfg.OperationPollInterval}
	f.clients[tenantID] = c
	return c, nil
}

// parseNodeFactory registers the deserialisers msgraph-sdk-go's root client registers, without global state.
func parseNodeFactory() absser.ParseNodeFactory {
	r := absser.NewParseNodeFactoryRegistry()
	for _, f := range []absser.ParseNodeFactory{jsonser.NewJsonParseNodeFactory(), textser.NewTextParseNodeFactory()} {
		ct, _ := f.GetValidContentType()
		r.ContentTypeAssociatedFactories[ct] = f
	}
	return r
}

// serializationWriterFactory registers the serialisers the root client registers (JSON, text), without global
// state.
func serializationWriterFactory() absser.SerializationWriterFactory {
	r := absser.NewSerializationWriterFactoryRegistry()
	for _, f := range []absser.SerializationWriterFactory{jsonser.NewJsonSerializationWriterFactory(), textser.NewTextSerializationWriterFactory()} {
		ct, _ := f.GetValidContentType()
		r.ContentTypeAssociatedFactories[ct] = f
	}
	return r
}

// TenantID is the tenant this client talks to.
func (c *Client) TenantID() string { return c.tenantID }
