package bulkjob

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

// rowPlan is a row as validated and stored: what the worker applies, resolved to ids.
type rowPlan struct {
	Line        int    `json:"line"`
	UPN         string `json:"upn"`
	UserID      string `json:"userId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Valid       bool   `json:"valid"`
	// Problem is the first problem of an invalid row.
	Problem string `json:"problem,omitempty"`
	// SetLicences: Licences is the full set of the user's direct licences (the licences cell was given); otherwise
	// Licences are only added (a template without a licences cell).
	SetLicences  bool                     `json:"setLicences,omitempty"`
	Licences     []domain.AssignedLicense `json:"licences,omitempty"`
	Number       string                   `json:"number,omitempty"`
	Extension    string                   `json:"extension,omitempty"`
	SiteID       string                   `json:"siteId,omitempty"`
	SiteName     string                   `json:"siteName,omitempty"`
	TemplateID   string                   `json:"templateId,omitempty"`
	TemplateName string                   `json:"templateName,omitempty"`
	// Changes is what the row changes, as validated.
	Changes Changes `json:"changes"`
}

// changesLicences reports whether the plan touches the user's licences at all.
func (p rowPlan) changesLicences() bool { return p.SetLicences || len(p.Licences) > 0 }

// lookup is what computing a row's changes needs to name things.
type lookup struct {
	skus      map[string]domain.CustomerSKU // by lower-case skuId
	siteNames map[string]string             // by site id
}

func (l lookup) licence(skuID string) LicenceRef {
	id := strings.ToLower(skuID)
	part := ""
	if s, ok := l.skus[id]; ok {
		part = s.PartNumber
	} else if p, ok := catalog.Lookup(id); ok {
		part = p.PartNumber
	}
	return LicenceRef{SkuID: id, PartNumber: part, Name: catalog.DisplayName(id, part)}
}

func (l lookup) planName(skuID, planID string) string {
	if s, ok := l.skus[strings.ToLower(skuID)]; ok {
		for _, sp := range s.ServicePlans {
			if strings.EqualFold(sp.ID, planID) && sp.Name != "" {
				return sp.Name
			}
		}
	}
	if name, _, ok := catalog.PlanName(planID); ok {
		return name
	}
	return planID
}

func (l lookup) siteName(id string) string {
	if n, ok := l.siteNames[id]; ok {
		return n
	}
	return id
}

// changesOf computes what applying p changes of user u, whose provisioning is prov; num is p's number as the
// inventory holds it (nil when there is none).
func (l lookup) changesOf(p rowPlan, u domain.User, prov domain.Provisioning, num *domain.Number) Changes {
	c := Changes{Add: []LicenceRef{}, Remove: []LicenceRef{}, AddOns: []AddOnChange{}}
	held := map[string]domain.Licence{}
	for _, h := range u.Licences {
		held[strings.ToLower(h.SkuID)] = h
	}
	target := map[string]bool{}
	for _, t := range p.Licences {
		id := strings.ToLower(t.SkuID)
		target[id] = true
		h, ok := held[id]
		if !ok || !h.Direct {
			c.Add = append(c.Add, l.licence(id))
			continue
		}
		off, on := planDiff(h.DisabledPlans, t.DisabledPlans)
		if len(off)+len(on) == 0 {
			continue
		}
		ref := l.licence(id)
		ch := AddOnChange{SkuID: id, PartNumber: ref.PartNumber, Off: make([]string, len(off)), On: make([]string, len(on))}
		for i, pl := range off {
			ch.Off[i] = l.planName(id, pl)
		}
		for i, pl := range on {
			ch.On[i] = l.planName(id, pl)
		}
		c.AddOns = append(c.AddOns, ch)
	}
	if p.SetLicences {
		for _, h := range u.Licences {
			if id := strings.ToLower(h.SkuID); h.Direct && !target[id] {
				c.Remove = append(c.Remove, l.licence(id))
			}
		}
	}
	if p.Number != "" && prov.Number != p.Number {
		c.Number = &ValueChange{From: prov.Number, To: p.Number}
	}
	if p.Extension != "" && num != nil && num.Extension != p.Extension {
		c.Extension = &ValueChange{From: num.Extension, To: p.Extension}
	}
	if p.SiteID != "" && prov.SiteID != p.SiteID {
		c.Site = &ValueChange{To: p.SiteName}
		if prov.SiteID != "" {
			c.Site.From = l.siteName(prov.SiteID)
		}
	}
	return c
}

// planDiff returns the plans switched off (in want, not in have) and on (in have, not in want).
func planDiff(have, want []string) (off, on []string) {
	h, w := lowerSet(have), lowerSet(want)
	for p := range w {
		if !h[p] {
			off = append(off, p)
		}
	}
	for p := range h {
		if !w[p] {
			on = append(on, p)
		}
	}
	slices.Sort(off)
	slices.Sort(on)
	return off, on
}

func lowerSet(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[strings.ToLower(v)] = true
	}
	return m
}

// holds reports whether the user holds the SKU at all (directly or through a group); holdsDirectly only directly.
func holds(u domain.User, skuID string) bool {
	return slices.ContainsFunc(u.Licences, func(l domain.Licence) bool { return strings.EqualFold(l.SkuID, skuID) })
}

func holdsDirectly(u domain.User, skuID string) bool {
	return slices.ContainsFunc(u.Licences, func(l domain.Licence) bool { return l.Direct && strings.EqualFold(l.SkuID, skuID) })
}

// String says what changes, for a results file: "added Office 365 E3 (ENTERPRISEPACK); removed …; add-ons of
// ENTERPRISEPACK: SWAY off; number +442079460101; extension 101; site London (was Manchester)".
func (c Changes) String() string {
	var parts []string
	refs := func(rs []LicenceRef) string {
		out := make([]string, len(rs))
		for i, r := range rs {
			if r.PartNumber != "" && r.PartNumber != r.Name {
				out[i] = fmt.Sprintf("%s (%s)", r.Name, r.PartNumber)
			} else {
				out[i] = r.Name
			}
		}
		return strings.Join(out, ", ")
	}
	if len(c.Add) > 0 {
		parts = append(parts, "added "+refs(c.Add))
	}
	if len(c.Remove) > 0 {
		parts = append(parts, "removed "+refs(c.Remove))
	}
	for _, a := range c.AddOns {
		var plans []string
		for _, p := range a.Off {
			plans = append(plans, p+" off")
		}
		for _, p := range a.On {
			plans = append(plans, p+" on")
		}
		parts = append(parts, fmt.Sprintf("add-ons of %s: %s", cmpOr(a.PartNumber, a.SkuID), strings.Join(plans, ", ")))
	}
	for _, v := range []struct {
		what string
		c    *ValueChange
	}{{"number", c.Number}, {"extension", c.Extension}, {"site", c.Site}} {
		if v.c == nil {
			continue
		}
		s := v.what + " " + v.c.To
		if v.c.From != "" {
			s += " (was " + v.c.From + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// encodeChunk and decodeChunk store a chunk's values as gzipped JSON.
func encodeChunk(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, fmt.Errorf("encode chunk: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode chunk: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeChunk(data []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode chunk: %w", err)
	}
	if err := json.NewDecoder(io.LimitReader(zr, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("decode chunk: %w", err)
	}
	return nil
}

// splitPlans cuts the plans into chunks of at most size rows and maxChunkBytes of JSON each.
func splitPlans(plans []rowPlan, size int) ([][]rowPlan, error) {
	var out [][]rowPlan
	var cur []rowPlan
	bytesNow := 0
	for _, p := range plans {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode row %d: %w", p.Line, err)
		}
		if len(cur) > 0 && (len(cur) == size || bytesNow+len(b) > maxChunkBytes) {
			out = append(out, cur)
			cur, bytesNow = nil, 0
		}
		cur = append(cur, p)
		bytesNow += len(b) + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// position is a place in a job's rows: a row chunk and a row within it. Its cursor form is opaque.
type position struct {
	Chunk  int `json:"c"`
	Offset int `json:"o"`
}

func (p position) cursor() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parsePosition(cursor string) (position, error) {
	var p position
	if cursor == "" {
		return p, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &p) != nil || p.Chunk < 0 || p.Offset < 0 {
		return p, domain.Invalid(map[string]string{"cursor": "not a cursor returned by this API"})
	}
	return p, nil
}
