package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// actionRun runs `dracon action` (runAction) with vars as its environment.
func actionRun(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runAction(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}, args)
	return code, out.String() + errb.String()
}

// TestActionReleaseGate: mode: release-gate runs this package's release
// gate on the commit (GITHUB_SHA) and the store (the store input), and
// the action's outputs and job summary carry its verdict.
func TestActionReleaseGate(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "findings.db")
	observe(t, dsn, relRepo, relCommit, time.Now().UTC().Add(-time.Hour), sqli, lowNoise)
	noConfig := writeConfig(t, "")
	tmp := t.TempDir()
	vars := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": relRepo, "GITHUB_SHA": relCommit, "GITHUB_REF": "refs/tags/v1.4.0",
		"GITHUB_EVENT_NAME": "release", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary.md"), "RUNNER_TEMP": tmp,
		"INPUT_MODE": "release-gate", "INPUT_STORE": dsn, "INPUT_CONFIG": noConfig, "INPUT_SOURCE": t.TempDir(),
	}
	code, log := actionRun(t, vars)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (an open critical finding)\n%s", code, log)
	}
	for _, want := range []string{"::group::Dracon: release gate", "release gate: " + relRepo + " at " + relCommit,
		"::notice title=Dracon::no token: the release gate's verdict is not posted", "::error title=Dracon%3A failed (exit 1)::open critical finding"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	outputs, _ := os.ReadFile(vars["GITHUB_OUTPUT"])
	for _, want := range []string{"verdict<<ghadelimiter_", "\nfailed\n", "findings-total<<", "\n2\n", "max-severity<<", "\ncritical\n"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("outputs lack %q:\n%s", want, outputs)
		}
	}
	md, _ := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(md), "## ❌ Dracon release gate: failed") || !strings.Contains(string(md), "open critical finding go.sqli (semgrep)") {
		t.Errorf("job summary:\n%s", md)
	}

	// An unscanned commit fails closed (exit 2), and says why.
	vars["GITHUB_SHA"] = laterSHA
	vars["GITHUB_STEP_SUMMARY"] = filepath.Join(tmp, "summary2.md")
	code, log = actionRun(t, vars)
	md, _ = os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	if code != 2 || !strings.Contains(string(md), "no scan of "+laterSHA+" in the findings store") {
		t.Errorf("unscanned commit: exit %d\n%s\n%s", code, log, md)
	}
}

func TestActionUsage(t *testing.T) {
	if code, log := actionRun(t, nil, "extra"); code != 2 || !strings.Contains(log, "action takes no arguments") {
		t.Errorf("exit %d: %s", code, log)
	}
	if code, _ := actionRun(t, nil, "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if code, log := actionRun(t, map[string]string{"INPUT_MODE": "deploy"}); code != 2 || !strings.Contains(log, "input mode:") {
		t.Errorf("bad input: exit %d: %s", code, log)
	}
}
