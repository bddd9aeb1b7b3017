// Package summary writes summary.json: what CI steps, dashboards and
// Dracon's own checks read after a run. Its shape is documented in
// docs/summary.md and versioned by SchemaVersion; fields are only ever
// added within a version.
package summary

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/policy"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// SchemaVersion is the version of summary.json's shape.
const SchemaVersion = 1

// Summary is summary.json.
type Summary struct {
	SchemaVersion int               `json:"schema_version"`
	DraconVersion string            `json:"dracon_version"`
	ScanID        string            `json:"scan_id"`
	StartedAt     time.Time         `json:"started_at"`
	FinishedAt    time.Time         `json:"finished_at"`
	Source        string            `json:"source"`
	Tags          map[string]string `json:"tags"`
	Verdict       string            `json:"verdict"`
	Reasons       []string          `json:"reasons"`
	ExitCode      int               `json:"exit_code"`
	Counts        Counts            `json:"counts"`
	Producers     []Producer        `json:"producers"`
	Outputs       map[string]string `json:"outputs"`
	RunDir        string            `json:"run_dir"`
	// Baseline is what new was measured against; absent when the baseline
	// enricher is off.
	Baseline *Baseline `json:"baseline,omitempty"`
	// Warnings are what the policies warn of: reported, never failing.
	Warnings []string `json:"warnings,omitempty"`
	// Policy is what the policies decided and which ones did; absent
	// when none was evaluated.
	Policy *Policy `json:"policy,omitempty"`
	// SARIF says what the SARIF file holds of the findings: all of them,
	// or, where GitHub's limits applied, what was dropped to fit.
	SARIF *SARIF `json:"sarif,omitempty"`
	// Consumers are the publishers' deliveries (Jira, Slack, ...), one
	// line each; absent when none is configured.
	Consumers []Consumer `json:"consumers,omitempty"`
}

// Consumer is what one publisher delivered in the run.
type Consumer struct {
	Name string `json:"name"`
	// Status: ok, failed, or dry_run.
	Status string `json:"status"`
	// Findings its filter kept; Filtered, those it left out.
	Findings int `json:"findings"`
	Filtered int `json:"filtered"`
	// Created, Updated and Unchanged count tickets, documents or messages
	// (per finding, or per run for a publisher that sends one message);
	// Failed, what could not be delivered.
	Created   int      `json:"created"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Failed    int      `json:"failed"`
	Errors    []string `json:"errors,omitempty"`
	// AllowFailure: its failure does not fail the run.
	AllowFailure bool  `json:"allow_failure,omitempty"`
	DurationMS   int64 `json:"duration_ms"`
}

// SARIF is the summary's account of the SARIF file.
type SARIF struct {
	Results   int            `json:"results"`
	Kept      int            `json:"kept"`
	GzipBytes int64          `json:"gzip_bytes,omitempty"`
	Dropped   map[string]int `json:"dropped_by_severity,omitempty"`
	Warnings  []string       `json:"warnings,omitempty"`
}

// SARIFOf is the summary's SARIF block.
func SARIFOf(results, kept int, gzipBytes int64, dropped map[string]int, warnings []string) *SARIF {
	if len(dropped) == 0 {
		dropped = nil
	}
	return &SARIF{Results: results, Kept: kept, GzipBytes: gzipBytes, Dropped: dropped, Warnings: warnings}
}

// Policy is the policies' part of the verdict (docs/summary.md).
type Policy struct {
	// Revision is where the repository's policies were read from:
	// "working tree", or "<branch>@<commit>" (a pull request's target).
	Revision string          `json:"revision"`
	Policies []policy.Loaded `json:"policies"`
	Deny     []Violation     `json:"deny"`
	Warn     []Violation     `json:"warn"`
	// Errors are allow policies' errors on single findings.
	Errors []string `json:"errors,omitempty"`
}

// Violation is one deny or warn message.
type Violation struct {
	Rule     string              `json:"rule"`
	Message  string              `json:"message"`
	File     string              `json:"file,omitempty"`
	Findings []policy.FindingRef `json:"findings"`
}

// PolicyOf is the summary's policy block for a decision.
func PolicyOf(revision string, d *policy.Decision, errs []error) *Policy {
	if d == nil {
		return nil
	}
	p := &Policy{Revision: revision, Policies: d.Policies, Deny: violations(d.Deny), Warn: violations(d.Warn)}
	for _, e := range errs {
		p.Errors = append(p.Errors, e.Error())
	}
	return p
}

func violations(vs []policy.Violation) []Violation {
	out := make([]Violation, len(vs))
	for i, v := range vs {
		out[i] = Violation{Rule: v.Rule, Message: v.Message, File: v.File, Findings: v.Findings}
		if out[i].Findings == nil {
			out[i].Findings = []policy.FindingRef{}
		}
	}
	return out
}

// Baseline is what a scan's findings were new against (docs/summary.md).
type Baseline struct {
	// Kind: "branch" (the latest scan of Ref in the findings store),
	// "file" (a file an earlier run wrote) or "previous" (none: new means
	// the store never saw it).
	Kind   string `json:"kind"`
	Ref    string `json:"ref,omitempty"`
	ScanID string `json:"scan_id,omitempty"`
	Commit string `json:"commit,omitempty"`
	File   string `json:"file,omitempty"`
	// DiffFilter is the diff filter applied (absent: none), DiffBase the
	// commit the change was diffed from.
	DiffFilter string `json:"diff_filter,omitempty"`
	DiffBase   string `json:"diff_base,omitempty"`
	// Notes say why a baseline or the diff filter was not used.
	Notes []string `json:"notes,omitempty"`
}

// Counts of findings.
type Counts struct {
	Total      int `json:"total"`
	New        int `json:"new"`
	Suppressed int `json:"suppressed"`
	// Merged counts reports that another tool's report of the same finding
	// stands for (duplicate_of): kept as evidence, counted once in Total.
	Merged int `json:"merged"`
	// Fixed counts the findings the store knew that this scan of a branch
	// no longer reports; with a baseline (a pull request's target branch, a
	// baseline file), the baseline's findings this scan no longer reports.
	Fixed int `json:"fixed"`
	// Existing counts findings that are not new: the baseline has them
	// (or, with none, an earlier scan saw them), within the diff filter.
	Existing int `json:"existing"`
	// OutsideDiff counts findings outside the diff filter: kept, neither
	// new nor existing, not gated. Total = New + Existing + OutsideDiff.
	OutsideDiff int            `json:"outside_diff"`
	BySeverity  map[string]int `json:"by_severity"`
	ByTool      map[string]int `json:"by_tool"`
}

// Producer is one producer's status.
type Producer struct {
	Name            string  `json:"name"`
	Status          string  `json:"status"` // ok | failed | skipped
	Reason          string  `json:"reason,omitempty"`
	AllowFailure    bool    `json:"allow_failure,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
	Findings        int     `json:"findings"`
	ToolVersion     string  `json:"tool_version,omitempty"`
	Report          string  `json:"report,omitempty"`
	Stderr          string  `json:"stderr,omitempty"`
	// Vendored is set when the producer left out vendored and generated
	// files (see docs/summary.md).
	Vendored *Vendored `json:"vendored,omitempty"`
}

// Vendored is what one producer left out as vendored or generated.
type Vendored struct {
	// SkippedFiles counts the vendored and generated files the producer
	// left out: those of the tree it would scan, and those its dropped
	// findings were in.
	SkippedFiles int `json:"skipped_files"`
	// DroppedFindings counts its findings dropped because they were in
	// such files.
	DroppedFindings int `json:"dropped_findings"`
	// List is the file in the run directory that names every skipped
	// file and why ("path<TAB>reason" lines); empty when none was.
	List string `json:"list,omitempty"`
}

// Count fills Counts from enriched results.
func Count(results []*v1.EnrichedLaunchToolResponse) Counts {
	c := Counts{BySeverity: map[string]int{}, ByTool: map[string]int{}}
	for _, s := range []v1.Severity{v1.Severity_SEVERITY_CRITICAL, v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_MEDIUM, v1.Severity_SEVERITY_LOW, v1.Severity_SEVERITY_INFO} {
		c.BySeverity[strings.TrimPrefix(s.String(), "SEVERITY_")] = 0
	}
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		c.ByTool[tool] += 0
		for _, is := range r.GetIssues() {
			c.ByTool[tool]++
			if is.GetDuplicateOf() != "" {
				c.Merged++
				continue
			}
			c.Total++
			c.BySeverity[strings.TrimPrefix(is.GetRawIssue().GetSeverity().String(), "SEVERITY_")]++
			switch {
			case is.GetAnnotations()["dracon.diff"] == "outside": // internal/enrichers/baseline.OutsideDiff
				c.OutsideDiff++
			case is.GetIsNew():
				c.New++
			default:
				c.Existing++
			}
			if is.GetSuppressed() {
				c.Suppressed++
			}
		}
	}
	return c
}

// Write writes s to path as indented JSON.
func Write(path string, s *Summary) error {
	sort.Slice(s.Producers, func(i, j int) bool { return s.Producers[i].Name < s.Producers[j].Name })
	if s.Reasons == nil {
		s.Reasons = []string{}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
