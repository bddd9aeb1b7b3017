package sarifout

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/draconsec/dracon/internal/bench/synth"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func response(tool string, issues []*v1.EnrichedIssue) *v1.EnrichedLaunchToolResponse {
	return &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: tool}, Issues: issues}
}

// TestFitResultsPerRun: a run of 30,000 results is cut to code scanning's
// 25,000, dropping every LOW before any MEDIUM, and of the MEDIUM ones
// the least confident, then the last in the run's order; the report says
// exactly that.
func TestFitResultsPerRun(t *testing.T) {
	var issues []*v1.EnrichedIssue
	add := func(n int, sev v1.Severity, conf v1.Confidence) {
		for range n {
			i := len(issues)
			issues = append(issues, &v1.EnrichedIssue{Hash: fmt.Sprintf("h%05d", i), RawIssue: &v1.Issue{
				RuleId: fmt.Sprintf("R%d", i%40), Title: "t", Severity: sev, Confidence: conf,
				Location: &v1.Location{Path: fmt.Sprintf("f%05d.go", i), StartLine: 1}}})
		}
	}
	add(18_000, v1.Severity_SEVERITY_HIGH, v1.Confidence_CONFIDENCE_LOW)
	add(7_500, v1.Severity_SEVERITY_MEDIUM, v1.Confidence_CONFIDENCE_HIGH)
	add(500, v1.Severity_SEVERITY_MEDIUM, v1.Confidence_CONFIDENCE_LOW)
	add(4_000, v1.Severity_SEVERITY_LOW, v1.Confidence_CONFIDENCE_CRITICAL)
	log := NewLog(nil, []*v1.EnrichedLaunchToolResponse{response("gosec", issues)}, Options{})
	kept, rep, err := log.Fit(GitHub())
	if err != nil {
		t.Fatal(err)
	}
	want := []Drop{
		{Tool: "gosec", Severity: "LOW", Reason: ReasonResultsPerRun, Count: 4000},
		{Tool: "gosec", Severity: "MEDIUM", Reason: ReasonResultsPerRun, Count: 1000},
	}
	if !slices.Equal(rep.Dropped, want) || rep.Kept != 25_000 || rep.Results != 30_000 || kept.Results() != 25_000 || log.Results() != 30_000 {
		t.Fatalf("report %+v", rep)
	}
	if bs := rep.DroppedBySeverity(); bs["LOW"] != 4000 || bs["MEDIUM"] != 1000 || rep.DroppedCount() != 5000 {
		t.Errorf("by severity %v", bs)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "shows only the 5000 most severe") {
		t.Errorf("warnings %v", rep.Warnings)
	}
	if !rep.Fits() || rep.GzipBytes == 0 || rep.GzipBytes > rep.CompactBytes {
		t.Errorf("sizes: %d compact, %d gzipped", rep.CompactBytes, rep.GzipBytes)
	}
	lines := rep.Lines()
	if len(lines) != 2 || lines[0] != "SARIF: dropped 5000 results of gosec (4000 LOW, 1000 MEDIUM): code scanning takes 25000 results a run" {
		t.Errorf("lines %q", lines)
	}
	// Which ones: the 500 least confident MEDIUM, and the last 500 of the
	// confident ones in the run's order (by path here).
	keptHash := map[string]bool{}
	rb := kept.runs[0]
	for _, ei := range rb.issues {
		keptHash[ei.Hash] = true
	}
	for i, ei := range issues {
		var wantKept bool
		switch {
		case i < 18_000:
			wantKept = true
		case i < 25_500:
			wantKept = i < 25_000
		default:
			wantKept = false
		}
		if keptHash[ei.Hash] != wantKept {
			t.Fatalf("finding %d (%v, %v): kept %v", i, ei.RawIssue.Severity, ei.RawIssue.Confidence, !wantKept)
		}
	}
	// The kept results keep their order, and their rules are rebuilt.
	for i := 1; i < len(rb.issues); i++ {
		if rb.issues[i-1].RawIssue.Severity < rb.issues[i].RawIssue.Severity {
			t.Fatal("kept results out of order")
		}
	}
	for i, ei := range rb.issues {
		if rb.run.Tool.Driver.Rules[rb.ruleIndex[i]].ID != ei.RawIssue.RuleId {
			t.Fatal("a rule index points at another rule")
		}
	}
	// The file the consumer writes is what Fit kept.
	data, crep := consume(t, Consumer{}, nil, []*v1.EnrichedLaunchToolResponse{response("gosec", issues)})
	if n := bytes.Count(data, []byte(`"draconHash/v1"`)); n != 25_000 || !slices.Equal(crep.Dropped, want) || crep.GzipBytes != rep.GzipBytes {
		t.Errorf("the file has %d results, report %+v", n, crep.Dropped)
	}
}

// TestFitRulesPerRun: past the rules limit, the results of the rules
// whose best result ranks lowest go.
func TestFitRulesPerRun(t *testing.T) {
	var issues []*v1.EnrichedIssue
	for i := range 10 {
		issues = append(issues, &v1.EnrichedIssue{Hash: fmt.Sprint(i), RawIssue: &v1.Issue{RuleId: fmt.Sprintf("R%d", i%5), Severity: v1.Severity(1 + i%5)}})
	}
	kept, rep, err := NewLog(nil, []*v1.EnrichedLaunchToolResponse{response("t", issues)}, Options{}).Fit(Limits{RulesPerRun: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []Drop{{"t", "INFO", ReasonRulesPerRun, 2}, {"t", "LOW", ReasonRulesPerRun, 2}}
	if !slices.Equal(rep.Dropped, want) || len(kept.runs[0].run.Tool.Driver.Rules) != 3 || rep.Kept != 6 {
		t.Errorf("%+v", rep)
	}
}

// TestTooManyRuns: Fit neither merges nor drops runs (either would move
// or close a tool's alerts): over 20 it fails, saying so; the consumer
// still writes the file, whole, and errs; Split cuts it into uploads.
func TestTooManyRuns(t *testing.T) {
	var results []*v1.EnrichedLaunchToolResponse
	var tools []string
	for i := range 23 {
		tool := fmt.Sprintf("tool%02d", i)
		tools = append(tools, tool)
		if i%2 == 0 {
			results = append(results, response(tool, []*v1.EnrichedIssue{finding("a.go", 1, tool)}))
		}
	}
	log := NewLog(nil, results, Options{Tools: tools})
	_, rep, err := log.Fit(GitHub())
	if !errors.Is(err, ErrTooManyRuns) || rep.Fits() || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "23 runs") {
		t.Fatalf("err %v, report %+v", err, rep.Errors)
	}
	path := filepath.Join(t.TempDir(), "x.sarif")
	var got Report
	err = Consumer{Path: path, Tools: tools, Reported: func(r Report) { got = r }}.Consume(context.Background(), nil, results)
	if !errors.Is(err, ErrTooManyRuns) || !strings.Contains(err.Error(), "wrote "+path) || got.Fits() {
		t.Fatalf("Consume: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(decoded(t, data).Runs); n != 23 {
		t.Errorf("the file has %d runs", n)
	}
	parts := log.Split(20)
	if len(parts) != 2 || parts[0].Runs() != 20 || parts[1].Runs() != 3 {
		t.Fatalf("parts %d", len(parts))
	}
	for _, p := range parts {
		if _, rep, err := p.Fit(GitHub()); err != nil || !rep.Fits() {
			t.Errorf("a part does not fit: %v", err)
		}
	}
	if ps := log.Split(0); len(ps) != 1 || ps[0] != log {
		t.Error("Split(0) cut the log")
	}
}

// incompressible is n synthetic gosec findings (internal/bench/synth) of
// two tools, each with a message of random text: about 400 bytes
// gzipped a result.
func incompressible(t testing.TB, n int) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	parsed, err := gosec.Parse(synth.Gosec(n))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 380)
	out := []*v1.EnrichedLaunchToolResponse{response("gosec", nil), response("gosec-tests", nil)}
	for i, is := range parsed.Issues {
		for j := range noise {
			noise[j] = byte(rng.Uint32())
		}
		is.Description += " " + base64.StdEncoding.EncodeToString(noise)
		r := out[i%2]
		is.ToolName = r.OriginalResults.ToolName
		r.Issues = append(r.Issues, &v1.EnrichedIssue{RawIssue: is, Hash: fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())})
	}
	return out
}

// TestGzipLimit: a log over code scanning's 10 MB gzipped loses its
// lowest results, from all runs, until it is within, and not much more;
// the file written is that.
func TestGzipLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB log several times")
	}
	results := incompressible(t, 40_000)
	log := NewLog(nil, results, Options{})
	full, gz, err := log.sizes()
	if err != nil {
		t.Fatal(err)
	}
	lim := GitHub()
	if gz < lim.GzipBytes*3/2 {
		t.Fatalf("the input is %d bytes gzipped (%d compact): not over the limit enough", gz, full)
	}
	kept, rep, err := log.Fit(lim)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GzipBytes > lim.GzipBytes || rep.GzipBytes < lim.GzipBytes*95/100 {
		t.Errorf("kept %d bytes gzipped; the limit is %d", rep.GzipBytes, lim.GzipBytes)
	}
	if _, g, _ := kept.sizes(); g != rep.GzipBytes {
		t.Errorf("the report says %d bytes, what is kept is %d", rep.GzipBytes, g)
	}
	if rep.Kept+rep.DroppedCount() != 40_000 || rep.Kept != kept.Results() {
		t.Errorf("kept %d, dropped %d", rep.Kept, rep.DroppedCount())
	}
	// synth.Gosec's severities: LOW, then MEDIUM, then HIGH are dropped,
	// in that order.
	bySev := map[string]int{}
	for _, d := range rep.Dropped {
		if d.Reason != ReasonGzipBytes {
			t.Errorf("dropped for %s", d.Reason)
		}
		bySev[d.Severity] += d.Count
	}
	keptSev, inSev := map[v1.Severity]int{}, map[v1.Severity]int{}
	for _, rb := range kept.runs {
		for _, ei := range rb.issues {
			keptSev[ei.RawIssue.Severity]++
		}
	}
	for _, r := range results {
		for _, ei := range r.Issues {
			inSev[ei.RawIssue.Severity]++
		}
	}
	low, high := v1.Severity_SEVERITY_LOW, v1.Severity_SEVERITY_HIGH
	if bySev["LOW"] != inSev[low] || keptSev[low] != 0 || keptSev[high] != inSev[high] || bySev["HIGH"] != 0 {
		t.Errorf("dropped %v, kept %v", bySev, keptSev)
	}
	t.Logf("%d bytes gzipped (%d compact) cut to %d: kept %d of 40000, dropped %v", gz, full, rep.GzipBytes, rep.Kept, bySev)
	data, crep := consume(t, Consumer{}, nil, results)
	var buf bytes.Buffer
	n, err := CompactGzip(&buf, bytes.NewReader(data))
	if err != nil || n != rep.GzipBytes || !slices.Equal(crep.Dropped, rep.Dropped) {
		t.Errorf("the file is %d bytes gzipped (%v), report %+v", n, err, crep.Dropped)
	}
}

// TestGzipLimitSmall: the same on a small limit, quickly.
func TestGzipLimitSmall(t *testing.T) {
	log := NewLog(nil, incompressible(t, 600), Options{})
	lim := Limits{GzipBytes: 100_000}
	kept, rep, err := log.Fit(lim)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GzipBytes > lim.GzipBytes || rep.GzipBytes < lim.GzipBytes*95/100 || rep.Kept != kept.Results() || rep.Kept+rep.DroppedCount() != 600 {
		t.Errorf("%+v", rep)
	}
	// Too small for even the runs alone.
	_, rep, err = log.Fit(Limits{GzipBytes: 100})
	if !errors.Is(err, ErrTooLarge) || rep.Kept != 0 || rep.Fits() {
		t.Errorf("%v %+v", err, rep)
	}
}

// TestFieldCaps: rule names and descriptions are cut to code scanning's
// lengths in UTF-16 code units, at a character, tags to 20; the report
// counts them; Check finds the uncut file over, the cut one not.
func TestFieldCaps(t *testing.T) {
	long := strings.Repeat("é😀a", 400) // 4 code units each
	is := &v1.Issue{RuleId: strings.Repeat("rule", 75), Title: long, Description: long, Severity: v1.Severity_SEVERITY_HIGH,
		Location: &v1.Location{Path: "a.go", StartLine: 3}}
	for i := range 30 {
		is.Cwe = append(is.Cwe, int32(i))
	}
	results := []*v1.EnrichedLaunchToolResponse{response("t", []*v1.EnrichedIssue{{RawIssue: is, Hash: "h"}})}
	data, rep := consume(t, Consumer{}, nil, results)
	schematest.ValidateSARIF(t, data)
	if rep.Truncated != (Truncated{RuleNames: 1, Descriptions: 2, Tags: 1}) {
		t.Errorf("truncated %+v", rep.Truncated)
	}
	r := decoded(t, data).Runs[0].Tool.Driver.Rules[0]
	if n := len(utf16.Encode([]rune(*r.Name))); n != 255 {
		t.Errorf("name of %d units", n)
	}
	for _, m := range []string{*r.ShortDescription.Text, *r.FullDescription.Text} {
		if n := len(utf16.Encode([]rune(m))); n > 1024 || n < 1021 || !strings.HasSuffix(m, "…") || !strings.HasPrefix(long, strings.TrimSuffix(m, "…")) {
			t.Errorf("description of %d units: %q", n, m[len(m)-10:])
		}
	}
	if tags := r.Properties["tags"].([]any); len(tags) != 20 || tags[0] != "security" {
		t.Errorf("tags %v", tags)
	}
	if *r.Help.Text != long || r.ID != is.RuleId {
		t.Error("the id or help was cut")
	}
	if rep, err := Check(data, GitHub()); err != nil || !rep.Fits() || len(rep.Warnings) != 0 {
		t.Errorf("Check of the cut file: %v %+v", err, rep)
	}
	var uncut bytes.Buffer
	if err := Write(&uncut, nil, results); err != nil {
		t.Fatal(err)
	}
	if rep, err := Check(uncut.Bytes(), GitHub()); err != nil || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "1 rule names, 2 descriptions, the tags of 1 rules") {
		t.Errorf("Check of the uncut file: %v %+v", err, rep.Warnings)
	}
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"a😀b", 3, "a…"}, {"a😀b", 4, "a😀b"}, {"😀😀😀", 5, "😀😀…"}, {"ab", 1, "ab"[:0] + "…"}} {
		if got, _ := cutUTF16(c.in, c.n); got != c.want {
			t.Errorf("cutUTF16(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// TestOneLocation: a result has at most one location, so the locations
// limit needs no cut.
func TestOneLocation(t *testing.T) {
	_, sampled := sample(t)
	for _, r := range append(sampled, many(300, true)...) {
		for _, ei := range r.Issues {
			if n := len(result(ei, 0, "").Locations); n > 1 {
				t.Fatalf("%d locations", n)
			}
		}
	}
}

// TestCheck: Check reads any SARIF file: counts, sizes, and what code
// scanning rejects, two runs of one tool and category among them.
func TestCheck(t *testing.T) {
	scan, results := sample(t)
	var buf bytes.Buffer
	if err := Write(&buf, scan, results); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(buf.Bytes(), GitHub())
	if err != nil || !rep.Fits() || rep.Runs != 2 || rep.Results != 4 || rep.GzipBytes == 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	var gz bytes.Buffer
	if n, _ := CompactGzip(&gz, bytes.NewReader(buf.Bytes())); n != rep.GzipBytes {
		t.Errorf("Check says %d bytes, CompactGzip %d", rep.GzipBytes, n)
	}
	dup := `{"version":"2.1.0","runs":[` +
		`{"tool":{"driver":{"name":"x"}},"automationDetails":{"id":"c/x/1"},"results":[]},` +
		`{"tool":{"driver":{"name":"x"}},"automationDetails":{"id":"c/x/2"},"results":[{"locations":[{},{},{}]}]}]}`
	rep, err = Check([]byte(dup), Limits{LocationsPerResult: 2})
	if err != nil || rep.Fits() || !strings.Contains(rep.Errors[0], `two runs of category "c/x"`) || len(rep.Warnings) != 1 {
		t.Errorf("%v %+v", err, rep)
	}
	if _, err := Check([]byte("{"), GitHub()); err == nil {
		t.Error("Check took broken JSON")
	}
}
