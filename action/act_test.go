package action

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/schematest"
)

// ActVersion is the act (github.com/nektos/act) the end-to-end test runs
// the action with; `make tools` installs it into Dracon's tool cache
// (act/<version>/act), beside the scanners.
const ActVersion = "v0.2.87"

// findAct is act's path: Dracon's tool cache, then PATH. When it is
// missing the test fails with DRACON_REQUIRE_TOOLS set (as .ci/run sets
// it), and is skipped otherwise.
func findAct(t *testing.T) string {
	t.Helper()
	dirs := []string{producers.ToolsDir()}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "dracon", "tools"))
	} else if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".cache", "dracon", "tools"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "act", ActVersion, "act")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("act"); err == nil {
		return p
	}
	msg := "act is not installed; install it with: make tools (or GOBIN=" + filepath.Join(producers.ToolsDir(), "act", ActVersion) +
		" go install github.com/nektos/act@" + ActVersion + ")"
	if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// actWorkflow is the test repository's workflow: check out, run the
// action (uses: ./), record its outputs and files where the test reads
// them ($DRACON_ACT_RESULTS: act's host mode passes the host's
// environment to the steps). The gate fails the step; continue-on-error
// lets the record step run and the step's outcome says so.
const actWorkflow = `name: dracon
on: [push, pull_request]
permissions:
  contents: read
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: dracon
        uses: ./
        continue-on-error: true
        with:
          install: ${{ github.event_name == 'pull_request' && 'path' || 'build' }}
          pr-comment: summary
          annotations: '12'
      - name: Record
        if: always()
        env:
          OUTCOME: ${{ steps.dracon.outcome }}
          VERDICT: ${{ steps.dracon.outputs.verdict }}
          FINDINGS_TOTAL: ${{ steps.dracon.outputs.findings-total }}
          FINDINGS_NEW: ${{ steps.dracon.outputs.findings-new }}
          MAX_SEVERITY: ${{ steps.dracon.outputs.max-severity }}
          SARIF_FILE: ${{ steps.dracon.outputs.sarif-file }}
          SARIF_ID: ${{ steps.dracon.outputs.sarif-id }}
          SUMMARY_FILE: ${{ steps.dracon.outputs.summary-file }}
          RUN_DIR: ${{ steps.dracon.outputs.run-dir }}
        run: |
          dir="$DRACON_ACT_RESULTS/$GITHUB_EVENT_NAME"
          mkdir -p "$dir"
          for v in OUTCOME VERDICT FINDINGS_TOTAL FINDINGS_NEW MAX_SEVERITY SARIF_FILE SARIF_ID SUMMARY_FILE RUN_DIR GITHUB_SHA GITHUB_REF; do
            printf '%s=%s\n' "$v" "${!v}" >> "$dir/outputs.env"
          done
          cp "$SARIF_FILE" "$dir/dracon.sarif"
          cp "$SUMMARY_FILE" "$dir/summary.json"
          cp "$(dirname "$SUMMARY_FILE")/job-summary.md" "$dir/job-summary.md"
          test -d "$RUN_DIR"
`

// TestActEndToEnd runs action.yml with act in host mode (no container
// engine) on a repository made of examples/, for a push (install: build,
// from this checkout) and a pull request (install: path, a dracon built
// here), and checks the outputs, the job summary, the gate's exit code
// and the SARIF.
func TestActEndToEnd(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("act's host mode runs bash steps; tested on Linux and macOS")
	}
	if testing.Short() {
		t.Skip("-short: the act end-to-end test builds dracon and runs two workflows")
	}
	act := findAct(t)
	for _, name := range []string{"gosec", "gitleaks"} {
		p, err := registry.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		producertest.RequireTool(t, p)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	// A dracon for install: path, built as install.sh builds (the same
	// flags: the push's build then reuses Go's build cache).
	binDir := filepath.Join(tmp, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(binDir, "dracon"), "./cmd/dracon")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, _ := exec.Command(filepath.Join(binDir, "dracon"), "action", "-h").CombinedOutput(); strings.Contains(string(out), `unknown command "action"`) {
		msg := "internal/cli/cli.go's commands() does not list the action command: add\n\t\t\"action\":   {actionSummary, runAction},"
		if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	repo := filepath.Join(tmp, "repo")
	base, head := actRepo(t, root, repo)
	results := filepath.Join(tmp, "results")
	event := filepath.Join(tmp, "pull_request.json")
	pr := map[string]any{
		"action": "synchronize", "number": 7, // act's refs/pull/N/merge comes from the top-level number
		"pull_request": map[string]any{"number": 7, "html_url": "https://github.com/acme/examples/pull/7",
			"head": map[string]any{"ref": "feature", "sha": head, "repo": map[string]any{"full_name": "acme/examples"}},
			"base": map[string]any{"ref": "main", "sha": base, "repo": map[string]any{"full_name": "acme/examples", "default_branch": "main"}}},
		"repository": map[string]any{"full_name": "acme/examples", "default_branch": "main"},
	}
	data, _ := json.Marshal(pr)
	if err := os.WriteFile(event, data, 0o644); err != nil {
		t.Fatal(err)
	}

	env := actEnv(map[string]string{
		"DRACON_ACT_RESULTS": results,
		"DRACON_BUILD_DIR":   root,                 // install: build builds this checkout
		"DRACON_TOOLS_DIR":   producers.ToolsDir(), // the scanners the tests installed
		"PATH":               binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
	})
	runAct := func(args ...string) string {
		t.Helper()
		args = append(args, "-P", "ubuntu-latest=-self-hosted", "--no-cache-server")
		cmd := exec.CommandContext(ctx, act, args...)
		cmd.Dir, cmd.Env = repo, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("act %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	t.Run("push", func(t *testing.T) {
		log := runAct("push")
		out := actResults(t, results, "push", log)
		if out["GITHUB_REF"] != "refs/heads/main" || out["GITHUB_SHA"] != head {
			t.Errorf("act's push: %q", out)
		}
		checkActRun(t, filepath.Join(results, "push"), out, log, head)
		if !strings.Contains(log, "dracon: building "+root) {
			t.Error("install: build did not build")
		}
	})
	t.Run("pull_request", func(t *testing.T) {
		log := runAct("pull_request", "-e", event)
		out := actResults(t, results, "pull_request", log)
		if out["GITHUB_REF"] != "refs/pull/7/merge" {
			t.Errorf("act's pull request ref: %q", out["GITHUB_REF"])
		}
		checkActRun(t, filepath.Join(results, "pull_request"), out, log, head)
		md, _ := os.ReadFile(filepath.Join(results, "pull_request", "job-summary.md"))
		for _, want := range []string{"pull\\_request #7 (feature → main)", "on a changed line"} {
			if !strings.Contains(string(md), want) {
				t.Errorf("the pull request's job summary lacks %q", want)
			}
		}
		// The secret is new on a line the pull request added: among the
		// first annotations, before the push's findings in goapp/.
		first := strings.Index(log, "::error file=")
		if first < 0 || !strings.Contains(log[first:], "::error file=pyapp/settings.py,line=4,") {
			t.Error("no annotation of the secret")
		} else if goapp := strings.Index(log[first:], "file=goapp/"); goapp >= 0 && goapp < strings.Index(log[first:], "file=pyapp/settings.py") {
			t.Error("an old finding was annotated before the pull request's new one")
		}
		if !strings.Contains(log, "no pull request comment::no token") {
			t.Error("pr-comment without a token should say why there is no comment")
		}
	})
}

// actRepo makes the repository act runs in: examples/ at its root, with
// action.yml, its install script and the workflow; a first commit
// without pyapp/ on main, then pyapp/ (the pull request's change). act
// copies only what git tracks and names the repository after origin.
func actRepo(t *testing.T, root, repo string) (base, head string) {
	t.Helper()
	for _, f := range []string{"examples/README.md", "examples/dracon.yaml", "examples/goapp", "action.yml", "action/install.sh"} {
		dst := filepath.Join(repo, strings.TrimPrefix(f, "examples/"))
		if st, err := os.Stat(filepath.Join(root, f)); err == nil && st.IsDir() {
			copyDir(t, filepath.Join(root, f), dst)
			continue
		}
		copyFile(t, filepath.Join(root, f), dst)
	}
	wf := filepath.Join(repo, ".github", "workflows", "dracon.yml")
	if err := os.MkdirAll(filepath.Dir(wf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, []byte(actWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "remote", "add", "origin", "https://github.com/acme/examples.git")
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "base")
	base = git(t, repo, "rev-parse", "HEAD")
	copyDir(t, filepath.Join(root, "examples", "pyapp"), filepath.Join(repo, "pyapp"))
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "pyapp")
	return base, git(t, repo, "rev-parse", "HEAD")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// actEnv is the environment act runs in: the test's, without what a CI
// job of its own would leak into the workflow (act's host mode hands its
// whole environment to the steps), with vars over it.
func actEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "ACTIONS_") ||
			strings.HasPrefix(k, "INPUT_") || k == "ACT" || k == "DRACON_STORE" || vars[k] != "" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// actResults reads what the workflow's record step wrote.
func actResults(t *testing.T, results, event, log string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(results, event, "outputs.env"))
	if err != nil {
		t.Fatalf("the record step wrote nothing (%v); act's log:\n%s", err, log)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		out[k] = v
	}
	return out
}

// checkActRun checks one run of the action on examples/: the gate fails
// (the AWS key in pyapp/settings.py; exit 1), and the outputs, summary.json,
// the job summary and the SARIF agree.
func checkActRun(t *testing.T, dir string, out map[string]string, log, head string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\n--- act's log:\n%s", append(args, log)...)
	}
	if out["OUTCOME"] != "failure" || out["VERDICT"] != "failed" || out["MAX_SEVERITY"] != "high" || out["SARIF_ID"] != "" {
		fail("outputs: %q", out)
	}
	// The gate's exit code: act logs the step's.
	if !strings.Contains(log, "exit status 1") || strings.Contains(log, "exit status 2") {
		fail("the action's step did not exit 1")
	}
	var s struct {
		ExitCode int    `json:"exit_code"`
		Verdict  string `json:"verdict"`
		Counts   struct {
			Total, New int
			ByTool     map[string]int `json:"by_tool"`
		} `json:"counts"`
		Tags map[string]string `json:"tags"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.ExitCode != 1 || s.Verdict != "failed" || s.Counts.ByTool["gosec"] == 0 || s.Counts.ByTool["gitleaks"] != 1 {
		fail("summary.json: %+v", s)
	}
	if fmt.Sprint(s.Counts.Total) != out["FINDINGS_TOTAL"] || fmt.Sprint(s.Counts.New) != out["FINDINGS_NEW"] {
		fail("outputs %q against summary.json's counts %+v", out, s.Counts)
	}
	if s.Tags["repository"] != "acme/examples" || s.Tags["ci"] != "github" {
		fail("tags: %q", s.Tags)
	}

	md, err := os.ReadFile(filepath.Join(dir, "job-summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## ❌ Dracon: failed", "**Why it failed**", "secret aws-access-token (gitleaks)",
		"[pyapp/settings.py:4](https://github.com/acme/examples/blob/" + head + "/pyapp/settings.py#L4)", "### Producers", "| gosec | ✅ ok |"} {
		if !bytes.Contains(md, []byte(want)) {
			fail("job summary lacks %q:\n%s", want, md)
		}
	}
	// act shows the step's job summary in its log.
	if !strings.Contains(log, "Summary - ## ❌ Dracon: failed") {
		fail("act logged no job summary")
	}
	if strings.Contains(string(md), "AKIA") && !strings.Contains(string(md), "AKIA****") {
		fail("the secret is in the job summary")
	}

	sarif, err := os.ReadFile(filepath.Join(dir, "dracon.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, sarif)
	for _, want := range []string{`"primaryLocationLineHash"`, `"id": "dracon:scan/gitleaks/`, `"id": "dracon:scan/gosec/`} {
		if !bytes.Contains(sarif, []byte(want)) {
			fail("SARIF lacks %s", want)
		}
	}
}
