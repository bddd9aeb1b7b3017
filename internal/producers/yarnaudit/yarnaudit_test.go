package yarnaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "yarn_audit", Parse, nil)

	// yarn 1 JSON lines.
	hb := got["yarn_audit/yarn_audit_one_vul.json"].Issues[0]
	if hb.RuleId != "1325" || hb.Title != "Prototype Pollution in handlebars@4.5.2" || hb.Target != "pkg:npm/handlebars@4.5.2" ||
		hb.FixedVersion != "4.5.3" || hb.Severity != v1.Severity_SEVERITY_HIGH || len(hb.Cwe) != 1 || hb.Cwe[0] != 471 ||
		hb.ToolName != "yarn-audit" || hb.References[0] != "https://npmjs.com/advisories/1325" {
		t.Errorf("handlebars issue = %v", hb)
	}
	// One auditAdvisory line per dependency path, and two npm advisory ids
	// for one GitHub advisory: one issue per installed version.
	ar := got["yarn_audit/yarn_audit_multiple_cwes2.json"].Issues
	if ar[0].Target != "pkg:npm/ansi-regex@3.0.0" || ar[1].Target != "pkg:npm/ansi-regex@4.1.0" ||
		ar[1].RuleId != "GHSA-93q8-gq69-wqmw" || ar[1].Cve != "CVE-2021-3807" || ar[1].Cvss != 7.5 ||
		ar[1].Severity != v1.Severity_SEVERITY_MEDIUM || ar[1].FixedVersion != "5.0.1" ||
		ar[1].Annotations["advisory_ids"] != "1064843, 1028226" || len(ar[1].Cwe) != 2 ||
		strings.Count(ar[1].Annotations["paths"], "\n") != 6 {
		t.Errorf("ansi-regex issues = %v", ar)
	}
	// yarn 2/3: the npm 6 document.
	ini := got["yarn_audit/issue_6495.json"].Issues[0]
	if ini.RuleId != "GHSA-qqgx-2p2h-9c37" || ini.Cve != "CVE-2020-7788" || ini.Cvss != 7.3 || ini.FixedVersion != "1.3.6" ||
		ini.Target != "pkg:npm/ini@1.3.5" || len(ini.Cwe) != 1 || ini.Cwe[0] != 1321 || ini.Annotations["advisory_ids"] != "1068298" {
		t.Errorf("ini issue = %v", ini)
	}
	if c := got["yarn_audit/issue_6495_multi_cwe_fabricated.json"].Issues[0].Cwe; len(c) != 2 || c[1] != 915 {
		t.Errorf("multi-CWE = %v", c)
	}
	// yarn 4 lines.
	b := got["yarn_audit/yarn2_audit_issue9911.json"].Issues
	if b[0].RuleId != "deprecation" || b[0].Title != "@babel/plugin-proposal-class-properties@7.18.6 is deprecated" ||
		b[0].Target != "pkg:npm/%40babel/plugin-proposal-class-properties@7.18.6" || b[0].Severity != v1.Severity_SEVERITY_MEDIUM ||
		strings.Join(b[0].Tags, ",") != "deprecation" {
		t.Errorf("deprecation issue = %v", b[0])
	}
	if tr := b[3]; tr.RuleId != "GHSA-37q5-v5qm-c9v8" || tr.PackageVersion != "4.38" || tr.Severity != v1.Severity_SEVERITY_LOW ||
		tr.Annotations["advisory_ids"] != "1096536" || tr.Annotations["dependents"] != "test@npm:1.13.0" ||
		tr.Title != "Transformers Deserialization of Untrusted Data vulnerability (transformers@4.38)" {
		t.Errorf("transformers issue = %v", tr)
	}
}

func TestParseRejects(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "defectdojo", "yarn_audit", "empty_with_error.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "ECONNREFUSED") {
		t.Errorf("error report: %v", err)
	}
	for name, in := range map[string]string{
		"empty":          " \n",
		"truncated line": "{\"type\":\"auditSummary\",\"data\":{}}\n{\"type\":\"auditAdvisory\",\"data\":{\"advisory\":",
		"only info":      `{"type":"info","data":"No lockfile found."}`,
		"npm 7 report":   `{"auditReportVersion": 2, "vulnerabilities": {}}`,
		"other json":     `{"results": []}`,
		"no advisory":    `{"type":"auditAdvisory","data":{}}`,
		"no module":      `{"type":"auditAdvisory","data":{"advisory":{"id":1}}}`,
		"text":           "yarn audit v1.22.22\n0 vulnerabilities found",
		"bad id":         `{"value":"x","children":{"ID":true}}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLineOffset(t *testing.T) {
	_, err := Parse([]byte("{\"type\":\"auditSummary\",\"data\":{}}\n{\"type\": 5}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "at byte 43:") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"yarn_audit"})
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "yarn_audit", "yarn_audit_multiple_cwes2.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

func TestNestedOffset(t *testing.T) {
	in := "{\"type\":\"auditSummary\",\"data\":{}}\n{\"type\":\"auditAdvisory\",\"data\":{\"advisory\":{\"module_name\":7}}}\n"
	_, err := Parse([]byte(in))
	// The bad value 7 is at byte 92 of the report.
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "at byte 92:") {
		t.Errorf("err = %v", err)
	}
}
