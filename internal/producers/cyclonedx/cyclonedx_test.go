package cyclonedx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// sboms records the SBOM issue of each BOM the corpus test reads.
type sboms map[string]*v1.Issue

// vulnsOnly is Parse without the SBOM issue: DefectDojo counts
// vulnerabilities only, and Dracon adds one SBOM issue to every BOM that
// lists components. The SBOM issue is checked here (exactly one, last)
// and kept in seen for the assertions below.
func vulnsOnly(t *testing.T, seen sboms) producers.ParseFunc {
	return func(data []byte) (*producers.Parsed, error) {
		got, err := Parse(data)
		if err != nil {
			return nil, err
		}
		var vulns []*v1.Issue
		var sbom *v1.Issue
		for i, is := range got.Issues {
			if is.Type != SBOMType {
				vulns = append(vulns, is)
				continue
			}
			if sbom != nil || i != len(got.Issues)-1 {
				t.Errorf("SBOM issue %d of %d: want exactly one, last", i, len(got.Issues))
			}
			sbom = is
		}
		if sbom != nil {
			if sbom.GetCycloneDXSBOM() != string(data) || sbom.Severity != v1.Severity_SEVERITY_INFO {
				t.Errorf("SBOM issue does not carry the BOM: %.200v", sbom)
			}
			seen[sbom.Title+" @ "+sbom.Target] = sbom
		}
		return &producers.Parsed{Issues: vulns, ToolVersion: got.ToolVersion}, nil
	}
}

func TestCorpus(t *testing.T) {
	seen := sboms{}
	got := producertest.CheckCorpus(t, "cyclonedx", vulnsOnly(t, seen), nil)

	// One SBOM issue per BOM with components: every corpus file has some.
	for _, want := range []string{
		"Software bill of materials: 307 components @ defectdojo/defectdojo-django:1.13.1",
		"Software bill of materials: 204 components @ sbom",                                                                    // jake.xml
		"Software bill of materials: 6 components @ sbom",                                                                      // retirejs
		"Software bill of materials: 102 components @ ubuntu:latest",                                                           // trivy, issue_9277
		"Software bill of materials: 2 components @ ./configuration/.m2/repository/org/apache/logging/log4j/log4j-core/2.13.2", // nested
	} {
		if seen[want] == nil {
			t.Errorf("no SBOM issue %q", want)
		}
	}
	if len(seen) < 10 {
		t.Errorf("%d distinct SBOM issues, want one per BOM", len(seen))
	}

	// JSON 1.4 with VEX analysis and a reference alias.
	snyk := got["cyclonedx/issue_8022.json"].Issues[0]
	if snyk.RuleId != "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111" || snyk.Cve != "CVE-2018-7489" ||
		snyk.Target != "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4" ||
		snyk.Severity != v1.Severity_SEVERITY_CRITICAL || snyk.Cvss != 9.8 ||
		snyk.Confidence != v1.Confidence_CONFIDENCE_LOW || snyk.Annotations["cyclonedx.analysis.state"] != "not_affected" ||
		len(snyk.Cwe) != 2 || snyk.Cwe[0] != 184 {
		t.Errorf("issue_8022 = %v", snyk)
	}
	// One issue per affected component (10 vulnerabilities, 14 affects).
	trivy := got["cyclonedx/issue_9277.json"].Issues
	if trivy[0].RuleId != "CVE-2016-2781" || trivy[0].Target != "pkg:deb/ubuntu/coreutils@8.32-4.1ubuntu1?arch=amd64&distro=ubuntu-22.04" ||
		trivy[0].Severity != v1.Severity_SEVERITY_MEDIUM || trivy[0].Cvss != 8.6 || trivy[0].Cwe[0] != 20 ||
		trivy[0].Annotations["cyclonedx.tool"] != "trivy 0.48.1" {
		t.Errorf("issue_9277 first = %v", trivy[0])
	}
	// Nested components are found by bom-ref; grype's fixed versions.
	nested := got["cyclonedx/nested-component-log4j.json"].Issues
	byID := map[string]*v1.Issue{}
	for _, is := range nested {
		byID[is.RuleId] = is
	}
	if is := byID["GHSA-jfh8-c2jp-5v3q"]; is == nil || is.FixedVersion != "2.15.0" ||
		is.PackageUrl != "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2" || is.Severity != v1.Severity_SEVERITY_CRITICAL {
		t.Errorf("nested GHSA-jfh8 = %v", is)
	}
	if is := byID["CVE-2021-44228"]; is == nil || is.Cvss != 10 || is.Tags[0] != "in_triage" {
		t.Errorf("nested CVE-2021-44228 = %v", is)
	}
	// XML 1.2 with the vulnerability extension: the highest rating wins
	// whatever its order.
	for _, f := range []string{"cyclonedx/spec1.xml", "cyclonedx/spec1_lowfirst.xml"} {
		is := got[f].Issues[0]
		if is.RuleId != "CVE-2018-7489" || is.Severity != v1.Severity_SEVERITY_CRITICAL || is.Cvss != 9.8 ||
			is.PackageUrl != "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.9" ||
			len(is.Cwe) != 2 || is.Cwe[1] != 502 || !strings.Contains(is.Description, "Recommendation: Upgrade") {
			t.Errorf("%s = %v", f, is)
		}
	}
	// Extension vulnerabilities nested in their component (grype 0.7).
	g := got["cyclonedx/grype_dd_1_14_1.xml"].Issues[0]
	if g.RuleId != "GHSA-xgxc-v2qg-chmh" || g.Target != "Django@2.2.18" || g.Severity != v1.Severity_SEVERITY_LOW ||
		g.Title != "GHSA-xgxc-v2qg-chmh in Django 2.2.18" {
		t.Errorf("grype_dd first = %v", g)
	}
	// XML 1.4 native vulnerabilities with affects.
	m := got["cyclonedx/multiple_cwes_fabricated.xml"].Issues[0]
	if m.RuleId != "CVE-2021-99999" || m.Target != "pkg:maven/org.example/example@1.0.0" ||
		m.Severity != v1.Severity_SEVERITY_CRITICAL || len(m.Cwe) != 2 || m.Cwe[0] != 79 || m.Cwe[1] != 89 {
		t.Errorf("multiple_cwes = %v", m)
	}
}

func TestBOMInfo(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "defectdojo", "cyclonedx", "log4j.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := ParseBOM(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.SpecVersion != "1.4" || info.Components != 1 || len(info.Tools) != 1 ||
		info.Tools[0] != (Tool{Vendor: "anchore", Name: "grype", Version: "0.41.0"}) {
		t.Errorf("info = %+v", info)
	}
}

func TestSmallBOMs(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // "rule target severity"
	}{
		{name: "no components, no vulnerabilities", in: `{"bomFormat": "CycloneDX", "specVersion": "1.6"}`},
		{name: "1.5 tools object, vulnerability without affects", in: `{"bomFormat": "CycloneDX", "specVersion": "1.5",
			"metadata": {"tools": {"components": [{"name": "syft", "version": "1.57.0"}]}, "component": {"name": "app"}},
			"vulnerabilities": [{"id": "CVE-2024-1", "ratings": [{"severity": "unknown"}]}]}`,
			want: []string{"CVE-2024-1 app SEVERITY_MEDIUM"}},
		{name: "unknown ref and score only", in: `{"bomFormat": "CycloneDX", "components": [{"name": "a", "version": "1"}],
			"vulnerabilities": [{"id": "X-1", "ratings": [{"score": 7.1, "method": "CVSSv31"}], "affects": [{"ref": "pkg:npm/b@2"}]}]}`,
			want: []string{"X-1 pkg:npm/b@2 SEVERITY_HIGH", "SBOM sbom SEVERITY_INFO"}},
		{name: "xml entities and cdata", in: `<?xml version="1.0"?><!-- c --><bom xmlns="http://cyclonedx.org/schema/bom/1.4">
			<components><component type="library" bom-ref="r&amp;1"><name>a&lt;b&#x3e;</name><version><![CDATA[1.0]]></version></component></components>
			<vulnerabilities><vulnerability><id>V-1</id><ratings><rating><severity>high</severity></rating></ratings>
			<affects><target><ref>r&amp;1</ref></target></affects></vulnerability></vulnerabilities></bom>`,
			want: []string{"V-1 a<b>@1.0 SEVERITY_HIGH", "SBOM sbom SEVERITY_INFO"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			producertest.CheckIssues(t, got.Issues)
			var lines []string
			for _, is := range got.Issues {
				lines = append(lines, is.RuleId+" "+is.Target+" "+is.Severity.String())
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":           "",
		"truncated json":  `{"bomFormat": "CycloneDX", "components": [{"name": "a"`,
		"truncated xml":   `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component>`,
		"mismatched xml":  `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components></bom></components>`,
		"two roots":       `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"/><bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>`,
		"doctype":         `<!DOCTYPE bom [<!ENTITY x "y">]><bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>`,
		"bad entity":      `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><a>&nope;</a></bom>`,
		"spdx json":       `{"spdxVersion": "SPDX-2.3", "packages": []}`,
		"grype json":      `{"matches": [], "descriptor": {"name": "grype"}}`,
		"other xml":       `<project xmlns="http://maven.apache.org/POM/4.0.0"></project>`,
		"text after root": `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"></bom> trailing`,
		"not json or xml": `CycloneDX`,
		"json array":      `[]`,
	} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error, %d issues", name, len(got.Issues))
		}
	}
}

// TestSBOMMarshals: the SBOM issue goes through protojson whole.
func TestSBOMMarshals(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "defectdojo", "cyclonedx", "jake.xml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) != 1 {
		t.Fatalf("%d issues", len(got.Issues))
	}
	b, err := protojson.Marshal(got.Issues[0])
	if err != nil {
		t.Fatal(err)
	}
	var back v1.Issue
	if err := protojson.Unmarshal(b, &back); err != nil || back.GetCycloneDXSBOM() != string(data) {
		t.Errorf("round trip lost the BOM: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"cyclonedx"}, "testdata/*")
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component bom-ref='a'><name>x&#65;</name></component></components></bom>`))
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	for _, file := range []string{"grype.xml", "issue_9277.json"} {
		data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "cyclonedx", file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(file, func(b *testing.B) {
			producertest.BenchParse(b, Parse, data)
		})
	}
}
