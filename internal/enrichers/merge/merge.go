// Package merge makes one finding of what several tools reported about the
// same thing in one scan (fingerprint.Group decides): the issue that
// stands for the group lists every tool in seen_by and, seen by more than
// one, gains a level of confidence; each other tool's issue is kept as
// evidence, with duplicate_of naming the finding it belongs to, so
// consumers and the gate count it once.
package merge

import (
	"context"

	"github.com/draconsec/dracon/internal/enrichers"
	"sort"

	"github.com/draconsec/dracon/internal/fingerprint"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Enricher merges findings across tools. It runs after identity, whose
// hashes name the findings, and before dedup, which then keeps one
// finding in the store for the group.
type Enricher struct{}

func (Enricher) String() string { return "merge" }

// Enrich implements enrichers.Enricher.
func (Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	all, raw := enrichers.Flatten(results)
	groups := map[int][]int{}
	for i, rep := range fingerprint.Group(raw) {
		groups[rep] = append(groups[rep], i)
	}
	for rep, members := range groups {
		if len(members) < 2 {
			continue
		}
		tools := map[string]bool{}
		for _, m := range members {
			tools[all[m].RawIssue.GetToolName()] = true
			if m != rep {
				all[m].DuplicateOf = all[rep].GetHash()
			}
		}
		head := all[rep]
		head.SeenBy = head.SeenBy[:0]
		for t := range tools {
			head.SeenBy = append(head.SeenBy, t)
		}
		sort.Strings(head.SeenBy)
		// Two tools agreeing is evidence: one level more confidence, as
		// far as HIGH (CRITICAL stays a tool's own word).
		if c := head.RawIssue.GetConfidence(); c < v1.Confidence_CONFIDENCE_HIGH {
			if c == v1.Confidence_CONFIDENCE_UNSPECIFIED {
				c = v1.Confidence_CONFIDENCE_MEDIUM
			} else {
				c++
			}
			head.RawIssue.Confidence = c
		}
	}
	return nil
}
