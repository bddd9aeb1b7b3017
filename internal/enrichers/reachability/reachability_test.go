package reachability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/enrichers/merge"
	"github.com/draconsec/dracon/internal/enrichers/reachability"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/registry"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/cases/*/want.txt")

// caseFile is testdata/cases/<name>/case.yaml.
type caseFile struct {
	// Source is the scanned folder the reports' absolute paths are under.
	Source string `yaml:"source"`
	// Trace gives govulncheck's symbol-level issues the govulncheck.trace
	// annotation, built from the report as the parser is to build it.
	Trace       bool  `yaml:"trace"`
	OSVScanner  *bool `yaml:"osv_scanner"`
	MaxEvidence int   `yaml:"max_evidence"`
	// Runs is how many times the chain runs (a notice is said once).
	Runs    int `yaml:"runs"`
	Reports []struct {
		Tool string `yaml:"tool"`
		// File is relative to the case; Corpus to testdata/corpus/defectdojo.
		File   string `yaml:"file"`
		Corpus string `yaml:"corpus"`
	} `yaml:"reports"`
}

// TestCases reads each case's reports with the real parsers, runs the
// chain up to the enricher (identity, merge) and compares every finding's
// annotations, and the notices, with want.txt.
func TestCases(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*/case.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c caseFile
			if err := yaml.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			results := load(t, dir, c)
			if err := enrichers.Run(context.Background(), nil, results, identity.Enricher{}, merge.Enricher{}); err != nil {
				t.Fatal(err)
			}
			var notices []string
			e := reachability.New(config.Reachability{OSVScanner: c.OSVScanner, MaxEvidence: c.MaxEvidence}, c.Source,
				func(m string) { notices = append(notices, m) })
			for i := 0; i < max(c.Runs, 1); i++ {
				if err := e.Enrich(context.Background(), nil, results); err != nil {
					t.Fatal(err)
				}
			}
			got := render(results, notices)
			golden := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// load parses the case's reports into results, one per tool, as the
// pipeline's launch stage hands them on.
func load(t *testing.T, dir string, c caseFile) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	var out []*v1.EnrichedLaunchToolResponse
	for _, r := range c.Reports {
		path := filepath.Join(dir, r.File)
		if r.Corpus != "" {
			path = filepath.Join(producertest.CorpusDir(t), "defectdojo", r.Corpus)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := registry.Lookup(r.Tool)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := registry.Parse(p, data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if c.Trace && p.Name == "govulncheck" {
			addTrace(t, parsed.Issues, data)
		}
		for _, is := range parsed.Issues {
			if is.ToolName == "" {
				is.ToolName = p.Name
			}
		}
		out = append(out, enrichers.Wrap(&v1.LaunchToolResponse{ToolName: p.Name, Issues: parsed.Issues, ToolVersion: parsed.ToolVersion}))
	}
	return out
}

// render writes one block per finding, in the results' order.
func render(results []*v1.EnrichedLaunchToolResponse, notices []string) string {
	var b strings.Builder
	for _, r := range results {
		for _, is := range r.GetIssues() {
			raw := is.GetRawIssue()
			loc := raw.GetLocation().GetPath()
			if loc == "" {
				loc = "-"
			}
			fmt.Fprintf(&b, "%s %s %s %s", raw.GetToolName(), raw.GetRuleId(), loc, raw.GetPackageUrl())
			if is.GetDuplicateOf() != "" {
				b.WriteString(" (duplicate)")
			}
			b.WriteString("\n")
			a := is.GetAnnotations()
			if _, ok := a[reachability.Reachable]; !ok {
				b.WriteString("  not annotated\n")
				continue
			}
			fmt.Fprintf(&b, "  reachable: %s\n", a[reachability.Reachable])
			for _, k := range []string{reachability.Evidence, reachability.Reason} {
				if v, ok := a[k]; ok {
					fmt.Fprintf(&b, "  %s: %s\n", k, strings.ReplaceAll(v, "\n", "\n    "))
				}
			}
		}
	}
	for _, n := range notices {
		fmt.Fprintf(&b, "notice: %s\n", n)
	}
	return b.String()
}

// frame and finding are govulncheck's JSON (protocol v1.0.0).
type frame struct {
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

type finding struct {
	OSV   string  `json:"osv"`
	Trace []frame `json:"trace"`
}

// addTrace writes the govulncheck.trace annotation the parser is to
// write (docs/enrichers/reachability.md): for each symbol-level finding
// of an advisory, in the report's order and once each, its frames from
// the scanned code's entry to the vulnerable function, "pkg.Func
// (file:line)" (a method "pkg.Type.Method"), joined by " -> "; one path a
// line.
func addTrace(t *testing.T, issues []*v1.Issue, report []byte) {
	t.Helper()
	paths := map[string][]string{}
	each := func(raw json.RawMessage) {
		var m struct {
			Finding *finding `json:"finding"`
		}
		if json.Unmarshal(raw, &m) != nil || m.Finding == nil || len(m.Finding.Trace) == 0 || m.Finding.Trace[0].Function == "" {
			return
		}
		var frames []string
		for i := len(m.Finding.Trace) - 1; i >= 0; i-- {
			f := m.Finding.Trace[i]
			s := f.Package
			if f.Receiver != "" {
				s += "." + strings.TrimPrefix(f.Receiver, "*")
			}
			s += "." + f.Function
			if f.Position != nil && f.Position.Filename != "" {
				s += " (" + f.Position.Filename + ":" + strconv.Itoa(f.Position.Line) + ")"
			}
			frames = append(frames, s)
		}
		p := strings.Join(frames, " -> ")
		for _, q := range paths[m.Finding.OSV] {
			if q == p {
				return
			}
		}
		paths[m.Finding.OSV] = append(paths[m.Finding.OSV], p)
	}
	if trimmed := bytes.TrimSpace(report); len(trimmed) > 0 && trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			each(m)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(report))
		for dec.More() {
			var m json.RawMessage
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			each(m)
		}
	}
	n := 0
	for _, is := range issues {
		if p := paths[is.RuleId]; len(p) > 0 && is.Annotations["govulncheck.level"] == "symbol" {
			is.Annotations[reachability.TraceAnnotation] = strings.Join(p, "\n")
			n++
		}
	}
	if n == 0 {
		t.Fatal("trace: true, but the report has no symbol-level finding")
	}
}

// TestNotAnnotated: findings the enricher has no business with keep
// their annotations as they were, and a finding annotated by an earlier
// run of the chain loses evidence that no longer holds.
func TestNotAnnotated(t *testing.T) {
	res := &v1.EnrichedLaunchToolResponse{
		OriginalResults: &v1.LaunchToolResponse{ToolName: "trivy"},
		Issues: []*v1.EnrichedIssue{
			{RawIssue: &v1.Issue{ToolName: "trivy", RuleId: "CVE-2021-23337", PackageUrl: "pkg:npm/lodash@4.17.20"}, Annotations: map[string]string{"team": "web"}},
			{RawIssue: &v1.Issue{ToolName: "trivy", RuleId: "license:MIT", PackageUrl: "pkg:golang/github.com/x/y@v1.0.0"}},
			{RawIssue: &v1.Issue{ToolName: "syft", RuleId: "component", Type: "component", PackageUrl: "pkg:golang/github.com/x/y@v1.0.0"}},
			{RawIssue: &v1.Issue{ToolName: "gosec", RuleId: "G104", Location: &v1.Location{Path: "main.go"}}},
			{RawIssue: &v1.Issue{ToolName: "trivy", RuleId: "CVE-2099-0001", PackageUrl: "pkg:golang/github.com/x/y@v1.0.0", Location: &v1.Location{Path: "go.mod"}},
				Annotations: map[string]string{reachability.Reachable: "true", reachability.Evidence: "stale"}},
		},
	}
	var notices []string
	e := reachability.New(config.Reachability{}, "", func(m string) { notices = append(notices, m) })
	if err := e.Enrich(context.Background(), nil, []*v1.EnrichedLaunchToolResponse{res}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range res.Issues {
		var kv []string
		for k, v := range is.Annotations {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		got = append(got, is.RawIssue.RuleId+" "+strings.Join(kv, " "))
	}
	want := []string{
		"CVE-2021-23337 team=web",
		"license:MIT ",
		"component ",
		"G104 ",
		"CVE-2099-0001 reachable=unknown reachable_reason=govulncheck did not run in this scan",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "1 of 1 Go dependency findings are reachable=unknown") {
		t.Errorf("notices = %q", notices)
	}
}
