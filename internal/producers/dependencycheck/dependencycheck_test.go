package dependencycheck

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
	got := producertest.CheckCorpus(t, "dependency_check", Parse, nil)

	// 7 vulnerabilities and 2 suppressed ones, kept and marked (DefectDojo
	// also counts the suppressed ones, as inactive findings).
	multi := got["dependency_check/multiple_vulnerabilities_has_multiple_findings.xml"].Issues
	suppressed := 0
	for _, is := range multi {
		if is.Annotations["suppressed"] == "true" {
			suppressed++
		}
	}
	if suppressed != 2 {
		t.Errorf("multiple_vulnerabilities: %d suppressed, want 2", suppressed)
	}
	plexus := multi[8]
	if plexus.RuleId != "CVE-2017-1000487" || plexus.Cve != "CVE-2017-1000487" || plexus.Cvss != 9.8 ||
		plexus.Severity != v1.Severity_SEVERITY_CRITICAL || // no <severity>: the CVSS v3 rating, as Dependency-Check ranks them
		plexus.FixedVersion != "3.0.16" ||
		len(plexus.Cwe) != 1 || plexus.Cwe[0] != 78 ||
		plexus.Annotations["suppression_notes"] != "This is our reason for not to upgrade it." ||
		plexus.Target != "adapter-ear4.ear: liquibase-core-3.5.3.jar: jquery.js" {
		t.Errorf("suppressed plexus issue = %v", plexus)
	}
	npm := multi[1]
	if npm.RuleId != "1500" || npm.Title != "NPM advisory 1500 in yargs-parser:5.0.0" ||
		npm.Target != "pkg:npm/yargs-parser@5.0.0" || npm.PackageVersion != "5.0.0" ||
		npm.Severity != v1.Severity_SEVERITY_LOW || npm.Location.GetPath() != "/var/lib/jenkins/workspace/nl-selfservice_-_metrics_develop/package-lock.json" ||
		strings.Join(npm.References, " ") != "https://snyk.io/vuln/SNYK-JS-YARGSPARSER-560381" {
		t.Errorf("npm advisory issue = %v", npm)
	}
	if cwe := multi[3]; cwe.RuleId != "CWE-400: Uncontrolled Resource Consumption ('Resource Exhaustion')" || len(cwe.Cwe) != 1 || cwe.Cwe[0] != 400 {
		t.Errorf("CWE-named issue = %v", cwe)
	}

	v653 := got["dependency_check/version-6.5.3.xml"]
	is := v653.Issues[0]
	if v653.ToolVersion != "6.5.3" || is.RuleId != "CVE-2020-9488" || is.Cve != "CVE-2020-9488" ||
		is.Target != "pkg:maven/org.apache.logging.log4j/log4j-api@2.12.4" ||
		is.PackageUrl != "pkg:maven/org.apache.logging.log4j/log4j-api@2.12.4" || is.PackageVersion != "2.12.4" ||
		is.Severity != v1.Severity_SEVERITY_LOW || is.Cvss != 3.7 || is.Annotations["cvss_v2"] != "4.3" ||
		len(is.Cwe) != 1 || is.Cwe[0] != 295 || is.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		is.References[0] != "https://www.oracle.com/security-alerts/cpuoct2020.html" || is.ToolName != "dependency-check" {
		t.Errorf("log4j issue = %v", is)
	}
	if c := got["dependency_check/version-6.5.3_multi_cwe_fabricated.xml"].Issues[0].Cwe; len(c) != 2 || c[1] != 297 {
		t.Errorf("multi-CWE issue CWEs = %v", c)
	}
	if n := len(got["dependency_check/dc_empty.xml"].Issues); n != 0 {
		t.Errorf("dc_empty.xml: %d issues", n)
	}
}

func TestJSON(t *testing.T) {
	got := parseFile(t, "testdata/report.json")
	if got.ToolVersion != "12.1.0" || len(got.Issues) != 3 {
		t.Fatalf("version %q, %d issues", got.ToolVersion, len(got.Issues))
	}
	text, sup, npm := got.Issues[0], got.Issues[1], got.Issues[2]
	if text.RuleId != "CVE-2022-42889" || text.Title != "CVE-2022-42889 in commons-text-1.9.jar" ||
		text.Target != "pkg:maven/org.apache.commons/commons-text@1.9" || text.PackageVersion != "1.9" ||
		text.FixedVersion != "1.10.0" || text.Severity != v1.Severity_SEVERITY_CRITICAL || text.Cvss != 9.8 ||
		len(text.Cwe) != 1 || text.Cwe[0] != 94 || text.Annotations["known_exploited"] != "true" ||
		text.Confidence != v1.Confidence_CONFIDENCE_HIGH || len(text.References) != 2 ||
		text.Location.GetPath() != "/src/lib/commons-text-1.9.jar" {
		t.Errorf("commons-text issue = %v", text)
	}
	if sup.Annotations["suppressed"] != "true" || sup.Annotations["suppression_notes"] != "false positive: we do not use the interpolator" ||
		sup.Severity != v1.Severity_SEVERITY_MEDIUM || sup.Cvss != 5 || len(sup.Cwe) != 0 {
		t.Errorf("suppressed issue = %v", sup)
	}
	if npm.Target != "pkg:npm/minimist@1.2.0" || npm.Severity != v1.Severity_SEVERITY_LOW ||
		npm.Location.GetPath() != "/src/web/package-lock.json" ||
		strings.Join(npm.References, " ") != "https://snyk.io/vuln/npm:minimist:20200312" {
		t.Errorf("npm issue = %v", npm)
	}
}

func TestXMLv12(t *testing.T) {
	got := parseFile(t, "testdata/report-12.xml")
	if got.ToolVersion != "12.1.0" || len(got.Issues) != 1 {
		t.Fatalf("version %q, %d issues", got.ToolVersion, len(got.Issues))
	}
	is := got.Issues[0]
	if is.RuleId != "CVE-2019-12384" || is.Cvss != 8.7 || is.Severity != v1.Severity_SEVERITY_HIGH ||
		is.FixedVersion != "2.9.9.1" || is.Annotations["known_exploited"] != "true" ||
		is.Description != "FasterXML jackson-databind 2.x before 2.9.9.1 might allow attackers to have a variety of impacts <by> leveraging failure to block the logback-core class from polymorphic deserialization & more." ||
		is.Confidence != v1.Confidence_CONFIDENCE_HIGH || len(is.Cwe) != 1 || is.Cwe[0] != 502 {
		t.Errorf("issue = %v", is)
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
		"empty":            " \n",
		"truncated json":   `{"reportSchema": "1.1", "dependencies": [{"fileName": "a.jar"`,
		"truncated xml":    `<?xml version="1.0"?><analysis><dependencies><dependency><fileName>a.jar</fileName>`,
		"unbalanced xml":   `<analysis><dependencies></analysis></dependencies>`,
		"two roots":        `<analysis><dependencies/></analysis><analysis/>`,
		"bad entity":       `<analysis><dependencies><dependency><fileName>a&b;</fileName></dependency></dependencies></analysis>`,
		"unquoted attr":    `<analysis><dependencies><dependency isVirtual=true></dependency></dependencies></analysis>`,
		"text after root":  `<analysis><dependencies/></analysis>trailing`,
		"other xml":        `<BugCollection version="4.2.0"><BugInstance/></BugCollection>`,
		"no dependencies":  `<analysis><scanInfo/></analysis>`,
		"gosec json":       `{"Issues": [], "Stats": {}}`,
		"npm audit json":   `{"auditReportVersion": 2, "vulnerabilities": {}}`,
		"json array":       `[]`,
		"plain text":       `dependency-check failed`,
		"bad score":        `{"reportSchema":"1.1","scanInfo":{},"dependencies":[{"vulnerabilities":[{"name":"x","cvssv3":{"baseScore":"high"}}]}]}`,
		"unterminated tag": `<analysis><dependencies`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestXMLReader covers the reader's corners the corpus does not reach.
func TestXMLReader(t *testing.T) {
	in := "\xef\xbb\xbf<?xml version='1.0'?>\n<!DOCTYPE analysis [<!ENTITY x 'y'>]>\n" +
		`<analysis a='1' b = "2>3"><!-- c --><dependencies><dependency><fileName>a&#x41;&#66;&lt;<![CDATA[&raw;]]></fileName>` +
		`<vulnerabilities><vulnerability source="OSSINDEX"><name>CVE-1</name></vulnerability></vulnerabilities></dependency></dependencies></analysis>` + "\n"
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) != 1 || got.Issues[0].Title != "CVE-1 in aAB<&raw;" || got.Issues[0].Annotations["source"] != "OSSINDEX" {
		t.Errorf("issues = %v", got.Issues)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"dependency_check"}, "testdata/*.json", "testdata/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "dependency_check", "version-6.5.3_multi_cwe_fabricated.xml"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
