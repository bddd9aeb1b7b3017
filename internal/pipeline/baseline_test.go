package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// prBase is main: a weak hash far from anything the pull request
// touches, a command run whose neighbourhood it edits, an untouched file
// and a file it deletes.
var prBase = map[string]string{
	"go.mod": "module example.com/app\n\ngo 1.22\n",
	"main.go": `package main

import (
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
)

func hash(b []byte) {
	fmt.Println(md5.Sum(b))
}

func a() int { return 1 }
func b() int { return 2 }
func c() int { return 3 }
func d() int { return 4 }
func e() int { return 5 }
func f() int { return 6 }

func run() error {
	return exec.Command(os.Args[1]).Run()
}

func main() {
	hash(nil)
	_ = run()
}
`,
	"other.go": "package main\n\nimport \"crypto/sha1\"\n\nfunc weak() [20]byte { return sha1.Sum(nil) }\n",
	"gone.go":  "package main\n\nimport \"net/http\"\n\nfunc serve() error { return http.ListenAndServe(\":8080\", nil) }\n",
}

// TestPullRequest: main is scanned (a push), then a pull request that
// adds one vulnerable line, puts a comment above an old finding and
// deletes a file with a finding, is scanned as GitHub runs it, with each
// diff filter. Exactly the added line is new (also when the same pull
// request is scanned again and the store has seen it); the deleted file's
// finding is fixed; each filter keeps what reviewdog's would.
func TestPullRequest(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	repo := writeTree(t, prBase)
	gitT(t, repo, "init", "-q", "-b", "main")
	gitT(t, repo, "add", "-A")
	gitT(t, repo, "commit", "-q", "-m", "base")
	c := testConfig(t, "version: 1\nproducers:\n  gosec: {}\n")

	env := func(kv ...string) func(string) string {
		m := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": strings.TrimSpace(gitT(t, repo, "rev-parse", "HEAD"))}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	main, _, _ := runEnv(t, c, repo, env("GITHUB_EVENT_NAME", "push", "GITHUB_REF", "refs/heads/main"))
	mainFindings := findingsOf(main.Results, nil)
	for _, want := range []string{"G401 main.go:11", "G204 main.go:22", "G401 other.go:5", "G114 gone.go:5"} {
		if !contains(mainFindings, want) {
			t.Fatalf("main's scan lacks %s: %v", want, mainFindings)
		}
	}

	gitT(t, repo, "checkout", "-q", "-b", "feature")
	insertAfter(t, filepath.Join(repo, "main.go"), "func f() int { return 6 }\n", "\n// run runs the command its first argument names.")
	insertAfter(t, filepath.Join(repo, "main.go"), "\t_ = run()\n}\n", "\nfunc sum(b []byte) [16]byte {\n\treturn md5.Sum(b)\n}\n")
	if err := os.Remove(filepath.Join(repo, "gone.go")); err != nil {
		t.Fatal(err)
	}
	gitT(t, repo, "commit", "-q", "-am", "feature")
	pr := env("GITHUB_EVENT_NAME", "pull_request", "GITHUB_REF", "refs/pull/7/merge", "GITHUB_BASE_REF", "main")

	const added = "G401 main.go:32" // return md5.Sum(b), in the new function
	for _, tc := range []struct {
		filter  string
		outside []string // what the filter leaves out
	}{
		{"nofilter", nil},
		// The comment is an added line, the command two lines below it
		// (G204, and G702 for its tainted argument) is not; the old hash
		// and the imports are far from any change; other.go is untouched.
		{"added", []string{"G401 main.go:11", "G501 main.go:4", "G204 main.go:23", "G702 main.go:23", "G401 other.go:5", "G505 other.go:3"}},
		{"diff_context", []string{"G401 main.go:11", "G501 main.go:4", "G401 other.go:5", "G505 other.go:3"}},
		{"file", []string{"G401 other.go:5", "G505 other.go:3"}},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			c.Baseline.DiffFilter = tc.filter
			res, out, log := runEnv(t, c, repo, pr)
			s := res.Summary
			if fresh := findingsOf(res.Results, func(is *v1.EnrichedIssue) bool { return is.IsNew }); strings.Join(fresh, ",") != added {
				t.Errorf("new: %v, want exactly %s\nlog:\n%s", fresh, added, log)
			}
			outside := findingsOf(res.Results, func(is *v1.EnrichedIssue) bool { return is.Annotations["dracon.diff"] == "outside" })
			if strings.Join(outside, ",") != strings.Join(sorted(tc.outside), ",") {
				t.Errorf("outside the diff: %v, want %v", outside, tc.outside)
			}
			all := findingsOf(res.Results, nil)
			if s.Counts.New != 1 || s.Counts.OutsideDiff != len(tc.outside) || s.Counts.Existing != len(all)-1-len(tc.outside) || s.Counts.Fixed != 1 {
				t.Errorf("counts = %+v", s.Counts)
			}
			b := s.Baseline
			if b == nil || b.Kind != "branch" || b.Ref != "refs/heads/main" || b.ScanID != main.Summary.ScanID || b.Commit == "" {
				t.Fatalf("summary baseline = %+v", b)
			}
			if tc.filter == "nofilter" {
				if b.DiffFilter != "" || b.DiffBase != "" {
					t.Errorf("no filter, but %+v", b)
				}
			} else if b.DiffFilter != tc.filter || b.DiffBase != b.Commit {
				t.Errorf("diff filter %q from %q, want %s from main's commit %s", b.DiffFilter, b.DiffBase, tc.filter, b.Commit)
			}
			if s.Tags["base_ref"] != "refs/heads/main" || s.Tags["event"] != "pull_request" {
				t.Errorf("tags = %v", s.Tags)
			}
			if !strings.Contains(log, "dracon: baseline: scan "+main.Summary.ScanID+" of refs/heads/main") {
				t.Errorf("log lacks the baseline line:\n%s", log)
			}
			validateSummary(t, out)
			sarif, err := os.ReadFile(filepath.Join(out, "dracon.sarif"))
			if err != nil {
				t.Fatal(err)
			}
			schematest.ValidateSARIF(t, sarif)
			if states := baselineStates(t, sarif); states["new"] != 1 || states["unchanged"] != len(all)-1 {
				t.Errorf("SARIF baselineState: %v", states)
			}
		})
	}

	// The gate: --fail-on medium fails on every finding of the change
	// without a filter (main's old ones too); with the file filter on
	// those in the files it touched; with --new-only on the new line.
	c.Gate.FailOn = "medium"
	for _, tc := range []struct {
		filter  string
		newOnly bool
		reason  string
	}{
		{"nofilter", false, "7 findings at or above MEDIUM (1 HIGH, 6 MEDIUM)"},
		{"file", false, "5 findings at or above MEDIUM (1 HIGH, 4 MEDIUM)"},
		{"added", false, "1 findings at or above MEDIUM (1 MEDIUM)"},
		{"nofilter", true, "1 new findings at or above MEDIUM (1 MEDIUM)"},
	} {
		c.Baseline.DiffFilter, c.Gate.NewOnly = tc.filter, tc.newOnly
		res, _, _ := runEnv(t, c, repo, pr)
		if r := strings.Join(res.Summary.Reasons, "; "); res.Summary.ExitCode != 1 || r != tc.reason {
			t.Errorf("gate, %s filter, new only %v: exit %d, %s; want %s", tc.filter, tc.newOnly, res.Summary.ExitCode, r, tc.reason)
		}
	}

	// Without a store scan of main: said once, the store's answer kept.
	c2 := testConfig(t, "version: 1\nproducers:\n  gosec: {}\n")
	res, _, log := runEnv(t, c2, repo, pr)
	if n := strings.Count(log, "has no scan of acme/app at refs/heads/main"); n != 1 || res.Summary.Baseline.Kind != "previous" || res.Summary.Counts.New != res.Summary.Counts.Total {
		t.Errorf("no baseline: said %d times, %+v %+v\n%s", n, res.Summary.Baseline, res.Summary.Counts, log)
	}

	// A baseline file instead of the store: main's SARIF, as CI keeps it.
	sarif := filepath.Join(t.TempDir(), "main.sarif")
	if err := copyFile(main.Summary.Outputs["sarif"], sarif); err != nil {
		t.Fatal(err)
	}
	c3 := testConfig(t, "version: 1\nproducers:\n  gosec: {}\n")
	c3.Baseline.File = sarif
	// The diff still starts where the pull request's target branch does.
	c3.Baseline.DiffFilter = "file"
	res, _, _ = runEnv(t, c3, repo, pr)
	if fresh := findingsOf(res.Results, func(is *v1.EnrichedIssue) bool { return is.IsNew }); strings.Join(fresh, ",") != added ||
		res.Summary.Baseline.Kind != "file" || res.Summary.Baseline.File != sarif || res.Summary.Counts.Fixed != 1 ||
		res.Summary.Baseline.DiffFilter != "file" || res.Summary.Baseline.DiffBase != main.Summary.Tags["commit"] || res.Summary.Counts.OutsideDiff != 2 {
		t.Errorf("against main's SARIF: new %v, %+v, %+v", fresh, res.Summary.Baseline, res.Summary.Counts)
	}
}

// TestDiffFilterOff: a diff filter with no base to diff from is off, and
// the run says why; a scan of the target branch itself is not filtered.
func TestDiffFilterOff(t *testing.T) {
	repo := writeTree(t, map[string]string{"main.go": "package main\n"})
	gitT(t, repo, "init", "-q", "-b", "main")
	gitT(t, repo, "add", "-A")
	gitT(t, repo, "commit", "-q", "-m", "base")
	c := testConfig(t, "version: 1\nbaseline:\n  diff_filter: added\n")
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "no base to diff from"},
		{map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "release"}, "the target branch release is not in the checkout (fetch it: git fetch origin release"},
		{map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}, "HEAD is already on refs/heads/main"},
	} {
		scan := NewScanInfo(repo, time.Now(), func(k string) string { return tc.env[k] })
		var log bytes.Buffer
		b, err := PrepareBaseline(context.Background(), c, repo, scan, func(k string) string { return tc.env[k] }, &log)
		if err != nil {
			t.Fatal(err)
		}
		if b.Diff != nil || len(b.Notes) != 1 || !strings.Contains(b.Notes[0], tc.want) || strings.Count(log.String(), "diff filter added is off") != 1 {
			t.Errorf("%v: %+v\n%s", tc.env, b, log.String())
		}
	}
	// An explicit base is taken as given, even HEAD: the working tree's
	// edits are the change.
	c.Baseline.DiffBase = "HEAD"
	if err := os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n\nvar x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := PrepareBaseline(context.Background(), c, repo, NewScanInfo(repo, time.Now(), func(string) string { return "" }), func(string) string { return "" }, nil)
	if err != nil || b.Diff == nil || !b.Diff.Keeps("added", "main.go", 3, 3) || b.Diff.Keeps("added", "main.go", 1, 1) {
		t.Errorf("--diff-base HEAD: %+v, %v", b, err)
	}
	c.Baseline.File = filepath.Join(repo, "missing.sarif")
	if _, err := PrepareBaseline(context.Background(), c, repo, NewScanInfo(repo, time.Now(), func(string) string { return "" }), func(string) string { return "" }, nil); err == nil {
		t.Error("a missing baseline file is no error")
	}
}

func runEnv(t *testing.T, c *config.Config, src string, getenv func(string) string) (*Result, string, string) {
	t.Helper()
	out := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{
		Config: c, Source: src, Out: out, RunRoot: filepath.Join(out, "runs"), Log: &log, Version: "test", Getenv: getenv,
	})
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, log.String())
	}
	return res, out, log.String()
}

// findingsOf lists "RULE path:line" of the findings keep says yes to
// (all with nil), sorted; other tools' reports of a finding are left out.
func findingsOf(results []*v1.EnrichedLaunchToolResponse, keep func(*v1.EnrichedIssue) bool) []string {
	var out []string
	for _, r := range results {
		for _, is := range r.Issues {
			if is.DuplicateOf != "" || keep != nil && !keep(is) {
				continue
			}
			out = append(out, is.RawIssue.RuleId+" "+is.RawIssue.Target)
		}
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func baselineStates(t *testing.T, sarif []byte) map[string]int {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				BaselineState string `json:"baselineState"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif, &log); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range log.Runs {
		for _, res := range r.Results {
			out[res.BaselineState]++
		}
	}
	return out
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}
