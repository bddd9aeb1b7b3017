package govulncheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/depkit"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/sarif"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "govulncheck", Parse, map[string]producertest.Differ{
		"govulncheck/issue_14642.json": {Count: 40, Reason: "DefectDojo makes one finding per \"osv\" message " +
			"(201), but govulncheck sends an osv message for every advisory of every required module, " +
			"affected or not; only 40 advisories have a \"finding\" message, and we make one issue per such advisory"},
	})

	// Streaming JSON, govulncheck v1.1.4: one issue per advisory with findings.
	r := got["govulncheck/issue_14642.json"]
	if r.ToolVersion != "v1.1.4" {
		t.Errorf("tool version %q", r.ToolVersion)
	}
	levels := map[string]int{}
	for _, is := range r.Issues {
		levels[is.Annotations["govulncheck.level"]]++
	}
	// 22 advisories are called, 8 only imported, 10 only required.
	if levels["symbol"] != 22 || levels["package"] != 8 || levels["module"] != 10 {
		t.Errorf("levels = %v", levels)
	}
	jwt := find(t, r.Issues, "GO-2025-3553")
	if jwt.Target != "pkg:golang/github.com/golang-jwt/jwt@v3.2.2+incompatible" ||
		jwt.Severity != v1.Severity_SEVERITY_HIGH || jwt.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		jwt.Location.GetPath() != "api/helper/statuse_code_maping.go" || jwt.Location.GetStartLine() != 21 ||
		jwt.FixedVersion != "" || jwt.Tags[0] != "called" {
		t.Errorf("GO-2025-3553 = %v", jwt)
	}

	// The same messages as one JSON array, with edited-in severities.
	r = got["govulncheck/many_vulns_new_version_custom_severity.json"]
	text := find(t, r.Issues, "GO-2021-0113")
	if text.Cve != "CVE-2021-38561" || text.Severity != v1.Severity_SEVERITY_LOW ||
		text.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		text.PackageUrl != "pkg:golang/golang.org/x/text@v0.3.5" || text.PackageVersion != "v0.3.5" ||
		text.FixedVersion != "v0.3.7" || text.Location.GetPath() != "govulncheck/vulnerable/main.go" ||
		text.Location.GetStartLine() != 12 || text.Title != "GO-2021-0113: Out-of-bounds read in golang.org/x/text/language" ||
		strings.Join(text.Aliases, ",") != "CVE-2021-38561,GHSA-ppp9-7jff-5vj2" ||
		text.References[0] != "https://pkg.go.dev/vuln/GO-2021-0113" {
		t.Errorf("GO-2021-0113 = %v", text)
	}
	imp := find(t, r.Issues, "GO-2022-1059")
	if imp.Severity != v1.Severity_SEVERITY_HIGH || imp.Confidence != v1.Confidence_CONFIDENCE_MEDIUM ||
		imp.Location != nil || imp.Annotations["govulncheck.level"] != "package" {
		t.Errorf("GO-2022-1059 = %v", imp)
	}

	// govulncheck 0.x: one object, 12 Vulns for 3 advisories.
	r = got["govulncheck/many_vulns.json"]
	old := find(t, r.Issues, "GO-2022-1144")
	if old.Target != "pkg:golang/stdlib@v1.19.0" || old.FixedVersion != "v1.19.4" ||
		old.Severity != v1.Severity_SEVERITY_HIGH || old.Cve != "CVE-2022-41717" ||
		old.Location.GetPath() != "/home/dtimoshenko/test_parser/evil-app/main.go" || old.Location.GetStartLine() != 22 ||
		strings.Count(old.Description, " called from ") != 5 {
		t.Errorf("GO-2022-1144 = %v", old)
	}
}

func find(t *testing.T, issues []*v1.Issue, rule string) *v1.Issue {
	t.Helper()
	for _, is := range issues {
		if is.RuleId == rule {
			return is
		}
	}
	t.Fatalf("no issue %s", rule)
	return nil
}

// TestSARIF: govulncheck's SARIF output is rejected here, like DefectDojo
// does, and read by the SARIF importer (the registry sends SARIF there).
func TestSARIF(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "defectdojo", "govulncheck", "issue_15033_sarif.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "SARIF") {
		t.Fatalf("err = %v", err)
	}
	if !sarif.Sniff(data) {
		t.Fatal("not recognised as SARIF")
	}
	got, err := sarif.ParseAs(name, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) != 3 {
		t.Errorf("%d SARIF results, want 3", len(got.Issues))
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"blank":          " \n",
		"truncated":      `{"config": {"scanner_name": "govulncheck"}} {"finding": {"osv": "GO-1`,
		"truncated list": `[{"config": {"scanner_name": "govulncheck"}}, {"finding"`,
		"no config":      `{"finding": {"osv": "GO-2021-0113", "trace": []}}`,
		"other scanner":  `{"config": {"scanner_name": "osv-scanner"}}`,
		"gosec":          `{"Issues": [], "Stats": {}}`,
		"bandit":         `{"errors": [], "results": []}`,
		"empty list":     `[]`,
		"null":           `null`,
		"not an object":  `{"config": {"scanner_name": "govulncheck"}} 42`,
		"bad legacy":     `{"Vulns": [{"Symbol": "x"}]}`,
	} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error, %d issues", name, len(got.Issues))
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"0", "1.0.0", -1}, {"v1.19.0", "1.19.4", -1}, {"1.19.4", "v1.19.4", 0},
		{"1.0.0-rc.1", "1.0.0", -1}, {"1.10.0", "1.9.0", 1}, {"2.0.0+incompatible", "2.0.0", 0},
	} {
		if got := depkit.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDBURL(t *testing.T) {
	if got := dbURL("https://vuln.go.dev"); got != "https://vuln.go.dev" {
		t.Error(got)
	}
	if got := dbURL("/tmp/db"); got != "file:///tmp/db" {
		t.Error(got)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"govulncheck"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "govulncheck", "issue_14642.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

// TestRealGovulncheck runs the pinned govulncheck on testdata/src against
// the hand-made database in testdata/vulndb (Go vulnerability database
// layout: index/db.json, index/modules.json, ID/<id>.json). The app
// vendors example.com/vulnlib v1.0.0, so nothing is downloaded; the
// database has four advisories against it: one whose function the app
// calls, one on an uncalled function of an imported package, one on a
// package the app does not import, and one fixed before v1.0.0.
func TestRealGovulncheck(t *testing.T) {
	db, err := filepath.Abs("testdata/vulndb")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(DBEnv, db)
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=vendor")
	t.Setenv("GOTOOLCHAIN", "local")
	got := producertest.RunTool(t, Producer, "testdata/src")
	var lines []string
	for _, is := range got.Issues {
		line := fmt.Sprintf("%s %s %s %s fixed=%s", is.RuleId, is.Target, is.Annotations["govulncheck.level"], is.Severity, is.FixedVersion)
		if is.Location != nil {
			line += fmt.Sprintf(" %s:%d", is.Location.Path, is.Location.StartLine)
		}
		lines = append(lines, line)
	}
	want := []string{
		"GO-2099-0001 pkg:golang/example.com/vulnlib@v1.0.0 symbol SEVERITY_HIGH fixed=v1.0.1 main.go:9",
		"GO-2099-0002 pkg:golang/example.com/vulnlib@v1.0.0 package SEVERITY_MEDIUM fixed=v1.2.0",
		"GO-2099-0003 pkg:golang/example.com/vulnlib@v1.0.0 module SEVERITY_LOW fixed=v1.0.2",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got.ToolVersion != "v1.9.0" {
		t.Errorf("tool version %q", got.ToolVersion)
	}
	first := got.Issues[0]
	if first.Cve != "CVE-2099-0001" || !strings.Contains(first.Description, "example.com/vulnlib.Run called from example.com/app.main at main.go:9") {
		t.Errorf("first = %v", first)
	}
}

// TestOSVID: the cheap id reader must work on real messages, or every OSV
// entry is decoded in full (correct, but twice as slow).
func TestOSVID(t *testing.T) {
	for in, want := range map[string]string{
		`{"osv": {"schema_version": "1.3.1", "id": "GO-2021-0113", "modified": "x"}}`:          "GO-2021-0113",
		`{"osv": {"aliases": ["CVE-1"], "affected": [{"a": {"b": 1}}], "id": "GO-2099-0001"}}`: "GO-2099-0001",
		`{"osv": {"summary": "no id"}}`: "",
	} {
		if got, ok := osvID([]byte(in)); got != want || ok != (want != "") {
			t.Errorf("osvID(%s) = %q, %v", in, got, ok)
		}
	}
}
