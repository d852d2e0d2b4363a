package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

const header = "\uFEFFProduct_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names\r\n"

// TestCatalogueUpToDate regenerates the catalogue from Microsoft's CSV and requires the committed
// shared/catalog/catalog.json to be byte-identical, so a stale or hand-edited catalogue fails CI.
func TestCatalogueUpToDate(t *testing.T) {
	root, err := repoRoot()
	td.Require(t).CmpNoError(err)
	in := filepath.Join(root, filepath.FromSlash(defaultIn))
	if _, err := os.Stat(in); err != nil {
		t.Fatalf("Microsoft's licensing CSV is missing (%v): the catalogue is generated from %s, "+
			"i.e. ../shared/data relative to the repository root (see its NOTICE.md)", err, in)
	}
	committed, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(defaultOut)))
	td.Require(t).CmpNoError(err, "read the committed catalogue")

	dir := t.TempDir()
	var first []byte
	for i, name := range []string{"a.json", "b.json"} {
		out := filepath.Join(dir, name)
		var stderr bytes.Buffer
		td.Require(t).CmpNoError(run([]string{"-in", in, "-out", out}, &stderr), "stderr: %s", &stderr)
		got, err := os.ReadFile(out)
		td.Require(t).CmpNoError(err)
		if i == 0 {
			first = got
			if !bytes.Equal(got, committed) {
				t.Fatalf("shared/catalog/catalog.json is stale or was edited by hand: regenerate it with `go run ./infra/catalog-gen` (repository root) and commit the result")
			}
			continue
		}
		td.CmpTrue(t, bytes.Equal(got, first), "two runs must give identical bytes")
	}
}

// generate runs the generator on csv text and returns the JSON, the warnings and the error.
func generate(t *testing.T, csv string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.json")
	td.Require(t).CmpNoError(os.WriteFile(in, []byte(csv), 0o644))
	var stderr bytes.Buffer
	err := run([]string{"-in", in, "-out", out}, &stderr)
	data, readErr := os.ReadFile(out)
	if err == nil {
		td.Require(t).CmpNoError(readErr)
	} else {
		td.CmpTrue(t, os.IsNotExist(readErr), "nothing is written on error")
	}
	return string(data), stderr.String(), err
}

func TestMissingColumn(t *testing.T) {
	_, _, err := generate(t, "Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plans_Included_Friendly_Names\n"+
		"Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,TEAMS1,Microsoft Teams\n")
	td.Cmp(t, err, td.All(
		td.Contains("missing column(s) Service_Plan_Id in the header"),
		td.Contains("in.csv"),
	))

	_, _, err = generate(t, "")
	td.Cmp(t, err, td.Contains("empty CSV"))
}

func TestInvalidRows(t *testing.T) {
	for name, tc := range map[string]struct{ row, err string }{
		"malformed skuId": {
			"Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b90,TEAMS1,57ff2da0-773e-42df-b2af-ffb7a2317929,Teams\r\n",
			`line 2: GUID "6fd2c87f-b296-42f0-b197-1e91e994b90" is not a GUID`,
		},
		"malformed plan id": {
			"Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,TEAMS1,57ff2da0_773e-42df-b2af-ffb7a2317929,Teams\r\n",
			`line 2: Service_Plan_Id "57ff2da0_773e-42df-b2af-ffb7a2317929" is not a GUID`,
		},
		"empty part number": {
			"Office 365 E3, ,6fd2c87f-b296-42f0-b197-1e91e994b900,TEAMS1,57ff2da0-773e-42df-b2af-ffb7a2317929,Teams\r\n",
			"line 2: empty String_Id (part number) for skuId 6fd2c87f-b296-42f0-b197-1e91e994b900",
		},
		"ragged row": {
			"Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,TEAMS1\r\n",
			"wrong number of fields",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := generate(t, header+tc.row)
			td.Cmp(t, err, td.Contains(tc.err))
		})
	}
}

func TestGenerate(t *testing.T) {
	csv := header + strings.Join([]string{
		// upper-case GUIDs, columns trimmed (a non-breaking space, as in Microsoft's file)
		"Office 365 E3,ENTERPRISEPACK\u00a0,6FD2C87F-B296-42F0-B197-1E91E994B900,TEAMS1,57FF2DA0-773E-42DF-B2AF-FFB7A2317929,Microsoft Teams",
		"Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,MCOSTANDARD,0feaeb32-d00e-4d66-bd5a-43b5b83db82c,SKYPE FOR BUSINESS ONLINE (PLAN 2)",
		// repeated row
		"Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,MCOSTANDARD,0feaeb32-d00e-4d66-bd5a-43b5b83db82c,Skype for Business Online (Plan 2)",
		// a second display name for the same skuId: the first is kept
		"Office 365 E3 (renamed),ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange Online (Plan 2)",
		`"Microsoft 365 E5, ""with"" <Teams>",SPE_E5,06ebc4ee-1bb5-47dd-8120-11324bc54e06,TEAMS1,57ff2da0-773e-42df-b2af-ffb7a2317929,TEAMS1`,
		"Microsoft 365 E5,SPE_E5,06ebc4ee-1bb5-47dd-8120-11324bc54e06,MCOSTANDARD,0feaeb32-d00e-4d66-bd5a-43b5b83db82c,Skype for Business Online (Plan 2)",
		"Microsoft 365 E5,SPE_E5,06ebc4ee-1bb5-47dd-8120-11324bc54e06,EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange  Online\t(Plan 2)",
	}, "\r\n") + "\r\n"

	got, warnings, err := generate(t, csv)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, `{"source":"Microsoft, Product names and service plan identifiers for licensing, CC BY 4.0","plans":{
"0feaeb32-d00e-4d66-bd5a-43b5b83db82c":{"name":"MCOSTANDARD","friendlyName":"Skype for Business Online (Plan 2)"},
"57ff2da0-773e-42df-b2af-ffb7a2317929":{"name":"TEAMS1","friendlyName":"Microsoft Teams"},
"efb87545-963c-4e0d-99df-69c6916d9eb0":{"name":"EXCHANGE_S_ENTERPRISE","friendlyName":"Exchange Online (Plan 2)"}
},"products":{
"06ebc4ee-1bb5-47dd-8120-11324bc54e06":{"partNumber":"SPE_E5","name":"Microsoft 365 E5, \"with\" <Teams>","plans":["efb87545-963c-4e0d-99df-69c6916d9eb0","0feaeb32-d00e-4d66-bd5a-43b5b83db82c","57ff2da0-773e-42df-b2af-ffb7a2317929"]},
"6fd2c87f-b296-42f0-b197-1e91e994b900":{"partNumber":"ENTERPRISEPACK","name":"Office 365 E3","plans":["efb87545-963c-4e0d-99df-69c6916d9eb0","0feaeb32-d00e-4d66-bd5a-43b5b83db82c","57ff2da0-773e-42df-b2af-ffb7a2317929"]}
}}
`)
	td.Cmp(t, warnings, td.All(
		td.Contains(`warning: line 2: String_Id "ENTERPRISEPACK\u00a0" has surrounding white space; trimmed`),
		td.Contains(`warning: line 5: skuId 6fd2c87f-b296-42f0-b197-1e91e994b900 (ENTERPRISEPACK) has display name "Office 365 E3 (renamed)", earlier "Office 365 E3"; keeping "Office 365 E3"`),
		td.Contains("ignored 1 repeated SKU × plan rows"),
		td.Contains("2 service plans have several friendly names"),
		td.Contains("2 products, 3 service plans"),
	))
}

func TestSharedPartNumber(t *testing.T) {
	got, warnings, err := generate(t, header+
		"Calling B,MCOPSTN5,d43177b5-475b-4880-92d4-d54c27b5efbd,PLAN,9a0125a5-c8f8-4526-b231-49e2abe0ebce,Plan\r\n"+
		"Calling A,MCOPSTN5,54a152dc-90de-4996-93d2-bc47e670fc06,PLAN,9a0125a5-c8f8-4526-b231-49e2abe0ebce,Plan\r\n")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, td.Contains(`"54a152dc-90de-4996-93d2-bc47e670fc06":{"partNumber":"MCOPSTN5","name":"Calling A"`))
	td.Cmp(t, warnings, td.Contains("part number MCOPSTN5 is shared by skuIds 54a152dc-90de-4996-93d2-bc47e670fc06, d43177b5-475b-4880-92d4-d54c27b5efbd"))
}

func TestFriendlyRank(t *testing.T) {
	td.Cmp(t, friendlyRank("Microsoft Teams", "TEAMS1"), 0)
	td.Cmp(t, friendlyRank("MICROSOFT TEAMS", "TEAMS1"), 1)
	td.Cmp(t, friendlyRank("TEAMS1", "TEAMS1"), 2)
	td.Cmp(t, friendlyRank("exchange_s_foundation", "EXCHANGE_S_FOUNDATION"), 2)
	td.Cmp(t, friendlyRank("Power Automate for Project P1", "Power_Automate_For_Project_P1"), 0)
	td.Cmp(t, friendlyRank("", "X"), 2)
}

func TestNormGUID(t *testing.T) {
	got, ok := normGUID("6FD2C87F-B296-42F0-B197-1E91E994B900")
	td.CmpTrue(t, ok)
	td.Cmp(t, got, "6fd2c87f-b296-42f0-b197-1e91e994b900")
	for _, bad := range []string{"", "6fd2c87fb29642f0b1971e91e994b900", "{6fd2c87f-b296-42f0-b197-1e91e994b900}",
		"6fd2c87f-b296-42f0-b197-1e91e994b90g", "6fd2c87f-b296-42f0-b1971-e91e994b900"} {
		_, ok := normGUID(bad)
		td.CmpFalse(t, ok, bad)
	}
}
