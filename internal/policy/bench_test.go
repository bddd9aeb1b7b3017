package policy

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/draconsec/dracon/internal/fingerprint"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// benchRun is a pull request's scan of n findings: every severity, a
// tenth of them new, one in a hundred a secret, owners on half.
func benchRun(n int) Run {
	sevs := []v1.Severity{v1.Severity_SEVERITY_LOW, v1.Severity_SEVERITY_MEDIUM, v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_CRITICAL}
	issues := make([]*v1.EnrichedIssue, n)
	first := timestamppb.New(now.Add(-90 * 24 * time.Hour))
	for i := range issues {
		raw := &v1.Issue{Type: "G101", RuleId: fmt.Sprintf("G%03d", i%300), Title: "Potential hardcoded credentials", Severity: sevs[i%4],
			Confidence: v1.Confidence_CONFIDENCE_MEDIUM, ToolName: "gosec", Target: fmt.Sprintf("pkg/f%d.go:%d", i%5000, i%400+1),
			Location: &v1.Location{Path: fmt.Sprintf("pkg/f%d.go", i%5000), StartLine: int32(i%400 + 1), EndLine: int32(i%400 + 1)}, Cwe: []int32{798}}
		sig := map[string]string{fingerprint.CodeV1: fmt.Sprint(i)}
		if i%100 == 0 {
			sig = map[string]string{fingerprint.SecretV1: fmt.Sprint(i)}
		}
		is := &v1.EnrichedIssue{RawIssue: raw, Hash: fmt.Sprintf("h%d", i), FindingId: fmt.Sprintf("f%d", i), Count: 3,
			IsNew: i%10 == 0, FirstSeen: first, LastSeen: timestamppb.New(now), Signatures: sig, Status: "open"}
		if i%2 == 0 {
			is.Annotations = map[string]string{"Owner-0": "@acme/payments"}
		}
		issues[i] = is
	}
	return Run{Context: Context{Repository: "acme/app", Commit: "0123abc", Ref: "refs/pull/7/merge", Event: EventPullRequest,
		BaseRef: "refs/heads/main", ServerURL: "https://github.com", Now: now},
		Producers: []Producer{{Name: "gosec", Status: "ok", Findings: n}},
		Results:   []*v1.EnrichedLaunchToolResponse{{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: issues}}}
}

func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkPolicies100k: 100,000 findings of a pull request through the
// bundled default policies, in one prepared query over the batch (the
// target: under 1 s), beside the same policies asked once per finding
// (each finding the run's only one), the per-finding-query baseline.
func BenchmarkPolicies100k(b *testing.B) {
	ctx := context.Background()
	run := benchRun(100_000)
	set, err := Load(ctx, Options{Sources: []Source{{Path: BuiltinDefault}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("batch", func(b *testing.B) {
		c0 := cpuSeconds(b)
		for b.Loop() {
			d, _, err := set.Evaluate(ctx, run)
			if err != nil {
				b.Fatal(err)
			}
			// Secrets (1,000) and new high/critical findings (5,000, less
			// the secrets among them) fail a pull request.
			if len(d.Deny) < 5000 {
				b.Fatalf("%d denials", len(d.Deny))
			}
		}
		b.ReportMetric((cpuSeconds(b)-c0)/float64(b.N), "cpu-s/op")
	})
	b.Run("per-finding-query", func(b *testing.B) {
		// One evaluation per finding, as Dracon's policy enricher asked its
		// OPA server: the same query, prepared once, given a run of one.
		c0 := cpuSeconds(b)
		issues := run.Results[0].Issues
		for b.Loop() {
			denied := 0
			for _, is := range issues {
				one := run
				one.Results = []*v1.EnrichedLaunchToolResponse{{OriginalResults: run.Results[0].OriginalResults, Issues: []*v1.EnrichedIssue{is}}}
				d, _, err := set.Evaluate(ctx, one)
				if err != nil {
					b.Fatal(err)
				}
				denied += len(d.Deny)
			}
			if denied < 5000 {
				b.Fatalf("%d denials", denied)
			}
		}
		b.ReportMetric((cpuSeconds(b)-c0)/float64(b.N), "cpu-s/op")
	})
}
