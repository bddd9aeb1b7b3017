package stdout

import (
	"bytes"
	"regexp"
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

// TestTableStatus: new, seen before, suppressed, outside the diff filter.
func TestTableStatus(t *testing.T) {
	mk := func(rule string, ei *v1.EnrichedIssue) *v1.EnrichedIssue {
		ei.RawIssue = &v1.Issue{ToolName: "gosec", RuleId: rule, Target: "main.go:1", Severity: v1.Severity_SEVERITY_HIGH}
		return ei
	}
	results := []*v1.EnrichedLaunchToolResponse{{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: []*v1.EnrichedIssue{
		mk("G1", &v1.EnrichedIssue{IsNew: true}),
		mk("G2", &v1.EnrichedIssue{Count: 3}),
		mk("G3", &v1.EnrichedIssue{Suppressed: true}),
		mk("G4", &v1.EnrichedIssue{Count: 1, Annotations: map[string]string{"dracon.diff": "outside"}}),
	}}}
	var b bytes.Buffer
	if err := WriteTable(&b, results); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"G1 .* new$", "G2 .* seen 3x$", "G3 .* suppressed$", "G4 .* outside diff$"} {
		if !regexp.MustCompile("(?m)" + want).MatchString(b.String()) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestTableGateColumn: the GATE column says which findings fail the run
// and which the policies warn of, and is absent when none does.
func TestTableGateColumn(t *testing.T) {
	mk := func(rule, mark string) *v1.EnrichedIssue {
		is := &v1.EnrichedIssue{IsNew: true, Hash: rule, RawIssue: &v1.Issue{ToolName: "gosec", RuleId: rule, Target: "a.go:1", Title: rule, Severity: v1.Severity_SEVERITY_HIGH}}
		if mark != "" {
			is.Annotations = map[string]string{gateAnnotation: mark}
		}
		return is
	}
	var b bytes.Buffer
	res := []*v1.EnrichedLaunchToolResponse{{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"},
		Issues: []*v1.EnrichedIssue{mk("G101", "deny"), mk("G102", "warn"), mk("G103", "")}}}
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[0], "GATE") || !strings.HasSuffix(lines[1], "FAILS") ||
		!strings.HasSuffix(lines[2], "warns") || !strings.HasSuffix(lines[3], "-") {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	res[0].Issues = res[0].Issues[2:]
	WriteTable(&b, res)
	if strings.Contains(b.String(), "GATE") {
		t.Errorf("a GATE column with nothing gated:\n%s", b.String())
	}
}
