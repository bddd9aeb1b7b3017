// Package policy is the policy enricher: it evaluates the run's Rego
// policies (internal/policy) once over every finding. Dracon's allow
// policies write their "Policy Pass: <package>" annotation on each
// finding; deny and warn rules mark the findings they name
// (dracon.policy: deny | warn) and hand the decision to the gate.
package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/draconsec/dracon/internal/policy"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Annotation marks a finding a deny or warn rule names: "deny" or "warn"
// (deny wins).
const Annotation = "dracon.policy"

// Enricher evaluates the policies.
type Enricher struct {
	Set *policy.Set
	// Producers are the run's producers, for run-level rules.
	Producers []policy.Producer
	// Decided receives the decision and the errors of allow policies on
	// single findings (each wrote "false" for its finding).
	Decided func(*policy.Decision, []error)
	// Now is the time findings' ages count to; zero: time.Now.
	Now time.Time
}

func (Enricher) String() string { return "policy" }

// Enrich evaluates; an error of a deny or warn rule stops the run (the
// gate cannot decide without it).
func (e Enricher) Enrich(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	if e.Set == nil {
		return nil
	}
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	run := policy.Run{Context: policy.ContextFromTags(scan.GetScanUuid(), scan.GetScanTags(), now), Producers: e.Producers, Results: results}
	d, errs, err := e.Set.Evaluate(ctx, run)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	Mark(d, results)
	if e.Decided != nil {
		e.Decided(d, errs)
	}
	return nil
}

// Mark writes the dracon.policy annotation on the findings the
// decision's violations name.
func Mark(d *policy.Decision, results []*v1.EnrichedLaunchToolResponse) {
	marks := map[string]string{}
	for _, v := range d.Warn {
		for _, f := range v.Findings {
			marks[f.ID] = "warn"
		}
	}
	for _, v := range d.Deny {
		for _, f := range v.Findings {
			marks[f.ID] = "deny"
		}
	}
	if len(marks) == 0 {
		return
	}
	for _, r := range results {
		for _, is := range r.GetIssues() {
			if m, ok := marks[policy.ID(is)]; ok && is.GetDuplicateOf() == "" {
				if is.Annotations == nil {
					is.Annotations = map[string]string{}
				}
				is.Annotations[Annotation] = m
			}
		}
	}
}
