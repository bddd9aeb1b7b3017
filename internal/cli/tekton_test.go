package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/tekton"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

func TestTektonFlagsApply(t *testing.T) {
	cfg := &config.Config{Runner: "local", Tekton: config.Tekton{Namespace: "ns-from-config", Secret: "s1"}}
	tektonFlags{runner: "tekton", namespace: "ci", gitURL: "https://example.com/a.git"}.apply(cfg)
	if cfg.Runner != "tekton" || cfg.Tekton.Namespace != "ci" || cfg.Tekton.GitURL != "https://example.com/a.git" || cfg.Tekton.Secret != "s1" {
		t.Errorf("%+v", cfg)
	}
}

func TestReportArgs(t *testing.T) {
	src := t.TempDir()
	t.Chdir(src)
	o := runOptions{failOn: "high", newOnly: true, baselineRef: "main", diffFilter: "added", diffBase: "origin/main",
		gitlabReports: "sast", format: "json", policies: multiFlag{"builtin:default", "policies/gate.rego"}}
	got, err := o.reportArgs(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--fail-on", "high", "--new-only", "--baseline-ref", "main", "--diff-filter", "added", "--diff-base", "origin/main",
		"--gitlab-reports", "sast", "--format", "json", "--policy", "builtin:default", "--policy", "source-code/policies/gate.rego"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	o = runOptions{policies: multiFlag{filepath.Join(filepath.Dir(src), "elsewhere.rego")}}
	if _, err := o.reportArgs(src); err == nil || !strings.Contains(err.Error(), "outside the source") {
		t.Errorf("a policy outside the source: %v", err)
	}
	if got, _ := (runOptions{}).reportArgs(src); len(got) != 0 {
		t.Errorf("no flags: %q", got)
	}
}

func TestChooseSource(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	github := env(map[string]string{"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": "abc123"})
	gitlab := env(map[string]string{"CI_PROJECT_URL": "https://gitlab.example.com/acme/app", "CI_COMMIT_SHA": "def456",
		"CI_REPOSITORY_URL": "https://gitlab-ci-token:glcbt-SECRET@gitlab.example.com/acme/app.git"})
	none := env(nil)
	for _, tc := range []struct {
		name        string
		cfg         config.Tekton
		getenv      func(string) string
		url, rev    string
		archive     bool
		errContains string
	}{
		{name: "github", getenv: github, url: "https://github.com/acme/app.git", rev: "abc123"},
		{name: "gitlab", getenv: gitlab, url: "https://gitlab.example.com/acme/app.git", rev: "def456"},
		{name: "no CI: archive", getenv: none, archive: true},
		{name: "archive forced in CI", cfg: config.Tekton{Source: "archive"}, getenv: github, archive: true},
		{name: "config URL and revision", cfg: config.Tekton{GitURL: "https://git.example.com/x.git", GitRevision: "v1.2.0"}, getenv: github,
			url: "https://git.example.com/x.git", rev: "v1.2.0"},
		{name: "credentials cut", cfg: config.Tekton{GitURL: "https://oauth2:tok-SECRET@git.example.com/x.git", GitRevision: "main"}, getenv: none,
			url: "https://git.example.com/x.git", rev: "main"},
		{name: "git without URL", cfg: config.Tekton{Source: "git"}, getenv: none, errContains: "needs a clone URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tekton.Run{ScanID: "s1", Config: tc.cfg}
			var log bytes.Buffer
			err := chooseSource(&r, src, tc.getenv, &log)
			if tc.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errContains) {
					t.Errorf("error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.GitURL != tc.url || r.GitRevision != tc.rev || (r.Archive != nil) != tc.archive {
				t.Errorf("url %q rev %q archive %d bytes", r.GitURL, r.GitRevision, len(r.Archive))
			}
			if strings.Contains(log.String(), "SECRET") {
				t.Errorf("a credential was logged: %s", log.String())
			}
		})
	}
}

func TestPrintTektonVerdict(t *testing.T) {
	out := t.TempDir()
	f := filepath.Join(out, "summary.json")
	if err := os.WriteFile(f, []byte(`{"verdict":"fail","reasons":["2 findings at or above high"],"counts":{"total":5,"new":2,"suppressed":1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	printTektonVerdict(Env{Stderr: &stderr}, &tekton.Outcome{Namespace: "dracon", PipelineRun: "dracon-abc", Verdict: "fail", ExitCode: 1, Files: []string{f}})
	for _, w := range []string{"dracon: 5 findings (2 new, 1 suppressed); verdict: fail (PipelineRun dracon/dracon-abc)", "  - 2 findings at or above high", "dracon: wrote " + f} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("output does not say %q:\n%s", w, stderr.String())
		}
	}
}

// The report task's `dracon run --produced` writes its verdict as Tekton
// results in DRACON_RESULTS_DIR, the values summary.json holds; a run that
// ends in an error writes exit-code 2 and verdict error.
func TestRunWritesTaskResults(t *testing.T) {
	work := t.TempDir()
	produced, src, out, results := filepath.Join(work, "producers"), filepath.Join(work, "src"), filepath.Join(work, "out"), filepath.Join(work, "results")
	for _, d := range []string{produced, src, out, results} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A Dracon producer task's bare result, as one of Dracon's own tasks
	// leaves it beside ours.
	resp := &v1.LaunchToolResponse{ToolName: "acme-scanner", Issues: []*v1.Issue{
		{Target: "main.go:3", Type: "ACME-1", Title: "weak hash", Severity: v1.Severity_SEVERITY_HIGH},
		{Target: "main.go:9", Type: "ACME-2", Title: "shell injection", Severity: v1.Severity_SEVERITY_CRITICAL},
	}}
	b, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(produced, "acme-scanner.pb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		return map[string]string{"DRACON_RESULTS_DIR": results, "DRACON_STORE": filepath.Join(work, "findings.db")}[k]
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(results, name))
		if err != nil {
			t.Fatalf("result %s: %v", name, err)
		}
		return string(b)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"run", "--produced", produced, "--source", src, "--out", out,
		"--run-dir", filepath.Join(work, "runs"), "--format", "none", "--fail-on", "high"},
		Env{Stdout: &stdout, Stderr: &stderr, Getenv: env})
	var s summary.Summary
	sb, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatalf("exit %d, no summary.json: %v\n%s", code, err, stderr.String())
	}
	if err := json.Unmarshal(sb, &s); err != nil {
		t.Fatal(err)
	}
	if code != gate.ExitFindings || s.Verdict != gate.Failed || s.Counts.Total != 2 {
		t.Fatalf("exit %d, verdict %s, %d findings: want the gate to fail on 2 findings\n%s", code, s.Verdict, s.Counts.Total, stderr.String())
	}
	want := map[string]string{"exit-code": fmt.Sprint(code), "verdict": s.Verdict, "findings": fmt.Sprint(s.Counts.Total), "new": fmt.Sprint(s.Counts.New)}
	for name, v := range want {
		if got := read(name); got != v {
			t.Errorf("result %s = %q, summary.json says %q", name, got, v)
		}
	}

	// A run that cannot decide: the results say so, not the last run's.
	code = Main(context.Background(), []string{"run", "--produced", filepath.Join(work, "missing"), "--source", src, "--out", out,
		"--run-dir", filepath.Join(work, "runs")}, Env{Stdout: &stdout, Stderr: &stderr, Getenv: env})
	if code != gate.ExitError || read("exit-code") != "2" || read("verdict") != "error" {
		t.Errorf("exit %d, results exit-code %q verdict %q: want 2 and error", code, read("exit-code"), read("verdict"))
	}
}
