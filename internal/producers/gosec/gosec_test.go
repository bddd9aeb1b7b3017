package gosec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/runner"
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

// TestV27 reads reports of the real gosec v2.7.0 (testdata/README.md),
// which wrote a CWE as {"ID": ..., "URL": ...} (v2.8 and later write "id"
// and "url") and lists the files it could not type-check under "Golang
// errors", which are not findings.
func TestV27(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/v2.7.0.json", []string{
			"G401 /tmp/oldtools/gosrc/main.go:13 SEVERITY_MEDIUM CONFIDENCE_HIGH [326] [https://cwe.mitre.org/data/definitions/326.html]",
			"G204 /tmp/oldtools/gosrc/main.go:11 SEVERITY_MEDIUM CONFIDENCE_HIGH [78] [https://cwe.mitre.org/data/definitions/78.html]",
			"G306 /tmp/oldtools/gosrc/main.go:14 SEVERITY_MEDIUM CONFIDENCE_HIGH [276] [https://cwe.mitre.org/data/definitions/276.html]",
			"G501 /tmp/oldtools/gosrc/main.go:4 SEVERITY_MEDIUM CONFIDENCE_HIGH [327] [https://cwe.mitre.org/data/definitions/327.html]",
		}},
		{"testdata/v2.7.0-golang-errors.json", []string{
			"G401 /tmp/oldtools/gosrc2/main.go:10 SEVERITY_MEDIUM CONFIDENCE_HIGH [326] [https://cwe.mitre.org/data/definitions/326.html]",
			"G306 /tmp/oldtools/gosrc2/main.go:11 SEVERITY_MEDIUM CONFIDENCE_HIGH [276] [https://cwe.mitre.org/data/definitions/276.html]",
			"G501 /tmp/oldtools/gosrc2/main.go:4 SEVERITY_MEDIUM CONFIDENCE_HIGH [327] [https://cwe.mitre.org/data/definitions/327.html]",
		}},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			producertest.CheckIssues(t, got.Issues)
			var lines []string
			for _, is := range got.Issues {
				lines = append(lines, fmt.Sprintf("%s %s %s %s %v %v", is.RuleId, is.Target, is.Severity, is.Confidence, is.Cwe, is.References))
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			// v2.7.0 does not write GosecVersion.
			if got.ToolVersion != "" || got.Issues[0].Title != "Use of weak cryptographic primitive" ||
				!strings.Contains(got.Issues[0].GetContextSegment(), "md5.Sum") {
				t.Errorf("first issue = %v (version %q)", got.Issues[0], got.ToolVersion)
			}
		})
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

// TestRealGosecArgs: a config's arguments reach the real gosec. They must
// come before "./...": Go's flag package stops at the first non-flag, so
// "-exclude=G401,G501" after it would be ignored.
func TestRealGosecArgs(t *testing.T) {
	producertest.RequireTool(t, Producer)
	out := produce.Run(context.Background(), runner.Local{}, Producer, produce.Options{
		Source: "testdata/src", RunDir: t.TempDir(), Timeout: 10 * time.Minute, Args: []string{"-exclude=G401,G501"},
	})
	if out.Status != produce.OK {
		t.Fatalf("%s: %s", out.Status, out.Reason)
	}
	rules := map[string]bool{}
	for _, is := range out.Parsed.Issues {
		rules[is.RuleId] = true
	}
	if rules["G401"] || rules["G501"] || !rules["G204"] {
		t.Errorf("rules reported with -exclude=G401,G501: %v", rules)
	}
}

func BenchmarkParse(b *testing.B) {
	producertest.BenchCorpusFile(b, Parse, "gosec/many_vulns.json")
}
