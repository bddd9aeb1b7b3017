package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/draconsec/dracon/internal/schematest"
)

// fakeGitHub records what the action asks of GitHub.
type fakeGitHub struct {
	mu        sync.Mutex
	uploads   []Upload
	waits     []string
	comments  []string
	markers   []string
	commentPR []int
	inline    []InlineComment
	commit    string
	uploadErr error
	status    ProcessingStatus
	checkRuns []CheckRun
}

func (f *fakeGitHub) PostCheckRun(_ context.Context, c CheckRun) (CheckRunResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkRuns = append(f.checkRuns, c)
	return CheckRunResult{ID: 7, URL: "https://github.com/" + c.Owner + "/" + c.Repo + "/runs/7", Annotations: len(c.Annotations)}, nil
}

func (f *fakeGitHub) UploadSARIF(_ context.Context, r Upload) (UploadReceipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, r)
	if f.uploadErr != nil {
		return UploadReceipt{}, f.uploadErr
	}
	return UploadReceipt{ID: "6f1c2a9e-upload", GzipBytes: 999}, nil
}

func (f *fakeGitHub) WaitForProcessing(_ context.Context, owner, repo, id string) (ProcessingStatus, error) {
	f.waits = append(f.waits, owner+"/"+repo+"#"+id)
	if f.status.Status == "" {
		return ProcessingStatus{Status: "complete"}, nil
	}
	return f.status, nil
}

func (f *fakeGitHub) UpsertComment(_ context.Context, owner, repo string, pr int, marker, body string) (CommentResult, error) {
	f.comments = append(f.comments, body)
	f.markers = append(f.markers, marker)
	f.commentPR = append(f.commentPR, pr)
	return CommentResult{ID: 1, Created: true}, nil
}

func (f *fakeGitHub) PostReviewComments(_ context.Context, owner, repo string, pr int, commit string, cs []InlineComment) (ReviewOutcome, error) {
	f.inline = append(f.inline, cs...)
	f.commit = commit
	return ReviewOutcome{Posted: len(cs)}, nil
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// actionEnv is a workspace (a git repository: a first commit on main,
// then testdata/repo on a branch) and the variables GitHub Actions sets
// for a pull request's job.
type actionEnv struct {
	vars              map[string]string
	ws, tmp           string
	baseSHA, headSHA  string
	output, summaryMD string
}

func newActionEnv(t *testing.T, event string, payload map[string]any) *actionEnv {
	t.Helper()
	tmp := t.TempDir()
	ws := filepath.Join(tmp, "ws")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, ws, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(ws, "NOTES.md"), []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, ws, "add", "-A")
	git(t, ws, "commit", "-q", "-m", "base")
	e := &actionEnv{ws: ws, tmp: tmp, baseSHA: git(t, ws, "rev-parse", "HEAD")}
	git(t, ws, "checkout", "-q", "-b", "refunds")
	copyDir(t, filepath.Join("testdata", "repo"), ws)
	git(t, ws, "add", "-A")
	git(t, ws, "commit", "-q", "-m", "refunds")
	e.headSHA = git(t, ws, "rev-parse", "HEAD")

	if payload == nil {
		payload = map[string]any{}
	}
	if pr, ok := payload["pull_request"].(map[string]any); ok {
		pr["base"].(map[string]any)["sha"] = e.baseSHA
		pr["head"].(map[string]any)["sha"] = e.headSHA
	}
	data, _ := json.Marshal(payload)
	eventPath := filepath.Join(tmp, "event.json")
	if err := os.WriteFile(eventPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.output, e.summaryMD = filepath.Join(tmp, "output"), filepath.Join(tmp, "summary.md")
	for _, f := range []string{e.output, e.summaryMD, filepath.Join(tmp, "env")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := "refs/heads/refunds"
	if event == EventPullRequest {
		ref = "refs/pull/42/merge"
	}
	e.vars = map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true",
		"GITHUB_REPOSITORY": "acme/payments", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
		"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": eventPath, "GITHUB_SHA": e.headSHA, "GITHUB_REF": ref,
		"GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": e.output, "GITHUB_STEP_SUMMARY": e.summaryMD, "GITHUB_ENV": filepath.Join(tmp, "env"),
		"GITHUB_RUN_ID": "9876543210", "GITHUB_JOB": "scan", "GITHUB_WORKFLOW_REF": "acme/payments/.github/workflows/security.yml@" + ref,
		"RUNNER_TEMP":  filepath.Join(tmp, "runner-temp"),
		"INPUT_SOURCE": ws, "INPUT_STORE": filepath.Join(tmp, "findings.db"), "INPUT_TOKEN": "ghs_0123456789abcdefSECRET",
		"INPUT_MATRIX": "null",
	}
	if event == EventPullRequest {
		e.vars["GITHUB_BASE_REF"], e.vars["GITHUB_HEAD_REF"] = "main", "refunds"
	}
	return e
}

func prPayload(number int, headRepo string) map[string]any {
	repo := map[string]any{"full_name": "acme/payments", "default_branch": "main"}
	return map[string]any{
		"action": "synchronize", "number": number,
		"pull_request": map[string]any{"number": number, "html_url": "https://github.com/acme/payments/pull/42",
			"head": map[string]any{"ref": "refunds", "sha": "", "repo": map[string]any{"full_name": headRepo}},
			"base": map[string]any{"ref": "main", "sha": "", "repo": repo}},
		"repository": repo,
	}
}

func (e *actionEnv) outputs(t *testing.T) map[string]string {
	data, err := os.ReadFile(e.output)
	if err != nil {
		t.Fatal(err)
	}
	return parseOutputs(t, string(data))
}

func runAction(t *testing.T, e *actionEnv, gh GitHub, extra map[string]string) (int, string) {
	t.Helper()
	vars := map[string]string{}
	for k, v := range e.vars {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	var out bytes.Buffer
	code := Run(context.Background(), Options{Stdout: &out, Getenv: envMap(vars), Version: "v0.0.0-test",
		GitHub: func(token, apiURL string) (GitHub, error) {
			if token != vars["INPUT_TOKEN"] || apiURL != "https://api.github.com" {
				t.Errorf("client for %q %q", token, apiURL)
			}
			return gh, nil
		}})
	return code, out.String()
}

func TestRunPullRequest(t *testing.T) {
	e := newActionEnv(t, EventPullRequest, prPayload(42, "acme/payments"))
	gh := &fakeGitHub{}
	code, log := runAction(t, e, gh, map[string]string{"INPUT_PR_COMMENT": "inline", "INPUT_CATEGORY": ""})
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a high finding, fail_on: high)\n%s", code, log)
	}
	// The token is masked first and never printed.
	if !strings.HasPrefix(log, "::add-mask::ghs_0123456789abcdefSECRET\n") {
		t.Errorf("the log does not start with the mask:\n%s", log[:min(200, len(log))])
	}
	if strings.Count(log, "ghs_0123456789abcdefSECRET") != 1 {
		t.Error("the token is printed")
	}
	for _, want := range []string{"::group::Dracon: scan of ", "::group::sarif: ok, 2 findings", "::endgroup::",
		"::error file=app.py,line=5,title=HIGH semgrep python.lang.security.audit.subprocess-shell-true (new)::",
		"::warning file=app.py,line=10,", "::error title=Dracon%3A failed (exit 1)::"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}

	out := e.outputs(t)
	if out["verdict"] != "failed" || out["findings-total"] != "2" || out["findings-new"] != "2" || out["max-severity"] != "high" ||
		out["sarif-id"] != "6f1c2a9e-upload" {
		t.Errorf("outputs: %q", out)
	}
	for _, k := range []string{"sarif-file", "summary-file", "run-dir"} {
		if _, err := os.Stat(out[k]); err != nil || !strings.HasPrefix(out[k], e.vars["RUNNER_TEMP"]) {
			t.Errorf("output %s = %q: %v (want a path under RUNNER_TEMP)", k, out[k], err)
		}
	}

	md, _ := os.ReadFile(e.summaryMD)
	for _, want := range []string{"## ❌ Dracon: failed", "### New findings (2)",
		"[app.py:5](https://github.com/acme/payments/blob/" + e.headSHA + "/app.py#L5)", "on a changed line", "### Producers", "SARIF uploaded to code scanning: upload 6f1c2a9e-upload, processed"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("job summary lacks %q:\n%s", want, md)
		}
	}

	if len(gh.uploads) != 1 {
		t.Fatalf("%d uploads", len(gh.uploads))
	}
	up := gh.uploads[0]
	if up.Owner != "acme" || up.Repo != "payments" || up.CommitSHA != e.headSHA || up.Ref != "refs/pull/42/merge" || up.CheckoutURI != e.ws || up.Fork {
		t.Errorf("upload: %+v", up)
	}
	schematest.ValidateSARIF(t, up.SARIF)
	// The run's category is the job's (workflow, job), then the tool;
	// each result has code scanning's line hash of its line.
	if !bytes.Contains(up.SARIF, []byte(`"id": ".github/workflows/security.yml:scan/semgrep/`)) {
		t.Errorf("the uploaded SARIF's run has no category of the job:\n%s", up.SARIF)
	}
	if n := bytes.Count(up.SARIF, []byte(`"primaryLocationLineHash"`)); n != 2 {
		t.Errorf("%d results with primaryLocationLineHash, want 2", n)
	}
	onDisk, _ := os.ReadFile(out["sarif-file"])
	if !bytes.Equal(onDisk, up.SARIF) {
		t.Error("the sarif-file output is not what was uploaded")
	}
	if len(gh.waits) != 1 {
		t.Errorf("waits: %q", gh.waits)
	}
	env, _ := os.ReadFile(e.vars["GITHUB_ENV"])
	if !strings.Contains(string(env), "DRACON_SARIF_UPLOADED_") {
		t.Errorf("no upload sentinel in GITHUB_ENV: %q", env)
	}

	if len(gh.comments) != 1 || gh.commentPR[0] != 42 || !strings.Contains(gh.comments[0], "## ❌ Dracon: failed") {
		t.Errorf("comments: %q", gh.comments)
	}
	if len(gh.inline) != 2 || gh.commit != e.headSHA || gh.inline[0].Path != "app.py" || gh.inline[0].Line != 5 ||
		!strings.HasPrefix(gh.inline[0].Body, "<!-- dracon:finding ") {
		t.Errorf("inline comments at %s: %+v", gh.commit, gh.inline)
	}
}

func TestRunSecondUploadOfACategory(t *testing.T) {
	e := newActionEnv(t, EventPush, map[string]any{"ref": "refs/heads/refunds"})
	gh := &fakeGitHub{}
	runAction(t, e, gh, nil)
	env, _ := os.ReadFile(e.vars["GITHUB_ENV"])
	name, _, _ := strings.Cut(string(env), "<<")
	// A later step of the job sees the sentinel in its environment.
	e.vars[name] = "6f1c2a9e-upload"
	if err := os.WriteFile(e.output, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, log := runAction(t, e, gh, nil)
	if len(gh.uploads) != 1 || !strings.Contains(log, "an earlier step of this job uploaded SARIF with the same category") {
		t.Errorf("uploads %d; log:\n%s", len(gh.uploads), log)
	}
}

func TestRunForkPullRequest(t *testing.T) {
	e := newActionEnv(t, EventPullRequest, prPayload(43, "mallory/payments"))
	gh := &fakeGitHub{}
	code, log := runAction(t, e, gh, map[string]string{"INPUT_PR_COMMENT": "summary"})
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if len(gh.uploads) != 0 || len(gh.comments) != 0 {
		t.Errorf("a fork's pull request uploaded %d, commented %d", len(gh.uploads), len(gh.comments))
	}
	for _, want := range []string{"::notice title=Dracon%3A SARIF not uploaded::a fork's pull request has a read-only token",
		"::notice title=Dracon%3A no pull request comment::a fork's pull request has a read-only token"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if out := e.outputs(t); out["sarif-id"] != "" || out["verdict"] != "failed" {
		t.Errorf("outputs: %q", out)
	}
}

func TestRunUploadFailureDoesNotFailTheStep(t *testing.T) {
	e := newActionEnv(t, EventPush, map[string]any{"ref": "refs/heads/refunds"})
	// A gate that passes: only the upload goes wrong.
	gh := &fakeGitHub{uploadErr: errors.New("github: upload SARIF: HTTP 403: Resource not accessible by integration (hint: permissions: security-events: write)")}
	code, log := runAction(t, e, gh, map[string]string{"INPUT_FAIL_ON": "none", "INPUT_POLICY": "testdata/pass.rego"})
	if code != 0 {
		t.Errorf("exit %d, want 0: an upload error must not fail the step\n%s", code, log)
	}
	if !strings.Contains(log, "::warning title=Dracon%3A SARIF upload failed::github: upload SARIF: HTTP 403") {
		t.Errorf("no warning:\n%s", log)
	}
	md, _ := os.ReadFile(e.summaryMD)
	if !strings.Contains(string(md), "## ✅ Dracon: passed") || !strings.Contains(string(md), "SARIF upload failed") {
		t.Errorf("summary:\n%s", md)
	}
}

func TestRunOutsideActions(t *testing.T) {
	// No GITHUB_OUTPUT, GITHUB_STEP_SUMMARY or event: no panic, the
	// outputs are logged and the summary is kept beside them.
	e := newActionEnv(t, "", nil)
	for _, k := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_EVENT_PATH", "GITHUB_EVENT_NAME", "GITHUB_ACTIONS"} {
		delete(e.vars, k)
	}
	gh := &fakeGitHub{}
	code, log := runAction(t, e, gh, nil)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(log, "dracon: output verdict=failed (GITHUB_OUTPUT is not set)") || !strings.Contains(log, "job-summary.md") {
		t.Errorf("log:\n%s", log)
	}
	if len(gh.uploads) != 0 {
		t.Error("uploaded outside Actions with upload-sarif: auto")
	}
}

func TestRunBadInputs(t *testing.T) {
	e := newActionEnv(t, EventPush, nil)
	code, log := runAction(t, e, &fakeGitHub{}, map[string]string{"INPUT_FAIL_ON": "severe", "INPUT_MODE": "audit"})
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.HasPrefix(log, "::add-mask::") || !strings.Contains(log, "::error title=Dracon%3A bad input::input fail-on:") ||
		!strings.Contains(log, "::error title=Dracon%3A bad input::input mode:") {
		t.Errorf("log:\n%s", log)
	}
}

func TestMaskDSN(t *testing.T) {
	for dsn, want := range map[string][]string{
		// Workflow commands escape % as %25; the runner unescapes.
		"postgres://dracon:p%40ss@db:5432/dracon":             {"::add-mask::postgres://dracon:p%2540ss@db:5432/dracon", "::add-mask::p@ss", "::add-mask::p%2540ss"},
		"host=db user=dracon password='s3cret' dbname=dracon": {"::add-mask::host=db user=dracon password='s3cret' dbname=dracon", "::add-mask::s3cret"},
		".dracon/findings.db":                                 nil,
	} {
		var out bytes.Buffer
		a := &run{gha: newTestGHA(&out)}
		a.maskDSN(dsn)
		for _, w := range want {
			if !strings.Contains(out.String(), w+"\n") {
				t.Errorf("%s: no %q in %q", dsn, w, out.String())
			}
		}
		if want == nil && out.Len() > 0 {
			t.Errorf("%s masked: %q", dsn, out.String())
		}
	}
}

func TestRunReleaseGate(t *testing.T) {
	e := newActionEnv(t, EventRelease, map[string]any{"action": "published", "release": map[string]any{"tag_name": "v1.4.0"},
		"repository": map[string]any{"full_name": "acme/payments"}})
	var gotArgs []string
	var gotToken, gotStore string
	gate := func(_ context.Context, args []string, getenv func(string) string, stdout, _ io.Writer) int {
		gotArgs, gotToken, gotStore = args, getenv("GITHUB_TOKEN"), getenv("DRACON_STORE")
		var path string
		for i, a := range args {
			if a == "--summary" {
				path = args[i+1]
			}
		}
		io.WriteString(stdout, "release gate: acme/payments at ...\n")
		s := `{"schema_version":1,"scan_id":"g1","verdict":"failed","exit_code":1,"tags":{"commit":"` + e.headSHA + `","event":"release"},` +
			`"reasons":["open critical finding G101 (gosec) in a.go:3 [dracon.builtin.release.deny]"],` +
			`"counts":{"total":3,"by_severity":{"CRITICAL":1,"HIGH":0,"MEDIUM":2,"LOW":0,"INFO":0}},"outputs":{"check_run":"https://github.com/acme/payments/runs/5"}}`
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return 1
	}
	var out bytes.Buffer
	vars := e.vars
	vars["INPUT_MODE"] = "release-gate"
	vars["INPUT_POLICY"] = "builtin:default"
	code := Run(context.Background(), Options{Stdout: &out, Getenv: envMap(vars), ReleaseGate: gate})
	if code != 1 {
		t.Errorf("exit %d\n%s", code, out.String())
	}
	joined := strings.Join(gotArgs, " ")
	for _, want := range []string{"--context release --source " + e.ws + " --summary ", "--policy builtin:default", "--check-run"} {
		if !strings.Contains(joined, want) {
			t.Errorf("gate args %q lack %q", joined, want)
		}
	}
	if gotToken != vars["INPUT_TOKEN"] || gotStore != vars["INPUT_STORE"] {
		t.Errorf("the gate's GITHUB_TOKEN %q, DRACON_STORE %q", gotToken, gotStore)
	}
	o := e.outputs(t)
	if o["verdict"] != "failed" || o["findings-total"] != "3" || o["max-severity"] != "critical" || o["findings-new"] != "0" {
		t.Errorf("outputs: %q", o)
	}
	md, _ := os.ReadFile(e.summaryMD)
	if !strings.Contains(string(md), "## ❌ Dracon release gate: failed") || !strings.Contains(string(md), "Check run: https://github.com/acme/payments/runs/5") {
		t.Errorf("summary:\n%s", md)
	}
	if !strings.Contains(out.String(), "::group::Dracon: release gate\nrelease gate: acme/payments") {
		t.Errorf("log:\n%s", out.String())
	}
}

// TestRunMonorepoSource: a scan of a folder of the repository reports
// paths from the repository's root, in annotations, links and the SARIF
// code scanning reads.
func TestRunMonorepoSource(t *testing.T) {
	e := newActionEnv(t, EventPush, map[string]any{"ref": "refs/heads/refunds"})
	sub := filepath.Join(e.ws, "services", "payments")
	copyDir(t, filepath.Join("testdata", "repo"), sub)
	git(t, e.ws, "add", "-A")
	git(t, e.ws, "commit", "-q", "-m", "payments")
	gh := &fakeGitHub{}
	code, log := runAction(t, e, gh, map[string]string{"INPUT_SOURCE": sub, "INPUT_CATEGORY": "payments"})
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if !strings.Contains(log, "::error file=services/payments/app.py,line=5,") {
		t.Errorf("annotation path not from the root:\n%s", log)
	}
	if len(gh.uploads) != 1 {
		t.Fatal("no upload")
	}
	sarif := gh.uploads[0].SARIF
	schematest.ValidateSARIF(t, sarif)
	if !bytes.Contains(sarif, []byte(`"uri":"services/payments/app.py"`)) || !bytes.Contains(sarif, []byte(`"id":"payments/semgrep/`)) {
		t.Errorf("SARIF URIs or category:\n%s", sarif)
	}
	md, _ := os.ReadFile(e.summaryMD)
	if !strings.Contains(string(md), "/blob/"+e.headSHA+"/services/payments/app.py#L5") || !strings.Contains(string(md), "folder `services/payments`") {
		t.Errorf("summary links:\n%s", md)
	}
}

func TestCommentMarker(t *testing.T) {
	if m := commentMarker(Inputs{Matrix: "null"}); m != "" {
		t.Errorf("one scan a job: %q, want ghapi's default", m)
	}
	a, b := commentMarker(Inputs{Matrix: `{"team":"payments"}`}), commentMarker(Inputs{Matrix: `{"team":"web"}`})
	if a == "" || a == b || !strings.HasPrefix(a, "<!-- dracon:summary ") || !strings.HasSuffix(a, " -->") {
		t.Errorf("matrix legs: %q %q", a, b)
	}
	if commentMarker(Inputs{Category: "payments"}) == commentMarker(Inputs{Category: "web"}) {
		t.Error("categories share a marker")
	}
}

func TestRunScanError(t *testing.T) {
	// A policy that does not compile stops the run before any scanner:
	// exit 2, the outputs and a summary that says why.
	e := newActionEnv(t, EventPush, nil)
	bad := filepath.Join(e.tmp, "bad.rego")
	if err := os.WriteFile(bad, []byte("package bad\n\ndeny contains msg if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, log := runAction(t, e, &fakeGitHub{}, map[string]string{"INPUT_POLICY": bad})
	if code != 2 || !strings.Contains(log, "::error title=Dracon%3A the scan failed::") {
		t.Errorf("exit %d:\n%s", code, log)
	}
	if out := e.outputs(t); out["verdict"] != "failed" {
		t.Errorf("outputs: %q", out)
	}
	md, _ := os.ReadFile(e.summaryMD)
	if !strings.HasPrefix(string(md), "## ❌ Dracon: the scan failed (exit 2)") || !strings.Contains(string(md), "bad.rego") {
		t.Errorf("summary: %s", md)
	}
}

// TestRunCheckRun: check-run: true posts dracon/scan on the pull
// request's head, failed with the gate, each located finding an
// annotation (the API batches them 50 a request: internal/ghapi).
func TestRunCheckRun(t *testing.T) {
	e := newActionEnv(t, EventPullRequest, prPayload(42, "acme/payments"))
	gh := &fakeGitHub{}
	code, log := runAction(t, e, gh, map[string]string{"INPUT_CHECK_RUN": "true"})
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if len(gh.checkRuns) != 1 {
		t.Fatalf("%d check runs\n%s", len(gh.checkRuns), log)
	}
	c := gh.checkRuns[0]
	if c.Name != "dracon/scan" || c.Conclusion != "failure" || c.HeadSHA != e.headSHA || c.Owner != "acme" || c.Repo != "payments" ||
		len(c.Annotations) != 2 || c.Annotations[0].Path != "app.py" || c.Annotations[0].Level != "failure" || c.ExternalID == "" {
		t.Errorf("check run %+v", c)
	}
	if !strings.Contains(log, "posted the dracon/scan check run (failure) with 2 annotations") {
		t.Errorf("log:\n%s", log)
	}
	// Off by default.
	gh2 := &fakeGitHub{}
	e2 := newActionEnv(t, EventPullRequest, prPayload(42, "acme/payments"))
	runAction(t, e2, gh2, nil)
	if len(gh2.checkRuns) != 0 {
		t.Errorf("a check run without check-run: true")
	}
}
