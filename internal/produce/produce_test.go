package produce

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/runner"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// fakeScanner is a producer whose "scanner" is a shell script, so each way
// a real scanner ends can be played: findings, a crash, a hang, no report.
func fakeScanner(t *testing.T, script string, okCodes ...int) *producers.Producer {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakescan")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRACON_TOOLS_DIR", t.TempDir())
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return &producers.Producer{
		Name: "fake",
		Parse: func(data []byte) (*producers.Parsed, error) {
			if strings.TrimSpace(string(data)) != "ok" {
				return nil, producers.Errorf("fake", "unexpected report %q", data)
			}
			return &producers.Parsed{Issues: []*v1.Issue{{Title: "x"}}}, nil
		},
		Tool: &producers.Tool{
			Binary: "fakescan", Version: "1",
			Args:        func(src, out string) []string { return []string{out} },
			OKExitCodes: okCodes,
		},
	}
}

func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		ok           []int
		timeout      time.Duration
		status       Status
		reason       []string
	}{
		{name: "findings, exit 1 allowed", script: `echo ok > "$1"; exit 1`, ok: []int{1}, status: OK},
		{name: "crash", script: `echo "panic: boom" >&2; exit 2`, ok: []int{1}, status: Failed, reason: []string{"fakescan exited with code 2", "panic: boom"}},
		{name: "no report", script: `exit 0`, status: Failed, reason: []string{"wrote no report"}},
		{name: "bad report", script: `echo garbage > "$1"`, status: Failed, reason: []string{"fake", "unexpected report", "fake.report"}},
		{name: "hang", script: `sleep 30`, timeout: 200 * time.Millisecond, status: Failed, reason: []string{"timed out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fakeScanner(t, tc.script, tc.ok...)
			out := Run(context.Background(), runner.Local{}, p, Options{Source: t.TempDir(), RunDir: t.TempDir(), Timeout: tc.timeout})
			if out.Status != tc.status {
				t.Fatalf("status %s (%s), want %s", out.Status, out.Reason, tc.status)
			}
			for _, r := range tc.reason {
				if !strings.Contains(out.Reason, r) {
					t.Errorf("reason %q does not say %q", out.Reason, r)
				}
			}
			if out.Duration <= 0 {
				t.Error("no duration")
			}
		})
	}
}

func TestNotInstalled(t *testing.T) {
	p := fakeScanner(t, "exit 0")
	p.Tool.Binary = "no-such-scanner"
	p.Tool.Install = "apt-get install no-such-scanner"
	out := Run(context.Background(), runner.Local{}, p, Options{Source: t.TempDir(), RunDir: t.TempDir()})
	if out.Status != Skipped || !strings.Contains(out.Reason, "apt-get install no-such-scanner") {
		t.Fatalf("%s: %s", out.Status, out.Reason)
	}
}

func TestImportOnly(t *testing.T) {
	p := fakeScanner(t, "")
	p.Tool = nil
	if out := Run(context.Background(), runner.Local{}, p, Options{}); out.Status != Skipped {
		t.Errorf("no report configured: %s", out.Status)
	}
	report := filepath.Join(t.TempDir(), "r")
	os.WriteFile(report, []byte("ok"), 0o644)
	if out := Run(context.Background(), runner.Local{}, p, Options{Report: report}); out.Status != OK || len(out.Parsed.Issues) != 1 {
		t.Errorf("import: %s %s", out.Status, out.Reason)
	}
}

// TestImportInsteadOfRunning: a producer with a scanner reads a given
// report instead of running the scanner.
func TestImportInsteadOfRunning(t *testing.T) {
	p := fakeScanner(t, `echo "should not run" >&2; exit 9`)
	report := filepath.Join(t.TempDir(), "earlier-step.json")
	os.WriteFile(report, []byte("ok"), 0o644)
	out := Run(context.Background(), runner.Local{}, p, Options{Source: t.TempDir(), RunDir: t.TempDir(), Report: report})
	if out.Status != OK || out.Report != report || len(out.Parsed.Issues) != 1 {
		t.Fatalf("%s %s", out.Status, out.Reason)
	}
}

// TestStderrTailDropsColour: a scanner's colour codes do not reach the
// failure reason.
func TestStderrTailDropsColour(t *testing.T) {
	p := filepath.Join(t.TempDir(), "grype.stderr")
	os.WriteFile(p, []byte("[0004] ERROR \x1b[31mfailed to load vulnerability db\x1b[0m\n"), 0o644)
	if got, want := stderrTail(p), "; stderr: [0004] ERROR failed to load vulnerability db"; got != want {
		t.Errorf("stderrTail = %q, want %q", got, want)
	}
}
