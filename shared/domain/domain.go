package domain

import "time"

// Customer is one customer of the provider: one Microsoft 365 tenant.
type Customer struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	TenantID     string    `json:"tenantId"` // the Microsoft Entra tenant id (a GUID)
	PublicSector bool      `json:"publicSector"`
	CreatedAt    time.Time `json:"createdAt"`
	Version      int64     `json:"version"`
	// SyncIntervalMinutes is how often the schedule syncs this customer (15 to 1440).
	SyncIntervalMinutes int       `json:"syncIntervalMinutes"`
	Sync                SyncState `json:"sync"`
}

// Sync interval bounds, in minutes.
const (
	DefaultSyncIntervalMinutes = 15
	MinSyncIntervalMinutes     = 15
	MaxSyncIntervalMinutes     = 1440
)

// Sync statuses of a customer.
const (
	SyncNever   = "never"
	SyncQueued  = "queued"
	SyncRunning = "running"
	SyncOK      = "ok"
	SyncFailed  = "failed"
)

// SyncState is what the last sync of a customer did.
type SyncState struct {
	Status        string     `json:"status"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	LastErrorCode string     `json:"lastErrorCode,omitempty"`
	SKUCount      int        `json:"skuCount"`
	// Mode is the mode of the last run: full or delta.
	Mode           string     `json:"mode,omitempty"`
	LastFullSyncAt *time.Time `json:"lastFullSyncAt,omitempty"`
	LastDurationMs int64      `json:"lastDurationMs"`
	UserCounts
}

// UserCounts counts a customer's active users.
type UserCounts struct {
	UserCount     int `json:"userCount"`
	LicensedCount int `json:"licensedCount"`
	DisabledCount int `json:"disabledCount"`
	// ErrorCount is the number of users with a licence in error; ErrorsByType counts the licences by error.
	ErrorCount   int            `json:"errorCount"`
	ErrorsByType map[string]int `json:"errorsByType"`
}

// Sync modes.
const (
	SyncModeFull  = "full"
	SyncModeDelta = "delta"
)

// SyncRun is one run of a customer's sync, for the history.
type SyncRun struct {
	ID           string     `json:"id"`
	Mode         string     `json:"mode"`
	Trigger      string     `json:"trigger"`
	StartedAt    time.Time  `json:"startedAt"`
	FinishedAt   *time.Time `json:"finishedAt,omitempty"`
	DurationMs   int64      `json:"durationMs"`
	Status       string     `json:"status"` // running, ok, failed
	Error        string     `json:"error,omitempty"`
	ErrorCode    string     `json:"errorCode,omitempty"`
	UsersWritten int        `json:"usersWritten"`
	UsersRemoved int        `json:"usersRemoved"`
	SKUsWritten  int        `json:"skusWritten"`
	Pages        int        `json:"pages"`
	Resumed      bool       `json:"resumed"`
}

// SubscribedSKU is a licence a tenant has bought, as Microsoft Graph reports it (subscribedSkus).
type SubscribedSKU struct {
	SkuID            string            `json:"skuId"`
	PartNumber       string            `json:"partNumber"`
	AppliesTo        string            `json:"appliesTo"`
	CapabilityStatus string            `json:"capabilityStatus"`
	Enabled          int               `json:"active"` // prepaidUnits.enabled
	Suspended        int               `json:"suspended"`
	Warning          int               `json:"warning"`
	LockedOut        int               `json:"lockedOut"`
	Consumed         int               `json:"used"` // consumedUnits
	ServicePlans     []ServicePlanInfo `json:"servicePlans"`
}

// Available is enabled minus consumed seats. It can be negative when a subscription was reduced.
func (s SubscribedSKU) Available() int { return s.Enabled - s.Consumed }

// ServicePlanInfo is one service plan inside a SKU.
type ServicePlanInfo struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	ProvisioningStatus string `json:"provisioningStatus,omitempty"`
	AppliesTo          string `json:"appliesTo,omitempty"`
}

// GraphUser is a user as read from Microsoft Graph (the fields Seatwise uses).
type GraphUser struct {
	ID                string                   `json:"id"`
	UserPrincipalName string                   `json:"userPrincipalName"`
	DisplayName       string                   `json:"displayName"`
	Mail              string                   `json:"mail,omitempty"`
	UsageLocation     string                   `json:"usageLocation,omitempty"`
	AccountEnabled    bool                     `json:"accountEnabled"`
	Department        string                   `json:"department,omitempty"`
	OfficeLocation    string                   `json:"officeLocation,omitempty"`
	City              string                   `json:"city,omitempty"`
	Country           string                   `json:"country,omitempty"`
	BusinessPhones    []string                 `json:"businessPhones,omitempty"`
	AssignedLicenses  []AssignedLicense        `json:"assignedLicenses,omitempty"`
	LicenseStates     []LicenseAssignmentState `json:"licenseAssignmentStates,omitempty"`
}

// AssignedLicense is one entry of a user's assignedLicenses.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans,omitempty"`
}

// LicenseAssignmentState is one entry of a user's licenseAssignmentStates. AssignedByGroup is "" for a direct licence.
type LicenseAssignmentState struct {
	SkuID           string   `json:"skuId"`
	DisabledPlans   []string `json:"disabledPlans,omitempty"`
	AssignedByGroup string   `json:"assignedByGroup,omitempty"`
	State           string   `json:"state"`
	Error           string   `json:"error"`
}

// CustomerSKU is a SKU as Seatwise stores it for one customer.
type CustomerSKU struct {
	CustomerID   string    `json:"customerId"`
	CustomerName string    `json:"customerName"`
	UpdatedAt    time.Time `json:"updatedAt"`
	SubscribedSKU
}

// AuditRecord is one change made by a person or a job.
type AuditRecord struct {
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"` // a person's subject, or "job:<name>"
	CustomerID string    `json:"customerId"`
	Action     string    `json:"action"`
	// UserID is the user the change concerns ("" for a change of the customer itself, e.g. a template).
	UserID  string `json:"userId,omitempty"`
	Before  any    `json:"before,omitempty"`
	After   any    `json:"after,omitempty"`
	Outcome string `json:"outcome"` // ok or failed
	// Error is what went wrong when the outcome is failed (the message shown to the admin).
	Error string `json:"error,omitempty"`
	// RequestID is Microsoft Graph's request-id of the change, when Graph was called.
	RequestID string `json:"requestId,omitempty"`
}

// Template is a service profile of a customer: a named set of SKUs, each with the service plans (add-ons) it
// leaves switched off, assigned to one or many users in one action. Version is its optimistic-locking version.
type Template struct {
	ID          string            `json:"id"`
	CustomerID  string            `json:"customerId"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Licences    []AssignedLicense `json:"licences"`
	Version     int64             `json:"version"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// User statuses: a user removed in the tenant is kept, marked, and no longer counts.
const (
	UserActive      = "active"
	UserSoftDeleted = "softDeleted" // deleted in the tenant, restorable for 30 days
	UserDeleted     = "deleted"     // deleted permanently (or no longer seen by a full read)
)

// User is a user of a customer's tenant as Seatwise stores it.
type User struct {
	CustomerID        string     `json:"customerId"`
	ID                string     `json:"id"`
	UserPrincipalName string     `json:"userPrincipalName"`
	DisplayName       string     `json:"displayName"`
	Mail              string     `json:"mail"`
	UsageLocation     string     `json:"usageLocation"`
	AccountEnabled    bool       `json:"accountEnabled"`
	Department        string     `json:"department"`
	OfficeLocation    string     `json:"officeLocation"`
	City              string     `json:"city"`
	Country           string     `json:"country"`
	BusinessPhones    []string   `json:"businessPhones"`
	Licences          []Licence  `json:"licences"`
	Status            string     `json:"status"`
	RemovedAt         *time.Time `json:"removedAt,omitempty"`
	// ChangedAt is when a sync last stored a change of this user.
	ChangedAt time.Time `json:"changedAt"`
}

// Licence is one SKU a user holds, however many ways: directly, via groups, or both.
type Licence struct {
	SkuID         string   `json:"skuId"`
	Direct        bool     `json:"direct"`
	Groups        []string `json:"groups"` // ids of the groups the licence is inherited from
	DisabledPlans []string `json:"disabledPlans"`
	State         string   `json:"state"` // Active, ActiveWithError, Disabled, Error
	Error         string   `json:"error"` // None, CountViolation, …
}

// InError reports whether the licence assignment failed or holds an error.
func (l Licence) InError() bool { return l.Error != "" && l.Error != "None" }

// Licensed reports whether the user holds any licence.
func (u User) Licensed() bool { return len(u.Licences) > 0 }

// HasErrors reports whether one of the user's licences is in error.
func (u User) HasErrors() bool {
	for _, l := range u.Licences {
		if l.InError() {
			return true
		}
	}
	return false
}

// LicencesOf merges Graph's licenseAssignmentStates (one per SKU and source) into one Licence per SKU, in the
// order Graph gave them. Without states (older data), assignedLicenses count as direct.
func LicencesOf(g GraphUser) []Licence {
	var out []Licence
	index := map[string]int{}
	add := func(skuID string) *Licence {
		if i, ok := index[skuID]; ok {
			return &out[i]
		}
		index[skuID] = len(out)
		out = append(out, Licence{SkuID: skuID, Groups: []string{}, DisabledPlans: []string{}, State: "Active", Error: "None"})
		return &out[len(out)-1]
	}
	if len(g.LicenseStates) == 0 {
		for _, al := range g.AssignedLicenses {
			l := add(al.SkuID)
			l.Direct, l.DisabledPlans = true, nonNil(al.DisabledPlans)
		}
		return out
	}
	for _, s := range g.LicenseStates {
		l := add(s.SkuID)
		if s.AssignedByGroup == "" {
			l.Direct, l.DisabledPlans = true, nonNil(s.DisabledPlans)
		} else {
			l.Groups = append(l.Groups, s.AssignedByGroup)
			if !l.Direct && len(l.DisabledPlans) == 0 {
				l.DisabledPlans = nonNil(s.DisabledPlans)
			}
		}
		if s.Error != "" && s.Error != "None" {
			l.State, l.Error = s.State, s.Error
		} else if l.Error == "None" && s.State != "" {
			l.State = s.State
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
