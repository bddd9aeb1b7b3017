package identity

import (
	"context"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

func TestEnrich(t *testing.T) {
	code := &v1.EnrichedIssue{RawIssue: &v1.Issue{ToolName: "gosec", RuleId: "G401", Severity: v1.Severity_SEVERITY_MEDIUM,
		Location: &v1.Location{Path: "a.go", StartLine: 3}, ContextSegment: proto.String("3: md5.New()")}}
	secret := &v1.EnrichedIssue{RawIssue: &v1.Issue{ToolName: "gitleaks", RuleId: "aws-access-token", Fingerprint: "sha256:0f",
		Location: &v1.Location{Path: "a.go", StartLine: 9}}}
	empty := &v1.EnrichedIssue{} // a stage that wrote no raw issue
	results := []*v1.EnrichedLaunchToolResponse{{Issues: []*v1.EnrichedIssue{code, empty}}, {Issues: []*v1.EnrichedIssue{secret}}}
	if err := (Enricher{}).Enrich(context.Background(), nil, results); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		is   *v1.EnrichedIssue
		best string
		want []string // the algorithms after the best
	}{
		{code, fingerprint.CodeV1, []string{store.AlgorithmHashV0, fingerprint.DraconLocV1, fingerprint.DraconV2}},
		{secret, fingerprint.SecretV1, []string{store.AlgorithmHashV0, fingerprint.DraconLocV1, fingerprint.DraconV2}},
		{empty, fingerprint.CodeV1, []string{store.AlgorithmHashV0, fingerprint.DraconV2}}, // no file and line: no location
	} {
		sigs := Ordered(tc.is)
		var rest []string
		for _, s := range sigs[1:] {
			rest = append(rest, s.Algorithm)
		}
		if sigs[0].Algorithm != tc.best || tc.is.Hash != sigs[0].Value || strings.Join(rest, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%v: signatures %v, hash %s", tc.is.RawIssue, sigs, tc.is.Hash)
		}
	}
}
