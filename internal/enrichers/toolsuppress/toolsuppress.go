// Package toolsuppress honours suppressions a scanner already recorded in
// its own report (SARIF "suppressions", a tool's nosec list): the finding
// is kept, marked suppressed with the tool's reason, and counted as such.
package toolsuppress

import (
	"context"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Annotation keys parsers set on a finding the tool itself suppressed.
const (
	KeyKind          = "sarif.suppression"
	KeyJustification = "sarif.suppression.justification"
)

// Enricher marks tool-suppressed findings.
type Enricher struct{}

func (Enricher) String() string { return "tool suppressions" }

// Enrich implements enrichers.Enricher.
func (Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	for _, r := range results {
		for _, is := range r.GetIssues() {
			kind := is.GetRawIssue().GetAnnotations()[KeyKind]
			if kind == "" {
				continue
			}
			is.Suppressed = true
			reason := "suppressed in the tool's report (" + kind + ")"
			if j := is.GetRawIssue().GetAnnotations()[KeyJustification]; j != "" {
				reason += ": " + j
			}
			is.SuppressionReason = reason
		}
	}
	return nil
}
