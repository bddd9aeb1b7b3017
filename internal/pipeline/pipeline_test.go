package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/producers/bandit"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/trivy"
	"github.com/draconsec/dracon/internal/schematest"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/encoding/protojson"
)

func testConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml), ConfigNames())
	if err != nil {
		t.Fatal(err)
	}
	c.Enrichers.Dedup.Store = filepath.Join(t.TempDir(), "findings.db")
	return c
}

func run(t *testing.T, c *config.Config, src string) (*Result, string) {
	t.Helper()
	res, out, _ := runLog(t, c, src)
	return res, out
}

// runLog is run, also returning the log.
func runLog(t *testing.T, c *config.Config, src string) (*Result, string, string) {
	t.Helper()
	out := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{
		Config: c, Source: src, Out: out, RunRoot: filepath.Join(out, "runs"), Log: &log, Version: "test",
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, log.String())
	}
	// Progress: every producer that ran is logged starting and finishing
	// with its duration and finding count.
	for _, p := range res.Summary.Producers {
		want := []string{"dracon: " + p.Name + " started"}
		switch p.Status {
		case "ok":
			want = append(want, fmt.Sprintf("dracon: %s finished in ", p.Name), fmt.Sprintf(": %d findings", p.Findings))
		case "failed":
			want = append(want, "dracon: "+p.Name+" FAILED after ")
		default:
			want = append(want, "dracon: "+p.Name+" skipped: ")
		}
		for _, w := range want {
			if !strings.Contains(log.String(), w) {
				t.Errorf("log lacks %q:\n%s", w, log.String())
			}
		}
	}
	return res, out, log.String()
}

func findings(res *Result) []string {
	var lines []string
	for _, r := range res.Results {
		for _, is := range r.Issues {
			ri := is.RawIssue
			lines = append(lines, fmt.Sprintf("%s %s %s:%d %s", ri.ToolName, ri.RuleId, ri.Location.GetPath(), ri.Location.GetStartLine(),
				strings.TrimPrefix(ri.Severity.String(), "SEVERITY_")))
		}
	}
	sort.Strings(lines)
	return lines
}

// TestExamples runs the real gosec and bandit on examples/ (auto-detected)
// and checks every finding, the summary, the SARIF, and dedup on a
// second scan.
func TestExamples(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	producertest.RequireTool(t, bandit.Producer)
	producertest.RequireTool(t, gitleaks.Producer)
	c, err := config.Load("../../examples/dracon.yaml", ConfigNames())
	if err != nil {
		t.Fatal(err)
	}
	c.Enrichers.Dedup.Store = filepath.Join(t.TempDir(), "findings.db")
	res, out := run(t, c, "../../examples")

	want := []string{
		"bandit B301 pyapp/app.py:27 MEDIUM",
		"bandit B303 pyapp/app.py:31 MEDIUM",
		"bandit B307 pyapp/app.py:35 MEDIUM",
		"bandit B403 pyapp/app.py:3 LOW",
		"bandit B404 pyapp/app.py:5 LOW",
		"bandit B506 pyapp/app.py:22 MEDIUM",
		"bandit B602 pyapp/app.py:12 HIGH",
		"gitleaks aws-access-token pyapp/settings.py:4 HIGH",
		"gosec G104 goapp/main.go:20 LOW",
		"gosec G104 goapp/main.go:28 LOW",
		"gosec G104 goapp/main.go:50 LOW",
		"gosec G114 goapp/main.go:50 MEDIUM",
		"gosec G201 goapp/main.go:25 MEDIUM",
		"gosec G204 goapp/main.go:19 MEDIUM",
		"gosec G303 goapp/main.go:48 MEDIUM",
		"gosec G306 goapp/main.go:48 MEDIUM",
		"gosec G401 goapp/main.go:42 MEDIUM",
		"gosec G402 goapp/main.go:35 HIGH",
		"gosec G501 goapp/main.go:5 MEDIUM",
		"gosec G701 goapp/main.go:26 HIGH",
		"gosec G702 goapp/main.go:19 HIGH",
		"gosec G705 goapp/main.go:20 MEDIUM",
	}
	if got := findings(res); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var s summary.Summary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Verdict != gate.Failed || s.ExitCode != gate.ExitFindings || s.Counts.Total != 22 || s.Counts.New != 22 ||
		s.Counts.BySeverity["HIGH"] != 5 || s.Counts.ByTool["gitleaks"] != 1 || s.Counts.ByTool["gosec"] != 14 || s.Counts.ByTool["bandit"] != 7 ||
		s.SchemaVersion != 1 {
		t.Errorf("summary = %s", b)
	}
	status := map[string]string{}
	for _, p := range s.Producers {
		status[p.Name] = p.Status
		if p.Status == "failed" {
			t.Errorf("producer %s failed: %s", p.Name, p.Reason)
		}
	}
	if len(status) != 3 || status["gosec"] != "ok" || status["bandit"] != "ok" || status["gitleaks"] != "ok" {
		t.Errorf("statuses = %v", status)
	}
	// The bundled policies: the AWS key fails the run whatever the event;
	// a local run's new high findings are warned of, not failed on.
	wantReason := "secret aws-access-token (gitleaks) in pyapp/settings.py:4: rotate it, then remove it from the code [dracon.builtin.secrets.deny]"
	if len(s.Reasons) != 1 || s.Reasons[0] != wantReason || s.ExitCode != gate.ExitFindings {
		t.Errorf("exit %d, reasons = %q", s.ExitCode, s.Reasons)
	}
	if len(s.Warnings) != 5 || s.Policy == nil || len(s.Policy.Deny) != 1 || len(s.Policy.Warn) != 5 || s.Policy.Revision != "working tree" {
		t.Errorf("warnings %q, policy %+v", s.Warnings, s.Policy)
	}
	// The AWS key in examples/pyapp/settings.py reaches no output and no
	// file of the run: not the SARIF, the summary, the protobuf files, nor
	// gitleaks' own report (it runs with --redact).
	const secret = "AKIAQ2DRACONDEMOFAKE"
	err = filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds the secret", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sumDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	sch, err := jsonschema.NewCompiler().Compile("../../docs/summary.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(sumDoc); err != nil {
		t.Errorf("summary.json does not match docs/summary.schema.json: %v", err)
	}
	sarif, err := os.ReadFile(filepath.Join(out, "dracon.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, sarif)
	for _, f := range []string{"gosec.report", "gosec.stderr", "gosec.launch.pb", "gosec.enriched.pb", "bandit.report", "bandit.enriched.pb", "summary.json"} {
		if _, err := os.Stat(filepath.Join(s.RunDir, f)); err != nil {
			t.Errorf("run directory lacks %s", f)
		}
	}

	// A second scan with the same store: nothing is new, so nothing is
	// warned of, and a gate on new findings passes; the secret still fails.
	c.Gate.NewOnly, c.Gate.FailOn = true, "high"
	res2, _ := run(t, c, "../../examples")
	if s2 := res2.Summary; s2.Counts.New != 0 || s2.Verdict != gate.Failed || len(s2.Reasons) != 1 || s2.Reasons[0] != wantReason || len(s2.Warnings) != 0 {
		t.Errorf("second scan: new=%d verdict=%s reasons=%q warnings=%q", s2.Counts.New, s2.Verdict, s2.Reasons, s2.Warnings)
	}
	for _, r := range res2.Results {
		for _, is := range r.Issues {
			if is.Count != 2 || !is.FirstSeen.AsTime().Before(is.LastSeen.AsTime()) {
				t.Fatalf("second scan: count=%d first=%v last=%v", is.Count, is.FirstSeen.AsTime(), is.LastSeen.AsTime())
			}
		}
	}
}

// TestBrokenProducer: one producer's report cannot be parsed; it is
// reported with tool, file and reason, its sibling's results are kept, and
// the run fails closed unless the config allows that producer to fail.
func TestBrokenProducer(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "codeql.sarif")
	if err := os.WriteFile(bad, []byte(`{"version":"2.1.0","runs":[{"tool":`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow_failure=%v", allow), func(t *testing.T) {
			producertest.RequireTool(t, bandit.Producer)
			c := testConfig(t, fmt.Sprintf("producers:\n  sarif:\n    paths: [%q]\n    allow_failure: %v\n  bandit: {}\ngate:\n  fail_on: critical\n", bad, allow))
			res, _ := run(t, c, "../../examples")
			s := res.Summary
			var sarifStatus, banditStatus summary.Producer
			for _, p := range s.Producers {
				switch p.Name {
				case "sarif":
					sarifStatus = p
				case "bandit":
					banditStatus = p
				}
			}
			if sarifStatus.Status != "failed" || !strings.Contains(sarifStatus.Reason, "codeql.sarif") || !strings.Contains(sarifStatus.Reason, "byte") {
				t.Errorf("sarif status = %+v", sarifStatus)
			}
			if banditStatus.Status != "ok" || banditStatus.Findings != 7 || s.Counts.Total != 7 {
				t.Errorf("bandit status = %+v, total %d", banditStatus, s.Counts.Total)
			}
			wantExit, wantVerdict := gate.ExitError, gate.Failed
			if allow {
				wantExit, wantVerdict = gate.ExitPass, gate.Passed
			}
			if s.ExitCode != wantExit || s.Verdict != wantVerdict {
				t.Errorf("exit %d verdict %s, want %d %s (reasons %q)", s.ExitCode, s.Verdict, wantExit, wantVerdict, s.Reasons)
			}
		})
	}
}

// TestMissingScanner: a producer whose scanner is not installed is
// skipped with the command that installs it, never silently.
func TestMissingScanner(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DRACON_TOOLS_DIR", t.TempDir())
	c := testConfig(t, "producers:\n  bandit: {}\n")
	res, _ := run(t, c, "../../examples")
	p := res.Summary.Producers[0]
	if p.Status != "skipped" || !strings.Contains(p.Reason, "apt-get install bandit") {
		t.Errorf("bandit = %+v", p)
	}
}

// TestConsumerFailure: a consumer that cannot write does not hide the
// verdict: the run reports it and fails closed, and summary.json is still
// written.
func TestConsumerFailure(t *testing.T) {
	report := filepath.Join(producertest.CorpusDir(t), "sarif-wild", "gosec_aws-ssm_gosec.sarif")
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := testConfig(t, fmt.Sprintf("producers:\n  sarif:\n    paths: [%q]\nconsumers:\n  sarif:\n    path: %q\n", report, filepath.Join(blocker, "out.sarif")))
	res, out := run(t, c, t.TempDir())
	s := res.Summary
	if s.ExitCode != gate.ExitError || s.Counts.Total != 6 || len(s.Reasons) != 1 || !strings.HasPrefix(s.Reasons[0], "consumer sarif failed") {
		t.Errorf("exit %d, total %d, reasons %q", s.ExitCode, s.Counts.Total, s.Reasons)
	}
	if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
		t.Error(err)
	}
}

// TestSecretsHiddenAcrossTools: a token gitleaks finds in a Dockerfile is
// also in the line trivy quotes for its misconfiguration check. It must be
// hidden there too, and in every file of the run.
func TestSecretsHiddenAcrossTools(t *testing.T) {
	producertest.RequireTool(t, gitleaks.Producer)
	producertest.RequireTool(t, trivy.Producer)
	// Built at run time, so the repository holds no token-like string.
	token := "ghp_" + strings.Repeat("Dr4c0nFakeT0k3n", 3)[:36]
	src := t.TempDir()
	dockerfile := "FROM alpine:3.19\nENV GITHUB_TOKEN=" + token + "\nRUN apk add curl\n"
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testConfig(t, "producers:\n  gitleaks: {}\n  trivy: {}\n")
	res, out := run(t, c, src)
	byTool := res.Summary.Counts.ByTool
	if byTool["gitleaks"] == 0 || byTool["trivy"] == 0 {
		t.Fatalf("findings by tool = %v", byTool)
	}
	quoted := false
	for _, r := range res.Results {
		for _, is := range r.Issues {
			b, _ := protojson.Marshal(is)
			if strings.Contains(string(b), token) {
				t.Errorf("%s finding holds the token: %s", r.OriginalResults.ToolName, b)
			}
			if r.OriginalResults.ToolName == "trivy" && strings.Contains(is.RawIssue.GetContextSegment(), "GITHUB_TOKEN=ghp_****REDACTED****") {
				quoted = true
			}
		}
	}
	if !quoted {
		t.Error("no trivy finding quotes the Dockerfile line with the token hidden")
	}
	err := filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(token)) {
			t.Errorf("%s holds the token", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
