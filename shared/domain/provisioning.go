package domain

import "time"

// Settings are a customer's provisioning settings. Both ManageLicenses and AllowStaging are needed for Seatwise to
// stage the customer's newly licensed users.
type Settings struct {
	CustomerID     string `json:"customerId"`
	ManageLicenses bool   `json:"manageLicenses"`
	AllowStaging   bool   `json:"allowStaging"`
	// DefaultUsageLocation (ISO 3166-1 alpha-2, e.g. "GB") is given to a user without one before a licence is
	// assigned; a site's UsageLocation overrides it.
	DefaultUsageLocation string `json:"defaultUsageLocation"`
	// StagingLimitMinutes is how long a staged user may take to appear in Teams before staging fails (default 1440).
	StagingLimitMinutes int `json:"stagingLimitMinutes"`
	// QuarantineDays is how long a released number waits before it can be assigned again (default 30; 0 = at once).
	QuarantineDays int       `json:"quarantineDays"`
	Version        int64     `json:"version"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Settings defaults and bounds.
const (
	DefaultStagingLimitMinutes = 24 * 60
	MaxStagingLimitMinutes     = 14 * 24 * 60
	DefaultQuarantineDays      = 30
	MaxQuarantineDays          = 365
)

// DefaultSettings are the settings of a customer that has saved none.
func DefaultSettings(customerID string) Settings {
	return Settings{CustomerID: customerID, StagingLimitMinutes: DefaultStagingLimitMinutes, QuarantineDays: DefaultQuarantineDays}
}

// Site is a place a customer's users are provisioned on: the criteria that put a user there, the template they
// get, and where their number comes from. Sites are tried in Order; the first whose criteria match a user wins,
// and a user no site matches goes to the customer's default site.
type Site struct {
	ID            string      `json:"id"`
	CustomerID    string      `json:"customerId"`
	Name          string      `json:"name"`
	Order         int         `json:"order"`
	Default       bool        `json:"default"`
	Criteria      []Criterion `json:"criteria"`      // any one matching places the user here
	UsageLocation string      `json:"usageLocation"` // overrides the customer's default usage location ("" = inherit)
	TemplateID    string      `json:"templateId"`    // applied on provisioning ("" = none)
	// AllowStaging switches staging off for users placed on this site (the customer's switches are needed too).
	AllowStaging bool         `json:"allowStaging"`
	NumberPolicy NumberPolicy `json:"numberPolicy"`
	Version      int64        `json:"version"`
	CreatedAt    time.Time    `json:"createdAt"`
	UpdatedAt    time.Time    `json:"updatedAt"`
}

// Criterion fields.
const (
	CriterionUsageLocation = "usageLocation"
	CriterionCity          = "city"
	CriterionDepartment    = "department"
	CriterionOffice        = "office"
	CriterionUPNDomain     = "upnDomain"
	CriterionGroup         = "group" // a group id: the user holds a licence through it
)

// Criterion matches a user attribute, case-insensitively and exactly (UPN domain: the part after "@").
type Criterion struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// NumberPolicy says whether provisioning assigns a number from the site's inventory, and of which type.
type NumberPolicy struct {
	Assign bool   `json:"assign"`
	Type   string `json:"type"` // a NumberType; "" = any type
}

// Number types (Graph's numberType).
const (
	NumberDirectRouting   = "directRouting"
	NumberOperatorConnect = "operatorConnect"
	NumberCallingPlan     = "callingPlan"
)

// Number statuses in the inventory.
const (
	NumberAvailable   = "available"
	NumberReserved    = "reserved"    // held for one user while it is assigned through Graph
	NumberAssigned    = "assigned"    // the user's number in Teams
	NumberQuarantined = "quarantined" // released; free again from QuarantinedUntil
)

// Number is one telephone number of a customer's inventory.
type Number struct {
	CustomerID string `json:"customerId"`
	Number     string `json:"number"` // E.164 with "+"
	Type       string `json:"type"`
	SiteID     string `json:"siteId"`
	Extension  string `json:"extension"`
	Status     string `json:"status"`
	// UserID and UserName are the user the number is reserved for or assigned to (the name flags the number).
	UserID           string     `json:"userId"`
	UserName         string     `json:"userName"`
	QuarantinedUntil *time.Time `json:"quarantinedUntil,omitempty"`
	Source           string     `json:"source"` // manual or graph (imported)
	Version          int64      `json:"version"`
	UpdatedAt        time.Time  `json:"updatedAt"`
}

// Staging statuses.
const (
	StagingStaged       = "staged"       // waiting for the user to appear in Teams
	StagingProvisioning = "provisioning" // in Teams; being placed, given the template and a number
	StagingProvisioned  = "provisioned"
	StagingFailed       = "failed"
	StagingRemoved      = "removed" // taken out of staging by an admin
)

// Staging is a user waiting to appear in Teams, then provisioned: one record per user, reused when the user is
// staged again.
type Staging struct {
	CustomerID        string `json:"customerId"`
	UserID            string `json:"userId"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	Status            string `json:"status"`
	// Reason is why the user was staged: "licence seen by sync", "licence assigned", "onboarding".
	Reason   string    `json:"reason"`
	StagedAt time.Time `json:"stagedAt"`
	// Deadline is when staging fails if the user has not appeared in Teams (StagedAt + the staging limit).
	Deadline    time.Time  `json:"deadline"`
	Attempts    int        `json:"attempts"`
	NextCheckAt *time.Time `json:"nextCheckAt,omitempty"`
	LastCheckAt *time.Time `json:"lastCheckAt,omitempty"`
	LastResult  string     `json:"lastResult"`
	Error       string     `json:"error,omitempty"`
	// Requested by onboarding ("" = by the site's criteria / policy).
	SiteID     string `json:"siteId"`
	TemplateID string `json:"templateId"`
	Number     string `json:"number"`
	// Progress of provisioning, so that a crash resumes where it stopped.
	PlacedSiteID    string     `json:"placedSiteId"`
	TemplateApplied bool       `json:"templateApplied"`
	ReservedNumber  string     `json:"reservedNumber"`
	AssignedNumber  string     `json:"assignedNumber"`
	ProvisionedAt   *time.Time `json:"provisionedAt,omitempty"`
	Actor           string     `json:"actor"`
	Version         int64      `json:"version"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

// Final reports whether staging of the user has ended (provisioned, failed or removed).
func (s Staging) Final() bool {
	return s.Status == StagingProvisioned || s.Status == StagingFailed || s.Status == StagingRemoved
}

// Provisioning is where a user is placed and which number they hold, as Seatwise provisioned (or imported) it.
type Provisioning struct {
	CustomerID string `json:"customerId"`
	UserID     string `json:"userId"`
	SiteID     string `json:"siteId"`
	Number     string `json:"number"`
	NumberType string `json:"numberType"`
	Extension  string `json:"extension"`
	// ManagedBy is how Seatwise last changed the user's licences: ManagedByTemplate, ManagedByUI, or "" (never).
	ManagedBy string `json:"managedBy"`
	// ReservedNumber is a number held for the user while it is being assigned through Graph ("" = none).
	ReservedNumber string    `json:"reservedNumber"`
	Version        int64     `json:"version"`
	UpdatedAt      time.Time `json:"updatedAt"`
}
