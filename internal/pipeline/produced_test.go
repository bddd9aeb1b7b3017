package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers/bandit"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/trivy"
	"google.golang.org/protobuf/encoding/protojson"
)

// scanEnv is the environment a cluster run's tasks get: the scan named
// once by the CI job.
func scanEnv(k string) string {
	return map[string]string{
		"DRACON_SCAN_ID":   "0d6f4c1e-5b7a-4f43-9d2c-7a1e2b3c4d5e",
		"DRACON_SCAN_TIME": "2026-12-02T10:00:00Z",
		"DRACON_SCAN_TAGS": `{"repository":"acme/app","event":"push"}`,
	}[k]
}

// produceEach runs each producer alone, as its own Tekton task does,
// into one folder.
func produceEach(t *testing.T, yaml, src, dir, runs string, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		c := testConfig(t, yaml)
		for name := range c.Producers {
			if name != tool {
				delete(c.Producers, name)
			}
		}
		var log bytes.Buffer
		if _, err := Produce(context.Background(), Options{Config: c, Source: src, RunRoot: runs, Log: &log, Getenv: scanEnv}, dir); err != nil {
			t.Fatalf("produce %s: %v\n%s", tool, err, log.String())
		}
	}
}

func runProduced(t *testing.T, yaml, src, dir, runs string) *Result {
	t.Helper()
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{Config: testConfig(t, yaml), Source: src, Out: t.TempDir(), RunRoot: runs,
		Log: &log, Version: "test", Getenv: scanEnv, Produced: dir})
	if err != nil {
		t.Fatalf("run --produced: %v\n%s", err, log.String())
	}
	return res
}

// A cluster run (one producer per task, then one run over their files)
// finds what a local run finds and decides the same.
func TestProducedEqualsLocal(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	producertest.RequireTool(t, bandit.Producer)
	producertest.RequireTool(t, gitleaks.Producer)
	yaml, err := os.ReadFile("../../examples/dracon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	local, _ := run(t, testConfig(t, string(yaml)), "../../examples")

	work := t.TempDir()
	dir, runs := filepath.Join(work, ".dracon", "producers"), filepath.Join(work, ".dracon", "runs")
	produceEach(t, string(yaml), "../../examples", dir, runs, "gosec", "bandit", "gitleaks")
	if _, err := os.Stat(filepath.Join(dir, "gitleaks"+secretsSuffix)); err != nil {
		t.Errorf("gitleaks left no secrets file for the deciding run: %v", err)
	}
	res := runProduced(t, string(yaml), "../../examples", dir, runs)

	if got, want := strings.Join(findings(res), "\n"), strings.Join(findings(local), "\n"); got != want {
		t.Errorf("produced run's findings:\n%s\nlocal run's:\n%s", got, want)
	}
	if res.Summary.Verdict != local.Summary.Verdict || res.Summary.ExitCode != local.Summary.ExitCode {
		t.Errorf("verdict %s (exit %d), local %s (exit %d)", res.Summary.Verdict, res.Summary.ExitCode, local.Summary.Verdict, local.Summary.ExitCode)
	}
	if res.Summary.Counts.Total != local.Summary.Counts.Total || res.Summary.Counts.New != local.Summary.Counts.New {
		t.Errorf("counts %+v, local %+v", res.Summary.Counts, local.Summary.Counts)
	}
	if res.Summary.ScanID != scanEnv("DRACON_SCAN_ID") || res.Summary.Tags["repository"] != "acme/app" ||
		!res.Summary.StartedAt.Equal(mustTime(t, scanEnv("DRACON_SCAN_TIME"))) {
		t.Errorf("scan %s started %s tags %v: not the one the environment named", res.Summary.ScanID, res.Summary.StartedAt, res.Summary.Tags)
	}
	for _, p := range res.Summary.Producers {
		if p.Status != "ok" || p.ToolVersion == "" || p.DurationSeconds <= 0 {
			t.Errorf("producer line %+v: want ok with its version and duration from its own run", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gitleaks"+secretsSuffix)); !os.IsNotExist(err) {
		t.Errorf("the secrets file outlived the run that read it: %v", err)
	}
}

// A secret one task found is hidden in what another task's tool quoted:
// the deciding run hides every producer's secrets in every finding.
func TestProducedHidesSecretsAcrossTasks(t *testing.T) {
	producertest.RequireTool(t, gitleaks.Producer)
	producertest.RequireTool(t, trivy.Producer)
	token := "ghp_" + strings.Repeat("Dr4c0nFakeT0k3n", 3)[:36]
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte("FROM alpine:3.19\nENV GITHUB_TOKEN="+token+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := "producers:\n  gitleaks: {}\n  trivy: {}\n"
	work := t.TempDir()
	dir, runs := filepath.Join(work, "producers"), filepath.Join(work, "runs")
	produceEach(t, yaml, src, dir, runs, "trivy", "gitleaks")
	res := runProduced(t, yaml, src, dir, runs)
	if res.Summary.Counts.ByTool["trivy"] == 0 || res.Summary.Counts.ByTool["gitleaks"] == 0 {
		t.Fatalf("findings by tool = %v", res.Summary.Counts.ByTool)
	}
	for _, r := range res.Results {
		for _, is := range r.Issues {
			if b, _ := protojson.Marshal(is); strings.Contains(string(b), token) {
				t.Errorf("%s finding holds the token: %s", r.OriginalResults.ToolName, b)
			}
		}
	}
	// trivy's own raw report, written by its task, is scrubbed too.
	err := filepath.Walk(runs, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.Contains(path, "gitleaks") {
			return err
		}
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(token)) {
			t.Errorf("%s holds the token", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A planned producer whose task wrote nothing failed; a Dracon producer
// task's LaunchToolResponse (no outcome file) is a producer that ran; a
// broken outcome file is an error naming it.
func TestProducedMissingForeignAndBroken(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	work := t.TempDir()
	dir, runs := filepath.Join(work, "producers"), filepath.Join(work, "runs")
	yaml := "producers:\n  gosec: {}\n"
	produceEach(t, yaml, "../../examples", dir, runs, "gosec")
	lr, err := ReadLaunch(filepath.Join(dir, "gosec.pb"))
	if err != nil {
		t.Fatal(err)
	}
	lr.ToolName = "dracon-legacy-tool"
	for _, is := range lr.Issues {
		is.ToolName = lr.ToolName
	}
	if err := WriteProto(filepath.Join(dir, "dracon-legacy-tool.pb"), lr); err != nil {
		t.Fatal(err)
	}
	res := runProduced(t, "producers:\n  gosec: {}\n  bandit: {}\n", "../../examples", dir, runs)
	status := map[string]string{}
	for _, p := range res.Summary.Producers {
		status[p.Name] = p.Status + " " + p.Reason
	}
	if status["bandit"] != "failed "+noResult {
		t.Errorf("bandit (planned, no files): %q", status["bandit"])
	}
	if status["gosec"] != "ok " || status["dracon-legacy-tool"] != "ok " {
		t.Errorf("producers: %v", status)
	}
	if n := res.Summary.Counts.ByTool["dracon-legacy-tool"]; n != len(lr.Issues) {
		t.Errorf("legacy tool's findings: %d, want %d", n, len(lr.Issues))
	}
	if res.Summary.ExitCode != 2 {
		t.Errorf("exit %d with a planned producer missing: want 2 (fail closed)", res.Summary.ExitCode)
	}

	if err := os.WriteFile(filepath.Join(dir, "gosec"+outcomeSuffix), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Options{Config: testConfig(t, yaml), Source: "../../examples", Out: t.TempDir(), RunRoot: runs, Getenv: scanEnv, Produced: dir})
	if err == nil || !strings.Contains(err.Error(), "gosec"+outcomeSuffix) {
		t.Errorf("broken outcome file: error %v, want one naming the file", err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestScanFromEnvErrors(t *testing.T) {
	bad := map[string]string{"DRACON_SCAN_TIME": "yesterday", "DRACON_SCAN_TAGS": `{"a": 1}`}
	_, err := ScanFromEnv(func(k string) string { return bad[k] })
	if err == nil || !strings.Contains(err.Error(), "DRACON_SCAN_TIME") || !strings.Contains(err.Error(), "DRACON_SCAN_TAGS") {
		t.Errorf("error %v: want both variables named", err)
	}
	_, err = Run(context.Background(), Options{Config: testConfig(t, ""), Source: "../../examples", Out: t.TempDir(), RunRoot: t.TempDir(),
		Getenv: func(k string) string { return bad[k] }})
	if err == nil || !strings.Contains(err.Error(), "DRACON_SCAN_TIME") {
		t.Errorf("run with a malformed DRACON_SCAN_TIME: %v", err)
	}
}
