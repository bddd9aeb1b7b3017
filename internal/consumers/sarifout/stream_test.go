package sarifout

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/draconsec/dracon/internal/consumers"

	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// document is what Write streams, built the old way: the whole report in
// memory, written by go-sarif.
func document(t *testing.T, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) []byte {
	t.Helper()
	rep, err := Build(scan, results)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.PrettyWrite(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func streamed(t *testing.T, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, scan, results); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// many is a scan of several tools whose texts hold what JSON escapes
// (quotes, backslashes, HTML, control and line-separator characters) and
// what a member key could be confused with; oddPaths puts them in the
// paths too.
func many(n int, oddPaths bool) []*v1.EnrichedLaunchToolResponse {
	tricky := []string{`"results": null`, "line\nbreak\t<script>&amp;</script>", "\u2028\u2029\x01 \\ \"q\"", "ünïcødé 日本", ""}
	var out []*v1.EnrichedLaunchToolResponse
	for _, tool := range []string{"semgrep", "gosec", "bandit"} {
		r := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: tool}}
		for i := 0; i < n; i++ {
			txt := tricky[i%len(tricky)]
			dir := "pkg"
			if oddPaths {
				dir = txt
			}
			is := &v1.Issue{
				ToolName: tool, ToolVersion: "1.2.3",
				RuleId:      fmt.Sprintf("rule-%d", i%7),
				Title:       "title " + txt,
				Description: "desc " + txt,
				Severity:    v1.Severity(i % 6),
				Confidence:  v1.Confidence(i % 6),
				Cwe:         []int32{int32(i % 90)},
				Location:    &v1.Location{Path: fmt.Sprintf("src/%s/f%d.go", dir, i%11), StartLine: int32(i % 50), EndLine: int32(i%50 + i%3), StartColumn: int32(i % 4), EndColumn: int32(i % 9)},
			}
			if i%5 == 0 {
				is.PackageUrl, is.FixedVersion = "pkg:golang/example.com/m@v1.0.0", "v1.0.1"
			}
			ei := &v1.EnrichedIssue{RawIssue: is, Hash: fmt.Sprintf("%064x", i), IsNew: i%2 == 0, Count: uint64(i % 4)}
			if i%9 == 0 {
				ei.Suppressed, ei.SuppressionReason = true, txt
			}
			if i%13 == 0 {
				ei.DuplicateOf, ei.SeenBy = "abc", []string{"gosec", "gitleaks"}
			}
			r.Issues = append(r.Issues, ei)
		}
		out = append(out, r)
	}
	return out
}

// TestStreamedIsTheDocument: Write streams byte for byte what go-sarif
// writes for the whole report.
func TestStreamedIsTheDocument(t *testing.T) {
	scan, sampled := sample(t)
	cases := map[string][]*v1.EnrichedLaunchToolResponse{
		"sample":  sampled,
		"none":    nil,
		"no runs": {{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}}},
		"many":    many(300, true),
	}
	for name, results := range cases {
		for _, s := range []*v1.ScanInfo{scan, nil} {
			want, got := document(t, s, results), streamed(t, s, results)
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("%s: streamed SARIF differs from the document at byte %d:\n got %q\nwant %q", name, i, excerpt(got, i), excerpt(want, i))
			}
		}
	}
	// Paths are written as they are (not as URI references), so only
	// the one with ordinary paths is valid SARIF.
	schematest.ValidateSARIF(t, streamed(t, scan, many(300, false)))
}

func excerpt(b []byte, i int) []byte {
	lo, hi := max(i-80, 0), min(i+80, len(b))
	return b[lo:hi]
}

// BenchmarkWrite writes 3 x 30,000 results; BenchmarkDocument the same
// through the whole go-sarif document, as the writer did before.
func BenchmarkWrite(b *testing.B) {
	results := many(30_000, false)
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, nil, results); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDocument(b *testing.B) {
	results := many(30_000, false)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Build(nil, results)
		if err != nil {
			b.Fatal(err)
		}
		if err := rep.PrettyWrite(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanOrderIsFlattens: each run lists its tool's findings in the
// order consumers.Flatten gives every consumer.
func TestPlanOrderIsFlattens(t *testing.T) {
	scan, sampled := sample(t)
	shuffled := many(200, true)
	// Ties and a tool named only by its response.
	for i, ei := range shuffled[1].Issues {
		if i%3 == 0 {
			ei.RawIssue.ToolName = ""
			ei.RawIssue.Severity = v1.Severity_SEVERITY_HIGH
			ei.RawIssue.Location.StartLine = 7
		}
	}
	for name, results := range map[string][]*v1.EnrichedLaunchToolResponse{"sample": sampled, "many": shuffled} {
		want := map[string][]*v1.EnrichedIssue{}
		for _, f := range consumers.Flatten(results) {
			want[f.Tool] = append(want[f.Tool], f.Issue)
		}
		runs, _ := plan(scan, results, Options{})
		if len(runs) != len(want) {
			t.Fatalf("%s: %d runs, want %d", name, len(runs), len(want))
		}
		for _, rb := range runs {
			tool := rb.run.Tool.Driver.Name
			if !slices.Equal(rb.issues, want[tool]) {
				t.Errorf("%s: %s's results are not in Flatten's order", name, tool)
			}
		}
	}
}
