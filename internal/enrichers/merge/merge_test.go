package merge

import (
	"context"
	"reflect"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// TestOneSecretTwoTools: the issue's own example — an AWS key in a Go
// constant reported by gosec (G101) and gitleaks on the same line is one
// finding.
func TestOneSecretTwoTools(t *testing.T) {
	gitleaks := &v1.EnrichedIssue{Hash: "h-gitleaks", IsNew: true, RawIssue: &v1.Issue{
		ToolName: "gitleaks", RuleId: "aws-access-token", Severity: v1.Severity_SEVERITY_HIGH, Confidence: v1.Confidence_CONFIDENCE_MEDIUM,
		Location: &v1.Location{Path: "goapp/keys.go", StartLine: 4, EndLine: 4}, Fingerprint: "sha256:0f"}}
	gosec := &v1.EnrichedIssue{Hash: "h-gosec", IsNew: true, RawIssue: &v1.Issue{
		ToolName: "gosec", RuleId: "G101", Severity: v1.Severity_SEVERITY_HIGH, Confidence: v1.Confidence_CONFIDENCE_LOW,
		Location: &v1.Location{Path: "goapp/keys.go", StartLine: 4, EndLine: 4}}}
	other := &v1.EnrichedIssue{Hash: "h-other", IsNew: true, RawIssue: &v1.Issue{
		ToolName: "gosec", RuleId: "G104", Severity: v1.Severity_SEVERITY_LOW,
		Location: &v1.Location{Path: "goapp/keys.go", StartLine: 4, EndLine: 4}}}
	results := []*v1.EnrichedLaunchToolResponse{
		{Issues: []*v1.EnrichedIssue{gosec, other}},
		{Issues: []*v1.EnrichedIssue{gitleaks}},
	}
	if err := (Enricher{}).Enrich(context.Background(), nil, results); err != nil {
		t.Fatal(err)
	}
	// Both HIGH: the first by tool name, gitleaks, stands for the finding.
	if gitleaks.DuplicateOf != "" || gosec.DuplicateOf != "h-gitleaks" {
		t.Fatalf("duplicate_of: gitleaks %q, gosec %q", gitleaks.DuplicateOf, gosec.DuplicateOf)
	}
	if !reflect.DeepEqual(gitleaks.SeenBy, []string{"gitleaks", "gosec"}) {
		t.Errorf("seen_by = %v", gitleaks.SeenBy)
	}
	if gitleaks.RawIssue.Confidence != v1.Confidence_CONFIDENCE_HIGH {
		t.Errorf("confidence = %v, want one level up from MEDIUM", gitleaks.RawIssue.Confidence)
	}
	if other.DuplicateOf != "" || len(other.SeenBy) != 0 {
		t.Errorf("an unrelated finding on the line was merged: %v", other)
	}
}
