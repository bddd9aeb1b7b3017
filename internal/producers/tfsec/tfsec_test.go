package tfsec

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
)

func TestCorpus(t *testing.T) {
	// many_findings_legacy.json: 4 results, one of them "passed": true,
	// which is not a finding, so 3 agrees with DefectDojo.
	got := producertest.CheckCorpus(t, "tfsec", Parse, nil)
	r := got["tfsec/many_findings_legacy.json"]
	if r == nil {
		t.Fatal("many_findings_legacy.json not parsed")
	}
	first := r.Issues[0]
	if first.RuleId != "GCP009" || first.Target != "tfsec-test/cluster.tf:52-92" ||
		first.Severity != v1.Severity_SEVERITY_HIGH || first.Title != "Pod security policy enforcement not defined." ||
		len(first.References) != 1 || first.References[0] != "https://tfsec.dev/docs/google/GCP009/" ||
		!strings.Contains(first.Description, "Impact: Pods could be operating") {
		t.Errorf("first issue = %v", first)
	}
	last := r.Issues[2]
	if last.RuleId != "GEN003" || last.Target != "tfsec-test/identity.tf:226" || last.Severity != v1.Severity_SEVERITY_MEDIUM {
		t.Errorf("last issue = %v", last)
	}
}

func TestParseCurrent(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/v1.28.14.json", []string{
			"AVD-AWS-0107 /src/main.tf:11 SEVERITY_CRITICAL [aws-ec2-no-public-ingress-sgr] [aws ec2]",
			"AVD-AWS-0086 /src/main.tf:1-4 SEVERITY_HIGH [aws-s3-block-public-acls] [aws s3]",
			"AVD-AWS-0087 /src/main.tf:1-4 SEVERITY_HIGH [aws-s3-block-public-policy] [aws s3]",
			"AVD-AWS-0088 /src/main.tf:1-4 SEVERITY_HIGH [aws-s3-enable-bucket-encryption] [aws s3]",
			"AVD-AWS-0089 /src/main.tf:1-4 SEVERITY_MEDIUM [aws-s3-enable-bucket-logging] [aws s3]",
			"AVD-AWS-0090 /src/main.tf:1-4 SEVERITY_MEDIUM [aws-s3-enable-versioning] [aws s3]",
			"AVD-AWS-0132 /src/main.tf:1-4 SEVERITY_HIGH [aws-s3-encryption-customer-key] [aws s3]",
			"AVD-AWS-0091 /src/main.tf:1-4 SEVERITY_HIGH [aws-s3-ignore-public-acls] [aws s3]",
			"AVD-AWS-0092 /src/main.tf:3 SEVERITY_HIGH [aws-s3-no-public-access-with-acl] [aws s3]",
			"AVD-AWS-0093 /src/main.tf:1-4 SEVERITY_HIGH [aws-s3-no-public-buckets] [aws s3]",
			"AVD-AWS-0094 /src/main.tf:1-4 SEVERITY_LOW [aws-s3-specify-public-access-block] [aws s3]",
		}},
		// --include-passed --include-ignored: the passed check is left
		// out, the ignored one kept and tagged.
		{"testdata/statuses.json", []string{
			"AVD-AWS-0107 /src/main.tf:6 SEVERITY_CRITICAL [aws-ec2-no-public-ingress-sgr] [aws ec2 ignored]",
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
				lines = append(lines, fmt.Sprintf("%s %s %s %v %v", is.RuleId, is.Target, is.Severity, is.Aliases, is.Tags))
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			is := got.Issues[0]
			if is.Annotations["resource"] != "aws_security_group_rule.ssh" || len(is.References) != 2 ||
				is.Title != "An ingress security group rule allows traffic from /0." {
				t.Errorf("first issue = %v", is)
			}
		})
	}
}

// TestParseV0 reads the reports of the real tfsec v0.63.1 (testdata/README.md
// says how they were made): long ids as rule_id, legacy_rule_id, and
// "status" written as a word.
func TestParseV0(t *testing.T) {
	const file = "/tmp/oldtools/tfrun/src/main.tf"
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/v0.63.1.json", []string{
			"aws-s3-no-public-access-with-acl " + file + ":3 SEVERITY_CRITICAL [AWS001] [aws s3]",
			"aws-s3-specify-public-access-block " + file + ":1-4 SEVERITY_MEDIUM [AWS098] [aws s3]",
			"aws-vpc-no-public-ingress-sgr " + file + ":11 SEVERITY_CRITICAL [AWS006] [aws vpc]",
			"aws-s3-enable-bucket-encryption " + file + ":1-4 SEVERITY_HIGH [AWS017] [aws s3]",
			"aws-s3-enable-bucket-logging " + file + ":1-4 SEVERITY_MEDIUM [AWS002] [aws s3]",
			"aws-s3-enable-versioning " + file + ":1-4 SEVERITY_MEDIUM [AWS077] [aws s3]",
		}},
		// --include-passed: 18 results, 12 of them "status": "passed",
		// which are not findings.
		{"testdata/v0.63.1-include-passed.json", []string{
			"aws-s3-enable-bucket-encryption " + file + ":1-4 SEVERITY_HIGH [AWS017] [aws s3]",
			"aws-s3-enable-versioning " + file + ":1-4 SEVERITY_MEDIUM [AWS077] [aws s3]",
			"aws-s3-specify-public-access-block " + file + ":1-4 SEVERITY_MEDIUM [AWS098] [aws s3]",
			"aws-vpc-no-public-ingress-sgr " + file + ":11 SEVERITY_CRITICAL [AWS006] [aws vpc]",
			"aws-s3-no-public-access-with-acl " + file + ":3 SEVERITY_CRITICAL [AWS001] [aws s3]",
			"aws-s3-enable-bucket-logging " + file + ":1-4 SEVERITY_MEDIUM [AWS002] [aws s3]",
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
				lines = append(lines, fmt.Sprintf("%s %s %s %v %v", is.RuleId, is.Target, is.Severity, is.Aliases, is.Tags))
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, is := range got.Issues {
				if is.RuleId != "aws-vpc-no-public-ingress-sgr" {
					continue
				}
				if is.Title != "An ingress security group rule allows traffic from /0." ||
					is.Annotations["resource"] != "aws_security_group_rule.ssh" || len(is.References) == 0 ||
					!strings.HasPrefix(is.References[0], "https://aquasecurity.github.io/tfsec/latest/checks/aws/vpc/") ||
					!strings.Contains(is.Description, "Resolution: ") {
					t.Errorf("ingress issue = %v", is)
				}
			}
		})
	}
}

// TestStatusForms checks each way tfsec has written a result's outcome.
func TestStatusForms(t *testing.T) {
	for _, tc := range []struct {
		status string
		tags   []string // nil: not a finding
	}{
		{`0`, []string{}},
		{`1`, nil},
		{`2`, []string{"ignored"}},
		{`"failed"`, []string{}},
		{`"passed"`, nil},
		{`"ignored"`, []string{"ignored"}},
		{`"FAILED"`, []string{}},
		{`null`, []string{}},
		// Neither version writes these: kept as findings, the value named.
		{`7`, []string{"status:status 7"}},
		{`"skipped"`, []string{"status:skipped"}},
	} {
		in := `{"results": [{"rule_id": "AVD-AWS-0088", "severity": "HIGH", "status": ` + tc.status +
			`, "location": {"filename": "main.tf", "start_line": 1, "end_line": 4}}]}`
		got, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("status %s: %v", tc.status, err)
			continue
		}
		if tc.tags == nil {
			if len(got.Issues) != 0 {
				t.Errorf("status %s: a pass became a finding: %v", tc.status, got.Issues)
			}
			continue
		}
		if len(got.Issues) != 1 {
			t.Errorf("status %s: %d issues", tc.status, len(got.Issues))
			continue
		}
		if tags := append([]string{}, got.Issues[0].Tags...); !slices.Equal(tags, tc.tags) {
			t.Errorf("status %s: tags %v, want %v", tc.status, tags, tc.tags)
		}
	}
	for _, bad := range []string{`true`, `{}`, `[0]`, `1.5`} {
		in := `{"results": [{"rule_id": "AVD-AWS-0088", "status": ` + bad + `}]}`
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("status %s: no error", bad)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"truncated":  `{"results": [{"rule_id": "AVD-AWS-0107"`,
		"gosec":      `{"Issues": [], "Stats": {}}`,
		"array":      `[]`,
		"no rule":    `{"results": [{"severity": "HIGH"}]}`,
		"wrong type": `{"results": {"rule_id": "x"}}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"tfsec"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "tfsec", "many_findings_legacy.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

// TestRealTfsec runs the pinned tfsec on testdata/src and asserts the
// exact findings.
func TestRealTfsec(t *testing.T) {
	got := producertest.RunTool(t, Producer, "testdata/src")
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s:%d-%d %s", is.RuleId, filepath.Base(is.Location.Path),
			is.Location.StartLine, is.Location.EndLine, is.Severity))
	}
	sort.Strings(lines)
	want := []string{
		"AVD-AWS-0086 main.tf:1-4 SEVERITY_HIGH",       // no public access block: public ACLs
		"AVD-AWS-0087 main.tf:1-4 SEVERITY_HIGH",       // ... public policies
		"AVD-AWS-0088 main.tf:1-4 SEVERITY_HIGH",       // unencrypted bucket
		"AVD-AWS-0089 main.tf:1-4 SEVERITY_MEDIUM",     // no access logging
		"AVD-AWS-0090 main.tf:1-4 SEVERITY_MEDIUM",     // no versioning
		"AVD-AWS-0091 main.tf:1-4 SEVERITY_HIGH",       // public ACLs not ignored
		"AVD-AWS-0092 main.tf:3-3 SEVERITY_HIGH",       // acl = "public-read"
		"AVD-AWS-0093 main.tf:1-4 SEVERITY_HIGH",       // public buckets not restricted
		"AVD-AWS-0094 main.tf:1-4 SEVERITY_LOW",        // no public access block at all
		"AVD-AWS-0107 main.tf:11-11 SEVERITY_CRITICAL", // ingress from 0.0.0.0/0
		"AVD-AWS-0132 main.tf:1-4 SEVERITY_HIGH",       // no customer-managed key
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
