package toolsuppress

import (
	"context"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestEnrich(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ann        map[string]string
		suppressed bool
		reason     string
	}{
		{"none", nil, false, ""},
		{"sarif", map[string]string{KeyKind: "inSource", KeyJustification: "validated"}, true, "suppressed in the tool's report (inSource): validated"},
		{"tool list", map[string]string{KeySuppressed: "true", KeyNotes: "not used"}, true, "suppressed in the tool's report (tool): not used"},
		{"not true", map[string]string{KeySuppressed: "false"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ei := &v1.EnrichedIssue{RawIssue: &v1.Issue{Annotations: tc.ann}}
			err := Enricher{}.Enrich(context.Background(), nil, []*v1.EnrichedLaunchToolResponse{{Issues: []*v1.EnrichedIssue{ei}}})
			if err != nil {
				t.Fatal(err)
			}
			if ei.Suppressed != tc.suppressed || ei.SuppressionReason != tc.reason {
				t.Errorf("got %v %q", ei.Suppressed, ei.SuppressionReason)
			}
		})
	}
}
