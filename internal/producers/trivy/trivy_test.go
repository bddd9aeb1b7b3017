package trivy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/sarif"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCorpus(t *testing.T) {
	// Every count agrees with DefectDojo's: all vulnerability statuses
	// (not_affected, will_not_fix, ...) are kept and tagged, licences are
	// findings, and a cluster report gives one issue per resource and
	// check.
	got := producertest.CheckCorpus(t, "trivy", Parse, nil)
	for _, tc := range []struct {
		file string
		idx  int
		want string
	}{
		// SchemaVersion 2, image scan: a Debian package; the CVSS is NVD's
		// because the severity source (debian) gives none.
		{"trivy/all_statuses.json", 1, "CVE-2019-18276 | bash@5.0-4 in noppaknopsta/example-app:main-159 (debian 10.13) | " +
			"SEVERITY_LOW | cvss 7.8 | cve CVE-2019-18276 | cwe [273] | purl  | fixed  | [os-pkgs debian status:not_affected]"},
		// The CVSS of the severity source (ghsa) wins over NVD's 9.8; the
		// purl comes from the 0.3x "Ref" key.
		{"trivy/cvss_severity_source.json", 1, "CVE-2023-37920 | certifi@2022.5.18.1 in requirements.txt | " +
			"SEVERITY_HIGH | cvss 7.5 | cve CVE-2023-37920 | cwe [345] | purl pkg:pypi/certifi@2022.5.18.1 | fixed 2023.7.22 | [lang-pkgs pip]"},
		// ghsa gives only a CVSS v4 score, which is taken.
		{"trivy/cvssv4_severity_source.json", 0, "CVE-2025-66614 | org.apache.tomcat:tomcat-catalina@9.0.109 in Java | " +
			"SEVERITY_MEDIUM | cvss 6.3 | cve CVE-2025-66614 | cwe [20] | purl pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.109 | " +
			"fixed 11.0.14, 10.1.49, 9.0.112 | [lang-pkgs jar status:fixed]"},
		// Cluster report: misconfigurations named by namespace/Kind/name.
		{"trivy/issue_10991.json", 11, "AVD-KSV-0001 | default/Role/caas-scanners-role:124-136 | " +
			"SEVERITY_MEDIUM | cvss 0 | cve  | cwe [] | purl  | fixed  | [Kubernetes Security Check Kubernetes general]"},
		// Legacy list format; the purl is built from the npm result type.
		{"trivy/legacy_trivy_mix.json", 1, "CVE-2018-16487 | lodash@4.17.4 in node-app/package-lock.json | " +
			"SEVERITY_HIGH | cvss 0 | cve CVE-2018-16487 | cwe [190] | purl pkg:npm/lodash@4.17.4 | fixed >=4.17.11 | [npm]"},
		{"trivy/license_scheme.json", 0, "license:GPL-2.0 | alpine-baselayout in OS Packages | " +
			"SEVERITY_HIGH | cvss 0 | cve  | cwe [] | purl  | fixed  | [license restricted]"},
		{"trivy/misconfigurations_and_secrets.json", 2, "DS002 | Dockerfile | " +
			"SEVERITY_HIGH | cvss 0 | cve  | cwe [] | purl  | fixed  | [Dockerfile Security Check Dockerfile general]"},
		{"trivy/misconfigurations_and_secrets.json", 4, "github-pat | secret.txt:1 | " +
			"SEVERITY_CRITICAL | cvss 0 | cve  | cwe [798] | purl  | fixed  | [secret GitHub]"},
		// Before 0.34 a cluster report grouped resources by scanner.
		{"trivy/kubernetes_fabricated_subset.json", 3, "CVE-2020-27350 | apt@1.8.2.1 in docker.io/redis:6.0.5 (debian 10.4) | " +
			"SEVERITY_MEDIUM | cvss 5.7 | cve CVE-2020-27350 | cwe [190] | purl  | fixed 1.8.2.2 | [os-pkgs debian]"},
	} {
		r := got[tc.file]
		if r == nil || tc.idx >= len(r.Issues) {
			t.Errorf("%s: no issue %d", tc.file, tc.idx)
			continue
		}
		if s := line(r.Issues[tc.idx]); s != tc.want {
			t.Errorf("%s[%d]:\n got %s\nwant %s", tc.file, tc.idx, s, tc.want)
		}
	}

	if v := got["trivy/cvssv4_severity_source.json"]; v.ToolVersion != "0.69.1" || v.Issues[0].ToolVersion != "0.69.1" ||
		!slices.Equal(v.Issues[0].Aliases, []string{"GHSA-fpj8-gq4v-p354"}) {
		t.Errorf("cvssv4: version %q, aliases %v", v.ToolVersion, v.Issues[0].Aliases)
	}
	k := got["trivy/issue_10991.json"].Issues[11]
	if !strings.HasPrefix(k.GetContextSegment(), "                - image: kennethreitz/httpbin\n") ||
		!slices.Equal(k.Aliases, []string{"KSV001"}) || k.Annotations["k8s_resource"] != "default/Role/caas-scanners-role" ||
		!strings.HasPrefix(k.Description, "Container 'httpbin' of Deployment 'httpbin' should set") {
		t.Errorf("cluster misconfiguration = %v", k)
	}
	kv := got["trivy/kubernetes_fabricated_subset.json"].Issues[3]
	if kv.Annotations["k8s_cluster"] != "arn:aws:eks:us-east-1:576036489467:cluster/monitoring-test-cluster" ||
		kv.Annotations["k8s_resource"] != "default/Deployment/redis-leader" {
		t.Errorf("cluster vulnerability annotations = %v", kv.Annotations)
	}
	// A hand-edited legacy entry names only its package: kept, not dropped.
	if e := got["trivy/legacy_trivy_mix.json"].Issues[0]; e.Title != "Vulnerability in simplito/elliptic-php" ||
		e.Severity != v1.Severity_SEVERITY_MEDIUM {
		t.Errorf("id-less vulnerability = %v", e)
	}
	lic := got["trivy/license_scheme.json"].Issues[17]
	if lic.Target != "/etc/ssl/misc/CA.pl" || lic.Title != "License OpenSSL (notice) in /etc/ssl/misc/CA.pl" ||
		lic.Confidence != v1.Confidence_CONFIDENCE_HIGH || lic.Severity != v1.Severity_SEVERITY_LOW {
		t.Errorf("loose file licence = %v", lic)
	}
}

func line(is *v1.Issue) string {
	return fmt.Sprintf("%s | %s | %s | cvss %v | cve %s | cwe %v | purl %s | fixed %s | %v",
		is.RuleId, is.Target, is.Severity, is.Cvss, is.Cve, is.Cwe, is.PackageUrl, is.FixedVersion, is.Tags)
}

// TestSecrets checks that a secret never reaches an issue: trivy masks
// the secret in its match line; a line it did not mask is withheld.
func TestSecrets(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "defectdojo", "trivy", "misconfigurations_and_secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s := got.Issues[3]
	if s.RuleId != "github-pat" || s.Target != "Dockerfile:24" || s.GetContextSegment() != "ENV GITHUB_PAT=*****" ||
		s.Fingerprint != producers.SecretFingerprint("github-pat\x00Dockerfile\x00ENV GITHUB_PAT=*****") {
		t.Errorf("masked secret = %v", s)
	}

	const raw = "ghp_DraconTestToken0123456789abcdefABCDEF"
	unmasked := `{"SchemaVersion": 2, "Results": [{"Target": "app/.env", "Class": "secret", "Secrets": [
		{"RuleID": "github-pat", "Category": "GitHub", "Severity": "CRITICAL", "Title": "GitHub Personal Access Token",
		 "StartLine": 3, "EndLine": 3, "Match": "GITHUB_TOKEN=` + raw + `",
		 "Code": {"Lines": [{"Number": 3, "Content": "GITHUB_TOKEN=` + raw + `", "IsCause": true}]}}]}]}`
	r, err := Parse([]byte(unmasked))
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range append(r.Issues, got.Issues...) {
		b, err := protojson.Marshal(is)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), raw) || strings.Contains(string(b), "ghp_") {
			t.Errorf("a secret reached the issue: %s", b)
		}
	}
	is := r.Issues[0]
	if is.ContextSegment != nil || !strings.Contains(is.Description, "withheld") || !strings.HasPrefix(is.Fingerprint, "sha256:") ||
		is.Target != "app/.env:3" {
		t.Errorf("unmasked secret = %v", is)
	}
}

// TestSARIF: a trivy SARIF report is read by the SARIF importer (the
// registry sends every SARIF file there), not by Parse.
func TestSARIF(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "sarif-wild", "trivy_trivy-sarif-demo_trivy-results.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	if !sarif.Sniff(data) {
		t.Fatal("the SARIF importer does not recognise trivy's SARIF")
	}
	got, err := sarif.ParseAs(name, data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 4 || got.Issues[0].ToolName != name {
		t.Errorf("got %d issues: %v", len(got.Issues), got.Issues)
	}
	if _, err := Parse(data); err == nil {
		t.Error("Parse took a SARIF file for trivy JSON")
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"truncated":      `{"SchemaVersion": 2, "Results": [{"Target": "a"`,
		"object":         `{}`,
		"gosec":          `{"Issues": [], "Stats": {}}`,
		"tfsec":          `{"results": []}`,
		"checkov list":   `[{"check_type": "terraform", "results": {}}]`,
		"results type":   `{"SchemaVersion": 2, "Results": {"Target": "a"}}`,
		"no vuln id":     `{"SchemaVersion": 2, "Results": [{"Target": "a", "Vulnerabilities": [{"Severity": "HIGH"}]}]}`,
		"no misconf id":  `{"SchemaVersion": 2, "Results": [{"Target": "a", "Misconfigurations": [{"Title": "x"}]}]}`,
		"no secret rule": `{"SchemaVersion": 2, "Results": [{"Target": "a", "Secrets": [{"Title": "x"}]}]}`,
		"no licence":     `{"SchemaVersion": 2, "Results": [{"Target": "a", "Licenses": [{"PkgName": "x"}]}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseClean(t *testing.T) {
	// A clean scan: trivy leaves "Results" out; old versions wrote null.
	for _, in := range []string{`{"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem"}`, "null\n", "[]"} {
		got, err := Parse([]byte(in))
		if err != nil || len(got.Issues) != 0 {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
}

func TestPassedChecksSkipped(t *testing.T) {
	in := `{"SchemaVersion": 2, "Results": [{"Target": "main.tf", "Class": "config", "Misconfigurations": [
		{"ID": "AVD-AWS-0088", "Title": "a", "Severity": "HIGH", "Status": "PASS"},
		{"ID": "AVD-AWS-0089", "Title": "b", "Severity": "MEDIUM", "Status": "EXCEPTION"},
		{"ID": "AVD-AWS-0090", "Title": "c", "Severity": "UNKNOWN", "Status": "FAIL"}]}]}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s %v", is.RuleId, is.Severity, is.Tags))
	}
	want := []string{"AVD-AWS-0089 SEVERITY_MEDIUM [exception]", "AVD-AWS-0090 SEVERITY_MEDIUM []"}
	if !slices.Equal(lines, want) {
		t.Errorf("got %v, want %v", lines, want)
	}
}

func TestPURL(t *testing.T) {
	for _, tc := range []struct{ typ, pkg, version, want string }{
		{"pip", "Flask_Login", "0.6.2", "pkg:pypi/flask-login@0.6.2"},
		{"npm", "@babel/core", "7.0.0", "pkg:npm/%40babel/core@7.0.0"},
		{"gomod", "golang.org/x/net", "v0.1.0", "pkg:golang/golang.org/x/net@v0.1.0"},
		{"jar", "org.apache.logging.log4j:log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		{"debian", "apt", "1.8.2", ""}, // needs distro qualifiers trivy does not give
		{"npm", "lodash", "", ""},
	} {
		if got := purl(tc.typ, tc.pkg, tc.version); got != tc.want {
			t.Errorf("purl(%s, %s, %s) = %q, want %q", tc.typ, tc.pkg, tc.version, got, tc.want)
		}
	}
}

// TestRealReport reads the report of the real run kept in testdata: the
// v0.74.0 shape (IDs such as "DS-0002" and no AVDID), a secret with its
// masked code lines.
func TestRealReport(t *testing.T) {
	data, err := os.ReadFile("testdata/v0.74.0.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != len(realRunWant) || got.ToolVersion != "dev" {
		t.Fatalf("%d issues, version %q", len(got.Issues), got.ToolVersion)
	}
	var root, secret, bucket *v1.Issue
	for _, is := range got.Issues {
		switch is.RuleId {
		case "DS-0002":
			root = is
		case "github-pat":
			secret = is
		case "AWS-0086":
			bucket = is
		}
	}
	if root.Target != "Dockerfile" || !slices.Equal(root.Aliases, []string{"AVD-DS-0002"}) || root.Title != "Image user should not be 'root'" ||
		!strings.HasPrefix(root.Description, "Specify at least 1 USER command in Dockerfile with non-root user as argument") {
		t.Errorf("root = %v", root)
	}
	if bucket.Target != "main.tf:1-3" || bucket.Annotations["resource"] != "aws_s3_bucket.logs" ||
		bucket.GetContextSegment() != "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"dracon-test-logs\"\n}" {
		t.Errorf("bucket = %v (context %q)", bucket, bucket.GetContextSegment())
	}
	masked := "GITHUB_TOKEN=" + strings.Repeat("*", 40)
	if secret.Target != "deploy.env:2" || secret.GetContextSegment() != masked ||
		secret.Fingerprint != producers.SecretFingerprint("github-pat\x00deploy.env\x00"+masked) {
		t.Errorf("secret = %v", secret)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"trivy"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "trivy", "issue_10991.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

// realRunToken is a GitHub-token-shaped fake, assembled here so that the
// repository itself holds no string a secret scanner would flag.
var realRunToken = "gh" + "p_" + strings.Repeat("Dr4c0nT3st", 3) + "abcdef"

// realRunWant is what trivy v0.74.0 finds in testdata/src plus the token
// file, as "rule path:line severity".
var realRunWant = []string{
	"AWS-0086 main.tf:1 SEVERITY_HIGH",          // no public access block: public ACLs
	"AWS-0087 main.tf:1 SEVERITY_HIGH",          // ... public policies
	"AWS-0089 main.tf:1 SEVERITY_LOW",           // no access logging
	"AWS-0090 main.tf:1 SEVERITY_MEDIUM",        // no versioning
	"AWS-0091 main.tf:1 SEVERITY_HIGH",          // public ACLs not ignored
	"AWS-0093 main.tf:1 SEVERITY_HIGH",          // public buckets not restricted
	"AWS-0094 main.tf:1 SEVERITY_LOW",           // no public access block at all
	"AWS-0132 main.tf:1 SEVERITY_HIGH",          // not encrypted with a customer-managed key
	"DS-0002 Dockerfile:0 SEVERITY_HIGH",        // runs as root (no USER; trivy gives no line)
	"DS-0026 Dockerfile:0 SEVERITY_LOW",         // no HEALTHCHECK
	"github-pat deploy.env:2 SEVERITY_CRITICAL", // the fake token
}

// TestRealTrivy runs the pinned trivy on a copy of testdata/src (a
// Dockerfile that runs as root and a Terraform S3 bucket without
// encryption) with a file holding a fake token added, asserts the exact
// findings, and checks that the token never reaches an issue.
func TestRealTrivy(t *testing.T) {
	producertest.RequireTool(t, Producer)
	src := t.TempDir()
	for _, f := range []string{"Dockerfile", "main.tf"} {
		b, err := os.ReadFile(filepath.Join("testdata", "src", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := "APP_ENV=test\nGITHUB_TOKEN=" + realRunToken + "\n"
	if err := os.WriteFile(filepath.Join(src, "deploy.env"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	got := producertest.RunTool(t, Producer, src)
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s:%d %s", is.RuleId, is.Location.GetPath(), is.Location.GetStartLine(), is.Severity))
		b, err := protojson.Marshal(is)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), realRunToken) {
			t.Errorf("the token reached the issue: %s", b)
		}
	}
	sort.Strings(lines)
	if strings.Join(lines, "\n") != strings.Join(realRunWant, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(realRunWant, "\n"))
	}
}
