package sarifout

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// decoded is a written SARIF file read back.
func decoded(t *testing.T, data []byte) *sarif.Report {
	t.Helper()
	rep, err := sarif.FromBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func consume(t *testing.T, c Consumer, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) ([]byte, Report) {
	t.Helper()
	if c.Path == "" {
		c.Path = filepath.Join(t.TempDir(), "out", "dracon.sarif")
	}
	var got Report
	c.Reported = func(r Report) { got = r }
	if err := c.Consume(context.Background(), scan, results); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	return data, got
}

// TestToolsThatFoundNothing: every producer that ran has a run, with no
// results when it found nothing, so code scanning closes its alerts;
// each run's category is stable and its own.
func TestToolsThatFoundNothing(t *testing.T) {
	scan, results := sample(t)
	// A producer whose response has no findings, and one only named.
	results = append(results, &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "trivy", ToolVersion: "0.72.0"}})
	data, rep := consume(t, Consumer{Tools: []string{"gosec", "semgrep", " ", "semgrep"}}, scan, results)
	schematest.ValidateSARIF(t, data)
	log := decoded(t, data)
	want := map[string]int{"gosec": 2, "govulncheck": 2, "semgrep": 0, "trivy": 0}
	if len(log.Runs) != len(want) || rep.Runs != len(want) {
		t.Fatalf("%d runs (report: %d), want %d", len(log.Runs), rep.Runs, len(want))
	}
	keys := map[string]bool{}
	for _, run := range log.Runs {
		tool := run.Tool.Driver.Name
		n, ok := want[tool]
		if !ok || len(run.Results) != n {
			t.Errorf("run %s has %d results, want %d", tool, len(run.Results), n)
		}
		id := *run.AutomationDetails.ID
		if id != "dracon/"+tool+"/"+scan.ScanUuid {
			t.Errorf("%s: automationDetails.id %q", tool, id)
		}
		// Code scanning's category: what comes before the last "/".
		category := id[:strings.LastIndex(id, "/")]
		if category != "dracon/"+tool {
			t.Errorf("%s: category %q", tool, category)
		}
		if keys[tool+"\x00"+category] {
			t.Errorf("two runs of %s in %s", tool, category)
		}
		keys[tool+"\x00"+category] = true
	}
	if v := log.Runs[3].Tool.Driver.Version; v == nil || *v != "0.72.0" {
		t.Errorf("trivy's empty run has driver version %v, want its response's", v)
	}
	// The same, empty, without a report of its own: the run stands alone.
	data, _ = consume(t, Consumer{Tools: []string{"semgrep"}}, scan, nil)
	schematest.ValidateSARIF(t, data)
	if log := decoded(t, data); len(log.Runs) != 1 || len(log.Runs[0].Results) != 0 || *log.Runs[0].AutomationDetails.ID != "dracon/semgrep/"+scan.ScanUuid {
		t.Errorf("a scan that found nothing: %s", data)
	}
}

// TestCategory: the runs are in the category given, a "/" and the tool
// after it; with no scan id, the id ends in "/" (the category alone).
func TestCategory(t *testing.T) {
	_, results := sample(t)
	for _, c := range []struct{ category, scanID, want string }{
		{"", "", "dracon/gosec/"},
		{".github/workflows/scan.yml:dracon/", "u-1", ".github/workflows/scan.yml:dracon/gosec/u-1"},
		{"ci/os:linux", "u-1", "ci/os:linux/gosec/u-1"},
	} {
		log := NewLog(&v1.ScanInfo{ScanUuid: c.scanID}, results, Options{Category: c.category})
		doc, err := log.Document()
		if err != nil {
			t.Fatal(err)
		}
		if got := *doc.Runs[0].AutomationDetails.ID; got != c.want {
			t.Errorf("category %q: id %q, want %q", c.category, got, c.want)
		}
	}
}

// TestAResponseNamingOtherTools: a producer whose findings name other
// tools (a SARIF import names its drivers) has their runs, not an empty
// one of its own as well.
func TestAResponseNamingOtherTools(t *testing.T) {
	r := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "sarif"},
		Issues: []*v1.EnrichedIssue{{RawIssue: &v1.Issue{ToolName: "CodeQL", RuleId: "js/xss"}, Hash: "h"}}}
	log := NewLog(nil, []*v1.EnrichedLaunchToolResponse{r}, Options{Tools: []string{"sarif"}})
	if len(log.runs) != 1 || log.runs[0].head.tool != "CodeQL" {
		t.Errorf("runs %v", log.runs)
	}
}

// source makes a folder of files for the line hashes.
func source(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func finding(path string, line int32, hash string) *v1.EnrichedIssue {
	return &v1.EnrichedIssue{RawIssue: &v1.Issue{RuleId: "R1", Title: "t", Severity: v1.Severity_SEVERITY_HIGH,
		Location: &v1.Location{Path: path, StartLine: line}}, Hash: hash}
}

// TestLineHashesInLog: a result whose file the source holds gets its
// line's primaryLocationLineHash (the occurrence count over the whole
// file); one whose file is missing, outside the source, or not a file,
// or with no line, gets none, as codeql-action leaves them.
func TestLineHashesInLog(t *testing.T) {
	// Lines 2 to 16 are the same 100 characters on: the same hash, told
	// apart by its count.
	text := "package main\n" + strings.Repeat("\tx := 1\n", 30)
	dir := source(t, map[string]string{"cmd/main.go": text, "top.txt": "secret\n"})
	var want []string
	if err := LineHashes(strings.NewReader(text), func(_ int, h string) bool { want = append(want, h); return true }); err != nil {
		t.Fatal(err)
	}
	if want[3] == want[4] || strings.Split(want[3], ":")[0] != strings.Split(want[4], ":")[0] {
		t.Fatalf("identical lines: %s %s", want[3], want[4])
	}
	issues := []*v1.EnrichedIssue{
		finding("cmd/main.go", 5, "a"),
		finding("cmd/main.go", 4, "b"),
		finding(filepath.Join(dir, "cmd", "main.go"), 1, "c"), // absolute, in the source
		finding("cmd/gone.go", 1, "d"),
		finding("cmd", 1, "e"),
		finding("../"+filepath.Base(dir)+"/top.txt", 1, "f"), // leaves the source
		finding("cmd/main.go", 0, "g"),
		finding("pkg:golang/x@v1", 1, "h"),
		finding("/etc/hostname", 1, "i"), // absolute, outside
		finding("cmd/main.go", 100, "j"), // past the end
	}
	want2 := map[string]string{"a": want[4], "b": want[3], "c": want[0]}
	r := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: issues}
	data, _ := consume(t, Consumer{Source: dir}, nil, []*v1.EnrichedLaunchToolResponse{r})
	schematest.ValidateSARIF(t, data)
	for _, res := range decoded(t, data).Runs[0].Results {
		h := res.PartialFingerprints["draconHash/v1"].(string)
		got, _ := res.PartialFingerprints["primaryLocationLineHash"].(string)
		if got != want2[h] {
			t.Errorf("finding %s: line hash %q, want %q", h, got, want2[h])
		}
	}
	// A relative source folder works the same.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Skip(err)
	}
	l := NewLog(nil, []*v1.EnrichedLaunchToolResponse{r}, Options{Source: rel})
	for i, ei := range l.runs[0].issues {
		if l.runs[0].lineHash[i] != want2[ei.Hash] {
			t.Errorf("relative source: finding %s: %q", ei.Hash, l.runs[0].lineHash[i])
		}
	}
}

// TestWritesAreTheDocument: with line hashes too, Write streams what
// go-sarif's PrettyWrite writes of the document, WriteCompact what
// json.Marshal writes, WriteGzip that gzipped; CompactGzip of the file
// is WriteGzip's bytes.
func TestWritesAreTheDocument(t *testing.T) {
	scan, sampled := sample(t)
	files := map[string]string{}
	for i := range 11 {
		files["src/pkg/f"+string(rune('0'+i%10))+".go"] = strings.Repeat("line\n", i*7)
	}
	dir := source(t, files)
	for name, results := range map[string][]*v1.EnrichedLaunchToolResponse{"sample": sampled, "many": many(300, true), "plain": many(300, false)} {
		log := NewLog(scan, results, Options{Source: dir, Tools: []string{"zap"}, Category: "c"})
		doc, err := log.Document()
		if err != nil {
			t.Fatal(err)
		}
		var want, got, compact, gz bytes.Buffer
		if err := doc.PrettyWrite(&want); err != nil {
			t.Fatal(err)
		}
		if err := log.Write(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: Write differs from PrettyWrite", name)
		}
		wantCompact, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := log.WriteCompact(&compact); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(compact.Bytes(), wantCompact) {
			i := 0
			for i < compact.Len() && i < len(wantCompact) && compact.Bytes()[i] == wantCompact[i] {
				i++
			}
			t.Errorf("%s: WriteCompact differs from json.Marshal at %d:\n got %q\nwant %q", name, i, excerpt(compact.Bytes(), i), excerpt(wantCompact, i))
		}
		n, err := log.WriteGzip(&gz)
		if err != nil || n != int64(gz.Len()) {
			t.Fatal(n, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, wantCompact) {
			t.Errorf("%s: WriteGzip is not the compact log gzipped (%v)", name, err)
		}
		var fromFile bytes.Buffer
		if m, err := CompactGzip(&fromFile, bytes.NewReader(got.Bytes())); err != nil || m != n || !bytes.Equal(fromFile.Bytes(), gz.Bytes()) {
			t.Errorf("%s: CompactGzip of the file is not WriteGzip's bytes: %d %d %v", name, m, n, err)
		}
		c, g, err := log.sizes()
		if err != nil || c != int64(len(wantCompact)) || g != n {
			t.Errorf("%s: sizes %d %d, want %d %d (%v)", name, c, g, len(wantCompact), n, err)
		}
		if name == "plain" {
			schematest.ValidateSARIF(t, got.Bytes())
		}
	}
}
