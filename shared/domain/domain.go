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
	Sync         SyncState `json:"sync"`
}

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
	Before     any       `json:"before,omitempty"`
	After      any       `json:"after,omitempty"`
	Outcome    string    `json:"outcome"`
}
