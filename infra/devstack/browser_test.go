package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/localaws"
)

// startForTest starts a whole local stack on free ports.
func startForTest(t *testing.T) *Stack {
	t.Helper()
	root, err := localaws.RepoRoot()
	td.Require(t).CmpNoError(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{
		Addr: "127.0.0.1:0", MotoAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0",
		Root: root, StateDir: t.TempDir(), PollWait: 50 * time.Millisecond,
		TeamsDelay: 3 * time.Second, StagingRetry: time.Second, BulkChunkSize: 3,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	td.Require(t).CmpNoError(err)
	t.Cleanup(s.Close)
	return s
}

func TestStackServesHealthAndSPA(t *testing.T) {
	s := startForTest(t)
	td.Cmp(t, getJSON(t, s.URL+"/api/v1/health"), td.JSON(`{"status":"ok","version":"dev"}`))
	td.Cmp(t, getJSON(t, s.URL+"/config.json"), td.JSON(`{"auth":"local"}`))

	resp, err := http.Get(s.URL + "/")
	td.Require(t).CmpNoError(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, 200)
	td.Cmp(t, string(body), td.Contains("<title>"))
}

func getJSON(t *testing.T, url string) any {
	t.Helper()
	resp, err := http.Get(url)
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	td.Cmp(t, resp.StatusCode, 200, url)
	var v any
	td.Require(t).CmpNoError(json.NewDecoder(resp.Body).Decode(&v), url)
	return v
}

func TestStartReportsBusyPort(t *testing.T) {
	s := startForTest(t)
	root, _ := localaws.RepoRoot()
	_, err := Start(context.Background(), Options{
		Addr: s.URL[len("http://"):], MotoAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", Root: root, StateDir: t.TempDir(),
	})
	td.Cmp(t, err, td.ErrorIs(td.Smuggle(func(e error) string { return e.Error() }, td.Re(`port 127\.0\.0\.1:\d+ is in use.*set PORT`))))
}

// TestBrowserSlice runs the browser tests through the SPA in headless Chromium (`npm run e2e`): frontend/e2e/slice.mjs
// (sign in, add a customer with a bad tenant id then a duplicate, sync it, its licences, users and sync history),
// then frontend/e2e/licences.mjs (assign with an add-on off, reassign, remove, refusals, audit, a viewer's page),
// then frontend/e2e/provisioning.mjs (settings, a site, numbers added and imported, onboarding watched from staged
// to provisioned with a number without a reload, Un-stage now, release, offboarding, a viewer's tabs), then
// frontend/e2e/usage.mjs (factor rules changed, previewed, saved; counts and the history chart follow; alerts), then
// frontend/e2e/bulk.mjs (a CSV with errors, fixed, previewed, applied in chunks of 3 with the progress bar watched
// to the end, results downloaded), then frontend/e2e/exports.mjs (the month exported, its files listed and the
// anonymised CSV downloaded through a presigned URL without a customer's name). The Teams provisioning delay is 3 s
// and staging re-checks start at 1 s.
func TestBrowserSlice(t *testing.T) {
	root, _ := localaws.RepoRoot()
	if _, err := os.Stat(filepath.Join(root, "frontend", "dist", "index.html")); err != nil {
		t.Fatal("frontend/dist is not built: run `make test` (it builds the SPA) or `make frontend`")
	}
	if _, err := os.Stat(filepath.Join(root, "frontend", "node_modules", "playwright-core")); err != nil {
		t.Fatal("frontend/node_modules is missing: run `make test` (it runs npm ci)")
	}
	s := startForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "run", "--silent", "e2e")
	cmd.Dir = filepath.Join(root, "frontend")
	cmd.Env = append(os.Environ(), "BASE_URL="+s.URL)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", out)
	td.CmpNoError(t, err, "npm run e2e failed (screenshots in frontend/e2e/artifacts)")
}
