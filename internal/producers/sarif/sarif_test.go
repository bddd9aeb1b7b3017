package sarif

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "sarif", Parse, nil)
	if n := len(got["sarif/no_runs.sarif"].Issues); n != 0 {
		t.Errorf("no_runs: %d issues", n)
	}
	// suppression_test.sarif: suppressed results are kept and marked.
	marked := 0
	for _, is := range got["sarif/suppression_test.sarif"].Issues {
		if is.Annotations["sarif.suppression"] != "" {
			marked++
		}
	}
	if marked == 0 {
		t.Error("suppression_test.sarif: no suppressed result was marked")
	}
	// flawfinder.sarif: one result has no level (as semgrep 0.44's all had);
	// its severity is its rule's defaultConfiguration level ("error").
	found := false
	for _, is := range got["sarif/flawfinder.sarif"].Issues {
		if is.RuleId == "FF1048" && is.Target == "src/tree/param.cc:29" {
			found = true
			if is.Severity != v1.Severity_SEVERITY_HIGH {
				t.Errorf("FF1048 with no level: severity %v, want HIGH from the rule's default", is.Severity)
			}
		}
	}
	if !found {
		t.Error("flawfinder.sarif: the level-less FF1048 result at src/tree/param.cc:29 is missing")
	}
}

// TestWild reads SARIF that real tools committed to public repositories;
// result counts are from sarif-wild/README.md.
func TestWild(t *testing.T) {
	dir := filepath.Join(producertest.CorpusDir(t), "sarif-wild")
	for _, tc := range []struct {
		file   string
		issues int
		check  func(t *testing.T, issues []*v1.Issue)
	}{
		{file: "codeql_skills-introduction-to-codeql_results.sarif", issues: 4, check: func(t *testing.T, is []*v1.Issue) {
			if is[0].RuleId != "py/polluting-import" || is[0].Target != "server/__main__.py:6" || is[0].ToolName != "CodeQL" {
				t.Errorf("first = %v", is[0])
			}
		}},
		{file: "gosec_aws-ssm_gosec.sarif", issues: 6},
		{file: "trivy_trivy-sarif-demo_trivy-results.sarif", issues: 4},
		{file: "grype_trivy-sarif-demo_results.sarif", issues: 429, check: func(t *testing.T, is []*v1.Issue) {
			for _, i := range is {
				if i.Annotations["sarif.suppression"] != "external" {
					t.Fatalf("grype result not marked suppressed: %v", i.Annotations)
				}
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			producertest.CheckIssues(t, got.Issues)
			if len(got.Issues) != tc.issues {
				t.Fatalf("%d issues, want %d", len(got.Issues), tc.issues)
			}
			if tc.check != nil {
				tc.check(t, got.Issues)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		issues   int
		wantErr  bool
	}{
		{name: "zero bytes", in: "", wantErr: true},
		{name: "truncated", in: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"rul`, wantErr: true},
		{name: "not sarif", in: `{"Issues": []}`, wantErr: true},
		{name: "sarif 1.0", in: `{"version":"1.0.0","runs":[]}`, wantErr: true},
		{name: "no results", in: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}}}]}`, issues: 0},
		{name: "pass results", in: `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"kind":"pass","message":{"text":"ok"}}]}]}`, issues: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error, %d issues", len(got.Issues))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Issues) != tc.issues {
				t.Fatalf("%d issues, want %d", len(got.Issues), tc.issues)
			}
		})
	}
}

func TestTenRuns(t *testing.T) {
	data, err := os.ReadFile("testdata/ten-runs.sarif")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) != 10 {
		t.Fatalf("%d issues, want one per run", len(got.Issues))
	}
	seen := map[string]bool{}
	for _, is := range got.Issues {
		seen[is.ToolName] = true
	}
	if len(seen) != 10 {
		t.Errorf("tools = %v, want 10 distinct", seen)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"sarif"}, "testdata/*.sarif")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	producertest.BenchCorpusFile(b, Parse, "sarif/dependency_check.sarif")
}

func TestParseOwn(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "sarif-wild", "codeql_skills-introduction-to-codeql_results.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseOwn("codeql", "codeql", data); err != nil || len(got.Issues) != 4 {
		t.Fatalf("own SARIF: %v", err)
	}
	if _, err := ParseOwn("gosec", "gosec", data); err == nil || !strings.Contains(err.Error(), `"CodeQL"'s, not gosec's`) {
		t.Fatalf("another tool's SARIF: %v", err)
	}
}

// TestFileURI: an absolute, percent-encoded file URI names the file.
func TestFileURI(t *testing.T) {
	doc := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL","rules":[{"id":"go/sql-injection"}]}},
"results":[{"ruleId":"go/sql-injection","level":"error","message":{"text":"m"},
"locations":[{"physicalLocation":{"artifactLocation":{"uri":"file:///home/runner/work/my%20app/my%20app/main.go"},"region":{"startLine":3}}}]}]}]}`
	got, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Issues[0].Location.Path; p != "/home/runner/work/my app/my app/main.go" {
		t.Errorf("path = %q", p)
	}
}
