// Package enrichers defines the enrichment stage: each enricher adds what
// it knows to EnrichedIssues, in order. Sub-folders implement them.
package enrichers

import (
	"context"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Enricher adds knowledge to every tool's enriched results.
type Enricher interface {
	String() string
	Enrich(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error
}

// Wrap turns parsed results into enriched ones with nothing added yet.
func Wrap(in *v1.LaunchToolResponse) *v1.EnrichedLaunchToolResponse {
	out := &v1.EnrichedLaunchToolResponse{OriginalResults: in, Issues: make([]*v1.EnrichedIssue, len(in.GetIssues()))}
	for i, is := range in.GetIssues() {
		out.Issues[i] = &v1.EnrichedIssue{RawIssue: is, Count: 1, IsNew: true}
	}
	return out
}

// Flatten lists every issue of the results, in order, with its raw issue
// beside it (an empty one where a stage wrote none), for enrichers that
// look at a whole scan at once.
func Flatten(results []*v1.EnrichedLaunchToolResponse) ([]*v1.EnrichedIssue, []*v1.Issue) {
	var all []*v1.EnrichedIssue
	var raw []*v1.Issue
	for _, r := range results {
		for _, is := range r.GetIssues() {
			if is.GetRawIssue() == nil {
				is.RawIssue = &v1.Issue{}
			}
			all = append(all, is)
			raw = append(raw, is.RawIssue)
		}
	}
	return all, raw
}

// Run applies the enrichers in order.
func Run(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse, chain ...Enricher) error {
	for _, e := range chain {
		if err := e.Enrich(ctx, scan, results); err != nil {
			return err
		}
	}
	return nil
}
