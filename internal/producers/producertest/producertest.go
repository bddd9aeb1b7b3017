// Package producertest holds the checks every producer's tests share: the
// corpus of real scanner outputs and its expected finding counts,
// issue sanity checks, and fuzz seeding.
package producertest

import (
	"bufio"
	"context"
	"errors"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/runner"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// CorpusDir is the corpus of real scanner reports the repository carries
// (testdata/corpus at the module root), or $DRACON_CORPUS to read another
// copy. A missing corpus fails the test rather than skipping it: a skipped
// corpus test would let every parser regress unnoticed.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("DRACON_CORPUS"); d != "" {
		return d
	}
	dir := filepath.Join(ModuleRoot(tb), "testdata", "corpus")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		tb.Fatalf("scanner corpus not found at %s (or set DRACON_CORPUS)", dir)
	}
	return dir
}

// SchemasDir holds the official report schemas (SARIF, GitLab, CycloneDX)
// that what Dracon writes is validated against: testdata/schemas.
func SchemasDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(ModuleRoot(tb), "testdata", "schemas")
}

// ModuleRoot is the folder of Dracon's go.mod, above the test's package.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// Row is one line of defectdojo/expected.tsv.
type Row struct {
	Tool  string
	File  string // absolute path
	Rel   string // as written in the TSV
	Count int    // -1: no count asserted
	Error bool   // DefectDojo expects the file to be rejected
	Notes string
}

// Expected returns the rows of expected.tsv for one corpus tool folder.
func Expected(tb testing.TB, corpusTool string) []Row {
	tb.Helper()
	base := filepath.Join(CorpusDir(tb), "defectdojo")
	f, err := os.Open(filepath.Join(base, "expected.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		for len(cols) < 4 {
			cols = append(cols, "")
		}
		if cols[0] != corpusTool {
			continue
		}
		r := Row{Tool: cols[0], Rel: cols[1], File: filepath.Join(base, cols[1]), Count: -1, Notes: cols[3]}
		switch cols[2] {
		case "":
		case "error":
			r.Error = true
		default:
			n, err := strconv.Atoi(cols[2])
			if err != nil {
				tb.Fatalf("expected.tsv: bad count %q for %s", cols[2], cols[1])
			}
			r.Count = n
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(rows) == 0 {
		tb.Fatalf("expected.tsv has no rows for %q", corpusTool)
	}
	return rows
}

// Differ documents why Dracon's count for a corpus file differs from
// DefectDojo's: the count Dracon gives and the reason.
type Differ struct {
	Count  int
	Reason string
}

// CheckCorpus parses every corpus file of corpusTool and compares the
// number of issues with expected.tsv. differs lists the files where Dracon
// counts differently on purpose; each entry must name its reason, and the
// test fails if a listed file has started to agree with DefectDojo (so the
// list never goes stale). Files with no asserted count must still parse.
func CheckCorpus(t *testing.T, corpusTool string, parse producers.ParseFunc, differs map[string]Differ) map[string]*producers.Parsed {
	t.Helper()
	results := map[string]*producers.Parsed{}
	for _, row := range Expected(t, corpusTool) {
		t.Run(filepath.Base(row.Rel), func(t *testing.T) {
			data, err := os.ReadFile(row.File)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parse(data)
			d, differ := differs[row.Rel]
			if differ && d.Reason == "" {
				t.Fatalf("%s: a count that differs needs a reason", row.Rel)
			}
			if row.Error {
				if err == nil && !differ {
					t.Fatalf("%s: DefectDojo rejects this file; we parsed %d issues", row.Rel, len(got.Issues))
				}
				if err != nil {
					return
				}
			}
			if err != nil {
				t.Fatalf("%s: %v", row.Rel, err)
			}
			results[row.Rel] = got
			CheckIssues(t, got.Issues)
			want := row.Count
			if differ {
				if row.Count >= 0 && d.Count == row.Count {
					t.Fatalf("%s: listed as differing but matches DefectDojo's %d; drop the entry", row.Rel, row.Count)
				}
				want = d.Count
			}
			if want >= 0 && len(got.Issues) != want {
				t.Errorf("%s: got %d issues, want %d (%s)", row.Rel, len(got.Issues), want, row.Notes)
			}
		})
	}
	for rel := range differs {
		if _, err := os.Stat(filepath.Join(CorpusDir(t), "defectdojo", rel)); err != nil {
			t.Errorf("differs lists %s, which is not in the corpus", rel)
		}
	}
	return results
}

// CheckIssues asserts what every parser owes its issues: a tool name, a
// title, a target and a known severity.
func CheckIssues(tb testing.TB, issues []*v1.Issue) {
	tb.Helper()
	for i, is := range issues {
		switch {
		case is.GetToolName() == "":
			tb.Errorf("issue %d has no tool name: %v", i, is)
		case strings.TrimSpace(is.GetTitle()) == "":
			tb.Errorf("issue %d has no title: %v", i, is)
		case is.GetTarget() == "":
			tb.Errorf("issue %d has no target: %v", i, is)
		case is.GetSeverity() == v1.Severity_SEVERITY_UNSPECIFIED:
			tb.Errorf("issue %d has no severity: %v", i, is)
		}
	}
}

// Seed adds every corpus file of the given tools and the files matching
// the globs to f's seed corpus.
func Seed(f *testing.F, corpusTools []string, globs ...string) {
	f.Helper()
	for _, tool := range corpusTools {
		for _, row := range Expected(f, tool) {
			data, err := os.ReadFile(row.File)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte("[]"))
	f.Add([]byte("null"))
}

// FuzzParse is the body every parser fuzz test shares: the parser must
// never panic, and an error must be a ParseError that names the tool.
func FuzzParse(t *testing.T, parse producers.ParseFunc, data []byte) {
	got, err := parse(data)
	if err != nil {
		var pe *producers.ParseError
		if !errors.As(err, &pe) || pe.Tool == "" {
			t.Fatalf("error is not a ParseError naming the tool: %v", err)
		}
		return
	}
	if got == nil {
		t.Fatal("nil result without an error")
	}
	for _, is := range got.Issues {
		if is == nil {
			t.Fatal("nil issue")
		}
	}
}

// RequireTool returns the path of p's scanner. When it is not installed
// the test fails if DRACON_REQUIRE_TOOLS is set (as .ci/run sets it), and
// is skipped with the install command otherwise, so a developer without
// the scanner still gets a useful `make test`, and CI never skips.
func RequireTool(tb testing.TB, p *producers.Producer) string {
	tb.Helper()
	if p.Tool == nil {
		tb.Fatalf("%s runs no tool", p.Name)
	}
	path, err := p.Tool.Locate()
	if err == nil {
		return path
	}
	msg := p.Name + " is not installed; install it with: " + p.Tool.InstallHint(p.Name)
	if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// RunTool runs p's real scanner on src (failing or skipping as RequireTool
// does when it is missing) and returns what its report parsed to.
func RunTool(t *testing.T, p *producers.Producer, src string) *producers.Parsed {
	t.Helper()
	RequireTool(t, p)
	out := produce.Run(context.Background(), runner.Local{}, p, produce.Options{
		Source: src, RunDir: t.TempDir(), Timeout: 10 * time.Minute,
	})
	if out.Status != produce.OK {
		t.Fatalf("%s %s: %s", p.Name, out.Status, out.Reason)
	}
	CheckIssues(t, out.Parsed.Issues)
	return out.Parsed
}

// BenchParse is every parser's benchmark: it parses data in a loop and
// reports, besides Go's wall-clock MB/s, "cpu-MB/s": bytes over the CPU
// time the process spent (user + system, GC included). On a shared,
// loaded machine wall time says more about the neighbours than about the
// parser; CPU time per byte does not. Run with -cpu 1 for per-core figures.
func BenchParse(b *testing.B, parse producers.ParseFunc, data []byte) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := parse(data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if spent := cpuTime() - start; spent > 0 {
		b.ReportMetric(float64(n)*float64(len(data))/1e6/spent.Seconds(), "cpu-MB/s")
	}
}

// BenchCorpusFile benchmarks parse on one file of the corpus (testdata/corpus).
func BenchCorpusFile(b *testing.B, parse producers.ParseFunc, rel string) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(CorpusDir(b), "defectdojo", rel))
	if err != nil {
		b.Fatal(err)
	}
	BenchParse(b, parse, data)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
