package domain

import "time"

// FactorRule is one licence factor: a category of licensed users for the usage audit ("Managed Users – Direct
// Routing", …). Rules are tried in order; every licensed user is counted once, by the first enabled rule that
// matches them. A rule matches a user when its ManagedBy matches and every one of its criteria does (a rule with
// no criteria and ManagedBy "" matches every licensed user: a catch-all, last).
type FactorRule struct {
	// ID is stable across renames (history and drill-down refer to it): 1..64 letters, digits, '.', '_', '-'.
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Criteria must all match (AND); alternatives go inside one pattern ("directRouting|operatorConnect").
	Criteria []FactorCriterion `json:"criteria"`
	// ManagedBy is how Seatwise last managed the user's licences: "" any, or a ManagedBy* value.
	ManagedBy string `json:"managedBy"`
}

// FactorCriterion matches one attribute of a user (a Factor* field) against a regular expression (Go RE2 syntax).
// The pattern is matched case-insensitively against the whole value: "Sales" matches "sales" but not "Sales UK"
// (write "Sales.*" for a prefix). An empty pattern matches an empty value (numberType "" = users without a number).
// List fields (sku, group) hold when any element matches; an empty list is matched as the empty value.
type FactorCriterion struct {
	Field   string `json:"field"`
	Pattern string `json:"pattern"`
}

// Factor criterion fields.
const (
	FactorUPN            = "userPrincipalName"
	FactorDisplayName    = "displayName"
	FactorMail           = "mail"
	FactorDepartment     = "department"
	FactorCity           = "city"
	FactorOffice         = "office" // officeLocation
	FactorUsageLocation  = "usageLocation"
	FactorCountry        = "country"
	FactorSKU            = "sku"            // the part number of each licence held (e.g. ENTERPRISEPACK); skuId if unknown
	FactorGroup          = "group"          // the id of each group a licence is inherited from
	FactorNumberType     = "numberType"     // a Number* type, "" = no number
	FactorNumber         = "number"         // E.164 ("+442071234567"); a leading "+" of the pattern is taken literally
	FactorExtension      = "extension"      // the number's extension
	FactorSite           = "site"           // the id of the site the user is placed on ("" = none)
	FactorAccountType    = "accountType"    // an Account* value
	FactorAccountEnabled = "accountEnabled" // "true" or "false"
)

// FactorFields lists the criterion fields, in the order a UI offers them.
var FactorFields = []string{FactorUPN, FactorDisplayName, FactorMail, FactorDepartment, FactorCity, FactorOffice,
	FactorUsageLocation, FactorCountry, FactorSKU, FactorGroup, FactorNumberType, FactorNumber, FactorExtension,
	FactorSite, FactorAccountType, FactorAccountEnabled}

// How a user's licences were last managed through Seatwise (FactorRule.ManagedBy; a user's own value is one of
// ManagedByTemplate, ManagedByUI, or "" when Seatwise never changed them).
const (
	ManagedByAny      = ""
	ManagedByTemplate = "template" // by applying a template (provisioning, onboarding, bulk)
	ManagedByUI       = "ui"       // by hand: licences or add-ons changed one by one in the UI or API
	ManagedByNone     = "none"     // matches users Seatwise never changed
)

// Account types (Teams' accountType values).
const (
	AccountUser            = "user"
	AccountResourceAccount = "resourceAccount" // auto attendants and call queues (service numbers)
	AccountGuest           = "guest"
	AccountSfbOnPremUser   = "sfbOnPremUser"
	AccountUnknown         = "unknown"
)

// FactorRuleSet is the ordered list of factor rules of the provider (CustomerID "") or of one customer, which
// then replaces the provider's whole list for that customer. Version is its optimistic-locking version.
type FactorRuleSet struct {
	CustomerID string       `json:"customerId,omitempty"`
	Rules      []FactorRule `json:"rules"`
	Version    int64        `json:"version"`
	UpdatedAt  time.Time    `json:"updatedAt"`
}

// FactorCount is how many licensed users one rule counted (0 when the rule is disabled).
type FactorCount struct {
	RuleID  string `json:"ruleId"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Count   int    `json:"count"`
}

// Usage is the licence usage of a set of users: Licensed = the sum of the factor counts + Unmatched.
type Usage struct {
	// Licensed counts the users (not removed in the tenant) holding at least one licence.
	Licensed int `json:"licensed"`
	// Unmatched counts the licensed users no enabled rule matched.
	Unmatched int `json:"unmatched"`
	// Factors has one entry per rule, in rule order, disabled rules included.
	Factors []FactorCount `json:"factors"`
	// BySKU counts the licensed users holding each SKU, by part number (skuId when the catalogue does not know it);
	// a user holding two SKUs counts under both.
	BySKU map[string]int `json:"bySku"`
}

// Snapshot is one day's licence usage of a customer, or of one of its sites: what the usage history and the
// month-end export are computed from.
type Snapshot struct {
	CustomerID   string `json:"customerId"`
	CustomerName string `json:"customerName"`
	PublicSector bool   `json:"publicSector"`
	// SiteID is "" for the whole customer.
	SiteID   string    `json:"siteId"`
	SiteName string    `json:"siteName"`
	Date     string    `json:"date"` // YYYY-MM-DD, UTC
	TakenAt  time.Time `json:"takenAt"`
	// Users are the active users in scope; Licensed those holding a licence; Unmatched the licensed users no
	// factor counts.
	Users        int           `json:"users"`
	Licensed     int           `json:"licensed"`
	Unmatched    int           `json:"unmatched"`
	Factors      []FactorCount `json:"factors"`
	SKUs         []SnapshotSKU `json:"skus"`
	RulesVersion int64         `json:"rulesVersion"`
}

// SnapshotSKU is one SKU in a snapshot. Enabled, Consumed and Acquired are the customer's (0 in a site's
// snapshot); Assigned counts the users in scope holding it.
type SnapshotSKU struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"partNumber"`
	Name       string `json:"name"`
	Enabled    int    `json:"enabled"`
	Consumed   int    `json:"consumed"`
	Acquired   int    `json:"acquired"`
	Assigned   int    `json:"assigned"`
}

// LicencePool is what the provider bought for a customer (acquired seats per SKU, beside Graph's prepaid units)
// and when unused seats become an alert.
type LicencePool struct {
	CustomerID string `json:"customerId"`
	// Acquired is the purchased seats by skuId (a SKU absent: not entered).
	Acquired map[string]int `json:"acquired"`
	// An unused-seats alert is raised when a SKU has at least UnusedThreshold seats available on each of the last
	// UnusedDays daily snapshots.
	UnusedThreshold int       `json:"unusedThreshold"`
	UnusedDays      int       `json:"unusedDays"`
	Version         int64     `json:"version"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// Licence pool defaults.
const (
	DefaultUnusedThreshold = 5
	DefaultUnusedDays      = 7
)

// Alert kinds.
const (
	AlertUnused        = "unused"
	AlertOverused      = "overused"
	AlertLicenceErrors = "licence_errors"
	AlertStagingFailed = "staging_failed"
)

// Alert is something on the dashboard an admin should act on, with a link to what it is about.
type Alert struct {
	CustomerID   string     `json:"customerId"`
	CustomerName string     `json:"customerName"`
	Kind         string     `json:"kind"`
	SkuID        string     `json:"skuId,omitempty"`
	PartNumber   string     `json:"partNumber,omitempty"`
	Count        int        `json:"count"`
	Since        *time.Time `json:"since,omitempty"`
	Message      string     `json:"message"`
	Link         string     `json:"link"` // an SPA route, e.g. "#/customers/c1/licences"
}
