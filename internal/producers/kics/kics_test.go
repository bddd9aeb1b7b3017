package kics

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "kics", Parse, nil)
	if r := got["kics/no_findings.json"]; r == nil || len(r.Issues) != 0 {
		t.Errorf("no_findings.json: %v", r)
	}
}

// want is the real run's findings on testdata/src, as "query name,
// file:line, severity": what v2.2.0.json holds and TestRealKics asserts.
var want = []string{
	"Healthcheck Instruction Missing, Dockerfile:1, SEVERITY_LOW",
	"IAM Access Analyzer Not Enabled, main.tf:1, SEVERITY_LOW",
	"Missing User Instruction, Dockerfile:1, SEVERITY_HIGH", // runs as root
	"Resource Not Using Tags, main.tf:1, SEVERITY_INFO",
	"S3 Bucket ACL Allows Read Or Write to All Users, main.tf:3, SEVERITY_CRITICAL",
	"S3 Bucket Logging Disabled, main.tf:1, SEVERITY_MEDIUM",
	"S3 Bucket Without Versioning, main.tf:1, SEVERITY_MEDIUM",
	"Security Group With Unrestricted Access To SSH, main.tf:6, SEVERITY_MEDIUM",
	"Sensitive Port Is Exposed To Entire Network, main.tf:6, SEVERITY_HIGH",
	"Unpinned Package Version in Apk Add, Dockerfile:2, SEVERITY_MEDIUM",
	"Unrestricted Security Group Ingress, main.tf:11, SEVERITY_HIGH",
}

func summary(issues []*v1.Issue) []string {
	var lines []string
	for _, is := range issues {
		lines = append(lines, fmt.Sprintf("%s, %s:%d, %s", is.Title, filepath.Base(is.Location.Path), is.Location.StartLine, is.Severity))
	}
	sort.Strings(lines)
	return lines
}

func TestParseReport(t *testing.T) {
	data, err := os.ReadFile("testdata/v2.2.0.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if lines := summary(got.Issues); !slices.Equal(lines, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	var root *v1.Issue
	for _, is := range got.Issues {
		if is.Title == "Missing User Instruction" {
			root = is
		}
	}
	if root.RuleId != "fd54f200-402c-4333-a5a4-36ef6709af2f" || root.Target != "Dockerfile:1" ||
		!slices.Equal(root.Cwe, []int32{250}) || !slices.Equal(root.Tags, []string{"Dockerfile", "Build Process", "COMMON"}) ||
		root.Annotations["similarity_id"] != "b28a7afdf6326804158d4edd945e0b4fe46474596a2dd3de5c3d89032a8b66f3" ||
		!strings.Contains(root.Description, "Actual: The 'Dockerfile' does not contain any 'USER' instruction") ||
		!slices.Equal(root.References, []string{"https://docs.docker.com/engine/reference/builder/#user"}) ||
		got.ToolVersion != "development" {
		t.Errorf("Missing User Instruction = %v (version %q)", root, got.ToolVersion)
	}
}

// TestSecrets reads a real report of a scan with secret detection on:
// KICS names the rule and the line, never the secret.
func TestSecrets(t *testing.T) {
	data, err := os.ReadFile("testdata/secrets_enabled.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	var secrets []string
	for _, is := range got.Issues {
		if slices.Contains(is.Tags, "Secret Management") {
			secrets = append(secrets, fmt.Sprintf("%s %s %v", is.Title, is.Target, is.Cwe))
		}
	}
	wantSecrets := []string{
		"Passwords And Secrets - AWS Access Key provider.tf:3 [798]",
		"Passwords And Secrets - Generic Access Key provider.tf:3 [798]",
		"Passwords And Secrets - Generic Password provider.tf:9 [798]",
		"Passwords And Secrets - Generic Secret provider.tf:4 [798]",
	}
	sort.Strings(secrets)
	if !slices.Equal(secrets, wantSecrets) || len(got.Issues) != 11 {
		t.Errorf("%d issues; secrets:\n%s", len(got.Issues), strings.Join(secrets, "\n"))
	}

	// A report that does carry the match in "value" must not pass it on.
	const secret = "AKIAZ4DRACONTESTKEY7"
	withValue := `{"kics_version": "v2.2.0", "total_counter": 1, "queries": [{
		"query_name": "Passwords And Secrets - AWS Access Key", "query_id": "76c0bcde-903d-456e-ac13-e58c34987852",
		"severity": "HIGH", "category": "Secret Management", "cwe": "798",
		"files": [{"file_name": "provider.tf", "line": 3, "search_key": "access_key=` + secret + `",
			"actual_value": "'` + secret + `' appears in source", "value": "` + secret + `"}]}]}`
	r, err := Parse([]byte(withValue))
	if err != nil {
		t.Fatal(err)
	}
	is := r.Issues[0]
	b, err := protojson.Marshal(is)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("the secret reached the issue: %s", b)
	}
	if !strings.Contains(is.Description, "AKIA****REDACTED****") || !strings.HasPrefix(is.Fingerprint, "sha256:") {
		t.Errorf("issue = %v", is)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"truncated": `{"queries": [{"query_name": "x"`,
		"tfsec":     `{"results": []}`,
		"checkov":   `{"check_type": "terraform", "results": {"failed_checks": []}}`,
		"array":     `[]`,
		"no totals": `{"queries": []}`,
		"no query":  `{"total_counter": 1, "queries": [{"files": [{"file_name": "a.tf", "line": 1}]}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestArgs(t *testing.T) {
	a := Producer.Tool.Args("/repo", "/run/kics.report")
	s := strings.Join(a, " ")
	for _, part := range []string{"scan -p /repo", "-o /run", "--output-name kics.report", "--type Terraform,Dockerfile",
		"-q " + filepath.Join(AssetsDir(), "queries"), "--libraries-path " + filepath.Join(AssetsDir(), "libraries")} {
		if !strings.Contains(s, part) {
			t.Errorf("args %q lack %q", s, part)
		}
	}
	if filepath.Dir(AssetsDir()) != filepath.Dir(Producer.Tool.CachePath()) {
		t.Errorf("assets %s are not beside the binary %s", AssetsDir(), Producer.Tool.CachePath())
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"kics"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	// The only corpus file has no findings (315 bytes); the real run's
	// report is the larger, more telling input.
	data, err := os.ReadFile("testdata/secrets_enabled.json")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

// TestRealKics runs the pinned KICS on testdata/src (a Terraform file
// and a Dockerfile) and asserts the exact findings. It takes about a
// minute: KICS loads its whole query library.
func TestRealKics(t *testing.T) {
	if _, err := os.Stat(AssetsDir()); err != nil && producertest.RequireTool(t, Producer) != "" {
		t.Fatalf("kics is installed but its query library is missing: %v", err)
	}
	got := producertest.RunTool(t, Producer, "testdata/src")
	if lines := summary(got.Issues); !slices.Equal(lines, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
