package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers/bandit"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// TestBlogScenario is the scenario of Dracon's blog post, on examples/
// with the real gosec, bandit and gitleaks: its example.gosec policy, in
// the v0 syntax it was published in and in v1, annotates every finding;
// a policy that denies high findings fails the run and summary.json says
// why; a permissive one passes it.
func TestBlogScenario(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	producertest.RequireTool(t, bandit.Producer)
	producertest.RequireTool(t, gitleaks.Producer)
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	runWith := func(t *testing.T, policies ...string) (int, *summary.Summary, string) {
		t.Helper()
		out := t.TempDir()
		args := []string{"run", "--source", examples, "--out", out, "--run-dir", filepath.Join(out, "runs"), "--format", "none",
			"--config", filepath.Join(examples, "dracon.yaml")}
		for _, p := range policies {
			args = append(args, "--policy", p)
		}
		code, _, stderr := draconEnv(t, map[string]string{"DRACON_STORE": filepath.Join(out, "findings.db")}, args...)
		b, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatalf("exit %d, no summary: %v\n%s", code, err, stderr)
		}
		var s summary.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return code, &s, stderr
	}
	for _, v := range []string{"v0", "v1"} {
		t.Run("example.gosec "+v, func(t *testing.T) {
			code, s, stderr := runWith(t, "testdata/policy/example-gosec-"+v+".rego")
			if code != 0 {
				t.Errorf("exit %d (an allow policy decides nothing): %q\n%s", code, s.Reasons, stderr)
			}
			if noticed := strings.Contains(stderr, "is Rego v0 syntax"); noticed != (v == "v0") {
				t.Errorf("v0 notice printed: %v\n%s", noticed, stderr)
			}
			results := enriched(t, s.RunDir)
			n := 0
			for _, r := range results {
				for _, is := range r.Issues {
					n++
					want := "false"
					switch is.RawIssue.Severity.String() {
					case "SEVERITY_LOW", "SEVERITY_MEDIUM", "SEVERITY_HIGH":
						want = "true"
					}
					if got := is.Annotations["Policy Pass: example/gosec"]; got != want {
						t.Errorf("%s %s (%s): Policy Pass: example/gosec = %q, want %q", is.RawIssue.ToolName, is.RawIssue.RuleId, is.RawIssue.Severity, got, want)
					}
				}
			}
			if n < 20 {
				t.Errorf("%d findings annotated, want the 22 of examples/", n)
			}
		})
	}
	t.Run("deny-high", func(t *testing.T) {
		code, s, stderr := runWith(t, "testdata/policy/deny-high.rego")
		if code != 1 || s.ExitCode != 1 || s.Verdict != "failed" {
			t.Fatalf("exit %d, summary %d %s\n%s", code, s.ExitCode, s.Verdict, stderr)
		}
		// gosec's G101 is merged into gitleaks' finding of the same key: 5
		// high findings, each named with its rule and location.
		if len(s.Reasons) != 5 || s.Policy == nil || len(s.Policy.Deny) != 5 {
			t.Fatalf("reasons %q, policy %+v", s.Reasons, s.Policy)
		}
		found := false
		for _, r := range s.Reasons {
			found = found || r == "high finding G701 (gosec) [acme.denyhigh.deny] goapp/main.go:26"
		}
		if !found {
			t.Errorf("no reason names gosec's G701 at goapp/main.go:26: %q", s.Reasons)
		}
		for _, d := range s.Policy.Deny {
			if d.Rule != "data.acme.denyhigh.deny" || len(d.Findings) != 1 || d.Findings[0].Path == "" || d.Findings[0].Line == 0 {
				t.Errorf("deny %+v", d)
			}
		}
	})
	t.Run("permissive", func(t *testing.T) {
		if code, s, stderr := runWith(t, "testdata/policy/permissive.rego"); code != 0 || s.Verdict != "passed" || len(s.Reasons) != 0 {
			t.Errorf("exit %d, %s %q\n%s", code, s.Verdict, s.Reasons, stderr)
		}
	})
}

func enriched(t *testing.T, runDir string) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(runDir, "*.enriched.pb"))
	if len(files) == 0 {
		t.Fatalf("no enriched files in %s", runDir)
	}
	var out []*v1.EnrichedLaunchToolResponse
	for _, f := range files {
		r, err := pipeline.ReadEnriched(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestPolicyTest(t *testing.T) {
	code, out, stderr := dracon(t, "policy", "test", "testdata/policy/tests")
	if code != 0 || !strings.Contains(out, "2 tests: 2 passed, 0 failed") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = dracon(t, "policy", "test", "testdata/policy/failing")
	if code != 1 || !strings.Contains(out, "FAIL  acme.gate_test.test_high_denied (testdata/policy/failing/gate_test.rego:6)") {
		t.Errorf("failing test: exit %d\n%s", code, out)
	}
	code, out, _ = dracon(t, "policy", "test", "builtin:default")
	if code != 0 || !strings.Contains(out, " 0 failed, 0 errors") {
		t.Errorf("builtin:default: exit %d\n%s", code, out)
	}
	if code, _, stderr := dracon(t, "policy", "test", "testdata/policy/permissive.rego"); code != 2 || !strings.Contains(stderr, "no Rego test found") {
		t.Errorf("no tests: exit %d %s", code, stderr)
	}
}

func TestPolicyFmt(t *testing.T) {
	// Dracon's example as published, and a v0 file: both would change.
	code, out, _ := dracon(t, "policy", "fmt", "-l", "testdata/policy")
	if code != 1 || strings.TrimSpace(out) != "testdata/policy/example-gosec-v0.rego\ntestdata/policy/unformatted.rego" {
		t.Errorf("-l: exit %d, %q", code, out)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "p.rego")
	src, _ := os.ReadFile("testdata/policy/unformatted.rego")
	os.WriteFile(p, src, 0o644)
	code, _, stderr := dracon(t, "policy", "fmt", "-w", p)
	got, _ := os.ReadFile(p)
	want := "package acme.unformatted\n\ndeny contains msg if {\n\tmsg := \"v0, not formatted\"\n}\n"
	if code != 0 || string(got) != want || !strings.Contains(stderr, "is Rego v0: formatted as v1") {
		t.Errorf("-w: exit %d, %q, %s", code, got, stderr)
	}
	if code, _, _ := dracon(t, "policy", "fmt", "-l", p); code != 0 {
		t.Errorf("a formatted file listed")
	}
}

// TestPolicyEval decides a saved run again: its run folder, with another
// policy, and as a release.
func TestPolicyEval(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "sarif-wild", "gosec_aws-ssm_gosec.sarif")
	cfg := filepath.Join(dir, "dracon.yaml")
	os.WriteFile(cfg, []byte("producers:\n  sarif:\n    paths: ["+report+"]\n"), 0o644)
	code, _, stderr := draconEnv(t, map[string]string{"DRACON_STORE": filepath.Join(dir, "findings.db")}, "run", "--config", cfg, "--source", dir, "--out", dir, "--run-dir", filepath.Join(dir, "runs"), "--format", "none")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "runs", "*"))
	if len(runs) != 1 {
		t.Fatalf("runs %v", runs)
	}
	code, out, stderr := dracon(t, "policy", "eval", "--input", runs[0], "--policy", "testdata/policy/deny-high.rego", "--config", cfg)
	if code != 1 || !strings.Contains(out, "verdict: failed (exit 1)") || !strings.Contains(out, "[acme.denyhigh.deny]") || !strings.Contains(out, "acme.denyhigh (run, Rego v1)") {
		t.Errorf("deny-high: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = dracon(t, "policy", "eval", "--input", filepath.Join(dir, "summary.json"), "--format", "json", "--config", cfg)
	var doc struct {
		Verdict string          `json:"verdict"`
		Policy  *summary.Policy `json:"policy"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || doc.Verdict != "passed" || doc.Policy == nil || len(doc.Policy.Policies) != 6 {
		t.Errorf("json: exit %d, %v, %s", code, err, out)
	}
	files, _ := filepath.Glob(filepath.Join(runs[0], "*.enriched.pb"))
	if code, out, _ := dracon(t, "policy", "eval", "--input", files[0], "--event", "release", "--config", cfg); !strings.Contains(out, "event: release") {
		t.Errorf("release: exit %d\n%s", code, out)
	}
	if code, _, stderr := dracon(t, "policy", "eval", "--input", filepath.Join(dir, "nothing")); code != 2 || !strings.Contains(stderr, "nothing") {
		t.Errorf("missing input: exit %d %s", code, stderr)
	}
}

// TestRunProducersFlag: --producers runs exactly the named producers (an
// alias works), keeping each one's config; an unknown name is a usage error.
func TestRunProducersFlag(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "sarif-wild", "gosec_aws-ssm_gosec.sarif")
	cfg := filepath.Join(dir, "dracon.yaml")
	os.WriteFile(cfg, []byte("producers:\n  sarif:\n    paths: ["+report+"]\n  bandit: {}\n"), 0o644)
	env := map[string]string{"DRACON_STORE": filepath.Join(dir, "findings.db")}
	code, _, stderr := draconEnv(t, env, "run", "--config", cfg, "--source", dir, "--out", dir, "--run-dir", filepath.Join(dir, "runs"),
		"--format", "none", "--producers", "sarif")
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, stderr)
	}
	var s summary.Summary
	json.Unmarshal(b, &s)
	if len(s.Producers) != 1 || s.Producers[0].Name != "sarif" || s.Producers[0].Findings != 6 {
		t.Errorf("producers %+v\n%s", s.Producers, stderr)
	}
	if code, _, stderr := draconEnv(t, env, "run", "--config", cfg, "--source", dir, "--producers", "nosuchscanner"); code != 2 || !strings.Contains(stderr, "--producers") {
		t.Errorf("unknown producer: exit %d %s", code, stderr)
	}
}

// TestRunGitLabReportsFlag: --gitlab-reports writes exactly the reports
// named, in any pipeline (the GitLab component's reports input); none
// writes none; a name GitLab has not is a usage error.
func TestRunGitLabReportsFlag(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "sarif-wild", "gosec_aws-ssm_gosec.sarif")
	cfg := filepath.Join(dir, "dracon.yaml")
	os.WriteFile(cfg, []byte("producers:\n  sarif:\n    paths: ["+report+"]\n"), 0o644)
	env := map[string]string{"DRACON_STORE": filepath.Join(dir, "findings.db")}
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"sast,codequality", []string{"gl-code-quality-report.json", "gl-sast-report.json"}},
		{"none", nil},
	} {
		out := t.TempDir()
		code, _, stderr := draconEnv(t, env, "run", "--config", cfg, "--source", dir, "--out", out, "--run-dir", filepath.Join(dir, "runs"),
			"--format", "none", "--gitlab-reports", tc.flag)
		if code > 1 {
			t.Fatalf("--gitlab-reports %s: exit %d\n%s", tc.flag, code, stderr)
		}
		got, _ := filepath.Glob(filepath.Join(out, "gl-*"))
		for i := range got {
			got[i] = filepath.Base(got[i])
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("--gitlab-reports %s wrote %v, want %v", tc.flag, got, tc.want)
		}
	}
	if code, _, stderr := draconEnv(t, env, "run", "--config", cfg, "--source", dir, "--gitlab-reports", "sast,sarif"); code != 2 || !strings.Contains(stderr, `"sarif" is not a GitLab report`) {
		t.Errorf("bad report name: exit %d %s", code, stderr)
	}
}
