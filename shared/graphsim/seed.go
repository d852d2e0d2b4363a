package graphsim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/seatwise/seatwise/shared/catalog"
)

// Fixed ids and credentials of the local setup (see the contracts of the walking skeleton).
const (
	// ClientID is the only application (client) id the simulator's token endpoint accepts.
	ClientID = "seatwise-local-app"
	// ClientSecret is the only client secret the simulator's token endpoint accepts.
	ClientSecret = "local-secret"

	// ContosoDentalID is the tenant id of the Contoso Dental demo tenant.
	ContosoDentalID = "7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11"
	// FabrikamLegalID is the tenant id of the Fabrikam Legal demo tenant.
	FabrikamLegalID = "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
)

// TenantSpec describes a simulated tenant. Its users and licence assignments are generated from it and the
// simulator's seed, so the same spec and seed always give the same tenant.
type TenantSpec struct {
	ID     string // tenant id (a GUID)
	Name   string // organisation name, e.g. "Contoso Dental"
	Domain string // initial domain, e.g. "contosodental.onmicrosoft.com"
	// Users is the number of people. Teams Rooms resource accounts are added on top, one per licence of a SKUSpec
	// with Rooms set.
	Users         int
	UsageLocation string   // ISO 3166-1 alpha-2 code given to licensed users, e.g. "US"
	Country       string   // e.g. "United States"
	DialCode      string   // e.g. "+1"
	Cities        []string // offices; users are spread over them
	Departments   []string // "" → a generic list
	SKUs          []SKUSpec
	Groups        []GroupSpec // licensing groups (admin.go)
}

// SKUSpec is one subscribed SKU of a TenantSpec.
type SKUSpec struct {
	PartNumber string // skuPartNumber; the skuId and service plans come from the catalogue
	// SkuID overrides the catalogue. A part number the catalogue does not know gets a skuId derived from it and no
	// service plans.
	SkuID string
	// Prepaid units (prepaidUnits.enabled, .suspended, .warning, .lockedOut).
	Enabled, Suspended, Warning, LockedOut int
	// Assigned is how many users get the licence (consumedUnits). Fewer when not enough users qualify.
	Assigned         int
	CapabilityStatus string // "" → "Enabled"
	AppliesTo        string // "" → "User"
	// Base SKUs are exclusive of each other: a user holds at most one (E3, E5, Business Premium, Exchange plans…).
	Base bool
	// Requires restricts the licence to users who hold the SKU with this part number (an add-on such as a
	// Calling Plan on top of Teams Phone).
	Requires string
	// Rooms assigns the licence to generated Teams Rooms resource accounts instead of people.
	Rooms bool
}

// DemoTenants returns the two fixed demo tenants: Contoso Dental (a US dental group on Business Premium) and
// Fabrikam Legal (a UK law firm on Office 365 E3/E5 with Teams Phone and Calling Plans). Each call returns a fresh
// copy.
func DemoTenants() []TenantSpec {
	return []TenantSpec{
		{
			ID:            ContosoDentalID,
			Name:          "Contoso Dental",
			Domain:        "contosodental.onmicrosoft.com",
			Users:         52,
			UsageLocation: "US",
			Country:       "United States",
			DialCode:      "+1",
			Cities:        []string{"Seattle", "Bellevue", "Tacoma"},
			Departments:   []string{"Clinical", "Hygiene", "Front Desk", "Billing", "Practice Management", "IT"},
			SKUs: []SKUSpec{
				{PartNumber: "SPB", Enabled: 50, Assigned: 42, Base: true},
				{PartNumber: "EXCHANGESTANDARD", Enabled: 10, Assigned: 6, Base: true},
				{PartNumber: "MCOEV", Enabled: 20, Assigned: 14, Requires: "SPB"},
				{PartNumber: "MCOPSTN1", Enabled: 15, Assigned: 12, Requires: "MCOEV"},
				// A subscription past its end date: its seats are in the grace period.
				{PartNumber: "POWER_BI_PRO", Enabled: 5, Warning: 5, Assigned: 3, CapabilityStatus: "Warning"},
				{PartNumber: "Microsoft_Teams_Rooms_Pro", Enabled: 3, Assigned: 2, Rooms: true},
			},
			Groups: []GroupSpec{
				{DisplayName: "Teams Phone users", SKUs: []string{"MCOEV"}, Members: 8, KeepDirect: 3},
				{DisplayName: "Power BI users", SKUs: []string{"POWER_BI_PRO"}, Members: 2, KeepDirect: 1},
				{DisplayName: "New starters", SKUs: []string{"SPB"}}, // no members yet
			},
		},
		{
			ID:            FabrikamLegalID,
			Name:          "Fabrikam Legal",
			Domain:        "fabrikamlegal.onmicrosoft.com",
			Users:         140,
			UsageLocation: "GB",
			Country:       "United Kingdom",
			DialCode:      "+44",
			Cities:        []string{"London", "Manchester", "Edinburgh"},
			Departments: []string{"Litigation", "Corporate", "Property", "Employment", "Private Client", "Finance",
				"Business Development", "IT"},
			SKUs: []SKUSpec{
				{PartNumber: "ENTERPRISEPACK", Enabled: 100, Assigned: 92, Base: true},
				{PartNumber: "SPE_E5", Enabled: 30, Assigned: 28, Base: true},
				{PartNumber: "MCOEV", Enabled: 100, Assigned: 85, Requires: "ENTERPRISEPACK"},
				{PartNumber: "MCOPSTN1", Enabled: 60, Assigned: 55, Requires: "MCOEV"},
				// Reduced below its use at renewal: available is negative.
				{PartNumber: "VISIOCLIENT", Enabled: 5, Assigned: 6},
				{PartNumber: "POWER_BI_PRO", Enabled: 25, Assigned: 20},
				{PartNumber: "Microsoft_Teams_Rooms_Pro", Enabled: 6, Assigned: 5, Rooms: true},
			},
			Groups: []GroupSpec{
				{DisplayName: "Teams Phone users", SKUs: []string{"MCOEV"}, Members: 30, KeepDirect: 6},
				{DisplayName: "Visio users", SKUs: []string{"VISIOCLIENT"}, Members: 3, KeepDirect: 1},
			},
		},
	}
}

// Generic fallbacks for specs that leave lists empty.
var (
	defaultCities      = []string{"Redmond"}
	defaultDepartments = []string{"Sales", "Marketing", "Finance", "Operations", "Human Resources", "IT"}
	firstNames         = []string{"Aaliyah", "Adele", "Alex", "Amara", "Ana", "Arjun", "Ben", "Bianca", "Callum",
		"Chen", "Chloe", "Daniel", "Diego", "Elena", "Emeka", "Emily", "Erik", "Fatima", "Finn", "Grace", "Hannah",
		"Hiro", "Isabel", "Isaac", "Jamal", "Jana", "Jonas", "Julia", "Kai", "Karin", "Leila", "Liam", "Lucia",
		"Maya", "Megan", "Mohammed", "Nadia", "Nathan", "Nina", "Noah", "Olivia", "Omar", "Patti", "Priya", "Rafael",
		"Rhys", "Rosa", "Samir", "Sara", "Sophie", "Tariq", "Thomas", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe"}
	lastNames = []string{"Adams", "Ahmed", "Alvarez", "Andersen", "Baker", "Bauer", "Brown", "Campbell", "Chen",
		"Clarke", "Costa", "Davies", "Diaz", "Edwards", "Evans", "Fischer", "Garcia", "Green", "Gupta", "Hall",
		"Hansen", "Hughes", "Ibrahim", "Ito", "Jackson", "Jensen", "Johnson", "Kaur", "Kim", "Kowalski", "Lee",
		"Lopez", "Martin", "Meyer", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov",
		"Quinn", "Reyes", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Taylor", "Thompson", "Walker",
		"Wang", "Williams", "Wilson", "Wright", "Young", "Zhang"}
	jobTitles = []string{"Associate", "Senior Associate", "Manager", "Coordinator", "Specialist", "Assistant",
		"Director", "Analyst", "Consultant", "Administrator"}
)

// seedTime is the fixed "now" of generated timestamps, so that a seed always gives byte-identical data.
var seedTime = time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)

// tenantRNG returns the generator of one tenant's data: derived from the simulator seed and the tenant id only,
// so adding a tenant never changes the others.
func tenantRNG(seed uint64, tenantID string) *rand.Rand {
	h := sha256.Sum256([]byte(fmt.Sprintf("graphsim|%d|%s", seed, strings.ToLower(tenantID))))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

// newUUID returns a random (version 4 layout) UUID drawn from r.
func newUUID(r *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	return formatUUID(b)
}

// nameUUID returns a UUID derived from a name (for SKUs the catalogue does not know).
func nameUUID(name string) string {
	h := sha256.Sum256([]byte("graphsim-name|" + name))
	var b [16]byte
	copy(b[:], h[:16])
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// buildTenant generates a tenant's state from its spec.
func buildTenant(seed uint64, spec TenantSpec) (*tenant, error) {
	if err := validateSpec(spec); err != nil {
		return nil, err
	}
	r := tenantRNG(seed, spec.ID)
	t := &tenant{
		id:        strings.ToLower(spec.ID),
		name:      spec.Name,
		domain:    strings.ToLower(spec.Domain),
		usersByID: map[string]*User{},
	}
	for _, ss := range spec.SKUs {
		t.skus = append(t.skus, newSKU(t.id, ss, r))
	}

	cities := orDefault(spec.Cities, defaultCities)
	depts := orDefault(spec.Departments, defaultDepartments)
	usedUPN := map[string]bool{}
	var people []*User
	for i := 0; i < spec.Users; i++ {
		first := firstNames[r.IntN(len(firstNames))]
		last := lastNames[r.IntN(len(lastNames))]
		nick := uniqueNick(strings.ToLower(first+"."+last), usedUPN)
		city := cities[r.IntN(len(cities))]
		u := &User{
			ID:                newUUID(r),
			GivenName:         first,
			Surname:           last,
			DisplayName:       first + " " + last,
			MailNickname:      nick,
			UserPrincipalName: nick + "@" + t.domain,
			Mail:              nick + "@" + t.domain,
			AccountEnabled:    r.IntN(100) >= 4, // a few leavers whose accounts are blocked
			Department:        depts[r.IntN(len(depts))],
			JobTitle:          jobTitles[r.IntN(len(jobTitles))],
			City:              city,
			OfficeLocation:    city + " office",
			Country:           spec.Country,
			CompanyName:       spec.Name,
			EmployeeID:        fmt.Sprintf("E%05d", 1000+i),
			UserType:          "Member",
			CreatedDateTime:   seedTime.AddDate(0, 0, -30-r.IntN(2000)).Add(time.Duration(r.IntN(86400)) * time.Second),
		}
		if spec.DialCode != "" && r.IntN(100) < 70 {
			u.BusinessPhones = []string{fmt.Sprintf("%s %03d %03d %04d", spec.DialCode, 200+r.IntN(700), r.IntN(1000), r.IntN(10000))}
		}
		people = append(people, u)
	}
	var rooms []*User
	for _, ss := range spec.SKUs {
		if !ss.Rooms {
			continue
		}
		for i := 0; i < ss.Assigned; i++ {
			city := cities[len(rooms)%len(cities)]
			nick := uniqueNick(fmt.Sprintf("room-%s-%d", strings.ToLower(strings.ReplaceAll(city, " ", "")), len(rooms)+1), usedUPN)
			rooms = append(rooms, &User{
				ID:                newUUID(r),
				DisplayName:       fmt.Sprintf("%s Meeting Room %d", city, len(rooms)+1),
				MailNickname:      nick,
				UserPrincipalName: nick + "@" + t.domain,
				Mail:              nick + "@" + t.domain,
				AccountEnabled:    true,
				Department:        "Facilities",
				City:              city,
				OfficeLocation:    city + " office",
				Country:           spec.Country,
				CompanyName:       spec.Name,
				UserType:          "Member",
				CreatedDateTime:   seedTime.AddDate(0, 0, -10-r.IntN(500)),
				room:              true,
			})
		}
	}

	assignLicences(r, t, spec, people, rooms)

	all := append(people, rooms...)
	for _, u := range all {
		if len(u.Licenses) > 0 {
			u.UsageLocation = spec.UsageLocation
		} else if r.IntN(2) == 0 {
			u.UsageLocation = spec.UsageLocation
		}
	}
	t.addUsers(all) // one sort: addUser per user is quadratic at 50,000 users
	if err := seedGroups(seed, t, spec); err != nil {
		return nil, err
	}
	seedTeams(seed, t, spec) // last: it needs every licence, direct and group
	return t, nil
}

func validateSpec(spec TenantSpec) error {
	switch {
	case strings.TrimSpace(spec.ID) == "":
		return fmt.Errorf("tenant spec %q: empty id", spec.Name)
	case strings.ContainsAny(spec.ID, "/ ?#"):
		return fmt.Errorf("tenant spec %q: invalid id %q", spec.Name, spec.ID)
	case spec.Domain == "" || strings.ContainsAny(spec.Domain, "/ @"):
		return fmt.Errorf("tenant spec %s: invalid domain %q", spec.ID, spec.Domain)
	case spec.Users < 0:
		return fmt.Errorf("tenant spec %s: negative user count", spec.ID)
	}
	seen := map[string]bool{}
	for _, s := range spec.SKUs {
		if s.PartNumber == "" && s.SkuID == "" {
			return fmt.Errorf("tenant spec %s: a SKU has neither part number nor skuId", spec.ID)
		}
		k := strings.ToUpper(s.PartNumber) + "|" + strings.ToLower(s.SkuID)
		if seen[k] {
			return fmt.Errorf("tenant spec %s: SKU %s listed twice", spec.ID, s.PartNumber)
		}
		seen[k] = true
		if s.Assigned < 0 || s.Enabled < 0 || s.Suspended < 0 || s.Warning < 0 || s.LockedOut < 0 {
			return fmt.Errorf("tenant spec %s: SKU %s has negative units", spec.ID, s.PartNumber)
		}
	}
	return nil
}

func orDefault(v, def []string) []string {
	if len(v) == 0 {
		return def
	}
	return v
}

func uniqueNick(base string, used map[string]bool) string {
	nick := base
	for n := 2; used[nick]; n++ {
		nick = fmt.Sprintf("%s%d", base, n)
	}
	used[nick] = true
	return nick
}

// newSKU resolves a SKUSpec against the catalogue.
func newSKU(tenantID string, ss SKUSpec, r *rand.Rand) *SKU {
	s := &SKU{
		SkuID:            strings.ToLower(ss.SkuID),
		PartNumber:       ss.PartNumber,
		AppliesTo:        ss.AppliesTo,
		CapabilityStatus: ss.CapabilityStatus,
		Enabled:          ss.Enabled,
		Suspended:        ss.Suspended,
		Warning:          ss.Warning,
		LockedOut:        ss.LockedOut,
		SubscriptionIDs:  []string{newUUID(r)},
	}
	var (
		p  catalog.Product
		ok bool
	)
	if s.SkuID != "" {
		p, ok = catalog.Lookup(s.SkuID)
	} else {
		p, ok = catalog.ByPartNumber(ss.PartNumber)
	}
	if ok {
		s.SkuID = p.SkuID
		if s.PartNumber == "" {
			s.PartNumber = p.PartNumber
		}
		for _, pl := range p.Plans {
			s.ServicePlans = append(s.ServicePlans, ServicePlan{ID: pl.ID, Name: pl.Name, ProvisioningStatus: "Success", AppliesTo: "User"})
		}
	} else if s.SkuID == "" {
		s.SkuID = nameUUID(strings.ToUpper(ss.PartNumber))
	}
	if s.AppliesTo == "" {
		s.AppliesTo = "User"
	}
	if s.CapabilityStatus == "" {
		s.CapabilityStatus = "Enabled"
	}
	s.ID = tenantID + "_" + s.SkuID
	return s
}

// assignLicences gives each SKU's licences to users, following the spec's rules: base SKUs exclusive, add-ons on
// holders of what they require, rooms on room accounts.
func assignLicences(r *rand.Rand, t *tenant, spec TenantSpec, people, rooms []*User) {
	hasBase := map[*User]bool{}
	holders := map[string][]*User{} // upper-case part number → holders
	roomNext := 0
	for i, ss := range spec.SKUs {
		s := t.skus[i]
		var pool []*User
		switch {
		case ss.Rooms:
			end := min(roomNext+ss.Assigned, len(rooms))
			pool = rooms[roomNext:end]
			roomNext = end
		case ss.Requires != "":
			pool = append(pool, holders[strings.ToUpper(ss.Requires)]...)
		default:
			for _, u := range people {
				if !ss.Base || !hasBase[u] {
					pool = append(pool, u)
				}
			}
		}
		pool = append([]*User(nil), pool...)
		r.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		n := min(ss.Assigned, len(pool))
		for _, u := range pool[:n] {
			lic := License{
				SkuID:       s.SkuID,
				State:       "Active",
				Error:       "None",
				LastUpdated: seedTime.AddDate(0, 0, -r.IntN(400)).Add(time.Duration(r.IntN(86400)) * time.Second),
			}
			// Some admins switch a plan off (e.g. Viva Engage) on their big suites.
			if len(s.ServicePlans) > 20 && r.IntN(10) == 0 {
				lic.DisabledPlans = []string{s.ServicePlans[r.IntN(len(s.ServicePlans))].ID}
			}
			u.Licenses = append(u.Licenses, lic)
			if ss.Base {
				hasBase[u] = true
			}
			holders[strings.ToUpper(s.PartNumber)] = append(holders[strings.ToUpper(s.PartNumber)], u)
		}
	}
}
