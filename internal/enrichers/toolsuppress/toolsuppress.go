// Package toolsuppress honours suppressions a scanner already recorded in
// its own report (SARIF "suppressions", a tool's nosec list): the finding
// is kept, marked suppressed with the tool's reason, and counted as such.
package toolsuppress

import (
	"context"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Annotation keys parsers set on a finding the tool itself suppressed:
// SARIF's suppression kind and justification, or, for tools with their own
// ignore lists (Dependency-Check, safety, snyk, nancy), "suppressed" =
// "true" with a reason or the tool's notes.
const (
	KeyKind          = "sarif.suppression"
	KeyJustification = "sarif.suppression.justification"
	KeySuppressed    = "suppressed"
	KeyReason        = "suppression_reason"
	KeyNotes         = "suppression_notes"
)

// Enricher marks tool-suppressed findings.
type Enricher struct{}

func (Enricher) String() string { return "tool suppressions" }

// Enrich implements enrichers.Enricher.
func (Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	for _, r := range results {
		for _, is := range r.GetIssues() {
			a := is.GetRawIssue().GetAnnotations()
			kind := a[KeyKind]
			if kind == "" && a[KeySuppressed] == "true" {
				kind = "tool"
			}
			if kind == "" {
				continue
			}
			is.Suppressed = true
			reason := "suppressed in the tool's report (" + kind + ")"
			for _, k := range []string{KeyJustification, KeyReason, KeyNotes} {
				if j := a[k]; j != "" {
					reason += ": " + j
					break
				}
			}
			is.SuppressionReason = reason
		}
	}
	return nil
}
