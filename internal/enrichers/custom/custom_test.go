package custom

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// load reads the results every case enriches, fresh each time.
func load(t *testing.T) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	files, err := filepath.Glob("testdata/results/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no results: %v", err)
	}
	sort.Strings(files)
	var out []*v1.EnrichedLaunchToolResponse
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := &v1.EnrichedLaunchToolResponse{}
		if err := protojson.Unmarshal(data, r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, r)
	}
	return out
}

// render is each finding's annotations, one line a finding, then the
// notices: what the golden files hold.
func render(results []*v1.EnrichedLaunchToolResponse, notices []string) string {
	var b strings.Builder
	all, _ := enrichers.Flatten(results)
	for _, is := range all {
		keys := make([]string, 0, len(is.GetAnnotations()))
		for k := range is.GetAnnotations() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "%s:", is.GetHash())
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, is.Annotations[k])
		}
		b.WriteString("\n")
	}
	for _, n := range notices {
		fmt.Fprintf(&b, "notice: %s\n", n)
	}
	return b.String()
}

// TestCases enriches the same results with each config in testdata/cases
// and compares with its golden file (go test -update rewrites them).
func TestCases(t *testing.T) {
	cases, err := filepath.Glob("testdata/cases/*.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Parse(data, config.Names{Resolve: func(s string) (string, bool) { return s, true }})
			if err != nil {
				t.Fatal(err)
			}
			var notices []string
			e := New(cfg.Enrichers.Custom, func(m string) { notices = append(notices, m) })
			results := load(t)
			if err := e.Enrich(context.Background(), nil, results); err != nil {
				t.Fatal(err)
			}
			got := render(results, notices)
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}

// TestNeverDrops: every finding comes out, in order, whatever matches;
// Dracon's enricher dropped every finding when its JSON did not parse.
func TestNeverDrops(t *testing.T) {
	results := load(t)
	before, _ := enrichers.Flatten(results)
	var hashes []string
	for _, is := range before {
		hashes = append(hashes, is.GetHash())
	}
	e := New(config.CustomAnnotations{Rules: []config.CustomRule{{Tool: "nobody", Annotations: map[string]string{"a": "b"}}}}, nil)
	if err := e.Enrich(context.Background(), nil, results); err != nil {
		t.Fatal(err)
	}
	after, _ := enrichers.Flatten(results)
	if len(after) != len(hashes) {
		t.Fatalf("%d findings out of %d", len(after), len(hashes))
	}
	for i, is := range after {
		if is.GetHash() != hashes[i] || is.GetAnnotations()["a"] != "" {
			t.Errorf("finding %d: %s %v", i, is.GetHash(), is.GetAnnotations())
		}
	}
	if e.String() != "custom" {
		t.Errorf("String() = %q", e.String())
	}
}

// TestNoticeOncePerKey: many findings that keep another enricher's value
// make one notice per key, with their count, not one a finding.
func TestNoticeOncePerKey(t *testing.T) {
	var issues []*v1.EnrichedIssue
	for i := 0; i < 50; i++ {
		issues = append(issues, &v1.EnrichedIssue{RawIssue: &v1.Issue{}, Annotations: map[string]string{"team": "theirs", "env": "prod"}})
	}
	issues = append(issues, &v1.EnrichedIssue{RawIssue: &v1.Issue{}}) // none set: gets the config's
	var notices []string
	e := New(config.CustomAnnotations{Annotations: map[string]string{"team": "ours", "env": "prod"}}, func(m string) { notices = append(notices, m) })
	for run := 0; run < 2; run++ {
		notices = nil
		for _, is := range issues[:50] {
			is.Annotations["team"] = "theirs"
		}
		if err := e.Enrich(context.Background(), nil, []*v1.EnrichedLaunchToolResponse{{Issues: issues}}); err != nil {
			t.Fatal(err)
		}
		// env had the same value: no conflict, nothing said.
		want := []string{`custom annotations: another enricher had set "team" on 50 findings; its value kept, not the config's`}
		if strings.Join(notices, "\n") != strings.Join(want, "\n") {
			t.Errorf("run %d: notices = %q", run, notices)
		}
	}
	if issues[0].Annotations["team"] != "theirs" || issues[50].Annotations["team"] != "ours" || issues[50].Annotations["env"] != "prod" {
		t.Errorf("annotations = %v / %v", issues[0].Annotations, issues[50].Annotations)
	}
}
