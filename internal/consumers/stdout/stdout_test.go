package stdout

import (
	"bytes"
	"strings"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// TestTableMerged: a finding two tools reported is one line naming both.
func TestTableMerged(t *testing.T) {
	loc := &v1.Location{Path: "goapp/keys.go", StartLine: 4}
	results := []*v1.EnrichedLaunchToolResponse{
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "gitleaks"}, Issues: []*v1.EnrichedIssue{{IsNew: true, Hash: "h1", SeenBy: []string{"gitleaks", "gosec"},
			RawIssue: &v1.Issue{ToolName: "gitleaks", RuleId: "aws-access-token", Target: "goapp/keys.go:4", Title: "AWS key", Severity: v1.Severity_SEVERITY_HIGH, Location: loc}}}},
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: []*v1.EnrichedIssue{{IsNew: true, Hash: "h2", DuplicateOf: "h1",
			RawIssue: &v1.Issue{ToolName: "gosec", RuleId: "G101", Target: "goapp/keys.go:4", Title: "Potential hardcoded credentials", Severity: v1.Severity_SEVERITY_HIGH, Location: loc}}}},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "gitleaks+gosec") || strings.Contains(b.String(), "G101") {
		t.Errorf("table:\n%s", b.String())
	}
}
