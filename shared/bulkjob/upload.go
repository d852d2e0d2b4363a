package bulkjob

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/uuid"

	"github.com/seatwise/seatwise/shared/bulkcsv"
	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// maxFilenameLength bounds the file name a job keeps.
const maxFilenameLength = 200

// maxValueLength bounds a value a problem repeats, in bytes (as bulkcsv does).
const maxValueLength = 200

// Upload reads a mass-configuration file (at most bulkcsv.DefaultMaxBytes), checks every row against the customer's
// stored state (see the package documentation), and stores it as a job: status validated when nothing is wrong,
// invalid otherwise (Problems lists what). Nothing is applied. The file is kept in the bucket when Files is set.
//
// Errors: ENotFound (customer), EInvalid (the file as a whole cannot be read: too large, wrong encoding, no header,
// too many rows or columns…; the message says what to do; nothing is stored), EUpstream (the file could not be
// kept in S3), and store failures.
func (s *Service) Upload(ctx context.Context, customerID, actor, filename string, r io.Reader) (Job, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return Job{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, bulkcsv.DefaultMaxBytes+1))
	if err != nil {
		return Job{}, domain.Wrap(err, domain.EInvalid, "the file could not be read")
	}
	return s.ingest(ctx, cust, actor, filename, data, "")
}

// uploadURLFor is how long an upload URL is valid.
const uploadURLFor = 15 * time.Minute

// UploadURL is where the browser puts a file itself (PUT, with Headers), for a file larger than an API request
// takes (API Gateway and Lambda take about 6 MB): Service.UploadObject then reads it as Upload reads a body.
type UploadURL struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	Key       string            `json:"key"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// NewUploadURL signs a URL the browser puts a file to, under uploads/<customerId>/incoming/ in the bucket (the
// bucket needs a CORS rule allowing PUT from the SPA's origin). Errors: ENotFound (customer), EInternal (no
// Presigner or Bucket configured), EUpstream.
func (s *Service) NewUploadURL(ctx context.Context, customerID string) (UploadURL, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return UploadURL{}, err
	}
	if s.Presigner == nil || s.Bucket == "" {
		return UploadURL{}, domain.Errorf(domain.EInternal, "bulkjob: no bucket to upload to")
	}
	key := incomingPrefix(cust.ID) + s.newID() + ".csv"
	req, err := s.Presigner.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
		ContentType: aws.String(csvContentType)}, s3.WithPresignExpires(uploadURLFor))
	if err != nil {
		return UploadURL{}, domain.Wrap(err, domain.EUpstream, "an upload URL could not be made: try again")
	}
	out := UploadURL{URL: req.URL, Method: req.Method, Headers: map[string]string{}, Key: key, ExpiresAt: s.now().Add(uploadURLFor)}
	for k, vs := range req.SignedHeader {
		if len(vs) > 0 && !strings.EqualFold(k, "host") {
			out.Headers[k] = vs[0]
		}
	}
	out.Headers["Content-Type"] = csvContentType
	return out, nil
}

func incomingPrefix(customerID string) string { return "uploads/" + customerID + "/incoming/" }

const csvContentType = "text/csv; charset=utf-8"

// UploadObject reads a file the browser put to an UploadURL's key and goes on as Upload does (the object stays
// where it is, as the job's file). Errors: Upload's, and EInvalid (Fields "key": not an upload key of this
// customer, or no file there).
func (s *Service) UploadObject(ctx context.Context, customerID, actor, key, filename string) (Job, error) {
	cust, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return Job{}, err
	}
	rest, ok := strings.CutPrefix(key, incomingPrefix(cust.ID))
	if !ok || rest == "" || strings.ContainsAny(rest, "/\\") || strings.Contains(rest, "..") || s.Files == nil || s.Bucket == "" {
		return Job{}, &domain.Error{Code: domain.EInvalid, Message: "The key is not an upload of this customer.",
			Fields: map[string]string{"key": "not an upload of this customer"}}
	}
	obj, err := s.Files.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *s3types.NoSuchKey
		if errors.As(err, &nsk) {
			return Job{}, &domain.Error{Code: domain.EInvalid, Message: "No file was uploaded there (or its URL expired): upload it again.",
				Fields: map[string]string{"key": "no file was uploaded there"}}
		}
		return Job{}, domain.Wrap(err, domain.EUpstream, "the uploaded file could not be read: try again")
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(io.LimitReader(obj.Body, bulkcsv.DefaultMaxBytes+1))
	if err != nil {
		return Job{}, domain.Wrap(err, domain.EUpstream, "the uploaded file could not be read: try again")
	}
	return s.ingest(ctx, cust, actor, filename, data, key)
}

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return uuid.Must(uuid.NewV7()).String()
}

// ingest validates a file and stores it as a job; key is where the file is kept already ("": put it there).
func (s *Service) ingest(ctx context.Context, cust domain.Customer, actor, filename string, data []byte, key string) (Job, error) {
	skus, err := s.Store.CustomerSKUs(ctx, cust.ID)
	if err != nil {
		return Job{}, err
	}
	f, err := bulkcsv.Parse(bytes.NewReader(data), bulkcsv.Options{Catalogue: newCustomerCatalogue(skus)})
	if err != nil {
		return Job{}, err
	}
	v := &validator{s: s, cust: cust, file: f, now: s.now()}
	v.indexSKUs(skus)
	if err := v.run(ctx); err != nil {
		return Job{}, err
	}

	now := v.now
	job := store.BulkJob{
		CustomerID: cust.ID, ID: s.newID(), Filename: cleanFilename(filename), Size: int64(len(data)), FileKey: key,
		Status: store.BulkValidated, CreatedBy: actor, CreatedAt: now, UpdatedAt: now,
		Rows: len(v.plans), Columns: f.Columns, Delimiter: string(f.Delimiter), Seats: v.seats,
		TTL: now.Add(orDefault(s.Retention, DefaultRetention)).Unix(),
	}
	for _, p := range v.plans {
		if p.Valid {
			job.ValidRows++
		}
	}
	job.InvalidRows = job.Rows - job.ValidRows
	problems := v.listed()
	job.Problems, job.ProblemsListed = len(v.problems)+v.unlisted, len(problems)
	if job.Problems > 0 {
		job.Status = store.BulkInvalid
	}

	var chunks []store.BulkChunk
	parts, err := splitPlans(v.plans, s.chunkSize())
	if err != nil {
		return Job{}, err
	}
	for i, part := range parts {
		data, err := encodeChunk(part)
		if err != nil {
			return Job{}, err
		}
		chunks = append(chunks, store.BulkChunk{Kind: store.BulkRows, Index: i, Data: data})
	}
	job.Chunks = len(parts)
	for i, part := range slices.Collect(slices.Chunk(problems, problemsPerPage)) {
		data, err := encodeChunk(part)
		if err != nil {
			return Job{}, err
		}
		chunks = append(chunks, store.BulkChunk{Kind: store.BulkProblems, Index: i, Data: data})
		job.ProblemPages = i + 1
	}

	if key == "" && s.Files != nil && s.Bucket != "" {
		k := fmt.Sprintf("uploads/%s/%s.csv", cust.ID, job.ID)
		_, err := s.Files.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k),
			Body: bytes.NewReader(data), ContentType: aws.String(csvContentType),
			Metadata: map[string]string{"customer-id": cust.ID, "uploaded-by": asciiOnly(actor)}})
		if err != nil {
			return Job{}, domain.Wrap(err, domain.EUpstream, "the file could not be stored: try again")
		}
		job.FileKey = k
	}
	job, err = s.Store.CreateBulkJob(ctx, job, chunks)
	if err != nil {
		return Job{}, err
	}
	s.audit(ctx, actor, ActionUpload, job, nil, map[string]any{"jobId": job.ID, "filename": job.Filename, "rows": job.Rows,
		"validRows": job.ValidRows, "problems": job.Problems, "status": job.Status, "fileKey": job.FileKey})
	return s.view(job), nil
}

// cleanFilename keeps the base name of an uploaded file, without control characters, at most maxFilenameLength
// characters.
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, path.Base(strings.TrimSpace(name)))
	if name == "." || name == "/" || name == "" {
		name = "upload.csv"
	}
	if utf8.RuneCountInString(name) > maxFilenameLength {
		name = string([]rune(name)[:maxFilenameLength])
	}
	return name
}

// asciiOnly keeps the printable ASCII of s (S3 metadata is ASCII).
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return -1
		}
		return r
	}, s)
}

// validator checks a parsed file against the stored state.
type validator struct {
	s    *Service
	cust domain.Customer
	file *bulkcsv.File
	now  time.Time
	lookup

	plans    []rowPlan
	problems []Problem
	unlisted int // problems of the parser beyond its limit
	seats    []store.BulkSeat

	sites     map[string]domain.Site     // by lower-case name
	templates map[string]domain.Template // by lower-case name
	skuParts  string                     // the customer's part numbers, for messages
}

func (v *validator) indexSKUs(skus []domain.CustomerSKU) {
	v.skus = make(map[string]domain.CustomerSKU, len(skus))
	var parts []string
	for _, s := range skus {
		v.skus[strings.ToLower(s.SkuID)] = s
		parts = append(parts, cmp.Or(s.PartNumber, s.SkuID))
	}
	slices.Sort(parts)
	v.skuParts = listSome(parts, 12)
}

// problem records a problem of the row at index i (marking it invalid); i < 0 is the file as a whole.
func (v *validator) problem(i int, col, value, format string, args ...any) {
	p := Problem{Column: col, Value: clip(value), Message: fmt.Sprintf(format, args...)}
	if i >= 0 {
		p.Row = v.plans[i].Line
		if v.plans[i].Valid {
			v.plans[i].Valid = false
		}
		if v.plans[i].Problem == "" {
			v.plans[i].Problem = p.Message
		}
	}
	v.problems = append(v.problems, p)
}

func (v *validator) run(ctx context.Context) error {
	f := v.file
	v.plans = make([]rowPlan, len(f.Rows))
	byLine := make(map[int]int, len(f.Rows))
	for i, r := range f.Rows {
		v.plans[i] = rowPlan{Line: r.Line, UPN: r.UserPrincipalName, Valid: r.Valid, Number: r.Number, Extension: r.Extension}
		byLine[r.Line] = i
	}
	parsed := f.Problems
	if f.Unlisted > 0 && len(parsed) > 0 {
		parsed, v.unlisted = parsed[:len(parsed)-1], f.Unlisted // the last one sums up the unlisted ones
	}
	for _, p := range parsed {
		v.problems = append(v.problems, Problem{Row: p.Row, Column: p.Column, Value: p.Value, Message: p.Message})
		if i, ok := byLine[p.Row]; ok && v.plans[i].Problem == "" {
			v.plans[i].Problem = p.Message
		}
	}

	sites, err := v.s.Store.ListSites(ctx, v.cust.ID)
	if err != nil {
		return err
	}
	v.sites = map[string]domain.Site{}
	v.siteNames = map[string]string{}
	for _, st := range sites {
		v.sites[strings.ToLower(strings.TrimSpace(st.Name))] = st
		v.siteNames[st.ID] = st.Name
	}
	tpls, err := v.s.Store.ListTemplates(ctx, v.cust.ID)
	if err != nil {
		return err
	}
	v.templates = map[string]domain.Template{}
	for _, t := range tpls {
		v.templates[strings.ToLower(strings.TrimSpace(t.Name))] = t
	}

	var upns, nums []string
	for _, r := range f.Rows {
		if r.UserPrincipalName != "" {
			upns = append(upns, r.UserPrincipalName)
		}
		if r.Number != "" {
			nums = append(nums, r.Number)
		}
	}
	users, err := v.s.Store.UsersByUPN(ctx, v.cust.ID, upns)
	if err != nil {
		return err
	}
	inventory, err := v.s.Store.NumbersByE164(ctx, v.cust.ID, nums)
	if err != nil {
		return err
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	provs, err := v.s.Store.ProvisioningByUsers(ctx, v.cust.ID, ids)
	if err != nil {
		return err
	}

	known := make([]*domain.User, len(f.Rows)) // the row's user, when known and active
	for i, r := range f.Rows {
		known[i] = v.row(i, r, users, inventory, provs)
	}
	v.checkSeats(known)
	for i, u := range known {
		if u == nil {
			continue
		}
		p := &v.plans[i]
		var num *domain.Number
		if n, ok := inventory[p.Number]; ok {
			num = &n
		}
		p.Changes = v.changesOf(*p, *u, provs[u.ID], num)
	}
	v.sortProblems()
	return nil
}

// row checks one row and fills its plan; it returns the row's user when known and active.
func (v *validator) row(i int, r bulkcsv.Row, users map[string]domain.User, inventory map[string]domain.Number,
	provs map[string]domain.Provisioning) *domain.User {
	p := &v.plans[i]
	var user *domain.User
	if r.UserPrincipalName != "" {
		u, ok := users[strings.ToLower(r.UserPrincipalName)]
		switch {
		case !ok:
			v.problem(i, bulkcsv.ColUPN, r.UserPrincipalName, "%s is not a user of %s: check the spelling, or sync the customer if the user is new",
				r.UserPrincipalName, v.cust.Name)
		case u.Status != domain.UserActive:
			v.problem(i, bulkcsv.ColUPN, r.UserPrincipalName, "%s was removed from the tenant (%s)", r.UserPrincipalName, u.Status)
		default:
			user = &u
			p.UserID, p.DisplayName = u.ID, u.DisplayName
		}
	}

	// Licences: the cell's, then the template's.
	p.SetLicences = r.Licences != nil
	seen := map[string]bool{}
	for _, l := range r.Licences {
		id := strings.ToLower(l.SkuID)
		seen[id] = true
		if _, ok := v.skus[id]; !ok {
			v.problem(i, bulkcsv.ColLicences, l.PartNumber, "%s is not one of %s's licences (it has %s)",
				licenceLabel(v.licence(id)), v.cust.Name, v.skuParts)
			continue
		}
		p.Licences = append(p.Licences, domain.AssignedLicense{SkuID: id, DisabledPlans: l.DisabledPlans})
	}
	if r.Template != "" {
		t, ok := v.templates[strings.ToLower(strings.TrimSpace(r.Template))]
		if !ok {
			v.problem(i, bulkcsv.ColTemplate, r.Template, "%s has no template named %q (%s)", v.cust.Name, r.Template, v.names(v.templateNames()))
		} else {
			p.TemplateID, p.TemplateName = t.ID, t.Name
			for _, l := range t.Licences {
				id := strings.ToLower(l.SkuID)
				if _, ok := v.skus[id]; !ok {
					v.problem(i, bulkcsv.ColTemplate, r.Template, "template %q gives %s, which is no longer one of %s's licences: edit the template",
						t.Name, licenceLabel(v.licence(id)), v.cust.Name)
					continue
				}
				if seen[id] {
					continue // the licences cell says which add-ons
				}
				seen[id] = true
				plans := make([]string, len(l.DisabledPlans))
				for j, pl := range l.DisabledPlans {
					plans[j] = strings.ToLower(pl)
				}
				slices.Sort(plans)
				p.Licences = append(p.Licences, domain.AssignedLicense{SkuID: id, DisabledPlans: plans})
			}
		}
	}
	if n := len(seen); n > MaxLicencesPerRow {
		v.problem(i, bulkcsv.ColLicences, "", "%d licences: a row gives at most %d (with its template's)", n, MaxLicencesPerRow)
		p.Licences, p.SetLicences = nil, false // not applied: kept out of the stored row
	}
	if user != nil && strings.TrimSpace(user.UsageLocation) == "" && v.addsLicences(*p, *user) {
		v.problem(i, bulkcsv.ColLicences, "", "%s has no usage location, which a licence needs: set the user's usage location "+
			"in Microsoft 365 (or assign one licence by hand, which sets the site's), then upload the file again", r.UserPrincipalName)
	}

	// Site, number, extension.
	var site *domain.Site
	if r.Site != "" {
		st, ok := v.sites[strings.ToLower(strings.TrimSpace(r.Site))]
		if !ok {
			v.problem(i, bulkcsv.ColSite, r.Site, "%s has no site named %q (%s)", v.cust.Name, r.Site, v.names(v.siteList()))
		} else {
			site = &st
			p.SiteID, p.SiteName = st.ID, st.Name
		}
	}
	if r.Number != "" {
		v.number(i, r, user, site, inventory, provs)
	}
	if r.Extension != "" && r.Number == "" {
		v.problem(i, bulkcsv.ColExtension, r.Extension, "an extension goes with a number: give the user's number in the number column "+
			"(the number they hold already is fine)")
	}
	return user
}

// number checks the row's number.
func (v *validator) number(i int, r bulkcsv.Row, user *domain.User, site *domain.Site, inventory map[string]domain.Number,
	provs map[string]domain.Provisioning) {
	p := &v.plans[i]
	n, ok := inventory[r.Number]
	if !ok {
		v.problem(i, bulkcsv.ColNumber, r.Number, "%s is not in %s's number inventory: add it on the Numbers page first", r.Number, v.cust.Name)
		return
	}
	mine := user != nil && strings.EqualFold(n.UserID, user.ID)
	switch {
	case (n.Status == domain.NumberReserved || n.Status == domain.NumberAssigned) && !mine:
		v.problem(i, bulkcsv.ColNumber, r.Number, "%s is %s to %s: choose a free number", r.Number, n.Status, cmpOr(n.UserName, n.UserID))
		return
	case n.Status == domain.NumberQuarantined && n.QuarantinedUntil != nil && n.QuarantinedUntil.After(v.now):
		v.problem(i, bulkcsv.ColNumber, r.Number, "%s is in quarantine until %s (released recently): choose another number",
			r.Number, n.QuarantinedUntil.UTC().Format("2 January 2006 15:04 UTC"))
		return
	}
	switch {
	case site != nil && n.SiteID != "" && n.SiteID != site.ID:
		v.problem(i, bulkcsv.ColNumber, r.Number, "%s belongs to site %q, not %q: choose a number of %q, or change the site",
			r.Number, v.siteName(n.SiteID), site.Name, site.Name)
		return
	case site == nil && r.Site == "" && n.SiteID != "":
		p.SiteID, p.SiteName = n.SiteID, v.siteName(n.SiteID) // placed on the number's site
	}
	if user != nil {
		prov := provs[user.ID]
		switch {
		case prov.Number != "" && prov.Number != n.Number:
			v.problem(i, bulkcsv.ColNumber, r.Number, "%s holds %s already: release it on the Numbers page first (a user holds one number)",
				r.UserPrincipalName, prov.Number)
		case prov.ReservedNumber != "" && prov.ReservedNumber != n.Number:
			v.problem(i, bulkcsv.ColNumber, r.Number, "%s is being given %s (staging): wait for it, or remove the user from staging",
				r.UserPrincipalName, prov.ReservedNumber)
		}
	}
}

// addsLicences reports whether the plan assigns a licence or changes add-ons (what needs a usage location).
func (v *validator) addsLicences(p rowPlan, u domain.User) bool {
	for _, l := range p.Licences {
		if !holdsDirectly(u, l.SkuID) {
			return true
		}
		for _, h := range u.Licences {
			if h.Direct && strings.EqualFold(h.SkuID, l.SkuID) {
				if off, on := planDiff(h.DisabledPlans, l.DisabledPlans); len(off)+len(on) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// checkSeats counts, per SKU, the new seats the rows need and the seats they free, and reports the SKUs that are
// short (see the package documentation).
func (v *validator) checkSeats(users []*domain.User) {
	type tally struct {
		needed, neededValid, freed int
		rows                       []int // valid rows that need a seat
	}
	tallies := map[string]*tally{}
	get := func(id string) *tally {
		t := tallies[id]
		if t == nil {
			t = &tally{}
			tallies[id] = t
		}
		return t
	}
	for i, u := range users {
		if u == nil {
			continue
		}
		p := v.plans[i]
		target := map[string]bool{}
		for _, l := range p.Licences {
			target[l.SkuID] = true
			t := get(l.SkuID) // listed even when it needs no seat
			if holds(*u, l.SkuID) {
				continue
			}
			t.needed++
			if p.Valid {
				t.neededValid++
				t.rows = append(t.rows, i)
			}
		}
		if !p.SetLicences {
			continue
		}
		for _, h := range u.Licences {
			id := strings.ToLower(h.SkuID)
			if !h.Direct || target[id] || len(h.Groups) > 0 {
				continue
			}
			get(id).freed++
		}
	}
	ids := make([]string, 0, len(tallies))
	for id := range tallies {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	v.seats = make([]store.BulkSeat, 0, len(ids))
	for _, id := range ids {
		t := tallies[id]
		ref := v.licence(id)
		avail := max(v.skus[id].Available(), 0)
		seat := store.BulkSeat{SkuID: id, PartNumber: ref.PartNumber, Name: ref.Name, Available: avail,
			Needed: t.needed, NeededValid: t.neededValid, Freed: t.freed, Short: max(t.neededValid-avail, 0)}
		v.seats = append(v.seats, seat)
		if t.needed > avail {
			v.problem(-1, bulkcsv.ColLicences, ref.PartNumber, "not enough seats of %s: the file gives it to %d users who do not hold it, "+
				"and %d seats are free (%d of those users are in rows without other problems): buy seats, free some, or give it to fewer users",
				licenceLabel(ref), t.needed, avail, t.neededValid)
		}
		if seat.Short > 0 {
			for _, i := range t.rows {
				v.problem(i, bulkcsv.ColLicences, ref.PartNumber, "not enough seats of %s: the rows without other problems give it to %d users "+
					"who do not hold it, and %d seats are free", licenceLabel(ref), t.neededValid, avail)
			}
		}
	}
}

// sortProblems orders the problems by row (the file's own first), then column as the header orders them.
func (v *validator) sortProblems() {
	pos := make(map[string]int, len(v.file.Columns))
	for i, c := range v.file.Columns {
		pos[c] = i + 1
	}
	slices.SortStableFunc(v.problems, func(a, b Problem) int {
		return cmp.Or(a.Row-b.Row, pos[a.Column]-pos[b.Column])
	})
}

// listed returns the problems a job lists: at most MaxProblems, the rest summed up in one last problem.
func (v *validator) listed() []Problem {
	total := len(v.problems) + v.unlisted
	if total <= MaxProblems && v.unlisted == 0 {
		return v.problems
	}
	n := min(len(v.problems), MaxProblems)
	out := slices.Clone(v.problems[:n])
	more := total - n
	first := 0
	for _, p := range v.problems[n:] {
		if first == 0 || p.Row < first {
			first = p.Row
		}
	}
	msg := fmt.Sprintf("and %d more problems, not listed: put these right and upload the file again", more)
	if first > 0 {
		msg = fmt.Sprintf("and %d more problems, not listed (the first in row %d): put these right and upload the file again", more, first)
	}
	return append(out, Problem{Row: first, Message: msg})
}

func (v *validator) templateNames() []string {
	out := make([]string, 0, len(v.templates))
	for _, t := range v.templates {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}

func (v *validator) siteList() []string {
	out := make([]string, 0, len(v.sites))
	for _, st := range v.sites {
		out = append(out, st.Name)
	}
	slices.Sort(out)
	return out
}

func (v *validator) names(list []string) string {
	if len(list) == 0 {
		return "it has none"
	}
	q := make([]string, len(list))
	for i, n := range list {
		q[i] = fmt.Sprintf("%q", n)
	}
	return "it has " + listSome(q, 10)
}

func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

func licenceLabel(r LicenceRef) string {
	if r.PartNumber != "" && r.PartNumber != r.Name {
		return fmt.Sprintf("%s (%s)", r.Name, r.PartNumber)
	}
	return cmpOr(r.Name, r.SkuID)
}

// clip shortens a value to maxValueLength bytes on a character boundary, marking the cut with "…".
func clip(s string) string {
	if len(s) <= maxValueLength {
		return s
	}
	cut := maxValueLength
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
