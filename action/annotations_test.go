package action

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
)

type issued struct{ level, props, msg string }

var commandLine = regexp.MustCompile(`^::(error|warning|notice)( [^:]*)?::(.*)$`)

func issuedCommands(t *testing.T, out string) []issued {
	t.Helper()
	var got []issued
	for _, l := range strings.Split(out, "\n") {
		if m := commandLine.FindStringSubmatch(l); m != nil {
			got = append(got, issued{m[1], strings.TrimSpace(m[2]), m[3]})
		}
	}
	return got
}

func newTestAnnotator() (*annotator, *bytes.Buffer) {
	var out bytes.Buffer
	gha := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(envMap(nil)))
	return newAnnotator(gha, &out), &out
}

func TestAnnotationsOrderAndFields(t *testing.T) {
	n, out := newTestAnnotator()
	r := fixtureReport(t)
	done := n.annotate(r.Findings, DefaultAnnotations)
	got := issuedCommands(t, out.String())
	// Suppressed and outside-diff findings are not annotated: 6 of 8.
	if done != 6 || len(got) != 6 {
		t.Fatalf("annotated %d, issued %d:\n%s", done, len(got), out.String())
	}
	if got[0].level != "error" || !strings.Contains(got[0].props, "file=pyapp/settings.py") || !strings.Contains(got[0].props, "line=4") ||
		!strings.Contains(got[0].props, "title=HIGH gitleaks aws-access-token (new)") {
		t.Errorf("first annotation: %+v", got[0])
	}
	if !strings.Contains(got[1].props, "endLine=37") || got[1].msg != "TLS InsecureSkipVerify set to true.%0ASee https://pkg.go.dev/crypto/tls%0A%0AA policy fails the run on this finding." {
		t.Errorf("second annotation (multi-line message escaped): %+v", got[1])
	}
	if got[2].level != "warning" || !strings.Contains(got[2].props, "file=pyapp/app.py") {
		t.Errorf("third: %+v", got[2])
	}
	// Properties are escaped: the path's comma and colon cannot end them.
	n2, out2 := newTestAnnotator()
	n2.annotate([]Finding{{Tool: "t", Rule: "r", Title: "x", Severity: sevHigh, Path: "a,b:c.go", Start: 1, New: true}}, 5)
	if !strings.Contains(out2.String(), "file=a%2Cb%3Ac.go") {
		t.Errorf("unescaped property: %s", out2.String())
	}
}

func TestAnnotationLimits(t *testing.T) {
	n, out := newTestAnnotator()
	var fs []Finding
	for i := range 40 {
		fs = append(fs, Finding{Tool: "gosec", Rule: fmt.Sprintf("G%d", i), Title: "t", Severity: sevHigh, Path: "a.go", Start: i + 1, New: true})
	}
	for i := range 5 {
		fs = append(fs, Finding{Tool: "gosec", Rule: "M", Title: "t", Severity: sevMedium, Path: "b.go", Start: i + 1})
	}
	sortFindings(fs)
	done := n.annotate(fs, DefaultAnnotations)
	got := issuedCommands(t, out.String())
	count := map[string]int{}
	for _, c := range got {
		count[c.level]++
	}
	// 10 per level, one error kept for the verdict, the notice for the rest.
	if count["error"] != MaxAnnotationsPerLevel-reserved[LevelError] || count["warning"] != 5 || count["notice"] != 1 {
		t.Errorf("levels: %v", count)
	}
	if done != 14 {
		t.Errorf("annotated %d, want 14", done)
	}
	last := got[len(got)-1]
	if last.level != "notice" || !strings.Contains(last.msg, "31 more findings in the job summary") {
		t.Errorf("last: %+v", last)
	}
	// The verdict still has its error.
	n.message(LevelError, "Dracon: failed", "the gate failed")
	if c := issuedCommands(t, out.String()); c[len(c)-1].level != "error" {
		t.Error("no room left for the verdict's error")
	}
	// Past every limit, messages are log lines.
	for range 20 {
		n.message(LevelError, "x", "y")
	}
	if !strings.Contains(out.String(), "dracon: error: y") {
		t.Error("no log line past the limit")
	}
	if n.used[LevelError] > MaxAnnotationsPerLevel {
		t.Errorf("issued %d errors", n.used[LevelError])
	}
}

func TestAnnotationCapInput(t *testing.T) {
	n, out := newTestAnnotator()
	r := fixtureReport(t)
	if done := n.annotate(r.Findings, 2); done != 2 {
		t.Errorf("annotated %d with a cap of 2", done)
	}
	if !strings.Contains(out.String(), "4 more findings in the job summary") {
		t.Errorf("no 'more' notice:\n%s", out.String())
	}
	n0, out0 := newTestAnnotator()
	n0.annotate(r.Findings, 0)
	if got := issuedCommands(t, out0.String()); len(got) != 1 || got[0].level != "notice" {
		t.Errorf("annotations: 0 issued %v", got)
	}
}

func TestAnnotationsPerJob(t *testing.T) {
	n, _ := newTestAnnotator()
	n.total = MaxAnnotationsPerJob - 1
	if !n.room(LevelNotice, 0) {
		t.Fatal("no room for the 50th")
	}
	n.message(LevelNotice, "", "50th")
	if n.room(LevelError, 0) {
		t.Error("room past 50 per job")
	}
}

func newTestGHA(w io.Writer) *githubactions.Action {
	return githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(envMap(nil)))
}
