package action

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const (
	sevCritical = v1.Severity_SEVERITY_CRITICAL
	sevHigh     = v1.Severity_SEVERITY_HIGH
	sevMedium   = v1.Severity_SEVERITY_MEDIUM
	sevLow      = v1.Severity_SEVERITY_LOW
)

// fixtureReport is a pull request's run: a secret that fails it, new
// findings on changed lines and off them, existing, outside the diff and
// suppressed ones, with texts that need escaping.
func fixtureReport(t *testing.T) *Report {
	ev := readEventFile(t, "pull_request", "pull_request.synchronize.json")
	start := time.Date(2026, 3, 2, 10, 14, 3, 0, time.UTC)
	s := &summary.Summary{
		SchemaVersion: 1, DraconVersion: "v1.0.0", ScanID: "7d45d94b-4fae-44f9-b5f2-fe44d814e249",
		StartedAt: start, FinishedAt: start.Add(42 * time.Second), Source: ".",
		Tags: map[string]string{"repository": "acme/payments", "ref": "refs/pull/42/merge", "commit": "e3b1f0c9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3",
			"event": "pull_request", "ci": "github", "base_ref": "refs/heads/main"},
		Verdict: "failed", ExitCode: 1,
		Reasons: []string{
			"secret aws-access-token (gitleaks) in pyapp/settings.py:4: rotate it, then remove it from the code [dracon.builtin.secrets.deny] https://github.com/acme/payments/blob/8f2d3c1e0b9a7f6e5d4c3b2a19081726354a5b6c/pyapp/settings.py#L4",
			"new high finding G402 (gosec) in goapp/main.go:35, owned by @acme/payments [dracon.builtin.pull_request.deny]",
		},
		Warnings: []string{"data.dracon.exceptions[0] (rule \"G104\"), owned by @acme/platform, expired on 2026-02-28 [dracon.builtin.exceptions.warn]"},
		Counts: summary.Counts{Total: 8, New: 4, Existing: 2, OutsideDiff: 1, Suppressed: 1, Fixed: 2,
			BySeverity: map[string]int{"CRITICAL": 1, "HIGH": 3, "MEDIUM": 2, "LOW": 2, "INFO": 0}, ByTool: map[string]int{"gosec": 5, "gitleaks": 1, "bandit": 2}},
		Producers: []summary.Producer{
			{Name: "gosec", Status: "ok", DurationSeconds: 0.94, Findings: 5, ToolVersion: "2.30.0"},
			{Name: "gitleaks", Status: "ok", DurationSeconds: 0.13, Findings: 1, ToolVersion: "8.30.1"},
			{Name: "bandit", Status: "ok", DurationSeconds: 1.5, Findings: 2, ToolVersion: "1.6.2"},
			{Name: "tfsec", Status: "skipped", Reason: "tfsec is not installed; install it with: dracon tools install tfsec"},
			{Name: "trivy", Status: "failed", AllowFailure: true, DurationSeconds: 125, Reason: "trivy exited 1: FATAL db | download failed"},
		},
		Baseline: &summary.Baseline{Kind: "branch", Ref: "refs/heads/main", ScanID: "0c1d2e3f-aaaa-bbbb-cccc-111122223333",
			Commit: "6dcb09b5b57875f334f61aebed695e2e4193db5e", DiffFilter: "added", DiffBase: "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
		Policy: &summary.Policy{Revision: "main@6dcb09b5b578", Policies: []policy.Loaded{{Package: "dracon.builtin.pull_request"}, {Package: "dracon.builtin.secrets"}}},
	}
	fs := []Finding{
		{Tool: "gitleaks", Rule: "aws-access-token", Title: "Identified a pattern that may indicate AWS credentials", Severity: sevHigh,
			Path: "pyapp/settings.py", Start: 4, New: true, Changed: true, Gate: "deny", Hash: "h1"},
		{Tool: "gosec", Rule: "G402", Title: "TLS InsecureSkipVerify set to true.", Message: "TLS InsecureSkipVerify set to true.\nSee https://pkg.go.dev/crypto/tls", Severity: sevHigh,
			Path: "goapp/main.go", Start: 35, End: 37, New: true, Changed: true, Gate: "deny", Hash: "h2"},
		{Tool: "gosec", Rule: "G101", Title: "Potential hardcoded credentials | <script>alert(1)</script> `x` *bold* [link](http://evil)", Severity: sevCritical,
			Path: "goapp/creds (old).go", Start: 3, New: true, Hash: "h3"},
		{Tool: "bandit", Rule: "B602", Title: "subprocess call with shell=True identified, security issue.", Severity: sevMedium,
			Path: "pyapp/app.py", Start: 12, New: true, Changed: true, Hash: "h4"},
		{Tool: "gosec", Rule: "G104", Title: "Errors unhandled", Severity: sevLow, Path: "goapp/main.go", Start: 20, TimesSeen: 3, Hash: "h5"},
		{Tool: "bandit", Rule: "B404", Title: "Consider possible security implications associated with subprocess module.", Severity: sevLow,
			Path: "pyapp/app.py", Start: 5, End: 6, TimesSeen: 2, Hash: "h6"},
		{Tool: "gosec", Rule: "G501", Title: "Blocklisted import crypto/md5", Severity: sevMedium, Path: "goapp/hash.go", Start: 5, New: true, OutsideDiff: true, Hash: "h7"},
		{Tool: "gosec", Rule: "G401", Title: "Use of weak cryptographic primitive", Severity: sevHigh, Path: "goapp/hash.go", Start: 42,
			Suppressed: true, Reason: "triaged false_positive by alice: md5 keys a cache", Hash: "h8"},
	}
	sortFindings(fs)
	return &Report{Summary: s, Findings: fs, Event: ev, Mode: ModeScan,
		ServerURL: "https://github.com", Repository: "acme/payments", Commit: ev.PullRequest.HeadSHA,
		RunURL:    "https://github.com/acme/payments/actions/runs/9876543210",
		SARIFFile: "/home/runner/work/_temp/dracon/scan-1/dracon.sarif", SummaryFile: "/home/runner/work/_temp/dracon/scan-1/summary.json",
		RunDir: "/home/runner/work/_temp/dracon/scan-1/runs/7d45d94b-4fae-44f9-b5f2-fe44d814e249"}
}

func TestSummaryGoldenPullRequest(t *testing.T) {
	golden(t, "summary-pull-request.md", RenderSummary(fixtureReport(t), 0))
}

func TestSummaryGoldenPushPassed(t *testing.T) {
	ev := readEventFile(t, "push", "push.json")
	start := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	r := &Report{Event: ev, Mode: ModeScan, ServerURL: "https://github.com", Repository: "acme/payments", Commit: ev.Push.After,
		Summary: &summary.Summary{DraconVersion: "v1.0.0", ScanID: "11111111-2222-3333-4444-555555555555", StartedAt: start, FinishedAt: start.Add(3 * time.Second),
			Tags:    map[string]string{"repository": "acme/payments", "ref": "refs/heads/main", "commit": ev.Push.After, "event": "push", "ci": "github"},
			Verdict: "passed", Counts: summary.Counts{BySeverity: map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "INFO": 0}, Fixed: 3},
			Producers: []summary.Producer{{Name: "gosec", Status: "ok", DurationSeconds: 2.2, ToolVersion: "2.30.0"}},
			Baseline:  &summary.Baseline{Kind: "previous", Notes: []string{"no branch context: new is what no earlier scan saw"}}},
		Notes: []string{"SARIF uploaded to code scanning: upload 6f1c, processed"}}
	golden(t, "summary-push-passed.md", RenderSummary(r, 0))
}

func TestSummaryGoldenReleaseGate(t *testing.T) {
	ev := readEventFile(t, "release", "release.published.json")
	start := time.Date(2026, 3, 2, 12, 5, 0, 0, time.UTC)
	r := &Report{Event: ev, Mode: ModeReleaseGate, ServerURL: "https://github.com", Repository: "acme/payments", Commit: "9f3c2a1b7e6d5c4b3a29180f7e6d5c4b3a291807",
		Summary: &summary.Summary{DraconVersion: "v1.0.0", ScanID: "22222222-3333-4444-5555-666666666666", StartedAt: start, FinishedAt: start.Add(time.Second),
			Tags:    map[string]string{"repository": "acme/payments", "ref": "refs/tags/v1.4.0", "commit": "9f3c2a1b7e6d5c4b3a29180f7e6d5c4b3a291807", "event": "release"},
			Verdict: "failed", ExitCode: 1,
			Reasons:   []string{"open high finding G401 (gosec) in crypto/hash.go:12 is 41 days old, past the 14-day SLA of @acme/payments [dracon.builtin.release.deny] https://github.com/acme/payments/blob/9f3c2a1b7e6d5c4b3a29180f7e6d5c4b3a291807/crypto/hash.go#L12"},
			Counts:    summary.Counts{Total: 14, BySeverity: map[string]int{"CRITICAL": 0, "HIGH": 2, "MEDIUM": 9, "LOW": 3, "INFO": 0}},
			Producers: []summary.Producer{{Name: "gosec", Status: "ok", Findings: 11}, {Name: "osv-scanner", Status: "ok", Findings: 3}},
			Outputs:   map[string]string{"check_run": "https://github.com/acme/payments/runs/123"}},
		Notes: []string{"Check run: https://github.com/acme/payments/runs/123"}}
	golden(t, "summary-release-gate.md", RenderSummary(r, 0))
}

func TestCommentGolden(t *testing.T) {
	got := RenderComment(fixtureReport(t), 0)
	if strings.Contains(got, "@acme") {
		t.Error("the comment would notify @acme")
	}
	golden(t, "comment-pull-request.md", got)
}

func TestSummaryEscapes(t *testing.T) {
	md := RenderSummary(fixtureReport(t), 0)
	for _, bad := range []string{"<script>", "[link](http://evil)", "| <script"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary holds %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"[pyapp/settings.py:4](https://github.com/acme/payments/blob/8f2d3c1e0b9a7f6e5d4c3b2a19081726354a5b6c/pyapp/settings.py#L4)",
		"[goapp/main.go:35-37](https://github.com/acme/payments/blob/8f2d3c1e0b9a7f6e5d4c3b2a19081726354a5b6c/goapp/main.go#L35-L37)",
		"(https://github.com/acme/payments/blob/8f2d3c1e0b9a7f6e5d4c3b2a19081726354a5b6c/goapp/creds%20%28old%29.go#L3)",
		"<details>", "Potential hardcoded credentials \\| &lt;script&gt;",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// New findings come first: the first table row is the secret on a changed line.
	i := strings.Index(md, "### New findings (4)")
	if i < 0 || !strings.Contains(md[i:i+300], "gitleaks") {
		t.Errorf("the new findings do not start with the secret:\n%s", md[i:min(len(md), i+400)])
	}
}

// bigReport has n new findings with long titles.
func bigReport(t *testing.T, n int) *Report {
	r := fixtureReport(t)
	r.Findings = nil
	for i := range n {
		r.Findings = append(r.Findings, Finding{Tool: "semgrep", Rule: fmt.Sprintf("rule-%d", i%97), Severity: v1.Severity(1 + i%5),
			Title: strings.Repeat("a very long title that goes on ", 8), Path: fmt.Sprintf("src/module%d/file%d.go", i%50, i), Start: i%400 + 1, New: i%3 != 0, TimesSeen: 1})
	}
	sortFindings(r.Findings)
	r.Summary.Counts.Total = n
	return r
}

func TestSummaryUnderOneMiB(t *testing.T) {
	r := bigReport(t, 20000)
	md := RenderSummary(r, 0)
	if len(md) > MaxSummaryBytes {
		t.Fatalf("summary is %d bytes, over %d", len(md), MaxSummaryBytes)
	}
	if len(md) < MaxSummaryBytes*9/10 {
		t.Errorf("summary is only %d bytes: it should fill the room it has", len(md))
	}
	if !strings.Contains(md, "> Truncated: ") || !strings.Contains(md, "findings are not listed here") {
		t.Error("no truncation note")
	}
	if !strings.Contains(md, "### Producers") || !strings.Contains(md, "<summary>Details</summary>") {
		t.Error("the producers and details must survive truncation")
	}
	if !utf8.ValidString(md) {
		t.Error("invalid UTF-8")
	}
	// A small limit still gives a whole summary, with the note.
	small := RenderSummary(r, 20000)
	if len(small) > 20000 || !strings.Contains(small, "Truncated") || !strings.HasPrefix(small, "## ❌ Dracon: failed") {
		t.Errorf("20 kB summary: %d bytes", len(small))
	}
	// And so does the comment.
	c := RenderComment(r, 0)
	if len(c) > MaxCommentBytes || !strings.Contains(c, "more new findings in the [job summary]") {
		t.Errorf("comment: %d bytes\n%s", len(c), c[:min(len(c), 2000)])
	}
}

func TestSummaryNoTruncationNote(t *testing.T) {
	if md := RenderSummary(fixtureReport(t), 0); strings.Contains(md, "Truncated") {
		t.Error("a small summary says it was truncated")
	}
}
