package snyk

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "snyk", Parse, map[string]producertest.Differ{
		"snyk/all_projects_issue4277.json": {Count: 50, Reason: "snyk lists a vulnerability once per dependency path " +
			"(82 entries); we keep one issue per vulnerability and package version in each project (50), with the paths annotated"},
		"snyk/snykcontainer_issue_9270.json": {Count: 30, Reason: "25 OS-package entries are 18 vulnerabilities once the " +
			"per-path repeats are merged, plus 12 in the image's npm application (\"applications\"), which DefectDojo does not read"},
	})
	for file, want := range map[string]string{
		"snyk/single_project_one_vuln.json": "SNYK-JAVA-ORGAPACHESANTUARIO-460281|org.apache.santuario:xmlsec@2.1.1 in pom.xml|" +
			"pkg:maven/org.apache.santuario/xmlsec@2.1.1|2.1.4|CVE-2019-12400|611|SEVERITY_MEDIUM|6.5",
	} {
		is := got[file].Issues[0]
		cwe := ""
		if len(is.Cwe) > 0 {
			cwe = itoa(is.Cwe[0])
		}
		line := strings.Join([]string{is.RuleId, is.Target, is.PackageUrl, is.FixedVersion, is.Cve, cwe, is.Severity.String(), ftoa(is.Cvss)}, "|")
		if line != want {
			t.Errorf("%s: got %s\nwant %s", file, line, want)
		}
	}
	one := got["snyk/single_project_one_vuln.json"].Issues[0]
	if one.Title != "XML External Entity (XXE) Injection in org.apache.santuario:xmlsec@2.1.1" || one.Location.GetPath() != "pom.xml" ||
		one.Annotations["upgrade"] != "org.apache.santuario:xmlsec@2.1.4" || one.Annotations["project"] != "com.test:myframework" ||
		one.References[0] != "https://security.snyk.io/vuln/SNYK-JAVA-ORGAPACHESANTUARIO-460281" || one.ToolName != "snyk" {
		t.Errorf("one vuln = %v", one)
	}

	all := got["snyk/all_projects_issue4277.json"].Issues
	var ajv, license int
	for _, is := range all {
		if is.RuleId == "SNYK-JS-AJV-584908" {
			ajv++
			if is.Target != "ajv@6.6.2 in company.Ux.project/package-lock.json" || is.PackageUrl != "pkg:npm/ajv@6.6.2" ||
				is.FixedVersion != "6.12.3" || is.Severity != v1.Severity_SEVERITY_HIGH || is.Cvss != 8.1 {
				t.Errorf("ajv = %v", is)
			}
		}
		for _, tag := range is.Tags {
			if tag == "license" {
				license++
			}
		}
	}
	if ajv != 1 || license == 0 {
		t.Errorf("ajv issues %d, license issues %d", ajv, license)
	}

	ctr := got["snyk/snykcontainer_issue_9270.json"].Issues
	gcc := ctr[0]
	if gcc.RuleId != "SNYK-DEBIAN11-GCC10-5901313" || gcc.Cve != "CVE-2023-4039" ||
		gcc.Target != "pkg:deb/debian/libgcc-s1@10.2.1-6?distro=debian-11" || gcc.Severity != v1.Severity_SEVERITY_LOW ||
		gcc.Location != nil {
		t.Errorf("container OS issue = %v", gcc)
	}
	app := ctr[len(ctr)-1]
	if !strings.HasSuffix(app.Target, " in /juice-shop/package.json") || !strings.HasPrefix(app.PackageUrl, "pkg:npm/") {
		t.Errorf("container app issue = %v", app)
	}

	none := got["snyk/single_project_None_cvss.json"].Issues[0]
	if none.Cvss != 0 || none.Severity != v1.Severity_SEVERITY_LOW || strings.Join(none.Aliases, ",") != "SUSE-SU-2022:0141-1" ||
		none.PackageUrl != "pkg:rpm/suse/permissions@20181225-23.6.1?distro=sles-15.3" {
		t.Errorf("None cvss = %v", none)
	}
	// Snyk Code's SARIF is read by the SARIF reader, under snyk's name.
	code := got["snyk/snykcode_issue_9270.json"].Issues[0]
	if code.ToolName != "snyk" || code.Location.GetPath() == "" {
		t.Errorf("snyk code issue = %v", code)
	}
}

func TestSuppressedAndErrors(t *testing.T) {
	in := `{"ok": false, "vulnerabilities": [], "packageManager": "pip", "displayTargetFile": "requirements.txt",
	  "filtered": {"ignore": [{"id": "SNYK-PYTHON-DJANGO-1", "title": "SQL Injection", "severity": "high", "name": "Django",
	    "version": "3.2.1", "fixedIn": ["2.2.28", "3.2.13"], "identifiers": {"CVE": ["CVE-2022-28346"], "CWE": ["CWE-89"], "GHSA": ["GHSA-2gwj-7jmv-h26r"]}}],
	    "patch": []}}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	is := got.Issues[0]
	if len(got.Issues) != 1 || is.Annotations["suppressed"] != "true" || is.Annotations["suppression_reason"] != "ignored" ||
		is.PackageUrl != "pkg:pypi/django@3.2.1" || is.FixedVersion != "3.2.13" || is.Cve != "CVE-2022-28346" ||
		strings.Join(is.Aliases, ",") != "GHSA-2gwj-7jmv-h26r" || is.Target != "Django@3.2.1 in requirements.txt" {
		t.Errorf("ignored issue = %v", got.Issues)
	}
	_, err = Parse([]byte(`{"ok": false, "error": "Could not detect supported target files in /src", "path": "/src"}`))
	if err == nil || !strings.Contains(err.Error(), "Could not detect supported target files") {
		t.Errorf("error report: %v", err)
	}
}

func TestPurls(t *testing.T) {
	for _, tc := range []struct{ pm, name, version, want string }{
		{"npm", "@angular/core", "8.0.0", "pkg:npm/%40angular/core@8.0.0"},
		{"maven", "org.apache.santuario:xmlsec", "2.1.1", "pkg:maven/org.apache.santuario/xmlsec@2.1.1"},
		{"gomodules", "golang.org/x/net/http2", "v0.1.0", "pkg:golang/golang.org/x/net/http2@v0.1.0"},
		{"nuget", "Microsoft.AspNetCore", "2.0.0", "pkg:nuget/Microsoft.AspNetCore@2.0.0"},
		{"rubygems", "rack", "2.0.1", "pkg:gem/rack@2.0.1"},
		{"composer", "symfony/http-kernel", "4.0.0", "pkg:composer/symfony/http-kernel@4.0.0"},
		{"alpine:3.18", "openssl/libcrypto3", "3.1.0-r0", "pkg:apk/alpine/libcrypto3@3.1.0-r0?distro=alpine-3.18"},
		{"rhel:8", "openssl", "1.1.1", "pkg:rpm/redhat/openssl@1.1.1?distro=rhel-8"},
		{"ubuntu:22.04", "zlib/zlib1g", "1:1.2.11", "pkg:deb/ubuntu/zlib1g@1%3A1.2.11?distro=ubuntu-22.04"},
		{"unknown", "thing", "1", "pkg:generic/thing@1"},
	} {
		if got := purlFor(tc.pm, tc.name, tc.version); got != tc.want {
			t.Errorf("purlFor(%s, %s) = %s, want %s", tc.pm, tc.name, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"truncated":    `{"vulnerabilities": [{"id": "SNYK-1"`,
		"no vulns":     `{"ok": true, "packageManager": "npm"}`,
		"array of non": `[{"ok": true}]`,
		"gosec":        `{"Issues": []}`,
		"bad nsp":      `{"vulnerabilities": [{"id": "x", "identifiers": {"NSP": [true]}}]}`,
		"bad sarif":    `{"version": "2.1.0", "runs": [{"results": [`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func itoa(n int32) string   { return strconv.Itoa(int(n)) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"snyk"})
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "snyk", "all_projects_issue4277.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
