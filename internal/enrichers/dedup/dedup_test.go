package dedup

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func issue(line int32, mutate func(*v1.Issue)) *v1.Issue {
	is := &v1.Issue{ToolName: "gosec", RuleId: "G204", Type: "G204", Title: "Subprocess launched with variable",
		Location: &v1.Location{Path: "main.go", StartLine: line}, Target: "main.go"}
	ctx := "exec.Command(name)"
	is.ContextSegment = &ctx
	if mutate != nil {
		mutate(is)
	}
	return is
}

func TestHash(t *testing.T) {
	base := Hash(issue(10, nil))
	for _, tc := range []struct {
		name string
		is   *v1.Issue
		same bool
	}{
		{"moved down", issue(42, nil), true},
		{"other file", issue(10, func(i *v1.Issue) { i.Location.Path = "cmd.go" }), false},
		{"other rule", issue(10, func(i *v1.Issue) { i.RuleId = "G304" }), false},
		{"other tool", issue(10, func(i *v1.Issue) { i.ToolName = "semgrep" }), false},
		{"other code", issue(10, func(i *v1.Issue) { s := "exec.Command(other)"; i.ContextSegment = &s }), false},
		{"tool fingerprint wins over code", issue(10, func(i *v1.Issue) { i.Fingerprint = "abc" }), false},
	} {
		if got := Hash(tc.is) == base; got != tc.same {
			t.Errorf("%s: same hash = %v, want %v", tc.name, got, tc.same)
		}
	}
	a := issue(1, func(i *v1.Issue) { i.Fingerprint = "fp"; s := "x"; i.ContextSegment = &s })
	b := issue(9, func(i *v1.Issue) { i.Fingerprint = "fp"; s := "y"; i.ContextSegment = &s })
	if Hash(a) != Hash(b) {
		t.Error("same tool fingerprint, different code: want the same hash")
	}
}

func TestEnrichWithStore(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := Enricher{Store: st}
	t0 := time.Unix(1_700_000_000, 0)
	scan := func(id string, at time.Time) []*v1.EnrichedIssue {
		r := &v1.EnrichedLaunchToolResponse{Issues: []*v1.EnrichedIssue{{RawIssue: issue(10, nil)}, {RawIssue: issue(20, func(i *v1.Issue) { i.RuleId = "G304" })}}}
		if err := e.Enrich(context.Background(), &v1.ScanInfo{ScanUuid: id, ScanStartTime: timestamppb.New(at)}, []*v1.EnrichedLaunchToolResponse{r}); err != nil {
			t.Fatal(err)
		}
		return r.Issues
	}
	first := scan("s1", t0)
	if !first[0].IsNew || first[0].Count != 1 || first[0].Hash == "" || first[0].Hash == first[1].Hash {
		t.Fatalf("first scan = %v", first)
	}
	second := scan("s2", t0.Add(time.Hour))
	if second[0].IsNew || second[0].Count != 2 || !second[0].FirstSeen.AsTime().Equal(t0) {
		t.Errorf("second scan = %v", second[0])
	}
}
