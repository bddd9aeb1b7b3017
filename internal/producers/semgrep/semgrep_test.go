package semgrep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "semgrep", Parse, map[string]producertest.Differ{
		"semgrep/repeated_findings.json": {Count: 2, Reason: "the report lists the same result twice; " +
			"DefectDojo merges them in its parser, Dracon keeps every result and leaves merging to the dedup enricher " +
			"(both carry the same rule, target and text)"},
	})

	// Files whose count DefectDojo does not assert: we give one issue per result.
	for file, n := range map[string]int{
		"semgrep/close_old_findings_report_line31.json":                        1,
		"semgrep/close_old_findings_report_second_run_line24.json":             1,
		"semgrep/close_old_findings_report_third_run_different_unique_id.json": 1,
		"semgrep/semgrep_version_1_30_0_line_26.json":                          5,
		"semgrep/semgrep_version_1_30_0_line_27.json":                          5,
	} {
		if r := got[file]; r == nil || len(r.Issues) != n {
			t.Errorf("%s: want %d issues, got %v", file, n, r)
		}
	}

	// cwe_list.json: CWE from a list of "CWE-n: text", INFO is LOW, OWASP tags, references.
	is := got["semgrep/cwe_list.json"].Issues[0]
	if is.RuleId != "javascript.express.security.audit.express-check-csurf-middleware-usage.express-check-csurf-middleware-usage" ||
		is.Target != "index.js:12" || is.Severity != v1.Severity_SEVERITY_LOW ||
		!slices.Equal(is.Cwe, []int32{352}) || is.ToolVersion != "0.96.0" ||
		is.Fingerprint != "143cb0c62f3740d62180cbde3ffa976e" || is.GetContextSegment() != "const app = express();" ||
		is.Title != "A CSRF middleware was not detected in your express application." ||
		!slices.Contains(is.Tags, "A01:2021 - Broken Access Control") || len(is.References) != 4 ||
		is.Location.StartColumn != 7 || is.Location.EndColumn != 22 {
		t.Errorf("cwe_list.json: %v", is)
	}

	// multiple_cwes_fabricated.json: every CWE of the list.
	is = got["semgrep/multiple_cwes_fabricated.json"].Issues[0]
	if !slices.Equal(is.Cwe, []int32{327, 696}) || is.Severity != v1.Severity_SEVERITY_MEDIUM ||
		is.Target != "src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java:64" ||
		is.Annotations["semgrep.fix"] == "" {
		t.Errorf("multiple_cwes_fabricated.json: %v", is)
	}

	// one_finding.json: CWE as a single string; source-rule-url becomes a reference.
	is = got["semgrep/one_finding.json"].Issues[0]
	if !slices.Equal(is.Cwe, []int32{696}) || !slices.Contains(is.References, "https://find-sec-bugs.github.io/bugs.htm#PADDING_ORACLE") ||
		is.Confidence != v1.Confidence_CONFIDENCE_UNSPECIFIED {
		t.Errorf("one_finding.json: %v", is)
	}

	// fingerprint_test.json: "requires login" is not a fingerprint nor code.
	fp := got["semgrep/fingerprint_test.json"].Issues
	if fp[0].Fingerprint != "" || fp[0].ContextSegment != nil || fp[0].Severity != v1.Severity_SEVERITY_HIGH ||
		fp[0].Confidence != v1.Confidence_CONFIDENCE_MEDIUM || !slices.Equal(fp[0].Cwe, []int32{78}) ||
		fp[1].Target != "sample/function.go:37-40" || fp[1].Confidence != v1.Confidence_CONFIDENCE_LOW {
		t.Errorf("fingerprint_test.json: %v", fp)
	}

	// The two 1.30.0 runs differ only in where the code sits; semgrep's
	// fingerprints, which ignore line numbers, must come through unchanged.
	a, b := got["semgrep/semgrep_version_1_30_0_line_26.json"].Issues, got["semgrep/semgrep_version_1_30_0_line_27.json"].Issues
	for i := range a {
		if a[i].Fingerprint == "" || a[i].Fingerprint != b[i].Fingerprint {
			t.Errorf("fingerprint %d: %q vs %q", i, a[i].Fingerprint, b[i].Fingerprint)
		}
	}
	if a[0].Target != "test.go:27-30" || !slices.Equal(a[0].Cwe, []int32{79}) {
		t.Errorf("1.30.0 first issue: %v", a[0])
	}
	// The close_old_findings runs: same fingerprint for the moved finding, a different one for the third.
	l31 := got["semgrep/close_old_findings_report_line31.json"].Issues[0]
	l24 := got["semgrep/close_old_findings_report_second_run_line24.json"].Issues[0]
	diff := got["semgrep/close_old_findings_report_third_run_different_unique_id.json"].Issues[0]
	if l31.Fingerprint != l24.Fingerprint || l31.Fingerprint == diff.Fingerprint || l31.Target != "sample/brute.py:31" || l24.Target != "sample/brute.py:24" {
		t.Errorf("close_old_findings fingerprints: %q %q %q", l31.Fingerprint, l24.Fingerprint, diff.Fingerprint)
	}
}

// TestNewSeverities reads a hand-written report with semgrep 1.9x's
// severities and metadata of unusual shapes, as custom rules write it.
func TestNewSeverities(t *testing.T) {
	data, err := os.ReadFile("testdata/new_severities.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 4 || got.ToolVersion != "1.120.0" {
		t.Fatalf("%d issues, version %q", len(got.Issues), got.ToolVersion)
	}
	is := got.Issues[0]
	if is.Severity != v1.Severity_SEVERITY_CRITICAL || is.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		is.Target != "app/db.py:10-12" || !slices.Equal(is.Cwe, []int32{89}) ||
		is.Title != "SQL built by string concatenation." || is.Fingerprint != "0123abcd_0" ||
		is.Annotations["semgrep.ignored"] != "nosemgrep" || is.Annotations["semgrep.likelihood"] != "3" ||
		is.Annotations["semgrep.validation_state"] != "" ||
		!slices.Equal(is.References, []string{"https://owasp.org/Top10/A03_2021-Injection"}) ||
		!slices.Equal(is.Tags, []string{"security", "A03:2021 - Injection"}) {
		t.Errorf("first: %v", is)
	}
	is = got.Issues[1]
	if is.Severity != v1.Severity_SEVERITY_LOW || !slices.Equal(is.Cwe, []int32{798, 259}) ||
		is.Title != "rules.custom-number-cwe" || is.Description != "rules.custom-number-cwe" {
		t.Errorf("second: %v", is)
	}
	if got.Issues[2].Severity != v1.Severity_SEVERITY_INFO {
		t.Errorf("INVENTORY: %v", got.Issues[2].Severity)
	}
	if is := got.Issues[3]; is.Severity != v1.Severity_SEVERITY_MEDIUM || is.Title != "Odd severity." {
		t.Errorf("unknown severity: %v", is)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":         "",
		"truncated":     `{"results": [{"check_id": "a.b", "path": "x.py"`,
		"bandit":        `{"errors": [], "generated_at": "2024-01-01T00:00:00Z", "metrics": {}, "results": []}`,
		"bandit result": `{"errors": [], "results": [{"filename": "a.py", "test_id": "B101", "issue_text": "assert"}]}`,
		"gosec":         `{"Issues": [], "Stats": {}}`,
		"array":         `[]`,
		"sarif":         `{"version": "2.1.0", "runs": []}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTitle(t *testing.T) {
	long := strings.Repeat("é", 300)
	for in, want := range map[string]string{
		"One. Two.":              "One.",
		"No full stop":           "No full stop",
		"Line one\nline two. x":  "Line one",
		"v1.2 is old. Update it": "v1.2 is old.",
		"   ":                    "rule",
	} {
		if got := title(in, "rule"); got != want {
			t.Errorf("title(%q) = %q, want %q", in, got, want)
		}
	}
	if got := title(long, "rule"); !strings.HasSuffix(got, "…") || len(got) > 204 || !strings.HasPrefix(got, "éé") {
		t.Errorf("long title = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"semgrep"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	// The largest corpus file; a real scan's report is the same shape, longer.
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "semgrep", "semgrep_version_1_30_0_line_26.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
