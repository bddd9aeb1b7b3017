package gosec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "gosec", Parse, nil)
	r := got["gosec/many_vulns.json"]
	if r == nil {
		t.Fatal("many_vulns.json not parsed")
	}
	first := r.Issues[0]
	if first.RuleId != "G104" || first.Target != "/vagrant/go/src/govwa/app.go:79" ||
		first.Severity != v1.Severity_SEVERITY_LOW || first.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		len(first.Cwe) != 1 || first.Cwe[0] != 252 || first.GetContextSegment() != "s.ListenAndServe()" {
		t.Errorf("first issue = %v", first)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"truncated": `{"Issues": [{"severity": "HIGH"`,
		"bandit":    `{"errors": [], "results": []}`,
		"array":     `[]`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLineRange(t *testing.T) {
	data, err := os.ReadFile("testdata/range.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	is := got.Issues[0]
	if is.Target != "main.go:12-14" || is.Location.StartLine != 12 || is.Location.EndLine != 14 || is.Location.StartColumn != 3 || got.ToolVersion != "2.30.0" {
		t.Errorf("got %v (version %q)", is, got.ToolVersion)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"gosec"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

// TestRealGosec runs the pinned gosec on testdata/src and asserts the
// exact findings.
func TestRealGosec(t *testing.T) {
	got := producertest.RunTool(t, Producer, "testdata/src")
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s:%d %s", is.RuleId, filepath.Base(is.Location.Path), is.Location.StartLine, is.Severity))
	}
	sort.Strings(lines)
	want := []string{
		"G204 main.go:11 SEVERITY_MEDIUM",
		"G303 main.go:14 SEVERITY_MEDIUM",
		"G306 main.go:14 SEVERITY_MEDIUM",
		"G401 main.go:13 SEVERITY_MEDIUM",
		"G501 main.go:4 SEVERITY_MEDIUM",
		"G702 main.go:11 SEVERITY_HIGH", // taint analysis: os.Args reaches exec.Command
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func BenchmarkParse(b *testing.B) {
	producertest.BenchCorpusFile(b, Parse, "gosec/many_vulns.json")
}
