package sarifout

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample is a small set of enriched results covering what the writer
// handles: two tools, a multi-line region, a dependency finding with no
// file, a suppressed finding, a finding seen before.
func sample(t *testing.T) (*v1.ScanInfo, []*v1.EnrichedLaunchToolResponse) {
	t.Helper()
	data, err := os.ReadFile("testdata/enriched.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var out []*v1.EnrichedLaunchToolResponse
	for _, r := range raw {
		m := &v1.EnrichedLaunchToolResponse{}
		if err := protojson.Unmarshal(r, m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	scan := &v1.ScanInfo{ScanUuid: "00000000-0000-4000-8000-000000000001", ScanStartTime: timestamppb.New(time.Unix(1700000000, 0))}
	return scan, out
}

func TestGolden(t *testing.T) {
	scan, results := sample(t)
	var buf bytes.Buffer
	if err := Write(&buf, scan, results); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/golden.sarif"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("SARIF differs from %s (run go test -update to accept):\n%s", golden, buf.String())
	}
}

// TestSchemas validates what we write against the OASIS SARIF 2.1.0
// schema and the copy GitHub's upload action validates against.
func TestSchemas(t *testing.T) {
	scan, results := sample(t)
	var buf bytes.Buffer
	if err := Write(&buf, scan, results); err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, buf.Bytes())
}

func TestRunsAndRules(t *testing.T) {
	scan, results := sample(t)
	rep, err := Build(scan, results)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want one per tool", len(rep.Runs))
	}
	for _, run := range rep.Runs {
		for _, res := range run.Results {
			if res.RuleIndex == nil || run.Tool.Driver.Rules[*res.RuleIndex].ID != *res.RuleID {
				t.Errorf("%s: result's ruleIndex does not point at its rule", run.Tool.Driver.Name)
			}
			if res.PartialFingerprints["draconHash/v1"] == "" {
				t.Errorf("%s: result without partialFingerprints", run.Tool.Driver.Name)
			}
		}
		for _, r := range run.Tool.Driver.Rules {
			if r.Properties["security-severity"] == nil {
				t.Errorf("rule %s has no security-severity", r.ID)
			}
		}
	}
}

// TestGoldenGitHub: the file as the pipeline writes it for code
// scanning: line hashes from the source (testdata/source; each also
// checked against codeql-action's own hash() under node when this was
// written), a run for a producer that found nothing, a category of the
// workflow's.
func TestGoldenGitHub(t *testing.T) {
	scan, results := sample(t)
	path := filepath.Join(t.TempDir(), "dracon.sarif")
	c := Consumer{Path: path, Source: "testdata/source", Tools: []string{"gosec", "govulncheck", "semgrep"},
		Category: ".github/workflows/scan.yml:scan/"}
	if err := c.Consume(context.Background(), scan, results); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, got)
	golden := "testdata/golden-github.sarif"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SARIF differs from %s (run go test -update to accept):\n%s", golden, got)
	}
	// node: codeql-action's hash() of testdata/source/goapp/main.go and go.mod.
	for _, h := range []string{`"primaryLocationLineHash": "77719073afaed244:1"`, `"primaryLocationLineHash": "b3383594a26d312d:1"`, `"primaryLocationLineHash": "6247701bff59bbe4:1"`} {
		if !bytes.Contains(got, []byte(h)) {
			t.Errorf("no %s", h)
		}
	}
}
