package stdout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// draconKeys are the keys of every line Dracon's stdout-json consumer
// printed (components/consumers/stdout-json: draconDocument).
var draconKeys = []string{"scan_start_time", "scan_id", "tool_name", "source", "target", "type", "title", "severity", "severity_text",
	"cvss", "confidence", "confidence_text", "description", "first_found", "count", "false_positive", "cve", "CycloneDX_SBOM", "annotations", "scan_tags"}

func TestDraconJSONLines(t *testing.T) {
	run := consumertest.Run(t)
	var b bytes.Buffer
	if err := (Consumer{W: &b, Format: "dracon-json"}).Consume(context.Background(), run.Scan, run.Results); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "dracon-json.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("dracon-json differs from %s (go test -update to rewrite)", golden)
	}
	n, sboms := 0, 0
	sc := bufio.NewScanner(&b)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		n++
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("line %d is not JSON: %v", n, err)
		}
		for _, k := range draconKeys {
			if _, ok := doc[k]; !ok {
				t.Errorf("line %d lacks Dracon's key %q", n, k)
			}
		}
		if _, ok := doc["severity"].(float64); !ok {
			t.Errorf("line %d: severity %v is not the enum's number, as Dracon wrote it", n, doc["severity"])
		}
		if doc["CycloneDX_SBOM"] != nil {
			sboms++
		}
	}
	total := 0
	for _, r := range run.Results {
		total += len(r.GetIssues())
	}
	if n != total || sboms == 0 {
		t.Errorf("%d lines (%d with an SBOM object) for %d findings", n, sboms, total)
	}
	for _, s := range consumertest.Secrets(t) {
		if bytes.Contains(want, []byte(s)) {
			t.Errorf("a secret value gitleaks found is printed")
		}
	}
}
