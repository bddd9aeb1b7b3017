package cargoaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "cargo_audit", Parse, map[string]producertest.Differ{
		"cargo_audit/many_findings.json": {Count: 13, Reason: "4 vulnerabilities plus the report's 9 warnings " +
			"(3 unmaintained, 6 yanked crates) as INFO issues; DefectDojo reads vulnerabilities only"},
	})
	issues := got["cargo_audit/many_findings.json"].Issues
	first := issues[0]
	if first.RuleId != "RUSTSEC-2020-0091" || first.Target != "pkg:cargo/arc-swap@0.4.7" || first.PackageVersion != "0.4.7" ||
		first.FixedVersion != "0.4.8" || first.Cve != "CVE-2020-35711" || first.Severity != v1.Severity_SEVERITY_MEDIUM ||
		first.Title != "Dangling reference in `access::Map` with Constant in arc-swap@0.4.7" ||
		strings.Join(first.References, " ") != "https://rustsec.org/advisories/RUSTSEC-2020-0091.html https://github.com/vorner/arc-swap/issues/45" ||
		strings.Join(first.Tags, ",") != "memory-corruption" || first.Annotations["affected_functions"] != "arc_swap::access::MapGuard::deref" ||
		first.ToolName != "cargo-audit" {
		t.Errorf("first issue = %v", first)
	}
	// smallvec 0.6.13 and 1.5.0 have the same advisory: two issues, two fixes.
	if a, b := issues[2], issues[3]; a.RuleId != "RUSTSEC-2021-0003" || a.FixedVersion != "0.6.14" || b.FixedVersion != "1.6.1" {
		t.Errorf("smallvec issues = %v / %v", a, b)
	}
	unmaintained := issues[4]
	if unmaintained.RuleId != "RUSTSEC-2021-0064" || unmaintained.Severity != v1.Severity_SEVERITY_INFO ||
		unmaintained.Annotations["warning"] != "unmaintained" || unmaintained.Annotations["informational"] != "unmaintained" {
		t.Errorf("unmaintained issue = %v", unmaintained)
	}
	yanked := issues[7]
	if yanked.RuleId != "yanked" || yanked.Title != "arc-swap@0.4.7 is yanked from its registry" || yanked.Severity != v1.Severity_SEVERITY_INFO {
		t.Errorf("yanked issue = %v", yanked)
	}
}

func TestCVSS(t *testing.T) {
	data, err := os.ReadFile("testdata/cvss.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 2 {
		t.Fatalf("%d issues", len(got.Issues))
	}
	sh, atty := got.Issues[0], got.Issues[1]
	if sh.Cvss != 9.8 || sh.Severity != v1.Severity_SEVERITY_CRITICAL || sh.FixedVersion != "1.3.0" || sh.Cve != "CVE-2024-58266" ||
		strings.Join(sh.Aliases, ",") != "GHSA-r7qv-8r2h-pg27" || sh.Annotations["affected_functions"] != "shlex::join\nshlex::quote" {
		t.Errorf("shlex issue = %v", sh)
	}
	if atty.Severity != v1.Severity_SEVERITY_LOW || atty.RuleId != "RUSTSEC-2021-0145" || atty.FixedVersion != "" ||
		strings.Join(atty.Tags, ",") != "unsound" {
		t.Errorf("atty issue = %v", atty)
	}
}

func TestOldWarningsList(t *testing.T) {
	in := `{"database": {}, "vulnerabilities": {"found": false, "count": 0, "list": []},
	  "warnings": [{"kind": "unmaintained", "package": {"name": "term", "version": "0.5.2"},
	    "advisory": {"id": "RUSTSEC-2018-0015", "title": "term is looking for a new maintainer", "informational": "unmaintained"}}]}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) != 1 || got.Issues[0].Severity != v1.Severity_SEVERITY_INFO || got.Issues[0].Target != "pkg:cargo/term@0.5.2" {
		t.Errorf("issues = %v", got.Issues)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"truncated":   `{"database": {}, "vulnerabilities": {"list": [{"advisory":`,
		"no list":     `{"database": {}, "vulnerabilities": {"found": false}}`,
		"npm audit":   `{"auditReportVersion": 2, "vulnerabilities": {}}`,
		"no package":  `{"database": {}, "vulnerabilities": {"list": [{"advisory": {"id": "RUSTSEC-1"}}]}}`,
		"bad warning": `{"database": {}, "vulnerabilities": {"list": []}, "warnings": {"yanked": [{"kind": "yanked"}]}}`,
		"warning num": `{"database": {}, "vulnerabilities": {"list": []}, "warnings": 5}`,
		"array":       `[]`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"cargo_audit"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "cargo_audit", "many_findings.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
