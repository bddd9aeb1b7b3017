package safety

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "safety", Parse, nil)
	is := got["safety/example_report.json"].Issues[0]
	if is.RuleId != "33063" || is.Target != "pkg:pypi/django@1.2.2" || is.PackageVersion != "1.2.2" ||
		is.FixedVersion != "1.2.7" || is.Severity != v1.Severity_SEVERITY_MEDIUM ||
		is.Title != "django 1.2.2 (<1.2.7): Safety advisory 33063" || is.ToolName != "safety" ||
		!strings.HasPrefix(is.Description, "django.contrib.sessions in Django before 1.2.7") {
		t.Errorf("first issue = %v", is)
	}
	if is := got["safety/multiple_cves.json"].Issues[0]; is.RuleId != "37863" || is.FixedVersion != "4.0.0" || is.PackageUrl != "pkg:pypi/ampache@3.8.2" {
		t.Errorf("ampache issue = %v", is)
	}
}

// TestSafety2 reads a `safety check --output json` report of Safety 2.3,
// written by hand from the format Safety documents (README, json
// formatter): CVSS scores, a CVE given as an object, an ignored finding.
func TestSafety2(t *testing.T) {
	got := parseFile(t, "testdata/safety-2.3.json")
	if got.ToolVersion != "2.3.5" || len(got.Issues) != 3 {
		t.Fatalf("version %q, %d issues", got.ToolVersion, len(got.Issues))
	}
	dj, pve, ign := got.Issues[0], got.Issues[1], got.Issues[2]
	if dj.RuleId != "44742" || dj.Cve != "CVE-2022-22818" || dj.Severity != v1.Severity_SEVERITY_MEDIUM || dj.Cvss != 6.1 ||
		dj.FixedVersion != "4.0.2" || dj.Location.GetPath() != "requirements.txt" || dj.Target != "pkg:pypi/django@4.0.1" ||
		len(dj.References) != 2 || dj.Annotations["suppressed"] != "" {
		t.Errorf("django issue = %v", dj)
	}
	if pve.Cve != "" || strings.Join(pve.Aliases, ",") != "PVE-2021-25853" || pve.FixedVersion != "0.2.0" ||
		pve.Severity != v1.Severity_SEVERITY_MEDIUM || len(pve.References) != 0 {
		t.Errorf("insecure-package issue = %v", pve)
	}
	if ign.Annotations["suppressed"] != "true" || ign.Annotations["suppression_reason"] != "not reachable" ||
		ign.Cve != "CVE-2014-1402" || strings.Join(ign.Tags, ",") != "transitive,suppressed" {
		t.Errorf("ignored issue = %v", ign)
	}
}

// TestSafety3 reads Safety 3's `check --output json` (same shape; the
// score under "severity.cvss"), written by hand like TestSafety2's.
func TestSafety3(t *testing.T) {
	got := parseFile(t, "testdata/safety-3.json")
	if got.ToolVersion != "3.8.1" || len(got.Issues) != 2 {
		t.Fatalf("version %q, %d issues", got.ToolVersion, len(got.Issues))
	}
	cr, rq := got.Issues[0], got.Issues[1]
	if cr.Severity != v1.Severity_SEVERITY_HIGH || cr.Cvss != 7.5 || cr.FixedVersion != "42.0.0" ||
		cr.Location.GetPath() != "/src/requirements.txt" || cr.References[0] != "https://data.safetycli.com/v/65278/97c" {
		t.Errorf("cryptography issue = %v", cr)
	}
	if rq.Severity != v1.Severity_SEVERITY_MEDIUM || rq.Cvss != 0 || rq.FixedVersion != "2.32.2" || rq.Cve != "CVE-2024-35195" {
		t.Errorf("requests issue = %v", rq)
	}
}

func TestArgs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"requirements.txt", "requirements-dev.txt", "setup.py"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(Producer.Tool.Args(dir, "out.json"), " ")
	if got != "check --output json -r requirements-dev.txt -r requirements.txt" {
		t.Errorf("args = %s", got)
	}
}

func parseFile(t *testing.T, path string) *producers.Parsed {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	return got
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"truncated v1": `[["django", "<1.2.7", "1.2.2"`,
		"truncated v2": `{"report_meta": {}, "vulnerabilities": [{"package_name": "x"`,
		"short row":    `[["django", "<1.2.7", "1.2.2"]]`,
		"number field": `[["django", "<1.2.7", "1.2.2", "advisory", 33063]]`,
		"no package":   `[["", "<1", "0.1", "a", "1"]]`,
		"pip-audit":    `{"dependencies": []}`,
		"pip-audit v1": `[{"name": "adal", "version": "1.2.2", "vulns": []}]`,
		"no meta":      `{"vulnerabilities": []}`,
		"bad cve":      `{"report_meta": {}, "vulnerabilities": [{"package_name": "x", "CVE": 12}]}`,
		"no name":      `{"report_meta": {}, "vulnerabilities": [{"vulnerability_id": "1"}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"safety"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "safety", "example_report.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
