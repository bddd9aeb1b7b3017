package reachability_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers/reachability"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// BenchmarkEnrich: a monorepo's scan, 2,000 advisories govulncheck
// reported (a third called, each with a call site) and 10,000 other
// tools' findings of them, in go.mod, a nested go.mod and a binary. The
// work is one pass to index and one to annotate: linear in findings.
func BenchmarkEnrich(b *testing.B) {
	levels := []string{"symbol", "package", "module"}
	gv := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "govulncheck"}}
	for i := 0; i < 2000; i++ {
		mod := fmt.Sprintf("github.com/org%d/mod%d", i%300, i)
		gv.Issues = append(gv.Issues, &v1.EnrichedIssue{RawIssue: &v1.Issue{
			ToolName: "govulncheck", RuleId: fmt.Sprintf("GO-2025-%04d", i), Cve: fmt.Sprintf("CVE-2025-%05d", i),
			Aliases:    []string{fmt.Sprintf("CVE-2025-%05d", i), fmt.Sprintf("GHSA-%04x-aaaa-bbbb", i)},
			PackageUrl: "pkg:golang/" + mod + "@v1.2.3", Annotations: map[string]string{"govulncheck.level": levels[i%3]},
			Description: "Found in " + mod + "@v1.2.3; fixed in v1.2.4.\n\nThe code calls the vulnerable code:\n- " + mod +
				".Parse called from example.com/app/internal/svc.Handle at internal/svc/handle.go:42",
		}})
	}
	sca := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "trivy"}}
	for i := 0; i < 10000; i++ {
		n := i % 2000
		where := []string{"go.mod", "go.mod", "go.mod", "tools/go.mod", "bin/app"}[i%5]
		sca.Issues = append(sca.Issues, &v1.EnrichedIssue{RawIssue: &v1.Issue{
			ToolName: "trivy", RuleId: fmt.Sprintf("CVE-2025-%05d", n), Cve: fmt.Sprintf("CVE-2025-%05d", n),
			PackageUrl: fmt.Sprintf("pkg:golang/github.com/org%d/mod%d@v1.2.3", n%300, n), Location: &v1.Location{Path: where},
		}})
	}
	results := []*v1.EnrichedLaunchToolResponse{gv, sca}
	e := reachability.New(config.Reachability{}, "", nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Enrich(context.Background(), nil, results); err != nil {
			b.Fatal(err)
		}
	}
	if got := sca.Issues[0].Annotations[reachability.Reachable]; got != "true" {
		b.Fatalf("first finding: %q", got)
	}
}
