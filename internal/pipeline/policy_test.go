package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/producers/producertest"
)

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// policyRepo is a checkout whose main branch gates on high findings and
// whose feature branch edits the policy, and the config, to allow
// everything.
func policyRepo(t *testing.T) (repo, mainSHA string) {
	repo = t.TempDir()
	gitRun(t, repo, "init", "-q", "-b", "main")
	copyTo(t, "testdata/policy/findings.sarif", filepath.Join(repo, "findings.sarif"))
	copyTo(t, "testdata/policy/deny-high.rego", filepath.Join(repo, "policies", "gate.rego"))
	cfg := "version: 1\nproducers:\n  sarif:\n    paths: [findings.sarif]\npolicy:\n  paths: [policies]\n"
	os.WriteFile(filepath.Join(repo, "dracon.yaml"), []byte(cfg), 0o644)
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-q", "-m", "gate on high findings")
	mainSHA = gitRun(t, repo, "rev-parse", "HEAD")
	gitRun(t, repo, "checkout", "-q", "-b", "feature")
	copyTo(t, "testdata/policy/allow-all.rego", filepath.Join(repo, "policies", "gate.rego"))
	// The change also tries to turn policies off, and to stop failing on
	// anything.
	os.WriteFile(filepath.Join(repo, "dracon.yaml"), []byte(cfg+"enrichers:\n  policy:\n    enabled: false\ngate:\n  fail_on: none\n"), 0o644)
	gitRun(t, repo, "commit", "-q", "-am", "allow everything")
	return repo, mainSHA
}

func runIn(t *testing.T, repo string, env map[string]string, policies ...string) (*Result, string, error) {
	t.Helper()
	cfgPath := filepath.Join(repo, "dracon.yaml")
	c, err := config.Load(cfgPath, ConfigNames())
	if err != nil {
		t.Fatal(err)
	}
	c.Enrichers.Dedup.Store = filepath.Join(t.TempDir(), "findings.db")
	out := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{Config: c, ConfigPath: cfgPath, Policies: policies, Source: repo, Out: out,
		RunRoot: filepath.Join(out, "runs"), Log: &log, Version: "test", Getenv: func(k string) string { return env[k] }})
	return res, log.String(), err
}

func pullRequest(base string) map[string]string {
	return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": base,
		"GITHUB_REF": "refs/pull/7/merge", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": "feedface"}
}

// TestChangeCannotWeakenItsGate: a pull request that edits its policy to
// allow everything, turns policies off and drops fail_on is still gated
// by its target branch's policy, and the run says which revision it used.
func TestChangeCannotWeakenItsGate(t *testing.T) {
	repo, mainSHA := policyRepo(t)
	res, log, err := runIn(t, repo, pullRequest("main"))
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	s := res.Summary
	if s.ExitCode != gate.ExitFindings || s.Verdict != gate.Failed {
		t.Fatalf("exit %d (%s), reasons %q\n%s", s.ExitCode, s.Verdict, s.Reasons, log)
	}
	want := "high finding go/sql-injection in app/db.go:12 [acme.gate.deny] https://github.com/acme/app/blob/feedface/app/db.go#L12"
	if len(s.Reasons) != 1 || s.Reasons[0] != want {
		t.Errorf("reasons %q, want %q", s.Reasons, want)
	}
	if s.Policy == nil || s.Policy.Revision != "main@"+mainSHA[:12] {
		t.Fatalf("policy block %+v", s.Policy)
	}
	if p := s.Policy.Policies; len(p) != 1 || p[0].Files[0] != "main@"+mainSHA[:12]+":policies/gate.rego" {
		t.Errorf("policies %+v", p)
	}
	if d := s.Policy.Deny; len(d) != 1 || len(d[0].Findings) != 1 || d[0].Findings[0].Line != 12 || d[0].Rule != "data.acme.gate.deny" {
		t.Errorf("deny %+v", d)
	}
	if !strings.Contains(log, "the change edits the policy or gate blocks of dracon.yaml") {
		t.Errorf("log does not say the change's blocks were set aside:\n%s", log)
	}

	// A policy outside the checkout is read as it is, even in a pull
	// request: here the permissive one passes.
	outside := filepath.Join(t.TempDir(), "allow-all.rego")
	copyTo(t, "testdata/policy/allow-all.rego", outside)
	if res, log, err := runIn(t, repo, pullRequest("main"), outside); err != nil || res.Summary.ExitCode != gate.ExitPass {
		t.Errorf("outside policy: %v, %+v\n%s", err, res, log)
	}

	// On a push, the branch's own policy (and config) decide.
	push := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature", "GITHUB_REPOSITORY": "acme/app"}
	if res, log, err := runIn(t, repo, push); err != nil || res.Summary.ExitCode != gate.ExitPass || res.Summary.Policy != nil {
		t.Errorf("push: %v, %+v\n%s", err, res.Summary, log)
	}

	// A target branch the checkout lacks is an error, not the change's
	// own policy.
	_, _, err = runIn(t, repo, pullRequest("release-9"))
	if err == nil || !strings.Contains(err.Error(), "release-9 is not in the checkout") || !strings.Contains(err.Error(), "cannot weaken") {
		t.Errorf("missing target branch: %v", err)
	}
}

// TestDenyHighOnExamples is the blog's scenario on examples/ without
// scanners: a deny-high policy fails the run and says why; a permissive
// one passes it.
func TestPolicyFlagReplacesDefaults(t *testing.T) {
	repo, _ := policyRepo(t)
	gitRun(t, repo, "checkout", "-q", "main")
	res, log, err := runIn(t, repo, nil, "testdata/policy/allow-all.rego")
	if err != nil || res.Summary.ExitCode != gate.ExitPass || res.Summary.Policy.Revision != "working tree" {
		t.Fatalf("%v %+v\n%s", err, res.Summary, log)
	}
	res, _, _ = runIn(t, repo, nil, "testdata/policy/deny-high.rego")
	if res.Summary.ExitCode != gate.ExitFindings || len(res.Summary.Policy.Deny) != 1 {
		t.Errorf("deny-high: %+v", res.Summary)
	}
}

// TestFailClosed: a producer that fails fails the run unless a policy's
// allow_failure names it; a scan in which no producer ran is a failure,
// not a pass.
func TestFailClosed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.sarif")
	os.WriteFile(bad, []byte(`{"version":"2.1.0","runs":[{"tool":`), 0o644)
	good := filepath.Join(dir, "good.sarif")
	copyTo(t, "testdata/policy/findings.sarif", good)
	allow := filepath.Join(dir, "allow.rego")
	os.WriteFile(allow, []byte("package acme.flaky\n\nallow_failure contains \"sarif\"\n"), 0o644)
	for _, c := range []struct {
		name     string
		yaml     string
		exit     int
		reason   string
		policies []string
	}{
		{"a producer fails", "producers:\n  sarif:\n    paths: [%q]\n  gosec:\n    paths: [%q]\n", gate.ExitError, "producer sarif failed", nil},
		{"a policy allows it", "producers:\n  sarif:\n    paths: [%q]\n  gosec:\n    paths: [%q]\n", gate.ExitPass, "", []string{allow}},
	} {
		t.Run(c.name, func(t *testing.T) {
			gosecReport := filepath.Join(producertest.CorpusDir(t), "defectdojo", "gosec", "many_vulns.json")
			cfg := testConfig(t, fmt.Sprintf(c.yaml, bad, gosecReport))
			res, _, log := runLogWith(t, cfg, dir, c.policies)
			s := res.Summary
			if s.ExitCode != c.exit || (c.reason != "" && (len(s.Reasons) == 0 || !strings.HasPrefix(s.Reasons[0], c.reason))) {
				t.Errorf("exit %d, reasons %q\n%s", s.ExitCode, s.Reasons, log)
			}
		})
	}
	t.Run("no producer ran", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		t.Setenv("DRACON_TOOLS_DIR", t.TempDir())
		c := testConfig(t, "producers:\n  bandit: {}\n")
		res, _ := run(t, c, "../../examples")
		if s := res.Summary; s.ExitCode != gate.ExitError || s.Verdict != gate.Failed || len(s.Reasons) != 1 ||
			s.Reasons[0] != "no producer ran to the end: an empty scan is not a pass" {
			t.Errorf("exit %d, reasons %q", s.ExitCode, s.Reasons)
		}
	})
	t.Run("a policy that does not compile", func(t *testing.T) {
		broken := filepath.Join(dir, "broken.rego")
		os.WriteFile(broken, []byte("package acme.broken\n\ndeny contains x if {\n\tx := undefined_fn(1)\n}\n"), 0o644)
		c := testConfig(t, "producers:\n  sarif:\n    paths: ["+good+"]\n")
		var logb bytes.Buffer
		_, err := Run(context.Background(), Options{Config: c, Source: dir, Out: t.TempDir(), RunRoot: t.TempDir(), Log: &logb,
			Policies: []string{broken}, Getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), "broken.rego:4") || !strings.Contains(err.Error(), "undefined_fn") {
			t.Errorf("err %v", err)
		}
		if strings.Contains(logb.String(), "sarif started") {
			t.Error("the producers ran before the policy was compiled")
		}
	})
}

func runLogWith(t *testing.T, c *config.Config, src string, policies []string) (*Result, string, string) {
	t.Helper()
	out := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{Config: c, Source: src, Out: out, RunRoot: filepath.Join(out, "runs"), Log: &log,
		Version: "test", Policies: policies, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	return res, out, log.String()
}

// TestGitLabReports: in a GitLab pipeline the run writes GitLab's reports
// beside the SARIF, under the names GitLab's analyzers use, and the
// summary lists them.
func TestGitLabReports(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "findings.sarif")
	copyTo(t, "testdata/policy/findings.sarif", report)
	gosecReport := filepath.Join(producertest.CorpusDir(t), "defectdojo", "gosec", "many_vulns.json")
	c := testConfig(t, fmt.Sprintf("producers:\n  sarif:\n    paths: [%q]\n  gosec:\n    paths: [%q]\n", report, gosecReport))
	out := t.TempDir()
	env := map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "acme/app", "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567", "CI_PIPELINE_SOURCE": "push"}
	res, err := Run(context.Background(), Options{Config: c, Source: dir, Out: out, RunRoot: filepath.Join(out, "runs"), Log: &bytes.Buffer{},
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gl-sast-report.json", "gl-code-quality-report.json"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Contains(b, []byte(`"G`)) && name == "gl-sast-report.json" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if res.Summary.Outputs["gitlab_sast"] == "" || res.Summary.Outputs["gitlab_codequality"] == "" {
		t.Errorf("outputs %v", res.Summary.Outputs)
	}
	// Elsewhere, none is written.
	res2, _ := run(t, c, dir)
	for k := range res2.Summary.Outputs {
		if strings.HasPrefix(k, "gitlab_") {
			t.Errorf("a GitLab report outside GitLab: %v", res2.Summary.Outputs)
		}
	}
}
