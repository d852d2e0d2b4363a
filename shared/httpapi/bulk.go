package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/bulkjob"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// Mass configuration by CSV (shared/bulkjob does the work): the sample file, uploads (the file as the request body,
// as a multipart form's "file", or put by the browser to a signed URL of the bucket first), the jobs with their
// progress, problems, preview and per-row results, and starting and cancelling a job. Read by any role in scope;
// uploads, starts and cancels by customer admins and above.
//
// A file that cannot be read at all (wrong encoding, too large, too many columns…) is refused with 400 and the
// parser's message, and nothing is stored; a file that can be read is stored as a job even when rows have problems:
// those are data (GET …/problems), not errors, and the job cannot be started (409) until the file is fixed, unless
// only its valid rows are applied.

// uploadOverhead is what a multipart envelope adds to a file at most (boundaries and part headers).
const uploadOverhead = 64 << 10

// uploadBodyLimit is the request body limit of POST …/bulk: a file of bulkcsv.DefaultMaxBytes and its multipart
// envelope. (API Gateway and Lambda take about 6 MB: larger files go through POST …/bulk/upload-url.)
const uploadBodyLimit = bulkcsv.DefaultMaxBytes + uploadOverhead

// tooLargeUpload is what POST …/bulk answers to a body over uploadBodyLimit, as the parser says it of a file.
var tooLargeUpload = &domain.Error{Code: domain.EInvalid,
	Message: fmt.Sprintf("the file is larger than %d MB: split it into smaller files", bulkcsv.DefaultMaxBytes>>20),
	Fields:  map[string]string{"file": fmt.Sprintf("larger than %d MB", bulkcsv.DefaultMaxBytes>>20)}}

// rawUploadTypes are the media types of a file sent as the request body ("" = none given). Browsers label CSV
// files text/csv, or application/vnd.ms-excel where Excel is installed.
var rawUploadTypes = map[string]bool{"": true, "text/csv": true, "application/csv": true, "text/plain": true,
	"application/vnd.ms-excel": true, "application/octet-stream": true}

func (a *api) bulk() (*bulkjob.Service, error) {
	if a.Deps.Bulk == nil {
		return nil, domain.Errorf(domain.EInternal, "mass configuration is not configured")
	}
	return a.Deps.Bulk, nil
}

// bulkPage reads ?cursor=&limit= of the pages of a job's rows, problems and results (limit 1..bulkjob.MaxPageSize).
func bulkPage(c echo.Context) (string, int, error) {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > bulkjob.MaxPageSize {
			return "", 0, domain.Invalid(map[string]string{"limit": fmt.Sprintf("must be a whole number from 1 to %d", bulkjob.MaxPageSize)})
		}
		limit = n
	}
	return c.QueryParam("cursor"), limit, nil
}

// viewJob shows a job: lists never null.
func viewJob(j bulkjob.Job) bulkjob.Job {
	if j.Columns == nil {
		j.Columns = []string{}
	}
	if j.Seats == nil {
		j.Seats = []store.BulkSeat{}
	}
	return j
}

// attachment sets the headers of a CSV download named name.
func attachment(c echo.Context, name string) {
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disp == "" {
		disp = `attachment; filename="download.csv"`
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, disp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(echo.HeaderCacheControl, "no-store")
}

// csvType is the media type of the CSV files the API sends.
const csvType = "text/csv; charset=utf-8"

func (a *api) bulkSample(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	if _, err := a.Store.GetCustomer(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	attachment(c, "seatwise-bulk-sample.csv")
	return c.Blob(http.StatusOK, csvType, svc.Sample())
}

// uploadBulk takes the file as the request body (text/csv, application/octet-stream…; its name as ?filename=) or as
// the field "file" of a multipart/form-data body (its name that part's, unless ?filename= is given).
func (a *api) uploadBulk(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	req := c.Request()
	filename := c.QueryParam("filename")
	ct := req.Header.Get(echo.HeaderContentType)
	mt := ""
	if ct != "" {
		var perr error
		if mt, _, perr = mime.ParseMediaType(ct); perr != nil {
			return &domain.Error{Code: domain.EInvalid, Message: "the Content-Type header cannot be read",
				Fields: map[string]string{"body": "Content-Type " + ct + " is malformed"}}
		}
	}
	var body io.Reader
	switch {
	case mt == "multipart/form-data":
		data, name, err := multipartFile(req)
		if err != nil {
			return err
		}
		if filename == "" {
			filename = name
		}
		body = bytes.NewReader(data)
	case rawUploadTypes[mt]:
		if req.ContentLength == 0 {
			return &domain.Error{Code: domain.EInvalid, Message: "no file was sent: send the CSV file as the request body",
				Fields: map[string]string{"file": "required"}}
		}
		body = req.Body
	default:
		return &domain.Error{Code: domain.EInvalid,
			Message: "send the CSV file as the request body (Content-Type text/csv) or as the field \"file\" of a multipart/form-data body",
			Fields:  map[string]string{"body": "Content-Type " + mt + " is not text/csv, application/octet-stream or multipart/form-data"}}
	}
	job, err := svc.Upload(req.Context(), c.Param("id"), principal(c).Subject, filename, body)
	if err != nil {
		return uploadError(err)
	}
	return c.JSON(http.StatusCreated, viewJob(job))
}

// uploadError reports a body over the route's limit as a file too large.
func uploadError(err error) error {
	if overLimit(err) {
		return tooLargeUpload
	}
	return err
}

// overLimit reports whether err is a read beyond the route's body limit (bodyLimit).
func overLimit(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

// multipartFile reads the one part "file" of a multipart/form-data body: at most one byte more than a file may
// have (the parser then refuses it as too large), and its file name. Any other part is refused.
func multipartFile(req *http.Request) ([]byte, string, error) {
	mr, err := req.MultipartReader()
	if err != nil {
		return nil, "", &domain.Error{Code: domain.EInvalid, Message: "the multipart body cannot be read: " + err.Error(),
			Fields: map[string]string{"body": "a multipart/form-data body with a boundary"}}
	}
	var (
		data  []byte
		name  string
		found bool
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if overLimit(err) {
				return nil, "", tooLargeUpload
			}
			return nil, "", &domain.Error{Code: domain.EInvalid, Message: "the multipart body cannot be read: " + err.Error(),
				Fields: map[string]string{"body": "a well-formed multipart/form-data body"}}
		}
		field := part.FormName()
		switch {
		case field != "file":
			part.Close()
			return nil, "", &domain.Error{Code: domain.EInvalid, Message: "unknown field " + field + `: send the file as the field "file"`,
				Fields: map[string]string{orText(field, "body"): "unknown field"}}
		case found:
			part.Close()
			return nil, "", &domain.Error{Code: domain.EInvalid, Message: "one file per upload",
				Fields: map[string]string{"file": "sent more than once"}}
		}
		found, name = true, part.FileName()
		data, err = io.ReadAll(io.LimitReader(part, bulkcsv.DefaultMaxBytes+1))
		part.Close()
		if err != nil {
			if overLimit(err) {
				return nil, "", tooLargeUpload
			}
			return nil, "", &domain.Error{Code: domain.EInvalid, Message: "the file could not be read: " + err.Error(),
				Fields: map[string]string{"file": "could not be read"}}
		}
		if len(data) > bulkcsv.DefaultMaxBytes {
			return data, name, nil // the parser says it is too large; the rest is not read
		}
	}
	if !found {
		return nil, "", &domain.Error{Code: domain.EInvalid, Message: `no file was sent: send it as the field "file"`,
			Fields: map[string]string{"file": "required"}}
	}
	return data, name, nil
}

func (a *api) newBulkUploadURL(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	u, err := svc.NewUploadURL(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// fromUploadRequest is the body of POST …/bulk/from-upload: the key of an upload URL the file was put to, and the
// file's name.
type fromUploadRequest struct {
	Key      string `json:"key"`
	Filename string `json:"filename"`
}

func (a *api) uploadBulkFromURL(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	var req fromUploadRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Key) == "" {
		return domain.Invalid(map[string]string{"key": "required: the key of the upload URL the file was put to"})
	}
	job, err := svc.UploadObject(c.Request().Context(), c.Param("id"), principal(c).Subject, req.Key, req.Filename)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewJob(job))
}

func (a *api) listBulkJobs(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := svc.List(c.Request().Context(), c.Param("id"), cursor, limit)
	if err != nil {
		return err
	}
	out := store.Page[bulkjob.Job]{Items: make([]bulkjob.Job, len(page.Items)), NextCursor: page.NextCursor}
	for i, j := range page.Items {
		out.Items[i] = viewJob(j)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *api) getBulkJob(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	job, err := svc.Get(c.Request().Context(), c.Param("id"), c.Param("jobId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewJob(job))
}

func (a *api) bulkProblems(c echo.Context) error { return bulkRows(a, c, (*bulkjob.Service).Problems) }

func (a *api) bulkResults(c echo.Context) error { return bulkRows(a, c, (*bulkjob.Service).Results) }

// bulkRows answers one page of a job's rows (its problems or its results), read by list.
func bulkRows[T any](a *api, c echo.Context, list func(*bulkjob.Service, context.Context, string, string, string, int) (store.Page[T], error)) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	cursor, limit, err := bulkPage(c)
	if err != nil {
		return err
	}
	page, err := list(svc, c.Request().Context(), c.Param("id"), c.Param("jobId"), cursor, limit)
	if err != nil {
		return err
	}
	if page.Items == nil {
		page.Items = []T{}
	}
	return c.JSON(http.StatusOK, page)
}

func (a *api) bulkPreview(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	cursor, limit, err := bulkPage(c)
	if err != nil {
		return err
	}
	pre, err := svc.Preview(c.Request().Context(), c.Param("id"), c.Param("jobId"), cursor, limit)
	if err != nil {
		return err
	}
	pre.Job = viewJob(pre.Job)
	if pre.Rows == nil {
		pre.Rows = []bulkjob.PreviewRow{}
	}
	if pre.Seats == nil {
		pre.Seats = []store.BulkSeat{}
	}
	return c.JSON(http.StatusOK, pre)
}

// bulkResultsCSV sends every row's result as CSV, gzip-compressed when the client takes it (a file of 50,000 rows
// can be larger than a Lambda response may be; compressed, it is a tenth of that). The file is written in full
// before anything is sent, so that a failure is an error answer, not a truncated file.
func (a *api) bulkResultsCSV(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	job, err := svc.Get(ctx, c.Param("id"), c.Param("jobId"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	gz := acceptsGzip(c.Request())
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	if err := svc.ResultsCSV(ctx, job.CustomerID, job.ID, w); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
		h.Set(echo.HeaderContentEncoding, "gzip")
	}
	attachment(c, resultsFilename(job.Filename))
	return c.Blob(http.StatusOK, csvType, buf.Bytes())
}

// resultsFilename is the name of a job's results file: the uploaded file's, with "-results".
func resultsFilename(uploaded string) string {
	base := strings.TrimSuffix(uploaded, path.Ext(uploaded))
	if base == "" {
		base = "bulk"
	}
	return base + "-results.csv"
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip with a q-value above 0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values(echo.HeaderAcceptEncoding) {
		for _, enc := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(enc, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && f <= 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// startBulkRequest is the optional body of POST …/bulk/{jobId}/start.
type startBulkRequest struct {
	// OnlyValid applies the rows without problems of a file that has some.
	OnlyValid bool `json:"onlyValid"`
}

func (a *api) startBulkJob(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	var req startBulkRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	job, err := svc.Start(c.Request().Context(), c.Param("id"), c.Param("jobId"), principal(c).Subject, req.OnlyValid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, viewJob(job))
}

func (a *api) cancelBulkJob(c echo.Context) error {
	svc, err := a.bulk()
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	job, err := svc.Cancel(c.Request().Context(), c.Param("id"), c.Param("jobId"), principal(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewJob(job))
}
