package eslint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// want is what ESLint 8.57.1 with eslint-plugin-security 4.1.0 finds in
// testdata/src, as "rule file:line severity suppression".
var want = []string{
	"security/detect-child-process lib/app.js:6 SEVERITY_MEDIUM ",
	"security/detect-eval-with-expression lib/app.js:8 SEVERITY_MEDIUM ",
	"security/detect-non-literal-fs-filename lib/app.js:7 SEVERITY_MEDIUM ",
	"security/detect-non-literal-regexp lib/check.ts:2 SEVERITY_MEDIUM ",
	"security/detect-possible-timing-attacks lib/check.ts:7 SEVERITY_MEDIUM inSource",
}

// summary names each issue's file relative to testdata/src: ESLint's SARIF
// has absolute file URIs.
func summary(t *testing.T, issues []*v1.Issue) []string {
	t.Helper()
	var lines []string
	for _, is := range issues {
		if is.ToolName != "eslint" {
			t.Errorf("tool name %q", is.ToolName)
		}
		_, rel, ok := strings.Cut(is.Location.Path, "/testdata/src/")
		if !ok {
			t.Errorf("path %q is not under testdata/src", is.Location.Path)
		}
		lines = append(lines, fmt.Sprintf("%s %s:%d %s %s", is.RuleId, rel, is.Location.StartLine, is.Severity, is.Annotations["sarif.suppression"]))
	}
	sort.Strings(lines)
	return lines
}

// TestRecorded reads the report ESLint wrote for testdata/src here.
func TestRecorded(t *testing.T) {
	data, err := os.ReadFile("testdata/eslint-8.57.1.sarif")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if s := summary(t, got.Issues); !slices.Equal(s, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
	if got.ToolVersion != "8.57.1" {
		t.Errorf("version %q", got.ToolVersion)
	}
	first := got.Issues[0]
	if first.Title != `Detects instances of "child_process" & non-literal "exec()" calls.` ||
		first.Description != "Found child_process.exec() with non Literal first argument" ||
		!slices.Equal(first.References, []string{"https://github.com/eslint-community/eslint-plugin-security/blob/main/docs/rules/detect-child-process.md"}) ||
		first.Location.StartColumn != 3 || first.Location.EndColumn != 30 || !strings.HasSuffix(first.Target, "/lib/app.js:6") {
		t.Errorf("first = %v", first)
	}
}

// TestHandChecked reads a hand-written report: an error-level result, a
// suppressed one, and file URIs with escaped characters.
func TestHandChecked(t *testing.T) {
	data, err := os.ReadFile("testdata/hand-checked.sarif")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 2 {
		t.Fatalf("%d issues", len(got.Issues))
	}
	re, obj := got.Issues[0], got.Issues[1]
	if re.RuleId != "security/detect-unsafe-regex" || re.Severity != v1.Severity_SEVERITY_HIGH ||
		re.Target != "/home/ci/my app/src/a#b.js:3" || re.Location.Path != "/home/ci/my app/src/a#b.js" ||
		re.Title != "Detects potentially unsafe regular expressions, which may take a very long time to run, blocking the event loop." {
		t.Errorf("unsafe regex = %v", re)
	}
	if obj.Severity != v1.Severity_SEVERITY_MEDIUM || obj.Title != "Generic Object Injection Sink" ||
		obj.Annotations["sarif.suppression"] != "inSource" ||
		obj.Annotations["sarif.suppression.justification"] != "key is validated" ||
		obj.Target != "/home/ci/my app/src/a#b.js:9" {
		t.Errorf("object injection = %v", obj)
	}
}

func TestParseRejects(t *testing.T) {
	codeql, err := os.ReadFile(filepath.Join(producertest.CorpusDir(t), "sarif-wild", "codeql_skills-introduction-to-codeql_results.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"empty":                 "",
		"truncated":             `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"ESLint"}},"results":[{"rul`,
		"eslint json formatter": `[{"filePath":"/a.js","messages":[],"errorCount":0}]`,
		"not sarif":             `{"Issues": []}`,
		"sarif 1":               `{"version":"1.0.0","runs":[]}`,
		"codeql":                string(codeql),
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, nil, "testdata/*.sarif")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	// A report of 2,000 results built from the recorded run's.
	data, err := os.ReadFile("testdata/eslint-8.57.1.sarif")
	if err != nil {
		b.Fatal(err)
	}
	s := string(data)
	open := strings.Index(s, `"results": [`) + len(`"results": [`)
	close := strings.LastIndex(s, "]")
	close = strings.LastIndex(s[:close], "]") // the results array ends before the run and runs close
	items := strings.TrimSpace(s[open:close])
	var sb strings.Builder
	sb.WriteString(s[:open])
	for i := range 400 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(items)
	}
	sb.WriteString(s[close:])
	data = []byte(sb.String())
	got, err := Parse(data)
	if err != nil || len(got.Issues) != 2000 {
		b.Fatalf("benchmark input: %v issues, %v", len(got.Issues), err)
	}
	producertest.BenchParse(b, Parse, data)
}

// TestRealESLint runs the pinned ESLint (installed with Producer.Tool.Install)
// on testdata/src: .js and .ts files, one finding suppressed in the source.
func TestRealESLint(t *testing.T) {
	got := producertest.RunTool(t, Producer, "testdata/src")
	if s := summary(t, got.Issues); !slices.Equal(s, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
}
