// Package consumers defines the last stage: each consumer publishes the
// enriched findings somewhere. Sub-folders implement them; a consumer
// knows no tool.
package consumers

import (
	"context"
	"sort"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Consumer publishes enriched results.
type Consumer interface {
	String() string
	Consume(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error
}

// Finding is one enriched issue with the tool that found it, for
// consumers that list findings rather than tools.
type Finding struct {
	Tool  string
	Issue *v1.EnrichedIssue
}

// Flatten lists every finding, most severe first, then by tool, location
// and rule, so outputs are stable from run to run.
func Flatten(results []*v1.EnrichedLaunchToolResponse) []Finding {
	var out []Finding
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		for _, is := range r.GetIssues() {
			t := is.GetRawIssue().GetToolName()
			if t == "" {
				t = tool
			}
			out = append(out, Finding{Tool: t, Issue: is})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Issue.GetRawIssue(), out[j].Issue.GetRawIssue()
		if a.GetSeverity() != b.GetSeverity() {
			return a.GetSeverity() > b.GetSeverity()
		}
		if out[i].Tool != out[j].Tool {
			return out[i].Tool < out[j].Tool
		}
		if a.GetLocation().GetPath() != b.GetLocation().GetPath() {
			return a.GetLocation().GetPath() < b.GetLocation().GetPath()
		}
		if a.GetLocation().GetStartLine() != b.GetLocation().GetStartLine() {
			return a.GetLocation().GetStartLine() < b.GetLocation().GetStartLine()
		}
		return a.GetRuleId() < b.GetRuleId()
	})
	return out
}
