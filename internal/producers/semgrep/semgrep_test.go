package semgrep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
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

// TestSupplyChain reads Semgrep Supply Chain results (extra.sca_info):
// semgrep's own recorded outputs from its test suite (testdata/README.md)
// and the example report of semgrep's documentation (1.122.0). Each is a
// dependency finding at the lockfile line.
func TestSupplyChain(t *testing.T) {
	const aws = "targets/dependency_aware/awscli-with-manifest/"
	for _, tc := range []struct {
		file string
		// target, severity, confidence, purl, version, fixed, cve, aliases, exposure, reachable at
		want []string
	}{
		{"testdata/ssc-docs-1.122.0.json", []string{
			"go.mod:6|SEVERITY_MEDIUM|CONFIDENCE_MEDIUM|pkg:golang/github.com/gin-gonic/gin@1.6.3|1.6.3|1.9.1|CVE-2023-29401|[GHSA-2c4m-59x9-fr2g]|undetermined|",
		}},
		{"testdata/ssc-ansi-yarn.json", []string{
			// The rule names its advisory only in references.
			"targets/dependency_aware/ansi/yarn.lock:17|SEVERITY_HIGH|CONFIDENCE_LOW|pkg:npm/ansi-html@0.0.7|0.0.7||CVE-2021-23424|[GHSA-whgm-jr23-g3j9]|unreachable|",
		}},
		{"testdata/ssc-log4j-maven.json", []string{
			"targets/dependency_aware/log4j/maven_dep_tree.txt:3|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:maven/org.apache.logging.log4j/log4j-core@0.0.2|0.0.2|||[]|reachable|targets/dependency_aware/log4j/log4shell.java:33",
		}},
		{"testdata/ssc-upgrade-only-yarn.json", []string{
			// upgrade-only: reachable whatever the code does.
			"targets/dependency_aware/yarn/yarn.lock:5|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:npm/sass@1.43.4|1.43.4|||[]|reachable|",
		}},
		{"testdata/ssc-legacy-yarn.json", []string{
			"targets/dependency_aware/yarn/yarn.lock:13|SEVERITY_MEDIUM|CONFIDENCE_MEDIUM|pkg:npm/bad-yarn-lib@0.0.9|0.0.9|||[]|undetermined|",
		}},
		{"testdata/ssc-direct-transitive-npm.json", []string{
			"targets/dependency_aware/transitive_and_direct/direct_reachable_transitive_unreachable/package-lock.json:51|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:npm/%40types/jquery@3.3.0|3.3.0|||[]|reachable|targets/dependency_aware/transitive_and_direct/direct_reachable_transitive_unreachable/bad.js:1",
			"targets/dependency_aware/transitive_and_direct/direct_reachable_transitive_unreachable/package-lock.json:40|SEVERITY_MEDIUM|CONFIDENCE_LOW|pkg:npm/%40types/jquery@3.3.1|3.3.1|||[]|unreachable|",
		}},
		{"testdata/ssc-gomod.json", []string{
			"targets/dependency_aware/go/go.mod:17|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:golang/github.com/cheekybits/genny@99.99.99|99.99.99|||[]|reachable|targets/dependency_aware/go/sca.go:2",
		}},
		{"testdata/ssc-awscli-pypi.json", []string{
			// Two rules without a reachability pattern, then three rules
			// matched at two call sites each: all one Pipfile.lock entry.
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_LOW|pkg:pypi/awscli@1.11.82|1.11.82|||[]|unreachable|",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_LOW|pkg:pypi/awscli@1.11.82|1.11.82|||[]|unreachable|",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:pypi/awscli@1.11.82|1.11.82|||[]|reachable|" + aws + "awscli_vuln.py:21",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:pypi/awscli@1.11.82|1.11.82|||[]|reachable|" + aws + "awscli_vuln.py:21",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:pypi/awscli@1.11.82|1.11.82|||[]|reachable|" + aws + "awscli_vuln.py:21",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:pypi/awscli@1.11.82|1.11.82|||[]|reachable|" + aws + "awscli_vuln.py:24",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:pypi/awscli@1.11.82|1.11.82|||[]|reachable|" + aws + "awscli_vuln.py:24",
			aws + "Pipfile.lock:20|SEVERITY_MEDIUM|CONFIDENCE_HIGH|pkg:pypi/awscli@1.11.82|1.11.82|||[]|reachable|" + aws + "awscli_vuln.py:24",
		}},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			producertest.CheckIssues(t, got.Issues)
			var lines []string
			for _, is := range got.Issues {
				lines = append(lines, strings.Join([]string{is.Target, is.Severity.String(), is.Confidence.String(),
					is.PackageUrl, is.PackageVersion, is.FixedVersion, is.Cve, fmt.Sprint(is.Aliases),
					is.Annotations["semgrep.exposure"], is.Annotations["semgrep.reachable_at"]}, "|"))
				if is.Location == nil || is.Location.Path == "" || !strings.HasSuffix(is.Target, fmt.Sprintf("%s:%d", is.Location.Path, is.Location.StartLine)) ||
					!slices.Contains(is.Tags, "supply-chain") || !slices.Contains(is.Tags, is.Annotations["semgrep.exposure"]) ||
					is.Annotations["semgrep.sca_finding_schema"] != "20220913" {
					t.Errorf("issue %s: %v", is.RuleId, is)
				}
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}

	data, err := os.ReadFile("testdata/ssc-docs-1.122.0.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	is := got.Issues[0]
	if is.RuleId != "ssc-parity-0ddf890152a281f12fd6d01c3953da8d88ce2e7b" || got.ToolVersion != "1.122.0" ||
		is.Title != "CVE-2023-29401 in github.com/gin-gonic/gin 1.6.3" || !slices.Equal(is.Cwe, []int32{494}) ||
		is.Annotations["semgrep.sca_kind"] != "legacy" || is.Annotations["semgrep.transitivity"] != "transitive" ||
		is.Annotations["semgrep.semver_range"] != ">=1.3.1-0.20190301021747-ccb9e902956d, <1.9.1" ||
		!strings.Contains(is.Description, "Fixed in: 1.9.1") || !slices.Contains(is.Tags, "transitive") ||
		!slices.Contains(is.References, "https://nvd.nist.gov/vuln/detail/CVE-2023-29401") {
		t.Errorf("docs example: %v", is)
	}
}

// TestSupplyChainShapes checks what semgrep's schema allows beyond the
// recorded reports: sca-fix-versions for other packages and several
// versions, sca-severity, the sca_info.kind variant (1.108 and later), an
// ecosystem without a purl type, and the shapes it cannot read.
func TestSupplyChainShapes(t *testing.T) {
	report := func(metadata, sca string) []byte {
		return []byte(`{"version": "1.130.0", "results": [{"check_id": "ssc-1", "path": "src/app.js",
			"start": {"line": 3, "col": 1}, "end": {"line": 3, "col": 9},
			"extra": {"message": "Affected versions of minimist are vulnerable to Prototype Pollution.", "severity": "WARNING",
			"metadata": ` + metadata + `, "sca_info": ` + sca + `}}]}`)
	}
	const match = `"dependency_match": {"dependency_pattern": {"ecosystem": "npm", "package": "minimist", "semver_range": "<0.2.4 || >=1.0.0 <1.2.6"},
		"found_dependency": {"package": "minimist", "version": "1.2.5", "ecosystem": "npm", "allowed_hashes": {}, "transitivity": "transitive",
		"lockfile_path": "package-lock.json", "line_number": 88}, "lockfile": "package-lock.json"}`
	got, err := Parse(report(`{"cve": "CVE-2021-44906", "ghsa": "GHSA-xvch-5gv4-984h", "sca-severity": "CRITICAL", "sca-kind": "reachable",
		"sca-fix-versions": [{"minimist": "0.2.4"}, {"minimist": "1.2.6"}, {"other": "9.9.9"}]}`,
		`{"reachability_rule": true, "sca_finding_schema": 20220913, "reachable": true, "kind": "DirectReachable", `+match+`}`))
	if err != nil {
		t.Fatal(err)
	}
	is := got.Issues[0]
	if is.Target != "package-lock.json:88" || is.FixedVersion != "1.2.6" || is.Severity != v1.Severity_SEVERITY_CRITICAL ||
		is.Cve != "CVE-2021-44906" || !slices.Equal(is.Aliases, []string{"GHSA-xvch-5gv4-984h"}) ||
		is.PackageUrl != "pkg:npm/minimist@1.2.5" || is.Annotations["semgrep.reachable_at"] != "src/app.js:3" ||
		is.Annotations["semgrep.sca_match_kind"] != "DirectReachable" || is.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		!strings.Contains(is.Description, "Fixed in: 0.2.4, 1.2.6") {
		t.Errorf("minimist: %v", is)
	}
	got, err = Parse(report(`{"sca-vuln-database-identifier": "CVE-2021-44906", "sca-severity": "MODERATE"}`,
		`{"reachability_rule": false, "sca_finding_schema": 20220913, "reachable": false, "kind": ["LockfileOnlyMatch", "transitive"], `+
			strings.Replace(match, `"ecosystem": "npm", "allowed`, `"ecosystem": "opam", "allowed`, 1)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	is = got.Issues[0]
	if is.PackageUrl != "" || is.PackageVersion != "1.2.5" || is.Severity != v1.Severity_SEVERITY_MEDIUM ||
		is.Annotations["semgrep.sca_match_kind"] != "LockfileOnlyMatch transitive" || is.Cve != "CVE-2021-44906" ||
		is.Confidence != v1.Confidence_CONFIDENCE_LOW {
		t.Errorf("opam: %v", is)
	}
	for name, sca := range map[string]string{
		"before August 2022": `{"dependency_match_only": true, "dependency_matches": [{"package": "minimist"}]}`,
		"no package":         `{"sca_finding_schema": 20990101, "reachable": false, "dependency_match": {"found_dependency": {"version": "1"}}}`,
	} {
		_, err := Parse(report(`{}`, sca))
		var pe *producers.ParseError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), "sca_finding_schema") ||
			!strings.Contains(err.Error(), "this parser reads 20220913") {
			t.Errorf("%s: %v", name, err)
		}
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
