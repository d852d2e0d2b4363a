// Package devstack runs Seatwise on one machine: moto_server with the template's resources, the Graph simulator
// with demo tenants, the API and the SPA on one origin, queue pollers and schedule tickers that call the same
// handlers as the Lambdas, and a local sign-in. `make dev` and the browser tests use it.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/app"
	"github.com/seatwise/seatwise/shared/auth"
	"github.com/seatwise/seatwise/shared/config"
	"github.com/seatwise/seatwise/shared/devauth"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/graphsim"
	"github.com/seatwise/seatwise/shared/localaws"
	"github.com/seatwise/seatwise/shared/staging"
)

// Options configure a local stack. Addresses ending in ":0" pick free ports.
type Options struct {
	Addr      string // the API and the SPA, e.g. 127.0.0.1:8080
	MotoAddr  string // moto_server, e.g. 127.0.0.1:5000
	GraphAddr string // the Graph simulator, e.g. 127.0.0.1:8081
	Root      string // the repository root (template.yaml, frontend/dist)
	StateDir  string // where the CA certificate and the functions' environment are written (default Root/.local)
	StackName string // default seatwise-local
	SyncEvery time.Duration
	PollWait  time.Duration // how long an idle poller waits between empty receives
	// TeamsDelay is how long the simulator takes to provision a licensed user in Teams (default 20 s: real tenants
	// take minutes to hours, a demo should not), and StagingRetry the first re-check delay of a staged user
	// (default 5 s, doubling up to a minute).
	TeamsDelay, StagingRetry time.Duration
	// BulkChunkSize is how many rows of a bulk upload are applied per chunk (0 = the service's default); the browser
	// tests lower it so that a job's progress moves through several steps.
	BulkChunkSize int
	Log           *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	URL      string // the API and the SPA
	GraphURL string
	AWS      *localaws.Stack
	App      *app.App
	Sim      *graphsim.Running
	EnvFile  string

	moto   *localaws.Moto
	server *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Local app registration the simulator accepts.
const (
	localClientID     = "seatwise-local-app"
	localClientSecret = "local-secret"
)

// Start starts every part, or stops what it started and says which part failed.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.StackName == "" {
		o.StackName = "seatwise-local"
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.Root, ".local")
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = 15 * time.Minute
	}
	if o.PollWait == 0 {
		o.PollWait = 200 * time.Millisecond
	}
	if o.TeamsDelay == 0 {
		o.TeamsDelay = 20 * time.Second
	}
	if o.StagingRetry == 0 {
		o.StagingRetry = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// The API's port first: it is the one a developer most often has in use.
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("port %s is in use (%v): stop what holds it or set PORT", o.Addr, err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.server = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()

	if s.moto, err = localaws.StartMoto(ctx, o.MotoAddr); err != nil {
		return nil, err
	}
	creds := localaws.GraphCredentials{ClientID: localClientID, ClientSecret: localClientSecret}
	if s.AWS, err = localaws.Provision(ctx, s.moto.Endpoint, filepath.Join(o.Root, "template.yaml"), o.StackName, creds); err != nil {
		return nil, fmt.Errorf("create local AWS resources: %w", err)
	}
	if s.Sim, err = graphsim.Start(o.GraphAddr); err != nil {
		return nil, err
	}
	s.GraphURL = s.Sim.URL
	if err := s.Sim.Sim.SetTeamsProvisioningDelay(o.TeamsDelay); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	caFile := filepath.Join(o.StateDir, "graphsim-ca.pem")
	if err := s.Sim.WriteCAFile(caFile); err != nil {
		return nil, err
	}
	env := append(s.AWS.Env(),
		"GRAPH_AUTHORITY_HOST="+s.Sim.URL+"/",
		"GRAPH_BASE_URL="+s.Sim.URL+"/v1.0",
		"GRAPH_CA_FILE="+caFile,
	)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	s.EnvFile = filepath.Join(o.StateDir, "functions.env")
	if err := os.WriteFile(s.EnvFile, []byte(strings.Join(env, "\n")+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.EnvFile, err)
	}
	if s.App, err = app.FromEnv(ctx, config.NeedTable|config.NeedJobsQueue|config.NeedStagingQueue|config.NeedReportsBucket|config.NeedGraph); err != nil {
		return nil, err
	}
	s.App.Log = o.Log
	s.App.Sync.Log = o.Log
	s.App.Staging.Log = o.Log
	s.App.Staging.RetryBase, s.App.Staging.RetryMax = o.StagingRetry, max(time.Minute, o.StagingRetry)
	s.App.Bulk.ChunkSize = o.BulkChunkSize
	s.App.Export.Log = o.Log

	issuer := devauth.NewIssuer()
	e := s.App.API(issuer.Claims)
	addLocalRoutes(e, issuer, filepath.Join(o.Root, "frontend", "dist"))
	s.server.Handler = e

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.goRun(func() {
		if err := s.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Log.Error("server stopped", "err", err)
		}
	})
	sqsClient := sqs.NewFromConfig(s.App.AWS)
	jobs := &poller{sqs: sqsClient, url: s.AWS.JobsQueueURL, arn: queueARN(o.StackName + "-jobs"), wait: o.PollWait, log: o.Log,
		handle: s.App.Sync.HandleJobs}
	stagingHandler := &staging.Handler{Service: s.App.Staging, Log: o.Log}
	stage := &poller{sqs: sqsClient, url: s.AWS.StagingQueueURL, arn: queueARN(o.StackName + "-staging"), wait: o.PollWait, log: o.Log,
		handle: func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
			resp, _ := stagingHandler.HandleBatch(ctx, ev)
			return resp
		}}
	s.goRun(func() { jobs.run(runCtx) })
	s.goRun(func() { stage.run(runCtx) })
	// The export function: the month-end schedule (tickSchedules) and the runs the API queues on the export queue.
	exports := &poller{sqs: sqsClient, url: s.AWS.ExportQueueURL, arn: queueARN(o.StackName + "-export"), wait: o.PollWait,
		log: o.Log, handle: func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
			return handleExportEvent(ctx, s.App.Export, ev, o.Log)
		}}
	s.goRun(func() { exports.run(runCtx) })
	s.goRun(func() { tickSchedules(runCtx, o, s.App, s.App.Export) })
	return s, nil
}

// handleExportEvent hands an SQS event of the export queue to the export function's handler, as Lambda does.
func handleExportEvent(ctx context.Context, r *export.Runner, ev events.SQSEvent, log *slog.Logger) events.SQSEventResponse {
	var resp events.SQSEventResponse
	raw, err := json.Marshal(ev)
	if err == nil {
		var out any
		if out, err = r.HandleEvent(ctx, raw); err == nil {
			var b []byte
			if b, err = json.Marshal(out); err == nil {
				err = json.Unmarshal(b, &resp)
			}
		}
	}
	if err != nil {
		log.Error("export event failed", "err", err)
	}
	return resp
}

func (s *Stack) goRun(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Close stops every part the stack started.
func (s *Stack) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = s.server.Shutdown(ctx)
		cancel()
	}
	s.wg.Wait()
	if s.Sim != nil {
		s.Sim.Close()
	}
	if s.moto != nil {
		s.moto.Stop()
	}
}

// addLocalRoutes adds what only the local runner serves: the SPA's config, the dev sign-in and the SPA itself.
func addLocalRoutes(e *echo.Echo, issuer *devauth.Issuer, dist string) {
	e.GET("/config.json", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"auth": "local"})
	})
	e.POST("/_dev/token", func(c echo.Context) error {
		var req struct {
			Role  auth.Role `json:"role"`
			Scope []string  `json:"scope"`
			Name  string    `json:"name"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return c.JSON(http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid", "message": "body must be {role, scope, name}: " + err.Error()}})
		}
		if req.Name == "" {
			req.Name = "Local " + string(req.Role)
		}
		tok, err := issuer.Token("local:"+strings.ToLower(strings.ReplaceAll(req.Name, " ", "-")), req.Name, req.Role, req.Scope)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"token": tok})
	})
	spa := func(c echo.Context) error {
		p := filepath.Join(dist, filepath.Clean("/"+c.Request().URL.Path))
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return c.File(p)
		}
		index := filepath.Join(dist, "index.html")
		if _, err := os.Stat(index); err != nil {
			return c.String(http.StatusServiceUnavailable, "the SPA is not built: run `make frontend` (or `make dev`, which builds it)")
		}
		return c.File(index)
	}
	e.GET("/", spa)
	e.GET("/*", spa)
}

// tickSchedules runs the EventBridge schedules locally: the sync fan-out every SyncEvery, the usage snapshots'
// fan-out at 00:30 UTC every day (the snapshot jobs then run on the jobs queue's poller), and the month-end export
// at the last minutes of each month (UTC).
func tickSchedules(ctx context.Context, o Options, a *app.App, exp *export.Runner) {
	syncTick := time.NewTicker(o.SyncEvery)
	defer syncTick.Stop()
	for {
		now := time.Now().UTC()
		monthEnd := time.Until(nextMonthEnd(now))
		snapshots := time.Until(nextDaily(now, 0, 30))
		select {
		case <-ctx.Done():
			return
		case <-syncTick.C:
			if _, err := a.Sync.EnqueueDue(ctx); err != nil {
				o.Log.Error("scheduled sync fan-out failed", "err", err)
			}
		case <-time.After(snapshots):
			if _, err := a.Usage.SnapshotAll(ctx); err != nil {
				o.Log.Error("scheduled usage snapshots fan-out failed", "err", err)
			}
		case <-time.After(monthEnd):
			if _, err := exp.Handle(ctx, export.Request{Action: "month-end"}); err != nil {
				o.Log.Error("scheduled export failed", "err", err)
			}
		}
	}
}

// nextDaily is the next hour:minute UTC after now (the template's cron(minute hour * * ? *)).
func nextDaily(now time.Time, hour, minute int) time.Time {
	now = now.UTC()
	at := time.Date(now.Year(), now.Month(), now.Day(), hour, minute, 0, 0, time.UTC)
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

// nextMonthEnd is 23:55 UTC on the last day of now's month, or of the next month once that has passed (the
// template's cron(55 23 L * ? *)).
func nextMonthEnd(now time.Time) time.Time {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := first.AddDate(0, 1, 0).Add(-5 * time.Minute)
	if !end.After(now) {
		end = first.AddDate(0, 2, 0).Add(-5 * time.Minute)
	}
	return end
}
