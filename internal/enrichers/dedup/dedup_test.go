package dedup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func issue(rule string, line int32, code string) *v1.Issue {
	return &v1.Issue{ToolName: "gosec", RuleId: rule, Type: rule, Title: "finding " + rule, Severity: v1.Severity_SEVERITY_MEDIUM,
		Location: &v1.Location{Path: "main.go", StartLine: line}, Target: "main.go", ContextSegment: &code}
}

// scan runs identity then dedup over issues, as the registry chains them.
func scan(t *testing.T, e Enricher, id, event string, at time.Time, issues ...*v1.Issue) []*v1.EnrichedIssue {
	t.Helper()
	r := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}}
	for _, is := range issues {
		r.Issues = append(r.Issues, &v1.EnrichedIssue{RawIssue: is})
	}
	info := &v1.ScanInfo{ScanUuid: id, ScanStartTime: timestamppb.New(at), ScanTags: map[string]string{"repository": "acme/app", "event": event}}
	results := []*v1.EnrichedLaunchToolResponse{r}
	if err := (identity.Enricher{}).Enrich(context.Background(), info, results); err != nil {
		t.Fatal(err)
	}
	if err := e.Enrich(context.Background(), info, results); err != nil {
		t.Fatal(err)
	}
	return r.Issues
}

// TestHistory: a finding moved down keeps its history; one that is gone
// from a branch scan is marked fixed, and comes back reopened; a pull
// request's scan fixes nothing.
func TestHistory(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var fixed []store.Finding
	e := Enricher{Store: st, Fixed: func(f []store.Finding) { fixed = append(fixed, f...) }}
	t0 := time.Unix(1_700_000_000, 0)
	cmd := issue("G204", 10, "10: exec.Command(name)")
	weak := issue("G401", 20, "20: md5.New()")

	first := scan(t, e, "s1", "push", t0, cmd, weak)
	if !first[0].IsNew || first[0].Count != 1 || first[0].Hash == "" || first[0].Hash == first[1].Hash || first[0].Status != "open" {
		t.Fatalf("first scan = %v", first)
	}
	// Ten lines added above both.
	second := scan(t, e, "s2", "push", t0.Add(time.Hour), issue("G204", 20, "20: exec.Command(name)"), issue("G401", 30, "30: md5.New()"))
	if second[0].IsNew || second[0].Count != 2 || !second[0].FirstSeen.AsTime().Equal(t0) || second[0].FindingId != first[0].FindingId {
		t.Errorf("moved finding = %v", second[0])
	}
	// A pull request without the weak hash: nothing is fixed on the branch.
	scan(t, e, "pr", "pull_request", t0.Add(2*time.Hour), cmd)
	if len(fixed) != 0 {
		t.Fatalf("a pull request's scan fixed %v", fixed)
	}
	// The branch without it: fixed.
	scan(t, e, "s3", "push", t0.Add(3*time.Hour), cmd)
	if len(fixed) != 1 || fixed[0].ID != first[1].FindingId || fixed[0].Status != store.StatusFixed {
		t.Fatalf("fixed = %+v", fixed)
	}
	// It comes back.
	back := scan(t, e, "s4", "push", t0.Add(4*time.Hour), cmd, weak)
	if back[1].Status != "reopened" || back[1].IsNew || back[1].FindingId != first[1].FindingId {
		t.Errorf("came back = %v", back[1])
	}
}

// TestLegacyStore: a store written before signatures knew findings by
// hash/v0 only; they still match, and gain the new signatures.
func TestLegacyStore(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	is := issue("G204", 10, "10: exec.Command(name)")
	identityOnly := &v1.EnrichedIssue{RawIssue: is}
	if err := (identity.Enricher{}).Enrich(context.Background(), nil, []*v1.EnrichedLaunchToolResponse{{Issues: []*v1.EnrichedIssue{identityOnly}}}); err != nil {
		t.Fatal(err)
	}
	old := identityOnly.Signatures[store.AlgorithmHashV0]
	t0 := time.Unix(1_700_000_000, 0)
	if _, err := st.Observe(context.Background(), store.Scan{ID: "old", Repository: "acme/app", Started: t0},
		[]store.Sighting{{Signatures: []store.Signature{{Algorithm: store.AlgorithmHashV0, Value: old}}, Tool: "gosec", Rule: "G204", Path: "main.go"}}); err != nil {
		t.Fatal(err)
	}
	got := scan(t, Enricher{Store: st}, "new", "push", t0.Add(time.Hour), is)
	if got[0].IsNew || got[0].Count != 2 {
		t.Errorf("a finding the old store knew came back new: %v", got[0])
	}
}

// TestTriaged: a decision recorded in the store (false positive, accepted
// risk, suppressed) suppresses the finding in the next scan, naming who
// decided and why; set back to open, it counts again.
func TestTriaged(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := Enricher{Store: st}
	t0 := time.Unix(1_700_000_000, 0)
	cmd, weak, tmp := issue("G204", 10, "10: exec.Command(name)"), issue("G401", 20, "20: md5.New()"), issue("G303", 30, "30: os.Create(\"/tmp/x\")")
	first := scan(t, e, "s1", "push", t0, cmd, weak, tmp)
	ctx := context.Background()
	for i, d := range []struct {
		status   store.Status
		who, why string
	}{
		{store.StatusFalsePositive, "alice", "name is a constant"},
		{store.StatusAcceptedRisk, "bob", "checksums only"},
		{store.StatusSuppressed, "carol", "test fixture"},
	} {
		if _, err := st.SetStatus(ctx, first[i].FindingId, d.status, d.who, d.why); err != nil {
			t.Fatal(err)
		}
	}
	next := scan(t, e, "s2", "push", t0.Add(time.Hour), cmd, weak, tmp)
	for i, want := range []string{
		"triaged false_positive by alice: name is a constant",
		"triaged accepted_risk by bob: checksums only",
		"triaged suppressed by carol: test fixture",
	} {
		if !next[i].Suppressed || next[i].SuppressionReason != want || next[i].FalsePositive != (i == 0) || next[i].Count != 2 {
			t.Errorf("%s: suppressed %v %q, false positive %v, count %d; want %q", next[i].RawIssue.RuleId,
				next[i].Suppressed, next[i].SuppressionReason, next[i].FalsePositive, next[i].Count, want)
		}
	}
	if _, err := st.SetStatus(ctx, first[0].FindingId, store.StatusOpen, "alice", "it is not a constant after all"); err != nil {
		t.Fatal(err)
	}
	again := scan(t, e, "s3", "push", t0.Add(2*time.Hour), cmd)
	if again[0].Suppressed || again[0].FalsePositive || again[0].Status != "open" {
		t.Errorf("reopened by a triager: %v", again[0])
	}
}

func TestTracksState(t *testing.T) {
	for _, tc := range []struct {
		ref, event, def string
		want            bool
	}{
		{"refs/heads/main", "push", "main", true},
		{"refs/heads/feature", "push", "main", false}, // a feature branch does not fix main's findings
		{"refs/tags/v1.2.0", "push", "main", false},
		{"refs/pull/7/merge", "pull_request", "main", false},
		{"refs/merge-requests/3/head", "merge_request_event", "", false},
		{"refs/heads/feature", "manual", "", true}, // no default branch known: a local run tracks
		{"", "manual", "main", true},
	} {
		if got := tracksState(store.Scan{Ref: tc.ref, Event: tc.event}, tc.def); got != tc.want {
			t.Errorf("%s %s (default %q): %v, want %v", tc.ref, tc.event, tc.def, got, tc.want)
		}
	}
}

// TestRenamedFile: a file moved with git mv keeps its findings' history:
// git tells the rename between the branch's previous scan and this one.
func TestRenamedFile(t *testing.T) {
	repo := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(repo, "pkg"), 0o755)
	os.WriteFile(filepath.Join(repo, "pkg", "hash.go"), []byte("package pkg\n\nimport \"crypto/md5\"\n\nvar h = md5.New()\n"), 0o644)
	run("add", ".")
	run("commit", "-q", "-m", "one")
	first := run("rev-parse", "HEAD")

	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := Enricher{Store: st, Source: repo}
	scanAt := func(id, commit, path string, at time.Time) *v1.EnrichedIssue {
		is := &v1.EnrichedIssue{RawIssue: issue("G401", 5, "5: var h = md5.New()")}
		is.RawIssue.Location.Path, is.RawIssue.Target = path, path+":5"
		r := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: []*v1.EnrichedIssue{is}}
		info := &v1.ScanInfo{ScanUuid: id, ScanStartTime: timestamppb.New(at),
			ScanTags: map[string]string{"repository": "acme/app", "ref": "refs/heads/main", "commit": commit, "event": "push"}}
		results := []*v1.EnrichedLaunchToolResponse{r}
		if err := (identity.Enricher{}).Enrich(context.Background(), info, results); err != nil {
			t.Fatal(err)
		}
		if err := e.Enrich(context.Background(), info, results); err != nil {
			t.Fatal(err)
		}
		return is
	}
	t0 := time.Unix(1_700_000_000, 0)
	a := scanAt("s1", first, "pkg/hash.go", t0)

	run("mv", "pkg/hash.go", "pkg/digest.go")
	run("commit", "-q", "-m", "rename")
	b := scanAt("s2", run("rev-parse", "HEAD"), "pkg/digest.go", t0.Add(time.Hour))
	if b.IsNew || b.FindingId != a.FindingId || b.Count != 2 {
		t.Fatalf("after git mv: new %v, id %s (was %s), count %d", b.IsNew, b.FindingId, a.FindingId, b.Count)
	}
	// The next scan matches on the new name directly.
	c := scanAt("s3", run("rev-parse", "HEAD"), "pkg/digest.go", t0.Add(2*time.Hour))
	if c.IsNew || c.FindingId != a.FindingId || c.Count != 3 {
		t.Errorf("the scan after: new %v, id %s, count %d", c.IsNew, c.FindingId, c.Count)
	}
}
