package catalog

import "strings"

// Licence kinds (see Kind).
const (
	// KindBase is a licence a user can hold on its own: a suite or plan that gives the user their core services
	// (Office 365 E3, Microsoft 365 Business Premium, Exchange Online Plan 1…), and also the stand-alone licences of
	// devices and resource accounts (Teams Rooms, Teams Shared Devices, Teams Phone Resource Account), which are
	// the only licence such an account holds.
	KindBase = "base"
	// KindAddOn is a licence bought on top of a base licence to add one capability to a user: Teams Phone, a
	// Calling Plan, Audio Conferencing, Power BI Pro, Visio, Project, Defender/E5 Security and Compliance
	// step-ups, Copilot, Teams Premium.
	KindAddOn = "addon"
)

// addOnFamilies are the part numbers of add-on licences. A part number is an add-on when it equals one of them or
// extends one with an underscore variant suffix (MCOEV_GOV, POWER_BI_PRO_DEPT, VISIOCLIENT_FACULTY…). Upper case.
var addOnFamilies = []string{
	// Teams voice and meetings on top of Teams.
	"MCOEV", "MCOEVSMB", // Teams Phone Standard (and its SMB edition)
	"MCOMEETADV", "MCOMEETACPEA", // Audio Conferencing
	// Analytics, diagramming and project apps on top of a suite.
	"POWER_BI_PRO", "POWER_BI_ADDON",
	"VISIOCLIENT", "VISIOONLINE_PLAN1", "VISIO_PLAN1_DEPT", "VISIO_PLAN2_DEPT",
	"PROJECTPROFESSIONAL", "PROJECTPREMIUM", "PROJECTESSENTIALS", "PROJECTCLIENT", "PROJECTONLINE_PLAN_1",
	"PROJECTONLINE_PLAN_2", "PROJECT_P1", "PROJECT_PLAN1_DEPT", "PROJECT_PLAN3_DEPT",
	// Security and compliance step-ups.
	"ATP_ENTERPRISE", "THREAT_INTELLIGENCE", "IDENTITY_THREAT_PROTECTION", "INFORMATION_PROTECTION_COMPLIANCE",
	// Premium Teams and AI.
	"MICROSOFT_TEAMS_PREMIUM", "TEAMS_PREMIUM_(FOR_DEPARTMENTS)", "MICROSOFT_365_COPILOT",
}

// addOnPrefixes are part-number prefixes whose every product is an add-on: the Calling Plans and the
// pay-as-you-go calling and dial-out products (MCOPSTN1, MCOPSTN2, MCOPSTN5, MCOPSTNC, MCOPSTN_6, …).
var addOnPrefixes = []string{"MCOPSTN", "MICROSOFT_TEAMS_CALLING_PLAN", "MICROSOFT_TEAMS_AUDIO_CONFERENCING"}

// Kind classifies a licence as KindBase or KindAddOn from its part number (partNumber, or the catalogue's part
// number of skuID when partNumber is empty). The classification is this package's explicit table (addOnFamilies,
// addOnPrefixes); a part number it does not list is KindBase, so that an unknown licence is never hidden from a
// search for base licences.
func Kind(skuID, partNumber string) string {
	part := strings.ToUpper(strings.TrimSpace(partNumber))
	if part == "" {
		if p, ok := load().bySku[normID(skuID)]; ok {
			part = strings.ToUpper(p.PartNumber)
		}
	}
	if part == "" {
		return KindBase
	}
	for _, p := range addOnPrefixes {
		if strings.HasPrefix(part, p) {
			return KindAddOn
		}
	}
	for _, f := range addOnFamilies {
		if part == f || strings.HasPrefix(part, f+"_") {
			return KindAddOn
		}
	}
	return KindBase
}

// ValidKind reports whether k is KindBase or KindAddOn.
func ValidKind(k string) bool { return k == KindBase || k == KindAddOn }
