package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/eslint"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/vendored"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const webapp = "testdata/webapp"

// skippedLine is what the log says about testdata/webapp's libraries.
const skippedLine = "dracon: eslint: skipped 3 vendored or generated files (" +
	"static/js/bootstrap.js: library (Bootstrap); " +
	"static/js/jquery-3.2.1-min.js: minified; " +
	"static/js/loader.js: minified (lines average 1830 characters)); " +
	"set include_vendored: true to scan them"

// byFile counts findings per file.
func byFile(res *Result) map[string]int {
	n := map[string]int{}
	for _, r := range res.Results {
		for _, is := range r.Issues {
			n[is.RawIssue.GetLocation().GetPath()]++
		}
	}
	return n
}

func producerStatus(t *testing.T, s *summary.Summary, name string) summary.Producer {
	t.Helper()
	for _, p := range s.Producers {
		if p.Name == name {
			if p.Status != "ok" {
				t.Fatalf("%s: %s: %s", name, p.Status, p.Reason)
			}
			return p
		}
	}
	t.Fatalf("no %s in the summary", name)
	return summary.Producer{}
}

func validateSummary(t *testing.T, out string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	sch, err := jsonschema.NewCompiler().Compile("../../docs/summary.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("summary.json does not match docs/summary.schema.json: %v", err)
	}
}

// TestVendoredSkipped is the first scan of a web application that commits
// jQuery, Bootstrap and a minified loader beside its own script: the real
// ESLint reports the one finding in the application's code (not the 388
// in the libraries), the log names the three files it left out and why,
// the run directory lists them, and summary.json counts them. ESLint is
// told to stay out of them (--ignore-pattern), so its raw report does not
// mention them either.
func TestVendoredSkipped(t *testing.T) {
	producertest.RequireTool(t, eslint.Producer)
	c := testConfig(t, "producers:\n  eslint: {}\n")
	res, out, log := runLog(t, c, webapp)

	want := "eslint security/detect-eval-with-expression static/js/app.js:5 MEDIUM"
	if got := findings(res); strings.Join(got, "\n") != want {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	if !strings.Contains(log, skippedLine+"\n") {
		t.Errorf("log lacks\n%s\nlog:\n%s", skippedLine, log)
	}
	p := producerStatus(t, res.Summary, "eslint")
	if p.Findings != 1 || p.Vendored == nil || p.Vendored.SkippedFiles != 3 || p.Vendored.DroppedFindings != 0 ||
		p.Vendored.List != filepath.Join(res.Summary.RunDir, "eslint.vendored.txt") {
		t.Errorf("summary: %+v, vendored %+v", p, p.Vendored)
	}
	list, err := os.ReadFile(p.Vendored.List)
	if err != nil {
		t.Fatal(err)
	}
	wantList := "static/js/bootstrap.js\tlibrary (Bootstrap)\n" +
		"static/js/jquery-3.2.1-min.js\tminified\n" +
		"static/js/loader.js\tminified (lines average 1830 characters)\n"
	if string(list) != wantList {
		t.Errorf("%s:\n%s\nwant:\n%s", p.Vendored.List, list, wantList)
	}
	report, err := os.ReadFile(p.Report)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"jquery-3.2.1-min.js", "bootstrap.js", "loader.js"} {
		if bytes.Contains(report, []byte(f)) {
			t.Errorf("ESLint scanned %s: its report names it", f)
		}
	}
	validateSummary(t, out)
}

// TestVendoredIncluded: include_vendored (top level or on the producer)
// brings the libraries' findings back, and scan globs bring back the
// files they name. A report imported with paths keeps every finding, and
// include_vendored: false on it drops those in vendored files after
// parsing.
func TestVendoredIncluded(t *testing.T) {
	producertest.RequireTool(t, eslint.Producer)
	all := map[string]int{
		"static/js/app.js":              1,
		"static/js/bootstrap.js":        33,
		"static/js/jquery-3.2.1-min.js": 347,
		"static/js/loader.js":           8,
	}
	var report string // a report of all of them, for the import cases
	keep := t.TempDir()
	for _, tc := range []struct {
		name, config string
	}{
		{"top level", "include_vendored: true\nproducers:\n  eslint: {}\n"},
		{"producer", "include_vendored: false\nproducers:\n  eslint:\n    include_vendored: true\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, out, log := runLog(t, testConfig(t, tc.config), webapp)
			if got := byFile(res); fmt.Sprint(got) != fmt.Sprint(all) {
				t.Errorf("findings by file: %v, want %v", got, all)
			}
			if strings.Contains(log, "skipped") {
				t.Errorf("log says something was skipped:\n%s", log)
			}
			p := producerStatus(t, res.Summary, "eslint")
			if p.Vendored != nil || p.Findings != 389 {
				t.Errorf("summary: %+v, vendored %+v", p, p.Vendored)
			}
			validateSummary(t, out)
			// Kept past this subtest, whose folders go when it ends.
			report = filepath.Join(keep, "eslint.report")
			if err := copyFile(p.Report, report); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("scan glob", func(t *testing.T) {
		c := testConfig(t, "vendored:\n  scan: [static/js/loader.js]\n  skip: [static/js/app.js]\nproducers:\n  eslint: {}\n")
		res, _, log := runLog(t, c, webapp)
		if got, want := byFile(res), map[string]int{"static/js/loader.js": 8}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("findings by file: %v, want %v", got, want)
		}
		line := `dracon: eslint: skipped 3 vendored or generated files (static/js/app.js: vendored.skip "static/js/app.js"; ` +
			"static/js/bootstrap.js: library (Bootstrap); static/js/jquery-3.2.1-min.js: minified); set include_vendored: true to scan them\n"
		if !strings.Contains(log, line) {
			t.Errorf("log lacks\n%s\nlog:\n%s", line, log)
		}
	})

	if report == "" {
		t.Fatal("no report to import")
	}
	t.Run("import", func(t *testing.T) {
		c := testConfig(t, fmt.Sprintf("producers:\n  eslint:\n    paths: [%q]\n", report))
		res, _, log := runLog(t, c, webapp)
		if got := byFile(res); fmt.Sprint(got) != fmt.Sprint(all) {
			t.Errorf("imported report: findings by file %v, want %v", got, all)
		}
		if strings.Contains(log, "skipped") || producerStatus(t, res.Summary, "eslint").Vendored != nil {
			t.Errorf("an imported report was filtered:\n%s", log)
		}
	})
	t.Run("import, include_vendored: false", func(t *testing.T) {
		c := testConfig(t, fmt.Sprintf("producers:\n  eslint:\n    paths: [%q]\n    include_vendored: false\n", report))
		res, out, log := runLog(t, c, webapp)
		if got, want := byFile(res), map[string]int{"static/js/app.js": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("findings by file: %v, want %v", got, want)
		}
		line := strings.Replace(skippedLine, "); set", "), dropping 388 findings in them; set", 1)
		if !strings.Contains(log, line+"\n") {
			t.Errorf("log lacks\n%s\nlog:\n%s", line, log)
		}
		p := producerStatus(t, res.Summary, "eslint")
		if p.Findings != 1 || p.Vendored == nil || p.Vendored.SkippedFiles != 3 || p.Vendored.DroppedFindings != 388 {
			t.Errorf("summary: %+v, vendored %+v", p, p.Vendored)
		}
		validateSummary(t, out)
	})
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// TestVendorPolicy: which producers leave vendored files out.
func TestVendorPolicy(t *testing.T) {
	lookup := func(n string) *producers.Producer {
		p, err := registry.Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	yes, no := true, false
	for _, tc := range []struct {
		name     string
		top      bool
		producer string
		cfg      *config.Producer
		want     vendorPolicy
	}{
		{"SAST", false, "eslint", nil, vendorPolicy{skip: true, keepSecrets: true, tree: true}},
		{"IaC", false, "kics", nil, vendorPolicy{skip: true, keepSecrets: true, tree: true}},
		{"secrets", false, "gitleaks", nil, vendorPolicy{}},
		{"SCA", false, "osv-scanner", nil, vendorPolicy{}},
		{"SBOM", false, "syft", nil, vendorPolicy{}},
		{"importer", false, "sarif", &config.Producer{Paths: []string{"a.sarif"}}, vendorPolicy{}},
		{"import", false, "eslint", &config.Producer{Paths: []string{"a.sarif"}}, vendorPolicy{}},
		{"import, false", false, "eslint", &config.Producer{Paths: []string{"a.sarif"}, IncludeVendored: &no}, vendorPolicy{skip: true}},
		{"secrets, false", false, "gitleaks", &config.Producer{IncludeVendored: &no}, vendorPolicy{skip: true, tree: true}},
		{"top level true", true, "eslint", nil, vendorPolicy{}},
		{"top level true, producer false", true, "gosec", &config.Producer{IncludeVendored: &no}, vendorPolicy{skip: true, tree: true}},
		{"producer true", false, "gosec", &config.Producer{IncludeVendored: &yes}, vendorPolicy{}},
	} {
		c := &config.Config{IncludeVendored: tc.top}
		if got := policyFor(c, planned{p: lookup(tc.producer), cfg: tc.cfg}); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestFilterVendored: findings in vendored files are dropped and named;
// secret findings are kept there by default, not when the config says
// include_vendored: false; paths that are not files under the source
// folder are kept.
func TestFilterVendored(t *testing.T) {
	src, err := filepath.Abs(webapp)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(path string, tags ...string) *v1.Issue {
		return &v1.Issue{Target: path, Location: &v1.Location{Path: path}, Tags: tags}
	}
	issues := func() []*v1.Issue {
		return []*v1.Issue{
			issue("static/js/app.js"),
			issue(filepath.Join(src, "static/js/loader.js")),
			issue("./static/js/jquery-3.2.1-min.js"),
			issue("static/js/jquery-3.2.1-min.js", "secret"),
			issue("node_modules/x/index.js"), // not on disk: the path decides
			issue("pkg:npm/jquery@3.2.1"),
			issue("/elsewhere/node_modules/x.js"),
			{Target: "no location"},
		}
	}
	cl, _ := vendored.New(vendored.Rules{})
	p := &producers.Producer{Name: "x", Kind: producers.IaC, Tool: &producers.Tool{}}
	for _, tc := range []struct {
		name    string
		pol     vendorPolicy
		kept    int
		dropped int
	}{
		{"default", vendorPolicy{skip: true, keepSecrets: true, tree: true}, 5, 3},
		{"include_vendored: false", vendorPolicy{skip: true, tree: true}, 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := &vendoredTree{src: src, cl: cl, known: map[string]vendored.Verdict{}}
			out := produce.Outcome{Status: produce.OK, Parsed: &producers.Parsed{Issues: issues()}}
			rep, err := filterVendored(&out, planned{p: p}, tc.pol, tree, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Parsed.Issues) != tc.kept || rep.dropped != tc.dropped || len(rep.files) != 3 {
				t.Errorf("kept %d, dropped %d, files %v", len(out.Parsed.Issues), rep.dropped, rep.files)
			}
			line := rep.logLine("x")
			for _, w := range []string{"skipped 3 vendored or generated files", "node_modules/: 1 file, vendored folder (node_modules)",
				"static/js/loader.js: minified (lines average 1830 characters)", fmt.Sprintf("dropping %d findings in them", tc.dropped)} {
				if !strings.Contains(line, w) {
					t.Errorf("log line %q lacks %q", line, w)
				}
			}
		})
	}
}

// TestLogLineBounded: a long list is cut after maxNamed entries, pointing
// at the run directory's list; a vendored folder is one entry.
func TestLogLineBounded(t *testing.T) {
	r := &vendorReport{list: "/run/eslint.vendored.txt"}
	for i := range 15 {
		r.files = append(r.files, vendored.File{Path: fmt.Sprintf("static/%02d.min.js", i), Verdict: vendored.Verdict{Kind: vendored.Minified, Why: "minified"}})
	}
	for _, f := range []string{"a/b.js", "a/c/d.js"} {
		r.files = append(r.files, vendored.File{Path: "vendor/" + f, Verdict: vendored.Verdict{Kind: vendored.Folder, Why: "vendored folder (vendor)", Dir: "vendor/"}})
	}
	line := r.logLine("eslint")
	if n := strings.Count(line, ": minified"); n != maxNamed {
		t.Errorf("%d files named, want %d: %s", n, maxNamed, line)
	}
	for _, w := range []string{"skipped 17 vendored or generated files", "; 6 more in /run/eslint.vendored.txt)"} {
		if !strings.Contains(line, w) {
			t.Errorf("%q lacks %q", line, w)
		}
	}
	r.files = r.files[13:]
	if line := r.logLine("eslint"); !strings.Contains(line, "(static/13.min.js: minified; static/14.min.js: minified; vendor/: 2 files, vendored folder (vendor))") {
		t.Errorf("folder entry: %s", line)
	}
}

// TestDetectSkipsVendored: a tree whose only JavaScript is jQuery and
// Bootstrap does not get ESLint (nor semgrep, for them), and the log says
// so; with include_vendored: true it does.
func TestDetectSkipsVendored(t *testing.T) {
	dir := t.TempDir()
	bootstrap, err := os.ReadFile(filepath.Join(webapp, "static/js/bootstrap.js"))
	if err != nil {
		t.Fatal(err)
	}
	for f, data := range map[string][]byte{
		"static/jquery.min.js":         []byte("/*! jQuery */"),
		"static/bootstrap.js":          bootstrap,
		"static/app/helpers.min.js":    []byte("x"),
		"static/vendor/select2/ui.css": []byte("x"),
		"README.md":                    []byte("# site\n"),
	} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := func(plan []planned) string {
		var n []string
		for _, p := range plan {
			n = append(n, p.p.Name)
		}
		return " " + strings.Join(n, " ") + " "
	}
	plan, notes, err := Plan(testConfig(t, ""), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(plan); strings.Contains(got, " eslint ") || strings.Contains(got, " semgrep ") || !strings.Contains(got, " gitleaks ") {
		t.Errorf("detected%s", got)
	}
	note := "dracon: auto-detection left out eslint: the only files it would scan are vendored or generated (" +
		"static/app/helpers.min.js: minified; static/bootstrap.js: library (Bootstrap); static/jquery.min.js: minified); " +
		"set include_vendored: true to scan them"
	if !strings.Contains(strings.Join(notes, "\n"), note) {
		t.Errorf("notes:\n%s\nlack:\n%s", strings.Join(notes, "\n"), note)
	}

	plan, notes, err = Plan(testConfig(t, "vendored:\n  scan: [static/app]\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(plan); !strings.Contains(got, " eslint ") || len(notes) != 0 {
		t.Errorf("with a scan glob: detected%s, notes %q", got, notes)
	}
	plan, notes, err = Plan(testConfig(t, "include_vendored: true\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(plan); !strings.Contains(got, " eslint ") || !strings.Contains(got, " semgrep ") || len(notes) != 0 {
		t.Errorf("with include_vendored: detected%s, notes %q", got, notes)
	}
}
