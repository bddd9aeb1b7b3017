package baseline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/consumers/sarifout"
	"github.com/draconsec/dracon/internal/consumers/stdout"
	"github.com/draconsec/dracon/internal/enrichers/dedup"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/enrichers/merge"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func issue(tool, rule, path string, line int32, code string) *v1.Issue {
	return &v1.Issue{ToolName: tool, RuleId: rule, Type: rule, Title: "finding " + rule, Severity: v1.Severity_SEVERITY_HIGH,
		Location: &v1.Location{Path: path, StartLine: line, EndLine: line}, Target: path, ContextSegment: &code}
}

var t0 = time.Unix(1_700_000_000, 0)

// scan runs the chain up to baseline (identity, merge, dedup, then e when
// set) over one scan's issues, grouped by tool.
func scan(t *testing.T, st store.Store, e *Enricher, id, ref, event string, issues ...*v1.Issue) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	byTool := map[string]*v1.EnrichedLaunchToolResponse{}
	var results []*v1.EnrichedLaunchToolResponse
	for _, is := range issues {
		r := byTool[is.ToolName]
		if r == nil {
			r = &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: is.ToolName}}
			byTool[is.ToolName] = r
			results = append(results, r)
		}
		r.Issues = append(r.Issues, &v1.EnrichedIssue{RawIssue: is, IsNew: true})
	}
	t0 = t0.Add(time.Minute)
	info := &v1.ScanInfo{ScanUuid: id, ScanStartTime: timestamppb.New(t0),
		ScanTags: map[string]string{"repository": "acme/app", "ref": ref, "event": event}}
	ctx := context.Background()
	for _, en := range []interface {
		Enrich(context.Context, *v1.ScanInfo, []*v1.EnrichedLaunchToolResponse) error
	}{identity.Enricher{}, merge.Enricher{}, dedup.Enricher{Store: st}} {
		if err := en.Enrich(ctx, info, results); err != nil {
			t.Fatal(err)
		}
	}
	if e != nil {
		if err := e.Enrich(ctx, info, results); err != nil {
			t.Fatal(err)
		}
	}
	return results
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var (
	cmd     = issue("gosec", "G204", "main.go", 10, "10: exec.Command(name)")
	weak    = issue("gosec", "G401", "main.go", 20, "20: md5.New()")
	pickle  = issue("bandit", "B301", "app.py", 5, "5     pickle.loads(data)")
	sqlNew  = issue("gosec", "G201", "db.go", 7, "7: db.Query(fmt.Sprintf(q, id))")
	cmdDown = issue("gosec", "G204", "main.go", 14, "14: exec.Command(name)") // cmd, four lines down
)

// TestBranchBaseline: a pull request's scan against the latest scan of
// main. A finding the store saw on another pull request is still new for
// this one; one main has is not, wherever it moved; what main has and the
// change no longer reports is fixed, unless its tool did not run.
func TestBranchBaseline(t *testing.T) {
	st := openStore(t)
	scan(t, st, nil, "main-1", "refs/heads/main", "push", cmd, weak, pickle)
	// Another pull request, scanned before this one, saw the SQL injection.
	scan(t, st, nil, "pr-2", "refs/pull/2/merge", "pull_request", cmd, weak, pickle, sqlNew)

	var got *Result
	e := &Enricher{Store: st, Config: Config{Ref: "refs/heads/main", Report: func(r *Result) { got = r }}}
	var notes []string
	e.Notice = func(m string) { notes = append(notes, m) }
	// This pull request moves cmd down, adds the injection, drops weak;
	// bandit did not run, so pickle is not fixed by it.
	res := scan(t, st, e, "pr-7", "refs/pull/7/merge", "pull_request", cmdDown, sqlNew)
	want := []string{"gosec G204 main.go:14 existing", "gosec G201 db.go:7 new"}
	if s := statusOf(res); !reflect.DeepEqual(s, want) {
		t.Errorf("status = %v, want %v", s, want)
	}
	if got == nil || got.Kind != KindBranch || got.ScanID != "main-1" || got.Ref != "refs/heads/main" || got.Fixed != 1 || got.New != 1 || got.Existing != 1 || len(got.FixedIDs) != 1 {
		t.Fatalf("result = %+v", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "baseline: scan main-1 of refs/heads/main: 1 new, 1 existing, 1 fixed by this change") {
		t.Errorf("notices = %q", notes)
	}
	// The store's history is untouched: the injection was seen before.
	d, err := st.Get(context.Background(), res[0].Issues[1].FindingId)
	if err != nil || d.TimesSeen != 2 {
		t.Errorf("store: %+v, %v", d, err)
	}
}

// statusOf lists each finding as "tool rule path:line new|existing|outside".
func statusOf(results []*v1.EnrichedLaunchToolResponse) []string {
	var out []string
	for _, r := range results {
		for _, is := range r.Issues {
			s := "existing"
			switch {
			case is.Annotations[AnnotationDiff] == OutsideDiff:
				s = "outside"
			case is.IsNew:
				s = "new"
			}
			l := is.RawIssue.Location
			out = append(out, is.RawIssue.ToolName+" "+is.RawIssue.RuleId+" "+l.Path+":"+strconv.Itoa(int(l.StartLine))+" "+s)
		}
	}
	return out
}

// TestNoBaselineFound: no scan of the branch: said once, and new stays
// what the store said.
func TestNoBaselineFound(t *testing.T) {
	st := openStore(t)
	scan(t, st, nil, "pr-2", "refs/pull/2/merge", "pull_request", cmd)
	var notes []string
	var got *Result
	e := &Enricher{Store: st, Config: Config{Ref: "refs/heads/main", Report: func(r *Result) { got = r }}, Notice: func(m string) { notes = append(notes, m) }}
	res := scan(t, st, e, "pr-7", "refs/pull/7/merge", "pull_request", cmd, weak)
	if s := statusOf(res); !reflect.DeepEqual(s, []string{"gosec G204 main.go:10 existing", "gosec G401 main.go:20 new"}) {
		t.Errorf("status = %v", s)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "no scan of acme/app at refs/heads/main") {
		t.Errorf("notices = %q", notes)
	}
	if got.Kind != KindPrevious || got.Fixed != 0 || len(got.Notes) != 1 {
		t.Errorf("result = %+v", got)
	}
	// A scan of the baseline branch itself: its history is the baseline.
	notes = nil
	res = scan(t, st, e, "main-1", "refs/heads/main", "push", cmd)
	if s := statusOf(res); !reflect.DeepEqual(s, []string{"gosec G204 main.go:10 existing"}) || len(notes) != 0 || got.Kind != KindPrevious {
		t.Errorf("scan of main: %v, %q, %+v", s, notes, got)
	}
}

// TestFileBaselines: the SARIF and the findings JSON a run of main wrote
// are baselines that need no store.
func TestFileBaselines(t *testing.T) {
	st := openStore(t)
	mainRes := scan(t, st, nil, "main-1", "refs/heads/main", "push", cmd, weak, pickle)
	dir := t.TempDir()
	sarifPath := filepath.Join(dir, "main.sarif")
	if err := (sarifout.Consumer{Path: sarifPath}).Consume(context.Background(), &v1.ScanInfo{ScanUuid: "main-1"}, mainRes); err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := (stdout.Consumer{W: &js, Format: "json"}).Consume(context.Background(), nil, mainRes); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "main.json")
	if err := os.WriteFile(jsonPath, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, format string }{{sarifPath, "sarif"}, {jsonPath, "findings"}} {
		f, err := Load(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != tc.format || len(f.Findings) != 3 {
			t.Fatalf("%s: %s with %d findings", tc.path, f.Format, len(f.Findings))
		}
		var got *Result
		// No store at all: the file decides alone.
		e := &Enricher{Config: Config{File: f, Report: func(r *Result) { got = r }}}
		res := scan(t, openStore(t), e, "pr-7", "refs/pull/7/merge", "pull_request", cmdDown, sqlNew)
		if s := statusOf(res); !reflect.DeepEqual(s, []string{"gosec G204 main.go:14 existing", "gosec G201 db.go:7 new"}) {
			t.Errorf("%s: status = %v", tc.format, s)
		}
		if got.Kind != KindFile || got.File != tc.path || got.Fixed != 1 {
			t.Errorf("%s: result = %+v", tc.format, got)
		}
	}
	for name, body := range map[string]string{
		"foreign.sarif": `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "codeql"}}, "results": [{"ruleId": "x", "message": {"text": "m"}}]}]}`,
		"summary.json":  `{"schema_version": 1, "counts": {}}`,
		"empty.json":    "  ",
		"broken.json":   `[{"issues": 3}]`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDiffFilter: findings outside the change are kept, marked, not new;
// another tool's report of a finding follows it.
func TestDiffFilter(t *testing.T) {
	d, err := gitdiff.Parse([]byte("diff --git a/main.go b/main.go\n--- a/main.go\n+++ b/main.go\n@@ -9,3 +9,4 @@\n a\n+b\n c\n d\n"))
	if err != nil {
		t.Fatal(err)
	}
	key := issue("gitleaks", "aws-access-token", "keys.go", 4, "")
	key.Fingerprint = "sha256:abcd"
	g101 := issue("gosec", "G101", "keys.go", 4, `4: const k = "AKIA..."`)
	onAdded := issue("gosec", "G204", "main.go", 10, "10: exec.Command(name)")
	inContext := issue("gosec", "G304", "main.go", 11, "11: os.ReadFile(p)")
	dep := &v1.Issue{ToolName: "osv-scanner", RuleId: "GHSA-x", Cve: "CVE-2024-1", PackageUrl: "pkg:golang/x@1", Location: &v1.Location{Path: "pkg:golang/x@1"}, Target: "pkg:golang/x@1"}
	for _, tc := range []struct {
		mode gitdiff.Mode
		want []string
	}{
		{gitdiff.Added, []string{"gitleaks aws-access-token keys.go:4 outside", "gosec G101 keys.go:4 outside", "gosec G204 main.go:10 new", "gosec G304 main.go:11 outside", "osv-scanner GHSA-x pkg:golang/x@1:0 new"}},
		{gitdiff.DiffContext, []string{"gitleaks aws-access-token keys.go:4 outside", "gosec G101 keys.go:4 outside", "gosec G204 main.go:10 new", "gosec G304 main.go:11 new", "osv-scanner GHSA-x pkg:golang/x@1:0 new"}},
		{gitdiff.File, []string{"gitleaks aws-access-token keys.go:4 outside", "gosec G101 keys.go:4 outside", "gosec G204 main.go:10 new", "gosec G304 main.go:11 new", "osv-scanner GHSA-x pkg:golang/x@1:0 new"}},
		{gitdiff.NoFilter, []string{"gitleaks aws-access-token keys.go:4 new", "gosec G101 keys.go:4 new", "gosec G204 main.go:10 new", "gosec G304 main.go:11 new", "osv-scanner GHSA-x pkg:golang/x@1:0 new"}},
	} {
		var got *Result
		e := &Enricher{Config: Config{Mode: tc.mode, Diff: d, DiffBase: "abc", Report: func(r *Result) { got = r }}}
		res := scan(t, openStore(t), e, "pr-"+string(tc.mode), "refs/pull/7/merge", "pull_request", key, g101, onAdded, inContext, dep)
		if s := statusOf(res); !reflect.DeepEqual(s, tc.want) {
			t.Errorf("%s: status = %v\nwant %v", tc.mode, s, tc.want)
		}
		if res[1].Issues[0].DuplicateOf == "" {
			t.Fatal("gosec's G101 is not merged into gitleaks' key")
		}
		wantFilter := string(tc.mode)
		if tc.mode == gitdiff.NoFilter {
			wantFilter = ""
		}
		if got.DiffFilter != wantFilter || got.Kind != KindPrevious {
			t.Errorf("%s: result = %+v", tc.mode, got)
		}
	}
}

// TestMatchBestAlgorithm: the first of a finding's algorithms that the
// baseline finding has decides; ids and bare values match too.
func TestMatchBestAlgorithm(t *testing.T) {
	m := newMatcher([]Finding{
		{Signatures: map[string]string{"code/v1": "c1", "hash/v0": "h1"}},         // 0
		{Signatures: map[string]string{"hash/v0": "h2"}},                          // 1: an old store's finding
		{Signatures: map[string]string{"code/v1": "c3", "hash/v0": "h3"}},         // 2
		{ID: "f-4", Signatures: map[string]string{"code/v1": "c4"}},               // 3
		{Values: []string{"c5"}},                                                  // 4: from SARIF
		{Signatures: map[string]string{"secret/v1": "s6", "legacy/dracon": "d6"}}, // 5
	})
	sig := func(kv ...string) []store.Signature {
		var out []store.Signature
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, store.Signature{Algorithm: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		id   string
		sigs []store.Signature
		want []int
	}{
		{"", sig("code/v1", "c1", "hash/v0", "h1"), []int{0}},
		{"", sig("code/v1", "cX", "hash/v0", "h1"), nil},      // code/v1 both have, and it differs: a moved hash/v0 does not count
		{"", sig("code/v1", "cX", "hash/v0", "h2"), []int{1}}, // the old finding has only hash/v0
		{"", sig("code/v1", "c3"), []int{2}},
		{"f-4", sig("code/v1", "other"), []int{3}},
		{"", sig("code/v1", "c5", "hash/v0", "h5"), []int{4}},
		{"", sig("secret/v1", "sX", "legacy/dracon", "d6"), nil},
		{"", sig("dep/v1", "x", "legacy/dracon", "d6"), []int{5}},
	} {
		if got := m.match(tc.id, tc.sigs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("match(%q, %v) = %v, want %v", tc.id, tc.sigs, got, tc.want)
		}
	}
}

func TestNormalizeRef(t *testing.T) {
	for in, want := range map[string]string{"main": "refs/heads/main", " release/1.x ": "refs/heads/release/1.x", "refs/heads/main": "refs/heads/main", "refs/tags/v1": "refs/tags/v1", "": ""} {
		if got := NormalizeRef(in); got != want {
			t.Errorf("NormalizeRef(%q) = %q, want %q", in, got, want)
		}
	}
}
