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
