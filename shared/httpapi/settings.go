package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/numbers"
	"github.com/seatwise/seatwise/shared/sites"
)

// A customer's provisioning settings (shared/sites does the work): read by any role in scope, saved by customer
// admins and above with the version read (0 before the first save; 409 when someone else saved since).

func (a *api) sites() (*sites.Service, error) {
	if a.Deps.Sites == nil {
		return nil, domain.Errorf(domain.EInternal, "sites and settings are not configured")
	}
	return a.Deps.Sites, nil
}

// settingsRequest is the body of PUT …/settings: every setting (a PUT replaces them all, so none may be left out
// by mistake) and the version read.
type settingsRequest struct {
	ManageLicenses       *bool   `json:"manageLicenses"`
	AllowStaging         *bool   `json:"allowStaging"`
	DefaultUsageLocation *string `json:"defaultUsageLocation"`
	StagingLimitMinutes  *int    `json:"stagingLimitMinutes"`
	QuarantineDays       *int    `json:"quarantineDays"`
	Version              *int64  `json:"version"`
}

// input checks that every field is present and returns the settings to save.
func (r settingsRequest) input() (sites.SettingsInput, error) {
	fields := map[string]string{}
	required := func(name string, present bool) {
		if !present {
			fields[name] = "required"
		}
	}
	required("manageLicenses", r.ManageLicenses != nil)
	required("allowStaging", r.AllowStaging != nil)
	required("defaultUsageLocation", r.DefaultUsageLocation != nil)
	required("stagingLimitMinutes", r.StagingLimitMinutes != nil)
	required("quarantineDays", r.QuarantineDays != nil)
	switch {
	case r.Version == nil:
		fields["version"] = "required: the version you read (0 when none were saved yet), so that a concurrent change is not overwritten"
	case *r.Version < 0:
		fields["version"] = "must be 0 or more"
	}
	if len(fields) > 0 {
		return sites.SettingsInput{}, domain.Invalid(fields)
	}
	return sites.SettingsInput{ManageLicenses: *r.ManageLicenses, AllowStaging: *r.AllowStaging,
		DefaultUsageLocation: *r.DefaultUsageLocation, StagingLimitMinutes: *r.StagingLimitMinutes,
		QuarantineDays: *r.QuarantineDays}, nil
}

func (a *api) getSettings(c echo.Context) error {
	svc, err := a.sites()
	if err != nil {
		return err
	}
	set, err := svc.Settings(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (a *api) saveSettings(c echo.Context) error {
	svc, err := a.sites()
	if err != nil {
		return err
	}
	var req settingsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	set, err := svc.SaveSettings(c.Request().Context(), c.Param("id"), principal(c).Subject, *req.Version, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

// bodyVersion checks the version of an update's body: required, so that a concurrent change is not overwritten.
func bodyVersion(v *int64) error {
	if v == nil || *v < 1 {
		return domain.Invalid(map[string]string{"version": "required: the version you read, so that a concurrent change is not overwritten"})
	}
	return nil
}

// queryVersion reads ?version= of a DELETE (which has no body): the version read, so that a concurrent change is
// not lost.
func queryVersion(c echo.Context) (int64, error) {
	version, err := strconv.ParseInt(c.QueryParam("version"), 10, 64)
	if err != nil || version < 1 {
		return 0, domain.Invalid(map[string]string{"version": "required (?version=): the version you read, so that a concurrent change is not lost"})
	}
	return version, nil
}

// noBody accepts a route's optional body, which may only be an empty JSON object.
func noBody(c echo.Context) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	var req struct{}
	return decodeJSON(c, &req)
}

// numberParam is the :number path parameter: an E.164 number whose "+" is sent literally, URL-encoded (%2B) or left
// out (as the numbers service reads it).
func numberParam(c echo.Context) (string, error) {
	raw, err := url.PathUnescape(c.Param("number"))
	if err != nil {
		return "", domain.Invalid(map[string]string{"number": `must be an E.164 number such as +442071838750 (the "+" literal or as %2B)`})
	}
	if raw = strings.TrimSpace(raw); raw != "" && !strings.HasPrefix(raw, "+") {
		raw = "+" + raw
	}
	n, err := numbers.ParseE164(raw)
	if err != nil {
		return "", domain.Invalid(map[string]string{"number": err.Error()})
	}
	return n, nil
}
