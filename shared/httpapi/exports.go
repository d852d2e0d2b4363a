package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/export"
	"github.com/seatwise/seatwise/shared/store"
)

// The month-end licence usage exports (shared/export does the work): the months with their files (from each
// month's manifest) and their latest run, one month (polled while a re-run goes), a re-run queued for any month
// that has started and is within the two-year retention, and short-lived presigned downloads of the files a month's
// manifest names.
//
// Who may do what: exports are the provider's business (what billing is based on): provider admins read them; only
// one who sees every customer (scope "*") queues a run (it reads every customer's snapshots), and downloads the
// files that name customers (the partner CSV and the raw JSON). The anonymised CSV and the manifest name none.

func (a *api) exports() (*export.Runner, error) {
	if a.Deps.Exports == nil {
		return nil, domain.Errorf(domain.EInternal, "the month-end export is not configured")
	}
	return a.Deps.Exports, nil
}

// exportFileView is one file of a month's export as the API shows it (the manifest's entry, without its S3 key).
type exportFileView struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// Rows: data rows of a CSV, snapshots of the raw JSON, files named by the manifest.
	Rows int `json:"rows"`
	// NamesCustomers: the file holds customer names and ids (its download needs a scope of every customer).
	NamesCustomers bool `json:"namesCustomers"`
}

// exportManifestView is a month's manifest: the files of its current export, then the manifest itself.
type exportManifestView struct {
	RunID           string            `json:"runId"`
	GeneratedAt     time.Time         `json:"generatedAt"`
	SoftwareVersion string            `json:"softwareVersion"`
	RequestedBy     string            `json:"requestedBy"`
	Period          export.DateRange  `json:"period"`
	Data            *export.DataRange `json:"data"`
	RulesVersions   []int64           `json:"rulesVersions"`
	Counts          export.Counts     `json:"counts"`
	Files           []exportFileView  `json:"files"`
}

// exportRunView is a month's latest run.
type exportRunView struct {
	RunID       string               `json:"runId"`
	Status      string               `json:"status"`
	Phase       string               `json:"phase"`
	RequestedBy string               `json:"requestedBy"`
	RequestedAt time.Time            `json:"requestedAt"`
	StartedAt   *time.Time           `json:"startedAt"`
	FinishedAt  *time.Time           `json:"finishedAt"`
	HeartbeatAt *time.Time           `json:"heartbeatAt"`
	LeaseUntil  time.Time            `json:"leaseUntil"`
	Progress    store.ExportProgress `json:"progress"`
	Error       string               `json:"error"`
	// Active: the run is queued or running and holds the month (its lease has not ended); poll the month until it
	// is false. A queued or running run whose lease ended has stopped without saying so (another run may start).
	Active bool `json:"active"`
}

// exportMonthView is one month: its current files (manifest, null when none were written) and its latest run
// (null when none is recorded).
type exportMonthView struct {
	Month         string              `json:"month"`
	RetainedUntil time.Time           `json:"retainedUntil"`
	Manifest      *exportManifestView `json:"manifest"`
	Run           *exportRunView      `json:"run"`
}

// namesCustomers reports whether a file of kind holds customer names or ids.
func namesCustomers(kind string) bool {
	return kind == export.KindPartner || kind == export.KindSnapshots
}

func viewExportFile(f export.File) exportFileView {
	return exportFileView{Name: f.Name, Kind: f.Kind, ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256,
		Rows: f.Rows, NamesCustomers: namesCustomers(f.Kind)}
}

func viewManifest(m *export.Manifest, self export.File) *exportManifestView {
	if m == nil {
		return nil
	}
	v := &exportManifestView{RunID: m.RunID, GeneratedAt: m.GeneratedAt, SoftwareVersion: m.SoftwareVersion,
		RequestedBy: m.RequestedBy, Period: m.Period, Data: m.Data, RulesVersions: m.RulesVersions, Counts: m.Counts,
		Files: make([]exportFileView, 0, len(m.Files)+1)}
	if v.RulesVersions == nil {
		v.RulesVersions = []int64{}
	}
	for _, f := range m.Files {
		v.Files = append(v.Files, viewExportFile(f))
	}
	if self.Name != "" {
		v.Files = append(v.Files, viewExportFile(self))
	}
	return v
}

func viewExportRun(r *store.ExportRun, now time.Time) *exportRunView {
	if r == nil {
		return nil
	}
	v := &exportRunView{RunID: r.RunID, Status: r.Status, Phase: r.Phase, RequestedBy: r.RequestedBy,
		RequestedAt: r.RequestedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, LeaseUntil: r.LeaseUntil,
		Progress: r.Progress, Error: r.Error}
	if !r.HeartbeatAt.IsZero() {
		hb := r.HeartbeatAt
		v.HeartbeatAt = &hb
	}
	switch r.Status {
	case store.ExportQueued, store.ExportRunning, store.ExportRemoving:
		v.Active = r.LeaseUntil.After(now)
	}
	return v
}

// exportsNow is the export runner's clock.
func exportsNow(r *export.Runner) time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// monthView shows m, with the manifest (and its own size and SHA-256) read again by ManifestFile.
func monthView(ctx context.Context, r *export.Runner, m export.MonthExport) (exportMonthView, error) {
	v := exportMonthView{Month: m.Month, RetainedUntil: m.RetainedUntil, Run: viewExportRun(m.Run, exportsNow(r))}
	if m.Manifest == nil {
		return v, nil
	}
	man, self, err := r.ManifestFile(ctx, m.Month)
	switch {
	case err == nil:
		v.Manifest = viewManifest(man, self)
	case domain.ErrorCode(err) == domain.ENotFound: // removed since (the retention)
	default:
		return exportMonthView{}, err
	}
	return v, nil
}

// monthParam is the :month path parameter (YYYY-MM).
func monthParam(c echo.Context) (string, error) {
	month := c.Param("month")
	t, err := time.Parse("2006-01", month)
	if err != nil || t.Format("2006-01") != month {
		return "", &domain.Error{Code: domain.EInvalid, Message: "the month must be YYYY-MM, e.g. 2026-10",
			Fields: map[string]string{"month": "must be YYYY-MM"}}
	}
	return month, nil
}

// maxMonthViews is how many months' manifests listExports reads at once.
const maxMonthViews = 8

// listExports lists every month with an export or a run, newest first.
func (a *api) listExports(c echo.Context) error {
	r, err := a.exports()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	months, err := r.Months(ctx)
	if err != nil {
		return err
	}
	out := make([]exportMonthView, len(months))
	errs := make([]error, len(months))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxMonthViews)
	for i, m := range months {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = monthView(ctx, r, m)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// getExport is one month (404 when it has neither files nor a run).
func (a *api) getExport(c echo.Context) error {
	r, err := a.exports()
	if err != nil {
		return err
	}
	month, err := monthParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	m, err := r.Month(ctx, month)
	if err != nil {
		return err
	}
	v, err := monthView(ctx, r, m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// runExport queues a run of the month (a re-run replaces its files as a whole once it succeeds): 202 with the month
// as it is then (its run queued); 409 while a run holds the month; 400 for a month that has not started or is past
// the retention. The body, if any, is an empty object.
func (a *api) runExport(c echo.Context) error {
	r, err := a.exports()
	if err != nil {
		return err
	}
	month, err := monthParam(c)
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	run, err := r.Start(ctx, month, principal(c).Subject)
	if err != nil {
		return err
	}
	m, err := r.Month(ctx, month)
	if err != nil || m.Run == nil || m.Run.RunID != run.RunID {
		// The run has gone on (or the read failed): show the run as queued.
		m = export.MonthExport{Month: month, RetainedUntil: export.RetainedUntil(month), Run: &run, Manifest: m.Manifest}
	}
	v, err := monthView(ctx, r, m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, v)
}

// exportDownload is a short-lived presigned GET of one file the month's manifest names (or of the manifest).
type exportDownload struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
}

// exportFileURL presigns a download of a file the month's manifest names: 404 for any other name. The files that
// name customers need a scope of every customer.
func (a *api) exportFileURL(c echo.Context) error {
	r, err := a.exports()
	if err != nil {
		return err
	}
	month, err := monthParam(c)
	if err != nil {
		return err
	}
	name, err := url.PathUnescape(c.Param("name"))
	if err != nil || name == "" {
		return domain.Errorf(domain.ENotFound, "the export of %s has no file %q", month, c.Param("name"))
	}
	ctx := c.Request().Context()
	if name != export.ManifestName && !principal(c).AllScope() {
		man, err := r.Manifest(ctx, month)
		if err != nil {
			return err
		}
		for _, f := range man.Files {
			if f.Name == name && namesCustomers(f.Kind) {
				return domain.Errorf(domain.EForbidden, "%s names customers: its download needs a scope of every customer (*)", name)
			}
		}
	}
	d, err := r.Download(ctx, month, name)
	if err != nil {
		return err
	}
	if name == export.ManifestName {
		if _, self, err := r.ManifestFile(ctx, month); err == nil {
			d.Size, d.SHA256 = self.Size, self.SHA256
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, exportDownload{Name: d.Name, URL: d.URL, ExpiresAt: d.ExpiresAt, Size: d.Size, SHA256: d.SHA256})
}
