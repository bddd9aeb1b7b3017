package summary

import (
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// TestCountMerged: a finding two tools reported is one finding; each tool's
// own count keeps its report.
func TestCountMerged(t *testing.T) {
	high := &v1.Issue{Severity: v1.Severity_SEVERITY_HIGH}
	results := []*v1.EnrichedLaunchToolResponse{
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "gitleaks"}, Issues: []*v1.EnrichedIssue{
			{RawIssue: high, Hash: "h1", IsNew: true, SeenBy: []string{"gitleaks", "gosec"}}}},
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: []*v1.EnrichedIssue{
			{RawIssue: high, Hash: "h2", IsNew: true, DuplicateOf: "h1"},
			{RawIssue: &v1.Issue{Severity: v1.Severity_SEVERITY_LOW}, Hash: "h3", Suppressed: true}}},
	}
	c := Count(results)
	if c.Total != 2 || c.Merged != 1 || c.New != 1 || c.Suppressed != 1 || c.BySeverity["HIGH"] != 1 || c.BySeverity["LOW"] != 1 ||
		c.ByTool["gitleaks"] != 1 || c.ByTool["gosec"] != 2 {
		t.Errorf("counts = %+v", c)
	}
}

// TestCountBaseline: every finding is new, existing or outside the diff
// filter.
func TestCountBaseline(t *testing.T) {
	is := func(isNew bool, ann map[string]string) *v1.EnrichedIssue {
		return &v1.EnrichedIssue{RawIssue: &v1.Issue{Severity: v1.Severity_SEVERITY_HIGH}, IsNew: isNew, Annotations: ann}
	}
	outside := map[string]string{"dracon.diff": "outside"}
	results := []*v1.EnrichedLaunchToolResponse{{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: []*v1.EnrichedIssue{
		is(true, nil), is(false, nil), is(false, nil), is(false, outside), is(true, map[string]string{"Owner-0": "@a"}),
	}}}
	c := Count(results)
	if c.Total != 5 || c.New != 2 || c.Existing != 2 || c.OutsideDiff != 1 {
		t.Errorf("counts = %+v", c)
	}
}
