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
