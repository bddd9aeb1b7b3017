package depsdev

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// BenchmarkWarm10k is issue 14's target: 10,000 dependency findings (as
// many package versions, of 2,000 source projects) enriched from a warm
// cache on disk in under a second. Each iteration reads the cache file,
// annotates every finding and asks deps.dev nothing.
func BenchmarkWarm10k(b *testing.B) {
	const n, projects = 10000, 2000
	f := newFakeDepsDev(b)
	dir := b.TempDir()
	c, err := openCache(dir)
	if err != nil {
		b.Fatal(err)
	}
	score := 6.4
	for i := 0; i < n; i++ {
		k := Key{"NPM", fmt.Sprintf("@acme/package-%05d", i), "1.2.3"}
		c.putVersion(k, &Version{Fetched: t0, Licenses: []string{"MIT"}, Project: fmt.Sprintf("github.com/acme/repo-%04d", i%projects),
			Links: []Link{{"SOURCE_REPO", "https://github.com/acme/repo"}}, Advisories: []string{"GHSA-aaaa-bbbb-cccc"}})
	}
	for i := 0; i < projects; i++ {
		c.putProject(fmt.Sprintf("github.com/acme/repo-%04d", i), &Project{Fetched: t0, Score: &score, ScoreDate: "2026-02-23",
			Checks: []Check{{"Maintained", 10}, {"Code-Review", 7}, {"Fuzzing", 0}}})
	}
	if err := c.save(); err != nil {
		b.Fatal(err)
	}
	build := func() []*v1.EnrichedLaunchToolResponse {
		r := &v1.EnrichedLaunchToolResponse{}
		for i := 0; i < n; i++ {
			is := &v1.Issue{ToolName: "osv-scanner", PackageUrl: fmt.Sprintf("pkg:npm/%%40acme/package-%05d@1.2.3", i)}
			r.Issues = append(r.Issues, &v1.EnrichedIssue{RawIssue: is})
		}
		return []*v1.EnrichedLaunchToolResponse{r}
	}
	e := newEnricher(f, dir)
	e.Notice = func(s string) { b.Fatalf("notice: %s", s) }
	var worst time.Duration
	for b.Loop() {
		b.StopTimer()
		res := build()
		b.StartTimer()
		start := time.Now()
		if err := e.Enrich(context.Background(), nil, res); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(start))
		b.StopTimer()
		if got := res[0].Issues[n-1].Annotations[KeyScore]; got != "6.4" {
			b.Fatalf("last finding: %v", res[0].Issues[n-1].Annotations)
		}
		b.StartTimer()
	}
	if f.count() != 0 {
		b.Fatalf("%d requests to deps.dev with a warm cache", f.count())
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
	if worst > time.Second {
		b.Errorf("slowest run took %s: over the 1s target", worst)
	}
}
