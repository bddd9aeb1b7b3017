package tmpl

import (
	"testing"
	"time"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestDraconTemplatesRenderTheSame(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	scan := &v1.ScanInfo{ScanUuid: "scan-1", ScanStartTime: timestamppb.New(start)}
	is := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{Target: "main.go:12-12", Type: "G101", Title: "Hard-coded credentials", Severity: v1.Severity_SEVERITY_HIGH,
			Cvss: 7.5, Confidence: v1.Confidence_CONFIDENCE_MEDIUM, Description: "a password", Cve: "CVE-2026-1"},
		Count: 3, FirstSeen: timestamppb.New(start.Add(-48 * time.Hour)), Hash: "abc",
		Annotations: map[string]string{"Owner-0": "@acme/payments", "Policy Pass: example/gosec": "true"},
	}
	v := NewView(scan, "gosec", is)
	for _, tc := range []struct{ name, text, want string }{
		{"Dracon's default", "", "Dracon found 'Hard-coded credentials' at 'main.go:12-12', severity 'SEVERITY_HIGH', rule id: 'G101', CVSS '7.5' Confidence 'CONFIDENCE_MEDIUM' Original Description: a password, Cve CVE-2026-1,\nOwner-0:@acme/payments\nPolicy Pass: example/gosec:true\n"},
		{"Dracon's added fields", "{{.ToolName}} {{.ScanID}} {{.SeverityText}} {{.ConfidenceText}} {{.Count}} {{.ScanStartTime}} {{.FirstFound}} {{.Hash}}",
			"gosec scan-1 High Medium 3 2026-12-01T10:00:00Z 2026-11-29T10:00:00Z abc"},
		{"an annotation", `{{index .Annotations "Owner-0"}}`, "@acme/payments"},
	} {
		tp, err := Parse(tc.name, tc.text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tp.Render(v)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	if _, err := Parse("consumers.jira.descriptionTemplate", "{{.RawIssue.Title"); err == nil {
		t.Error("a broken template parsed")
	}
	if SeverityText(v1.Severity_SEVERITY_UNSPECIFIED) != "N/A" || ConfidenceText(v1.Confidence_CONFIDENCE_CRITICAL) != "Critical" {
		t.Error("texts differ from Dracon's enumtransformers")
	}
}
