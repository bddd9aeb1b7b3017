package npmaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "npm_audit", Parse, map[string]producertest.Differ{
		"npm_audit/many_vuln_npm7.json": {Count: 8, Reason: "an npm 7 report: DefectDojo's npm 6 parser rejects it, " +
			"ours reads both formats; 8 advisories on 15 packages (7 are vulnerable only through others, listed in effects)"},
	})
	growl := got["npm_audit/one_vuln.json"].Issues[0]
	if growl.RuleId != "146" || growl.Title != "Command Injection in growl@1.9.2" || growl.Target != "pkg:npm/growl@1.9.2" ||
		growl.PackageVersion != "1.9.2" || growl.FixedVersion != "1.10.2" || growl.Cve != "CVE-2017-16042" ||
		len(growl.Cwe) != 1 || growl.Cwe[0] != 94 || growl.Severity != v1.Severity_SEVERITY_CRITICAL ||
		strings.Join(growl.Tags, ",") != "dev" || growl.Annotations["paths"] != "mocha-jenkins-reporter>mocha>growl" ||
		strings.Join(growl.References, " ") != "https://www.npmjs.com/advisories/146 https://github.com/tj/node-growl/issues/60 https://github.com/tj/node-growl/pull/61" ||
		growl.ToolName != "npm-audit" {
		t.Errorf("growl issue = %v", growl)
	}
	if is := got["npm_audit/cwe_null.json"].Issues[0]; len(is.Cwe) != 0 {
		t.Errorf("cwe null: %v", is.Cwe)
	}
	// Ordered by advisory id; fresh's 4 paths are kept.
	issues := got["npm_audit/issue_7897.json"].Issues
	var rules []string
	for _, is := range issues {
		rules = append(rules, is.RuleId)
	}
	if strings.Join(rules, ",") != "106,107,521,522,526" || !strings.Contains(issues[4].Annotations["paths"], "\n") {
		t.Errorf("rules %v, fresh %v", rules, issues[4])
	}
	npm7 := got["npm_audit/many_vuln_npm7.json"].Issues
	if first := npm7[0]; first.RuleId != "1488" || first.Target != "pkg:npm/acorn" || first.Severity != v1.Severity_SEVERITY_MEDIUM {
		t.Errorf("npm7 first = %v", first)
	}
	if ms := npm7[5]; ms.RuleId != "1179" || ms.Annotations["effects"] != "mkdirp, optimist" {
		t.Errorf("minimist = %v", ms)
	}
}

func TestCorpus7Plus(t *testing.T) {
	got := producertest.CheckCorpus(t, "npm_audit_7_plus", Parse, map[string]producertest.Differ{
		"npm_audit_7_plus/one_vuln.json": {Count: 2, Reason: "debug has two advisories (GHSA-gxpj-cx7g-858c, " +
			"moderate; GHSA-9vvw-cc9w-f27h, high): one issue each, DefectDojo makes one finding per package"},
	})
	debug := got["npm_audit_7_plus/multiple_cwes_fabricated.json"].Issues[0]
	if debug.RuleId != "GHSA-gxpj-cx7g-858c" || debug.Target != "pkg:npm/debug" || debug.PackageUrl != "pkg:npm/debug" ||
		debug.Severity != v1.Severity_SEVERITY_MEDIUM || debug.Cvss != 5.3 || len(debug.Cwe) != 2 || debug.Cwe[1] != 1333 ||
		debug.FixedVersion != "" || debug.Annotations["fix"] != "express@4.18.3" || debug.Annotations["via"] != "ms" ||
		debug.Annotations["advisory_ids"] != "1094222" || debug.Title != "Regular Expression Denial of Service in debug" ||
		strings.Join(debug.Tags, ",") != "direct" {
		t.Errorf("debug issue = %v", debug)
	}
	two := got["npm_audit_7_plus/one_vuln.json"].Issues
	if two[1].RuleId != "GHSA-9vvw-cc9w-f27h" || two[1].Severity != v1.Severity_SEVERITY_HIGH || two[1].Cvss != 7.5 ||
		two[1].Title != "debug Inefficient Regular Expression Complexity vulnerability" {
		t.Errorf("second advisory = %v", two[1])
	}
	if got := got["npm_audit_7_plus/issue_10801.json"].Issues[0]; got.Annotations["fix"] != "nodemon@3.1.4 (semver-major)" || len(got.Cwe) != 0 {
		t.Errorf("got issue = %v", got)
	}
}

func TestNPM7Shapes(t *testing.T) {
	in := `{"auditReportVersion": 2, "vulnerabilities": {
	  "@scope/pkg": {"name": "@scope/pkg", "severity": "critical", "isDirect": false, "via": [{"source": 7, "name": "@scope/pkg",
	    "dependency": "@scope/pkg", "title": "Bad", "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc", "severity": "critical",
	    "cwe": "CWE-79", "cvss": {"score": 0, "vectorString": null}, "range": "<2.0.0"}],
	    "effects": [], "range": "<2.0.0", "nodes": ["node_modules/@scope/pkg"], "fixAvailable": {"name": "@scope/pkg", "version": "2.0.0", "isSemVerMajor": true}},
	  "orphan": {"name": "orphan", "severity": "low", "via": ["gone"], "effects": [], "range": "*", "nodes": [], "fixAvailable": false},
	  "parent": {"name": "parent", "severity": "critical", "via": ["@scope/pkg"], "effects": [], "range": "*", "nodes": [], "fixAvailable": true}
	}, "metadata": {}}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 2 {
		t.Fatalf("%d issues: %v", len(got.Issues), got.Issues)
	}
	sc, orphan := got.Issues[0], got.Issues[1]
	if sc.Target != "pkg:npm/%40scope/pkg" || sc.FixedVersion != "2.0.0" || sc.Cvss != 0 || sc.Cwe[0] != 79 ||
		sc.Annotations["fix"] != "@scope/pkg@2.0.0 (semver-major)" {
		t.Errorf("scoped issue = %v", sc)
	}
	if orphan.RuleId != "vulnerable-dependency" || orphan.Severity != v1.Severity_SEVERITY_LOW || orphan.Annotations["fix"] != "none" {
		t.Errorf("orphan issue = %v", orphan)
	}
}

func TestParseRejects(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "defectdojo", "npm_audit", "empty_with_error.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "ENOAUDIT") {
		t.Errorf("ENOAUDIT report: %v", err)
	}
	for name, in := range map[string]string{
		"empty":          "",
		"truncated":      `{"advisories": {"1": {"module_name": "a"`,
		"yarn line":      `{"type":"auditSummary","data":{}}`,
		"pip-audit":      `{"dependencies": []}`,
		"version 3":      `{"auditReportVersion": 3, "vulnerabilities": {}}`,
		"no vulns":       `{"auditReportVersion": 2}`,
		"bad via":        `{"auditReportVersion": 2, "vulnerabilities": {"a": {"via": [1]}}}`,
		"no module":      `{"advisories": {"1": {"id": 1, "title": "x"}}}`,
		"array":          `[]`,
		"bad cwe":        `{"advisories": {"1": {"id": 1, "module_name": "a", "cwe": 5}}}`,
		"bad via string": `{"auditReportVersion": 2, "vulnerabilities": {"a": {"via": ["x\q"]}}}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"npm_audit", "npm_audit_7_plus"})
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "npm_audit", "many_vuln_with_groups_different_titles.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
