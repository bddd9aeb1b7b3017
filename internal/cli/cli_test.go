package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func dracon(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// TestParseCorpus runs `dracon parse --tool TOOL FILE` on every file of
// the shared corpus: each corpus tool must have a producer, and the
// command must print exactly what that producer's parser reads (the
// per-tool tests compare those counts with DefectDojo's). Files DefectDojo
// rejects must be rejected with exit code 2 and a message naming the file.
func TestParseCorpus(t *testing.T) {
	// Files DefectDojo reads that Dracon rejects on purpose.
	rejects := map[string]string{
		"osv_scanner/no_findings.json": "a 0-byte report: osv-scanner writes a JSON document even when it finds nothing, " +
			"so an empty file means it did not finish, and Dracon fails closed",
	}
	base := filepath.Join(producertest.CorpusDir(t), "defectdojo")
	data, err := os.ReadFile(filepath.Join(base, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		tools[strings.Split(line, "\t")[0]] = true
	}
	for tool := range tools {
		p, err := registry.Lookup(tool)
		if err != nil {
			t.Errorf("corpus tool %s has no producer: %v", tool, err)
			continue
		}
		for _, row := range producertest.Expected(t, tool) {
			t.Run(row.Rel, func(t *testing.T) {
				raw, err := os.ReadFile(row.File)
				if err != nil {
					t.Fatal(err)
				}
				want, perr := registry.Parse(p, raw)
				code, stdout, stderr := dracon(t, "parse", "--tool", tool, row.File)
				if perr != nil {
					if code != 2 || !strings.Contains(stderr, filepath.Base(row.File)) {
						t.Errorf("exit %d, stderr %q: want 2 and the file named", code, stderr)
					}
					if !row.Error && rejects[row.Rel] == "" {
						t.Errorf("parse error on a file DefectDojo reads: %v", perr)
					}
					return
				}
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				var lr v1.LaunchToolResponse
				if err := protojson.Unmarshal([]byte(stdout), &lr); err != nil {
					t.Fatal(err)
				}
				if len(lr.Issues) != len(want.Issues) || lr.ToolName != p.Name {
					t.Errorf("printed %d issues of %s, parser reads %d", len(lr.Issues), lr.ToolName, len(want.Issues))
				}
			})
		}
	}
}

// TestStages chains the stage commands through protobuf files, as a
// Tekton pipeline does: parse -> enrich -> consume -> gate.
func TestStages(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "defectdojo", "gosec", "many_vulns.json")
	pb := filepath.Join(dir, "gosec.pb")
	if code, _, stderr := dracon(t, "parse", report, "--tool", "gosec", "--out", pb); code != 0 {
		t.Fatalf("parse: %d %s", code, stderr)
	}
	store := filepath.Join(dir, "findings.db")
	if code, _, stderr := dracon(t, "enrich", "--store", store, "--out-dir", dir, pb); code != 0 {
		t.Fatalf("enrich: %d %s", code, stderr)
	}
	enriched := filepath.Join(dir, "gosec.enriched.pb")
	sarifPath := filepath.Join(dir, "out.sarif")
	code, stdout, stderr := dracon(t, "consume", "--sarif", sarifPath, enriched)
	if code != 0 || !strings.Contains(stdout, "G104") || !strings.Contains(stdout, "SEVERITY") {
		t.Fatalf("consume: %d %s %s", code, stdout, stderr)
	}
	sarif, err := os.ReadFile(sarifPath)
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, sarif)

	code, stdout, _ = dracon(t, "gate", "--fail-on", "medium", enriched)
	if code != 1 || !strings.Contains(stdout, "verdict: failed") {
		t.Errorf("gate medium: %d %s", code, stdout)
	}
	summaryPath := filepath.Join(dir, "summary.json")
	code, stdout, _ = dracon(t, "gate", "--fail-on", "critical", "--summary", summaryPath, enriched)
	if code != 0 || !strings.Contains(stdout, "verdict: passed") {
		t.Errorf("gate critical: %d %s", code, stdout)
	}
	var s struct {
		Counts  struct{ Total, New int }
		Verdict string
	}
	b, _ := os.ReadFile(summaryPath)
	if err := json.Unmarshal(b, &s); err != nil || s.Counts.Total != 28 || s.Counts.New != 28 || s.Verdict != "passed" {
		t.Errorf("summary %s (%v)", b, err)
	}
	// Enriching the same findings again in a later scan: nothing is new.
	pb2 := filepath.Join(dir, "gosec2.pb")
	dracon(t, "parse", report, "--tool", "gosec", "--out", pb2)
	dir2 := t.TempDir()
	dracon(t, "enrich", "--store", store, "--out-dir", dir2, pb2)
	if code, stdout, _ := dracon(t, "gate", "--fail-on", "low", "--new-only", filepath.Join(dir2, "gosec.enriched.pb")); code != 0 {
		t.Errorf("gate --new-only on a rescan: %d %s", code, stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"parse", "file.json"},
		{"parse", "--tool", "nosuchtool", "x"},
		{"gate", "--fail-on", "severe", "x.pb"},
		{"run", "--format", "xml"},
		{"run", "--config", "/no/such/dracon.yaml"},
		{"run", "--diff-filter", "changed"},
		{"run", "--baseline-ref", "main", "--baseline", "main.sarif"},
		{"tools", "fly"},
	} {
		if code, _, _ := dracon(t, args...); code != 2 {
			t.Errorf("dracon %q: exit %d, want 2", args, code)
		}
	}
	// A baseline file that cannot be read stops the run before a scanner runs.
	tmp := t.TempDir()
	code, _, stderr := dracon(t, "run", "--source", "../../examples", "--out", tmp, "--run-dir", tmp, "--baseline", filepath.Join(tmp, "main.sarif"))
	if code != 2 || !strings.Contains(stderr, "baseline: open "+filepath.Join(tmp, "main.sarif")) || strings.Contains(stderr, "started") {
		t.Errorf("missing baseline file: %d %s", code, stderr)
	}
	code, _, stderr = dracon(t, "parse", "--tool", "gosec", filepath.Join(producertest.CorpusDir(t), "defectdojo", "bandit", "dd.json"))
	if code != 2 || !strings.Contains(stderr, "dd.json") || !strings.Contains(stderr, "gosec") {
		t.Errorf("wrong tool's file: %d %s", code, stderr)
	}
}

func TestToolsList(t *testing.T) {
	code, stdout, _ := dracon(t, "tools", "list")
	if code != 0 {
		t.Fatal(code)
	}
	for _, p := range registry.All() {
		if !strings.Contains(stdout, p.Name) {
			t.Errorf("tools list lacks %s", p.Name)
		}
	}
	if !strings.Contains(stdout, "KIND") || !strings.Contains(stdout, "SAST") || !strings.Contains(stdout, "ALSO NAMED") {
		t.Errorf("tools list:\n%s", stdout)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "gosec ") && !strings.Contains(line, "golang-gosec") {
			t.Errorf("tools list does not show gosec's Dracon name: %s", line)
		}
	}
}

// TestDraconNamesInConfig: a dracon.yaml written with the original
// Dracon's component names runs those producers under their names here,
// and `parse --tool` takes the same names.
func TestDraconNamesInConfig(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "defectdojo", "gosec", "many_vulns.json")
	cfg := filepath.Join(dir, "dracon.yaml")
	yaml := "version: 1\nproducers:\n  golang-gosec:\n    paths: [" + report + "]\n" +
		"enrichers:\n  dedup:\n    store: " + filepath.Join(dir, "findings.db") + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := dracon(t, "run", "--config", cfg, "--source", dir, "--out", dir, "--run-dir", filepath.Join(dir, "runs"), "--format", "none")
	if code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	var sum struct {
		Producers []struct {
			Name     string `json:"name"`
			Status   string `json:"status"`
			Findings int    `json:"findings"`
		} `json:"producers"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Producers) != 1 || sum.Producers[0].Name != "gosec" || sum.Producers[0].Status != "ok" || sum.Producers[0].Findings == 0 {
		t.Fatalf("producers = %+v", sum.Producers)
	}
	if code, stdout, stderr := dracon(t, "parse", "--tool", "golang-gosec", report); code != 0 || !strings.Contains(stdout, `"toolName"`) {
		t.Fatalf("parse --tool golang-gosec: %d %s", code, stderr)
	}
}
