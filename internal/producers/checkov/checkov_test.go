package checkov

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "checkov", Parse, nil)

	one := got["checkov/checkov-report-1-vuln.json"].Issues[0]
	if one.RuleId != "CKV_AZURE_42" || one.Target != "file_path:1-16" || one.Severity != v1.Severity_SEVERITY_MEDIUM ||
		one.Title != "Ensure the key vault is recoverable" || one.ToolVersion != "1.0.467" ||
		one.Annotations["resource"] != "azurerm_key_vault.main" ||
		!slices.Equal(one.References, []string{"https://docs.bridgecrew.io/docs/ensure-the-key-vault-is-recoverable"}) {
		t.Errorf("1-vuln issue = %v", one)
	}
	// DefectDojo only asserts "more than 2" for this file; all 3 failed
	// checks are findings.
	if n := len(got["checkov/checkov-report-many-vuln.json"].Issues); n != 3 {
		t.Errorf("many-vuln: %d issues, want 3", n)
	}
	var sev []string
	for _, is := range got["checkov/checkov-report-severity.json"].Issues {
		sev = append(sev, fmt.Sprintf("%s %s %s %v", is.RuleId, is.Target, is.Severity, is.Aliases))
	}
	want := []string{
		"CKV_GCP_29 /gcs.tf:1-15 SEVERITY_MEDIUM [BC_GCP_GCS_2]",
		"CKV_GCP_62 /gcs.tf:1-15 SEVERITY_MEDIUM [BC_GCP_GCS_3]",
		"CKV_GCP_78 /gcs.tf:1-15 SEVERITY_LOW [BC_GCP_GENERAL_39]",
		"CKV_GCP_28 /gcs.tf:17-21 SEVERITY_HIGH [BC_GCP_PUBLIC_1]",
	}
	if !slices.Equal(sev, want) {
		t.Errorf("severity report:\n%s\nwant:\n%s", strings.Join(sev, "\n"), strings.Join(want, "\n"))
	}
	first := got["checkov/checkov-report-severity.json"].Issues[0]
	if !strings.HasPrefix(first.GetContextSegment(), "resource \"google_storage_bucket\" \"terragoat_website\" {\n") ||
		!slices.Contains(first.Tags, "Storage") || first.ToolVersion != "2.2.34" {
		t.Errorf("severity report, first issue = %v", first)
	}
	if v := got["checkov/checkov2-report-0-vuln.json"].ToolVersion; v != "2.1.269" {
		t.Errorf("summary-only report: version %q", v)
	}
}

// TestMultiFramework reads a hand-written list report in checkov 3's
// record shape: terraform, secrets and sca_package results and the bare
// summary of a framework that found nothing.
func TestMultiFramework(t *testing.T) {
	data, err := os.ReadFile("testdata/multi_framework.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 3 || got.ToolVersion != "3.3.30" {
		t.Fatalf("got %d issues, version %q", len(got.Issues), got.ToolVersion)
	}
	tf, secret, sca := got.Issues[0], got.Issues[1], got.Issues[2]
	if tf.RuleId != "CKV_AWS_19" || tf.Target != "/main.tf:1-3" || tf.Severity != v1.Severity_SEVERITY_MEDIUM ||
		tf.GetContextSegment() != "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"dracon-test-logs\"\n}" ||
		!slices.Equal(tf.Tags, []string{"terraform"}) {
		t.Errorf("terraform issue = %v", tf)
	}
	if secret.RuleId != "CKV_SECRET_2" || secret.Target != "/provider.tf:4-5" || secret.ContextSegment != nil {
		t.Errorf("secret issue = %v", secret)
	}
	b, err := protojson.Marshal(secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "AKIA") {
		t.Errorf("secret issue shows the key: %s", b)
	}
	if sca.RuleId != "CKV_CVE_2019_19844" || sca.Target != "django@1.2 in /requirements.txt" ||
		sca.Cve != "CVE-2019-19844" || sca.Cvss != 9.8 || sca.Severity != v1.Severity_SEVERITY_CRITICAL ||
		sca.PackageVersion != "1.2" || sca.FixedVersion != "1.11.27" ||
		!slices.Equal(sca.References, []string{"https://nvd.nist.gov/vuln/detail/CVE-2019-19844"}) {
		t.Errorf("sca issue = %v", sca)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"truncated":      `{"check_type": "terraform", "results": {"failed_checks": [`,
		"tfsec":          `{"results": []}`,
		"gosec":          `{"Issues": [], "Stats": {}}`,
		"empty list":     `[]`,
		"object":         `{}`,
		"lost checks":    `{"passed": 0, "failed": 3, "checkov_version": "3.3.30"}`,
		"no check_id":    `{"check_type": "terraform", "results": {"failed_checks": [{"check_name": "x"}]}}`,
		"bad code block": `{"check_type": "terraform", "results": {"failed_checks": [{"check_id": "CKV_1", "code_block": ["x"]}]}}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"checkov"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "checkov", "checkov-report-severity.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
