package gitlabtemplate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/schematest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// GCLVersion is the gitlab-ci-local these tests run: the newest that runs
// on Node 20 (the Makefile's tools target installs it).
const GCLVersion = "4.73.0"

// gitlabCILocal finds gitlab-ci-local in Dracon's tool cache, else on
// PATH; missing, the test fails under DRACON_REQUIRE_TOOLS and is skipped
// otherwise, with the install command.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	p := filepath.Join(producers.ToolsDir(), "gitlab-ci-local", GCLVersion, "node_modules", ".bin", "gitlab-ci-local")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("gitlab-ci-local"); err == nil {
		return p
	}
	msg := "gitlab-ci-local is not installed; install it with: npm install --prefix " +
		filepath.Join(producers.ToolsDir(), "gitlab-ci-local", GCLVersion) + " gitlab-ci-local@" + GCLVersion + " (make tools does)"
	if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type repo struct {
	t        *testing.T
	dir, gcl string
	path     string // PATH with the built dracon first
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// newRepo makes a git repository of examples/ with the component committed
// (gitlab-ci-local resolves only tracked files) and an origin remote.
func newRepo(t *testing.T) *repo {
	gcl := gitlabCILocal(t)
	producertest.RequireTool(t, gosec.Producer)
	producertest.RequireTool(t, gitleaks.Producer)
	r := &repo{t: t, dir: t.TempDir(), gcl: gcl}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "dracon"), "github.com/draconsec/dracon/cmd/dracon")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	r.path = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	if err := os.CopyFS(r.dir, os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	for _, tpl := range []string{scanTemplate, releaseTemplate} {
		dst := filepath.Join(r.dir, "templates", filepath.Base(filepath.Dir(tpl)), "template.yml")
		os.MkdirAll(filepath.Dir(dst), 0o755)
		b, err := os.ReadFile(tpl)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, b, 0o644)
	}
	os.MkdirAll(filepath.Join(r.dir, "policies"), 0o755)
	// A policy that denies nothing: the gate passes.
	os.WriteFile(filepath.Join(r.dir, "policies", "allow.rego"), []byte("package acme.allow\n\nimport rego.v1\n\ndeny contains msg if {\n\tfalse\n\tmsg := \"never\"\n}\n"), 0o644)
	os.WriteFile(filepath.Join(r.dir, ".gitignore"), []byte(".gitlab-ci-local/\n.dracon/\ngl-*.json\ndracon.sarif\nsummary.json\ndracon-exit-code\n"), 0o644)
	git(t, r.dir, "init", "-q", "-b", "main")
	git(t, r.dir, "remote", "add", "origin", "https://gitlab.example.com/acme/app.git")
	r.commit("examples", "")
	return r
}

// commit writes .gitlab-ci.yml (unless empty) and commits everything.
func (r *repo) commit(msg, ci string) {
	if ci != "" {
		os.WriteFile(filepath.Join(r.dir, ".gitlab-ci.yml"), []byte(ci), 0o644)
	}
	git(r.t, r.dir, "add", "-A")
	git(r.t, r.dir, "commit", "-q", "--allow-empty", "-m", msg)
	git(r.t, r.dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	git(r.t, r.dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
}

func include(inputs ...string) string {
	s := "include:\n  - local: templates/dracon/template.yml\n"
	if len(inputs) > 0 {
		s += "    inputs:\n"
		for _, in := range inputs {
			s += "      " + in + "\n"
		}
	}
	return s
}

// run runs the pipeline (or gitlab-ci-local's args) and returns its
// exit code, output and each job's PASS/FAIL.
func (r *repo) run(args ...string) (int, string, map[string]string) {
	r.t.Helper()
	// gitlab-ci-local copies artifacts back into the checkout: start clean.
	git(r.t, r.dir, "clean", "-fdxq")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--force-shell-executor", "--shell-isolation", "--no-color",
		// GitLab sets GITLAB_CI=true; gitlab-ci-local sets false, and Dracon
		// writes GitLab's reports in a GitLab pipeline.
		"--variable", "GITLAB_CI=true"}
	ignore := "GITLAB_CI"
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--ignore-predefined-vars" {
			ignore += "," + args[i+1]
			args = append(args[:i:i], args[i+2:]...)
		}
	}
	base = append(base, "--ignore-predefined-vars", ignore)
	cmd := exec.CommandContext(ctx, r.gcl, append(base, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "PATH="+r.path, "NO_COLOR=1", "FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("gitlab-ci-local: %v\n%s", err, out.String())
	}
	jobs := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(PASS|FAIL|WARN)\s+(\S+)\s*$`).FindAllStringSubmatch(out.String(), -1) {
		jobs[m[2]] = m[1]
	}
	return code, out.String(), jobs
}

func (r *repo) artifact(job, name string) []byte {
	b, err := os.ReadFile(filepath.Join(r.dir, ".gitlab-ci-local", "artifacts", job, name))
	if err != nil {
		return nil
	}
	return b
}

func validate(t *testing.T, schema string, data []byte) {
	t.Helper()
	s := schematest.Compile(t, filepath.Join(schematest.Dir(t), schema))
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s: %v", schema, err)
	}
}

func TestGitLabCILocal(t *testing.T) {
	r := newRepo(t)

	t.Run("merge request: reports published, gate fails on the secret", func(t *testing.T) {
		r.commit("mr", include())
		code, out, jobs := r.run("--variable", "CI_PIPELINE_SOURCE=merge_request_event", "--variable", "CI_MERGE_REQUEST_IID=7",
			"--variable", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main", "--ignore-predefined-vars", "CI_PIPELINE_SOURCE")
		if jobs["dracon-scan"] != "PASS" || jobs["dracon-gate"] != "FAIL" || code == 0 {
			t.Fatalf("exit %d, jobs %v, want the scan to pass and the gate to fail\n%s", code, jobs, out)
		}
		if !strings.Contains(out, "merge request note skipped") || !strings.Contains(out, "DRACON_GITLAB_TOKEN") {
			t.Errorf("no notice for the missing token:\n%s", out)
		}
		if !strings.Contains(out, "event: pull_request") || !strings.Contains(out, "aws-access-token") {
			t.Errorf("the gate did not judge the merge request:\n%s", out)
		}
		if got := strings.TrimSpace(string(r.artifact("dracon-scan", "dracon-exit-code"))); got != "1" {
			t.Errorf("dracon run exit %q, want 1 (the policy failed, the scan completed)", got)
		}
		validate(t, "gitlab-sast-report-format-15.2.1.json", r.artifact("dracon-scan", "gl-sast-report.json"))
		validate(t, "gitlab-secret-detection-report-format-15.2.1.json", r.artifact("dracon-scan", "gl-secret-detection-report.json"))
		schematest.ValidateSARIF(t, r.artifact("dracon-scan", "dracon.sarif"))
		var cq []struct {
			Description, CheckName, Fingerprint, Severity string `json:"-"`
			Location                                      struct {
				Path  string `json:"path"`
				Lines struct {
					Begin int `json:"begin"`
				} `json:"lines"`
			} `json:"location"`
		}
		var raw []map[string]any
		if err := json.Unmarshal(r.artifact("dracon-scan", "gl-code-quality-report.json"), &raw); err != nil || len(raw) == 0 {
			t.Fatalf("code quality report: %v (%d entries)", err, len(raw))
		}
		json.Unmarshal(r.artifact("dracon-scan", "gl-code-quality-report.json"), &cq)
		for i, e := range raw {
			for _, k := range []string{"description", "check_name", "fingerprint", "severity"} {
				if s, _ := e[k].(string); s == "" {
					t.Errorf("code quality entry %d lacks %s", i, k)
				}
			}
			if cq[i].Location.Path == "" || cq[i].Location.Lines.Begin == 0 {
				t.Errorf("code quality entry %d: location %+v", i, cq[i].Location)
			}
		}
		var sum struct {
			RunDir string `json:"run_dir"`
		}
		json.Unmarshal(r.artifact("dracon-scan", "summary.json"), &sum)
		if m, _ := filepath.Glob(filepath.Join(r.dir, ".gitlab-ci-local", "artifacts", "dracon-scan", sum.RunDir, "*.enriched.pb")); len(m) == 0 {
			t.Errorf("the run folder %q is not among the artifacts", sum.RunDir)
		}
	})

	t.Run("a policy that denies nothing: the gate passes", func(t *testing.T) {
		r.commit("allow", include("job-prefix: sec", "policy: policies/allow.rego"))
		code, out, jobs := r.run()
		if code != 0 || jobs["sec-scan"] != "PASS" || jobs["sec-gate"] != "PASS" {
			t.Fatalf("exit %d, jobs %v\n%s", code, jobs, out)
		}
		if got := strings.TrimSpace(string(r.artifact("sec-scan", "dracon-exit-code"))); got != "0" {
			t.Errorf("dracon run exit %q, want 0", got)
		}
	})

	t.Run("fail-on high with that policy: the gate fails", func(t *testing.T) {
		r.commit("high", include("policy: policies/allow.rego", "fail-on: high"))
		code, out, jobs := r.run()
		if code == 0 || jobs["dracon-scan"] != "PASS" || jobs["dracon-gate"] != "FAIL" {
			t.Fatalf("exit %d, jobs %v\n%s", code, jobs, out)
		}
	})

	t.Run("bad inputs are rejected", func(t *testing.T) {
		for in, want := range map[string]string{
			"fail-on: severe":        "`fail-on` input: `severe` cannot be used because it is not in the list of allowed options",
			"job-prefix: Bad_Prefix": "`job-prefix` input: `Bad_Prefix` does not match required regex",
			"reports: sast,sarif":    "`reports` input: `sast,sarif` does not match required regex",
			"diff-filter: lines":     "`diff-filter` input: `lines` cannot be used",
		} {
			r.commit("bad "+in, include(in))
			code, out, _ := r.run("--list")
			if code == 0 || !strings.Contains(out, want) {
				t.Errorf("%s: exit %d, want %q in:\n%s", in, code, want, out)
			}
		}
	})

	t.Run("producers and reports inputs in a project without a config", func(t *testing.T) {
		git(t, r.dir, "rm", "-q", "dracon.yaml")
		r.commit("no config", include("producers: gosec,gitleaks", "reports: sast,codequality", "policy: policies/allow.rego"))
		code, out, jobs := r.run()
		if code != 0 || jobs["dracon-scan"] != "PASS" || jobs["dracon-gate"] != "PASS" {
			t.Fatalf("exit %d, jobs %v\n%s", code, jobs, out)
		}
		validate(t, "gitlab-sast-report-format-15.2.1.json", r.artifact("dracon-scan", "gl-sast-report.json"))
		if r.artifact("dracon-scan", "gl-secret-detection-report.json") != nil {
			t.Errorf("a secret detection report was written though reports names only sast and codequality")
		}
		if strings.Contains(out, "bandit started") {
			t.Errorf("bandit ran though producers names gosec and gitleaks")
		}
	})
}
